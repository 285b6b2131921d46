//! Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

use super::common::*;
use super::legacy;
use crate::DynamoDb;
use crate::error::{envelope, validation};
use crate::expression::eval::project;
use crate::expression::{ExprKind, Path, UpdateAction};
use crate::generated::types::*;
use crate::table::Table;
use crate::value::{Item, item_from_wire, item_size, item_to_wire};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

fn check_return_values(rv: Option<&str>, allowed: &[&str]) -> Result<(), AwsError> {
    match rv {
        Some(v) if !allowed.contains(&v) => Err(validation("Return values set to invalid value")),
        _ => Ok(()),
    }
}

/// The key of a `Key` parameter: converted, validated against the schema, encoded.
pub fn prepare_key(table: &Table, key: WireItem) -> Result<(Item, Vec<u8>), AwsError> {
    let key = item_from_wire(key)?;
    let bytes = table.state.read().meta.validate_key(&key)?;
    Ok((key, bytes))
}

use crate::value::WireItem;

/// A validated Put (PutItem, BatchWriteItem, TransactWriteItems).
pub fn prepare_put(table: Arc<Table>, item: WireItem) -> Result<PreparedWrite, AwsError> {
    let item = item_from_wire(item)?;
    let (key, key_bytes) = {
        let state = table.state.read();
        state.meta.validate_item(&item)?;
        let key = state.meta.key.extract(&item);
        let bytes = state
            .meta
            .key
            .encode(&item)
            .ok_or_else(|| validation("The provided key element does not match the schema"))?;
        (key, bytes)
    };
    Ok(PreparedWrite {
        table_name: table.name(),
        table,
        key,
        key_bytes,
        kind: WriteKind::Put(item),
        condition: None,
        return_old_on_failure: false,
    })
}

/// Rejects update actions on key attributes.
pub fn check_key_not_updated(table: &Table, actions: &[UpdateAction]) -> Result<(), AwsError> {
    let state = table.state.read();
    for a in actions {
        let root = a.path().root();
        if state.meta.key.is_key(root) {
            return Err(validation(format!(
                "One or more parameter values were invalid: Cannot update attribute {root}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}

pub async fn put_item(db: Arc<DynamoDb>, ctx: RequestContext, input: PutItemInput) -> Result<PutItemOutput, AwsError> {
    legacy::mixed(
        &[("Expected", input.expected.is_some()), ("ConditionalOperator", input.conditional_operator.is_some())],
        &[("ConditionExpression", input.condition_expression.is_some())],
    )?;
    check_return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
    let uses = input.condition_expression.is_some();
    ExprMaps::check_allowed(
        input.expression_attribute_names.is_some(),
        input.expression_attribute_values.is_some(),
        uses,
    )?;
    // The request's expressions are checked before the table is looked up.
    let maps =
        ExprMaps::new(input.expression_attribute_names, input.expression_attribute_values, uses).map_err(envelope)?;
    let mut ctx_e = maps.context();
    let condition = match input.condition_expression.as_deref() {
        Some(c) => Some(ctx_e.parse_condition(ExprKind::Condition, c).map_err(envelope)?),
        None => legacy::expected(input.expected, input.conditional_operator.as_deref())?,
    };
    ctx_e.check_unused().map_err(envelope)?;
    let table = db.region(&ctx).table(&input.table_name)?;
    let mut write = prepare_put(table, input.item)?;
    write.condition = condition;
    write.return_old_on_failure = input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
    let result = write.run()?;
    let consumed_capacity = write.consumed(&result, input.return_consumed_capacity.as_deref());
    Ok(PutItemOutput {
        attributes: if input.return_values.as_deref() == Some("ALL_OLD") { non_empty(result.old) } else { None },
        consumed_capacity,
        item_collection_metrics: write.item_collection_metrics(input.return_item_collection_metrics.as_deref()),
    })
}

/// Projection paths from ProjectionExpression or AttributesToGet.
pub fn projection(
    ctx: &mut crate::expression::ExprContext,
    expression: Option<&str>,
    attributes_to_get: Option<Vec<String>>,
) -> Result<Option<Vec<Path>>, AwsError> {
    match expression {
        Some(e) => Ok(Some(ctx.parse_projection(e)?)),
        None => Ok(legacy::attributes_to_get(attributes_to_get)),
    }
}

pub async fn get_item(db: Arc<DynamoDb>, ctx: RequestContext, input: GetItemInput) -> Result<GetItemOutput, AwsError> {
    legacy::mixed(
        &[("AttributesToGet", input.attributes_to_get.is_some())],
        &[("ProjectionExpression", input.projection_expression.is_some())],
    )?;
    let maps = ExprMaps::new(input.expression_attribute_names, None, input.projection_expression.is_some())?;
    let mut ctx_e = maps.context();
    let paths = projection(&mut ctx_e, input.projection_expression.as_deref(), input.attributes_to_get)?;
    ctx_e.check_unused()?;
    let table = db.region(&ctx).table(&input.table_name)?;
    let (_, key) = prepare_key(&table, input.key)?;
    let consistent = input.consistent_read.unwrap_or(false);
    let state = table.state.read();
    let found = state.data.get(&key);
    let found = found.as_deref();
    let units = read_units(found.map(item_size).unwrap_or(0), consistent);
    let item = found.map(|i| match &paths {
        Some(p) => item_to_wire(&project(i, p)),
        None => item_to_wire(i),
    });
    Ok(GetItemOutput {
        item,
        consumed_capacity: consumed(&input.table_name, units, input.return_consumed_capacity.as_deref()),
    })
}

pub async fn delete_item(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DeleteItemInput,
) -> Result<DeleteItemOutput, AwsError> {
    legacy::mixed(
        &[("Expected", input.expected.is_some()), ("ConditionalOperator", input.conditional_operator.is_some())],
        &[("ConditionExpression", input.condition_expression.is_some())],
    )?;
    check_return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD"])?;
    let uses = input.condition_expression.is_some();
    ExprMaps::check_allowed(
        input.expression_attribute_names.is_some(),
        input.expression_attribute_values.is_some(),
        uses,
    )?;
    let maps =
        ExprMaps::new(input.expression_attribute_names, input.expression_attribute_values, uses).map_err(envelope)?;
    let mut ctx_e = maps.context();
    let condition = match input.condition_expression.as_deref() {
        Some(c) => Some(ctx_e.parse_condition(ExprKind::Condition, c).map_err(envelope)?),
        None => legacy::expected(input.expected, input.conditional_operator.as_deref())?,
    };
    ctx_e.check_unused().map_err(envelope)?;
    let table = db.region(&ctx).table(&input.table_name)?;
    let (key, key_bytes) = prepare_key(&table, input.key)?;
    let write = PreparedWrite {
        table_name: table.name(),
        table,
        key,
        key_bytes,
        kind: WriteKind::Delete,
        condition,
        return_old_on_failure: input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"),
    };
    let result = write.run()?;
    let consumed_capacity = write.consumed(&result, input.return_consumed_capacity.as_deref());
    Ok(DeleteItemOutput {
        attributes: if input.return_values.as_deref() == Some("ALL_OLD") { non_empty(result.old) } else { None },
        consumed_capacity,
        item_collection_metrics: write.item_collection_metrics(input.return_item_collection_metrics.as_deref()),
    })
}

pub async fn update_item(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: UpdateItemInput,
) -> Result<UpdateItemOutput, AwsError> {
    legacy::mixed(
        &[
            ("AttributeUpdates", input.attribute_updates.is_some()),
            ("Expected", input.expected.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("UpdateExpression", input.update_expression.is_some()),
            ("ConditionExpression", input.condition_expression.is_some()),
        ],
    )?;
    check_return_values(input.return_values.as_deref(), &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])?;
    let uses = input.condition_expression.is_some() || input.update_expression.is_some();
    ExprMaps::check_allowed(
        input.expression_attribute_names.is_some(),
        input.expression_attribute_values.is_some(),
        uses,
    )?;
    let maps =
        ExprMaps::new(input.expression_attribute_names, input.expression_attribute_values, uses).map_err(envelope)?;
    let mut ctx_e = maps.context();
    let actions = match input.update_expression.as_deref() {
        Some(u) => ctx_e.parse_update(u).map_err(envelope)?,
        None => legacy::attribute_updates(input.attribute_updates.unwrap_or_default())?,
    };
    let condition = match input.condition_expression.as_deref() {
        Some(c) => Some(ctx_e.parse_condition(ExprKind::Condition, c).map_err(envelope)?),
        None => legacy::expected(input.expected, input.conditional_operator.as_deref())?,
    };
    ctx_e.check_unused().map_err(envelope)?;
    let table = db.region(&ctx).table(&input.table_name)?;
    check_key_not_updated(&table, &actions)?;
    let (key, key_bytes) = prepare_key(&table, input.key)?;
    let paths: Vec<Path> = actions.iter().map(|a| a.path().clone()).collect();
    let write = PreparedWrite {
        table_name: table.name(),
        table,
        key,
        key_bytes,
        kind: WriteKind::Update(actions),
        condition,
        return_old_on_failure: input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD"),
    };
    let result = write.run()?;
    let consumed_capacity = write.consumed(&result, input.return_consumed_capacity.as_deref());
    let attributes = match input.return_values.as_deref() {
        Some("ALL_OLD") => non_empty(result.old),
        Some("ALL_NEW") => non_empty(result.new),
        Some("UPDATED_OLD") => non_empty(result.old.map(|o| project(&o, &paths))),
        Some("UPDATED_NEW") => non_empty(result.new.map(|n| project(&n, &paths))),
        _ => None,
    };
    Ok(UpdateItemOutput {
        attributes,
        consumed_capacity,
        item_collection_metrics: write.item_collection_metrics(input.return_item_collection_metrics.as_deref()),
    })
}
