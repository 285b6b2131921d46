//! What exports and imports need from S3. This crate depends on no other service: the binary
//! provides a [`Buckets`] over S3's state, acting in the account and region given.

use bytes::Bytes;
use ruststack_core::AwsError;
use ruststack_core::service::BoxFuture;

pub trait Buckets: Send + Sync {
    /// Whether the bucket exists.
    fn exists(&self, bucket: &str) -> bool;
    /// Writes one object; S3's own error (`NoSuchBucket`…) when it fails.
    fn put(&self, account: &str, region: &str, bucket: &str, key: &str, body: Bytes)
    -> BoxFuture<Result<(), AwsError>>;
    /// The keys under `prefix` with their sizes, in key order.
    fn list(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        prefix: &str,
    ) -> BoxFuture<Result<Vec<(String, u64)>, AwsError>>;
    /// The body of one object.
    fn get(&self, account: &str, region: &str, bucket: &str, key: &str) -> BoxFuture<Result<Bytes, AwsError>>;
}

/// Without S3 (unit tests of this crate alone) every bucket is missing.
pub struct NoBuckets;

impl Buckets for NoBuckets {
    fn exists(&self, _: &str) -> bool {
        false
    }
    fn put(&self, _: &str, _: &str, bucket: &str, _: &str, _: Bytes) -> BoxFuture<Result<(), AwsError>> {
        Box::pin(std::future::ready(Err(no_such_bucket(bucket))))
    }
    fn list(&self, _: &str, _: &str, bucket: &str, _: &str) -> BoxFuture<Result<Vec<(String, u64)>, AwsError>> {
        Box::pin(std::future::ready(Err(no_such_bucket(bucket))))
    }
    fn get(&self, _: &str, _: &str, bucket: &str, _: &str) -> BoxFuture<Result<Bytes, AwsError>> {
        Box::pin(std::future::ready(Err(no_such_bucket(bucket))))
    }
}

fn no_such_bucket(bucket: &str) -> AwsError {
    AwsError::not_found("NoSuchBucket", "The specified bucket does not exist")
        .with_field("BucketName", bucket.to_owned())
}

/// An export's or import's `FailureCode` and `FailureMessage` for an S3 error, in the form AWS
/// reports them (`S3NoSuchBucket`, the S3 message with its service, status and code).
pub fn failure(e: &AwsError) -> (String, String) {
    let message =
        format!("{} (Service: Amazon S3; Status Code: {}; Error Code: {})", e.message, e.status.as_u16(), e.code);
    (format!("S3{}", e.code), message)
}
