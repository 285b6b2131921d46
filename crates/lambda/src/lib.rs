//! AWS Lambda for RustStack.

pub mod generated;

use generated::{ops, types::*};
use parking_lot::RwLock;
use ruststack_core::store::PerRegion;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Functions per account and region, by name.
#[derive(Default)]
pub struct Lambda {
    functions: PerRegion<RwLock<BTreeMap<String, FunctionConfiguration>>>,
}

impl ServiceState for Lambda {
    fn reset(&self) {
        self.functions.clear();
    }
}

/// The Lambda service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(Lambda::default())).on(ops::ListFunctions, list_functions).into_service()
}

async fn list_functions(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    _input: ListFunctionsRequest,
) -> Result<ListFunctionsResponse, AwsError> {
    let functions = lambda.functions.get(&ctx.account_id, &ctx.region);
    let list: Vec<FunctionConfiguration> = functions.read().values().cloned().collect();
    Ok(ListFunctionsResponse { functions: Some(list), next_marker: None })
}
