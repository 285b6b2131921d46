//! Amazon S3 for RustStack.

pub mod generated;

use generated::{ops, types::*};
use parking_lot::RwLock;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bucket names are global across regions, as in AWS; each bucket records its owner account.
#[derive(Default)]
pub struct S3 {
    buckets: RwLock<BTreeMap<String, BucketState>>,
}

/// A bucket (objects come with the S3 issue).
pub struct BucketState {
    pub account_id: String,
    pub region: String,
    pub created: ruststack_core::Timestamp,
}

impl ServiceState for S3 {
    fn reset(&self) {
        self.buckets.write().clear();
    }
}

/// The S3 service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(S3::default())).on(ops::ListBuckets, list_buckets).into_service()
}

/// The canonical owner of an account's buckets.
fn owner(account_id: &str) -> Owner {
    Owner { display_name: Some("webfile".into()), id: Some(format!("{account_id:0>64}")) }
}

async fn list_buckets(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: ListBucketsRequest,
) -> Result<ListBucketsOutput, AwsError> {
    let buckets = s3.buckets.read();
    let prefix = input.prefix.clone().unwrap_or_default();
    let list: Vec<Bucket> = buckets
        .iter()
        .filter(|(name, b)| *b.account_id == *ctx.account_id && name.starts_with(&prefix))
        .map(|(name, b)| Bucket {
            name: Some(name.clone()),
            creation_date: Some(b.created),
            bucket_region: Some(b.region.clone()),
            ..Default::default()
        })
        .collect();
    Ok(ListBucketsOutput {
        buckets: Some(list),
        owner: Some(owner(&ctx.account_id)),
        prefix: input.prefix,
        ..Default::default()
    })
}
