//! How queues and messages are kept in the kv store (`--data-dir`, or memory).
//!
//! Trees, with keys under `account \0 region \0` (queue names never hold a NUL):
//! - [`QUEUES`]: `name` → the queue's record (attributes, tags, permissions, creation times);
//! - [`MESSAGES`]: `name \0 seq` → one message with its receive state;
//! - [`DEDUP`]: `name \0 key` → a FIFO deduplication entry (5 minutes);
//! - [`COUNTERS`]: `name` → the next message sequence number.
//!
//! The queues of a region are loaded with their messages on the first request that touches the
//! region; every change is then written through (see [`crate::queue::Queue::commit`]).

use crate::attributes::QueueConfig;
use crate::queue::{Dedup, Inner, MessageIn, Queue};
use ruststack_core::AwsError;
use ruststack_core::store::{KvStore, Write, prefix_end};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

pub const QUEUES: &str = "sqs/queues";
pub const MESSAGES: &str = "sqs/messages";
pub const DEDUP: &str = "sqs/dedup";
pub const COUNTERS: &str = "sqs/counters";

/// Applies one request's writes durably; a store failure is a 500.
pub fn commit(kv: &dyn KvStore, writes: Vec<Write>) -> Result<(), AwsError> {
    if writes.is_empty() {
        return Ok(());
    }
    kv.blocking(|kv| kv.apply(writes)).map_err(|e| AwsError::internal(format!("SQS could not store the change: {e}")))
}

pub use ruststack_core::store::region_scope as scope;

/// The keys of one queue's records.
#[derive(Debug, Clone)]
pub struct QueueKeys {
    /// `scope name`.
    queue: Vec<u8>,
}

impl QueueKeys {
    pub fn new(account: &str, region: &str, name: &str) -> Self {
        let mut queue = scope(account, region);
        queue.extend_from_slice(name.as_bytes());
        QueueKeys { queue }
    }

    /// `scope name \0`: the prefix of the queue's messages and deduplication entries.
    fn children(&self) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.queue.len() + 9);
        k.extend_from_slice(&self.queue);
        k.push(0);
        k
    }

    pub fn message(&self, seq: u64) -> Vec<u8> {
        let mut k = self.children();
        k.extend_from_slice(&seq.to_be_bytes());
        k
    }

    pub fn dedup(&self, key: &str) -> Vec<u8> {
        let mut k = self.children();
        k.extend_from_slice(key.as_bytes());
        k
    }

    pub fn counter(&self) -> Vec<u8> {
        self.queue.clone()
    }
}

/// A queue's own record.
#[derive(Serialize, Deserialize)]
struct QueueRecord {
    name: String,
    created_s: i64,
    modified_s: i64,
    /// The settable attributes as GetQueueAttributes reports them.
    attributes: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    permissions: BTreeMap<String, (Vec<String>, Vec<String>)>,
    last_purge_ms: Option<i64>,
}

pub fn queue_record(q: &Queue, inner: &Inner) -> Write {
    let record = QueueRecord {
        name: q.name.clone(),
        created_s: q.created_s,
        modified_s: inner.modified_s,
        attributes: inner.config.text.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        tags: inner.tags.clone(),
        permissions: inner.permissions.clone(),
        last_purge_ms: inner.last_purge_ms,
    };
    Write::Put { tree: QUEUES.into(), key: q.keys.counter(), value: serde_json::to_vec(&record).unwrap_or_default() }
}

fn prefix_range(kv: &dyn KvStore, tree: &str, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let end = prefix_end(prefix);
    kv.range(tree, Bound::Included(prefix), end.as_deref().map_or(Bound::Unbounded, Bound::Excluded), usize::MAX)
}

/// The queues of one account and region, with their messages, from the store.
pub fn load_region(kv: &Arc<dyn KvStore>, account: &Arc<str>, region: &Arc<str>, now: i64) -> Vec<Queue> {
    let mut queues = Vec::new();
    for (_, v) in prefix_range(&**kv, QUEUES, &scope(account, region)) {
        let record: QueueRecord = match serde_json::from_slice(&v) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("sqs: unreadable queue record: {e}");
                continue;
            }
        };
        let fifo = record.name.ends_with(".fifo");
        let mut config = QueueConfig::new(fifo);
        if let Err(e) = config.apply(&record.attributes, true) {
            tracing::error!("sqs: queue {} has attributes we no longer accept: {}", record.name, e.message);
        }
        let mut q = Queue::with_store(record.name, account.clone(), region.clone(), config, kv.clone());
        q.created_s = record.created_s;
        {
            let inner = q.inner.get_mut();
            inner.modified_s = record.modified_s;
            inner.tags = record.tags;
            inner.permissions = record.permissions;
            inner.last_purge_ms = record.last_purge_ms;
            let children = q.keys.children();
            let messages = prefix_range(&**kv, MESSAGES, &children)
                .into_iter()
                .filter_map(|(k, v)| {
                    let seq = u64::from_be_bytes(k.get(children.len()..)?.try_into().ok()?);
                    match serde_json::from_slice::<MessageIn>(&v) {
                        Ok(m) => Some((seq, m)),
                        Err(e) => {
                            tracing::error!("sqs: unreadable message record: {e}");
                            None
                        }
                    }
                })
                .collect();
            let dedup = prefix_range(&**kv, DEDUP, &children)
                .into_iter()
                .filter_map(|(k, v)| {
                    let key = String::from_utf8(k.get(children.len()..)?.to_vec()).ok()?;
                    Some((key, serde_json::from_slice::<Dedup>(&v).ok()?))
                })
                .collect();
            let next_seq = kv
                .get(COUNTERS, &q.keys.counter())
                .and_then(|v| Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?)))
                .unwrap_or(1);
            inner.restore(messages, dedup, next_seq, now);
        }
        queues.push(q);
    }
    queues
}

/// The writes that delete a queue with everything it holds.
pub fn delete_queue(kv: &dyn KvStore, q: &Queue) -> Vec<Write> {
    let key = q.keys.counter();
    let mut writes =
        vec![Write::Delete { tree: QUEUES.into(), key: key.clone() }, Write::Delete { tree: COUNTERS.into(), key }];
    let children = q.keys.children();
    for tree in [MESSAGES, DEDUP] {
        writes.extend(
            prefix_range(kv, tree, &children).into_iter().map(|(key, _)| Write::Delete { tree: tree.into(), key }),
        );
    }
    writes
}

#[cfg(test)]
mod tests {
    use crate::attributes::QueueConfig;
    use crate::queue::{Queue, now_ms};
    use crate::send::{Outgoing, send};
    use crate::state::Sqs;
    use ruststack_core::store::{KvStore, MemoryStore};
    use std::collections::HashMap;
    use std::sync::Arc;

    fn out(body: &str, group: Option<&str>) -> Outgoing {
        Outgoing {
            body: body.into(),
            delay_seconds: None,
            attributes: HashMap::new(),
            system_attributes: HashMap::new(),
            group_id: group.map(Into::into),
            dedup_id: group.map(|_| body.to_owned()),
            sender_id: "1".into(),
            dlq_source_arn: None,
        }
    }

    #[test]
    fn queues_and_messages_reload_from_the_store() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let (account, region): (Arc<str>, Arc<str>) = (Arc::from("1"), Arc::from("r"));
        let first = Sqs::new(kv.clone());
        let q = Queue::with_store("q.fifo".into(), account.clone(), region.clone(), QueueConfig::new(true), kv.clone());
        let (q, _) = first.insert(q).unwrap();
        let a = send(&q, out("a", Some("g"))).unwrap();
        send(&q, out("b", Some("h"))).unwrap();
        let mut dead = Vec::new();
        let got = {
            let mut inner = q.inner.lock();
            let got = inner.receive(&q.arn, 1, 30, None, None, now_ms(), &mut dead);
            q.commit(&mut inner).unwrap();
            got
        };
        assert_eq!(got[0].payload.id, a.message_id);

        let second = Sqs::new(kv);
        let q2 = second.get("1", "r", "q.fifo").unwrap();
        let mut inner = q2.inner.lock();
        assert_eq!(inner.len(), 2);
        let counts = inner.counts(now_ms());
        assert_eq!((counts.visible, counts.not_visible), (1, 1));
        // The in-flight message keeps its handle; its group stays blocked; sequences go on.
        assert!(inner.change_visibility(&q2.arn, &got[0].receipt_handle, 60, now_ms()).is_ok());
        assert!(inner.next_sequence(q2.created_s) > a.sequence.clone().unwrap());
        let again = inner.receive(&q2.arn, 10, 30, None, None, now_ms(), &mut dead);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].payload.body, "b");
        // A repeated deduplication id is still recognised.
        assert!(inner.deduplicated("a", now_ms()).is_some());
    }
}
