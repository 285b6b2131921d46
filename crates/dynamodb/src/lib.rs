//! Amazon DynamoDB for RustStack: a native engine with DynamoDB's semantics.
//!
//! - [`number`], [`value`]: the data types, their validation and sizes;
//! - [`expression`]: the expression language (lexer, parser, evaluator);
//! - [`table`]: table definitions and ordered storage with secondary indexes;
//! - [`persist`]: the layout in the kv store with `--data-dir` (items, index entries, expiry
//!   entries, statistics, streams and their records), where reads page through the store and
//!   every write is one batch;
//! - [`handlers`]: the operations.

pub mod buckets;
pub mod error;
pub mod expression;
pub mod generated;
mod handlers;
pub mod number;
pub mod partiql;
pub mod persist;
pub mod streams;
pub mod table;
pub mod ttl;
pub mod value;

use crate::error::{table_not_found, table_not_found_named};
use crate::persist::RegionStore;
use crate::table::Table;
use generated::ops;
use parking_lot::{Mutex, RwLock};
use ruststack_core::store::{KvStore, PerRegion, Storage};
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// DynamoDB's state: tables per account and region, stored in `kv` with `--data-dir`.
#[derive(Default)]
pub struct DynamoDb {
    regions: PerRegion<Region>,
    kv: Option<Arc<dyn KvStore>>,
    /// S3, where exports are written and imports read (none: every bucket is missing).
    buckets: OnceLock<Arc<dyn buckets::Buckets>>,
}

/// One account and region: tables by name (sorted, as ListTables pages in name order) and the
/// client request tokens of recent transactions.
#[derive(Default)]
pub struct Region {
    pub tables: RwLock<BTreeMap<String, Arc<Table>>>,
    /// ClientRequestToken → (canonical request, when it was first seen).
    pub tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// Every stream by ARN, enabled or kept readable after being disabled.
    pub streams: RwLock<BTreeMap<String, Arc<streams::Stream>>>,
    /// The region's store, set once its tables and streams are read from it.
    store: OnceLock<Arc<RegionStore>>,
    /// Exports and imports by ARN (kept in memory only).
    pub exports: RwLock<BTreeMap<String, generated::types::ExportDescription>>,
    pub imports: RwLock<BTreeMap<String, generated::types::ImportTableDescription>>,
    /// On-demand backups by ARN (they outlive their table).
    pub backups: RwLock<BTreeMap<String, persist::Backup>>,
    /// Backups a restore is reading (and how many restores), which DeleteBackup refuses.
    pub restoring: Mutex<HashMap<String, usize>>,
}

impl Region {
    /// The table for item operations (`Requested resource not found`).
    pub fn table(&self, name: &str) -> Result<Arc<Table>, AwsError> {
        let table = self.lookup(name).ok_or_else(table_not_found)?;
        table.ensure_loaded();
        Ok(table)
    }

    /// The table for table operations (`Requested resource not found: Table: x not found`).
    pub fn table_named(&self, name: &str) -> Result<Arc<Table>, AwsError> {
        let table = self.lookup(name).ok_or_else(|| table_not_found_named(name))?;
        table.ensure_loaded();
        Ok(table)
    }

    /// A table by name or by ARN (`TableName` accepts either); an ARN must be the table's own,
    /// account and region included.
    fn lookup(&self, name: &str) -> Option<Arc<Table>> {
        let tables = self.tables.read();
        if !name.starts_with("arn:") {
            return tables.get(name).cloned();
        }
        let (_, short) = name.split_once(":table/")?;
        tables.get(short).filter(|t| t.state.read().meta.arn == name).cloned()
    }

    /// Where the region's writes are stored.
    pub fn store(&self) -> &Arc<RegionStore> {
        self.store.get_or_init(Default::default)
    }
}

impl DynamoDb {
    /// State kept in `storage` when it is on disk; in memory mode nothing is copied to a store.
    pub fn new(storage: &Storage) -> DynamoDb {
        DynamoDb {
            regions: PerRegion::default(),
            kv: storage.kv.may_block().then(|| storage.kv.clone()),
            buckets: OnceLock::new(),
        }
    }

    /// State written through to `kv` whatever its kind (tests of the stored form).
    pub fn with_kv(kv: Arc<dyn KvStore>) -> DynamoDb {
        DynamoDb { regions: PerRegion::default(), kv: Some(kv), buckets: OnceLock::new() }
    }

    /// S3 as exports and imports see it.
    pub fn buckets(&self) -> Arc<dyn buckets::Buckets> {
        self.buckets.get().cloned().unwrap_or_else(|| Arc::new(buckets::NoBuckets))
    }

    pub fn region(&self, ctx: &RequestContext) -> Arc<Region> {
        self.region_of(&ctx.account_id, &ctx.region)
    }

    /// An account and region, its table definitions and streams read from the store on first use
    /// (items wait for each table's first use).
    pub fn region_of(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<Region> {
        let r = self.regions.get(account, region);
        r.store.get_or_init(|| {
            let store = Arc::new(RegionStore::new(self.kv.clone(), account, region));
            if store.enabled() {
                let mut streams = r.streams.write();
                for s in store.load_streams() {
                    streams.insert(s.arn.clone(), Arc::new(s));
                }
                let mut tokens = r.tokens.lock();
                for (token, fingerprint, age) in store.load_tokens(handlers::transact::TOKEN_TTL.as_millis() as i64) {
                    let at = Instant::now().checked_sub(std::time::Duration::from_millis(age as u64));
                    tokens.insert(token, (fingerprint, at.unwrap_or_else(Instant::now)));
                }
                drop(tokens);
                let mut backups = r.backups.write();
                for b in store.load_backups() {
                    let arn = b.description.backup_details.as_ref().map(|d| d.backup_arn.clone()).unwrap_or_default();
                    backups.insert(arn, b);
                }
                drop(backups);
                let mut tables = r.tables.write();
                for meta in store.load_tables() {
                    let stream = meta
                        .stream
                        .as_ref()
                        .and_then(|(label, _)| streams.get(&format!("{}/stream/{label}", meta.arn)).cloned());
                    let name = meta.name.clone();
                    let table = Table::with_store(meta, store.clone(), false);
                    table.state.write().stream = stream;
                    tables.insert(name, Arc::new(table));
                }
            }
            store
        });
        r
    }
}

impl ServiceState for DynamoDb {
    fn reset(&self) {
        self.regions.clear();
    }
}

pub use streams::StreamsHandle;

/// The DynamoDB service with its handler table, its state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with_streams(storage).0
}

/// The DynamoDB service and a handle on its streams (for `dynamodbstreams` and Lambda).
pub fn service_with_streams(storage: Storage) -> (Arc<dyn Service>, StreamsHandle) {
    let db = Arc::new(DynamoDb::new(&storage));
    (handler_table(db.clone()), StreamsHandle::new(db))
}

/// The DynamoDB service and its streams handle, exporting to and importing from `buckets`.
pub fn service_with_buckets(storage: Storage, buckets: Arc<dyn buckets::Buckets>) -> (Arc<dyn Service>, StreamsHandle) {
    let db = DynamoDb::new(&storage);
    let _ = db.buckets.set(buckets);
    let db = Arc::new(db);
    (handler_table(db.clone()), StreamsHandle::new(db))
}

fn handler_table(db: Arc<DynamoDb>) -> Arc<dyn Service> {
    use handlers::*;
    ttl::start(&db);
    Handlers::new(&generated::MODEL, db)
        .on(ops::CreateTable, tables::create_table)
        .on(ops::DescribeTable, tables::describe_table)
        .on(ops::ListTables, tables::list_tables)
        .on(ops::UpdateTable, tables::update_table)
        .on(ops::DeleteTable, tables::delete_table)
        .on(ops::DescribeLimits, tables::describe_limits)
        .on(ops::DescribeEndpoints, tables::describe_endpoints)
        .on(ops::UpdateTimeToLive, tables::update_time_to_live)
        .on(ops::DescribeTimeToLive, tables::describe_time_to_live)
        .on(ops::DescribeContinuousBackups, tables::describe_continuous_backups)
        .on(ops::UpdateContinuousBackups, tables::update_continuous_backups)
        .on(ops::PutResourcePolicy, policies::put_resource_policy)
        .on(ops::GetResourcePolicy, policies::get_resource_policy)
        .on(ops::DeleteResourcePolicy, policies::delete_resource_policy)
        .on(ops::TagResource, tables::tag_resource)
        .on(ops::UntagResource, tables::untag_resource)
        .on(ops::ListTagsOfResource, tables::list_tags_of_resource)
        .on(ops::PutItem, items::put_item)
        .on(ops::GetItem, items::get_item)
        .on(ops::UpdateItem, items::update_item)
        .on(ops::DeleteItem, items::delete_item)
        .on(ops::Query, query::query)
        .on(ops::Scan, query::scan)
        .on(ops::BatchGetItem, batch::batch_get_item)
        .on(ops::BatchWriteItem, batch::batch_write_item)
        .on(ops::TransactWriteItems, transact::transact_write_items)
        .on(ops::TransactGetItems, transact::transact_get_items)
        .on(ops::ExecuteStatement, handlers::partiql::execute_statement)
        .on(ops::BatchExecuteStatement, handlers::partiql::batch_execute_statement)
        .on(ops::ExecuteTransaction, handlers::partiql::execute_transaction)
        .on(ops::ExportTableToPointInTime, exports::export_table_to_point_in_time)
        .on(ops::DescribeExport, exports::describe_export)
        .on(ops::ListExports, exports::list_exports)
        .on(ops::ImportTable, imports::import_table)
        .on(ops::DescribeImport, imports::describe_import)
        .on(ops::ListImports, imports::list_imports)
        .on(ops::CreateBackup, backups::create_backup)
        .on(ops::DescribeBackup, backups::describe_backup)
        .on(ops::ListBackups, backups::list_backups)
        .on(ops::DeleteBackup, backups::delete_backup)
        .on(ops::RestoreTableFromBackup, backups::restore_table_from_backup)
        .on(ops::RestoreTableToPointInTime, backups::restore_table_to_point_in_time)
        .into_service()
}
