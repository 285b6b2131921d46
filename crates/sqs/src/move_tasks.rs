//! Dead-letter queue redrive (StartMessageMoveTask and friends). Moves run to completion at
//! once: a local queue holds few messages, and the task is then listed as COMPLETED.

use crate::errors::*;
use crate::generated::types::*;
use crate::queue::{Payload, now_ms};
use crate::send::new_message_id;
use crate::state::{MoveTask, Sqs};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

pub async fn start_message_move_task(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: StartMessageMoveTaskRequest,
) -> R<StartMessageMoveTaskResult> {
    let _ = ctx;
    let source = s.by_arn(&input.source_arn).ok_or_else(|| {
        resource_not_found("The resource that you specified for the SourceArn parameter doesn't exist.")
    })?;
    let is_dlq = s
        .list(&source.account, &source.region)
        .iter()
        .any(|q| q.inner.lock().config.redrive.as_ref().is_some_and(|r| r.dead_letter_target_arn == source.arn));
    if !is_dlq {
        return Err(invalid_parameter_value("Source queue must be configured as a Dead Letter Queue."));
    }
    if let Some(rate) = input.max_number_of_messages_per_second
        && !(1..=500).contains(&rate)
    {
        return Err(invalid_parameter_value(
            "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that's between 1 and 500.",
        ));
    }
    let destination = match &input.destination_arn {
        Some(arn) => Some(s.by_arn(arn).ok_or_else(|| {
            resource_not_found("The resource that you specified for the DestinationArn parameter doesn't exist.")
        })?),
        None => None,
    };
    let now = now_ms();
    let moved: Vec<Arc<Payload>> = {
        let mut inner = source.inner.lock();
        let n = inner.len();
        inner.take_visible(n, now)
    };
    let count = moved.len() as i64;
    // The moved messages are stored in their targets before they leave the source's records,
    // so a crash in between duplicates rather than loses them.
    for p in moved {
        // Without a destination each message goes back to the queue it was dead-lettered from.
        let target = destination.clone().or_else(|| p.dlq_source_arn.as_deref().and_then(|a| s.by_arn(a)));
        let Some(target) = target else { continue };
        let mut copy = Payload::clone(&p);
        copy.dlq_source_arn = None;
        let mut inner = target.inner.lock();
        inner.push(copy, 0, None, now);
        target.commit(&mut inner)?;
        drop(inner);
        target.notify.notify_waiters();
    }
    source.commit(&mut source.inner.lock())?;
    let handle = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", source.arn, new_message_id()))
    };
    s.tasks.lock().push(MoveTask {
        handle: handle.clone(),
        source_arn: source.arn.clone(),
        destination_arn: input.destination_arn,
        rate: input.max_number_of_messages_per_second,
        status: "COMPLETED",
        moved: count,
        to_move: count,
        started_ms: now,
    });
    Ok(StartMessageMoveTaskResult { task_handle: Some(handle) })
}

pub async fn list_message_move_tasks(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: ListMessageMoveTasksRequest,
) -> R<ListMessageMoveTasksResult> {
    let _ = ctx;
    if s.by_arn(&input.source_arn).is_none() {
        return Err(resource_not_found("The resource that you specified for the SourceArn parameter doesn't exist."));
    }
    let max = input.max_results.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(invalid_parameter_value(format!(
            "Value {max} for parameter MaxResults is invalid. Reason: You must enter a number that's between 1 and 10."
        )));
    }
    let tasks = s.tasks.lock();
    let results = tasks
        .iter()
        .rev()
        .filter(|t| t.source_arn == input.source_arn)
        .take(max as usize)
        .map(|t| ListMessageMoveTasksResultEntry {
            task_handle: (t.status == "RUNNING").then(|| t.handle.clone()),
            status: Some(t.status.to_owned()),
            source_arn: Some(t.source_arn.clone()),
            destination_arn: t.destination_arn.clone(),
            max_number_of_messages_per_second: t.rate,
            approximate_number_of_messages_moved: Some(t.moved),
            approximate_number_of_messages_to_move: Some(t.to_move),
            failure_reason: None,
            started_timestamp: Some(t.started_ms),
        })
        .collect();
    Ok(ListMessageMoveTasksResult { results: Some(results) })
}

pub async fn cancel_message_move_task(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: CancelMessageMoveTaskRequest,
) -> R<CancelMessageMoveTaskResult> {
    let _ = ctx;
    let mut tasks = s.tasks.lock();
    match tasks.iter_mut().find(|t| t.handle == input.task_handle && t.status == "RUNNING") {
        Some(t) => {
            t.status = "CANCELLING";
            Ok(CancelMessageMoveTaskResult { approximate_number_of_messages_moved: Some(t.moved) })
        }
        None => Err(resource_not_found("Task does not exist.")),
    }
}
