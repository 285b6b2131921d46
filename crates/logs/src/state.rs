//! What CloudWatch Logs remembers, per account and region: log groups, their streams and events.
//!
//! Handlers reach state only through [`LogsState::region`], so a persistent backend can later
//! replace the in-memory maps without touching them.

use parking_lot::RwLock;
use ruststack_core::ServiceState;
use ruststack_core::store::PerRegion;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes AWS counts per event on top of its message (PutLogEvents batch size and storedBytes).
pub const EVENT_OVERHEAD: usize = 26;

/// The service's state: one [`Region`] per account and region.
#[derive(Default)]
pub struct LogsState {
    regions: PerRegion<RwLock<Region>>,
    /// Message bytes held across every region, for the metrics endpoint.
    stored: AtomicU64,
    /// Source of event ids, unique across the process.
    next_event_id: AtomicU64,
}

impl LogsState {
    /// The log groups of one account and region.
    pub fn region(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RwLock<Region>> {
        self.regions.get(account, region)
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
}

impl ServiceState for LogsState {
    fn reset(&self) {
        self.regions.clear();
        self.stored.store(0, Ordering::Relaxed);
    }

    fn stored_bytes(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }
}

/// The log groups of one account and region, by name.
#[derive(Default)]
pub struct Region {
    pub groups: BTreeMap<String, LogGroup>,
}

pub struct LogGroup {
    pub name: String,
    pub created: i64,
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
    pub class: String,
    pub deletion_protection: bool,
    pub tags: BTreeMap<String, String>,
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
            streams: BTreeMap::new(),
        }
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

pub struct LogStream {
    pub name: String,
    pub created: i64,
    /// Sorted by timestamp; events of equal timestamp keep their arrival order.
    pub events: Vec<Event>,
    pub last_ingestion: Option<i64>,
    pub stored_bytes: u64,
    /// Counts accepted batches; rendered as the (no longer enforced) sequence token.
    pub uploads: u64,
}

impl LogStream {
    pub fn new(name: String, created: i64) -> Self {
        LogStream { name, created, events: Vec::new(), last_ingestion: None, stored_bytes: 0, uploads: 0 }
    }

    /// Adds events (each in order of time within the batch), keeping the stream sorted; returns
    /// the bytes added.
    pub fn insert(&mut self, events: impl IntoIterator<Item = Event>) -> u64 {
        let mut added = 0u64;
        for event in events {
            added += (event.message.len() + EVENT_OVERHEAD) as u64;
            self.last_ingestion = Some(event.ingestion_time);
            // Appending is the common case; older events go after their equals.
            if self.events.last().is_none_or(|last| last.timestamp <= event.timestamp) {
                self.events.push(event);
            } else {
                let at = self.events.partition_point(|e| e.timestamp <= event.timestamp);
                self.events.insert(at, event);
            }
        }
        self.stored_bytes += added;
        self.uploads += 1;
        added
    }

    pub fn first_event_timestamp(&self) -> Option<i64> {
        self.events.first().map(|e| e.timestamp)
    }

    pub fn last_event_timestamp(&self) -> Option<i64> {
        self.events.last().map(|e| e.timestamp)
    }

    /// The sequence token AWS would hand out after the last upload (56 digits).
    pub fn sequence_token(&self) -> String {
        format!("{:056}", self.uploads)
    }
}

pub struct Event {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
    pub id: u64,
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    ruststack_core::Timestamp::now().millis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(timestamp: i64, message: &str) -> Event {
        Event { timestamp, ingestion_time: 0, message: message.into(), id: 0 }
    }

    #[test]
    fn streams_stay_sorted_by_time_and_keep_arrival_order_of_equals() {
        let mut s = LogStream::new("s".into(), 0);
        s.insert([ev(10, "a"), ev(20, "b")]);
        s.insert([ev(5, "c"), ev(10, "d"), ev(30, "e")]);
        let order: Vec<_> = s.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(order, ["c", "a", "d", "b", "e"]);
        assert_eq!(s.stored_bytes, 5 * (1 + EVENT_OVERHEAD as u64));
        assert_eq!(s.first_event_timestamp(), Some(5));
        assert_eq!(s.last_event_timestamp(), Some(30));
    }
}
