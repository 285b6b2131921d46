//! Event source mappings for SQS queues: a poller per mapping receives batches from our SQS
//! (over the gateway's port, like every cross-service call of this crate), invokes the function
//! with the `aws:sqs` event and deletes what it processed — all of a successful batch, or all but
//! the `batchItemFailures` with `ReportBatchItemFailures`. A failed batch is left to reappear
//! after the queue's visibility timeout, as on AWS. Messages no filter matches
//! ([`crate::filters`]) are deleted without reaching the function.

use crate::environments::RunRequest;
use crate::generated::types::*;
use crate::invoke;
use crate::loopback;
use crate::state::*;
use crate::stream_sources::is_stream_arn;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use serde_json::{Value, json};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// A mapping as stored: its configuration plus what the poller needs.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct Mapping {
    pub config: EventSourceMappingConfiguration,
    pub function: String,
    pub qualifier: Option<String>,
    pub enabled: bool,
    /// Stream mappings: the sequence number of the last record handled (`None`: read from the
    /// oldest record kept), stored so a restart goes on from there.
    #[serde(default)]
    pub position: Option<String>,
}

fn not_found(uuid: &str) -> AwsError {
    resource_not_found(format!(
        "The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: {uuid})"
    ))
}

fn check_batch(batch: i32, window: i32) -> Result<(), AwsError> {
    if batch > 10 && window < 1 {
        return Err(invalid_param(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    if !(1..=10_000).contains(&batch) {
        return Err(invalid_param(format!("BatchSize {batch} is out of range [1, 10000] for an SQS event source.")));
    }
    Ok(())
}

pub async fn create_event_source_mapping(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: CreateEventSourceMappingRequest,
) -> Result<EventSourceMappingConfiguration, AwsError> {
    let Some(source) = input.event_source_arn.clone() else {
        return Err(invalid_param("Unrecognized event source, must be an SQS queue ARN for RustStack."));
    };
    if !source.starts_with("arn:aws:sqs:") {
        return Err(invalid_param(format!("RustStack supports SQS event sources only, not {source}.")));
    }
    let reference = parse_function_name(&input.function_name, None)?;
    let batch = input.batch_size.unwrap_or(10);
    let window = input.maximum_batching_window_in_seconds.unwrap_or(0);
    check_batch(batch, window)?;
    let filter_criteria = crate::filters::check(input.filter_criteria.clone(), false)?;
    let uuid = uuid();
    let region = lambda.region(&ctx).await?;
    let config = {
        let mut region = region.write();
        let function = region
            .functions
            .get(&reference.name)
            .ok_or_else(|| function_not_found(&ctx, &reference.name, reference.qualifier.as_deref()))?;
        if function.resolve(reference.qualifier.as_deref()).is_none() {
            return Err(function_not_found(&ctx, &reference.name, reference.qualifier.as_deref()));
        }
        let function_arn = qualified_arn(&ctx, &reference.name, reference.qualifier.as_deref());
        if let Some(existing) = region.mappings.values().find(|m| {
            m.config.event_source_arn.as_deref() == Some(source.as_str())
                && m.config.function_arn.as_deref() == Some(function_arn.as_str())
        }) {
            return Err(conflict(format!(
                "The event source arn ({source}) and function ({}) provided mapping already exists. Please update or delete the existing mapping with UUID {}",
                reference.name,
                existing.config.uuid.as_deref().unwrap_or_default()
            )));
        }
        let enabled = input.enabled.unwrap_or(true);
        let config = EventSourceMappingConfiguration {
            uuid: Some(uuid.clone()),
            batch_size: Some(batch),
            maximum_batching_window_in_seconds: Some(window),
            event_source_arn: Some(source),
            filter_criteria,
            function_arn: Some(function_arn),
            last_modified: Some(Timestamp::now()),
            state: Some(if enabled { "Enabled" } else { "Disabled" }.into()),
            state_transition_reason: Some("USER_INITIATED".into()),
            function_response_types: input.function_response_types.clone(),
            scaling_config: input.scaling_config.clone(),
            event_source_mapping_arn: Some(ctx.arn("lambda", &format!("event-source-mapping:{uuid}"))),
            ..Default::default()
        };
        region.mappings.insert(
            uuid.clone(),
            Mapping {
                config: config.clone(),
                function: reference.name,
                qualifier: reference.qualifier,
                enabled,
                position: None,
            },
        );
        lambda.save_mapping(&ctx.account_id, &ctx.region, &mut region, &uuid, None)?;
        config
    };
    tokio::spawn(poll(Arc::downgrade(&lambda), ctx.account_id.clone(), ctx.region.clone(), uuid));
    Ok(EventSourceMappingConfiguration { state: Some("Creating".into()), ..config })
}

pub async fn get_event_source_mapping(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetEventSourceMappingRequest,
) -> Result<EventSourceMappingConfiguration, AwsError> {
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    region.mappings.get(&input.uuid).map(|m| m.config.clone()).ok_or_else(|| not_found(&input.uuid))
}

pub async fn update_event_source_mapping(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: UpdateEventSourceMappingRequest,
) -> Result<EventSourceMappingConfiguration, AwsError> {
    let retarget = match &input.function_name {
        Some(f) => Some(parse_function_name(f, None)?),
        None => None,
    };
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    if let Some(r) = &retarget
        && region.functions.get(&r.name).and_then(|f| f.resolve(r.qualifier.as_deref())).is_none()
    {
        return Err(function_not_found(&ctx, &r.name, r.qualifier.as_deref()));
    }
    let before = region.mappings.get(&input.uuid).cloned();
    let mapping = region.mappings.get_mut(&input.uuid).ok_or_else(|| not_found(&input.uuid))?;
    let batch = input.batch_size.or(mapping.config.batch_size).unwrap_or(10);
    let window =
        input.maximum_batching_window_in_seconds.or(mapping.config.maximum_batching_window_in_seconds).unwrap_or(0);
    check_batch(batch, window)?;
    let filter_criteria = match input.filter_criteria {
        Some(criteria) => {
            let stream = mapping.config.event_source_arn.as_deref().is_some_and(crate::stream_sources::is_stream_arn);
            Some(crate::filters::check(Some(criteria), stream)?)
        }
        None => None,
    };
    if let Some(r) = retarget {
        mapping.config.function_arn = Some(qualified_arn(&ctx, &r.name, r.qualifier.as_deref()));
        mapping.function = r.name;
        mapping.qualifier = r.qualifier;
    }
    if let Some(enabled) = input.enabled {
        mapping.enabled = enabled;
        mapping.config.state = Some(if enabled { "Enabled" } else { "Disabled" }.into());
    }
    mapping.config.batch_size = Some(batch);
    mapping.config.maximum_batching_window_in_seconds = Some(window);
    if let Some(criteria) = filter_criteria {
        mapping.config.filter_criteria = criteria;
    }
    if let Some(t) = input.function_response_types {
        mapping.config.function_response_types = Some(t);
    }
    mapping.config.last_modified = Some(Timestamp::now());
    let out = mapping.config.clone();
    lambda.save_mapping(&ctx.account_id, &ctx.region, &mut region, &input.uuid, before)?;
    Ok(out)
}

pub async fn delete_event_source_mapping(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteEventSourceMappingRequest,
) -> Result<EventSourceMappingConfiguration, AwsError> {
    let region = lambda.region(&ctx).await?;
    let mapping = {
        let mut region = region.write();
        let mapping = region.mappings.remove(&input.uuid).ok_or_else(|| not_found(&input.uuid))?;
        lambda.save_mapping(&ctx.account_id, &ctx.region, &mut region, &input.uuid, Some(mapping.clone()))?;
        mapping
    };
    Ok(EventSourceMappingConfiguration { state: Some("Deleting".into()), ..mapping.config })
}

pub async fn list_event_source_mappings(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListEventSourceMappingsRequest,
) -> Result<ListEventSourceMappingsResponse, AwsError> {
    let function = match &input.function_name {
        Some(f) => Some(parse_function_name(f, None)?),
        None => None,
    };
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let items: Vec<(String, EventSourceMappingConfiguration)> = region
        .mappings
        .iter()
        .filter(|(_, m)| {
            input.event_source_arn.as_deref().is_none_or(|a| m.config.event_source_arn.as_deref() == Some(a))
        })
        .filter(|(_, m)| function.as_ref().is_none_or(|f| f.name == m.function))
        .map(|(k, m)| (k.clone(), m.config.clone()))
        .collect();
    let (event_source_mappings, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListEventSourceMappingsResponse { event_source_mappings: Some(event_source_mappings), next_marker })
}

/// One awsJson call to our SQS.
async fn sqs(port: u16, account: &str, region: &str, action: &str, body: &Value) -> Option<Value> {
    let access_key = if account == "000000000000" { "test" } else { account };
    let payload = body.to_string();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nx-amz-target: AmazonSQS.{action}\r\ncontent-type: application/x-amz-json-1.0\r\nauthorization: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
        loopback::unsigned_authorization(access_key, region, "sqs"),
        payload.len()
    );
    match loopback::exchange(port, request.as_bytes(), 16 * 1024 * 1024).await {
        Ok((200, body)) => serde_json::from_slice(&body).ok(),
        Ok((status, body)) => {
            tracing::debug!(action, status, body = %String::from_utf8_lossy(&body), "event source mapping: SQS refused");
            None
        }
        Err(e) => {
            tracing::debug!(action, error = %e, "event source mapping: SQS unreachable");
            None
        }
    }
}

/// The mapping's settings as the poller needs them, or `None` once it is deleted.
struct Settings {
    enabled: bool,
    queue_arn: String,
    function: String,
    qualifier: Option<String>,
    batch: usize,
    window: Duration,
    report_failures: bool,
    patterns: Vec<Value>,
}

fn settings(lambda: &Lambda, account: &Arc<str>, region: &Arc<str>, uuid: &str) -> Option<Settings> {
    let state = lambda.regions.get(account, region);
    let state = state.read();
    let m = state.mappings.get(uuid)?;
    Some(Settings {
        enabled: m.enabled,
        queue_arn: m.config.event_source_arn.clone().unwrap_or_default(),
        function: m.function.clone(),
        qualifier: m.qualifier.clone(),
        batch: m.config.batch_size.unwrap_or(10).max(1) as usize,
        window: Duration::from_secs(m.config.maximum_batching_window_in_seconds.unwrap_or(0).max(0) as u64),
        report_failures: m
            .config
            .function_response_types
            .as_ref()
            .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures")),
        patterns: crate::filters::patterns(m.config.filter_criteria.as_ref()),
    })
}

/// Starts the poller of a mapping loaded from the store, of either kind (a plain function, so
/// the region loader's future does not contain the poller's, which loads regions itself).
pub(crate) fn spawn_poller(lambda: Weak<Lambda>, account: Arc<str>, region: Arc<str>, uuid: String) {
    let stream = lambda.upgrade().is_some_and(|l| {
        let state = l.regions.get(&account, &region);
        let state = state.read();
        state.mappings.get(&uuid).and_then(|m| m.config.event_source_arn.as_deref()).is_some_and(is_stream_arn)
    });
    if stream {
        crate::stream_sources::spawn_poller(lambda, account, region, uuid);
    } else {
        tokio::spawn(poll(lambda, account, region, uuid));
    }
}

/// Deletes received messages from their queue, ten at a time.
async fn delete_messages(port: u16, account: &str, region: &str, url: &str, messages: &[&Value]) {
    let entries: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"]}))
        .collect();
    for chunk in entries.chunks(10) {
        sqs(port, account, region, "DeleteMessageBatch", &json!({"QueueUrl": url, "Entries": chunk})).await;
    }
}

/// The poller of one SQS mapping; ends when the mapping is deleted (or the state reset).
async fn poll(lambda: Weak<Lambda>, account: Arc<str>, region: Arc<str>, uuid: String) {
    loop {
        let Some(strong) = lambda.upgrade() else { return };
        let Some(s) = settings(&strong, &account, &region, &uuid) else { return };
        let port = strong.gateway_port();
        drop(strong);
        if !s.enabled {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let parts: Vec<&str> = s.queue_arn.split(':').collect();
        let [_, _, _, queue_region, queue_account, queue] = parts.as_slice() else { return };
        let url = format!("http://127.0.0.1:{port}/{queue_account}/{queue}");
        let mut messages: Vec<Value> = Vec::new();
        let started = Instant::now();
        while messages.len() < s.batch {
            let want = (s.batch - messages.len()).min(10);
            let wait = if messages.is_empty() { 1 } else { 0 };
            let answer = sqs(
                port,
                queue_account,
                queue_region,
                "ReceiveMessage",
                &json!({"QueueUrl": url, "MaxNumberOfMessages": want, "WaitTimeSeconds": wait,
                        "AttributeNames": ["All"], "MessageAttributeNames": ["All"]}),
            )
            .await;
            let Some(answer) = answer else {
                // Refused (a deleted queue, a stopped server): do not spin.
                if messages.is_empty() {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                break;
            };
            let got = answer.get("Messages").and_then(Value::as_array).cloned().unwrap_or_default();
            if got.is_empty() {
                break;
            }
            // Filters decide what joins the batch; what no filter matches leaves the queue.
            let (kept, dropped): (Vec<Value>, Vec<Value>) = got
                .into_iter()
                .partition(|m| crate::filters::sqs_passes(&s.patterns, &record(m, &s.queue_arn, queue_region)));
            if !dropped.is_empty() {
                let dropped: Vec<&Value> = dropped.iter().collect();
                delete_messages(port, queue_account, queue_region, &url, &dropped).await;
            }
            messages.extend(kept);
            if started.elapsed() >= s.window {
                break;
            }
        }
        if messages.is_empty() {
            continue;
        }
        let Some(strong) = lambda.upgrade() else { return };
        let records: Vec<Value> = messages.iter().map(|m| record(m, &s.queue_arn, queue_region)).collect();
        let failed = deliver(&strong, &account, &region, &s, port, records).await;
        drop(strong);
        let Some(failed) = failed else {
            // The invocation failed: the messages come back after their visibility timeout.
            continue;
        };
        let processed: Vec<&Value> =
            messages.iter().filter(|m| !failed.iter().any(|f| Some(f.as_str()) == m["MessageId"].as_str())).collect();
        delete_messages(port, queue_account, queue_region, &url, &processed).await;
    }
}

/// The `aws:sqs` record of a received message.
fn record(m: &Value, queue_arn: &str, region: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .get("MessageAttributes")
        .and_then(Value::as_object)
        .map(|attrs| {
            attrs
                .iter()
                .map(|(k, v)| {
                    let mut out = json!({"stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]});
                    if let Some(s) = v.get("StringValue") {
                        out["stringValue"] = s.clone();
                    }
                    if let Some(b) = v.get("BinaryValue") {
                        out["binaryValue"] = b.clone();
                    }
                    (k.clone(), out)
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes").cloned().unwrap_or(json!({})),
        "messageAttributes": attributes,
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}

/// Invokes the function with a batch; the ids of failed items (empty when all succeeded), or
/// `None` when the whole batch failed.
async fn deliver(
    lambda: &Lambda,
    account: &Arc<str>,
    region: &Arc<str>,
    s: &Settings,
    port: u16,
    records: Vec<Value>,
) -> Option<Vec<String>> {
    let target = match invoke::target(lambda, account, region, &s.function, s.qualifier.as_deref()).await {
        Ok(t) => t,
        Err(_) => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return None;
        }
    };
    let request = RunRequest {
        version: target.version,
        payload: Bytes::from(json!({ "Records": records }).to_string()),
        port,
        tail: false,
        client_context: None,
        invoked_arn: target.invoked_arn,
        function_arn: target.function_arn,
        reserved: target.reserved,
        request_id: None,
    };
    let result = match lambda.executor.run(request).await {
        Ok(r) => r,
        Err(_) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            return None;
        }
    };
    if result.function_error.is_some() {
        return None;
    }
    if !s.report_failures {
        return Some(Vec::new());
    }
    let answer: Value = serde_json::from_slice(&result.payload).unwrap_or(Value::Null);
    Some(
        answer
            .get("batchItemFailures")
            .and_then(Value::as_array)
            .map(|f| f.iter().filter_map(|i| i.get("itemIdentifier")?.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_records_have_the_lambda_shape() {
        let message = json!({
            "MessageId": "m1", "ReceiptHandle": "rh", "Body": "hi", "MD5OfBody": "x",
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
        });
        let r = record(&message, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1");
        assert_eq!(r["messageId"], "m1");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["eventSourceARN"], "arn:aws:sqs:us-east-1:000000000000:q");
        assert_eq!(
            r["messageAttributes"]["k"],
            json!({"stringValue": "v", "stringListValues": [], "binaryListValues": [], "dataType": "String"})
        );
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
    }

    #[test]
    fn batch_rules() {
        assert!(check_batch(10, 0).is_ok());
        assert!(check_batch(100, 1).is_ok());
        assert!(check_batch(11, 0).unwrap_err().message.contains("Maximum batch window"));
        assert!(check_batch(0, 0).is_err());
    }
}
