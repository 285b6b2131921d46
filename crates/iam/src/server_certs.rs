//! Server certificates (for load balancers and CloudFront): upload with the private key, which
//! is checked to be PEM and never handed back, get, list by path and delete.

use crate::errors::{already_exists, limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::paging::page;
use crate::state::{self, Account, ServerCert, key, tags_out};
use crate::{Iam, account, ids};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::sync::Arc;

const SERVER_CERTIFICATES_PER_ACCOUNT: usize = 20;

fn not_found(name: &str) -> AwsError {
    no_such_entity(format!("The Server Certificate with name {name} cannot be found."))
}

fn metadata(a: &Account, c: &ServerCert) -> ServerCertificateMetadata {
    ServerCertificateMetadata {
        path: c.path.clone(),
        server_certificate_name: c.name.clone(),
        server_certificate_id: c.id.clone(),
        arn: a.arn("server-certificate", &c.path, &c.name),
        upload_date: Some(c.uploaded),
        expiration: c.expiration.map(|millis| Timestamp { millis }),
    }
}

fn is_pem_private_key(key: &str) -> bool {
    let key = key.trim();
    key.starts_with("-----BEGIN ") && key.contains("PRIVATE KEY-----") && key.ends_with("PRIVATE KEY-----")
}

pub async fn upload_server_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UploadServerCertificateRequest,
) -> Result<UploadServerCertificateResponse, AwsError> {
    let der = crate::certs::parse_pem_certificate(&i.certificate_body).ok_or_else(crate::certs::malformed)?;
    if let Some(chain) = &i.certificate_chain {
        // A chain is one or more PEM certificates, one after the other.
        let ok = chain
            .split_inclusive("-----END CERTIFICATE-----")
            .filter(|p| !p.trim().is_empty())
            .all(|p| crate::certs::parse_pem_certificate(p).is_some());
        if !ok {
            return Err(crate::certs::malformed());
        }
    }
    if !is_pem_private_key(&i.private_key) {
        return Err(AwsError::bad_request("MalformedCertificate", "Unable to parse private key."));
    }
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    state::mutate(&ctx, |a| {
        let k = key(&i.server_certificate_name);
        if a.server_certs.contains_key(&k) {
            return Err(already_exists(format!(
                "The Server Certificate with name {} already exists.",
                i.server_certificate_name
            )));
        }
        if a.server_certs.len() >= SERVER_CERTIFICATES_PER_ACCOUNT {
            return Err(limit_exceeded(format!(
                "Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTIFICATES_PER_ACCOUNT}"
            )));
        }
        let cert = ServerCert {
            name: i.server_certificate_name,
            path: i.path.unwrap_or_else(|| "/".to_owned()),
            id: ids::unique_id("ASCA"),
            body: i.certificate_body,
            chain: i.certificate_chain,
            uploaded: ids::now(),
            expiration: crate::certs::not_after(&der),
            tags,
        };
        let out = UploadServerCertificateResponse {
            server_certificate_metadata: Some(metadata(a, &cert)),
            tags: (!cert.tags.is_empty()).then(|| tags_out(&cert.tags)),
        };
        a.server_certs.insert(k, cert);
        Ok(out)
    })
}

pub async fn get_server_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetServerCertificateRequest,
) -> Result<GetServerCertificateResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let c =
        a.server_certs.get(&key(&i.server_certificate_name)).ok_or_else(|| not_found(&i.server_certificate_name))?;
    Ok(GetServerCertificateResponse {
        server_certificate: ServerCertificate {
            server_certificate_metadata: metadata(&a, c),
            certificate_body: c.body.clone(),
            certificate_chain: c.chain.clone(),
            tags: (!c.tags.is_empty()).then(|| tags_out(&c.tags)),
        },
    })
}

pub async fn list_server_certificates(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListServerCertificatesRequest,
) -> Result<ListServerCertificatesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let items =
        a.server_certs.iter().filter(|(_, c)| c.path.starts_with(prefix)).map(|(k, c)| (k.clone(), metadata(&a, c)));
    let (server_certificate_metadata_list, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListServerCertificatesResponse {
        server_certificate_metadata_list,
        is_truncated: Some(marker.is_some()),
        marker,
    })
}

pub async fn delete_server_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteServerCertificateRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        a.server_certs
            .remove(&key(&i.server_certificate_name))
            .map(|_| ())
            .ok_or_else(|| not_found(&i.server_certificate_name))
    })
}
