//! X.509 signing certificates of users (and of the root user when no user is named): upload,
//! status changes, listing and deletion, two per user as in AWS.

use crate::errors::{delete_conflict, limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::paging::page;
use crate::state::{self, Account};
use crate::users::caller_user_name;
use crate::{Iam, account, ids};
use base64::Engine;
use http::StatusCode;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const CERTS_PER_USER: usize = 2;

/// The user a certificate operation is about: the named one, else the calling IAM user, else root.
fn owner(ctx: &RequestContext, named: Option<String>) -> Option<String> {
    named.or_else(|| ctx.identity.as_deref().and_then(caller_user_name).map(str::to_owned))
}

fn certs_of<'a>(a: &'a mut Account, user: Option<&str>) -> Result<&'a mut Vec<state::SigningCert>, AwsError> {
    match user {
        Some(name) => Ok(&mut a.user_mut(name)?.certs),
        None => Ok(&mut a.root_certs),
    }
}

fn cert_not_found(id: &str) -> AwsError {
    no_such_entity(format!("The Certificate with id {id} cannot be found."))
}

pub fn malformed() -> AwsError {
    AwsError::bad_request(
        "MalformedCertificate",
        "Unable to parse certificate. Please ensure the certificate is in PEM format.",
    )
}

/// What DeleteUser answers while the user still has certificates.
pub fn certificates_conflict() -> AwsError {
    delete_conflict("Cannot delete entity, must delete signing certificates first.")
}

/// The DER bytes of a PEM `CERTIFICATE` whose content is shaped like an X.509 certificate:
/// `SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE, signature BIT STRING }`.
pub fn parse_pem_certificate(body: &str) -> Option<Vec<u8>> {
    let body = body.trim();
    let inner = body.strip_prefix("-----BEGIN CERTIFICATE-----")?.strip_suffix("-----END CERTIFICATE-----")?;
    let b64: String = inner.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let (tag, content, rest) = der_element(&der)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (tbs, _, after_tbs) = der_element(content)?;
    let (alg, _, after_alg) = der_element(after_tbs)?;
    let (sig, _, end) = der_element(after_alg)?;
    (tbs == 0x30 && alg == 0x30 && sig == 0x03 && end.is_empty()).then_some(der)
}

/// When an X.509 certificate (DER) stops being valid, in epoch milliseconds: the `notAfter` of
/// the validity in `tbsCertificate { [0] version?, serial, signature, issuer, validity, … }`.
pub fn not_after(der: &[u8]) -> Option<i64> {
    let (_, cert, _) = der_element(der)?;
    let (_, tbs, _) = der_element(cert)?;
    let (first, _, mut rest) = der_element(tbs)?;
    if first == 0xa0 {
        rest = der_element(rest)?.2; // the serial number after the version
    }
    for _ in 0..2 {
        rest = der_element(rest)?.2; // signature algorithm, issuer
    }
    let (_, validity, _) = der_element(rest)?;
    let (_, _, after_not_before) = der_element(validity)?;
    let (tag, time, _) = der_element(after_not_before)?;
    let text = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        0x18 => (text.get(..4)?.parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| rest.get(i..i + 2).and_then(|f| f.parse::<i64>().ok());
    let (month, day, hour, minute, second) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// One DER element: its tag, its content and what follows it.
pub fn der_element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn out(user: &str, c: &state::SigningCert) -> SigningCertificate {
    SigningCertificate {
        user_name: user.to_owned(),
        certificate_id: c.id.clone(),
        certificate_body: c.body.clone(),
        status: if c.active { "Active" } else { "Inactive" }.to_owned(),
        upload_date: Some(c.uploaded),
    }
}

/// The user name as stored (IAM names are case-insensitive), or empty for the root user.
fn display_name(a: &Account, user: Option<&str>) -> String {
    user.map(|u| a.user(u).map(|u| u.name.clone()).unwrap_or_else(|_| u.to_owned())).unwrap_or_default()
}

pub async fn upload_signing_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UploadSigningCertificateRequest,
) -> Result<UploadSigningCertificateResponse, AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    certs_of(&mut a, user.as_deref())?;
    let der = parse_pem_certificate(&i.certificate_body).ok_or_else(malformed)?;
    if certs_of(&mut a, user.as_deref())?.len() >= CERTS_PER_USER {
        return Err(limit_exceeded(format!("Cannot exceed quota for CertificatesPerUser: {CERTS_PER_USER}")));
    }
    let same = |c: &state::SigningCert| parse_pem_certificate(&c.body).is_some_and(|d| d == der);
    if a.root_certs.iter().chain(a.users.values().flat_map(|u| &u.certs)).any(same) {
        return Err(AwsError::new(
            StatusCode::CONFLICT,
            "DuplicateCertificate",
            "The request was rejected because the same certificate is associated with an IAM user in the account.",
        ));
    }
    let cert =
        state::SigningCert { id: ids::certificate_id(), body: i.certificate_body, active: true, uploaded: ids::now() };
    let certificate = out(&display_name(&a, user.as_deref()), &cert);
    certs_of(&mut a, user.as_deref())?.push(cert);
    a.commit()?;
    Ok(UploadSigningCertificateResponse { certificate })
}

pub async fn update_signing_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateSigningCertificateRequest,
) -> Result<(), AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    let certs = certs_of(&mut a, user.as_deref())?;
    let cert = certs.iter_mut().find(|c| c.id == i.certificate_id).ok_or_else(|| cert_not_found(&i.certificate_id))?;
    cert.active = i.status == "Active";
    a.commit()?;
    Ok(())
}

pub async fn delete_signing_certificate(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteSigningCertificateRequest,
) -> Result<(), AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    let certs = certs_of(&mut a, user.as_deref())?;
    let index = certs.iter().position(|c| c.id == i.certificate_id).ok_or_else(|| cert_not_found(&i.certificate_id))?;
    certs.remove(index);
    a.commit()?;
    Ok(())
}

pub async fn list_signing_certificates(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListSigningCertificatesRequest,
) -> Result<ListSigningCertificatesResponse, AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let a = a.read();
    let certs = match user.as_deref() {
        Some(name) => &a.user(name)?.certs,
        None => &a.root_certs,
    };
    let name = display_name(&a, user.as_deref());
    let items: Vec<_> = certs.iter().enumerate().map(|(n, c)| (format!("{n:03}"), out(&name, c))).collect();
    let (certificates, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListSigningCertificatesResponse { certificates, is_truncated: Some(marker.is_some()), marker })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n")
    }

    #[test]
    fn certificate_shapes() {
        // SEQUENCE { SEQUENCE {INTEGER 1}, SEQUENCE {}, BIT STRING 00 }
        let good = [0x30, 0x0b, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x00, 0x03, 0x02, 0x00, 0xff];
        assert_eq!(parse_pem_certificate(&pem(&good)).as_deref(), Some(&good[..]));
        assert!(parse_pem_certificate("notacert").is_none());
        assert!(parse_pem_certificate(&pem(&good[..10])).is_none(), "truncated");
        let mut trailing = good.to_vec();
        trailing.push(0);
        assert!(parse_pem_certificate(&pem(&trailing)).is_none(), "bytes after the certificate");
        let not_seq = [0x31, 0x00];
        assert!(parse_pem_certificate(&pem(&not_seq)).is_none());
        assert!(parse_pem_certificate("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----").is_none());
    }

    #[test]
    fn expiry_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // SEQUENCE { SEQUENCE { [0]{INTEGER 2}, INTEGER 1, SEQ{}, SEQ{}, SEQ{ UTCTime, GeneralizedTime } } }
        let not_before = b"260101000000Z";
        let end = b"21261111110304Z";
        let mut validity = vec![0x17, not_before.len() as u8];
        validity.extend_from_slice(not_before);
        validity.extend_from_slice(&[0x18, end.len() as u8]);
        validity.extend_from_slice(end);
        let mut tbs = vec![0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30, 0x00, 0x30];
        tbs.push(validity.len() as u8);
        tbs.extend(validity);
        let mut cert = vec![0x30, tbs.len() as u8];
        cert.extend(tbs);
        let mut der = vec![0x30, cert.len() as u8];
        der.extend(cert);
        // 2126-11-11T11:03:04Z
        assert_eq!(not_after(&der), Some(4_950_068_584_000));
        assert_eq!(not_after(&der[..10]), None);
    }

    #[test]
    fn long_form_lengths() {
        let mut der = vec![0x04, 0x81, 200];
        der.extend(std::iter::repeat_n(7u8, 200));
        let (tag, content, rest) = der_element(&der).unwrap();
        assert_eq!((tag, content.len(), rest.len()), (0x04, 200, 0));
        assert!(der_element(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
    }
}
