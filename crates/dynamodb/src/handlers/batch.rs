//! BatchGetItem and BatchWriteItem: up to 100 keys / 25 writes, each write atomic on its own.

use super::common::*;
use super::items::{prepare_key, prepare_put, projection};
use crate::DynamoDb;
use crate::error::validation;
use crate::expression::eval::project;
use crate::generated::types::*;
use crate::value::{item_size, item_to_wire};
use ruststack_core::{AwsError, RequestContext};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const MAX_GET_KEYS: usize = 100;
const MAX_WRITES: usize = 25;
/// A BatchGetItem response holds at most this many bytes; the rest is unprocessed.
const MAX_GET_BYTES: usize = 16 * 1024 * 1024;

fn duplicates() -> AwsError {
    validation("Provided list of item keys contains duplicates")
}

pub async fn batch_get_item(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: BatchGetItemInput,
) -> Result<BatchGetItemOutput, AwsError> {
    let total: usize = input.request_items.values().map(|k| k.keys.len()).sum();
    if total > MAX_GET_KEYS {
        return Err(validation("Too many items requested for the BatchGetItem call"));
    }
    let region = db.region(&ctx);
    // Validate everything before reading anything.
    let mut plans = Vec::new();
    for (name, ka) in input.request_items {
        super::legacy::mixed(
            &[("AttributesToGet", ka.attributes_to_get.is_some())],
            &[("ProjectionExpression", ka.projection_expression.is_some())],
        )?;
        let maps = ExprMaps::new(ka.expression_attribute_names.clone(), None, ka.projection_expression.is_some())?;
        let mut ctx_e = maps.context();
        let paths = projection(&mut ctx_e, ka.projection_expression.as_deref(), ka.attributes_to_get.clone())?;
        ctx_e.check_unused()?;
        let table = region.table(&name)?;
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for key in ka.keys.iter().cloned() {
            let (_, bytes) = prepare_key(&table, key)?;
            if !seen.insert(bytes.clone()) {
                return Err(duplicates());
            }
            keys.push(bytes);
        }
        plans.push((name, table, ka, paths, keys));
    }
    let mut responses: HashMap<String, Vec<WireItem>> = HashMap::new();
    let mut unprocessed: HashMap<String, KeysAndAttributes> = HashMap::new();
    let mut capacity = Vec::new();
    let mut bytes = 0;
    for (name, table, ka, paths, keys) in plans {
        let state = table.state.read();
        let consistent = ka.consistent_read.unwrap_or(false);
        let mut units = 0.0;
        let out = responses.entry(name.clone()).or_default();
        for (i, key) in keys.iter().enumerate() {
            if bytes >= MAX_GET_BYTES {
                let rest = KeysAndAttributes { keys: ka.keys[i..].to_vec(), ..ka.clone() };
                unprocessed.insert(name.clone(), rest);
                break;
            }
            let found = state.data.get(key);
            let found = found.as_deref();
            let size = found.map(item_size).unwrap_or(0);
            units += read_units(size, consistent);
            if let Some(item) = found {
                bytes += size;
                out.push(match &paths {
                    Some(p) => item_to_wire(&project(item, p)),
                    None => item_to_wire(item),
                });
            }
        }
        capacity.extend(consumed(&name, units, input.return_consumed_capacity.as_deref()));
    }
    Ok(BatchGetItemOutput {
        responses: Some(responses),
        unprocessed_keys: Some(unprocessed),
        consumed_capacity: (!capacity.is_empty()).then_some(capacity),
    })
}

use crate::value::WireItem;

pub async fn batch_write_item(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: BatchWriteItemInput,
) -> Result<BatchWriteItemOutput, AwsError> {
    let total: usize = input.request_items.values().map(Vec::len).sum();
    if total > MAX_WRITES {
        return Err(validation("Too many items requested for the BatchWriteItem call"));
    }
    let region = db.region(&ctx);
    let mut writes = Vec::new();
    for (name, requests) in input.request_items {
        let table = region.table(&name)?;
        let mut seen = HashSet::new();
        for r in requests {
            let write = match (r.put_request, r.delete_request) {
                (Some(p), None) => prepare_put(table.clone(), p.item)?,
                (None, Some(d)) => {
                    let (key, key_bytes) = prepare_key(&table, d.key)?;
                    PreparedWrite {
                        table: table.clone(),
                        table_name: table.name(),
                        key,
                        key_bytes,
                        kind: WriteKind::Delete,
                        condition: None,
                        return_old_on_failure: false,
                    }
                }
                _ => {
                    return Err(validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ));
                }
            };
            if !seen.insert(write.key_bytes.clone()) {
                return Err(duplicates());
            }
            writes.push(write);
        }
    }
    let mut units: HashMap<String, f64> = HashMap::new();
    for (w, result) in writes.iter().zip(super::transact::run_batch(&writes)?) {
        *units.entry(w.table_name.clone()).or_default() += item_units(&result);
    }
    let mut capacity: Vec<ConsumedCapacity> =
        units.iter().filter_map(|(t, u)| consumed(t, *u, input.return_consumed_capacity.as_deref())).collect();
    capacity.sort_by(|a, b| a.table_name.cmp(&b.table_name));
    Ok(BatchWriteItemOutput {
        // AWS returns unprocessed requests when throttled; nothing is throttled here.
        unprocessed_items: Some(HashMap::new()),
        item_collection_metrics: None,
        consumed_capacity: (!capacity.is_empty()).then_some(capacity),
    })
}
