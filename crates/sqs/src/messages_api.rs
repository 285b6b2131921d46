//! Message operations: send, receive (with long polling), delete and visibility, single and batched.

use crate::errors::*;
use crate::generated::types::*;
use crate::queue::{HandleError, Payload, Queue, Received, handle_is_well_formed, now_ms};
use crate::send::{Outgoing, SendOutcome, send, send_all};
use crate::state::Sqs;
use ruststack_core::{AwsError, RequestContext};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

type R<T> = Result<T, AwsError>;

/// Largest total payload of a SendMessageBatch.
const MAX_BATCH_BYTES: usize = crate::attributes::MAX_MESSAGE_SIZE as usize;

pub async fn send_message(s: Arc<Sqs>, ctx: RequestContext, input: SendMessageRequest) -> R<SendMessageResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let o = send(
        &q,
        Outgoing {
            body: input.message_body,
            delay_seconds: input.delay_seconds,
            attributes: input.message_attributes.unwrap_or_default(),
            system_attributes: input.message_system_attributes.unwrap_or_default(),
            group_id: input.message_group_id,
            dedup_id: input.message_deduplication_id,
            sender_id: ctx.account_id.to_string(),
            dlq_source_arn: None,
        },
    )?;
    Ok(SendMessageResult {
        md5_of_message_body: Some(o.md5_body),
        md5_of_message_attributes: o.md5_attributes,
        md5_of_message_system_attributes: o.md5_system_attributes,
        message_id: Some(o.message_id),
        sequence_number: o.sequence,
    })
}

/// AWS's checks common to every batch: 1 to 10 entries with distinct, well-formed ids.
fn check_batch<'a>(ids: impl ExactSizeIterator<Item = &'a str>, entry: &str) -> R<()> {
    let n = ids.len();
    if n == 0 {
        return Err(empty_batch(entry));
    }
    if n > 10 {
        return Err(too_many_entries(n));
    }
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty() || id.len() > 80 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(invalid_batch_id());
        }
        if !seen.insert(id) {
            return Err(ids_not_distinct(id));
        }
    }
    Ok(())
}

fn failure(id: String, e: &AwsError) -> BatchResultErrorEntry {
    BatchResultErrorEntry {
        id,
        sender_fault: e.sender_fault,
        code: e.code.to_string(),
        message: Some(e.message.clone()),
    }
}

pub async fn send_message_batch(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: SendMessageBatchRequest,
) -> R<SendMessageBatchResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    check_batch(input.entries.iter().map(|e| e.id.as_str()), "SendMessageBatchRequestEntry")?;
    let total: usize = input
        .entries
        .iter()
        .map(|e| {
            e.message_body.len()
                + e.message_attributes.as_ref().map_or(0, |m| {
                    m.iter()
                        .map(|(k, v)| {
                            k.len()
                                + v.data_type.len()
                                + v.string_value.as_ref().map_or(0, String::len)
                                + v.binary_value.as_ref().map_or(0, |b| b.0.len())
                        })
                        .sum()
                })
        })
        .sum();
    if total > MAX_BATCH_BYTES {
        return Err(batch_too_long(total, MAX_BATCH_BYTES));
    }
    let mut out = SendMessageBatchResult::default();
    let (ids, outgoing): (Vec<String>, Vec<Outgoing>) = input
        .entries
        .into_iter()
        .map(|e| {
            let o = Outgoing {
                body: e.message_body,
                delay_seconds: e.delay_seconds,
                attributes: e.message_attributes.unwrap_or_default(),
                system_attributes: e.message_system_attributes.unwrap_or_default(),
                group_id: e.message_group_id,
                dedup_id: e.message_deduplication_id,
                sender_id: ctx.account_id.to_string(),
                dlq_source_arn: None,
            };
            (e.id, o)
        })
        .unzip();
    for (id, sent) in ids.into_iter().zip(send_all(&q, outgoing)?) {
        match sent {
            Ok(SendOutcome { message_id, md5_body, md5_attributes, md5_system_attributes, sequence }) => {
                out.successful.push(SendMessageBatchResultEntry {
                    id,
                    message_id,
                    md5_of_message_body: md5_body,
                    md5_of_message_attributes: md5_attributes,
                    md5_of_message_system_attributes: md5_system_attributes,
                    sequence_number: sequence,
                })
            }
            Err(err) => out.failed.push(failure(id, &err)),
        }
    }
    Ok(out)
}

/// Which system and user attributes a receive asked for.
struct Wanted {
    system: Vec<String>,
    user: Vec<String>,
}

fn wants_system(w: &Wanted, name: &str) -> bool {
    w.system.iter().any(|n| n == "All" || n == name)
}

fn wants_user(w: &Wanted, name: &str) -> bool {
    w.user.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*").is_some_and(|p| name.starts_with(p) && name[p.len()..].starts_with('.'))
    })
}

fn to_message(r: Received, w: &Wanted) -> Message {
    let p = &r.payload;
    let mut system = HashMap::new();
    let mut put = |name: &str, value: Option<String>| {
        if let Some(v) = value
            && wants_system(w, name)
        {
            system.insert(name.to_owned(), v);
        }
    };
    put("SenderId", Some(p.sender_id.clone()));
    put("SentTimestamp", Some(p.sent_ms.to_string()));
    put("ApproximateReceiveCount", Some(r.receive_count.to_string()));
    put("ApproximateFirstReceiveTimestamp", Some(r.first_receive_ms.to_string()));
    put("SequenceNumber", p.sequence.clone());
    put("MessageDeduplicationId", p.dedup_id.clone());
    put("MessageGroupId", p.group_id.clone());
    put("AWSTraceHeader", p.trace_header.clone());
    put("DeadLetterQueueSourceArn", p.dlq_source_arn.clone());
    let user: HashMap<String, MessageAttributeValue> =
        p.attributes.iter().filter(|(k, _)| wants_user(w, k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let md5_user = if user.len() == p.attributes.len() {
        p.md5_attributes.clone()
    } else {
        crate::digest::md5_of_attributes(&user)
    };
    Message {
        message_id: Some(p.id.clone()),
        receipt_handle: Some(r.receipt_handle),
        md5_of_body: Some(p.md5_body.clone()),
        body: Some(p.body.clone()),
        attributes: (!system.is_empty()).then_some(system),
        md5_of_message_attributes: if user.is_empty() { None } else { md5_user },
        message_attributes: (!user.is_empty()).then_some(user),
    }
}

/// Moves messages that exceeded their queue's maxReceiveCount to its dead-letter queue.
fn dead_letter(dlq: Option<&Arc<Queue>>, source_arn: &str, dead: Vec<Arc<Payload>>) -> R<()> {
    let Some(dlq) = dlq else { return Ok(()) };
    if dead.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut inner = dlq.inner.lock();
    for p in dead {
        let mut moved = Payload::clone(&p);
        moved.dlq_source_arn = Some(source_arn.to_owned());
        inner.push(moved, 0, None, now);
    }
    dlq.commit(&mut inner)?;
    drop(inner);
    dlq.notify.notify_waiters();
    Ok(())
}

/// Receives from a queue, waiting up to `wait_s` for a message to arrive. Shared with
/// [`crate::Queues::receive`] (Lambda's event source mapping).
pub async fn receive(
    s: &Sqs,
    q: &Arc<Queue>,
    max: usize,
    visibility: Option<u32>,
    wait_s: Option<u32>,
    attempt_id: Option<&str>,
) -> R<Vec<Received>> {
    let (wait_default, redrive) = {
        let inner = q.inner.lock();
        (inner.config.wait, inner.config.redrive.clone())
    };
    let dlq = redrive.as_ref().and_then(|r| s.by_arn(&r.dead_letter_target_arn));
    let max_receives = dlq.as_ref().and(redrive.as_ref()).map(|r| r.max_receive_count);
    let deadline = now_ms() + wait_s.unwrap_or(wait_default) as i64 * 1000;
    loop {
        // Registered before looking, so a send between the look and the wait is not missed.
        let notified = q.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = now_ms();
        let mut dead = Vec::new();
        let (got, next_visible) = {
            let mut inner = q.inner.lock();
            let vis = visibility.unwrap_or(inner.config.visibility_timeout);
            let got = inner.receive(&q.arn, max, vis, max_receives, attempt_id, now, &mut dead);
            // A receive changes receive counts and visibility: stored before it answers.
            q.commit(&mut inner)?;
            (got, inner.next_visible_ms())
        };
        // Dead letters leave the source in the write above and reach the dead-letter queue
        // in a write of their own.
        dead_letter(dlq.as_ref(), &q.arn, dead)?;
        if !got.is_empty() || now >= deadline || q.is_deleted() {
            return Ok(got);
        }
        let wake = next_visible.map_or(deadline, |t| t.min(deadline));
        let sleep = tokio::time::sleep(Duration::from_millis((wake - now).max(1) as u64));
        tokio::select! {
            _ = notified => {}
            _ = sleep => {}
        }
    }
}

pub async fn receive_message(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: ReceiveMessageRequest,
) -> R<ReceiveMessageResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let max = input.max_number_of_messages.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(invalid_parameter_value(format!(
            "Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."
        )));
    }
    if let Some(w) = input.wait_time_seconds
        && !(0..=20).contains(&w)
    {
        return Err(invalid_parameter_value(format!(
            "Value {w} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided."
        )));
    }
    if let Some(v) = input.visibility_timeout
        && !(0..=43_200).contains(&v)
    {
        return Err(invalid_parameter_value(format!(
            "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and <= 43200, if provided."
        )));
    }
    let mut system = input.attribute_names.unwrap_or_default();
    system.extend(input.message_system_attribute_names.unwrap_or_default());
    let wanted = Wanted { system, user: input.message_attribute_names.unwrap_or_default() };
    let got = receive(
        &s,
        &q,
        max as usize,
        input.visibility_timeout.map(|v| v as u32),
        input.wait_time_seconds.map(|w| w as u32),
        input.receive_request_attempt_id.as_deref().filter(|_| q.is_fifo()),
    )
    .await?;
    if got.is_empty() {
        return Ok(ReceiveMessageResult { messages: None });
    }
    Ok(ReceiveMessageResult { messages: Some(got.into_iter().map(|r| to_message(r, &wanted)).collect()) })
}

fn handle_error(e: HandleError, handle: &str) -> AwsError {
    match e {
        HandleError::Invalid => receipt_handle_invalid(handle),
        HandleError::NotInFlight => message_not_inflight(),
    }
}

pub async fn delete_message(s: Arc<Sqs>, ctx: RequestContext, input: DeleteMessageRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let mut inner = q.inner.lock();
    inner.delete(&q.arn, &input.receipt_handle).map_err(|e| handle_error(e, &input.receipt_handle))?;
    q.commit(&mut inner)
}

pub async fn delete_message_batch(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: DeleteMessageBatchRequest,
) -> R<DeleteMessageBatchResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    check_batch(input.entries.iter().map(|e| e.id.as_str()), "DeleteMessageBatchRequestEntry")?;
    let mut out = DeleteMessageBatchResult::default();
    let mut inner = q.inner.lock();
    for e in input.entries {
        match inner.delete(&q.arn, &e.receipt_handle) {
            Ok(()) => out.successful.push(DeleteMessageBatchResultEntry { id: e.id }),
            Err(err) => out.failed.push(failure(e.id, &handle_error(err, &e.receipt_handle))),
        }
    }
    q.commit(&mut inner)?;
    Ok(out)
}

fn check_visibility(v: i32) -> R<u32> {
    if !(0..=43_200).contains(&v) {
        return Err(invalid_parameter_value(format!(
            "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided."
        )));
    }
    Ok(v as u32)
}

pub async fn change_message_visibility(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: ChangeMessageVisibilityRequest,
) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let timeout = check_visibility(input.visibility_timeout)?;
    if !handle_is_well_formed(&input.receipt_handle) {
        return Err(receipt_handle_invalid(&input.receipt_handle));
    }
    {
        let mut inner = q.inner.lock();
        let result = inner.change_visibility(&q.arn, &input.receipt_handle, timeout, now_ms());
        result.map_err(|e| handle_error(e, &input.receipt_handle))?;
        q.commit(&mut inner)?;
    }
    q.notify.notify_waiters();
    Ok(())
}

pub async fn change_message_visibility_batch(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: ChangeMessageVisibilityBatchRequest,
) -> R<ChangeMessageVisibilityBatchResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    check_batch(input.entries.iter().map(|e| e.id.as_str()), "ChangeMessageVisibilityBatchRequestEntry")?;
    let mut out = ChangeMessageVisibilityBatchResult::default();
    let now = now_ms();
    {
        let mut inner = q.inner.lock();
        for e in input.entries {
            let result = check_visibility(e.visibility_timeout.unwrap_or(0)).and_then(|t| {
                inner
                    .change_visibility(&q.arn, &e.receipt_handle, t, now)
                    .map_err(|err| handle_error(err, &e.receipt_handle))
            });
            match result {
                Ok(()) => out.successful.push(ChangeMessageVisibilityBatchResultEntry { id: e.id }),
                Err(err) => out.failed.push(failure(e.id, &err)),
            }
        }
        q.commit(&mut inner)?;
    }
    q.notify.notify_waiters();
    Ok(out)
}
