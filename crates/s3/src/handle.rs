//! S3 as other services use it: DynamoDB exports and imports, CloudWatch Logs export tasks. Every
//! call goes through the same handlers as an API request (metadata, object store, persistence,
//! event notifications), acting in the given account and region as that service would.

use crate::generated::types::{GetObjectRequest, ListObjectsV2Request, PutObjectRequest};
use crate::state::S3;
use bytes::Bytes;
use ruststack_core::buckets::Buckets;
use ruststack_core::service::BoxFuture;
use ruststack_core::{AwsError, RequestContext, StreamingBody};
use std::sync::Arc;

/// A handle on the S3 state, cheap to clone.
#[derive(Clone)]
pub struct S3Handle(Arc<S3>);

impl S3Handle {
    pub fn new(s3: Arc<S3>) -> Self {
        S3Handle(s3)
    }

    /// Whether `bucket` exists (bucket names are global, as in AWS).
    pub fn bucket_exists(&self, bucket: &str) -> bool {
        self.0.bucket(bucket).is_ok()
    }

    /// Writes one object; S3's errors (`NoSuchBucket`…) come back as they would to a client.
    pub async fn put_object(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: Option<&str>,
    ) -> Result<(), AwsError> {
        let input = PutObjectRequest {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_length: Some(body.len() as i64),
            content_type: content_type.map(str::to_owned),
            body: StreamingBody::from_bytes(body),
            ..Default::default()
        };
        crate::objects::put_object(self.0.clone(), context(account, region, "PutObject"), input).await.map(drop)
    }

    /// The keys under `prefix` and their sizes, in key order (all pages).
    pub async fn list(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<(String, u64)>, AwsError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let input = ListObjectsV2Request {
                bucket: bucket.to_owned(),
                prefix: Some(prefix.to_owned()).filter(|p| !p.is_empty()),
                continuation_token: token.take(),
                ..Default::default()
            };
            let ctx = context(account, region, "ListObjectsV2");
            let out = crate::listing::list_objects_v2(self.0.clone(), ctx, input).await?;
            for object in out.contents.unwrap_or_default() {
                keys.push((object.key.unwrap_or_default(), object.size.unwrap_or_default().max(0) as u64));
            }
            match out.next_continuation_token {
                Some(next) if out.is_truncated == Some(true) => token = Some(next),
                _ => return Ok(keys),
            }
        }
    }

    /// The body of an object, failing with `EntityTooLarge` past `limit` bytes.
    pub async fn get_object(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        key: &str,
        limit: usize,
    ) -> Result<Bytes, AwsError> {
        let input = GetObjectRequest { bucket: bucket.to_owned(), key: key.to_owned(), ..Default::default() };
        let out = crate::objects::get_object(self.0.clone(), context(account, region, "GetObject"), input).await?;
        out.body.collect(limit).await
    }
}

/// The largest object another service reads through [`Buckets::get`] (an import file).
const MAX_READ: usize = 1 << 30;

impl Buckets for S3Handle {
    fn exists(&self, bucket: &str) -> bool {
        self.bucket_exists(bucket)
    }

    fn put(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        key: &str,
        body: Bytes,
    ) -> BoxFuture<Result<(), AwsError>> {
        let (s3, [account, region, bucket, key]) = (self.clone(), [account, region, bucket, key].map(str::to_owned));
        Box::pin(async move { s3.put_object(&account, &region, &bucket, &key, body, None).await })
    }

    fn list(
        &self,
        account: &str,
        region: &str,
        bucket: &str,
        prefix: &str,
    ) -> BoxFuture<Result<Vec<(String, u64)>, AwsError>> {
        let (s3, [account, region, bucket, prefix]) =
            (self.clone(), [account, region, bucket, prefix].map(str::to_owned));
        Box::pin(async move { s3.list(&account, &region, &bucket, &prefix).await })
    }

    fn get(&self, account: &str, region: &str, bucket: &str, key: &str) -> BoxFuture<Result<Bytes, AwsError>> {
        let (s3, [account, region, bucket, key]) = (self.clone(), [account, region, bucket, key].map(str::to_owned));
        Box::pin(async move { s3.get_object(&account, &region, &bucket, &key, MAX_READ).await })
    }
}

/// A request of the account's own, without an IAM identity.
fn context(account: &str, region: &str, operation: &'static str) -> RequestContext {
    let mut ctx = RequestContext::for_tests(operation);
    ctx.account_id = Arc::from(account);
    ctx.region = Arc::from(region);
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_lists_and_reads_through_the_handlers() {
        let s3 = Arc::new(S3::default());
        let handle = S3Handle::new(s3.clone());
        assert!(!handle.bucket_exists("bkt"));
        let err = handle.put_object("000000000000", "us-east-1", "bkt", "k", Bytes::from_static(b"x"), None).await;
        assert_eq!(err.unwrap_err().code, "NoSuchBucket");
        let create = crate::generated::types::CreateBucketRequest { bucket: "bkt".into(), ..Default::default() };
        crate::buckets::create_bucket(s3.clone(), RequestContext::for_tests("CreateBucket"), create).await.unwrap();
        assert!(handle.bucket_exists("bkt"));
        for key in ["p/2", "p/1", "q"] {
            let body = Bytes::from(key.as_bytes().to_vec());
            handle.put_object("000000000000", "us-east-1", "bkt", key, body, None).await.unwrap();
        }
        let listed = handle.list("000000000000", "us-east-1", "bkt", "p/").await.unwrap();
        assert_eq!(listed, vec![("p/1".to_owned(), 3), ("p/2".to_owned(), 3)]);
        let body = handle.get_object("000000000000", "us-east-1", "bkt", "p/2", 1024).await.unwrap();
        assert_eq!(&body[..], b"p/2");
        let missing = handle.get_object("000000000000", "us-east-1", "bkt", "nope", 1024).await.unwrap_err();
        assert_eq!(missing.code, "NoSuchKey");
    }
}
