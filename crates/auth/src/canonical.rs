//! Canonical request, string to sign and key derivation of SigV4.

use hmac::{Hmac, KeyInit, Mac};
use http::request::Parts;
use percent_encoding::percent_decode;
use sha2::{Digest, Sha256};

use crate::parse::{ALGORITHM, SigV4};

/// Hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Builds the canonical request; `s3_style` keeps the path as sent instead of normalizing
/// and encoding it a second time.
pub fn canonical_request(parts: &Parts, sig: &SigV4, payload_hash: &str, s3_style: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(parts.method.as_str().as_bytes());
    out.push(b'\n');
    let path = parts.uri.path();
    if s3_style {
        s3_path(&mut out, path.as_bytes());
    } else {
        let normalized = normalize_path(path);
        uri_encode(&mut out, normalized.as_bytes(), true);
    }
    out.push(b'\n');
    canonical_query(&mut out, parts.uri.query().unwrap_or(""), sig.presigned.is_some());
    out.push(b'\n');
    for name in &sig.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        header_value(&mut out, parts, name);
        out.push(b'\n');
    }
    out.push(b'\n');
    for (i, name) in sig.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(name.as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// String to sign for a request: algorithm, time, scope, hash of the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", sha256_hex(canonical_request))
}

/// Derived signing key; depends only on the day, so callers may cache it.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    hmac_sha256(&k, b"aws4_request")
}

/// Hex HMAC-SHA256 of a string to sign.
pub fn sign(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// Hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// `yyyymmddThhmmssZ` of a UTC time.
pub(crate) fn format_amz_date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses `yyyymmddThhmmssZ`.
pub(crate) fn parse_amz_date(s: &str) -> Option<time::OffsetDateTime> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt).ok().map(|t| t.assume_utc())
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// RFC 3986 encoding as SigV4 wants it: unreserved bytes kept, the rest `%XX` upper case.
fn uri_encode(out: &mut Vec<u8>, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// S3 signs the path as sent; only bytes a client could not have meant raw get encoded.
fn s3_path(out: &mut Vec<u8>, path: &[u8]) {
    if path.is_empty() {
        out.push(b'/');
        return;
    }
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        let escape =
            b == b'%' && i + 2 < path.len() && path[i + 1].is_ascii_hexdigit() && path[i + 2].is_ascii_hexdigit();
        if escape {
            out.extend_from_slice(&path[i..i + 3]);
            i += 3;
        } else {
            uri_encode(out, &[b], true);
            i += 1;
        }
    }
}

/// Removes empty, `.` and `..` segments, as the SDKs do for non-S3 services.
fn normalize_path(path: &str) -> String {
    let mut segs: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segs.join("/"));
    if path.ends_with('/') && !segs.is_empty() {
        out.push('/');
    }
    out
}

fn canonical_query(out: &mut Vec<u8>, query: &str, presigned: bool) {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if presigned && k == "X-Amz-Signature" {
                return None;
            }
            let (mut ek, mut ev) = (Vec::new(), Vec::new());
            uri_encode(&mut ek, &percent_decode(k.as_bytes()).collect::<Vec<u8>>(), false);
            uri_encode(&mut ev, &percent_decode(v.as_bytes()).collect::<Vec<u8>>(), false);
            Some((ek, ev))
        })
        .collect();
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(k);
        out.push(b'=');
        out.extend_from_slice(v);
    }
}

/// Values of a header joined by `,`, each trimmed with inner whitespace runs collapsed.
fn header_value(out: &mut Vec<u8>, parts: &Parts, name: &str) {
    let mut values = parts.headers.get_all(name).iter().peekable();
    if values.peek().is_none() && name.eq_ignore_ascii_case("host") {
        // HTTP/2 carries the host in :authority, which lands in the URI.
        if let Some(a) = parts.uri.authority() {
            out.extend_from_slice(a.as_str().as_bytes());
        }
        return;
    }
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let words = v.as_bytes().split(|b| *b == b' ' || *b == b'\t').filter(|w| !w.is_empty());
        for (j, w) in words.enumerate() {
            if j > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_key_vector() {
        // AWS general reference example (IAM, 20120215).
        let k = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(hex::encode(k), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn encoding() {
        let mut out = Vec::new();
        uri_encode(&mut out, "a b/~é*".as_bytes(), false);
        assert_eq!(out, b"a%20b%2F~%C3%A9%2A");
        let mut out = Vec::new();
        s3_path(&mut out, b"/b/a%2fb%20c/(x)%zz");
        assert_eq!(out, b"/b/a%2fb%20c/%28x%29%25zz");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a/./b/../c//d/"), "/a/c/d/");
        assert_eq!(normalize_path("/../.."), "/");
    }

    #[test]
    fn query_sorting_and_encoding() {
        let mut out = Vec::new();
        canonical_query(&mut out, "b=2&a=z&a=y&c&X-Amz-Signature=s&sp=a%20b+c", true);
        assert_eq!(String::from_utf8(out).unwrap(), "a=y&a=z&b=2&c=&sp=a%20b%2Bc");
    }

    #[test]
    fn dates() {
        let t = parse_amz_date("20240102T030405Z").unwrap();
        assert_eq!(format_amz_date(t), "20240102T030405Z");
        assert!(parse_amz_date("2024-01-02").is_none());
    }
}
