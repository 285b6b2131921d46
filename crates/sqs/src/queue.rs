//! One queue: its messages and their visibility, FIFO groups and deduplication, and the notifier
//! long polls wait on. All state sits behind one mutex held only for short, non-async sections.

use crate::attributes::QueueConfig;
use crate::generated::types::MessageAttributeValue;
use crate::persist::{self, QueueKeys};
use parking_lot::Mutex;
use ruststack_core::AwsError;
use ruststack_core::store::{KvStore, Write};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// How long FIFO deduplication ids and receive attempt ids are remembered.
pub const DEDUP_WINDOW_MS: i64 = 5 * 60 * 1000;

pub fn now_ms() -> i64 {
    ruststack_core::Timestamp::now().millis
}

/// A message as sent (shared by every copy handed out on receive).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    pub id: String,
    pub body: String,
    pub md5_body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    pub md5_attributes: Option<String>,
    pub trace_header: Option<String>,
    pub sender_id: String,
    pub sent_ms: i64,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence: Option<String>,
    pub dlq_source_arn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Available,
    Delayed,
    InFlight,
}

#[derive(Debug)]
struct Stored {
    payload: Arc<Payload>,
    receive_count: u32,
    first_receive_ms: Option<i64>,
    phase: Phase,
    visible_at: i64,
    /// Changes with every receive: a receipt handle names the message and this.
    nonce: u64,
}

/// A message handed out by a receive.
#[derive(Debug, Clone)]
pub struct Received {
    pub payload: Arc<Payload>,
    pub receipt_handle: String,
    pub receive_count: u32,
    pub first_receive_ms: i64,
}

/// Approximate message counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub visible: usize,
    pub not_visible: usize,
    pub delayed: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Dedup {
    expires_ms: i64,
    message_id: String,
    sequence: Option<String>,
}

#[derive(Debug)]
struct Attempt {
    expires_ms: i64,
    handed: Vec<(u64, u64)>,
}

#[derive(Debug)]
pub struct Inner {
    pub config: QueueConfig,
    pub modified_s: i64,
    pub tags: BTreeMap<String, String>,
    /// AddPermission labels.
    pub permissions: BTreeMap<String, (Vec<String>, Vec<String>)>,
    pub last_purge_ms: Option<i64>,
    messages: HashMap<u64, Stored>,
    available: BTreeSet<u64>,
    /// Delayed and in-flight messages by the time they become visible.
    hidden: BTreeSet<(i64, u64)>,
    group_in_flight: HashMap<String, u32>,
    dedup: HashMap<String, Dedup>,
    attempts: HashMap<String, Attempt>,
    next_seq: u64,
    next_nonce: u64,
    /// Messages changed or removed since the last [`Queue::commit`].
    dirty: Vec<u64>,
    /// Deduplication keys added or expired since then.
    dedup_dirty: Vec<String>,
    /// Whether the queue's own record (attributes, tags, permissions) changed since then.
    pub meta_dirty: bool,
}

pub struct Queue {
    pub name: String,
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub arn: String,
    pub created_s: i64,
    pub inner: Mutex<Inner>,
    /// Woken whenever messages may have become receivable (send, visibility change, delete of the queue).
    pub notify: Notify,
    pub deleted: AtomicBool,
    /// Where the queue's records live, and their keys.
    pub(crate) kv: Arc<dyn KvStore>,
    pub(crate) keys: QueueKeys,
    /// Set when a write to the store failed: the cache may be ahead of the store, so the region
    /// is reloaded from the store on its next use.
    pub(crate) stale: Arc<AtomicBool>,
}

/// What a send did: the message id and sequence number to report (a deduplicated send reports the original's).
pub struct Sent {
    pub message_id: String,
    pub sequence: Option<String>,
}

/// A receipt handle's parts.
fn encode_handle(arn: &str, seq: u64, nonce: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{seq} {nonce} {arn}"))
}

/// Parses a receipt handle of this queue: `None` when it is malformed or another queue's.
fn decode_handle(arn: &str, handle: &str) -> Option<(u64, u64)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(handle).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let mut parts = text.splitn(3, ' ');
    let seq = parts.next()?.parse().ok()?;
    let nonce = parts.next()?.parse().ok()?;
    (parts.next()? == arn).then_some((seq, nonce))
}

/// Whether a receipt handle is well-formed for some queue (to tell "invalid" from "not ours").
pub fn handle_is_well_formed(handle: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(handle)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|t| t.splitn(3, ' ').count() == 3)
}

pub enum HandleError {
    Invalid,
    NotInFlight,
}

impl Queue {
    pub fn new(name: String, account: Arc<str>, region: Arc<str>, config: QueueConfig) -> Self {
        Queue::with_store(name, account, region, config, Arc::new(ruststack_core::store::MemoryStore::default()))
    }

    pub fn with_store(
        name: String,
        account: Arc<str>,
        region: Arc<str>,
        config: QueueConfig,
        kv: Arc<dyn KvStore>,
    ) -> Self {
        let now = now_ms();
        let arn = format!("arn:aws:sqs:{region}:{account}:{name}");
        let keys = QueueKeys::new(&account, &region, &name);
        Queue {
            name,
            account,
            region,
            arn,
            created_s: now / 1000,
            inner: Mutex::new(Inner {
                config,
                modified_s: now / 1000,
                tags: BTreeMap::new(),
                permissions: BTreeMap::new(),
                last_purge_ms: None,
                messages: HashMap::new(),
                available: BTreeSet::new(),
                hidden: BTreeSet::new(),
                group_in_flight: HashMap::new(),
                dedup: HashMap::new(),
                attempts: HashMap::new(),
                next_seq: 1,
                next_nonce: 1,
                dirty: Vec::new(),
                dedup_dirty: Vec::new(),
                meta_dirty: true,
            }),
            notify: Notify::new(),
            deleted: AtomicBool::new(false),
            kv,
            keys,
            stale: Arc::default(),
        }
    }

    /// Stores what changed in `inner` since the last commit as one atomic batch (plus `extra`
    /// writes of the same AWS request). Called with the queue's lock held, so the store sees
    /// the queue's writes in the order they were made. A failure is a 500; the queue is then
    /// marked stale and reloaded from the store.
    pub fn commit(&self, inner: &mut Inner) -> Result<(), AwsError> {
        let writes = inner.take_writes(self);
        persist::commit(&*self.kv, writes).inspect_err(|_| self.stale.store(true, Ordering::Release))
    }

    pub fn is_fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    pub fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
}

impl Inner {
    /// Makes delayed and in-flight messages whose time has come visible again, and forgets
    /// messages past the retention period.
    fn promote(&mut self, now: i64) {
        while let Some(&(at, seq)) = self.hidden.first() {
            if at > now {
                break;
            }
            self.hidden.pop_first();
            if let Some(m) = self.messages.get_mut(&seq) {
                if m.phase == Phase::InFlight
                    && let Some(g) = &m.payload.group_id
                {
                    release_group(&mut self.group_in_flight, g);
                }
                m.phase = Phase::Available;
                self.available.insert(seq);
            }
        }
    }

    fn expire(&mut self, now: i64) {
        let retention_ms = self.config.retention as i64 * 1000;
        let expired: Vec<u64> = self
            .messages
            .iter()
            .filter(|(_, m)| m.payload.sent_ms + retention_ms <= now)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in expired {
            self.remove(seq);
        }
    }

    fn remove(&mut self, seq: u64) -> Option<Stored> {
        let m = self.messages.remove(&seq)?;
        self.dirty.push(seq);
        match m.phase {
            Phase::Available => {
                self.available.remove(&seq);
            }
            Phase::Delayed | Phase::InFlight => {
                self.hidden.remove(&(m.visible_at, seq));
                if m.phase == Phase::InFlight
                    && let Some(g) = &m.payload.group_id
                {
                    release_group(&mut self.group_in_flight, g);
                }
            }
        }
        Some(m)
    }

    /// The earliest time a hidden message becomes visible (for long polls to wake at).
    pub fn next_visible_ms(&self) -> Option<i64> {
        self.hidden.first().map(|(at, _)| *at)
    }

    /// FIFO deduplication: the earlier send this one repeats, if any.
    pub fn deduplicated(&mut self, key: &str, now: i64) -> Option<Sent> {
        let dirty = &mut self.dedup_dirty;
        self.dedup.retain(|k, d| {
            let keep = d.expires_ms > now;
            if !keep {
                dirty.push(k.clone());
            }
            keep
        });
        self.dedup.get(key).map(|d| Sent { message_id: d.message_id.clone(), sequence: d.sequence.clone() })
    }

    /// The next FIFO sequence number (20 digits, increasing).
    pub fn next_sequence(&self, created_s: i64) -> String {
        format!("{:020}", 18_000_000_000_000_000_000u128 + (created_s as u128) * 1_000_000 + self.next_seq as u128)
    }

    /// Enqueues a message, visible after `delay_s`.
    pub fn push(&mut self, payload: Payload, delay_s: u32, dedup_key: Option<String>, now: i64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.dirty.push(seq);
        if let Some(key) = dedup_key {
            self.dedup_dirty.push(key.clone());
            self.dedup.insert(
                key,
                Dedup {
                    expires_ms: now + DEDUP_WINDOW_MS,
                    message_id: payload.id.clone(),
                    sequence: payload.sequence.clone(),
                },
            );
        }
        let visible_at = now + delay_s as i64 * 1000;
        let phase = if delay_s > 0 { Phase::Delayed } else { Phase::Available };
        if phase == Phase::Delayed {
            self.hidden.insert((visible_at, seq));
        } else {
            self.available.insert(seq);
        }
        self.messages.insert(
            seq,
            Stored {
                payload: Arc::new(payload),
                receive_count: 0,
                first_receive_ms: None,
                phase,
                visible_at,
                nonce: 0,
            },
        );
    }

    /// Hands out up to `max` visible messages for `visibility_s`. Messages already received
    /// `max_receive_count` times go to `dead_letters` instead (the caller moves them).
    #[allow(clippy::too_many_arguments)]
    pub fn receive(
        &mut self,
        arn: &str,
        max: usize,
        visibility_s: u32,
        max_receive_count: Option<u32>,
        attempt_id: Option<&str>,
        now: i64,
        dead_letters: &mut Vec<Arc<Payload>>,
    ) -> Vec<Received> {
        self.promote(now);
        let fifo = self.config.fifo;
        if let Some(id) = attempt_id {
            self.attempts.retain(|_, a| a.expires_ms > now);
            if let Some(a) = self.attempts.get(id) {
                let again: Vec<Received> = a
                    .handed
                    .iter()
                    .filter_map(|(seq, nonce)| {
                        let m = self.messages.get(seq).filter(|m| m.nonce == *nonce && m.phase == Phase::InFlight)?;
                        Some(Received {
                            payload: m.payload.clone(),
                            receipt_handle: encode_handle(arn, *seq, *nonce),
                            receive_count: m.receive_count,
                            first_receive_ms: m.first_receive_ms.unwrap_or(now),
                        })
                    })
                    .collect();
                if !again.is_empty() {
                    return again;
                }
            }
        }
        let retention_ms = self.config.retention as i64 * 1000;
        let mut out = Vec::new();
        let mut picked: Vec<u64> = Vec::new();
        let mut expired: Vec<u64> = Vec::new();
        let mut dead: Vec<u64> = Vec::new();
        let mut groups_taken: Vec<&str> = Vec::new();
        for &seq in &self.available {
            if picked.len() >= max {
                break;
            }
            let m = &self.messages[&seq];
            if m.payload.sent_ms + retention_ms <= now {
                expired.push(seq);
                continue;
            }
            if fifo && let Some(g) = m.payload.group_id.as_deref() {
                let blocked = self.group_in_flight.get(g).copied().unwrap_or(0) > 0;
                if blocked && !groups_taken.contains(&g) {
                    continue;
                }
                if !groups_taken.contains(&g) {
                    groups_taken.push(g);
                }
            }
            if max_receive_count.is_some_and(|max| m.receive_count >= max) {
                dead.push(seq);
                continue;
            }
            picked.push(seq);
        }
        for seq in expired {
            self.remove(seq);
        }
        for seq in dead {
            if let Some(m) = self.remove(seq) {
                dead_letters.push(m.payload);
            }
        }
        let visible_at = now + visibility_s as i64 * 1000;
        for seq in &picked {
            self.available.remove(seq);
            let nonce = self.next_nonce;
            self.next_nonce += 1;
            let m = self.messages.get_mut(seq).expect("picked messages exist");
            m.phase = Phase::InFlight;
            m.receive_count += 1;
            m.first_receive_ms.get_or_insert(now);
            m.visible_at = visible_at;
            m.nonce = nonce;
            self.dirty.push(*seq);
            if let Some(g) = &m.payload.group_id {
                *self.group_in_flight.entry(g.clone()).or_default() += 1;
            }
            self.hidden.insert((visible_at, *seq));
            out.push(Received {
                payload: m.payload.clone(),
                receipt_handle: encode_handle(arn, *seq, nonce),
                receive_count: m.receive_count,
                first_receive_ms: m.first_receive_ms.unwrap_or(now),
            });
        }
        if let Some(id) = attempt_id
            && !picked.is_empty()
        {
            let handed = picked.iter().map(|seq| (*seq, self.messages[seq].nonce)).collect();
            self.attempts.insert(id.to_owned(), Attempt { expires_ms: now + DEDUP_WINDOW_MS, handed });
        }
        out
    }

    /// Deletes the message of a receipt handle (a handle of a message already gone is fine).
    pub fn delete(&mut self, arn: &str, handle: &str) -> Result<(), HandleError> {
        let (seq, _) = decode_handle(arn, handle).ok_or(HandleError::Invalid)?;
        self.remove(seq);
        Ok(())
    }

    /// Changes the visibility timeout of an in-flight message (0 makes it visible now).
    pub fn change_visibility(&mut self, arn: &str, handle: &str, timeout_s: u32, now: i64) -> Result<(), HandleError> {
        let (seq, nonce) = decode_handle(arn, handle).ok_or(HandleError::Invalid)?;
        self.promote(now);
        let Some(m) = self.messages.get_mut(&seq) else { return Err(HandleError::NotInFlight) };
        if m.phase != Phase::InFlight || m.nonce != nonce {
            return Err(HandleError::NotInFlight);
        }
        self.hidden.remove(&(m.visible_at, seq));
        self.dirty.push(seq);
        m.visible_at = now + timeout_s as i64 * 1000;
        self.hidden.insert((m.visible_at, seq));
        if timeout_s == 0 {
            self.promote(now);
        }
        Ok(())
    }

    pub fn counts(&mut self, now: i64) -> Counts {
        self.promote(now);
        self.expire(now);
        let mut c = Counts { visible: self.available.len(), ..Default::default() };
        for m in self.messages.values() {
            match m.phase {
                Phase::Delayed => c.delayed += 1,
                Phase::InFlight => c.not_visible += 1,
                Phase::Available => {}
            }
        }
        c
    }

    /// Removes every message.
    pub fn purge(&mut self) {
        self.dirty.extend(self.messages.keys().copied());
        self.messages.clear();
        self.available.clear();
        self.hidden.clear();
        self.group_in_flight.clear();
    }

    /// Takes up to `max` visible messages out of the queue (message move tasks).
    pub fn take_visible(&mut self, max: usize, now: i64) -> Vec<Arc<Payload>> {
        self.promote(now);
        let seqs: Vec<u64> = self.available.iter().take(max).copied().collect();
        seqs.into_iter().filter_map(|s| self.remove(s)).map(|m| m.payload).collect()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// A message as stored: phase is not stored, it follows from the visibility time and whether the
/// message was ever received.
#[derive(Serialize)]
struct MessageOut<'a> {
    payload: &'a Payload,
    receive_count: u32,
    first_receive_ms: Option<i64>,
    visible_at: i64,
    nonce: u64,
}

#[derive(Deserialize)]
pub(crate) struct MessageIn {
    payload: Payload,
    receive_count: u32,
    first_receive_ms: Option<i64>,
    visible_at: i64,
    nonce: u64,
}

impl Inner {
    /// The writes for what changed since the last call.
    fn take_writes(&mut self, q: &Queue) -> Vec<Write> {
        let mut writes = Vec::new();
        if self.meta_dirty {
            self.meta_dirty = false;
            writes.push(persist::queue_record(q, self));
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        if !dirty.is_empty() {
            dirty.sort_unstable();
            dirty.dedup();
            let mut sent = false;
            for seq in dirty {
                let key = q.keys.message(seq);
                match self.messages.get(&seq) {
                    Some(m) => {
                        let out = MessageOut {
                            payload: &m.payload,
                            receive_count: m.receive_count,
                            first_receive_ms: m.first_receive_ms,
                            visible_at: m.visible_at,
                            nonce: m.nonce,
                        };
                        let value = serde_json::to_vec(&out).unwrap_or_default();
                        writes.push(Write::Put { tree: persist::MESSAGES.into(), key, value });
                    }
                    None => writes.push(Write::Delete { tree: persist::MESSAGES.into(), key }),
                }
                sent |= seq + 1 == self.next_seq;
            }
            if sent {
                // Sequence numbers never repeat, even after the newest message is deleted.
                writes.push(Write::Put {
                    tree: persist::COUNTERS.into(),
                    key: q.keys.counter(),
                    value: self.next_seq.to_be_bytes().to_vec(),
                });
            }
        }
        for key in std::mem::take(&mut self.dedup_dirty) {
            let k = q.keys.dedup(&key);
            match self.dedup.get(&key) {
                Some(d) => writes.push(Write::Put {
                    tree: persist::DEDUP.into(),
                    key: k,
                    value: serde_json::to_vec(d).unwrap_or_default(),
                }),
                None => writes.push(Write::Delete { tree: persist::DEDUP.into(), key: k }),
            }
        }
        writes
    }

    /// Puts stored messages, deduplication entries and the sequence counter back (on load).
    pub(crate) fn restore(
        &mut self,
        messages: Vec<(u64, MessageIn)>,
        dedup: Vec<(String, Dedup)>,
        next_seq: u64,
        now: i64,
    ) {
        let mut max_nonce = 0;
        self.next_seq = self.next_seq.max(next_seq);
        for (seq, m) in messages {
            self.next_seq = self.next_seq.max(seq + 1);
            max_nonce = max_nonce.max(m.nonce);
            let phase = if m.visible_at > now {
                self.hidden.insert((m.visible_at, seq));
                if m.receive_count > 0 { Phase::InFlight } else { Phase::Delayed }
            } else {
                self.available.insert(seq);
                Phase::Available
            };
            if phase == Phase::InFlight
                && let Some(g) = &m.payload.group_id
            {
                *self.group_in_flight.entry(g.clone()).or_default() += 1;
            }
            self.messages.insert(
                seq,
                Stored {
                    payload: Arc::new(m.payload),
                    receive_count: m.receive_count,
                    first_receive_ms: m.first_receive_ms,
                    phase,
                    visible_at: m.visible_at,
                    nonce: m.nonce,
                },
            );
        }
        // Receipt handles of earlier runs must not match a later receive.
        self.next_nonce = self.next_nonce.max(max_nonce + 1);
        self.dedup.extend(dedup.into_iter().filter(|(_, d)| d.expires_ms > now));
        self.meta_dirty = false;
    }
}

fn release_group(groups: &mut HashMap<String, u32>, g: &str) {
    if let Some(n) = groups.get_mut(g) {
        *n -= 1;
        if *n == 0 {
            groups.remove(g);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(id: &str, group: Option<&str>, now: i64) -> Payload {
        Payload {
            id: id.into(),
            body: id.into(),
            md5_body: String::new(),
            attributes: HashMap::new(),
            md5_attributes: None,
            trace_header: None,
            sender_id: String::new(),
            sent_ms: now,
            group_id: group.map(Into::into),
            dedup_id: None,
            sequence: None,
            dlq_source_arn: None,
        }
    }

    fn queue(fifo: bool) -> Queue {
        let name = if fifo { "q.fifo" } else { "q" };
        Queue::new(name.into(), Arc::from("1"), Arc::from("r"), QueueConfig::new(fifo))
    }

    #[test]
    fn visibility_hides_and_returns_messages() {
        let q = queue(false);
        let mut i = q.inner.lock();
        let mut dl = Vec::new();
        i.push(payload("a", None, 0), 0, None, 0);
        let got = i.receive(&q.arn, 10, 30, None, None, 0, &mut dl);
        assert_eq!(got.len(), 1);
        assert!(i.receive(&q.arn, 10, 30, None, None, 29_999, &mut dl).is_empty());
        let again = i.receive(&q.arn, 10, 30, None, None, 30_000, &mut dl);
        assert_eq!(again[0].receive_count, 2);
        // The first handle is stale for visibility changes but deletes.
        assert!(matches!(
            i.change_visibility(&q.arn, &got[0].receipt_handle, 5, 30_000),
            Err(HandleError::NotInFlight)
        ));
        assert!(i.delete(&q.arn, &again[0].receipt_handle).is_ok());
        assert_eq!(i.counts(30_000), Counts::default());
        assert!(matches!(i.delete(&q.arn, "garbage"), Err(HandleError::Invalid)));
    }

    #[test]
    fn fifo_group_blocks_while_in_flight() {
        let q = queue(true);
        let mut i = q.inner.lock();
        let mut dl = Vec::new();
        for (id, g) in [("a1", "a"), ("a2", "a"), ("b1", "b")] {
            i.push(payload(id, Some(g), 0), 0, None, 0);
        }
        let first = i.receive(&q.arn, 1, 30, None, None, 0, &mut dl);
        assert_eq!(first[0].payload.id, "a1");
        let second = i.receive(&q.arn, 10, 30, None, None, 0, &mut dl);
        assert_eq!(second.iter().map(|r| r.payload.id.as_str()).collect::<Vec<_>>(), ["b1"]);
        i.delete(&q.arn, &first[0].receipt_handle).ok();
        let third = i.receive(&q.arn, 10, 30, None, None, 0, &mut dl);
        assert_eq!(third[0].payload.id, "a2");
    }

    #[test]
    fn delays_and_dead_letters() {
        let q = queue(false);
        let mut i = q.inner.lock();
        let mut dl = Vec::new();
        i.push(payload("d", None, 0), 5, None, 0);
        assert_eq!(i.counts(0).delayed, 1);
        assert!(i.receive(&q.arn, 10, 0, Some(1), None, 0, &mut dl).is_empty());
        assert_eq!(i.receive(&q.arn, 10, 0, Some(1), None, 5_000, &mut dl).len(), 1);
        assert!(i.receive(&q.arn, 10, 0, Some(1), None, 5_000, &mut dl).is_empty());
        assert_eq!(dl.len(), 1);
        assert_eq!(i.len(), 0);
    }
}
