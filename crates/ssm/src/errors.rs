//! SSM's error codes and AWS's texts for them (all 400, awsJson `__type`).

use ruststack_core::AwsError;

pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

/// GetParameter and friends answer a missing parameter with an empty message, as AWS does.
pub fn parameter_not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ParameterNotFound", message)
}

pub fn version_not_found(name: &str, version: &str) -> AwsError {
    AwsError::bad_request(
        "ParameterVersionNotFound",
        format!("Systems Manager could not find version {version} of {name}. Verify the version and try again."),
    )
}

pub fn already_exists() -> AwsError {
    AwsError::bad_request(
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
    )
}

pub fn invalid_resource_id() -> AwsError {
    AwsError::bad_request(
        "InvalidResourceId",
        "The resource ID is not valid. Verify that you entered the correct ID and try again.",
    )
}

pub fn invalid_next_token() -> AwsError {
    AwsError::bad_request("InvalidNextToken", "The specified token isn't valid.")
}

pub fn invalid_filter_key(key: &str, valid: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidFilterKey",
        format!("The following filter key is not valid: {key}. Valid filter keys include: [{valid}]."),
    )
}

pub fn invalid_filter_option(option: &str, valid: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidFilterOption",
        format!("The following filter option is not valid: {option}. Valid options include: [{valid}]."),
    )
}
