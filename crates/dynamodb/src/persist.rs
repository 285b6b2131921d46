//! How DynamoDB's state sits in the kv store with `--data-dir` (write-through: the tables in
//! memory are the cache the handlers read, loaded from the store on first use; every write is
//! stored as one batch before the cache changes). Keys start with `account \0 region \0`:
//!
//! - `dynamodb/tables`: `… table` → the table definition ([`TableMeta`]) as JSON;
//! - `dynamodb/items`: `… table \0 encoded primary key` → the item as wire JSON, in key order;
//! - `dynamodb/index/<index>`: `… table \0 index key ++ primary key` → the primary key;
//! - `dynamodb/streams`: `… stream arn` → the stream's identity, last sequence number, status;
//! - `dynamodb/records`: `… stream arn \0 sequence (8 bytes, big-endian)` → one change record;
//! - `dynamodb/backups`: `… backup arn` → the backup's description and table definition;
//! - `dynamodb/backup-items`: `… backup arn \0 n (8 bytes, big-endian)` → one item of the backup.
//!
//! Table, index and stream names never contain `\0`. Without `--data-dir` there is no store at
//! all (`kv` is `None`): memory mode keeps one copy of the data and pays nothing for this.

use crate::streams::{EventName, Stream, StreamRecord, ViewType};
use crate::table::{KeyDef, TableData, TableMeta, TableStats};
use crate::value::{Item, WireItem, item_from_wire, item_to_wire};
use ruststack_core::store::{KvStore, Write, prefix_end};
use ruststack_core::{AwsError, Timestamp};
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use std::sync::Arc;

const TABLES: &str = "dynamodb/tables";
const ITEMS: &str = "dynamodb/items";
const STREAMS: &str = "dynamodb/streams";
const RECORDS: &str = "dynamodb/records";
/// `… client request token` → the request fingerprint and when the transaction ran, stored in
/// the transaction's batch, so a retry after a restart is still answered without writing.
const TOKENS: &str = "dynamodb/tokens";

/// `… table` → the table's [`TableStats`] as of its last write.
const STATS: &str = "dynamodb/stats";
/// `… table \0 expiry (8 bytes, order-preserving) ++ primary key` → nothing: the items of a table
/// with TTL enabled by expiry time, so the sweeper reads only what is due.
const EXPIRY: &str = "dynamodb/ttl";

const BACKUPS: &str = "dynamodb/backups";
const BACKUP_ITEMS: &str = "dynamodb/backup-items";

/// An on-demand backup: what DescribeBackup shows and the table definition a restore recreates.
/// Its items are in the store with `--data-dir`, else in `items`.
#[derive(Clone, Serialize, Deserialize)]
pub struct Backup {
    pub description: crate::generated::types::BackupDescription,
    pub table: crate::generated::types::TableDescription,
    #[serde(skip)]
    pub items: Arc<Vec<WireItem>>,
}

/// An expiry time as bytes that sort as the numbers do.
fn expiry_bytes(secs: i64) -> [u8; 8] {
    ((secs as u64) ^ (1 << 63)).to_be_bytes()
}

fn index_tree(index: &str) -> String {
    format!("dynamodb/index/{index}")
}

/// Entries read per range call while loading a table.
const LOAD_PAGE: usize = 4096;

/// The store of one account and region (`kv: None`: memory mode, nothing is stored).
#[derive(Default)]
pub struct RegionStore {
    kv: Option<Arc<dyn KvStore>>,
    scope: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct StoredStream {
    arn: String,
    table_name: String,
    label: String,
    view_type: String,
    key: KeyDef,
    created: i64,
    shard_id: String,
    last: u64,
    disabled: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct StoredRecord {
    id: String,
    event: String,
    at: i64,
    keys: WireItem,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old: Option<WireItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new: Option<WireItem>,
    size: usize,
    #[serde(default)]
    ttl: bool,
}

/// Writes `writes` through a store transaction.
pub fn write_in(tx: &mut dyn ruststack_core::store::Transaction, writes: Vec<Write>) -> std::io::Result<()> {
    for w in writes {
        match w {
            Write::Put { tree, key, value } => tx.put(&tree, &key, &value)?,
            Write::Delete { tree, key } => tx.delete(&tree, &key)?,
        }
    }
    Ok(())
}

/// An error of a write run in a store transaction: the operation's own, or the store's.
pub enum TxError {
    Aws(AwsError),
    Io(std::io::Error),
}

impl From<std::io::Error> for TxError {
    fn from(e: std::io::Error) -> Self {
        TxError::Io(e)
    }
}

impl From<AwsError> for TxError {
    fn from(e: AwsError) -> Self {
        TxError::Aws(e)
    }
}

impl From<TxError> for AwsError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Aws(e) => e,
            TxError::Io(e) => store_failed(e),
        }
    }
}

fn store_failed(e: std::io::Error) -> AwsError {
    tracing::error!(error = %e, "cannot store DynamoDB state");
    AwsError::internal(format!("The write could not be stored: {e}"))
}

impl RegionStore {
    pub fn new(kv: Option<Arc<dyn KvStore>>, account: &str, region: &str) -> Self {
        let scope = ruststack_core::store::region_scope(account, region);
        RegionStore { kv, scope }
    }

    /// Whether writes are stored (`--data-dir`).
    pub fn enabled(&self) -> bool {
        self.kv.is_some()
    }

    /// Runs `f` (a locked write, usually) off the async workers when the store may block.
    pub fn blocking<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.kv {
            Some(kv) => kv.blocking(|_| f()),
            None => f(),
        }
    }

    /// The kv store (`None`: memory mode).
    pub fn kv(&self) -> Option<&Arc<dyn KvStore>> {
        self.kv.as_ref()
    }

    /// Waits until every write already made is durable, so that reads of the store see them
    /// (item writes release their table's lock before their group commit; a table operation
    /// holding the lock calls this before reading the table from the store).
    pub fn flush(&self) -> Result<(), AwsError> {
        match &self.kv {
            Some(kv) => kv.blocking(|kv| kv.transaction(&mut |_| Ok(()))).map_err(store_failed),
            None => Ok(()),
        }
    }

    /// Stores `writes` as one batch (nothing to do in memory mode).
    pub fn apply(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        match &self.kv {
            Some(kv) if !writes.is_empty() => kv.apply(writes).map_err(store_failed),
            _ => Ok(()),
        }
    }

    fn key(&self, name: &str) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.scope.len() + name.len() + 40);
        k.extend_from_slice(&self.scope);
        k.extend_from_slice(name.as_bytes());
        k
    }

    fn table_prefix(&self, table: &str) -> Vec<u8> {
        let mut k = self.key(table);
        k.push(0);
        k
    }

    fn prefixed(&self, table: &str, suffix: &[u8]) -> Vec<u8> {
        let mut k = self.table_prefix(table);
        k.extend_from_slice(suffix);
        k
    }

    fn range_all(&self, tree: &str, prefix: &[u8], mut f: impl FnMut(Vec<u8>, Vec<u8>)) {
        let Some(kv) = &self.kv else { return };
        let end = prefix_end(prefix);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut start = prefix.to_vec();
        let mut first = true;
        loop {
            let lower = if first { Bound::Included(&start[..]) } else { Bound::Excluded(&start[..]) };
            let page = kv.range(tree, lower, end, LOAD_PAGE);
            let n = page.len();
            for (k, v) in page {
                start.clone_from(&k);
                f(k, v);
            }
            if n < LOAD_PAGE {
                return;
            }
            first = false;
        }
    }

    // ---- writes ----

    /// The table definition.
    pub fn put_meta(&self, meta: &TableMeta, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        match serde_json::to_vec(meta) {
            Ok(value) => out.push(Write::Put { tree: TABLES.into(), key: self.key(&meta.name), value }),
            Err(e) => tracing::error!(error = %e, "cannot encode a table definition"),
        }
    }

    /// An item replacing `old` (or `new: None`, deleting it), with its index entries.
    pub fn put_item(&self, meta: &TableMeta, key: &[u8], old: Option<&Item>, new: Option<&Item>, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        let item_key = self.prefixed(&meta.name, key);
        match new {
            Some(item) => match serde_json::to_vec(&item_to_wire(item)) {
                Ok(value) => out.push(Write::Put { tree: ITEMS.into(), key: item_key, value }),
                Err(e) => tracing::error!(error = %e, "cannot encode an item"),
            },
            None => out.push(Write::Delete { tree: ITEMS.into(), key: item_key }),
        }
        if let Some(attr) = &meta.ttl_attribute {
            let entry =
                |item: Option<&Item>| crate::ttl::expiry(item?, attr).map(|s| self.expiry_key(&meta.name, s, key));
            let (before, after) = (entry(old), entry(new));
            if before != after {
                out.extend(before.map(|key| Write::Delete { tree: EXPIRY.into(), key }));
                out.extend(after.map(|key| Write::Put { tree: EXPIRY.into(), key, value: Vec::new() }));
            }
        }
        for index in &meta.indexes {
            let entry = |item: Option<&Item>| {
                let mut e = index.key.encode(item?)?;
                e.extend_from_slice(key);
                Some(e)
            };
            let (before, after) = (entry(old), entry(new));
            if before == after {
                continue;
            }
            if let Some(e) = before {
                out.push(Write::Delete { tree: index_tree(&index.name), key: self.prefixed(&meta.name, &e) });
            }
            if let Some(e) = after {
                out.push(Write::Put {
                    tree: index_tree(&index.name),
                    key: self.prefixed(&meta.name, &e),
                    value: key.to_vec(),
                });
            }
        }
    }

    /// A table's statistics (see [`TableData::stats_after`]; nothing in memory mode).
    pub fn put_stats(&self, table: &str, stats: Option<TableStats>, out: &mut Vec<Write>) {
        let (true, Some(stats)) = (self.enabled(), stats) else { return };
        match serde_json::to_vec(&stats) {
            Ok(value) => out.push(Write::Put { tree: STATS.into(), key: self.key(table), value }),
            Err(e) => tracing::error!(error = %e, "cannot encode table statistics"),
        }
    }

    /// The statistics stored with a table's last write (`None`: none, count the items).
    pub fn load_stats(&self, table: &str) -> Option<TableStats> {
        let value = self.kv.as_ref()?.get(STATS, &self.key(table))?;
        serde_json::from_slice(&value).ok()
    }

    /// Every entry of a new index (UpdateTable creating a GSI), from the table's items; returns
    /// the index's statistics (items, bytes).
    pub fn fill_index(
        &self,
        meta: &TableMeta,
        data: &TableData,
        index: &crate::table::IndexDef,
        out: &mut Vec<Write>,
    ) -> (usize, usize) {
        let mut stats = (0, 0);
        if !self.enabled() {
            return stats;
        }
        let tree = index_tree(&index.name);
        for (key, item) in data.range(Bound::Unbounded, Bound::Unbounded, true) {
            if let Some(mut e) = index.key.encode(&item) {
                stats.0 += 1;
                stats.1 += crate::value::item_size(&item);
                e.extend_from_slice(&key);
                out.push(Write::Put { tree: tree.clone(), key: self.prefixed(&meta.name, &e), value: key.to_vec() });
            }
        }
        stats
    }

    fn expiry_key(&self, table: &str, secs: i64, key: &[u8]) -> Vec<u8> {
        let mut k = self.table_prefix(table);
        k.extend_from_slice(&expiry_bytes(secs));
        k.extend_from_slice(key);
        k
    }

    /// The expiry entries of every item of a table whose TTL is being enabled on `attr`.
    pub fn fill_expiry(&self, table: &str, attr: &str, data: &TableData, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        for (key, item) in data.range(Bound::Unbounded, Bound::Unbounded, true) {
            if let Some(secs) = crate::ttl::expiry(&item, attr) {
                out.push(Write::Put {
                    tree: EXPIRY.into(),
                    key: self.expiry_key(table, secs, &key),
                    value: Vec::new(),
                });
            }
        }
    }

    /// Deletes the expiry entries of a table (TTL disabled, table deleted).
    pub fn drop_expiry(&self, table: &str, out: &mut Vec<Write>) {
        self.range_all(EXPIRY, &self.table_prefix(table), |key, _| {
            out.push(Write::Delete { tree: EXPIRY.into(), key })
        });
    }

    /// Deletes every stored entry of an index (read from the store, so it works on any table).
    pub fn drop_index(&self, table: &str, index: &str, out: &mut Vec<Write>) {
        let tree = index_tree(index);
        self.range_all(&tree, &self.table_prefix(table), |key, _| out.push(Write::Delete { tree: tree.clone(), key }));
    }

    /// Deletes a table: its definition, items and index entries.
    pub fn drop_table(&self, meta: &TableMeta, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        out.push(Write::Delete { tree: TABLES.into(), key: self.key(&meta.name) });
        out.push(Write::Delete { tree: STATS.into(), key: self.key(&meta.name) });
        self.range_all(ITEMS, &self.table_prefix(&meta.name), |key, _| {
            out.push(Write::Delete { tree: ITEMS.into(), key })
        });
        for index in &meta.indexes {
            self.drop_index(&meta.name, &index.name, out);
        }
        self.drop_expiry(&meta.name, out);
    }

    /// A stream's identity and status (`disabled`: as it will be once the batch commits).
    pub fn put_stream(&self, stream: &Stream, disabled: Option<Timestamp>, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        let (last, was_disabled) = stream.last_and_disabled();
        let stored = StoredStream {
            arn: stream.arn.clone(),
            table_name: stream.table_name.clone(),
            label: stream.label.clone(),
            view_type: stream.view_type.as_str().to_owned(),
            key: stream.key.clone(),
            created: stream.created.millis,
            shard_id: stream.shard_id.clone(),
            last,
            disabled: disabled.or(was_disabled).map(|t| t.millis),
        };
        match serde_json::to_vec(&stored) {
            Ok(value) => out.push(Write::Put { tree: STREAMS.into(), key: self.key(&stream.arn), value }),
            Err(e) => tracing::error!(error = %e, "cannot encode a stream"),
        }
    }

    fn record_key(&self, arn: &str, sequence: u64) -> Vec<u8> {
        let mut k = self.key(arn);
        k.push(0);
        k.extend_from_slice(&sequence.to_be_bytes());
        k
    }

    /// The ClientRequestToken of a transaction, written in its batch.
    pub fn put_token(&self, token: &str, fingerprint: &str, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        let value = serde_json::json!({"fingerprint": fingerprint, "at": Timestamp::now().millis});
        out.push(Write::Put { tree: TOKENS.into(), key: self.key(token), value: value.to_string().into_bytes() });
    }

    /// The tokens younger than `max_age_millis` as `(token, fingerprint, age in ms)`; older ones
    /// are deleted on the way.
    pub fn load_tokens(&self, max_age_millis: i64) -> Vec<(String, String, i64)> {
        let now = Timestamp::now().millis;
        let (mut out, mut expired) = (Vec::new(), Vec::new());
        self.range_all(TOKENS, &self.scope.clone(), |key, value| {
            let v: serde_json::Value = serde_json::from_slice(&value).unwrap_or_default();
            let (Some(fp), Some(at)) = (v["fingerprint"].as_str(), v["at"].as_i64()) else { return };
            if now - at < max_age_millis {
                let token = String::from_utf8_lossy(&key[self.scope.len()..]).into_owned();
                out.push((token, fp.to_owned(), (now - at).max(0)));
            } else {
                expired.push(Write::Delete { tree: TOKENS.into(), key });
            }
        });
        if let Err(e) = self.apply(expired) {
            tracing::warn!(error = %e.message, "expired transaction tokens stay until the next start");
        }
        out
    }

    /// Where a stream's records are read from (`None`: memory mode).
    pub fn record_source(&self, arn: &str) -> Option<RecordSource> {
        let mut prefix = self.key(arn);
        prefix.push(0);
        Some(RecordSource { kv: self.kv.clone()?, prefix })
    }

    /// One change record of a stream.
    pub fn put_record(&self, stream: &Stream, r: &StreamRecord, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        for sequence in stream.take_expired_stored(1024) {
            out.push(Write::Delete { tree: RECORDS.into(), key: self.record_key(&stream.arn, sequence) });
        }
        let stored = StoredRecord {
            id: r.event_id(),
            event: r.event.as_str().to_owned(),
            at: r.at.millis,
            keys: item_to_wire(&r.keys),
            old: r.old.as_ref().map(item_to_wire),
            new: r.new.as_ref().map(item_to_wire),
            size: r.size,
            ttl: r.by_ttl,
        };
        match serde_json::to_vec(&stored) {
            Ok(value) => {
                out.push(Write::Put { tree: RECORDS.into(), key: self.record_key(&stream.arn, r.sequence), value })
            }
            Err(e) => tracing::error!(error = %e, "cannot encode a stream record"),
        }
    }

    /// A backup with its items (memory mode keeps them in the [`Backup`] instead).
    pub fn put_backup(&self, backup: &Backup, items: &[WireItem], out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        let arn = &backup.description.backup_details.as_ref().map(|d| d.backup_arn.clone()).unwrap_or_default();
        match serde_json::to_vec(backup) {
            Ok(value) => out.push(Write::Put { tree: BACKUPS.into(), key: self.key(arn), value }),
            Err(e) => tracing::error!(error = %e, "cannot encode a backup"),
        }
        for (n, item) in items.iter().enumerate() {
            if let Ok(value) = serde_json::to_vec(item) {
                out.push(Write::Put {
                    tree: BACKUP_ITEMS.into(),
                    key: self.prefixed(arn, &(n as u64).to_be_bytes()),
                    value,
                });
            }
        }
    }

    /// Deletes a backup and its items.
    pub fn drop_backup(&self, arn: &str, out: &mut Vec<Write>) {
        if !self.enabled() {
            return;
        }
        out.push(Write::Delete { tree: BACKUPS.into(), key: self.key(arn) });
        self.range_all(BACKUP_ITEMS, &self.table_prefix(arn), |key, _| {
            out.push(Write::Delete { tree: BACKUP_ITEMS.into(), key })
        });
    }

    // ---- reads ----

    /// Every backup of the region (items stay in the store).
    pub fn load_backups(&self) -> Vec<Backup> {
        let mut out = Vec::new();
        self.range_all(BACKUPS, &self.scope.clone(), |key, value| match serde_json::from_slice::<Backup>(&value) {
            Ok(b) => out.push(b),
            Err(e) => tracing::error!(key = %String::from_utf8_lossy(&key), error = %e, "unreadable backup"),
        });
        out
    }

    /// The items of a backup, in the order they were taken.
    pub fn backup_items(&self, arn: &str) -> Vec<WireItem> {
        let mut out = Vec::new();
        self.range_all(BACKUP_ITEMS, &self.table_prefix(arn), |_, value| match serde_json::from_slice(&value) {
            Ok(item) => out.push(item),
            Err(e) => tracing::error!(backup = arn, error = %e, "unreadable backup item"),
        });
        out
    }

    /// Every table definition of the region.
    pub fn load_tables(&self) -> Vec<TableMeta> {
        let mut out = Vec::new();
        self.range_all(TABLES, &self.scope.clone(), |key, value| match serde_json::from_slice::<TableMeta>(&value) {
            Ok(meta) => out.push(meta),
            Err(e) => tracing::error!(key = %String::from_utf8_lossy(&key), error = %e, "unreadable table definition"),
        });
        out
    }

    /// Where a table's items are read from (`None`: memory mode).
    pub fn table_items(&self, table: &str) -> Option<TableItems> {
        Some(TableItems { kv: self.kv.clone()?, prefix: self.table_prefix(table) })
    }

    /// Every stream of the region with its records, dropping streams past their retention.
    pub fn load_streams(&self) -> Vec<Stream> {
        let mut stored = Vec::new();
        self.range_all(STREAMS, &self.scope.clone(), |key, value| {
            match serde_json::from_slice::<StoredStream>(&value) {
                Ok(s) => stored.push(s),
                Err(e) => tracing::error!(key = %String::from_utf8_lossy(&key), error = %e, "unreadable stream"),
            }
        });
        let now = Timestamp::now().millis;
        let retained = |at: i64| now - at <= crate::streams::RETENTION_MILLIS;
        // Streams and records past the 24 hours AWS keeps them are deleted on the way.
        let mut expired = Vec::new();
        let mut out = Vec::with_capacity(stored.len());
        for s in stored {
            let mut prefix = self.key(&s.arn);
            prefix.push(0);
            if s.disabled.is_some_and(|d| !retained(d)) {
                expired.push(Write::Delete { tree: STREAMS.into(), key: self.key(&s.arn) });
                self.range_all(RECORDS, &prefix, |key, _| expired.push(Write::Delete { tree: RECORDS.into(), key }));
                continue;
            }
            let (Some(view), Some(kv)) = (ViewType::parse(&s.view_type), self.kv.clone()) else { continue };
            out.push(Stream::restore(
                s.arn,
                s.table_name,
                s.label,
                view,
                s.key,
                Timestamp { millis: s.created },
                s.shard_id,
                s.last,
                s.disabled.map(|millis| Timestamp { millis }),
                RecordSource { kv, prefix },
            ));
        }
        if let Err(e) = self.apply(expired) {
            tracing::warn!(error = %e.message, "expired stream records stay until the next start");
        }
        out
    }
}

/// A table's items in the store: point reads and ranges paged through the ordered trees, so no
/// read holds more than a page of a table in memory.
pub struct TableItems {
    kv: Arc<dyn KvStore>,
    /// `account \0 region \0 table \0`.
    prefix: Vec<u8>,
}

/// Entries fetched per store read while paging: small first (most reads stop early: GetItem-like
/// queries, Limit), growing up to [`LOAD_PAGE`].
const FIRST_PAGE: usize = 32;

fn decode_item(value: &[u8]) -> Option<Item> {
    let wire = serde_json::from_slice::<WireItem>(value).ok()?;
    item_from_wire(wire).ok()
}

impl TableItems {
    fn full(&self, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        k
    }

    /// An item read inside a store transaction (sees the writes not yet committed).
    pub fn get_in(
        &self,
        tx: &mut (dyn ruststack_core::store::Transaction + '_),
        key: &[u8],
    ) -> std::io::Result<Option<Item>> {
        Ok(tx.get(ITEMS, &self.full(key))?.and_then(|v| decode_item(&v)))
    }

    pub fn get(&self, key: &[u8]) -> Option<Item> {
        let value = self.kv.get(ITEMS, &self.full(key))?;
        let item = decode_item(&value);
        if item.is_none() {
            tracing::error!("unreadable item in the store");
        }
        item
    }

    /// Up to `limit` items expired at `now` under `attr`, found through the expiry tree.
    pub fn expired(&self, attr: &str, now: i64, limit: usize) -> Vec<(Vec<u8>, Item)> {
        let mut lower = self.prefix.clone();
        lower.extend_from_slice(&expiry_bytes(now.saturating_sub(crate::ttl::MAX_AGE_SECS)));
        let mut upper = self.prefix.clone();
        upper.extend_from_slice(&expiry_bytes(now.saturating_add(1)));
        let mut out = Vec::new();
        let mut start = Bound::Included(lower);
        loop {
            let bound = match &start {
                Bound::Included(k) => Bound::Included(k.as_slice()),
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                Bound::Unbounded => Bound::Unbounded,
            };
            let page = self.kv.range(EXPIRY, bound, Bound::Excluded(&upper), LOAD_PAGE);
            let n = page.len();
            for (key, _) in &page {
                let primary = &key[self.prefix.len() + 8..];
                // An entry left by an item changed since is ignored (the item's own value decides).
                if let Some(item) = self.get(primary).filter(|i| crate::ttl::expired(i, attr, now)) {
                    out.push((primary.to_vec(), item));
                    if out.len() >= limit {
                        return out;
                    }
                }
            }
            match page.into_iter().last() {
                Some((last, _)) if n == LOAD_PAGE => start = Bound::Excluded(last),
                _ => return out,
            }
        }
    }

    /// Calls `f` with every item (key relative to the table), one page in memory at a time.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], Item)) {
        for (key, item) in self.range(None, Bound::Unbounded, Bound::Unbounded, true) {
            f(&key, item.into_owned());
        }
    }

    /// The items with positions in `(lower, upper)` — primary keys, or with `index` the entries
    /// of that index — in order or reversed, each with its position.
    pub fn range(
        &self,
        index: Option<&str>,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        forward: bool,
    ) -> StoredRange<'_> {
        let to_full = |b: Bound<Vec<u8>>, low: bool| match b {
            Bound::Included(k) => Bound::Included(self.full(&k)),
            Bound::Excluded(k) => Bound::Excluded(self.full(&k)),
            Bound::Unbounded if low => Bound::Included(self.prefix.clone()),
            Bound::Unbounded => prefix_end(&self.prefix).map_or(Bound::Unbounded, Bound::Excluded),
        };
        StoredRange {
            items: self,
            tree: index.map_or_else(|| ITEMS.to_owned(), index_tree),
            index: index.is_some(),
            lower: to_full(lower, true),
            upper: to_full(upper, false),
            forward,
            page: FIRST_PAGE,
            buffer: std::collections::VecDeque::new(),
            done: false,
        }
    }
}

/// A range read of [`TableItems::range`].
pub struct StoredRange<'a> {
    items: &'a TableItems,
    tree: String,
    index: bool,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    forward: bool,
    page: usize,
    buffer: std::collections::VecDeque<(Vec<u8>, Vec<u8>)>,
    done: bool,
}

impl StoredRange<'_> {
    fn fill(&mut self) {
        fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
            match b {
                Bound::Included(k) => Bound::Included(k.as_slice()),
                Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
                Bound::Unbounded => Bound::Unbounded,
            }
        }
        let kv = &self.items.kv;
        let page = if self.forward {
            kv.range(&self.tree, as_ref(&self.lower), as_ref(&self.upper), self.page)
        } else {
            kv.range_rev(&self.tree, as_ref(&self.lower), as_ref(&self.upper), self.page)
        };
        if page.len() < self.page {
            self.done = true;
        }
        if let Some((last, _)) = page.last() {
            if self.forward {
                self.lower = Bound::Excluded(last.clone());
            } else {
                self.upper = Bound::Excluded(last.clone());
            }
        }
        self.page = (self.page * 4).min(LOAD_PAGE);
        self.buffer.extend(page);
    }
}

impl<'a> Iterator for StoredRange<'a> {
    type Item = crate::table::Entry<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.buffer.is_empty() {
                if self.done {
                    return None;
                }
                self.fill();
                continue;
            }
            let (key, value) = self.buffer.pop_front()?;
            let position = key[self.items.prefix.len()..].to_vec();
            let item = if self.index {
                // An index entry points at the item (absent only if the store was changed by hand).
                self.items.get(&value)
            } else {
                decode_item(&value)
            };
            match item {
                Some(item) => return Some((std::borrow::Cow::Owned(position), std::borrow::Cow::Owned(item))),
                None => tracing::error!(tree = %self.tree, "unreadable or dangling entry in the store"),
            }
        }
    }
}

/// A stream's records in the store, by sequence number.
pub struct RecordSource {
    kv: Arc<dyn KvStore>,
    /// `account \0 region \0 stream arn \0`.
    prefix: Vec<u8>,
}

impl RecordSource {
    fn key(&self, sequence: u64) -> Vec<u8> {
        let mut k = self.prefix.clone();
        k.extend_from_slice(&sequence.to_be_bytes());
        k
    }

    fn decode(&self, entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<StreamRecord> {
        entries
            .into_iter()
            .filter_map(|(key, value)| {
                let sequence = key[self.prefix.len()..].try_into().map(u64::from_be_bytes).ok()?;
                let r = decode_record(sequence, &value);
                if r.is_none() {
                    tracing::error!(sequence, "unreadable stream record");
                }
                r
            })
            .collect()
    }

    /// Up to `limit` records with sequence numbers in `from..=to`, in order.
    pub fn range(&self, from: u64, to: u64, limit: usize) -> Vec<StreamRecord> {
        if from > to {
            return Vec::new();
        }
        let (lower, upper) = (self.key(from), self.key(to));
        self.decode(self.kv.range(RECORDS, Bound::Included(&lower), Bound::Included(&upper), limit))
    }

    /// The first record at or after `sequence`.
    pub fn first_from(&self, sequence: u64) -> Option<StreamRecord> {
        self.range(sequence, u64::MAX, 1).pop()
    }

    /// The newest record.
    pub fn last(&self) -> Option<StreamRecord> {
        let (lower, upper) = (self.key(0), self.key(u64::MAX));
        self.decode(self.kv.range_rev(RECORDS, Bound::Included(&lower), Bound::Included(&upper), 1)).pop()
    }
}

fn decode_record(sequence: u64, value: &[u8]) -> Option<StreamRecord> {
    let r: StoredRecord = serde_json::from_slice(value).ok()?;
    let item = |w: WireItem| item_from_wire(w).ok();
    Some(StreamRecord {
        sequence,
        id: u128::from_str_radix(&r.id, 16).ok()?,
        event: EventName::parse(&r.event)?,
        at: Timestamp { millis: r.at },
        keys: item(r.keys)?,
        old: match r.old {
            Some(w) => Some(item(w)?),
            None => None,
        },
        new: match r.new {
            Some(w) => Some(item(w)?),
            None => None,
        },
        size: r.size,
        by_ttl: r.ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DynamoDb;
    use crate::number::Number;
    use crate::table::test_meta;
    use crate::value::AttrValue;
    use ruststack_core::store::MemoryStore;

    fn item(pk: &str, gk: Option<&str>) -> Item {
        let mut i: Item =
            [("pk".to_string(), AttrValue::S(pk.into())), ("sk".to_string(), AttrValue::N(Number::from_i64(1)))].into();
        if let Some(g) = gk {
            i.insert("gk".into(), AttrValue::S(g.into()));
        }
        i
    }

    #[test]
    fn tables_items_indexes_and_streams_read_back_and_drop_cleanly() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = RegionStore::new(Some(kv.clone()), "000000000000", "us-east-1");
        let mut meta = test_meta();
        meta.stream = Some(("label".into(), "NEW_AND_OLD_IMAGES".into()));
        let stream = Stream::new(&meta.arn, &meta.name, "label".into(), ViewType::NewAndOldImages, meta.key.clone());
        let mut writes = Vec::new();
        store.put_meta(&meta, &mut writes);
        store.put_stream(&stream, None, &mut writes);
        let (a, b) = (item("a", Some("x")), item("b", None));
        for it in [&a, &b] {
            let key = meta.key.encode(it).unwrap();
            store.put_item(&meta, &key, None, Some(it), &mut writes);
            let r = stream.prepare(meta.key.extract(it), None, Some(it), false, 0).unwrap();
            store.put_record(&stream, &r, &mut writes);
            stream.push(r);
        }
        // `a` moves within the index: one delete and one put of its entry.
        let a2 = item("a", Some("y"));
        let before = writes.len();
        store.put_item(&meta, &meta.key.encode(&a).unwrap(), Some(&a), Some(&a2), &mut writes);
        assert_eq!(writes.len() - before, 3);
        store.apply(writes).unwrap();

        let db = DynamoDb::with_kv(kv.clone());
        let region = db.region_of(&Arc::from("000000000000"), &Arc::from("us-east-1"));
        let table = region.table("t").unwrap();
        let state = table.state.read();
        assert_eq!(state.data.item_count(), 2);
        assert_eq!(state.data.get(&meta.key.encode(&a).unwrap()).as_deref(), Some(&a2));
        assert_eq!(state.data.index_stats("g").0, 1);
        let restored = state.stream.clone().expect("the table's stream is restored");
        let records = restored.read(0, 10, Clone::clone).unwrap().records;
        assert_eq!(records.iter().map(|r| r.sequence).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(records[1].new.as_ref(), Some(&b));
        assert_eq!(restored.shard_id, stream.shard_id);
        drop(state);
        // Another region sees nothing of it.
        assert!(db.region_of(&Arc::from("000000000000"), &Arc::from("eu-west-1")).table("t").is_err());

        let mut writes = Vec::new();
        store.drop_table(&table.state.read().meta, &mut writes);
        store.apply(writes).unwrap();
        for tree in [TABLES, ITEMS, "dynamodb/index/g"] {
            assert!(kv.range(tree, Bound::Unbounded, Bound::Unbounded, 10).is_empty(), "{tree}");
        }
    }

    #[test]
    fn records_past_the_retention_leave_the_store_with_the_next_write() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = RegionStore::new(Some(kv.clone()), "a", "r");
        let meta = test_meta();
        let stream = Stream::new(&meta.arn, &meta.name, "l".into(), ViewType::KeysOnly, meta.key.clone());
        let it = item("a", None);
        let mut old = stream.prepare(meta.key.extract(&it), None, Some(&it), false, 0).unwrap();
        old.at.millis -= crate::streams::RETENTION_MILLIS + 1;
        let mut writes = Vec::new();
        store.put_record(&stream, &old, &mut writes);
        assert_eq!(writes.len(), 1);
        stream.push(old);
        store.apply(writes).unwrap();
        let new = stream.prepare(meta.key.extract(&it), Some(&it), None, false, 0).unwrap();
        let mut writes = Vec::new();
        store.put_record(&stream, &new, &mut writes);
        let deleted: Vec<_> = writes.iter().filter(|w| matches!(w, Write::Delete { .. })).collect();
        assert_eq!(deleted.len(), 1);
        store.apply(writes).unwrap();
        let left = kv.range(RECORDS, Bound::Unbounded, Bound::Unbounded, 10);
        assert_eq!(left.len(), 1);
        assert!(left[0].0.ends_with(&2u64.to_be_bytes()));
    }

    #[test]
    fn stored_tables_page_through_items_indexes_and_expiry_in_order() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = RegionStore::new(Some(kv.clone()), "a", "r");
        let mut meta = test_meta();
        meta.ttl_attribute = Some("exp".into());
        let now = 1_700_000_000;
        let mut writes = Vec::new();
        for i in 0..300i64 {
            let mut it = item(&format!("p{:03}", i % 7), Some(&format!("g{}", i % 3)));
            it.insert("sk".into(), AttrValue::N(Number::from_i64(i - 150)));
            // Every tenth item has expired; one expired more than five years ago does not count.
            let exp = if i % 10 == 0 { now - 5 } else { now + 100 };
            it.insert("exp".into(), AttrValue::N(Number::from_i64(if i == 299 { 0 } else { exp })));
            store.put_item(&meta, &meta.key.encode(&it).unwrap(), None, Some(&it), &mut writes);
        }
        store.apply(writes).unwrap();
        let data = TableData::stored(&meta, store.table_items("t").unwrap(), None);
        assert_eq!(data.item_count(), 300);
        let forward: Vec<Vec<u8>> =
            data.range(Bound::Unbounded, Bound::Unbounded, true).map(|(k, _)| k.into_owned()).collect();
        let mut sorted = forward.clone();
        sorted.sort();
        assert_eq!(forward, sorted);
        let backward: Vec<Vec<u8>> =
            data.range(Bound::Unbounded, Bound::Unbounded, false).map(|(k, _)| k.into_owned()).collect();
        assert_eq!(backward, forward.iter().rev().cloned().collect::<Vec<_>>());
        // A bounded range: one partition, a start key inside it.
        let mut p3 = Vec::new();
        crate::value::encode_key_part(&AttrValue::S("p003".into()), &mut p3);
        let end = crate::table::prefix_end(&p3).unwrap();
        let part: Vec<_> = data.range(Bound::Included(p3.clone()), Bound::Excluded(end.clone()), true).collect();
        assert_eq!(part.len(), forward.iter().filter(|k| k.starts_with(&p3)).count());
        assert!(part.iter().all(|(_, i)| i["pk"] == AttrValue::S("p003".into())));
        let after = part[2].0.to_vec();
        assert_eq!(data.range(Bound::Excluded(after), Bound::Excluded(end), true).count(), part.len() - 3);
        let g1: Vec<_> = data.index_range("g", Bound::Unbounded, Bound::Unbounded, false).collect();
        assert_eq!(g1.len(), 300);
        assert!(g1.windows(2).all(|w| w[0].0 > w[1].0));
        assert_eq!(data.index_stats("g").0, 300);
        let expired = data.expired("exp", now, usize::MAX);
        assert_eq!(expired.len(), 30);
        assert_eq!(data.expired("exp", now, 1).len(), 1);
        assert!(data.expired("exp", now - 10, usize::MAX).is_empty());
    }

    #[test]
    fn statistics_are_read_back_instead_of_counted() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = RegionStore::new(Some(kv.clone()), "000000000000", "us-east-1");
        let meta = test_meta();
        let mut writes = Vec::new();
        store.put_meta(&meta, &mut writes);
        let it = item("a", Some("x"));
        store.put_item(&meta, &meta.key.encode(&it).unwrap(), None, Some(&it), &mut writes);
        // A count that differs from the items shows where the statistics came from.
        let stats = TableStats { count: 41, bytes: 7, indexes: [("g".to_string(), (3, 5))].into() };
        store.put_stats("t", Some(stats.clone()), &mut writes);
        store.apply(writes).unwrap();
        let db = DynamoDb::with_kv(kv.clone());
        let table = db.region_of(&Arc::from("000000000000"), &Arc::from("us-east-1")).table("t").unwrap();
        let state = table.state.read();
        assert_eq!((state.data.item_count(), state.data.size_bytes(), state.data.index_stats("g")), (41, 7, (3, 5)));
        let after = state.data.stats_after(&state.meta, [(&b"k"[..], None, Some(&it))]).unwrap();
        assert_eq!((after.count, after.indexes["g"].0), (42, 4));
    }

    #[test]
    fn stored_streams_read_records_from_the_store() {
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = RegionStore::new(Some(kv.clone()), "a", "r");
        let meta = test_meta();
        let stream = Stream::new(&meta.arn, &meta.name, "l".into(), ViewType::NewImage, meta.key.clone());
        let source = store.record_source(&stream.arn);
        let stream = stream.stored_in(source);
        let it = item("a", None);
        for n in 0..3 {
            let mut r = stream.prepare(meta.key.extract(&it), None, Some(&it), false, 0).unwrap();
            if n == 0 {
                r.at.millis -= crate::streams::RETENTION_MILLIS + 1;
            }
            let mut writes = Vec::new();
            store.put_record(&stream, &r, &mut writes);
            store.apply(writes).unwrap();
            stream.push(r);
        }
        assert_eq!(stream.latest(), 3);
        assert_eq!(stream.trim_horizon(), 1);
        assert_eq!(stream.sequence_range(), (2, None));
        assert_eq!(stream.read(0, 10, |r| r.sequence).unwrap_err(), crate::streams::ReadError::Trimmed);
        let page = stream.read(1, 10, |r| (r.sequence, r.new.clone())).unwrap();
        assert_eq!(page.records, [(2, Some(it.clone())), (3, Some(it.clone()))]);
        assert_eq!(stream.read(2, 1, |r| r.sequence).unwrap().records, [3]);
        assert_eq!(stream.position_at(0), 1);
        assert_eq!(stream.position_at(i64::MAX), 3);
        assert_eq!(stream.check_position(4).unwrap_err(), crate::streams::ReadError::BeyondEnd);
        // Nothing of the records is kept in memory: a restored stream reads the same.
        let restored = Stream::restore(
            stream.arn.clone(),
            "t".into(),
            "l".into(),
            ViewType::NewImage,
            meta.key.clone(),
            stream.created,
            stream.shard_id.clone(),
            0,
            None,
            store.record_source(&stream.arn).unwrap(),
        );
        assert_eq!((restored.latest(), restored.trim_horizon()), (3, 1));
        assert_eq!(restored.read(1, 10, |r| r.sequence).unwrap().records, [2, 3]);
    }

    #[test]
    fn conditional_writes_through_the_store_have_one_winner_and_batches_are_whole() {
        use crate::expression::{Condition, Path};
        use crate::handlers::common::{PreparedWrite, WriteKind};
        let kv: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        let store = Arc::new(RegionStore::new(Some(kv.clone()), "a", "r"));
        let table = Arc::new(crate::table::Table::with_store(test_meta(), store.clone(), true));
        let put = |n: i64| {
            let mut it = item("prize", Some("g"));
            it.insert("winner".into(), AttrValue::N(Number::from_i64(n)));
            // One read guard at a time: a second one waits behind a queued writer.
            let key_def = table.state.read().meta.key.clone();
            PreparedWrite {
                table: table.clone(),
                table_name: "t".into(),
                key: key_def.extract(&it),
                key_bytes: key_def.encode(&it).unwrap(),
                kind: WriteKind::Put(it),
                condition: Some(Condition::Not(Box::new(Condition::Exists(Path::attr("pk"))))),
                return_old_on_failure: false,
            }
        };
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16).map(|n| s.spawn(move || put(n).run().is_ok() as usize)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
        let state = table.state.read();
        assert_eq!((state.data.item_count(), state.data.index_stats("g").0), (1, 1));
        assert_eq!(store.load_stats("t").map(|s| s.count), Some(1));
        assert_eq!(kv.range(ITEMS, Bound::Unbounded, Bound::Unbounded, 10).len(), 1);
        assert_eq!(kv.range("dynamodb/index/g", Bound::Unbounded, Bound::Unbounded, 10).len(), 1);
    }

    #[test]
    fn memory_mode_stores_nothing() {
        let store = RegionStore::new(None, "a", "r");
        let mut writes = Vec::new();
        store.put_meta(&test_meta(), &mut writes);
        store.put_item(&test_meta(), b"k", None, Some(&item("a", Some("x"))), &mut writes);
        assert!(writes.is_empty());
        assert!(store.load_tables().is_empty());
    }
}
