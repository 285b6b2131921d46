//! The operation handlers, by area, and the lookups and errors they share.

pub mod policy;
pub mod replication;
pub mod rotate;
pub mod secrets;
pub mod tags;
pub mod values;

use crate::state::{Region, Secret, SecretValue};
use ruststack_core::{AwsError, Blob, RequestContext};

pub(crate) fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

pub(crate) fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidRequestException", message)
}

pub(crate) fn secret_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

pub(crate) fn marked_for_deletion() -> AwsError {
    invalid_request("You can't perform this operation on the secret because it was marked for deletion.")
}

/// The name (map key) of the secret `id` names: a name, a full ARN, or a partial ARN (the ARN
/// without its `-xxxxxx` suffix).
pub(crate) fn resolve<'r>(region: &'r Region, ctx: &RequestContext, id: &str) -> Option<&'r str> {
    if let Some((key, _)) = region.secrets.get_key_value(id) {
        return Some(key);
    }
    let prefix = ctx.arn("secretsmanager", "secret:");
    let rest = id.strip_prefix(prefix.as_str())?;
    if let Some((key, _)) = region.secrets.get_key_value(rest) {
        return Some(key);
    }
    // A full ARN: the name is everything before the final `-` and six characters.
    let cut = rest.len().checked_sub(7)?;
    if !rest.is_char_boundary(cut) || rest.as_bytes()[cut] != b'-' {
        return None;
    }
    let (key, secret) = region.secrets.get_key_value(&rest[..cut])?;
    (secret.arn == id).then_some(key.as_str())
}

/// The secret `id` names, scheduled for deletion or not; one past its deletion date is gone.
pub(crate) fn find<'r>(region: &'r Region, ctx: &RequestContext, id: &str) -> Result<&'r Secret, AwsError> {
    let name = resolve(region, ctx, id).ok_or_else(secret_not_found)?;
    let secret = &region.secrets[name];
    if secret.deletion_date.is_some_and(|d| d <= crate::state::now_millis()) {
        return Err(secret_not_found());
    }
    Ok(secret)
}

/// What a replica answers to anything but reads: it changes only through its primary.
pub(crate) fn not_on_replica(secret: &Secret) -> Result<(), AwsError> {
    if secret.primary_region.is_some() {
        return Err(invalid_parameter(
            "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
        ));
    }
    Ok(())
}

/// A copy of the secret `id` names, to change and then [`Region::save`]; scheduled deletion
/// and replicas refuse changes.
pub(crate) fn find_live(region: &Region, ctx: &RequestContext, id: &str) -> Result<Secret, AwsError> {
    let secret = find(region, ctx, id)?;
    not_on_replica(secret)?;
    if secret.deleted.is_some() {
        return Err(marked_for_deletion());
    }
    Ok(secret.clone())
}

/// The value of a create or put: at most one of SecretString and SecretBinary.
pub(crate) fn value_of(string: Option<String>, binary: Option<Blob>) -> Result<Option<SecretValue>, AwsError> {
    match (string, binary) {
        (Some(_), Some(_)) => Err(invalid_parameter(
            "You can't specify both a binary secret value and a string secret value in the same secret.",
        )),
        (Some(s), None) => Ok(Some(SecretValue::String(s))),
        (None, Some(b)) => Ok(Some(SecretValue::Binary(b.0))),
        (None, None) => Ok(None),
    }
}

/// `(SecretString, SecretBinary)` of a value, as outputs carry it.
pub(crate) fn value_fields(value: &SecretValue) -> (Option<String>, Option<Blob>) {
    match value {
        SecretValue::String(s) => (Some(s.clone()), None),
        SecretValue::Binary(b) => (None, Some(Blob(b.clone()))),
    }
}

/// A version id when the caller sent no ClientRequestToken (raw HTTP; SDKs always send one).
pub(crate) fn new_version_id() -> String {
    ruststack_core::request_id::new_request_id()
}

/// The six random characters AWS appends to secret ARNs.
pub(crate) fn arn_suffix() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..6).map(|_| CHARS[fastrand::usize(..CHARS.len())] as char).collect()
}

/// An offset pagination token.
pub(crate) fn offset_token(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

pub(crate) fn parse_offset_token(token: &str) -> Result<usize, AwsError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:")?.parse().ok())
        .ok_or_else(|| AwsError::bad_request("InvalidNextTokenException", "The NextToken value is invalid."))
}

pub(crate) fn ts(millis: i64) -> ruststack_core::Timestamp {
    ruststack_core::Timestamp { millis }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Rotation;

    fn secret(name: &str, arn: String) -> Secret {
        Secret {
            name: name.into(),
            arn,
            description: None,
            kms_key_id: None,
            secret_type: None,
            tags: Vec::new(),
            created: 0,
            last_changed: 0,
            last_accessed: None,
            deleted: None,
            deletion_date: None,
            versions: Vec::new(),
            rotation: Rotation::default(),
            policy: None,
            replica_regions: Vec::new(),
            replica_failures: Default::default(),
            primary_region: None,
        }
    }

    #[test]
    fn secrets_resolve_by_name_full_and_partial_arn() {
        let ctx = RequestContext::for_tests("GetSecretValue");
        let mut region = Region::default();
        let arn = ctx.arn("secretsmanager", "secret:app/db-pass-AbC123");
        region.secrets.insert("app/db-pass".into(), secret("app/db-pass", arn.clone()));
        assert_eq!(resolve(&region, &ctx, "app/db-pass"), Some("app/db-pass"));
        assert_eq!(resolve(&region, &ctx, &arn), Some("app/db-pass"));
        assert_eq!(resolve(&region, &ctx, &ctx.arn("secretsmanager", "secret:app/db-pass")), Some("app/db-pass"));
        assert_eq!(resolve(&region, &ctx, &ctx.arn("secretsmanager", "secret:app/db-pass-XXXXXX")), None);
        assert_eq!(resolve(&region, &ctx, "arn:aws:secretsmanager:eu-west-1:000000000000:secret:app/db-pass"), None);
        assert_eq!(resolve(&region, &ctx, "app"), None);
        assert_eq!(arn_suffix().len(), 6);
        assert_eq!(parse_offset_token(&offset_token(42)).unwrap(), 42);
        assert!(parse_offset_token("zz").is_err());
    }
}
