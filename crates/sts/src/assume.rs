//! AssumeRole and its web-identity and SAML variants: the role must exist in the account its ARN
//! names; the session acts in that account as `arn:aws:sts::<account>:assumed-role/<role>/<session>`.

use crate::errors::{access_denied, invalid_identity_token, malformed_policy, validation};
use crate::generated::types::*;
use crate::session::{self, Principal};
use crate::{Sts, caller};
use base64::Engine;
use ruststack_core::{AwsError, RequestContext};
use ruststack_iam::RoleInfo;
use std::sync::Arc;

const DEFAULT_DURATION: i32 = 3600;
/// Session policies and tags are packed into at most this many bytes.
const PACKED_LIMIT: usize = 2048;

/// The role an ARN names, or AWS's AccessDenied for the caller.
fn role(ctx: &RequestContext, role_arn: &str, action: &str) -> Result<RoleInfo, AwsError> {
    ruststack_iam::find_role(role_arn).ok_or_else(|| {
        access_denied(format!(
            "User: {} is not authorized to perform: sts:{action} on resource: {role_arn}",
            caller(ctx).arn
        ))
    })
}

fn duration(requested: Option<i32>, role: &RoleInfo) -> Result<i32, AwsError> {
    let d = requested.unwrap_or(DEFAULT_DURATION);
    if d > role.max_session_duration {
        return Err(validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    Ok(d)
}

/// The percentage of the packed limit that session policies and tags use (`None` without them).
pub(crate) fn packed_size(policy: Option<&str>, policy_arns: usize, tags: &[Tag]) -> Result<Option<i32>, AwsError> {
    if let Some(p) = policy {
        serde_json::from_str::<serde_json::Value>(p)
            .ok()
            .filter(serde_json::Value::is_object)
            .ok_or_else(|| malformed_policy("The policy is not in the valid JSON format."))?;
    }
    if policy.is_none() && policy_arns == 0 && tags.is_empty() {
        return Ok(None);
    }
    let bytes =
        policy.map_or(0, str::len) + policy_arns * 64 + tags.iter().map(|t| t.key.len() + t.value.len()).sum::<usize>();
    if bytes > PACKED_LIMIT {
        return Err(AwsError::bad_request(
            "PackedPolicyTooLarge",
            format!(
                "Packed policy consumes {}% of allotted space, please use smaller policy.",
                bytes * 100 / PACKED_LIMIT
            ),
        ));
    }
    Ok(Some((bytes * 100).div_ceil(PACKED_LIMIT) as i32))
}

fn account_of(role_arn: &str) -> &str {
    role_arn.split(':').nth(4).unwrap_or_default()
}

/// Issues the session and its AssumedRoleUser.
fn start(sts: &Sts, role: &RoleInfo, session_name: &str, duration: i32) -> (Credentials, AssumedRoleUser) {
    let account_id = account_of(&role.arn).to_owned();
    let arn = format!("arn:aws:sts::{account_id}:assumed-role/{}/{session_name}", role.name);
    let user_id = format!("{}:{session_name}", role.id);
    let user = AssumedRoleUser { assumed_role_id: user_id.clone(), arn: arn.clone() };
    (session::issue(&sts.credentials, Principal { account_id, arn, user_id }, duration), user)
}

pub async fn assume_role(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: AssumeRoleRequest,
) -> Result<AssumeRoleResponse, AwsError> {
    let role = role(&ctx, &i.role_arn, "AssumeRole")?;
    let duration = duration(i.duration_seconds, &role)?;
    let tags = i.tags.unwrap_or_default();
    let packed_policy_size = packed_size(i.policy.as_deref(), i.policy_arns.map_or(0, |p| p.len()), &tags)?;
    let (credentials, user) = start(&sts, &role, &i.role_session_name, duration);
    Ok(AssumeRoleResponse {
        credentials: Some(credentials),
        assumed_role_user: Some(user),
        packed_policy_size,
        source_identity: i.source_identity,
        ..Default::default()
    })
}

/// The claims of a JWT (its middle part), without checking the signature: there is no identity
/// provider to check it against.
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

pub async fn assume_role_with_web_identity(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: AssumeRoleWithWebIdentityRequest,
) -> Result<AssumeRoleWithWebIdentityResponse, AwsError> {
    let claims = jwt_claims(&i.web_identity_token).ok_or_else(|| {
        invalid_identity_token(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        )
    })?;
    let role = role(&ctx, &i.role_arn, "AssumeRoleWithWebIdentity")?;
    let duration = duration(i.duration_seconds, &role)?;
    let packed_policy_size = packed_size(i.policy.as_deref(), i.policy_arns.map_or(0, |p| p.len()), &[])?;
    let claim = |name: &str| match claims.get(name) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(items)) => items.first().and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    };
    let (credentials, user) = start(&sts, &role, &i.role_session_name, duration);
    Ok(AssumeRoleWithWebIdentityResponse {
        credentials: Some(credentials),
        subject_from_web_identity_token: claim("sub"),
        assumed_role_user: Some(user),
        packed_policy_size,
        provider: i.provider_id.or_else(|| claim("iss")),
        audience: claim("aud").or_else(|| claim("client_id")),
        ..Default::default()
    })
}

/// The text of the first element with this local name (`<saml2:Issuer …>text</saml2:Issuer>`).
fn element_text<'a>(xml: &'a str, local: &str) -> Option<&'a str> {
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let tag_end = rest.find('>')?;
        let tag = &rest[..tag_end];
        let name = tag.split_whitespace().next().unwrap_or_default();
        if name.rsplit(':').next() == Some(local) && !tag.ends_with('/') {
            let body = &rest[tag_end + 1..];
            return Some(body[..body.find('<')?].trim());
        }
    }
    None
}

/// The value of a SAML attribute (`<Attribute Name="…"><AttributeValue>value</AttributeValue>`).
fn attribute_value<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let at = xml.find(&format!("Name=\"{name}\""))?;
    element_text(&xml[at..], "AttributeValue")
}

pub async fn assume_role_with_saml(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: AssumeRoleWithSAMLRequest,
) -> Result<AssumeRoleWithSAMLResponse, AwsError> {
    let xml = base64::engine::general_purpose::STANDARD
        .decode(i.saml_assertion.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid_identity_token("Invalid base64 SAMLResponse (Error decoding base64 SAML assertion)"))?;
    let subject = element_text(&xml, "NameID")
        .ok_or_else(|| invalid_identity_token("Invalid SAML response: the assertion names no subject"))?
        .to_owned();
    let role = role(&ctx, &i.role_arn, "AssumeRoleWithSAML")?;
    let duration = duration(i.duration_seconds, &role)?;
    let packed_policy_size = packed_size(i.policy.as_deref(), i.policy_arns.map_or(0, |p| p.len()), &[])?;
    let issuer = element_text(&xml, "Issuer").unwrap_or_default().to_owned();
    let session_name = attribute_value(&xml, "https://aws.amazon.com/SAML/Attributes/RoleSessionName")
        .map(str::to_owned)
        .unwrap_or_else(|| subject.clone());
    let subject_type = xml
        .split("Format=\"")
        .nth(1)
        .and_then(|f| f.split('"').next())
        .and_then(|f| f.rsplit(':').next())
        .map(str::to_owned)
        .unwrap_or_else(|| "transient".to_owned());
    // AWS's NameQualifier: base64(sha1(issuer + account + "/" + provider name)).
    let provider = i.principal_arn.rsplit('/').next().unwrap_or_default();
    let account = account_of(&role.arn);
    let qualifier = {
        use sha1::Digest;
        let digest = sha1::Sha1::digest(format!("{issuer}{account}/{provider}").as_bytes());
        base64::engine::general_purpose::STANDARD.encode(digest)
    };
    let (credentials, user) = start(&sts, &role, &session_name, duration);
    Ok(AssumeRoleWithSAMLResponse {
        credentials: Some(credentials),
        assumed_role_user: Some(user),
        packed_policy_size,
        subject: Some(subject),
        subject_type: Some(subject_type),
        issuer: Some(issuer),
        audience: Some(element_text(&xml, "Audience").unwrap_or("https://signin.aws.amazon.com/saml").to_owned()),
        name_qualifier: Some(qualifier),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saml_and_jwt_fields() {
        let xml = r#"<samlp:Response><saml:Issuer Format="x">https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID></saml:Subject><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>alice-session</saml:AttributeValue></saml:Attribute></samlp:Response>"#;
        assert_eq!(element_text(xml, "Issuer"), Some("https://idp.example.com"));
        assert_eq!(element_text(xml, "NameID"), Some("alice"));
        assert_eq!(
            attribute_value(xml, "https://aws.amazon.com/SAML/Attributes/RoleSessionName"),
            Some("alice-session")
        );
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"u1","aud":"app"}"#);
        let claims = jwt_claims(&format!("h.{payload}.s")).unwrap();
        assert_eq!(claims["sub"], "u1");
        assert!(jwt_claims("not-a-jwt").is_none());
    }

    #[test]
    fn packed_sizes() {
        assert_eq!(packed_size(None, 0, &[]).unwrap(), None);
        assert!(packed_size(Some("{}"), 0, &[]).unwrap().is_some());
        assert_eq!(packed_size(Some("nope"), 0, &[]).unwrap_err().code, "MalformedPolicyDocument");
        assert_eq!(
            packed_size(Some(&format!("{{\"a\":\"{}\"}}", "x".repeat(3000))), 0, &[]).unwrap_err().code,
            "PackedPolicyTooLarge"
        );
    }
}
