//! Amazon DynamoDB for RustStack: a native engine with DynamoDB's semantics.
//!
//! - [`number`], [`value`]: the data types, their validation and sizes;
//! - [`expression`]: the expression language (lexer, parser, evaluator);
//! - [`table`]: table definitions and ordered storage with secondary indexes;
//! - [`handlers`]: the operations.

pub mod error;
pub mod expression;
pub mod generated;
mod handlers;
pub mod number;
pub mod partiql;
pub mod streams;
pub mod table;
pub mod ttl;
pub mod value;

use crate::error::{table_not_found, table_not_found_named};
use crate::table::Table;
use generated::ops;
use parking_lot::{Mutex, RwLock};
use ruststack_core::store::PerRegion;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

/// DynamoDB's state: tables per account and region.
#[derive(Default)]
pub struct DynamoDb {
    regions: PerRegion<Region>,
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
}

impl Region {
    /// The table for item operations (`Requested resource not found`).
    pub fn table(&self, name: &str) -> Result<Arc<Table>, AwsError> {
        self.tables.read().get(name).cloned().ok_or_else(table_not_found)
    }

    /// The table for table operations (`Requested resource not found: Table: x not found`).
    pub fn table_named(&self, name: &str) -> Result<Arc<Table>, AwsError> {
        self.tables.read().get(name).cloned().ok_or_else(|| table_not_found_named(name))
    }
}

impl DynamoDb {
    pub fn region(&self, ctx: &RequestContext) -> Arc<Region> {
        self.regions.get(&ctx.account_id, &ctx.region)
    }
}

impl ServiceState for DynamoDb {
    fn reset(&self) {
        self.regions.clear();
    }
}

pub use streams::StreamsHandle;

/// The DynamoDB service with its handler table.
pub fn service() -> Arc<dyn Service> {
    service_with_streams().0
}

/// The DynamoDB service and a handle on its streams (for `dynamodbstreams` and Lambda).
pub fn service_with_streams() -> (Arc<dyn Service>, StreamsHandle) {
    let db = Arc::new(DynamoDb::default());
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
        .into_service()
}
