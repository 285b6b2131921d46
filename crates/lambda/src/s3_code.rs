//! Deployment packages given as `S3Bucket`/`S3Key`: read from our own S3 over the gateway's port
//! (a plain HTTP/1.1 GET, so Lambda needs no dependency on the S3 crate), in the caller's account.

use crate::state::invalid_param;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext};

/// Largest package fetched (AWS: 250 MB unzipped; a zip is smaller).
const MAX_OBJECT: usize = 262_144_000;

fn s3_error(code: &str, message: &str) -> AwsError {
    invalid_param(format!("Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"))
}

/// The object's bytes (read through the gateway on `port`), or Lambda's error naming S3's.
pub async fn fetch(
    port: u16,
    ctx: &RequestContext,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<Bytes, AwsError> {
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, KEY_SET).to_string();
    let mut target = format!("/{}/{}", encode(bucket), encode(key));
    if let Some(v) = version {
        target.push_str(&format!("?versionId={}", encode(v)));
    }
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: {}\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nconnection: close\r\n\r\n",
        crate::loopback::unsigned_authorization(&ctx.access_key, &ctx.region, "s3")
    );
    let (status, body) = crate::loopback::exchange(port, request.as_bytes(), MAX_OBJECT)
        .await
        .map_err(|e| s3_error("ServiceUnavailable", &e.to_string()))?;
    if status != 200 {
        let text = String::from_utf8_lossy(&body);
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = text.find(&open)? + open.len();
            let end = text[start..].find(&format!("</{name}>"))? + start;
            Some(text[start..end].to_owned())
        };
        return Err(s3_error(
            &tag("Code").unwrap_or_else(|| status.to_string()),
            &tag("Message").unwrap_or_else(|| "The object could not be read.".into()),
        ));
    }
    Ok(Bytes::from(body))
}

const KEY_SET: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
