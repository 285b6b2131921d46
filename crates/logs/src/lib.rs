//! Amazon CloudWatch Logs for RustStack: log groups, streams, events, filter patterns, retention
//! and tags, kept per account and region.
//!
//! # Appending log lines from other services
//!
//! [`service_with_handle`] returns the service together with a [`LogsHandle`], a cheap cloneable
//! handle on the same state. Lambda writes function output through it (`crates/ruststack/src/
//! services.rs` hands `append` to Lambda as its log sink), as AWS does:
//!
//! ```
//! let storage = ruststack_core::store::Storage::memory();
//! let (_service, logs) = ruststack_logs::service_with_handle(storage);
//! logs.append("000000000000", "us-east-1", "/aws/lambda/my-fn", "2024/01/01/[$LATEST]abc", [
//!     (1_700_000_000_000, "START RequestId: 1".to_string()),
//!     (1_700_000_000_001, "hello".to_string()),
//! ]);
//! ```
//!
//! `append` creates the log group and stream when they do not exist, accepts events in any order
//! (they are stored in time order) and never rejects one for its age, unlike PutLogEvents. Its
//! events are stored like PutLogEvents' (durably with `--data-dir`) before it returns.
//!
//! # Persistence
//!
//! Groups and streams are records in the kv store (`logs/groups`, `logs/streams`), cached in
//! memory per account and region from the first request that touches it; every change is written
//! to the store before the cache and the answer. Events are only in the store (`logs/events`),
//! keyed by stream, time and id so reads are key ranges; see [`state`].
//!
//! # Modules
//!
//! - [`state`]: what is stored, behind [`state::LogsState::region`] and [`state::LogsState::events`];
//! - [`handlers`]: the operations, by area (groups, streams, events, tags, export tasks to S3
//!   through the [`handlers::ruststack_core::buckets::Buckets`] the binary sets, metric and subscription
//!   filters delivering to Lambda through the [`handlers::filters::SubscriptionTarget`] it sets,
//!   resource policies and destinations, the v2 delivery API's sources, destinations and
//!   deliveries);
//! - [`query`]: the Logs Insights subset StartQuery runs;
//! - [`filter`]: FilterLogEvents filter patterns (terms, phrases, `?`, `-`, `%regex%`, JSON and
//!   space-delimited patterns).
//!
//! Events past a group's retention period are hidden from reads rather than deleted.

pub mod filter;
pub mod generated;
pub mod handlers;
pub mod query;
pub mod state;

use generated::ops;
use handlers::{deliveries, events, exports, filters, groups, policies, queries, streams, tags};
use ruststack_core::store::Storage;
use ruststack_core::{Handlers, Service};
use state::LogsState;
use std::sync::Arc;

/// A handle on the Logs state for other services; clones share the state.
#[derive(Clone)]
pub struct LogsHandle {
    state: Arc<LogsState>,
}

impl LogsHandle {
    /// Appends `(timestamp in epoch milliseconds, message)` events to `group`/`stream` of
    /// `account` in `region`, creating the group and the stream when missing.
    pub fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: impl IntoIterator<Item = (i64, String)>,
    ) {
        // Callers have nobody to answer with an error: a failed write is logged and dropped.
        if let Err(e) = events::append(&self.state, account, region, group, stream, events) {
            tracing::error!("logs: lost events for {group}/{stream}: {}", e.message);
        }
    }
}

impl LogsHandle {
    /// Sets the S3 buckets export tasks write to.
    pub fn set_export_destination(&self, destination: Arc<dyn ruststack_core::buckets::Buckets>) {
        self.state.set_export_destination(destination);
    }

    /// Sets the Lambda functions subscription filters deliver to.
    pub fn set_subscription_target(&self, target: Arc<dyn filters::SubscriptionTarget>) {
        self.state.set_subscription_target(target);
    }
}

/// The CloudWatch Logs service with its handler table, keeping its state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with_handle(storage).0
}

/// The service and a [`LogsHandle`] on its state.
pub fn service_with_handle(storage: Storage) -> (Arc<dyn Service>, LogsHandle) {
    let state = Arc::new(LogsState::new(storage.kv.clone()));
    let service = Handlers::new(&generated::MODEL, state.clone())
        .on(ops::CreateLogGroup, groups::create_log_group)
        .on(ops::DeleteLogGroup, groups::delete_log_group)
        .on(ops::DescribeLogGroups, groups::describe_log_groups)
        .on(ops::PutRetentionPolicy, groups::put_retention_policy)
        .on(ops::DeleteRetentionPolicy, groups::delete_retention_policy)
        .on(ops::CreateLogStream, streams::create_log_stream)
        .on(ops::DeleteLogStream, streams::delete_log_stream)
        .on(ops::DescribeLogStreams, streams::describe_log_streams)
        .on(ops::PutLogEvents, events::put_log_events)
        .on(ops::GetLogEvents, events::get_log_events)
        .on(ops::FilterLogEvents, events::filter_log_events)
        .on(ops::TagLogGroup, tags::tag_log_group)
        .on(ops::UntagLogGroup, tags::untag_log_group)
        .on(ops::ListTagsLogGroup, tags::list_tags_log_group)
        .on(ops::TagResource, tags::tag_resource)
        .on(ops::UntagResource, tags::untag_resource)
        .on(ops::ListTagsForResource, tags::list_tags_for_resource)
        .on(ops::CreateExportTask, exports::create_export_task)
        .on(ops::DescribeExportTasks, exports::describe_export_tasks)
        .on(ops::CancelExportTask, exports::cancel_export_task)
        .on(ops::PutMetricFilter, filters::put_metric_filter)
        .on(ops::DeleteMetricFilter, filters::delete_metric_filter)
        .on(ops::DescribeMetricFilters, filters::describe_metric_filters)
        .on(ops::TestMetricFilter, filters::test_metric_filter)
        .on(ops::PutSubscriptionFilter, filters::put_subscription_filter)
        .on(ops::DeleteSubscriptionFilter, filters::delete_subscription_filter)
        .on(ops::DescribeSubscriptionFilters, filters::describe_subscription_filters)
        .on(ops::PutResourcePolicy, policies::put_resource_policy)
        .on(ops::DeleteResourcePolicy, policies::delete_resource_policy)
        .on(ops::DescribeResourcePolicies, policies::describe_resource_policies)
        .on(ops::PutDestination, policies::put_destination)
        .on(ops::PutDestinationPolicy, policies::put_destination_policy)
        .on(ops::DeleteDestination, policies::delete_destination)
        .on(ops::DescribeDestinations, policies::describe_destinations)
        .on(ops::PutDeliverySource, deliveries::put_delivery_source)
        .on(ops::GetDeliverySource, deliveries::get_delivery_source)
        .on(ops::DescribeDeliverySources, deliveries::describe_delivery_sources)
        .on(ops::DeleteDeliverySource, deliveries::delete_delivery_source)
        .on(ops::PutDeliveryDestination, deliveries::put_delivery_destination)
        .on(ops::GetDeliveryDestination, deliveries::get_delivery_destination)
        .on(ops::DescribeDeliveryDestinations, deliveries::describe_delivery_destinations)
        .on(ops::DeleteDeliveryDestination, deliveries::delete_delivery_destination)
        .on(ops::PutDeliveryDestinationPolicy, deliveries::put_delivery_destination_policy)
        .on(ops::GetDeliveryDestinationPolicy, deliveries::get_delivery_destination_policy)
        .on(ops::DeleteDeliveryDestinationPolicy, deliveries::delete_delivery_destination_policy)
        .on(ops::CreateDelivery, deliveries::create_delivery)
        .on(ops::GetDelivery, deliveries::get_delivery)
        .on(ops::DescribeDeliveries, deliveries::describe_deliveries)
        .on(ops::UpdateDeliveryConfiguration, deliveries::update_delivery_configuration)
        .on(ops::DeleteDelivery, deliveries::delete_delivery)
        .on(ops::StartQuery, queries::start_query)
        .on(ops::GetQueryResults, queries::get_query_results)
        .on(ops::StopQuery, queries::stop_query)
        .on(ops::DescribeQueries, queries::describe_queries)
        .into_service();
    (service, LogsHandle { state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruststack_core::RequestContext;

    #[tokio::test]
    async fn appended_events_are_readable_through_the_api() {
        let (_service, handle) = service_with_handle(Storage::memory());
        handle.append("000000000000", "us-east-1", "/aws/lambda/f", "s", [(2, "b".to_string()), (1, "a".to_string())]);
        let out = events::get_log_events(
            handle.state.clone(),
            RequestContext::for_tests("GetLogEvents"),
            generated::types::GetLogEventsRequest {
                log_group_name: Some("/aws/lambda/f".into()),
                log_stream_name: "s".into(),
                start_from_head: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let messages: Vec<_> = out.events.unwrap().into_iter().map(|e| e.message.unwrap()).collect();
        assert_eq!(messages, ["a", "b"]);
    }
}
