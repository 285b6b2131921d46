//! Log streams: create, delete, describe.

use super::{group, group_arn, group_mut, group_name, invalid, name_token, parse_name_token, stream};
use crate::generated::types::*;
use crate::state::{LogStream, LogsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

pub async fn create_log_stream(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: CreateLogStreamRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if group(&region, &input.log_group_name)?.streams.contains_key(&input.log_stream_name) {
        return Err(AwsError::bad_request("ResourceAlreadyExistsException", "The specified log stream already exists"));
    }
    let stream = LogStream::new(input.log_stream_name.clone(), now_millis());
    let write = region.put_stream(&input.log_group_name, &stream);
    state.commit(vec![write])?;
    group_mut(&mut region, &input.log_group_name)?.streams.insert(input.log_stream_name, stream);
    Ok(())
}

pub async fn delete_log_stream(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteLogStreamRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let bytes = stream(group(&region, &input.log_group_name)?, &input.log_stream_name)?.stored_bytes;
    let writes = region.delete_stream(&*state.kv, &input.log_group_name, &input.log_stream_name);
    state.commit(writes)?;
    group_mut(&mut region, &input.log_group_name)?.streams.remove(&input.log_stream_name);
    state.remove_stored(bytes);
    Ok(())
}

pub async fn describe_log_streams(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeLogStreamsRequest,
) -> Result<DescribeLogStreamsResponse, AwsError> {
    let name = group_name(&input.log_group_name, &input.log_group_identifier)?;
    let by_time = match input.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => return Err(invalid(format!("Invalid orderBy value: {other}"))),
    };
    if by_time && input.log_stream_name_prefix.is_some() {
        return Err(invalid("Cannot order by LastEventTime with a logStreamNamePrefix."));
    }
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let offset = match &input.next_token {
        Some(t) => parse_name_token(t)?.parse::<usize>().map_err(|_| invalid("The specified nextToken is invalid."))?,
        None => 0,
    };
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let group = group(&region, name)?;
    let mut streams: Vec<&LogStream> = group
        .streams
        .values()
        .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|p| s.name.starts_with(p)))
        .collect();
    if by_time {
        // Streams without events sort by creation, as AWS does.
        streams.sort_by_key(|s| s.last_event_timestamp().unwrap_or(s.created));
    }
    if input.descending.unwrap_or(false) {
        streams.reverse();
    }
    let arn = group_arn(&ctx, name);
    let page: Vec<_> = streams
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| crate::generated::types::LogStream {
            log_stream_name: Some(s.name.clone()),
            creation_time: Some(s.created),
            first_event_timestamp: s.first_event_timestamp(),
            last_event_timestamp: s.last_event_timestamp(),
            last_ingestion_time: s.last_ingestion,
            upload_sequence_token: Some(s.sequence_token()),
            arn: Some(format!("{arn}:log-stream:{}", s.name)),
            stored_bytes: Some(0),
        })
        .collect();
    let next = offset + page.len();
    let next_token = (next < streams.len()).then(|| name_token(&next.to_string()));
    Ok(DescribeLogStreamsResponse { log_streams: Some(page), next_token })
}
