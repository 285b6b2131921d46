//! Requests outside the Lambda API that reach the service: function URLs (by Host) and code
//! downloads (`/_ruststack/lambda/code/<sha256>.zip`, the `Code.Location` of GetFunction).

use crate::events;
use crate::invoke;
use crate::packages::Code;
use crate::state::Lambda;
use bytes::Bytes;
use http::{Response, StatusCode};
use ruststack_core::body::{self, Body};
use ruststack_core::service::Raw;
use std::sync::Arc;

pub fn handle(lambda: &Arc<Lambda>, parts: &http::request::Parts, req_body: Body) -> Raw {
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if host.contains(".lambda-url.") {
        let lambda = lambda.clone();
        let (method, path, query, headers, host) = (
            parts.method.to_string(),
            parts.uri.path().to_owned(),
            parts.uri.query().map(str::to_owned),
            parts.headers.clone(),
            host.to_owned(),
        );
        return Raw::Answer(Box::pin(async move {
            function_url(&lambda, &method, &path, query.as_deref(), &headers, &host, req_body).await
        }));
    }
    if let Some(file) = parts.uri.path().strip_prefix("/_ruststack/lambda/code/") {
        let code = file.strip_suffix(".zip").and_then(Code::by_hex);
        return Raw::Answer(Box::pin(async move {
            match code {
                Some(code) => Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/zip")
                    .header("content-length", code.zip.len())
                    .body(body::full(code.zip.clone()))
                    .expect("valid response"),
                None => json(StatusCode::NOT_FOUND, Bytes::from_static(br#"{"message":"Not Found"}"#)),
            }
        }));
    }
    Raw::NotMine(req_body)
}

fn json(status: StatusCode, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body::full(body))
        .expect("valid response")
}

async fn function_url(
    lambda: &Lambda,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &http::HeaderMap,
    host: &str,
    req_body: Body,
) -> Response<Body> {
    let url_id = host.split('.').next().unwrap_or_default();
    let Some(target) = lambda.url_target(url_id) else {
        return json(StatusCode::NOT_FOUND, Bytes::from_static(br#"{"Message":null}"#));
    };
    let Ok(bytes) = body::collect(req_body, invoke::MAX_SYNC_PAYLOAD).await else {
        return json(
            StatusCode::PAYLOAD_TOO_LARGE,
            Bytes::from_static(
                br#"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
            ),
        );
    };
    let request_id = crate::state::uuid();
    let domain = host.split(':').next().unwrap_or(host);
    let event = events::v2_event(
        &events::HttpRequest { method, path, query, headers, body: &bytes, source_ip: "127.0.0.1" },
        url_id,
        domain,
        "anonymous",
        &request_id,
    );
    let run = async {
        let t = invoke::target(lambda, &target.account, &target.region, &target.function, target.qualifier.as_deref())
            .await?;
        lambda
            .executor
            .run(crate::environments::RunRequest {
                version: t.version,
                payload: Bytes::from(event.to_string()),
                port: lambda.gateway_port(),
                tail: false,
                client_context: None,
                invoked_arn: t.invoked_arn,
                function_arn: t.function_arn,
                reserved: t.reserved,
                request_id: None,
            })
            .await
    };
    let result = match run.await {
        Ok(result) => result,
        Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
            return json(StatusCode::TOO_MANY_REQUESTS, Bytes::from_static(br#"{"Message":"Rate Exceeded."}"#));
        }
        Err(_) => return json(StatusCode::BAD_GATEWAY, Bytes::from_static(br#"{"Message":"Internal Server Error"}"#)),
    };
    if result.function_error.is_some() {
        return json(StatusCode::BAD_GATEWAY, Bytes::from_static(br#"{"Message":"Internal Server Error"}"#));
    }
    let proxy = events::v2_response(&result.payload);
    let mut response = Response::builder().status(StatusCode::from_u16(proxy.status).unwrap_or(StatusCode::OK));
    for (k, v) in &proxy.headers {
        response = response.header(k.as_str(), v.as_str());
    }
    response.header("x-amzn-requestid", request_id).body(body::full(proxy.body)).unwrap_or_else(|_| {
        json(StatusCode::BAD_GATEWAY, Bytes::from_static(br#"{"Message":"Internal Server Error"}"#))
    })
}
