//! S3 buckets as other services use them (DynamoDB export and import, CloudWatch Logs export
//! tasks). Services depend on no other service: S3 implements this over its own handlers
//! (`ruststack_s3::handle::S3Handle`) and the binary hands it to the services that need it.

use crate::AwsError;
use crate::service::BoxFuture;
use bytes::Bytes;

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
