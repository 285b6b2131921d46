//! In-process Invoke for other services (SNS subscriptions, Secrets Manager rotation, event
//! sources): [`LambdaHandle::invoke`] runs the same path as the Invoke API — qualifiers, aliases,
//! payload checks, asynchronous retries and destinations — without an HTTP round trip.

use crate::generated::types::InvocationRequest;
use crate::state::Lambda;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext, Service, StreamingBody};
use std::sync::Arc;

/// How an in-process caller invokes a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// Runs the function and waits for its answer.
    RequestResponse,
    /// Queues the event (retried twice on a function error, as AWS does) and returns at once.
    Event,
}

/// What an invocation answered.
#[derive(Debug, Clone)]
pub struct InvokeOutcome {
    /// 200 for RequestResponse, 202 for Event.
    pub status_code: i32,
    /// `Unhandled` or `Handled` when the function failed.
    pub function_error: Option<String>,
    /// The function's response (empty for Event).
    pub payload: Bytes,
    pub executed_version: Option<String>,
}

/// A cloneable handle on the Lambda state for other services.
#[derive(Clone)]
pub struct LambdaHandle {
    lambda: Arc<Lambda>,
}

impl LambdaHandle {
    /// Invokes `function` (a name, partial or full ARN, optionally with `:qualifier`; an ARN's
    /// account and region take precedence over `account` and `region`).
    pub async fn invoke(
        &self,
        account: &str,
        region: &str,
        function: &str,
        payload: Bytes,
        invocation_type: InvocationType,
    ) -> Result<InvokeOutcome, AwsError> {
        let (account, region) = match function.split(':').collect::<Vec<_>>().as_slice() {
            ["arn", _, "lambda", r, a, ..] => (*a, *r),
            _ => (account, region),
        };
        let access_key = if account == "000000000000" { "test" } else { account };
        let mut ctx = RequestContext::for_tests("Invoke");
        ctx.account_id = Arc::from(account);
        ctx.region = Arc::from(region);
        ctx.access_key = Arc::from(access_key);
        ctx.host = Arc::from(format!("127.0.0.1:{}", self.lambda.gateway_port()).as_str());
        let kind = match invocation_type {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
        };
        let request = InvocationRequest {
            function_name: function.to_owned(),
            invocation_type: Some(kind.to_owned()),
            payload: StreamingBody::from_bytes(payload),
            ..Default::default()
        };
        let out = crate::invoke::invoke(self.lambda.clone(), ctx, request).await?;
        Ok(InvokeOutcome {
            status_code: out.status_code.unwrap_or(200),
            function_error: out.function_error,
            payload: out.payload.collect(usize::MAX).await?,
            executed_version: out.executed_version,
        })
    }
}

/// The Lambda service over `lambda` (built with its log sink, storage, gateway port and stream
/// reader), and a [`LambdaHandle`] on the same state.
pub fn service_with_handle(lambda: Lambda) -> (Arc<dyn Service>, LambdaHandle) {
    let lambda = Arc::new(lambda);
    (crate::service_over(lambda.clone()), LambdaHandle { lambda })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn invoking_a_missing_function_is_resource_not_found() {
        let (_service, handle) = service_with_handle(Lambda::new(Arc::new(crate::MemoryLogSink::default())));
        let err = handle
            .invoke(
                "000000000000",
                "us-east-1",
                "arn:aws:lambda:eu-west-1:111111111111:function:nope",
                Bytes::from_static(b"{}"),
                InvocationType::Event,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code, "ResourceNotFoundException");
        assert!(err.message.contains("arn:aws:lambda:eu-west-1:111111111111:function:nope"), "{}", err.message);
    }
}
