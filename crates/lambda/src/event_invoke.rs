//! Asynchronous invocation settings (Put/Get/Update/Delete/ListFunctionEventInvokeConfig) and
//! what happens after an Event invocation: retries, then the OnSuccess / OnFailure destination
//! and the dead-letter queue. SQS targets receive the record AWS sends; other target types are
//! logged and skipped.

use crate::generated::types::*;
use crate::loopback;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use serde_json::json;
use std::sync::Arc;

/// The key of a qualifier's settings (`$LATEST` for an unqualified function).
async fn key_of(
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
    if function.resolve(reference.qualifier.as_deref()).is_none() {
        return Err(function_not_found(ctx, &reference.name, reference.qualifier.as_deref()));
    }
    Ok((reference.name, reference.qualifier.unwrap_or_else(|| "$LATEST".into())))
}

fn missing(ctx: &RequestContext, name: &str, key: &str) -> AwsError {
    resource_not_found(format!(
        "The function {} doesn't have an EventInvokeConfig",
        qualified_arn(ctx, name, Some(key))
    ))
}

fn check_destinations(config: Option<&DestinationConfig>) -> Result<(), AwsError> {
    let Some(config) = config else { return Ok(()) };
    let arns = [
        config.on_success.as_ref().and_then(|d| d.destination.as_deref()),
        config.on_failure.as_ref().and_then(|d| d.destination.as_deref()),
    ];
    for arn in arns.into_iter().flatten() {
        let service = arn.split(':').nth(2).unwrap_or_default();
        if !arn.starts_with("arn:") || !matches!(service, "sqs" | "sns" | "lambda" | "events" | "s3") {
            return Err(invalid_param(format!("The destination ARN {arn} is invalid.")));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn store(
    lambda: &Lambda,
    ctx: &RequestContext,
    name: &str,
    key: &str,
    retries: Option<i32>,
    age: Option<i32>,
    destinations: Option<DestinationConfig>,
    must_exist: bool,
) -> Result<FunctionEventInvokeConfig, AwsError> {
    check_destinations(destinations.as_ref())?;
    let region = lambda.region(ctx).await?;
    let mut region = region.write();
    let function = region.functions.get_mut(name).ok_or_else(|| function_not_found(ctx, name, None))?;
    let before = function.clone();
    let existing = function.event_invoke.get(key).cloned();
    if must_exist && existing.is_none() {
        return Err(missing(ctx, name, key));
    }
    let mut config = if must_exist { existing.unwrap_or_default() } else { FunctionEventInvokeConfig::default() };
    config.function_arn = Some(qualified_arn(ctx, name, Some(key)));
    config.last_modified = Some(Timestamp::now());
    if retries.is_some() || !must_exist {
        config.maximum_retry_attempts = retries.or(Some(2));
    }
    if age.is_some() || !must_exist {
        config.maximum_event_age_in_seconds = age.or(Some(21600));
    }
    if destinations.is_some() || !must_exist {
        config.destination_config = Some(destinations.unwrap_or_default());
    }
    function.event_invoke.insert(key.to_owned(), config.clone());
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, name, Some(before))?;
    Ok(config)
}

pub async fn put_function_event_invoke_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: PutFunctionEventInvokeConfigRequest,
) -> Result<FunctionEventInvokeConfig, AwsError> {
    let (name, key) = key_of(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    store(
        &lambda,
        &ctx,
        &name,
        &key,
        input.maximum_retry_attempts,
        input.maximum_event_age_in_seconds,
        input.destination_config,
        false,
    )
    .await
}

pub async fn update_function_event_invoke_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateFunctionEventInvokeConfigRequest,
) -> Result<FunctionEventInvokeConfig, AwsError> {
    let (name, key) = key_of(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    store(
        &lambda,
        &ctx,
        &name,
        &key,
        input.maximum_retry_attempts,
        input.maximum_event_age_in_seconds,
        input.destination_config,
        true,
    )
    .await
}

pub async fn get_function_event_invoke_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetFunctionEventInvokeConfigRequest,
) -> Result<FunctionEventInvokeConfig, AwsError> {
    let (name, key) = key_of(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    region
        .functions
        .get(&name)
        .and_then(|f| f.event_invoke.get(&key))
        .cloned()
        .ok_or_else(|| missing(&ctx, &name, &key))
}

pub async fn delete_function_event_invoke_config(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteFunctionEventInvokeConfigRequest,
) -> Result<(), AwsError> {
    let (name, key) = key_of(&lambda, &ctx, &input.function_name, input.qualifier.as_deref()).await?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.functions.get(&name).cloned();
    region
        .functions
        .get_mut(&name)
        .and_then(|f| f.event_invoke.remove(&key))
        .ok_or_else(|| missing(&ctx, &name, &key))?;
    lambda.save_function(&ctx.account_id, &ctx.region, &mut region, &name, before)
}

pub async fn list_function_event_invoke_configs(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListFunctionEventInvokeConfigsRequest,
) -> Result<ListFunctionEventInvokeConfigsResponse, AwsError> {
    let reference = parse_function_name(&input.function_name, None)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let function =
        region.functions.get(&reference.name).ok_or_else(|| function_not_found(&ctx, &reference.name, None))?;
    let items: Vec<(String, FunctionEventInvokeConfig)> =
        function.event_invoke.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let (configs, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListFunctionEventInvokeConfigsResponse { function_event_invoke_configs: Some(configs), next_marker })
}

/// What an asynchronous invocation does after running.
#[derive(Clone, Default)]
pub struct AsyncPolicy {
    pub retries: u32,
    pub max_age_seconds: u64,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
    pub dead_letter: Option<String>,
    /// For the requests to other services: the gateway port, access key and region.
    pub port: u16,
    pub access_key: String,
    pub region: String,
}

/// The final result of an asynchronous invocation, delivered where the settings say.
pub struct Delivery<'a> {
    pub request_id: &'a str,
    pub function_arn: &'a str,
    pub executed_version: &'a str,
    pub attempts: u32,
    pub payload: &'a [u8],
    pub response: &'a [u8],
    pub function_error: Option<&'a str>,
    pub condition: &'a str,
}

pub async fn deliver(policy: &AsyncPolicy, d: Delivery<'_>) {
    let as_json =
        |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).unwrap_or_else(|_| json!(String::from_utf8_lossy(b)));
    let failed = d.function_error.is_some() || d.condition != "Success";
    let target = if failed { policy.on_failure.as_deref() } else { policy.on_success.as_deref() };
    if let Some(target) = target {
        let mut response_context = json!({ "statusCode": 200, "executedVersion": d.executed_version });
        if let Some(e) = d.function_error {
            response_context["functionError"] = json!(e);
        }
        let record = json!({
            "version": "1.0",
            "timestamp": crate::state::now_iso().replace("+0000", "Z"),
            "requestContext": {
                "requestId": d.request_id,
                "functionArn": format!("{}:{}", d.function_arn, d.executed_version),
                "condition": d.condition,
                "approximateInvokeCount": d.attempts,
            },
            "requestPayload": as_json(d.payload),
            "responseContext": response_context,
            "responsePayload": as_json(d.response),
        });
        send(policy, target, &record.to_string(), None).await;
    }
    if failed && let Some(dlq) = policy.dead_letter.as_deref() {
        let message = d
            .function_error
            .map(|_| String::from_utf8_lossy(d.response).into_owned())
            .unwrap_or_else(|| d.condition.to_owned());
        let attributes = json!({
            "RequestID": { "DataType": "String", "StringValue": d.request_id },
            "ErrorCode": { "DataType": "Number", "StringValue": "200" },
            "ErrorMessage": { "DataType": "String", "StringValue": message },
        });
        send(policy, dlq, &String::from_utf8_lossy(d.payload), Some(attributes)).await;
    }
}

/// Sends a message to an SQS queue ARN through the gateway.
async fn send(policy: &AsyncPolicy, arn: &str, body: &str, attributes: Option<serde_json::Value>) {
    let parts: Vec<&str> = arn.split(':').collect();
    let ["arn", _, "sqs", _, account, queue] = parts.as_slice() else {
        tracing::warn!(target = arn, "Lambda destinations other than SQS are not delivered yet");
        return;
    };
    let url = format!("http://127.0.0.1:{}/{account}/{queue}", policy.port);
    let mut message = json!({ "QueueUrl": url, "MessageBody": body });
    if let Some(a) = attributes {
        message["MessageAttributes"] = a;
    }
    let payload = message.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nx-amz-target: AmazonSQS.SendMessage\r\ncontent-type: application/x-amz-json-1.0\r\nauthorization: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
        policy.port,
        loopback::unsigned_authorization(&policy.access_key, &policy.region, "sqs"),
        payload.len()
    );
    match loopback::exchange(policy.port, request.as_bytes(), 64 * 1024).await {
        Ok((200, _)) => {}
        Ok((status, body)) => {
            tracing::warn!(target = arn, status, body = %String::from_utf8_lossy(&body), "Lambda could not deliver to SQS")
        }
        Err(e) => tracing::warn!(target = arn, error = %e, "Lambda could not deliver to SQS"),
    }
}
