//! Bucket policies: checked the way S3 checks them on PUT (JSON, statements, effects, principals,
//! resources inside the bucket, Block Public Access), stored verbatim, returned verbatim.

use crate::config::public_access_block;
use crate::generated::types::*;
use crate::state::{Bucket, S3};
use http::StatusCode;
use ruststack_core::{AwsError, RequestContext};
use serde_json::Value;
use std::sync::Arc;

pub const POLICY: &str = "policy";

fn malformed(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("MalformedPolicy", message)
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// Whether a statement's principal is everyone (`"*"` or `{"AWS": "*"}`).
fn principal_is_public(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => {
            map.get("AWS").is_some_and(|aws| one_or_many(aws).iter().any(|p| p.as_str() == Some("*")))
        }
        _ => false,
    }
}

/// Whether a parsed policy grants access to everyone (an `Allow` to `*` without conditions).
pub fn is_public(policy: &Value) -> bool {
    policy.get("Statement").map(one_or_many).unwrap_or_default().iter().any(|st| {
        st.get("Effect").and_then(Value::as_str) == Some("Allow")
            && st.get("Principal").is_some_and(principal_is_public)
            && st.get("Condition").is_none()
    })
}

/// Checks a policy document as S3 does on PUT; returns it parsed.
pub fn check_policy(text: &str, bucket: &str) -> Result<Value, AwsError> {
    let doc: Value = serde_json::from_str(text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| malformed("Policies must be valid JSON and the first byte must be '{'"))?;
    if let Some(version) = doc.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err(malformed("The policy must contain a valid version string"));
    }
    let statements = doc.get("Statement").ok_or_else(|| malformed("Missing required field Statement"))?;
    let statements = one_or_many(statements);
    if statements.is_empty() {
        return Err(malformed("Could not parse the policy: Statement is empty!"));
    }
    let arn = format!("arn:aws:s3:::{bucket}");
    for st in statements {
        if !st.is_object() {
            return Err(malformed("Statement is not a JSON object"));
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            Some(other) => return Err(malformed(format!("Invalid effect: {other}"))),
            None => return Err(malformed("Missing required field Effect")),
        }
        if st.get("Principal").is_none() && st.get("NotPrincipal").is_none() {
            return Err(malformed("Missing required field Principal"));
        }
        let actions = st
            .get("Action")
            .or_else(|| st.get("NotAction"))
            .ok_or_else(|| malformed("Missing required field Action"))?;
        for action in one_or_many(actions) {
            let ok = action.as_str().is_some_and(|a| a == "*" || a.to_ascii_lowercase().starts_with("s3:"));
            if !ok {
                return Err(malformed("Policy has invalid action"));
            }
        }
        let resources = st
            .get("Resource")
            .or_else(|| st.get("NotResource"))
            .ok_or_else(|| malformed("Missing required field Resource"))?;
        for resource in one_or_many(resources) {
            let ok = resource.as_str().is_some_and(|r| {
                r == arn || r.strip_prefix(arn.as_str()).is_some_and(|rest| rest.starts_with('/')) || r == "*"
            });
            if !ok {
                return Err(malformed("Policy has invalid resource"));
            }
        }
    }
    Ok(doc)
}

pub async fn put_bucket_policy(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: PutBucketPolicyRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    if input.policy.len() > 20 * 1024 {
        return Err(malformed("Policy exceeds the maximum allowed document size."));
    }
    let doc = check_policy(&input.policy, &bucket.name)?;
    if public_access_block(&bucket).block_public_policy == Some(true) && is_public(&doc) {
        return Err(AwsError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "User: arn:aws:iam::{}:root is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
                ctx.account_id, bucket.name
            ),
        ));
    }
    s3.update_settings(&bucket, |s| {
        s.config.insert(POLICY.to_owned(), Value::String(input.policy));
        Ok(())
    })
}

fn stored_policy(bucket: &Bucket) -> Result<String, AwsError> {
    match bucket.settings.read().config.get(POLICY) {
        Some(Value::String(p)) => Ok(p.clone()),
        _ => Err(AwsError::not_found("NoSuchBucketPolicy", "The bucket policy does not exist")
            .with_field("BucketName", bucket.name.clone())),
    }
}

pub async fn get_bucket_policy(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketPolicyRequest,
) -> Result<GetBucketPolicyOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    Ok(GetBucketPolicyOutput { policy: Some(stored_policy(&bucket)?) })
}

pub async fn delete_bucket_policy(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketPolicyRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, POLICY)?;
    Ok(())
}

pub async fn get_bucket_policy_status(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketPolicyStatusRequest,
) -> Result<GetBucketPolicyStatusOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let text = stored_policy(&bucket)?;
    let public = serde_json::from_str::<Value>(&text).is_ok_and(|doc| is_public(&doc))
        && public_access_block(&bucket).restrict_public_buckets != Some(true);
    Ok(GetBucketPolicyStatusOutput { policy_status: Some(PolicyStatus { is_public: Some(public) }) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert!(is_public(&check_policy(ok, "b").unwrap()));
        assert_eq!(check_policy("nope", "b").unwrap_err().code, "MalformedPolicy");
        assert_eq!(check_policy("[1]", "b").unwrap_err().code, "MalformedPolicy");
        assert_eq!(
            check_policy(r#"{"Version":"2012-10-17"}"#, "b").unwrap_err().message,
            "Missing required field Statement"
        );
        let other = ok.replace("arn:aws:s3:::b/*", "arn:aws:s3:::c/*");
        assert_eq!(check_policy(&other, "b").unwrap_err().message, "Policy has invalid resource");
        let bad_action = ok.replace("s3:GetObject", "sqs:SendMessage");
        assert_eq!(check_policy(&bad_action, "b").unwrap_err().message, "Policy has invalid action");
        let private = ok.replace("\"*\"", "{\"AWS\":\"arn:aws:iam::000000000000:root\"}");
        assert!(!is_public(&check_policy(&private, "b").unwrap()));
    }
}
