//! Amazon SQS for RustStack (awsJson 1.0 and the older awsQuery protocol, one state).

pub mod generated;

use generated::{ops, types::*};
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::sync::Arc;

/// SQS state (queues and messages come with the SQS issue).
#[derive(Default)]
pub struct Sqs;

impl ServiceState for Sqs {
    fn reset(&self) {}
}

/// The SQS service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(Sqs)).on(ops::ListQueues, list_queues).into_service()
}

async fn list_queues(_: Arc<Sqs>, _: RequestContext, _: ListQueuesRequest) -> Result<ListQueuesResult, AwsError> {
    Ok(ListQueuesResult::default())
}
