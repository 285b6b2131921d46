//! Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, TTL,
//! tags, DescribeLimits, DescribeEndpoints, DescribeContinuousBackups.

use crate::error::{resource_in_use, table_not_found_named, validation};
use crate::generated::types::*;
use crate::streams::{Stream, ViewType};
use crate::table::{BillingMode, IndexDef, KeyDef, Projection as Proj, Table, TableMeta, TableState};
use crate::value::ScalarType;
use crate::{DynamoDb, Region};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

const MAX_GSIS: usize = 20;
const MAX_LSIS: usize = 5;

fn invalid(msg: impl std::fmt::Display) -> AwsError {
    validation(format!("One or more parameter values were invalid: {msg}"))
}

fn random_id() -> String {
    let hex = |n: usize| (0..n).map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0')).collect::<String>();
    format!("{}-{}-{}-{}-{}", hex(8), hex(4), hex(4), hex(4), hex(12))
}

/// Most attributes of each key type in a global secondary index's key (multi-attribute keys).
const MAX_INDEX_KEY_ATTRS: usize = 4;

/// What a key schema belongs to: the table and local indexes have one partition key attribute
/// and at most one sort key attribute; global indexes up to four of each.
#[derive(Clone, Copy, PartialEq)]
enum KeyOf<'a> {
    Table,
    Local(&'a str),
    Global(&'a str),
}

/// AWS's rendering of a key schema in constraint messages (Java's toString of the list).
fn show_schema(schema: &[KeySchemaElement]) -> String {
    let elements: Vec<String> = schema
        .iter()
        .map(|k| format!("KeySchemaElement(attributeName={}, keyType={})", k.attribute_name, k.key_type))
        .collect();
    format!("[{}]", elements.join(", "))
}

/// Parses a key schema (table or index) against the attribute definitions.
fn key_def(schema: &[KeySchemaElement], defs: &BTreeMap<String, ScalarType>, of: KeyOf) -> Result<KeyDef, AwsError> {
    let what = match of {
        KeyOf::Table => "table",
        KeyOf::Local(n) | KeyOf::Global(n) => n,
    };
    let first = schema.first().ok_or_else(|| invalid(format!("{what}: KeySchema is empty")))?;
    if of == KeyOf::Table && schema.len() > 2 {
        return Err(validation(format!(
            "1 validation error detected: Value '{}' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2",
            show_schema(schema)
        )));
    }
    if first.key_type != "HASH" {
        return Err(validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type"));
    }
    let ty = |name: &str| {
        defs.get(name).copied().ok_or_else(|| {
            invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
                schema.iter().map(|k| k.attribute_name.as_str()).collect::<Vec<_>>().join(", "),
                defs.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
            ))
        })
    };
    if !matches!(of, KeyOf::Global(_)) {
        let hash = (first.attribute_name.clone(), ty(&first.attribute_name)?);
        let range = match schema.get(1) {
            None => None,
            Some(second) => {
                if second.key_type != "RANGE" {
                    return Err(validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"));
                }
                if second.attribute_name == first.attribute_name {
                    return Err(invalid(
                        "Both the Hash Key and the Range Key element in the KeySchema have the same name",
                    ));
                }
                Some((second.attribute_name.clone(), ty(&second.attribute_name)?))
            }
        };
        if schema.len() > 2 {
            return Err(invalid(format!("Index KeySchema for index: {what} can have at most one RANGE key")));
        }
        return Ok(KeyDef::new(hash, range));
    }
    // A global index: its HASH attributes, then its RANGE attributes.
    let hashes = schema.iter().take_while(|k| k.key_type == "HASH").count();
    let ranges = &schema[hashes..];
    if ranges.iter().any(|k| k.key_type != "RANGE") {
        return Err(validation("Invalid KeySchema: HASH key type KeySchemaElements must precede RANGE key type ones"));
    }
    if hashes > MAX_INDEX_KEY_ATTRS || ranges.len() > MAX_INDEX_KEY_ATTRS {
        return Err(invalid(format!(
            "Index KeySchema for index: {what} can have at most {MAX_INDEX_KEY_ATTRS} HASH and {MAX_INDEX_KEY_ATTRS} RANGE key attributes"
        )));
    }
    let mut seen = BTreeSet::new();
    let mut attrs = Vec::new();
    for k in schema {
        if !seen.insert(k.attribute_name.as_str()) {
            return Err(if schema.len() == 2 {
                invalid("Both the Hash Key and the Range Key element in the KeySchema have the same name")
            } else {
                invalid(format!("Index KeySchema for index: {what} names attribute {} twice", k.attribute_name))
            });
        }
        attrs.push((k.attribute_name.clone(), ty(&k.attribute_name)?));
    }
    let mut range_attrs = attrs.split_off(hashes).into_iter();
    let mut hash_attrs = attrs.into_iter();
    let hash = hash_attrs.next().expect("the first element is HASH");
    let range = range_attrs.next();
    Ok(KeyDef { hash, range, more_hash: hash_attrs.collect(), more_range: range_attrs.collect() })
}

fn projection(p: &Projection, index: &str) -> Result<Proj, AwsError> {
    let non_key = p.non_key_attributes.clone();
    match p.projection_type.as_deref().unwrap_or("") {
        "ALL" | "KEYS_ONLY" if non_key.is_some() => Err(invalid(format!(
            "ProjectionType is {}, but NonKeyAttributes is specified",
            p.projection_type.as_deref().unwrap_or("")
        ))),
        "ALL" => Ok(Proj::All),
        "KEYS_ONLY" => Ok(Proj::KeysOnly),
        "INCLUDE" => match non_key {
            Some(a) if !a.is_empty() => Ok(Proj::Include(a)),
            _ => Err(invalid("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")),
        },
        _ => Err(invalid(format!("Unknown ProjectionType for index: {index}"))),
    }
}

fn throughput_pair(t: &Option<ProvisionedThroughput>) -> Option<(i64, i64)> {
    t.as_ref().map(|t| (t.read_capacity_units, t.write_capacity_units))
}

fn billing_mode(mode: Option<&str>) -> BillingMode {
    if mode == Some("PAY_PER_REQUEST") { BillingMode::PayPerRequest } else { BillingMode::Provisioned }
}

fn gsi_def(
    name: &str,
    schema: &[KeySchemaElement],
    proj: &Projection,
    throughput: &Option<ProvisionedThroughput>,
    mode: BillingMode,
    defs: &BTreeMap<String, ScalarType>,
) -> Result<IndexDef, AwsError> {
    let key = key_def(schema, defs, KeyOf::Global(name))?;
    let throughput = throughput_pair(throughput);
    match mode {
        BillingMode::Provisioned if throughput.is_none() => {
            return Err(invalid(format!("ProvisionedThroughput is not specified for index: {name}")));
        }
        BillingMode::PayPerRequest if throughput.is_some() => {
            return Err(invalid(format!(
                "ProvisionedThroughput should not be specified for index: {name} when BillingMode is PAY_PER_REQUEST"
            )));
        }
        _ => {}
    }
    Ok(IndexDef { name: name.to_owned(), key, projection: projection(proj, name)?, global: true, throughput })
}

pub async fn create_table(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: CreateTableInput,
) -> Result<CreateTableOutput, AwsError> {
    let Some(schema) = input.key_schema.as_ref() else {
        return Err(validation(
            "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
        ));
    };
    let Some(attr_defs) = input.attribute_definitions.as_ref() else {
        return Err(validation(
            "1 validation error detected: Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null",
        ));
    };
    let mut defs = BTreeMap::new();
    for d in attr_defs {
        let ty = ScalarType::parse(&d.attribute_type).ok_or_else(|| {
            invalid(format!("Invalid AttributeType {} for AttributeName {}", d.attribute_type, d.attribute_name))
        })?;
        if defs.insert(d.attribute_name.clone(), ty).is_some() {
            return Err(invalid("Cannot have two attributes with the same name"));
        }
    }
    let key = key_def(schema, &defs, KeyOf::Table)?;
    let mode = billing_mode(input.billing_mode.as_deref());
    let mut indexes: Vec<IndexDef> = Vec::new();
    let lsis = input.local_secondary_indexes.as_deref().unwrap_or_default();
    let gsis = input.global_secondary_indexes.as_deref().unwrap_or_default();
    if lsis.len() > MAX_LSIS {
        return Err(invalid(format!("Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}")));
    }
    if gsis.len() > MAX_GSIS {
        return Err(invalid(format!("GlobalSecondaryIndexes count exceeds the per-table limit of {MAX_GSIS}")));
    }
    for lsi in lsis {
        if key.range.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        let ikey = key_def(&lsi.key_schema, &defs, KeyOf::Local(&lsi.index_name))?;
        if ikey.hash.0 != key.hash.0 {
            return Err(invalid(format!(
                "Index KeySchema does not have the same leading hash key as table KeySchema for index: {}. index hash key: {}, table hash key: {}",
                lsi.index_name, ikey.hash.0, key.hash.0
            )));
        }
        if ikey.range.is_none() {
            return Err(invalid(format!("Index KeySchema for index: {} must have a range key", lsi.index_name)));
        }
        indexes.push(IndexDef {
            name: lsi.index_name.clone(),
            key: ikey,
            projection: projection(&lsi.projection, &lsi.index_name)?,
            global: false,
            throughput: None,
        });
    }
    for gsi in gsis {
        indexes.push(gsi_def(
            &gsi.index_name,
            &gsi.key_schema,
            &gsi.projection,
            &gsi.provisioned_throughput,
            mode,
            &defs,
        )?);
    }
    let mut names = BTreeSet::new();
    for ix in &indexes {
        if !names.insert(ix.name.as_str()) {
            return Err(invalid(format!("Duplicate index name: {}", ix.name)));
        }
    }
    // The attribute definitions must be exactly the key attributes of the table and indexes.
    let used: BTreeSet<&str> = key.names().chain(indexes.iter().flat_map(|i| i.key.names())).collect();
    if used.len() != defs.len() {
        return Err(invalid(
            "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let throughput = throughput_pair(&input.provisioned_throughput);
    let throughput = match (mode, throughput) {
        (BillingMode::Provisioned, None) => {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (_, t) => t.unwrap_or((0, 0)),
    };
    let region = db.region(&ctx);
    let mut tables = region.tables.write();
    if tables.contains_key(&input.table_name) {
        return Err(resource_in_use(format!("Table already exists: {}", input.table_name)));
    }
    let now = Timestamp::now();
    let mut meta = TableMeta {
        arn: ctx.arn("dynamodb", &format!("table/{}", input.table_name)),
        name: input.table_name.clone(),
        id: random_id(),
        created: now,
        key,
        attribute_definitions: attr_defs
            .iter()
            .filter_map(|d| Some((d.attribute_name.clone(), defs.get(&d.attribute_name).copied()?)))
            .collect(),
        billing_mode: mode,
        billing_mode_explicit: input.billing_mode.is_some(),
        throughput,
        indexes,
        stream: None,
        latest_stream: None,
        ttl_attribute: None,
        tags: input.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect(),
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        table_class: input.table_class.clone(),
        sse_enabled: input.sse_specification.as_ref().and_then(|s| s.enabled).unwrap_or(false),
        resource_policy: input
            .resource_policy
            .map(|document| crate::table::ResourcePolicy { document, revision: super::policies::next_revision(None) }),
        point_in_time_recovery: None,
        restore_summary: None,
    };
    let stream = input
        .stream_specification
        .as_ref()
        .filter(|s| s.stream_enabled)
        .map(|s| open_stream(&region, &mut meta, s.stream_view_type.as_deref()));
    let store = region.store();
    let mut writes = Vec::new();
    store.put_meta(&meta, &mut writes);
    if let Some(s) = &stream {
        store.put_stream(s, None, &mut writes);
    }
    store.blocking(|| store.apply(writes))?;
    if let Some(s) = &stream {
        region.streams.write().insert(s.arn.clone(), s.clone());
    }
    let table = Arc::new(Table::with_store(meta, store.clone(), true));
    table.state.write().stream = stream;
    let description = describe(&table.state.read(), "ACTIVE");
    tables.insert(input.table_name, table);
    Ok(CreateTableOutput { table_description: Some(description) })
}

/// Creates a new stream for the table (a new label, so a new ARN, every time), to be registered
/// in `region.streams` once stored.
fn open_stream(region: &Region, meta: &mut TableMeta, view: Option<&str>) -> Arc<Stream> {
    let view = view.and_then(ViewType::parse).unwrap_or(ViewType::NewAndOldImages);
    let streams = region.streams.read();
    let mut at = Timestamp::now();
    let mut label = stream_label(at);
    // Two streams of one table (or of a table recreated under its name) never share a label.
    while streams.contains_key(&format!("{}/stream/{label}", meta.arn)) {
        at.millis += 1;
        label = stream_label(at);
    }
    let stream = Stream::new(&meta.arn, &meta.name, label.clone(), view, meta.key.clone());
    let source = region.store().record_source(&stream.arn);
    let stream = Arc::new(stream.stored_in(source));
    meta.stream = Some((label.clone(), view.as_str().to_owned()));
    meta.latest_stream = Some(label);
    stream
}

fn stream_label(t: Timestamp) -> String {
    let secs = t.millis.div_euclid(1000);
    let ms = t.millis.rem_euclid(1000);
    let dt = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        dt.year(),
        dt.month() as u8,
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        ms
    )
}

fn key_schema(key: &KeyDef) -> Vec<KeySchemaElement> {
    let element = |(name, _): &(String, ScalarType), key_type: &str| KeySchemaElement {
        attribute_name: name.clone(),
        key_type: key_type.into(),
    };
    key.hash_attrs().map(|a| element(a, "HASH")).chain(key.range_attrs().map(|a| element(a, "RANGE"))).collect()
}

fn throughput_description(t: (i64, i64)) -> ProvisionedThroughputDescription {
    ProvisionedThroughputDescription {
        number_of_decreases_today: Some(0),
        read_capacity_units: Some(t.0),
        write_capacity_units: Some(t.1),
        ..Default::default()
    }
}

/// The TableDescription AWS returns for a table.
pub fn describe(state: &TableState, status: &str) -> TableDescription {
    let meta = &state.meta;
    let wire_projection = |p: &Proj| Projection {
        projection_type: Some(p.type_name().into()),
        non_key_attributes: match p {
            Proj::Include(a) => Some(a.clone()),
            _ => None,
        },
    };
    let mut gsis = Vec::new();
    let mut lsis = Vec::new();
    for ix in &meta.indexes {
        let (count, bytes) = state.data.index_stats(&ix.name);
        let arn = format!("{}/index/{}", meta.arn, ix.name);
        if ix.global {
            gsis.push(GlobalSecondaryIndexDescription {
                index_name: Some(ix.name.clone()),
                key_schema: Some(key_schema(&ix.key)),
                projection: Some(wire_projection(&ix.projection)),
                index_status: Some("ACTIVE".into()),
                provisioned_throughput: Some(throughput_description(ix.throughput.unwrap_or((0, 0)))),
                index_size_bytes: Some(bytes as i64),
                item_count: Some(count as i64),
                index_arn: Some(arn),
                ..Default::default()
            });
        } else {
            lsis.push(LocalSecondaryIndexDescription {
                index_name: Some(ix.name.clone()),
                key_schema: Some(key_schema(&ix.key)),
                projection: Some(wire_projection(&ix.projection)),
                index_size_bytes: Some(bytes as i64),
                item_count: Some(count as i64),
                index_arn: Some(arn),
            });
        }
    }
    let on_demand = meta.billing_mode == BillingMode::PayPerRequest;
    TableDescription {
        attribute_definitions: Some(
            meta.attribute_definitions
                .iter()
                .map(|(n, t)| AttributeDefinition { attribute_name: n.clone(), attribute_type: t.as_str().into() })
                .collect(),
        ),
        table_name: Some(meta.name.clone()),
        key_schema: Some(key_schema(&meta.key)),
        table_status: Some(status.into()),
        creation_date_time: Some(meta.created),
        provisioned_throughput: Some(throughput_description(meta.throughput)),
        table_size_bytes: Some(state.data.size_bytes() as i64),
        item_count: Some(state.data.item_count() as i64),
        table_arn: Some(meta.arn.clone()),
        table_id: Some(meta.id.clone()),
        billing_mode_summary: (on_demand || meta.billing_mode_explicit).then(|| BillingModeSummary {
            billing_mode: Some(if on_demand { "PAY_PER_REQUEST" } else { "PROVISIONED" }.into()),
            last_update_to_pay_per_request_date_time: on_demand.then_some(meta.created),
        }),
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        stream_specification: meta
            .stream
            .as_ref()
            .map(|(_, view)| StreamSpecification { stream_enabled: true, stream_view_type: Some(view.clone()) }),
        latest_stream_label: meta.latest_stream.clone(),
        latest_stream_arn: meta.latest_stream.as_ref().map(|label| format!("{}/stream/{label}", meta.arn)),
        sse_description: meta.sse_enabled.then(|| SSEDescription {
            status: Some("ENABLED".into()),
            sse_type: Some("KMS".into()),
            ..Default::default()
        }),
        table_class_summary: meta
            .table_class
            .as_ref()
            .map(|c| TableClassSummary { table_class: Some(c.clone()), ..Default::default() }),
        deletion_protection_enabled: Some(meta.deletion_protection),
        restore_summary: meta.restore_summary.clone(),
        ..Default::default()
    }
}

pub async fn describe_table(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeTableInput,
) -> Result<DescribeTableOutput, AwsError> {
    let table = db.region(&ctx).table_named(&input.table_name)?;
    let state = table.state.read();
    Ok(DescribeTableOutput { table: Some(describe(&state, "ACTIVE")) })
}

pub async fn list_tables(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListTablesInput,
) -> Result<ListTablesOutput, AwsError> {
    let region = db.region(&ctx);
    let tables = region.tables.read();
    let limit = input.limit.unwrap_or(100) as usize;
    let lower = match &input.exclusive_start_table_name {
        Some(s) => Bound::Excluded(s.as_str()),
        None => Bound::Unbounded,
    };
    let mut iter = tables.range::<str, _>((lower, Bound::Unbounded)).map(|(name, _)| name.clone());
    let names: Vec<String> = iter.by_ref().take(limit).collect();
    let more = iter.next().is_some();
    Ok(ListTablesOutput {
        last_evaluated_table_name: if more { names.last().cloned() } else { None },
        table_names: Some(names),
    })
}

pub async fn delete_table(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DeleteTableInput,
) -> Result<DeleteTableOutput, AwsError> {
    let region = db.region(&ctx);
    let mut tables = region.tables.write();
    let table = tables.get(&input.table_name).ok_or_else(|| table_not_found_named(&input.table_name))?.clone();
    let state = table.state.read();
    if state.meta.deletion_protection {
        return Err(validation(
            "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
        ));
    }
    let description = describe(&state, "DELETING");
    let store = region.store();
    // Item writes let go of the lock before their commit: wait for them before reading the table.
    store.flush()?;
    let mut writes = Vec::new();
    store.drop_table(&state.meta, &mut writes);
    if let Some(stream) = &state.stream {
        store.put_stream(stream, Some(Timestamp::now()), &mut writes);
    }
    store.blocking(|| store.apply(writes))?;
    if let Some(stream) = &state.stream {
        stream.disable();
    }
    drop(state);
    tables.remove(&input.table_name);
    Ok(DeleteTableOutput { table_description: Some(description) })
}

pub async fn update_table(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: UpdateTableInput,
) -> Result<UpdateTableOutput, AwsError> {
    let region = db.region(&ctx);
    let table = region.table_named(&input.table_name)?;
    let mut guard = table.state.write();
    let state = &mut *guard;
    let mut meta = state.meta.clone();
    let nothing = input.billing_mode.is_none()
        && input.provisioned_throughput.is_none()
        && input.global_secondary_index_updates.as_ref().is_none_or(|u| u.is_empty())
        && input.stream_specification.is_none()
        && input.sse_specification.is_none()
        && input.replica_updates.is_none()
        && input.table_class.is_none()
        && input.deletion_protection_enabled.is_none()
        && input.on_demand_throughput.is_none()
        && input.warm_throughput.is_none();
    if nothing {
        return Err(validation(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required",
        ));
    }
    if let Some(mode) = input.billing_mode.as_deref() {
        meta.billing_mode = billing_mode(Some(mode));
        meta.billing_mode_explicit = true;
        if meta.billing_mode == BillingMode::PayPerRequest {
            meta.throughput = (0, 0);
            for ix in meta.indexes.iter_mut().filter(|i| i.global) {
                ix.throughput = None;
            }
        }
    }
    match (meta.billing_mode, throughput_pair(&input.provisioned_throughput)) {
        (BillingMode::PayPerRequest, Some(_)) => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (BillingMode::Provisioned, Some(t)) => meta.throughput = t,
        (BillingMode::Provisioned, None)
            if input.billing_mode.as_deref() == Some("PROVISIONED") && meta.throughput == (0, 0) =>
        {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
        _ => {}
    }
    let mut defs: BTreeMap<String, ScalarType> = meta.attribute_definitions.iter().cloned().collect();
    for d in input.attribute_definitions.iter().flatten() {
        let ty = ScalarType::parse(&d.attribute_type).ok_or_else(|| {
            invalid(format!("Invalid AttributeType {} for AttributeName {}", d.attribute_type, d.attribute_name))
        })?;
        defs.insert(d.attribute_name.clone(), ty);
    }
    let mut created = Vec::new();
    for update in input.global_secondary_index_updates.iter().flatten() {
        if let Some(c) = &update.create {
            if meta.index(&c.index_name).is_some() {
                return Err(invalid(format!("Attempting to create an index which already exists: {}", c.index_name)));
            }
            if meta.indexes.iter().filter(|i| i.global).count() >= MAX_GSIS {
                return Err(AwsError::bad_request(
                    "LimitExceededException",
                    format!(
                        "Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of {MAX_GSIS}"
                    ),
                ));
            }
            let ix = gsi_def(
                &c.index_name,
                &c.key_schema,
                &c.projection,
                &c.provisioned_throughput,
                meta.billing_mode,
                &defs,
            )?;
            created.push(ix.clone());
            meta.indexes.push(ix);
        } else if let Some(d) = &update.delete {
            let before = meta.indexes.len();
            meta.indexes.retain(|i| !(i.global && i.name == d.index_name));
            if meta.indexes.len() == before {
                return Err(AwsError::bad_request(
                    "ResourceNotFoundException",
                    format!("Requested resource not found: Index: {} not found", d.index_name),
                ));
            }
        } else if let Some(u) = &update.update {
            let Some(ix) = meta.indexes.iter_mut().find(|i| i.global && i.name == u.index_name) else {
                return Err(AwsError::bad_request(
                    "ResourceNotFoundException",
                    format!("Requested resource not found: Index: {} not found", u.index_name),
                ));
            };
            if let Some(t) = throughput_pair(&u.provisioned_throughput) {
                ix.throughput = Some(t);
            }
        }
    }
    // Keep the definitions of key attributes still in use (new ones must have been defined).
    let used: BTreeSet<String> =
        meta.key.names().chain(meta.indexes.iter().flat_map(|i| i.key.names())).map(str::to_owned).collect();
    meta.attribute_definitions = defs.into_iter().filter(|(n, _)| used.contains(n)).collect();
    // (new stream, disable the current one)
    let mut stream_change: Option<(Option<Arc<Stream>>, bool)> = None;
    if let Some(spec) = &input.stream_specification {
        if spec.stream_enabled {
            if meta.stream.is_some() {
                return Err(validation(format!("Table already has an enabled stream: {}", meta.arn)));
            }
            stream_change = Some((Some(open_stream(&region, &mut meta, spec.stream_view_type.as_deref())), false));
        } else {
            meta.stream = None;
            stream_change = Some((None, true));
        }
    }
    if let Some(p) = input.deletion_protection_enabled {
        meta.deletion_protection = p;
    }
    if let Some(c) = &input.table_class {
        meta.table_class = Some(c.clone());
    }
    if let Some(sse) = &input.sse_specification {
        meta.sse_enabled = sse.enabled.unwrap_or(false);
    }
    let dropped: Vec<String> =
        state.meta.indexes.iter().filter(|old| meta.index(&old.name).is_none()).map(|i| i.name.clone()).collect();
    // One batch: the definition, the streams, the dropped and the new index entries (read once
    // the item writes made before this lock are committed).
    let store = table.store.clone();
    store.flush()?;
    let mut writes = Vec::new();
    store.put_meta(&meta, &mut writes);
    if let Some((new, disable)) = &stream_change {
        if let Some(s) = new {
            store.put_stream(s, None, &mut writes);
        }
        if let (true, Some(old)) = (disable, &state.stream) {
            store.put_stream(old, Some(Timestamp::now()), &mut writes);
        }
    }
    for name in &dropped {
        store.drop_index(&meta.name, name, &mut writes);
    }
    let mut stats = state.data.stats().cloned();
    for ix in &created {
        let filled = store.fill_index(&meta, &state.data, ix, &mut writes);
        stats.as_mut().map(|s| s.indexes.insert(ix.name.clone(), filled));
    }
    for name in &dropped {
        stats.as_mut().map(|s| s.indexes.remove(name));
    }
    store.put_stats(&meta.name, stats.clone(), &mut writes);
    store.blocking(|| store.apply(writes))?;
    if let Some((new, disable)) = stream_change {
        if disable && let Some(old) = state.stream.take() {
            old.disable();
        }
        if let Some(s) = new {
            region.streams.write().insert(s.arn.clone(), s.clone());
            state.stream = Some(s);
        }
    }
    for name in dropped {
        state.data.drop_index(&name);
    }
    match stats {
        Some(stats) => state.data.set_stats(stats),
        None => created.iter().for_each(|ix| state.data.backfill(ix)),
    }
    state.meta = meta;
    Ok(UpdateTableOutput { table_description: Some(describe(state, "ACTIVE")) })
}

pub async fn describe_limits(
    _db: Arc<DynamoDb>,
    _ctx: RequestContext,
    _input: DescribeLimitsInput,
) -> Result<DescribeLimitsOutput, AwsError> {
    Ok(DescribeLimitsOutput {
        account_max_read_capacity_units: Some(80000),
        account_max_write_capacity_units: Some(80000),
        table_max_read_capacity_units: Some(40000),
        table_max_write_capacity_units: Some(40000),
    })
}

pub async fn describe_endpoints(
    _db: Arc<DynamoDb>,
    ctx: RequestContext,
    _input: DescribeEndpointsRequest,
) -> Result<DescribeEndpointsResponse, AwsError> {
    Ok(DescribeEndpointsResponse {
        endpoints: vec![Endpoint {
            address: format!("dynamodb.{}.amazonaws.com", ctx.region),
            cache_period_in_minutes: 1440,
        }],
    })
}

pub async fn update_time_to_live(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: UpdateTimeToLiveInput,
) -> Result<UpdateTimeToLiveOutput, AwsError> {
    let table = db.region(&ctx).table_named(&input.table_name)?;
    let mut state = table.state.write();
    let spec = &input.time_to_live_specification;
    match (&state.meta.ttl_attribute, spec.enabled) {
        (Some(_), true) => return Err(validation("TimeToLive is already enabled")),
        (None, false) => return Err(validation("TimeToLive is already disabled")),
        (Some(current), false) if current != &spec.attribute_name => {
            return Err(validation(
                "TimeToLive is active on a different AttributeName: current AttributeName is ".to_owned() + current,
            ));
        }
        _ => {}
    }
    let mut meta = state.meta.clone();
    meta.ttl_attribute = spec.enabled.then(|| spec.attribute_name.clone());
    // The stored expiry entries of the items follow, in the same batch.
    table.store.flush()?;
    let mut writes = Vec::new();
    table.store.put_meta(&meta, &mut writes);
    match &meta.ttl_attribute {
        Some(attr) => table.store.fill_expiry(&meta.name, attr, &state.data, &mut writes),
        None => table.store.drop_expiry(&meta.name, &mut writes),
    }
    table.store.blocking(|| table.store.apply(writes))?;
    state.meta = meta;
    Ok(UpdateTimeToLiveOutput { time_to_live_specification: Some(input.time_to_live_specification) })
}

pub async fn describe_time_to_live(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeTimeToLiveInput,
) -> Result<DescribeTimeToLiveOutput, AwsError> {
    let table = db.region(&ctx).table_named(&input.table_name)?;
    let state = table.state.read();
    Ok(DescribeTimeToLiveOutput {
        time_to_live_description: Some(match &state.meta.ttl_attribute {
            Some(a) => {
                TimeToLiveDescription { time_to_live_status: Some("ENABLED".into()), attribute_name: Some(a.clone()) }
            }
            None => TimeToLiveDescription { time_to_live_status: Some("DISABLED".into()), attribute_name: None },
        }),
    })
}

fn continuous_backups(meta: &TableMeta) -> ContinuousBackupsDescription {
    let pitr = match &meta.point_in_time_recovery {
        Some(p) => {
            let now = Timestamp::now();
            let window = Timestamp { millis: now.millis - p.period_days as i64 * 86_400_000 };
            PointInTimeRecoveryDescription {
                point_in_time_recovery_status: Some("ENABLED".into()),
                recovery_period_in_days: Some(p.period_days),
                earliest_restorable_date_time: Some(Timestamp { millis: p.enabled_at.millis.max(window.millis) }),
                latest_restorable_date_time: Some(now),
            }
        }
        None => PointInTimeRecoveryDescription {
            point_in_time_recovery_status: Some("DISABLED".into()),
            ..Default::default()
        },
    };
    ContinuousBackupsDescription {
        continuous_backups_status: "ENABLED".into(),
        point_in_time_recovery_description: Some(pitr),
    }
}

fn table_not_found_for_backups(name: &str) -> AwsError {
    AwsError::bad_request("TableNotFoundException", format!("Table not found: {name}"))
}

pub async fn describe_continuous_backups(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeContinuousBackupsInput,
) -> Result<DescribeContinuousBackupsOutput, AwsError> {
    let table =
        db.region(&ctx).table_named(&input.table_name).map_err(|_| table_not_found_for_backups(&input.table_name))?;
    let state = table.state.read();
    Ok(DescribeContinuousBackupsOutput { continuous_backups_description: Some(continuous_backups(&state.meta)) })
}

/// Days of point-in-time recovery when the request does not say.
const DEFAULT_RECOVERY_DAYS: i32 = 35;

pub async fn update_continuous_backups(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: UpdateContinuousBackupsInput,
) -> Result<UpdateContinuousBackupsOutput, AwsError> {
    let table =
        db.region(&ctx).table_named(&input.table_name).map_err(|_| table_not_found_for_backups(&input.table_name))?;
    let spec = &input.point_in_time_recovery_specification;
    let mut state = table.state.write();
    let mut meta = state.meta.clone();
    meta.point_in_time_recovery = if spec.point_in_time_recovery_enabled {
        let period_days = spec.recovery_period_in_days.unwrap_or(DEFAULT_RECOVERY_DAYS);
        // Enabling again keeps the history recorded so far.
        let enabled_at = meta.point_in_time_recovery.as_ref().map_or_else(Timestamp::now, |p| p.enabled_at);
        Some(crate::table::PointInTimeRecovery { enabled_at, period_days })
    } else {
        None
    };
    save_meta(&table, &mut state, meta)?;
    Ok(UpdateContinuousBackupsOutput { continuous_backups_description: Some(continuous_backups(&state.meta)) })
}

/// Stores a changed table definition, then puts it in place.
pub(crate) fn save_meta(table: &Table, state: &mut TableState, meta: TableMeta) -> Result<(), AwsError> {
    let mut writes = Vec::new();
    table.store.put_meta(&meta, &mut writes);
    table.store.blocking(|| table.store.apply(writes))?;
    state.meta = meta;
    Ok(())
}

/// The table an ARN names (`arn:aws:dynamodb:<region>:<account>:table/<name>`).
fn table_by_arn(region: &Region, arn: &str) -> Result<Arc<Table>, AwsError> {
    let not_found = || {
        AwsError::bad_request(
            "ResourceNotFoundException",
            format!("Requested resource not found: ResourcArn: {arn} not found"),
        )
    };
    let name = arn
        .split_once(":table/")
        .map(|(_, n)| n)
        .ok_or_else(|| validation(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}")))?;
    let table = region.tables.read().get(name).cloned().ok_or_else(not_found)?;
    table.ensure_loaded();
    if table.state.read().meta.arn != arn {
        return Err(not_found());
    }
    Ok(table)
}

pub async fn tag_resource(db: Arc<DynamoDb>, ctx: RequestContext, input: TagResourceInput) -> Result<(), AwsError> {
    let table = table_by_arn(&db.region(&ctx), &input.resource_arn)?;
    let mut state = table.state.write();
    let mut meta = state.meta.clone();
    for t in input.tags {
        meta.tags.insert(t.key, t.value);
    }
    if meta.tags.len() > 50 {
        return Err(validation(
            "One or more parameter values were invalid: The number of tags exceeds the limit of 50",
        ));
    }
    save_meta(&table, &mut state, meta)
}

pub async fn untag_resource(db: Arc<DynamoDb>, ctx: RequestContext, input: UntagResourceInput) -> Result<(), AwsError> {
    let table = table_by_arn(&db.region(&ctx), &input.resource_arn)?;
    let mut state = table.state.write();
    let mut meta = state.meta.clone();
    for k in input.tag_keys {
        meta.tags.remove(&k);
    }
    save_meta(&table, &mut state, meta)
}

pub async fn list_tags_of_resource(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListTagsOfResourceInput,
) -> Result<ListTagsOfResourceOutput, AwsError> {
    let table = table_by_arn(&db.region(&ctx), &input.resource_arn)?;
    let state = table.state.read();
    Ok(ListTagsOfResourceOutput {
        tags: Some(state.meta.tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect()),
        next_token: None,
    })
}
