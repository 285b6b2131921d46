//! DynamoDB's error codes and the message texts shared by several operations.

use ruststack_core::AwsError;

pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

/// `ResourceNotFoundException` as item operations send it.
pub fn table_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "Requested resource not found")
}

/// `ResourceNotFoundException` as table operations (DescribeTable, DeleteTable, …) send it.
pub fn table_not_found_named(name: &str) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", format!("Requested resource not found: Table: {name} not found"))
}

pub fn resource_in_use(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceInUseException", message)
}

pub fn conditional_check_failed() -> AwsError {
    AwsError::bad_request("ConditionalCheckFailedException", "The conditional request failed")
}
