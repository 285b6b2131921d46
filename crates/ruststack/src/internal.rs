//! Our own endpoints beside the AWS APIs: LocalStack's health check, moto's reset, and
//! `/_ruststack/…` (reset, the list of implemented operations, Prometheus metrics).

use crate::gateway::Gateway;
use http::{HeaderValue, Method, Response, StatusCode, header};
use ruststack_core::body::{self, Body};
use serde_json::{Map, Value, json};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(body::full(serde_json::to_vec(value).unwrap_or_default()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Answers an internal endpoint, or `None` when the path is not one.
pub async fn handle(gw: &Gateway, parts: &http::request::Parts, path: &str) -> Option<Response<Body>> {
    if !(path.starts_with("/_localstack/")
        || (path.starts_with("/_ruststack/") && !path.starts_with("/_ruststack/lambda/"))
        || path == "/health"
        || path == "/moto-api/reset")
    {
        return None;
    }
    let method = &parts.method;
    let read = method == Method::GET || method == Method::HEAD;
    Some(match path {
        "/_localstack/health" | "/health" | "/_ruststack/health" if read => json_response(StatusCode::OK, &health(gw)),
        "/_localstack/init" | "/_localstack/init/ready" if read => json_response(
            StatusCode::OK,
            &json!({"completed": {"BOOT": true, "START": true, "READY": true}, "scripts": []}),
        ),
        "/_ruststack/reset" | "/moto-api/reset" | "/_localstack/state/reset" if method == Method::POST => {
            // The store first, so a request racing the reset cannot reload old state into a cache.
            crate::storage::clear();
            gw.credentials.clear();
            for service in gw.services.values() {
                service.reset();
            }
            tracing::info!("state reset");
            json_response(StatusCode::OK, &json!({"reset": true}))
        }
        "/_ruststack/operations" if read => json_response(StatusCode::OK, &operations(gw)),
        "/_ruststack/metrics" if read => {
            let stored: Vec<(&str, u64)> = gw.services.iter().map(|(name, s)| (*name, s.stored_bytes())).collect();
            let environments = gw
                .services
                .values()
                .flat_map(|s| s.gauges())
                .filter(|(name, _)| *name == "lambda_environments")
                .map(|(_, v)| v)
                .sum();
            let mut response = Response::new(body::full(gw.metrics.render(&stored, environments)));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            response
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": "NotFound", "message": format!("No internal endpoint {method} {path}")}),
        ),
    })
}

/// LocalStack's health document: every enabled service is running.
fn health(gw: &Gateway) -> Value {
    let services: Map<String, Value> =
        gw.services.keys().map(|name| ((*name).to_owned(), Value::from("running"))).collect();
    json!({"services": services, "edition": "community", "version": VERSION})
}

/// Per enabled service: its protocol, implemented operations and the count AWS defines.
fn operations(gw: &Gateway) -> Value {
    let services: Map<String, Value> = gw
        .services
        .iter()
        .map(|(name, service)| {
            let model = service.model();
            let value = json!({
                "protocol": model.protocol.as_str(),
                "implemented": service.implemented(),
                "aws_operations": model.routes.len(),
            });
            ((*name).to_owned(), value)
        })
        .collect();
    Value::Object(services)
}
