//! Shard iterators: `<stream ARN>|1|<base64 of "<position>:<issued millis>">`, the shape of
//! AWS's (the ARN first). The position is the sequence number after which reading continues.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Iterators expire 15 minutes after they are issued, as AWS's do.
pub const MAX_AGE_MILLIS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardIterator {
    pub stream_arn: String,
    /// Records with greater sequence numbers are read next.
    pub after: u64,
    pub issued_millis: i64,
}

impl ShardIterator {
    pub fn encode(&self) -> String {
        let payload = format!("{}:{}", self.after, self.issued_millis);
        format!("{}|1|{}", self.stream_arn, STANDARD.encode(payload))
    }

    /// `None`: not an iterator we issued.
    pub fn decode(s: &str) -> Option<ShardIterator> {
        let (rest, payload) = s.rsplit_once('|')?;
        let stream_arn = rest.strip_suffix("|1")?;
        let payload = String::from_utf8(STANDARD.decode(payload).ok()?).ok()?;
        let (after, issued) = payload.split_once(':')?;
        Some(ShardIterator {
            stream_arn: stream_arn.to_owned(),
            after: after.parse().ok()?,
            issued_millis: issued.parse().ok()?,
        })
    }

    pub fn is_expired(&self, now_millis: i64) -> bool {
        now_millis - self.issued_millis > MAX_AGE_MILLIS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let it = ShardIterator {
            stream_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000".into(),
            after: 42,
            issued_millis: 1_700_000_000_000,
        };
        let s = it.encode();
        assert!(s.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000|1|"));
        assert_eq!(ShardIterator::decode(&s), Some(it.clone()));
        assert_eq!(ShardIterator::decode("garbage"), None);
        assert_eq!(ShardIterator::decode("arn|1|!!!"), None);
        assert_eq!(ShardIterator::decode("arn|2|NDI6MQ=="), None);
        assert!(!it.is_expired(it.issued_millis + MAX_AGE_MILLIS));
        assert!(it.is_expired(it.issued_millis + MAX_AGE_MILLIS + 1));
    }
}
