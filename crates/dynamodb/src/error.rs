//! DynamoDB's error codes and the message texts shared by several operations.

use ruststack_core::AwsError;

pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

/// The prefix of AWS's request-validation envelope.
const ENVELOPE: &str = "1 validation error detected: ";

/// A ValidationException in AWS's request-validation envelope: PutItem, UpdateItem and
/// DeleteItem report their expression and attribute-map checks this way, where reads and
/// transactions report the same checks bare.
pub fn envelope(mut e: AwsError) -> AwsError {
    if e.code == "ValidationException" && !e.message.starts_with(ENVELOPE) {
        e.message.insert_str(0, ENVELOPE);
    }
    e
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
