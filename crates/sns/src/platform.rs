//! Mobile push: platform applications, their device endpoints, and publishing to an endpoint.
//! Nothing reaches a real push service: what is published to an enabled endpoint is kept for
//! `GET /_aws/sns/platform-endpoint-messages`, as LocalStack offers.

use crate::api::{Message, PAGE, after_token, invalid, new_id, not_found, page_token, validate_message};
use crate::generated::types::*;
use crate::state::{PlatformApp, PlatformEndpoint, Sns};
use ruststack_core::{AwsError, RequestContext};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

const PLATFORMS: &[&str] = &["ADM", "APNS", "APNS_SANDBOX", "GCM", "BAIDU", "MPNS", "WNS"];
/// Attributes a platform application takes but never shows.
const SECRET_APP_ATTRIBUTES: &[&str] = &["PlatformCredential", "PlatformPrincipal"];
const ENDPOINT_ATTRIBUTES: &[&str] = &["CustomUserData", "Enabled", "Token"];

fn app_not_found() -> AwsError {
    not_found("PlatformApplication")
}

fn endpoint_not_found() -> AwsError {
    not_found("Endpoint")
}

/// `arn:aws:sns:<region>:<account>:endpoint/<platform>/<app>/<id>`.
pub fn is_endpoint_arn(arn: &str) -> bool {
    arn.splitn(6, ':').nth(5).is_some_and(|rest| rest.starts_with("endpoint/"))
}

fn valid_app_name(name: &str) -> bool {
    (1..=256).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

fn app_attributes_out(app: &PlatformApp) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = app
        .attributes
        .iter()
        .filter(|(k, _)| !SECRET_APP_ATTRIBUTES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.entry("Enabled".to_owned()).or_insert_with(|| "true".to_owned());
    out
}

fn check_endpoint_attributes(attributes: &HashMap<String, String>) -> R<()> {
    for (k, v) in attributes {
        if !ENDPOINT_ATTRIBUTES.contains(&k.as_str()) {
            return Err(invalid(format!("Attributes Reason: Invalid attribute name: {k}")));
        }
        if k == "Enabled" && !v.eq_ignore_ascii_case("true") && !v.eq_ignore_ascii_case("false") {
            return Err(invalid("Attributes Reason: Enabled attribute must be true or false"));
        }
    }
    Ok(())
}

pub async fn create_platform_application(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: CreatePlatformApplicationInput,
) -> R<CreatePlatformApplicationResponse> {
    if !valid_app_name(&input.name) {
        return Err(invalid(
            "Name Reason: Application name can only contain alphanumeric characters, hyphens, underscores and periods, and must be between 1 and 256 characters long",
        ));
    }
    if !PLATFORMS.contains(&input.platform.as_str()) {
        return Err(invalid(format!("Platform Reason: {} is not supported", input.platform)));
    }
    let arn = ctx.arn("sns", &format!("app/{}/{}", input.platform, input.name));
    s.ensure(&ctx, None);
    let mut inner = s.inner.write();
    // Creating an application that exists updates its attributes and answers its ARN.
    let app =
        inner.apps.entry(arn.clone()).or_insert_with(|| PlatformApp { arn: arn.clone(), attributes: BTreeMap::new() });
    app.attributes.extend(input.attributes);
    s.save_platform(&inner, &[&arn], &[])?;
    Ok(CreatePlatformApplicationResponse { platform_application_arn: Some(arn) })
}

pub async fn get_platform_application_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetPlatformApplicationAttributesInput,
) -> R<GetPlatformApplicationAttributesResponse> {
    s.ensure(&ctx, Some(&input.platform_application_arn));
    let inner = s.inner.read();
    let app = inner.apps.get(&input.platform_application_arn).ok_or_else(app_not_found)?;
    Ok(GetPlatformApplicationAttributesResponse { attributes: Some(app_attributes_out(app)) })
}

pub async fn set_platform_application_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: SetPlatformApplicationAttributesInput,
) -> R<()> {
    s.ensure(&ctx, Some(&input.platform_application_arn));
    let mut inner = s.inner.write();
    let app = inner.apps.get_mut(&input.platform_application_arn).ok_or_else(app_not_found)?;
    app.attributes.extend(input.attributes);
    s.save_platform(&inner, &[&input.platform_application_arn], &[])
}

pub async fn delete_platform_application(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: DeletePlatformApplicationInput,
) -> R<()> {
    let arn = input.platform_application_arn;
    s.ensure(&ctx, Some(&arn));
    let mut inner = s.inner.write();
    // Deleting an application that is not there succeeds; its endpoints go with it.
    if inner.apps.remove(&arn).is_none() {
        return Ok(());
    }
    let endpoints: Vec<String> = inner.endpoints.values().filter(|e| e.app_arn == arn).map(|e| e.arn.clone()).collect();
    for e in &endpoints {
        inner.endpoints.remove(e);
    }
    let endpoints: Vec<&str> = endpoints.iter().map(String::as_str).collect();
    s.save_platform(&inner, &[&arn], &endpoints)
}

pub async fn list_platform_applications(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListPlatformApplicationsInput,
) -> R<ListPlatformApplicationsResponse> {
    let after = after_token(&input.next_token)?;
    let prefix = format!("arn:aws:sns:{}:{}:", ctx.region, ctx.account_id);
    s.ensure(&ctx, None);
    let inner = s.inner.read();
    let apps: Vec<&PlatformApp> = inner
        .apps
        .values()
        .filter(|a| a.arn.starts_with(&prefix) && after.as_ref().is_none_or(|x| a.arn.as_str() > x.as_str()))
        .take(PAGE + 1)
        .collect();
    let next_token = (apps.len() > PAGE).then(|| page_token(&apps[PAGE - 1].arn));
    let platform_applications = apps
        .into_iter()
        .take(PAGE)
        .map(|a| PlatformApplication {
            platform_application_arn: Some(a.arn.clone()),
            attributes: Some(app_attributes_out(a)),
        })
        .collect();
    Ok(ListPlatformApplicationsResponse { platform_applications: Some(platform_applications), next_token })
}

pub async fn create_platform_endpoint(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: CreatePlatformEndpointInput,
) -> R<CreateEndpointResponse> {
    let given = input.attributes.unwrap_or_default();
    check_endpoint_attributes(&given)?;
    s.ensure(&ctx, Some(&input.platform_application_arn));
    let mut inner = s.inner.write();
    if !inner.apps.contains_key(&input.platform_application_arn) {
        return Err(app_not_found());
    }
    // What the endpoint would hold: the Attributes map wins over the CustomUserData parameter.
    let mut attributes = BTreeMap::from([("Enabled".to_owned(), "true".to_owned())]);
    if let Some(data) = input.custom_user_data {
        attributes.insert("CustomUserData".to_owned(), data);
    }
    for (k, v) in given {
        let v = if k == "Enabled" { v.to_ascii_lowercase() } else { v };
        attributes.insert(k, v);
    }
    attributes.insert("Token".to_owned(), input.token.clone());
    // The same token again is the same endpoint, unless it asks for other attributes.
    if let Some(existing) = inner
        .endpoints
        .values()
        .find(|e| e.app_arn == input.platform_application_arn && e.attributes.get("Token") == Some(&input.token))
    {
        if existing.attributes != attributes {
            return Err(invalid(format!(
                "Token Reason: Endpoint {} already exists with the same Token, but different attributes.",
                existing.arn
            )));
        }
        return Ok(CreateEndpointResponse { endpoint_arn: Some(existing.arn.clone()) });
    }
    let app_rest = input.platform_application_arn.splitn(6, ':').nth(5).unwrap_or_default();
    let app_path = app_rest.strip_prefix("app/").unwrap_or(app_rest);
    let arn = ctx.arn("sns", &format!("endpoint/{app_path}/{}", new_id()));
    inner.endpoints.insert(
        arn.clone(),
        PlatformEndpoint { arn: arn.clone(), app_arn: input.platform_application_arn.clone(), attributes },
    );
    s.save_platform(&inner, &[], &[&arn])?;
    Ok(CreateEndpointResponse { endpoint_arn: Some(arn) })
}

pub async fn get_endpoint_attributes(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetEndpointAttributesInput,
) -> R<GetEndpointAttributesResponse> {
    s.ensure(&ctx, Some(&input.endpoint_arn));
    let inner = s.inner.read();
    let e = inner.endpoints.get(&input.endpoint_arn).ok_or_else(endpoint_not_found)?;
    Ok(GetEndpointAttributesResponse { attributes: Some(e.attributes.clone().into_iter().collect()) })
}

pub async fn set_endpoint_attributes(s: Arc<Sns>, ctx: RequestContext, input: SetEndpointAttributesInput) -> R<()> {
    check_endpoint_attributes(&input.attributes)?;
    s.ensure(&ctx, Some(&input.endpoint_arn));
    let mut inner = s.inner.write();
    let e = inner.endpoints.get_mut(&input.endpoint_arn).ok_or_else(endpoint_not_found)?;
    for (k, v) in input.attributes {
        let v = if k == "Enabled" { v.to_ascii_lowercase() } else { v };
        e.attributes.insert(k, v);
    }
    s.save_platform(&inner, &[], &[&input.endpoint_arn])
}

pub async fn delete_endpoint(s: Arc<Sns>, ctx: RequestContext, input: DeleteEndpointInput) -> R<()> {
    s.ensure(&ctx, Some(&input.endpoint_arn));
    let mut inner = s.inner.write();
    // Deleting an endpoint that is not there succeeds.
    if inner.endpoints.remove(&input.endpoint_arn).is_none() {
        return Ok(());
    }
    s.save_platform(&inner, &[], &[&input.endpoint_arn])
}

pub async fn list_endpoints_by_platform_application(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: ListEndpointsByPlatformApplicationInput,
) -> R<ListEndpointsByPlatformApplicationResponse> {
    let after = after_token(&input.next_token)?;
    s.ensure(&ctx, Some(&input.platform_application_arn));
    let inner = s.inner.read();
    if !inner.apps.contains_key(&input.platform_application_arn) {
        return Err(app_not_found());
    }
    let endpoints: Vec<&PlatformEndpoint> = inner
        .endpoints
        .values()
        .filter(|e| {
            e.app_arn == input.platform_application_arn && after.as_ref().is_none_or(|x| e.arn.as_str() > x.as_str())
        })
        .take(PAGE + 1)
        .collect();
    let next_token = (endpoints.len() > PAGE).then(|| page_token(&endpoints[PAGE - 1].arn));
    let endpoints = endpoints
        .into_iter()
        .take(PAGE)
        .map(|e| Endpoint {
            endpoint_arn: Some(e.arn.clone()),
            attributes: Some(e.attributes.clone().into_iter().collect()),
        })
        .collect();
    Ok(ListEndpointsByPlatformApplicationResponse { endpoints: Some(endpoints), next_token })
}

/// Publish with a TargetArn naming a platform endpoint.
pub(crate) fn publish_to_endpoint(s: &Sns, ctx: &RequestContext, arn: &str, m: Message) -> R<PublishResponse> {
    s.ensure(ctx, Some(arn));
    let enabled = match s.inner.read().endpoints.get(arn) {
        Some(e) => e.enabled(),
        None => return Err(invalid("TargetArn Reason: No endpoint found for the target arn specified")),
    };
    if !enabled {
        return Err(AwsError::bad_request("EndpointDisabled", "Endpoint is disabled"));
    }
    let per_protocol = validate_message(&m)?;
    let text = per_protocol
        .as_ref()
        .and_then(|p| p.get(platform_of(arn)).or_else(|| p.get("default")))
        .and_then(|v| v.as_str())
        .map_or(m.text.clone(), str::to_owned);
    let id = new_id();
    s.sms.write().push(serde_json::json!({
        "PhoneNumber": arn, "TargetArn": arn, "Message": text, "MessageId": id,
        "MessageStructure": m.structure, "Subject": m.subject,
    }));
    Ok(PublishResponse { message_id: Some(id), sequence_number: None })
}

/// Whether an `application` subscription may name `endpoint`: the endpoint must exist.
pub(crate) fn check_subscription_endpoint(s: &Sns, ctx: &RequestContext, endpoint: &str) -> R<()> {
    s.ensure(ctx, Some(endpoint));
    if s.inner.read().endpoints.contains_key(endpoint) {
        Ok(())
    } else {
        Err(invalid(format!("Endpoint Reason: Endpoint does not exist for endpoint arn{endpoint}")))
    }
}

/// `GCM` of `…:endpoint/GCM/app/id`.
pub(crate) fn platform_of(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).and_then(|r| r.split('/').nth(1)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let arn = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1234";
        assert!(is_endpoint_arn(arn));
        assert_eq!(platform_of(arn), "GCM");
        assert!(!is_endpoint_arn("arn:aws:sns:us-east-1:000000000000:topic"));
        assert!(!is_endpoint_arn("arn:aws:sns:us-east-1:000000000000:app/GCM/app"));
        assert!(valid_app_name("my-app_1.0") && !valid_app_name("") && !valid_app_name("a b"));
    }

    #[test]
    fn endpoint_attribute_checks() {
        let attrs = |k: &str, v: &str| HashMap::from([(k.to_owned(), v.to_owned())]);
        assert!(check_endpoint_attributes(&attrs("Enabled", "False")).is_ok());
        assert!(check_endpoint_attributes(&attrs("Enabled", "maybe")).is_err());
        assert!(check_endpoint_attributes(&attrs("Bogus", "1")).is_err());
    }
}
