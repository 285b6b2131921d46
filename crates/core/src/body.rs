//! Request and response bodies: one boxed streaming type for both directions.

use crate::error::AwsError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use std::future::Future;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed HTTP body (requests and responses).
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// A body of fixed bytes.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// An empty body.
pub fn empty() -> Body {
    full(Bytes::new())
}

/// Reads a whole body into memory, refusing more than `limit` bytes.
///
/// Boxed so that callers' futures stay `Send`: rustc cannot prove it through
/// `http_body_util::Limited`'s higher-ranked error conversion inside an `async fn`.
pub fn collect(body: Body, limit: usize) -> std::pin::Pin<Box<dyn Future<Output = Result<Bytes, AwsError>> + Send>> {
    Box::pin(collect_inner(body, limit))
}

async fn collect_inner(mut body: Body, limit: usize) -> Result<Bytes, AwsError> {
    let mut first: Option<Bytes> = None;
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(read_error)?;
        let Ok(data) = frame.into_data() else { continue };
        let total = first.as_ref().map_or(0, Bytes::len) + buf.len() + data.len();
        if total > limit {
            return Err(AwsError::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("Request body is larger than the limit of {limit} bytes"),
            ));
        }
        // A single-frame body (the common case) is returned without copying.
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            None => buf.extend_from_slice(&data),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

/// A body that failed mid-read: an error of ours travelling in the stream (a bad chunk
/// signature) keeps its code, anything else is an incomplete body.
fn read_error(e: BoxError) -> AwsError {
    match e.downcast::<AwsError>() {
        Ok(aws) => *aws,
        Err(e) => AwsError::bad_request("IncompleteBody", format!("Could not read the request body: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collect_enforces_the_limit() {
        assert_eq!(collect(full("abc"), 3).await.unwrap(), "abc");
        assert_eq!(collect(full("abcd"), 3).await.unwrap_err().status, 413);
        assert_eq!(collect(empty(), 0).await.unwrap(), "");
    }
}
