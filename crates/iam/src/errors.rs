//! IAM's error codes with AWS's statuses and texts (awsQuery `<ErrorResponse>`, rendered by core).

use http::StatusCode;
use ruststack_core::AwsError;

pub fn no_such_entity(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::NOT_FOUND, "NoSuchEntity", message)
}

pub fn already_exists(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::CONFLICT, "EntityAlreadyExists", message)
}

pub fn delete_conflict(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::CONFLICT, "DeleteConflict", message)
}

pub fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::CONFLICT, "LimitExceeded", message)
}

pub fn malformed_policy(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("MalformedPolicyDocument", message)
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidInput", message)
}

pub fn unmodifiable(role: &str) -> AwsError {
    AwsError::bad_request(
        "UnmodifiableEntity",
        format!("Cannot perform the operation on the protected role '{role}' - this role is only modifiable by AWS"),
    )
}

pub fn tag_limit() -> AwsError {
    limit_exceeded("The number of tags has reached the maximum limit.")
}
