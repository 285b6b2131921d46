//! Which service a request is for, decided the way real clients address AWS, in this order:
//! `X-Amz-Target`, the SigV4 credential scope, a form body's `Action`/`Version`, well-known path
//! prefixes, virtual-hosted S3 host names, and finally S3 path-style.

use http::HeaderMap;

/// `X-Amz-Target` prefixes (before the dot) of the awsJson services we know.
const TARGET_PREFIXES: &[(&str, &str)] = &[
    ("DynamoDB_20120810", "dynamodb"),
    ("DynamoDBStreams_20120810", "dynamodbstreams"),
    ("AmazonSQS", "sqs"),
    ("Logs_20140328", "logs"),
    ("secretsmanager", "secretsmanager"),
    ("AmazonSSM", "ssm"),
    ("Firehose_20150804", "firehose"),
    ("Kinesis_20131202", "kinesis"),
    ("AWSEvents", "events"),
    ("AWSStepFunctions", "stepfunctions"),
    ("TrentService", "kms"),
    ("AWSCognitoIdentityProviderService", "cognito-idp"),
    ("CertificateManager", "acm"),
];

/// awsQuery API versions, for form requests that carry no credential scope.
const QUERY_VERSIONS: &[(&str, &str)] =
    &[("2011-06-15", "sts"), ("2010-05-08", "iam"), ("2010-03-31", "sns"), ("2012-11-05", "sqs")];

/// Path prefixes of REST services that are not S3.
const PATH_PREFIXES: &[(&str, &str)] = &[
    ("/2015-03-31/functions", "lambda"),
    // The Lambda Runtime API our execution environments call, and our code downloads.
    ("/2018-06-01/runtime", "lambda"),
    ("/_ruststack/lambda", "lambda"),
    // LocalStack's SNS inspection endpoints.
    ("/_aws/sns", "sns"),
    ("/2015-03-31/event-source-mappings", "lambda"),
    ("/2018-10-31/layers", "lambda"),
    ("/2016-08-19/account-settings", "lambda"),
    ("/2017-03-31/tags", "lambda"),
    ("/2019-09-25/functions", "lambda"),
    ("/2020-06-30/functions", "lambda"),
    ("/2021-10-31/functions", "lambda"),
];

/// Signing names that differ from our service names.
fn service_of_signing_name(name: &str) -> &str {
    match name {
        "execute-api" | "apigateway" => "apigateway",
        "monitoring" => "cloudwatch",
        "s3express" => "s3",
        other => other,
    }
}

/// The service a request is for.
#[derive(Debug, PartialEq, Eq)]
pub struct Routed<'a> {
    pub service: &'a str,
    /// For virtual-hosted S3: the bucket named by the host.
    pub bucket: Option<&'a str>,
}

/// Routing facts that need no body.
pub struct RequestFacts<'a> {
    pub headers: &'a HeaderMap,
    pub path: &'a str,
    /// The service of the SigV4 credential scope, when signed.
    pub scope_service: Option<&'a str>,
}

/// Whether routing needs the form body (a form POST with neither target nor credential scope).
pub fn needs_form_body(facts: &RequestFacts<'_>, is_post: bool) -> bool {
    is_post && facts.scope_service.is_none() && !facts.headers.contains_key("x-amz-target") && is_form(facts.headers)
}

/// Whether the body is `application/x-www-form-urlencoded`.
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// Routes a request. `form` is the body of a form POST when [`needs_form_body`] said so.
pub fn route<'a>(facts: &RequestFacts<'a>, form: Option<&[u8]>) -> Routed<'a> {
    let plain = |service: &'a str| Routed { service, bucket: None };
    if let Some(target) = facts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let prefix = target.split('.').next().unwrap_or(target);
        return match TARGET_PREFIXES.iter().find(|(p, _)| *p == prefix) {
            Some((_, service)) => plain(service),
            None => plain("unknown"),
        };
    }
    if let Some(service) = facts.scope_service {
        let service = service_of_signing_name(service);
        if service != "s3" {
            return plain(service);
        }
        return s3(facts);
    }
    if let Some(form) = form {
        let version = form_urlencoded::parse(form).find(|(k, _)| k == "Version").map(|(_, v)| v);
        if let Some(version) = version {
            return match QUERY_VERSIONS.iter().find(|(v, _)| *v == version) {
                Some((_, service)) => plain(service),
                None => plain("unknown"),
            };
        }
    }
    // Lambda function URLs: `<url-id>.lambda-url.<region>.localhost.localstack.cloud`.
    let host = facts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if host.contains(".lambda-url.") {
        return plain("lambda");
    }
    if let Some((_, service)) = PATH_PREFIXES
        .iter()
        .find(|(p, _)| facts.path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
    {
        return plain(service);
    }
    s3(facts)
}

fn s3<'a>(facts: &RequestFacts<'a>) -> Routed<'a> {
    let host = facts.headers.get(http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    Routed { service: "s3", bucket: virtual_host_bucket(host) }
}

/// The bucket of a virtual-hosted-style S3 host name, if it is one.
pub fn virtual_host_bucket(host: &str) -> Option<&str> {
    // Strip the port, keeping IPv6 literals intact.
    let host = match host.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') && p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') => h,
        Some((h, p)) if h.ends_with(']') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let bucket = if let Some(rest) = host.strip_suffix(".localhost.localstack.cloud") {
        // <bucket>.s3.localhost.localstack.cloud or <bucket>.s3.<region>.localhost.localstack.cloud
        let (bucket, after) = rest.split_once(".s3")?;
        (after.is_empty() || after.starts_with('.')).then_some(bucket)?
    } else if let Some(rest) = host.strip_suffix(".amazonaws.com") {
        // <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>.amazonaws.com
        let i = rest.find(".s3.").or_else(|| rest.find(".s3-")).or_else(|| rest.strip_suffix(".s3").map(str::len))?;
        &rest[..i]
    } else {
        host.strip_suffix(".localhost")?
    };
    (!bucket.is_empty()).then_some(bucket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn facts<'a>(headers: &'a HeaderMap, path: &'a str, scope: Option<&'a str>) -> RequestFacts<'a> {
        RequestFacts { headers, path, scope_service: scope }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn target_prefix_wins() {
        let h = headers(&[("x-amz-target", "DynamoDB_20120810.ListTables")]);
        assert_eq!(route(&facts(&h, "/", Some("s3")), None).service, "dynamodb");
        let h = headers(&[("x-amz-target", "secretsmanager.ListSecrets")]);
        assert_eq!(route(&facts(&h, "/", None), None).service, "secretsmanager");
        let h = headers(&[("x-amz-target", "Nope_2020.Op")]);
        assert_eq!(route(&facts(&h, "/", None), None).service, "unknown");
    }

    #[test]
    fn credential_scope_then_form_version_then_path() {
        let h = HeaderMap::new();
        assert_eq!(route(&facts(&h, "/", Some("sts")), None).service, "sts");
        assert_eq!(route(&facts(&h, "/", None), Some(b"Action=GetCallerIdentity&Version=2011-06-15")).service, "sts");
        assert_eq!(route(&facts(&h, "/", None), Some(b"Action=ListUsers&Version=2010-05-08")).service, "iam");
        assert_eq!(route(&facts(&h, "/2015-03-31/functions/", None), None).service, "lambda");
        assert_eq!(route(&facts(&h, "/2015-03-31/functionsx", None), None).service, "s3");
        assert_eq!(route(&facts(&h, "/bucket/key", None), None), Routed { service: "s3", bucket: None });
        assert_eq!(route(&facts(&h, "/2018-06-01/runtime/invocation/next", None), None).service, "lambda");
        let h = headers(&[("host", "abc123.lambda-url.us-east-1.localhost.localstack.cloud:4566")]);
        assert_eq!(route(&facts(&h, "/any/path", None), None).service, "lambda");
    }

    #[test]
    fn virtual_hosted_buckets() {
        for (host, bucket) in [
            ("my-bucket.s3.localhost.localstack.cloud:4566", Some("my-bucket")),
            ("my.bucket.s3.us-west-2.localhost.localstack.cloud", Some("my.bucket")),
            ("s3.localhost.localstack.cloud:4566", None),
            ("localhost.localstack.cloud:4566", None),
            ("sqs.us-east-1.localhost.localstack.cloud:4566", None),
            ("b1.localhost:4566", Some("b1")),
            ("localhost:4566", None),
            ("127.0.0.1:4566", None),
            ("[::1]:4566", None),
            ("b2.s3.amazonaws.com", Some("b2")),
            ("b3.s3.eu-west-1.amazonaws.com", Some("b3")),
            ("b4.s3-eu-west-1.amazonaws.com", Some("b4")),
            ("s3.amazonaws.com", None),
        ] {
            assert_eq!(virtual_host_bucket(host), bucket, "{host}");
        }
        let h = headers(&[("host", "vb.s3.localhost.localstack.cloud:4566")]);
        assert_eq!(route(&facts(&h, "/key", Some("s3")), None), Routed { service: "s3", bucket: Some("vb") });
    }
}
