//! Sending: AWS's checks on bodies, attributes, delays and FIFO parameters, then the enqueue.

use crate::digest::{md5_hex, md5_of_attributes};
use crate::errors::*;
use crate::generated::types::{MessageAttributeValue, MessageSystemAttributeValue};
use crate::queue::{Inner, Payload, Queue, Sent, now_ms};
use ruststack_core::AwsError;
use std::collections::HashMap;

/// One message to send, from SendMessage, a batch entry or another service.
pub struct Outgoing {
    pub body: String,
    pub delay_seconds: Option<i32>,
    pub attributes: HashMap<String, MessageAttributeValue>,
    pub system_attributes: HashMap<String, MessageSystemAttributeValue>,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sender_id: String,
    pub dlq_source_arn: Option<String>,
}

/// What SendMessage reports.
#[derive(Debug)]
pub struct SendOutcome {
    pub message_id: String,
    pub md5_body: String,
    pub md5_attributes: Option<String>,
    pub md5_system_attributes: Option<String>,
    pub sequence: Option<String>,
}

pub fn new_message_id() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn valid_body_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn attribute_size(name: &str, v: &MessageAttributeValue) -> usize {
    name.len()
        + v.data_type.len()
        + v.string_value.as_ref().map_or(0, String::len)
        + v.binary_value.as_ref().map_or(0, |b| b.0.len())
}

/// Checks message attributes the way SQS does.
pub fn validate_attributes(attributes: &HashMap<String, MessageAttributeValue>) -> Result<(), AwsError> {
    if attributes.len() > 10 {
        return Err(invalid_parameter_value(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attributes.len()
        )));
    }
    for (name, v) in attributes {
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.to_ascii_lowercase().starts_with("aws.")
            && !name.to_ascii_lowercase().starts_with("amazon.");
        if !name_ok {
            return Err(invalid_parameter_value(format!(
                "Message (user) attribute name '{name}' is invalid. The attribute name can contain A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters."
            )));
        }
        if v.data_type.is_empty() {
            return Err(invalid_parameter_value(format!(
                "The message attribute '{name}' must contain non-empty message attribute type."
            )));
        }
        let base = v.data_type.split('.').next().unwrap_or("");
        match base {
            "String" | "Number" => {
                let Some(s) = v.string_value.as_deref().filter(|s| !s.is_empty()) else {
                    return Err(invalid_parameter_value(format!(
                        "The message attribute '{name}' with type '{base}' must use field 'String'."
                    )));
                };
                if base == "Number" && s.trim().parse::<f64>().is_err() {
                    return Err(invalid_parameter_value(format!(
                        "Can't cast the value of message (user) attribute '{name}' to a number."
                    )));
                }
                if base == "String" && !s.chars().all(valid_body_char) {
                    return Err(invalid_message_contents());
                }
            }
            "Binary" => {
                if v.binary_value.as_ref().is_none_or(|b| b.0.is_empty()) {
                    return Err(invalid_parameter_value(format!(
                        "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                    )));
                }
            }
            _ => {
                return Err(invalid_parameter_value(format!(
                    "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
                )));
            }
        }
    }
    Ok(())
}

/// The size SQS counts against MaximumMessageSize: body plus attribute names, types and values.
pub fn message_size(out: &Outgoing) -> usize {
    out.body.len() + out.attributes.iter().map(|(k, v)| attribute_size(k, v)).sum::<usize>()
}

/// Validates, enqueues and stores a message, or reports the earlier send a FIFO duplicate repeats.
pub fn send(q: &Queue, out: Outgoing) -> Result<SendOutcome, AwsError> {
    let mut sent = send_all(q, vec![out])?;
    sent.pop().unwrap_or_else(|| Err(AwsError::internal("no message was sent")))
}

/// Sends messages of one request (SendMessageBatch): each is checked and enqueued on its own,
/// and everything enqueued is stored in one write. `Err` when that write fails.
pub fn send_all(q: &Queue, outs: Vec<Outgoing>) -> Result<Vec<Result<SendOutcome, AwsError>>, AwsError> {
    let checked: Vec<_> = outs.into_iter().map(|o| check(q, o)).collect();
    let now = now_ms();
    let mut inner = q.inner.lock();
    let results: Vec<_> = checked.into_iter().map(|c| c.and_then(|c| enqueue(q, &mut inner, c, now))).collect();
    if results.iter().any(Result::is_ok) {
        q.commit(&mut inner)?;
    }
    drop(inner);
    q.notify.notify_waiters();
    Ok(results)
}

/// A message that passed the checks that need no queue state.
pub struct Checked {
    out: Outgoing,
    trace_header: Option<String>,
    md5_body: String,
    md5_attributes: Option<String>,
    md5_system_attributes: Option<String>,
}

fn check(q: &Queue, out: Outgoing) -> Result<Checked, AwsError> {
    if out.body.is_empty() {
        return Err(missing_parameter("MessageBody"));
    }
    if !out.body.chars().all(valid_body_char) {
        return Err(invalid_message_contents());
    }
    validate_attributes(&out.attributes)?;
    let trace_header = match out.system_attributes.len() {
        0 => None,
        _ => {
            let mut trace = None;
            for (name, v) in &out.system_attributes {
                if name != "AWSTraceHeader" {
                    return Err(invalid_parameter_value(format!("Message system attribute name '{name}' is invalid.")));
                }
                if v.data_type != "String" || v.string_value.as_deref().is_none_or(str::is_empty) {
                    return Err(invalid_parameter_value(
                        "The message system attribute 'AWSTraceHeader' must use data type 'String' with a non-empty value.",
                    ));
                }
                trace = v.string_value.clone();
            }
            trace
        }
    };
    if let Some(d) = out.delay_seconds
        && !(0..=900).contains(&d)
    {
        return Err(invalid_parameter_value(format!(
            "Value {d} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
        )));
    }
    let fifo = q.is_fifo();
    if fifo {
        if out.delay_seconds.is_some_and(|d| d > 0) {
            return Err(invalid_parameter_value(format!(
                "Value {} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.",
                out.delay_seconds.unwrap_or(0)
            )));
        }
        if out.group_id.as_deref().is_none_or(str::is_empty) {
            return Err(missing_parameter("MessageGroupId"));
        }
        for (what, v) in [("MessageGroupId", &out.group_id), ("MessageDeduplicationId", &out.dedup_id)] {
            if let Some(v) = v
                && (v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(invalid_parameter_value(format!(
                    "Value {v} for parameter {what} is invalid. Reason: {what} can only include alphanumeric and punctuation characters. 1 to 128 in length."
                )));
            }
        }
    } else if let Some(d) = &out.dedup_id {
        return Err(invalid_parameter_value(format!(
            "Value {d} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type."
        )));
    }
    let md5_body = md5_hex(out.body.as_bytes());
    let md5_attributes = md5_of_attributes(&out.attributes);
    let md5_system_attributes = trace_header.as_ref().map(|t| {
        let mut m = HashMap::new();
        m.insert(
            "AWSTraceHeader".to_owned(),
            MessageAttributeValue { data_type: "String".into(), string_value: Some(t.clone()), ..Default::default() },
        );
        md5_of_attributes(&m).unwrap_or_default()
    });

    Ok(Checked { out, trace_header, md5_body, md5_attributes, md5_system_attributes })
}

fn enqueue(q: &Queue, inner: &mut Inner, c: Checked, now: i64) -> Result<SendOutcome, AwsError> {
    let Checked { out, trace_header, md5_body, md5_attributes, md5_system_attributes } = c;
    let fifo = q.is_fifo();
    let max_size = inner.config.max_size as usize;
    let size = message_size(&out);
    if size > max_size {
        return Err(invalid_parameter_value(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max_size} bytes."
        )));
    }
    let mut dedup_key = None;
    let mut dedup_id = out.dedup_id.clone();
    if fifo {
        if dedup_id.is_none() {
            if !inner.config.content_dedup {
                return Err(invalid_parameter_value(
                    "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
                ));
            }
            dedup_id = Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(out.body.as_bytes())));
        }
        let id = dedup_id.as_deref().unwrap_or_default();
        let key = if inner.config.dedup_per_group {
            format!("{}\u{0}{id}", out.group_id.as_deref().unwrap_or_default())
        } else {
            id.to_owned()
        };
        if let Some(Sent { message_id, sequence }) = inner.deduplicated(&key, now) {
            return Ok(SendOutcome { message_id, md5_body, md5_attributes, md5_system_attributes, sequence });
        }
        dedup_key = Some(key);
    }
    let message_id = new_message_id();
    let sequence = fifo.then(|| inner.next_sequence(q.created_s));
    let delay = out.delay_seconds.map_or(inner.config.delay, |d| d as u32);
    let payload = Payload {
        id: message_id.clone(),
        body: out.body,
        md5_body: md5_body.clone(),
        attributes: out.attributes,
        md5_attributes: md5_attributes.clone(),
        trace_header,
        sender_id: out.sender_id,
        sent_ms: now,
        group_id: out.group_id,
        dedup_id: if fifo { dedup_id } else { None },
        sequence: sequence.clone(),
        dlq_source_arn: out.dlq_source_arn,
    };
    inner.push(payload, delay, dedup_key, now);
    Ok(SendOutcome { message_id, md5_body, md5_attributes, md5_system_attributes, sequence })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::QueueConfig;
    use std::sync::Arc;

    fn out(body: &str) -> Outgoing {
        Outgoing {
            body: body.into(),
            delay_seconds: None,
            attributes: HashMap::new(),
            system_attributes: HashMap::new(),
            group_id: Some("g".into()),
            dedup_id: None,
            sender_id: "1".into(),
            dlq_source_arn: None,
        }
    }

    #[test]
    fn fifo_deduplicates_by_content_hash() {
        let mut cfg = QueueConfig::new(true);
        cfg.content_dedup = true;
        let q = Queue::new("q.fifo".into(), Arc::from("1"), Arc::from("r"), cfg);
        let a = send(&q, out("x")).unwrap();
        let b = send(&q, out("x")).unwrap();
        assert_eq!(a.message_id, b.message_id);
        assert_eq!(a.sequence, b.sequence);
        let c = send(&q, out("y")).unwrap();
        assert!(c.sequence > a.sequence);
        assert_eq!(q.inner.lock().len(), 2);
    }

    #[test]
    fn rejects_bad_bodies_and_fifo_params() {
        let q = Queue::new("q".into(), Arc::from("1"), Arc::from("r"), QueueConfig::new(false));
        assert_eq!(send(&q, out("")).unwrap_err().code, "MissingParameter");
        assert_eq!(send(&q, out("a\u{1}")).unwrap_err().code, "InvalidMessageContents");
        let big = "x".repeat(1_048_577);
        assert_eq!(send(&q, out(&big)).unwrap_err().code, "InvalidParameterValue");
        let f = Queue::new("q.fifo".into(), Arc::from("1"), Arc::from("r"), QueueConfig::new(true));
        assert_eq!(send(&f, out("x")).unwrap_err().code, "InvalidParameterValue");
        let mut no_group = out("x");
        no_group.group_id = None;
        assert_eq!(send(&f, no_group).unwrap_err().code, "MissingParameter");
    }
}
