//! Request templates: one signed request per scenario, replayed by every connection.
//!
//! Signing once and replaying (the signature stays valid for 15 minutes) keeps the client's cost
//! per request the same for every server, whether or not it verifies signatures.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use ruststack_auth::{Presigned, SigV4, canonical_request, sha256_hex, sign, signing_key, string_to_sign};

/// A request to send again and again.
#[derive(Clone)]
pub struct Template {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An endpoint with credentials.
#[derive(Clone)]
pub struct Target {
    /// `127.0.0.1:4566`
    pub authority: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

impl Template {
    /// A SigV4-signed request for `service`.
    pub fn signed(
        target: &Target,
        service: &str,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Bytes,
    ) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let date = format!("{:04}{:02}{:02}", now.year(), now.month() as u8, now.day());
        let amz_date = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
        let payload_hash = if service == "s3" { "UNSIGNED-PAYLOAD".to_owned() } else { sha256_hex(&body) };
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::try_from(target.authority.as_str()).expect("authority"));
        headers.insert("x-amz-date", HeaderValue::try_from(amz_date.as_str()).expect("date"));
        if service == "s3" {
            headers.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
        }
        for (k, v) in extra {
            headers.insert(http::HeaderName::try_from(*k).expect("header"), HeaderValue::try_from(*v).expect("value"));
        }
        let mut signed_headers: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        signed_headers.sort();
        let sig = SigV4 {
            access_key: target.access_key.clone(),
            date: date.clone(),
            region: target.region.clone(),
            service: service.to_owned(),
            signed_headers: signed_headers.clone(),
            signature: String::new(),
            amz_date: Some(amz_date.clone()),
            presigned: None::<Presigned>,
        };
        let mut builder = Request::builder().method(method.clone()).uri(path);
        for (k, v) in &headers {
            builder = builder.header(k, v);
        }
        let (parts, ()) = builder.body(()).expect("request").into_parts();
        let canonical = canonical_request(&parts, &sig, &payload_hash, service == "s3");
        let scope = format!("{date}/{}/{service}/aws4_request", target.region);
        let key = signing_key(&target.secret_key, &date, &target.region, service);
        let signature = sign(&key, &string_to_sign(&amz_date, &scope, &canonical));
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
            target.access_key,
            signed_headers.join(";")
        );
        headers.insert("authorization", HeaderValue::try_from(auth).expect("auth"));
        headers.insert("content-length", HeaderValue::from(body.len()));
        Template { method, path: path.to_owned(), headers, body }
    }

    /// An awsJson 1.0 call (DynamoDB).
    pub fn dynamodb(target: &Target, operation: &str, body: &str) -> Self {
        let op = format!("DynamoDB_20120810.{operation}");
        Self::signed(
            target,
            "dynamodb",
            Method::POST,
            "/",
            &[("x-amz-target", &op), ("content-type", "application/x-amz-json-1.0")],
            Bytes::from(body.to_owned()),
        )
    }

    /// The request, ready to send.
    pub fn build(&self) -> Request<http_body_util::Full<Bytes>> {
        let mut req = Request::new(http_body_util::Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.path.parse().expect("path");
        *req.headers_mut() = self.headers.clone();
        req
    }
}
