//! Resource policies attached to secrets.

use super::*;
use crate::generated::types::*;
use crate::state::SecretsState;
use ruststack_core::{AwsError, RequestContext};
use serde_json::Value;
use std::sync::Arc;

/// Whether a policy document allows anyone (`"Principal": "*"` or `{"AWS": "*"}`).
fn grants_public_access(doc: &Value) -> bool {
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.iter().any(|st| {
        let allow = st.get("Effect").and_then(Value::as_str) == Some("Allow");
        let principal = st.get("Principal");
        let everyone = |v: &Value| match v {
            Value::String(s) => s == "*",
            Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
            _ => false,
        };
        allow
            && principal.is_some_and(|p| match p {
                Value::Object(map) => map.get("AWS").is_some_and(everyone),
                other => everyone(other),
            })
    })
}

/// The policy document, or AWS's answer to one that is not JSON with statements.
fn parse_policy(text: &str) -> Result<Value, AwsError> {
    let malformed =
        || AwsError::bad_request("MalformedPolicyDocumentException", "This resource policy contains a syntax error.");
    let doc: Value = serde_json::from_str(text).map_err(|_| malformed())?;
    if !doc.is_object() || doc.get("Statement").is_none() {
        return Err(malformed());
    }
    Ok(doc)
}

pub async fn put_resource_policy(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: PutResourcePolicyRequest,
) -> Result<PutResourcePolicyResponse, AwsError> {
    // A replica refuses before its document is read.
    if let Ok(s) = find(&state.region(&ctx.account_id, &ctx.region).read(), &ctx, &input.secret_id) {
        not_on_replica(s)?;
    }
    let doc = parse_policy(&input.resource_policy)?;
    if input.block_public_policy.unwrap_or(false) && grants_public_access(&doc) {
        return Err(AwsError::bad_request(
            "PublicPolicyException",
            "This resource policy will grant public access to the secret.",
        ));
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    s.policy = Some(input.resource_policy);
    let out = PutResourcePolicyResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()), policy_name: None };
    region.save(s)?;
    Ok(out)
}

pub async fn get_resource_policy(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: GetResourcePolicyRequest,
) -> Result<GetResourcePolicyResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let s = find(&region, &ctx, &input.secret_id)?;
    not_on_replica(s)?;
    Ok(GetResourcePolicyResponse {
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        resource_policy: s.policy.clone(),
        policy_name: None,
    })
}

pub async fn delete_resource_policy(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: DeleteResourcePolicyRequest,
) -> Result<DeleteResourcePolicyResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    s.policy = None;
    let out = DeleteResourcePolicyResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()), policy_name: None };
    region.save(s)?;
    Ok(out)
}

/// Checks a policy before it is attached: its syntax (a malformed document is refused as in
/// PutResourcePolicy) and, when a secret is named, that the secret exists. AWS's further
/// analysis (Zelkova's broad-access check) is not reproduced: a well-formed policy passes.
pub async fn validate_resource_policy(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: ValidateResourcePolicyRequest,
) -> Result<ValidateResourcePolicyResponse, AwsError> {
    if let Some(id) = &input.secret_id {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        find(&region, &ctx, id)?;
    }
    parse_policy(&input.resource_policy)?;
    Ok(ValidateResourcePolicyResponse { policy_validation_passed: Some(true), validation_errors: Some(Vec::new()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_principals_are_detected() {
        let public = serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "x"}]});
        let star = serde_json::json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "x"}});
        let private =
            serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}]});
        let deny = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": "*"}]});
        assert!(grants_public_access(&public));
        assert!(grants_public_access(&star));
        assert!(!grants_public_access(&private));
        assert!(!grants_public_access(&deny));
    }
}
