//! The Lambda Runtime API (`/2018-06-01/runtime/…`) served to one execution environment.
//!
//! Each environment gets its own listener on `127.0.0.1:0` and `AWS_LAMBDA_RUNTIME_API` set to
//! it. That identifies the environment by its socket rather than by a path prefix (which not
//! every runtime client accepts), keeps runtime traffic off the gateway, and dies with the
//! environment. `/next` long-polls without a timeout, as the Rust and Go clients require.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Largest response a function may return (AWS: 6 MB plus a little framing).
pub const MAX_RESPONSE: usize = 6_291_556;

/// An event on its way to the runtime.
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub timeout: Duration,
    pub function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    /// Told when the runtime picks the event up (end of init), with the deadline it was given.
    pub started: oneshot::Sender<Instant>,
}

/// How an invocation ended, as far as the runtime told us.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// `/error`: the error document the runtime posted.
    Error(Bytes),
    /// `/init/error` before the event was picked up.
    InitError(Bytes),
    /// The response was over [`MAX_RESPONSE`].
    TooLarge,
    /// The process exited (`exit status 1`, `signal: killed`).
    Exited(String),
}

/// The channel between the invoker and the environment's Runtime API.
pub struct Channel {
    next_tx: mpsc::Sender<Invocation>,
    next_rx: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    inflight: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    exited: Mutex<Option<String>>,
}

impl Channel {
    pub fn new() -> Arc<Channel> {
        let (next_tx, next_rx) = mpsc::channel(1);
        Arc::new(Channel {
            next_tx,
            next_rx: tokio::sync::Mutex::new(next_rx),
            inflight: Mutex::new(None),
            exited: Mutex::new(None),
        })
    }

    /// Hands an event to the runtime; the receiver resolves with its outcome.
    pub fn dispatch(&self, invocation: Invocation) -> oneshot::Receiver<Outcome> {
        let (done_tx, done_rx) = oneshot::channel();
        *self.inflight.lock() = Some((invocation.request_id.clone(), done_tx));
        if let Some(reason) = self.exited.lock().clone() {
            self.finish(None, Outcome::Exited(reason));
        } else if self.next_tx.try_send(invocation).is_err() {
            self.finish(None, Outcome::Exited("Runtime is not accepting events".into()));
        }
        done_rx
    }

    /// Records that the process exited; fails the invocation in flight.
    pub fn process_exited(&self, reason: String) {
        *self.exited.lock() = Some(reason.clone());
        self.finish(None, Outcome::Exited(reason));
    }

    pub fn has_exited(&self) -> bool {
        self.exited.lock().is_some()
    }

    /// Completes the invocation in flight (only the one named, when a request id is given).
    fn finish(&self, request_id: Option<&str>, outcome: Outcome) -> bool {
        let mut inflight = self.inflight.lock();
        match inflight.as_ref() {
            Some((id, _)) if request_id.is_none_or(|r| r == id) => {
                let (_, tx) = inflight.take().expect("checked");
                let _ = tx.send(outcome);
                true
            }
            _ => false,
        }
    }
}

/// Starts the listener; returns its address (`127.0.0.1:port`) and the accept task.
pub async fn serve(channel: Arc<Channel>) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let channel = channel.clone();
            connections.spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let channel = channel.clone();
                    async move { Ok::<_, std::convert::Infallible>(route(&channel, req).await) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
            while connections.try_join_next().is_some() {}
        }
    });
    Ok((addr, task))
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &str) -> Reply {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("valid response")
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn route(channel: &Channel, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"Not found","errorType":"NotFound"}"#);
    };
    match (req.method(), rest) {
        (&Method::GET, "invocation/next") => next(channel).await,
        (&Method::POST, "init/error") => {
            let body = read(req).await.map(|(b, _)| b).unwrap_or_default();
            channel.finish(None, Outcome::InitError(body));
            accepted()
        }
        (&Method::POST, rest) => {
            let Some((id, kind)) = rest.strip_prefix("invocation/").and_then(|r| r.rsplit_once('/')) else {
                return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"Not found","errorType":"NotFound"}"#);
            };
            if kind != "response" && kind != "error" {
                return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"Not found","errorType":"NotFound"}"#);
            }
            let known = channel.inflight.lock().as_ref().is_some_and(|(r, _)| r == id);
            if !known {
                return reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
                );
            }
            let Some((body, trailer_error)) = read(req).await else {
                channel.finish(Some(id), Outcome::TooLarge);
                return reply(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#,
                );
            };
            let outcome = match trailer_error {
                // A streamed response that failed midway reports the error in its trailers.
                Some(error) => Outcome::Error(error),
                None if kind == "response" => Outcome::Response(body),
                None => Outcome::Error(body),
            };
            channel.finish(Some(id), outcome);
            accepted()
        }
        _ => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"{"errorMessage":"Method not allowed","errorType":"MethodNotAllowed"}"#,
        ),
    }
}

/// Reads a body of at most [`MAX_RESPONSE`] bytes (chunked bodies included), with the error a
/// streaming runtime may report in the `Lambda-Runtime-Function-Error-Type` / `-Body` trailers.
async fn read(req: Request<Incoming>) -> Option<(Bytes, Option<Bytes>)> {
    let collected = Limited::new(req.into_body(), MAX_RESPONSE).collect().await.ok()?;
    let error = collected.trailers().and_then(|t| {
        let error_type = t.get("lambda-runtime-function-error-type")?.to_str().ok()?.to_owned();
        let body = t
            .get("lambda-runtime-function-error-body")
            .and_then(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b.as_bytes()).ok()
            })
            .map(Bytes::from);
        Some(body.unwrap_or_else(|| {
            Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": ""}).to_string())
        }))
    });
    Some((collected.to_bytes(), error))
}

async fn next(channel: &Channel) -> Reply {
    let invocation = channel.next_rx.lock().await.recv().await;
    let Some(inv) = invocation else {
        return reply(StatusCode::GONE, r#"{"errorMessage":"Environment stopped","errorType":"Gone"}"#);
    };
    let now = Instant::now();
    let deadline_ms = crate::logs::now_millis() + inv.timeout.as_millis() as i64;
    let _ = inv.started.send(now);
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &inv.request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &inv.function_arn)
        .header("lambda-runtime-trace-id", &inv.trace_id);
    if let Some(cc) = &inv.client_context {
        builder = builder.header("lambda-runtime-client-context", cc);
    }
    builder.body(Full::new(inv.payload)).unwrap_or_else(|_| reply(StatusCode::INTERNAL_SERVER_ERROR, "{}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn next_response_round_trip_over_http() {
        let channel = Channel::new();
        let (addr, task) = serve(channel.clone()).await.unwrap();
        let (started_tx, started_rx) = oneshot::channel();
        let done = channel.dispatch(Invocation {
            request_id: "req-1".into(),
            payload: Bytes::from_static(b"{\"a\":1}"),
            timeout: Duration::from_secs(3),
            function_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            trace_id: "Root=1-0-0".into(),
            client_context: None,
            started: started_tx,
        });
        let next = http_get(&addr, "/2018-06-01/runtime/invocation/next").await;
        assert!(next.contains("lambda-runtime-aws-request-id: req-1"), "{next}");
        assert!(next.contains("lambda-runtime-deadline-ms: "), "{next}");
        assert!(next.ends_with("{\"a\":1}"));
        started_rx.await.unwrap();
        let bad = http_post(&addr, "/2018-06-01/runtime/invocation/other/response", "1").await;
        assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
        let ok = http_post(&addr, "/2018-06-01/runtime/invocation/req-1/response", "42").await;
        assert!(ok.starts_with("HTTP/1.1 202"), "{ok}");
        match done.await.unwrap() {
            Outcome::Response(b) => assert_eq!(b, "42"),
            other => panic!("{other:?}"),
        }
        task.abort();
    }

    #[tokio::test]
    async fn exit_fails_the_invocation_in_flight() {
        let channel = Channel::new();
        let (started, _) = oneshot::channel();
        let done = channel.dispatch(Invocation {
            request_id: "r".into(),
            payload: Bytes::new(),
            timeout: Duration::from_secs(1),
            function_arn: String::new(),
            trace_id: String::new(),
            client_context: None,
            started,
        });
        channel.process_exited("exit status 1".into());
        assert!(matches!(done.await.unwrap(), Outcome::Exited(r) if r == "exit status 1"));
        let (started, _) = oneshot::channel();
        let again = channel.dispatch(Invocation {
            request_id: "s".into(),
            payload: Bytes::new(),
            timeout: Duration::from_secs(1),
            function_arn: String::new(),
            trace_id: String::new(),
            client_context: None,
            started,
        });
        assert!(matches!(again.await.unwrap(), Outcome::Exited(_)));
    }

    #[tokio::test]
    async fn streamed_response_errors_come_from_trailers() {
        use base64::Engine;
        let channel = Channel::new();
        let (addr, task) = serve(channel.clone()).await.unwrap();
        let (started, _) = oneshot::channel();
        let done = channel.dispatch(Invocation {
            request_id: "st".into(),
            payload: Bytes::new(),
            timeout: Duration::from_secs(3),
            function_arn: String::new(),
            trace_id: String::new(),
            client_context: None,
            started,
        });
        let _ = http_get(&addr, "/2018-06-01/runtime/invocation/next").await;
        let error = base64::engine::general_purpose::STANDARD.encode(r#"{"errorType":"Stream.Failed"}"#);
        let request = format!(
            "POST /2018-06-01/runtime/invocation/st/response HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\ntrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\nLambda-Runtime-Function-Error-Type: Stream.Failed\r\nLambda-Runtime-Function-Error-Body: {error}\r\n\r\n"
        );
        let answer = raw_http(&addr, &request).await;
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        match done.await.unwrap() {
            Outcome::Error(b) => assert_eq!(b, r#"{"errorType":"Stream.Failed"}"#),
            other => panic!("{other:?}"),
        }
        task.abort();
    }

    async fn http_get(addr: &str, path: &str) -> String {
        raw_http(addr, &format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")).await
    }

    async fn http_post(addr: &str, path: &str, body: &str) -> String {
        raw_http(
            addr,
            &format!(
                "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            ),
        )
        .await
    }

    async fn raw_http(addr: &str, request: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }
}
