//! PartiQL: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction, executed with the
//! same storage, evaluator and write core as the expression API.

use super::common::*;
use super::transact::{check_tokens, run_transaction_with_token};
use crate::error::validation;
use crate::expression::eval::{matches, project};
use crate::expression::{Condition, Operand, Path, UpdateAction};
use crate::generated::types::*;
use crate::partiql::{Statement, parse, split_key};
use crate::table::{Projection, Table};
use crate::value::{AttrValue, Item, encode_key_part, item_size, item_to_wire};
use crate::{DynamoDb, Region};
use base64::Engine;
use ruststack_core::{AwsError, RequestContext};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;

fn params(p: Option<Vec<AttributeValue>>) -> Result<Vec<AttrValue>, AwsError> {
    p.unwrap_or_default().into_iter().map(AttrValue::from_wire).collect()
}

fn missing_key() -> AwsError {
    validation("Where clause does not contain a mandatory equality on all key attributes")
}

/// `SET a = set_add(a, <<..>>)` / `set_delete` arrive as Plus / Minus on sets: ADD / DELETE.
fn normalize_actions(actions: Vec<UpdateAction>) -> Vec<UpdateAction> {
    actions
        .into_iter()
        .map(|a| match a {
            UpdateAction::Set(p, Operand::Plus(_, b)) if is_set(&b) => UpdateAction::Add(p, *b),
            UpdateAction::Set(p, Operand::Minus(_, b)) if is_set(&b) => UpdateAction::Delete(p, *b),
            other => other,
        })
        .collect()
}

fn is_set(op: &Operand) -> bool {
    matches!(op, Operand::Value(AttrValue::SS(_) | AttrValue::NS(_) | AttrValue::BS(_)))
}

/// The write a data-modification statement performs.
fn prepare_write(region: &Region, stmt: Statement, all_old: bool) -> Result<PreparedWrite, AwsError> {
    let table = region.table(stmt.table())?;
    let key_names: Vec<String> = table.state.read().meta.key.names().map(str::to_owned).collect();
    let keys: Vec<&str> = key_names.iter().map(String::as_str).collect();
    let exists = Condition::Exists(Path::attr(keys[0]));
    let (key, kind, condition) = match stmt {
        Statement::Insert { item, .. } => {
            let wire = item_to_wire(&item);
            let mut w = super::items::prepare_put(table, wire)?;
            w.condition = Some(Condition::NotExists(Path::attr(keys[0])));
            return Ok(w);
        }
        Statement::Update { actions, filter, .. } => {
            let (key, rest) = split_key(filter, &keys);
            let actions = normalize_actions(actions);
            super::items::check_key_not_updated(&table, &actions)?;
            (key, WriteKind::Update(actions), rest)
        }
        Statement::Delete { filter, .. } => {
            let (key, rest) = split_key(filter, &keys);
            (key, WriteKind::Delete, rest)
        }
        Statement::Select { .. } => return Err(validation("Transactions must contain only reads or only writes")),
    };
    if key.len() != keys.len() {
        return Err(missing_key());
    }
    let key_bytes = table.state.read().meta.validate_key(&key)?;
    let condition = Some(match condition {
        Some(c) => Condition::And(Box::new(exists), Box::new(c)),
        None => exists,
    });
    Ok(PreparedWrite {
        table_name: table.name(),
        table,
        key,
        key_bytes,
        kind,
        condition,
        return_old_on_failure: all_old,
    })
}

fn duplicate_on_insert(e: AwsError, insert: bool) -> AwsError {
    if insert && e.code == "ConditionalCheckFailedException" {
        AwsError::bad_request("DuplicateItemException", "Duplicate primary key exists in table")
    } else {
        e
    }
}

/// A SELECT: by primary key (GetItem), by partition (Query) or a scan, filtered and paged.
fn select(
    table: &Table,
    index: Option<&str>,
    projection: Option<&[Path]>,
    filter: Option<&Condition>,
    limit: Option<usize>,
    next_token: Option<&str>,
) -> Result<(Vec<Item>, Option<Item>, usize), AwsError> {
    let state = table.state.read();
    let meta = &state.meta;
    let ix = match index {
        Some(n) => {
            // PartiQL does not name the index, unlike Query and Scan.
            Some(meta.index(n).ok_or_else(|| validation("The table does not have the specified index"))?)
        }
        None => None,
    };
    let key = ix.map_or(&meta.key, |i| &i.key);
    // A partition key equality narrows the read to one partition.
    let hash = filter.and_then(|f| {
        let (k, _) = split_key(f.clone(), &[key.hash.0.as_str()]);
        k.get(&key.hash.0).cloned()
    });
    let mut lower = Bound::Unbounded;
    let mut upper = Bound::Unbounded;
    if let Some(h) = &hash {
        let mut prefix = Vec::new();
        encode_key_part(h, &mut prefix);
        upper = crate::table::prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        lower = Bound::Included(prefix);
    }
    if let Some(token) = next_token {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(token).map_err(|_| validation("Invalid NextToken"))?;
        lower = crate::table::resume_after(lower, bytes);
    }
    let iter: Box<dyn Iterator<Item = crate::table::Entry>> = match ix {
        Some(i) => state.data.index_range(&i.name, lower, upper, true),
        None => state.data.range(lower, upper, true),
    };
    let mut items = Vec::new();
    let mut read = 0;
    let mut last = None;
    for (pos, item) in iter {
        read += item_size(&item);
        let view = match ix {
            Some(i) if i.projection != Projection::All => meta.project_for_index(i, &item),
            _ => item.into_owned(),
        };
        if filter.is_none_or(|f| matches(&view, f)) {
            items.push(match projection {
                Some(p) => project(&view, p),
                None => view,
            });
        }
        if limit.is_some_and(|l| items.len() >= l) || read >= 1024 * 1024 {
            last = Some(pos.to_vec());
            break;
        }
    }
    let token = last.map(|pos| {
        let mut m = Item::new();
        m.insert("t".into(), AttrValue::S(base64::engine::general_purpose::STANDARD.encode(pos)));
        m
    });
    Ok((items, token, read))
}

pub async fn execute_statement(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ExecuteStatementInput,
) -> Result<ExecuteStatementOutput, AwsError> {
    let region = db.region(&ctx);
    let stmt = parse(&input.statement, &params(input.parameters)?)?;
    let table_name = stmt.table().to_owned();
    let all_old = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    match stmt {
        Statement::Select { table, index, projection, filter } => {
            let t = region.table(&table)?;
            let (items, token, read) = select(
                &t,
                index.as_deref(),
                projection.as_deref(),
                filter.as_ref(),
                input.limit.map(|l| l.max(1) as usize),
                input.next_token.as_deref(),
            )?;
            let next_token = token.and_then(|t| match t.get("t") {
                Some(AttrValue::S(s)) => Some(s.clone()),
                _ => None,
            });
            Ok(ExecuteStatementOutput {
                items: Some(items.iter().map(item_to_wire).collect()),
                next_token,
                consumed_capacity: consumed(
                    &table_name,
                    read_units(read, input.consistent_read.unwrap_or(false)),
                    input.return_consumed_capacity.as_deref(),
                ),
                last_evaluated_key: None,
            })
        }
        other => {
            let insert = matches!(other, Statement::Insert { .. });
            let write = prepare_write(&region, other, all_old)?;
            let result = write.run().map_err(|e| duplicate_on_insert(e, insert))?;
            Ok(ExecuteStatementOutput {
                items: Some(Vec::new()),
                consumed_capacity: consumed(
                    &table_name,
                    item_units(&result),
                    input.return_consumed_capacity.as_deref(),
                ),
                ..Default::default()
            })
        }
    }
}

/// A SELECT naming a whole primary key: the item, if any (batches and transactions read only
/// single items).
fn get_by_key(region: &Region, stmt: Statement) -> Result<(String, Option<Item>), AwsError> {
    let Statement::Select { table, index: None, projection, filter: Some(filter) } = stmt else {
        return Err(missing_key());
    };
    let t = region.table(&table)?;
    let key_names: Vec<String> = t.state.read().meta.key.names().map(str::to_owned).collect();
    let keys: Vec<&str> = key_names.iter().map(String::as_str).collect();
    let (key, rest) = split_key(filter, &keys);
    if key.len() != keys.len() {
        return Err(missing_key());
    }
    let state = t.state.read();
    let bytes = state.meta.validate_key(&key)?;
    let item =
        state.data.get(&bytes).filter(|i| rest.as_ref().is_none_or(|c| matches(i, c))).map(|i| match &projection {
            Some(p) => project(&i, p),
            None => i.into_owned(),
        });
    Ok((table, item))
}

pub async fn batch_execute_statement(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: BatchExecuteStatementInput,
) -> Result<BatchExecuteStatementOutput, AwsError> {
    let region = db.region(&ctx);
    if input.statements.iter().any(|s| !s.statement.trim_start().to_ascii_uppercase().starts_with("SELECT"))
        && input.statements.iter().any(|s| s.statement.trim_start().to_ascii_uppercase().starts_with("SELECT"))
    {
        return Err(validation("Statements in a batch must be all reads or all writes"));
    }
    let mut responses = Vec::with_capacity(input.statements.len());
    for s in input.statements {
        let all_old = s.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        let outcome = params(s.parameters).and_then(|p| parse(&s.statement, &p)).and_then(|stmt| {
            let name = stmt.table().to_owned();
            match stmt {
                Statement::Select { .. } => get_by_key(&region, stmt),
                other => {
                    let insert = matches!(other, Statement::Insert { .. });
                    let w = prepare_write(&region, other, all_old)?;
                    w.run().map(|_| (name, None)).map_err(|e| duplicate_on_insert(e, insert))
                }
            }
        });
        responses.push(match outcome {
            Ok((table, item)) => {
                BatchStatementResponse { table_name: Some(table), item: item.map(|i| item_to_wire(&i)), error: None }
            }
            Err(e) => BatchStatementResponse {
                error: Some(BatchStatementError {
                    code: Some(e.code.trim_end_matches("Exception").to_owned()),
                    message: Some(e.message.clone()),
                    item: e
                        .fields
                        .iter()
                        .find(|(k, _)| *k == "Item")
                        .and_then(|(_, v)| serde_json::from_value(v.clone()).ok()),
                }),
                ..Default::default()
            },
        });
    }
    Ok(BatchExecuteStatementOutput { responses: Some(responses), consumed_capacity: None })
}

pub async fn execute_transaction(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ExecuteTransactionInput,
) -> Result<ExecuteTransactionOutput, AwsError> {
    let region = db.region(&ctx);
    let token = input.client_request_token.clone();
    let fingerprint = token.as_ref().map(|_| {
        let statements: Vec<(String, Option<Vec<AttributeValue>>)> =
            input.transact_statements.iter().map(|s| (s.statement.clone(), s.parameters.clone())).collect();
        serde_json::to_string(&statements).unwrap_or_default()
    });
    let mut parsed = Vec::new();
    for s in input.transact_statements {
        parsed.push((parse(&s.statement, &params(s.parameters)?)?, s.return_values_on_condition_check_failure));
    }
    let reads = parsed.iter().filter(|(s, _)| matches!(s, Statement::Select { .. })).count();
    if reads == parsed.len() {
        let mut responses = Vec::new();
        for (stmt, _) in parsed {
            let (_, item) = get_by_key(&region, stmt)?;
            responses.push(ItemResponse { item: item.map(|i| item_to_wire(&i)) });
        }
        return Ok(ExecuteTransactionOutput { responses: Some(responses), consumed_capacity: None });
    }
    if reads > 0 {
        return Err(validation("Transactions must contain only reads or only writes"));
    }
    check_tokens(&region, &token, &fingerprint)?;
    if token.as_ref().is_some_and(|t| region.tokens.lock().contains_key(t)) {
        return Ok(ExecuteTransactionOutput::default());
    }
    let writes = parsed
        .into_iter()
        .map(|(stmt, rv)| prepare_write(&region, stmt, rv.as_deref() == Some("ALL_OLD")))
        .collect::<Result<Vec<_>, _>>()?;
    run_transaction_with_token(&writes, token.as_deref().zip(fingerprint.as_deref()))?;
    if let (Some(token), Some(fp)) = (token, fingerprint) {
        region.tokens.lock().insert(token, (fp, Instant::now()));
    }
    Ok(ExecuteTransactionOutput::default())
}
