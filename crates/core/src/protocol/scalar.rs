//! Scalars as text: how a header, query parameter, URI label, form field or XML element carries a
//! number, boolean, timestamp or blob, in both directions.

use crate::error::AwsError;
use crate::shape::{ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use crate::types::Value;
use time::OffsetDateTime;
use time::format_description::well_known::{Iso8601, Rfc3339};

fn invalid(kind: &str, text: &str) -> AwsError {
    AwsError::bad_request("SerializationException", format!("Value '{text}' is not a valid {kind}"))
}

/// Parses the text form of a scalar shape into its [`Value`] (timestamps become epoch seconds).
pub fn from_text(model: &ServiceModel, shape: ShapeId, text: &str, format: TimestampFormat) -> Result<Value, AwsError> {
    let text_trimmed = text.trim();
    Ok(match &model.shape(shape).kind {
        ShapeKind::Integer(_) => Value::from(text_trimmed.parse::<i64>().map_err(|_| invalid("integer", text))?),
        ShapeKind::Float(_) => {
            let f = match text_trimmed {
                "NaN" | "Infinity" | "-Infinity" => return Ok(Value::from(text_trimmed)),
                t => t.parse::<f64>().map_err(|_| invalid("number", text))?,
            };
            serde_json::Number::from_f64(f).map(Value::Number).ok_or_else(|| invalid("number", text))?
        }
        ShapeKind::Boolean => match text_trimmed {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(invalid("boolean", text)),
        },
        ShapeKind::Timestamp(shape_format) => {
            let secs = parse_timestamp(text_trimmed, shape_format.unwrap_or(format))
                .ok_or_else(|| invalid("timestamp", text))?;
            timestamp_value(secs)
        }
        // Strings, enums and base64 blobs keep their text.
        _ => Value::String(text.to_owned()),
    })
}

/// The [`Value`] of a timestamp: whole seconds as an integer, else fractional.
pub fn timestamp_value(secs: f64) -> Value {
    if secs.fract() == 0.0 && secs.abs() < 9.0e15 {
        Value::from(secs as i64)
    } else {
        serde_json::Number::from_f64(secs).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// Parses a timestamp in any of AWS's formats, trying the expected one first.
pub fn parse_timestamp(text: &str, format: TimestampFormat) -> Option<f64> {
    let epoch = || text.parse::<f64>().ok().filter(|f| f.is_finite());
    let iso = || {
        OffsetDateTime::parse(text, &Rfc3339)
            .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
            .ok()
            .map(|t| t.unix_timestamp_nanos() as f64 / 1e9)
    };
    let http = || {
        httpdate::parse_http_date(text)
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs_f64())
    };
    match format {
        TimestampFormat::UnixTimestamp => epoch().or_else(iso).or_else(http),
        TimestampFormat::Rfc822 => http().or_else(iso).or_else(epoch),
        TimestampFormat::Iso8601 => iso().or_else(epoch).or_else(http),
    }
}

/// Formats epoch seconds in a timestamp format.
pub fn format_timestamp(secs: f64, format: TimestampFormat) -> String {
    match format {
        TimestampFormat::UnixTimestamp => {
            if secs.fract() == 0.0 {
                format!("{}", secs as i64)
            } else {
                format!("{secs}")
            }
        }
        TimestampFormat::Rfc822 => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0.0) as u64);
            httpdate::fmt_http_date(t)
        }
        TimestampFormat::Iso8601 => {
            let millis = (secs * 1000.0).round() as i128;
            match OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000) {
                Ok(t) => format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                    t.year(),
                    t.month() as u8,
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    t.millisecond()
                ),
                Err(_) => String::new(),
            }
        }
    }
}

/// The text form of a scalar [`Value`] of a shape.
pub fn to_text(model: &ServiceModel, shape: ShapeId, value: &Value, format: TimestampFormat) -> String {
    match (&model.shape(shape).kind, value) {
        (ShapeKind::Timestamp(shape_format), Value::Number(n)) => {
            format_timestamp(n.as_f64().unwrap_or_default(), shape_format.unwrap_or(format))
        }
        (_, Value::String(s)) => s.clone(),
        (_, Value::Null) => String::new(),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_every_format() {
        let secs = 1_700_000_000.123;
        let iso = format_timestamp(secs, TimestampFormat::Iso8601);
        assert_eq!(iso, "2023-11-14T22:13:20.123Z");
        assert!((parse_timestamp(&iso, TimestampFormat::Iso8601).unwrap() - secs).abs() < 1e-6);
        let http = format_timestamp(1_700_000_000.0, TimestampFormat::Rfc822);
        assert_eq!(http, "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(parse_timestamp(&http, TimestampFormat::Rfc822), Some(1_700_000_000.0));
        assert_eq!(parse_timestamp("1700000000", TimestampFormat::UnixTimestamp), Some(1_700_000_000.0));
        assert_eq!(parse_timestamp("2023-11-14T22:13:20Z", TimestampFormat::Iso8601), Some(1_700_000_000.0));
        assert_eq!(parse_timestamp("yesterday", TimestampFormat::Iso8601), None);
    }
}
