//! Bucket CORS: the configuration (Put/Get/DeleteBucketCors, checked as AWS checks it) and its
//! application to browser preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
//! answered from the bucket's rules before the gateway's permissive default.

use crate::errors;
use crate::generated::types::*;
use crate::state::{Bucket, S3};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use ruststack_core::body::{self, Body};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

pub const CORS: &str = "cors";

const METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/// AWS's rule: at most one `*` in an origin or header pattern.
fn one_wildcard_at_most(pattern: &str) -> bool {
    pattern.matches('*').count() <= 1
}

pub async fn put_bucket_cors(s3: Arc<S3>, _: RequestContext, input: PutBucketCorsRequest) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let rules = &input.cors_configuration.cors_rules;
    if rules.is_empty() || rules.len() > 100 {
        return Err(errors::malformed_xml());
    }
    for rule in rules {
        if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
            return Err(errors::malformed_xml());
        }
        for m in &rule.allowed_methods {
            if !METHODS.contains(&m.as_str()) {
                return Err(errors::invalid_request(format!(
                    "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                )));
            }
        }
        for o in &rule.allowed_origins {
            if !one_wildcard_at_most(o) {
                return Err(errors::invalid_request(format!(
                    "AllowedOrigin \"{o}\" can not have more than one wildcard."
                )));
            }
        }
        for h in rule.allowed_headers.iter().flatten() {
            if !one_wildcard_at_most(h) {
                return Err(errors::invalid_request(format!(
                    "AllowedHeader \"{h}\" can not have more than one wildcard."
                )));
            }
        }
    }
    s3.set_config(&bucket, CORS, &input.cors_configuration)?;
    Ok(())
}

pub async fn get_bucket_cors(
    s3: Arc<S3>,
    _: RequestContext,
    input: GetBucketCorsRequest,
) -> Result<GetBucketCorsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let config: CORSConfiguration = bucket.config(CORS).ok_or_else(|| {
        AwsError::not_found("NoSuchCORSConfiguration", "The CORS configuration does not exist")
            .with_field("BucketName", bucket.name.clone())
    })?;
    Ok(GetBucketCorsOutput { cors_rules: Some(config.cors_rules) })
}

pub async fn delete_bucket_cors(
    s3: Arc<S3>,
    _: RequestContext,
    input: DeleteBucketCorsRequest,
) -> Result<(), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    s3.remove_config(&bucket, CORS)?;
    Ok(())
}

/// Matches `value` against a pattern with at most one `*` (case-sensitive for origins).
fn wildcard_match(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == value,
        Some((head, tail)) => {
            value.len() >= head.len() + tail.len() && value.starts_with(head) && value.ends_with(tail)
        }
    }
}

/// The rule that allows a request, if any.
pub fn matching_rule<'a>(
    rules: &'a [CORSRule],
    origin: &str,
    method: &str,
    request_headers: &[String],
) -> Option<&'a CORSRule> {
    rules.iter().find(|rule| {
        rule.allowed_origins.iter().any(|o| wildcard_match(o, origin))
            && rule.allowed_methods.iter().any(|m| m == method)
            && request_headers
                .iter()
                .all(|h| rule.allowed_headers.iter().flatten().any(|p| wildcard_match(&p.to_ascii_lowercase(), h)))
    })
}

/// The bucket and key a raw request addresses: from a virtual-hosted name, else the path.
pub fn addressed(parts: &http::request::Parts) -> Option<(String, String)> {
    let path = parts.uri.path();
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    if let Some(bucket) = virtual_host_bucket(host) {
        return Some((bucket.to_owned(), decode(path.trim_start_matches('/'))));
    }
    let rest = path.strip_prefix('/')?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), decode(key)))
}

/// Whether the request names its bucket in the path rather than the host.
pub fn addressed_by_path(parts: &http::request::Parts) -> bool {
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    virtual_host_bucket(host).is_none()
}

/// The bucket of a virtual-hosted-style host name (`<bucket>.s3.…`, `<bucket>.localhost`).
fn virtual_host_bucket(host: &str) -> Option<&str> {
    let host = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        _ => host,
    };
    let bucket = if let Some(rest) = host.strip_suffix(".localhost.localstack.cloud") {
        let (bucket, after) = rest.split_once(".s3")?;
        (after.is_empty() || after.starts_with('.')).then_some(bucket)?
    } else if let Some(rest) = host.strip_suffix(".amazonaws.com") {
        let i = rest.find(".s3.").or_else(|| rest.find(".s3-")).or_else(|| rest.strip_suffix(".s3").map(str::len))?;
        &rest[..i]
    } else {
        host.strip_suffix(".localhost")?
    };
    (!bucket.is_empty()).then_some(bucket)
}

/// Answers a preflight on a bucket with a CORS configuration; `None` leaves it to the gateway.
pub fn preflight(s3: &S3, parts: &http::request::Parts) -> Option<Response<Body>> {
    let (bucket_name, key) = addressed(parts)?;
    let bucket: Arc<Bucket> = s3.registered(&bucket_name)?;
    let config: CORSConfiguration = bucket.config(CORS)?;
    let headers = &parts.headers;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = text("origin") else {
        return Some(render(AwsError::bad_request(
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        )));
    };
    let Some(method) = text("access-control-request-method") else {
        return Some(render(AwsError::bad_request("BadRequest", "Invalid Access-Control-Request-Method: null")));
    };
    if !METHODS.contains(&method) {
        return Some(render(AwsError::bad_request(
            "BadRequest",
            format!("Invalid Access-Control-Request-Method: {method}"),
        )));
    }
    let requested: Vec<String> = text("access-control-request-headers")
        .unwrap_or("")
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    let Some(rule) = matching_rule(&config.cors_rules, origin, method, &requested) else {
        let resource = if key.is_empty() { "BUCKET" } else { "OBJECT" };
        let mut response = render(
            AwsError::new(
                StatusCode::FORBIDDEN,
                "AccessForbidden",
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
            )
            .with_field("Method", method.to_owned())
            .with_field("ResourceType", resource),
        );
        add_vary(response.headers_mut());
        return Some(response);
    };
    let mut response = Response::new(body::empty());
    let out = response.headers_mut();
    allow_headers(rule, origin, out);
    out.insert("access-control-allow-methods", value(&rule.allowed_methods.join(", ")));
    if !requested.is_empty() {
        out.insert("access-control-allow-headers", value(&requested.join(", ")));
    }
    if let Some(age) = rule.max_age_seconds {
        out.insert("access-control-max-age", value(&age.to_string()));
    }
    Some(response)
}

/// The headers a matching rule puts on any response (preflight or actual request).
fn allow_headers(rule: &CORSRule, origin: &str, out: &mut HeaderMap) {
    if rule.allowed_origins.iter().any(|o| o == "*") {
        out.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    } else {
        out.insert("access-control-allow-origin", value(origin));
        out.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
    }
    if let Some(expose) = rule.expose_headers.as_ref().filter(|e| !e.is_empty()) {
        out.insert("access-control-expose-headers", value(&expose.join(", ")));
    }
    add_vary(out);
}

fn add_vary(out: &mut HeaderMap) {
    out.insert(
        http::header::VARY,
        HeaderValue::from_static("Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
    );
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::try_from(s).unwrap_or(HeaderValue::from_static(""))
}

/// An S3 error document outside the codec path (raw answers).
pub fn render(err: AwsError) -> Response<Body> {
    let id = ruststack_core::request_id::new_request_id();
    ruststack_core::protocol::encode_error(
        ruststack_core::shape::Protocol::RestXml,
        Some(&crate::generated::MODEL),
        &err,
        &id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CORSRule {
        CORSRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: Some(headers.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn rules_match_origin_method_and_headers() {
        let rules = [rule(&["https://*.example.com"], &["GET"], &["X-Amz-*"]), rule(&["*"], &["PUT"], &["*"])];
        let get = |o: &str, m: &str, h: &[&str]| {
            let h: Vec<String> = h.iter().map(|s| s.to_string()).collect();
            matching_rule(&rules, o, m, &h).map(|r| r.allowed_methods[0].clone())
        };
        assert_eq!(get("https://app.example.com", "GET", &["x-amz-date"]), Some("GET".into()));
        assert_eq!(get("https://app.example.com", "GET", &["authorization"]), None);
        assert_eq!(get("https://example.org", "GET", &[]), None);
        assert_eq!(get("https://example.org", "PUT", &["content-type"]), Some("PUT".into()));
        assert_eq!(get("https://example.org", "DELETE", &[]), None);
    }

    #[test]
    fn requests_address_buckets_and_keys() {
        let req = |host: &str, path: &str| {
            let (parts, _) = http::Request::builder().uri(path).header("host", host).body(()).unwrap().into_parts();
            addressed(&parts)
        };
        assert_eq!(req("localhost:4566", "/b/a%20k"), Some(("b".into(), "a k".into())));
        assert_eq!(req("b.s3.localhost.localstack.cloud:4566", "/k"), Some(("b".into(), "k".into())));
        assert_eq!(req("localhost:4566", "/"), None);
    }
}
