//! Queue attributes: AWS's names, defaults, ranges and the dead-letter redrive policy.

use crate::errors::*;
use ruststack_core::AwsError;
use std::collections::BTreeMap;

/// Attributes a client may set (FifoQueue only when creating).
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

/// Attributes computed by the queue, readable with GetQueueAttributes.
pub const COMPUTED: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

pub fn is_known(name: &str) -> bool {
    name == "All" || SETTABLE.contains(&name) || COMPUTED.contains(&name)
}

/// Where and after how many receives a queue's messages go to a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// A queue's settable attributes, as stored text (what GetQueueAttributes answers) and parsed.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub text: BTreeMap<&'static str, String>,
    pub fifo: bool,
    pub visibility_timeout: u32,
    pub retention: u32,
    pub delay: u32,
    pub max_size: u32,
    pub wait: u32,
    pub content_dedup: bool,
    pub dedup_per_group: bool,
    pub redrive: Option<Redrive>,
}

fn int_in(name: &str, value: &str, lo: u32, hi: u32) -> Result<u32, AwsError> {
    value.trim().parse::<u32>().ok().filter(|v| (lo..=hi).contains(v)).ok_or_else(|| invalid_attribute_value(name))
}

fn boolean(name: &str, value: &str) -> Result<bool, AwsError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid_attribute_value(name)),
    }
}

fn static_name(name: &str) -> Option<&'static str> {
    SETTABLE.iter().copied().find(|n| *n == name)
}

/// The largest message SQS takes (1 MiB since August 2025), also the default MaximumMessageSize.
pub const MAX_MESSAGE_SIZE: u32 = 1_048_576;

impl QueueConfig {
    pub fn new(fifo: bool) -> Self {
        let mut text = BTreeMap::new();
        for (k, v) in [
            ("DelaySeconds", "0"),
            ("MaximumMessageSize", "1048576"),
            ("MessageRetentionPeriod", "345600"),
            ("ReceiveMessageWaitTimeSeconds", "0"),
            ("VisibilityTimeout", "30"),
            ("SqsManagedSseEnabled", "true"),
        ] {
            text.insert(k, v.to_owned());
        }
        if fifo {
            text.insert("FifoQueue", "true".into());
            text.insert("ContentBasedDeduplication", "false".into());
            text.insert("DeduplicationScope", "queue".into());
            text.insert("FifoThroughputLimit", "perQueue".into());
        }
        QueueConfig {
            text,
            fifo,
            visibility_timeout: 30,
            retention: 345_600,
            delay: 0,
            max_size: MAX_MESSAGE_SIZE,
            wait: 0,
            content_dedup: false,
            dedup_per_group: false,
            redrive: None,
        }
    }

    /// Validates and applies attributes (all or none).
    pub fn apply(&mut self, attrs: &BTreeMap<String, String>, creating: bool) -> Result<(), AwsError> {
        let mut next = self.clone();
        for (name, value) in attrs {
            next.set(name, value, creating)?;
        }
        if next.fifo
            && next.text.get("FifoThroughputLimit").is_some_and(|v| v == "perMessageGroupId")
            && next.text.get("DeduplicationScope").is_some_and(|v| v == "queue")
        {
            return Err(invalid_attribute_value_reason(
                "Invalid value for the parameter FifoThroughputLimit. Reason: To enable high throughput for FIFO queues, do the following: Set DeduplicationScope to messageGroup. Set FifoThroughputLimit to perMessageGroupId.",
            ));
        }
        *self = next;
        Ok(())
    }

    fn set(&mut self, name: &str, value: &str, creating: bool) -> Result<(), AwsError> {
        let Some(key) = static_name(name) else { return Err(invalid_attribute_name(name)) };
        match key {
            "DelaySeconds" => self.delay = int_in(name, value, 0, 900)?,
            "MaximumMessageSize" => self.max_size = int_in(name, value, 1024, MAX_MESSAGE_SIZE)?,
            "MessageRetentionPeriod" => self.retention = int_in(name, value, 60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => self.wait = int_in(name, value, 0, 20)?,
            "VisibilityTimeout" => self.visibility_timeout = int_in(name, value, 0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => {
                int_in(name, value, 60, 86_400)?;
            }
            "SqsManagedSseEnabled" => {
                boolean(name, value)?;
            }
            "KmsMasterKeyId" => {}
            "Policy" if !value.is_empty() && serde_json::from_str::<serde_json::Value>(value).is_err() => {
                return Err(invalid_attribute_value(name));
            }
            "RedrivePolicy" => {
                self.redrive = if value.is_empty() { None } else { Some(parse_redrive(value)?) };
            }
            "RedriveAllowPolicy" if !value.is_empty() => parse_redrive_allow(value)?,
            "FifoQueue" => {
                let fifo = boolean(name, value)?;
                if !creating || fifo != self.fifo {
                    return Err(if creating { invalid_attribute_value(name) } else { invalid_attribute_name(name) });
                }
                if !fifo {
                    // `FifoQueue=false` on a standard queue is accepted but not reported.
                    return Ok(());
                }
            }
            "ContentBasedDeduplication" => {
                if !self.fifo {
                    return Err(invalid_attribute_name(name));
                }
                self.content_dedup = boolean(name, value)?;
            }
            "DeduplicationScope" => {
                if !self.fifo {
                    return Err(invalid_attribute_name(name));
                }
                match value {
                    "queue" => self.dedup_per_group = false,
                    "messageGroup" => self.dedup_per_group = true,
                    _ => return Err(invalid_attribute_value(name)),
                }
            }
            "FifoThroughputLimit" => {
                if !self.fifo {
                    return Err(invalid_attribute_name(name));
                }
                if value != "perQueue" && value != "perMessageGroupId" {
                    return Err(invalid_attribute_value(name));
                }
            }
            _ => {}
        }
        let stored = match key {
            "ContentBasedDeduplication" | "SqsManagedSseEnabled" | "FifoQueue" => value.to_ascii_lowercase(),
            _ => value.trim().to_owned(),
        };
        if value.is_empty() && matches!(key, "RedrivePolicy" | "RedriveAllowPolicy" | "Policy" | "KmsMasterKeyId") {
            self.text.remove(key);
        } else {
            self.text.insert(key, stored);
        }
        Ok(())
    }
}

fn reason(name: &str, reason: &str) -> AwsError {
    invalid_attribute_value_reason(format!("Value {name} for parameter RedrivePolicy is invalid. Reason: {reason}"))
}

/// Parses `{"deadLetterTargetArn": "...", "maxReceiveCount": "5"}` (the count may be a number).
pub fn parse_redrive(value: &str) -> Result<Redrive, AwsError> {
    let v: serde_json::Value =
        serde_json::from_str(value).map_err(|_| reason(value, "Redrive policy is not a valid JSON map."))?;
    let obj = v.as_object().ok_or_else(|| reason(value, "Redrive policy is not a valid JSON map."))?;
    let arn = obj
        .get("deadLetterTargetArn")
        .and_then(|a| a.as_str())
        .ok_or_else(|| reason(value, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."))?;
    let count = match obj.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.parse().ok(),
        None => return Err(reason(value, "Redrive policy does not contain mandatory attribute: maxReceiveCount.")),
        _ => None,
    }
    .filter(|n| (1..=1000).contains(n))
    .ok_or_else(|| reason(value, "Invalid value for maxReceiveCount: must be an integer from 1 to 1000."))?;
    if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
        return Err(reason(value, "Invalid value for deadLetterTargetArn."));
    }
    Ok(Redrive { dead_letter_target_arn: arn.to_owned(), max_receive_count: count as u32 })
}

fn parse_redrive_allow(value: &str) -> Result<(), AwsError> {
    let bad = || {
        invalid_attribute_value_reason(format!(
            "Value {value} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format."
        ))
    };
    let v: serde_json::Value = serde_json::from_str(value).map_err(|_| bad())?;
    match v.get("redrivePermission").and_then(|p| p.as_str()) {
        Some("allowAll" | "denyAll") => Ok(()),
        Some("byQueue") if v.get("sourceQueueArns").is_some_and(|a| a.is_array()) => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn validates_ranges_and_names() {
        let mut c = QueueConfig::new(false);
        assert!(c.apply(&attrs(&[("VisibilityTimeout", "60"), ("DelaySeconds", "5")]), true).is_ok());
        assert_eq!((c.visibility_timeout, c.delay), (60, 5));
        let e = c.apply(&attrs(&[("VisibilityTimeout", "43201")]), false).unwrap_err();
        assert_eq!(e.code, "InvalidAttributeValue");
        assert_eq!(c.apply(&attrs(&[("Bogus", "1")]), false).unwrap_err().code, "InvalidAttributeName");
        assert_eq!(
            c.apply(&attrs(&[("ContentBasedDeduplication", "true")]), true).unwrap_err().code,
            "InvalidAttributeName"
        );
        // All or nothing.
        assert!(c.apply(&attrs(&[("DelaySeconds", "7"), ("MaximumMessageSize", "10")]), false).is_err());
        assert_eq!(c.delay, 5);
    }

    #[test]
    fn redrive_policy() {
        let r =
            parse_redrive(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#)
                .unwrap();
        assert_eq!(r.max_receive_count, 3);
        assert!(
            parse_redrive(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0}"#)
                .is_err()
        );
        assert!(parse_redrive("nope").is_err());
    }
}
