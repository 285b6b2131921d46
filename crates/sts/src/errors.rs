//! STS's error codes and AWS's texts for them.

use http::StatusCode;
use ruststack_core::AwsError;

pub fn access_denied(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", message)
}

pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationError", message)
}

pub fn invalid_identity_token(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidIdentityToken", message)
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("MalformedPolicyDocument", message)
}
