//! Extraction of SigV4 parameters from the `Authorization` header or a presigned query.

use http::HeaderMap;
use http::request::Parts;
use percent_encoding::percent_decode_str;

use crate::error::AuthError;

/// The only SigV4 algorithm we verify.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// S3 caps presigned URL lifetime at one week.
const MAX_EXPIRES: u64 = 604_800;

/// SigV4 parameters of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4 {
    /// Access key id from the credential.
    pub access_key: String,
    /// Scope date, `yyyymmdd`.
    pub date: String,
    /// Scope region.
    pub region: String,
    /// Scope service (signing name).
    pub service: String,
    /// Signed header names, as listed by the client.
    pub signed_headers: Vec<String>,
    /// Hex signature sent by the client.
    pub signature: String,
    /// Request time, `yyyymmddThhmmssZ` (from `X-Amz-Date` or a converted `Date`).
    pub amz_date: Option<String>,
    /// Set when the signature came from the query string.
    pub presigned: Option<Presigned>,
}

/// Query-string (presigned) specifics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presigned {
    /// `X-Amz-Expires`; 900 when a non-S3 client left it out.
    pub expires_secs: u64,
}

impl SigV4 {
    /// Credential scope `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

/// Parses SigV4 from a request; `Ok(None)` when it is anonymous or SigV2-signed.
pub fn parse(parts: &Parts) -> Result<Option<SigV4>, AuthError> {
    let query = parts.uri.query().unwrap_or("");
    let auth = match parts.headers.get(http::header::AUTHORIZATION) {
        Some(v) => {
            Some(v.to_str().map_err(|_| AuthError::MalformedHeader("The authorization header is malformed.".into()))?)
        }
        None => None,
    };
    let presigned = query_param(query, "X-Amz-Algorithm").is_some() || query_param(query, "X-Amz-Credential").is_some();
    match auth {
        Some(_) if presigned => Err(AuthError::InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified".into(),
        )),
        Some(a) => parse_header(a, &parts.headers),
        None if presigned => parse_query(query).map(Some),
        None => Ok(None),
    }
}

fn parse_header(auth: &str, headers: &HeaderMap) -> Result<Option<SigV4>, AuthError> {
    let auth = auth.trim();
    let Some(rest) = auth.strip_prefix(ALGORITHM) else {
        // SigV2 is left to the caller (access_key_hint); other schemes are refused.
        if auth.starts_with("AWS ") {
            return Ok(None);
        }
        return Err(AuthError::InvalidArgument("Unsupported Authorization Type".into()));
    };
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return Err(AuthError::InvalidArgument("Unsupported Authorization Type".into()));
    }
    let (mut cred, mut signed, mut sig) = (None, None, None);
    for item in rest.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((k, v)) = item.split_once('=') else {
            return Err(malformed_header(&format!("the parameter '{item}' is not of the form key=value.")));
        };
        match k.trim() {
            "Credential" => cred = Some(v.trim()),
            "SignedHeaders" => signed = Some(v.trim()),
            "Signature" => sig = Some(v.trim()),
            _ => {}
        }
    }
    let missing = [("Credential", cred.is_none()), ("SignedHeaders", signed.is_none()), ("Signature", sig.is_none())];
    if let Some((name, _)) = missing.iter().find(|(_, m)| *m) {
        return Err(malformed_header(&format!("the '{name}' parameter is missing.")));
    }
    let (access_key, date, region, service) =
        split_credential(cred.unwrap_or_default()).ok_or_else(|| malformed_header(CREDENTIAL_SHAPE))?;
    let signed_headers = split_signed_headers(signed.unwrap_or_default())
        .ok_or_else(|| malformed_header("the SignedHeaders parameter is empty."))?;
    let signature = sig.unwrap_or_default();
    if signature.is_empty() {
        return Err(malformed_header("the Signature parameter is empty."));
    }
    Ok(Some(SigV4 {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature: signature.to_owned(),
        amz_date: header_date(headers),
        presigned: None,
    }))
}

const CREDENTIAL_SHAPE: &str =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

fn malformed_header(detail: &str) -> AuthError {
    AuthError::MalformedHeader(format!("The authorization header is malformed; {detail}"))
}

fn parse_query(query: &str) -> Result<SigV4, AuthError> {
    let get = |name| query_param(query, name).map(decode);
    let algorithm = get("X-Amz-Algorithm");
    let cred = get("X-Amz-Credential");
    let amz_date = get("X-Amz-Date");
    let signed = get("X-Amz-SignedHeaders");
    let signature = get("X-Amz-Signature");
    let (Some(algorithm), Some(cred), Some(amz_date), Some(signed), Some(signature)) =
        (algorithm, cred, amz_date, signed, signature)
    else {
        return Err(AuthError::MalformedQuery(REQUIRED_PARAMS.into()));
    };
    if algorithm != ALGORITHM {
        return Err(AuthError::MalformedQuery("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into()));
    }
    let (access_key, date, region, service) = split_credential(&cred).ok_or_else(|| {
        AuthError::MalformedQuery(format!("Error parsing the X-Amz-Credential parameter; {CREDENTIAL_SHAPE}"))
    })?;
    let expires_secs = match get("X-Amz-Expires") {
        Some(e) => {
            let secs: i64 =
                e.parse().map_err(|_| AuthError::MalformedQuery("X-Amz-Expires should be a number".into()))?;
            if secs <= 0 {
                return Err(AuthError::MalformedQuery("X-Amz-Expires must be non-negative".into()));
            }
            let secs = secs as u64;
            if secs > MAX_EXPIRES {
                return Err(AuthError::MalformedQuery(
                    "X-Amz-Expires must be less than a week (in seconds) that is 7 days".into(),
                ));
            }
            secs
        }
        // Only S3 requires it; elsewhere the 15 minute window applies.
        None if service == "s3" => return Err(AuthError::MalformedQuery(REQUIRED_PARAMS.into())),
        None => 900,
    };
    let signed_headers = split_signed_headers(&signed)
        .ok_or_else(|| AuthError::MalformedQuery("X-Amz-SignedHeaders must not be empty".into()))?;
    Ok(SigV4 {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature,
        amz_date: Some(amz_date),
        presigned: Some(Presigned { expires_secs }),
    })
}

const REQUIRED_PARAMS: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";

/// Splits `AK/yyyymmdd/region/service/aws4_request`.
fn split_credential(cred: &str) -> Option<(String, String, String, String)> {
    let mut it = cred.rsplitn(5, '/');
    let (term, service, region, date, ak) = (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
    if term != "aws4_request" || !date_ok || ak.is_empty() || region.is_empty() || service.is_empty() {
        return None;
    }
    Some((ak.into(), date.into(), region.into(), service.into()))
}

fn split_signed_headers(s: &str) -> Option<Vec<String>> {
    let v: Vec<String> = s.split(';').filter(|h| !h.is_empty()).map(str::to_owned).collect();
    (!v.is_empty()).then_some(v)
}

/// `X-Amz-Date`, else the HTTP `Date` header converted to the ISO 8601 basic form.
fn header_date(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get("x-amz-date").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned());
    }
    let v = headers.get(http::header::DATE)?.to_str().ok()?;
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let t = time::PrimitiveDateTime::parse(v.trim(), &fmt).ok()?;
    Some(crate::canonical::format_amz_date(t.assume_utc()))
}

/// Raw (still percent-encoded) value of the first query parameter named `name`.
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then_some(v)
    })
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Access key of any signed form (SigV4 header or query, SigV2 header or query), unverified.
pub fn access_key_hint(parts: &Parts) -> Option<String> {
    let query = parts.uri.query().unwrap_or("");
    if let Some(auth) = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let auth = auth.trim();
        if let Some(rest) = auth.strip_prefix(ALGORITHM) {
            let cred = rest.split(',').find_map(|i| i.trim().strip_prefix("Credential="))?;
            return cred.split('/').next().filter(|s| !s.is_empty()).map(str::to_owned);
        }
        if let Some(rest) = auth.strip_prefix("AWS ") {
            return rest.trim().rsplit_once(':').map(|(ak, _)| ak.to_owned());
        }
    }
    if let Some(cred) = query_param(query, "X-Amz-Credential") {
        return decode(cred).split('/').next().filter(|s| !s.is_empty()).map(str::to_owned);
    }
    query_param(query, "AWSAccessKeyId").map(decode).filter(|s| !s.is_empty())
}

/// Service and region of the credential scope, borrowed from the request (router hot path).
///
/// Returns `(service, region)`; no allocation, no validation beyond the scope shape.
pub fn scope_service_fast<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    if let Some(auth) = headers.get(http::header::AUTHORIZATION) {
        let auth = std::str::from_utf8(auth.as_bytes()).ok()?;
        let at = auth.find("Credential=")? + "Credential=".len();
        let cred = &auth[at..];
        let end = cred.find([',', ' ']).unwrap_or(cred.len());
        return scope_parts(&cred[..end]);
    }
    let query = query?;
    let at = if query.starts_with("X-Amz-Credential=") { 0 } else { query.find("&X-Amz-Credential=")? + 1 };
    let cred = &query[at + "X-Amz-Credential=".len()..];
    let end = cred.find('&').unwrap_or(cred.len());
    scope_parts(&cred[..end])
}

/// Picks region and service out of a credential whose separators are `/` or `%2F`.
fn scope_parts(cred: &str) -> Option<(&str, &str)> {
    let b = cred.as_bytes();
    // Start offsets of the 5 fields and their end offsets.
    let mut fields: [(usize, usize); 5] = [(0, 0); 5];
    let (mut n, mut start, mut i) = (0, 0, 0);
    while i < b.len() {
        let sep = if b[i] == b'/' {
            1
        } else if b[i] == b'%' && i + 2 < b.len() && b[i + 1] == b'2' && (b[i + 2] | 0x20) == b'f' {
            3
        } else {
            i += 1;
            continue;
        };
        if n == 4 {
            return None;
        }
        fields[n] = (start, i);
        n += 1;
        i += sep;
        start = i;
    }
    if n != 4 {
        return None;
    }
    fields[4] = (start, b.len());
    if &cred[fields[4].0..fields[4].1] != "aws4_request" {
        return None;
    }
    let region = &cred[fields[2].0..fields[2].1];
    let service = &cred[fields[3].0..fields[3].1];
    (!region.is_empty() && !service.is_empty()).then_some((service, region))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd";

    #[test]
    fn header_with_and_without_spaces() {
        for auth in [AUTH, &AUTH.replace(", ", ",")] {
            let p = parts("/b/k", &[("authorization", auth), ("x-amz-date", "20240101T000000Z")]);
            let s = parse(&p).unwrap().unwrap();
            assert_eq!(s.access_key, "AK");
            assert_eq!((s.date.as_str(), s.region.as_str(), s.service.as_str()), ("20240101", "us-east-1", "s3"));
            assert_eq!(s.signed_headers, ["host", "x-amz-date"]);
            assert_eq!(s.signature, "abcd");
            assert_eq!(s.amz_date.as_deref(), Some("20240101T000000Z"));
            assert!(s.presigned.is_none());
        }
    }

    #[test]
    fn date_header_fallback() {
        let p = parts("/", &[("authorization", AUTH), ("date", "Mon, 01 Jan 2024 01:02:03 GMT")]);
        assert_eq!(parse(&p).unwrap().unwrap().amz_date.as_deref(), Some("20240101T010203Z"));
    }

    #[test]
    fn anonymous_and_sigv2() {
        assert_eq!(parse(&parts("/x?a=b", &[])).unwrap(), None);
        let p = parts("/x", &[("authorization", "AWS AKV2:c2lnbmF0dXJl")]);
        assert_eq!(parse(&p).unwrap(), None);
        assert_eq!(access_key_hint(&p).as_deref(), Some("AKV2"));
        let p = parts("/x?AWSAccessKeyId=AKQ&Signature=x&Expires=1", &[]);
        assert_eq!(access_key_hint(&p).as_deref(), Some("AKQ"));
    }

    #[test]
    fn malformed_headers() {
        let bad = [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AK/2024/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=a",
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=, Signature=a",
            "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
            "AWS4-HMAC-SHA256 garbage",
            "AWS4-HMAC-SHA256 ,,,,=,=",
        ];
        for a in bad {
            let err = parse(&parts("/", &[("authorization", a)])).unwrap_err();
            assert!(matches!(err, AuthError::MalformedHeader(_)), "{a}: {err:?}");
            assert_eq!(err.code("s3"), "AuthorizationHeaderMalformed");
        }
        for a in ["Bearer x", "AWS4-HMAC-SHA256X Credential=a", "AWS4-ECDSA-P256-SHA256 Credential=a"] {
            let err = parse(&parts("/", &[("authorization", a)])).unwrap_err();
            assert!(matches!(err, AuthError::InvalidArgument(_)), "{a}: {err:?}");
        }
    }

    const PRESIGNED: &str = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    #[test]
    fn presigned_query() {
        let s = parse(&parts(PRESIGNED, &[])).unwrap().unwrap();
        assert_eq!(s.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(s.scope(), "20130524/us-east-1/s3/aws4_request");
        assert_eq!(s.presigned, Some(Presigned { expires_secs: 86400 }));
        assert_eq!(s.amz_date.as_deref(), Some("20130524T000000Z"));
        assert_eq!(access_key_hint(&parts(PRESIGNED, &[])).as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
    }

    #[test]
    fn presigned_malformed() {
        for (from, to) in [
            ("X-Amz-Expires=86400", "X-Amz-Expires=604801"),
            ("X-Amz-Expires=86400", "X-Amz-Expires=0"),
            ("X-Amz-Expires=86400", "X-Amz-Expires=-5"),
            ("X-Amz-Expires=86400", "X-Amz-Expires=soon"),
            ("X-Amz-Expires=86400&", ""),
            ("&X-Amz-Date=20130524T000000Z", ""),
            ("AWS4-HMAC-SHA256&", "AWS4-HMAC-SHA1&"),
            ("%2Fs3%2F", "%2F"),
        ] {
            let uri = PRESIGNED.replace(from, to);
            let err = parse(&parts(&uri, &[])).unwrap_err();
            assert!(matches!(err, AuthError::MalformedQuery(_)), "{uri}: {err:?}");
            assert_eq!(err.code("s3"), "AuthorizationQueryParametersError");
        }
        let err = parse(&parts(PRESIGNED, &[("authorization", AUTH)])).unwrap_err();
        assert!(matches!(err, AuthError::InvalidArgument(_)));
    }

    #[test]
    fn non_s3_presigned_without_expires() {
        let uri = "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab";
        let s = parse(&parts(uri, &[])).unwrap().unwrap();
        assert_eq!(s.presigned, Some(Presigned { expires_secs: 900 }));
    }

    #[test]
    fn fast_scope() {
        let p = parts("/", &[("authorization", AUTH)]);
        assert_eq!(scope_service_fast(&p.headers, None), Some(("s3", "us-east-1")));
        let p = parts(PRESIGNED, &[]);
        assert_eq!(scope_service_fast(&p.headers, p.uri.query()), Some(("s3", "us-east-1")));
        let q = "X-Amz-Credential=AK/20240101/eu-west-1/sqs/aws4_request&x=y";
        assert_eq!(scope_service_fast(&HeaderMap::new(), Some(q)), Some(("sqs", "eu-west-1")));
        let q = "a=b&X-Amz-Credential=AK%2f20240101%2feu-west-1%2fsqs%2faws4_request";
        assert_eq!(scope_service_fast(&HeaderMap::new(), Some(q)), Some(("sqs", "eu-west-1")));
        assert_eq!(scope_service_fast(&HeaderMap::new(), Some("aX-Amz-Credential=a/b/c/d/aws4_request")), None);
        assert_eq!(scope_service_fast(&HeaderMap::new(), None), None);
        let p = parts("/", &[("authorization", "AWS4-HMAC-SHA256 Credential=AK/x/aws4_request")]);
        assert_eq!(scope_service_fast(&p.headers, None), None);
        let p = parts("/", &[("authorization", "AWS AK:sig")]);
        assert_eq!(scope_service_fast(&p.headers, None), None);
    }
}
