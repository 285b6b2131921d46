//! The Rust types generated structs use for AWS's blob, timestamp and streaming shapes, and the
//! traits that tie an operation's typed input and output to the codecs.
//!
//! Codecs produce and consume a [`Value`] keyed by member names; handlers see typed structs. The
//! bridge is serde: a blob is a base64 string in the `Value` (as on the awsJson wire), a timestamp
//! is a number of seconds since the epoch, and a streaming payload bypasses the `Value` entirely.

use crate::body::Body;
use crate::error::AwsError;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The protocol-neutral form of inputs and outputs between codecs and typed structs.
pub type Value = serde_json::Value;

/// Binary data (`blob` shapes that are not streamed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Bytes);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(|v| Blob(Bytes::from(v)))
            .map_err(|_| serde::de::Error::custom("Base64 encoded blob is invalid"))
    }
}

/// A point in time with millisecond precision, as AWS timestamps are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    pub millis: i64,
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp { millis: d.as_millis() as i64 }
    }

    pub fn from_secs_f64(secs: f64) -> Self {
        Timestamp { millis: (secs * 1000.0).round() as i64 }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.millis as f64 / 1000.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.millis % 1000 == 0 { s.serialize_i64(self.millis / 1000) } else { s.serialize_f64(self.as_secs_f64()) }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Timestamp::from_secs_f64(f64::deserialize(d)?))
    }
}

/// A payload streamed to or from the client without passing through a [`Value`]
/// (S3 object bodies, Lambda invocation payloads).
#[derive(Default)]
pub struct StreamingBody(pub Option<Body>);

impl std::fmt::Debug for StreamingBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "StreamingBody(..)" } else { "StreamingBody(empty)" })
    }
}

impl StreamingBody {
    /// A payload of fixed bytes.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        StreamingBody(Some(crate::body::full(bytes)))
    }

    /// Reads the whole payload, failing with `EntityTooLarge` past `limit` bytes.
    pub async fn collect(self, limit: usize) -> Result<Bytes, AwsError> {
        match self.0 {
            None => Ok(Bytes::new()),
            Some(body) => crate::body::collect(body, limit).await,
        }
    }
}

/// The typed input of an operation. Generated structs implement it; a struct with a streaming or
/// blob payload member overrides [`Input::set_payload`] to receive the body.
pub trait Input: DeserializeOwned + Send + 'static {
    /// Takes the HTTP body bound to the payload member.
    fn set_payload(&mut self, _payload: StreamingBody) {}
}

/// The typed output of an operation; [`Output::take_payload`] hands a payload member to the codec.
pub trait Output: Serialize + Send + 'static {
    fn take_payload(&mut self) -> Option<StreamingBody> {
        None
    }
}

impl Input for () {}
impl Output for () {}

/// Binds an operation's name to its typed input and output. The generator writes one unit struct
/// per served operation implementing it, so a handler table is checked by the compiler.
pub trait OperationSpec: Send + Sync + 'static {
    const NAME: &'static str;
    type Input: Input;
    type Output: Output;
}

/// Converts a decoded [`Value`] to the typed input of an operation.
pub fn input_from_value<I: Input>(value: Value, payload: Option<StreamingBody>) -> Result<I, AwsError> {
    let value = if value.is_null() { Value::Object(Default::default()) } else { value };
    let mut input: I = match serde_json::from_value(value) {
        Ok(input) => input,
        // `()` inputs deserialize only from null.
        Err(_) if std::mem::size_of::<I>() == 0 => serde_json::from_value(Value::Null)
            .map_err(|e| AwsError::bad_request("SerializationException", e.to_string()))?,
        Err(e) => return Err(AwsError::bad_request("SerializationException", e.to_string())),
    };
    if let Some(payload) = payload {
        input.set_payload(payload);
    }
    Ok(input)
}

/// Converts a typed output to a [`Value`] and its payload.
pub fn output_to_value<O: Output>(mut output: O) -> Result<(Value, Option<StreamingBody>), AwsError> {
    let payload = output.take_payload();
    let value = serde_json::to_value(&output).map_err(|e| AwsError::internal(e.to_string()))?;
    Ok((value, payload))
}
