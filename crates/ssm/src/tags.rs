//! AddTagsToResource / RemoveTagsFromResource / ListTagsForResource for parameters (the only
//! resource type Parameter Store holds).

use crate::errors;
use crate::generated::types::*;
use crate::state::Ssm;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const MAX_TAGS: usize = 50;

/// Tag keys may not use the `aws:` prefix, and a resource holds at most 50 tags (`total` once
/// these are applied).
pub fn check_tags(tags: &[Tag], total: usize) -> Result<(), AwsError> {
    if tags.iter().any(|t| t.key.to_ascii_lowercase().starts_with("aws:")) {
        return Err(errors::validation("Tag keys beginning with 'aws:' are reserved."));
    }
    if total > MAX_TAGS {
        return Err(AwsError::bad_request("TooManyTagsError", "The Tag limit of 50 has been exceeded."));
    }
    Ok(())
}

fn check_type(resource_type: &str) -> Result<(), AwsError> {
    if resource_type == "Parameter" {
        return Ok(());
    }
    Err(AwsError::bad_request(
        "InvalidResourceType",
        "The resource type is not valid. For example, if you are attempting to tag an EC2 instance, the instance must be a registered managed node.",
    ))
}

pub async fn add_tags_to_resource(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: AddTagsToResourceRequest,
) -> Result<AddTagsToResourceResult, AwsError> {
    check_type(&input.resource_type)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let param = params.find(&input.resource_id).ok_or_else(errors::invalid_resource_id)?;
    let added = input.tags.iter().filter(|t| !param.tags.iter().any(|(k, _)| *k == t.key)).count();
    check_tags(&input.tags, param.tags.len() + added)?;
    let mut tags = param.tags.clone();
    for tag in input.tags {
        match tags.iter_mut().find(|(k, _)| *k == tag.key) {
            Some(existing) => existing.1 = tag.value,
            None => tags.push((tag.key, tag.value)),
        }
    }
    let labels = param.versions.iter().map(|v| v.labels.clone()).collect();
    let name = param.name.clone();
    params.set_tags_and_labels(&name, tags, labels)?;
    Ok(AddTagsToResourceResult {})
}

pub async fn remove_tags_from_resource(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: RemoveTagsFromResourceRequest,
) -> Result<RemoveTagsFromResourceResult, AwsError> {
    check_type(&input.resource_type)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let param = params.find(&input.resource_id).ok_or_else(errors::invalid_resource_id)?;
    let mut tags = param.tags.clone();
    tags.retain(|(k, _)| !input.tag_keys.contains(k));
    let labels = param.versions.iter().map(|v| v.labels.clone()).collect();
    let name = param.name.clone();
    params.set_tags_and_labels(&name, tags, labels)?;
    Ok(RemoveTagsFromResourceResult {})
}

pub async fn list_tags_for_resource(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResult, AwsError> {
    check_type(&input.resource_type)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    let param = params.find(&input.resource_id).ok_or_else(errors::invalid_resource_id)?;
    let tag_list = param.tags.iter().map(|(key, value)| Tag { key: key.clone(), value: value.clone() }).collect();
    Ok(ListTagsForResourceResult { tag_list: Some(tag_list) })
}
