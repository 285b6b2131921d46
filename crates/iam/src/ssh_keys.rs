//! SSH public keys of users (for CodeCommit): RSA keys of at least 2048 bits, in OpenSSH
//! (`ssh-rsa …`) or PEM (`-----BEGIN PUBLIC KEY-----`) form, five per user, handed back in either
//! encoding with the MD5 fingerprint of the key.

use crate::certs::der_element;
use crate::errors::{limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::paging::page;
use crate::state::{self, SshKey};
use crate::users::caller_user_name;
use crate::{Iam, account, ids};
use base64::Engine;
use md5::{Digest, Md5};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const KEYS_PER_USER: usize = 5;
const MIN_BITS: usize = 2048;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// DER of `SEQUENCE { OID rsaEncryption, NULL }`.
const RSA_ALGORITHM: &[u8] =
    &[0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];

fn not_found(id: &str) -> AwsError {
    no_such_entity(format!("The Public Key with id {id} cannot be found."))
}

/// An RSA public key: modulus and exponent as unsigned big-endian bytes.
#[derive(Debug, PartialEq)]
struct RsaKey {
    n: Vec<u8>,
    e: Vec<u8>,
}

fn unsigned(bytes: &[u8]) -> Vec<u8> {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

fn bits(n: &[u8]) -> usize {
    n.first().map_or(0, |&b| (n.len() - 1) * 8 + (8 - b.leading_zeros() as usize))
}

/// Parses a key in either form; `Err(true)` when the encoding is not recognized at all.
fn parse(body: &str) -> Result<RsaKey, bool> {
    let body = body.trim();
    if let Some(rest) = body.strip_prefix("ssh-rsa ") {
        let blob = rest.split_whitespace().next().and_then(|b| B64.decode(b).ok()).ok_or(false)?;
        let mut fields = ssh_strings(&blob).ok_or(false)?.into_iter();
        if fields.next().as_deref() != Some(b"ssh-rsa".as_slice()) {
            return Err(false);
        }
        let (e, n) = (fields.next().ok_or(false)?, fields.next().ok_or(false)?);
        return Ok(RsaKey { n: unsigned(&n), e: unsigned(&e) });
    }
    let der = pem_body(body, "PUBLIC KEY").ok_or(true)?;
    // SubjectPublicKeyInfo { algorithm, BIT STRING { 0, RSAPublicKey { n, e } } }
    let (_, spki, _) = der_element(&der).ok_or(false)?;
    let (_, _, rest) = der_element(spki).ok_or(false)?;
    let (tag, bits, _) = der_element(rest).ok_or(false)?;
    let key = bits.strip_prefix(&[0u8]).filter(|_| tag == 0x03).ok_or(false)?;
    let (_, seq, _) = der_element(key).ok_or(false)?;
    let (_, n, rest) = der_element(seq).ok_or(false)?;
    let (_, e, _) = der_element(rest).ok_or(false)?;
    Ok(RsaKey { n: unsigned(n), e: unsigned(e) })
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let inner =
        text.strip_prefix(&format!("-----BEGIN {label}-----"))?.strip_suffix(&format!("-----END {label}-----"))?;
    B64.decode(inner.chars().filter(|c| !c.is_ascii_whitespace()).collect::<String>()).ok()
}

/// The length-prefixed strings of an SSH wire blob.
fn ssh_strings(mut blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while !blob.is_empty() {
        let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
        out.push(blob.get(4..4 + len)?.to_vec());
        blob = &blob[4 + len..];
    }
    Some(out)
}

/// A non-negative integer as SSH's mpint or DER's INTEGER content: a leading zero when the high
/// bit is set.
fn signed(n: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(n.len() + 1);
    if n.first().is_none_or(|&b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(n);
    out
}

fn ssh_blob(k: &RsaKey) -> Vec<u8> {
    let mut blob = Vec::new();
    for field in [b"ssh-rsa".to_vec(), signed(&k.e), signed(&k.n)] {
        blob.extend_from_slice(&(field.len() as u32).to_be_bytes());
        blob.extend(field);
    }
    blob
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn pem(k: &RsaKey) -> String {
    let rsa = der(0x30, &[der(0x02, &signed(&k.n)), der(0x02, &signed(&k.e))].concat());
    let bit_string = der(0x03, &[&[0u8][..], &rsa].concat());
    let spki = der(0x30, &[RSA_ALGORITHM, &bit_string].concat());
    let b64 = B64.encode(spki);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

fn fingerprint(k: &RsaKey) -> String {
    let digest = Md5::digest(ssh_blob(k));
    digest.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn full(user: &str, k: &SshKey, encoding: &str) -> SSHPublicKey {
    let body = match (encoding, parse(&k.body)) {
        ("PEM", Ok(rsa)) => pem(&rsa),
        ("SSH", Ok(rsa)) if !k.body.trim_start().starts_with("ssh-rsa ") => {
            format!("ssh-rsa {}", B64.encode(ssh_blob(&rsa)))
        }
        _ => k.body.clone(),
    };
    SSHPublicKey {
        user_name: user.to_owned(),
        ssh_public_key_id: k.id.clone(),
        fingerprint: k.fingerprint.clone(),
        ssh_public_key_body: body,
        status: status(k.active),
        upload_date: Some(k.uploaded),
    }
}

fn status(active: bool) -> String {
    if active { "Active" } else { "Inactive" }.to_owned()
}

pub async fn upload_ssh_public_key(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UploadSSHPublicKeyRequest,
) -> Result<UploadSSHPublicKeyResponse, AwsError> {
    state::mutate(&ctx, |a| {
        a.user(&i.user_name)?;
        let rsa = parse(&i.ssh_public_key_body).map_err(|unrecognized| {
            if unrecognized {
                AwsError::bad_request("UnrecognizedPublicKeyEncoding", "Unrecognized public key encoding.")
            } else {
                AwsError::bad_request("InvalidPublicKey", "The public key is not valid.")
            }
        })?;
        if bits(&rsa.n) < MIN_BITS {
            return Err(AwsError::bad_request(
                "InvalidPublicKey",
                format!("The public key must be at least {MIN_BITS} bits long."),
            ));
        }
        let fp = fingerprint(&rsa);
        if a.users.values().any(|u| u.ssh_keys.iter().any(|k| k.fingerprint == fp)) {
            return Err(AwsError::bad_request(
                "DuplicateSSHPublicKey",
                "The SSH public key specified is already associated with an IAM user.",
            ));
        }
        let user = a.user_mut(&i.user_name)?;
        if user.ssh_keys.len() >= KEYS_PER_USER {
            return Err(limit_exceeded(format!("Cannot exceed quota for PublicKeysPerUser: {KEYS_PER_USER}")));
        }
        let key = SshKey {
            id: format!("APKA{}", &ids::access_key_id()[4..]),
            body: i.ssh_public_key_body,
            fingerprint: fp,
            active: true,
            uploaded: ids::now(),
        };
        let out = full(&user.name, &key, "");
        user.ssh_keys.push(key);
        Ok(UploadSSHPublicKeyResponse { ssh_public_key: Some(out) })
    })
}

pub async fn get_ssh_public_key(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetSSHPublicKeyRequest,
) -> Result<GetSSHPublicKeyResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let user = a.user(&i.user_name)?;
    let k =
        user.ssh_keys.iter().find(|k| k.id == i.ssh_public_key_id).ok_or_else(|| not_found(&i.ssh_public_key_id))?;
    Ok(GetSSHPublicKeyResponse { ssh_public_key: Some(full(&user.name, k, &i.encoding)) })
}

pub async fn update_ssh_public_key(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateSSHPublicKeyRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let user = a.user_mut(&i.user_name)?;
        let k = user
            .ssh_keys
            .iter_mut()
            .find(|k| k.id == i.ssh_public_key_id)
            .ok_or_else(|| not_found(&i.ssh_public_key_id))?;
        k.active = i.status == "Active";
        Ok(())
    })
}

pub async fn delete_ssh_public_key(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteSSHPublicKeyRequest,
) -> Result<(), AwsError> {
    state::mutate(&ctx, |a| {
        let user = a.user_mut(&i.user_name)?;
        let index = user
            .ssh_keys
            .iter()
            .position(|k| k.id == i.ssh_public_key_id)
            .ok_or_else(|| not_found(&i.ssh_public_key_id))?;
        user.ssh_keys.remove(index);
        Ok(())
    })
}

pub async fn list_ssh_public_keys(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListSSHPublicKeysRequest,
) -> Result<ListSSHPublicKeysResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let name = i.user_name.or_else(|| ctx.identity.as_deref().and_then(caller_user_name).map(str::to_owned));
    // Without a user (the root user's own call) there are no keys: only IAM users hold them.
    let Some(name) = name else {
        return Ok(ListSSHPublicKeysResponse {
            ssh_public_keys: Some(vec![]),
            is_truncated: Some(false),
            marker: None,
        });
    };
    let user = a.user(&name)?;
    let items = user.ssh_keys.iter().enumerate().map(|(n, k)| {
        let meta = SSHPublicKeyMetadata {
            user_name: user.name.clone(),
            ssh_public_key_id: k.id.clone(),
            status: status(k.active),
            upload_date: k.uploaded,
        };
        (format!("{n:03}"), meta)
    });
    let (keys, marker) = page(items.collect::<Vec<_>>(), i.marker.as_deref(), i.max_items);
    Ok(ListSSHPublicKeysResponse { ssh_public_keys: Some(keys), is_truncated: Some(marker.is_some()), marker })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bits: usize) -> RsaKey {
        let mut n = vec![0xc5u8; bits / 8];
        n[bits / 8 - 1] = 0x01;
        RsaKey { n, e: vec![0x01, 0x00, 0x01] }
    }

    #[test]
    fn both_encodings_round_trip() {
        let k = key(2048);
        assert_eq!(bits(&k.n), 2048);
        let ssh = format!("ssh-rsa {} user@host", B64.encode(ssh_blob(&k)));
        assert_eq!(parse(&ssh).unwrap(), k);
        assert_eq!(parse(&pem(&k)).unwrap(), k);
        assert_eq!(fingerprint(&k).len(), 47);
        assert_eq!(parse("ssh-rsa !!!"), Err(false));
        assert_eq!(parse("hello"), Err(true));
        assert_eq!(bits(&key(1024).n), 1024);
    }
}
