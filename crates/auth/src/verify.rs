//! Signature and time checks of a parsed SigV4 request.

use http::request::Parts;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::canonical::{canonical_request, format_amz_date, parse_amz_date, sign, signing_key, string_to_sign};
use crate::error::{AuthError, Family, family};
use crate::parse::SigV4;
use crate::streaming::ChunkVerifier;

/// Allowed distance between the request time and ours for header auth.
const MAX_SKEW: Duration = Duration::minutes(15);

/// What a successful verification yields; enough to check aws-chunked signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Derived signing key of the request's scope.
    pub signing_key: [u8; 32],
    /// The request signature, first link of the chunk signature chain.
    pub seed_signature: String,
    /// Request time, `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// Credential scope, `date/region/service/aws4_request`.
    pub scope: String,
}

impl VerifiedSignature {
    /// Verifier for a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` body of this request.
    pub fn chunk_verifier(&self) -> ChunkVerifier {
        ChunkVerifier {
            signing_key: self.signing_key,
            seed_signature: self.seed_signature.clone(),
            amz_date: self.amz_date.clone(),
            scope: self.scope.clone(),
        }
    }
}

/// Verifies `sig` against the request with the secret key of `sig.access_key`.
///
/// `payload_hash` is the hex SHA-256 of the body; it is only used when the request
/// carries no `x-amz-content-sha256` header (and, for presigned S3, not at all).
pub fn verify(
    parts: &Parts,
    sig: &SigV4,
    secret_key: &str,
    payload_hash: &str,
    now: OffsetDateTime,
) -> Result<VerifiedSignature, AuthError> {
    let key = signing_key(secret_key, &sig.date, &sig.region, &sig.service);
    verify_with_key(parts, sig, &key, payload_hash, now)
}

/// Like [`verify`] with an already derived (e.g. cached) signing key.
pub fn verify_with_key(
    parts: &Parts,
    sig: &SigV4,
    signing_key: &[u8; 32],
    payload_hash: &str,
    now: OffsetDateTime,
) -> Result<VerifiedSignature, AuthError> {
    let amz_date = sig.amz_date.as_deref().ok_or(AuthError::MissingDate)?;
    let signed_at = parse_amz_date(amz_date).ok_or(AuthError::MissingDate)?;
    if !amz_date.starts_with(sig.date.as_str()) {
        let msg = "Invalid credential date. Date is not the same as X-Amz-Date.";
        return Err(match sig.presigned {
            Some(_) => AuthError::MalformedQuery(msg.into()),
            None => AuthError::MalformedHeader(format!("The authorization header is malformed; {msg}")),
        });
    }
    check_time(sig, amz_date, signed_at, now)?;

    let s3 = family(&sig.service) == Family::S3;
    let header_hash = parts.headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok());
    // Presigned URLs sign UNSIGNED-PAYLOAD; some non-S3 signers hash the (empty) body instead.
    let candidates: &[&str] = match (header_hash, sig.presigned.is_some()) {
        (Some(h), _) => &[h],
        (None, true) if s3 => &["UNSIGNED-PAYLOAD"],
        (None, true) => &["UNSIGNED-PAYLOAD", payload_hash],
        (None, false) => &[payload_hash],
    };
    let scope = sig.scope();
    for hash in candidates {
        let creq = canonical_request(parts, sig, hash, s3);
        let computed = sign(signing_key, &string_to_sign(amz_date, &scope, &creq));
        if bool::from(computed.as_bytes().ct_eq(sig.signature.as_bytes())) {
            return Ok(VerifiedSignature {
                signing_key: *signing_key,
                seed_signature: computed,
                amz_date: amz_date.to_owned(),
                scope,
            });
        }
    }
    Err(AuthError::SignatureMismatch)
}

fn check_time(sig: &SigV4, amz_date: &str, signed_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), AuthError> {
    let s3 = family(&sig.service) == Family::S3;
    if let (Some(p), true) = (sig.presigned, s3) {
        let expires = Duration::seconds(i64::try_from(p.expires_secs).unwrap_or(i64::MAX));
        return match signed_at.checked_add(expires) {
            Some(end) if now <= end => Ok(()),
            _ => Err(AuthError::PresignedExpired),
        };
    }
    // Non-S3 services ignore X-Amz-Expires and apply the same window as for headers.
    if now - signed_at > MAX_SKEW {
        return Err(if s3 {
            AuthError::RequestTimeTooSkewed
        } else {
            AuthError::SignatureExpired {
                signed: amz_date.to_owned(),
                limit: format_amz_date(now - MAX_SKEW),
                now: format_amz_date(now),
            }
        });
    }
    if signed_at - now > MAX_SKEW {
        return Err(if s3 {
            AuthError::RequestTimeTooSkewed
        } else {
            AuthError::SignatureNotYetCurrent {
                signed: amz_date.to_owned(),
                limit: format_amz_date(now + MAX_SKEW),
                now: format_amz_date(now),
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::EMPTY_SHA256;
    use crate::parse::parse;
    use time::macros::datetime;

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const T0: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);

    fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn get_object(auth: &str) -> Parts {
        req(
            "GET",
            "/test.txt",
            &[
                ("host", "examplebucket.s3.amazonaws.com"),
                ("range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY_SHA256),
                ("x-amz-date", "20130524T000000Z"),
                ("authorization", auth),
            ],
        )
    }

    const GET_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

    #[test]
    fn s3_get_object_vector() {
        let p = get_object(GET_AUTH);
        let sig = parse(&p).unwrap().unwrap();
        assert_eq!(sig.access_key, AK);
        let v = verify(&p, &sig, SECRET, "ignored", T0).unwrap();
        assert_eq!(v.seed_signature, sig.signature);
        assert_eq!(v.scope, "20130524/us-east-1/s3/aws4_request");
        let err = verify(&p, &sig, "wrong", "ignored", T0).unwrap_err();
        assert_eq!(err, AuthError::SignatureMismatch);
        assert_eq!(err.code("s3"), "SignatureDoesNotMatch");
        // A tampered signed header must not verify.
        let mut p2 = get_object(GET_AUTH);
        p2.headers.insert("range", "bytes=0-10".parse().unwrap());
        assert_eq!(verify(&p2, &sig, SECRET, "", T0), Err(AuthError::SignatureMismatch));
    }

    #[test]
    fn s3_clock_skew() {
        let p = get_object(GET_AUTH);
        let sig = parse(&p).unwrap().unwrap();
        assert!(verify(&p, &sig, SECRET, "", T0 + Duration::minutes(15)).is_ok());
        let late = verify(&p, &sig, SECRET, "", T0 + Duration::minutes(16)).unwrap_err();
        assert_eq!(late, AuthError::RequestTimeTooSkewed);
        assert_eq!(late.code("s3"), "RequestTimeTooSkewed");
        let early = verify(&p, &sig, SECRET, "", T0 - Duration::minutes(16)).unwrap_err();
        assert_eq!(early, AuthError::RequestTimeTooSkewed);
    }

    const PRESIGNED: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    #[test]
    fn s3_presigned_vector_and_expiry() {
        let p = req("GET", PRESIGNED, &[("host", "examplebucket.s3.amazonaws.com")]);
        let sig = parse(&p).unwrap().unwrap();
        // Long after the 15 minute window, but within X-Amz-Expires.
        assert!(verify(&p, &sig, SECRET, EMPTY_SHA256, T0 + Duration::hours(23)).is_ok());
        assert!(verify(&p, &sig, SECRET, EMPTY_SHA256, T0 + Duration::seconds(86400)).is_ok());
        let err = verify(&p, &sig, SECRET, EMPTY_SHA256, T0 + Duration::seconds(86401)).unwrap_err();
        assert_eq!(err, AuthError::PresignedExpired);
        assert_eq!((err.code("s3"), err.message().as_str()), ("AccessDenied", "Request has expired"));
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
        // Host is signed: another host fails.
        let p = req("GET", PRESIGNED, &[("host", "other.s3.amazonaws.com")]);
        assert_eq!(verify(&p, &sig, SECRET, "", T0), Err(AuthError::SignatureMismatch));
    }

    // AWS general reference example: IAM ListUsers, AKIDEXAMPLE, 20150830T123600Z.
    const IAM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const IAM_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    fn iam_request() -> Parts {
        req(
            "GET",
            "/?Action=ListUsers&Version=2010-05-08",
            &[
                ("host", "iam.amazonaws.com"),
                ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
                ("x-amz-date", "20150830T123600Z"),
                ("authorization", IAM_AUTH),
            ],
        )
    }

    #[test]
    fn iam_vector_and_signature_expired_message() {
        let p = iam_request();
        let sig = parse(&p).unwrap().unwrap();
        let t = datetime!(2015-08-30 12:36:00 UTC);
        assert!(verify(&p, &sig, IAM_SECRET, EMPTY_SHA256, t).is_ok());
        let err = verify(&p, &sig, IAM_SECRET, EMPTY_SHA256, t + Duration::minutes(30)).unwrap_err();
        assert_eq!(
            err.message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)"
        );
        assert_eq!(err.code("iam"), "SignatureDoesNotMatch");
        assert_eq!(err.code("dynamodb"), "InvalidSignatureException");
        let err = verify(&p, &sig, IAM_SECRET, EMPTY_SHA256, t - Duration::minutes(30)).unwrap_err();
        assert!(err.message().starts_with("Signature not yet current: 20150830T123600Z is still later than"));
    }

    #[test]
    fn date_problems() {
        let p = req("GET", "/", &[("authorization", GET_AUTH)]);
        let sig = parse(&p).unwrap().unwrap();
        assert_eq!(verify(&p, &sig, SECRET, "", T0), Err(AuthError::MissingDate));
        let p = get_object(&GET_AUTH.replace("/20130524/", "/20130525/"));
        let sig = parse(&p).unwrap().unwrap();
        assert!(matches!(verify(&p, &sig, SECRET, "", T0), Err(AuthError::MalformedHeader(_))));
    }

    #[test]
    fn non_s3_path_is_double_encoded() {
        let sig = SigV4 {
            access_key: "AK".into(),
            date: "20240101".into(),
            region: "us-east-1".into(),
            service: "lambda".into(),
            signed_headers: vec!["host".into()],
            signature: String::new(),
            amz_date: Some("20240101T000000Z".into()),
            presigned: None,
        };
        let p = req("GET", "/2015-03-31/functions/arn%3Aaws%3Ax/./invocations", &[("host", "h")]);
        let c = String::from_utf8(canonical_request(&p, &sig, EMPTY_SHA256, false)).unwrap();
        assert!(c.starts_with("GET\n/2015-03-31/functions/arn%253Aaws%253Ax/invocations\n\nhost:h\n"), "{c}");
    }
}
