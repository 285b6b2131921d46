//! `/aws/reference/secretsmanager/<secret-id>[:<version-id or staging label>]`: GetParameter(s)
//! read a Secrets Manager secret through this reserved path. Parameter Store does not depend on
//! Secrets Manager: the binary installs a [`SecretsReader`] (see `Ssm::set_secrets_reader`).

use crate::errors::validation;
use crate::generated::types::Parameter;
use ruststack_core::service::BoxFuture;
use ruststack_core::{AwsError, RequestContext, Timestamp};

pub const PREFIX: &str = "/aws/reference/secretsmanager/";

const NEEDS_DECRYPTION: &str = "WithDecryption flag must be True for retrieving a Secret Manager secret.";
const BAD_SELECTOR: &str =
    "Invalid parameter name. Please use correct syntax for referencing a version/label  <name>:<version/label>";

/// Which version of the secret to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Current,
    VersionId(String),
    Stage(String),
}

/// One version of a secret, as GetSecretValue answers it.
#[derive(Debug, Clone, Default)]
pub struct SecretVersion {
    pub arn: String,
    pub name: String,
    pub version_id: String,
    pub secret_string: Option<String>,
    /// Base64 of SecretBinary.
    pub secret_binary: Option<String>,
    pub stages: Vec<String>,
    pub created: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No such secret, version or staging label.
    NotFound,
    /// The secret is scheduled for deletion.
    Deleted,
}

/// Reads secrets in the caller's account and region.
pub trait SecretsReader: Send + Sync {
    fn read(&self, ctx: &RequestContext, secret_id: &str, pick: Pick) -> BoxFuture<Result<SecretVersion, ReadError>>;
}

/// Splits `<secret-id>[:<selector>]` (after the prefix); more than one `:` or an empty selector
/// is refused as AWS does (a secret ARN, with its colons, cannot be referenced).
pub fn parse(rest: &str) -> Result<(&str, Option<&str>), AwsError> {
    match rest.split_once(':') {
        None if !rest.is_empty() => Ok((rest, None)),
        Some((id, sel)) if !id.is_empty() && !sel.is_empty() && !sel.contains(':') => Ok((id, Some(sel))),
        _ => Err(validation(BAD_SELECTOR)),
    }
}

/// The Parameter GetParameter answers for a reference (`name` starts with [`PREFIX`]).
pub async fn lookup(
    reader: Option<std::sync::Arc<dyn SecretsReader>>,
    ctx: &RequestContext,
    name: &str,
    decrypt: bool,
) -> Result<Parameter, AwsError> {
    let rest = &name[PREFIX.len()..];
    let (id, selector) = parse(rest)?;
    if !decrypt {
        return Err(validation(NEEDS_DECRYPTION));
    }
    // AWS's text drops the leading slash and prints a missing selector as "null".
    let not_found = || {
        AwsError::bad_request(
            "ParameterNotFound",
            format!(
                "An error occurred (ParameterNotFound) when referencing Secrets Manager: Secret {}{} not found.",
                &PREFIX[1..],
                selector.map_or_else(|| format!("{id}null"), |s| format!("{id}:{s}"))
            ),
        )
    };
    let Some(reader) = reader else { return Err(not_found()) };
    let found = match selector {
        None => reader.read(ctx, id, Pick::Current).await,
        // A selector names a version id, or else a staging label.
        Some(sel) => match reader.read(ctx, id, Pick::VersionId(sel.to_owned())).await {
            Err(ReadError::NotFound) => reader.read(ctx, id, Pick::Stage(sel.to_owned())).await,
            other => other,
        },
    };
    let v = match found {
        Ok(v) => v,
        Err(ReadError::NotFound) => return Err(not_found()),
        Err(ReadError::Deleted) => return Err(validation("Invalid Request to Secrets Manager")),
    };
    Ok(render(name, selector, v))
}

fn render(name: &str, selector: Option<&str>, v: SecretVersion) -> Parameter {
    let mut source = serde_json::Map::new();
    source.insert("ARN".into(), v.arn.clone().into());
    source.insert("name".into(), v.name.clone().into());
    source.insert("versionId".into(), v.version_id.clone().into());
    if let Some(b) = &v.secret_binary {
        source.insert("secretBinary".into(), b.clone().into());
    }
    if let Some(s) = &v.secret_string {
        source.insert("secretString".into(), s.clone().into());
    }
    source.insert("versionStages".into(), v.stages.clone().into());
    source.insert("createdDate".into(), serde_json::to_value(v.created).unwrap_or_default());
    let bare = selector.map_or(name, |s| &name[..name.len() - s.len() - 1]);
    Parameter {
        name: Some(bare.to_owned()),
        r#type: Some("SecureString".to_owned()),
        // A binary secret has no Value (it is in SourceResult).
        value: v.secret_string,
        version: Some(0),
        selector: selector.map(|s| format!(":{s}")),
        source_result: Some(serde_json::Value::Object(source).to_string()),
        last_modified_date: Some(v.created),
        arn: Some(v.arn),
        data_type: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct One;

    impl SecretsReader for One {
        fn read(&self, _: &RequestContext, id: &str, pick: Pick) -> BoxFuture<Result<SecretVersion, ReadError>> {
            let out = match (id, pick) {
                ("gone", _) => Err(ReadError::Deleted),
                ("db", Pick::Current | Pick::Stage(_)) | ("db", Pick::VersionId(_)) => Ok(SecretVersion {
                    arn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf".into(),
                    name: "db".into(),
                    version_id: "v1".into(),
                    secret_string: Some("pw".into()),
                    stages: vec!["AWSCURRENT".into()],
                    ..Default::default()
                }),
                _ => Err(ReadError::NotFound),
            };
            Box::pin(std::future::ready(out))
        }
    }

    fn reader() -> Option<Arc<dyn SecretsReader>> {
        Some(Arc::new(One))
    }

    #[test]
    fn selectors() {
        assert_eq!(parse("db").unwrap(), ("db", None));
        assert_eq!(parse("db:AWSPREVIOUS").unwrap(), ("db", Some("AWSPREVIOUS")));
        for bad in ["db:", "db:a:b", ":x", "", "arn:aws:secretsmanager:us-east-1:1:secret:db"] {
            assert_eq!(parse(bad).unwrap_err().code, "ValidationException", "{bad}");
        }
    }

    #[tokio::test]
    async fn answers() {
        let ctx = RequestContext::for_tests("GetParameter");
        let p = lookup(reader(), &ctx, "/aws/reference/secretsmanager/db:AWSCURRENT", true).await.unwrap();
        assert_eq!(p.name.as_deref(), Some("/aws/reference/secretsmanager/db"));
        assert_eq!(p.selector.as_deref(), Some(":AWSCURRENT"));
        assert_eq!((p.value.as_deref(), p.version, p.r#type.as_deref()), (Some("pw"), Some(0), Some("SecureString")));
        assert!(p.source_result.unwrap().contains("\"secretString\":\"pw\""));
        let e = lookup(reader(), &ctx, "/aws/reference/secretsmanager/db", false).await.unwrap_err();
        assert_eq!(e.message, NEEDS_DECRYPTION);
        let e = lookup(reader(), &ctx, "/aws/reference/secretsmanager/nope", true).await.unwrap_err();
        assert_eq!(e.code, "ParameterNotFound");
        assert!(e.message.ends_with("Secret aws/reference/secretsmanager/nopenull not found."));
        let e = lookup(reader(), &ctx, "/aws/reference/secretsmanager/gone", true).await.unwrap_err();
        assert_eq!((&*e.code, e.message.as_str()), ("ValidationException", "Invalid Request to Secrets Manager"));
    }
}
