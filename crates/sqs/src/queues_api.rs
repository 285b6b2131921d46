//! Queue operations: create, look up, list, delete, purge, attributes, tags, permissions.

use crate::attributes::{self, QueueConfig};
use crate::errors::*;
use crate::generated::types::*;
use crate::queue::{Queue, now_ms};
use crate::state::{Sqs, queue_url};
use ruststack_core::{AwsError, RequestContext};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

fn valid_queue_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty() && name.len() <= 80 && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub async fn create_queue(s: Arc<Sqs>, ctx: RequestContext, input: CreateQueueRequest) -> R<CreateQueueResult> {
    let name = input.queue_name;
    if !valid_queue_name(&name) {
        return Err(invalid_parameter_value(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    let attrs: BTreeMap<String, String> = input.attributes.unwrap_or_default().into_iter().collect();
    let fifo_attr = attrs.get("FifoQueue").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let fifo_name = name.ends_with(".fifo");
    if fifo_attr != fifo_name {
        return Err(invalid_parameter_value(if fifo_attr {
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."
        } else {
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        }));
    }
    let mut config = QueueConfig::new(fifo_name);
    config.apply(&attrs, true)?;
    if let Some(r) = &config.redrive {
        check_dead_letter_target(&s, &ctx, r, fifo_name)?;
    }
    let tags = input.tags.unwrap_or_default();
    let q = Queue::with_store(name, ctx.account_id.clone(), ctx.region.clone(), config.clone(), s.kv.clone());
    q.inner.lock().tags = tags.into_iter().collect();
    let (q, created) = s.insert(q)?;
    if !created {
        // Creating an existing queue is idempotent only with the same attributes.
        let current = q.inner.lock().config.text.clone();
        let differing: Vec<&str> =
            config.text.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, _)| *k).collect();
        let removed = current.keys().any(|k| !config.text.contains_key(k));
        if !differing.is_empty() || removed {
            return Err(queue_name_exists(&differing.join(", ")));
        }
    }
    Ok(CreateQueueResult { queue_url: Some(queue_url(&ctx, &q)) })
}

fn check_dead_letter_target(s: &Sqs, ctx: &RequestContext, r: &attributes::Redrive, fifo: bool) -> R<()> {
    let Some(dlq) = s.by_arn(&r.dead_letter_target_arn) else {
        return Err(invalid_parameter_value(format!(
            "Value {{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":{}}} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
            r.dead_letter_target_arn, r.max_receive_count
        )));
    };
    let _ = ctx;
    if dlq.is_fifo() != fifo {
        return Err(invalid_parameter_value(format!(
            "Value {{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":{}}} for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source..",
            r.dead_letter_target_arn, r.max_receive_count
        )));
    }
    Ok(())
}

pub async fn get_queue_url(s: Arc<Sqs>, ctx: RequestContext, input: GetQueueUrlRequest) -> R<GetQueueUrlResult> {
    let account = input.queue_owner_aws_account_id.as_deref().unwrap_or(&ctx.account_id);
    let q = s.get(account, &ctx.region, &input.queue_name).ok_or_else(queue_does_not_exist)?;
    Ok(GetQueueUrlResult { queue_url: Some(queue_url(&ctx, &q)) })
}

pub async fn list_queues(s: Arc<Sqs>, ctx: RequestContext, input: ListQueuesRequest) -> R<ListQueuesResult> {
    if let Some(m) = input.max_results
        && !(1..=1000).contains(&m)
    {
        return Err(invalid_parameter_value(format!(
            "Value {m} for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000."
        )));
    }
    let after = match &input.next_token {
        Some(t) => Some(decode_token(t).ok_or_else(|| invalid_parameter_value("Invalid NextToken value."))?),
        None => None,
    };
    let prefix = input.queue_name_prefix.unwrap_or_default();
    let limit = input.max_results.unwrap_or(1000) as usize;
    let matching: Vec<Arc<Queue>> = s
        .list(&ctx.account_id, &ctx.region)
        .into_iter()
        .filter(|q| q.name.starts_with(&prefix) && after.as_ref().is_none_or(|a| q.name.as_str() > a.as_str()))
        .collect();
    let page: Vec<String> = matching.iter().take(limit).map(|q| queue_url(&ctx, q)).collect();
    let next_token =
        (input.max_results.is_some() && matching.len() > limit).then(|| encode_token(&matching[limit - 1].name));
    Ok(ListQueuesResult { queue_urls: (!page.is_empty()).then_some(page), next_token })
}

pub fn encode_token(name: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"after\":\"{name}\"}}"))
}

pub fn decode_token(token: &str) -> Option<String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    v.get("after")?.as_str().map(str::to_owned)
}

pub async fn delete_queue(s: Arc<Sqs>, ctx: RequestContext, input: DeleteQueueRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    s.remove(&q)
}

pub async fn purge_queue(s: Arc<Sqs>, ctx: RequestContext, input: PurgeQueueRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let now = now_ms();
    let mut inner = q.inner.lock();
    if inner.last_purge_ms.is_some_and(|t| now - t < 60_000) {
        return Err(purge_in_progress(&q.name));
    }
    inner.last_purge_ms = Some(now);
    inner.meta_dirty = true;
    inner.purge();
    q.commit(&mut inner)
}

pub async fn get_queue_attributes(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: GetQueueAttributesRequest,
) -> R<GetQueueAttributesResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let names = input.attribute_names.unwrap_or_default();
    for n in &names {
        if !attributes::is_known(n) {
            return Err(invalid_attribute_name(n));
        }
    }
    let all = names.iter().any(|n| n == "All");
    let wanted = |n: &str| all || names.iter().any(|w| w == n);
    let mut out = HashMap::new();
    let now = now_ms();
    let mut inner = q.inner.lock();
    let counts = inner.counts(now);
    // Counting drops expired messages, from the store too.
    q.commit(&mut inner)?;
    for (k, v) in &inner.config.text {
        if wanted(k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    let computed = [
        ("QueueArn", q.arn.clone()),
        ("ApproximateNumberOfMessages", counts.visible.to_string()),
        ("ApproximateNumberOfMessagesNotVisible", counts.not_visible.to_string()),
        ("ApproximateNumberOfMessagesDelayed", counts.delayed.to_string()),
        ("CreatedTimestamp", q.created_s.to_string()),
        ("LastModifiedTimestamp", inner.modified_s.to_string()),
    ];
    for (k, v) in computed {
        if wanted(k) {
            out.insert(k.to_owned(), v);
        }
    }
    if wanted("Policy") && !inner.permissions.is_empty() && !inner.config.text.contains_key("Policy") {
        out.insert("Policy".into(), permissions_policy(&q, &inner.permissions));
    }
    Ok(GetQueueAttributesResult { attributes: (!out.is_empty()).then_some(out) })
}

pub async fn set_queue_attributes(s: Arc<Sqs>, ctx: RequestContext, input: SetQueueAttributesRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let attrs: BTreeMap<String, String> = input.attributes.into_iter().collect();
    let mut config = q.inner.lock().config.clone();
    config.apply(&attrs, false)?;
    if let Some(r) = &config.redrive
        && attrs.contains_key("RedrivePolicy")
    {
        check_dead_letter_target(&s, &ctx, r, q.is_fifo())?;
    }
    let mut inner = q.inner.lock();
    inner.config = config;
    inner.modified_s = now_ms() / 1000;
    inner.meta_dirty = true;
    q.commit(&mut inner)?;
    drop(inner);
    // A shorter wait or delay may make messages receivable sooner.
    q.notify.notify_waiters();
    Ok(())
}

pub async fn tag_queue(s: Arc<Sqs>, ctx: RequestContext, input: TagQueueRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let mut inner = q.inner.lock();
    if inner.tags.len() + input.tags.keys().filter(|k| !inner.tags.contains_key(*k)).count() > 50 {
        return Err(invalid_parameter_value("Too many tags added for queue."));
    }
    inner.tags.extend(input.tags);
    inner.meta_dirty = true;
    q.commit(&mut inner)
}

pub async fn untag_queue(s: Arc<Sqs>, ctx: RequestContext, input: UntagQueueRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let mut inner = q.inner.lock();
    for k in &input.tag_keys {
        inner.tags.remove(k);
    }
    inner.meta_dirty = true;
    q.commit(&mut inner)
}

pub async fn list_queue_tags(s: Arc<Sqs>, ctx: RequestContext, input: ListQueueTagsRequest) -> R<ListQueueTagsResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let tags: HashMap<String, String> = q.inner.lock().tags.clone().into_iter().collect();
    Ok(ListQueueTagsResult { tags: (!tags.is_empty()).then_some(tags) })
}

pub async fn add_permission(s: Arc<Sqs>, ctx: RequestContext, input: AddPermissionRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    if input.aws_account_ids.is_empty() {
        return Err(missing_parameter("AWSAccountIds"));
    }
    if input.actions.is_empty() {
        return Err(missing_parameter("Actions"));
    }
    let mut inner = q.inner.lock();
    if inner.permissions.contains_key(&input.label) {
        return Err(invalid_parameter_value(format!(
            "Value {} for parameter Label is invalid. Reason: Already exists.",
            input.label
        )));
    }
    inner.permissions.insert(input.label, (input.aws_account_ids, input.actions));
    inner.meta_dirty = true;
    q.commit(&mut inner)
}

pub async fn remove_permission(s: Arc<Sqs>, ctx: RequestContext, input: RemovePermissionRequest) -> R<()> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let mut inner = q.inner.lock();
    if inner.permissions.remove(&input.label).is_none() {
        return Err(invalid_parameter_value(format!(
            "Value {} for parameter Label is invalid. Reason: can't find label on existing policy.",
            input.label
        )));
    }
    inner.meta_dirty = true;
    q.commit(&mut inner)
}

/// The queue policy AddPermission labels amount to.
fn permissions_policy(q: &Queue, permissions: &BTreeMap<String, (Vec<String>, Vec<String>)>) -> String {
    let statements: Vec<serde_json::Value> = permissions
        .iter()
        .map(|(label, (accounts, actions))| {
            let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
            let actions: Vec<String> = actions.iter().map(|a| format!("SQS:{a}")).collect();
            serde_json::json!({
                "Sid": label,
                "Effect": "Allow",
                "Principal": {"AWS": if principals.len() == 1 { serde_json::json!(principals[0]) } else { serde_json::json!(principals) }},
                "Action": if actions.len() == 1 { serde_json::json!(actions[0]) } else { serde_json::json!(actions) },
                "Resource": q.arn,
            })
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Id": format!("{}/SQSDefaultPolicy", q.arn), "Statement": statements})
        .to_string()
}

pub async fn list_dead_letter_source_queues(
    s: Arc<Sqs>,
    ctx: RequestContext,
    input: ListDeadLetterSourceQueuesRequest,
) -> R<ListDeadLetterSourceQueuesResult> {
    let q = s.resolve(&ctx, &input.queue_url)?;
    let after = input.next_token.as_deref().and_then(decode_token);
    let limit = input.max_results.unwrap_or(1000).clamp(1, 1000) as usize;
    let sources: Vec<Arc<Queue>> = s
        .list(&q.account, &q.region)
        .into_iter()
        .filter(|src| {
            src.inner.lock().config.redrive.as_ref().is_some_and(|r| r.dead_letter_target_arn == q.arn)
                && after.as_ref().is_none_or(|a| src.name.as_str() > a.as_str())
        })
        .collect();
    let queue_urls = sources.iter().take(limit).map(|src| queue_url(&ctx, src)).collect();
    let next_token =
        (input.max_results.is_some() && sources.len() > limit).then(|| encode_token(&sources[limit - 1].name));
    Ok(ListDeadLetterSourceQueuesResult { queue_urls, next_token })
}
