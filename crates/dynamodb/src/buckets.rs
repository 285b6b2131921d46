//! What exports and imports need from S3: the shared [`Buckets`] (the binary provides S3's), and
//! how S3's errors read in an export's or import's failure.

use ruststack_core::AwsError;
pub use ruststack_core::buckets::{Buckets, NoBuckets};

/// An export's or import's `FailureCode` and `FailureMessage` for an S3 error, in the form AWS
/// reports them (`S3NoSuchBucket`, the S3 message with its service, status and code).
pub fn failure(e: &AwsError) -> (String, String) {
    let message =
        format!("{} (Service: Amazon S3; Status Code: {}; Error Code: {})", e.message, e.status.as_u16(), e.code);
    (format!("S3{}", e.code), message)
}
