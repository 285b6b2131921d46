//! Every service RustStack can serve. Adding a service: add its crate to this list.

use ruststack_core::Service;
use ruststack_core::identity::Credentials;
use ruststack_core::store::Storage;
use std::sync::Arc;

/// One instance of every service, enabled or not (the gateway filters by `--services`). IAM and
/// STS issue keys into `credentials`, which the gateway honours. Services that persist keep their
/// state in `storage` (memory, or the `--data-dir`). Services that call back into the gateway
/// (Lambda) do it on `gateway_port`, the port the server listens on.
pub fn all(credentials: &Credentials, storage: &Storage, gateway_port: u16) -> Vec<Arc<dyn Service>> {
    // S3 holds what DynamoDB exports and imports and what CloudWatch Logs exports.
    let s3 = Arc::new(ruststack_s3::S3::new(storage.clone()));
    let buckets = ruststack_s3::handle::S3Handle::new(s3.clone());
    // Lambda writes function output into CloudWatch Logs, as AWS does.
    let (logs, logs_handle) = ruststack_logs::service_with_handle(storage.clone());
    logs_handle.set_export_destination(Arc::new(buckets.clone()));
    let subscriptions = logs_handle.clone();
    let lambda_logs = move |account: &str, region: &str, group: &str, stream: &str, events: Vec<(i64, String)>| {
        logs_handle.append(account, region, group, stream, events)
    };
    // SNS delivers to SQS queues through SQS's own state.
    let queues = ruststack_sqs::Queues::new(storage);
    // DynamoDB Streams reads the change logs DynamoDB keeps with its tables.
    let (dynamodb, dynamodb_streams) =
        ruststack_dynamodb::service_with_buckets(storage.clone(), Arc::new(buckets.clone()));
    // SNS subscriptions and Secrets Manager rotation invoke functions through Lambda's handle;
    // its event source mappings read DynamoDB streams through DynamoDB's.
    let (lambda, lambda_handle) = ruststack_lambda::service_with_handle(
        ruststack_lambda::state::Lambda::with_storage(Arc::new(lambda_logs), storage.clone())
            .with_gateway_port(gateway_port)
            .with_stream_reader(Arc::new(lambda_integrations::StreamsForLambda(dynamodb_streams.clone()))),
    );
    let sns = Arc::new(ruststack_sns::Sns::with_store(queues.clone(), storage.kv.clone()));
    *sns.lambda.write() = Some(Arc::new(lambda_integrations::SnsToLambda(lambda_handle.clone())));
    // S3 event notifications go to queues, topics and functions through the same handles.
    s3.set_notification_target(Arc::new(s3_notifications::Destinations {
        queues: queues.clone(),
        sns: sns.clone(),
        lambda: lambda_handle.clone(),
        lambda_api: lambda.clone(),
    }));
    // Logs subscription filters invoke functions with their events.
    subscriptions.set_subscription_target(Arc::new(lambda_integrations::LogsToLambda {
        lambda: lambda_handle.clone(),
        lambda_api: lambda.clone(),
    }));
    let (secretsmanager, secrets) = ruststack_secretsmanager::service_with_handle(storage.clone());
    secrets.set_rotator(Arc::new(lambda_integrations::RotationByLambda(lambda_handle)));
    vec![
        dynamodb,
        ruststack_dynamodbstreams::service(dynamodb_streams),
        ruststack_iam::service(credentials.clone(), storage.clone()),
        lambda,
        logs,
        ruststack_s3::service_with_state(s3),
        secretsmanager,
        ruststack_sns::service_with_state(sns),
        ruststack_sqs::service_with(queues),
        ruststack_ssm::service_with_secrets(storage.clone(), Some(Arc::new(secrets_for_ssm::Reader(secrets.clone())))),
        ruststack_sts::service(credentials.clone()),
    ]
}

/// Parameter Store's `/aws/reference/secretsmanager/…` reads, through GetSecretValue.
mod secrets_for_ssm {
    use ruststack_core::RequestContext;
    use ruststack_core::service::BoxFuture;
    use ruststack_secretsmanager::generated::types::GetSecretValueRequest;
    use ruststack_ssm::{Pick, ReadError, SecretVersion};

    pub struct Reader(pub ruststack_secretsmanager::SecretsHandle);

    impl ruststack_ssm::SecretsReader for Reader {
        fn read(&self, ctx: &RequestContext, id: &str, pick: Pick) -> BoxFuture<Result<SecretVersion, ReadError>> {
            let (handle, ctx) = (self.0.clone(), ctx.clone());
            let (version_id, version_stage) = match pick {
                Pick::Current => (None, None),
                Pick::VersionId(v) => (Some(v), None),
                Pick::Stage(s) => (None, Some(s)),
            };
            let input = GetSecretValueRequest { secret_id: id.to_owned(), version_id, version_stage };
            Box::pin(async move {
                let out = handle.get_secret_value(ctx, input).await.map_err(|e| {
                    // A secret scheduled for deletion is an InvalidRequestException there.
                    if e.code == "InvalidRequestException" { ReadError::Deleted } else { ReadError::NotFound }
                })?;
                Ok(SecretVersion {
                    arn: out.arn.unwrap_or_default(),
                    name: out.name.unwrap_or_default(),
                    version_id: out.version_id.unwrap_or_default(),
                    secret_string: out.secret_string,
                    // A Blob serializes as its base64 text.
                    secret_binary: out
                        .secret_binary
                        .and_then(|b| serde_json::to_value(b).ok())
                        .and_then(|v| v.as_str().map(str::to_owned)),
                    stages: out.version_stages.unwrap_or_default(),
                    created: out.created_date.unwrap_or_default(),
                })
            })
        }
    }
}

/// Lambda as other services call it: SNS deliveries (Event invocations with the SNS event) and
/// the four steps of a Secrets Manager rotation (RequestResponse, a function error fails the step).
mod lambda_integrations {
    use bytes::Bytes;
    use ruststack_core::service::BoxFuture;
    use ruststack_lambda::{InvocationType, LambdaHandle};

    pub struct SnsToLambda(pub LambdaHandle);

    impl ruststack_sns::LambdaInvoker for SnsToLambda {
        fn invoke(&self, function_arn: &str, event: serde_json::Value) {
            let (handle, function_arn) = (self.0.clone(), function_arn.to_owned());
            tokio::spawn(async move {
                let payload = Bytes::from(event.to_string());
                // The function's account and region come from its ARN.
                if let Err(e) = handle.invoke("", "", &function_arn, payload, InvocationType::Event).await {
                    tracing::debug!(function_arn, error = %e.message, "SNS could not deliver to Lambda");
                }
            });
        }
    }

    /// Logs subscription filters: an Event invocation per delivery; a function exists when
    /// Lambda's GetFunction finds it in the account and region of its ARN.
    pub struct LogsToLambda {
        pub lambda: LambdaHandle,
        pub lambda_api: std::sync::Arc<dyn ruststack_core::Service>,
    }

    impl ruststack_logs::handlers::filters::SubscriptionTarget for LogsToLambda {
        fn function_exists(&self, arn: &str) -> BoxFuture<bool> {
            use ruststack_core::service::OperationRequest;
            let api = self.lambda_api.clone();
            let Some(op) = api.model().operation("GetFunction") else { return Box::pin(std::future::ready(false)) };
            let (account, region) = arn_scope(arn);
            let mut ctx = ruststack_core::RequestContext::for_tests("GetFunction");
            ctx.access_key = std::sync::Arc::from(if account == "000000000000" { "test" } else { account.as_str() });
            ctx.account_id = std::sync::Arc::from(account);
            ctx.region = std::sync::Arc::from(region);
            let input = serde_json::json!({ "FunctionName": arn });
            Box::pin(async move { api.call(op, OperationRequest { ctx, input, payload: None }).await.is_ok() })
        }

        fn invoke(&self, arn: &str, payload: Vec<u8>) {
            let (handle, arn) = (self.lambda.clone(), arn.to_owned());
            // Log lines may be appended outside the runtime (never today): no delivery then.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
            runtime.spawn(async move {
                if let Err(e) = handle.invoke("", "", &arn, Bytes::from(payload), InvocationType::Event).await {
                    tracing::debug!(function_arn = arn, error = %e.message, "Logs could not deliver to Lambda");
                }
            });
        }
    }

    pub struct RotationByLambda(pub LambdaHandle);

    impl ruststack_secretsmanager::rotation::Rotator for RotationByLambda {
        fn invoke(
            &self,
            lambda_arn: &str,
            step: &'static str,
            secret_arn: &str,
            token: &str,
        ) -> BoxFuture<Result<(), String>> {
            let handle = self.0.clone();
            let lambda_arn = lambda_arn.to_owned();
            let (account, region) = arn_scope(secret_arn);
            let event = serde_json::json!({
                "Step": step,
                "SecretId": secret_arn,
                "ClientRequestToken": token,
                "RotationToken": ruststack_core::request_id::new_request_id(),
            });
            Box::pin(async move {
                let payload = Bytes::from(event.to_string());
                let out = handle
                    .invoke(&account, &region, &lambda_arn, payload, InvocationType::RequestResponse)
                    .await
                    .map_err(|e| e.message.to_string())?;
                match out.function_error {
                    None => Ok(()),
                    Some(_) => Err(String::from_utf8_lossy(&out.payload).into_owned()),
                }
            })
        }
    }

    pub struct StreamsForLambda(pub ruststack_dynamodb::StreamsHandle);

    impl ruststack_lambda::stream_sources::StreamReader for StreamsForLambda {
        fn records_after(&self, arn: &str, after: Option<&str>, limit: usize) -> Option<Vec<serde_json::Value>> {
            use ruststack_dynamodb::streams::ReadError;
            match self.0.records_after(arn, after, limit) {
                Ok(page) => page.map(|p| p.records),
                // Records past their retention: go on from the oldest kept.
                Err(ReadError::Trimmed) => self.0.records_after(arn, None, limit).ok().flatten().map(|p| p.records),
                Err(ReadError::BeyondEnd) => Some(Vec::new()),
            }
        }

        fn latest_sequence(&self, arn: &str) -> Option<String> {
            self.0.latest_sequence(arn)
        }
    }

    /// The account and region of an ARN (`arn:aws:<service>:<region>:<account>:…`).
    fn arn_scope(arn: &str) -> (String, String) {
        let mut parts = arn.split(':').skip(3);
        let region = parts.next().unwrap_or("us-east-1").to_owned();
        let account = parts.next().unwrap_or("000000000000").to_owned();
        (account, region)
    }
}

/// S3 event notifications: SQS messages, SNS publications (subject "Amazon S3 Notification") and
/// asynchronous Lambda invocations, as S3 sends them.
mod s3_notifications {
    use bytes::Bytes;
    use ruststack_core::service::{BoxFuture, OperationRequest};
    use ruststack_core::{RequestContext, Service};
    use ruststack_lambda::{InvocationType, LambdaHandle};
    use ruststack_s3::notifications::{Destination, NotificationTarget};
    use std::future::ready;
    use std::sync::Arc;

    pub struct Destinations {
        pub queues: ruststack_sqs::Queues,
        pub sns: Arc<ruststack_sns::Sns>,
        pub lambda: LambdaHandle,
        /// Lambda's API, asked whether a function exists (GetFunction).
        pub lambda_api: Arc<dyn Service>,
    }

    impl NotificationTarget for Destinations {
        fn exists(&self, kind: Destination, arn: &str, ctx: &RequestContext) -> BoxFuture<bool> {
            match kind {
                Destination::Queue => Box::pin(ready(self.queues.exists(arn))),
                Destination::Topic => Box::pin(ready(self.sns.topic_exists(arn))),
                Destination::Function => {
                    let api = self.lambda_api.clone();
                    let Some(op) = api.model().operation("GetFunction") else { return Box::pin(ready(false)) };
                    // Asked in the function's own account and region, as S3 would.
                    let mut parts = arn.split(':').skip(3);
                    let (region, account) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                    let mut ctx = ctx.clone();
                    ctx.operation = "GetFunction";
                    ctx.identity = None;
                    ctx.account_id = Arc::from(account);
                    ctx.region = Arc::from(region);
                    ctx.access_key = Arc::from(if account == "000000000000" { "test" } else { account });
                    let input = serde_json::json!({ "FunctionName": arn });
                    Box::pin(async move { api.call(op, OperationRequest { ctx, input, payload: None }).await.is_ok() })
                }
            }
        }

        fn deliver(&self, kind: Destination, arn: &str, document: String) -> BoxFuture<Result<(), String>> {
            let failed = |e: ruststack_core::AwsError| e.message.to_string();
            match kind {
                Destination::Queue => Box::pin(ready(
                    self.queues.send_message(arn, document, Default::default(), None, None).map(drop).map_err(failed),
                )),
                Destination::Topic => Box::pin(ready(
                    self.sns
                        .publish_as_service(arn, Some("Amazon S3 Notification"), document)
                        .map(drop)
                        .map_err(failed),
                )),
                Destination::Function => {
                    let (handle, arn) = (self.lambda.clone(), arn.to_owned());
                    Box::pin(async move {
                        // The function's account and region come from its ARN.
                        handle
                            .invoke("", "", &arn, Bytes::from(document), InvocationType::Event)
                            .await
                            .map(drop)
                            .map_err(failed)
                    })
                }
            }
        }
    }
}

#[cfg(test)]
/// `docs/COVERAGE.md`: per service, every AWS operation and whether we implement it.
pub fn coverage_markdown(services: &[Arc<dyn Service>]) -> String {
    use std::fmt::Write;
    let mut services: Vec<_> = services.iter().collect();
    services.sort_by_key(|s| s.model().name);
    let mut out = String::from(
        "# Coverage\n\nGenerated from the botocore models and each service's handler table by \
         `RUSTSTACK_UPDATE_COVERAGE=1 cargo test -p ruststack coverage`; a test fails when this file is stale.\n\n\
         | service | protocol | implemented | AWS operations | ratio |\n|---|---|---|---|---|\n",
    );
    for s in &services {
        let m = s.model();
        let done = s.implemented().len();
        let total = m.routes.len();
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {done} | {total} | {:.0} % |",
            m.name,
            m.name,
            m.protocol.as_str(),
            100.0 * done as f64 / total.max(1) as f64
        );
    }
    for s in &services {
        let m = s.model();
        let implemented = s.implemented();
        let _ = writeln!(out, "\n## {}\n", m.name);
        for route in m.routes {
            let mark = if implemented.contains(&route.name) { "x" } else { " " };
            let _ = writeln!(out, "- [{mark}] {}", route.name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn coverage_file_is_fresh() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/COVERAGE.md");
        let expected =
            super::coverage_markdown(&super::all(&Default::default(), &ruststack_core::store::Storage::memory(), 4566));
        if std::env::var_os("RUSTSTACK_UPDATE_COVERAGE").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/COVERAGE.md is stale: run `RUSTSTACK_UPDATE_COVERAGE=1 cargo test -p ruststack coverage`"
        );
    }

    #[test]
    fn every_service_has_a_unique_name_and_its_handlers_are_served_operations() {
        let all = super::all(&Default::default(), &ruststack_core::store::Storage::memory(), 4566);
        let mut names: Vec<_> = all.iter().map(|s| s.model().name).collect();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for s in &all {
            for op in s.implemented() {
                assert!(s.model().operation(op).is_some(), "{op}");
            }
        }
    }
}
