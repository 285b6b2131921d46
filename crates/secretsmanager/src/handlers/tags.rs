//! Tags of secrets.

use super::*;
use crate::generated::types::*;
use crate::state::SecretsState;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Tags a secret can carry.
const MAX_TAGS: usize = 50;

/// Adds or replaces tags, keeping their order of first appearance.
pub(crate) fn merge(secret: &mut Secret, tags: Vec<Tag>) -> Result<(), AwsError> {
    for tag in tags {
        let key = tag.key.unwrap_or_default();
        if key.is_empty() {
            return Err(invalid_parameter("You must provide a tag key."));
        }
        if key.starts_with("aws:") {
            return Err(invalid_parameter("Invalid tag key: the aws: prefix is reserved for AWS use."));
        }
        let value = tag.value.unwrap_or_default();
        match secret.tags.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => secret.tags.push((key, value)),
        }
    }
    if secret.tags.len() > MAX_TAGS {
        return Err(invalid_parameter(format!("A secret can have at most {MAX_TAGS} tags.")));
    }
    Ok(())
}

pub async fn tag_resource(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: TagResourceRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    merge(&mut s, input.tags)?;
    region.save(s)
}

pub async fn untag_resource(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: UntagResourceRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    s.tags.retain(|(k, _)| !input.tag_keys.contains(k));
    region.save(s)
}
