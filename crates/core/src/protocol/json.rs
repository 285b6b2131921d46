//! JSON bodies: awsJson 1.0 / 1.1 requests and responses, and the JSON payloads of restJson1.
//!
//! The canonical [`Value`] already is the awsJson wire form (blobs base64, timestamps epoch
//! seconds), so decoding is a parse and encoding drops the absent (null) members.

use crate::error::AwsError;
use crate::types::Value;
use bytes::Bytes;

/// Parses a JSON request body; an empty body is an empty object, as the SDKs send `{}`.
pub fn parse_body(bytes: &[u8]) -> Result<Value, AwsError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        AwsError::bad_request("SerializationException", format!("Could not parse the request body as JSON: {e}"))
    })?;
    if !value.is_object() {
        return Err(AwsError::bad_request("SerializationException", "The request body must be a JSON object"));
    }
    Ok(value)
}

/// Removes null members (absent optional members) recursively.
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Serializes an output value without its null members.
pub fn render(mut value: Value) -> Bytes {
    strip_nulls(&mut value);
    if value.is_null() {
        return Bytes::from_static(b"{}");
    }
    Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_is_empty_object_and_garbage_is_serialization_exception() {
        assert_eq!(parse_body(b"").unwrap(), serde_json::json!({}));
        assert_eq!(parse_body(b"  \n").unwrap(), serde_json::json!({}));
        for bad in [&b"{"[..], b"[1]", b"\"s\"", b"{\"a\":}", b"\xff"] {
            let err = parse_body(bad).unwrap_err();
            assert_eq!(err.code, "SerializationException");
            assert_eq!(err.status, 400);
        }
    }

    #[test]
    fn render_drops_nulls_at_every_depth() {
        let v = serde_json::json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]});
        assert_eq!(&render(v)[..], br#"{"b":{"d":1},"e":[{}]}"#);
        assert_eq!(&render(Value::Null)[..], b"{}");
    }
}
