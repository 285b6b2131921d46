//! ListStreams, DescribeStream, GetShardIterator and GetRecords.

use crate::StreamsState;
use crate::generated::types::*;
use crate::iterator::ShardIterator;
use crate::records::record;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use ruststack_dynamodb::streams::{ReadError, Stream, format_sequence, parse_sequence, parse_stream_arn};
use std::sync::Arc;

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

/// AWS's message for a limit above the documented upper bound (the model only has the lower).
fn check_limit(limit: Option<i32>, max: i32, default: i32) -> Result<usize, AwsError> {
    match limit {
        Some(l) if l > max => Err(validation(format!(
            "1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to {max}"
        ))),
        l => Ok(l.unwrap_or(default).max(1) as usize),
    }
}

fn stream_not_found(arn: &str) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", format!("Requested resource not found: Stream: {arn} not found"))
}

fn trimmed() -> AwsError {
    AwsError::bad_request("TrimmedDataAccessException", "The data you are trying to access has been trimmed")
}

/// The stream named by `arn` in the request's account and region.
fn find_stream(state: &StreamsState, ctx: &RequestContext, arn: &str) -> Result<Arc<Stream>, AwsError> {
    if parse_stream_arn(arn).is_none() {
        return Err(validation(format!("Invalid StreamArn: {arn}")));
    }
    state.streams.stream(&ctx.account_id, &ctx.region, arn).ok_or_else(|| stream_not_found(arn))
}

fn key_schema(stream: &Stream) -> Vec<KeySchemaElement> {
    let mut out = vec![KeySchemaElement { attribute_name: stream.key.hash.0.clone(), key_type: "HASH".into() }];
    if let Some((name, _)) = &stream.key.range {
        out.push(KeySchemaElement { attribute_name: name.clone(), key_type: "RANGE".into() });
    }
    out
}

pub async fn list_streams(
    state: Arc<StreamsState>,
    ctx: RequestContext,
    input: ListStreamsInput,
) -> Result<ListStreamsOutput, AwsError> {
    let limit = check_limit(input.limit, 100, 100)?;
    let all = state.streams.list(&ctx.account_id, &ctx.region, input.table_name.as_deref());
    let start = match &input.exclusive_start_stream_arn {
        Some(arn) => all.partition_point(|s| s.arn.as_str() <= arn.as_str()),
        None => 0,
    };
    let page = &all[start..all.len().min(start + limit)];
    let more = start + page.len() < all.len();
    Ok(ListStreamsOutput {
        last_evaluated_stream_arn: if more { page.last().map(|s| s.arn.clone()) } else { None },
        streams: Some(
            page.iter()
                .map(|s| crate::generated::types::Stream {
                    stream_arn: Some(s.arn.clone()),
                    table_name: Some(s.table_name.clone()),
                    stream_label: Some(s.label.clone()),
                })
                .collect(),
        ),
    })
}

pub async fn describe_stream(
    state: Arc<StreamsState>,
    ctx: RequestContext,
    input: DescribeStreamInput,
) -> Result<DescribeStreamOutput, AwsError> {
    check_limit(input.limit, 100, 100)?;
    let stream = find_stream(&state, &ctx, &input.stream_arn)?;
    let (start, end) = stream.sequence_range();
    // One shard per stream: it has no children, and nothing follows it.
    let shards = if input.shard_filter.is_some() || input.exclusive_start_shard_id.as_deref() == Some(&stream.shard_id)
    {
        vec![]
    } else {
        vec![Shard {
            shard_id: Some(stream.shard_id.clone()),
            sequence_number_range: Some(SequenceNumberRange {
                starting_sequence_number: Some(format_sequence(start)),
                ending_sequence_number: end.map(format_sequence),
            }),
            parent_shard_id: None,
        }]
    };
    Ok(DescribeStreamOutput {
        stream_description: Some(StreamDescription {
            stream_arn: Some(stream.arn.clone()),
            stream_label: Some(stream.label.clone()),
            stream_status: Some(if stream.is_enabled() { "ENABLED" } else { "DISABLED" }.into()),
            stream_view_type: Some(stream.view_type.as_str().into()),
            creation_request_date_time: Some(stream.created),
            table_name: Some(stream.table_name.clone()),
            key_schema: Some(key_schema(&stream)),
            shards: Some(shards),
            last_evaluated_shard_id: None,
        }),
    })
}

pub async fn get_shard_iterator(
    state: Arc<StreamsState>,
    ctx: RequestContext,
    input: GetShardIteratorInput,
) -> Result<GetShardIteratorOutput, AwsError> {
    let stream = find_stream(&state, &ctx, &input.stream_arn)?;
    if input.shard_id != stream.shard_id {
        return Err(AwsError::bad_request(
            "ResourceNotFoundException",
            "Requested resource not found: Shard does not exist",
        ));
    }
    let sequence = || -> Result<u64, AwsError> {
        let given = input.sequence_number.as_deref().ok_or_else(|| {
            validation(format!("SequenceNumber is required for ShardIteratorType {}", input.shard_iterator_type))
        })?;
        parse_sequence(given).filter(|n| *n > 0).ok_or_else(|| validation(format!("Invalid SequenceNumber: {given}")))
    };
    let after = match input.shard_iterator_type.as_str() {
        "TRIM_HORIZON" => stream.trim_horizon(),
        "LATEST" => stream.latest(),
        "AT_SEQUENCE_NUMBER" => sequence()? - 1,
        "AFTER_SEQUENCE_NUMBER" => sequence()?,
        "AT_TIMESTAMP" => {
            let at = input
                .timestamp
                .ok_or_else(|| validation("Timestamp is required for ShardIteratorType AT_TIMESTAMP"))?;
            if at > Timestamp::now() {
                return Err(validation("The timestamp provided is in the future"));
            }
            stream.position_at(at.millis)
        }
        other => return Err(validation(format!("Invalid ShardIteratorType: {other}"))),
    };
    match stream.check_position(after) {
        Err(ReadError::Trimmed) => return Err(trimmed()),
        Err(ReadError::BeyondEnd) => {
            return Err(validation(format!(
                "Invalid SequenceNumber: {}",
                input.sequence_number.as_deref().unwrap_or_default()
            )));
        }
        Ok(()) => {}
    }
    let iterator = ShardIterator { stream_arn: stream.arn.clone(), after, issued_millis: Timestamp::now().millis };
    Ok(GetShardIteratorOutput { shard_iterator: Some(iterator.encode()) })
}

pub async fn get_records(
    state: Arc<StreamsState>,
    ctx: RequestContext,
    input: GetRecordsInput,
) -> Result<GetRecordsOutput, AwsError> {
    let limit = check_limit(input.limit, 1000, 1000)?;
    let invalid = || validation("Invalid ShardIterator");
    let iterator = ShardIterator::decode(&input.shard_iterator).ok_or_else(invalid)?;
    let now = Timestamp::now().millis;
    if iterator.is_expired(now) {
        return Err(AwsError::bad_request(
            "ExpiredIteratorException",
            "The provided iterator exceeds the maximum age allowed.",
        ));
    }
    let stream = find_stream(&state, &ctx, &iterator.stream_arn)?;
    let page = stream.read(iterator.after, limit, |r| record(&stream, r, &ctx.region)).map_err(|e| match e {
        ReadError::Trimmed => trimmed(),
        ReadError::BeyondEnd => invalid(),
    })?;
    // A closed shard read to its end has no next iterator: the consumer is done with it.
    let next = (!page.finished)
        .then(|| ShardIterator { stream_arn: stream.arn.clone(), after: page.after, issued_millis: now }.encode());
    Ok(GetRecordsOutput { records: Some(page.records), next_shard_iterator: next })
}
