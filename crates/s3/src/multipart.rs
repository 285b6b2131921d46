//! Multipart uploads: create, upload parts (streamed, or copied from an object range), complete
//! with AWS's part checks and ETag, abort, and the two listings.

use crate::buckets::owner;
use crate::checksums::{self, Algorithm};
use crate::common::{self, ChecksumRequest};
use crate::errors;
use crate::generated::types::*;
use crate::objects::{
    check_copy_conditions, check_key, check_storage_class, commit_version, copy_source, effective_sse, set_checksum,
    write_condition,
};
use crate::state::{
    Blob, Bucket, ContentHeaders, ObjectMeta, ObjectVersion, Part as StoredPart, PartInfo, S3, StoredChecksum, Upload,
    new_upload_id, now,
};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Smallest part other than the last (5 MiB).
const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part (5 GiB).
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

fn upload(bucket: &Bucket, key: &str, upload_id: &str) -> Result<Arc<Upload>, AwsError> {
    bucket
        .uploads
        .lock()
        .get(upload_id)
        .filter(|u| u.key == key)
        .cloned()
        .ok_or_else(|| errors::no_such_upload(upload_id))
}

fn check_part_number(n: i32) -> Result<(), AwsError> {
    if (1..=10_000).contains(&n) {
        Ok(())
    } else {
        Err(errors::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            &n.to_string(),
        ))
    }
}

pub async fn create_multipart_upload(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: CreateMultipartUploadRequest,
) -> Result<CreateMultipartUploadOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    check_key(&input.key)?;
    check_storage_class(input.storage_class.as_deref())?;
    let acl = crate::acl::on_create(
        &bucket,
        &crate::acl::AclRequest::headers(
            input.acl.as_ref(),
            input.grant_full_control.as_ref(),
            input.grant_read.as_ref(),
            input.grant_read_acp.as_ref(),
            None,
            input.grant_write_acp.as_ref(),
        ),
        &ctx.account_id,
    )?;
    let (sse, sse_kms_key_id) = effective_sse(&bucket, input.server_side_encryption, input.sse_kms_key_id);
    let algorithm = match input.checksum_algorithm.as_deref() {
        None => None,
        Some(a) => Some(Algorithm::from_name(a).ok_or_else(|| {
            errors::invalid_request("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
        })?),
    };
    let checksum_type = match (algorithm, input.checksum_type.as_deref()) {
        (_, Some(t)) if t != "COMPOSITE" && t != "FULL_OBJECT" => {
            return Err(errors::invalid_request(format!("Value for x-amz-checksum-type header is invalid: {t}")));
        }
        (None, Some(_)) => {
            return Err(errors::invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            ));
        }
        (Some(a), Some("FULL_OBJECT")) if !a.is_crc() => {
            return Err(errors::invalid_request(format!(
                "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                a.name().to_lowercase()
            )));
        }
        (Some(Algorithm::Crc64Nvme), None) => Some("FULL_OBJECT".to_owned()),
        (Some(_), None) => Some("COMPOSITE".to_owned()),
        (_, t) => t.map(str::to_owned),
    };
    let tags = input.tagging.as_deref().map(common::parse_tagging_header).transpose()?.unwrap_or_default();
    let lock = crate::lock::for_new_version(
        &bucket,
        crate::lock::LockRequest {
            mode: input.object_lock_mode.as_deref(),
            until: input.object_lock_retain_until_date,
            legal_hold: input.object_lock_legal_hold_status.as_deref(),
        },
        None,
    )?;
    let meta = ObjectMeta {
        headers: ContentHeaders {
            content_type: input.content_type,
            content_encoding: input.content_encoding,
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
        },
        metadata: input.metadata.unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect(),
        storage_class: input.storage_class.filter(|s| s != "STANDARD"),
        website_redirect: input.website_redirect_location,
        sse,
        sse_kms_key_id,
        tags,
        acl,
        lock,
    };
    let id = new_upload_id();
    let up = Upload {
        id: id.clone(),
        key: input.key.clone(),
        initiated: now(),
        meta,
        checksum_algorithm: algorithm,
        checksum_type: checksum_type.clone(),
        parts: Default::default(),
    };
    let sse = up.meta.sse.clone().unwrap_or_else(|| "AES256".into());
    {
        let _serial = s3.lock_key(&bucket.name, &input.key).await;
        if bucket.deleted.load(std::sync::atomic::Ordering::Acquire) {
            return Err(errors::no_such_bucket(&bucket.name));
        }
        s3.apply(vec![S3::upload_write(&bucket.name, &up)])?;
        bucket.uploads.lock().insert(id.clone(), Arc::new(up));
    }
    Ok(CreateMultipartUploadOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(id),
        server_side_encryption: Some(sse),
        checksum_algorithm: algorithm.map(|a| a.name().to_owned()),
        checksum_type,
        ..Default::default()
    })
}

/// What UploadPart checks before reading the body.
fn upload_part_checks(
    s3: &S3,
    input: &UploadPartRequest,
) -> Result<(Arc<Bucket>, Arc<Upload>, ChecksumRequest), AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    check_part_number(input.part_number)?;
    if let Some(md5) = &input.content_md5 {
        checksums::parse_content_md5(md5)?;
    }
    let up = upload(&bucket, &input.key, &input.upload_id)?;
    let mut checksum = ChecksumRequest::new(
        [
            input.checksum_crc32.as_ref(),
            input.checksum_crc32_c.as_ref(),
            input.checksum_crc64_nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        ],
        input.checksum_algorithm.as_deref(),
    )?;
    if let Some(a) = up.checksum_algorithm {
        if checksum.explicit.as_ref().is_some_and(|(b, _)| *b != a) || checksum.algorithm.is_some_and(|b| b != a) {
            return Err(errors::invalid_request(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                a.name().to_lowercase(),
                checksum.to_compute().name().to_lowercase()
            )));
        }
        checksum.algorithm = Some(a);
    }
    Ok((bucket, up, checksum))
}

pub async fn upload_part(
    s3: Arc<S3>,
    _ctx: RequestContext,
    mut input: UploadPartRequest,
) -> Result<UploadPartOutput, AwsError> {
    let body = std::mem::take(&mut input.body);
    let (bucket, up, checksum) = match upload_part_checks(&s3, &input) {
        Ok(ok) => ok,
        Err(e) => {
            common::drain(body).await;
            return Err(e);
        }
    };
    let written = common::write_body(&s3, body, input.content_md5.as_deref(), &checksum, MAX_PART_SIZE).await?;
    let etag = checksums::etag(&written.md5);
    let part_checksum = up.checksum_algorithm.map(|a| (a, written.checksum.1.clone()));
    let part = StoredPart {
        number: input.part_number,
        etag: etag.clone(),
        md5: written.md5,
        blob: written.blob,
        last_modified: now(),
        checksum: part_checksum.clone(),
    };
    record_part(&s3, &bucket, &input.key, &input.upload_id, part).await?;
    let mut out = UploadPartOutput {
        e_tag: Some(etag),
        server_side_encryption: Some(up.meta.sse.clone().unwrap_or_else(|| "AES256".into())),
        ..Default::default()
    };
    let shown = part_checksum.or_else(|| written.checksum_from_client.then(|| written.checksum.clone()));
    if let Some((a, v)) = shown {
        set_checksum(
            a,
            v,
            &mut out.checksum_crc32,
            &mut out.checksum_crc32_c,
            &mut out.checksum_crc64_nvme,
            &mut out.checksum_sha1,
            &mut out.checksum_sha256,
        );
    }
    Ok(out)
}

/// Records a part whose blob is stored, replacing (and then deleting) a part of the same number.
/// An upload completed or aborted meanwhile no longer takes parts: the blob is deleted.
async fn record_part(s3: &S3, bucket: &Bucket, key: &str, upload_id: &str, part: StoredPart) -> Result<(), AwsError> {
    let blob = part.blob;
    let recorded = {
        let _serial = s3.lock_key(&bucket.name, key).await;
        (|| {
            let up = upload(bucket, key, upload_id)?;
            let replaced: Vec<Blob> = up.parts.lock().get(&part.number).map(|p| p.blob).into_iter().collect();
            let mut writes = vec![S3::part_write(&bucket.name, upload_id, &part)];
            writes.extend(s3.inline_writes([blob], &replaced));
            s3.apply(writes)?;
            s3.inline_recorded([blob]);
            up.parts.lock().insert(part.number, Arc::new(part));
            Ok::<_, AwsError>(replaced)
        })()
    };
    match recorded {
        Ok(replaced) => {
            s3.free(replaced);
            Ok(())
        }
        Err(e) => {
            s3.free([blob]);
            Err(e)
        }
    }
}

/// `bytes=a-b` of `x-amz-copy-source-range` (both ends required, within the source).
fn parse_copy_range(range: &str, size: u64) -> Result<std::ops::Range<u64>, AwsError> {
    let invalid = || {
        errors::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            range,
        )
    };
    let (a, b) = range.trim().strip_prefix("bytes=").and_then(|s| s.split_once('-')).ok_or_else(invalid)?;
    let (a, b): (u64, u64) = (a.parse().map_err(|_| invalid())?, b.parse().map_err(|_| invalid())?);
    if a > b {
        return Err(invalid());
    }
    if b >= size {
        return Err(AwsError::new(
            http::StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with_field("RangeRequested", range.to_owned())
        .with_field("ActualObjectSize", size));
    }
    Ok(a..b + 1)
}

pub async fn upload_part_copy(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: UploadPartCopyRequest,
) -> Result<UploadPartCopyOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    check_part_number(input.part_number)?;
    let up = upload(&bucket, &input.key, &input.upload_id)?;
    let (src, src_version_echo, _, src_key) = copy_source(&s3, &input.copy_source)?;
    check_copy_conditions(
        &src,
        input.copy_source_if_match.as_deref(),
        input.copy_source_if_none_match.as_deref(),
        input.copy_source_if_modified_since,
        input.copy_source_if_unmodified_since,
    )?;
    let size = src.size();
    let source_blob = src.blob.ok_or_else(|| errors::internal("the copy source has no data"))?;
    let range = match input.copy_source_range.as_deref() {
        Some(r) => parse_copy_range(r, size)?,
        None => 0..size,
    };
    let gone = || errors::no_such_key(&src_key);
    let (blob, md5, value) = common::copy_range(&s3, source_blob, range, up.checksum_algorithm, gone).await?;
    let checksum = up.checksum_algorithm.zip(value);
    let etag = checksums::etag(&md5);
    let last_modified = now();
    let part = StoredPart {
        number: input.part_number,
        etag: etag.clone(),
        md5,
        blob,
        last_modified,
        checksum: checksum.clone(),
    };
    record_part(&s3, &bucket, &input.key, &input.upload_id, part).await?;
    let mut result = CopyPartResult { e_tag: Some(etag), last_modified: Some(last_modified), ..Default::default() };
    if let Some((a, v)) = checksum {
        set_checksum(
            a,
            v,
            &mut result.checksum_crc32,
            &mut result.checksum_crc32_c,
            &mut result.checksum_crc64_nvme,
            &mut result.checksum_sha1,
            &mut result.checksum_sha256,
        );
    }
    Ok(UploadPartCopyOutput {
        copy_source_version_id: src_version_echo,
        copy_part_result: Some(result),
        server_side_encryption: Some("AES256".into()),
        ..Default::default()
    })
}

fn invalid_part(upload_id: &str, number: i32, etag: &str) -> AwsError {
    AwsError::bad_request(
        "InvalidPart",
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
    )
    .with_field("UploadId", upload_id.to_owned())
    .with_field("PartNumber", number)
    .with_field("ETag", etag.to_owned())
}

pub async fn complete_multipart_upload(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: CompleteMultipartUploadRequest,
) -> Result<CompleteMultipartUploadOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let up = match upload(&bucket, &input.key, &input.upload_id) {
        Ok(up) => up,
        Err(e) => return completed_before(&bucket, &input.key, &input.upload_id).ok_or(e),
    };
    let requested = input.multipart_upload.and_then(|m| m.parts).unwrap_or_default();
    if requested.is_empty() {
        return Err(errors::malformed_xml());
    }
    let stored = up.parts.lock().clone();
    let mut chosen: Vec<Arc<StoredPart>> = Vec::with_capacity(requested.len());
    let mut previous = 0;
    for p in &requested {
        let n = p.part_number.unwrap_or(0);
        let etag = p.e_tag.as_deref().unwrap_or("");
        if n <= previous {
            return Err(AwsError::bad_request(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part number.",
            )
            .with_field("UploadId", input.upload_id.clone()));
        }
        previous = n;
        let part = stored
            .get(&n)
            .filter(|s| etag.trim_matches('"') == s.etag.trim_matches('"'))
            .ok_or_else(|| invalid_part(&input.upload_id, n, etag))?;
        chosen.push(part.clone());
    }
    for (i, part) in chosen.iter().enumerate() {
        if i + 1 < chosen.len() && part.blob.size < MIN_PART_SIZE {
            return Err(AwsError::bad_request(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
            .with_field("ProposedSize", part.blob.size)
            .with_field("MinSizeAllowed", MIN_PART_SIZE)
            .with_field("PartNumber", part.number)
            .with_field("ETag", part.etag.trim_matches('"').to_owned()));
        }
    }
    if let Some(size) = input.mpu_object_size {
        let total: u64 = chosen.iter().map(|p| p.blob.size).sum();
        if size < 0 || size as u64 != total {
            return Err(errors::invalid_request(format!(
                "The provided 'x-amz-mp-object-size' header value {size} does not match what was computed: {total}"
            )));
        }
    }
    let etag = checksums::multipart_etag(&chosen.iter().map(|p| p.md5).collect::<Vec<_>>());
    let blobs: Vec<Blob> = chosen.iter().map(|p| p.blob).collect();
    let blob = common::concat(&s3, &blobs, || errors::no_such_upload(&input.upload_id)).await?;
    let checksum = match up.checksum_algorithm {
        Some(a) if up.checksum_type.as_deref() == Some("FULL_OBJECT") => {
            // The whole object's CRC combines from the parts' CRCs; hash the stored bytes
            // (streamed) only if a part lacks one.
            let parts: Option<Vec<(&str, u64)>> =
                chosen.iter().map(|p| p.checksum.as_ref().map(|c| (c.1.as_str(), p.blob.size))).collect();
            let value = match parts.and_then(|p| checksums::combine_crc(a, &p)) {
                Some(v) => v,
                None => match common::checksum_of(&s3, blob, a).await {
                    Ok(v) => v,
                    Err(e) => {
                        s3.free([blob]);
                        return Err(e);
                    }
                },
            };
            Some(StoredChecksum { algorithm: a, value, kind: "FULL_OBJECT" })
        }
        Some(a) => {
            let values: Vec<&str> = chosen.iter().filter_map(|p| p.checksum.as_ref().map(|c| c.1.as_str())).collect();
            Some(StoredChecksum { algorithm: a, value: checksums::composite(a, &values), kind: "COMPOSITE" })
        }
        None => None,
    };
    let parts: Vec<PartInfo> = chosen
        .iter()
        .map(|p| PartInfo { size: p.blob.size, checksum: p.checksum.as_ref().map(|c| c.1.clone()) })
        .collect();
    let version = ObjectVersion {
        version_id: None,
        delete_marker: false,
        last_modified: now(),
        etag: etag.clone(),
        blob: Some(blob),
        meta: up.meta.clone(),
        checksum: checksum.clone(),
        parts,
        tags: up.meta.tags.clone(),
        acl: up.meta.acl.clone(),
        upload_id: Some(input.upload_id.clone()),
    };
    // The upload must still exist when the object appears (a concurrent abort wins otherwise);
    // it is forgotten, with its parts, in the batch that records the object.
    let condition = write_condition(&input.key, input.if_match.as_deref(), input.if_none_match.as_deref());
    let notice = Some((crate::notifications::OBJECT_CREATED_MULTIPART, crate::notifications::Caller::Request(&ctx)));
    let version_id =
        commit_version(&s3, &bucket, &input.key, version, condition, Some(input.upload_id.as_str()), notice).await?;
    Ok(completion(input.bucket, input.key, etag, version_id, up.meta.sse.clone(), checksum))
}

/// A completion repeated (a client retrying after a lost answer): while the key's current
/// version is still the one that upload made, AWS answers as the first time, whatever the
/// request's parts and conditions.
fn completed_before(bucket: &Bucket, key: &str, upload_id: &str) -> Option<CompleteMultipartUploadOutput> {
    let v = bucket.objects.read().get(key)?.last().filter(|v| v.upload_id.as_deref() == Some(upload_id))?.clone();
    let version_id = bucket.versioned().then(|| v.version_str().to_owned());
    Some(completion(
        bucket.name.clone(),
        key.to_owned(),
        v.etag.clone(),
        version_id,
        v.meta.sse.clone(),
        v.checksum.clone(),
    ))
}

fn completion(
    bucket: String,
    key: String,
    etag: String,
    version_id: Option<String>,
    sse: Option<String>,
    checksum: Option<StoredChecksum>,
) -> CompleteMultipartUploadOutput {
    let mut out = CompleteMultipartUploadOutput {
        location: Some(format!("/{bucket}/{key}")),
        bucket: Some(bucket),
        key: Some(key),
        e_tag: Some(etag),
        version_id,
        server_side_encryption: Some(sse.unwrap_or_else(|| "AES256".into())),
        ..Default::default()
    };
    if let Some(c) = checksum {
        out.checksum_type = Some(c.kind.to_owned());
        set_checksum(
            c.algorithm,
            c.value,
            &mut out.checksum_crc32,
            &mut out.checksum_crc32_c,
            &mut out.checksum_crc64_nvme,
            &mut out.checksum_sha1,
            &mut out.checksum_sha256,
        );
    }
    out
}

pub async fn abort_multipart_upload(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: AbortMultipartUploadRequest,
) -> Result<AbortMultipartUploadOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let freed = {
        let _serial = s3.lock_key(&bucket.name, &input.key).await;
        let up = upload(&bucket, &input.key, &input.upload_id)?;
        let (mut forget, parts) = S3::upload_removal(&bucket.name, &up);
        forget.extend(s3.inline_writes(None, &parts));
        s3.apply(forget)?;
        bucket.uploads.lock().remove(&input.upload_id);
        parts
    };
    s3.free(freed);
    Ok(AbortMultipartUploadOutput::default())
}

pub async fn list_parts(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: ListPartsRequest,
) -> Result<ListPartsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let up = upload(&bucket, &input.key, &input.upload_id)?;
    let max = input.max_parts.unwrap_or(1000).clamp(0, 1000);
    let marker = input.part_number_marker.unwrap_or(0);
    let parts = up.parts.lock();
    let mut list = Vec::new();
    let mut truncated = false;
    for (n, p) in parts.range(marker + 1..) {
        if list.len() == max as usize {
            truncated = true;
            break;
        }
        let mut part = Part {
            part_number: Some(*n),
            last_modified: Some(p.last_modified),
            e_tag: Some(p.etag.clone()),
            size: Some(p.blob.size as i64),
            ..Default::default()
        };
        if let Some((a, v)) = &p.checksum {
            set_checksum(
                *a,
                v.clone(),
                &mut part.checksum_crc32,
                &mut part.checksum_crc32_c,
                &mut part.checksum_crc64_nvme,
                &mut part.checksum_sha1,
                &mut part.checksum_sha256,
            );
        }
        list.push(part);
    }
    let next = list.last().and_then(|p| p.part_number);
    Ok(ListPartsOutput {
        bucket: Some(input.bucket),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        part_number_marker: Some(marker),
        next_part_number_marker: next.or(Some(0)),
        max_parts: Some(max),
        is_truncated: Some(truncated),
        parts: (!list.is_empty()).then_some(list),
        initiator: Some(Initiator { id: owner(&ctx.account_id).id, display_name: Some("webfile".into()) }),
        owner: Some(owner(&bucket.account_id)),
        storage_class: Some(up.meta.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
        checksum_algorithm: up.checksum_algorithm.map(|a| a.name().to_owned()),
        checksum_type: up.checksum_type.clone(),
        ..Default::default()
    })
}

pub async fn list_multipart_uploads(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: ListMultipartUploadsRequest,
) -> Result<ListMultipartUploadsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let max = input.max_uploads.unwrap_or(1000).clamp(0, 1000) as usize;
    let prefix = input.prefix.clone().unwrap_or_default();
    let key_marker = input.key_marker.clone().unwrap_or_default();
    let id_marker = input.upload_id_marker.clone().filter(|_| !key_marker.is_empty());
    let mut all: Vec<Arc<Upload>> = bucket
        .uploads
        .lock()
        .values()
        .filter(|u| u.key.starts_with(&prefix))
        .filter(|u| match &id_marker {
            Some(id) => u.key > key_marker || (u.key == key_marker && u.id > *id),
            None => key_marker.is_empty() || u.key > key_marker,
        })
        .cloned()
        .collect();
    all.sort_by(|a, b| a.key.cmp(&b.key).then(a.initiated.cmp(&b.initiated)).then(a.id.cmp(&b.id)));
    let mut uploads = Vec::new();
    let mut prefixes: Vec<CommonPrefix> = Vec::new();
    let mut truncated = false;
    let mut last: Option<(String, String)> = None;
    for u in all {
        let cp = input
            .delimiter
            .as_deref()
            .filter(|d| !d.is_empty())
            .and_then(|d| u.key[prefix.len()..].find(d).map(|i| u.key[..prefix.len() + i + d.len()].to_owned()));
        if let Some(cp) = &cp
            && prefixes.last().and_then(|p| p.prefix.as_ref()) == Some(cp)
        {
            continue;
        }
        if uploads.len() + prefixes.len() == max {
            truncated = true;
            break;
        }
        match cp {
            Some(cp) => prefixes.push(CommonPrefix { prefix: Some(cp) }),
            None => uploads.push(MultipartUpload {
                upload_id: Some(u.id.clone()),
                key: Some(u.key.clone()),
                initiated: Some(u.initiated),
                storage_class: Some(u.meta.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
                owner: Some(owner(&bucket.account_id)),
                initiator: Some(Initiator { id: owner(&ctx.account_id).id, display_name: Some("webfile".into()) }),
                checksum_algorithm: u.checksum_algorithm.map(|a| a.name().to_owned()),
                checksum_type: u.checksum_type.clone(),
                version_id: None,
            }),
        }
        last = Some((u.key.clone(), u.id.clone()));
    }
    let (next_key, next_id) = match (truncated, last) {
        (true, Some((k, id))) => (Some(k), Some(id)),
        _ => (None, None),
    };
    Ok(ListMultipartUploadsOutput {
        bucket: Some(input.bucket),
        key_marker: Some(key_marker),
        upload_id_marker: Some(input.upload_id_marker.unwrap_or_default()),
        next_key_marker: next_key,
        prefix: Some(prefix),
        delimiter: input.delimiter,
        next_upload_id_marker: next_id,
        max_uploads: Some(max as i32),
        is_truncated: Some(truncated),
        uploads: (!uploads.is_empty()).then_some(uploads),
        common_prefixes: (!prefixes.is_empty()).then_some(prefixes),
        encoding_type: input.encoding_type,
        request_charged: None,
    })
}
