//! A streaming `multipart/form-data` reader for browser form uploads: small fields are read
//! whole, the file part is handed out chunk by chunk as the request body arrives, never buffered.

use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use memchr::memmem;
use ruststack_core::AwsError;
use ruststack_core::body::Body;

/// Part headers bigger than this are refused.
const MAX_PART_HEADERS: usize = 16 * 1024;
/// File data is handed out once this much is buffered (or the part ends).
const CHUNK: usize = 64 * 1024;

/// The headers of one part.
#[derive(Debug, Default, PartialEq)]
pub struct PartHead {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

pub struct FormReader {
    body: Body,
    buf: BytesMut,
    /// `\r\n--boundary`: what ends every part.
    delimiter: Vec<u8>,
    eof: bool,
    /// Whether the first delimiter was found.
    started: bool,
    /// Whether the part being read has reached its delimiter.
    part_done: bool,
}

pub fn malformed() -> AwsError {
    AwsError::bad_request(
        "MalformedPOSTRequest",
        "The body of your POST request is not well-formed multipart/form-data.",
    )
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// A parameter of a `Content-Disposition` value (`name="key"`).
fn disposition_param(value: &str, param: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(param).then(|| v.trim().trim_matches('"').to_owned())
    })
}

impl FormReader {
    pub fn new(body: Body, boundary: &str) -> Self {
        let mut buf = BytesMut::with_capacity(CHUNK);
        // The first boundary has no CRLF before it: pretend it has, so one delimiter fits all.
        buf.extend_from_slice(b"\r\n");
        let delimiter = format!("\r\n--{boundary}").into_bytes();
        FormReader { body, buf, delimiter, eof: false, started: false, part_done: true }
    }

    /// Reads more of the body; false at its end.
    async fn fill(&mut self) -> Result<bool, AwsError> {
        if self.eof {
            return Ok(false);
        }
        while let Some(frame) = self.body.frame().await {
            if let Ok(data) = frame.map_err(crate::errors::body_error)?.into_data()
                && !data.is_empty()
            {
                self.buf.extend_from_slice(&data);
                return Ok(true);
            }
        }
        self.eof = true;
        Ok(false)
    }

    /// Skips to the next part and reads its headers; `None` after the closing boundary.
    pub async fn next_part(&mut self) -> Result<Option<PartHead>, AwsError> {
        if !self.started {
            // The first delimiter, after any preamble.
            loop {
                if let Some(pos) = memmem::find(&self.buf, &self.delimiter) {
                    self.buf.advance(pos + self.delimiter.len());
                    break;
                }
                let keep = self.delimiter.len() - 1;
                if self.buf.len() > keep {
                    let drop = self.buf.len() - keep;
                    self.buf.advance(drop);
                }
                if !self.fill().await? {
                    return Err(malformed());
                }
            }
            self.started = true;
        } else {
            // Discard what is left of the current part, up to and including its delimiter.
            while !self.part_done {
                self.file_chunk().await?;
            }
        }
        while self.buf.len() < 2 {
            if !self.fill().await? {
                return Err(malformed());
            }
        }
        if self.buf.starts_with(b"--") {
            return Ok(None);
        }
        // Headers end at an empty line.
        let end = loop {
            if let Some(pos) = memmem::find(&self.buf, b"\r\n\r\n") {
                break pos;
            }
            if self.buf.len() > MAX_PART_HEADERS || !self.fill().await? {
                return Err(malformed());
            }
        };
        let head = std::str::from_utf8(&self.buf[..end]).map_err(|_| malformed())?;
        let mut part = PartHead::default();
        let mut named = false;
        for line in head.split("\r\n").filter(|l| !l.is_empty()) {
            let Some((k, v)) = line.split_once(':') else { continue };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                part.name = disposition_param(v, "name").ok_or_else(malformed)?;
                part.filename = disposition_param(v, "filename");
                named = true;
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(v.trim().to_owned());
            }
        }
        if !named {
            return Err(malformed());
        }
        self.buf.advance(end + 4);
        self.part_done = false;
        Ok(Some(part))
    }

    /// The next bytes of the current part; `None` once it ends.
    pub async fn file_chunk(&mut self) -> Result<Option<Bytes>, AwsError> {
        if self.part_done {
            return Ok(None);
        }
        loop {
            if let Some(pos) = memmem::find(&self.buf, &self.delimiter) {
                let data = self.buf.split_to(pos).freeze();
                self.buf.advance(self.delimiter.len());
                self.part_done = true;
                return Ok((!data.is_empty()).then_some(data));
            }
            let keep = self.delimiter.len() - 1;
            if self.buf.len() >= CHUNK + keep || (self.eof && self.buf.len() > keep) {
                let n = self.buf.len() - keep;
                return Ok(Some(self.buf.split_to(n).freeze()));
            }
            if !self.fill().await? {
                if self.buf.len() > keep {
                    continue;
                }
                return Err(malformed());
            }
        }
    }

    /// The whole value of the current (small) part, refused past `limit` bytes.
    pub async fn field_value(&mut self, limit: usize) -> Result<Result<Bytes, usize>, AwsError> {
        let mut value = BytesMut::new();
        while let Some(chunk) = self.file_chunk().await? {
            if value.len() + chunk.len() > limit {
                return Ok(Err(value.len() + chunk.len()));
            }
            value.extend_from_slice(&chunk);
        }
        Ok(Ok(value.freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(body: &'static [u8], split: usize) -> Vec<(PartHead, Vec<u8>)> {
        // Deliver the body in pieces of `split` bytes to exercise delimiters across chunks.
        let chunks: Vec<Result<http_body::Frame<Bytes>, ruststack_core::body::BoxError>> =
            body.chunks(split).map(|c| Ok(http_body::Frame::data(Bytes::from_static(c)))).collect();
        let stream = futures_util::stream::iter(chunks);
        let body: Body = http_body_util::StreamBody::new(stream).boxed_unsync();
        let mut form = FormReader::new(body, "XyZ");
        let mut out = Vec::new();
        while let Some(head) = form.next_part().await.unwrap() {
            let mut data = Vec::new();
            while let Some(c) = form.file_chunk().await.unwrap() {
                data.extend_from_slice(&c);
            }
            out.push((head, data));
        }
        out
    }

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\n--XyYnot-a-boundary\r\n\r\n--XyZ--\r\n";

    #[tokio::test]
    async fn parts_parse_whatever_the_chunking() {
        for split in [1, 2, 3, 7, 64, 1000] {
            let parts = parse(BODY, split).await;
            assert_eq!(parts.len(), 2, "split {split}");
            assert_eq!(parts[0].0.name, "key");
            assert_eq!(parts[0].1, b"up/${filename}");
            assert_eq!(parts[1].0.filename.as_deref(), Some("a.txt"));
            assert_eq!(parts[1].0.content_type.as_deref(), Some("text/plain"));
            assert_eq!(parts[1].1, b"line1\r\n--XyYnot-a-boundary\r\n");
        }
    }

    #[test]
    fn boundaries_come_from_the_content_type() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("multipart/form-data; charset=utf-8; boundary=\"q r\"").as_deref(), Some("q r"));
        assert_eq!(boundary("application/json; boundary=abc"), None);
    }
}
