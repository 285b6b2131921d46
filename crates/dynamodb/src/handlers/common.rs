//! Pieces every item operation shares: expression attribute maps, the conditional write core
//! (also used by batches and transactions), consumed capacity.

use crate::error::{conditional_check_failed, validation};
use crate::expression::eval::{apply_update, matches};
use crate::expression::{Condition, ExprContext, ExprKind, UpdateAction};
use crate::generated::types::{AttributeValue, Capacity, ConsumedCapacity, ItemCollectionMetrics};
use crate::persist::{TxError, write_in};
use crate::streams::StreamRecord;
use crate::table::{Table, TableState};
use crate::value::{AttrValue, Item, WireItem, expression_values_from_wire, item_size, item_to_wire};
use ruststack_core::AwsError;
use ruststack_core::store::Write;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Validated `ExpressionAttributeNames` and `ExpressionAttributeValues`.
#[derive(Default)]
pub struct ExprMaps {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttrValue>,
}

impl ExprMaps {
    /// Checks the maps as AWS does: not empty, well-formed keys, only with expressions.
    pub fn new(
        names: Option<HashMap<String, String>>,
        values: Option<HashMap<String, AttributeValue>>,
        uses_expressions: bool,
    ) -> Result<ExprMaps, AwsError> {
        Self::check_allowed(names.is_some(), values.is_some(), uses_expressions)?;
        if let Some(n) = &names {
            if n.is_empty() {
                return Err(validation("ExpressionAttributeNames must not be empty"));
            }
            if let Some(bad) = n.keys().find(|k| !k.starts_with('#') || k.len() < 2) {
                return Err(validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
                )));
            }
        }
        if let Some(v) = &values {
            if v.is_empty() {
                return Err(validation("ExpressionAttributeValues must not be empty"));
            }
            if let Some(bad) = v.keys().find(|k| !k.starts_with(':') || k.len() < 2) {
                return Err(validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
                )));
            }
        }
        Ok(ExprMaps { names: names.unwrap_or_default(), values: expression_values_from_wire(values)? })
    }

    /// The maps are only allowed with expressions (a structural check, never in the
    /// request-validation envelope).
    pub fn check_allowed(names: bool, values: bool, uses_expressions: bool) -> Result<(), AwsError> {
        if names && !uses_expressions {
            return Err(validation("ExpressionAttributeNames can only be specified when using expressions"));
        }
        if values && !uses_expressions {
            return Err(validation("ExpressionAttributeValues can only be specified when using expressions"));
        }
        Ok(())
    }

    pub fn context(&self) -> ExprContext<'_> {
        ExprContext::new(&self.names, &self.values)
    }
}

/// Parses an optional condition expression.
pub fn parse_condition(
    ctx: &mut ExprContext,
    kind: ExprKind,
    src: Option<&str>,
) -> Result<Option<Condition>, AwsError> {
    src.map(|s| ctx.parse_condition(kind, s)).transpose()
}

/// What a write does to its item.
pub enum WriteKind {
    Put(Item),
    Update(Vec<UpdateAction>),
    Delete,
    /// TransactWriteItems' ConditionCheck: a condition, no write.
    Check,
}

/// One write, validated and ready to run under the table's lock.
pub struct PreparedWrite {
    pub table: Arc<Table>,
    pub table_name: String,
    /// The key attributes and their encoding.
    pub key: Item,
    pub key_bytes: Vec<u8>,
    pub kind: WriteKind,
    pub condition: Option<Condition>,
    /// ReturnValuesOnConditionCheckFailure = ALL_OLD.
    pub return_old_on_failure: bool,
}

/// Why a prepared write did not happen.
pub enum WriteFailure {
    /// The condition was false; the old item when it is to be returned.
    Condition(Option<Item>),
    Invalid(AwsError),
}

impl WriteFailure {
    pub fn into_error(self) -> AwsError {
        match self {
            WriteFailure::Condition(item) => {
                let err = conditional_check_failed();
                match item {
                    Some(item) => err.with_field("Item", wire_json(&item)),
                    None => err,
                }
            }
            WriteFailure::Invalid(e) => e,
        }
    }
}

pub fn wire_json(item: &Item) -> serde_json::Value {
    let mut v = serde_json::to_value(item_to_wire(item)).unwrap_or_default();
    ruststack_core::protocol::json::strip_nulls(&mut v);
    v
}

/// The outcome of a successful write: old and new item.
#[derive(Debug)]
pub struct WriteResult {
    pub old: Option<Item>,
    pub new: Option<Item>,
}

impl PreparedWrite {
    /// Checks the condition and computes the new item, without writing.
    pub fn evaluate(&self, state: &TableState) -> Result<WriteResult, WriteFailure> {
        self.evaluate_old(state, state.data.get(&self.key_bytes).as_deref())
    }

    /// [`PreparedWrite::evaluate`] against the item `old` (read inside a store transaction).
    pub fn evaluate_old(&self, state: &TableState, old: Option<&Item>) -> Result<WriteResult, WriteFailure> {
        if let Some(cond) = &self.condition {
            let empty = Item::new();
            if !matches(old.unwrap_or(&empty), cond) {
                return Err(WriteFailure::Condition(if self.return_old_on_failure { old.cloned() } else { None }));
            }
        }
        let new = match &self.kind {
            WriteKind::Put(item) => Some(item.clone()),
            WriteKind::Delete => None,
            WriteKind::Check => return Ok(WriteResult { old: old.cloned(), new: old.cloned() }),
            WriteKind::Update(actions) => {
                let mut item = old.cloned().unwrap_or_else(|| self.key.clone());
                apply_update(&mut item, actions).map_err(WriteFailure::Invalid)?;
                state.meta.validate_item(&item).map_err(|e| {
                    WriteFailure::Invalid(if e.message == "Item size has exceeded the maximum allowed size" {
                        validation("Item size to update has exceeded the maximum allowed size")
                    } else {
                        e
                    })
                })?;
                Some(item)
            }
        };
        Ok(WriteResult { old: old.cloned(), new })
    }

    /// The store writes of a result of [`PreparedWrite::evaluate`] (appended to `writes`) and
    /// its stream record, numbered after `pending` records of the same stream not pushed yet.
    /// Nothing changes until [`PreparedWrite::commit`].
    pub fn stage(
        &self,
        state: &TableState,
        result: &WriteResult,
        pending: u64,
        writes: &mut Vec<Write>,
    ) -> Option<StreamRecord> {
        if matches!(self.kind, WriteKind::Check) {
            return None;
        }
        let store = &self.table.store;
        store.put_item(&state.meta, &self.key_bytes, result.old.as_ref(), result.new.as_ref(), writes);
        let stream = state.stream.as_ref()?;
        let record = stream.prepare(self.key.clone(), result.old.as_ref(), result.new.as_ref(), false, pending)?;
        store.put_record(stream, &record, writes);
        Some(record)
    }

    /// Applies a staged result to the table in memory once its writes are stored.
    pub fn commit(&self, state: &mut TableState, result: &WriteResult, record: Option<StreamRecord>) {
        let TableState { meta, data, stream } = state;
        if matches!(self.kind, WriteKind::Check) {
            return;
        }
        data.change(meta, self.key_bytes.clone(), result.old.as_ref(), result.new.clone());
        if let (Some(stream), Some(record)) = (stream, record) {
            stream.push(record);
        }
    }

    /// ConsumedCapacity of a committed write: the table's units plus, for every secondary index
    /// the old or new item is in, the units of its projected item (as AWS charges index writes).
    pub fn consumed(&self, result: &WriteResult, mode: Option<&str>) -> Option<ConsumedCapacity> {
        mode.filter(|m| *m == "TOTAL" || *m == "INDEXES")?;
        let table_units = item_units(result);
        let state = self.table.state.read();
        let meta = &state.meta;
        let mut global = HashMap::new();
        let mut local = HashMap::new();
        for ix in &meta.indexes {
            let size = |item: &Option<Item>| {
                item.as_ref().filter(|i| ix.key.encode(i).is_some()).map(|i| item_size(&meta.project_for_index(ix, i)))
            };
            let (old, new) = (size(&result.old), size(&result.new));
            if old.is_none() && new.is_none() {
                continue;
            }
            // Moving an item within an index is a delete plus a put.
            let moved =
                matches!((&result.old, &result.new), (Some(o), Some(n)) if ix.key.extract(o) != ix.key.extract(n));
            let units = write_units(old.unwrap_or(0).max(new.unwrap_or(0)))
                * if moved && old.is_some() && new.is_some() { 2.0 } else { 1.0 };
            let cap = Capacity { capacity_units: Some(units), ..Default::default() };
            if ix.global {
                global.insert(ix.name.clone(), cap)
            } else {
                local.insert(ix.name.clone(), cap)
            };
        }
        let total = table_units + global.values().chain(local.values()).filter_map(|c| c.capacity_units).sum::<f64>();
        let mut out = consumed(&self.table_name, total, mode)?;
        if mode == Some("INDEXES") {
            out.table = Some(Capacity { capacity_units: Some(table_units), ..Default::default() });
            out.global_secondary_indexes = (!global.is_empty()).then_some(global);
            out.local_secondary_indexes = (!local.is_empty()).then_some(local);
        }
        Some(out)
    }

    /// ItemCollectionMetrics (ReturnItemCollectionMetrics = SIZE): only tables with local
    /// secondary indexes have item collections.
    pub fn item_collection_metrics(&self, mode: Option<&str>) -> Option<ItemCollectionMetrics> {
        if mode != Some("SIZE") {
            return None;
        }
        let state = self.table.state.read();
        if !state.meta.indexes.iter().any(|i| !i.global) {
            return None;
        }
        let hash = &state.meta.key.hash.0;
        let key = self.key.get(hash)?;
        Some(ItemCollectionMetrics {
            item_collection_key: Some([(hash.clone(), key.to_wire())].into()),
            size_estimate_range_gb: Some(vec![0.0, 1.0]),
        })
    }

    /// Evaluates, stores (one batch) and commits atomically under the table's lock. With
    /// `--data-dir` this runs as a store transaction that reads the item through it and lets go
    /// of the table's lock before the group commit, so writes to one table share fsyncs.
    pub fn run(&self) -> Result<WriteResult, AwsError> {
        let store = &self.table.store;
        if let Some(kv) = store.kv() {
            return kv.blocking(|kv| {
                let mut guard = Some(self.table.state.write());
                kv.transact(|tx| -> Result<WriteResult, TxError> {
                    let mut state = guard.take().expect("one call");
                    let old = state.data.get_in(Some(&mut *tx), &self.key_bytes)?.map(Cow::into_owned);
                    let result = self.evaluate_old(&state, old.as_ref()).map_err(WriteFailure::into_error)?;
                    let mut writes = Vec::new();
                    let record = self.stage(&state, &result, 0, &mut writes);
                    if !matches!(self.kind, WriteKind::Check) {
                        let change = (self.key_bytes.as_slice(), result.old.as_ref(), result.new.as_ref());
                        let stats = state.data.stats_after(&state.meta, [change]);
                        store.put_stats(&self.table_name, stats, &mut writes);
                    }
                    write_in(tx, writes)?;
                    // Statistics and the stream's last sequence number follow now, under the lock
                    // (a failed group commit leaves them ahead: both are approximate or gapped).
                    self.commit(&mut state, &result, record);
                    Ok(result)
                })
                .map_err(AwsError::from)
            });
        }
        self.table.store.blocking(|| {
            let mut state = self.table.state.write();
            let result = self.evaluate(&state).map_err(WriteFailure::into_error)?;
            let mut writes = Vec::new();
            let record = self.stage(&state, &result, 0, &mut writes);
            if !matches!(self.kind, WriteKind::Check) {
                let change = (self.key_bytes.as_slice(), result.old.as_ref(), result.new.as_ref());
                let stats = state.data.stats_after(&state.meta, [change]);
                self.table.store.put_stats(&self.table_name, stats, &mut writes);
            }
            self.table.store.apply(writes)?;
            self.commit(&mut state, &result, record);
            Ok(result)
        })
    }
}

/// Capacity units of a write of `size` bytes (1 KB units, at least 1).
pub fn write_units(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// Capacity units of a read of `size` bytes (4 KB units, halved unless strongly consistent).
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

pub fn item_units(result: &WriteResult) -> f64 {
    let size = result.old.as_ref().map(item_size).unwrap_or(0).max(result.new.as_ref().map(item_size).unwrap_or(0));
    write_units(size)
}

/// ConsumedCapacity as ReturnConsumedCapacity asks (`TOTAL`, `INDEXES`, or none).
pub fn consumed(table: &str, units: f64, mode: Option<&str>) -> Option<ConsumedCapacity> {
    match mode {
        Some("TOTAL") => Some(ConsumedCapacity {
            table_name: Some(table.to_owned()),
            capacity_units: Some(units),
            ..Default::default()
        }),
        Some("INDEXES") => Some(ConsumedCapacity {
            table_name: Some(table.to_owned()),
            capacity_units: Some(units),
            table: Some(Capacity { capacity_units: Some(units), ..Default::default() }),
            ..Default::default()
        }),
        _ => None,
    }
}

/// `Some(item)` on the wire unless empty.
pub fn non_empty(item: Option<Item>) -> Option<WireItem> {
    item.filter(|i| !i.is_empty()).map(|i| item_to_wire(&i))
}
