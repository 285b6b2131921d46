//! Log events: PutLogEvents (with AWS's batch rules), GetLogEvents (forward and backward tokens)
//! and FilterLogEvents (across streams, with filter patterns).

use super::{group, group_mut, group_name, invalid, stream};
use crate::filter::Pattern;
use crate::generated::types::*;
use crate::state::{EVENT_OVERHEAD, Event, LogsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// The largest PutLogEvents batch, counting 26 bytes per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Events returned by one GetLogEvents / FilterLogEvents call by default (and at most).
const MAX_EVENTS: usize = 10_000;
/// The response size AWS fills pages up to.
const MAX_RESPONSE_BYTES: usize = 1_048_576;

pub async fn put_log_events(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutLogEventsRequest,
) -> Result<PutLogEventsResponse, AwsError> {
    let events = &input.log_events;
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(invalid("Log events in a single PutLogEvents request must be in chronological order."));
    }
    let size: usize = events.iter().map(|e| e.message.len() + EVENT_OVERHEAD).sum();
    if size > MAX_BATCH_BYTES {
        return Err(invalid(format!("Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")));
    }
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let group = group_mut(&mut region, &input.log_group_name)?;
    let retention = group.retention_days;
    let log_stream = group.streams.get_mut(&input.log_stream_name).ok_or_else(super::stream_not_found)?;

    // Events are in time order, so the rejected ones are a prefix (too old, expired) and a
    // suffix (too new) of the batch.
    let too_old_end = events.partition_point(|e| e.timestamp < now - 14 * DAY);
    let expired_end = match retention {
        Some(days) => events.partition_point(|e| e.timestamp < now - i64::from(days) * DAY),
        None => 0,
    };
    let too_new_start = events.partition_point(|e| e.timestamp <= now + 2 * HOUR);
    let accepted_start = too_old_end.max(expired_end).min(too_new_start);
    let accepted = &events[accepted_start..too_new_start];
    if let (Some(first), Some(last)) = (accepted.first(), accepted.last())
        && last.timestamp - first.timestamp > DAY
    {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let total = events.len();
    let rejected = (too_old_end > 0 || expired_end > 0 || too_new_start < total).then(|| RejectedLogEventsInfo {
        too_new_log_event_start_index: (too_new_start < total).then_some(too_new_start as i32),
        too_old_log_event_end_index: (too_old_end > 0).then_some(too_old_end as i32),
        expired_log_event_end_index: (expired_end > 0).then_some(expired_end as i32),
    });
    let count = too_new_start - accepted_start;
    let first_id = state.reserve_event_ids(count);
    // The request owns its messages: move them into the stream instead of copying.
    let accepted = input.log_events.into_iter().skip(accepted_start).take(count);
    let added = log_stream.insert(accepted.enumerate().map(|(i, e)| Event {
        timestamp: e.timestamp,
        ingestion_time: now,
        message: e.message,
        id: first_id + i as u64,
    }));
    state.add_stored(added);
    Ok(PutLogEventsResponse {
        next_sequence_token: Some(log_stream.sequence_token()),
        rejected_log_events_info: rejected,
        rejected_entity_info: None,
    })
}

/// A GetLogEvents position: `f/<index>/s` reads forward from an index, `b/<index>/s` backward
/// before it. Indexes count events of the stream in time order.
#[derive(Debug, PartialEq)]
enum Cursor {
    Forward(usize),
    Backward(usize),
}

fn parse_cursor(token: &str) -> Result<Cursor, AwsError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let token = token.strip_suffix("/s").unwrap_or(token);
    let (dir, n) = token.split_once('/').ok_or_else(bad)?;
    let n: usize = n.parse().map_err(|_| bad())?;
    match dir {
        "f" => Ok(Cursor::Forward(n)),
        "b" => Ok(Cursor::Backward(n)),
        _ => Err(bad()),
    }
}

fn cursor_token(dir: char, index: usize) -> String {
    // AWS's shape: direction, 56 digits, `/s`.
    format!("{dir}/{index:056}/s")
}

pub async fn get_log_events(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetLogEventsRequest,
) -> Result<GetLogEventsResponse, AwsError> {
    let name = group_name(&input.log_group_name, &input.log_group_identifier)?;
    let cursor = input.next_token.as_deref().map(parse_cursor).transpose()?;
    let limit = input.limit.map_or(MAX_EVENTS, |l| l.clamp(1, MAX_EVENTS as i32) as usize);
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let group = group(&region, name)?;
    let log_stream = stream(group, &input.log_stream_name)?;
    // Expired events are gone for readers even before they are dropped.
    let cutoff = group.retention_cutoff(now_millis());
    let events = &log_stream.events;
    // The time window as an index range [lo, hi): startTime inclusive, endTime exclusive.
    let start = input.start_time.map_or(cutoff, |t| t.max(cutoff));
    let lo = events.partition_point(|e| e.timestamp < start);
    let hi = input.end_time.map_or(events.len(), |t| events.partition_point(|e| e.timestamp < t)).max(lo);
    let (start, end) = match cursor {
        Some(Cursor::Forward(n)) => {
            let start = n.clamp(lo, hi);
            (start, fill_forward(events, start, hi, limit))
        }
        Some(Cursor::Backward(n)) => {
            let end = n.clamp(lo, hi);
            (fill_backward(events, lo, end, limit), end)
        }
        None if input.start_from_head.unwrap_or(false) => (lo, fill_forward(events, lo, hi, limit)),
        None => (fill_backward(events, lo, hi, limit), hi),
    };
    let page = events[start..end]
        .iter()
        .map(|e| OutputLogEvent {
            timestamp: Some(e.timestamp),
            message: Some(e.message.clone()),
            ingestion_time: Some(e.ingestion_time),
        })
        .collect();
    Ok(GetLogEventsResponse {
        events: Some(page),
        next_forward_token: Some(cursor_token('f', end)),
        next_backward_token: Some(cursor_token('b', start)),
    })
}

/// The end of a forward page from `start`: up to `limit` events and 1 MB.
fn fill_forward(events: &[Event], start: usize, hi: usize, limit: usize) -> usize {
    let mut bytes = 0;
    let mut end = start;
    while end < hi && end - start < limit {
        bytes += events[end].message.len() + EVENT_OVERHEAD;
        if bytes > MAX_RESPONSE_BYTES && end > start {
            break;
        }
        end += 1;
    }
    end
}

/// The start of a backward page ending at `end`: up to `limit` events and 1 MB.
fn fill_backward(events: &[Event], lo: usize, end: usize, limit: usize) -> usize {
    let mut bytes = 0;
    let mut start = end;
    while start > lo && end - start < limit {
        bytes += events[start - 1].message.len() + EVENT_OVERHEAD;
        if bytes > MAX_RESPONSE_BYTES && start < end {
            break;
        }
        start -= 1;
    }
    start
}

pub async fn filter_log_events(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: FilterLogEventsRequest,
) -> Result<FilterLogEventsResponse, AwsError> {
    let name = group_name(&input.log_group_name, &input.log_group_identifier)?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(invalid("Cannot specify both logStreamNames and logStreamNamePrefix."));
    }
    let pattern = Pattern::parse(input.filter_pattern.as_deref().unwrap_or("")).map_err(|e| invalid(e.0))?;
    let after = input.next_token.as_deref().map(parse_filter_token).transpose()?;
    let limit = input.limit.map_or(MAX_EVENTS, |l| l.clamp(1, MAX_EVENTS as i32) as usize);
    let (start, end) = (input.start_time.unwrap_or(i64::MIN), input.end_time.unwrap_or(i64::MAX));

    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let group = group(&region, name)?;
    let start = start.max(group.retention_cutoff(now_millis()));
    let streams: Vec<_> = match &input.log_stream_names {
        Some(names) => names.iter().filter_map(|n| group.streams.get(n)).collect(),
        None => group
            .streams
            .values()
            .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|p| s.name.starts_with(p)))
            .collect(),
    };
    // Matching events of every stream, interleaved by time (then by arrival).
    let mut matched: Vec<(&str, &Event)> = Vec::new();
    for s in &streams {
        let from = s.events.partition_point(|e| e.timestamp < start);
        for e in s.events[from..].iter().take_while(|e| e.timestamp <= end) {
            if after.is_some_and(|key| (e.timestamp, e.id) <= key) || !pattern.matches(&e.message) {
                continue;
            }
            matched.push((s.name.as_str(), e));
        }
    }
    matched.sort_unstable_by_key(|(_, e)| (e.timestamp, e.id));
    let mut events = Vec::with_capacity(matched.len().min(limit));
    let mut bytes = 0;
    for (stream, e) in &matched {
        bytes += e.message.len() + EVENT_OVERHEAD;
        if events.len() == limit || (bytes > MAX_RESPONSE_BYTES && !events.is_empty()) {
            break;
        }
        events.push(FilteredLogEvent {
            log_stream_name: Some(stream.to_string()),
            timestamp: Some(e.timestamp),
            message: Some(e.message.clone()),
            ingestion_time: Some(e.ingestion_time),
            event_id: Some(format!("{:056}", e.id)),
        });
    }
    // Pages always hold at least one event, so a shorter page has a last one to resume after.
    let next_token = match events.len().checked_sub(1) {
        Some(last) if events.len() < matched.len() => {
            Some(filter_token((matched[last].1.timestamp, matched[last].1.id)))
        }
        _ => None,
    };
    let searched = streams
        .iter()
        .map(|s| SearchedLogStream { log_stream_name: Some(s.name.clone()), searched_completely: Some(true) })
        .collect();
    Ok(FilterLogEventsResponse { events: Some(events), searched_log_streams: Some(searched), next_token })
}

/// FilterLogEvents tokens carry the (timestamp, id) of the last event returned.
fn filter_token(key: (i64, u64)) -> String {
    super::name_token(&format!("{}:{}", key.0, key.1))
}

fn parse_filter_token(token: &str) -> Result<(i64, u64), AwsError> {
    let text = super::parse_name_token(token)?;
    text.split_once(':')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| invalid("The specified nextToken is invalid."))
}

/// Appends events for other services (Lambda), creating the group and stream when missing.
/// Events need not be sorted; none are rejected.
pub(crate) fn append(
    state: &LogsState,
    account: &str,
    region: &str,
    group_name: &str,
    stream_name: &str,
    events: impl IntoIterator<Item = (i64, String)>,
) {
    let now = now_millis();
    let mut events: Vec<(i64, String)> = events.into_iter().collect();
    events.sort_by_key(|(t, _)| *t);
    let first_id = state.reserve_event_ids(events.len());
    let region = state.region(&Arc::from(account), &Arc::from(region));
    let mut region = region.write();
    let group = region
        .groups
        .entry(group_name.to_string())
        .or_insert_with(|| crate::state::LogGroup::new(group_name.to_string(), now));
    let log_stream = group
        .streams
        .entry(stream_name.to_string())
        .or_insert_with(|| crate::state::LogStream::new(stream_name.to_string(), now));
    let added = log_stream.insert(events.into_iter().enumerate().map(|(i, (timestamp, message))| Event {
        timestamp,
        ingestion_time: now,
        message,
        id: first_id + i as u64,
    }));
    state.add_stored(added);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor(&cursor_token('f', 12)).unwrap(), Cursor::Forward(12));
        assert_eq!(parse_cursor(&cursor_token('b', 0)).unwrap(), Cursor::Backward(0));
        assert!(parse_cursor("x/1").is_err());
        assert!(parse_cursor("f/abc").is_err());
        assert_eq!(parse_filter_token(&filter_token((-5, 7))).unwrap(), (-5, 7));
    }
}
