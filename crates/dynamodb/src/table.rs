//! A table: its definition (key schema, indexes, settings) and its contents.
//!
//! Contents live in [`TableData`], the storage boundary: items ordered by encoded primary key
//! (partition key, then sort key) and one ordered map per secondary index, maintained on every
//! write, so a Query reads only its key range. The encoded keys sort as DynamoDB compares key
//! values (numbers numerically, strings and binaries bytewise), which is what the ordered kv
//! store needs too: with `--data-dir` the same ranges are read from its trees instead of the maps
//! (see [`crate::persist`]), and writes reach it as one batch each before [`TableData::change`]
//! updates what is kept here.

use crate::error::validation;
use crate::value::{AttrValue, Item, ScalarType, encode_key_part, item_size};
use parking_lot::RwLock;
use ruststack_core::{AwsError, Timestamp};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

/// A primary key or index key: partition key and optional sort key, with their types. A global
/// secondary index may have up to four attributes of each (multi-attribute keys): `more_hash`
/// and `more_range` follow `hash` and `range` in key-schema order, and the key compares as
/// the tuple of all of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyDef {
    pub hash: (String, ScalarType),
    pub range: Option<(String, ScalarType)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_hash: Vec<(String, ScalarType)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_range: Vec<(String, ScalarType)>,
}

impl KeyDef {
    /// A key of one partition key attribute and at most one sort key attribute.
    pub fn new(hash: (String, ScalarType), range: Option<(String, ScalarType)>) -> KeyDef {
        KeyDef { hash, range, more_hash: Vec::new(), more_range: Vec::new() }
    }

    /// The partition key attributes, in key-schema order.
    pub fn hash_attrs(&self) -> impl Iterator<Item = &(String, ScalarType)> {
        std::iter::once(&self.hash).chain(&self.more_hash)
    }

    /// The sort key attributes, in key-schema order.
    pub fn range_attrs(&self) -> impl Iterator<Item = &(String, ScalarType)> {
        self.range.iter().chain(&self.more_range)
    }

    /// Every key attribute: partition key attributes, then sort key attributes.
    pub fn attrs(&self) -> impl Iterator<Item = &(String, ScalarType)> {
        self.hash_attrs().chain(self.range_attrs())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attrs().map(|(n, _)| n.as_str())
    }

    pub fn is_key(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// The type of key attribute `name`.
    pub fn type_of(&self, name: &str) -> Option<ScalarType> {
        self.attrs().find(|(n, _)| n == name).map(|(_, t)| *t)
    }

    /// The encoded key of an item holding these attributes with the right types (an item
    /// missing any of them is not in the index).
    pub fn encode(&self, item: &Item) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(32);
        for (name, ty) in self.attrs() {
            let v = item.get(name)?;
            if v.scalar_type() != Some(*ty) {
                return None;
            }
            encode_key_part(v, &mut out);
        }
        Some(out)
    }

    /// The key attributes of an item.
    pub fn extract(&self, item: &Item) -> Item {
        self.names().filter_map(|n| item.get(n).map(|v| (n.to_owned(), v.clone()))).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

impl Projection {
    pub fn type_name(&self) -> &'static str {
        match self {
            Projection::All => "ALL",
            Projection::KeysOnly => "KEYS_ONLY",
            Projection::Include(_) => "INCLUDE",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexDef {
    pub name: String,
    pub key: KeyDef,
    pub projection: Projection,
    pub global: bool,
    pub throughput: Option<(i64, i64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingMode {
    Provisioned,
    PayPerRequest,
}

/// Everything about a table but its items (stored as JSON with `--data-dir`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableMeta {
    pub name: String,
    pub arn: String,
    pub id: String,
    pub created: Timestamp,
    pub key: KeyDef,
    pub attribute_definitions: Vec<(String, ScalarType)>,
    pub billing_mode: BillingMode,
    /// Whether BillingMode was ever given (AWS only then shows BillingModeSummary).
    pub billing_mode_explicit: bool,
    pub throughput: (i64, i64),
    pub indexes: Vec<IndexDef>,
    /// The enabled stream: `(label, view type)`; the label is the stream's creation time.
    pub stream: Option<(String, String)>,
    /// The label of the newest stream, enabled or not (`LatestStreamArn` outlives disabling).
    pub latest_stream: Option<String>,
    pub ttl_attribute: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub deletion_protection: bool,
    pub table_class: Option<String>,
    pub sse_enabled: bool,
    /// The resource-based policy and its revision id (PutResourcePolicy).
    #[serde(default)]
    pub resource_policy: Option<ResourcePolicy>,
    /// Point-in-time recovery, when enabled (UpdateContinuousBackups).
    #[serde(default)]
    pub point_in_time_recovery: Option<PointInTimeRecovery>,
    /// Where a restored table came from (RestoreTableFromBackup, RestoreTableToPointInTime).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_summary: Option<crate::generated::types::RestoreSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourcePolicy {
    pub document: String,
    /// Milliseconds since the epoch when it was put, as AWS's revision ids are.
    pub revision: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointInTimeRecovery {
    pub enabled_at: Timestamp,
    pub period_days: i32,
}

impl TableMeta {
    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// The attributes an index item holds: the table key, the index key and the projection.
    pub fn project_for_index(&self, index: &IndexDef, item: &Item) -> Item {
        match &index.projection {
            Projection::All => item.clone(),
            Projection::KeysOnly | Projection::Include(_) => {
                let include: &[String] = match &index.projection {
                    Projection::Include(a) => a,
                    _ => &[],
                };
                item.iter()
                    .filter(|(k, _)| self.key.is_key(k) || index.key.is_key(k) || include.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }
        }
    }

    /// AWS's checks of a whole item against the table and index key schemas.
    pub fn validate_item(&self, item: &Item) -> Result<(), AwsError> {
        for (i, (name, ty)) in std::iter::once(&self.key.hash).chain(self.key.range.as_ref()).enumerate() {
            let Some(v) = item.get(name) else {
                return Err(validation(format!(
                    "One or more parameter values were invalid: Missing the key {name} in the item"
                )));
            };
            check_key_value(name, *ty, v, i == 0)?;
        }
        for index in &self.indexes {
            for (name, ty) in index.key.attrs() {
                let Some(v) = item.get(name) else { continue };
                if v.scalar_type() != Some(*ty) {
                    return Err(validation(format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: {} Actual: {} IndexName: {}",
                        ty.as_str(),
                        v.type_name(),
                        index.name
                    )));
                }
                if is_empty_scalar(v) {
                    return Err(validation(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: {}, IndexKey: {name}",
                        if ty == &ScalarType::B { "binary" } else { "string" },
                        index.name
                    )));
                }
            }
        }
        if item_size(item) > crate::value::MAX_ITEM_SIZE {
            return Err(validation("Item size has exceeded the maximum allowed size"));
        }
        Ok(())
    }

    /// AWS's checks of a `Key` parameter: exactly the key attributes, with the right types.
    pub fn validate_key(&self, key: &Item) -> Result<Vec<u8>, AwsError> {
        let mismatch = || validation("The provided key element does not match the schema");
        if key.len() != self.key.names().count() {
            return Err(mismatch());
        }
        for (i, (name, ty)) in std::iter::once(&self.key.hash).chain(self.key.range.as_ref()).enumerate() {
            let v = key.get(name).ok_or_else(mismatch)?;
            if v.scalar_type() != Some(*ty) {
                return Err(mismatch());
            }
            check_key_value(name, *ty, v, i == 0)?;
        }
        self.key.encode(key).ok_or_else(mismatch)
    }
}

fn is_empty_scalar(v: &AttrValue) -> bool {
    match v {
        AttrValue::S(s) => s.is_empty(),
        AttrValue::B(b) => b.is_empty(),
        _ => false,
    }
}

fn check_key_value(name: &str, ty: ScalarType, v: &AttrValue, hash: bool) -> Result<(), AwsError> {
    if v.scalar_type() != Some(ty) {
        return Err(validation(format!(
            "One or more parameter values were invalid: Type mismatch for key {name} expected: {} actual: {}",
            ty.as_str(),
            v.type_name()
        )));
    }
    if is_empty_scalar(v) {
        return Err(validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
            if ty == ScalarType::B { "binary" } else { "string" }
        )));
    }
    let size = v.size();
    if hash && size > crate::value::MAX_HASH_KEY_SIZE {
        return Err(validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if !hash && size > crate::value::MAX_RANGE_KEY_SIZE {
        return Err(validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// The contents of a table: items by primary key and the secondary indexes, in memory or (with
/// `--data-dir`) in the kv store, where reads page through its ordered trees (see
/// [`crate::persist`]) and only the statistics are kept here.
#[derive(Default)]
pub struct TableData {
    items: BTreeMap<Vec<u8>, Item>,
    /// Index name → (index key ++ primary key → primary key).
    indexes: HashMap<String, BTreeMap<Vec<u8>, Vec<u8>>>,
    size_bytes: usize,
    /// Items in the store instead of the maps above.
    stored: Option<StoredData>,
}

/// A table kept in the store: where its items are, and its statistics.
struct StoredData {
    items: crate::persist::TableItems,
    stats: TableStats,
}

/// ItemCount and sizes of a table in the store (stored with every write batch, so a table's first
/// use after a restart reads them instead of counting its items).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableStats {
    pub count: usize,
    pub bytes: usize,
    /// Index name → (items, bytes).
    pub indexes: HashMap<String, (usize, usize)>,
}

impl TableStats {
    /// Follows the replacement of `old` by `new` under primary key `key`.
    pub fn change(&mut self, meta: &TableMeta, key: &[u8], old: Option<&Item>, new: Option<&Item>) {
        for (item, sign) in [(old, -1isize), (new, 1)] {
            let Some(item) = item else { continue };
            let size = item_size(item) as isize * sign;
            self.count = self.count.saturating_add_signed(sign);
            self.bytes = self.bytes.saturating_add_signed(size);
            for ix in &meta.indexes {
                if index_entry(ix, item, key).is_some() {
                    let s = self.indexes.entry(ix.name.clone()).or_default();
                    s.0 = s.0.saturating_add_signed(sign);
                    s.1 = s.1.saturating_add_signed(size);
                }
            }
        }
    }
}

/// An item read in a range: its position (primary key, or index entry) and the item, borrowed
/// from memory or decoded from the store.
pub type Entry<'a> = (Cow<'a, [u8]>, Cow<'a, Item>);

/// The key of an item in an index: the index key followed by the primary key (unique).
fn index_entry(index: &IndexDef, item: &Item, primary: &[u8]) -> Option<Vec<u8>> {
    let mut k = index.key.encode(item)?;
    k.extend_from_slice(primary);
    Some(k)
}

impl TableData {
    /// A table whose items are in the store, with its statistics (`None`: counted from the
    /// items, for a table stored without them).
    pub fn stored(meta: &TableMeta, items: crate::persist::TableItems, stats: Option<TableStats>) -> TableData {
        let stats = stats.unwrap_or_else(|| {
            let mut stats = TableStats::default();
            items.for_each(|key, item| stats.change(meta, key, None, Some(&item)));
            stats
        });
        TableData { stored: Some(StoredData { items, stats }), ..TableData::default() }
    }

    /// The statistics after the changes `(key, old, new)`, for the batch storing them (`None`
    /// in memory).
    pub fn stats_after<'a>(
        &self,
        meta: &TableMeta,
        changes: impl IntoIterator<Item = (&'a [u8], Option<&'a Item>, Option<&'a Item>)>,
    ) -> Option<TableStats> {
        let mut stats = self.stored.as_ref()?.stats.clone();
        for (key, old, new) in changes {
            stats.change(meta, key, old, new);
        }
        Some(stats)
    }

    /// Replaces the statistics of a table in the store (after UpdateTable changed its indexes).
    pub fn set_stats(&mut self, stats: TableStats) {
        if let Some(s) = &mut self.stored {
            s.stats = stats;
        }
    }

    /// The statistics of a table in the store.
    pub fn stats(&self) -> Option<&TableStats> {
        self.stored.as_ref().map(|s| &s.stats)
    }

    pub fn item_count(&self) -> usize {
        match &self.stored {
            Some(s) => s.stats.count,
            None => self.items.len(),
        }
    }

    pub fn size_bytes(&self) -> usize {
        match &self.stored {
            Some(s) => s.stats.bytes,
            None => self.size_bytes,
        }
    }

    /// Reads an item inside a store transaction (the writes of other transactions not yet
    /// committed included); in memory, as [`TableData::get`].
    pub fn get_in<'t>(
        &self,
        tx: Option<&mut (dyn ruststack_core::store::Transaction + 't)>,
        key: &[u8],
    ) -> std::io::Result<Option<Cow<'_, Item>>> {
        match (&self.stored, tx) {
            (Some(s), Some(tx)) => Ok(s.items.get_in(tx, key)?.map(Cow::Owned)),
            _ => Ok(self.get(key)),
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<Cow<'_, Item>> {
        match &self.stored {
            Some(s) => s.items.get(key).map(Cow::Owned),
            None => self.items.get(key).map(Cow::Borrowed),
        }
    }

    /// Index statistics: (item count, bytes).
    pub fn index_stats(&self, name: &str) -> (usize, usize) {
        if let Some(s) = &self.stored {
            return s.stats.indexes.get(name).copied().unwrap_or_default();
        }
        match self.indexes.get(name) {
            None => (0, 0),
            Some(ix) => (ix.len(), ix.values().filter_map(|k| self.items.get(k)).map(item_size).sum()),
        }
    }

    fn unindex(&mut self, meta: &TableMeta, key: &[u8], item: &Item) {
        for index in &meta.indexes {
            if let Some(e) = index_entry(index, item, key)
                && let Some(ix) = self.indexes.get_mut(&index.name)
            {
                ix.remove(&e);
            }
        }
    }

    fn index(&mut self, meta: &TableMeta, key: &[u8], item: &Item) {
        for index in &meta.indexes {
            if let Some(e) = index_entry(index, item, key) {
                self.indexes.entry(index.name.clone()).or_default().insert(e, key.to_vec());
            }
        }
    }

    /// Replaces the item `old` under `key` by `new` (`None`: deletes it). In the store the write
    /// is already made (by the caller's batch); only the statistics follow.
    pub fn change(&mut self, meta: &TableMeta, key: Vec<u8>, old: Option<&Item>, new: Option<Item>) {
        let Some(stored) = &mut self.stored else {
            match new {
                Some(item) => {
                    self.put(meta, key, item);
                }
                None => {
                    self.remove(meta, &key);
                }
            }
            return;
        };
        stored.stats.change(meta, &key, old, new.as_ref());
    }

    /// Stores an item under its encoded key, returning the one it replaces (memory only).
    pub fn put(&mut self, meta: &TableMeta, key: Vec<u8>, item: Item) -> Option<Item> {
        let old = self.remove(meta, &key);
        self.index(meta, &key, &item);
        self.size_bytes += item_size(&item);
        self.items.insert(key, item);
        old
    }

    /// Removes an item (memory only).
    pub fn remove(&mut self, meta: &TableMeta, key: &[u8]) -> Option<Item> {
        let old = self.items.remove(key)?;
        self.unindex(meta, key, &old);
        self.size_bytes -= item_size(&old);
        Some(old)
    }

    /// Builds a new index from the items (UpdateTable creating a GSI; in the store its entries
    /// are written by the caller's batch, only its statistics are counted here).
    pub fn backfill(&mut self, index: &IndexDef) {
        if self.stored.is_some() {
            let mut stats = (0, 0);
            for (k, item) in self.range(Bound::Unbounded, Bound::Unbounded, true) {
                if index_entry(index, &item, &k).is_some() {
                    stats.0 += 1;
                    stats.1 += item_size(&item);
                }
            }
            if let Some(s) = &mut self.stored {
                s.stats.indexes.insert(index.name.clone(), stats);
            }
            return;
        }
        let mut ix = BTreeMap::new();
        for (k, item) in &self.items {
            if let Some(e) = index_entry(index, item, k) {
                ix.insert(e, k.clone());
            }
        }
        self.indexes.insert(index.name.clone(), ix);
    }

    pub fn drop_index(&mut self, name: &str) {
        self.indexes.remove(name);
        if let Some(s) = &mut self.stored {
            s.stats.indexes.remove(name);
        }
    }

    /// Items with primary keys in the range, in key order (or reversed).
    pub fn range<'a>(
        &'a self,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        forward: bool,
    ) -> Box<dyn Iterator<Item = Entry<'a>> + 'a> {
        if is_empty_range(&lower, &upper) {
            return Box::new(std::iter::empty());
        }
        if let Some(s) = &self.stored {
            return Box::new(s.items.range(None, lower, upper, forward));
        }
        let r = self.items.range((lower, upper)).map(|(k, v)| (Cow::Borrowed(k.as_slice()), Cow::Borrowed(v)));
        if forward { Box::new(r) } else { Box::new(r.rev()) }
    }

    /// Items of an index with index entries in the range, in entry order (or reversed).
    pub fn index_range<'a>(
        &'a self,
        index: &str,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        forward: bool,
    ) -> Box<dyn Iterator<Item = Entry<'a>> + 'a> {
        if is_empty_range(&lower, &upper) {
            return Box::new(std::iter::empty());
        }
        if let Some(s) = &self.stored {
            return Box::new(s.items.range(Some(index), lower, upper, forward));
        }
        let Some(ix) = self.indexes.get(index) else { return Box::new(std::iter::empty()) };
        let r = ix
            .range((lower, upper))
            .filter_map(|(e, k)| Some((Cow::Borrowed(e.as_slice()), Cow::Borrowed(self.items.get(k)?))));
        if forward { Box::new(r) } else { Box::new(r.rev()) }
    }

    /// Up to `limit` items expired at `now` under TTL attribute `attr` (in the store, read
    /// through its expiry tree rather than the whole table).
    pub fn expired(&self, attr: &str, now: i64, limit: usize) -> Vec<(Vec<u8>, Item)> {
        if let Some(s) = &self.stored {
            return s.items.expired(attr, now, limit);
        }
        self.items
            .iter()
            .filter(|(_, item)| crate::ttl::expired(item, attr, now))
            .take(limit)
            .map(|(k, item)| (k.clone(), item.clone()))
            .collect()
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.indexes.clear();
        self.size_bytes = 0;
    }
}

/// A table: definition and contents behind one lock, so a conditional write is atomic.
pub struct Table {
    pub state: RwLock<TableState>,
    /// Where the table's writes are stored (nothing in memory mode).
    pub store: std::sync::Arc<crate::persist::RegionStore>,
    /// Set once the items are in `state` (a table read back from the store loads on first use).
    loaded: std::sync::OnceLock<()>,
}

pub struct TableState {
    pub meta: TableMeta,
    pub data: TableData,
    /// The table's enabled stream, which every write appends to.
    pub stream: Option<std::sync::Arc<crate::streams::Stream>>,
}

impl Table {
    /// The table's name (requests may name it by ARN).
    pub fn name(&self) -> String {
        self.state.read().meta.name.clone()
    }

    /// A table that is not stored (unit tests).
    pub fn new(meta: TableMeta) -> Table {
        Table::with_store(meta, Default::default(), true)
    }

    /// A table whose writes go to `store`; `loaded: false` for one read back from it, whose
    /// items are loaded by [`Table::ensure_loaded`].
    pub fn with_store(meta: TableMeta, store: std::sync::Arc<crate::persist::RegionStore>, loaded: bool) -> Table {
        // A new table in the store starts empty; one read back counts its items on first use.
        let data = match store.table_items(&meta.name) {
            Some(items) if loaded => TableData::stored(&meta, items, Some(TableStats::default())),
            _ => TableData::default(),
        };
        let table = Table {
            state: RwLock::new(TableState { meta, data, stream: None }),
            store,
            loaded: std::sync::OnceLock::new(),
        };
        if loaded {
            let _ = table.loaded.set(());
        }
        table
    }

    /// Loads the items from the store on the table's first use (a no-op afterwards).
    pub fn ensure_loaded(&self) {
        self.loaded.get_or_init(|| {
            let mut state = self.state.write();
            if let Some(items) = self.store.table_items(&state.meta.name) {
                let stats = self.store.load_stats(&state.meta.name);
                state.data = TableData::stored(&state.meta, items, stats);
            }
        });
    }

    /// Whether the items are in memory (the TTL sweeper skips tables not used yet).
    pub fn is_loaded(&self) -> bool {
        self.loaded.get().is_some()
    }
}

/// Whether a range holds nothing (`BTreeMap::range` panics on inverted ranges).
pub fn is_empty_range(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    let (l, l_inc) = match lower {
        Bound::Included(l) => (l, true),
        Bound::Excluded(l) => (l, false),
        Bound::Unbounded => return false,
    };
    let (u, u_inc) = match upper {
        Bound::Included(u) => (u, true),
        Bound::Excluded(u) => (u, false),
        Bound::Unbounded => return false,
    };
    l > u || (l == u && !(l_inc && u_inc))
}

/// `lower` raised to just after `pos` when `pos` lies above it (resuming a page).
pub fn resume_after(lower: Bound<Vec<u8>>, pos: Vec<u8>) -> Bound<Vec<u8>> {
    match &lower {
        Bound::Included(l) | Bound::Excluded(l) if &pos < l => lower,
        _ => Bound::Excluded(pos),
    }
}

/// `upper` lowered to just before `pos` when `pos` lies below it (resuming a reverse page).
pub fn resume_before(upper: Bound<Vec<u8>>, pos: Vec<u8>) -> Bound<Vec<u8>> {
    match &upper {
        Bound::Included(u) | Bound::Excluded(u) if &pos > u => upper,
        _ => Bound::Excluded(pos),
    }
}

/// The smallest byte string greater than every string starting with `prefix`
/// (`None`: there is none, the range is unbounded).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// A table definition for unit tests: `pk` (S) + `sk` (N), a KEYS_ONLY GSI `g` on `gk` (S).
#[cfg(test)]
pub fn test_meta() -> TableMeta {
    TableMeta {
        name: "t".into(),
        arn: "arn".into(),
        id: "id".into(),
        created: Timestamp::now(),
        key: KeyDef::new(("pk".into(), ScalarType::S), Some(("sk".into(), ScalarType::N))),
        attribute_definitions: vec![],
        billing_mode: BillingMode::PayPerRequest,
        billing_mode_explicit: true,
        throughput: (0, 0),
        indexes: vec![IndexDef {
            name: "g".into(),
            key: KeyDef::new(("gk".into(), ScalarType::S), None),
            projection: Projection::KeysOnly,
            global: true,
            throughput: None,
        }],
        stream: None,
        latest_stream: None,
        ttl_attribute: None,
        tags: BTreeMap::new(),
        deletion_protection: false,
        table_class: None,
        sse_enabled: false,
        resource_policy: None,
        point_in_time_recovery: None,
        restore_summary: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    fn meta() -> TableMeta {
        test_meta()
    }

    #[test]
    fn key_definitions_stored_before_multi_attribute_keys_still_read() {
        let classic = KeyDef::new(("pk".into(), ScalarType::S), Some(("sk".into(), ScalarType::N)));
        let json = serde_json::to_string(&classic).unwrap();
        assert_eq!(json, r#"{"hash":["pk","S"],"range":["sk","N"]}"#);
        assert_eq!(serde_json::from_str::<KeyDef>(&json).unwrap(), classic);
        let multi = KeyDef { more_range: vec![("t".into(), ScalarType::S)], ..classic };
        let back: KeyDef = serde_json::from_str(&serde_json::to_string(&multi).unwrap()).unwrap();
        assert_eq!(back.names().collect::<Vec<_>>(), ["pk", "sk", "t"]);
        // An item is in the index only with every key attribute.
        let item: Item =
            [("pk".to_string(), AttrValue::S("a".into())), ("sk".to_string(), AttrValue::N(Number::from_i64(1)))]
                .into();
        assert!(back.encode(&item).is_none());
    }

    fn item(pk: &str, sk: i64, gk: Option<&str>) -> Item {
        let mut i: Item =
            [("pk".to_string(), AttrValue::S(pk.into())), ("sk".to_string(), AttrValue::N(Number::from_i64(sk)))]
                .into();
        if let Some(g) = gk {
            i.insert("gk".into(), AttrValue::S(g.into()));
        }
        i
    }

    #[test]
    fn items_sort_by_partition_then_numeric_sort_key_and_indexes_follow_writes() {
        let m = meta();
        let mut d = TableData::default();
        for (pk, sk, gk) in [("a", 10, Some("x")), ("a", 9, None), ("a", -1, Some("y")), ("b", 1, Some("x"))] {
            let it = item(pk, sk, gk);
            d.put(&m, m.key.encode(&it).unwrap(), it);
        }
        let mut prefix = Vec::new();
        encode_key_part(&AttrValue::S("a".into()), &mut prefix);
        let end = prefix_end(&prefix).unwrap();
        let sks: Vec<String> = d
            .range(Bound::Included(prefix), Bound::Excluded(end), true)
            .map(|(_, i)| match &i["sk"] {
                AttrValue::N(n) => n.to_string(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(sks, ["-1", "9", "10"]);
        assert_eq!(d.index_range("g", Bound::Unbounded, Bound::Unbounded, true).count(), 3);
        // Overwriting drops the old index entry.
        let it = item("a", 10, None);
        let old = d.put(&m, m.key.encode(&it).unwrap(), it);
        assert!(old.is_some());
        assert_eq!(d.index_range("g", Bound::Unbounded, Bound::Unbounded, true).count(), 2);
        assert_eq!(d.item_count(), 4);
        let k = m.key.encode(&item("b", 1, None)).unwrap();
        d.remove(&m, &k);
        assert_eq!(d.index_range("g", Bound::Unbounded, Bound::Unbounded, true).count(), 1);
        let total: usize = d.range(Bound::Unbounded, Bound::Unbounded, true).map(|(_, i)| item_size(&i)).sum();
        assert_eq!(d.size_bytes(), total);
    }

    #[test]
    fn key_validation_messages() {
        let m = meta();
        let mut it = item("a", 1, None);
        it.insert("sk".into(), AttrValue::S("x".into()));
        assert_eq!(
            m.validate_item(&it).unwrap_err().message,
            "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
        );
        it.remove("sk");
        assert_eq!(
            m.validate_item(&it).unwrap_err().message,
            "One or more parameter values were invalid: Missing the key sk in the item"
        );
        let it = item("", 1, None);
        assert_eq!(
            m.validate_item(&it).unwrap_err().message,
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
        );
        let it = item(&"x".repeat(2049), 1, None);
        assert!(
            m.validate_item(&it)
                .unwrap_err()
                .message
                .contains("Size of hashkey has exceeded the maximum size limit of2048 bytes")
        );
        let mut it = item("a", 1, None);
        it.insert("gk".into(), AttrValue::N(Number::from_i64(1)));
        assert_eq!(
            m.validate_item(&it).unwrap_err().message,
            "One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: N IndexName: g"
        );
        let mut it = item("a", 1, None);
        it.insert("big".into(), AttrValue::S("x".repeat(400 * 1024)));
        assert_eq!(m.validate_item(&it).unwrap_err().message, "Item size has exceeded the maximum allowed size");
        let mut key = item("a", 1, None);
        assert!(m.validate_key(&key).is_ok());
        key.insert("extra".into(), AttrValue::Null);
        assert_eq!(m.validate_key(&key).unwrap_err().message, "The provided key element does not match the schema");
    }

    #[test]
    fn ranges_resume_within_bounds_and_never_invert() {
        let inc = |v: &[u8]| Bound::Included(v.to_vec());
        let exc = |v: &[u8]| Bound::Excluded(v.to_vec());
        assert!(is_empty_range(&inc(&[2]), &exc(&[1])));
        assert!(is_empty_range(&exc(&[1]), &exc(&[1])));
        assert!(!is_empty_range(&inc(&[1]), &inc(&[1])));
        assert!(!is_empty_range(&Bound::Unbounded, &exc(&[0])));
        // A start key below the range does not widen it; one inside narrows it.
        assert_eq!(resume_after(inc(&[5]), vec![1]), inc(&[5]));
        assert_eq!(resume_after(inc(&[5]), vec![7]), exc(&[7]));
        assert_eq!(resume_before(exc(&[5]), vec![9]), exc(&[5]));
        assert_eq!(resume_before(exc(&[5]), vec![3]), exc(&[3]));
        let d = TableData::default();
        assert_eq!(d.range(inc(&[9]), inc(&[1]), true).count(), 0);
        assert_eq!(d.index_range("x", inc(&[9]), inc(&[1]), true).count(), 0);
    }

    #[test]
    fn prefix_end_increments() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }
}
