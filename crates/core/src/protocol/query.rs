//! awsQuery: form-encoded requests (`Action=…&Version=…&Tags.member.1.Key=…`) read into a
//! [`Value`] by walking the input shape, and XML responses with `ResponseMetadata`.

use super::scalar;
use super::xml::XmlWriter;
use crate::error::AwsError;
use crate::shape::{Operation, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use crate::types::Value;
use serde_json::Map;
use std::collections::HashMap;

/// The form parameters of a request body.
pub type Params = HashMap<String, String>;

/// Parses an `application/x-www-form-urlencoded` body.
pub fn parse_form(bytes: &[u8]) -> Params {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// Builds the input value of `shape` from the form parameters.
pub fn params_to_value(model: &ServiceModel, shape: ShapeId, params: &Params) -> Result<Value, AwsError> {
    Ok(read_node(model, shape, "", params)?.unwrap_or_else(|| Value::Object(Map::new())))
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// Reads the value of `shape` stored under `prefix` (`None` when nothing is there).
fn read_node(model: &ServiceModel, shape: ShapeId, prefix: &str, params: &Params) -> Result<Option<Value>, AwsError> {
    match &model.shape(shape).kind {
        ShapeKind::Structure(st) => {
            let mut out = Map::new();
            for member in st.members {
                let key = join(prefix, member.wire_name());
                let flattened = member.flattened;
                let value = match &model.shape(member.shape).kind {
                    ShapeKind::List(list) => read_list(model, list, &key, flattened || list.flattened, params)?,
                    ShapeKind::Map(map) => read_map(model, map, &key, flattened || map.flattened, params)?,
                    _ => read_node(model, member.shape, &key, params)?,
                };
                if let Some(v) = value {
                    out.insert(member.name.to_owned(), v);
                }
            }
            // A nested structure is present only if one of its members is.
            Ok((prefix.is_empty() || !out.is_empty()).then_some(Value::Object(out)))
        }
        ShapeKind::List(list) => read_list(model, list, prefix, list.flattened, params),
        ShapeKind::Map(map) => read_map(model, map, prefix, map.flattened, params),
        _ => match params.get(prefix) {
            Some(text) => Ok(Some(scalar::from_text(model, shape, text, TimestampFormat::Iso8601)?)),
            None => Ok(None),
        },
    }
}

fn read_list(
    model: &ServiceModel,
    list: &crate::shape::List,
    key: &str,
    flattened: bool,
    params: &Params,
) -> Result<Option<Value>, AwsError> {
    // `Key=` with an empty value is how the SDKs send an empty list.
    if params.get(key).is_some_and(|v| v.is_empty()) {
        return Ok(Some(Value::Array(Vec::new())));
    }
    let item_prefix = if flattened {
        key.to_owned()
    } else {
        join(key, if list.member_name.is_empty() { "member" } else { list.member_name })
    };
    let mut items = Vec::new();
    for i in 1.. {
        match read_node(model, list.member, &format!("{item_prefix}.{i}"), params)? {
            Some(v) => items.push(v),
            None => break,
        }
    }
    Ok((!items.is_empty()).then_some(Value::Array(items)))
}

fn read_map(
    model: &ServiceModel,
    map: &crate::shape::Map,
    key: &str,
    flattened: bool,
    params: &Params,
) -> Result<Option<Value>, AwsError> {
    let entry_prefix = if flattened { key.to_owned() } else { join(key, "entry") };
    let key_name = if map.key_name.is_empty() { "key" } else { map.key_name };
    let value_name = if map.value_name.is_empty() { "value" } else { map.value_name };
    let mut out = Map::new();
    for i in 1.. {
        let entry = format!("{entry_prefix}.{i}");
        let Some(k) = params.get(&join(&entry, key_name)) else { break };
        let v = read_node(model, map.value, &join(&entry, value_name), params)?.unwrap_or(Value::Null);
        out.insert(k.clone(), v);
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// Renders `<OpResponse><OpResult>…</OpResult><ResponseMetadata>…</ResponseMetadata></OpResponse>`.
pub fn render_response(model: &ServiceModel, op: &Operation, output: &Value, request_id: &str) -> String {
    let mut w = XmlWriter::new(model);
    let root = format!("{}Response", op.name);
    w.open(&root, model.xml_namespace);
    if let Some(shape) = op.output {
        let wrapper =
            if op.result_wrapper.is_empty() { format!("{}Result", op.name) } else { op.result_wrapper.to_owned() };
        w.open(&wrapper, "");
        w.members(shape, output, |_| false);
        w.close(&wrapper);
    }
    w.open("ResponseMetadata", "");
    w.text_element("RequestId", request_id);
    w.close("ResponseMetadata");
    w.close(&root);
    w.out
}

/// Renders an awsQuery error document.
pub fn render_error(xmlns: &str, err: &AwsError, request_id: &str) -> String {
    let mut s = String::with_capacity(256);
    s.push_str("<ErrorResponse");
    if !xmlns.is_empty() {
        s.push_str(" xmlns=\"");
        s.push_str(xmlns);
        s.push('"');
    }
    s.push_str("><Error><Type>");
    s.push_str(if err.sender_fault { "Sender" } else { "Receiver" });
    s.push_str("</Type><Code>");
    super::xml::escape_into(&mut s, &err.code);
    s.push_str("</Code><Message>");
    super::xml::escape_into(&mut s, &err.message);
    s.push_str("</Message>");
    for (name, value) in &err.fields {
        s.push('<');
        s.push_str(name);
        s.push('>');
        super::xml::escape_into(&mut s, &value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()));
        s.push_str("</");
        s.push_str(name);
        s.push('>');
    }
    s.push_str("</Error><RequestId>");
    s.push_str(request_id);
    s.push_str("</RequestId></ErrorResponse>");
    s
}
