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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::rest::RouteTable;
    use crate::shape::*;
    use serde_json::json;

    const M: Member = Member {
        name: "",
        shape: 0,
        location: Location::Body,
        location_name: "",
        required: false,
        flattened: false,
        xml_attribute: false,
        xml_namespace: "",
        timestamp_format: None,
        idempotency_token: false,
    };
    const S: ShapeKind = ShapeKind::String(StringShape { enum_values: &[], length: Range::NONE, pattern: "" });

    static SHAPES: [Shape; 7] = [
        Shape {
            name: "Input",
            kind: ShapeKind::Structure(Structure {
                members: &[
                    Member { name: "Name", shape: 1, ..M },
                    Member { name: "Tags", shape: 2, ..M },
                    Member { name: "Attributes", shape: 4, ..M },
                    Member { name: "Count", shape: 5, ..M },
                    Member { name: "Flag", shape: 6, ..M },
                ],
                payload: None,
                xml_name: "",
                union: false,
            }),
        },
        Shape { name: "String", kind: S },
        Shape {
            name: "TagList",
            kind: ShapeKind::List(List { member: 3, member_name: "", flattened: false, length: Range::NONE }),
        },
        Shape {
            name: "Tag",
            kind: ShapeKind::Structure(Structure {
                members: &[Member { name: "Key", shape: 1, ..M }, Member { name: "Value", shape: 1, ..M }],
                payload: None,
                xml_name: "",
                union: false,
            }),
        },
        Shape {
            name: "AttributeMap",
            kind: ShapeKind::Map(crate::shape::Map {
                key: 1,
                value: 1,
                key_name: "",
                value_name: "",
                flattened: false,
                length: Range::NONE,
            }),
        },
        Shape { name: "Count", kind: ShapeKind::Integer(Range::NONE) },
        Shape { name: "Flag", kind: ShapeKind::Boolean },
    ];

    static OPS: [Operation; 1] = [Operation {
        name: "DoThing",
        method: "POST",
        uri: "/",
        input: Some(0),
        output: Some(0),
        result_wrapper: "DoThingResult",
        status: 200,
    }];

    static MODEL: ServiceModel = ServiceModel {
        name: "test",
        protocol: Protocol::AwsQuery,
        api_version: "2010-05-08",
        target_prefix: "",
        json_version: "",
        xml_namespace: "https://example.com/doc/",
        signing_name: "test",
        validation_error: "ValidationError",
        error_type_prefix: "",
        validation_shows_values: true,
        shapes: &SHAPES,
        operations: &OPS,
        routes: &[],
        route_table: RouteTable::new(),
    };

    fn params(body: &str) -> Value {
        params_to_value(&MODEL, 0, &parse_form(body.as_bytes())).unwrap()
    }

    #[test]
    fn reads_scalars_lists_of_structures_and_maps() {
        let v = params(
            "Action=DoThing&Name=a%20b&Count=3&Flag=true&Tags.member.1.Key=k1&Tags.member.1.Value=v1\
             &Tags.member.2.Key=k2&Attributes.entry.1.key=x&Attributes.entry.1.value=y",
        );
        assert_eq!(
            v,
            json!({"Name": "a b", "Count": 3, "Flag": true,
                   "Tags": [{"Key": "k1", "Value": "v1"}, {"Key": "k2"}], "Attributes": {"x": "y"}})
        );
    }

    #[test]
    fn empty_list_and_gaps() {
        assert_eq!(params("Tags="), json!({"Tags": []}));
        // Items stop at the first missing index, as AWS reads them.
        assert_eq!(params("Tags.member.2.Key=k"), json!({}));
    }

    #[test]
    fn malformed_scalars_are_client_errors() {
        for body in ["Count=x", "Flag=yes", "Count=1.5"] {
            let err = params_to_value(&MODEL, 0, &parse_form(body.as_bytes())).unwrap_err();
            assert_eq!(err.status, 400, "{body}");
        }
    }

    #[test]
    fn renders_result_wrapper_metadata_and_escapes() {
        let out = json!({"Name": "<a&b>", "Tags": [{"Key": "k"}], "Attributes": {"x": "y"}, "Flag": false});
        let xml = render_response(&MODEL, &OPS[0], &out, "req-1");
        assert_eq!(
            xml,
            "<DoThingResponse xmlns=\"https://example.com/doc/\"><DoThingResult><Name>&lt;a&amp;b&gt;</Name>\
             <Tags><member><Key>k</Key></member></Tags><Attributes><entry><key>x</key><value>y</value></entry>\
             </Attributes><Flag>false</Flag></DoThingResult><ResponseMetadata><RequestId>req-1</RequestId>\
             </ResponseMetadata></DoThingResponse>"
        );
    }

    #[test]
    fn renders_errors_with_sender_fault() {
        let err = AwsError::bad_request("NoSuchEntity", "The user with name x cannot be found.");
        let xml = render_error("https://example.com/doc/", &err, "req-2");
        assert_eq!(
            xml,
            "<ErrorResponse xmlns=\"https://example.com/doc/\"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>\
             <Message>The user with name x cannot be found.</Message></Error><RequestId>req-2</RequestId></ErrorResponse>"
        );
    }
}
