//! Amazon S3 for RustStack: buckets, objects streamed through the core's object store, listings
//! over a sorted key map, multipart uploads, versioning, and event notifications delivered
//! through a [`notifications::NotificationTarget`] the binary provides.

mod acl;
mod buckets;
mod checksums;
mod common;
mod config;
mod cors;
mod errors;
mod form;
pub mod generated;
pub mod handle;
mod listing;
mod lock;
mod multipart;
pub mod notifications;
mod objects;
mod persist;
mod policy;
mod post;
mod select;
mod state;

use generated::ops;
use ruststack_core::service::Raw;
use ruststack_core::store::Storage;
use ruststack_core::{Handlers, Service};
use std::sync::Arc;

pub use state::S3;

/// The S3 service with its handler table, keeping its state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with_state(Arc::new(S3::new(storage)))
}

/// The S3 service over a state the caller keeps (to set its notification target).
pub fn service_with_state(s3: Arc<S3>) -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, s3)
        .on(ops::CreateBucket, buckets::create_bucket)
        .on(ops::HeadBucket, buckets::head_bucket)
        .on(ops::DeleteBucket, buckets::delete_bucket)
        .on(ops::ListBuckets, buckets::list_buckets)
        .on(ops::GetBucketLocation, buckets::get_bucket_location)
        .on(ops::PutBucketVersioning, buckets::put_bucket_versioning)
        .on(ops::GetBucketVersioning, buckets::get_bucket_versioning)
        .on(ops::PutObject, objects::put_object)
        .on(ops::GetObject, objects::get_object)
        .on(ops::HeadObject, objects::head_object)
        .on(ops::DeleteObject, objects::delete_object)
        .on(ops::DeleteObjects, objects::delete_objects)
        .on(ops::CopyObject, objects::copy_object)
        .on(ops::GetObjectTagging, objects::get_object_tagging)
        .on(ops::PutObjectTagging, objects::put_object_tagging)
        .on(ops::DeleteObjectTagging, objects::delete_object_tagging)
        .on(ops::GetObjectAttributes, objects::get_object_attributes)
        .on(ops::ListObjectsV2, listing::list_objects_v2)
        .on(ops::ListObjects, listing::list_objects)
        .on(ops::ListObjectVersions, listing::list_object_versions)
        .on(ops::CreateMultipartUpload, multipart::create_multipart_upload)
        .on(ops::UploadPart, multipart::upload_part)
        .on(ops::UploadPartCopy, multipart::upload_part_copy)
        .on(ops::CompleteMultipartUpload, multipart::complete_multipart_upload)
        .on(ops::AbortMultipartUpload, multipart::abort_multipart_upload)
        .on(ops::ListParts, multipart::list_parts)
        .on(ops::ListMultipartUploads, multipart::list_multipart_uploads)
        .on(ops::PutBucketTagging, config::put_bucket_tagging)
        .on(ops::GetBucketTagging, config::get_bucket_tagging)
        .on(ops::DeleteBucketTagging, config::delete_bucket_tagging)
        .on(ops::PutBucketCors, cors::put_bucket_cors)
        .on(ops::GetBucketCors, cors::get_bucket_cors)
        .on(ops::DeleteBucketCors, cors::delete_bucket_cors)
        .on(ops::PutBucketPolicy, policy::put_bucket_policy)
        .on(ops::GetBucketPolicy, policy::get_bucket_policy)
        .on(ops::DeleteBucketPolicy, policy::delete_bucket_policy)
        .on(ops::GetBucketPolicyStatus, policy::get_bucket_policy_status)
        .on(ops::PutBucketAcl, acl::put_bucket_acl)
        .on(ops::GetBucketAcl, acl::get_bucket_acl)
        .on(ops::PutObjectAcl, acl::put_object_acl)
        .on(ops::GetObjectAcl, acl::get_object_acl)
        .on(ops::PutBucketLifecycleConfiguration, config::put_bucket_lifecycle_configuration)
        .on(ops::GetBucketLifecycleConfiguration, config::get_bucket_lifecycle_configuration)
        .on(ops::DeleteBucketLifecycle, config::delete_bucket_lifecycle)
        .on(ops::PutBucketEncryption, config::put_bucket_encryption)
        .on(ops::GetBucketEncryption, config::get_bucket_encryption)
        .on(ops::DeleteBucketEncryption, config::delete_bucket_encryption)
        .on(ops::PutBucketWebsite, config::put_bucket_website)
        .on(ops::GetBucketWebsite, config::get_bucket_website)
        .on(ops::DeleteBucketWebsite, config::delete_bucket_website)
        .on(ops::PutBucketNotificationConfiguration, config::put_bucket_notification_configuration)
        .on(ops::GetBucketNotificationConfiguration, config::get_bucket_notification_configuration)
        .on(ops::PutObjectLockConfiguration, config::put_object_lock_configuration)
        .on(ops::GetObjectLockConfiguration, config::get_object_lock_configuration)
        .on(ops::PutObjectRetention, lock::put_object_retention)
        .on(ops::GetObjectRetention, lock::get_object_retention)
        .on(ops::PutObjectLegalHold, lock::put_object_legal_hold)
        .on(ops::GetObjectLegalHold, lock::get_object_legal_hold)
        .on(ops::SelectObjectContent, select::select_object_content)
        .on(ops::PutBucketOwnershipControls, config::put_bucket_ownership_controls)
        .on(ops::GetBucketOwnershipControls, config::get_bucket_ownership_controls)
        .on(ops::DeleteBucketOwnershipControls, config::delete_bucket_ownership_controls)
        .on(ops::PutPublicAccessBlock, config::put_public_access_block)
        .on(ops::GetPublicAccessBlock, config::get_public_access_block)
        .on(ops::DeletePublicAccessBlock, config::delete_public_access_block)
        .on(ops::PutBucketAccelerateConfiguration, config::put_bucket_accelerate_configuration)
        .on(ops::GetBucketAccelerateConfiguration, config::get_bucket_accelerate_configuration)
        .on(ops::PutBucketRequestPayment, config::put_bucket_request_payment)
        .on(ops::GetBucketRequestPayment, config::get_bucket_request_payment)
        .on(ops::PutBucketLogging, config::put_bucket_logging)
        .on(ops::GetBucketLogging, config::get_bucket_logging)
        .raw(|s3, parts, body| {
            // Only preflights on buckets with CORS rules are ours; everything else goes on cheaply.
            if parts.method == http::Method::OPTIONS
                && let Some(response) = cors::preflight(s3, parts)
            {
                return Raw::Answer(Box::pin(std::future::ready(response)));
            }
            if parts.method == http::Method::POST {
                if let Some(err) = objects::delete_objects_missing_digest(parts) {
                    return Raw::Answer(Box::pin(std::future::ready(cors::render(err))));
                }
                return post::offer(s3, parts, body);
            }
            Raw::NotMine(body)
        })
        .into_service()
}
