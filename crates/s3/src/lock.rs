//! Object Lock on objects: the retention and legal hold a new version gets (its request's
//! headers, else the bucket's default retention), the refusal to delete a protected version,
//! and Put/GetObjectRetention and Put/GetObjectLegalHold.

use crate::common;
use crate::config::OBJECT_LOCK;
use crate::errors;
use crate::generated::types::*;
use crate::state::{Bucket, Lock, ObjectVersion, S3};
use http::StatusCode;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::sync::Arc;

const DAY_MILLIS: i64 = 86_400_000;

pub fn missing_lock_configuration() -> AwsError {
    errors::invalid_request("Bucket is missing Object Lock Configuration")
}

fn no_lock_of_object() -> AwsError {
    AwsError::not_found(
        "NoSuchObjectLockConfiguration",
        "The specified object does not have a ObjectLock configuration",
    )
}

pub fn protected() -> AwsError {
    AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied because object protected by object lock.")
}

fn missing_body() -> AwsError {
    AwsError::bad_request("MissingRequestBodyError", "Request Body is empty")
}

fn past_date() -> AwsError {
    AwsError::bad_request("InvalidArgument", "The retain until date must be in the future!")
}

/// The Object Lock headers of a write (PutObject, CopyObject, CreateMultipartUpload).
#[derive(Default, Clone, Copy)]
pub struct LockRequest<'a> {
    pub mode: Option<&'a str>,
    pub until: Option<Timestamp>,
    pub legal_hold: Option<&'a str>,
}

impl LockRequest<'_> {
    fn is_empty(&self) -> bool {
        self.mode.is_none() && self.until.is_none() && self.legal_hold.is_none()
    }
}

/// The lock of a new version: the request's retention, else the bucket's default retention,
/// and its legal hold. `has_digest` (Content-MD5 or a flexible checksum) is required of a
/// PutObject that ends up with Object Lock parameters; `None` skips that check.
pub fn for_new_version(bucket: &Bucket, req: LockRequest<'_>, has_digest: Option<bool>) -> Result<Lock, AwsError> {
    if !bucket.object_lock_enabled() {
        return if req.is_empty() { Ok(Lock::default()) } else { Err(missing_lock_configuration()) };
    }
    let mut lock = Lock { legal_hold: req.legal_hold.map(|s| s == "ON"), ..Default::default() };
    match (req.mode, req.until) {
        (Some(mode), Some(until)) => {
            if until <= Timestamp::now() {
                return Err(past_date());
            }
            lock.mode = Some(mode.to_owned());
            lock.until = Some(until);
        }
        (None, None) => {
            let rule = bucket.config::<ObjectLockConfiguration>(OBJECT_LOCK).and_then(|c| c.rule);
            if let Some(d) = rule.and_then(|r| r.default_retention) {
                let days = d.days.map(i64::from).or(d.years.map(|y| i64::from(y) * 365)).unwrap_or(0);
                if let (Some(mode), true) = (d.mode, days > 0) {
                    lock.mode = Some(mode);
                    lock.until = Some(Timestamp { millis: Timestamp::now().millis + days * DAY_MILLIS });
                }
            }
        }
        _ => {
            return Err(errors::invalid_argument(
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                "x-amz-object-lock-retain-until-date",
                "",
            ));
        }
    }
    if has_digest == Some(false) && (lock.mode.is_some() || lock.legal_hold.is_some()) {
        return Err(errors::invalid_request(
            "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
        ));
    }
    Ok(lock)
}

/// Whether a version may be deleted for good: never under a legal hold or an unexpired
/// COMPLIANCE retention, and under GOVERNANCE only with `x-amz-bypass-governance-retention`.
pub fn check_delete(v: &ObjectVersion, bypass: bool) -> Result<(), AwsError> {
    let lock = &v.meta.lock;
    if lock.legal_hold == Some(true) {
        return Err(protected());
    }
    match (lock.mode.as_deref(), lock.until) {
        (Some(mode), Some(until)) if until > Timestamp::now() && !(mode == "GOVERNANCE" && bypass) => Err(protected()),
        _ => Ok(()),
    }
}

/// Whether a retention may replace `old`: an unexpired retention may only be lengthened (and
/// GOVERNANCE made COMPLIANCE); GOVERNANCE yields to a bypass.
fn check_retention_change(
    old: &Lock,
    mode: Option<&str>,
    until: Option<Timestamp>,
    bypass: bool,
) -> Result<(), AwsError> {
    let (Some(old_mode), Some(old_until)) = (old.mode.as_deref(), old.until) else { return Ok(()) };
    if old_until <= Timestamp::now() || (old_mode == "GOVERNANCE" && bypass) {
        return Ok(());
    }
    let longer = until.is_some_and(|u| u >= old_until);
    let mode_ok = match old_mode {
        "COMPLIANCE" => mode == Some("COMPLIANCE"),
        _ => mode.is_some(),
    };
    if longer && mode_ok { Ok(()) } else { Err(protected()) }
}

fn locked_bucket(s3: &S3, name: &str) -> Result<Arc<Bucket>, AwsError> {
    let bucket = s3.bucket(name)?;
    if !bucket.object_lock_enabled() {
        return Err(missing_lock_configuration());
    }
    Ok(bucket)
}

pub async fn put_object_retention(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutObjectRetentionRequest,
) -> Result<PutObjectRetentionOutput, AwsError> {
    let bucket = locked_bucket(&s3, &input.bucket)?;
    let retention = input.retention.ok_or_else(missing_body)?;
    let (mode, until) = (retention.mode.as_deref(), retention.retain_until_date);
    match (mode, until) {
        (Some(_), Some(u)) if u <= Timestamp::now() => return Err(past_date()),
        (Some(_), Some(_)) | (None, None) => {}
        _ => return Err(errors::malformed_xml()),
    }
    let bypass = input.bypass_governance_retention.unwrap_or(false);
    common::try_update_version(&s3, "PUT", &bucket, &input.key, input.version_id.as_deref(), |v| {
        check_retention_change(&v.meta.lock, mode, until, bypass)?;
        v.meta.lock.mode = mode.map(str::to_owned);
        v.meta.lock.until = until;
        Ok(())
    })
    .await?;
    Ok(PutObjectRetentionOutput::default())
}

pub async fn get_object_retention(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetObjectRetentionRequest,
) -> Result<GetObjectRetentionOutput, AwsError> {
    let bucket = locked_bucket(&s3, &input.bucket)?;
    let v = common::find_version(&bucket, &input.key, input.version_id.as_deref())?;
    let lock = &v.meta.lock;
    if lock.mode.is_none() {
        return Err(no_lock_of_object());
    }
    Ok(GetObjectRetentionOutput {
        retention: Some(ObjectLockRetention {
            mode: lock.mode.clone(),
            retain_until_date: lock.until,
            ..Default::default()
        }),
    })
}

pub async fn put_object_legal_hold(
    s3: Arc<S3>,
    _: RequestContext,
    input: PutObjectLegalHoldRequest,
) -> Result<PutObjectLegalHoldOutput, AwsError> {
    let bucket = locked_bucket(&s3, &input.bucket)?;
    let status = input.legal_hold.ok_or_else(missing_body)?.status.ok_or_else(errors::malformed_xml)?;
    common::try_update_version(&s3, "PUT", &bucket, &input.key, input.version_id.as_deref(), |v| {
        v.meta.lock.legal_hold = Some(status == "ON");
        Ok(())
    })
    .await?;
    Ok(PutObjectLegalHoldOutput::default())
}

pub async fn get_object_legal_hold(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetObjectLegalHoldRequest,
) -> Result<GetObjectLegalHoldOutput, AwsError> {
    let bucket = locked_bucket(&s3, &input.bucket)?;
    let v = common::find_version(&bucket, &input.key, input.version_id.as_deref())?;
    let on = v.meta.lock.legal_hold.ok_or_else(no_lock_of_object)?;
    Ok(GetObjectLegalHoldOutput { legal_hold: Some(ObjectLockLegalHold { status: Some(status_name(on).into()) }) })
}

pub fn status_name(on: bool) -> &'static str {
    if on { "ON" } else { "OFF" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(mode: Option<&str>, in_millis: i64, legal_hold: Option<bool>) -> ObjectVersion {
        let mut v = ObjectVersion::delete_marker(None);
        v.delete_marker = false;
        v.meta.lock = Lock {
            mode: mode.map(str::to_owned),
            until: Some(Timestamp { millis: Timestamp::now().millis + in_millis }),
            legal_hold,
        };
        v
    }

    #[test]
    fn deletes_respect_modes_bypass_and_legal_hold() {
        let governance = version(Some("GOVERNANCE"), 60_000, None);
        assert_eq!(check_delete(&governance, false).unwrap_err().code, "AccessDenied");
        assert!(check_delete(&governance, true).is_ok());
        let compliance = version(Some("COMPLIANCE"), 60_000, None);
        assert!(check_delete(&compliance, true).is_err());
        assert!(check_delete(&version(Some("COMPLIANCE"), -1, None), false).is_ok());
        assert!(check_delete(&version(None, 60_000, Some(true)), true).is_err());
        assert!(check_delete(&version(None, 60_000, Some(false)), false).is_ok());
    }

    #[test]
    fn retention_may_only_grow_unless_governance_is_bypassed() {
        let later = Some(Timestamp { millis: Timestamp::now().millis + 120_000 });
        let sooner = Some(Timestamp { millis: Timestamp::now().millis + 1_000 });
        let compliance = version(Some("COMPLIANCE"), 60_000, None).meta.lock;
        assert!(check_retention_change(&compliance, Some("COMPLIANCE"), later, false).is_ok());
        assert!(check_retention_change(&compliance, Some("COMPLIANCE"), sooner, true).is_err());
        assert!(check_retention_change(&compliance, Some("GOVERNANCE"), later, true).is_err());
        let governance = version(Some("GOVERNANCE"), 60_000, None).meta.lock;
        assert!(check_retention_change(&governance, Some("COMPLIANCE"), later, false).is_ok());
        assert!(check_retention_change(&governance, None, None, false).is_err());
        assert!(check_retention_change(&governance, None, None, true).is_ok());
    }
}
