//! Amazon DynamoDB for RustStack.

pub mod error;
pub mod expression;
pub mod generated;
pub mod number;
pub mod value;

use generated::{ops, types::*};
use parking_lot::RwLock;
use ruststack_core::store::PerRegion;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Tables per account and region, by name (sorted, as ListTables pages in name order).
#[derive(Default)]
pub struct DynamoDb {
    tables: PerRegion<RwLock<BTreeMap<String, Table>>>,
}

/// A table (its contents come with the DynamoDB issue).
pub struct Table;

impl ServiceState for DynamoDb {
    fn reset(&self) {
        self.tables.clear();
    }
}

/// The DynamoDB service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(DynamoDb::default())).on(ops::ListTables, list_tables).into_service()
}

async fn list_tables(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListTablesInput,
) -> Result<ListTablesOutput, AwsError> {
    let tables = db.tables.get(&ctx.account_id, &ctx.region);
    let tables = tables.read();
    let limit = input.limit.unwrap_or(100) as usize;
    let start = input.exclusive_start_table_name.unwrap_or_default();
    let names: Vec<String> = tables
        .range::<String, _>((std::ops::Bound::Excluded(&start), std::ops::Bound::Unbounded))
        .map(|(name, _)| name.clone())
        .take(limit)
        .collect();
    let more = names.len() == limit
        && tables
            .range::<String, _>((std::ops::Bound::Excluded(&names[limit - 1]), std::ops::Bound::Unbounded))
            .next()
            .is_some();
    Ok(ListTablesOutput { last_evaluated_table_name: more.then(|| names[limit - 1].clone()), table_names: Some(names) })
}
