//! DynamoDB Streams' change log: every write to a table whose stream is enabled appends a record
//! under the table's write lock (so records follow write order exactly). A stream outlives being
//! disabled, and its table: it stays readable (status DISABLED, its one shard closed) for the 24
//! hours AWS keeps records. The `dynamodbstreams` service and Lambda event source mappings read
//! streams through [`StreamsHandle`].

use crate::DynamoDb;
use crate::persist::RecordSource;
use crate::table::KeyDef;
use crate::value::{AttrValue, Item, item_size};
use parking_lot::Mutex;
use ruststack_core::Timestamp;
use std::collections::VecDeque;
use std::sync::Arc;

/// Records are kept 24 hours, as AWS keeps them; so are disabled streams.
pub const RETENTION_MILLIS: i64 = 24 * 3600 * 1000;

/// At most this many bytes of records are returned by one read (GetRecords' 1 MB).
pub const MAX_READ_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    pub fn parse(s: &str) -> Option<EventName> {
        Some(match s {
            "INSERT" => EventName::Insert,
            "MODIFY" => EventName::Modify,
            "REMOVE" => EventName::Remove,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }
}

/// What a stream's records carry besides the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewType {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

impl ViewType {
    pub fn parse(s: &str) -> Option<ViewType> {
        Some(match s {
            "KEYS_ONLY" => ViewType::KeysOnly,
            "NEW_IMAGE" => ViewType::NewImage,
            "OLD_IMAGE" => ViewType::OldImage,
            "NEW_AND_OLD_IMAGES" => ViewType::NewAndOldImages,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ViewType::KeysOnly => "KEYS_ONLY",
            ViewType::NewImage => "NEW_IMAGE",
            ViewType::OldImage => "OLD_IMAGE",
            ViewType::NewAndOldImages => "NEW_AND_OLD_IMAGES",
        }
    }

    fn keeps_new(self) -> bool {
        matches!(self, ViewType::NewImage | ViewType::NewAndOldImages)
    }

    fn keeps_old(self) -> bool {
        matches!(self, ViewType::OldImage | ViewType::NewAndOldImages)
    }
}

/// One change, holding only the images its stream's view type shows.
#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// Increasing by one within the stream (see [`format_sequence`] for the wire form).
    pub sequence: u64,
    /// `eventID`: random, 32 hex digits.
    pub id: u128,
    pub event: EventName,
    pub at: Timestamp,
    pub keys: Item,
    pub old: Option<Item>,
    pub new: Option<Item>,
    /// `SizeBytes`: keys plus the images shown.
    pub size: usize,
    /// A deletion by TTL (userIdentity `dynamodb.amazonaws.com`, type `Service`).
    pub by_ttl: bool,
}

impl StreamRecord {
    pub fn event_id(&self) -> String {
        format!("{:032x}", self.id)
    }

    pub fn sequence_number(&self) -> String {
        format_sequence(self.sequence)
    }
}

/// The wire form of a sequence number: 21 decimal digits, so that string order is numeric order.
pub fn format_sequence(n: u64) -> String {
    format!("1{n:020}")
}

/// The inverse of [`format_sequence`] (`None`: not one of ours).
pub fn parse_sequence(s: &str) -> Option<u64> {
    let rest = s.strip_prefix('1').filter(|r| r.len() == 20 && r.bytes().all(|b| b.is_ascii_digit()))?;
    rest.parse().ok()
}

#[derive(Default)]
struct Log {
    /// The records in memory (memory mode; with `--data-dir` they are read from `source`).
    records: VecDeque<StreamRecord>,
    /// The sequence number of the newest record ever appended (0: none yet).
    last: u64,
    /// When the stream was disabled (its shard closed).
    disabled: Option<Timestamp>,
    /// The oldest sequence number that may still be in the kv store (`--data-dir`).
    stored_from: u64,
    /// With `--data-dir`: where the records are, and the oldest one kept (after a trim; `last + 1`
    /// when there is none).
    source: Option<(RecordSource, u64)>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log").field("last", &self.last).field("disabled", &self.disabled).finish_non_exhaustive()
    }
}

impl Log {
    /// The oldest sequence number still readable.
    fn horizon(&self) -> u64 {
        match &self.source {
            Some((_, first)) => (*first).min(self.last + 1),
            None => self.records.front().map_or(self.last + 1, |r| r.sequence),
        }
    }

    fn trim(&mut self, now: i64) {
        let last = self.last;
        if let Some((source, first)) = &mut self.source {
            // Moves `first` to the oldest record within the retention (a read per expired record).
            while *first <= last {
                match source.first_from(*first) {
                    Some(r) if now - r.at.millis > RETENTION_MILLIS => *first = r.sequence + 1,
                    Some(r) => {
                        *first = r.sequence;
                        return;
                    }
                    None => *first = last + 1,
                }
            }
            return;
        }
        while self.records.front().is_some_and(|r| now - r.at.millis > RETENTION_MILLIS) {
            self.records.pop_front();
        }
    }
}

/// Why a read cannot start where asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The position lies before the oldest record kept (TrimmedDataAccessException).
    Trimmed,
    /// The position lies after the newest record.
    BeyondEnd,
}

/// One page of records read after a position.
#[derive(Debug)]
pub struct ReadPage<T> {
    pub records: Vec<T>,
    /// Where the next read continues (the last record returned, or the position read from).
    pub after: u64,
    /// The stream is disabled and nothing is left after `after`: no further reads are needed.
    pub finished: bool,
}

/// One stream of a table: its identity, the key schema and view type it was created with, and
/// its one shard's records.
#[derive(Debug)]
pub struct Stream {
    pub arn: String,
    pub table_name: String,
    pub label: String,
    pub view_type: ViewType,
    pub key: KeyDef,
    pub created: Timestamp,
    pub shard_id: String,
    log: Mutex<Log>,
}

impl Stream {
    pub fn new(table_arn: &str, table_name: &str, label: String, view_type: ViewType, key: KeyDef) -> Stream {
        let created = Timestamp::now();
        Stream {
            arn: format!("{table_arn}/stream/{label}"),
            table_name: table_name.to_owned(),
            label,
            view_type,
            key,
            created,
            shard_id: format!("shardId-{:020}-{:08x}", created.millis.max(0), fastrand::u32(..)),
            log: Mutex::new(Log { stored_from: 1, ..Log::default() }),
        }
    }

    /// Appends the record of a write; no record when nothing changed. Called under the table's
    /// write lock, which orders the records as the writes.
    pub fn record(&self, keys: Item, old: Option<&Item>, new: Option<&Item>, by_ttl: bool) {
        if let Some(r) = self.prepare(keys, old, new, by_ttl, 0) {
            self.push(r);
        }
    }

    /// The record a write will append, numbered after the `pending` records prepared before it
    /// and not pushed yet (`None`: nothing changed, or the stream is disabled). The caller holds
    /// the table's write lock from here to [`Stream::push`], so no other record comes between.
    pub fn prepare(
        &self,
        keys: Item,
        old: Option<&Item>,
        new: Option<&Item>,
        by_ttl: bool,
        pending: u64,
    ) -> Option<StreamRecord> {
        let event = match (old, new) {
            (None, Some(_)) => EventName::Insert,
            (Some(o), Some(n)) if o == n => return None,
            (Some(_), Some(_)) => EventName::Modify,
            (Some(_), None) => EventName::Remove,
            (None, None) => return None,
        };
        let (last, disabled) = {
            let log = self.log.lock();
            (log.last, log.disabled.is_some())
        };
        if disabled {
            return None;
        }
        let old = old.filter(|_| self.view_type.keeps_old()).cloned();
        let new = new.filter(|_| self.view_type.keeps_new()).cloned();
        let size = item_size(&keys) + old.as_ref().map_or(0, item_size) + new.as_ref().map_or(0, item_size);
        Some(StreamRecord {
            sequence: last + 1 + pending,
            id: fastrand::u128(..),
            event,
            at: Timestamp::now(),
            keys,
            old,
            new,
            size,
            by_ttl,
        })
    }

    /// Sequence numbers of records past the retention whose stored copies are still to be
    /// deleted (at most `max`; they are deleted in the batch of the write asking, and a failed
    /// batch leaves them for the cleanup at the next start).
    pub fn take_expired_stored(&self, max: u64) -> std::ops::Range<u64> {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        let end = log.horizon().min(log.stored_from.saturating_add(max));
        let range = log.stored_from..end.max(log.stored_from);
        log.stored_from = range.end;
        range
    }

    /// Appends a prepared record (once its write is stored).
    pub fn push(&self, record: StreamRecord) {
        let mut log = self.log.lock();
        log.last = log.last.max(record.sequence);
        if log.source.is_some() {
            return; // stored by the write's batch
        }
        log.trim(record.at.millis);
        log.records.push_back(record);
    }

    /// Reads the records from the store from now on (a stream of a table in `--data-dir`).
    pub fn stored_in(self, source: Option<RecordSource>) -> Stream {
        {
            let mut log = self.log.lock();
            let first = log.last + 1;
            log.source = source.map(|s| (s, first));
        }
        self
    }

    /// A stream read back from the store: its newest sequence number ever, when it was
    /// disabled, and where its records are (read from there, none loaded).
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        arn: String,
        table_name: String,
        label: String,
        view_type: ViewType,
        key: KeyDef,
        created: Timestamp,
        shard_id: String,
        last: u64,
        disabled: Option<Timestamp>,
        source: RecordSource,
    ) -> Stream {
        let last = source.last().map_or(last, |r| r.sequence.max(last));
        let stored_from = source.first_from(0).map_or(last + 1, |r| r.sequence);
        let mut log =
            Log { records: VecDeque::new(), last, disabled, stored_from, source: Some((source, stored_from)) };
        log.trim(Timestamp::now().millis);
        Stream { arn, table_name, label, view_type, key, created, shard_id, log: Mutex::new(log) }
    }

    /// The newest sequence number ever and when the stream was disabled (for the store).
    pub fn last_and_disabled(&self) -> (u64, Option<Timestamp>) {
        let log = self.log.lock();
        (log.last, log.disabled)
    }

    /// Closes the shard: no more records, readable until the retention ends.
    pub fn disable(&self) {
        let mut log = self.log.lock();
        if log.disabled.is_none() {
            log.disabled = Some(Timestamp::now());
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.log.lock().disabled.is_none()
    }

    /// A disabled stream is forgotten once its records would all have expired.
    pub fn is_expired(&self, now: i64) -> bool {
        self.log.lock().disabled.is_some_and(|d| now - d.millis > RETENTION_MILLIS)
    }

    /// The shard's sequence number range: the oldest readable record (or the next to come), and
    /// for a closed shard the last one it will ever hold.
    pub fn sequence_range(&self) -> (u64, Option<u64>) {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        let start = log.horizon();
        (start, log.disabled.map(|_| log.last.max(start)))
    }

    /// The position just before the oldest readable record (TRIM_HORIZON).
    pub fn trim_horizon(&self) -> u64 {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        log.horizon() - 1
    }

    /// The position after the newest record (LATEST).
    pub fn latest(&self) -> u64 {
        self.log.lock().last
    }

    /// The position before the first record created at or after `millis` (AT_TIMESTAMP).
    pub fn position_at(&self, millis: i64) -> u64 {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        if let Some((source, first)) = &log.source {
            // Records are in time order: the first one at or after `millis`, a page at a time.
            let mut from = *first;
            loop {
                let page = source.range(from, log.last, 256);
                if let Some(r) = page.iter().find(|r| r.at.millis >= millis) {
                    return r.sequence - 1;
                }
                match page.last() {
                    Some(r) if page.len() == 256 => from = r.sequence + 1,
                    _ => return log.last,
                }
            }
        }
        let i = log.records.partition_point(|r| r.at.millis < millis);
        log.records.get(i).map_or(log.last, |r| r.sequence - 1)
    }

    /// Checks that reading may start after `after` (AT_/AFTER_SEQUENCE_NUMBER, GetRecords).
    pub fn check_position(&self, after: u64) -> Result<(), ReadError> {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        if after + 1 < log.horizon() {
            Err(ReadError::Trimmed)
        } else if after > log.last {
            Err(ReadError::BeyondEnd)
        } else {
            Ok(())
        }
    }

    /// Up to `limit` records after position `after` and at most [`MAX_READ_BYTES`] (at least
    /// one record), each converted by `f` under the log's lock (no copies of the images).
    pub fn read<T>(
        &self,
        after: u64,
        limit: usize,
        mut f: impl FnMut(&StreamRecord) -> T,
    ) -> Result<ReadPage<T>, ReadError> {
        let mut log = self.log.lock();
        log.trim(Timestamp::now().millis);
        if after + 1 < log.horizon() {
            return Err(ReadError::Trimmed);
        }
        if after > log.last {
            return Err(ReadError::BeyondEnd);
        }
        let mut records = Vec::new();
        let mut bytes = 0;
        let mut position = after;
        let mut take = |r: &StreamRecord| {
            if records.len() >= limit || (!records.is_empty() && bytes + r.size > MAX_READ_BYTES) {
                return false;
            }
            bytes += r.size;
            position = r.sequence;
            records.push(f(r));
            true
        };
        match &log.source {
            Some((source, _)) => {
                for r in source.range(after + 1, log.last, limit.min(10_000)) {
                    if !take(&r) {
                        break;
                    }
                }
            }
            None => {
                let start = log.records.partition_point(|r| r.sequence <= after);
                for r in log.records.range(start..) {
                    if !take(r) {
                        break;
                    }
                }
            }
        }
        Ok(ReadPage { records, after: position, finished: log.disabled.is_some() && position >= log.last })
    }
}

/// Whether `arn` has the shape of a stream ARN:
/// `arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>`.
pub fn parse_stream_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("dynamodb"), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let (table, label) = resource.strip_prefix("table/")?.split_once("/stream/")?;
    (!region.is_empty() && !account.is_empty() && !table.is_empty() && !label.is_empty())
        .then_some((region, account, table, label))
}

/// A cheap, cloneable view of DynamoDB's streams for the `dynamodbstreams` service and for
/// Lambda event source mappings.
#[derive(Clone)]
pub struct StreamsHandle {
    db: Arc<DynamoDb>,
}

impl StreamsHandle {
    pub(crate) fn new(db: Arc<DynamoDb>) -> StreamsHandle {
        StreamsHandle { db }
    }

    /// The streams of one account and region (optionally of one table), in ARN order; disabled
    /// streams past their retention are dropped on the way.
    pub fn list(&self, account: &str, region: &str, table: Option<&str>) -> Vec<Arc<Stream>> {
        let region = self.db.region_of(&Arc::from(account), &Arc::from(region));
        let now = Timestamp::now().millis;
        let mut streams = region.streams.write();
        streams.retain(|_, s| !s.is_expired(now));
        streams.values().filter(|s| table.is_none_or(|t| s.table_name == t)).cloned().collect()
    }

    /// A stream by ARN in one account and region.
    pub fn stream(&self, account: &str, region: &str, arn: &str) -> Option<Arc<Stream>> {
        let region = self.db.region_of(&Arc::from(account), &Arc::from(region));
        let stream = region.streams.read().get(arn).cloned()?;
        (!stream.is_expired(Timestamp::now().millis)).then_some(stream)
    }

    /// A stream by ARN alone (its account and region are part of it).
    pub fn stream_by_arn(&self, arn: &str) -> Option<Arc<Stream>> {
        let (region, account, _, _) = parse_stream_arn(arn)?;
        self.stream(account, region, arn)
    }

    /// For event source mappings starting at LATEST: the sequence number to read after
    /// (`None`: no such stream).
    pub fn latest_sequence(&self, arn: &str) -> Option<String> {
        self.stream_by_arn(arn).map(|s| format_sequence(s.latest()))
    }

    /// For event source mappings: up to `limit` records of the stream `arn` after the sequence
    /// number `after` (`None`: from the oldest record kept), rendered as Lambda's event records
    /// (the shape GetRecords returns, plus `eventSourceARN`). `Ok(None)`: no such stream.
    pub fn records_after(
        &self,
        arn: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Option<ReadPage<serde_json::Value>>, ReadError> {
        let Some(stream) = self.stream_by_arn(arn) else { return Ok(None) };
        let position = match after {
            Some(s) => parse_sequence(s).ok_or(ReadError::BeyondEnd)?,
            None => stream.trim_horizon(),
        };
        let (region, ..) = parse_stream_arn(arn).unwrap_or_default();
        let page = stream.read(position, limit, |r| {
            let mut event = event_json(&stream, r, region);
            event["eventSourceARN"] = serde_json::Value::String(stream.arn.clone());
            event
        })?;
        Ok(Some(page))
    }
}

/// An attribute value in its JSON wire form (`{"S": "x"}`, binaries in base64).
fn value_json(v: &AttrValue) -> serde_json::Value {
    use base64::Engine;
    use serde_json::{Value, json};
    let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
    match v {
        AttrValue::S(s) => json!({ "S": s }),
        AttrValue::N(n) => json!({ "N": n.to_string() }),
        AttrValue::B(b) => json!({ "B": b64(b) }),
        AttrValue::SS(v) => json!({ "SS": v }),
        AttrValue::NS(v) => json!({ "NS": v.iter().map(|n| n.to_string()).collect::<Vec<_>>() }),
        AttrValue::BS(v) => json!({ "BS": v.iter().map(|b| b64(b)).collect::<Vec<_>>() }),
        AttrValue::M(m) => json!({ "M": item_json(m) }),
        AttrValue::L(l) => json!({ "L": l.iter().map(value_json).collect::<Vec<_>>() }),
        AttrValue::Null => json!({ "NULL": true }),
        AttrValue::Bool(b) => json!({ "BOOL": b }),
    }
}

fn item_json(item: &Item) -> serde_json::Value {
    serde_json::Value::Object(item.iter().map(|(k, v)| (k.clone(), value_json(v))).collect())
}

/// A record as Lambda's DynamoDB events carry it: GetRecords' shape, except that `userIdentity`
/// has camel-case members (`type`, `principalId`) there.
pub fn event_json(stream: &Stream, r: &StreamRecord, region: &str) -> serde_json::Value {
    let mut dynamodb = serde_json::json!({
        "ApproximateCreationDateTime": r.at.millis.div_euclid(1000),
        "Keys": item_json(&r.keys),
        "SequenceNumber": r.sequence_number(),
        "SizeBytes": r.size,
        "StreamViewType": stream.view_type.as_str(),
    });
    if let Some(new) = &r.new {
        dynamodb["NewImage"] = item_json(new);
    }
    if let Some(old) = &r.old {
        dynamodb["OldImage"] = item_json(old);
    }
    let mut event = serde_json::json!({
        "eventID": r.event_id(),
        "eventName": r.event.as_str(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
    });
    if r.by_ttl {
        event["userIdentity"] = serde_json::json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"});
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ScalarType;

    fn item(v: &str) -> Item {
        [("pk".to_string(), AttrValue::S("k".into())), ("v".to_string(), AttrValue::S(v.into()))].into()
    }

    fn stream(view: ViewType) -> Stream {
        let key = KeyDef::new(("pk".into(), ScalarType::S), None);
        Stream::new("arn:aws:dynamodb:us-east-1:000000000000:table/t", "t", "2024-01-01T00:00:00.000".into(), view, key)
    }

    fn keys() -> Item {
        [("pk".to_string(), AttrValue::S("k".into()))].into()
    }

    #[test]
    fn records_follow_writes_and_keep_only_the_viewed_images() {
        let s = stream(ViewType::NewImage);
        s.record(keys(), None, Some(&item("1")), false);
        s.record(keys(), Some(&item("1")), Some(&item("1")), false);
        s.record(keys(), Some(&item("1")), Some(&item("2")), false);
        s.record(keys(), Some(&item("2")), None, true);
        s.record(keys(), None, None, false);
        let all = s.read(0, 10, Clone::clone).unwrap();
        let events: Vec<_> = all.records.iter().map(|r| r.event).collect();
        assert_eq!(events, [EventName::Insert, EventName::Modify, EventName::Remove]);
        assert_eq!(all.records.iter().map(|r| r.sequence).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(all.records.iter().all(|r| r.old.is_none()));
        assert!(all.records[2].by_ttl && all.records[2].new.is_none());
        assert_eq!(all.after, 3);
        assert!(!all.finished);
        assert_eq!(s.read(1, 1, |r| r.sequence).unwrap().records, [2]);
        assert_eq!(s.latest(), 3);
        assert_eq!(s.trim_horizon(), 0);
    }

    #[test]
    fn positions_outside_the_log_are_refused_and_a_closed_shard_finishes() {
        let s = stream(ViewType::KeysOnly);
        s.record(keys(), None, Some(&item("1")), false);
        s.record(keys(), Some(&item("1")), None, false);
        assert_eq!(s.check_position(3).unwrap_err(), ReadError::BeyondEnd);
        // Records older than the retention are trimmed: reading from before them fails.
        s.log.lock().records[0].at.millis -= RETENTION_MILLIS + 1;
        assert_eq!(s.read(0, 10, |r| r.sequence).unwrap_err(), ReadError::Trimmed);
        assert_eq!(s.trim_horizon(), 1);
        assert_eq!(s.read(1, 10, |r| r.sequence).unwrap().records, [2]);
        assert_eq!(s.sequence_range(), (2, None));
        s.disable();
        s.record(keys(), None, Some(&item("2")), false);
        let page = s.read(1, 10, |r| r.sequence).unwrap();
        assert!(page.finished && page.records == [2]);
        assert_eq!(s.sequence_range(), (2, Some(2)));
        assert!(!s.is_expired(Timestamp::now().millis));
    }

    #[test]
    fn sequence_numbers_are_21_digits_in_numeric_order() {
        assert_eq!(format_sequence(7), "100000000000000000007");
        assert_eq!(parse_sequence("100000000000000000007"), Some(7));
        assert_eq!(parse_sequence("000000000000000000007"), None);
        assert_eq!(parse_sequence("10000000000000000000x"), None);
        assert!(format_sequence(9) < format_sequence(10));
    }

    #[test]
    fn stream_arns_parse() {
        assert_eq!(
            parse_stream_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"),
            Some(("eu-west-1", "123456789012", "t", "2024-01-01T00:00:00.000"))
        );
        assert_eq!(parse_stream_arn("arn:aws:dynamodb:eu-west-1:123456789012:table/t"), None);
        assert_eq!(parse_stream_arn("arn:aws:s3:::b/stream/x"), None);
    }

    #[test]
    fn events_render_as_aws_records() {
        let s = stream(ViewType::NewAndOldImages);
        s.record(keys(), Some(&item("1")), None, true);
        let e = s.read(0, 1, |r| event_json(&s, r, "us-east-1")).unwrap().records.remove(0);
        assert_eq!(e["eventName"], "REMOVE");
        assert_eq!(e["eventVersion"], "1.1");
        assert_eq!(e["dynamodb"]["OldImage"]["v"]["S"], "1");
        assert_eq!(e["dynamodb"]["SequenceNumber"], "100000000000000000001");
        assert_eq!(e["userIdentity"]["principalId"], "dynamodb.amazonaws.com");
        assert_eq!(e["eventID"].as_str().unwrap().len(), 32);
    }
}
