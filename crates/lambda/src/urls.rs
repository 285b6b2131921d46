//! Function URL configs. The URL (`http://<id>.lambda-url.<region>.localhost.localstack.cloud:<port>/`)
//! is served by [`crate::raw`], which hands the function an API Gateway v2 event.

use crate::generated::types::*;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

fn url_id() -> String {
    (0..32).map(|_| fastrand::alphanumeric().to_ascii_lowercase()).collect()
}

fn port(host: &str) -> &str {
    host.rsplit_once(':').map(|(_, p)| p).filter(|p| p.bytes().all(|b| b.is_ascii_digit())).unwrap_or("4566")
}

/// The function and qualifier key a URL config belongs to (only `$LATEST` or an alias).
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
    match reference.qualifier.as_deref() {
        None => Ok((reference.name, String::new())),
        Some("$LATEST") => Ok((reference.name, "$LATEST".into())),
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => Err(invalid_param(
            "1 validation error detected: Value 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)|(^\\$LATEST$)",
        )),
        Some(q) if function.aliases.contains_key(q) => Ok((reference.name, q.to_owned())),
        Some(q) => Err(function_not_found(ctx, &reference.name, Some(q))),
    }
}

fn arn_of(ctx: &RequestContext, name: &str, key: &str) -> String {
    qualified_arn(ctx, name, (!key.is_empty()).then_some(key))
}

fn missing() -> AwsError {
    resource_not_found("The resource you requested does not exist.")
}

pub async fn create_function_url_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: CreateFunctionUrlConfigRequest,
) -> Result<CreateFunctionUrlConfigResponse, AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let arn = arn_of(&ctx, &name, &key);
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(&name).ok_or_else(|| function_not_found(&ctx, &name, None))?;
    if function.urls.contains_key(&key) {
        return Err(conflict(format!(
            "Failed to create function url config for [functionArn = {arn}]. Error message:  FunctionUrlConfig exists for this Lambda function"
        )));
    }
    let id = url_id();
    let now = now_iso();
    let config = UrlConfig {
        url: format!("http://{id}.lambda-url.{}.localhost.localstack.cloud:{}/", ctx.region, port(&ctx.host)),
        url_id: id.clone(),
        auth_type: input.auth_type.clone(),
        cors: input.cors.clone(),
        invoke_mode: input.invoke_mode.clone().unwrap_or_else(|| "BUFFERED".into()),
        created: now.clone(),
        modified: now,
    };
    let before = function.clone();
    function.urls.insert(key, config.clone());
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, Some(before))?;
    Ok(CreateFunctionUrlConfigResponse {
        function_url: config.url,
        function_arn: arn,
        auth_type: config.auth_type,
        cors: config.cors,
        creation_time: config.created,
        invoke_mode: Some(config.invoke_mode),
    })
}

pub async fn get_function_url_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionUrlConfigRequest,
) -> Result<GetFunctionUrlConfigResponse, AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let config = region.functions.get(&name).and_then(|f| f.urls.get(&key)).ok_or_else(missing)?;
    Ok(GetFunctionUrlConfigResponse {
        function_url: config.url.clone(),
        function_arn: arn_of(&ctx, &name, &key),
        auth_type: config.auth_type.clone(),
        cors: config.cors.clone(),
        creation_time: config.created.clone(),
        last_modified_time: config.modified.clone(),
        invoke_mode: Some(config.invoke_mode.clone()),
    })
}

pub async fn update_function_url_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateFunctionUrlConfigRequest,
) -> Result<UpdateFunctionUrlConfigResponse, AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.functions.get(&name).cloned();
    let config = region.functions.get_mut(&name).and_then(|f| f.urls.get_mut(&key)).ok_or_else(missing)?;
    if let Some(a) = input.auth_type {
        config.auth_type = a;
    }
    if let Some(c) = input.cors {
        config.cors = Some(c);
    }
    if let Some(m) = input.invoke_mode {
        config.invoke_mode = m;
    }
    config.modified = now_iso();
    let config = config.clone();
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    Ok(UpdateFunctionUrlConfigResponse {
        function_url: config.url.clone(),
        function_arn: arn_of(&ctx, &name, &key),
        auth_type: config.auth_type.clone(),
        cors: config.cors.clone(),
        creation_time: config.created.clone(),
        last_modified_time: config.modified.clone(),
        invoke_mode: Some(config.invoke_mode.clone()),
    })
}

pub async fn delete_function_url_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteFunctionUrlConfigRequest,
) -> Result<(), AwsError> {
    let (name, key) = target(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.functions.get(&name).cloned();
    region.functions.get_mut(&name).and_then(|f| f.urls.remove(&key)).ok_or_else(missing)?;
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    Ok(())
}

pub async fn list_function_url_configs(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListFunctionUrlConfigsRequest,
) -> Result<ListFunctionUrlConfigsResponse, AwsError> {
    let reference = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function =
        region.functions.get(&reference.name).ok_or_else(|| function_not_found(&ctx, &reference.name, None))?;
    let items: Vec<(String, FunctionUrlConfig)> = function
        .urls
        .iter()
        .map(|(key, c)| {
            let config = FunctionUrlConfig {
                function_url: c.url.clone(),
                function_arn: arn_of(&ctx, &reference.name, key),
                creation_time: c.created.clone(),
                last_modified_time: c.modified.clone(),
                cors: c.cors.clone(),
                auth_type: c.auth_type.clone(),
                invoke_mode: Some(c.invoke_mode.clone()),
            };
            (key.clone(), config)
        })
        .collect();
    let (function_url_configs, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListFunctionUrlConfigsResponse { function_url_configs, next_marker })
}
