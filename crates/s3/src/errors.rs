//! S3's error answers, with AWS's exact codes, messages and extra elements.

use http::StatusCode;
use ruststack_core::AwsError;

pub fn no_such_bucket(bucket: &str) -> AwsError {
    AwsError::not_found("NoSuchBucket", "The specified bucket does not exist")
        .with_field("BucketName", bucket.to_owned())
}

pub fn no_such_key(key: &str) -> AwsError {
    AwsError::not_found("NoSuchKey", "The specified key does not exist.").with_field("Key", key.to_owned())
}

pub fn no_such_version(key: &str, version_id: &str) -> AwsError {
    AwsError::not_found("NoSuchVersion", "The specified version does not exist.")
        .with_field("Key", key.to_owned())
        .with_field("VersionId", version_id.to_owned())
}

pub fn no_such_upload(upload_id: &str) -> AwsError {
    AwsError::not_found(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    .with_field("UploadId", upload_id.to_owned())
}

pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> AwsError {
    AwsError::bad_request("InvalidArgument", message)
        .with_field("ArgumentName", name.to_owned())
        .with_field("ArgumentValue", value.to_owned())
}

pub fn invalid_request(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidRequest", message)
}

pub fn malformed_xml() -> AwsError {
    AwsError::bad_request(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

pub fn precondition_failed(condition: &str) -> AwsError {
    AwsError::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .with_field("Condition", condition.to_owned())
}

/// 304: no body, only the validators.
pub fn not_modified(etag: &str, last_modified: &str) -> AwsError {
    AwsError::new(StatusCode::NOT_MODIFIED, "NotModified", "Not Modified")
        .with_header("etag", etag.to_owned())
        .with_header("last-modified", last_modified.to_owned())
}

pub fn method_not_allowed() -> AwsError {
    AwsError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

pub fn internal(e: impl std::fmt::Display) -> AwsError {
    AwsError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        format!("We encountered an internal error. Please try again. ({e})"),
    )
}

/// A request body that failed mid-read: our own errors keep their code.
pub fn body_error(e: Box<dyn std::error::Error + Send + Sync>) -> AwsError {
    let e = match e.downcast::<AwsError>() {
        Ok(aws) => return *aws,
        Err(e) => e,
    };
    match e.downcast::<ruststack_auth::AuthError>() {
        Ok(auth) => {
            let fam = ruststack_auth::Family::S3;
            AwsError::new(auth.status_for(fam), auth.code_for(fam), auth.message_for(fam))
        }
        Err(e) => AwsError::bad_request("IncompleteBody", format!("The request body terminated unexpectedly ({e})")),
    }
}
