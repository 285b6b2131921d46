//! The gateway: every request enters here, is routed to a service, authenticated, decoded by the
//! service's protocol codec, handled, and encoded back. It owns no AWS logic of its own.

use crate::config::Config;
use crate::metrics::Metrics;
use crate::routing::{self, RequestFacts};
use crate::{cors, internal};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use ruststack_auth::{AwsChunkedBody, Family, family};
use ruststack_core::body::{self, Body};
use ruststack_core::identity::Credentials;
use ruststack_core::protocol::{self, MAX_DOCUMENT_BODY};
use ruststack_core::request_id::{new_host_id, new_request_id};
use ruststack_core::service::{OperationRequest, Raw};
use ruststack_core::shape::{Protocol, ServiceModel};
use ruststack_core::{AwsError, RequestContext, Service};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest header section we accept, as S3 does (8 KiB); larger ones are a 400, not a hang.
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// The shared state of the server: configuration and the enabled services.
pub struct Gateway {
    pub config: Config,
    /// Enabled services by name, sorted (for health and listings).
    pub services: BTreeMap<&'static str, Arc<dyn Service>>,
    pub metrics: Metrics,
    /// Keys issued by IAM and STS, which sign requests like the configured ones.
    pub credentials: Credentials,
    /// Shared copies of the account ids, regions and access keys seen, so a request's context
    /// costs reference counts rather than allocations.
    interned: parking_lot::RwLock<std::collections::HashSet<Arc<str>>>,
}

/// An error on its way out, with the protocol (and model) to render it in.
struct Failure {
    protocol: Protocol,
    model: Option<&'static ServiceModel>,
    error: AwsError,
}

impl Gateway {
    pub fn new(config: Config, all: Vec<Arc<dyn Service>>, credentials: Credentials) -> Self {
        let services =
            all.into_iter().filter(|s| config.enabled(s.model().name)).map(|s| (s.model().name, s)).collect();
        Gateway { config, services, metrics: Metrics::default(), credentials, interned: Default::default() }
    }

    /// The shared copy of a short string (bounded: past 10 000 distinct values, no more are kept).
    fn interned(&self, value: &str) -> Arc<str> {
        if let Some(known) = self.interned.read().get(value) {
            return known.clone();
        }
        let fresh: Arc<str> = Arc::from(value);
        let mut set = self.interned.write();
        if set.len() < 10_000 {
            set.insert(fresh.clone());
        }
        fresh
    }

    /// Answers one request; never fails (errors are AWS error responses).
    pub async fn handle(self: Arc<Self>, req: Request<hyper::body::Incoming>) -> Response<Body> {
        let request_id = new_request_id();
        let (parts, incoming) = req.into_parts();
        let body: Body = incoming.map_err(|e| Box::new(e) as body::BoxError).boxed_unsync();
        let started = std::time::Instant::now();
        let in_flight = self.metrics.start();
        let mut operation = "unknown";
        let (mut response, service) = match self.dispatch(&parts, body, &request_id, &mut operation).await {
            Ok(done) => done,
            Err(failure) => {
                let service = failure.model.map(|m| m.name).unwrap_or("unknown");
                if failure.error.status.is_server_error() {
                    tracing::warn!(service, error = %failure.error, "request failed");
                }
                (protocol::encode_error(failure.protocol, failure.model, &failure.error, &request_id), service)
            }
        };
        drop(in_flight);
        self.metrics.record(service, operation, response.status().as_u16(), started.elapsed());
        tracing::debug!(
            service,
            operation,
            method = %parts.method,
            path = parts.uri.path(),
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        );
        let headers = response.headers_mut();
        let id = HeaderValue::try_from(request_id.as_str()).unwrap_or(HeaderValue::from_static("0"));
        if service == "s3" {
            headers.insert("x-amz-request-id", id.clone());
            if let Ok(host_id) = HeaderValue::try_from(new_host_id()) {
                headers.insert("x-amz-id-2", host_id);
            }
        }
        headers.insert("x-amzn-requestid", id);
        // A service that applied its own CORS rules (S3 bucket CORS) marks its answer with `Vary`.
        if self.config.cors && !headers.contains_key(http::header::VARY) {
            cors::add_response_headers(&parts.headers, headers);
        }
        response
    }

    async fn dispatch(
        &self,
        parts: &http::request::Parts,
        mut body: Body,
        request_id: &str,
        operation: &mut &'static str,
    ) -> Result<(Response<Body>, &'static str), Failure> {
        let path = parts.uri.path();
        if let Some(response) = internal::handle(self, parts, path).await {
            *operation = "internal";
            return Ok((response, "internal"));
        }
        // Preflights are offered to the routed service first (S3 applies a bucket's own CORS
        // rules), then answered permissively unless --disable-cors.
        let preflight = cors::is_preflight(parts);

        let scope = ruststack_auth::scope_service_fast(&parts.headers, parts.uri.query());
        let facts = RequestFacts { headers: &parts.headers, path, scope_service: scope.map(|s| s.0) };
        let mut form = None;
        if routing::needs_form_body(&facts, parts.method == http::Method::POST) {
            let bytes = body::collect(body, MAX_DOCUMENT_BODY).await.map_err(|e| guess_failure(parts, e))?;
            body = body::full(bytes.clone());
            form = Some(bytes);
        }
        let routed = routing::route(&facts, form.as_deref());
        let Some(service) = self.services.get(routed.service) else {
            if preflight && self.config.cors {
                return Ok((cors::preflight(&parts.headers), "internal"));
            }
            return Err(guess_failure(parts, unknown_service(routed.service, parts)));
        };
        let model = service.model();
        let wire = protocol::request_protocol(model, &parts.headers);
        let fail = |error: AwsError| Failure { protocol: wire, model: Some(model), error };
        body = match service.raw(parts, body) {
            Raw::NotMine(body) => body,
            Raw::Answer(answer) => {
                *operation = "raw";
                return Ok((answer.await, model.name));
            }
        };
        if preflight && self.config.cors {
            return Ok((cors::preflight(&parts.headers), model.name));
        }
        let header_bytes: usize = parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        if header_bytes > MAX_HEADER_BYTES {
            return Err(fail(AwsError::bad_request(
                "RequestHeaderSectionTooLarge",
                format!("Your request header section exceeds the maximum allowed size ({MAX_HEADER_BYTES} bytes)."),
            )));
        }

        let region = scope.map(|s| s.1).filter(|r| !r.is_empty()).unwrap_or(&self.config.default_region);
        let access_key = ruststack_auth::access_key_hint(parts).unwrap_or_else(|| "test".to_owned());
        if self.config.enforce_sigv4 {
            body = self.authenticate(parts, body, model.name).await.map_err(fail)?;
        } else if is_aws_chunked(parts) {
            body = decode_aws_chunked(parts, body, None);
        }
        let identity = self.credentials.get(&access_key).map(Arc::new);
        let account_id = match &identity {
            Some(identity) => identity.account_id.clone(),
            None if access_key.len() == 12 && access_key.bytes().all(|b| b.is_ascii_digit()) => access_key.clone(),
            None => self.config.default_account.clone(),
        };

        let bucket_path;
        let path = match routed.bucket {
            Some(bucket) => {
                bucket_path = format!("/{bucket}{path}");
                bucket_path.as_str()
            }
            None => path,
        };
        let decoded = protocol::decode(model, wire, parts, path, body).await.map_err(fail)?;
        *operation = decoded.op.name;
        let ctx = RequestContext {
            request_id: Arc::from(request_id),
            account_id: self.interned(&account_id),
            region: self.interned(region),
            access_key: self.interned(&access_key),
            operation: decoded.op.name,
            host: self.interned(
                parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566"),
            ),
            identity,
        };
        let op = decoded.op;
        let output = service
            .call(op, OperationRequest { ctx, input: decoded.input, payload: decoded.payload })
            .await
            .map_err(fail)?;
        Ok((protocol::encode(model, wire, op, request_id, output), model.name))
    }

    /// Verifies the request's signature (`--enforce-sigv4`), returning the body to read on:
    /// buffered when its hash had to be computed, or an aws-chunked decoder that checks each chunk.
    async fn authenticate(
        &self,
        parts: &http::request::Parts,
        mut body: Body,
        service: &str,
    ) -> Result<Body, AwsError> {
        let fam = family(service);
        // restJson1 services (Lambda) answer authentication failures with 403, awsJson ones with 400.
        let rest_json = self.services.get(service).is_some_and(|s| s.model().protocol == Protocol::RestJson);
        let auth_error = |e: ruststack_auth::AuthError| {
            let status = if rest_json && fam == Family::Json { StatusCode::FORBIDDEN } else { e.status_for(fam) };
            AwsError::new(status, e.code_for(fam), e.message_for(fam))
        };
        let Some(sig) = ruststack_auth::parse(parts).map_err(auth_error)? else {
            return Err(missing_authentication(fam));
        };
        let issued;
        let secret = match self.config.credentials.get(&sig.access_key) {
            Some(secret) => secret,
            None => match self.credentials.get_even_expired(&sig.access_key) {
                Some(identity) if identity.expired() => return Err(expired_token(fam)),
                Some(identity) => {
                    // Temporary credentials only sign together with their session token.
                    if let Some(token) = &identity.session_token {
                        // The header carries the token as is; a presigned URL carries it percent-encoded.
                        let sent = match parts.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()) {
                            Some(header) => Some(header.to_owned()),
                            None => parts.uri.query().and_then(|q| {
                                form_urlencoded::parse(q.as_bytes())
                                    .find(|(k, _)| k == "X-Amz-Security-Token")
                                    .map(|(_, v)| v.into_owned())
                            }),
                        };
                        if sent.as_deref() != Some(token.as_str()) {
                            return Err(invalid_token(fam));
                        }
                    }
                    issued = identity.secret_key;
                    &issued
                }
                None => return Err(auth_error(ruststack_auth::AuthError::UnknownAccessKey)),
            },
        };
        let declared = parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let payload_hash = match declared {
            Some(hash) => hash,
            None if sig.presigned.is_some() => "UNSIGNED-PAYLOAD".to_owned(),
            None => {
                // Without a declared hash the signature covers the body itself: read it (a
                // document-sized body for every service that omits the header).
                let bytes = body::collect(body, MAX_DOCUMENT_BODY).await?;
                let hash = ruststack_auth::sha256_hex(&bytes);
                body = body::full(bytes);
                hash
            }
        };
        let verified = ruststack_auth::verify(parts, &sig, secret, &payload_hash, time::OffsetDateTime::now_utc())
            .map_err(auth_error)?;
        if is_aws_chunked(parts) {
            let verifier =
                payload_hash.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").then(|| verified.chunk_verifier());
            body = decode_aws_chunked(parts, body, verifier);
        }
        Ok(body)
    }
}

/// Temporary credentials past their expiry.
fn expired_token(fam: Family) -> AwsError {
    match fam {
        Family::S3 => AwsError::bad_request("ExpiredToken", "The provided token has expired."),
        Family::Json => {
            AwsError::bad_request("ExpiredTokenException", "The security token included in the request is expired")
        }
        Family::Query => AwsError::new(
            StatusCode::FORBIDDEN,
            "ExpiredToken",
            "The security token included in the request is expired",
        ),
    }
}

/// Temporary credentials sent without (or with another) session token.
fn invalid_token(fam: Family) -> AwsError {
    match fam {
        Family::S3 => AwsError::bad_request("InvalidToken", "The provided token is malformed or otherwise invalid."),
        Family::Json => AwsError::bad_request(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        Family::Query => AwsError::new(
            StatusCode::FORBIDDEN,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
    }
}

fn missing_authentication(fam: Family) -> AwsError {
    match fam {
        Family::S3 => AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
        Family::Json => AwsError::new(
            StatusCode::BAD_REQUEST,
            "MissingAuthenticationTokenException",
            "Request is missing Authentication Token",
        ),
        Family::Query => AwsError::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
    }
}

/// Whether the body is aws-chunked (`x-amz-content-sha256: STREAMING-…`).
fn is_aws_chunked(parts: &http::request::Parts) -> bool {
    parts.headers.get("x-amz-content-sha256").is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"))
}

fn decode_aws_chunked(
    parts: &http::request::Parts,
    body: Body,
    verifier: Option<ruststack_auth::ChunkVerifier>,
) -> Body {
    let decoded_len =
        parts.headers.get("x-amz-decoded-content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    AwsChunkedBody::new(body, verifier, decoded_len).boxed_unsync()
}

/// The error for a request no enabled service answers.
fn unknown_service(name: &str, parts: &http::request::Parts) -> AwsError {
    let what = match parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        Some(target) => format!("the target '{target}'"),
        None if name == "unknown" => "this request".to_owned(),
        None => format!("service '{name}'"),
    };
    AwsError::bad_request(
        "UnknownOperationException",
        format!("No enabled RustStack service handles {what} ({} {})", parts.method, parts.uri.path()),
    )
}

/// The protocol to answer in when no service was found: what the request looks like.
fn guess_failure(parts: &http::request::Parts, error: AwsError) -> Failure {
    let protocol = if parts.headers.contains_key("x-amz-target") {
        Protocol::AwsJson
    } else if routing::is_form(&parts.headers) {
        Protocol::AwsQuery
    } else {
        Protocol::RestXml
    };
    Failure { protocol, model: None, error }
}
