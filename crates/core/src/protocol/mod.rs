//! The wire protocols. Each request is decoded here into an operation and a [`Value`], and each
//! answer (or [`AwsError`]) is encoded back in the protocol the request came in. One place parses
//! and one place renders per protocol:
//!
//! | protocol | request | response | errors |
//! |---|---|---|---|
//! | awsJson 1.0/1.1 | [`json::parse_body`] | [`json::render`] | `{"__type", "message"}` |
//! | awsQuery | [`query::params_to_value`] | [`query::render_response`] | [`query::render_error`] |
//! | restXml | [`rest`] bindings + [`xml::element_to_value`] | [`xml::XmlWriter`] | `<Error>` |
//! | restJson1 | [`rest`] bindings + [`json::parse_body`] | [`json::render`] | `x-amzn-ErrorType` |

pub mod json;
pub mod query;
pub mod rest;
pub mod scalar;
pub mod xml;

use crate::body::{self, Body};
use crate::error::AwsError;
use crate::service::OperationResponse;
use crate::shape::{Location, Operation, Protocol, ServiceModel, ShapeKind};
use crate::types::{StreamingBody, Value};
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::Map;

/// The header of awsQuery-compatible JSON errors naming the query error code (`code;Sender`).
pub const QUERY_ERROR_HEADER: &str = "x-amzn-query-error";

/// Largest non-streamed request body we read (a Lambda zip in base64 JSON fits).
pub const MAX_DOCUMENT_BODY: usize = 128 << 20;

/// A request decoded into its operation and input.
pub struct Decoded {
    pub op: &'static Operation,
    pub input: Value,
    pub payload: Option<StreamingBody>,
}

/// Finds the served operation `name`, or explains why there is none.
fn served(model: &'static ServiceModel, protocol: Protocol, name: &str) -> Result<&'static Operation, AwsError> {
    if let Some(op) = model.operation(name) {
        return Ok(op);
    }
    if model.route(name).is_some() {
        return Err(AwsError::not_implemented(model.name, name));
    }
    Err(unknown_operation(model, protocol, name))
}

fn unknown_operation(model: &ServiceModel, protocol: Protocol, name: &str) -> AwsError {
    match protocol {
        Protocol::AwsQuery => AwsError::bad_request(
            "InvalidAction",
            format!("Could not find operation {name} for version {}", model.api_version),
        ),
        _ => AwsError::bad_request("UnknownOperationException", format!("Unknown operation {name}")),
    }
}

/// The protocol a request to `model` speaks: the model's own, except that an awsJson service
/// with an XML namespace (SQS) also accepts the older awsQuery form requests, which carry no
/// `X-Amz-Target`.
pub fn request_protocol(model: &ServiceModel, headers: &http::HeaderMap) -> Protocol {
    if model.protocol == Protocol::AwsJson && !model.xml_namespace.is_empty() && !headers.contains_key("x-amz-target") {
        return Protocol::AwsQuery;
    }
    model.protocol
}

/// Decodes a request for `model` in `protocol` (see [`request_protocol`]). `path` is the request
/// path after virtual-host rewriting.
pub async fn decode(
    model: &'static ServiceModel,
    protocol: Protocol,
    parts: &http::request::Parts,
    path: &str,
    body: Body,
) -> Result<Decoded, AwsError> {
    let decoded = match protocol {
        Protocol::AwsJson => {
            let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
            let name = match target.split_once('.') {
                Some((prefix, name)) if prefix == model.target_prefix => name,
                _ => return Err(unknown_operation(model, protocol, target)),
            };
            let op = served(model, protocol, name)?;
            let bytes = body::collect(body, MAX_DOCUMENT_BODY).await?;
            Decoded { op, input: json::parse_body(&bytes)?, payload: None }
        }
        Protocol::AwsQuery => {
            let bytes = body::collect(body, MAX_DOCUMENT_BODY).await?;
            let mut params = query::parse_form(&bytes);
            // Query-protocol calls may also come as GET with the parameters in the URL.
            for (k, v) in rest::parse_query(parts.uri.query()) {
                params.entry(k).or_insert(v);
            }
            let action = params.get("Action").ok_or_else(|| {
                AwsError::bad_request("MissingAction", "The request must contain the parameter Action.")
            })?;
            let op = served(model, protocol, action)?;
            let input = match op.input {
                Some(shape) => query::params_to_value(model, shape, &params)?,
                None => Value::Null,
            };
            Decoded { op, input, payload: None }
        }
        Protocol::RestXml | Protocol::RestJson => {
            let query = rest::parse_query(parts.uri.query());
            let method = parts.method.as_str();
            let matched = rest::route(model, method, path, &query, &parts.headers)?;
            let op = served(model, protocol, matched.route.name)?;
            let mut input = Map::new();
            let mut payload = None;
            if let Some(shape) = op.input {
                rest::read_bindings(model, shape, &matched.labels, &query, &parts.headers, &mut input)?;
                payload = read_rest_body(model, shape, body, &mut input).await?;
            }
            Decoded { op, input: Value::Object(input), payload }
        }
    };
    if let Some(shape) = decoded.op.input {
        crate::validate::validate(model, shape, &decoded.input)?;
    }
    Ok(decoded)
}

/// Reads the body of a REST request: a streamed payload, a payload document, or body members.
async fn read_rest_body(
    model: &'static ServiceModel,
    input: crate::shape::ShapeId,
    body: Body,
    out: &mut Map<String, Value>,
) -> Result<Option<StreamingBody>, AwsError> {
    let ShapeKind::Structure(st) = &model.shape(input).kind else { return Ok(None) };
    let payload_member = st.payload.and_then(|p| st.member(p));
    if let Some(member) = payload_member {
        match &model.shape(member.shape).kind {
            ShapeKind::Blob(_) => return Ok(Some(StreamingBody(Some(body)))),
            ShapeKind::String(_) => {
                let bytes = body::collect(body, MAX_DOCUMENT_BODY).await?;
                if !bytes.is_empty() {
                    out.insert(member.name.to_owned(), Value::String(String::from_utf8_lossy(&bytes).into_owned()));
                }
                return Ok(None);
            }
            _ => {}
        }
    }
    let has_body_members = st.members.iter().any(|m| m.location == Location::Body);
    if !has_body_members {
        return Ok(None);
    }
    let bytes = body::collect(body, MAX_DOCUMENT_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match (model.protocol, payload_member) {
        (Protocol::RestXml, Some(member)) => {
            let root = xml::parse(&bytes)?;
            out.insert(member.name.to_owned(), xml::element_to_value(model, member.shape, &root)?);
        }
        (Protocol::RestXml, None) => {
            let root = xml::parse(&bytes)?;
            if let Value::Object(members) = xml::element_to_value(model, input, &root)? {
                out.extend(
                    members.into_iter().filter(|(k, _)| st.member(k).is_some_and(|m| m.location == Location::Body)),
                );
            }
        }
        (_, Some(member)) => {
            out.insert(member.name.to_owned(), json::parse_body(&bytes)?);
        }
        (_, None) => {
            if let Value::Object(members) = json::parse_body(&bytes)? {
                out.extend(
                    members.into_iter().filter(|(k, _)| st.member(k).is_some_and(|m| m.location == Location::Body)),
                );
            }
        }
    }
    Ok(None)
}

fn content_type(value: &'static str) -> HeaderValue {
    HeaderValue::from_static(value)
}

fn json_content_type(model: &ServiceModel) -> HeaderValue {
    content_type(if model.json_version == "1.0" { "application/x-amz-json-1.0" } else { "application/x-amz-json-1.1" })
}

/// Encodes a handler's answer in the protocol of the request.
pub fn encode(
    model: &'static ServiceModel,
    protocol: Protocol,
    op: &'static Operation,
    request_id: &str,
    out: OperationResponse,
) -> Response<Body> {
    let mut response = Response::new(body::empty());
    // Room for the output's headers and the gateway's (request ids, CORS) without regrowing.
    *response.headers_mut() = http::HeaderMap::with_capacity(16);
    *response.status_mut() = StatusCode::from_u16(op.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    let body = match protocol {
        Protocol::AwsJson => {
            headers.insert(header::CONTENT_TYPE, json_content_type(model));
            body::full(json::render(out.output))
        }
        Protocol::AwsQuery => {
            headers.insert(header::CONTENT_TYPE, content_type("text/xml"));
            body::full(query::render_response(model, op, &out.output, request_id))
        }
        Protocol::RestXml | Protocol::RestJson => {
            let Some(shape) = op.output else { return response };
            if let Some(status) = rest::write_bindings(model, shape, &out.output, headers) {
                *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            }
            match rest_body(model, shape, out) {
                Some((ct, body)) => {
                    if let Some(ct) = ct {
                        response.headers_mut().entry(header::CONTENT_TYPE).or_insert(content_type(ct));
                    }
                    body
                }
                // S3 answers a HEAD of a bucket with the document type although it sends no body.
                None if protocol == Protocol::RestXml && op.method == "HEAD" => {
                    response.headers_mut().entry(header::CONTENT_TYPE).or_insert(content_type("application/xml"));
                    body::empty()
                }
                None => body::empty(),
            }
        }
    };
    *response.body_mut() = body;
    response
}

/// The body of a REST response and its default content type.
fn rest_body(
    model: &'static ServiceModel,
    shape: crate::shape::ShapeId,
    out: OperationResponse,
) -> Option<(Option<&'static str>, Body)> {
    let ShapeKind::Structure(st) = &model.shape(shape).kind else { return None };
    let xml = model.protocol == Protocol::RestXml;
    if let Some(member) = st.payload.and_then(|p| st.member(p)) {
        let value = out.output.get(member.name);
        return match &model.shape(member.shape).kind {
            ShapeKind::Blob(_) => out.payload.and_then(|p| p.0).map(|b| (None, b)),
            ShapeKind::String(_) => value.and_then(Value::as_str).map(|s| (None, body::full(s.to_owned()))),
            _ => {
                let value = value.filter(|v| !v.is_null())?;
                if xml {
                    let target = model.shape(member.shape);
                    let root = if !member.location_name.is_empty() {
                        member.location_name
                    } else if let ShapeKind::Structure(t) = &target.kind
                        && !t.xml_name.is_empty()
                    {
                        t.xml_name
                    } else {
                        target.name
                    };
                    let mut w = xml::XmlWriter::new(model);
                    w.declaration();
                    let ns = if member.xml_namespace.is_empty() { model.xml_namespace } else { member.xml_namespace };
                    w.node(root, ns, member.shape, value, None);
                    Some((Some("application/xml"), body::full(w.out)))
                } else {
                    Some((Some("application/json"), body::full(json::render(value.clone()))))
                }
            }
        };
    }
    if !st.members.iter().any(|m| m.location == Location::Body) {
        return None;
    }
    if xml {
        let root = if st.xml_name.is_empty() { model.shape(shape).name } else { st.xml_name };
        let mut w = xml::XmlWriter::new(model);
        w.declaration();
        w.root_members(root, model.xml_namespace, shape, &out.output, |m| m.location != Location::Body);
        Some((Some("application/xml"), body::full(w.out)))
    } else {
        let mut obj = out.output;
        if let Value::Object(map) = &mut obj {
            map.retain(|k, _| st.member(k).is_some_and(|m| m.location == Location::Body));
        }
        Some((Some("application/json"), body::full(json::render(obj))))
    }
}

/// Encodes an error in a protocol (`model` gives the awsJson `__type` prefix and query namespace).
pub fn encode_error(
    protocol: Protocol,
    model: Option<&ServiceModel>,
    err: &AwsError,
    request_id: &str,
) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = err.status;
    let headers = response.headers_mut();
    for (name, value) in &err.headers {
        // awsQuery carries the query error code in its document instead (see below).
        if protocol == Protocol::AwsQuery && *name == QUERY_ERROR_HEADER {
            continue;
        }
        if let Ok(v) = HeaderValue::try_from(value.as_str()) {
            headers.insert(*name, v);
        }
    }
    let body: Bytes = match protocol {
        Protocol::AwsJson | Protocol::RestJson => {
            let mut doc = Map::new();
            if protocol == Protocol::AwsJson {
                let prefix = model.map(|m| m.error_type_prefix).unwrap_or("");
                doc.insert("__type".into(), Value::String(format!("{prefix}{}", err.code)));
                headers.insert(
                    header::CONTENT_TYPE,
                    model.map(json_content_type).unwrap_or(content_type("application/x-amz-json-1.1")),
                );
            } else {
                doc.insert("Type".into(), Value::String(if err.sender_fault { "User" } else { "Service" }.into()));
                headers.insert(header::CONTENT_TYPE, content_type("application/json"));
                if let Ok(v) = HeaderValue::try_from(err.code.as_ref()) {
                    headers.insert("x-amzn-errortype", v);
                }
            }
            doc.insert("message".into(), Value::String(err.message.clone()));
            for (name, value) in &err.fields {
                doc.insert((*name).into(), value.clone());
            }
            Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
        }
        Protocol::AwsQuery => {
            headers.insert(header::CONTENT_TYPE, content_type("text/xml"));
            let xmlns = model.map(|m| m.xml_namespace).unwrap_or("");
            // An awsQuery-compatible JSON service (SQS) names its errors by shape in `__type` and
            // by the older query code in `x-amzn-query-error: <code>;<Sender|Receiver>`; a request
            // that came in as awsQuery gets that older code.
            let query_code = err
                .headers
                .iter()
                .find(|(n, _)| *n == QUERY_ERROR_HEADER)
                .and_then(|(_, v)| v.split_once(';').map(|(code, _)| code.to_owned()));
            match query_code {
                Some(code) => {
                    let renamed = AwsError { code: code.into(), ..err.clone() };
                    Bytes::from(query::render_error(xmlns, &renamed, request_id))
                }
                None => Bytes::from(query::render_error(xmlns, err, request_id)),
            }
        }
        // 304 Not Modified carries no body (S3's conditional GET).
        Protocol::RestXml if err.status == StatusCode::NOT_MODIFIED => Bytes::new(),
        Protocol::RestXml => {
            headers.insert(header::CONTENT_TYPE, content_type("application/xml"));
            let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
            xml::escape_into(&mut s, &err.code);
            s.push_str("</Code><Message>");
            xml::escape_into(&mut s, &err.message);
            s.push_str("</Message>");
            for (name, value) in &err.fields {
                let text = value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
                s.push('<');
                s.push_str(name);
                s.push('>');
                xml::escape_into(&mut s, &text);
                s.push_str("</");
                s.push_str(name);
                s.push('>');
            }
            s.push_str("<RequestId>");
            s.push_str(request_id);
            s.push_str("</RequestId></Error>");
            Bytes::from(s)
        }
    };
    *response.body_mut() = body::full(body);
    response
}
