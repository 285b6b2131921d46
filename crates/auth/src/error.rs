//! Authentication errors and how each AWS protocol family spells them.

use http::StatusCode;

/// Protocol family of a service: decides error codes and some time checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// REST-XML S3.
    S3,
    /// awsJson services (DynamoDB, Lambda, Secrets Manager, ...).
    Json,
    /// awsQuery / ec2Query services (STS, IAM, SNS, SQS, ...).
    Query,
}

/// Family of a SigV4 signing name (the service part of the credential scope).
pub fn family(service: &str) -> Family {
    match service {
        "s3" | "s3-object-lambda" => Family::S3,
        "sts"
        | "iam"
        | "sns"
        | "sqs"
        | "ec2"
        | "cloudformation"
        | "elasticache"
        | "rds"
        | "monitoring"
        | "cloudwatch"
        | "autoscaling"
        | "elasticloadbalancing"
        | "elasticbeanstalk"
        | "redshift"
        | "email"
        | "sdb" => Family::Query,
        _ => Family::Json,
    }
}

/// Why a request failed authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The computed signature differs from the one sent.
    SignatureMismatch,
    /// The access key is not known (raised by the caller's key lookup).
    UnknownAccessKey,
    /// S3 presigned URL past `X-Amz-Date + X-Amz-Expires`.
    PresignedExpired,
    /// S3 header auth outside the 15 minute window.
    RequestTimeTooSkewed,
    /// Non-S3 request older than the 15 minute window; times as `yyyymmddThhmmssZ`.
    SignatureExpired { signed: String, limit: String, now: String },
    /// Non-S3 request dated more than 15 minutes in the future.
    SignatureNotYetCurrent { signed: String, limit: String, now: String },
    /// Bad `Authorization` header; the text says what is wrong.
    MalformedHeader(String),
    /// Bad presigned query parameters; the text says what is wrong.
    MalformedQuery(String),
    /// Neither a usable `X-Amz-Date` nor `Date`.
    MissingDate,
    /// Unsupported scheme or conflicting mechanisms (S3 `InvalidArgument`).
    InvalidArgument(String),
    /// An aws-chunked chunk or trailer signature does not verify.
    ChunkSignatureMismatch,
    /// The aws-chunked framing is broken.
    MalformedChunk(String),
    /// The body ended early or its decoded length is not the announced one.
    IncompleteBody(String),
    /// The body does not hash to the `x-amz-content-sha256` value.
    ContentSha256Mismatch,
}

impl AuthError {
    /// AWS error code for this error as answered by `service`.
    pub fn code(&self, service: &str) -> &'static str {
        self.code_for(family(service))
    }

    /// AWS error code for this error in a protocol family.
    pub fn code_for(&self, fam: Family) -> &'static str {
        use AuthError::*;
        use Family::*;
        match (self, fam) {
            (SignatureMismatch | ChunkSignatureMismatch, S3 | Query) => "SignatureDoesNotMatch",
            (SignatureMismatch | ChunkSignatureMismatch, Json) => "InvalidSignatureException",
            (UnknownAccessKey, S3) => "InvalidAccessKeyId",
            (UnknownAccessKey, Json) => "UnrecognizedClientException",
            (UnknownAccessKey, Query) => "InvalidClientTokenId",
            (PresignedExpired, S3) | (MissingDate, S3) => "AccessDenied",
            (RequestTimeTooSkewed, S3) => "RequestTimeTooSkewed",
            (MalformedHeader(_), S3) => "AuthorizationHeaderMalformed",
            (MalformedQuery(_), S3) => "AuthorizationQueryParametersError",
            (InvalidArgument(_), S3) => "InvalidArgument",
            (MalformedChunk(_), S3) => "InvalidRequest",
            (IncompleteBody(_), S3) => "IncompleteBody",
            (ContentSha256Mismatch, S3) => "XAmzContentSHA256Mismatch",
            // Expiry outside S3 is reported as a signature problem.
            (PresignedExpired | RequestTimeTooSkewed, Json) => "InvalidSignatureException",
            (PresignedExpired | RequestTimeTooSkewed, Query) => "SignatureDoesNotMatch",
            (SignatureExpired { .. } | SignatureNotYetCurrent { .. }, S3 | Query) => "SignatureDoesNotMatch",
            (SignatureExpired { .. } | SignatureNotYetCurrent { .. }, Json) => "InvalidSignatureException",
            (MalformedHeader(_) | MalformedQuery(_) | MissingDate | InvalidArgument(_), Json) => {
                "IncompleteSignatureException"
            }
            (MalformedHeader(_) | MalformedQuery(_) | MissingDate | InvalidArgument(_), Query) => "IncompleteSignature",
            (MalformedChunk(_) | IncompleteBody(_) | ContentSha256Mismatch, Json) => "SerializationException",
            (MalformedChunk(_) | IncompleteBody(_) | ContentSha256Mismatch, Query) => "MalformedInput",
        }
    }

    /// Human readable message, as AWS words it.
    pub fn message(&self) -> String {
        use AuthError::*;
        match self {
            SignatureMismatch | ChunkSignatureMismatch => "The request signature we calculated does not match the signature you provided. Check your key and signing method.".into(),
            UnknownAccessKey => "The AWS Access Key Id you provided does not exist in our records.".into(),
            PresignedExpired => "Request has expired".into(),
            RequestTimeTooSkewed => "The difference between the request time and the current time is too large.".into(),
            SignatureExpired { signed, limit, now } => {
                format!("Signature expired: {signed} is now earlier than {limit} ({now} - 15 min.)")
            }
            SignatureNotYetCurrent { signed, limit, now } => {
                format!("Signature not yet current: {signed} is still later than {limit} ({now} + 15 min.)")
            }
            MalformedHeader(m) | MalformedQuery(m) | InvalidArgument(m) | MalformedChunk(m)
            | IncompleteBody(m) => m.clone(),
            MissingDate => "AWS authentication requires a valid Date or x-amz-date header".into(),
            ContentSha256Mismatch => "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        }
    }

    /// Message tuned to the family where AWS words it differently.
    pub fn message_for(&self, fam: Family) -> String {
        match (self, fam) {
            (AuthError::SignatureMismatch | AuthError::ChunkSignatureMismatch, Family::Json) => {
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into()
            }
            (AuthError::UnknownAccessKey, Family::Json | Family::Query) => {
                "The security token included in the request is invalid.".into()
            }
            _ => self.message(),
        }
    }

    /// HTTP status as S3 answers it (see [`AuthError::status_for`] for others).
    pub fn status(&self) -> StatusCode {
        self.status_for(Family::S3)
    }

    /// HTTP status for this error in a protocol family.
    pub fn status_for(&self, fam: Family) -> StatusCode {
        use AuthError::*;
        match (self, fam) {
            (MalformedHeader(_) | MalformedQuery(_) | InvalidArgument(_), _)
            | (MalformedChunk(_) | IncompleteBody(_) | ContentSha256Mismatch, _) => StatusCode::BAD_REQUEST,
            (MissingDate, Family::Json | Family::Query) => StatusCode::BAD_REQUEST,
            // awsJson services answer every auth failure with 400.
            (_, Family::Json) => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(family("s3"), Family::S3);
        assert_eq!(family("sts"), Family::Query);
        assert_eq!(family("monitoring"), Family::Query);
        assert_eq!(family("dynamodb"), Family::Json);
    }

    #[test]
    fn codes_and_statuses() {
        let e = AuthError::UnknownAccessKey;
        assert_eq!(e.code("s3"), "InvalidAccessKeyId");
        assert_eq!(e.code("dynamodb"), "UnrecognizedClientException");
        assert_eq!(e.code("sts"), "InvalidClientTokenId");
        assert_eq!(e.status_for(Family::Json), StatusCode::BAD_REQUEST);
        assert_eq!(e.status_for(Family::Query), StatusCode::FORBIDDEN);
        let e = AuthError::SignatureMismatch;
        assert_eq!(e.code("lambda"), "InvalidSignatureException");
        assert!(e.message_for(Family::Json).contains("Secret Access Key"));
        assert_eq!(AuthError::MalformedHeader("x".into()).status(), StatusCode::BAD_REQUEST);
        assert_eq!(AuthError::MalformedHeader("x".into()).code("sqs"), "IncompleteSignature");
        assert_eq!(AuthError::PresignedExpired.code("s3"), "AccessDenied");
        assert_eq!(AuthError::PresignedExpired.status(), StatusCode::FORBIDDEN);
    }
}
