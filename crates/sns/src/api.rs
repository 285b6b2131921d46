//! SNS operations: topics, subscriptions, publishing and tags.

use crate::delivery::{self, Published};
use crate::filter;
use crate::generated::types::*;
use crate::state::{Sns, Subscription, Topic};
use ruststack_core::{AwsError, RequestContext};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

pub(crate) const PAGE: usize = 100;
const MAX_MESSAGE_BYTES: usize = 262_144;

pub fn invalid(what: impl std::fmt::Display) -> AwsError {
    AwsError::bad_request("InvalidParameter", format!("Invalid parameter: {what}"))
}

pub(crate) fn not_found(what: &str) -> AwsError {
    AwsError::not_found("NotFound", format!("{what} does not exist"))
}

pub(crate) fn new_id() -> String {
    let (a, b) = (fastrand::u64(..), fastrand::u64(..));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    now.format(&fmt).unwrap_or_default()
}

fn now_ms() -> i64 {
    ruststack_core::Timestamp::now().millis
}

/// Topic ARNs name their region and account; the caller's must match.
fn topic_arn_valid(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "sns"
}

pub(crate) fn page_token(after: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(after)
}

pub(crate) fn after_token(token: &Option<String>) -> R<Option<String>> {
    use base64::Engine;
    match token {
        None => Ok(None),
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| invalid("NextToken")),
    }
}

pub(crate) fn default_policy(arn: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    })
    .to_string()
}

const TOPIC_SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "FifoTopic",
    "ArchivePolicy",
    "DataProtectionPolicy",
    "FifoThroughputScope",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "SQSSuccessFeedbackRoleArn",
    "SQSFailureFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
];

pub async fn create_topic(s: Arc<Sns>, ctx: RequestContext, input: CreateTopicInput) -> R<CreateTopicResponse> {
    let name = input.name;
    let attrs: BTreeMap<String, String> = input.attributes.unwrap_or_default().into_iter().collect();
    let fifo_attr = attrs.get("FifoTopic").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let base = name.strip_suffix(".fifo").unwrap_or(&name);
    let name_ok = !base.is_empty()
        && name.len() <= 256
        && base.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && (fifo_attr == name.ends_with(".fifo"));
    if !name_ok {
        return Err(if fifo_attr || name.ends_with(".fifo") {
            invalid(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
            )
        } else {
            invalid("Topic Name")
        });
    }
    for k in attrs.keys() {
        if !TOPIC_SETTABLE.contains(&k.as_str()) {
            return Err(invalid(format!("Attributes Reason: Unknown attribute {k}")));
        }
    }
    let arn = ctx.arn("sns", &name);
    s.ensure(&ctx, None);
    let mut inner = s.inner.write();
    if let Some(existing) = inner.topics.get(&arn) {
        let differs = attrs.iter().any(|(k, v)| existing.attributes.get(k) != Some(v));
        if differs {
            return Err(invalid("Attributes Reason: Topic already exists with different attributes"));
        }
        return Ok(CreateTopicResponse { topic_arn: Some(arn) });
    }
    let mut attributes = attrs.clone();
    if fifo_attr {
        attributes.insert("FifoTopic".into(), "true".into());
        attributes.entry("ContentBasedDeduplication".into()).or_insert_with(|| "false".into());
    }
    let content_dedup = attributes.get("ContentBasedDeduplication").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let tags = input.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect();
    inner.topics.insert(
        arn.clone(),
        Topic {
            arn: arn.clone(),
            name,
            account: ctx.account_id.to_string(),
            attributes,
            tags,
            fifo: fifo_attr,
            content_dedup,
        },
    );
    s.save(&inner, &[&arn], &[])?;
    Ok(CreateTopicResponse { topic_arn: Some(arn) })
}

pub async fn delete_topic(s: Arc<Sns>, ctx: RequestContext, input: DeleteTopicInput) -> R<()> {
    if !topic_arn_valid(&input.topic_arn) {
        return Err(invalid("TopicArn"));
    }
    s.ensure(&ctx, Some(&input.topic_arn));
    let mut inner = s.inner.write();
    inner.topics.remove(&input.topic_arn);
    let mut removed = Vec::new();
    inner.subscriptions.retain(|arn, sub| {
        let keep = sub.topic_arn != input.topic_arn;
        if !keep {
            removed.push(arn.clone());
        }
        keep
    });
    let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
    s.save(&inner, &[&input.topic_arn], &removed)
}

pub async fn list_topics(s: Arc<Sns>, ctx: RequestContext, input: ListTopicsInput) -> R<ListTopicsResponse> {
    let after = after_token(&input.next_token)?;
    let prefix = format!("arn:aws:sns:{}:{}:", ctx.region, ctx.account_id);
    s.ensure(&ctx, None);
    let inner = s.inner.read();
    let arns: Vec<&String> = inner
        .topics
        .keys()
        .filter(|a| a.starts_with(&prefix) && after.as_ref().is_none_or(|x| a.as_str() > x.as_str()))
        .take(PAGE + 1)
        .collect();
    let next_token = (arns.len() > PAGE).then(|| page_token(arns[PAGE - 1]));
    let topics = arns.into_iter().take(PAGE).map(|a| Topic_ { topic_arn: Some(a.clone()) }).collect();
    Ok(ListTopicsResponse { topics: Some(topics), next_token })
}

use crate::generated::types::Topic as Topic_;

pub async fn get_topic_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetTopicAttributesInput,
) -> R<GetTopicAttributesResponse> {
    s.ensure(&ctx, Some(&input.topic_arn));
    let inner = s.inner.read();
    let t = inner.topics.get(&input.topic_arn).ok_or_else(|| not_found("Topic"))?;
    let mut out: HashMap<String, String> = t.attributes.clone().into_iter().collect();
    let (mut confirmed, mut pending) = (0, 0);
    for sub in inner.subscriptions.values().filter(|sub| sub.topic_arn == t.arn) {
        if sub.confirmed { confirmed += 1 } else { pending += 1 }
    }
    out.insert("TopicArn".into(), t.arn.clone());
    out.insert("Owner".into(), t.account.clone());
    out.entry("Policy".into()).or_insert_with(|| default_policy(&t.arn, &t.account));
    out.entry("DisplayName".into()).or_default();
    out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
    out.insert("SubscriptionsPending".into(), pending.to_string());
    out.insert("SubscriptionsDeleted".into(), "0".into());
    out.entry("EffectiveDeliveryPolicy".into()).or_insert_with(|| {
        r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#.into()
    });
    Ok(GetTopicAttributesResponse { attributes: Some(out) })
}

pub async fn set_topic_attributes(s: Arc<Sns>, ctx: RequestContext, input: SetTopicAttributesInput) -> R<()> {
    s.ensure(&ctx, Some(&input.topic_arn));
    let mut inner = s.inner.write();
    let t = inner.topics.get_mut(&input.topic_arn).ok_or_else(|| not_found("Topic"))?;
    let name = input.attribute_name;
    if !TOPIC_SETTABLE.contains(&name.as_str()) || name == "FifoTopic" {
        return Err(invalid("AttributeName"));
    }
    let value = input.attribute_value.unwrap_or_default();
    if name == "ContentBasedDeduplication" {
        if !t.fifo {
            return Err(invalid(
                "ContentBasedDeduplication Reason: Content-based deduplication can only be set for FIFO topics",
            ));
        }
        t.content_dedup = value.eq_ignore_ascii_case("true");
    }
    t.attributes.insert(name, value);
    s.save(&inner, &[&input.topic_arn], &[])
}

const PROTOCOLS: &[&str] = &["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"];

pub async fn subscribe(s: Arc<Sns>, ctx: RequestContext, input: SubscribeInput) -> R<SubscribeResponse> {
    let protocol = input.protocol.to_ascii_lowercase();
    if !PROTOCOLS.contains(&protocol.as_str()) {
        return Err(invalid(format!("Amazon SNS does not support this protocol string: {}", input.protocol)));
    }
    // The topic is looked up before the endpoint is checked.
    s.ensure(&ctx, Some(&input.topic_arn));
    let topic_fifo = match s.inner.read().topics.get(&input.topic_arn) {
        Some(t) => t.fifo,
        None => return Err(not_found("Topic")),
    };
    let endpoint = input.endpoint.unwrap_or_default();
    let endpoint_ok = match protocol.as_str() {
        "sqs" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("sqs"),
        "lambda" => endpoint.starts_with("arn:") && endpoint.split(':').nth(2) == Some("lambda"),
        "http" => endpoint.starts_with("http://"),
        "https" => endpoint.starts_with("https://"),
        "email" | "email-json" => endpoint.contains('@'),
        _ => !endpoint.is_empty(),
    };
    if !endpoint_ok {
        return Err(invalid(match protocol.as_str() {
            "sqs" => "SQS endpoint ARN".to_owned(),
            "lambda" => "Lambda endpoint ARN".to_owned(),
            "email" | "email-json" => "Email address".to_owned(),
            _ => "Endpoint".to_owned(),
        }));
    }
    if protocol == "application" {
        crate::platform::check_subscription_endpoint(&s, &ctx, &endpoint)?;
    }
    if protocol == "sqs" && endpoint.ends_with(".fifo") && !topic_fifo {
        return Err(invalid(
            "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics",
        ));
    }
    let mut attrs = BTreeMap::new();
    for (k, v) in input.attributes.unwrap_or_default() {
        attrs.insert(k, v);
    }
    let mut sub = Subscription {
        arn: String::new(),
        topic_arn: input.topic_arn.clone(),
        owner: ctx.account_id.to_string(),
        protocol: protocol.clone(),
        endpoint: endpoint.clone(),
        confirmed: matches!(protocol.as_str(), "sqs" | "lambda" | "firehose" | "application" | "sms"),
        token: format!("{}{}", new_id().replace('-', ""), new_id().replace('-', "")),
        attributes: BTreeMap::new(),
        filter: None,
        filter_on_body: false,
        raw: false,
    };
    for (k, v) in &attrs {
        apply_subscription_attribute(&mut sub, k, v)?;
    }
    s.ensure(&ctx, Some(&input.topic_arn));
    let (arn, confirmed, token, is_new) = {
        let mut inner = s.inner.write();
        if !inner.topics.contains_key(&input.topic_arn) {
            return Err(not_found("Topic"));
        }
        if let Some(existing) = inner
            .subscriptions
            .values()
            .find(|x| x.topic_arn == input.topic_arn && x.protocol == protocol && x.endpoint == endpoint)
        {
            (existing.arn.clone(), existing.confirmed, existing.token.clone(), false)
        } else {
            sub.arn = format!("{}:{}", input.topic_arn, new_id());
            let out = (sub.arn.clone(), sub.confirmed, sub.token.clone(), true);
            inner.subscriptions.insert(sub.arn.clone(), sub);
            s.save(&inner, &[], &[&out.0])?;
            out
        }
    };
    if is_new && protocol == "http" {
        send_confirmation(&ctx, &input.topic_arn, &arn, &endpoint, &token);
    }
    let shown =
        if confirmed || input.return_subscription_arn == Some(true) { arn } else { "pending confirmation".into() };
    Ok(SubscribeResponse { subscription_arn: Some(shown) })
}

fn send_confirmation(ctx: &RequestContext, topic_arn: &str, sub_arn: &str, endpoint: &str, token: &str) {
    let message_id = new_id();
    let subscribe_url = format!("http://{}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}", ctx.host);
    let body = serde_json::json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": format!("You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
        "SubscribeURL": subscribe_url,
        "Timestamp": now_iso(),
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": delivery::SIGNING_CERT_URL,
    })
    .to_string();
    let headers = vec![
        ("x-amz-sns-message-type", "SubscriptionConfirmation".to_owned()),
        ("x-amz-sns-message-id", message_id),
        ("x-amz-sns-topic-arn", topic_arn.to_owned()),
        ("x-amz-sns-subscription-arn", sub_arn.to_owned()),
    ];
    delivery::post_with_retries(endpoint.to_owned(), headers, body, 3);
}

const SUB_SETTABLE: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

fn apply_subscription_attribute(sub: &mut Subscription, name: &str, value: &str) -> R<()> {
    if !SUB_SETTABLE.contains(&name) {
        return Err(invalid("AttributeName"));
    }
    match name {
        "RawMessageDelivery" => {
            sub.raw = match value.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(invalid("RawMessageDelivery: Invalid value [{value}]. Must be true or false.")),
            }
        }
        "FilterPolicy" => {
            if value.is_empty() {
                sub.filter = None;
            } else {
                let policy: Value =
                    serde_json::from_str(value).map_err(|_| invalid("FilterPolicy: failed to parse JSON."))?;
                filter::validate(&policy).map_err(|e| invalid(format!("FilterPolicy: {e}")))?;
                sub.filter = Some(policy);
            }
        }
        "FilterPolicyScope" => {
            sub.filter_on_body = match value {
                "MessageAttributes" => false,
                "MessageBody" => true,
                _ => return Err(invalid("FilterPolicyScope: Invalid filter policy scope, please use a valid scope")),
            }
        }
        "RedrivePolicy" | "DeliveryPolicy" if !value.is_empty() => {
            serde_json::from_str::<Value>(value).map_err(|_| invalid(format!("{name}: failed to parse JSON.")))?;
        }
        _ => {}
    }
    if value.is_empty() {
        sub.attributes.remove(name);
    } else {
        sub.attributes.insert(name.to_owned(), value.to_owned());
    }
    Ok(())
}

pub async fn confirm_subscription(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ConfirmSubscriptionInput,
) -> R<ConfirmSubscriptionResponse> {
    s.ensure(&ctx, Some(&input.topic_arn));
    let mut inner = s.inner.write();
    if !inner.topics.contains_key(&input.topic_arn) {
        return Err(not_found("Topic"));
    }
    let sub = inner
        .subscriptions
        .values_mut()
        .find(|x| x.topic_arn == input.topic_arn && x.token == input.token)
        .ok_or_else(|| invalid("Token"))?;
    sub.confirmed = true;
    let arn = sub.arn.clone();
    s.save(&inner, &[], &[&arn])?;
    Ok(ConfirmSubscriptionResponse { subscription_arn: Some(arn) })
}

pub async fn unsubscribe(s: Arc<Sns>, ctx: RequestContext, input: UnsubscribeInput) -> R<()> {
    s.ensure(&ctx, Some(&input.subscription_arn));
    let mut inner = s.inner.write();
    if inner.subscriptions.remove(&input.subscription_arn).is_none() {
        if !topic_arn_valid(&sub_topic(&input.subscription_arn)) {
            return Err(invalid("SubscriptionArn"));
        }
        return Ok(());
    }
    s.save(&inner, &[], &[&input.subscription_arn])
}

fn sub_topic(sub_arn: &str) -> String {
    sub_arn.rsplit_once(':').map(|(t, _)| t.to_owned()).unwrap_or_default()
}

fn listed(sub: &Subscription) -> crate::generated::types::Subscription {
    crate::generated::types::Subscription {
        subscription_arn: Some(if sub.confirmed { sub.arn.clone() } else { "PendingConfirmation".into() }),
        owner: Some(sub.owner.clone()),
        protocol: Some(sub.protocol.clone()),
        endpoint: Some(sub.endpoint.clone()),
        topic_arn: Some(sub.topic_arn.clone()),
    }
}

fn list_subs(
    s: &Sns,
    topic: Option<&str>,
    account: &str,
    token: &Option<String>,
) -> R<(Vec<crate::generated::types::Subscription>, Option<String>)> {
    let after = after_token(token)?;
    let inner = s.inner.read();
    let subs: Vec<&Subscription> = inner
        .subscriptions
        .values()
        .filter(|x| topic.is_none_or(|t| x.topic_arn == t) && x.owner == account)
        .filter(|x| after.as_ref().is_none_or(|a| x.arn.as_str() > a.as_str()))
        .take(PAGE + 1)
        .collect();
    let next = (subs.len() > PAGE).then(|| page_token(&subs[PAGE - 1].arn));
    Ok((subs.into_iter().take(PAGE).map(listed).collect(), next))
}

pub async fn list_subscriptions(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListSubscriptionsInput,
) -> R<ListSubscriptionsResponse> {
    s.ensure(&ctx, None);
    let (subs, next_token) = list_subs(&s, None, &ctx.account_id, &input.next_token)?;
    Ok(ListSubscriptionsResponse { subscriptions: Some(subs), next_token })
}

pub async fn list_subscriptions_by_topic(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListSubscriptionsByTopicInput,
) -> R<ListSubscriptionsByTopicResponse> {
    s.ensure(&ctx, Some(&input.topic_arn));
    if !s.inner.read().topics.contains_key(&input.topic_arn) {
        return Err(not_found("Topic"));
    }
    let (subs, next_token) = list_subs(&s, Some(&input.topic_arn), &ctx.account_id, &input.next_token)?;
    Ok(ListSubscriptionsByTopicResponse { subscriptions: Some(subs), next_token })
}

pub async fn get_subscription_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetSubscriptionAttributesInput,
) -> R<GetSubscriptionAttributesResponse> {
    s.ensure(&ctx, Some(&input.subscription_arn));
    let inner = s.inner.read();
    let sub = inner.subscriptions.get(&input.subscription_arn).ok_or_else(|| not_found("Subscription"))?;
    let mut out: HashMap<String, String> = sub.attributes.clone().into_iter().collect();
    out.insert("SubscriptionArn".into(), sub.arn.clone());
    out.insert("TopicArn".into(), sub.topic_arn.clone());
    out.insert("Owner".into(), sub.owner.clone());
    out.insert("Protocol".into(), sub.protocol.clone());
    out.insert("Endpoint".into(), sub.endpoint.clone());
    out.insert("ConfirmationWasAuthenticated".into(), "true".into());
    out.insert("PendingConfirmation".into(), (!sub.confirmed).to_string());
    out.insert("RawMessageDelivery".into(), sub.raw.to_string());
    if sub.filter.is_some() {
        out.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
    }
    Ok(GetSubscriptionAttributesResponse { attributes: Some(out) })
}

pub async fn set_subscription_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: SetSubscriptionAttributesInput,
) -> R<()> {
    s.ensure(&ctx, Some(&input.subscription_arn));
    let mut inner = s.inner.write();
    let sub = inner.subscriptions.get_mut(&input.subscription_arn).ok_or_else(|| not_found("Subscription"))?;
    apply_subscription_attribute(sub, &input.attribute_name, input.attribute_value.as_deref().unwrap_or(""))?;
    s.save(&inner, &[], &[&input.subscription_arn])
}

fn resource_topic<'a>(inner: &'a mut crate::state::Topics, arn: &str) -> R<&'a mut Topic> {
    inner.topics.get_mut(arn).ok_or_else(|| AwsError::not_found("ResourceNotFound", "Resource does not exist"))
}

pub async fn tag_resource(s: Arc<Sns>, ctx: RequestContext, input: TagResourceRequest) -> R<TagResourceResponse> {
    s.ensure(&ctx, Some(&input.resource_arn));
    let mut inner = s.inner.write();
    let t = resource_topic(&mut inner, &input.resource_arn)?;
    if t.tags.len() + input.tags.iter().filter(|x| !t.tags.contains_key(&x.key)).count() > 50 {
        return Err(AwsError::bad_request(
            "TagLimitExceeded",
            "Could not complete request: tag quota of per resource exceeded",
        ));
    }
    for tag in input.tags {
        t.tags.insert(tag.key, tag.value);
    }
    s.save(&inner, &[&input.resource_arn], &[])?;
    Ok(TagResourceResponse {})
}

pub async fn untag_resource(s: Arc<Sns>, ctx: RequestContext, input: UntagResourceRequest) -> R<UntagResourceResponse> {
    s.ensure(&ctx, Some(&input.resource_arn));
    let mut inner = s.inner.write();
    let t = resource_topic(&mut inner, &input.resource_arn)?;
    for k in input.tag_keys {
        t.tags.remove(&k);
    }
    s.save(&inner, &[&input.resource_arn], &[])?;
    Ok(UntagResourceResponse {})
}

pub async fn list_tags_for_resource(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListTagsForResourceRequest,
) -> R<ListTagsForResourceResponse> {
    s.ensure(&ctx, Some(&input.resource_arn));
    let mut inner = s.inner.write();
    let t = resource_topic(&mut inner, &input.resource_arn)?;
    Ok(ListTagsForResourceResponse {
        tags: Some(t.tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect()),
    })
}

// ---- publishing ---------------------------------------------------------------------------

pub(crate) struct Message {
    pub text: String,
    pub subject: Option<String>,
    pub structure: Option<String>,
    pub attributes: HashMap<String, MessageAttributeValue>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
}

pub(crate) fn validate_message(m: &Message) -> R<Option<serde_json::Map<String, Value>>> {
    if m.text.is_empty() {
        return Err(invalid("Empty message"));
    }
    let size = m.text.len()
        + m.attributes
            .iter()
            .map(|(k, v)| k.len() + v.data_type.len() + v.string_value.as_ref().map_or(0, String::len))
            .sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(invalid("Message too long"));
    }
    if let Some(subject) = &m.subject
        && (subject.is_empty() || subject.len() > 100 || subject.chars().any(|c| c.is_control()))
    {
        return Err(invalid("Subject"));
    }
    for (k, v) in &m.attributes {
        let base = v.data_type.split('.').next().unwrap_or("");
        let ok = match base {
            "String" | "Number" => v.string_value.is_some(),
            "Binary" => v.binary_value.is_some(),
            _ => false,
        };
        if !ok {
            return Err(invalid(format!(
                "The message attribute '{k}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        if base == "Number" && v.string_value.as_deref().is_some_and(|s| s.parse::<f64>().is_err()) {
            return Err(invalid(format!("Could not cast message attribute '{k}' value to number.")));
        }
    }
    match m.structure.as_deref() {
        None => Ok(None),
        Some("json") => {
            let parsed: Value = serde_json::from_str(&m.text)
                .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
            let obj = parsed
                .as_object()
                .cloned()
                .ok_or_else(|| invalid("Message Structure - JSON message body failed to parse"))?;
            if !obj.contains_key("default") {
                return Err(invalid("Message Structure - No default entry in JSON message body"));
            }
            Ok(Some(obj))
        }
        Some(_) => Err(invalid("MessageStructure")),
    }
}

fn publish_one(s: &Sns, ctx: &RequestContext, topic_arn: &str, m: Message) -> R<PublishResponse> {
    let per_protocol = validate_message(&m)?;
    s.ensure(ctx, Some(topic_arn));
    let (topic, subs) = {
        let inner = s.inner.read();
        let topic = inner.topics.get(topic_arn).cloned().ok_or_else(|| not_found("Topic"))?;
        let subs: Vec<Subscription> =
            inner.subscriptions.values().filter(|x| x.topic_arn == topic_arn && x.confirmed).cloned().collect();
        (topic, subs)
    };
    let mut dedup_id = m.dedup_id.clone();
    let mut sequence = None;
    if topic.fifo {
        if m.group_id.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("The MessageGroupId parameter is required for FIFO topics"));
        }
        if dedup_id.is_none() {
            if !topic.content_dedup {
                return Err(invalid(
                    "The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            dedup_id = Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(m.text.as_bytes())));
        }
        let key = format!("{topic_arn}\u{0}{}", dedup_id.as_deref().unwrap_or_default());
        let now = now_ms();
        let mut dedup = s.dedup.write();
        dedup.retain(|_, (exp, _)| *exp > now);
        if let Some((_, id)) = dedup.get(&key) {
            return Ok(PublishResponse { message_id: Some(id.clone()), sequence_number: None });
        }
        let id = new_id();
        dedup.insert(key, (now + 5 * 60 * 1000, id.clone()));
        let n = s.sequence.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        sequence = Some(format!("{:020}", 10_000_000_000_000_000_000u128 + n as u128));
        drop(dedup);
        deliver(s, ctx, &topic, &subs, m, per_protocol, id.clone(), dedup_id, sequence.clone());
        return Ok(PublishResponse { message_id: Some(id), sequence_number: sequence });
    } else if m.group_id.is_some() && m.dedup_id.is_some() {
        return Err(invalid(
            "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type",
        ));
    }
    let id = new_id();
    deliver(s, ctx, &topic, &subs, m, per_protocol, id.clone(), dedup_id, sequence.clone());
    Ok(PublishResponse { message_id: Some(id), sequence_number: sequence })
}

#[allow(clippy::too_many_arguments)]
fn deliver(
    s: &Sns,
    ctx: &RequestContext,
    topic: &Topic,
    subs: &[Subscription],
    m: Message,
    per_protocol: Option<serde_json::Map<String, Value>>,
    message_id: String,
    dedup_id: Option<String>,
    sequence: Option<String>,
) {
    let published = Published {
        message_id,
        topic_arn: topic.arn.clone(),
        subject: m.subject,
        default_message: per_protocol
            .as_ref()
            .and_then(|p| p.get("default"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or(m.text),
        per_protocol,
        attributes: m.attributes,
        timestamp: now_iso(),
        group_id: m.group_id,
        dedup_id,
        sequence,
    };
    for sub in subs {
        if !passes_filter(sub, &published) {
            continue;
        }
        let unsubscribe_url = format!("http://{}/?Action=Unsubscribe&SubscriptionArn={}", ctx.host, sub.arn);
        match sub.protocol.as_str() {
            "sqs" => {
                let (body, attrs) = if sub.raw {
                    (published.message_for("sqs").to_owned(), delivery::sqs_attributes(&published.attributes))
                } else {
                    (delivery::envelope(&published, "sqs", &unsubscribe_url), HashMap::new())
                };
                // FIFO parameters go to FIFO queues only: a standard queue (which a FIFO topic may
                // deliver to) refuses a deduplication id.
                let (group, dedup) = if sub.endpoint.ends_with(".fifo") {
                    let dedup = published
                        .group_id
                        .as_ref()
                        .map(|_| published.dedup_id.clone().unwrap_or_else(|| published.message_id.clone()));
                    (published.group_id.clone(), dedup)
                } else {
                    (None, None)
                };
                // A missing queue or a refused message is a delivery failure, not the publisher's error.
                let _ = s.queues.send_message(&sub.endpoint, body, attrs, group, dedup);
            }
            "http" => {
                let body = if sub.raw {
                    published.message_for("http").to_owned()
                } else {
                    delivery::envelope(&published, "http", &unsubscribe_url)
                };
                let mut headers = vec![
                    ("x-amz-sns-message-type", "Notification".to_owned()),
                    ("x-amz-sns-message-id", published.message_id.clone()),
                    ("x-amz-sns-topic-arn", published.topic_arn.clone()),
                    ("x-amz-sns-subscription-arn", sub.arn.clone()),
                ];
                if sub.raw {
                    headers.push(("x-amz-sns-rawdelivery", "true".to_owned()));
                }
                let retries = sub
                    .attributes
                    .get("DeliveryPolicy")
                    .and_then(|p| serde_json::from_str::<Value>(p).ok())
                    .and_then(|p| p.pointer("/healthyRetryPolicy/numRetries").and_then(Value::as_u64))
                    .unwrap_or(3)
                    .min(10) as u32;
                delivery::post_with_retries(sub.endpoint.clone(), headers, body, retries);
            }
            "lambda" => {
                if let Some(invoker) = s.lambda.read().clone() {
                    invoker.invoke(&sub.endpoint, delivery::lambda_event(&published, &sub.arn, &unsubscribe_url));
                }
            }
            "sms" => s.sms.write().push(serde_json::json!({
                "PhoneNumber": sub.endpoint, "Message": published.message_for(&sub.protocol),
                "MessageId": published.message_id, "TopicArn": published.topic_arn,
            })),
            "application" => {
                // A disabled (or deleted) endpoint gets nothing; the message for a JSON structure
                // is the one keyed by the endpoint's platform.
                let enabled = s.inner.read().endpoints.get(&sub.endpoint).is_some_and(|e| e.enabled());
                if enabled {
                    s.sms.write().push(serde_json::json!({
                        "PhoneNumber": sub.endpoint,
                        "Message": published.message_for(crate::platform::platform_of(&sub.endpoint)),
                        "MessageId": published.message_id, "TopicArn": published.topic_arn,
                    }));
                }
            }
            _ => {}
        }
    }
}

fn passes_filter(sub: &Subscription, p: &Published) -> bool {
    let Some(policy) = &sub.filter else { return true };
    if sub.filter_on_body {
        return serde_json::from_str::<Value>(p.message_for(&sub.protocol))
            .is_ok_and(|body| filter::matches_body(policy, &body));
    }
    filter::matches_attributes(policy, &|name| {
        let v = p.attributes.get(name)?;
        let s = v.string_value.as_deref()?;
        Some(match v.data_type.as_str() {
            "Number" => vec![s.parse().map(filter::Field::Num).unwrap_or(filter::Field::Str(s.to_owned()))],
            "String.Array" => match serde_json::from_str::<Value>(s) {
                Ok(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| match i {
                        Value::String(x) => Some(filter::Field::Str(x.clone())),
                        Value::Number(n) => n.as_f64().map(filter::Field::Num),
                        Value::Bool(b) => Some(filter::Field::Bool(*b)),
                        Value::Null => Some(filter::Field::Null),
                        _ => None,
                    })
                    .collect(),
                _ => vec![filter::Field::Str(s.to_owned())],
            },
            _ => vec![filter::Field::Str(s.to_owned())],
        })
    })
}

pub async fn publish(s: Arc<Sns>, ctx: RequestContext, input: PublishInput) -> R<PublishResponse> {
    let message = Message {
        text: input.message,
        subject: input.subject,
        structure: input.message_structure,
        attributes: input.message_attributes.unwrap_or_default(),
        group_id: input.message_group_id,
        dedup_id: input.message_deduplication_id,
    };
    if let Some(phone) = input.phone_number {
        validate_message(&message)?;
        let id = new_id();
        s.sms.write().push(serde_json::json!({"PhoneNumber": phone, "Message": message.text, "MessageId": id}));
        return Ok(PublishResponse { message_id: Some(id), sequence_number: None });
    }
    let arn = match (input.topic_arn, input.target_arn) {
        (Some(t), None) | (None, Some(t)) => t,
        (Some(_), Some(_)) => return Err(invalid("Only one of TopicArn or TargetArn may be specified")),
        (None, None) => return Err(invalid("TopicArn or TargetArn Reason: no value for required parameter")),
    };
    if !topic_arn_valid(&arn) {
        return Err(invalid("TopicArn"));
    }
    if crate::platform::is_endpoint_arn(&arn) {
        return crate::platform::publish_to_endpoint(&s, &ctx, &arn, message);
    }
    publish_one(&s, &ctx, &arn, message)
}

pub async fn publish_batch(s: Arc<Sns>, ctx: RequestContext, input: PublishBatchInput) -> R<PublishBatchResponse> {
    let entries = input.publish_batch_request_entries;
    if entries.is_empty() {
        return Err(AwsError::bad_request("EmptyBatchRequest", "The batch request doesn't contain any entries"));
    }
    if entries.len() > 10 {
        return Err(AwsError::bad_request(
            "TooManyEntriesInBatchRequest",
            "The batch request contains more entries than permissible",
        ));
    }
    let mut ids = std::collections::HashSet::new();
    for e in &entries {
        if !ids.insert(e.id.as_str()) {
            return Err(AwsError::bad_request(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id",
            ));
        }
        if e.id.is_empty()
            || e.id.len() > 80
            || !e.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(AwsError::bad_request(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification",
            ));
        }
    }
    s.ensure(&ctx, Some(&input.topic_arn));
    if !s.inner.read().topics.contains_key(&input.topic_arn) {
        return Err(not_found("Topic"));
    }
    let mut out = PublishBatchResponse { successful: Some(Vec::new()), failed: Some(Vec::new()) };
    for e in entries {
        let m = Message {
            text: e.message,
            subject: e.subject,
            structure: e.message_structure,
            attributes: e.message_attributes.unwrap_or_default(),
            group_id: e.message_group_id,
            dedup_id: e.message_deduplication_id,
        };
        match publish_one(&s, &ctx, &input.topic_arn, m) {
            Ok(r) => out.successful.get_or_insert_with(Vec::new).push(PublishBatchResultEntry {
                id: Some(e.id),
                message_id: r.message_id,
                sequence_number: r.sequence_number,
            }),
            Err(err) => out.failed.get_or_insert_with(Vec::new).push(BatchResultErrorEntry {
                id: e.id,
                code: err.code.to_string(),
                message: Some(err.message),
                sender_fault: err.sender_fault,
            }),
        }
    }
    Ok(out)
}

// ---- publishing for other services ----------------------------------------------------------

impl Sns {
    /// Whether a topic exists (S3 checks its notification destinations with it).
    pub fn topic_exists(&self, topic_arn: &str) -> bool {
        self.ensure(&topic_context(topic_arn), Some(topic_arn));
        self.inner.read().topics.contains_key(topic_arn)
    }

    /// Publishes as an AWS service does (S3 event notifications): in the topic's own account and
    /// region, through the same checks and deliveries as Publish. Returns the message id.
    pub fn publish_as_service(&self, topic_arn: &str, subject: Option<&str>, message: String) -> R<String> {
        let m = Message {
            text: message,
            subject: subject.map(str::to_owned),
            structure: None,
            attributes: HashMap::new(),
            group_id: None,
            dedup_id: None,
        };
        let out = publish_one(self, &topic_context(topic_arn), topic_arn, m)?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// A context in the account and region a topic ARN names.
fn topic_context(topic_arn: &str) -> RequestContext {
    let mut ctx = RequestContext::for_tests("Publish");
    if let ["arn", _, "sns", region, account, _] = topic_arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ctx.account_id = Arc::from(*account);
        ctx.region = Arc::from(*region);
    }
    ctx
}

#[cfg(test)]
mod service_publish_tests {
    use super::*;

    #[tokio::test]
    async fn services_publish_in_the_topics_own_account_and_region() {
        let sns = Arc::new(Sns::new(ruststack_sqs::Queues::new(&ruststack_core::store::Storage::memory())));
        let mut ctx = RequestContext::for_tests("CreateTopic");
        ctx.account_id = Arc::from("111122223333");
        ctx.region = Arc::from("eu-west-1");
        let arn = "arn:aws:sns:eu-west-1:111122223333:events";
        assert!(!sns.topic_exists(arn));
        assert_eq!(sns.publish_as_service(arn, None, "x".into()).unwrap_err().code, "NotFound");
        let input = CreateTopicInput { name: "events".into(), ..Default::default() };
        assert_eq!(create_topic(sns.clone(), ctx.clone(), input).await.unwrap().topic_arn.as_deref(), Some(arn));
        let input = SubscribeInput {
            topic_arn: arn.into(),
            protocol: "sms".into(),
            endpoint: Some("+15555550100".into()),
            ..Default::default()
        };
        subscribe(sns.clone(), ctx, input).await.unwrap();
        assert!(sns.topic_exists(arn));
        let id = sns.publish_as_service(arn, Some("Amazon S3 Notification"), "{\"a\":1}".into()).unwrap();
        let sent = sns.sms.read().clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["MessageId"], id.as_str());
        assert_eq!(sent[0]["Message"], "{\"a\":1}");
    }
}
