//! Log events: PutLogEvents (with AWS's batch rules), GetLogEvents (forward and backward tokens)
//! and FilterLogEvents (across streams, with filter patterns).

use super::{group, group_name, invalid, stream};
use crate::filter::Pattern;
use crate::generated::types::*;
use crate::state::{EVENT_OVERHEAD, Event, LogGroup, LogStream, LogsState, Pos, Region, StreamKey, now_millis};
use ruststack_core::store::Write;
use ruststack_core::{AwsError, RequestContext};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Bound;
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
    let group = group(&region, &input.log_group_name)?;
    let retention = group.retention_days;
    let log_stream = stream(group, &input.log_stream_name)?;
    let subscriptions: Vec<_> = group.subscription_filters.values().cloned().collect();

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
    // The request owns its messages: move them into the events instead of copying.
    let accepted: Vec<Event> = input
        .log_events
        .into_iter()
        .skip(accepted_start)
        .take(count)
        .enumerate()
        .map(|(i, e)| Event {
            timestamp: e.timestamp,
            ingestion_time: now,
            message: e.message,
            id: first_id + i as u64,
        })
        .collect();
    let mut updated = log_stream.clone();
    let added = store_events(&state, &region, &input.log_group_name, &mut updated, &accepted)?;
    let token = updated.sequence_token();
    set_stream(&mut region, &input.log_group_name, updated);
    state.add_stored(added);
    drop(region);
    super::filters::deliver(
        &state,
        &ctx.account_id,
        &input.log_group_name,
        &input.log_stream_name,
        &subscriptions,
        &accepted,
    );
    Ok(PutLogEventsResponse {
        next_sequence_token: Some(token),
        rejected_log_events_info: rejected,
        rejected_entity_info: None,
    })
}

/// Stores a batch of events with the stream's updated record, in one write; returns the bytes added.
fn store_events(
    state: &LogsState,
    region: &Region,
    group: &str,
    updated: &mut LogStream,
    events: &[Event],
) -> Result<u64, AwsError> {
    let added = updated.record_batch(events);
    let key = region.stream_key(group, &updated.name);
    let mut writes: Vec<Write> = events.iter().map(|e| key.put_event(e)).collect();
    writes.push(region.put_stream(group, updated));
    state.commit(writes)?;
    Ok(added)
}

fn set_stream(region: &mut Region, group: &str, updated: LogStream) {
    if let Some(g) = region.groups.get_mut(group) {
        g.streams.insert(updated.name.clone(), updated);
    }
}

/// A GetLogEvents position: `f/<pos>/s` reads forward from a position, `b/<pos>/s` backward
/// before it. Positions are (timestamp, event id) pairs, written as one 56-digit number.
#[derive(Debug, PartialEq)]
enum Cursor {
    Forward(Pos),
    Backward(Pos),
}

fn parse_cursor(token: &str) -> Result<Cursor, AwsError> {
    let bad = || invalid("The specified nextToken is invalid.");
    let token = token.strip_suffix("/s").unwrap_or(token);
    let (dir, n) = token.split_once('/').ok_or_else(bad)?;
    let n: u128 = n.parse().map_err(|_| bad())?;
    match dir {
        "f" => Ok(Cursor::Forward(Pos::from_u128(n))),
        "b" => Ok(Cursor::Backward(Pos::from_u128(n))),
        _ => Err(bad()),
    }
}

fn cursor_token(dir: char, pos: Pos) -> String {
    // AWS's shape: direction, 56 digits, `/s`.
    format!("{dir}/{:056}/s", pos.to_u128())
}

pub async fn get_log_events(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetLogEventsRequest,
) -> Result<GetLogEventsResponse, AwsError> {
    let name = group_name(&input.log_group_name, &input.log_group_identifier)?;
    let cursor = input.next_token.as_deref().map(parse_cursor).transpose()?;
    let limit = input.limit.map_or(MAX_EVENTS, |l| l.clamp(1, MAX_EVENTS as i32) as usize);
    let (key, cutoff) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let group = group(&region, name)?;
        stream(group, &input.log_stream_name)?;
        // Expired events are gone for readers even before they are dropped.
        (region.stream_key(name, &input.log_stream_name), group.retention_cutoff(now_millis()))
    };
    // The time window [lo, hi): startTime inclusive, endTime exclusive.
    let start = input.start_time.map_or(cutoff, |t| t.max(cutoff));
    let lo = Pos { timestamp: start, id: 0 };
    let hi = input.end_time.map_or(Pos::MAX, |t| Pos { timestamp: t, id: 0 }).max(lo);
    let forward = |from: Pos| {
        let page = take_page(state.events(&key, Bound::Included(from), Bound::Excluded(hi), false), limit);
        let end = page.last().map_or(from, |e| e.pos().next());
        (from, page, end)
    };
    let backward = |to: Pos| {
        let mut page = take_page(state.events(&key, Bound::Included(lo), Bound::Excluded(to), true), limit);
        page.reverse();
        let start = page.first().map_or(to, Event::pos);
        (start, page, to)
    };
    let (start, page, end) = match cursor {
        Some(Cursor::Forward(p)) => forward(p.clamp(lo, hi)),
        Some(Cursor::Backward(p)) => backward(p.clamp(lo, hi)),
        None if input.start_from_head.unwrap_or(false) => forward(lo),
        None => {
            // The tail: the position right after the window's last event, so that the forward
            // token picks up events that arrive later.
            let tail = state
                .events(&key, Bound::Included(lo), Bound::Excluded(hi), true)
                .next()
                .map_or(lo, |e| e.pos().next());
            backward(tail)
        }
    };
    let page = page
        .into_iter()
        .map(|e| OutputLogEvent {
            timestamp: Some(e.timestamp),
            message: Some(e.message),
            ingestion_time: Some(e.ingestion_time),
        })
        .collect();
    Ok(GetLogEventsResponse {
        events: Some(page),
        next_forward_token: Some(cursor_token('f', end)),
        next_backward_token: Some(cursor_token('b', start)),
    })
}

/// Up to `limit` events and 1 MB (but at least one event) from `events`.
fn take_page(events: impl Iterator<Item = Event>, limit: usize) -> Vec<Event> {
    let mut bytes = 0;
    let mut page = Vec::new();
    for e in events.take(limit) {
        bytes += e.message.len() + EVENT_OVERHEAD;
        if bytes > MAX_RESPONSE_BYTES && !page.is_empty() {
            break;
        }
        page.push(e);
    }
    page
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

    let (streams, start) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let group = group(&region, name)?;
        let start = start.max(group.retention_cutoff(now_millis()));
        let streams: Vec<(String, StreamKey)> = match &input.log_stream_names {
            Some(names) => names.iter().filter(|n| group.streams.contains_key(*n)).cloned().collect::<Vec<_>>(),
            None => group
                .streams
                .values()
                .filter(|s| input.log_stream_name_prefix.as_deref().is_none_or(|p| s.name.starts_with(p)))
                .map(|s| s.name.clone())
                .collect(),
        }
        .into_iter()
        .map(|s| {
            let key = region.stream_key(name, &s);
            (s, key)
        })
        .collect();
        (streams, start)
    };
    // Each stream read from the store in time order from the resume point; the pages merge
    // them by (time, id), so only a chunk per stream is in memory at once.
    let from = Pos { timestamp: start, id: 0 }.max(after.map_or(Pos::MIN, Pos::next));
    let to = Pos { timestamp: end, id: u64::MAX };
    let mut scans: Vec<_> = streams
        .iter()
        .map(|(_, key)| {
            state
                .events(key, Bound::Included(from), Bound::Included(to), false)
                .filter(|e| pattern.matches(&e.message))
                .peekable()
        })
        .collect();
    let mut heads: BinaryHeap<Reverse<(Pos, usize)>> = BinaryHeap::new();
    for (i, scan) in scans.iter_mut().enumerate() {
        if let Some(e) = scan.peek() {
            heads.push(Reverse((e.pos(), i)));
        }
    }
    let mut events = Vec::with_capacity(limit.min(64));
    let mut bytes = 0;
    let mut last = None;
    while let Some(Reverse((_, i))) = heads.peek().copied() {
        let e = scans[i].peek().expect("a stream in the heap has a next event");
        bytes += e.message.len() + EVENT_OVERHEAD;
        if events.len() == limit || (bytes > MAX_RESPONSE_BYTES && !events.is_empty()) {
            break;
        }
        heads.pop();
        let e = scans[i].next().expect("peeked");
        if let Some(next) = scans[i].peek() {
            heads.push(Reverse((next.pos(), i)));
        }
        last = Some(e.pos());
        events.push(FilteredLogEvent {
            log_stream_name: Some(streams[i].0.clone()),
            timestamp: Some(e.timestamp),
            message: Some(e.message),
            ingestion_time: Some(e.ingestion_time),
            event_id: Some(format!("{:056}", e.id)),
        });
    }
    // Pages always hold at least one event, so a shorter page has a last one to resume after.
    let next_token = match last {
        Some(pos) if !heads.is_empty() => Some(filter_token((pos.timestamp, pos.id))),
        _ => None,
    };
    let searched = streams
        .into_iter()
        .map(|(s, _)| SearchedLogStream { log_stream_name: Some(s), searched_completely: Some(true) })
        .collect();
    Ok(FilterLogEventsResponse { events: Some(events), searched_log_streams: Some(searched), next_token })
}

/// FilterLogEvents tokens carry the (timestamp, id) of the last event returned.
fn filter_token(key: (i64, u64)) -> String {
    super::name_token(&format!("{}:{}", key.0, key.1))
}

fn parse_filter_token(token: &str) -> Result<Pos, AwsError> {
    let text = super::parse_name_token(token)?;
    text.split_once(':')
        .and_then(|(t, id)| Some(Pos { timestamp: t.parse().ok()?, id: id.parse().ok()? }))
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
) -> Result<(), AwsError> {
    let now = now_millis();
    let mut events: Vec<(i64, String)> = events.into_iter().collect();
    events.sort_by_key(|(t, _)| *t);
    let first_id = state.reserve_event_ids(events.len());
    let events: Vec<Event> = events
        .into_iter()
        .enumerate()
        .map(|(i, (timestamp, message))| Event { timestamp, ingestion_time: now, message, id: first_id + i as u64 })
        .collect();
    let region = state.region(&Arc::from(account), &Arc::from(region));
    let mut region = region.write();
    let group = region.groups.get(group_name);
    let subscriptions: Vec<_> = group.map(|g| g.subscription_filters.values().cloned().collect()).unwrap_or_default();
    let mut updated = group
        .and_then(|g| g.streams.get(stream_name))
        .cloned()
        .unwrap_or_else(|| LogStream::new(stream_name.into(), now));
    let added = match group {
        Some(_) => store_events(state, &region, group_name, &mut updated, &events)?,
        None => {
            // A new group: its record goes in the same write as its first events.
            let new_group = LogGroup::new(group_name.to_string(), now);
            let added = updated.record_batch(&events);
            let key = region.stream_key(group_name, stream_name);
            let mut writes: Vec<Write> = events.iter().map(|e| key.put_event(e)).collect();
            writes.push(region.put_group(&new_group));
            writes.push(region.put_stream(group_name, &updated));
            state.commit(writes)?;
            region.groups.insert(group_name.to_string(), new_group);
            added
        }
    };
    set_stream(&mut region, group_name, updated);
    state.add_stored(added);
    drop(region);
    super::filters::deliver(state, account, group_name, stream_name, &subscriptions, &events);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let p = Pos { timestamp: -3, id: 12 };
        assert_eq!(parse_cursor(&cursor_token('f', p)).unwrap(), Cursor::Forward(p));
        assert_eq!(parse_cursor(&cursor_token('b', Pos::MAX)).unwrap(), Cursor::Backward(Pos::MAX));
        assert_eq!(cursor_token('f', Pos::MAX).len(), 60);
        assert!(parse_cursor("x/1").is_err());
        assert!(parse_cursor("f/abc").is_err());
        assert_eq!(parse_filter_token(&filter_token((-5, 7))).unwrap(), Pos { timestamp: -5, id: 7 });
    }
}
