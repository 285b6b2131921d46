//! Tags on users, roles, managed policies and instance profiles (keys case-insensitive, 50 each).

use crate::errors::{invalid_input, tag_limit};
use crate::generated::types::*;
use crate::paging::{Page, page};
use crate::state::{Account, key, tags_out};
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const MAX_TAGS: usize = 50;

/// Adds or replaces `new` in `tags`, all or nothing.
pub fn apply(tags: &mut Vec<(String, String)>, new: Vec<Tag>) -> Result<(), AwsError> {
    let mut seen = std::collections::HashSet::new();
    if !new.iter().all(|t| seen.insert(key(&t.key))) {
        return Err(invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive."));
    }
    let mut merged = tags.clone();
    for tag in new {
        match merged.iter_mut().find(|(k, _)| key(k) == key(&tag.key)) {
            Some(existing) => *existing = (tag.key, tag.value),
            None => merged.push((tag.key, tag.value)),
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(tag_limit());
    }
    *tags = merged;
    Ok(())
}

pub fn remove(tags: &mut Vec<(String, String)>, keys: &[String]) {
    tags.retain(|(k, _)| !keys.iter().any(|r| key(r) == key(k)));
}

pub fn listed(tags: &[(String, String)], marker: Option<&str>, max: Option<i32>) -> Page<Tag> {
    let (items, next) = page(tags_out(tags).into_iter().enumerate().map(|(i, t)| (format!("{i:05}"), t)), marker, max);
    (items, Some(next.is_some()), next)
}

fn managed<'a>(a: &'a mut Account, arn: &str) -> Result<&'a mut Vec<(String, String)>, AwsError> {
    a.policies
        .get_mut(arn)
        .map(|p| &mut p.tags)
        .ok_or_else(|| crate::errors::no_such_entity(format!("Policy {arn} was not found.")))
}

pub async fn tag_user(_: Arc<Iam>, ctx: RequestContext, i: TagUserRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| apply(&mut a.user_mut(&i.user_name)?.common.tags, i.tags))
}

pub async fn untag_user(_: Arc<Iam>, ctx: RequestContext, i: UntagUserRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| {
        remove(&mut a.user_mut(&i.user_name)?.common.tags, &i.tag_keys);
        Ok(())
    })
}

pub async fn list_user_tags(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListUserTagsRequest,
) -> Result<ListUserTagsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let (tags, is_truncated, marker) = listed(&a.user(&i.user_name)?.common.tags, i.marker.as_deref(), i.max_items);
    Ok(ListUserTagsResponse { tags, is_truncated, marker })
}

pub async fn tag_role(_: Arc<Iam>, ctx: RequestContext, i: TagRoleRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| apply(&mut a.role_mut(&i.role_name)?.common.tags, i.tags))
}

pub async fn untag_role(_: Arc<Iam>, ctx: RequestContext, i: UntagRoleRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| {
        remove(&mut a.role_mut(&i.role_name)?.common.tags, &i.tag_keys);
        Ok(())
    })
}

pub async fn list_role_tags(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListRoleTagsRequest,
) -> Result<ListRoleTagsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let (tags, is_truncated, marker) = listed(&a.role(&i.role_name)?.common.tags, i.marker.as_deref(), i.max_items);
    Ok(ListRoleTagsResponse { tags, is_truncated, marker })
}

pub async fn tag_policy(_: Arc<Iam>, ctx: RequestContext, i: TagPolicyRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| apply(managed(a, &i.policy_arn)?, i.tags))
}

pub async fn untag_policy(_: Arc<Iam>, ctx: RequestContext, i: UntagPolicyRequest) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| {
        remove(managed(a, &i.policy_arn)?, &i.tag_keys);
        Ok(())
    })
}

pub async fn list_policy_tags(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListPolicyTagsRequest,
) -> Result<ListPolicyTagsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let policy = a
        .policies
        .get(&i.policy_arn)
        .ok_or_else(|| crate::errors::no_such_entity(format!("Policy {} was not found.", i.policy_arn)))?;
    let (tags, is_truncated, marker) = listed(&policy.tags, i.marker.as_deref(), i.max_items);
    Ok(ListPolicyTagsResponse { tags, is_truncated, marker })
}

pub async fn tag_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: TagInstanceProfileRequest,
) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| apply(&mut a.profile_mut(&i.instance_profile_name)?.tags, i.tags))
}

pub async fn untag_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UntagInstanceProfileRequest,
) -> Result<(), AwsError> {
    crate::state::mutate(&ctx, |a| {
        remove(&mut a.profile_mut(&i.instance_profile_name)?.tags, &i.tag_keys);
        Ok(())
    })
}

pub async fn list_instance_profile_tags(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListInstanceProfileTagsRequest,
) -> Result<ListInstanceProfileTagsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let (tags, is_truncated, marker) =
        listed(&a.profile(&i.instance_profile_name)?.tags, i.marker.as_deref(), i.max_items);
    Ok(ListInstanceProfileTagsResponse { tags, is_truncated, marker })
}
