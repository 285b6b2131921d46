//! What CloudWatch Logs remembers, per account and region: log groups, their streams and events.
//!
//! Groups and streams are small records cached in memory per account and region (loaded from the
//! store on the first request that touches the region, written through on every change). Events
//! live only in the store, in tree [`EVENTS`] keyed `scope · group \0 · len stream · time · id`,
//! so GetLogEvents and FilterLogEvents read key ranges of one stream in time order.

use parking_lot::RwLock;
use ruststack_core::store::{KvStore, Write, prefix_end};
use ruststack_core::{AwsError, ServiceState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes AWS counts per event on top of its message (PutLogEvents batch size and storedBytes).
pub const EVENT_OVERHEAD: usize = 26;

pub const GROUPS: &str = "logs/groups";
pub const STREAMS: &str = "logs/streams";
pub const EVENTS: &str = "logs/events";
/// Account-wide resource policies and cross-account destinations, one record each.
pub const POLICIES: &str = "logs/policies";
pub const DESTINATIONS: &str = "logs/destinations";
/// Delivery sources, delivery destinations (with their policies) and deliveries, keyed
/// `scope · kind \0 · name or id`.
pub const DELIVERIES: &str = "logs/deliveries";

/// `(account id, region)`.
type AccountRegion = (Arc<str>, Arc<str>);

/// The service's state: one [`Region`] per account and region, over the store.
pub struct LogsState {
    pub kv: Arc<dyn KvStore>,
    regions: RwLock<HashMap<AccountRegion, Arc<RwLock<Region>>>>,
    /// Message bytes held across every loaded region, for the metrics endpoint.
    stored: AtomicU64,
    /// Source of event ids, unique across the process and its restarts (see [`LogsState::new`]).
    next_event_id: AtomicU64,
    /// Where export tasks write (S3), set by the binary.
    export_destination: std::sync::OnceLock<Arc<dyn ruststack_core::buckets::Buckets>>,
    /// Where subscription filters deliver (Lambda), set by the binary.
    subscription_target: std::sync::OnceLock<Arc<dyn crate::handlers::filters::SubscriptionTarget>>,
}

impl Default for LogsState {
    fn default() -> Self {
        LogsState::new(Arc::new(ruststack_core::store::MemoryStore::default()))
    }
}

impl LogsState {
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        // Ids order events of equal timestamp by arrival and must not repeat after a restart:
        // starting at the wall clock in nanoseconds stays ahead of any earlier run, which hands
        // out far fewer than one id per nanosecond.
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        LogsState {
            kv,
            regions: RwLock::new(HashMap::new()),
            stored: AtomicU64::new(0),
            next_event_id: AtomicU64::new(seed),
            export_destination: std::sync::OnceLock::new(),
            subscription_target: std::sync::OnceLock::new(),
        }
    }

    /// Where export tasks write, once the binary set it.
    pub fn export_destination(&self) -> Option<Arc<dyn ruststack_core::buckets::Buckets>> {
        self.export_destination.get().cloned()
    }

    pub fn set_export_destination(&self, destination: Arc<dyn ruststack_core::buckets::Buckets>) {
        let _ = self.export_destination.set(destination);
    }

    pub fn subscription_target(&self) -> Option<Arc<dyn crate::handlers::filters::SubscriptionTarget>> {
        self.subscription_target.get().cloned()
    }

    pub fn set_subscription_target(&self, target: Arc<dyn crate::handlers::filters::SubscriptionTarget>) {
        let _ = self.subscription_target.set(target);
    }

    /// The log groups of one account and region, loaded from the store on first use.
    pub fn region(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RwLock<Region>> {
        let key = (account.clone(), region.clone());
        if let Some(r) = self.regions.read().get(&key) {
            return r.clone();
        }
        let mut regions = self.regions.write();
        if let Some(r) = regions.get(&key) {
            return r.clone();
        }
        let loaded = self.load(account, region);
        self.add_stored(loaded.groups.values().map(LogGroup::stored_bytes).sum());
        let loaded = Arc::new(RwLock::new(loaded));
        regions.insert(key, loaded.clone());
        loaded
    }

    fn load(&self, account: &str, region: &str) -> Region {
        let scope = scope(account, region);
        let end = prefix_end(&scope);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut groups = BTreeMap::new();
        for (_, v) in self.kv.range(GROUPS, Bound::Included(&scope), end, usize::MAX) {
            match serde_json::from_slice::<LogGroup>(&v) {
                Ok(g) => {
                    groups.insert(g.name.clone(), g);
                }
                Err(e) => tracing::error!("logs: unreadable log group record: {e}"),
            }
        }
        for (k, v) in self.kv.range(STREAMS, Bound::Included(&scope), end, usize::MAX) {
            // Group names never hold a NUL: the key's group part ends at the first one.
            let rest = &k[scope.len()..];
            let Some(group) = rest.iter().position(|b| *b == 0).and_then(|at| std::str::from_utf8(&rest[..at]).ok())
            else {
                continue;
            };
            match (serde_json::from_slice::<LogStream>(&v), groups.get_mut(group)) {
                (Ok(s), Some(g)) => {
                    g.streams.insert(s.name.clone(), s);
                }
                (Err(e), _) => tracing::error!("logs: unreadable log stream record: {e}"),
                (Ok(_), None) => {}
            }
        }
        let records = |tree: &str| -> Vec<Vec<u8>> {
            self.kv.range(tree, Bound::Included(&scope), end, usize::MAX).into_iter().map(|(_, v)| v).collect()
        };
        let mut policies = BTreeMap::new();
        for v in records(POLICIES) {
            match serde_json::from_slice::<ResourcePolicy>(&v) {
                Ok(p) => {
                    policies.insert(p.key(), p);
                }
                Err(e) => tracing::error!("logs: unreadable resource policy record: {e}"),
            }
        }
        let mut destinations = BTreeMap::new();
        for v in records(DESTINATIONS) {
            match serde_json::from_slice::<Destination>(&v) {
                Ok(d) => {
                    destinations.insert(d.name.clone(), d);
                }
                Err(e) => tracing::error!("logs: unreadable destination record: {e}"),
            }
        }
        let mut deliveries = Deliveries::default();
        for (k, v) in self.kv.range(DELIVERIES, Bound::Included(&scope), end, usize::MAX) {
            let rest = &k[scope.len()..];
            let Some(at) = rest.iter().position(|b| *b == 0) else { continue };
            let name = String::from_utf8_lossy(&rest[at + 1..]).into_owned();
            let loaded = match &rest[..at] {
                b"source" => serde_json::from_slice(&v).map(|x| drop(deliveries.sources.insert(name, x))),
                b"destination" => serde_json::from_slice(&v).map(|x| drop(deliveries.destinations.insert(name, x))),
                b"delivery" => serde_json::from_slice(&v).map(|x| drop(deliveries.deliveries.insert(name, x))),
                _ => Ok(()),
            };
            if let Err(e) = loaded {
                tracing::error!("logs: unreadable delivery record: {e}");
            }
        }
        Region { scope, groups, export_tasks: Vec::new(), policies, destinations, deliveries, queries: Vec::new() }
    }

    /// Applies one write's batch durably; a store failure is a 500 and the caller changes nothing.
    pub fn commit(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.kv
            .blocking(|kv| kv.apply(writes))
            .map_err(|e| AwsError::internal(format!("CloudWatch Logs could not store the change: {e}")))
    }

    pub(crate) fn add_stored(&self, bytes: u64) {
        self.stored.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn remove_stored(&self, bytes: u64) {
        let _ = self.stored.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(v.saturating_sub(bytes)));
    }

    /// Reserves `n` consecutive event ids and returns the first.
    pub(crate) fn reserve_event_ids(&self, n: usize) -> u64 {
        self.next_event_id.fetch_add(n as u64, Ordering::Relaxed)
    }

    /// Events of one stream with positions in `(from, to)`, in time order (or reversed), read
    /// from the store a chunk at a time.
    pub fn events(&self, key: &StreamKey, from: Bound<Pos>, to: Bound<Pos>, rev: bool) -> EventScan<'_> {
        EventScan { kv: &*self.kv, prefix: key.clone(), from, to, rev, buffer: Vec::new(), done: false }
    }
}

impl ServiceState for LogsState {
    fn reset(&self) {
        self.regions.write().clear();
        self.stored.store(0, Ordering::Relaxed);
    }

    fn stored_bytes(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }
}

use ruststack_core::store::region_scope as scope;

/// The log groups of one account and region, by name.
#[derive(Default)]
pub struct Region {
    /// `account \0 region \0`.
    pub scope: Vec<u8>,
    pub groups: BTreeMap<String, LogGroup>,
    /// Export tasks in creation order (kept in memory only).
    pub export_tasks: Vec<crate::generated::types::ExportTask>,
    /// Resource policies by [`ResourcePolicy::key`].
    pub policies: BTreeMap<String, ResourcePolicy>,
    /// Destinations by name.
    pub destinations: BTreeMap<String, Destination>,
    pub deliveries: Deliveries,
    /// Logs Insights queries that ran, oldest first (kept in memory only).
    pub queries: Vec<crate::handlers::queries::QueryRun>,
}

/// The v2 delivery API's resources, as the API renders them.
#[derive(Default)]
pub struct Deliveries {
    pub sources: BTreeMap<String, crate::generated::types::DeliverySource>,
    pub destinations: BTreeMap<String, DeliveryDestinationRecord>,
    /// By id.
    pub deliveries: BTreeMap<String, crate::generated::types::Delivery>,
}

/// A delivery destination and its policy.
#[derive(Clone, Serialize, Deserialize)]
pub struct DeliveryDestinationRecord {
    pub destination: crate::generated::types::DeliveryDestination,
    pub policy: Option<String>,
}

impl Region {
    fn group_key(&self, group: &str) -> Vec<u8> {
        let mut k = self.scope.clone();
        k.extend_from_slice(group.as_bytes());
        k
    }

    /// The write that stores a group's record (its streams are records of their own).
    pub fn put_group(&self, group: &LogGroup) -> Write {
        let value = serde_json::to_vec(group).unwrap_or_default();
        Write::Put { tree: GROUPS.into(), key: self.group_key(&group.name), value }
    }

    fn record_key(&self, name: &str) -> Vec<u8> {
        self.group_key(name)
    }

    pub fn put_policy(&self, p: &ResourcePolicy) -> Write {
        let value = serde_json::to_vec(p).unwrap_or_default();
        Write::Put { tree: POLICIES.into(), key: self.record_key(&p.key()), value }
    }

    pub fn delete_policy(&self, key: &str) -> Write {
        Write::Delete { tree: POLICIES.into(), key: self.record_key(key) }
    }

    pub fn put_destination(&self, d: &Destination) -> Write {
        let value = serde_json::to_vec(d).unwrap_or_default();
        Write::Put { tree: DESTINATIONS.into(), key: self.record_key(&d.name), value }
    }

    pub fn delete_destination(&self, name: &str) -> Write {
        Write::Delete { tree: DESTINATIONS.into(), key: self.record_key(name) }
    }

    fn delivery_key(&self, kind: &str, name: &str) -> Vec<u8> {
        let mut k = self.scope.clone();
        k.extend_from_slice(kind.as_bytes());
        k.push(0);
        k.extend_from_slice(name.as_bytes());
        k
    }

    /// The write that stores a delivery record of `kind` (`source`, `destination`, `delivery`).
    pub fn put_delivery_record(&self, kind: &str, name: &str, value: &impl Serialize) -> Write {
        let value = serde_json::to_vec(value).unwrap_or_default();
        Write::Put { tree: DELIVERIES.into(), key: self.delivery_key(kind, name), value }
    }

    pub fn delete_delivery_record(&self, kind: &str, name: &str) -> Write {
        Write::Delete { tree: DELIVERIES.into(), key: self.delivery_key(kind, name) }
    }

    pub fn put_stream(&self, group: &str, stream: &LogStream) -> Write {
        let mut key = self.group_key(group);
        key.push(0);
        key.extend_from_slice(stream.name.as_bytes());
        Write::Put { tree: STREAMS.into(), key, value: serde_json::to_vec(stream).unwrap_or_default() }
    }

    /// The writes that delete a stream and its events (read from `kv`).
    pub fn delete_stream(&self, kv: &dyn KvStore, group: &str, stream: &str) -> Vec<Write> {
        let mut key = self.group_key(group);
        key.push(0);
        key.extend_from_slice(stream.as_bytes());
        let mut writes = vec![Write::Delete { tree: STREAMS.into(), key }];
        delete_prefix(kv, &self.stream_key(group, stream).0, &mut writes);
        writes
    }

    /// The writes that delete a group with its streams and events (read from `kv`).
    pub fn delete_group(&self, kv: &dyn KvStore, group: &LogGroup) -> Vec<Write> {
        let mut writes = vec![Write::Delete { tree: GROUPS.into(), key: self.group_key(&group.name) }];
        for s in group.streams.keys() {
            writes.extend(self.delete_stream(kv, &group.name, s));
        }
        writes
    }

    /// The key prefix of a stream's events.
    pub fn stream_key(&self, group: &str, stream: &str) -> StreamKey {
        let mut k = self.group_key(group);
        k.push(0);
        // The name's length first: stream names may hold any byte, and no stream's prefix may
        // be a prefix of another's.
        k.extend_from_slice(&(stream.len() as u32).to_be_bytes());
        k.extend_from_slice(stream.as_bytes());
        StreamKey(k)
    }
}

/// Collects deletes of every event key under `prefix`.
fn delete_prefix(kv: &dyn KvStore, prefix: &[u8], writes: &mut Vec<Write>) {
    let end = prefix_end(prefix);
    let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let mut from = prefix.to_vec();
    let mut first = true;
    loop {
        let start = if first { Bound::Included(&from[..]) } else { Bound::Excluded(&from[..]) };
        let chunk = kv.range(EVENTS, start, end, 1024);
        first = false;
        let Some((last, _)) = chunk.last() else { break };
        from = last.clone();
        let n = chunk.len();
        writes.extend(chunk.into_iter().map(|(key, _)| Write::Delete { tree: EVENTS.into(), key }));
        if n < 1024 {
            break;
        }
    }
}

/// The key prefix of one stream's events.
#[derive(Clone)]
pub struct StreamKey(Vec<u8>);

impl StreamKey {
    /// The write that stores an event.
    pub fn put_event(&self, e: &Event) -> Write {
        let mut key = self.0.clone();
        key.extend_from_slice(&e.pos().bytes());
        let mut value = Vec::with_capacity(8 + e.message.len());
        value.extend_from_slice(&e.ingestion_time.to_be_bytes());
        value.extend_from_slice(e.message.as_bytes());
        Write::Put { tree: EVENTS.into(), key, value }
    }

    fn bound(&self, b: Bound<Pos>) -> Bound<Vec<u8>> {
        let key = |p: Pos| {
            let mut k = self.0.clone();
            k.extend_from_slice(&p.bytes());
            k
        };
        match b {
            Bound::Included(p) => Bound::Included(key(p)),
            Bound::Excluded(p) => Bound::Excluded(key(p)),
            Bound::Unbounded => Bound::Unbounded,
        }
    }
}

/// An event's place in its stream: time, then arrival (the event id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    pub timestamp: i64,
    pub id: u64,
}

impl Pos {
    pub const MIN: Pos = Pos { timestamp: i64::MIN, id: 0 };
    pub const MAX: Pos = Pos { timestamp: i64::MAX, id: u64::MAX };

    /// Big-endian with the sign bit flipped, so byte order is time order.
    fn bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&((self.timestamp as u64) ^ (1 << 63)).to_be_bytes());
        b[8..].copy_from_slice(&self.id.to_be_bytes());
        b
    }

    fn from_bytes(b: &[u8]) -> Option<Pos> {
        let ts = u64::from_be_bytes(b.get(..8)?.try_into().ok()?) ^ (1 << 63);
        let id = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
        Some(Pos { timestamp: ts as i64, id })
    }

    /// As one number (for tokens).
    pub fn to_u128(self) -> u128 {
        u128::from_be_bytes(self.bytes())
    }

    pub fn from_u128(n: u128) -> Pos {
        Pos::from_bytes(&n.to_be_bytes()).unwrap_or(Pos::MIN)
    }

    /// The position right after this one.
    pub fn next(self) -> Pos {
        Pos::from_u128(self.to_u128().saturating_add(1))
    }
}

/// Reads one stream's events from the store in chunks (see [`LogsState::events`]).
pub struct EventScan<'a> {
    kv: &'a dyn KvStore,
    prefix: StreamKey,
    from: Bound<Pos>,
    to: Bound<Pos>,
    rev: bool,
    /// Read but not yet returned, in reverse order of returning.
    buffer: Vec<Event>,
    done: bool,
}

const SCAN_CHUNK: usize = 256;

impl Iterator for EventScan<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.buffer.is_empty() && !self.done {
            let (lo, hi) = (self.prefix.bound(self.from), self.prefix.bound(self.to));
            // Unbounded ends are the ends of the stream's key range.
            let start_key;
            let end_key;
            let lo = match &lo {
                Bound::Unbounded => {
                    start_key = self.prefix.0.clone();
                    Bound::Included(&start_key[..])
                }
                b => as_slice(b),
            };
            let hi = match &hi {
                Bound::Unbounded => {
                    end_key = prefix_end(&self.prefix.0);
                    end_key.as_deref().map_or(Bound::Unbounded, Bound::Excluded)
                }
                b => as_slice(b),
            };
            let chunk = if self.rev {
                self.kv.range_rev(EVENTS, lo, hi, SCAN_CHUNK)
            } else {
                self.kv.range(EVENTS, lo, hi, SCAN_CHUNK)
            };
            self.done = chunk.len() < SCAN_CHUNK;
            let n = self.prefix.0.len();
            let mut events: Vec<Event> = chunk
                .into_iter()
                .filter_map(|(k, v)| {
                    let pos = Pos::from_bytes(k.get(n..)?)?;
                    let ingestion_time = i64::from_be_bytes(v.get(..8)?.try_into().ok()?);
                    let message = String::from_utf8(v.get(8..)?.to_vec()).ok()?;
                    Some(Event { timestamp: pos.timestamp, ingestion_time, message, id: pos.id })
                })
                .collect();
            if let Some(last) = events.last() {
                if self.rev {
                    self.to = Bound::Excluded(last.pos());
                } else {
                    self.from = Bound::Excluded(last.pos());
                }
            } else {
                self.done = true;
            }
            events.reverse();
            self.buffer = events;
        }
        self.buffer.pop()
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

#[derive(Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub created: i64,
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub class: String,
    pub deletion_protection: bool,
    pub tags: BTreeMap<String, String>,
    /// Metric filters by name (the generated shape, as DescribeMetricFilters renders it).
    #[serde(default)]
    pub metric_filters: BTreeMap<String, crate::generated::types::MetricFilter>,
    /// Subscription filters by name (at most two).
    #[serde(default)]
    pub subscription_filters: BTreeMap<String, crate::generated::types::SubscriptionFilter>,
    /// Stored as records of their own.
    #[serde(skip)]
    pub streams: BTreeMap<String, LogStream>,
}

impl LogGroup {
    pub fn new(name: String, created: i64) -> Self {
        LogGroup {
            name,
            created,
            retention_days: None,
            kms_key_id: None,
            class: "STANDARD".into(),
            deletion_protection: false,
            tags: BTreeMap::new(),
            metric_filters: BTreeMap::new(),
            subscription_filters: BTreeMap::new(),
            streams: BTreeMap::new(),
        }
    }

    /// A copy of the group's own record (without its streams), to change and store.
    pub fn record(&self) -> LogGroup {
        LogGroup {
            name: self.name.clone(),
            created: self.created,
            retention_days: self.retention_days,
            kms_key_id: self.kms_key_id.clone(),
            class: self.class.clone(),
            deletion_protection: self.deletion_protection,
            tags: self.tags.clone(),
            metric_filters: self.metric_filters.clone(),
            subscription_filters: self.subscription_filters.clone(),
            streams: BTreeMap::new(),
        }
    }

    /// Replaces the group's own fields with `record`'s, keeping its streams.
    pub fn update(&mut self, record: LogGroup) {
        let streams = std::mem::take(&mut self.streams);
        *self = LogGroup { streams, ..record };
    }

    /// Events older than this (epoch milliseconds) have expired under the retention policy.
    pub fn retention_cutoff(&self, now: i64) -> i64 {
        self.retention_days.map_or(i64::MIN, |days| now - i64::from(days) * 86_400_000)
    }

    /// Bytes of every stream's events.
    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }
}

/// A resource policy: account-wide (by name) or on one log group (by ARN).
#[derive(Clone, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub name: Option<String>,
    pub resource_arn: Option<String>,
    pub document: String,
    pub updated: i64,
    pub revision: String,
}

impl ResourcePolicy {
    /// Names and ARNs never collide: ARNs hold colons, policy names are looked up as given.
    pub fn key(&self) -> String {
        match (&self.resource_arn, &self.name) {
            (Some(arn), _) => format!("arn\0{arn}"),
            (None, Some(name)) => format!("name\0{name}"),
            (None, None) => String::new(),
        }
    }
}

/// A destination for cross-account subscriptions.
#[derive(Clone, Serialize, Deserialize)]
pub struct Destination {
    pub name: String,
    pub target_arn: String,
    pub role_arn: String,
    pub access_policy: Option<String>,
    pub arn: String,
    pub created: i64,
    pub tags: BTreeMap<String, String>,
}

/// A stream's record; its events are in the store.
#[derive(Clone, Serialize, Deserialize)]
pub struct LogStream {
    pub name: String,
    pub created: i64,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    pub last_ingestion: Option<i64>,
    pub stored_bytes: u64,
    /// Counts accepted batches; rendered as the (no longer enforced) sequence token.
    pub uploads: u64,
}

impl LogStream {
    pub fn new(name: String, created: i64) -> Self {
        LogStream {
            name,
            created,
            first_event: None,
            last_event: None,
            last_ingestion: None,
            stored_bytes: 0,
            uploads: 0,
        }
    }

    /// Accounts for one accepted batch of events; returns the bytes added.
    pub fn record_batch(&mut self, events: &[Event]) -> u64 {
        let mut added = 0u64;
        for e in events {
            added += (e.message.len() + EVENT_OVERHEAD) as u64;
            self.last_ingestion = Some(e.ingestion_time);
            self.first_event = Some(self.first_event.map_or(e.timestamp, |t| t.min(e.timestamp)));
            self.last_event = Some(self.last_event.map_or(e.timestamp, |t| t.max(e.timestamp)));
        }
        self.stored_bytes += added;
        self.uploads += 1;
        added
    }

    pub fn first_event_timestamp(&self) -> Option<i64> {
        self.first_event
    }

    pub fn last_event_timestamp(&self) -> Option<i64> {
        self.last_event
    }

    /// The sequence token AWS would hand out after the last upload (56 digits).
    pub fn sequence_token(&self) -> String {
        format!("{:056}", self.uploads)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
    pub id: u64,
}

impl Event {
    pub fn pos(&self) -> Pos {
        Pos { timestamp: self.timestamp, id: self.id }
    }
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    ruststack_core::Timestamp::now().millis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(timestamp: i64, id: u64, message: &str) -> Event {
        Event { timestamp, ingestion_time: 7, message: message.into(), id }
    }

    #[test]
    fn positions_order_by_time_then_id_through_bytes_and_numbers() {
        let ps = [Pos { timestamp: -5, id: 9 }, Pos { timestamp: 0, id: 1 }, Pos { timestamp: 0, id: 2 }, Pos::MAX];
        for w in ps.windows(2) {
            assert!(w[0].bytes() < w[1].bytes() && w[0].to_u128() < w[1].to_u128());
        }
        for p in ps {
            assert_eq!(Pos::from_u128(p.to_u128()), p);
        }
        assert_eq!(Pos { timestamp: 3, id: 4 }.next(), Pos { timestamp: 3, id: 5 });
    }

    #[test]
    fn events_scan_one_stream_in_order_across_chunks() {
        let state = LogsState::default();
        let region = state.region(&Arc::from("1"), &Arc::from("r"));
        let region = region.read();
        let (a, ab) = (region.stream_key("g", "a"), region.stream_key("g", "a\0b"));
        let mut writes: Vec<Write> = (0..600).rev().map(|i| a.put_event(&ev(i, i as u64, "m"))).collect();
        writes.push(ab.put_event(&ev(1, 0, "other stream")));
        state.commit(writes).unwrap();
        let all: Vec<_> = state.events(&a, Bound::Unbounded, Bound::Unbounded, false).collect();
        assert_eq!(all.len(), 600);
        assert!(all.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
        assert_eq!(all[0], ev(0, 0, "m"));
        let back: Vec<_> =
            state.events(&a, Bound::Included(Pos { timestamp: 10, id: 0 }), Bound::Unbounded, true).collect();
        assert_eq!(back.len(), 590);
        assert_eq!(back.last().unwrap().timestamp, 10);
        let group = LogGroup::new("g".into(), 0);
        let mut group = group;
        group.streams.insert("a".into(), LogStream::new("a".into(), 0));
        let deletes = region.delete_group(&*state.kv, &group);
        assert_eq!(deletes.len(), 2 + 600);
    }
}
