//! Resource policies: AddPermission, RemovePermission and GetPolicy.

use crate::generated::types::*;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) fn principal(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{p}:root") })
    } else if p.ends_with(".amazonaws.com") || p.ends_with(".amazon.com") {
        json!({ "Service": p })
    } else {
        json!({ "AWS": p })
    }
}

/// Checks the function and qualifier exist; returns the function name and policy key.
async fn target(
    lambda: &Lambda,
    ctx: &RequestContext,
    function_name: &str,
    qualifier: Option<&str>,
) -> Result<(String, String), AwsError> {
    let reference = parse_function_name(function_name, qualifier)?;
    let region = lambda.region(ctx).await?;
    let region = region.read();
    let function =
        region.functions.get(&reference.name).ok_or_else(|| function_not_found(ctx, &reference.name, None))?;
    if function.resolve(reference.qualifier.as_deref()).is_none() {
        return Err(function_not_found(ctx, &reference.name, reference.qualifier.as_deref()));
    }
    Ok((reference.name, reference.qualifier.unwrap_or_default()))
}

pub async fn add_permission(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: AddPermissionRequest,
) -> Result<AddPermissionResponse, AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let resource = qualified_arn(&ctx, &name, (!key.is_empty()).then_some(key.as_str()));
    let action = if input.action.contains(':') || input.action == "*" {
        input.action.clone()
    } else {
        format!("lambda:{}", input.action)
    };
    let mut condition = serde_json::Map::new();
    let mut string_equals = serde_json::Map::new();
    if let Some(account) = &input.source_account {
        string_equals.insert("AWS:SourceAccount".into(), json!(account));
    }
    if let Some(org) = &input.principal_org_id {
        string_equals.insert("aws:PrincipalOrgID".into(), json!(org));
    }
    if let Some(auth) = &input.function_url_auth_type {
        string_equals.insert("lambda:FunctionUrlAuthType".into(), json!(auth));
    }
    if let Some(token) = &input.event_source_token {
        string_equals.insert("lambda:EventSourceToken".into(), json!(token));
    }
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = &input.source_arn {
        condition.insert("ArnLike".into(), json!({ "AWS:SourceArn": arn }));
    }
    let mut statement = json!({
        "Sid": input.statement_id,
        "Effect": "Allow",
        "Principal": principal(&input.principal),
        "Action": action,
        "Resource": resource,
    });
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let before = function.clone();
    let current_revision = function.policy_revisions.get(&key).cloned();
    if let Some(r) = &input.revision_id
        && current_revision.as_ref().is_some_and(|c| c != r)
    {
        return Err(precondition_failed());
    }
    let statements = function.policies.entry(key.clone()).or_default();
    if statements.iter().any(|s| s["Sid"] == input.statement_id.as_str()) {
        return Err(duplicate_statement(&input.statement_id));
    }
    statements.push(statement.clone());
    function.policy_revisions.insert(key, uuid());
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(AddPermissionResponse { statement: Some(statement.to_string()) })
}

/// AWS's answer to a statement id already in a resource policy.
pub(crate) fn duplicate_statement(sid: &str) -> AwsError {
    conflict(format!(
        "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
    ))
}

pub async fn remove_permission(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: RemovePermissionRequest,
) -> Result<(), AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let snapshot = function.clone();
    if let Some(r) = &input.revision_id
        && function.policy_revisions.get(&key).is_some_and(|c| c != r)
    {
        return Err(precondition_failed());
    }
    let Some(statements) = function.policies.get_mut(&key).filter(|s| !s.is_empty()) else {
        return Err(resource_not_found("No policy is associated with the given resource."));
    };
    let before = statements.len();
    statements.retain(|s| s["Sid"] != input.statement_id.as_str());
    if statements.len() == before {
        return Err(resource_not_found(format!("Statement {} is not found in resource policy.", input.statement_id)));
    }
    function.policy_revisions.insert(key, uuid());
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(snapshot))?;
    Ok(())
}

pub async fn get_policy(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetPolicyRequest,
) -> Result<GetPolicyResponse, AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let Some(statements) = function.policies.get(&key).filter(|s| !s.is_empty()) else {
        return Err(resource_not_found("The resource you requested does not exist."));
    };
    let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
    Ok(GetPolicyResponse {
        policy: Some(policy.to_string()),
        revision_id: function.policy_revisions.get(&key).cloned(),
    })
}
