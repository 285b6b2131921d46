//! Tags of log groups, by name (TagLogGroup, the older API) and by ARN (TagResource).

use super::{group, invalid, update_group};
use crate::generated::types::*;
use crate::state::{LogGroup, LogsState};
use ruststack_core::{AwsError, RequestContext};
use std::collections::HashMap;
use std::sync::Arc;

/// Tags a log group can carry.
const MAX_TAGS: usize = 50;

/// The log group name in a taggable ARN (`arn:aws:logs:<region>:<account>:log-group:<name>`) of
/// the caller's account and region.
fn group_of_arn<'a>(ctx: &RequestContext, arn: &'a str) -> Result<&'a str, AwsError> {
    let missing = || AwsError::bad_request("ResourceNotFoundException", "The specified resource does not exist.");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, account, resource] => {
            if *region != &*ctx.region || *account != &*ctx.account_id {
                return Err(missing());
            }
            match resource.strip_prefix("log-group:") {
                Some(name) => Ok(name.strip_suffix(":*").unwrap_or(name)),
                None => Err(missing()),
            }
        }
        _ => Err(invalid(format!("Invalid ARN: {arn}"))),
    }
}

fn add_tags(group: &mut LogGroup, tags: HashMap<String, String>) -> Result<(), AwsError> {
    let new = tags.keys().filter(|k| !group.tags.contains_key(*k)).count();
    if group.tags.len() + new > MAX_TAGS {
        return Err(AwsError::bad_request(
            "TooManyTagsException",
            format!("A resource can have no more than {MAX_TAGS} tags."),
        )
        .with_field("resourceName", group.name.clone()));
    }
    group.tags.extend(tags);
    Ok(())
}

fn tags_of(group: &LogGroup) -> Option<HashMap<String, String>> {
    Some(group.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

pub async fn tag_log_group(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: TagLogGroupRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| add_tags(g, input.tags))
}

pub async fn untag_log_group(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: UntagLogGroupRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        input.tags.iter().for_each(|k| {
            g.tags.remove(k);
        });
        Ok(())
    })
}

pub async fn list_tags_log_group(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: ListTagsLogGroupRequest,
) -> Result<ListTagsLogGroupResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    Ok(ListTagsLogGroupResponse { tags: tags_of(group(&region, &input.log_group_name)?) })
}

pub async fn tag_resource(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: TagResourceRequest,
) -> Result<(), AwsError> {
    let name = group_of_arn(&ctx, &input.resource_arn)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, name, |g| add_tags(g, input.tags))
}

pub async fn untag_resource(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: UntagResourceRequest,
) -> Result<(), AwsError> {
    let name = group_of_arn(&ctx, &input.resource_arn)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, name, |g| {
        input.tag_keys.iter().for_each(|k| {
            g.tags.remove(k);
        });
        Ok(())
    })
}

pub async fn list_tags_for_resource(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, AwsError> {
    let name = group_of_arn(&ctx, &input.resource_arn)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    Ok(ListTagsForResourceResponse { tags: tags_of(group(&region, name)?) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_log_groups() {
        let ctx = RequestContext::for_tests("TagResource");
        assert_eq!(group_of_arn(&ctx, "arn:aws:logs:us-east-1:000000000000:log-group:/a/b").unwrap(), "/a/b");
        assert_eq!(group_of_arn(&ctx, "arn:aws:logs:us-east-1:000000000000:log-group:/a/b:*").unwrap(), "/a/b");
        let other_account = group_of_arn(&ctx, "arn:aws:logs:us-east-1:111111111111:log-group:/a/b");
        assert_eq!(other_account.unwrap_err().code, "ResourceNotFoundException");
        let destination = group_of_arn(&ctx, "arn:aws:logs:us-east-1:000000000000:destination:d");
        assert_eq!(destination.unwrap_err().code, "ResourceNotFoundException");
        assert_eq!(group_of_arn(&ctx, "nope").unwrap_err().code, "InvalidParameterException");
    }
}
