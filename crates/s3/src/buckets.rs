//! Bucket handlers: create (AWS's naming and location rules), head, delete, list, location,
//! and versioning configuration.

use crate::errors;
use crate::generated::types::*;
use crate::state::{Bucket, S3};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use http::StatusCode;
use ruststack_core::store::Write;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Regions a `LocationConstraint` may name.
const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "EU",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// AWS's rules for new bucket names (general purpose buckets).
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-') {
        return false;
    }
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !edge_ok(b[0]) || !edge_ok(b[b.len() - 1]) || name.contains("..") {
        return false;
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| !p.is_empty() && p.parse::<u8>().is_ok()) {
        return false;
    }
    const BAD_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const BAD_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    !BAD_PREFIXES.iter().any(|p| name.starts_with(p)) && !BAD_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// The canonical owner of an account's buckets.
pub fn owner(account_id: &str) -> Owner {
    Owner { display_name: Some("webfile".into()), id: Some(canonical_id(account_id)) }
}

pub fn canonical_id(account_id: &str) -> String {
    format!("{account_id:0>64}")
}

pub async fn create_bucket(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: CreateBucketRequest,
) -> Result<CreateBucketOutput, AwsError> {
    let name = input.bucket;
    if !valid_bucket_name(&name) {
        return Err(AwsError::bad_request("InvalidBucketName", "The specified bucket is not valid.")
            .with_field("BucketName", name));
    }
    let constraint = input.create_bucket_configuration.and_then(|c| c.location_constraint).filter(|c| !c.is_empty());
    // A regional endpoint refuses any constraint but its own region (even an unknown one);
    // only us-east-1 judges the name itself.
    let region = match (&constraint, &*ctx.region) {
        (Some(c), "us-east-1") if !REGIONS.contains(&c.as_str()) || c == "us-east-1" => {
            return Err(AwsError::bad_request(
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
            )
            .with_field("LocationConstraint", c.clone()));
        }
        (Some(c), "us-east-1") => c.clone(),
        (Some(c), region) if c != region => {
            return Err(AwsError::bad_request(
                "IllegalLocationConstraintException",
                format!(
                    "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
                ),
            ));
        }
        (Some(c), _) => c.clone(),
        (None, "us-east-1") => "us-east-1".to_owned(),
        (None, _) => {
            return Err(AwsError::bad_request(
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            ));
        }
    };
    let _serial = s3.registry_lock.lock().await;
    let existing = s3.registered(&name);
    if let Some(existing) = existing {
        if existing.account_id != *ctx.account_id {
            return Err(AwsError::new(
                StatusCode::CONFLICT,
                "BucketAlreadyExists",
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            )
            .with_field("BucketName", name));
        }
        // us-east-1 keeps its legacy answer: re-creating your own bucket succeeds.
        if existing.region != "us-east-1" || region != "us-east-1" {
            return Err(AwsError::new(
                StatusCode::CONFLICT,
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.",
            )
            .with_field("BucketName", name));
        }
        return Ok(CreateBucketOutput { location: Some(format!("/{name}")), ..Default::default() });
    }
    let bucket = Bucket::new(name.clone(), ctx.account_id.to_string(), region);
    if input.object_lock_enabled_for_bucket == Some(true) {
        let mut settings = bucket.settings.write();
        settings.object_lock = true;
        settings.versioning = Some("Enabled".into());
    }
    if let Some(o) = &input.object_ownership
        && !["BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"].contains(&o.as_str())
    {
        return Err(errors::invalid_argument("Invalid x-amz-object-ownership header", "x-amz-object-ownership", o));
    }
    crate::config::new_bucket_defaults(&bucket, input.object_ownership.as_deref());
    let acl = crate::acl::AclRequest::headers(
        input.acl.as_ref(),
        input.grant_full_control.as_ref(),
        input.grant_read.as_ref(),
        input.grant_read_acp.as_ref(),
        input.grant_write.as_ref(),
        input.grant_write_acp.as_ref(),
    );
    if let Some(grants) = crate::acl::on_create(&bucket, &acl, &ctx.account_id).map_err(|e| {
        if e.code == "AccessControlListNotSupported" {
            AwsError::bad_request(
                "InvalidBucketAclWithObjectOwnership",
                "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
            )
        } else {
            e
        }
    })? {
        bucket.init_config(crate::acl::BUCKET_ACL, &grants);
    }
    s3.apply(vec![S3::bucket_write(&bucket, &bucket.settings.read())])?;
    S3::mark_loaded(&bucket);
    s3.buckets.write().insert(name.clone(), Arc::new(bucket));
    Ok(CreateBucketOutput { location: Some(format!("/{name}")), ..Default::default() })
}

pub async fn head_bucket(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: HeadBucketRequest,
) -> Result<HeadBucketOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    Ok(HeadBucketOutput {
        bucket_region: Some(bucket.region.clone()),
        access_point_alias: Some(false),
        ..Default::default()
    })
}

pub async fn delete_bucket(s3: Arc<S3>, _ctx: RequestContext, input: DeleteBucketRequest) -> Result<(), AwsError> {
    let _serial = s3.registry_lock.lock().await;
    let bucket = s3.bucket(&input.bucket)?;
    if !bucket.objects.read().is_empty() {
        let message = if bucket.versioned() {
            "The bucket you tried to delete is not empty. You must delete all versions in the bucket."
        } else {
            "The bucket you tried to delete is not empty"
        };
        return Err(
            AwsError::new(StatusCode::CONFLICT, "BucketNotEmpty", message).with_field("BucketName", input.bucket)
        );
    }
    // Uploads in progress go with the bucket.
    let mut writes = vec![Write::Delete { tree: crate::persist::BUCKETS.into(), key: bucket.name.as_bytes().to_vec() }];
    let mut freed = Vec::new();
    for up in bucket.uploads.lock().values() {
        let (forget, parts) = S3::upload_removal(&bucket.name, up);
        writes.extend(forget);
        freed.extend(parts);
    }
    writes.extend(s3.inline_writes(None, &freed));
    bucket.deleted.store(true, std::sync::atomic::Ordering::Release);
    if let Err(e) = s3.apply(writes) {
        bucket.deleted.store(false, std::sync::atomic::Ordering::Release);
        return Err(e);
    }
    s3.buckets.write().remove(&input.bucket);
    s3.free(freed);
    Ok(())
}

pub async fn list_buckets(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: ListBucketsRequest,
) -> Result<ListBucketsOutput, AwsError> {
    let max = input.max_buckets.unwrap_or(10_000);
    if !(1..=10_000).contains(&max) {
        return Err(errors::invalid_argument(
            "Argument max-buckets must be an integer between 1 and 10000",
            "max-buckets",
            &max.to_string(),
        ));
    }
    let after = match &input.continuation_token {
        Some(token) => Some(B64.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
            errors::invalid_argument("The continuation token provided is incorrect", "continuation-token", token)
        })?),
        None => None,
    };
    let prefix = input.prefix.as_deref().unwrap_or("");
    let buckets = s3.registry();
    let mut list = Vec::new();
    let mut truncated = false;
    let start = match &after {
        Some(a) => std::ops::Bound::Excluded(a.as_str()),
        None => std::ops::Bound::Unbounded,
    };
    for (name, b) in buckets.range::<str, _>((start, std::ops::Bound::Unbounded)) {
        if b.account_id != *ctx.account_id
            || !name.starts_with(prefix)
            || input.bucket_region.as_ref().is_some_and(|r| *r != b.region)
        {
            continue;
        }
        if list.len() == max as usize {
            truncated = true;
            break;
        }
        list.push(Bucket_ {
            name: Some(name.clone()),
            creation_date: Some(b.created),
            bucket_region: Some(b.region.clone()),
            ..Default::default()
        });
    }
    let token = truncated.then(|| B64.encode(list.last().and_then(|b| b.name.as_deref()).unwrap_or("")));
    Ok(ListBucketsOutput {
        buckets: Some(list),
        owner: Some(owner(&ctx.account_id)),
        prefix: input.prefix,
        continuation_token: token,
    })
}

pub async fn get_bucket_location(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: GetBucketLocationRequest,
) -> Result<GetBucketLocationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    Ok(GetBucketLocationOutput { location_constraint: (bucket.region != "us-east-1").then(|| bucket.region.clone()) })
}

pub async fn put_bucket_versioning(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: PutBucketVersioningRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let status = input.versioning_configuration.status;
    match status.as_deref() {
        Some("Enabled") => {}
        Some("Suspended") if bucket.object_lock_enabled() => {
            return Err(AwsError::new(
                StatusCode::CONFLICT,
                "InvalidBucketState",
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
            ));
        }
        Some("Suspended") => {}
        _ => return Err(errors::malformed_xml()),
    }
    s3.update_settings(&bucket, |s| {
        s.versioning = status;
        Ok(())
    })
}

pub async fn get_bucket_versioning(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: GetBucketVersioningRequest,
) -> Result<GetBucketVersioningOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let status = bucket.versioning();
    Ok(GetBucketVersioningOutput { mfa_delete: status.as_ref().map(|_| "Disabled".to_owned()), status })
}

type Bucket_ = crate::generated::types::Bucket;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_aws_rules() {
        for ok in ["abc", "my-bucket.1", "a".repeat(63).as_str(), "1bucket", "a-b.c"] {
            assert!(valid_bucket_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
            "abc--ol-s3",
            "sthree-x",
            "a".repeat(64).as_str(),
            "abc.",
            "a b",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
