//! Tags of log groups, by name (TagLogGroup, the older API) and by ARN (TagResource, which also
//! tags destinations, delivery sources, delivery destinations and deliveries).

use super::{group, invalid, update_group};
use crate::generated::types::*;
use crate::state::{LogGroup, LogsState, Region};
use ruststack_core::{AwsError, RequestContext};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Tags a log group can carry.
const MAX_TAGS: usize = 50;

/// A taggable resource other than a log group, by its ARN's resource part.
enum Other<'a> {
    Destination(&'a str),
    DeliverySource(&'a str),
    DeliveryDestination(&'a str),
    Delivery(&'a str),
}

fn missing() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified resource does not exist.")
}

/// The resource a non-log-group ARN of the caller's account and region names.
fn other_of_arn<'a>(ctx: &RequestContext, arn: &'a str) -> Option<Other<'a>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "logs", region, account, resource] = parts.as_slice() else { return None };
    if *region != &*ctx.region || *account != &*ctx.account_id {
        return None;
    }
    let (kind, name) = resource.split_once(':')?;
    match kind {
        "destination" => Some(Other::Destination(name)),
        "delivery-source" => Some(Other::DeliverySource(name)),
        "delivery-destination" => Some(Other::DeliveryDestination(name)),
        "delivery" => Some(Other::Delivery(name)),
        _ => None,
    }
}

fn to_map(tags: &Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.clone().unwrap_or_default().into_iter().collect()
}

/// The tags of a destination or delivery resource.
fn other_tags(region: &Region, other: &Other) -> Result<BTreeMap<String, String>, AwsError> {
    match other {
        Other::Destination(n) => region.destinations.get(*n).map(|d| d.tags.clone()),
        Other::DeliverySource(n) => region.deliveries.sources.get(*n).map(|s| to_map(&s.tags)),
        Other::DeliveryDestination(n) => region.deliveries.destinations.get(*n).map(|d| to_map(&d.destination.tags)),
        Other::Delivery(id) => region.deliveries.deliveries.get(*id).map(|d| to_map(&d.tags)),
    }
    .ok_or_else(missing)
}

/// Stores a destination or delivery resource with new tags, then updates the cache.
fn set_other_tags(
    state: &LogsState,
    region: &mut Region,
    other: &Other,
    tags: BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let as_map = || Some(tags.clone().into_iter().collect::<HashMap<_, _>>());
    match other {
        Other::Destination(n) => {
            let mut d = region.destinations.get(*n).ok_or_else(missing)?.clone();
            d.tags = tags.clone();
            state.commit(vec![region.put_destination(&d)])?;
            region.destinations.insert(n.to_string(), d);
        }
        Other::DeliverySource(n) => {
            let mut x = region.deliveries.sources.get(*n).ok_or_else(missing)?.clone();
            x.tags = as_map();
            state.commit(vec![region.put_delivery_record("source", n, &x)])?;
            region.deliveries.sources.insert(n.to_string(), x);
        }
        Other::DeliveryDestination(n) => {
            let mut x = region.deliveries.destinations.get(*n).ok_or_else(missing)?.clone();
            x.destination.tags = as_map();
            state.commit(vec![region.put_delivery_record("destination", n, &x)])?;
            region.deliveries.destinations.insert(n.to_string(), x);
        }
        Other::Delivery(id) => {
            let mut x = region.deliveries.deliveries.get(*id).ok_or_else(missing)?.clone();
            x.tags = as_map();
            state.commit(vec![region.put_delivery_record("delivery", id, &x)])?;
            region.deliveries.deliveries.insert(id.to_string(), x);
        }
    }
    Ok(())
}

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
    if let Some(other) = other_of_arn(&ctx, &input.resource_arn) {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut tags = other_tags(&region, &other)?;
        let new = input.tags.keys().filter(|k| !tags.contains_key(*k)).count();
        if tags.len() + new > MAX_TAGS {
            return Err(AwsError::bad_request(
                "TooManyTagsException",
                format!("A resource can have no more than {MAX_TAGS} tags."),
            )
            .with_field("resourceName", input.resource_arn.clone()));
        }
        tags.extend(input.tags);
        return set_other_tags(&state, &mut region, &other, tags);
    }
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
    if let Some(other) = other_of_arn(&ctx, &input.resource_arn) {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut tags = other_tags(&region, &other)?;
        input.tag_keys.iter().for_each(|k| {
            tags.remove(k);
        });
        return set_other_tags(&state, &mut region, &other, tags);
    }
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
    if let Some(other) = other_of_arn(&ctx, &input.resource_arn) {
        let region = state.region(&ctx.account_id, &ctx.region);
        let tags = other_tags(&region.read(), &other)?;
        return Ok(ListTagsForResourceResponse { tags: Some(tags.into_iter().collect()) });
    }
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
