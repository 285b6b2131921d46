//! Every service RustStack can serve. Adding a service: add its crate to this list.

use ruststack_core::Service;
use ruststack_core::identity::Credentials;
use ruststack_core::store::Storage;
use std::sync::Arc;

/// One instance of every service, enabled or not (the gateway filters by `--services`). IAM and
/// STS issue keys into `credentials`, which the gateway honours. Services that persist keep their
/// state in `storage` (memory, or the `--data-dir`).
pub fn all(credentials: &Credentials, storage: &Storage) -> Vec<Arc<dyn Service>> {
    let _ = storage; // each service takes it as it moves onto the storage traits
    // Lambda writes function output into CloudWatch Logs, as AWS does.
    let (logs, logs_handle) = ruststack_logs::service_with_handle(storage.clone());
    let lambda_logs = move |account: &str, region: &str, group: &str, stream: &str, events: Vec<(i64, String)>| {
        logs_handle.append(account, region, group, stream, events)
    };
    // SNS delivers to SQS queues through SQS's own state.
    let queues = ruststack_sqs::Queues::new(storage);
    // DynamoDB Streams reads the change logs DynamoDB keeps with its tables.
    let (dynamodb, dynamodb_streams) = ruststack_dynamodb::service_with_streams(storage.clone());
    vec![
        dynamodb,
        ruststack_dynamodbstreams::service(dynamodb_streams),
        ruststack_iam::service(credentials.clone(), storage.clone()),
        ruststack_lambda::service_with_logs(Arc::new(lambda_logs)),
        logs,
        ruststack_s3::service(storage.clone()),
        ruststack_secretsmanager::service(storage.clone()),
        ruststack_sns::service(queues.clone(), storage.clone()),
        ruststack_sqs::service_with(queues),
        ruststack_ssm::service(storage.clone()),
        ruststack_sts::service(credentials.clone()),
    ]
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
            super::coverage_markdown(&super::all(&Default::default(), &ruststack_core::store::Storage::memory()));
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
        let all = super::all(&Default::default(), &ruststack_core::store::Storage::memory());
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
