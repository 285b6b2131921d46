//! Bucket sub-resources stored and returned as sent: tagging, lifecycle, default encryption,
//! website, notifications (checked and delivered by `notifications.rs`), Object Lock, ownership controls, public access block, transfer
//! acceleration, request payment and logging, each with AWS's checks and its "not found" answer.
//!
//! Documents live in `Bucket::config` under the names below, as the generated type that was put.

use crate::errors;
use crate::generated::types::*;
use crate::notifications;
use crate::state::{Bucket, S3};
use http::StatusCode;
use ruststack_core::{AwsError, RequestContext};
use std::collections::HashSet;
use std::sync::Arc;

pub const TAGGING: &str = "tagging";
pub const LIFECYCLE: &str = "lifecycle";
pub const ENCRYPTION: &str = "encryption";
pub const WEBSITE: &str = "website";
pub const NOTIFICATION: &str = "notification";
pub const OBJECT_LOCK: &str = "object-lock";
pub const OWNERSHIP: &str = "ownership";
pub const PUBLIC_ACCESS_BLOCK: &str = "public-access-block";
pub const ACCELERATE: &str = "accelerate";
pub const REQUEST_PAYMENT: &str = "request-payment";
pub const LOGGING: &str = "logging";

/// The 404 of a sub-resource that is not there: its code and message, and the bucket's name.
fn absent(code: &'static str, message: &'static str, bucket: &Bucket) -> AwsError {
    AwsError::not_found(code, message).with_field("BucketName", bucket.name.clone())
}

/// What AWS gives every new general purpose bucket (since April 2023): ACLs disabled by
/// `BucketOwnerEnforced` unless creation chose otherwise, and all public access blocked.
pub fn new_bucket_defaults(bucket: &Bucket, ownership: Option<&str>) {
    let ownership = ownership.unwrap_or("BucketOwnerEnforced");
    bucket.init_config(
        OWNERSHIP,
        &OwnershipControls { rules: vec![OwnershipControlsRule { object_ownership: ownership.into() }] },
    );
    bucket.init_config(
        PUBLIC_ACCESS_BLOCK,
        &PublicAccessBlockConfiguration {
            block_public_acls: Some(true),
            ignore_public_acls: Some(true),
            block_public_policy: Some(true),
            restrict_public_buckets: Some(true),
        },
    );
}

// ---- tagging ----

pub async fn put_bucket_tagging(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketTaggingRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let tags = &input.tagging.tag_set;
    if tags.len() > 50 {
        return Err(AwsError::bad_request("InvalidTag", "Bucket tag count cannot be greater than 50"));
    }
    let mut seen = HashSet::new();
    for t in tags {
        if t.key.is_empty() || t.key.chars().count() > 128 {
            return Err(AwsError::bad_request("InvalidTag", "The TagKey you have provided is invalid"));
        }
        if t.value.chars().count() > 256 {
            return Err(AwsError::bad_request("InvalidTag", "The TagValue you have provided is invalid"));
        }
        if t.key.starts_with("aws:") {
            return Err(AwsError::bad_request("InvalidTag", "System tags cannot be added/updated by requester"));
        }
        if !seen.insert(t.key.as_str()) {
            return Err(AwsError::bad_request("InvalidTag", "Cannot provide multiple Tags with the same key"));
        }
    }
    // An empty tag set removes the tagging: GetBucketTagging answers NoSuchTagSet again.
    if tags.is_empty() {
        s3.remove_config(&bucket, TAGGING)?;
    } else {
        s3.set_config(&bucket, TAGGING, &input.tagging)?;
    }
    Ok(())
}

pub async fn get_bucket_tagging(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketTaggingRequest,
) -> Result<GetBucketTaggingOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let tagging: Tagging =
        bucket.config(TAGGING).ok_or_else(|| absent("NoSuchTagSet", "The TagSet does not exist", &bucket))?;
    Ok(GetBucketTaggingOutput { tag_set: tagging.tag_set })
}

pub async fn delete_bucket_tagging(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketTaggingRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, TAGGING)?;
    Ok(())
}

// ---- lifecycle ----

/// The default minimum object size for transitions AWS reports.
const TRANSITION_DEFAULT: &str = "all_storage_classes_128K";

fn check_lifecycle(config: &BucketLifecycleConfiguration) -> Result<(), AwsError> {
    if config.rules.is_empty() || config.rules.len() > 1000 {
        return Err(errors::malformed_xml());
    }
    let mut ids = HashSet::new();
    for rule in &config.rules {
        if rule.status != "Enabled" && rule.status != "Disabled" {
            return Err(errors::malformed_xml());
        }
        if rule.filter.is_some() == rule.prefix.is_some() {
            return Err(errors::malformed_xml());
        }
        if let Some(id) = &rule.id {
            if id.chars().count() > 255 {
                return Err(errors::invalid_argument("ID length should not exceed allowed limit of 255", "ID", id));
            }
            if !ids.insert(id.as_str()) {
                return Err(errors::invalid_argument(
                    "Rule ID must be unique. Found same ID for more than one rule",
                    "ID",
                    id,
                ));
            }
        }
        let has_action = rule.expiration.is_some()
            || rule.transitions.as_ref().is_some_and(|t| !t.is_empty())
            || rule.noncurrent_version_transitions.as_ref().is_some_and(|t| !t.is_empty())
            || rule.noncurrent_version_expiration.is_some()
            || rule.abort_incomplete_multipart_upload.is_some();
        if !has_action {
            return Err(errors::invalid_request("At least one action needs to be specified in a rule"));
        }
        if let Some(e) = &rule.expiration {
            let set = [e.date.is_some(), e.days.is_some(), e.expired_object_delete_marker.is_some()];
            if set.iter().filter(|s| **s).count() != 1 {
                return Err(errors::malformed_xml());
            }
            if let Some(days) = e.days
                && days <= 0
            {
                return Err(errors::invalid_argument(
                    "'Days' for Expiration action must be a positive integer",
                    "Days",
                    &days.to_string(),
                ));
            }
        }
    }
    Ok(())
}

pub async fn put_bucket_lifecycle_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketLifecycleConfigurationRequest,
) -> Result<PutBucketLifecycleConfigurationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = input.lifecycle_configuration.ok_or_else(errors::malformed_xml)?;
    check_lifecycle(&config)?;
    let min_size = input.transition_default_minimum_object_size.unwrap_or_else(|| TRANSITION_DEFAULT.into());
    if min_size != TRANSITION_DEFAULT && min_size != "varies_by_storage_class" {
        return Err(errors::invalid_request("Invalid TransitionDefaultMinimumObjectSize value"));
    }
    s3.set_config(
        &bucket,
        LIFECYCLE,
        &GetBucketLifecycleConfigurationOutput {
            rules: Some(config.rules),
            transition_default_minimum_object_size: Some(min_size.clone()),
        },
    )?;
    Ok(PutBucketLifecycleConfigurationOutput { transition_default_minimum_object_size: Some(min_size) })
}

pub async fn get_bucket_lifecycle_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketLifecycleConfigurationRequest,
) -> Result<GetBucketLifecycleConfigurationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    bucket
        .config(LIFECYCLE)
        .ok_or_else(|| absent("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", &bucket))
}

pub async fn delete_bucket_lifecycle(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketLifecycleRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, LIFECYCLE)?;
    Ok(())
}

// ---- default encryption ----

/// SSE-S3, which AWS applies to every bucket without another default (and restores on delete).
fn default_encryption() -> ServerSideEncryptionConfiguration {
    ServerSideEncryptionConfiguration {
        rules: vec![ServerSideEncryptionRule {
            apply_server_side_encryption_by_default: Some(ServerSideEncryptionByDefault {
                sse_algorithm: "AES256".into(),
                kms_master_key_id: None,
            }),
            bucket_key_enabled: Some(false),
            blocked_encryption_types: None,
        }],
    }
}

/// The bucket's default encryption: algorithm and KMS key, for objects written without SSE headers.
pub fn bucket_sse(bucket: &Bucket) -> Option<(String, Option<String>)> {
    let config: ServerSideEncryptionConfiguration = bucket.config(ENCRYPTION)?;
    let default = config.rules.into_iter().next()?.apply_server_side_encryption_by_default?;
    Some((default.sse_algorithm, default.kms_master_key_id))
}

pub async fn put_bucket_encryption(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketEncryptionRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = input.server_side_encryption_configuration;
    if config.rules.len() != 1 {
        return Err(errors::malformed_xml());
    }
    if let Some(d) = &config.rules[0].apply_server_side_encryption_by_default {
        if !["AES256", "aws:kms", "aws:kms:dsse"].contains(&d.sse_algorithm.as_str()) {
            return Err(errors::malformed_xml());
        }
        if d.sse_algorithm == "AES256" && d.kms_master_key_id.is_some() {
            return Err(errors::invalid_argument(
                "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
                "ApplyServerSideEncryptionByDefault",
                "",
            ));
        }
    }
    s3.set_config(&bucket, ENCRYPTION, &config)?;
    Ok(())
}

pub async fn get_bucket_encryption(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketEncryptionRequest,
) -> Result<GetBucketEncryptionOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = bucket.config(ENCRYPTION).unwrap_or_else(default_encryption);
    Ok(GetBucketEncryptionOutput { server_side_encryption_configuration: Some(config) })
}

pub async fn delete_bucket_encryption(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketEncryptionRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, ENCRYPTION)?;
    Ok(())
}

// ---- website ----

pub async fn put_bucket_website(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketWebsiteRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = input.website_configuration;
    match (&config.index_document, &config.redirect_all_requests_to) {
        (None, None) => {
            return Err(errors::invalid_argument(
                "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
                "IndexDocument",
                "",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(errors::invalid_argument(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect configurations.",
                "RedirectAllRequestsTo",
                "",
            ));
        }
        (Some(index), None) if index.suffix.is_empty() || index.suffix.contains('/') => {
            return Err(errors::invalid_argument(
                "The IndexDocument Suffix is not well formed",
                "IndexDocument",
                &index.suffix,
            ));
        }
        _ => {}
    }
    if config.routing_rules.as_ref().is_some_and(|r| r.len() > 50) {
        return Err(errors::invalid_request("The number of routing rules must not exceed the allowed limit of 50."));
    }
    s3.set_config(&bucket, WEBSITE, &config)?;
    Ok(())
}

pub async fn get_bucket_website(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketWebsiteRequest,
) -> Result<GetBucketWebsiteOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config: WebsiteConfiguration = bucket.config(WEBSITE).ok_or_else(|| {
        absent("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration", &bucket)
    })?;
    Ok(GetBucketWebsiteOutput {
        redirect_all_requests_to: config.redirect_all_requests_to,
        index_document: config.index_document,
        error_document: config.error_document,
        routing_rules: config.routing_rules,
    })
}

pub async fn delete_bucket_website(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketWebsiteRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, WEBSITE)?;
    Ok(())
}

// ---- notifications (delivered by `notifications.rs`) ----

pub async fn put_bucket_notification_configuration(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: PutBucketNotificationConfigurationRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let mut config = input.notification_configuration;
    notifications::check_configuration(&mut config)?;
    let validate = !input.skip_destination_validation.unwrap_or(false);
    if validate {
        s3.verify_destinations(&bucket, &config, &ctx).await?;
    }
    if notifications::is_empty(&config) {
        s3.remove_config(&bucket, NOTIFICATION)?;
    } else {
        s3.set_config(&bucket, NOTIFICATION, &config)?;
    }
    if validate {
        s3.send_test_events(&bucket, &config, &ctx);
    }
    Ok(())
}

pub async fn get_bucket_notification_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketNotificationConfigurationRequest,
) -> Result<NotificationConfiguration, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    Ok(bucket.config(NOTIFICATION).unwrap_or_default())
}

// ---- Object Lock ----

pub async fn put_object_lock_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutObjectLockConfigurationRequest,
) -> Result<PutObjectLockConfigurationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = input
        .object_lock_configuration
        .ok_or_else(|| AwsError::bad_request("MissingRequestBodyError", "Request Body is empty"))?;
    if config.object_lock_enabled.as_deref() != Some("Enabled") {
        return Err(errors::malformed_xml());
    }
    if let Some(retention) = config.rule.as_ref().and_then(|r| r.default_retention.as_ref()) {
        if !matches!(retention.mode.as_deref(), Some("GOVERNANCE" | "COMPLIANCE")) {
            return Err(errors::malformed_xml());
        }
        let period = match (retention.days, retention.years) {
            (Some(d), None) => d,
            (None, Some(y)) => y,
            _ => return Err(errors::malformed_xml()),
        };
        if period <= 0 {
            return Err(errors::invalid_argument(
                "Default retention period must be a positive integer value",
                if retention.days.is_some() { "Days" } else { "Years" },
                &period.to_string(),
            ));
        }
    }
    if !bucket.versioning_enabled() {
        return Err(AwsError::new(
            StatusCode::CONFLICT,
            "InvalidBucketState",
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        ));
    }
    let config = serde_json::to_value(&config).map_err(errors::internal)?;
    s3.update_settings(&bucket, |s| {
        s.object_lock = true;
        s.config.insert(OBJECT_LOCK.to_owned(), config);
        Ok(())
    })?;
    Ok(PutObjectLockConfigurationOutput::default())
}

pub async fn get_object_lock_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetObjectLockConfigurationRequest,
) -> Result<GetObjectLockConfigurationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = match bucket.config::<ObjectLockConfiguration>(OBJECT_LOCK) {
        Some(c) => c,
        None if bucket.object_lock_enabled() => {
            ObjectLockConfiguration { object_lock_enabled: Some("Enabled".into()), rule: None }
        }
        None => {
            return Err(absent(
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
                &bucket,
            ));
        }
    };
    Ok(GetObjectLockConfigurationOutput { object_lock_configuration: Some(config) })
}

// ---- ownership controls ----

pub async fn put_bucket_ownership_controls(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketOwnershipControlsRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let controls = input.ownership_controls;
    let [rule] = controls.rules.as_slice() else { return Err(errors::malformed_xml()) };
    match rule.object_ownership.as_str() {
        "BucketOwnerPreferred" | "ObjectWriter" => {}
        "BucketOwnerEnforced" => {
            let grants: Option<Vec<Grant>> = bucket.config(crate::acl::BUCKET_ACL);
            if grants.is_some_and(|g| !crate::acl::owner_only(&g, &crate::buckets::owner(&bucket.account_id))) {
                return Err(AwsError::bad_request(
                    "InvalidBucketAclWithObjectOwnership",
                    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
                ));
            }
        }
        _ => return Err(errors::malformed_xml()),
    }
    s3.set_config(&bucket, OWNERSHIP, &controls)?;
    Ok(())
}

pub async fn get_bucket_ownership_controls(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketOwnershipControlsRequest,
) -> Result<GetBucketOwnershipControlsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let controls = bucket.config(OWNERSHIP).ok_or_else(|| {
        absent("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", &bucket)
    })?;
    Ok(GetBucketOwnershipControlsOutput { ownership_controls: Some(controls) })
}

pub async fn delete_bucket_ownership_controls(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketOwnershipControlsRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, OWNERSHIP)?;
    Ok(())
}

// ---- public access block ----

pub fn public_access_block(bucket: &Bucket) -> PublicAccessBlockConfiguration {
    bucket.config(PUBLIC_ACCESS_BLOCK).unwrap_or_default()
}

pub async fn put_public_access_block(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutPublicAccessBlockRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let c = input.public_access_block_configuration;
    // Members left out are false, as AWS reports them.
    let config = PublicAccessBlockConfiguration {
        block_public_acls: Some(c.block_public_acls.unwrap_or(false)),
        ignore_public_acls: Some(c.ignore_public_acls.unwrap_or(false)),
        block_public_policy: Some(c.block_public_policy.unwrap_or(false)),
        restrict_public_buckets: Some(c.restrict_public_buckets.unwrap_or(false)),
    };
    s3.set_config(&bucket, PUBLIC_ACCESS_BLOCK, &config)?;
    Ok(())
}

pub async fn get_public_access_block(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetPublicAccessBlockRequest,
) -> Result<GetPublicAccessBlockOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = bucket.config(PUBLIC_ACCESS_BLOCK).ok_or_else(|| {
        absent("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", &bucket)
    })?;
    Ok(GetPublicAccessBlockOutput { public_access_block_configuration: Some(config) })
}

pub async fn delete_public_access_block(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeletePublicAccessBlockRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, PUBLIC_ACCESS_BLOCK)?;
    Ok(())
}

// ---- transfer acceleration, request payment, logging ----

pub async fn put_bucket_accelerate_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketAccelerateConfigurationRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    if !matches!(input.accelerate_configuration.status.as_deref(), Some("Enabled" | "Suspended")) {
        return Err(errors::malformed_xml());
    }
    if bucket.name.contains('.') {
        return Err(errors::invalid_request(
            "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
        ));
    }
    s3.set_config(&bucket, ACCELERATE, &input.accelerate_configuration)?;
    Ok(())
}

pub async fn get_bucket_accelerate_configuration(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketAccelerateConfigurationRequest,
) -> Result<GetBucketAccelerateConfigurationOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config: AccelerateConfiguration = bucket.config(ACCELERATE).unwrap_or_default();
    Ok(GetBucketAccelerateConfigurationOutput { status: config.status, request_charged: None })
}

pub async fn put_bucket_request_payment(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketRequestPaymentRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config = input.request_payment_configuration;
    if config.payer != "Requester" && config.payer != "BucketOwner" {
        return Err(errors::malformed_xml());
    }
    s3.set_config(&bucket, REQUEST_PAYMENT, &config)?;
    Ok(())
}

pub async fn get_bucket_request_payment(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketRequestPaymentRequest,
) -> Result<GetBucketRequestPaymentOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let payer = bucket.config::<RequestPaymentConfiguration>(REQUEST_PAYMENT).map(|c| c.payer);
    Ok(GetBucketRequestPaymentOutput { payer: Some(payer.unwrap_or_else(|| "BucketOwner".into())) })
}

pub async fn put_bucket_logging(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutBucketLoggingRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let status = input.bucket_logging_status;
    if let Some(enabled) = &status.logging_enabled {
        let target = s3.registered(&enabled.target_bucket);
        match target {
            None => {
                return Err(AwsError::bad_request(
                    "InvalidTargetBucketForLogging",
                    "The target bucket for logging does not exist",
                )
                .with_field("TargetBucket", enabled.target_bucket.clone()));
            }
            Some(t) if t.account_id != bucket.account_id => {
                return Err(AwsError::bad_request(
                    "InvalidTargetBucketForLogging",
                    "The owner for the bucket to be logged and the target bucket must be the same.",
                )
                .with_field("TargetBucket", enabled.target_bucket.clone()));
            }
            Some(t) if t.region != bucket.region => {
                return Err(AwsError::bad_request(
                    "CrossLocationLoggingProhibitted",
                    "Cross S3 location logging not allowed. ",
                )
                .with_field("TargetBucketLocation", t.region.clone()));
            }
            Some(_) => {}
        }
        s3.set_config(&bucket, LOGGING, &status)?;
    } else {
        s3.remove_config(&bucket, LOGGING)?;
    }
    Ok(())
}

pub async fn get_bucket_logging(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketLoggingRequest,
) -> Result<GetBucketLoggingOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let status: BucketLoggingStatus = bucket.config(LOGGING).unwrap_or_default();
    Ok(GetBucketLoggingOutput { logging_enabled: status.logging_enabled })
}
