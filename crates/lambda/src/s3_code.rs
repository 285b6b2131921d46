//! Deployment packages given as `S3Bucket`/`S3Key`: read from our own S3 over the gateway's port
//! (a plain HTTP/1.1 GET, so Lambda needs no dependency on the S3 crate), in the caller's account.

use crate::state::invalid_param;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest package fetched (AWS: 250 MB unzipped; a zip is smaller).
const MAX_OBJECT: usize = 262_144_000;

fn s3_error(code: &str, message: &str) -> AwsError {
    invalid_param(format!("Error occurred while GetObject. S3 Error Code: {code}. S3 Error Message: {message}"))
}

/// The object's bytes, or Lambda's error naming S3's.
pub async fn fetch(ctx: &RequestContext, bucket: &str, key: &str, version: Option<&str>) -> Result<Bytes, AwsError> {
    let port = crate::invoke::port_of(&ctx.host);
    let encode = |s: &str| percent_encoding::utf8_percent_encode(s, KEY_SET).to_string();
    let mut target = format!("/{}/{}", encode(bucket), encode(key));
    if let Some(v) = version {
        target.push_str(&format!("?versionId={}", encode(v)));
    }
    let request = format!(
        "GET {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nauthorization: AWS4-HMAC-SHA256 Credential={}/20240101/{}/s3/aws4_request, SignedHeaders=host, Signature=0\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\nconnection: close\r\n\r\n",
        ctx.access_key, ctx.region
    );
    let unreachable = |e: std::io::Error| s3_error("ServiceUnavailable", &e.to_string());
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(unreachable)?;
    stream.write_all(request.as_bytes()).await.map_err(unreachable)?;
    let mut raw = Vec::new();
    (&mut stream).take(MAX_OBJECT as u64 + 64 * 1024).read_to_end(&mut raw).await.map_err(unreachable)?;
    let (status, chunked, body) =
        parse_response(&raw).ok_or_else(|| s3_error("InternalError", "malformed response"))?;
    let body =
        if chunked { dechunk(body).ok_or_else(|| s3_error("InternalError", "malformed body"))? } else { body.to_vec() };
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

/// Status, whether the body is chunked, and the body bytes of an HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> Option<(u16, bool, &[u8])> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if name == "content-length" {
            length = value.parse::<usize>().ok();
        }
    }
    let body = &raw[end + 4..];
    let body = match length {
        Some(n) if !chunked => body.get(..n)?,
        _ => body,
    };
    Some((status, chunked, body))
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_with_length_and_chunks() {
        let (s, c, b) = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcXX").unwrap();
        assert_eq!((s, c, b), (200, false, b"abc".as_ref()));
        let (s, c, b) = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((s, c), (404, true));
        assert_eq!(dechunk(b).unwrap(), b"abcde");
    }
}
