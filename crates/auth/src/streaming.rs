//! Decoder of `Content-Encoding: aws-chunked` bodies, with optional chunk signature checks.
//!
//! Data is passed on as it arrives, so a chunk's bytes are yielded before its signature
//! can be checked (at the chunk's end): consumers must discard what they stored when
//! the body ends with an error.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::canonical::{EMPTY_SHA256, sign};
use crate::error::AuthError;

/// Error type of the decoded body; auth failures downcast to [`AuthError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Longest chunk header or trailer line we accept, to bound memory.
const MAX_LINE: usize = 4096;
/// Most trailer lines we accept.
const MAX_TRAILERS: usize = 32;

/// What is needed to check chunk signatures (see `VerifiedSignature::chunk_verifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkVerifier {
    /// Signing key of the request's scope.
    pub signing_key: [u8; 32],
    /// Signature of the request headers.
    pub seed_signature: String,
    /// Request time, `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// Credential scope, `date/region/service/aws4_request`.
    pub scope: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading `hex-size[;chunk-signature=...]`.
    Header,
    /// Passing on chunk data; bytes left in the chunk.
    Data(u64),
    /// Expecting the CRLF that closes a chunk's data.
    DataEnd,
    /// Reading trailer lines up to an empty line.
    Trailer,
    Done,
}

/// An `http_body::Body` yielding the decoded payload of an aws-chunked body, then its
/// trailers (if any) as a trailers frame.
pub struct AwsChunkedBody<B> {
    inner: B,
    inner_done: bool,
    state: State,
    /// Unconsumed part of the last inner frame.
    pending: Bytes,
    /// Partial header/trailer line spanning frames.
    line: Vec<u8>,
    verifier: Option<ChunkVerifier>,
    prev_signature: String,
    chunk_signature: String,
    hasher: Sha256,
    decoded: u64,
    expected: Option<u64>,
    trailers: HeaderMap,
    /// Trailers as signed: `name:value\n` each, signature line excluded.
    signed_trailers: Vec<u8>,
    trailer_signature: Option<String>,
}

impl<B> AwsChunkedBody<B> {
    /// Wraps `inner`; with a verifier every chunk (and the trailer) must carry a valid
    /// signature, and `decoded_len` (`x-amz-decoded-content-length`) is enforced if given.
    pub fn new(inner: B, verifier: Option<ChunkVerifier>, decoded_len: Option<u64>) -> Self {
        let prev_signature = verifier.as_ref().map(|v| v.seed_signature.clone()).unwrap_or_default();
        AwsChunkedBody {
            inner,
            inner_done: false,
            state: State::Header,
            pending: Bytes::new(),
            line: Vec::new(),
            verifier,
            prev_signature,
            chunk_signature: String::new(),
            hasher: Sha256::new(),
            decoded: 0,
            expected: decoded_len,
            trailers: HeaderMap::new(),
            signed_trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Advances on buffered input; `Ok(None)` means "need more input" or, in `Done`, the end.
    fn step(&mut self) -> Result<Option<Frame<Bytes>>, AuthError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = self.read_line()? else {
                        return Ok(None);
                    };
                    self.start_chunk(&line)?;
                }
                State::Data(left) => {
                    if self.pending.is_empty() {
                        return Ok(None);
                    }
                    let n = left.min(self.pending.len() as u64);
                    let data = self.pending.split_to(n as usize);
                    if self.verifier.is_some() {
                        self.hasher.update(&data);
                    }
                    self.decoded += n;
                    if self.expected.is_some_and(|e| self.decoded > e) {
                        return Err(length_mismatch());
                    }
                    self.state = if n == left { State::DataEnd } else { State::Data(left - n) };
                    return Ok(Some(Frame::data(data)));
                }
                State::DataEnd => {
                    let Some(line) = self.read_line()? else {
                        return Ok(None);
                    };
                    if !line.is_empty() {
                        return Err(malformed("chunk data is longer than its announced size"));
                    }
                    let hash = hex::encode(self.hasher.finalize_reset());
                    self.check_chunk(&hash)?;
                    self.state = State::Header;
                }
                State::Trailer => {
                    let Some(line) = self.read_line()? else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        return self.finish();
                    }
                    self.add_trailer(&line)?;
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// Called once the inner body has ended with all its bytes consumed.
    fn at_eof(&mut self) -> Result<Option<Frame<Bytes>>, AuthError> {
        match self.state {
            State::Done => Ok(None),
            // Tolerate a missing final CRLF after the last chunk or trailer.
            State::Trailer => {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.is_empty() {
                    self.add_trailer(&line)?;
                }
                self.finish()
            }
            _ => Err(AuthError::IncompleteBody("The request body terminated unexpectedly".into())),
        }
    }

    /// Takes the next CRLF (or LF) terminated line, or buffers a partial one.
    fn read_line(&mut self) -> Result<Option<Vec<u8>>, AuthError> {
        let found = self.pending.iter().position(|&b| b == b'\n');
        let take = found.unwrap_or(self.pending.len());
        if self.line.len() + take > MAX_LINE {
            return Err(malformed("chunk header or trailer line too long"));
        }
        self.line.extend_from_slice(&self.pending[..take]);
        match found {
            Some(i) => {
                self.pending.advance(i + 1);
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Ok(Some(line))
            }
            None => {
                self.pending.clear();
                Ok(None)
            }
        }
    }

    fn start_chunk(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let line = std::str::from_utf8(line).map_err(|_| malformed("chunk header is not text"))?;
        let mut fields = line.split(';');
        let size = fields.next().unwrap_or("").trim();
        if size.is_empty() || size.len() > 16 {
            return Err(malformed("invalid chunk size"));
        }
        let size = u64::from_str_radix(size, 16).map_err(|_| malformed("invalid chunk size"))?;
        if self.verifier.is_some() {
            let sig = fields.find_map(|f| f.trim().strip_prefix("chunk-signature="));
            self.chunk_signature = sig.ok_or_else(|| malformed("missing chunk-signature"))?.to_owned();
        }
        if size == 0 {
            self.check_chunk(EMPTY_SHA256)?;
            self.state = State::Trailer;
        } else {
            self.state = State::Data(size);
        }
        Ok(())
    }

    /// Checks the current chunk's signature, which chains on the previous one.
    fn check_chunk(&mut self, data_hash: &str) -> Result<(), AuthError> {
        let Some(v) = &self.verifier else {
            return Ok(());
        };
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{data_hash}",
            v.amz_date, v.scope, self.prev_signature
        );
        self.prev_signature = checked_sign(v, &sts, &self.chunk_signature)?;
        Ok(())
    }

    fn add_trailer(&mut self, line: &[u8]) -> Result<(), AuthError> {
        let line = std::str::from_utf8(line).map_err(|_| malformed("trailer is not text"))?;
        let (name, value) = line.split_once(':').ok_or_else(|| malformed("trailer without ':'"))?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "x-amz-trailer-signature" {
            self.trailer_signature = Some(value.to_owned());
            return Ok(());
        }
        if self.trailers.len() >= MAX_TRAILERS {
            return Err(malformed("too many trailers"));
        }
        let hname = HeaderName::from_bytes(name.as_bytes()).map_err(|_| malformed("invalid trailer name"))?;
        let hvalue = HeaderValue::from_str(value).map_err(|_| malformed("invalid trailer value"))?;
        self.signed_trailers.extend_from_slice(format!("{name}:{value}\n").as_bytes());
        self.trailers.append(hname, hvalue);
        Ok(())
    }

    /// End of the trailer section: length and trailer signature checks.
    fn finish(&mut self) -> Result<Option<Frame<Bytes>>, AuthError> {
        if self.expected.is_some_and(|e| e != self.decoded) {
            return Err(length_mismatch());
        }
        if let Some(v) = &self.verifier
            && !self.trailers.is_empty()
        {
            let sent = self.trailer_signature.as_deref().ok_or(AuthError::ChunkSignatureMismatch)?;
            let sts = format!(
                "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
                v.amz_date,
                v.scope,
                self.prev_signature,
                hex::encode(Sha256::digest(&self.signed_trailers))
            );
            checked_sign(v, &sts, sent)?;
        }
        self.state = State::Done;
        if self.trailers.is_empty() {
            return Ok(None);
        }
        Ok(Some(Frame::trailers(std::mem::take(&mut self.trailers))))
    }
}

/// Signs `sts` and compares with `sent` in constant time; returns the signature.
fn checked_sign(v: &ChunkVerifier, sts: &str, sent: &str) -> Result<String, AuthError> {
    let expected = sign(&v.signing_key, sts);
    if bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) {
        Ok(expected)
    } else {
        Err(AuthError::ChunkSignatureMismatch)
    }
}

fn malformed(what: &str) -> AuthError {
    AuthError::MalformedChunk(format!("Malformed aws-chunked body: {what}"))
}

fn length_mismatch() -> AuthError {
    AuthError::IncompleteBody(
        "You did not provide the number of bytes specified by the Content-Length HTTP header".into(),
    )
}

impl<B> Body for AwsChunkedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let stepped = if this.inner_done && this.pending.is_empty() && this.state != State::Done {
                this.at_eof()
            } else {
                this.step()
            };
            match stepped {
                Err(e) => {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(Box::new(e))));
                }
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) if this.state == State::Done => return Poll::Ready(None),
                Ok(None) => {}
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.inner_done = true,
                Poll::Ready(Some(Err(e))) => {
                    this.state = State::Done;
                    return Poll::Ready(Some(Err(e.into())));
                }
                // Transport-level trailers of the inner body carry nothing we use.
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.pending = data;
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.state == State::Done
    }

    fn size_hint(&self) -> SizeHint {
        match self.expected {
            Some(e) => SizeHint::with_exact(e.saturating_sub(self.decoded)),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::signing_key;
    use std::collections::VecDeque;
    use std::task::Waker;

    /// Inner body handing out prepared frames.
    struct Frames(VecDeque<Bytes>);

    impl Body for Frames {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn whole(body: &[u8]) -> Frames {
        Frames(VecDeque::from([Bytes::copy_from_slice(body)]))
    }

    fn bytewise(body: &[u8]) -> Frames {
        Frames(body.iter().map(|b| Bytes::copy_from_slice(&[*b])).collect())
    }

    /// Decoded data, trailers, and the error if the body failed.
    fn drain(mut body: AwsChunkedBody<Frames>) -> (Vec<u8>, Option<HeaderMap>, Option<AuthError>) {
        let mut cx = Context::from_waker(Waker::noop());
        let (mut data, mut trailers) = (Vec::new(), None);
        loop {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(f))) => match f.into_data() {
                    Ok(d) => data.extend_from_slice(&d),
                    Err(f) => trailers = Some(f.into_trailers().unwrap()),
                },
                Poll::Ready(Some(Err(e))) => {
                    let e = *e.downcast::<AuthError>().expect("an AuthError");
                    return (data, trailers, Some(e));
                }
                Poll::Ready(None) => {
                    assert!(body.is_end_stream());
                    return (data, trailers, None);
                }
                Poll::Pending => unreachable!(),
            }
        }
    }

    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

    fn example_verifier() -> ChunkVerifier {
        ChunkVerifier {
            signing_key: signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
            seed_signature: SEED.into(),
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
        }
    }

    /// Encodes `chunks` the way a signing client does (signatures chained from the seed).
    fn encode_signed(v: &ChunkVerifier, chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = v.seed_signature.clone();
        for data in chunks.iter().copied().chain([&b""[..]]) {
            let sts = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{prev}\n{EMPTY_SHA256}\n{}",
                v.amz_date,
                v.scope,
                hex::encode(Sha256::digest(data))
            );
            prev = sign(&v.signing_key, &sts);
            out.extend_from_slice(format!("{:x};chunk-signature={prev}\r\n", data.len()).as_bytes());
            out.extend_from_slice(data);
            if !data.is_empty() {
                out.extend_from_slice(b"\r\n");
            }
        }
        let mut canon = String::new();
        for (k, val) in trailers {
            canon.push_str(&format!("{k}:{val}\n"));
            out.extend_from_slice(format!("{k}:{val}\r\n").as_bytes());
        }
        if !trailers.is_empty() {
            let sts = format!(
                "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{prev}\n{}",
                v.amz_date,
                v.scope,
                hex::encode(Sha256::digest(canon.as_bytes()))
            );
            let sig = sign(&v.signing_key, &sts);
            out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The body of the AWS documentation's chunked PUT example (64 KiB + 1 KiB of 'a').
    fn aws_example_body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(
            b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
        );
        b.extend_from_slice(&[b'a'; 65536]);
        b.extend_from_slice(
            b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
        );
        b.extend_from_slice(&[b'a'; 1024]);
        b.extend_from_slice(
            b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
        );
        b
    }

    #[test]
    fn aws_example_whole_and_bytewise() {
        let body = aws_example_body();
        assert_eq!(body.len(), 66824, "Content-Length of the example");
        assert_eq!(encode_signed(&example_verifier(), &[&[b'a'; 65536], &[b'a'; 1024]], &[]), body);
        for inner in [whole(&body), bytewise(&body)] {
            let (data, trailers, err) = drain(AwsChunkedBody::new(inner, Some(example_verifier()), Some(66560)));
            assert_eq!(err, None);
            assert_eq!(data.len(), 66560);
            assert!(data.iter().all(|b| *b == b'a'));
            assert!(trailers.is_none());
        }
    }

    #[test]
    fn bad_chunk_signature() {
        let mut body = aws_example_body();
        body[100] ^= 1; // inside the first chunk's data
        let (data, _, err) = drain(AwsChunkedBody::new(whole(&body), Some(example_verifier()), None));
        assert_eq!(err, Some(AuthError::ChunkSignatureMismatch));
        assert_eq!(data.len(), 65536, "data is streamed before the check");
        // Without a verifier the same body decodes.
        let (data, _, err) = drain(AwsChunkedBody::new(whole(&body), None, None));
        assert_eq!((data.len(), err), (66560, None));
    }

    #[test]
    fn unsigned_trailer() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA==\r\n\r\n";
        for inner in [whole(body), bytewise(body)] {
            let (data, trailers, err) = drain(AwsChunkedBody::new(inner, None, Some(11)));
            assert_eq!(err, None);
            assert_eq!(data, b"hello world");
            let t = trailers.expect("trailers frame");
            assert_eq!(t.get("x-amz-checksum-crc32").unwrap(), "AAAA==");
        }
    }

    #[test]
    fn signed_trailer() {
        let v = example_verifier();
        let trailers = [("x-amz-checksum-crc32c", "sOO8/Q==")];
        let body = encode_signed(&v, &[b"hello", b" world"], &trailers);
        for inner in [whole(&body), bytewise(&body)] {
            let (data, t, err) = drain(AwsChunkedBody::new(inner, Some(v.clone()), Some(11)));
            assert_eq!(err, None);
            assert_eq!(data, b"hello world");
            let t = t.unwrap();
            assert_eq!(t.get("x-amz-checksum-crc32c").unwrap(), "sOO8/Q==");
            assert!(t.get("x-amz-trailer-signature").is_none());
        }
        let tampered = String::from_utf8(body).unwrap().replace("sOO8/Q==", "AAAAAA==");
        let (_, t, err) = drain(AwsChunkedBody::new(whole(tampered.as_bytes()), Some(v.clone()), None));
        assert_eq!((t, err), (None, Some(AuthError::ChunkSignatureMismatch)));
    }

    #[test]
    fn length_checks_and_truncation() {
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        let (_, _, err) = drain(AwsChunkedBody::new(whole(body), None, Some(6)));
        assert!(matches!(err, Some(AuthError::IncompleteBody(_))));
        let (_, _, err) = drain(AwsChunkedBody::new(whole(body), None, Some(4)));
        assert_eq!(err.unwrap().code("s3"), "IncompleteBody");
        let (data, _, err) = drain(AwsChunkedBody::new(whole(&body[..7]), None, None));
        assert_eq!(data, b"hell");
        assert!(matches!(err, Some(AuthError::IncompleteBody(_))));
        // A missing final CRLF is tolerated.
        let (data, _, err) = drain(AwsChunkedBody::new(whole(&body[..13]), None, Some(5)));
        assert_eq!((data.as_slice(), err), (&b"hello"[..], None));
    }

    #[test]
    fn malformed_framing() {
        let long = format!("5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(5000));
        let cases: [&[u8]; 6] = [
            b"zz\r\nhello\r\n0\r\n\r\n",
            b"\r\n",
            b"5\r\nhello world\r\n0\r\n\r\n",
            b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",
            b"11111111111111111\r\n",
            long.as_bytes(),
        ];
        for body in cases {
            for inner in [whole(body), bytewise(body)] {
                let (_, _, err) = drain(AwsChunkedBody::new(inner, None, None));
                assert!(matches!(err, Some(AuthError::MalformedChunk(_))), "{err:?}");
            }
        }
        // Signed mode requires signatures.
        let (_, _, err) = drain(AwsChunkedBody::new(whole(b"5\r\nhello\r\n0\r\n\r\n"), Some(example_verifier()), None));
        assert!(matches!(err, Some(AuthError::MalformedChunk(_))));
    }
}
