//! API Gateway proxy integration: the v1 (REST API) and v2 (HTTP API, function URL) events a
//! function receives for an HTTP request, and the HTTP response read back from its result.

use base64::Engine;
use bytes::Bytes;
use serde_json::{Map, Value, json};

/// An HTTP request as the proxy integrations see it.
pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub source_ip: &'a str,
}

/// An HTTP response from a proxy result.
#[derive(Debug, PartialEq)]
pub struct ProxyResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

fn is_text(headers: &http::HeaderMap) -> bool {
    let ct = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    ct.is_empty()
        || ct.starts_with("text/")
        || ["json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "graphql"].iter().any(|t| ct.contains(t))
}

/// The body field and `isBase64Encoded`.
fn body_fields(req: &HttpRequest) -> (Value, bool) {
    if req.body.is_empty() {
        return (Value::Null, false);
    }
    match std::str::from_utf8(req.body) {
        Ok(text) if is_text(req.headers) => (json!(text), false),
        _ => (json!(base64::engine::general_purpose::STANDARD.encode(req.body)), true),
    }
}

fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let dec = |s: &str| {
                        percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
                    };
                    (dec(k), dec(v))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn clf_time(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The payload format 2.0 event (HTTP APIs and function URLs).
pub fn v2_event(req: &HttpRequest, api_id: &str, domain: &str, account: &str, request_id: &str) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in req.headers {
        let value = value.to_str().unwrap_or_default();
        if name == http::header::COOKIE {
            cookies.extend(value.split(';').map(|c| json!(c.trim())));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), json!(value));
            }
        }
    }
    let mut query = Map::new();
    for (k, v) in query_pairs(req.query) {
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, json!(v));
            }
        }
    }
    let now = crate::logs::now_millis();
    let (body, encoded) = body_fields(req);
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": req.path,
        "rawQueryString": req.query.unwrap_or(""),
        "headers": headers,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(domain),
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": clf_time(now),
            "timeEpoch": now,
        },
        "isBase64Encoded": encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}

/// The payload format 1.0 event (REST APIs with a proxy integration).
pub fn v1_event(
    req: &HttpRequest,
    resource: &str,
    path_parameters: Option<&Map<String, Value>>,
    stage: &str,
    api_id: &str,
    account: &str,
    request_id: &str,
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers = Map::new();
    for (name, value) in req.headers {
        let value = value.to_str().unwrap_or_default();
        headers.insert(name.as_str().to_owned(), json!(value));
        match multi_headers.get_mut(name.as_str()) {
            Some(Value::Array(list)) => list.push(json!(value)),
            _ => {
                multi_headers.insert(name.as_str().to_owned(), json!([value]));
            }
        }
    }
    let mut query = Map::new();
    let mut multi_query = Map::new();
    for (k, v) in query_pairs(req.query) {
        query.insert(k.clone(), json!(v));
        match multi_query.get_mut(&k) {
            Some(Value::Array(list)) => list.push(json!(v)),
            _ => {
                multi_query.insert(k, json!([v]));
            }
        }
    }
    let or_null = |m: Map<String, Value>| if m.is_empty() { Value::Null } else { Value::Object(m) };
    let now = crate::logs::now_millis();
    let (body, encoded) = body_fields(req);
    json!({
        "resource": resource,
        "path": req.path,
        "httpMethod": req.method,
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": path_parameters.cloned().map(Value::Object).unwrap_or(Value::Null),
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": account,
            "apiId": api_id,
            "resourcePath": resource,
            "httpMethod": req.method,
            "path": format!("/{stage}{}", req.path),
            "protocol": "HTTP/1.1",
            "stage": stage,
            "requestId": request_id,
            "requestTime": clf_time(now),
            "requestTimeEpoch": now,
            "identity": { "sourceIp": req.source_ip, "userAgent": req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()) },
        },
        "body": body,
        "isBase64Encoded": encoded,
    })
}

fn header_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn decoded_body(obj: &Map<String, Value>) -> Option<Bytes> {
    let body = match obj.get("body") {
        None | Some(Value::Null) => return Some(Bytes::new()),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if obj.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD.decode(body).ok().map(Bytes::from)
    } else {
        Some(Bytes::from(body))
    }
}

/// Reads a format 2.0 result: a `{statusCode, headers, cookies, body, isBase64Encoded}` object,
/// or anything else as a 200 JSON body.
pub fn v2_response(payload: &[u8]) -> ProxyResponse {
    let parsed: Option<Value> = serde_json::from_slice(payload).ok();
    let Some(Value::Object(obj)) = parsed.filter(|v| v.get("statusCode").is_some()) else {
        return ProxyResponse {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::copy_from_slice(payload),
        };
    };
    let status = obj.get("statusCode").and_then(Value::as_u64).unwrap_or(200) as u16;
    let mut headers: Vec<(String, String)> = obj
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.iter().map(|(k, v)| (k.clone(), header_value(v))).collect())
        .unwrap_or_default();
    if let Some(cookies) = obj.get("cookies").and_then(Value::as_array) {
        headers.extend(cookies.iter().map(|c| ("set-cookie".to_owned(), header_value(c))));
    }
    match decoded_body(&obj) {
        Some(body) => ProxyResponse { status, headers, body },
        None => bad_gateway(),
    }
}

/// Reads a format 1.0 result; anything without a `statusCode` is a 502 as on API Gateway.
pub fn v1_response(payload: &[u8]) -> ProxyResponse {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(payload) else { return bad_gateway() };
    let Some(status) = obj.get("statusCode").and_then(|s| s.as_u64().or_else(|| s.as_str()?.parse().ok())) else {
        return bad_gateway();
    };
    let mut headers: Vec<(String, String)> = obj
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.iter().map(|(k, v)| (k.clone(), header_value(v))).collect())
        .unwrap_or_default();
    if let Some(multi) = obj.get("multiValueHeaders").and_then(Value::as_object) {
        for (k, values) in multi {
            for v in values.as_array().into_iter().flatten() {
                headers.push((k.clone(), header_value(v)));
            }
        }
    }
    match decoded_body(&obj) {
        Some(body) => ProxyResponse { status: status as u16, headers, body },
        None => bad_gateway(),
    }
}

fn bad_gateway() -> ProxyResponse {
    ProxyResponse {
        status: 502,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from_static(br#"{"message": "Internal server error"}"#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a http::HeaderMap, body: &'a [u8]) -> HttpRequest<'a> {
        HttpRequest {
            method: "POST",
            path: "/p/q",
            query: Some("a=1&a=2&b=x%20y"),
            headers,
            body,
            source_ip: "127.0.0.1",
        }
    }

    #[test]
    fn v2_event_shape() {
        let mut h = http::HeaderMap::new();
        h.insert("content-type", "application/json".parse().unwrap());
        h.insert("cookie", "a=1; b=2".parse().unwrap());
        let e = v2_event(&request(&h, b"{\"k\":1}"), "abc", "abc.lambda-url.us-east-1.localhost", "anonymous", "rid");
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["rawPath"], "/p/q");
        assert_eq!(e["queryStringParameters"]["a"], "1,2");
        assert_eq!(e["queryStringParameters"]["b"], "x y");
        assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(e["body"], "{\"k\":1}");
        assert_eq!(e["isBase64Encoded"], false);
        assert_eq!(e["requestContext"]["http"]["method"], "POST");
        let bin = v2_event(&request(&http::HeaderMap::new(), &[0xff, 0x00]), "a", "d", "x", "r");
        assert_eq!(bin["isBase64Encoded"], true);
    }

    #[test]
    fn v1_event_shape() {
        let h = http::HeaderMap::new();
        let e = v1_event(&request(&h, b""), "/{proxy+}", None, "dev", "api", "1", "r");
        assert_eq!(e["httpMethod"], "POST");
        assert_eq!(e["multiValueQueryStringParameters"]["a"], json!(["1", "2"]));
        assert_eq!(e["body"], Value::Null);
        assert_eq!(e["requestContext"]["path"], "/dev/p/q");
    }

    #[test]
    fn proxy_responses() {
        let r = v2_response(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["c=1"],"body":"aGk=","isBase64Encoded":true}"#,
        );
        assert_eq!(r.status, 201);
        assert_eq!(r.body, "hi");
        assert!(r.headers.contains(&("set-cookie".into(), "c=1".into())));
        let plain = v2_response(br#"{"hello":"world"}"#);
        assert_eq!((plain.status, plain.body.as_ref()), (200, br#"{"hello":"world"}"#.as_ref()));
        assert_eq!(v1_response(b"\"no status\"").status, 502);
        let v1 = v1_response(br#"{"statusCode":"404","multiValueHeaders":{"x":["1","2"]},"body":"nf"}"#);
        assert_eq!((v1.status, v1.headers.len(), v1.body.as_ref()), (404, 2, b"nf".as_ref()));
    }
}
