//! Amazon DynamoDB Streams for RustStack: ListStreams, DescribeStream, GetShardIterator and
//! GetRecords over the change log DynamoDB keeps per table (`ruststack_dynamodb::streams`).
//!
//! - [`iterator`]: shard iterators, opaque strings that carry a position and their age;
//! - [`records`]: stream records in AWS's wire shape;
//! - [`handlers`]: the operations.

pub mod generated;
pub mod handlers;
pub mod iterator;
pub mod records;

use generated::ops;
use ruststack_core::{Handlers, Service, ServiceState};
use ruststack_dynamodb::StreamsHandle;
use std::sync::Arc;

/// The service's state is DynamoDB's: streams live with their tables.
pub struct StreamsState {
    pub streams: StreamsHandle,
}

impl ServiceState for StreamsState {
    /// DynamoDB's own reset clears the streams with the tables.
    fn reset(&self) {}
}

/// The DynamoDB Streams service, reading DynamoDB's streams through `streams`.
pub fn service(streams: StreamsHandle) -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(StreamsState { streams }))
        .on(ops::ListStreams, handlers::list_streams)
        .on(ops::DescribeStream, handlers::describe_stream)
        .on(ops::GetShardIterator, handlers::get_shard_iterator)
        .on(ops::GetRecords, handlers::get_records)
        .into_service()
}
