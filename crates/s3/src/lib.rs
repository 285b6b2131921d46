//! Amazon S3 for RustStack: buckets, objects streamed through the core's object store, listings
//! over a sorted key map, multipart uploads and versioning.

mod buckets;
mod checksums;
mod common;
mod errors;
pub mod generated;
mod listing;
mod multipart;
mod objects;
mod state;

use generated::ops;
use ruststack_core::{Handlers, Service};
use std::sync::Arc;

pub use state::S3;

/// The S3 service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(S3::default()))
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
        .into_service()
}
