//! PublishVersion and ListVersionsByFunction: a version is an immutable copy of `$LATEST`.

use crate::generated::types::*;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Publishes `$LATEST` as the next version, or returns the last version when `$LATEST` has not
/// changed since it was published.
pub fn publish(function: &mut Function, ctx: &RequestContext, description: Option<&str>) -> Arc<Version> {
    let latest = function.latest.clone();
    if let Some((revision, number)) = function.last_published
        && revision == latest.revision
        && let Some(existing) = function.versions.get(&number)
    {
        return existing.clone();
    }
    let number = function.next_version;
    function.next_version += 1;
    let mut config = latest.config.clone();
    let name = latest.name().to_owned();
    config.version = Some(number.to_string());
    config.function_arn = Some(qualified_arn(ctx, &name, Some(&number.to_string())));
    config.revision_id = Some(uuid());
    config.last_modified = Some(now_iso());
    if let Some(d) = description {
        config.description = Some(d.to_owned());
    }
    let version = Arc::new(Version {
        config,
        code: latest.code.clone(),
        opt: latest.opt.clone(),
        revision: next_revision(),
        account: latest.account.clone(),
        region: latest.region.clone(),
    });
    function.versions.insert(number, version.clone());
    function.last_published = Some((latest.revision, number));
    version
}

pub async fn publish_version(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: PublishVersionRequest,
) -> Result<FunctionConfiguration, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, None)?;
    if qualifier.is_some() {
        return Err(invalid_param("Qualifier is not supported for PublishVersion."));
    }
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    if input.revision_id.as_deref().is_some_and(|r| Some(r) != function.latest.config.revision_id.as_deref()) {
        return Err(precondition_failed());
    }
    let current = function.latest.config.code_sha256.clone().unwrap_or_default();
    if let Some(sha) = input.code_sha256.as_deref().filter(|s| *s != current) {
        return Err(invalid_param(format!(
            "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({current}). Please try again with the CodeSHA256 from your last update."
        )));
    }
    if function.latest.config.last_update_status.as_deref() == Some("InProgress") {
        return Err(conflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {}",
            function_arn(&ctx, &name)
        )));
    }
    let before = function.clone();
    let out = publish(function, &ctx, input.description.as_deref()).config.clone();
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(out)
}

pub async fn list_versions_by_function(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListVersionsByFunctionRequest,
) -> Result<ListVersionsByFunctionResponse, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let items: Vec<(String, FunctionConfiguration)> = {
        let region = region.read();
        let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
        // $LATEST sorts first (version numbers start at 1); markers are these opaque keys.
        let latest = crate::functions::with_arn_qualifier(function.latest.config.clone(), Some("$LATEST"));
        let mut items = vec![(format!("{:010}", 0), latest)];
        items.extend(function.versions.iter().map(|(n, v)| (format!("{n:010}"), v.config.clone())));
        items
    };
    let (versions, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListVersionsByFunctionResponse { versions: Some(versions), next_marker })
}
