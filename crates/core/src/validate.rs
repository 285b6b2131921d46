//! AWS's input validation, driven by the model: types first (a wrong JSON type is a
//! `SerializationException`), then the constraints every AWS front end checks before business
//! logic — required members, enum values, lengths, ranges and patterns — reported all at once as
//! `N validation errors detected: Value 'x' at 'path' failed to satisfy constraint: …`.

use crate::error::AwsError;
use crate::shape::{Range, ServiceModel, ShapeId, ShapeKind};
use crate::types::Value;
use parking_lot::RwLock;
use regex::Regex;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Checks `value` against the input shape `shape`.
pub fn validate(model: &ServiceModel, shape: ShapeId, value: &Value) -> Result<(), AwsError> {
    let mut v = Validator { model, problems: Vec::new() };
    v.check(shape, value, "")?;
    if v.problems.is_empty() {
        return Ok(());
    }
    let count = v.problems.len();
    let plural = if count == 1 { "error" } else { "errors" };
    Err(AwsError::bad_request(
        model.validation_error,
        format!("{count} validation {plural} detected: {}", v.problems.join("; ")),
    ))
}

struct Validator<'m> {
    model: &'m ServiceModel,
    problems: Vec<String>,
}

/// `TableName` → `tableName`, as AWS names members in validation messages.
fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "VALUE_TRUE",
        Value::Bool(false) => "VALUE_FALSE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn type_error(value: &Value, expected: &str) -> AwsError {
    AwsError::bad_request("SerializationException", format!("{} cannot be converted to {expected}", json_kind(value)))
}

fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(display).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

impl Validator<'_> {
    fn problem(&mut self, value: &Value, path: &str, constraint: impl std::fmt::Display) {
        let shown = match value {
            Value::Null => " null".to_owned(),
            _ if !self.model.validation_shows_values => String::new(),
            _ => format!(" '{}'", display(value)),
        };
        self.problems.push(format!("Value{shown} at '{path}' failed to satisfy constraint: Member must {constraint}"));
    }

    fn length(&mut self, value: &Value, path: &str, len: usize, range: Range) {
        let len = len as i64;
        if let Some(min) = range.min.filter(|&m| len < m) {
            self.problem(value, path, format!("have length greater than or equal to {min}"));
        }
        if let Some(max) = range.max.filter(|&m| len > m) {
            self.problem(value, path, format!("have length less than or equal to {max}"));
        }
    }

    fn check(&mut self, shape: ShapeId, value: &Value, path: &str) -> Result<(), AwsError> {
        let join =
            |name: &str| if path.is_empty() { lower_first(name) } else { format!("{path}.{}", lower_first(name)) };
        match (&self.model.shape(shape).kind, value) {
            (ShapeKind::Structure(st), Value::Object(obj)) => {
                for member in st.members {
                    match obj.get(member.name).filter(|v| !v.is_null()) {
                        Some(v) => self.check(member.shape, v, &join(member.name))?,
                        // A blob payload travels as the body, never in the value (InvokeAsync's InvokeArgs).
                        None if member.required
                            && !(st.payload == Some(member.name)
                                && matches!(self.model.shape(member.shape).kind, ShapeKind::Blob(_))) =>
                        {
                            self.problem(&Value::Null, &join(member.name), "not be null")
                        }
                        None => {}
                    }
                }
            }
            (ShapeKind::List(list), Value::Array(items)) => {
                self.length(value, path, items.len(), list.length);
                for (i, item) in items.iter().enumerate() {
                    self.check(list.member, item, &format!("{path}.{}.member", i + 1))?;
                }
            }
            (ShapeKind::Map(map), Value::Object(obj)) => {
                self.length(value, path, obj.len(), map.length);
                for (k, v) in obj {
                    self.check(map.key, &Value::String(k.clone()), &format!("{path}.{k}.key"))?;
                    self.check(map.value, v, &format!("{path}.{k}.member"))?;
                }
            }
            (ShapeKind::String(s), Value::String(text)) => {
                // S3 (the restXml service) checks enums in its handlers, with its own error codes.
                if !s.enum_values.is_empty()
                    && self.model.protocol != crate::shape::Protocol::RestXml
                    && !s.enum_values.contains(&text.as_str())
                {
                    self.problem(value, path, format!("satisfy enum value set: [{}]", s.enum_values.join(", ")));
                }
                self.length(value, path, text.chars().count(), s.length);
                if !s.pattern.is_empty() && pattern(s.pattern).is_some_and(|re| !re.is_match(text)) {
                    self.problem(value, path, format!("satisfy regular expression pattern: {}", s.pattern));
                }
            }
            (ShapeKind::Integer(range), Value::Number(n)) => {
                let Some(i) = n.as_i64() else { return Err(type_error(value, "Integer")) };
                if let Some(min) = range.min.filter(|&m| i < m) {
                    self.problem(value, path, format!("have value greater than or equal to {min}"));
                }
                if let Some(max) = range.max.filter(|&m| i > m) {
                    self.problem(value, path, format!("have value less than or equal to {max}"));
                }
            }
            (ShapeKind::Float(range), Value::Number(n)) => {
                let f = n.as_f64().unwrap_or_default();
                if let Some(min) = range.min.filter(|&m| f < m as f64) {
                    self.problem(value, path, format!("have value greater than or equal to {min}"));
                }
                if let Some(max) = range.max.filter(|&m| f > m as f64) {
                    self.problem(value, path, format!("have value less than or equal to {max}"));
                }
            }
            (ShapeKind::Float(_), Value::String(s)) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {}
            (ShapeKind::Boolean, Value::Bool(_)) | (ShapeKind::Document, _) => {}
            (ShapeKind::Timestamp(_), Value::Number(_)) => {}
            (ShapeKind::Blob(b), Value::String(text)) => {
                use base64::Engine;
                let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text) else {
                    return Err(AwsError::bad_request("SerializationException", "Base64 encoded blob is invalid"));
                };
                self.length(value, path, bytes.len(), b.length);
            }
            (kind, _) => {
                let expected = match kind {
                    ShapeKind::Structure(_) | ShapeKind::Map(_) => "Map",
                    ShapeKind::List(_) => "List",
                    ShapeKind::String(_) => "String",
                    ShapeKind::Integer(_) => "Integer",
                    ShapeKind::Float(_) => "Double",
                    ShapeKind::Boolean => "Boolean",
                    ShapeKind::Blob(_) => "Blob",
                    ShapeKind::Timestamp(_) => "Date",
                    ShapeKind::Document => "Document",
                };
                return Err(type_error(value, expected));
            }
        }
        Ok(())
    }
}

/// The compiled form of an AWS pattern, or `None` when our regex engine cannot express it (Java
/// surrogate ranges, …): such a pattern is not checked rather than wrongly refusing valid input.
fn pattern(source: &'static str) -> Option<Regex> {
    static CACHE: OnceLock<RwLock<HashMap<&'static str, Option<Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(re) = cache.read().get(source) {
        return re.clone();
    }
    let compiled = Regex::new(&format!("^(?:{source})$")).ok();
    if compiled.is_none() {
        tracing::debug!(pattern = source, "pattern not checked: not expressible in the regex crate");
    }
    cache.write().insert(source, compiled.clone());
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::*;
    use serde_json::json;

    static SHAPES: [Shape; 4] = [
        Shape {
            name: "Input",
            kind: ShapeKind::Structure(Structure {
                members: &[
                    Member {
                        name: "TableName",
                        shape: 1,
                        location: Location::Body,
                        location_name: "",
                        required: true,
                        flattened: false,
                        xml_attribute: false,
                        xml_namespace: "",
                        timestamp_format: None,
                        idempotency_token: false,
                    },
                    Member {
                        name: "Limit",
                        shape: 2,
                        location: Location::Body,
                        location_name: "",
                        required: false,
                        flattened: false,
                        xml_attribute: false,
                        xml_namespace: "",
                        timestamp_format: None,
                        idempotency_token: false,
                    },
                    Member {
                        name: "Mode",
                        shape: 3,
                        location: Location::Body,
                        location_name: "",
                        required: false,
                        flattened: false,
                        xml_attribute: false,
                        xml_namespace: "",
                        timestamp_format: None,
                        idempotency_token: false,
                    },
                ],
                payload: None,
                xml_name: "",
                union: false,
            }),
        },
        Shape {
            name: "TableName",
            kind: ShapeKind::String(StringShape {
                enum_values: &[],
                length: Range { min: Some(3), max: Some(255) },
                pattern: "[a-zA-Z0-9_.-]+",
            }),
        },
        Shape { name: "Limit", kind: ShapeKind::Integer(Range { min: Some(1), max: Some(100) }) },
        Shape {
            name: "Mode",
            kind: ShapeKind::String(StringShape { enum_values: &["A", "B"], length: Range::NONE, pattern: "" }),
        },
    ];

    static MODEL: ServiceModel = ServiceModel {
        name: "test",
        protocol: Protocol::AwsJson,
        api_version: "",
        target_prefix: "",
        json_version: "1.0",
        xml_namespace: "",
        signing_name: "test",
        validation_error: "ValidationException",
        error_type_prefix: "",
        validation_shows_values: true,
        shapes: &SHAPES,
        operations: &[],
        routes: &[],
        route_table: crate::protocol::rest::RouteTable::new(),
    };

    /// The same shapes in a service whose messages leave values out (CloudWatch Logs).
    static QUIET_MODEL: ServiceModel = ServiceModel {
        name: "quiet",
        protocol: Protocol::AwsJson,
        api_version: "",
        target_prefix: "",
        json_version: "1.1",
        xml_namespace: "",
        signing_name: "quiet",
        validation_error: "InvalidParameterException",
        error_type_prefix: "",
        validation_shows_values: false,
        shapes: &SHAPES,
        operations: &[],
        routes: &[],
        route_table: crate::protocol::rest::RouteTable::new(),
    };

    #[test]
    fn a_service_may_leave_the_value_out() {
        let err = validate(&QUIET_MODEL, 0, &json!({"TableName": "a:*"})).unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Value at 'tableName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        );
        let err = validate(&QUIET_MODEL, 0, &json!({})).unwrap_err();
        assert!(err.message.contains("Value null at 'tableName'"), "{}", err.message);
    }

    fn check(v: Value) -> Result<(), (String, String)> {
        validate(&MODEL, 0, &v).map_err(|e| (e.code.to_string(), e.message))
    }

    #[test]
    fn valid_input_passes() {
        assert_eq!(check(json!({"TableName": "abc", "Limit": 5, "Mode": "A"})), Ok(()));
    }

    #[test]
    fn constraint_messages_match_aws() {
        assert_eq!(
            check(json!({"TableName": "x"})),
            Err((
                "ValidationException".into(),
                "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3".into()
            ))
        );
        let (_, msg) = check(json!({"Limit": 0, "Mode": "C"})).unwrap_err();
        assert_eq!(
            msg,
            "3 validation errors detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null; \
             Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; \
             Value 'C' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: [A, B]"
        );
        let (_, msg) = check(json!({"TableName": "a b c"})).unwrap_err();
        assert!(msg.ends_with("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"), "{msg}");
    }

    #[test]
    fn wrong_json_types_are_serialization_exceptions() {
        assert_eq!(
            check(json!({"TableName": 5})),
            Err(("SerializationException".into(), "NUMBER_VALUE cannot be converted to String".into()))
        );
        assert_eq!(check(json!({"TableName": "abc", "Limit": "5"})).unwrap_err().0, "SerializationException");
        assert_eq!(check(json!({"TableName": "abc", "Limit": 1.5})).unwrap_err().0, "SerializationException");
    }
}
