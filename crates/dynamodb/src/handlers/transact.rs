//! TransactWriteItems (all or nothing, under the write locks of every table involved, taken in
//! name order) and TransactGetItems (a consistent snapshot under read locks).

use super::common::*;
use super::items::{check_key_not_updated, prepare_key, prepare_put, projection};
use crate::DynamoDb;
use crate::error::validation;
use crate::expression::ExprKind;
use crate::expression::eval::project;
use crate::generated::types::*;
use crate::persist::{TxError, write_in};
use crate::table::{Table, TableState};
use crate::value::item_size;
use parking_lot::{RwLockReadGuard, RwLockWriteGuard};
use ruststack_core::store::{Transaction, Write};
use ruststack_core::{AwsError, RequestContext};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The aggregate size of the items of one transaction (4 MB).
const MAX_TRANSACTION_SIZE: usize = 4 * 1024 * 1024;

/// How long a ClientRequestToken makes a transaction idempotent.
pub(crate) const TOKEN_TTL: Duration = Duration::from_secs(600);

/// A JSON rendering with sorted object keys, to compare two requests.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                canonical(&m[k], out);
                out.push(',');
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for x in a {
                canonical(x, out);
                out.push(',');
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn prepare(region: &crate::Region, item: TransactWriteItem) -> Result<PreparedWrite, AwsError> {
    let set = [item.put.is_some(), item.update.is_some(), item.delete.is_some(), item.condition_check.is_some()];
    if set.iter().filter(|x| **x).count() != 1 {
        return Err(validation("TransactItems can only contain one of Check, Put, Update or Delete"));
    }
    let all_old = |s: &Option<String>| s.as_deref() == Some("ALL_OLD");
    if let Some(p) = item.put {
        let table = region.table(&p.table_name)?;
        let maps = ExprMaps::new(
            p.expression_attribute_names,
            p.expression_attribute_values,
            p.condition_expression.is_some(),
        )?;
        let mut ctx = maps.context();
        let condition = parse_condition(&mut ctx, ExprKind::Condition, p.condition_expression.as_deref())?;
        ctx.check_unused()?;
        let mut w = prepare_put(table, p.item)?;
        w.condition = condition;
        w.return_old_on_failure = all_old(&p.return_values_on_condition_check_failure);
        return Ok(w);
    }
    let (table_name, key, names, values, condition_src, update_src, rv) = if let Some(u) = item.update {
        (
            u.table_name,
            u.key,
            u.expression_attribute_names,
            u.expression_attribute_values,
            u.condition_expression,
            Some(u.update_expression),
            u.return_values_on_condition_check_failure,
        )
    } else if let Some(d) = item.delete {
        (
            d.table_name,
            d.key,
            d.expression_attribute_names,
            d.expression_attribute_values,
            d.condition_expression,
            None,
            d.return_values_on_condition_check_failure,
        )
    } else {
        let c = item.condition_check.unwrap_or_default();
        (
            c.table_name,
            c.key,
            c.expression_attribute_names,
            c.expression_attribute_values,
            Some(c.condition_expression),
            None,
            c.return_values_on_condition_check_failure,
        )
    };
    let table = region.table(&table_name)?;
    let maps = ExprMaps::new(names, values, condition_src.is_some() || update_src.is_some())?;
    let mut ctx = maps.context();
    let kind = match &update_src {
        Some(u) => {
            let actions = ctx.parse_update(u)?;
            check_key_not_updated(&table, &actions)?;
            WriteKind::Update(actions)
        }
        None => WriteKind::Delete,
    };
    let condition = parse_condition(&mut ctx, ExprKind::Condition, condition_src.as_deref())?;
    ctx.check_unused()?;
    let (key, key_bytes) = prepare_key(&table, key)?;
    Ok(PreparedWrite {
        table_name: table.name(),
        table,
        key,
        key_bytes,
        kind,
        condition,
        return_old_on_failure: all_old(&rv),
    })
}

/// Write locks on every distinct table, in name order (so transactions never deadlock).
fn lock_all(writes: &[PreparedWrite]) -> BTreeMap<String, RwLockWriteGuard<'_, TableState>> {
    let mut tables: BTreeMap<&str, &Arc<Table>> = BTreeMap::new();
    for w in writes {
        tables.insert(&w.table_name, &w.table);
    }
    tables.into_iter().map(|(name, t)| (name.to_owned(), t.state.write())).collect()
}

/// Fails on a token reused with a different request; a token reused with the same request
/// within ten minutes is remembered in `region.tokens` (the caller then answers without writing).
pub fn check_tokens(
    region: &crate::Region,
    token: &Option<String>,
    fingerprint: &Option<String>,
) -> Result<(), AwsError> {
    if let (Some(token), Some(fp)) = (token, fingerprint) {
        let mut tokens = region.tokens.lock();
        tokens.retain(|_, (_, at)| at.elapsed() < TOKEN_TTL);
        if let Some((prior, _)) = tokens.get(token)
            && prior != fp
        {
            return Err(AwsError::bad_request(
                "IdempotentParameterMismatchException",
                "Request parameters do not match the parameters of a prior request with the same client request token",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub fn run_transaction(writes: &[PreparedWrite]) -> Result<Vec<WriteResult>, AwsError> {
    run_transaction_with_token(writes, None)
}

/// Runs prepared writes all or nothing: every condition is checked under the write locks of
/// every table involved, then every write is stored (with `(token, fingerprint)`, if given, in
/// the same batch); a failure cancels them all with `TransactionCanceledException` and its
/// CancellationReasons in request order.
pub fn run_transaction_with_token(
    writes: &[PreparedWrite],
    token: Option<(&str, &str)>,
) -> Result<Vec<WriteResult>, AwsError> {
    let mut seen = HashSet::new();
    for w in writes {
        if !seen.insert((w.table_name.as_str(), w.key_bytes.as_slice())) {
            return Err(validation("Transaction request cannot include multiple operations on one item"));
        }
    }
    with_locks(writes, |locks, tx| transaction_locked(writes, token, locks, tx))
}

type Locks<'a> = BTreeMap<String, RwLockWriteGuard<'a, TableState>>;

/// Runs `f` under the write locks of the tables of `writes`: with `--data-dir` inside a store
/// transaction (`f` reads and writes through it; the locks go before the group commit), in
/// memory directly.
fn with_locks<'a, T>(
    writes: &'a [PreparedWrite],
    f: impl FnOnce(&mut Locks<'a>, Option<&mut dyn Transaction>) -> Result<T, TxError>,
) -> Result<T, AwsError> {
    let Some(first) = writes.first() else {
        return f(&mut BTreeMap::new(), None).map_err(AwsError::from);
    };
    match first.table.store.kv() {
        Some(kv) => kv.blocking(|kv| {
            let mut locks = Some(lock_all(writes));
            kv.transact(|tx| f(&mut locks.take().expect("one call"), Some(tx))).map_err(AwsError::from)
        }),
        None => f(&mut lock_all(writes), None).map_err(AwsError::from),
    }
}

fn transaction_locked(
    writes: &[PreparedWrite],
    token: Option<(&str, &str)>,
    locks: &mut Locks<'_>,
    mut tx: Option<&mut dyn Transaction>,
) -> Result<Vec<WriteResult>, TxError> {
    let mut results = Vec::with_capacity(writes.len());
    let mut reasons = Vec::with_capacity(writes.len());
    let mut failed = false;
    for w in writes {
        let state = &locks[&w.table_name];
        let old = state.data.get_in(tx.as_deref_mut(), &w.key_bytes)?;
        match w.evaluate_old(state, old.as_deref()) {
            Ok(r) => {
                reasons.push(serde_json::json!({"Code": "None"}));
                results.push(r);
            }
            Err(WriteFailure::Condition(old)) => {
                failed = true;
                let mut reason =
                    serde_json::json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
                if let Some(old) = old {
                    reason["Item"] = wire_json(&old);
                }
                reasons.push(reason);
            }
            Err(WriteFailure::Invalid(e)) => {
                failed = true;
                reasons.push(serde_json::json!({"Code": "ValidationError", "Message": e.message}));
            }
        }
    }
    // The aggregate size limit counts the items as they would be written (keys for deletes and checks).
    let size: usize = writes
        .iter()
        .zip(&results)
        .map(|(w, r)| match (&w.kind, &r.new) {
            (WriteKind::Put(_) | WriteKind::Update(_), Some(new)) => item_size(new),
            _ => item_size(&w.key),
        })
        .sum();
    if size > MAX_TRANSACTION_SIZE {
        return Err(validation("Aggregate size of the items in the transaction exceeds the maximum of 4 MB").into());
    }
    if failed {
        let codes: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap_or("None")).collect();
        return Err(AwsError::bad_request(
            "TransactionCanceledException",
            format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        )
        .with_field("CancellationReasons", serde_json::Value::Array(reasons))
        .into());
    }
    let mut batch = Vec::new();
    if let (Some((token, fingerprint)), Some(w)) = (token, writes.first()) {
        w.table.store.put_token(token, fingerprint, &mut batch);
    }
    store_and_commit(locks, writes, &results, batch, tx)?;
    Ok(results)
}

/// Stores the results of `writes` as one batch (after `batch`), then applies them to the
/// locked tables.
fn store_and_commit(
    locks: &mut Locks<'_>,
    writes: &[PreparedWrite],
    results: &[WriteResult],
    mut batch: Vec<Write>,
    tx: Option<&mut dyn Transaction>,
) -> Result<(), TxError> {
    // Records of one stream are numbered in request order.
    let mut pending: BTreeMap<&str, u64> = BTreeMap::new();
    let mut records = Vec::with_capacity(writes.len());
    for (w, r) in writes.iter().zip(results) {
        let n = pending.entry(&w.table_name).or_default();
        let record = w.stage(&locks[&w.table_name], r, *n, &mut batch);
        *n += u64::from(record.is_some());
        records.push(record);
    }
    // Each table's statistics once, after all of its changes.
    for (name, state) in locks.iter() {
        let changes = writes
            .iter()
            .zip(results)
            .filter(|(w, _)| &w.table_name == name && !matches!(w.kind, WriteKind::Check))
            .map(|(w, r)| (w.key_bytes.as_slice(), r.old.as_ref(), r.new.as_ref()));
        let stats = state.data.stats_after(&state.meta, changes);
        if let Some(w) = writes.iter().find(|w| &w.table_name == name) {
            w.table.store.put_stats(name, stats, &mut batch);
        }
    }
    match (tx, writes.first()) {
        (Some(tx), _) => write_in(tx, batch)?,
        (None, Some(w)) => w.table.store.apply(batch)?,
        (None, None) => {}
    }
    for ((w, r), record) in writes.iter().zip(results).zip(records) {
        let state = locks.get_mut(&w.table_name).expect("locked");
        w.commit(state, r, record);
    }
    Ok(())
}

/// Runs unconditional writes (BatchWriteItem) as one stored batch under the locks of their
/// tables; a write that cannot be made (an invalid item) fails the call before anything is stored.
pub fn run_batch(writes: &[PreparedWrite]) -> Result<Vec<WriteResult>, AwsError> {
    with_locks(writes, |locks, mut tx| {
        let mut results = Vec::with_capacity(writes.len());
        for w in writes {
            let state = &locks[&w.table_name];
            let old = state.data.get_in(tx.as_deref_mut(), &w.key_bytes)?;
            results.push(w.evaluate_old(state, old.as_deref()).map_err(WriteFailure::into_error)?);
        }
        store_and_commit(locks, writes, &results, Vec::new(), tx)?;
        Ok(results)
    })
}

pub async fn transact_write_items(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: TransactWriteItemsInput,
) -> Result<TransactWriteItemsOutput, AwsError> {
    let region = db.region(&ctx);
    let token = input.client_request_token.clone();
    let fingerprint = token.as_ref().map(|_| {
        let mut s = String::new();
        canonical(&serde_json::to_value(&input.transact_items).unwrap_or_default(), &mut s);
        s
    });
    let mode = input.return_consumed_capacity.clone();
    // ConditionCheck items are kept apart from Delete (both carry no update).
    let checks: Vec<bool> = input.transact_items.iter().map(|i| i.condition_check.is_some()).collect();
    let mut writes = Vec::with_capacity(input.transact_items.len());
    for (item, is_check) in input.transact_items.into_iter().zip(checks) {
        let mut w = prepare(&region, item)?;
        if is_check {
            w.kind = WriteKind::Check;
        }
        writes.push(w);
    }
    check_tokens(&region, &token, &fingerprint)?;
    if token.as_ref().is_some_and(|t| region.tokens.lock().contains_key(t)) {
        return Ok(TransactWriteItemsOutput::default());
    }
    let results = run_transaction_with_token(&writes, token.as_deref().zip(fingerprint.as_deref()))?;
    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    for (w, r) in writes.iter().zip(&results) {
        // Transactional writes cost twice the units.
        *units.entry(w.table_name.clone()).or_default() += 2.0 * item_units(r);
    }
    if let (Some(token), Some(fp)) = (token, fingerprint) {
        region.tokens.lock().insert(token, (fp, Instant::now()));
    }
    let capacity: Vec<ConsumedCapacity> = units.iter().filter_map(|(t, u)| consumed(t, *u, mode.as_deref())).collect();
    Ok(TransactWriteItemsOutput {
        consumed_capacity: (!capacity.is_empty()).then_some(capacity),
        item_collection_metrics: None,
    })
}

pub async fn transact_get_items(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: TransactGetItemsInput,
) -> Result<TransactGetItemsOutput, AwsError> {
    let region = db.region(&ctx);
    let mut plans = Vec::with_capacity(input.transact_items.len());
    for item in input.transact_items {
        let get = item.get;
        let table = region.table(&get.table_name)?;
        let maps = ExprMaps::new(get.expression_attribute_names, None, get.projection_expression.is_some())?;
        let mut ctx_e = maps.context();
        let paths = projection(&mut ctx_e, get.projection_expression.as_deref(), None)?;
        ctx_e.check_unused()?;
        let (_, key) = prepare_key(&table, get.key)?;
        plans.push((get.table_name, table, key, paths));
    }
    let mut tables: BTreeMap<&str, &Arc<Table>> = BTreeMap::new();
    for (name, table, _, _) in &plans {
        tables.insert(name, table);
    }
    let locks: BTreeMap<&str, RwLockReadGuard<'_, TableState>> =
        tables.into_iter().map(|(n, t)| (n, t.state.read())).collect();
    let mut units: BTreeMap<String, f64> = BTreeMap::new();
    let responses = plans
        .iter()
        .map(|(name, _, key, paths)| {
            let found = locks[name.as_str()].data.get(key);
            let found = found.as_deref();
            *units.entry(name.clone()).or_default() +=
                2.0 * read_units(found.map(crate::value::item_size).unwrap_or(0), true);
            ItemResponse {
                item: found.map(|i| match paths {
                    Some(p) => crate::value::item_to_wire(&project(i, p)),
                    None => crate::value::item_to_wire(i),
                }),
            }
        })
        .collect();
    drop(locks);
    let capacity: Vec<ConsumedCapacity> =
        units.iter().filter_map(|(t, u)| consumed(t, *u, input.return_consumed_capacity.as_deref())).collect();
    Ok(TransactGetItemsOutput {
        consumed_capacity: (!capacity.is_empty()).then_some(capacity),
        responses: Some(responses),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::{CmpOp, Condition, Operand, Path};
    use crate::number::Number;
    use crate::table::test_meta;
    use crate::value::{AttrValue, Item};

    fn key(pk: &str) -> Item {
        [("pk".to_string(), AttrValue::S(pk.into())), ("sk".to_string(), AttrValue::N(Number::from_i64(1)))].into()
    }

    fn put(table: &Arc<Table>, pk: &str, v: i64, condition: Option<Condition>) -> PreparedWrite {
        let mut item = key(pk);
        item.insert("v".into(), AttrValue::N(Number::from_i64(v)));
        let key_bytes = table.state.read().meta.key.encode(&item).unwrap();
        PreparedWrite {
            table: table.clone(),
            table_name: "t".into(),
            key: key(pk),
            key_bytes,
            kind: WriteKind::Put(item),
            condition,
            return_old_on_failure: true,
        }
    }

    fn v_is(n: i64) -> Condition {
        Condition::Compare(Operand::Path(Path::attr("v")), CmpOp::Eq, Operand::Value(AttrValue::N(Number::from_i64(n))))
    }

    #[test]
    fn all_or_nothing_with_reasons_in_order_and_stream_records() {
        let meta = test_meta();
        let stream = Arc::new(crate::streams::Stream::new(
            &meta.arn,
            &meta.name,
            "label".into(),
            crate::streams::ViewType::NewAndOldImages,
            meta.key.clone(),
        ));
        let table = Arc::new(Table::new(meta));
        table.state.write().stream = Some(stream.clone());
        run_transaction(&[put(&table, "a", 1, None), put(&table, "b", 1, None)]).unwrap();
        assert_eq!(table.state.read().data.item_count(), 2);
        // The second condition fails: nothing of the transaction is written.
        let err =
            run_transaction(&[put(&table, "a", 2, Some(v_is(1))), put(&table, "b", 2, Some(v_is(9)))]).unwrap_err();
        assert_eq!(err.code, "TransactionCanceledException");
        assert_eq!(
            err.message,
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
        );
        let reasons = &err.fields.iter().find(|(k, _)| *k == "CancellationReasons").unwrap().1;
        assert_eq!(reasons[0]["Code"], "None");
        assert_eq!(reasons[1]["Item"]["v"]["N"], "1");
        let state = table.state.read();
        let a = state.data.get(&state.meta.key.encode(&key("a")).unwrap()).unwrap();
        assert_eq!(a["v"], AttrValue::N(Number::from_i64(1)));
        // Two inserts recorded, nothing for the cancelled transaction.
        let records = stream.read(0, 10, Clone::clone).unwrap().records;
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.event == crate::streams::EventName::Insert));
        drop(state);
        let dup = run_transaction(&[put(&table, "a", 3, None), put(&table, "a", 4, None)]).unwrap_err();
        assert_eq!(dup.message, "Transaction request cannot include multiple operations on one item");
    }

    #[test]
    fn canonical_form_ignores_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":null}}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,2]},"b":1}"#).unwrap();
        let (mut sa, mut sb) = (String::new(), String::new());
        canonical(&a, &mut sa);
        canonical(&b, &mut sb);
        assert_eq!(sa, sb);
    }
}
