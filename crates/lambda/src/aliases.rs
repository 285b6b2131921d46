//! Aliases: named pointers to a version, optionally splitting traffic with a second version.

use crate::generated::types::*;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

fn alias_arn(ctx: &RequestContext, function: &str, alias: &str) -> String {
    qualified_arn(ctx, function, Some(alias))
}

fn answer(ctx: &RequestContext, function: &str, alias: &Alias) -> AliasConfiguration {
    AliasConfiguration {
        alias_arn: Some(alias_arn(ctx, function, &alias.name)),
        name: Some(alias.name.clone()),
        function_version: Some(alias.function_version.clone()),
        description: Some(alias.description.clone()),
        routing_config: alias.routing.clone(),
        revision_id: Some(alias.revision_id.clone()),
    }
}

/// Checks the primary version and the routing weights against the function's versions.
fn check_targets(
    ctx: &RequestContext,
    function: &Function,
    name: &str,
    version: &str,
    routing: Option<&AliasRoutingConfiguration>,
) -> Result<(), AwsError> {
    if function.version_of(version).is_none() {
        return Err(function_not_found(ctx, name, Some(version)));
    }
    let Some(weights) = routing.and_then(|r| r.additional_version_weights.as_ref()) else { return Ok(()) };
    if weights.is_empty() {
        return Ok(());
    }
    if weights.len() > 1 {
        return Err(invalid_param("Number of items in AdditionalVersionWeights cannot be greater than 1"));
    }
    if version == "$LATEST" || weights.contains_key("$LATEST") {
        return Err(invalid_param("$LATEST is not supported for an alias pointing to more than 1 version"));
    }
    for (v, w) in weights {
        if v == version {
            return Err(invalid_param(format!(
                "Invalid function version {v}. Function version {v} is already included in routing configuration."
            )));
        }
        if !(0.0..=1.0).contains(w) {
            return Err(validation(
                w,
                "routingConfig.additionalVersionWeights",
                "Member must have value less than or equal to 1.0",
            ));
        }
        if function.version_of(v).is_none() {
            return Err(function_not_found(ctx, name, Some(v)));
        }
    }
    Ok(())
}

fn check_alias_name(name: &str) -> Result<(), AwsError> {
    if name.bytes().all(|b| b.is_ascii_digit()) || name == "$LATEST" {
        return Err(validation(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        ));
    }
    Ok(())
}

pub async fn create_alias(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: CreateAliasRequest,
) -> Result<AliasConfiguration, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    check_alias_name(&input.name)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    check_targets(&ctx, function, &name, &input.function_version, input.routing_config.as_ref())?;
    if function.aliases.contains_key(&input.name) {
        return Err(conflict(format!("Alias already exists: {}", alias_arn(&ctx, &name, &input.name))));
    }
    let alias = Alias {
        name: input.name.clone(),
        function_version: input.function_version,
        description: input.description.unwrap_or_default(),
        routing: input.routing_config,
        revision_id: uuid(),
    };
    let out = answer(&ctx, &name, &alias);
    let before = function.clone();
    function.aliases.insert(input.name, alias);
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(out)
}

pub async fn get_alias(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetAliasRequest,
) -> Result<AliasConfiguration, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let alias = function
        .aliases
        .get(&input.name)
        .ok_or_else(|| resource_not_found(format!("Cannot find alias arn: {}", alias_arn(&ctx, &name, &input.name))))?;
    Ok(answer(&ctx, &name, alias))
}

pub async fn update_alias(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateAliasRequest,
) -> Result<AliasConfiguration, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let Some(current) = function.aliases.get(&input.name) else {
        return Err(resource_not_found(format!("Cannot find alias arn: {}", alias_arn(&ctx, &name, &input.name))));
    };
    if input.revision_id.as_deref().is_some_and(|r| r != current.revision_id) {
        return Err(precondition_failed());
    }
    let version = input.function_version.clone().unwrap_or_else(|| current.function_version.clone());
    let routing = input.routing_config.clone().or_else(|| current.routing.clone());
    check_targets(&ctx, function, &name, &version, routing.as_ref())?;
    let before = function.clone();
    let alias = function.aliases.get_mut(&input.name).expect("checked");
    alias.function_version = version;
    alias.routing = routing;
    if let Some(d) = input.description {
        alias.description = d;
    }
    alias.revision_id = uuid();
    let out = answer(&ctx, &name, alias);
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(out)
}

pub async fn delete_alias(lambda: Arc<Lambda>, ctx: RequestContext, input: DeleteAliasRequest) -> Result<(), AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let before = function.clone();
    function.aliases.remove(&input.name);
    function.urls.remove(&input.name);
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(())
}

pub async fn list_aliases(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListAliasesRequest,
) -> Result<ListAliasesResponse, AwsError> {
    let FunctionRef { name, .. } = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function = region.functions.get(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    let items: Vec<(String, AliasConfiguration)> = function
        .aliases
        .values()
        .filter(|a| input.function_version.as_deref().is_none_or(|v| a.function_version == v))
        .map(|a| (a.name.clone(), answer(&ctx, &name, a)))
        .collect();
    let (aliases, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListAliasesResponse { aliases: Some(aliases), next_marker })
}

/// The version an invocation through `alias` runs: the primary one, or the additional one with
/// its weight's probability.
pub fn pick_version(alias: &Alias) -> String {
    if let Some((version, weight)) =
        alias.routing.as_ref().and_then(|r| r.additional_version_weights.as_ref()).and_then(|w| w.iter().next())
        && fastrand::f64() < *weight
    {
        return version.clone();
    }
    alias.function_version.clone()
}
