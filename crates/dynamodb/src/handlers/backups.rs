//! On-demand backups (CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
//! RestoreTableFromBackup) and RestoreTableToPointInTime. A backup is a snapshot of the table's
//! definition and items, taken when it is asked for, so it is AVAILABLE at once; a restore creates
//! the target table as CreateTable would (with the request's overrides) and writes the items as
//! PutItem would, answering once the table is ACTIVE. Point-in-time restores copy the source
//! table's current items: no history of past item versions is kept.

use crate::DynamoDb;
use crate::error::validation;
use crate::generated::types::*;
use crate::persist::Backup;
use crate::value::{WireItem, item_from_wire, item_size};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::collections::BTreeSet;
use std::sync::Arc;

fn backup_not_found(arn: &str) -> AwsError {
    AwsError::bad_request("BackupNotFoundException", format!("Backup not found: {arn}"))
}

fn table_exists(name: &str) -> AwsError {
    AwsError::bad_request("TableAlreadyExistsException", format!("Table already exists: {name}"))
}

/// The creation time in a backup ARN's id (`…/backup/01623095754481-2cfcd6f9`).
fn id_millis(arn: &str) -> Option<i64> {
    arn.rsplit_once("/backup/")?.1.split('-').next()?.parse().ok()
}

/// The table's items now, read page by page as a consistent Scan.
async fn snapshot(db: &Arc<DynamoDb>, ctx: &RequestContext, table: &str) -> Result<Vec<WireItem>, AwsError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let input = ScanInput {
            table_name: table.to_owned(),
            exclusive_start_key: start.take(),
            consistent_read: Some(true),
            ..Default::default()
        };
        let page = super::query::scan(db.clone(), ctx.clone(), input).await?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return Ok(items),
        }
    }
}

fn throughput(t: &Option<ProvisionedThroughputDescription>) -> ProvisionedThroughput {
    let t = t.clone().unwrap_or_default();
    ProvisionedThroughput {
        read_capacity_units: t.read_capacity_units.unwrap_or(0),
        write_capacity_units: t.write_capacity_units.unwrap_or(0),
    }
}

fn billing_mode(table: &TableDescription) -> String {
    table.billing_mode_summary.as_ref().and_then(|b| b.billing_mode.clone()).unwrap_or_else(|| "PROVISIONED".into())
}

pub async fn create_backup(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: CreateBackupInput,
) -> Result<CreateBackupOutput, AwsError> {
    let region = db.region(&ctx);
    let table = region.table_named(&input.table_name).map_err(|_| {
        AwsError::bad_request("TableNotFoundException", format!("Table not found: {}", input.table_name))
    })?;
    let described = super::tables::describe(&table.state.read(), "ACTIVE");
    let name = described.table_name.clone().unwrap_or_default();
    let items = snapshot(&db, &ctx, &name).await?;
    let size: i64 = items.iter().map(|i| item_from_wire(i.clone()).map_or(0, |i| item_size(&i) as i64)).sum();
    let now = Timestamp::now();
    let table_arn = described.table_arn.clone().unwrap_or_default();
    // AWS's backup ids: the creation time in milliseconds and eight hex digits; ids of one region
    // increase, so backups taken within a millisecond still list in the order they were taken.
    let mut backups = region.backups.write();
    let newest = backups.keys().filter_map(|a| id_millis(a)).max().unwrap_or(0);
    let arn = format!("{table_arn}/backup/{:014}-{:08x}", now.millis.max(newest + 1), fastrand::u32(..));
    let details = BackupDetails {
        backup_arn: arn.clone(),
        backup_name: input.backup_name,
        backup_size_bytes: Some(size),
        backup_status: "AVAILABLE".into(),
        backup_type: "USER".into(),
        backup_creation_date_time: now,
        backup_expiry_date_time: None,
    };
    let mode = billing_mode(&described);
    let source = SourceTableDetails {
        table_name: name,
        table_id: described.table_id.clone().unwrap_or_default(),
        table_arn: Some(table_arn),
        table_size_bytes: described.table_size_bytes,
        key_schema: described.key_schema.clone().unwrap_or_default(),
        table_creation_date_time: described.creation_date_time.unwrap_or(now),
        provisioned_throughput: throughput(&described.provisioned_throughput),
        on_demand_throughput: None,
        item_count: described.item_count,
        billing_mode: Some(mode),
    };
    let features = SourceTableFeatureDetails {
        local_secondary_indexes: described.local_secondary_indexes.as_ref().map(|l| {
            l.iter()
                .map(|i| LocalSecondaryIndexInfo {
                    index_name: i.index_name.clone(),
                    key_schema: i.key_schema.clone(),
                    projection: i.projection.clone(),
                })
                .collect()
        }),
        global_secondary_indexes: described.global_secondary_indexes.as_ref().map(|g| {
            g.iter()
                .map(|i| GlobalSecondaryIndexInfo {
                    index_name: i.index_name.clone(),
                    key_schema: i.key_schema.clone(),
                    projection: i.projection.clone(),
                    provisioned_throughput: Some(throughput(&i.provisioned_throughput)),
                    on_demand_throughput: None,
                })
                .collect()
        }),
        stream_description: described.stream_specification.clone(),
        time_to_live_description: {
            let ttl = table.state.read().meta.ttl_attribute.clone();
            Some(TimeToLiveDescription {
                time_to_live_status: Some(if ttl.is_some() { "ENABLED" } else { "DISABLED" }.into()),
                attribute_name: ttl,
            })
        },
        sse_description: described.sse_description.clone(),
        vector_indexes: None,
    };
    let store = region.store();
    let backup = Backup {
        description: BackupDescription {
            backup_details: Some(details.clone()),
            source_table_details: Some(source),
            source_table_feature_details: Some(features),
        },
        table: described,
        items: Arc::new(if store.enabled() { Vec::new() } else { items.clone() }),
    };
    let mut writes = Vec::new();
    store.put_backup(&backup, &items, &mut writes);
    store.blocking(|| store.apply(writes))?;
    backups.insert(arn, backup);
    Ok(CreateBackupOutput { backup_details: Some(details) })
}

pub async fn describe_backup(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeBackupInput,
) -> Result<DescribeBackupOutput, AwsError> {
    let region = db.region(&ctx);
    let backups = region.backups.read();
    let backup = backups.get(&input.backup_arn).ok_or_else(|| backup_not_found(&input.backup_arn))?;
    Ok(DescribeBackupOutput { backup_description: Some(backup.description.clone()) })
}

pub async fn delete_backup(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DeleteBackupInput,
) -> Result<DeleteBackupOutput, AwsError> {
    let region = db.region(&ctx);
    let mut backups = region.backups.write();
    let backup = backups.get(&input.backup_arn).ok_or_else(|| backup_not_found(&input.backup_arn))?;
    if region.restoring.lock().contains_key(&input.backup_arn) {
        return Err(AwsError::bad_request(
            "BackupInUseException",
            "There is another ongoing conflicting backup control plane operation on the table. The backup is either being created, deleted or restored to a table.",
        ));
    }
    let mut description = backup.description.clone();
    let store = region.store();
    let mut writes = Vec::new();
    store.drop_backup(&input.backup_arn, &mut writes);
    store.blocking(|| store.apply(writes))?;
    backups.remove(&input.backup_arn);
    if let Some(d) = description.backup_details.as_mut() {
        d.backup_status = "DELETED".into();
    }
    Ok(DeleteBackupOutput { backup_description: Some(description) })
}

/// Most backups ListBackups returns in one page.
const LIST_LIMIT: usize = 100;

pub async fn list_backups(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListBackupsInput,
) -> Result<ListBackupsOutput, AwsError> {
    let region = db.region(&ctx);
    let limit = input.limit.map_or(LIST_LIMIT, |l| l.clamp(1, LIST_LIMIT as i32) as usize);
    // Every backup is a user backup: SYSTEM and AWS_BACKUP list none.
    let kind = input.backup_type.as_deref().unwrap_or("USER");
    let backups = region.backups.read();
    // Oldest first: a backup id starts with its creation time in milliseconds, so ordering by
    // (id, ARN) pages in creation order and resumes after a start ARN even once it is deleted.
    let order = |arn: &str| (arn.rsplit_once("/backup/").map_or("", |(_, id)| id).to_owned(), arn.to_owned());
    let start = input.exclusive_start_backup_arn.as_deref().map(order);
    let mut listed: Vec<_> = backups.iter().map(|(arn, b)| (order(arn), b)).collect();
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut summaries: Vec<BackupSummary> = listed
        .into_iter()
        .filter(|(key, _)| start.as_ref().is_none_or(|start| key > start))
        .map(|(_, b)| &b.description)
        .filter(|_| matches!(kind, "USER" | "ALL"))
        .filter(|d| {
            let Some(source) = &d.source_table_details else { return false };
            input.table_name.as_ref().is_none_or(|t| {
                if t.starts_with("arn:") { source.table_arn.as_ref() == Some(t) } else { &source.table_name == t }
            })
        })
        .filter(|d| {
            let at = d.backup_details.as_ref().map(|b| b.backup_creation_date_time).unwrap_or_default();
            input.time_range_lower_bound.is_none_or(|lower| at >= lower)
                && input.time_range_upper_bound.is_none_or(|upper| at < upper)
        })
        .take(limit + 1)
        .map(|d| {
            let (details, source) = (d.backup_details.clone().unwrap_or_default(), d.source_table_details.clone());
            BackupSummary {
                table_name: source.as_ref().map(|s| s.table_name.clone()),
                table_id: source.as_ref().map(|s| s.table_id.clone()),
                table_arn: source.and_then(|s| s.table_arn),
                backup_arn: Some(details.backup_arn),
                backup_name: Some(details.backup_name),
                backup_creation_date_time: Some(details.backup_creation_date_time),
                backup_expiry_date_time: details.backup_expiry_date_time,
                backup_status: Some(details.backup_status),
                backup_type: Some(details.backup_type),
                backup_size_bytes: details.backup_size_bytes,
            }
        })
        .collect();
    // The ARN of the last backup returned when more follow.
    let last = (summaries.len() > limit).then(|| {
        summaries.truncate(limit);
        summaries.last().and_then(|s| s.backup_arn.clone())
    });
    Ok(ListBackupsOutput { backup_summaries: Some(summaries), last_evaluated_backup_arn: last.flatten() })
}

/// What a restore may change of the backed-up definition.
struct Overrides {
    billing_mode: Option<String>,
    gsis: Option<Vec<GlobalSecondaryIndex>>,
    lsis: Option<Vec<LocalSecondaryIndex>>,
    throughput: Option<ProvisionedThroughput>,
    sse: Option<SSESpecification>,
}

/// The CreateTable request that recreates `table` under `target` with `o` applied.
fn create_input(table: &TableDescription, target: &str, o: Overrides) -> CreateTableInput {
    let original = billing_mode(table);
    let mode = o.billing_mode.clone().unwrap_or_else(|| original.clone());
    let provisioned = mode == "PROVISIONED";
    let table_throughput = match (provisioned, o.throughput) {
        (false, _) => None,
        (true, Some(t)) => Some(t),
        (true, None) if original == "PROVISIONED" => Some(throughput(&table.provisioned_throughput)),
        (true, None) => None,
    };
    let gsis = o.gsis.unwrap_or_else(|| {
        table
            .global_secondary_indexes
            .iter()
            .flatten()
            .map(|g| GlobalSecondaryIndex {
                index_name: g.index_name.clone().unwrap_or_default(),
                key_schema: g.key_schema.clone().unwrap_or_default(),
                projection: g.projection.clone().unwrap_or_default(),
                provisioned_throughput: (original == "PROVISIONED").then(|| throughput(&g.provisioned_throughput)),
                ..Default::default()
            })
            .collect()
    });
    let gsis: Vec<GlobalSecondaryIndex> = gsis
        .into_iter()
        .map(|mut g| {
            if !provisioned {
                g.provisioned_throughput = None;
            }
            g
        })
        .collect();
    let lsis = o.lsis.unwrap_or_else(|| {
        table
            .local_secondary_indexes
            .iter()
            .flatten()
            .map(|l| LocalSecondaryIndex {
                index_name: l.index_name.clone().unwrap_or_default(),
                key_schema: l.key_schema.clone().unwrap_or_default(),
                projection: l.projection.clone().unwrap_or_default(),
            })
            .collect()
    });
    let key_schema = table.key_schema.clone().unwrap_or_default();
    // Only the definitions of key attributes still in use (an override may drop indexes).
    let used: BTreeSet<&str> = key_schema
        .iter()
        .chain(gsis.iter().flat_map(|g| &g.key_schema))
        .chain(lsis.iter().flat_map(|l| &l.key_schema))
        .map(|k| k.attribute_name.as_str())
        .collect();
    let definitions = table
        .attribute_definitions
        .iter()
        .flatten()
        .filter(|d| used.contains(d.attribute_name.as_str()))
        .cloned()
        .collect();
    CreateTableInput {
        table_name: target.to_owned(),
        attribute_definitions: Some(definitions),
        key_schema: Some(key_schema.clone()),
        billing_mode: o
            .billing_mode
            .or_else(|| table.billing_mode_summary.as_ref().and_then(|b| b.billing_mode.clone())),
        provisioned_throughput: table_throughput,
        global_secondary_indexes: (!gsis.is_empty()).then_some(gsis),
        local_secondary_indexes: (!lsis.is_empty()).then_some(lsis),
        sse_specification: o.sse.or_else(|| {
            table.sse_description.as_ref().map(|_| SSESpecification { enabled: Some(true), ..Default::default() })
        }),
        table_class: table.table_class_summary.as_ref().and_then(|c| c.table_class.clone()),
        ..Default::default()
    }
}

/// Creates `target` from `table` and `items`; its description, `summary` included.
async fn restore(
    db: &Arc<DynamoDb>,
    ctx: &RequestContext,
    target: &str,
    table: &TableDescription,
    items: Vec<WireItem>,
    overrides: Overrides,
    summary: RestoreSummary,
) -> Result<TableDescription, AwsError> {
    let create = create_input(table, target, overrides);
    super::tables::create_table(db.clone(), ctx.clone(), create)
        .await
        .map_err(|e| if e.code == "ResourceInUseException" { table_exists(target) } else { e })?;
    for item in items {
        let put = PutItemInput { table_name: target.to_owned(), item, ..Default::default() };
        super::items::put_item(db.clone(), ctx.clone(), put).await?;
    }
    let restored = db.region(ctx).table_named(target)?;
    let mut state = restored.state.write();
    let mut meta = state.meta.clone();
    meta.restore_summary = Some(summary);
    super::tables::save_meta(&restored, &mut state, meta)?;
    Ok(super::tables::describe(&state, "ACTIVE"))
}

/// A restore reading a backup, counted in `Region::restoring` until dropped.
struct Reading {
    region: Arc<crate::Region>,
    arn: String,
}

impl Drop for Reading {
    fn drop(&mut self) {
        let mut restoring = self.region.restoring.lock();
        if let Some(n) = restoring.get_mut(&self.arn) {
            *n -= 1;
            if *n == 0 {
                restoring.remove(&self.arn);
            }
        }
    }
}

pub async fn restore_table_from_backup(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: RestoreTableFromBackupInput,
) -> Result<RestoreTableFromBackupOutput, AwsError> {
    let region = db.region(&ctx);
    let backup =
        region.backups.read().get(&input.backup_arn).cloned().ok_or_else(|| backup_not_found(&input.backup_arn))?;
    if region.lookup(&input.target_table_name).is_some() {
        return Err(table_exists(&input.target_table_name));
    }
    // DeleteBackup waits for the restores reading the backup (BackupInUseException).
    *region.restoring.lock().entry(input.backup_arn.clone()).or_default() += 1;
    let _reading = Reading { region: region.clone(), arn: input.backup_arn.clone() };
    let store = region.store();
    let items = if store.enabled() {
        store.blocking(|| store.backup_items(&input.backup_arn))
    } else {
        backup.items.as_ref().clone()
    };
    let summary = RestoreSummary {
        source_backup_arn: Some(input.backup_arn.clone()),
        source_table_arn: backup.table.table_arn.clone(),
        restore_date_time: Timestamp::now(),
        restore_in_progress: false,
    };
    let overrides = Overrides {
        billing_mode: input.billing_mode_override,
        gsis: input.global_secondary_index_override,
        lsis: input.local_secondary_index_override,
        throughput: input.provisioned_throughput_override,
        sse: input.sse_specification_override,
    };
    let table = restore(&db, &ctx, &input.target_table_name, &backup.table, items, overrides, summary).await?;
    Ok(RestoreTableFromBackupOutput { table_description: Some(table) })
}

pub async fn restore_table_to_point_in_time(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: RestoreTableToPointInTimeInput,
) -> Result<RestoreTableToPointInTimeOutput, AwsError> {
    let Some(source) = input.source_table_arn.clone().or_else(|| input.source_table_name.clone()) else {
        return Err(validation("Either SourceTableArn or SourceTableName must be specified"));
    };
    if input.use_latest_restorable_time == Some(true) && input.restore_date_time.is_some() {
        return Err(validation("Only one of RestoreDateTime or UseLatestRestorableTime may be specified"));
    }
    let region = db.region(&ctx);
    // AWS's model has no SourceTableNotFoundException here: a missing source is TableNotFound.
    let table = region
        .table_named(&source)
        .map_err(|_| AwsError::bad_request("TableNotFoundException", format!("Table not found: {source}")))?;
    if region.lookup(&input.target_table_name).is_some() {
        return Err(table_exists(&input.target_table_name));
    }
    let (described, pitr) = {
        let state = table.state.read();
        (super::tables::describe(&state, "ACTIVE"), state.meta.point_in_time_recovery.clone())
    };
    let name = described.table_name.clone().unwrap_or_default();
    let Some(pitr) = pitr else {
        return Err(AwsError::bad_request(
            "PointInTimeRecoveryUnavailableException",
            format!("Point in time recovery is not enabled for table '{name}'"),
        ));
    };
    let now = Timestamp::now();
    let earliest = Timestamp { millis: pitr.enabled_at.millis.max(now.millis - pitr.period_days as i64 * 86_400_000) };
    let at = match input.restore_date_time {
        Some(at) if at < earliest || at > now => {
            return Err(AwsError::bad_request(
                "InvalidRestoreTimeException",
                "RestoreDateTime must be between EarliestRestorableDateTime and LatestRestorableDateTime",
            ));
        }
        Some(at) => at,
        None => now,
    };
    // The table as it is now stands for any time of the window (no item history is kept).
    let items = snapshot(&db, &ctx, &name).await?;
    let summary = RestoreSummary {
        source_backup_arn: None,
        source_table_arn: described.table_arn.clone(),
        restore_date_time: at,
        restore_in_progress: false,
    };
    let overrides = Overrides {
        billing_mode: input.billing_mode_override,
        gsis: input.global_secondary_index_override,
        lsis: input.local_secondary_index_override,
        throughput: input.provisioned_throughput_override,
        sse: input.sse_specification_override,
    };
    let table = restore(&db, &ctx, &input.target_table_name, &described, items, overrides, summary).await?;
    Ok(RestoreTableToPointInTimeOutput { table_description: Some(table) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, kind: &str) -> KeySchemaElement {
        KeySchemaElement { attribute_name: name.into(), key_type: kind.into() }
    }

    fn table() -> TableDescription {
        TableDescription {
            attribute_definitions: Some(vec![
                AttributeDefinition { attribute_name: "pk".into(), attribute_type: "S".into() },
                AttributeDefinition { attribute_name: "g".into(), attribute_type: "N".into() },
            ]),
            key_schema: Some(vec![key("pk", "HASH")]),
            provisioned_throughput: Some(ProvisionedThroughputDescription {
                read_capacity_units: Some(3),
                write_capacity_units: Some(4),
                ..Default::default()
            }),
            global_secondary_indexes: Some(vec![GlobalSecondaryIndexDescription {
                index_name: Some("byg".into()),
                key_schema: Some(vec![key("g", "HASH")]),
                projection: Some(Projection { projection_type: Some("ALL".into()), non_key_attributes: None }),
                provisioned_throughput: Some(ProvisionedThroughputDescription {
                    read_capacity_units: Some(1),
                    write_capacity_units: Some(2),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn none() -> Overrides {
        Overrides { billing_mode: None, gsis: None, lsis: None, throughput: None, sse: None }
    }

    #[tokio::test]
    async fn a_backup_being_restored_cannot_be_deleted() {
        let (db, ctx) = (Arc::new(DynamoDb::default()), RequestContext::for_tests("CreateBackup"));
        let create = CreateTableInput {
            table_name: "t".into(),
            attribute_definitions: Some(vec![AttributeDefinition {
                attribute_name: "pk".into(),
                attribute_type: "S".into(),
            }]),
            key_schema: Some(vec![key("pk", "HASH")]),
            billing_mode: Some("PAY_PER_REQUEST".into()),
            ..Default::default()
        };
        super::super::tables::create_table(db.clone(), ctx.clone(), create).await.expect("table");
        let input = CreateBackupInput { table_name: "t".into(), backup_name: "b".into() };
        let arn =
            create_backup(db.clone(), ctx.clone(), input).await.expect("backup").backup_details.unwrap().backup_arn;
        let region = db.region(&ctx);
        *region.restoring.lock().entry(arn.clone()).or_default() += 1;
        let reading = Reading { region: region.clone(), arn: arn.clone() };
        let delete = || delete_backup(db.clone(), ctx.clone(), DeleteBackupInput { backup_arn: arn.clone() });
        assert_eq!(delete().await.err().map(|e| e.code), Some("BackupInUseException".into()));
        drop(reading);
        assert!(region.restoring.lock().is_empty());
        let deleted = delete().await.expect("deleted once no restore reads it");
        assert_eq!(deleted.backup_description.unwrap().backup_details.unwrap().backup_status, "DELETED");
    }

    #[test]
    fn backup_ids_start_with_their_creation_time() {
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/01623095754481-2cfcd6f9";
        assert_eq!(id_millis(arn), Some(1623095754481));
        assert_eq!(id_millis("arn:aws:dynamodb:us-east-1:000000000000:table/t"), None);
    }

    #[test]
    fn a_restore_recreates_the_definition() {
        let input = create_input(&table(), "copy", none());
        assert_eq!(input.table_name, "copy");
        assert_eq!(input.billing_mode, None);
        let t = input.provisioned_throughput.expect("provisioned");
        assert_eq!((t.read_capacity_units, t.write_capacity_units), (3, 4));
        let gsis = input.global_secondary_indexes.expect("the index");
        assert_eq!(gsis[0].index_name, "byg");
        assert_eq!(gsis[0].provisioned_throughput.as_ref().map(|t| t.write_capacity_units), Some(2));
        assert_eq!(input.attribute_definitions.map(|d| d.len()), Some(2));
    }

    #[test]
    fn overrides_switch_to_on_demand_and_drop_indexes_and_their_attributes() {
        let o = Overrides { billing_mode: Some("PAY_PER_REQUEST".into()), gsis: Some(Vec::new()), ..none() };
        let input = create_input(&table(), "copy", o);
        assert_eq!(input.billing_mode.as_deref(), Some("PAY_PER_REQUEST"));
        assert!(input.provisioned_throughput.is_none() && input.global_secondary_indexes.is_none());
        let names: Vec<String> = input.attribute_definitions.unwrap().into_iter().map(|d| d.attribute_name).collect();
        assert_eq!(names, ["pk"]);
    }
}
