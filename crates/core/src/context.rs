//! What a handler knows about the request besides its input: who sent it, where, and its id.

use std::sync::Arc;

/// Per-request facts set by the gateway.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Echoed as `x-amzn-RequestId` (and `x-amz-request-id` for S3).
    pub request_id: Arc<str>,
    /// 12-digit account the request acts in, derived from the access key.
    pub account_id: Arc<str>,
    /// Region from the SigV4 credential scope, `us-east-1` by default.
    pub region: Arc<str>,
    /// The access key of the caller (`test` when the request was anonymous).
    pub access_key: Arc<str>,
    /// The operation name (`ListBuckets`).
    pub operation: &'static str,
    /// `Host` header, for services that build URLs pointing back at us (queue URLs, Lambda code).
    pub host: Arc<str>,
    /// The identity of an access key issued by IAM or STS, when the request used one.
    pub identity: Option<Arc<crate::identity::Identity>>,
}

impl RequestContext {
    /// A context for tests and internal calls.
    pub fn for_tests(operation: &'static str) -> Self {
        RequestContext {
            request_id: Arc::from(crate::request_id::new_request_id().as_str()),
            account_id: Arc::from("000000000000"),
            region: Arc::from("us-east-1"),
            access_key: Arc::from("test"),
            operation,
            host: Arc::from("localhost:4566"),
            identity: None,
        }
    }

    /// An ARN in this context's partition, region and account.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{resource}", self.region, self.account_id)
    }
}
