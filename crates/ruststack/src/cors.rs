//! Permissive CORS, on by default: browser apps call the emulator directly from any origin.

use http::{HeaderMap, HeaderValue, Response, StatusCode};
use ruststack_core::body::{self, Body};

const ALLOW_METHODS: &str = "HEAD,GET,PUT,POST,DELETE,OPTIONS,PATCH";
const EXPOSE_HEADERS: &str = "etag,x-amz-version-id,x-amz-request-id,x-amz-id-2,x-amzn-requestid,x-amz-delete-marker,\
x-amz-server-side-encryption,x-amz-checksum-crc32,x-amz-checksum-crc32c,x-amz-checksum-crc64nvme,x-amz-checksum-sha1,\
x-amz-checksum-sha256,content-length,content-type,last-modified";

/// A browser's preflight: `OPTIONS` with `Access-Control-Request-Method`.
pub fn is_preflight(parts: &http::request::Parts) -> bool {
    parts.method == http::Method::OPTIONS && parts.headers.contains_key("access-control-request-method")
}

/// The answer to a preflight: allow the origin, the method and the headers asked for.
pub fn preflight(request: &HeaderMap) -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert("access-control-allow-methods", HeaderValue::from_static(ALLOW_METHODS));
    let asked = request.get("access-control-request-headers").cloned().unwrap_or(HeaderValue::from_static("*"));
    headers.insert("access-control-allow-headers", asked);
    headers.insert("access-control-max-age", HeaderValue::from_static("86400"));
    response
}

/// Adds the CORS headers every response carries.
pub fn add_response_headers(request: &HeaderMap, headers: &mut HeaderMap) {
    match request.get(http::header::ORIGIN) {
        // Echoing the origin (rather than `*`) lets credentialed browser requests through.
        Some(origin) => {
            headers.insert("access-control-allow-origin", origin.clone());
            headers.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
            headers.insert(http::header::VARY, HeaderValue::from_static("Origin"));
            // Only browsers (which always send Origin) read this; spare every other response.
            headers.insert("access-control-expose-headers", HeaderValue::from_static(EXPOSE_HEADERS));
        }
        None => {
            headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        }
    }
}
