//! Amazon SQS for RustStack: awsJson 1.0 and the older awsQuery protocol over one state.
//!
//! - [`queue`]: one queue's messages, visibility, FIFO groups and deduplication;
//! - [`send`]: AWS's checks on what is sent; [`digest`]: the MD5 digests SQS reports;
//! - [`queues_api`], [`messages_api`], [`move_tasks`]: the operations;
//! - [`query_path`]: awsQuery requests POSTed to a queue URL's path;
//! - [`persist`]: queues and messages as kv records (write-through, loaded per account and
//!   region on first use; with `--data-dir` every acknowledged change is on disk);
//! - [`Queues`]: the handle other services (SNS, Lambda) use to send and receive.

pub mod attributes;
pub mod digest;
pub mod errors;
pub mod generated;
pub mod messages_api;
pub mod move_tasks;
pub mod persist;
pub mod query_path;
pub mod queue;
pub mod queues_api;
pub mod send;
pub mod state;

use generated::ops;
pub use generated::types::MessageAttributeValue;
use ruststack_core::store::Storage;
use ruststack_core::{AwsError, Handlers, Service};
pub use state::Sqs;
use std::collections::HashMap;
use std::sync::Arc;

/// A cloneable handle on SQS's state for other services: SNS delivers to queues through it, and
/// Lambda's event source mapping polls with [`Queues::receive`] and [`Queues::delete`].
/// `Queues::default()` keeps its state in memory; [`Queues::new`] in the given storage.
#[derive(Clone, Default)]
pub struct Queues(Arc<Sqs>);

/// A message received through [`Queues::receive`].
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    pub md5_of_body: String,
    pub attributes: HashMap<String, MessageAttributeValue>,
    pub md5_of_message_attributes: Option<String>,
    pub sent_timestamp_ms: i64,
    pub approximate_receive_count: u32,
    pub approximate_first_receive_timestamp_ms: i64,
    pub sender_id: String,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
    pub sequence_number: Option<String>,
}

impl Queues {
    /// A handle on queues kept in `storage` (write-through, loaded per account and region).
    pub fn new(storage: &Storage) -> Self {
        Queues(Arc::new(Sqs::new(storage.kv.clone())))
    }

    /// Sends to the queue of `queue_arn` as its owner would; returns the message id.
    pub fn send_message(
        &self,
        queue_arn: &str,
        body: String,
        attributes: HashMap<String, MessageAttributeValue>,
        group_id: Option<String>,
        dedup_id: Option<String>,
    ) -> Result<String, AwsError> {
        let q = self.0.by_arn(queue_arn).ok_or_else(errors::queue_does_not_exist)?;
        let out = send::Outgoing {
            body,
            delay_seconds: None,
            attributes,
            system_attributes: HashMap::new(),
            group_id,
            dedup_id,
            sender_id: q.account.to_string(),
            dlq_source_arn: None,
        };
        Ok(send::send(&q, out)?.message_id)
    }

    /// Receives up to `max` messages (waiting up to `wait_s` seconds), hiding them for the
    /// queue's visibility timeout or `visibility_s`.
    pub async fn receive(
        &self,
        queue_arn: &str,
        max: usize,
        visibility_s: Option<u32>,
        wait_s: u32,
    ) -> Result<Vec<ReceivedMessage>, AwsError> {
        let q = self.0.by_arn(queue_arn).ok_or_else(errors::queue_does_not_exist)?;
        let got =
            messages_api::receive(&self.0, &q, max.clamp(1, 10), visibility_s, Some(wait_s.min(20)), None).await?;
        Ok(got
            .into_iter()
            .map(|r| ReceivedMessage {
                message_id: r.payload.id.clone(),
                receipt_handle: r.receipt_handle,
                body: r.payload.body.clone(),
                md5_of_body: r.payload.md5_body.clone(),
                attributes: r.payload.attributes.clone(),
                md5_of_message_attributes: r.payload.md5_attributes.clone(),
                sent_timestamp_ms: r.payload.sent_ms,
                approximate_receive_count: r.receive_count,
                approximate_first_receive_timestamp_ms: r.first_receive_ms,
                sender_id: r.payload.sender_id.clone(),
                message_group_id: r.payload.group_id.clone(),
                message_deduplication_id: r.payload.dedup_id.clone(),
                sequence_number: r.payload.sequence.clone(),
            })
            .collect())
    }

    /// Deletes a received message.
    pub fn delete(&self, queue_arn: &str, receipt_handle: &str) -> Result<(), AwsError> {
        let q = self.0.by_arn(queue_arn).ok_or_else(errors::queue_does_not_exist)?;
        let mut inner = q.inner.lock();
        inner.delete(&q.arn, receipt_handle).map_err(|_| errors::receipt_handle_invalid(receipt_handle))?;
        q.commit(&mut inner)
    }

    /// Whether a queue exists.
    pub fn exists(&self, queue_arn: &str) -> bool {
        self.0.by_arn(queue_arn).is_some()
    }
}

/// The SQS service with its own state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with(Queues::new(&storage))
}

/// The SQS service over state shared with other services through `queues`.
pub fn service_with(queues: Queues) -> Arc<dyn Service> {
    use messages_api::*;
    use move_tasks::*;
    use queues_api::*;
    Handlers::new(&generated::MODEL, queues.0)
        .on(ops::AddPermission, add_permission)
        .on(ops::CancelMessageMoveTask, cancel_message_move_task)
        .on(ops::ChangeMessageVisibility, change_message_visibility)
        .on(ops::ChangeMessageVisibilityBatch, change_message_visibility_batch)
        .on(ops::CreateQueue, create_queue)
        .on(ops::DeleteMessage, delete_message)
        .on(ops::DeleteMessageBatch, delete_message_batch)
        .on(ops::DeleteQueue, delete_queue)
        .on(ops::GetQueueAttributes, get_queue_attributes)
        .on(ops::GetQueueUrl, get_queue_url)
        .on(ops::ListDeadLetterSourceQueues, list_dead_letter_source_queues)
        .on(ops::ListMessageMoveTasks, list_message_move_tasks)
        .on(ops::ListQueueTags, list_queue_tags)
        .on(ops::ListQueues, list_queues)
        .on(ops::PurgeQueue, purge_queue)
        .on(ops::ReceiveMessage, receive_message)
        .on(ops::RemovePermission, remove_permission)
        .on(ops::SendMessage, send_message)
        .on(ops::SendMessageBatch, send_message_batch)
        .on(ops::SetQueueAttributes, set_queue_attributes)
        .on(ops::StartMessageMoveTask, start_message_move_task)
        .on(ops::TagQueue, tag_queue)
        .on(ops::UntagQueue, untag_queue)
        .raw(|_, parts, body| query_path::raw(parts, body))
        .into_service()
}
