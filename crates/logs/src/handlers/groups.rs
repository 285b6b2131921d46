//! Log groups: create, delete, describe, retention.

use super::{group, group_arn, invalid, name_token, parse_name_token, update_group};
use crate::generated::types::*;
use crate::state::{LogGroup, LogsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// The retention periods AWS accepts, in days.
pub const RETENTION_DAYS: [i32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub async fn create_log_group(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: CreateLogGroupRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if region.groups.contains_key(&input.log_group_name) {
        return Err(AwsError::bad_request("ResourceAlreadyExistsException", "The specified log group already exists"));
    }
    let mut group = LogGroup::new(input.log_group_name.clone(), now_millis());
    group.kms_key_id = input.kms_key_id;
    group.tags = input.tags.unwrap_or_default().into_iter().collect();
    group.deletion_protection = input.deletion_protection_enabled.unwrap_or(false);
    if let Some(class) = input.log_group_class {
        group.class = class;
    }
    state.commit(vec![region.put_group(&group)])?;
    region.groups.insert(input.log_group_name, group);
    Ok(())
}

pub async fn delete_log_group(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteLogGroupRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let group = group(&region, &input.log_group_name)?;
    if group.deletion_protection {
        return Err(AwsError::bad_request(
            "OperationAbortedException",
            "Log group deletion is not allowed because deletion protection is enabled.",
        ));
    }
    let freed = group.stored_bytes();
    let writes = region.delete_group(&*state.kv, group);
    state.commit(writes)?;
    region.groups.remove(&input.log_group_name);
    state.remove_stored(freed);
    Ok(())
}

pub async fn describe_log_groups(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeLogGroupsRequest,
) -> Result<DescribeLogGroupsResponse, AwsError> {
    if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
        return Err(invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."));
    }
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let after = input.next_token.as_deref().map(parse_name_token).transpose()?;
    let identifiers: Option<Vec<&str>> =
        input.log_group_identifiers.as_ref().map(|ids| ids.iter().map(|id| super::name_from_identifier(id)).collect());
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let start = match &after {
        Some(name) => std::ops::Bound::Excluded(name.as_str()),
        None => std::ops::Bound::Unbounded,
    };
    let mut groups = Vec::new();
    let mut next_token = None;
    let candidates = region.groups.range::<str, _>((start, std::ops::Bound::Unbounded)).map(|(_, g)| g).filter(|g| {
        input.log_group_name_prefix.as_deref().is_none_or(|p| g.name.starts_with(p))
            && input.log_group_name_pattern.as_deref().is_none_or(|p| g.name.contains(p))
            && input.log_group_class.as_deref().is_none_or(|c| g.class == c)
            && identifiers.as_ref().is_none_or(|ids| ids.contains(&g.name.as_str()))
    });
    for group in candidates {
        if groups.len() == limit {
            next_token = groups.last().map(|g: &LogGroupOut| name_token(g.log_group_name.as_deref().unwrap_or("")));
            break;
        }
        let mut out = describe(&ctx, group);
        if input.log_group_name_pattern.is_some() {
            // AWS answers pattern searches with the name, ARN and creation time only.
            out = LogGroupOut {
                log_group_name: out.log_group_name,
                creation_time: out.creation_time,
                arn: out.arn,
                ..Default::default()
            };
        }
        groups.push(out);
    }
    Ok(DescribeLogGroupsResponse { log_groups: Some(groups), next_token })
}

type LogGroupOut = crate::generated::types::LogGroup;

fn describe(ctx: &RequestContext, g: &LogGroup) -> LogGroupOut {
    let arn = group_arn(ctx, &g.name);
    LogGroupOut {
        log_group_name: Some(g.name.clone()),
        creation_time: Some(g.created),
        retention_in_days: g.retention_days,
        metric_filter_count: Some(g.metric_filters.len() as i32),
        arn: Some(format!("{arn}:*")),
        log_group_arn: Some(arn),
        stored_bytes: Some(g.stored_bytes() as i64),
        kms_key_id: g.kms_key_id.clone(),
        log_group_class: Some(g.class.clone()),
        deletion_protection_enabled: Some(g.deletion_protection),
        ..Default::default()
    }
}

pub async fn put_retention_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutRetentionPolicyRequest,
) -> Result<(), AwsError> {
    if !RETENTION_DAYS.contains(&input.retention_in_days) {
        let allowed: Vec<String> = RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
        return Err(invalid(format!(
            "1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: \
             Member must satisfy enum value set: [{}]",
            input.retention_in_days,
            allowed.join(", ")
        )));
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        g.retention_days = Some(input.retention_in_days);
        Ok(())
    })
}

pub async fn delete_retention_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteRetentionPolicyRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        g.retention_days = None;
        Ok(())
    })
}
