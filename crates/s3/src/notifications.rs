//! S3 event notifications to SQS queues, SNS topics and Lambda functions, as AWS documents them
//! ("Event message structure", version 2.1): which configurations an event matches (event types
//! with `:*` wildcards, prefix/suffix rules on the URL-encoded key), the JSON document, the checks
//! of PutBucketNotificationConfiguration (events, filters, overlaps, destinations) and its
//! `s3:TestEvent`.
//!
//! This crate depends on no other service: the binary hands S3 a [`NotificationTarget`] that
//! knows SQS, SNS and Lambda. Documents are rendered while the write holds its key's lock (so
//! sequencers follow the commit order) and delivered by one task per S3 state, after the request
//! was answered, in the order they were queued.

use crate::config::NOTIFICATION;
use crate::errors;
use crate::generated::types::{FilterRule, NotificationConfiguration, NotificationConfigurationFilter, S3KeyFilter};
use crate::state::{Bucket, S3};
use ruststack_core::protocol::scalar::format_timestamp;
use ruststack_core::service::BoxFuture;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The kind of service a notification goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// An SQS queue: the document is the message body.
    Queue,
    /// An SNS topic: published with the subject "Amazon S3 Notification".
    Topic,
    /// A Lambda function: invoked asynchronously (`Event`) with the document.
    Function,
}

/// The services S3 delivers to, provided by the binary.
pub trait NotificationTarget: Send + Sync {
    /// Whether the destination `arn` exists. `ctx` is the request configuring it.
    fn exists(&self, kind: Destination, arn: &str, ctx: &RequestContext) -> BoxFuture<bool>;
    /// Sends one document to `arn`.
    fn deliver(&self, kind: Destination, arn: &str, document: String) -> BoxFuture<Result<(), String>>;
}

/// The event types AWS accepts in a configuration (botocore's `Event` enum).
const EVENTS: &[&str] = &[
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:ObjectRestore:Delete",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
    "s3:ObjectAnnotation:*",
    "s3:ObjectAnnotation:Put",
    "s3:ObjectAnnotation:Delete",
    "s3:ObjectRetention:Put",
];

pub const OBJECT_CREATED_PUT: &str = "s3:ObjectCreated:Put";
pub const OBJECT_CREATED_POST: &str = "s3:ObjectCreated:Post";
pub const OBJECT_CREATED_COPY: &str = "s3:ObjectCreated:Copy";
pub const OBJECT_CREATED_MULTIPART: &str = "s3:ObjectCreated:CompleteMultipartUpload";
pub const OBJECT_REMOVED_DELETE: &str = "s3:ObjectRemoved:Delete";
pub const OBJECT_REMOVED_MARKER: &str = "s3:ObjectRemoved:DeleteMarkerCreated";
pub const OBJECT_TAGGING_PUT: &str = "s3:ObjectTagging:Put";
pub const OBJECT_TAGGING_DELETE: &str = "s3:ObjectTagging:Delete";
pub const OBJECT_ACL_PUT: &str = "s3:ObjectAcl:Put";

/// A delivery may not hold up the ones behind it for longer than this.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest filter rule value, in UTF-8 bytes.
const MAX_FILTER_VALUE: usize = 1024;

// ---- matching ----

/// Whether an event type is selected by a configuration's event list (`s3:ObjectCreated:*`
/// selects every `s3:ObjectCreated:…`).
pub fn event_selected(configured: &[String], event: &str) -> bool {
    configured.iter().any(|c| {
        c == event || c.strip_suffix('*').is_some_and(|family| family.ends_with(':') && event.starts_with(family))
    })
}

/// A configuration's prefix and suffix (rule names are case-insensitive).
fn prefix_suffix(filter: Option<&NotificationConfigurationFilter>) -> (Option<&str>, Option<&str>) {
    let (mut prefix, mut suffix) = (None, None);
    let rules = filter.and_then(|f| f.key.as_ref()).and_then(|k| k.filter_rules.as_deref()).unwrap_or_default();
    for rule in rules {
        let value = rule.value.as_deref().unwrap_or_default();
        match rule.name.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("prefix") => prefix = Some(value),
            Some("suffix") => suffix = Some(value),
            _ => {}
        }
    }
    (prefix, suffix)
}

/// Whether a key (URL-encoded, as AWS compares it: a space in a rule is written `+`) passes a
/// configuration's filter. Matching is case-sensitive.
pub fn filter_passes(filter: Option<&NotificationConfigurationFilter>, encoded_key: &str) -> bool {
    let (prefix, suffix) = prefix_suffix(filter);
    prefix.is_none_or(|p| encoded_key.starts_with(p)) && suffix.is_none_or(|s| encoded_key.ends_with(s))
}

/// An object key as event documents carry it: form-URL-encoded (space as `+`), `/` kept.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'*' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
    }
    out
}

/// The configurations of a bucket, as (destination, ARN, id, events, filter).
fn destinations(
    config: &NotificationConfiguration,
) -> impl Iterator<Item = (Destination, &str, Option<&str>, &[String], Option<&NotificationConfigurationFilter>)> {
    let queues =
        config.queue_configurations.iter().flatten().map(|c| {
            (Destination::Queue, c.queue_arn.as_str(), c.id.as_deref(), c.events.as_slice(), c.filter.as_ref())
        });
    let topics =
        config.topic_configurations.iter().flatten().map(|c| {
            (Destination::Topic, c.topic_arn.as_str(), c.id.as_deref(), c.events.as_slice(), c.filter.as_ref())
        });
    let functions = config.lambda_function_configurations.iter().flatten().map(|c| {
        (Destination::Function, c.lambda_function_arn.as_str(), c.id.as_deref(), c.events.as_slice(), c.filter.as_ref())
    });
    queues.chain(topics).chain(functions)
}

// ---- the documents ----

/// Who caused an event.
#[derive(Debug, Clone)]
pub struct Origin {
    pub request_id: String,
    /// `userIdentity.principalId`.
    pub principal: String,
    pub source_ip: String,
}

/// The request that caused an event, turned into an [`Origin`] only when something is notified.
#[derive(Clone, Copy)]
pub enum Caller<'a> {
    /// An API request: its IAM principal (`AWS:AIDA…`), or its account's customer id.
    Request(&'a RequestContext),
    /// A browser POST upload, answered outside the handler table (so without its request id),
    /// attributed to the bucket owner.
    Post,
}

impl Caller<'_> {
    fn origin(&self, bucket_owner: &str) -> Origin {
        // The gateway does not pass the peer address on; requests reach us from the local host.
        let source_ip = "127.0.0.1".to_owned();
        match self {
            Caller::Request(ctx) => Origin {
                request_id: ctx.request_id.to_string(),
                principal: match &ctx.identity {
                    Some(identity) => format!("AWS:{}", identity.user_id),
                    None => customer_id(&ctx.account_id),
                },
                source_ip,
            },
            Caller::Post => Origin {
                request_id: ruststack_core::request_id::new_request_id(),
                principal: customer_id(bucket_owner),
                source_ip,
            },
        }
    }
}

/// An account's Amazon customer id as S3 events show owners (`A3NL1KOZZK…`): stable per account.
pub fn customer_id(account: &str) -> String {
    use md5::Digest;
    let digest = md5::Md5::digest(account.as_bytes());
    format!("A{}", &hex::encode_upper(digest)[..13])
}

/// What an event says about its object.
#[derive(Debug, Clone, Default)]
pub struct ObjectFacts {
    pub size: Option<u64>,
    /// Without quotes.
    pub etag: Option<String>,
    /// Only for buckets with versioning configured.
    pub version_id: Option<String>,
}

/// One event, before it is rendered for each configuration it matches.
#[derive(Debug, Clone)]
pub struct Occurrence<'a> {
    /// With its `s3:` prefix.
    pub event: &'static str,
    pub time: Timestamp,
    pub bucket: &'a str,
    pub region: &'a str,
    pub bucket_owner: &'a str,
    pub key: &'a str,
    pub facts: &'a ObjectFacts,
    pub origin: &'a Origin,
    pub host_id: &'a str,
    pub sequencer: Option<&'a str>,
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "Records")]
    records: [Record<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    event_source: &'static str,
    aws_region: &'a str,
    event_time: String,
    event_name: &'a str,
    user_identity: Principal<'a>,
    request_parameters: RequestParameters<'a>,
    response_elements: ResponseElements<'a>,
    s3: Entity<'a>,
}

#[derive(Serialize)]
struct Principal<'a> {
    #[serde(rename = "principalId")]
    principal_id: &'a str,
}

#[derive(Serialize)]
struct RequestParameters<'a> {
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: &'a str,
}

#[derive(Serialize)]
struct ResponseElements<'a> {
    #[serde(rename = "x-amz-request-id")]
    request_id: &'a str,
    #[serde(rename = "x-amz-id-2")]
    host_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entity<'a> {
    s3_schema_version: &'static str,
    configuration_id: &'a str,
    bucket: BucketEntity<'a>,
    object: ObjectEntity<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BucketEntity<'a> {
    name: &'a str,
    owner_identity: Principal<'a>,
    arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectEntity<'a> {
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e_tag: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sequencer: Option<&'a str>,
}

fn iso_millis(t: Timestamp) -> String {
    format_timestamp(t.millis as f64 / 1000.0, TimestampFormat::Iso8601)
}

/// The document of one event for one configuration.
pub fn render(o: &Occurrence, configuration_id: &str) -> String {
    // Tagging and ACL events are version 2.3 (they carry no sequencer); the others 2.1.
    let later = o.event.starts_with("s3:ObjectTagging:") || o.event.starts_with("s3:ObjectAcl:");
    let owner = customer_id(o.bucket_owner);
    let doc = Document {
        records: [Record {
            event_version: if later { "2.3" } else { "2.1" },
            event_source: "aws:s3",
            aws_region: o.region,
            event_time: iso_millis(o.time),
            event_name: o.event.strip_prefix("s3:").unwrap_or(o.event),
            user_identity: Principal { principal_id: &o.origin.principal },
            request_parameters: RequestParameters { source_ip_address: &o.origin.source_ip },
            response_elements: ResponseElements { request_id: &o.origin.request_id, host_id: o.host_id },
            s3: Entity {
                s3_schema_version: "1.0",
                configuration_id,
                bucket: BucketEntity {
                    name: o.bucket,
                    owner_identity: Principal { principal_id: &owner },
                    arn: format!("arn:aws:s3:::{}", o.bucket),
                },
                object: ObjectEntity {
                    key: encode_key(o.key),
                    size: o.facts.size,
                    e_tag: o.facts.etag.as_deref(),
                    version_id: o.facts.version_id.as_deref(),
                    sequencer: if later { None } else { o.sequencer },
                },
            },
        }],
    };
    serde_json::to_string(&doc).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TestEvent<'a> {
    service: &'static str,
    event: &'static str,
    time: String,
    bucket: &'a str,
    request_id: &'a str,
    host_id: &'a str,
}

/// The message S3 sends to a queue or topic it was just configured with.
pub fn render_test_event(bucket: &str, time: Timestamp, request_id: &str, host_id: &str) -> String {
    let doc =
        TestEvent { service: "Amazon S3", event: "s3:TestEvent", time: iso_millis(time), bucket, request_id, host_id };
    serde_json::to_string(&doc).unwrap_or_default()
}

// ---- delivery ----

struct Delivery {
    kind: Destination,
    arn: String,
    document: String,
}

/// Where a state's notifications go: the target, the queue of the delivering task (started on
/// first use, from inside the runtime), and the sequencer counter.
#[derive(Default)]
pub struct Notifier {
    target: OnceLock<Arc<dyn NotificationTarget>>,
    queue: OnceLock<tokio::sync::mpsc::UnboundedSender<Vec<Delivery>>>,
    sequence: AtomicU64,
}

impl Notifier {
    fn send(&self, job: Vec<Delivery>) {
        let Some(target) = self.target.get() else { return };
        if job.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Delivery>>();
            let target = target.clone();
            tokio::spawn(async move {
                while let Some(job) = rx.recv().await {
                    for d in job {
                        match tokio::time::timeout(DELIVERY_TIMEOUT, target.deliver(d.kind, &d.arn, d.document)).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => tracing::warn!(arn = d.arn, error = e, "S3 could not deliver a notification"),
                            Err(_) => tracing::warn!(arn = d.arn, "S3 notification delivery timed out"),
                        }
                    }
                }
            });
            tx
        });
        let _ = queue.send(job);
    }

    /// A new sequencer: 18 upper-case hex digits, increasing (microseconds since the epoch, or
    /// one more than the last), so later events on a key compare greater.
    fn next_sequencer(&self) -> String {
        let now = (Timestamp::now().millis.max(0) as u64) * 1000;
        let mut prev = self.sequence.load(Ordering::Relaxed);
        loop {
            let next = now.max(prev + 1);
            match self.sequence.compare_exchange_weak(prev, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return format!("{next:018X}"),
                Err(seen) => prev = seen,
            }
        }
    }
}

impl S3 {
    /// Where notifications go (set once, after construction).
    pub fn set_notification_target(&self, target: Arc<dyn NotificationTarget>) {
        let _ = self.notifier.target.set(target);
    }

    /// Whether writes to `bucket` may have something to notify (cheap: no document is read).
    pub fn notifying(&self, bucket: &Bucket) -> bool {
        self.notifier.target.get().is_some() && bucket.has_config(NOTIFICATION)
    }

    /// Queues the documents of an event for every configuration of the bucket it matches.
    /// Called while the write that caused it holds its key's lock.
    pub fn notify(&self, bucket: &Bucket, event: &'static str, key: &str, facts: &ObjectFacts, caller: Caller) {
        if !self.notifying(bucket) {
            return;
        }
        let Some(config) = bucket.config::<NotificationConfiguration>(NOTIFICATION) else { return };
        let encoded = encode_key(key);
        let matching: Vec<_> = destinations(&config)
            .filter(|(_, _, _, events, filter)| event_selected(events, event) && filter_passes(*filter, &encoded))
            .collect();
        if matching.is_empty() {
            return;
        }
        let sequencer = self.notifier.next_sequencer();
        let origin = caller.origin(&bucket.account_id);
        let host_id = ruststack_core::request_id::new_host_id();
        let occurrence = Occurrence {
            event,
            time: Timestamp::now(),
            bucket: &bucket.name,
            region: &bucket.region,
            bucket_owner: &bucket.account_id,
            key,
            facts,
            origin: &origin,
            host_id: &host_id,
            sequencer: Some(&sequencer),
        };
        let job = matching
            .into_iter()
            .map(|(kind, arn, id, _, _)| Delivery {
                kind,
                arn: arn.to_owned(),
                document: render(&occurrence, id.unwrap_or_default()),
            })
            .collect();
        self.notifier.send(job);
    }

    /// Sends `s3:TestEvent` to the queues and topics of a configuration just stored.
    pub fn send_test_events(&self, bucket: &Bucket, config: &NotificationConfiguration, ctx: &RequestContext) {
        let host_id = ruststack_core::request_id::new_host_id();
        let document = render_test_event(&bucket.name, Timestamp::now(), &ctx.request_id, &host_id);
        let mut job: Vec<Delivery> = Vec::new();
        for (kind, arn, ..) in destinations(config) {
            if kind != Destination::Function && !job.iter().any(|d| d.arn == arn) {
                job.push(Delivery { kind, arn: arn.to_owned(), document: document.clone() });
            }
        }
        self.notifier.send(job);
    }

    /// Checks that every destination exists (and is in the bucket's region), as AWS does before
    /// storing a configuration; all failures are reported in one `InvalidArgument`.
    pub async fn verify_destinations(
        &self,
        bucket: &Bucket,
        config: &NotificationConfiguration,
        ctx: &RequestContext,
    ) -> Result<(), AwsError> {
        let Some(target) = self.notifier.target.get() else { return Ok(()) };
        let mut failures: Vec<(String, &'static str)> = Vec::new();
        for (kind, arn, ..) in destinations(config) {
            if failures.iter().any(|(a, _)| a == arn) {
                continue;
            }
            let region = arn.split(':').nth(3).unwrap_or_default();
            let reason = if region != bucket.region {
                Some("The notification destination service region is not valid for the bucket location constraint")
            } else if !target.exists(kind, arn, ctx).await {
                Some(match kind {
                    Destination::Queue => "The destination queue does not exist",
                    Destination::Topic => "The destination topic does not exist",
                    Destination::Function => "The destination Lambda does not exist",
                })
            } else {
                None
            };
            if let Some(reason) = reason {
                failures.push((arn.to_owned(), reason));
            }
        }
        if failures.is_empty() {
            return Ok(());
        }
        const NAMES: [(&str, &str); 10] = [
            ("ArgumentName1", "ArgumentValue1"),
            ("ArgumentName2", "ArgumentValue2"),
            ("ArgumentName3", "ArgumentValue3"),
            ("ArgumentName4", "ArgumentValue4"),
            ("ArgumentName5", "ArgumentValue5"),
            ("ArgumentName6", "ArgumentValue6"),
            ("ArgumentName7", "ArgumentValue7"),
            ("ArgumentName8", "ArgumentValue8"),
            ("ArgumentName9", "ArgumentValue9"),
            ("ArgumentName10", "ArgumentValue10"),
        ];
        let mut err =
            AwsError::bad_request("InvalidArgument", "Unable to validate the following destination configurations");
        for ((arn, reason), (name, value)) in failures.into_iter().zip(NAMES) {
            err = err.with_field(name, arn).with_field(value, reason);
        }
        Err(err)
    }
}

// ---- checking a configuration ----

fn overlap(a: Option<&str>, b: Option<&str>, nested: impl Fn(&str, &str) -> bool) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => nested(a, b) || nested(b, a),
        _ => true,
    }
}

fn events_intersect(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| event_selected(b, x) || b.iter().any(|y| event_selected(std::slice::from_ref(x), y)))
}

/// Checks a configuration as AWS does before looking at destinations — known event types,
/// parseable ARNs, at most one prefix and one suffix rule per filter, no two configurations
/// sharing an event type for overlapping keys — and normalises it as AWS stores it: rule names
/// `Prefix`/`Suffix`, a generated `Id` where none was given.
pub fn check_configuration(config: &mut NotificationConfiguration) -> Result<(), AwsError> {
    fn check_one(
        service: &str,
        argument: &str,
        arn: &str,
        id: &mut Option<String>,
        events: &[String],
        filter: Option<&mut NotificationConfigurationFilter>,
    ) -> Result<(), AwsError> {
        for event in events {
            if !EVENTS.contains(&event.as_str()) {
                return Err(errors::invalid_argument("The event is not supported for notifications", "Event", event));
            }
        }
        let parts: Vec<&str> = arn.split(':').collect();
        if parts.len() < 6 || parts[0] != "arn" || parts[2] != service || parts[3].is_empty() || parts[5].is_empty() {
            return Err(errors::invalid_argument("The ARN could not be parsed", argument, arn));
        }
        if let Some(rules) = filter.and_then(|f| f.key.as_mut()).and_then(|k: &mut S3KeyFilter| k.filter_rules.as_mut())
        {
            check_rules(rules)?;
        }
        if id.as_deref().is_none_or(str::is_empty) {
            *id = Some(new_configuration_id());
        }
        Ok(())
    }
    for c in config.queue_configurations.iter_mut().flatten() {
        check_one("sqs", "QueueArn", &c.queue_arn, &mut c.id, &c.events, c.filter.as_mut())?;
    }
    for c in config.topic_configurations.iter_mut().flatten() {
        check_one("sns", "TopicArn", &c.topic_arn, &mut c.id, &c.events, c.filter.as_mut())?;
    }
    for c in config.lambda_function_configurations.iter_mut().flatten() {
        check_one("lambda", "CloudFunction", &c.lambda_function_arn, &mut c.id, &c.events, c.filter.as_mut())?;
    }
    let all: Vec<_> = destinations(config).collect();
    for (i, (_, _, _, events_a, filter_a)) in all.iter().enumerate() {
        let (prefix_a, suffix_a) = prefix_suffix(*filter_a);
        for (_, _, _, events_b, filter_b) in &all[i + 1..] {
            let (prefix_b, suffix_b) = prefix_suffix(*filter_b);
            if events_intersect(events_a, events_b)
                && overlap(prefix_a, prefix_b, |x, y| x.starts_with(y))
                && overlap(suffix_a, suffix_b, |x, y| x.ends_with(y))
            {
                return Err(errors::invalid_argument(
                    "Configurations overlap. Configurations on the same bucket cannot share a common event type.",
                    "Event",
                    events_a.first().map(String::as_str).unwrap_or_default(),
                ));
            }
        }
    }
    Ok(())
}

fn check_rules(rules: &mut [FilterRule]) -> Result<(), AwsError> {
    let (mut prefixes, mut suffixes) = (0, 0);
    for rule in rules {
        let name = rule.name.clone().unwrap_or_default();
        let value = rule.value.clone().unwrap_or_default();
        let normalised = match name.to_ascii_lowercase().as_str() {
            "prefix" => {
                prefixes += 1;
                "Prefix"
            }
            "suffix" => {
                suffixes += 1;
                "Suffix"
            }
            _ => {
                return Err(errors::invalid_argument(
                    "filter rule name must be either prefix or suffix",
                    "FilterRule.Name",
                    &name,
                ));
            }
        };
        if prefixes > 1 {
            return Err(errors::invalid_argument(
                "Cannot specify more than one prefix rule in a filter.",
                "FilterRule.Name",
                &name,
            ));
        }
        if suffixes > 1 {
            return Err(errors::invalid_argument(
                "Cannot specify more than one suffix rule in a filter.",
                "FilterRule.Name",
                &name,
            ));
        }
        if value.len() > MAX_FILTER_VALUE {
            return Err(errors::invalid_argument(
                "Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
                "FilterRule.Value",
                &value,
            ));
        }
        rule.name = Some(normalised.to_owned());
    }
    Ok(())
}

/// An id for a configuration sent without one: AWS's look (base64 of a UUID).
fn new_configuration_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(ruststack_core::request_id::new_request_id())
}

/// Whether a configuration has nothing to deliver (stored as no configuration at all).
pub fn is_empty(config: &NotificationConfiguration) -> bool {
    destinations(config).next().is_none() && config.event_bridge_configuration.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::types::{LambdaFunctionConfiguration, QueueConfiguration, TopicConfiguration};

    fn rules(rules: &[(&str, &str)]) -> Option<NotificationConfigurationFilter> {
        Some(NotificationConfigurationFilter {
            key: Some(S3KeyFilter {
                filter_rules: Some(
                    rules
                        .iter()
                        .map(|(n, v)| FilterRule { name: Some((*n).into()), value: Some((*v).into()) })
                        .collect(),
                ),
            }),
        })
    }

    fn queue(arn: &str, events: &[&str], filter: Option<NotificationConfigurationFilter>) -> QueueConfiguration {
        QueueConfiguration {
            id: None,
            queue_arn: arn.into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            filter,
        }
    }

    #[test]
    fn wildcards_select_their_family_only() {
        let configured = vec!["s3:ObjectCreated:*".to_owned()];
        assert!(event_selected(&configured, OBJECT_CREATED_PUT));
        assert!(event_selected(&configured, OBJECT_CREATED_MULTIPART));
        assert!(!event_selected(&configured, OBJECT_REMOVED_DELETE));
        let exact = vec![OBJECT_REMOVED_MARKER.to_owned()];
        assert!(event_selected(&exact, OBJECT_REMOVED_MARKER));
        assert!(!event_selected(&exact, OBJECT_REMOVED_DELETE));
    }

    #[test]
    fn filters_match_the_encoded_key_case_sensitively() {
        let f = rules(&[("prefix", "images/"), ("Suffix", ".jpg")]);
        assert!(filter_passes(f.as_ref(), "images/cat.jpg"));
        assert!(!filter_passes(f.as_ref(), "images/cat.JPG"));
        assert!(!filter_passes(f.as_ref(), "Images/cat.jpg"));
        assert!(!filter_passes(f.as_ref(), "docs/cat.jpg"));
        assert!(filter_passes(None, "anything"));
        // A space in a rule is written `+`, as keys are encoded before the comparison.
        let spaced = rules(&[("prefix", "my+dir/")]);
        assert!(filter_passes(spaced.as_ref(), &encode_key("my dir/a")));
        assert!(!filter_passes(rules(&[("prefix", "my dir/")]).as_ref(), &encode_key("my dir/a")));
    }

    #[test]
    fn keys_are_form_url_encoded_keeping_slashes() {
        assert_eq!(encode_key("a b/ü.txt"), "a+b/%C3%BC.txt");
        assert_eq!(encode_key("x+y=z(1)~"), "x%2By%3Dz%281%29%7E");
        assert_eq!(encode_key("plain/key_-.*"), "plain/key_-.*");
    }

    fn occurrence<'a>(event: &'static str, facts: &'a ObjectFacts, origin: &'a Origin) -> Occurrence<'a> {
        Occurrence {
            event,
            time: Timestamp { millis: 1_700_000_000_123 },
            bucket: "bkt",
            region: "eu-west-1",
            bucket_owner: "111122223333",
            key: "a b/ü.txt",
            facts,
            origin,
            host_id: "host",
            sequencer: Some("0000ABC"),
        }
    }

    #[test]
    fn created_documents_follow_the_documented_structure() {
        let origin = Origin { request_id: "req".into(), principal: "AWS:AIDA1".into(), source_ip: "127.0.0.1".into() };
        let facts = ObjectFacts { size: Some(5), etag: Some("abc".into()), version_id: None };
        let doc: serde_json::Value =
            serde_json::from_str(&render(&occurrence(OBJECT_CREATED_PUT, &facts, &origin), "cfg")).unwrap();
        let expected = serde_json::json!({"Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "eu-west-1",
            "eventTime": "2023-11-14T22:13:20.123Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDA1"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "req", "x-amz-id-2": "host"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "cfg",
                "bucket": {
                    "name": "bkt",
                    "ownerIdentity": {"principalId": customer_id("111122223333")},
                    "arn": "arn:aws:s3:::bkt",
                },
                "object": {"key": "a+b/%C3%BC.txt", "size": 5, "eTag": "abc", "sequencer": "0000ABC"},
            },
        }]});
        assert_eq!(doc, expected);
    }

    #[test]
    fn deletes_omit_size_and_etag_and_tagging_events_their_sequencer() {
        let origin = Origin { request_id: "r".into(), principal: "p".into(), source_ip: "127.0.0.1".into() };
        let facts = ObjectFacts { size: None, etag: None, version_id: Some("v1".into()) };
        let doc: serde_json::Value =
            serde_json::from_str(&render(&occurrence(OBJECT_REMOVED_MARKER, &facts, &origin), "c")).unwrap();
        assert_eq!(doc["Records"][0]["eventName"], "ObjectRemoved:DeleteMarkerCreated");
        assert_eq!(
            doc["Records"][0]["s3"]["object"],
            serde_json::json!({"key": "a+b/%C3%BC.txt", "versionId": "v1", "sequencer": "0000ABC"})
        );
        let facts = ObjectFacts { size: None, etag: Some("e".into()), version_id: None };
        let doc: serde_json::Value =
            serde_json::from_str(&render(&occurrence(OBJECT_TAGGING_PUT, &facts, &origin), "c")).unwrap();
        assert_eq!(doc["Records"][0]["eventVersion"], "2.3");
        assert_eq!(doc["Records"][0]["s3"]["object"], serde_json::json!({"key": "a+b/%C3%BC.txt", "eTag": "e"}));
    }

    #[test]
    fn test_events_are_pascal_cased_in_aws_order() {
        let text = render_test_event("bkt", Timestamp { millis: 0 }, "rid", "hid");
        assert_eq!(
            text,
            r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"1970-01-01T00:00:00.000Z","Bucket":"bkt","RequestId":"rid","HostId":"hid"}"#
        );
    }

    #[test]
    fn sequencers_increase() {
        let n = Notifier::default();
        let a = n.next_sequencer();
        let b = n.next_sequencer();
        assert_eq!(a.len(), 18);
        assert!(b > a, "{a} {b}");
    }

    #[test]
    fn configurations_are_checked_and_normalised() {
        let arn = "arn:aws:sqs:us-east-1:000000000000:q";
        let mut config = NotificationConfiguration {
            queue_configurations: Some(vec![queue(arn, &["s3:ObjectCreated:*"], rules(&[("PREFIX", "in/")]))]),
            ..Default::default()
        };
        check_configuration(&mut config).unwrap();
        let q = &config.queue_configurations.as_ref().unwrap()[0];
        assert!(q.id.as_deref().is_some_and(|id| !id.is_empty()));
        let rule = &q.filter.as_ref().unwrap().key.as_ref().unwrap().filter_rules.as_ref().unwrap()[0];
        assert_eq!(rule.name.as_deref(), Some("Prefix"));

        let code = |mut c: NotificationConfiguration| check_configuration(&mut c).unwrap_err().message;
        let with_queues = |qs: Vec<QueueConfiguration>| NotificationConfiguration {
            queue_configurations: Some(qs),
            ..Default::default()
        };
        assert_eq!(
            code(with_queues(vec![queue(arn, &["s3:ObjectCreated"], None)])),
            "The event is not supported for notifications"
        );
        assert_eq!(code(with_queues(vec![queue("queue", &[OBJECT_CREATED_PUT], None)])), "The ARN could not be parsed");
        assert_eq!(
            code(with_queues(vec![queue(arn, &[OBJECT_CREATED_PUT], rules(&[("prefix", "a"), ("prefix", "b")]))])),
            "Cannot specify more than one prefix rule in a filter."
        );
        assert_eq!(
            code(with_queues(vec![queue(arn, &[OBJECT_CREATED_PUT], rules(&[("contains", "a")]))])),
            "filter rule name must be either prefix or suffix"
        );
        // Same event family, overlapping prefixes: refused, whatever the destination types.
        let overlapping = NotificationConfiguration {
            queue_configurations: Some(vec![queue(arn, &["s3:ObjectCreated:*"], rules(&[("prefix", "images/")]))]),
            lambda_function_configurations: Some(vec![LambdaFunctionConfiguration {
                lambda_function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
                events: vec![OBJECT_CREATED_PUT.into()],
                filter: rules(&[("prefix", "images/jpg/")]),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(code(overlapping).starts_with("Configurations overlap."));
        // Disjoint prefixes, or different event families, may share a bucket.
        let mut disjoint = NotificationConfiguration {
            queue_configurations: Some(vec![
                queue(arn, &["s3:ObjectCreated:*"], rules(&[("prefix", "a/")])),
                queue(arn, &["s3:ObjectCreated:*"], rules(&[("prefix", "b/")])),
                queue(arn, &["s3:ObjectRemoved:*"], None),
            ]),
            topic_configurations: Some(vec![TopicConfiguration {
                topic_arn: "arn:aws:sns:us-east-1:000000000000:t".into(),
                events: vec![OBJECT_CREATED_PUT.into()],
                filter: rules(&[("suffix", ".png")]),
                id: Some("mine".into()),
            }]),
            ..Default::default()
        };
        assert!(check_configuration(&mut disjoint).is_err(), "the .png topic overlaps the a/ and b/ queues");
        disjoint.topic_configurations = None;
        check_configuration(&mut disjoint).unwrap();
    }
}
