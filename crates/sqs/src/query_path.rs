//! awsQuery clients POST to the queue URL itself (`POST /<account>/<name>` with `Action=…`) and
//! may leave `QueueUrl` out of the form: the path names the queue. We append the URL to the form
//! so the codec reads it like any other parameter.

use bytes::Bytes;
use http_body::Frame;
use http_body_util::BodyExt;
use ruststack_core::body::{Body, BoxError};
use ruststack_core::service::Raw;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A body followed by some more bytes.
struct Appended {
    inner: Body,
    tail: Option<Bytes>,
}

impl http_body::Body for Appended {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(None) => Poll::Ready(this.tail.take().map(|t| Ok(Frame::data(t)))),
            other => other,
        }
    }
}

/// The `QueueUrl` a query request's path implies, if it names a queue.
fn url_of_path(parts: &http::request::Parts) -> Option<String> {
    if parts.headers.contains_key("x-amz-target") {
        return None;
    }
    let path = parts.uri.path().trim_end_matches('/');
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some(account), Some(name), None) = (segments.next(), segments.next(), segments.next()) else {
        return None;
    };
    if account.is_empty() || name.is_empty() {
        return None;
    }
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566");
    Some(format!("http://{host}/{account}/{name}"))
}

pub fn raw(parts: &http::request::Parts, body: Body) -> Raw {
    let Some(url) = url_of_path(parts) else { return Raw::NotMine(body) };
    let mut tail = String::from("&QueueUrl=");
    tail.extend(form_urlencoded::byte_serialize(url.as_bytes()));
    Raw::NotMine(Appended { inner: body, tail: Some(Bytes::from(tail)) }.boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(path: &str, target: bool) -> http::request::Parts {
        let mut b = http::Request::builder().method("POST").uri(path).header("host", "localhost:4566");
        if target {
            b = b.header("x-amz-target", "AmazonSQS.SendMessage");
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn queue_paths_imply_the_queue_url() {
        assert_eq!(
            url_of_path(&parts("/000000000000/q1", false)).as_deref(),
            Some("http://localhost:4566/000000000000/q1")
        );
        assert_eq!(url_of_path(&parts("/", false)), None);
        assert_eq!(url_of_path(&parts("/a/b/c", false)), None);
        assert_eq!(url_of_path(&parts("/000000000000/q1", true)), None);
    }

    #[tokio::test]
    async fn the_url_is_appended_to_the_form() {
        let Raw::NotMine(body) =
            raw(&parts("/000000000000/q1", false), ruststack_core::body::full("Action=ReceiveMessage"))
        else {
            panic!("raw answered");
        };
        let bytes = ruststack_core::body::collect(body, 1024).await.unwrap();
        let form: std::collections::HashMap<String, String> = form_urlencoded::parse(&bytes).into_owned().collect();
        assert_eq!(form["Action"], "ReceiveMessage");
        assert_eq!(form["QueueUrl"], "http://localhost:4566/000000000000/q1");
    }
}
