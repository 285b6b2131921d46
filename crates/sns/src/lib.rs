//! Amazon SNS for RustStack (awsQuery): topics, subscriptions, filter policies and delivery to
//! SQS (through [`ruststack_sqs::Queues`]), HTTP endpoints and, once wired, Lambda.

pub mod api;
pub mod delivery;
pub mod filter;
pub mod generated;
pub mod state;

pub use delivery::LambdaInvoker;
use generated::ops;
use ruststack_core::store::Storage;
use ruststack_core::{Handlers, Service};
pub use state::Sns;
use std::sync::Arc;

/// The SNS service, delivering to the SQS queues behind `queues`, keeping topics and
/// subscriptions in `storage`.
pub fn service(queues: ruststack_sqs::Queues, storage: Storage) -> Arc<dyn Service> {
    service_with_state(Arc::new(Sns::with_store(queues, storage.kv)))
}

/// The SNS service over a state the caller keeps (to set a [`LambdaInvoker`] later).
pub fn service_with_state(state: Arc<Sns>) -> Arc<dyn Service> {
    use api::*;
    Handlers::new(&generated::MODEL, state)
        .on(ops::ConfirmSubscription, confirm_subscription)
        .on(ops::CreateTopic, create_topic)
        .on(ops::DeleteTopic, delete_topic)
        .on(ops::GetSubscriptionAttributes, get_subscription_attributes)
        .on(ops::GetTopicAttributes, get_topic_attributes)
        .on(ops::ListSubscriptions, list_subscriptions)
        .on(ops::ListSubscriptionsByTopic, list_subscriptions_by_topic)
        .on(ops::ListTagsForResource, list_tags_for_resource)
        .on(ops::ListTopics, list_topics)
        .on(ops::Publish, publish)
        .on(ops::PublishBatch, publish_batch)
        .on(ops::SetSubscriptionAttributes, set_subscription_attributes)
        .on(ops::SetTopicAttributes, set_topic_attributes)
        .on(ops::Subscribe, subscribe)
        .on(ops::TagResource, tag_resource)
        .on(ops::Unsubscribe, unsubscribe)
        .on(ops::UntagResource, untag_resource)
        .into_service()
}
