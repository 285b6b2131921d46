//! The change log behind DynamoDB Streams: every write to a table whose stream is enabled
//! appends a record under the table's write lock (so records follow write order exactly). The
//! `dynamodbstreams` service (ListStreams, DescribeStream, GetShardIterator, GetRecords) and
//! Lambda event source mappings read from here.

use crate::value::Item;
use ruststack_core::Timestamp;
use std::collections::VecDeque;

/// Records are kept 24 hours, as AWS keeps them.
const RETENTION_MILLIS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StreamRecord {
    /// Increasing within the stream; AWS renders it as a 21-digit decimal string.
    pub sequence: u64,
    pub event: EventName,
    pub at: Timestamp,
    pub keys: Item,
    pub old: Option<Item>,
    pub new: Option<Item>,
    /// A deletion by TTL (userIdentity `dynamodb.amazonaws.com`, type `Service`).
    pub by_ttl: bool,
}

/// The records of a table's current stream (one shard).
#[derive(Debug, Default)]
pub struct StreamLog {
    records: VecDeque<StreamRecord>,
    next_sequence: u64,
}

impl StreamLog {
    /// Appends the record of a write; no record when nothing changed.
    pub fn record(&mut self, keys: Item, old: Option<&Item>, new: Option<&Item>, by_ttl: bool) {
        let event = match (old, new) {
            (None, Some(_)) => EventName::Insert,
            (Some(o), Some(n)) if o == n => return,
            (Some(_), Some(_)) => EventName::Modify,
            (Some(_), None) => EventName::Remove,
            (None, None) => return,
        };
        let at = Timestamp::now();
        while self.records.front().is_some_and(|r| at.millis - r.at.millis > RETENTION_MILLIS) {
            self.records.pop_front();
        }
        self.next_sequence += 1;
        self.records.push_back(StreamRecord {
            sequence: self.next_sequence,
            event,
            at,
            keys,
            old: old.cloned(),
            new: new.cloned(),
            by_ttl,
        });
    }

    /// Up to `limit` records with a sequence number greater than `after`.
    pub fn after(&self, after: u64, limit: usize) -> Vec<StreamRecord> {
        self.records.iter().filter(|r| r.sequence > after).take(limit).cloned().collect()
    }

    /// The sequence number of the newest record (0 when empty).
    pub fn latest(&self) -> u64 {
        self.records.back().map_or(0, |r| r.sequence)
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::AttrValue;

    fn item(v: &str) -> Item {
        [("pk".to_string(), AttrValue::S("k".into())), ("v".to_string(), AttrValue::S(v.into()))].into()
    }

    #[test]
    fn records_follow_writes() {
        let mut log = StreamLog::default();
        let keys: Item = [("pk".to_string(), AttrValue::S("k".into()))].into();
        log.record(keys.clone(), None, Some(&item("1")), false);
        log.record(keys.clone(), Some(&item("1")), Some(&item("1")), false);
        log.record(keys.clone(), Some(&item("1")), Some(&item("2")), false);
        log.record(keys.clone(), Some(&item("2")), None, true);
        log.record(keys, None, None, false);
        let all = log.after(0, 10);
        let events: Vec<_> = all.iter().map(|r| r.event).collect();
        assert_eq!(events, [EventName::Insert, EventName::Modify, EventName::Remove]);
        assert_eq!(all.iter().map(|r| r.sequence).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(all[2].by_ttl && all[2].new.is_none());
        assert_eq!(log.after(1, 1).len(), 1);
        assert_eq!(log.latest(), 3);
    }
}
