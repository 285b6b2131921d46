//! Plain HTTP/1.1 exchanges with our own gateway, for the few places Lambda uses another
//! service (code from S3, destinations and dead-letter queues in SQS) without depending on its
//! crate. Requests carry an unsigned SigV4 header naming the caller's access key, so the gateway
//! files them under the right account (they are refused under `--enforce-sigv4`).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends a complete request (with `connection: close`) to `127.0.0.1:port`; returns the status
/// and the body (at most `limit` bytes).
pub async fn exchange(port: u16, request: &[u8], limit: usize) -> std::io::Result<(u16, Vec<u8>)> {
    let invalid = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(request).await?;
    let mut raw = Vec::new();
    (&mut stream).take(limit as u64 + 64 * 1024).read_to_end(&mut raw).await?;
    let (status, chunked, body) = parse_response(&raw).ok_or_else(invalid)?;
    let body = if chunked { dechunk(body).ok_or_else(invalid)? } else { body.to_vec() };
    Ok((status, body))
}

/// An `Authorization` header value that names an access key without a real signature.
pub fn unsigned_authorization(access_key: &str, region: &str, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20240101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

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
