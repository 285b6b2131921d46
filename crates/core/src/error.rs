//! The one error type of RustStack: every failure, from a malformed body to a missing bucket, is an
//! [`AwsError`], rendered by the codec of the protocol that received the request.

use http::StatusCode;
use std::borrow::Cow;
use std::fmt;

/// An AWS error: code, message, HTTP status and any extra fields the protocol puts beside them.
#[derive(Debug, Clone)]
pub struct AwsError {
    pub code: Cow<'static, str>,
    pub message: String,
    pub status: StatusCode,
    /// `Sender` (client fault) or `Receiver` (server fault), as awsQuery and restJson report it.
    pub sender_fault: bool,
    /// Extra members of the error document, e.g. S3's `BucketName` or DynamoDB's
    /// `CancellationReasons` (a JSON value, rendered as JSON or XML by the codec).
    pub fields: Vec<(&'static str, serde_json::Value)>,
    /// Extra response headers (S3's `x-amz-delete-marker` on a 404, …).
    pub headers: Vec<(&'static str, String)>,
}

pub type Result<T, E = AwsError> = std::result::Result<T, E>;

impl AwsError {
    /// A client error (4xx) with a code and message.
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        AwsError {
            code: code.into(),
            message: message.into(),
            sender_fault: status.is_client_error(),
            status,
            fields: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 400 with this code.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 with this code.
    pub fn not_found(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 500 `InternalFailure`: a bug or an I/O failure on our side, never the client's input.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", message)
    }

    /// The answer for an operation AWS defines but we do not serve yet.
    pub fn not_implemented(service: &str, operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("The operation {operation} of service {service} is not implemented by RustStack yet"),
        )
    }

    /// Adds an extra member to the error document.
    pub fn with_field(mut self, name: &'static str, value: impl Into<serde_json::Value>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

impl std::error::Error for AwsError {}
