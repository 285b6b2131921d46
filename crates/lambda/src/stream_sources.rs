//! Event source mappings for DynamoDB streams: a poller per mapping reads the stream's records
//! after the last one delivered (from the oldest kept with `TRIM_HORIZON`, from the mapping's
//! creation with `LATEST`) and invokes the function with batches of them (`{"Records": [...]}`,
//! the `aws:dynamodb` records AWS sends). A failed batch is retried until it succeeds, as AWS does
//! with the default `MaximumRetryAttempts` of -1; records are delivered in order. Records no
//! filter matches ([`crate::filters`]) are skipped. The position (last sequence number handled)
//! is stored with the mapping, so after a restart the poller goes on from there.
//!
//! Lambda does not depend on DynamoDB: the server hands it a [`StreamReader`] over DynamoDB's
//! streams ([`Lambda::with_stream_reader`]). Other event sources (SQS) go to
//! [`crate::event_sources`].

use crate::environments::RunRequest;
use crate::event_sources::Mapping;
use crate::generated::types::*;
use crate::invoke;
use crate::state::*;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use serde_json::{Value, json};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Reads DynamoDB stream records for the pollers.
pub trait StreamReader: Send + Sync {
    /// Up to `limit` records after the sequence number `after` (`None`: the oldest kept), in the
    /// Lambda event record shape; `None` when there is no such stream.
    fn records_after(&self, arn: &str, after: Option<&str>, limit: usize) -> Option<Vec<Value>>;
    /// The sequence number of the newest record (where `LATEST` starts reading after).
    fn latest_sequence(&self, arn: &str) -> Option<String>;
}

/// Whether `arn` names a DynamoDB stream (`arn:aws:dynamodb:<region>:<account>:table/<t>/stream/<label>`).
pub(crate) fn is_stream_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws:dynamodb:") && arn.contains("/stream/")
}

/// CreateEventSourceMapping: DynamoDB stream sources here, everything else as before.
pub async fn create_event_source_mapping(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: CreateEventSourceMappingRequest,
) -> Result<EventSourceMappingConfiguration, AwsError> {
    let source = match input.event_source_arn.as_deref() {
        Some(arn) if is_stream_arn(arn) => arn.to_owned(),
        _ => return crate::event_sources::create_event_source_mapping(lambda, ctx, input).await,
    };
    let start = match input.starting_position.as_deref() {
        Some(p @ ("TRIM_HORIZON" | "LATEST")) => p.to_owned(),
        Some("AT_TIMESTAMP") => {
            return Err(invalid_param("Unsupported starting position for this event source type: AT_TIMESTAMP"));
        }
        _ => return Err(invalid_param("StartingPosition is required for a DynamoDB stream event source.")),
    };
    let batch = input.batch_size.unwrap_or(100);
    if !(1..=10_000).contains(&batch) {
        return Err(invalid_param(format!(
            "BatchSize {batch} is out of range [1, 10000] for a DynamoDB event source."
        )));
    }
    let filter_criteria = crate::filters::check(input.filter_criteria.clone(), true)?;
    let Some(reader) = lambda.stream_reader.clone() else {
        return Err(invalid_param(format!("Stream not found: {source}")));
    };
    // LATEST: only records written from now on.
    let after = match start.as_str() {
        "LATEST" => {
            Some(reader.latest_sequence(&source).ok_or_else(|| invalid_param(format!("Stream not found: {source}")))?)
        }
        _ => {
            reader
                .records_after(&source, None, 1)
                .ok_or_else(|| invalid_param(format!("Stream not found: {source}")))?;
            None
        }
    };
    let reference = parse_function_name(&input.function_name, None)?;
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
            maximum_batching_window_in_seconds: Some(input.maximum_batching_window_in_seconds.unwrap_or(0)),
            parallelization_factor: Some(input.parallelization_factor.unwrap_or(1)),
            event_source_arn: Some(source.clone()),
            filter_criteria,
            function_arn: Some(function_arn),
            last_modified: Some(Timestamp::now()),
            last_processing_result: Some("No records processed".into()),
            state: Some(if enabled { "Enabled" } else { "Disabled" }.into()),
            state_transition_reason: Some("User action".into()),
            starting_position: Some(start),
            maximum_record_age_in_seconds: Some(input.maximum_record_age_in_seconds.unwrap_or(-1)),
            bisect_batch_on_function_error: Some(input.bisect_batch_on_function_error.unwrap_or(false)),
            maximum_retry_attempts: Some(input.maximum_retry_attempts.unwrap_or(-1)),
            tumbling_window_in_seconds: input.tumbling_window_in_seconds,
            function_response_types: input.function_response_types.clone(),
            destination_config: input.destination_config.clone(),
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
                position: after,
            },
        );
        lambda.save_mapping(&ctx.account_id, &ctx.region, &mut region, &uuid, None)?;
        config
    };
    spawn_poller(Arc::downgrade(&lambda), ctx.account_id.clone(), ctx.region.clone(), uuid);
    Ok(EventSourceMappingConfiguration { state: Some("Creating".into()), ..config })
}

/// Starts the poller of a stream mapping, from the position stored with it.
pub(crate) fn spawn_poller(lambda: Weak<Lambda>, account: Arc<str>, region: Arc<str>, uuid: String) {
    tokio::spawn(poll(lambda, account, region, uuid));
}

/// What the poller reads of its mapping each round; `None` once the mapping is deleted.
struct Settings {
    enabled: bool,
    function: String,
    qualifier: Option<String>,
    stream: String,
    batch: usize,
    patterns: Vec<Value>,
    position: Option<String>,
}

fn settings(lambda: &Lambda, account: &Arc<str>, region: &Arc<str>, uuid: &str) -> Option<Settings> {
    let state = lambda.regions.get(account, region);
    let state = state.read();
    let m = state.mappings.get(uuid)?;
    Some(Settings {
        enabled: m.enabled,
        function: m.function.clone(),
        qualifier: m.qualifier.clone(),
        stream: m.config.event_source_arn.clone().unwrap_or_default(),
        batch: m.config.batch_size.unwrap_or(100).max(1) as usize,
        patterns: crate::filters::patterns(m.config.filter_criteria.as_ref()),
        position: m.position.clone(),
    })
}

/// The poller of one stream mapping; ends when the mapping is deleted (or the state reset).
async fn poll(lambda: Weak<Lambda>, account: Arc<str>, region: Arc<str>, uuid: String) {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(strong) = lambda.upgrade() else { return };
        let Some(s) = settings(&strong, &account, &region, &uuid) else { return };
        if !s.enabled {
            continue;
        }
        let Some(reader) = strong.stream_reader.clone() else { return };
        let Some(records) = reader.records_after(&s.stream, s.position.as_deref(), s.batch) else { continue };
        let Some(last) = records.last().and_then(|r| r["dynamodb"]["SequenceNumber"].as_str()).map(str::to_owned)
        else {
            continue;
        };
        let records: Vec<Value> = records.into_iter().filter(|r| crate::filters::passes(&s.patterns, r)).collect();
        // A batch the filters emptied is handled without invoking the function.
        let handled = records.is_empty() || {
            let payload = Bytes::from(json!({ "Records": records }).to_string());
            deliver(&strong, &account, &region, &s.function, s.qualifier.as_deref(), payload).await
        };
        if handled {
            strong.advance_mapping(&account, &region, &uuid, last, !records.is_empty());
        }
    }
}

impl Lambda {
    /// Moves a stream mapping past the records up to `position` and stores that.
    fn advance_mapping(&self, account: &Arc<str>, region: &Arc<str>, uuid: &str, position: String, delivered: bool) {
        let state = self.regions.get(account, region);
        let mut state = state.write();
        let Some(mapping) = state.mappings.get_mut(uuid) else { return };
        let before = mapping.clone();
        mapping.position = Some(position);
        if delivered {
            mapping.config.last_processing_result = Some("OK".into());
        }
        // On a failed write the old position stays: the records are delivered again (at least once).
        if let Err(e) = self.save_mapping(account, region, &mut state, uuid, Some(before)) {
            tracing::warn!(uuid, error = %e.message, "lambda: stream mapping position not stored");
        }
    }
}

/// Runs the function on one batch; whether it succeeded.
async fn deliver(
    lambda: &Lambda,
    account: &Arc<str>,
    region: &Arc<str>,
    function: &str,
    qualifier: Option<&str>,
    payload: Bytes,
) -> bool {
    let Ok(target) = invoke::target(lambda, account, region, function, qualifier).await else { return false };
    let request = RunRequest {
        version: target.version,
        payload,
        port: lambda.gateway_port(),
        tail: false,
        client_context: None,
        invoked_arn: target.invoked_arn,
        function_arn: target.function_arn,
        reserved: target.reserved,
        request_id: None,
    };
    matches!(lambda.executor.run(request).await, Ok(r) if r.function_error.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_are_told_from_queue_arns() {
        assert!(is_stream_arn("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"));
        assert!(!is_stream_arn("arn:aws:dynamodb:us-east-1:000000000000:table/t"));
        assert!(!is_stream_arn("arn:aws:sqs:us-east-1:000000000000:q"));
    }

    /// A reader that knows one stream, with no records.
    struct OneStream(&'static str);

    impl StreamReader for OneStream {
        fn records_after(&self, arn: &str, _: Option<&str>, _: usize) -> Option<Vec<Value>> {
            (arn == self.0).then(Vec::new)
        }

        fn latest_sequence(&self, arn: &str) -> Option<String> {
            (arn == self.0).then(|| "0".into())
        }
    }

    #[tokio::test]
    async fn each_service_reads_streams_through_its_own_reader() {
        const ARN: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000";
        let sink = || Arc::new(crate::MemoryLogSink::default());
        let with_reader = Arc::new(Lambda::new(sink()).with_stream_reader(Arc::new(OneStream(ARN))));
        let without = Arc::new(Lambda::new(sink()));
        let create = |lambda: Arc<Lambda>| {
            let input = CreateEventSourceMappingRequest {
                function_name: "f".into(),
                event_source_arn: Some(ARN.into()),
                starting_position: Some("LATEST".into()),
                ..Default::default()
            };
            create_event_source_mapping(lambda, RequestContext::for_tests("CreateEventSourceMapping"), input)
        };
        // The stream is found (then the function is not); the other service has no streams.
        assert_eq!(create(with_reader).await.unwrap_err().code, "ResourceNotFoundException");
        let refused = create(without).await.unwrap_err();
        assert_eq!(
            (refused.code.as_ref(), refused.message.as_ref()),
            ("InvalidParameterValueException", &*format!("Stream not found: {ARN}"))
        );
    }
}
