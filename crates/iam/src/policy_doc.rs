//! Policy documents: the JSON policy grammar IAM enforces (MalformedPolicyDocument with AWS's
//! texts), and the URL-encoded form IAM returns documents in.

use crate::errors::malformed_policy;
use ruststack_core::AwsError;
use serde_json::{Map, Value};

/// Identity policies (managed and inline) name resources and no principal; trust policies name a
/// principal and no resource.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Kind {
    Identity,
    Trust,
}

const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];

/// Parses and checks a document (raw JSON, or URL-encoded JSON as some SDKs send it), returning
/// the text to store.
pub fn validate(text: &str, kind: Kind) -> Result<String, AwsError> {
    let (text, value) = match serde_json::from_str::<Value>(text) {
        Ok(v) => (text.to_owned(), v),
        Err(_) => {
            let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned();
            let v = serde_json::from_str(&decoded).map_err(|_| malformed_policy("Syntax errors in policy."))?;
            (decoded, v)
        }
    };
    let Value::Object(doc) = &value else { return Err(malformed_policy("Syntax errors in policy.")) };
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(malformed_policy("Syntax errors in policy."));
        }
    }
    match doc.get("Version") {
        None => {}
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => return Err(malformed_policy("The policy failed legacy parsing")),
    }
    let statements: Vec<&Map<String, Value>> = match doc.get("Statement") {
        Some(Value::Object(s)) => vec![s],
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|s| s.as_object().ok_or_else(|| malformed_policy("Syntax errors in policy.")))
            .collect::<Result<_, _>>()?,
        _ => return Err(malformed_policy("Syntax errors in policy.")),
    };
    for s in statements {
        statement(s, kind)?;
    }
    Ok(text)
}

fn statement(s: &Map<String, Value>, kind: Kind) -> Result<(), AwsError> {
    if let Some(key) = s.keys().find(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(malformed_policy(format!("Statement contains unknown field {key}")));
    }
    match s.get("Effect") {
        None => return Err(malformed_policy("Missing required field Effect")),
        Some(Value::String(e)) if e == "Allow" || e == "Deny" => {}
        Some(_) => return Err(malformed_policy("Invalid effect")),
    }
    let actions = match (s.get("Action"), s.get("NotAction")) {
        (Some(_), Some(_)) => return Err(malformed_policy("Syntax errors in policy.")),
        (Some(a), None) | (None, Some(a)) => strings(a)?,
        (None, None) => return Err(malformed_policy("Policy statement must contain actions.")),
    };
    for action in actions {
        if action != "*" && !action.split_once(':').is_some_and(|(vendor, name)| !vendor.is_empty() && !name.is_empty())
        {
            return Err(malformed_policy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."));
        }
    }
    let has_principal = s.contains_key("Principal") || s.contains_key("NotPrincipal");
    let has_resource = s.contains_key("Resource") || s.contains_key("NotResource");
    match kind {
        Kind::Identity => {
            if let Some(field) = ["Principal", "NotPrincipal"].into_iter().find(|f| s.contains_key(*f)) {
                return Err(malformed_policy(format!(
                    "Policy document should not specify a principal. Has prohibited field {field}"
                )));
            }
            if !has_resource {
                return Err(malformed_policy("Policy statement must contain resources."));
            }
            for r in ["Resource", "NotResource"].iter().filter_map(|f| s.get(*f)) {
                for resource in strings(r)? {
                    if resource != "*" && !resource.starts_with("arn:") {
                        return Err(malformed_policy(format!("Resource {resource} must be in ARN format or \"*\".")));
                    }
                }
            }
        }
        Kind::Trust => {
            if !has_principal {
                return Err(malformed_policy("Missing required field Principal"));
            }
            if has_resource {
                return Err(malformed_policy("Has prohibited field Resource"));
            }
            principal(s.get("Principal").or_else(|| s.get("NotPrincipal")).unwrap_or(&Value::Null))?;
        }
    }
    if let Some(c) = s.get("Condition")
        && !c.is_object()
    {
        return Err(malformed_policy("Syntax errors in policy."));
    }
    Ok(())
}

/// `"*"` or `{"AWS"|"Service"|"Federated"|"CanonicalUser": string or [strings]}`, each value
/// shaped as its kind requires (AWS: `*`, an account id or an IAM/STS ARN; Service: a DNS name).
fn principal(p: &Value) -> Result<(), AwsError> {
    match p {
        Value::String(s) if s == "*" => Ok(()),
        Value::Object(map) if !map.is_empty() => {
            for (kind, value) in map {
                if !matches!(kind.as_str(), "AWS" | "Service" | "Federated" | "CanonicalUser") {
                    return Err(malformed_policy("Invalid principal in policy"));
                }
                let values = strings(value).map_err(|_| malformed_policy("Invalid principal in policy"))?;
                for v in values {
                    let ok = match kind.as_str() {
                        "AWS" => {
                            v == "*"
                                || (v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()))
                                || v.starts_with("arn:aws:iam::")
                                || v.starts_with("arn:aws:sts::")
                        }
                        "Service" => v == "*" || (v.contains('.') && !v.contains(char::is_whitespace)),
                        _ => !v.is_empty(),
                    };
                    if !ok {
                        let label = if kind == "Service" { "SERVICE" } else { kind.as_str() };
                        return Err(malformed_policy(format!("Invalid principal in policy: \"{label}\":\"{v}\"")));
                    }
                }
            }
            Ok(())
        }
        _ => Err(malformed_policy("Invalid principal in policy")),
    }
}

/// A string or a non-empty array of strings.
fn strings(v: &Value) -> Result<Vec<&str>, AwsError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|i| i.as_str().ok_or_else(|| malformed_policy("Syntax errors in policy."))).collect()
        }
        _ => Err(malformed_policy("Syntax errors in policy.")),
    }
}

/// Everything but RFC 3986's unreserved characters is escaped, as IAM returns documents.
const ENCODE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// A document as IAM returns it: URL-encoded (the SDKs decode it).
pub fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, ENCODE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;

    fn err(text: &str, kind: Kind) -> String {
        validate(text, kind).unwrap_err().message
    }

    #[test]
    fn grammar() {
        assert!(validate(OK, Kind::Identity).is_ok());
        assert!(validate(TRUST, Kind::Trust).is_ok());
        assert_eq!(validate(&encode(OK), Kind::Identity).unwrap(), OK);
        assert_eq!(err("{not json", Kind::Identity), "Syntax errors in policy.");
        assert_eq!(
            err(r#"{"Statement":[{"Action":"s3:*","Resource":"*"}]}"#, Kind::Identity),
            "Missing required field Effect"
        );
        assert_eq!(
            err(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, Kind::Identity),
            "Policy statement must contain actions."
        );
        assert_eq!(
            err(r#"{"Statement":[{"Effect":"Allow","Action":"s3:x"}]}"#, Kind::Identity),
            "Policy statement must contain resources."
        );
        assert_eq!(
            err(r#"{"Statement":[{"Effect":"Allow","Action":"x","Resource":"*"}]}"#, Kind::Identity),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        assert_eq!(err(OK, Kind::Trust), "Missing required field Principal");
        assert!(err(TRUST, Kind::Identity).contains("Has prohibited field Principal"));
        assert_eq!(
            err(r#"{"Version":"2020-01-01","Statement":[]}"#, Kind::Identity),
            "The policy failed legacy parsing"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(encode(r#"{"a": "b/c"}"#), "%7B%22a%22%3A%20%22b%2Fc%22%7D");
    }
}
