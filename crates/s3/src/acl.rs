//! Access control lists: canned ACLs (`x-amz-acl`), grant headers (`x-amz-grant-*`) and
//! `AccessControlPolicy` bodies turned into grants, with AWS's rules on mixing them and on buckets
//! whose Object Ownership disables ACLs. Grants are stored and returned; they do not gate requests.

use crate::buckets::owner;
use crate::errors;
use crate::generated::types::*;
use crate::state::{Bucket, S3};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

const PERMISSIONS: [&str; 5] = ["FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"];

/// What a request says about the ACL to set: a canned name, grant headers, or a body.
#[derive(Default)]
pub struct AclRequest<'a> {
    pub canned: Option<&'a str>,
    /// `(permission, header value)` of the `x-amz-grant-*` headers sent.
    pub grants: Vec<(&'static str, &'a str)>,
    pub body: Option<&'a AccessControlPolicy>,
}

impl<'a> AclRequest<'a> {
    pub fn headers(
        canned: Option<&'a String>,
        full_control: Option<&'a String>,
        read: Option<&'a String>,
        read_acp: Option<&'a String>,
        write: Option<&'a String>,
        write_acp: Option<&'a String>,
    ) -> Self {
        let grants = [
            ("FULL_CONTROL", full_control),
            ("READ", read),
            ("READ_ACP", read_acp),
            ("WRITE", write),
            ("WRITE_ACP", write_acp),
        ]
        .into_iter()
        .filter_map(|(p, v)| Some((p, v?.as_str())))
        .collect();
        AclRequest { canned: canned.map(String::as_str), grants, body: None }
    }

    pub fn is_empty(&self) -> bool {
        self.canned.is_none() && self.grants.is_empty() && self.body.is_none()
    }
}

pub fn canonical_grant(owner: &Owner, permission: &str) -> Grant {
    Grant {
        grantee: Some(Grantee {
            r#type: "CanonicalUser".into(),
            id: owner.id.clone(),
            display_name: owner.display_name.clone(),
            ..Default::default()
        }),
        permission: Some(permission.into()),
    }
}

fn group_grant(uri: &str, permission: &str) -> Grant {
    Grant {
        grantee: Some(Grantee { r#type: "Group".into(), uri: Some(uri.into()), ..Default::default() }),
        permission: Some(permission.into()),
    }
}

/// The ACL every new bucket and object has: the owner with full control.
pub fn default_grants(account_id: &str) -> Vec<Grant> {
    vec![canonical_grant(&owner(account_id), "FULL_CONTROL")]
}

/// The grants of a canned ACL. `bucket_owner` is the owner of the bucket holding an object.
pub fn canned(name: &str, resource_owner: &Owner, bucket_owner: &Owner) -> Result<Vec<Grant>, AwsError> {
    let mut grants = vec![canonical_grant(resource_owner, "FULL_CONTROL")];
    let same_owner = resource_owner.id == bucket_owner.id;
    match name {
        "private" | "aws-exec-read" => {}
        "public-read" => grants.push(group_grant(ALL_USERS, "READ")),
        "public-read-write" => {
            grants.push(group_grant(ALL_USERS, "READ"));
            grants.push(group_grant(ALL_USERS, "WRITE"));
        }
        "authenticated-read" => grants.push(group_grant(AUTHENTICATED_USERS, "READ")),
        "log-delivery-write" => {
            grants.push(group_grant(LOG_DELIVERY, "WRITE"));
            grants.push(group_grant(LOG_DELIVERY, "READ_ACP"));
        }
        "bucket-owner-read" if !same_owner => grants.push(canonical_grant(bucket_owner, "READ")),
        "bucket-owner-full-control" if !same_owner => grants.push(canonical_grant(bucket_owner, "FULL_CONTROL")),
        "bucket-owner-read" | "bucket-owner-full-control" => {}
        other => return Err(errors::invalid_argument("", "x-amz-acl", other)),
    }
    Ok(grants)
}

/// Parses one `x-amz-grant-*` header: `id="…", uri="…", emailAddress="…"`, comma-separated.
fn header_grants(permission: &str, value: &str, out: &mut Vec<Grant>) -> Result<(), AwsError> {
    let header = format!("x-amz-grant-{}", permission.to_ascii_lowercase().replace('_', "-"));
    let invalid = || errors::invalid_argument("Argument format not recognized", &header, value);
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, raw) = item.split_once('=').ok_or_else(invalid)?;
        let v = raw.trim().trim_matches('"').to_owned();
        let grantee = match kind.trim() {
            "id" => Grantee { r#type: "CanonicalUser".into(), id: Some(v), ..Default::default() },
            "uri" => {
                check_group(&v)?;
                Grantee { r#type: "Group".into(), uri: Some(v), ..Default::default() }
            }
            "emailAddress" => {
                Grantee { r#type: "AmazonCustomerByEmail".into(), email_address: Some(v), ..Default::default() }
            }
            _ => return Err(invalid()),
        };
        out.push(Grant { grantee: Some(grantee), permission: Some(permission.into()) });
    }
    Ok(())
}

fn check_group(uri: &str) -> Result<(), AwsError> {
    if [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&uri) {
        Ok(())
    } else {
        Err(errors::invalid_argument("Invalid group uri", "uri", uri))
    }
}

fn malformed_acl() -> AwsError {
    AwsError::bad_request(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// Checks an `AccessControlPolicy` body and fills in display names of canonical users we know.
fn body_grants(policy: &AccessControlPolicy, resource_owner: &Owner) -> Result<Vec<Grant>, AwsError> {
    let body_owner = policy.owner.as_ref().and_then(|o| o.id.as_deref()).ok_or_else(malformed_acl)?;
    if Some(body_owner) != resource_owner.id.as_deref() {
        return Err(AwsError::new(http::StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"));
    }
    let mut grants = Vec::new();
    for g in policy.grants.iter().flatten() {
        let (Some(grantee), Some(permission)) = (&g.grantee, &g.permission) else { return Err(malformed_acl()) };
        if !PERMISSIONS.contains(&permission.as_str()) {
            return Err(malformed_acl());
        }
        let mut grantee = grantee.clone();
        match grantee.r#type.as_str() {
            "CanonicalUser" => {
                let id = grantee.id.as_deref().ok_or_else(malformed_acl)?;
                if Some(id) == resource_owner.id.as_deref() {
                    grantee.display_name = resource_owner.display_name.clone();
                } else if !(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
                    return Err(errors::invalid_argument("Invalid id", "CanonicalUser/ID", id));
                }
            }
            "Group" => check_group(grantee.uri.as_deref().ok_or_else(malformed_acl)?)?,
            "AmazonCustomerByEmail" if grantee.email_address.is_some() => {}
            _ => return Err(malformed_acl()),
        }
        grants.push(Grant { grantee: Some(grantee), permission: Some(permission.clone()) });
    }
    Ok(grants)
}

/// The grants a request sets, after AWS's rules on combining the three ways of saying them.
/// `None` when the request says nothing about ACLs (creation keeps the default).
pub fn resolve(
    req: &AclRequest<'_>,
    resource_owner: &Owner,
    bucket_owner: &Owner,
) -> Result<Option<Vec<Grant>>, AwsError> {
    if req.body.is_some() && (req.canned.is_some() || !req.grants.is_empty()) {
        return Err(AwsError::bad_request("UnexpectedContent", "This request does not support content"));
    }
    if req.canned.is_some() && !req.grants.is_empty() {
        return Err(errors::invalid_request("Specifying both Canned ACLs and Header Grants is not allowed"));
    }
    if let Some(name) = req.canned {
        return canned(name, resource_owner, bucket_owner).map(Some);
    }
    if !req.grants.is_empty() {
        let mut grants = Vec::new();
        for (permission, value) in &req.grants {
            header_grants(permission, value, &mut grants)?;
        }
        return Ok(Some(grants));
    }
    match req.body {
        Some(policy) => body_grants(policy, resource_owner).map(Some),
        None => Ok(None),
    }
}

/// Whether grants say no more than "the bucket owner has full control" (all a bucket whose
/// Object Ownership is `BucketOwnerEnforced` accepts).
pub fn owner_only(grants: &[Grant], bucket_owner: &Owner) -> bool {
    grants.iter().all(|g| {
        g.permission.as_deref() == Some("FULL_CONTROL")
            && g.grantee.as_ref().is_some_and(|e| e.r#type == "CanonicalUser" && e.id == bucket_owner.id)
    })
}

/// The bucket's Object Ownership setting, if it has ownership controls.
pub fn object_ownership(bucket: &Bucket) -> Option<String> {
    let controls: crate::generated::types::OwnershipControls = bucket.config("ownership")?;
    controls.rules.into_iter().next().map(|r| r.object_ownership)
}

/// Refuses ACLs on a bucket whose Object Ownership disables them.
pub fn check_acls_allowed(bucket: &Bucket, grants: &[Grant]) -> Result<(), AwsError> {
    if object_ownership(bucket).as_deref() == Some("BucketOwnerEnforced")
        && !owner_only(grants, &owner(&bucket.account_id))
    {
        return Err(AwsError::bad_request("AccessControlListNotSupported", "The bucket does not allow ACLs"));
    }
    Ok(())
}

/// Whether grants open the resource to everyone (AllUsers or AuthenticatedUsers).
pub fn is_public(grants: &[Grant]) -> bool {
    grants.iter().any(|g| {
        g.grantee.as_ref().and_then(|e| e.uri.as_deref()).is_some_and(|u| u == ALL_USERS || u == AUTHENTICATED_USERS)
    })
}

/// Where a bucket's ACL lives in `Bucket::config` (absent: the default).
pub const BUCKET_ACL: &str = "acl";

/// The ACL a new bucket or object gets from its creation request's headers (checked against the
/// bucket's Object Ownership), or `None` for the default.
pub fn on_create(bucket: &Bucket, req: &AclRequest<'_>, writer_account: &str) -> Result<Option<Vec<Grant>>, AwsError> {
    if req.is_empty() {
        return Ok(None);
    }
    let grants = resolve(req, &owner(writer_account), &owner(&bucket.account_id))?;
    if let Some(g) = &grants {
        check_acls_allowed(bucket, g)?;
    }
    Ok(grants)
}

/// Blocks public ACLs when the bucket's public access block says so.
fn check_public_acls(bucket: &Bucket, grants: &[Grant], ctx: &RequestContext, action: &str) -> Result<(), AwsError> {
    if is_public(grants) && crate::config::public_access_block(bucket).block_public_acls == Some(true) {
        return Err(AwsError::new(
            http::StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: {action} on resource: \"arn:aws:s3:::{}\" because public ACLs are prevented by the BlockPublicAcls setting in S3 Block Public Access.",
                ctx.account_id, bucket.name
            ),
        ));
    }
    Ok(())
}

fn missing_acl() -> AwsError {
    AwsError::bad_request("MissingSecurityHeader", "Your request was missing a required header")
        .with_field("MissingHeaderName", "x-amz-acl")
}

pub async fn put_bucket_acl(s3: Arc<S3>, ctx: RequestContext, input: PutBucketAclRequest) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let mut req = AclRequest::headers(
        input.acl.as_ref(),
        input.grant_full_control.as_ref(),
        input.grant_read.as_ref(),
        input.grant_read_acp.as_ref(),
        input.grant_write.as_ref(),
        input.grant_write_acp.as_ref(),
    );
    req.body = input.access_control_policy.as_ref();
    let bucket_owner = owner(&bucket.account_id);
    let grants = resolve(&req, &bucket_owner, &bucket_owner)?.ok_or_else(missing_acl)?;
    check_acls_allowed(&bucket, &grants)?;
    check_public_acls(&bucket, &grants, &ctx, "s3:PutBucketAcl")?;
    s3.set_config(&bucket, BUCKET_ACL, &grants)?;
    Ok(())
}

pub async fn get_bucket_acl(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketAclRequest,
) -> Result<GetBucketAclOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let grants = bucket.config(BUCKET_ACL).unwrap_or_else(|| default_grants(&bucket.account_id));
    Ok(GetBucketAclOutput { owner: Some(owner(&bucket.account_id)), grants: Some(grants) })
}

pub async fn put_object_acl(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: PutObjectAclRequest,
) -> Result<PutObjectAclOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    crate::common::find_version_for("PUT", &bucket, &input.key, input.version_id.as_deref())?;
    let mut req = AclRequest::headers(
        input.acl.as_ref(),
        input.grant_full_control.as_ref(),
        input.grant_read.as_ref(),
        input.grant_read_acp.as_ref(),
        input.grant_write.as_ref(),
        input.grant_write_acp.as_ref(),
    );
    req.body = input.access_control_policy.as_ref();
    let bucket_owner = owner(&bucket.account_id);
    let grants = resolve(&req, &bucket_owner, &bucket_owner)?.ok_or_else(missing_acl)?;
    check_acls_allowed(&bucket, &grants)?;
    check_public_acls(&bucket, &grants, &ctx, "s3:PutObjectAcl")?;
    let v = crate::common::update_version(&s3, "PUT", &bucket, &input.key, input.version_id.as_deref(), |v| {
        v.acl = Some(grants)
    })
    .await?;
    let caller = crate::notifications::Caller::Request(&ctx);
    crate::objects::notify_update(&s3, &bucket, &input.key, &v, crate::notifications::OBJECT_ACL_PUT, caller);
    Ok(PutObjectAclOutput::default())
}

pub async fn get_object_acl(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetObjectAclRequest,
) -> Result<GetObjectAclOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let version = crate::common::find_version(&bucket, &input.key, input.version_id.as_deref())?;
    let grants = version.acl.clone().unwrap_or_else(|| default_grants(&bucket.account_id));
    Ok(GetObjectAclOutput { owner: Some(owner(&bucket.account_id)), grants: Some(grants), request_charged: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_expand_to_grants() {
        let me = owner("000000000000");
        assert_eq!(canned("private", &me, &me).unwrap().len(), 1);
        let public = canned("public-read-write", &me, &me).unwrap();
        assert_eq!(public.len(), 3);
        assert!(is_public(&public));
        assert!(owner_only(&canned("bucket-owner-full-control", &me, &me).unwrap(), &me));
        assert_eq!(canned("nope", &me, &me).unwrap_err().code, "InvalidArgument");
    }

    #[test]
    fn grant_headers_parse() {
        let me = owner("000000000000");
        let v = format!("id=\"{}\", uri=\"{ALL_USERS}\"", me.id.clone().unwrap());
        let req = AclRequest { grants: vec![("READ", v.as_str())], ..Default::default() };
        let grants = resolve(&req, &me, &me).unwrap().unwrap();
        assert_eq!(grants.len(), 2);
        assert_eq!(grants[1].grantee.as_ref().unwrap().r#type, "Group");
        let bad = AclRequest { grants: vec![("READ", "uri=\"http://x\"")], ..Default::default() };
        assert_eq!(resolve(&bad, &me, &me).unwrap_err().message, "Invalid group uri");
        let both = AclRequest { canned: Some("private"), grants: vec![("READ", "id=\"a\"")], ..Default::default() };
        assert_eq!(resolve(&both, &me, &me).unwrap_err().code, "InvalidRequest");
    }
}
