//! Delivery of published messages: the SNS JSON envelope (or the raw message) to SQS queues
//! through SQS's public handle, and HTTP(S) endpoints (SubscriptionConfirmation, then
//! Notification) with retries. Lambda subscriptions are recorded but not invoked yet: see
//! [`LambdaInvoker`].

use crate::generated::types::MessageAttributeValue;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The seam for Lambda delivery: given a function ARN and the SNS event (`{"Records": [...]}`),
/// invokes the function asynchronously. The Lambda crate provides one once it is ready; until
/// then lambda subscriptions receive nothing.
pub trait LambdaInvoker: Send + Sync {
    fn invoke(&self, function_arn: &str, event: Value);
}

/// One published message on its way to subscribers.
#[derive(Debug, Clone)]
pub struct Published {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: Option<String>,
    /// The message per protocol (MessageStructure json) or the same text for all.
    pub default_message: String,
    pub per_protocol: Option<Map<String, Value>>,
    pub attributes: HashMap<String, MessageAttributeValue>,
    pub timestamp: String,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sequence: Option<String>,
}

impl Published {
    pub fn message_for(&self, protocol: &str) -> &str {
        self.per_protocol
            .as_ref()
            .and_then(|m| m.get(protocol))
            .and_then(Value::as_str)
            .unwrap_or(&self.default_message)
    }
}

pub const SIGNING_CERT_URL: &str =
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem";

/// The JSON document SNS delivers when the subscription is not raw.
pub fn envelope(p: &Published, protocol: &str, unsubscribe_url: &str) -> String {
    let mut doc = Map::new();
    doc.insert("Type".into(), json!("Notification"));
    doc.insert("MessageId".into(), json!(p.message_id));
    if let Some(seq) = &p.sequence {
        doc.insert("SequenceNumber".into(), json!(seq));
    }
    doc.insert("TopicArn".into(), json!(p.topic_arn));
    if let Some(s) = &p.subject {
        doc.insert("Subject".into(), json!(s));
    }
    doc.insert("Message".into(), json!(p.message_for(protocol)));
    doc.insert("Timestamp".into(), json!(p.timestamp));
    doc.insert("SignatureVersion".into(), json!("1"));
    doc.insert("Signature".into(), json!("EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q="));
    doc.insert("SigningCertURL".into(), json!(SIGNING_CERT_URL));
    doc.insert("UnsubscribeURL".into(), json!(unsubscribe_url));
    if !p.attributes.is_empty() {
        let attrs: Map<String, Value> = p
            .attributes
            .iter()
            .map(|(k, v)| {
                let value = match (&v.string_value, &v.binary_value) {
                    (Some(s), _) => s.clone(),
                    (None, Some(b)) => {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.encode(&b.0)
                    }
                    _ => String::new(),
                };
                let ty = if v.data_type.starts_with("Binary") { "Binary" } else { v.data_type.as_str() };
                (k.clone(), json!({"Type": ty, "Value": value}))
            })
            .collect();
        doc.insert("MessageAttributes".into(), Value::Object(attrs));
    }
    Value::Object(doc).to_string()
}

/// The Lambda event record SNS sends a function.
pub fn lambda_event(p: &Published, subscription_arn: &str, unsubscribe_url: &str) -> Value {
    let envelope: Value = serde_json::from_str(&envelope(p, "lambda", unsubscribe_url)).unwrap_or(Value::Null);
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": envelope,
    }]})
}

/// Converts SNS message attributes to SQS ones (raw delivery keeps them as attributes).
pub fn sqs_attributes(
    attrs: &HashMap<String, MessageAttributeValue>,
) -> HashMap<String, ruststack_sqs::MessageAttributeValue> {
    attrs
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                ruststack_sqs::MessageAttributeValue {
                    data_type: v.data_type.clone(),
                    string_value: v.string_value.clone(),
                    binary_value: v.binary_value.clone(),
                    ..Default::default()
                },
            )
        })
        .collect()
}

/// POSTs a JSON document to an http:// endpoint, retrying `retries` times on failure or a
/// status outside 2xx.
pub fn post_with_retries(url: String, headers: Vec<(&'static str, String)>, body: String, retries: u32) {
    tokio::spawn(async move {
        let body = Arc::<str>::from(body);
        for attempt in 0..=retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * attempt as u64)).await;
            }
            match tokio::time::timeout(Duration::from_secs(15), http_post(&url, &headers, &body)).await {
                Ok(Ok(status)) if (200..300).contains(&status) => return,
                _ => {}
            }
        }
    });
}

/// A minimal HTTP/1.1 POST (SNS delivers to local test servers; https endpoints are recorded
/// but not called). Returns the response status.
async fn http_post(url: &str, headers: &[(&'static str, String)], body: &str) -> std::io::Result<u16> {
    let rest =
        url.strip_prefix("http://").ok_or_else(|| std::io::Error::other("only http:// endpoints are delivered to"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') { authority.to_owned() } else { format!("{authority}:80") };
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: Amazon Simple Notification Service Agent\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(k);
        req.push_str(": ");
        req.push_str(v);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut buf = [0u8; 64];
    let n = stream.read(&mut buf).await?;
    let line = std::str::from_utf8(&buf[..n]).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("bad status line"))
}
