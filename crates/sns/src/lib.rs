//! Amazon SNS for RustStack (awsQuery): topics, subscriptions, filter policies and delivery to
//! SQS (through [`ruststack_sqs::Queues`]), HTTP endpoints and, once wired, Lambda; mobile push
//! platform applications and endpoints ([`platform`]).

pub mod api;
pub mod delivery;
pub mod filter;
pub mod generated;
pub mod platform;
pub mod policy;
pub mod sms;
pub mod state;

pub use delivery::LambdaInvoker;
use generated::ops;
use ruststack_core::body::Body;
use ruststack_core::service::Raw;
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
    use platform::*;
    use policy::*;
    use sms::*;
    Handlers::new(&generated::MODEL, state)
        .on(ops::AddPermission, add_permission)
        .on(ops::RemovePermission, remove_permission)
        .on(ops::GetDataProtectionPolicy, get_data_protection_policy)
        .on(ops::PutDataProtectionPolicy, put_data_protection_policy)
        .on(ops::SetSMSAttributes, set_sms_attributes)
        .on(ops::GetSMSAttributes, get_sms_attributes)
        .on(ops::CheckIfPhoneNumberIsOptedOut, check_if_phone_number_is_opted_out)
        .on(ops::ListPhoneNumbersOptedOut, list_phone_numbers_opted_out)
        .on(ops::OptInPhoneNumber, opt_in_phone_number)
        .on(ops::ConfirmSubscription, confirm_subscription)
        .on(ops::CreatePlatformApplication, create_platform_application)
        .on(ops::CreatePlatformEndpoint, create_platform_endpoint)
        .on(ops::DeleteEndpoint, delete_endpoint)
        .on(ops::DeletePlatformApplication, delete_platform_application)
        .on(ops::GetEndpointAttributes, get_endpoint_attributes)
        .on(ops::GetPlatformApplicationAttributes, get_platform_application_attributes)
        .on(ops::ListEndpointsByPlatformApplication, list_endpoints_by_platform_application)
        .on(ops::ListPlatformApplications, list_platform_applications)
        .on(ops::SetEndpointAttributes, set_endpoint_attributes)
        .on(ops::SetPlatformApplicationAttributes, set_platform_application_attributes)
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
        .raw(inspection)
        .into_service()
}

/// LocalStack's inspection endpoints: what was "sent" to phone numbers and platform endpoints
/// (`GET /_aws/sns/sms-messages`, `GET /_aws/sns/platform-endpoint-messages`; DELETE clears).
fn inspection(state: &Arc<Sns>, parts: &http::request::Parts, body: Body) -> Raw {
    let path = parts.uri.path();
    let platform = match path {
        "/_aws/sns/sms-messages" => false,
        "/_aws/sns/platform-endpoint-messages" => true,
        _ => return Raw::NotMine(body),
    };
    let is_platform =
        |m: &serde_json::Value| m.get("PhoneNumber").and_then(|p| p.as_str()).is_some_and(|p| p.starts_with("arn:"));
    let status = if parts.method == http::Method::DELETE {
        state.sms.write().retain(|m| is_platform(m) != platform);
        http::StatusCode::NO_CONTENT
    } else {
        http::StatusCode::OK
    };
    let mut by_target = serde_json::Map::new();
    for message in state.sms.read().iter().filter(|m| is_platform(m) == platform) {
        let target = message.get("PhoneNumber").and_then(|p| p.as_str()).unwrap_or_default().to_owned();
        if let serde_json::Value::Array(list) =
            by_target.entry(target).or_insert_with(|| serde_json::Value::Array(Vec::new()))
        {
            list.push(message.clone());
        }
    }
    let key = if platform { "platform_endpoint_messages" } else { "sms_messages" };
    let doc = serde_json::json!({ key: by_target });
    let mut response = http::Response::new(if status == http::StatusCode::OK {
        ruststack_core::body::full(serde_json::to_vec(&doc).unwrap_or_default())
    } else {
        ruststack_core::body::empty()
    });
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    Raw::Answer(Box::pin(async move { response }))
}
