//! Identity providers: OpenID Connect (URL, audiences, thumbprints, tags) and SAML (metadata
//! document), both addressed by ARN.

use crate::errors::{already_exists, invalid_input, limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::state::{self, Account, OidcProvider, SamlProvider, tags_out};
use crate::{Iam, account, ids};
use ruststack_core::protocol::scalar::parse_timestamp;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::sync::Arc;

const MAX_THUMBPRINTS: usize = 5;
const MAX_CLIENT_IDS: usize = 100;
const MAX_SAML_PROVIDERS: usize = 100;
const MAX_OIDC_PROVIDERS: usize = 100;

fn oidc_not_found(arn: &str) -> AwsError {
    no_such_entity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn oidc<'a>(a: &'a Account, arn: &str) -> Result<&'a OidcProvider, AwsError> {
    a.oidc.get(arn).ok_or_else(|| oidc_not_found(arn))
}

fn oidc_mut<'a>(a: &'a mut Account, arn: &str) -> Result<&'a mut OidcProvider, AwsError> {
    a.oidc.get_mut(arn).ok_or_else(|| oidc_not_found(arn))
}

/// The provider's host and path as its ARN names it: the URL without scheme, query or fragment
/// (or a trailing slash); `None` for a URL that is not http(s).
fn provider_resource(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    (!rest.is_empty() && !rest.starts_with('/')).then(|| rest.to_owned())
}

fn check_thumbprints(thumbprints: &[String]) -> Result<(), AwsError> {
    if thumbprints.len() > MAX_THUMBPRINTS {
        return Err(invalid_input("Thumbprint list must contain fewer than 5 entries."));
    }
    Ok(())
}

/// Adds client ids not yet present, in order.
fn add_client_ids(list: &mut Vec<String>, ids: impl IntoIterator<Item = String>) -> Result<(), AwsError> {
    for id in ids {
        if !list.contains(&id) {
            list.push(id);
        }
    }
    if list.len() > MAX_CLIENT_IDS {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
        )));
    }
    Ok(())
}

pub async fn create_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateOpenIDConnectProviderRequest,
) -> Result<CreateOpenIDConnectProviderResponse, AwsError> {
    let resource = provider_resource(&i.url).ok_or_else(|| invalid_input("Invalid Open ID Connect Provider URL"))?;
    let thumbprints = i.thumbprint_list.unwrap_or_default();
    check_thumbprints(&thumbprints)?;
    let mut client_ids = Vec::new();
    add_client_ids(&mut client_ids, i.client_id_list.unwrap_or_default())?;
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    let a = account(&ctx);
    let mut a = state::write(&a);
    let arn = format!("arn:aws:iam::{}:oidc-provider/{resource}", a.id);
    if a.oidc.contains_key(&arn) {
        return Err(already_exists(format!("Provider with url {} already exists.", i.url)));
    }
    if a.oidc.len() >= MAX_OIDC_PROVIDERS {
        return Err(limit_exceeded(format!(
            "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_OIDC_PROVIDERS}"
        )));
    }
    let out_tags = (!tags.is_empty()).then(|| tags_out(&tags));
    let url = if i.url.starts_with("https://") { i.url.clone() } else { format!("https://{resource}") };
    a.oidc.insert(arn.clone(), OidcProvider { url, client_ids, thumbprints, created: ids::now(), tags });
    a.commit()?;
    Ok(CreateOpenIDConnectProviderResponse { open_id_connect_provider_arn: Some(arn), tags: out_tags })
}

pub async fn get_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetOpenIDConnectProviderRequest,
) -> Result<GetOpenIDConnectProviderResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let p = oidc(&a, &i.open_id_connect_provider_arn)?;
    // AWS answers the URL without its scheme.
    let url = p.url.strip_prefix("https://").unwrap_or(&p.url).to_owned();
    Ok(GetOpenIDConnectProviderResponse {
        url: Some(url),
        client_id_list: Some(p.client_ids.clone()),
        thumbprint_list: Some(p.thumbprints.clone()),
        create_date: Some(p.created),
        tags: Some(tags_out(&p.tags)),
        ..Default::default()
    })
}

pub async fn list_open_id_connect_providers(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: ListOpenIDConnectProvidersRequest,
) -> Result<ListOpenIDConnectProvidersResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let list = a
        .oidc
        .keys()
        .map(|arn| OpenIDConnectProviderListEntry { arn: Some(arn.clone()), ..Default::default() })
        .collect();
    Ok(ListOpenIDConnectProvidersResponse { open_id_connect_provider_list: Some(list) })
}

pub async fn delete_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteOpenIDConnectProviderRequest,
) -> Result<(), AwsError> {
    // Deleting a provider that does not exist is not an error in AWS.
    state::mutate(&ctx, |a| {
        a.oidc.remove(&i.open_id_connect_provider_arn);
        Ok(())
    })
}

pub async fn update_open_id_connect_provider_thumbprint(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateOpenIDConnectProviderThumbprintRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let p = oidc_mut(a, &i.open_id_connect_provider_arn)?;
        check_thumbprints(&i.thumbprint_list)?;
        p.thumbprints = i.thumbprint_list;
        Ok(())
    })
}

pub async fn add_client_id_to_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: AddClientIDToOpenIDConnectProviderRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let p = oidc_mut(a, &i.open_id_connect_provider_arn)?;
        let mut ids = p.client_ids.clone();
        add_client_ids(&mut ids, [i.client_id])?;
        p.client_ids = ids;
        Ok(())
    })
}

pub async fn remove_client_id_from_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: RemoveClientIDFromOpenIDConnectProviderRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        oidc_mut(a, &i.open_id_connect_provider_arn)?.client_ids.retain(|c| *c != i.client_id);
        Ok(())
    })
}

pub async fn tag_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: TagOpenIDConnectProviderRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| crate::tags::apply(&mut oidc_mut(a, &i.open_id_connect_provider_arn)?.tags, i.tags))
}

pub async fn untag_open_id_connect_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UntagOpenIDConnectProviderRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        crate::tags::remove(&mut oidc_mut(a, &i.open_id_connect_provider_arn)?.tags, &i.tag_keys);
        Ok(())
    })
}

pub async fn list_open_id_connect_provider_tags(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListOpenIDConnectProviderTagsRequest,
) -> Result<ListOpenIDConnectProviderTagsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let p = oidc(&a, &i.open_id_connect_provider_arn)?;
    let (tags, is_truncated, marker) = crate::tags::listed(&p.tags, i.marker.as_deref(), i.max_items);
    Ok(ListOpenIDConnectProviderTagsResponse { tags, is_truncated, marker })
}

// SAML providers.

fn saml_not_found(arn: &str) -> AwsError {
    no_such_entity(format!("Manifest not found for arn {arn}"))
}

/// A metadata document must at least be an `EntityDescriptor`; AWS's parse error otherwise.
fn check_metadata(doc: &str) -> Result<(), AwsError> {
    if doc.contains("EntityDescriptor") { Ok(()) } else { Err(invalid_input("Could not parse metadata")) }
}

/// The metadata's `validUntil`, else a hundred years from now as AWS shows for open-ended ones.
fn valid_until(doc: &str, now: Timestamp) -> Timestamp {
    let parsed = doc.split("validUntil=\"").nth(1).and_then(|rest| rest.split('"').next()).and_then(|v| {
        parse_timestamp(v, TimestampFormat::Iso8601).map(|secs| Timestamp { millis: (secs * 1000.0) as i64 })
    });
    parsed.unwrap_or(Timestamp { millis: now.millis + 100 * 365 * 86_400_000 })
}

pub async fn create_saml_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateSAMLProviderRequest,
) -> Result<CreateSAMLProviderResponse, AwsError> {
    check_metadata(&i.saml_metadata_document)?;
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    let a = account(&ctx);
    let mut a = state::write(&a);
    let arn = format!("arn:aws:iam::{}:saml-provider/{}", a.id, i.name);
    if a.saml.contains_key(&arn) {
        return Err(already_exists(format!("Provider with name {} already exists.", i.name)));
    }
    if a.saml.len() >= MAX_SAML_PROVIDERS {
        return Err(limit_exceeded(format!("Cannot exceed quota for SamlProvidersPerAccount: {MAX_SAML_PROVIDERS}")));
    }
    let now = ids::now();
    let out_tags = (!tags.is_empty()).then(|| tags_out(&tags));
    a.saml.insert(
        arn.clone(),
        SamlProvider {
            name: i.name,
            valid_until: valid_until(&i.saml_metadata_document, now),
            document: i.saml_metadata_document,
            uuid: ids::uuid(),
            created: now,
            tags,
        },
    );
    a.commit()?;
    Ok(CreateSAMLProviderResponse { saml_provider_arn: Some(arn), tags: out_tags })
}

pub async fn get_saml_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetSAMLProviderRequest,
) -> Result<GetSAMLProviderResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let p = a.saml.get(&i.saml_provider_arn).ok_or_else(|| saml_not_found(&i.saml_provider_arn))?;
    Ok(GetSAMLProviderResponse {
        saml_provider_uuid: Some(p.uuid.clone()),
        saml_metadata_document: Some(p.document.clone()),
        create_date: Some(p.created),
        valid_until: Some(p.valid_until),
        tags: (!p.tags.is_empty()).then(|| tags_out(&p.tags)),
        ..Default::default()
    })
}

pub async fn list_saml_providers(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: ListSAMLProvidersRequest,
) -> Result<ListSAMLProvidersResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let list = a
        .saml
        .iter()
        .map(|(arn, p)| SAMLProviderListEntry {
            arn: Some(arn.clone()),
            valid_until: Some(p.valid_until),
            create_date: Some(p.created),
            ..Default::default()
        })
        .collect();
    Ok(ListSAMLProvidersResponse { saml_provider_list: Some(list) })
}

pub async fn update_saml_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateSAMLProviderRequest,
) -> Result<UpdateSAMLProviderResponse, AwsError> {
    state::mutate(&ctx, |a| {
        let p = a.saml.get_mut(&i.saml_provider_arn).ok_or_else(|| saml_not_found(&i.saml_provider_arn))?;
        if let Some(doc) = i.saml_metadata_document {
            check_metadata(&doc)?;
            p.valid_until = valid_until(&doc, ids::now());
            p.document = doc;
        }
        Ok(UpdateSAMLProviderResponse { saml_provider_arn: Some(i.saml_provider_arn.clone()) })
    })
}

pub async fn delete_saml_provider(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteSAMLProviderRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        a.saml.remove(&i.saml_provider_arn).map(|_| ()).ok_or_else(|| saml_not_found(&i.saml_provider_arn))
    })
}
