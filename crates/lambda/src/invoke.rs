//! Invoke: RequestResponse (run and answer), Event (queued, two retries on error as AWS does),
//! DryRun (checks only). Qualifiers name `$LATEST`, a version or an alias (weighted routing).

use crate::aliases::pick_version;
use crate::environments::{RunRequest, RunResult};
use crate::event_invoke::{AsyncPolicy, Delivery, deliver};
use crate::generated::types::*;
use crate::state::*;
use base64::Engine;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext, StreamingBody};
use std::sync::Arc;
use std::time::Duration;

/// AWS's request payload limits.
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;

/// A resolved invocation target.
pub struct Target {
    pub version: Arc<Version>,
    pub executed_version: String,
    pub invoked_arn: String,
    pub function_arn: String,
    pub reserved: Option<i32>,
    /// Asynchronous invocation settings of the invoked qualifier.
    pub event_invoke: Option<FunctionEventInvokeConfig>,
}

/// Finds what an invocation runs, waiting briefly for a Pending function to become Active.
pub async fn target(
    lambda: &Lambda,
    account: &Arc<str>,
    region_name: &Arc<str>,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Target, AwsError> {
    let arn = |q: Option<&str>| match q {
        Some(q) => format!("arn:aws:lambda:{region_name}:{account}:function:{name}:{q}"),
        None => format!("arn:aws:lambda:{region_name}:{account}:function:{name}"),
    };
    let region = lambda.region_of(account, region_name).await?;
    for _ in 0..500 {
        let found = {
            let region = region.read();
            let function = region
                .functions
                .get(name)
                .ok_or_else(|| resource_not_found(format!("Function not found: {}", arn(qualifier))))?;
            let version = match qualifier {
                Some(alias) if function.aliases.contains_key(alias) => {
                    function.version_of(&pick_version(&function.aliases[alias]))
                }
                q => function.resolve(q),
            }
            .ok_or_else(|| resource_not_found(format!("Function not found: {}", arn(qualifier))))?;
            let settings = function.event_invoke.get(qualifier.unwrap_or("$LATEST")).cloned();
            (version, function.reserved_concurrency, settings)
        };
        let (version, reserved, event_invoke) = found;
        match version.config.state.as_deref() {
            Some("Pending") => tokio::time::sleep(Duration::from_millis(10)).await,
            Some("Active") | None => {
                return Ok(Target {
                    executed_version: version.version().to_owned(),
                    invoked_arn: arn(qualifier),
                    function_arn: arn(None),
                    version,
                    reserved,
                    event_invoke,
                });
            }
            Some(state) => {
                return Err(conflict(format!(
                    "The operation cannot be performed at this time. The function is currently in the following state: {state}"
                )));
            }
        }
    }
    Err(conflict(
        "The operation cannot be performed at this time. The function is currently in the following state: Pending",
    ))
}

pub async fn invoke(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: InvocationRequest,
) -> Result<InvocationResponse, AwsError> {
    let FunctionRef { name, qualifier } = parse_function_name(&input.function_name, input.qualifier.as_deref())?;
    let kind = input.invocation_type.as_deref().unwrap_or("RequestResponse");
    let limit = if kind == "Event" { MAX_ASYNC_PAYLOAD } else { MAX_SYNC_PAYLOAD };
    let payload = input.payload.collect(limit).await.map_err(|e| {
        if e.status == http::StatusCode::PAYLOAD_TOO_LARGE {
            AwsError::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
            )
            .with_field("Type", "User")
        } else {
            e
        }
    })?;
    let payload = if payload.iter().all(u8::is_ascii_whitespace) { Bytes::from_static(b"{}") } else { payload };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return Err(AwsError::bad_request(
            "InvalidRequestContentException",
            format!("Could not parse request body into json: Could not parse payload into json: {e}"),
        )
        .with_field("Type", "User"));
    }
    let target = target(&lambda, &ctx.account_id, &ctx.region, &name, qualifier.as_deref()).await?;
    let client_context = match input.client_context {
        Some(cc) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(cc.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid_param("Client context must be a valid Base64-encoded JSON object."))?,
        ),
        None => None,
    };
    let executed_version = Some(target.executed_version.clone());
    let settings = target.event_invoke.clone().unwrap_or_default();
    let destinations = settings.destination_config.unwrap_or_default();
    let policy = AsyncPolicy {
        retries: settings.maximum_retry_attempts.unwrap_or(2).clamp(0, 2) as u32,
        max_age_seconds: settings.maximum_event_age_in_seconds.unwrap_or(21600).max(60) as u64,
        on_success: destinations.on_success.and_then(|d| d.destination),
        on_failure: destinations.on_failure.and_then(|d| d.destination),
        dead_letter: target.version.config.dead_letter_config.as_ref().and_then(|d| d.target_arn.clone()),
        port: lambda.gateway_port(),
        access_key: ctx.access_key.to_string(),
        region: ctx.region.to_string(),
    };
    let request = RunRequest {
        function_arn: target.function_arn,
        invoked_arn: target.invoked_arn,
        reserved: target.reserved,
        version: target.version,
        payload,
        port: lambda.gateway_port(),
        tail: input.log_type.as_deref() == Some("Tail") && kind == "RequestResponse",
        client_context,
        request_id: (kind == "Event").then(|| ctx.request_id.to_string()),
    };
    match kind {
        "DryRun" => Ok(InvocationResponse { status_code: Some(204), executed_version, ..Default::default() }),
        "Event" => {
            let executor = lambda.executor.clone();
            let executed = target.executed_version.clone();
            tokio::spawn(run_async(executor, request, policy, executed));
            Ok(InvocationResponse { status_code: Some(202), executed_version, ..Default::default() })
        }
        _ => {
            let result = lambda.executor.run(request).await?;
            Ok(response(result, executed_version))
        }
    }
}

/// The deprecated InvokeAsync: an Event invocation of `$LATEST` (or the named qualifier),
/// answered with status 202.
pub async fn invoke_async(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: InvokeAsyncRequest,
) -> Result<InvokeAsyncResponse, AwsError> {
    let request = InvocationRequest {
        function_name: input.function_name,
        invocation_type: Some("Event".into()),
        payload: input.invoke_args,
        ..Default::default()
    };
    invoke(lambda, ctx, request).await?;
    Ok(InvokeAsyncResponse { status: Some(202) })
}

fn response(result: RunResult, executed_version: Option<String>) -> InvocationResponse {
    InvocationResponse {
        status_code: Some(200),
        function_error: result.function_error.map(str::to_owned),
        log_result: result.log_tail.map(|t| base64::engine::general_purpose::STANDARD.encode(t)),
        payload: StreamingBody::from_bytes(result.payload),
        executed_version,
        durable_execution_arn: None,
    }
}

/// An asynchronous invocation: up to `MaximumRetryAttempts` (default 2) retries after a function
/// error with the same request id (AWS waits about one and two minutes;
/// `RUSTSTACK_LAMBDA_ASYNC_RETRY_SECONDS`, default 1, sets the first delay), retries while
/// throttled, then delivers the outcome to the destinations and dead-letter queue.
async fn run_async(
    executor: Arc<crate::environments::Executor>,
    request: RunRequest,
    policy: AsyncPolicy,
    executed_version: String,
) {
    let delay = std::env::var("RUSTSTACK_LAMBDA_ASYNC_RETRY_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1u64);
    let started = std::time::Instant::now();
    let request_id = request.request_id.clone().unwrap_or_default();
    let mut attempts = 0u32;
    let mut throttles = 0u32;
    loop {
        if started.elapsed().as_secs() > policy.max_age_seconds {
            deliver(
                &policy,
                outcome(&request, &request_id, &executed_version, attempts, b"", None, "EventAgeExceeded"),
            )
            .await;
            return;
        }
        let attempt = RunRequest {
            version: request.version.clone(),
            payload: request.payload.clone(),
            port: request.port,
            tail: false,
            client_context: request.client_context.clone(),
            invoked_arn: request.invoked_arn.clone(),
            function_arn: request.function_arn.clone(),
            reserved: request.reserved,
            request_id: request.request_id.clone(),
        };
        match executor.run(attempt).await {
            Ok(result) => {
                attempts += 1;
                if result.function_error.is_none() {
                    deliver(
                        &policy,
                        outcome(&request, &request_id, &executed_version, attempts, &result.payload, None, "Success"),
                    )
                    .await;
                    return;
                }
                if attempts > policy.retries {
                    deliver(
                        &policy,
                        outcome(
                            &request,
                            &request_id,
                            &executed_version,
                            attempts,
                            &result.payload,
                            result.function_error,
                            "RetriesExhausted",
                        ),
                    )
                    .await;
                    return;
                }
                tokio::time::sleep(Duration::from_secs(delay * attempts as u64)).await;
            }
            Err(_) => {
                throttles += 1;
                if throttles > 600 {
                    deliver(
                        &policy,
                        outcome(&request, &request_id, &executed_version, attempts, b"", None, "EventAgeExceeded"),
                    )
                    .await;
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn outcome<'a>(
    request: &'a RunRequest,
    request_id: &'a str,
    executed_version: &'a str,
    attempts: u32,
    response: &'a [u8],
    function_error: Option<&'a str>,
    condition: &'a str,
) -> Delivery<'a> {
    Delivery {
        request_id,
        function_arn: &request.function_arn,
        executed_version,
        attempts,
        payload: &request.payload,
        response,
        function_error,
        condition,
    }
}
