//! SQS errors. SQS moved from awsQuery to awsJson keeping its old error codes: a JSON error names
//! the error shape in `__type` and the query code in `x-amzn-query-error`, and the awsQuery codec
//! renders the query code (see `ruststack_core::protocol::QUERY_ERROR_HEADER`).

use http::StatusCode;
use ruststack_core::AwsError;
use ruststack_core::protocol::QUERY_ERROR_HEADER;

/// An error whose JSON shape name and query code differ (or not).
pub fn sqs_error(status: StatusCode, shape: &'static str, query_code: &str, message: impl Into<String>) -> AwsError {
    let err = AwsError::new(status, shape, message);
    let fault = if err.sender_fault { "Sender" } else { "Receiver" };
    err.with_header(QUERY_ERROR_HEADER, format!("{query_code};{fault}"))
}

fn bad(shape: &'static str, query_code: &str, message: impl Into<String>) -> AwsError {
    sqs_error(StatusCode::BAD_REQUEST, shape, query_code, message)
}

pub fn queue_does_not_exist() -> AwsError {
    bad("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

pub fn queue_name_exists(name: &str) -> AwsError {
    bad(
        "QueueNameExists",
        "QueueAlreadyExists",
        format!("A queue already exists with the same name and a different value for attribute(s) {name}"),
    )
}

pub fn invalid_parameter_value(message: impl Into<String>) -> AwsError {
    bad("InvalidParameterValue", "InvalidParameterValue", message)
}

pub fn missing_parameter(name: &str) -> AwsError {
    bad("MissingParameter", "MissingParameter", format!("The request must contain the parameter {name}."))
}

pub fn invalid_attribute_name(name: &str) -> AwsError {
    bad("InvalidAttributeName", "InvalidAttributeName", format!("Unknown Attribute {name}."))
}

pub fn invalid_attribute_value(name: &str) -> AwsError {
    bad("InvalidAttributeValue", "InvalidAttributeValue", format!("Invalid value for the parameter {name}."))
}

pub fn invalid_attribute_value_reason(message: impl Into<String>) -> AwsError {
    bad("InvalidAttributeValue", "InvalidAttributeValue", message)
}

pub fn receipt_handle_invalid(handle: &str) -> AwsError {
    bad(
        "ReceiptHandleIsInvalid",
        "ReceiptHandleIsInvalid",
        format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
    )
}

pub fn message_not_inflight() -> AwsError {
    bad(
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "Message does not exist or is not available for visibility timeout change.",
    )
}

pub fn purge_in_progress(name: &str) -> AwsError {
    sqs_error(
        StatusCode::FORBIDDEN,
        "PurgeQueueInProgress",
        "AWS.SimpleQueueService.PurgeQueueInProgress",
        format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
    )
}

pub fn invalid_message_contents() -> AwsError {
    bad(
        "InvalidMessageContents",
        "InvalidMessageContents",
        "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
    )
}

pub fn empty_batch(entry: &str) -> AwsError {
    bad(
        "EmptyBatchRequest",
        "AWS.SimpleQueueService.EmptyBatchRequest",
        format!("There should be at least one {entry} in the request."),
    )
}

pub fn too_many_entries(n: usize) -> AwsError {
    bad(
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        format!("Maximum number of entries per request are 10. You have sent {n}."),
    )
}

pub fn ids_not_distinct(id: &str) -> AwsError {
    bad("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", format!("Id {id} repeated."))
}

pub fn invalid_batch_id() -> AwsError {
    bad(
        "InvalidBatchEntryId",
        "AWS.SimpleQueueService.InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
    )
}

pub fn batch_too_long(size: usize, limit: usize) -> AwsError {
    bad(
        "BatchRequestTooLong",
        "AWS.SimpleQueueService.BatchRequestTooLong",
        format!("Batch requests cannot be longer than {limit} bytes. You have sent {size} bytes."),
    )
}

pub fn resource_not_found(message: impl Into<String>) -> AwsError {
    sqs_error(StatusCode::NOT_FOUND, "ResourceNotFoundException", "ResourceNotFoundException", message)
}

pub fn unsupported(message: impl Into<String>) -> AwsError {
    bad("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", message)
}

pub fn over_limit(message: impl Into<String>) -> AwsError {
    sqs_error(StatusCode::FORBIDDEN, "OverLimit", "OverLimit", message)
}
