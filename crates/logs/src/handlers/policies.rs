//! Resource policies (account-wide by name, or on one log group by ARN) and destinations for
//! cross-account subscriptions. Both are stored and described, not enforced.

use super::{group, invalid, name_from_identifier, name_token, parse_name_token};
use crate::generated::types::*;
use crate::state::{self, LogsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Account-wide resource policies a region can hold (AWS's fixed quota).
const MAX_POLICIES: usize = 10;

fn revision_id() -> String {
    format!("{:032x}", fastrand::u128(..))
}

fn render_policy(p: &state::ResourcePolicy) -> ResourcePolicy {
    ResourcePolicy {
        policy_name: p.name.clone(),
        policy_document: Some(p.document.clone()),
        last_updated_time: Some(p.updated),
        policy_scope: Some(if p.resource_arn.is_some() { "RESOURCE" } else { "ACCOUNT" }.into()),
        resource_arn: p.resource_arn.clone(),
        revision_id: Some(p.revision.clone()),
    }
}

fn policy_not_found(name: &str) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", format!("Policy with name [{name}] does not exist"))
}

/// The key of the policy a request names (`policyName` or `resourceArn`, exactly one).
fn policy_key(name: &Option<String>, arn: &Option<String>) -> Result<String, AwsError> {
    let probe = state::ResourcePolicy {
        name: name.clone(),
        resource_arn: arn.clone(),
        document: String::new(),
        updated: 0,
        revision: String::new(),
    };
    match (name, arn) {
        (Some(_), Some(_)) => Err(invalid("policyName and resourceArn are mutually exclusive parameters.")),
        (None, None) => Err(invalid("Either policyName or resourceArn must be specified.")),
        _ => Ok(probe.key()),
    }
}

fn check_revision(expected: &Option<String>, current: Option<&state::ResourcePolicy>) -> Result<(), AwsError> {
    match (expected, current) {
        (Some(e), Some(p)) if *e != p.revision => Err(AwsError::bad_request(
            "OperationAbortedException",
            "The expected revision id does not match the current revision id of the policy.",
        )),
        _ => Ok(()),
    }
}

pub async fn put_resource_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutResourcePolicyRequest,
) -> Result<PutResourcePolicyResponse, AwsError> {
    let key = policy_key(&input.policy_name, &input.resource_arn)?;
    let Some(document) = input.policy_document else {
        return Err(invalid("policyDocument must be specified."));
    };
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if let Some(arn) = &input.resource_arn {
        group(&region, name_from_identifier(arn))?;
    }
    let current = region.policies.get(&key);
    check_revision(&input.expected_revision_id, current)?;
    let account_wide = region.policies.values().filter(|p| p.resource_arn.is_none()).count();
    if current.is_none() && input.resource_arn.is_none() && account_wide >= MAX_POLICIES {
        return Err(AwsError::bad_request("LimitExceededException", "Resource limit exceeded."));
    }
    let policy = state::ResourcePolicy {
        name: input.policy_name,
        resource_arn: input.resource_arn,
        document,
        updated: now_millis(),
        revision: revision_id(),
    };
    state.commit(vec![region.put_policy(&policy)])?;
    let out = render_policy(&policy);
    region.policies.insert(key, policy);
    Ok(PutResourcePolicyResponse { revision_id: out.revision_id.clone(), resource_policy: Some(out) })
}

pub async fn delete_resource_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteResourcePolicyRequest,
) -> Result<(), AwsError> {
    let key = policy_key(&input.policy_name, &input.resource_arn)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let Some(current) = region.policies.get(&key) else {
        return Err(policy_not_found(input.policy_name.as_deref().or(input.resource_arn.as_deref()).unwrap_or("")));
    };
    check_revision(&input.expected_revision_id, Some(current))?;
    state.commit(vec![region.delete_policy(&key)])?;
    region.policies.remove(&key);
    Ok(())
}

pub async fn describe_resource_policies(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeResourcePoliciesRequest,
) -> Result<DescribeResourcePoliciesResponse, AwsError> {
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let after = input.next_token.as_deref().map(parse_name_token).transpose()?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    // Without a resource ARN AWS lists the account-wide policies.
    let matching = region
        .policies
        .iter()
        .filter(|(_, p)| match &input.resource_arn {
            Some(arn) => p.resource_arn.as_deref().map(name_from_identifier) == Some(name_from_identifier(arn)),
            None => p.resource_arn.is_none(),
        })
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k.as_str() > a.as_str()));
    let mut policies = Vec::new();
    let mut last = None;
    let mut next_token = None;
    for (k, p) in matching {
        if policies.len() == limit {
            next_token = last.map(name_token);
            break;
        }
        policies.push(render_policy(p));
        last = Some(k.as_str());
    }
    // Creation order for account-wide policies is the order clients expect; keys sort by name,
    // which is the order AWS lists them in too.
    Ok(DescribeResourcePoliciesResponse { resource_policies: Some(policies), next_token })
}

fn destination_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified destination does not exist.")
}

fn render_destination(d: &state::Destination) -> Destination {
    Destination {
        destination_name: Some(d.name.clone()),
        target_arn: Some(d.target_arn.clone()),
        role_arn: Some(d.role_arn.clone()),
        access_policy: d.access_policy.clone(),
        arn: Some(d.arn.clone()),
        creation_time: Some(d.created),
    }
}

pub async fn put_destination(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutDestinationRequest,
) -> Result<PutDestinationResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    // Putting an existing destination changes its target and role and keeps the rest.
    let destination = match region.destinations.get(&input.destination_name) {
        Some(d) => state::Destination { target_arn: input.target_arn, role_arn: input.role_arn, ..d.clone() },
        None => state::Destination {
            arn: ctx.arn("logs", &format!("destination:{}", input.destination_name)),
            name: input.destination_name.clone(),
            target_arn: input.target_arn,
            role_arn: input.role_arn,
            access_policy: None,
            created: now_millis(),
            tags: input.tags.unwrap_or_default().into_iter().collect(),
        },
    };
    state.commit(vec![region.put_destination(&destination)])?;
    let out = render_destination(&destination);
    region.destinations.insert(input.destination_name, destination);
    Ok(PutDestinationResponse { destination: Some(out) })
}

pub async fn put_destination_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutDestinationPolicyRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let current = region.destinations.get(&input.destination_name).ok_or_else(destination_not_found)?;
    let updated = state::Destination { access_policy: Some(input.access_policy), ..current.clone() };
    state.commit(vec![region.put_destination(&updated)])?;
    region.destinations.insert(input.destination_name, updated);
    Ok(())
}

pub async fn delete_destination(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteDestinationRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if !region.destinations.contains_key(&input.destination_name) {
        return Err(destination_not_found());
    }
    state.commit(vec![region.delete_destination(&input.destination_name)])?;
    region.destinations.remove(&input.destination_name);
    Ok(())
}

pub async fn describe_destinations(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeDestinationsRequest,
) -> Result<DescribeDestinationsResponse, AwsError> {
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let after = input.next_token.as_deref().map(parse_name_token).transpose()?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let mut destinations: Vec<Destination> = region
        .destinations
        .values()
        .filter(|d| input.destination_name_prefix.as_deref().is_none_or(|p| d.name.starts_with(p)))
        .filter(|d| after.as_ref().is_none_or(|a| d.name > *a))
        .take(limit + 1)
        .map(render_destination)
        .collect();
    let next_token = (destinations.len() > limit).then(|| {
        destinations.truncate(limit);
        name_token(destinations.last().and_then(|d| d.destination_name.as_deref()).unwrap_or(""))
    });
    Ok(DescribeDestinationsResponse { destinations: Some(destinations), next_token })
}
