//! Object handlers: PutObject, GetObject / HeadObject (ranges, conditions, overrides), DeleteObject(s),
//! CopyObject, object tagging and GetObjectAttributes.

use crate::checksums::Algorithm;
use crate::common::{self, ChecksumRequest, MAX_PUT_SIZE, etag_matches, find_version, http_date};
use crate::errors;
use crate::generated::types::*;
use crate::notifications::{self, Caller, ObjectFacts};
use crate::state::{
    Blob, Bucket, ContentHeaders, Lock, ObjectMeta, ObjectVersion, S3, StoredChecksum, new_version_id, now,
};
use http::StatusCode;
use ruststack_core::{AwsError, RequestContext, StreamingBody, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest key AWS accepts, in UTF-8 bytes.
const MAX_KEY_LEN: usize = 1024;

pub fn check_key(key: &str) -> Result<(), AwsError> {
    if key.len() > MAX_KEY_LEN {
        return Err(AwsError::bad_request("KeyTooLongError", "Your key is too long")
            .with_field("Size", key.len())
            .with_field("MaxSizeAllowed", MAX_KEY_LEN));
    }
    Ok(())
}

/// `Content-Encoding` without the `aws-chunked` transfer coding the SDK added.
fn stored_encoding(value: Option<String>) -> Option<String> {
    let v = value?;
    let kept: Vec<&str> =
        v.split(',').map(str::trim).filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked")).collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

/// Lowercases user metadata keys, as S3 stores them.
fn metadata(m: Option<HashMap<String, String>>) -> HashMap<String, String> {
    m.unwrap_or_default().into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect()
}

/// Stores a new version of `key` under the bucket's versioning rules; returns its version id.
/// Runs `check` under the key's write lock (conditional writes compare against the current
/// version). `upload`: the multipart upload this version completes, forgotten in the same batch.
/// The version's blob is deleted when the version is not recorded. `notice`: the event the new
/// version causes, queued under the key's lock (so notifications follow the commit order).
pub async fn commit_version(
    s3: &S3,
    bucket: &Bucket,
    key: &str,
    version: ObjectVersion,
    check: impl FnOnce(Option<&Arc<ObjectVersion>>) -> Result<(), AwsError>,
    upload: Option<&str>,
    notice: Option<(&'static str, Caller<'_>)>,
) -> Result<Option<String>, AwsError> {
    let new_blob = version.blob;
    let notice = notice.filter(|_| s3.notifying(bucket)).map(|n| (n, version.size(), version.etag.clone()));
    let recorded = {
        let _serial = s3.lock_key(&bucket.name, key).await;
        let recorded = record_version(s3, bucket, key, version, check, upload);
        if let (Ok((id, _)), Some(((event, caller), size, etag))) = (&recorded, notice) {
            let facts = ObjectFacts {
                size: Some(size),
                etag: Some(etag.trim_matches('"').to_owned()),
                version_id: bucket.versioned().then(|| id.clone().unwrap_or_else(|| "null".into())),
            };
            s3.notify(bucket, event, key, &facts, caller);
        }
        recorded
    };
    match recorded {
        Ok((id, freed)) => {
            s3.free(freed);
            Ok(id)
        }
        Err(e) => {
            s3.free(new_blob);
            Err(e)
        }
    }
}

/// [`commit_version`] under the key's lock: the batch first, then the cache.
fn record_version(
    s3: &S3,
    bucket: &Bucket,
    key: &str,
    mut version: ObjectVersion,
    check: impl FnOnce(Option<&Arc<ObjectVersion>>) -> Result<(), AwsError>,
    upload: Option<&str>,
) -> Result<(Option<String>, Vec<Blob>), AwsError> {
    if bucket.deleted.load(std::sync::atomic::Ordering::Acquire) {
        return Err(errors::no_such_bucket(&bucket.name));
    }
    let upload = match upload {
        Some(id) => Some(
            bucket
                .uploads
                .lock()
                .get(id)
                .filter(|u| u.key == key)
                .cloned()
                .ok_or_else(|| errors::no_such_upload(id))?,
        ),
        None => None,
    };
    let enabled = bucket.versioning_enabled();
    version.version_id = enabled.then(new_version_id);
    let id = version.version_id.clone();
    let mut versions = bucket.objects.read().get(key).cloned().unwrap_or_default();
    check(versions.last().filter(|v| !v.delete_marker))?;
    let mut freed = Vec::new();
    if !enabled {
        // Unversioned and suspended buckets overwrite the `null` version.
        drop_null_version(&mut versions, &mut freed);
    }
    let recorded = version.blob;
    versions.push(Arc::new(version));
    let mut writes = vec![S3::versions_write(&bucket.name, key, &versions)];
    if let Some(up) = &upload {
        let (forget, parts) = S3::upload_removal(&bucket.name, up);
        writes.extend(forget);
        freed.extend(parts);
    }
    writes.extend(s3.inline_writes(recorded, &freed));
    s3.apply(writes)?;
    s3.inline_recorded(recorded);
    bucket.objects.write().insert(key.to_owned(), versions);
    if let Some(up) = upload {
        bucket.uploads.lock().remove(&up.id);
    }
    Ok((id, freed))
}

/// Removes the `null` version, if any, collecting its blob.
fn drop_null_version(versions: &mut Vec<Arc<ObjectVersion>>, freed: &mut Vec<Blob>) {
    versions.retain(|v| {
        if v.version_id.is_none() {
            freed.extend(v.blob);
            false
        } else {
            true
        }
    });
}

/// The conditional-write check of PutObject / CompleteMultipartUpload.
pub fn write_condition<'a>(
    key: &'a str,
    if_match: Option<&'a str>,
    if_none_match: Option<&'a str>,
) -> impl FnOnce(Option<&Arc<ObjectVersion>>) -> Result<(), AwsError> + 'a {
    move |current| {
        if let Some(cond) = if_none_match {
            if cond.trim() != "*" {
                return Err(AwsError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "NotImplemented",
                    "A header you provided implies functionality that is not implemented",
                )
                .with_field("Header", "If-None-Match"));
            }
            if current.is_some() {
                return Err(errors::precondition_failed("If-None-Match"));
            }
        }
        if let Some(cond) = if_match {
            match current {
                None => return Err(errors::no_such_key(key)),
                Some(v) if !etag_matches(cond, &v.etag) => return Err(errors::precondition_failed("If-Match")),
                _ => {}
            }
        }
        Ok(())
    }
}

fn checksum_request(values: [Option<&String>; 5], sdk: Option<&String>) -> Result<ChecksumRequest, AwsError> {
    ChecksumRequest::new(values, sdk.map(String::as_str))
}

/// The bucket, checksum request, tags and ACL of a PutObject that passed its checks.
type PutPlan = (Arc<Bucket>, ChecksumRequest, Vec<(String, String)>, Option<Vec<Grant>>, Lock);

/// Storage classes a write may name.
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
    "FSX_OPENZFS",
    "FSX_ONTAP",
];

pub fn check_storage_class(class: Option<&str>) -> Result<(), AwsError> {
    match class {
        Some(c) if !STORAGE_CLASSES.contains(&c) => {
            Err(AwsError::bad_request("InvalidStorageClass", "The storage class you specified is not valid")
                .with_field("StorageClassRequested", c.to_owned()))
        }
        _ => Ok(()),
    }
}

/// The server-side encryption of a new object: what the request asked for, else the bucket's
/// default encryption.
pub fn effective_sse(
    bucket: &Bucket,
    sse: Option<String>,
    kms_key: Option<String>,
) -> (Option<String>, Option<String>) {
    if sse.is_some() {
        return (sse, kms_key);
    }
    match crate::config::bucket_sse(bucket) {
        Some((algorithm, key)) if algorithm != "AES256" => (Some(algorithm), key),
        _ => (None, None),
    }
}

/// What PutObject checks before reading the body.
fn put_object_checks(s3: &S3, ctx: &RequestContext, input: &PutObjectRequest) -> Result<PutPlan, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    check_key(&input.key)?;
    check_storage_class(input.storage_class.as_deref())?;
    if let Some(md5) = &input.content_md5 {
        crate::checksums::parse_content_md5(md5)?;
    }
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
    let checksum = checksum_request(
        [
            input.checksum_crc32.as_ref(),
            input.checksum_crc32_c.as_ref(),
            input.checksum_crc64_nvme.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
        ],
        input.checksum_algorithm.as_ref(),
    )?;
    let tags = input.tagging.as_deref().map(common::parse_tagging_header).transpose()?.unwrap_or_default();
    let has_digest = input.content_md5.is_some() || checksum.explicit.is_some() || checksum.algorithm.is_some();
    let lock = crate::lock::for_new_version(
        &bucket,
        crate::lock::LockRequest {
            mode: input.object_lock_mode.as_deref(),
            until: input.object_lock_retain_until_date,
            legal_hold: input.object_lock_legal_hold_status.as_deref(),
        },
        Some(has_digest),
    )?;
    // Fail fast before reading a body that would be refused anyway.
    let objects = bucket.objects.read();
    let current = objects.get(&input.key).and_then(|v| v.last()).filter(|v| !v.delete_marker);
    write_condition(&input.key, input.if_match.as_deref(), input.if_none_match.as_deref())(current)?;
    drop(objects);
    Ok((bucket, checksum, tags, acl, lock))
}

pub async fn put_object(
    s3: Arc<S3>,
    ctx: RequestContext,
    mut input: PutObjectRequest,
) -> Result<PutObjectOutput, AwsError> {
    let body = std::mem::take(&mut input.body);
    let (bucket, checksum, tags, acl, lock) = match put_object_checks(&s3, &ctx, &input) {
        Ok(ok) => ok,
        Err(e) => {
            common::drain(body).await;
            return Err(e);
        }
    };
    let condition = write_condition(&input.key, input.if_match.as_deref(), input.if_none_match.as_deref());
    let written = common::write_body(&s3, body, input.content_md5.as_deref(), &checksum, MAX_PUT_SIZE).await?;
    let etag = crate::checksums::etag(&written.md5);
    let (sse, sse_kms_key_id) = effective_sse(&bucket, input.server_side_encryption, input.sse_kms_key_id);
    let meta = ObjectMeta {
        headers: ContentHeaders {
            content_type: input.content_type,
            content_encoding: stored_encoding(input.content_encoding),
            content_disposition: input.content_disposition,
            content_language: input.content_language,
            cache_control: input.cache_control,
            expires: input.expires,
        },
        metadata: metadata(input.metadata),
        storage_class: input.storage_class.filter(|s| s != "STANDARD"),
        website_redirect: input.website_redirect_location,
        sse,
        sse_kms_key_id,
        tags: Vec::new(),
        acl: None,
        lock,
    };
    let (algorithm, value) = written.checksum.clone();
    let version = ObjectVersion {
        version_id: None,
        delete_marker: false,
        last_modified: now(),
        etag: etag.clone(),
        blob: Some(written.blob),
        meta,
        checksum: Some(StoredChecksum { algorithm, value: value.clone(), kind: "FULL_OBJECT" }),
        parts: Vec::new(),
        tags,
        acl,
        upload_id: None,
    };
    let sse = version.meta.sse.clone().unwrap_or_else(|| "AES256".into());
    let kms = version.meta.sse_kms_key_id.clone();
    let notice = Some((notifications::OBJECT_CREATED_PUT, Caller::Request(&ctx)));
    let version_id = commit_version(&s3, &bucket, &input.key, version, condition, None, notice).await?;
    let mut out = PutObjectOutput {
        e_tag: Some(etag),
        server_side_encryption: Some(sse),
        sse_kms_key_id: kms,
        version_id,
        checksum_type: Some("FULL_OBJECT".into()),
        ..Default::default()
    };
    set_checksum(
        algorithm,
        value,
        &mut out.checksum_crc32,
        &mut out.checksum_crc32_c,
        &mut out.checksum_crc64_nvme,
        &mut out.checksum_sha1,
        &mut out.checksum_sha256,
    );
    Ok(out)
}

/// Puts a checksum value into the output field of its algorithm.
pub fn set_checksum(
    algorithm: Algorithm,
    value: String,
    crc32: &mut Option<String>,
    crc32c: &mut Option<String>,
    crc64: &mut Option<String>,
    sha1: &mut Option<String>,
    sha256: &mut Option<String>,
) {
    let slot = match algorithm {
        Algorithm::Crc32 => crc32,
        Algorithm::Crc32c => crc32c,
        Algorithm::Crc64Nvme => crc64,
        Algorithm::Sha1 => sha1,
        Algorithm::Sha256 => sha256,
    };
    *slot = Some(value);
}

/// A byte range request resolved against an object's size.
#[derive(Debug, PartialEq)]
enum RangeSpec {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`; anything else (several ranges, other units,
/// garbage) is ignored as AWS does, answering the whole object.
fn parse_range(header: &str, size: u64) -> RangeSpec {
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return RangeSpec::Whole };
    if spec.contains(',') {
        return RangeSpec::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else { return RangeSpec::Whole };
    let (a, b) = (a.trim(), b.trim());
    match (a.is_empty(), b.is_empty()) {
        (true, false) => match b.parse::<u64>() {
            Ok(0) => RangeSpec::Unsatisfiable,
            Ok(n) if size == 0 => {
                let _ = n;
                RangeSpec::Unsatisfiable
            }
            Ok(n) => RangeSpec::Part(size.saturating_sub(n), size - 1),
            Err(_) => RangeSpec::Whole,
        },
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else { return RangeSpec::Whole };
            let end = if b.is_empty() {
                u64::MAX
            } else {
                match b.parse::<u64>() {
                    Ok(e) if e >= start => e,
                    _ => return RangeSpec::Whole,
                }
            };
            if start >= size { RangeSpec::Unsatisfiable } else { RangeSpec::Part(start, end.min(size - 1)) }
        }
        (true, true) => RangeSpec::Whole,
    }
}

/// The conditional-read headers, checked in AWS's (RFC 7232's) order.
struct ReadConditions<'a> {
    if_match: Option<&'a str>,
    if_none_match: Option<&'a str>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
}

impl ReadConditions<'_> {
    fn check(&self, v: &ObjectVersion) -> Result<(), AwsError> {
        let modified = v.last_modified.millis;
        match self.if_match {
            Some(cond) if !etag_matches(cond, &v.etag) => return Err(errors::precondition_failed("If-Match")),
            Some(_) => {}
            None => {
                if let Some(t) = self.if_unmodified_since
                    && modified > t.millis
                {
                    return Err(errors::precondition_failed("If-Unmodified-Since"));
                }
            }
        }
        let not_modified = || errors::not_modified(&v.etag, &http_date(v.last_modified));
        match self.if_none_match {
            Some(cond) if etag_matches(cond, &v.etag) => return Err(not_modified()),
            Some(_) => {}
            None => {
                if let Some(t) = self.if_modified_since
                    && modified <= t.millis
                {
                    return Err(not_modified());
                }
            }
        }
        Ok(())
    }
}

/// What GET and HEAD share: the version, its headers, and the byte range to send.
struct Read {
    version: Arc<ObjectVersion>,
    range: Option<(u64, u64)>,
    parts_count: Option<i32>,
}

#[allow(clippy::too_many_arguments)]
fn resolve_read(
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    conditions: ReadConditions<'_>,
    range: Option<&str>,
    part_number: Option<i32>,
) -> Result<Read, AwsError> {
    let version = find_version(bucket, key, version_id)?;
    conditions.check(&version)?;
    let size = version.size();
    let mut parts_count = None;
    let range = match (part_number, range) {
        (Some(_), Some(_)) => {
            return Err(errors::invalid_request("Cannot specify both Range header and partNumber query parameter"));
        }
        (Some(n), None) => {
            let count = version.parts.len().max(1) as i32;
            if n < 1 || n > count {
                return Err(AwsError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidPartNumber",
                    "The requested partnumber is not satisfiable",
                )
                .with_field("PartNumberRequested", n)
                .with_field("ActualPartCount", count));
            }
            if version.parts.is_empty() {
                // A single-part object is its own part 1, served as a 206 of the whole body.
                (size > 0).then(|| (0, size - 1))
            } else {
                parts_count = Some(count);
                let start: u64 = version.parts[..(n - 1) as usize].iter().map(|p| p.size).sum();
                let len = version.parts[(n - 1) as usize].size;
                (len > 0).then(|| (start, start + len - 1))
            }
        }
        (None, Some(r)) => match parse_range(r, size) {
            RangeSpec::Whole => None,
            RangeSpec::Part(a, b) => Some((a, b)),
            RangeSpec::Unsatisfiable => {
                return Err(AwsError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range is not satisfiable",
                )
                .with_field("RangeRequested", r.to_owned())
                .with_field("ActualObjectSize", size)
                .with_header("content-range", format!("bytes */{size}")));
            }
        },
        (None, None) => None,
    };
    Ok(Read { version, range, parts_count })
}

macro_rules! fill_object_headers {
    ($out:ident, $bucket:expr, $read:expr, $input:expr) => {{
        let v = &$read.version;
        let h = &v.meta.headers;
        $out.e_tag = Some(v.etag.clone());
        $out.last_modified = Some(v.last_modified);
        $out.accept_ranges = Some("bytes".into());
        $out.content_type = Some(
            $input
                .response_content_type
                .clone()
                .or_else(|| h.content_type.clone())
                .unwrap_or_else(|| "binary/octet-stream".into()),
        );
        $out.content_encoding = $input.response_content_encoding.clone().or_else(|| h.content_encoding.clone());
        $out.content_disposition =
            $input.response_content_disposition.clone().or_else(|| h.content_disposition.clone());
        $out.content_language = $input.response_content_language.clone().or_else(|| h.content_language.clone());
        $out.cache_control = $input.response_cache_control.clone().or_else(|| h.cache_control.clone());
        $out.expires = match $input.response_expires {
            Some(t) => Some(http_date(t)),
            None => h.expires.clone(),
        };
        $out.metadata = (!v.meta.metadata.is_empty()).then(|| v.meta.metadata.clone());
        $out.storage_class = v.meta.storage_class.clone();
        $out.website_redirect_location = v.meta.website_redirect.clone();
        $out.server_side_encryption = Some(v.meta.sse.clone().unwrap_or_else(|| "AES256".into()));
        $out.sse_kms_key_id = v.meta.sse_kms_key_id.clone();
        if $bucket.versioned() {
            $out.version_id = Some(v.version_str().to_owned());
        }
        let size = v.size();
        match $read.range {
            Some((a, b)) => {
                $out.content_length = Some((b + 1 - a) as i64);
                $out.content_range = Some(format!("bytes {a}-{b}/{size}"));
            }
            None => $out.content_length = Some(size as i64),
        }
        $out.parts_count = $read.parts_count;
        $out.object_lock_mode = v.meta.lock.mode.clone();
        $out.object_lock_retain_until_date = v.meta.lock.until;
        $out.object_lock_legal_hold_status = v.meta.lock.legal_hold.map(|on| crate::lock::status_name(on).to_owned());
        let tags = v.tags.len();
        if tags > 0 {
            $out.tag_count = Some(tags as i32);
        }
        if $input.checksum_mode.as_deref() == Some("ENABLED") && $read.range.is_none() {
            if let Some(c) = &v.checksum {
                $out.checksum_type = Some(c.kind.to_owned());
                set_checksum(
                    c.algorithm,
                    c.value.clone(),
                    &mut $out.checksum_crc32,
                    &mut $out.checksum_crc32_c,
                    &mut $out.checksum_crc64_nvme,
                    &mut $out.checksum_sha1,
                    &mut $out.checksum_sha256,
                );
            }
        }
    }};
}

pub async fn get_object(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: GetObjectRequest,
) -> Result<GetObjectOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    // A version replaced between its lookup and the opening of its blob has lost the blob:
    // look again, and serve what replaced it.
    let mut attempts = 0;
    loop {
        let conditions = ReadConditions {
            if_match: input.if_match.as_deref(),
            if_none_match: input.if_none_match.as_deref(),
            if_modified_since: input.if_modified_since,
            if_unmodified_since: input.if_unmodified_since,
        };
        let read = resolve_read(
            &bucket,
            &input.key,
            input.version_id.as_deref(),
            conditions,
            input.range.as_deref(),
            input.part_number,
        )?;
        let body = match (read.version.blob, read.range) {
            (Some(blob), range) => match s3.read_blob(blob, range.map(|(a, b)| a..b + 1)) {
                Ok(body) => StreamingBody(Some(body)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 8 => {
                    attempts += 1;
                    continue;
                }
                Err(e) => return Err(errors::internal(e)),
            },
            (None, _) => StreamingBody::from_bytes(bytes::Bytes::new()),
        };
        let mut out = GetObjectOutput::default();
        fill_object_headers!(out, bucket, read, input);
        out.body = body;
        return Ok(out);
    }
}

pub async fn head_object(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: HeadObjectRequest,
) -> Result<HeadObjectOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let conditions = ReadConditions {
        if_match: input.if_match.as_deref(),
        if_none_match: input.if_none_match.as_deref(),
        if_modified_since: input.if_modified_since,
        if_unmodified_since: input.if_unmodified_since,
    };
    let read = resolve_read(
        &bucket,
        &input.key,
        input.version_id.as_deref(),
        conditions,
        input.range.as_deref(),
        input.part_number,
    )?;
    let mut out = HeadObjectOutput::default();
    fill_object_headers!(out, bucket, read, input);
    Ok(out)
}

/// Plans the deletion of one key (or one version) under the bucket's versioning rules on the
/// key's `versions` (changed in place); blobs of removed versions go to `freed`. Whether
/// anything changed.
#[allow(clippy::too_many_arguments)]
fn plan_delete(
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    if_match: Option<&str>,
    bypass_governance: bool,
    versions: &mut Vec<Arc<ObjectVersion>>,
    freed: &mut Vec<Blob>,
) -> Result<(DeletedObject, bool), AwsError> {
    if let Some(v) = version_id {
        common::check_version_id(v)?;
    }
    if let Some(cond) = if_match {
        match versions.last().filter(|v| !v.delete_marker) {
            None => return Err(errors::no_such_key(key)),
            Some(v) if !etag_matches(cond, &v.etag) => return Err(errors::precondition_failed("If-Match")),
            _ => {}
        }
    }
    let mut out = DeletedObject { key: Some(key.to_owned()), ..Default::default() };
    let mut changed = false;
    match version_id {
        Some(id) => {
            if let Some(i) = versions.iter().position(|v| v.version_str() == id) {
                crate::lock::check_delete(&versions[i], bypass_governance)?;
                let removed = versions.remove(i);
                if removed.delete_marker {
                    out.delete_marker = Some(true);
                }
                freed.extend(removed.blob);
                changed = true;
            }
            out.version_id = Some(id.to_owned());
        }
        None => match bucket.versioning().as_deref() {
            None => {
                changed = !versions.is_empty();
                freed.extend(versions.drain(..).filter_map(|v| v.blob));
            }
            Some(state) => {
                let enabled = state == "Enabled";
                let marker = ObjectVersion::delete_marker(enabled.then(new_version_id));
                let id = marker.version_str().to_owned();
                if !enabled {
                    drop_null_version(versions, freed);
                }
                versions.push(Arc::new(marker));
                changed = true;
                out.delete_marker = Some(true);
                out.delete_marker_version_id = Some(id);
            }
        },
    }
    Ok((out, changed))
}

/// Records the new version lists of deleted keys (one batch), then updates the cache.
fn record_deletions(
    s3: &S3,
    bucket: &Bucket,
    changed: Vec<(String, Vec<Arc<ObjectVersion>>)>,
    freed: &[Blob],
) -> Result<(), AwsError> {
    if changed.is_empty() {
        return Ok(());
    }
    if bucket.deleted.load(std::sync::atomic::Ordering::Acquire) {
        return Err(errors::no_such_bucket(&bucket.name));
    }
    let mut writes: Vec<_> = changed.iter().map(|(k, v)| S3::versions_write(&bucket.name, k, v)).collect();
    writes.extend(s3.inline_writes(None, freed));
    s3.apply(writes)?;
    let mut objects = bucket.objects.write();
    for (key, versions) in changed {
        if versions.is_empty() {
            objects.remove(&key);
        } else {
            objects.insert(key, versions);
        }
    }
    Ok(())
}

/// Queues the event of a deletion that changed something: a delete marker created, or a
/// version (or the unversioned object) removed. AWS sends neither size nor ETag.
fn notify_deletion(s3: &S3, bucket: &Bucket, key: &str, deleted: &DeletedObject, caller: Caller) {
    if !s3.notifying(bucket) {
        return;
    }
    let (event, version_id) = match &deleted.delete_marker_version_id {
        Some(marker) => (notifications::OBJECT_REMOVED_MARKER, Some(marker.clone())),
        None => (notifications::OBJECT_REMOVED_DELETE, deleted.version_id.clone().filter(|_| bucket.versioned())),
    };
    s3.notify(bucket, event, key, &ObjectFacts { size: None, etag: None, version_id }, caller);
}

pub async fn delete_object(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: DeleteObjectRequest,
) -> Result<DeleteObjectOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let mut freed = Vec::new();
    let deleted = {
        let _serial = s3.lock_key(&bucket.name, &input.key).await;
        let mut versions = bucket.objects.read().get(&input.key).cloned().unwrap_or_default();
        let (deleted, changed) = plan_delete(
            &bucket,
            &input.key,
            input.version_id.as_deref(),
            input.if_match.as_deref(),
            input.bypass_governance_retention.unwrap_or(false),
            &mut versions,
            &mut freed,
        )?;
        if changed {
            record_deletions(&s3, &bucket, vec![(input.key.clone(), versions)], &freed)?;
            notify_deletion(&s3, &bucket, &input.key, &deleted, Caller::Request(&ctx));
        }
        deleted
    };
    s3.free(freed);
    Ok(DeleteObjectOutput {
        delete_marker: deleted.delete_marker,
        version_id: deleted.delete_marker_version_id.or(deleted.version_id),
        ..Default::default()
    })
}

pub async fn delete_objects(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: DeleteObjectsRequest,
) -> Result<DeleteObjectsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let objects = input.delete.objects;
    if objects.is_empty() || objects.len() > 1000 {
        return Err(errors::malformed_xml());
    }
    let quiet = input.delete.quiet.unwrap_or(false);
    let (mut deleted, mut failed) = (Vec::new(), Vec::new());
    let mut freed = Vec::new();
    {
        // Every key of the request in one batch, under all their locks.
        let _serial = s3.lock_keys(&bucket.name, objects.iter().map(|o| o.key.as_str())).await;
        let mut lists: Vec<(String, Vec<Arc<ObjectVersion>>)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut changed_keys = std::collections::HashSet::new();
        let mut removals = Vec::new();
        for obj in &objects {
            let at = *index.entry(obj.key.as_str()).or_insert_with(|| {
                let current = bucket.objects.read().get(&obj.key).cloned().unwrap_or_default();
                lists.push((obj.key.clone(), current));
                lists.len() - 1
            });
            let bypass = input.bypass_governance_retention.unwrap_or(false);
            match plan_delete(&bucket, &obj.key, obj.version_id.as_deref(), None, bypass, &mut lists[at].1, &mut freed)
            {
                Ok((d, changed)) => {
                    if changed {
                        changed_keys.insert(obj.key.clone());
                        removals.push(d.clone());
                    }
                    if !quiet {
                        deleted.push(d);
                    }
                }
                Err(e) => failed.push(ErrorShape {
                    key: Some(obj.key.clone()),
                    version_id: obj.version_id.clone(),
                    code: Some(e.code.into_owned()),
                    message: Some(e.message),
                }),
            }
        }
        lists.retain(|(k, _)| changed_keys.contains(k));
        record_deletions(&s3, &bucket, lists, &freed)?;
        for d in &removals {
            notify_deletion(&s3, &bucket, d.key.as_deref().unwrap_or_default(), d, Caller::Request(&ctx));
        }
    }
    s3.free(freed);
    Ok(DeleteObjectsOutput {
        deleted: (!deleted.is_empty()).then_some(deleted),
        errors: (!failed.is_empty()).then_some(failed),
        ..Default::default()
    })
}

/// DeleteObjects requires an integrity header (`Content-MD5` or a flexible checksum); the
/// checksum headers are not members of its input, so this is checked on the raw request.
pub fn delete_objects_missing_digest(parts: &http::request::Parts) -> Option<AwsError> {
    let is_delete = parts.method == http::Method::POST
        && parts.uri.query().is_some_and(|q| q.split('&').any(|kv| kv == "delete" || kv.starts_with("delete=")));
    let has_digest = parts.headers.contains_key("content-md5")
        || parts.headers.keys().any(|k| k.as_str().starts_with("x-amz-checksum-"))
        || parts.headers.get("x-amz-trailer").is_some();
    (is_delete && !has_digest).then(|| errors::invalid_request("Missing required header for this request: Content-MD5"))
}

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub fn parse_copy_source(source: &str) -> Result<(String, String, Option<String>), AwsError> {
    let (path, version) = match source.split_once("?versionId=") {
        Some((p, v)) => (p, Some(v)),
        None => (source, None),
    };
    let decoded = percent_encoding::percent_decode_str(path.trim_start_matches('/')).decode_utf8_lossy().into_owned();
    let invalid = || errors::invalid_argument("Invalid copy source object key", "x-amz-copy-source", source);
    let (bucket, key) = decoded.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    let version = version.map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
    Ok((bucket.to_owned(), key.to_owned(), version))
}

/// Copy-source conditions (`x-amz-copy-source-if-*`), which all answer 412.
pub fn check_copy_conditions(
    v: &ObjectVersion,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
) -> Result<(), AwsError> {
    let modified = v.last_modified.millis;
    if let Some(c) = if_match {
        if !etag_matches(c, &v.etag) {
            return Err(errors::precondition_failed("x-amz-copy-source-If-Match"));
        }
    } else if if_unmodified_since.is_some_and(|t| modified > t.millis) {
        return Err(errors::precondition_failed("x-amz-copy-source-If-Unmodified-Since"));
    }
    if let Some(c) = if_none_match {
        if etag_matches(c, &v.etag) {
            return Err(errors::precondition_failed("x-amz-copy-source-If-None-Match"));
        }
    } else if if_modified_since.is_some_and(|t| modified <= t.millis) {
        return Err(errors::precondition_failed("x-amz-copy-source-If-Modified-Since"));
    }
    Ok(())
}

/// The source version of a copy, and the version id to echo when the source bucket is versioned.
pub fn copy_source(s3: &S3, source: &str) -> Result<(Arc<ObjectVersion>, Option<String>, String, String), AwsError> {
    let (src_bucket, src_key, src_version) = parse_copy_source(source)?;
    let bucket = s3.bucket(&src_bucket)?;
    let version = match find_version(&bucket, &src_key, src_version.as_deref()) {
        Err(e) if e.status == StatusCode::METHOD_NOT_ALLOWED => {
            return Err(invalid_request_delete_marker());
        }
        other => other?,
    };
    let echoed = bucket.versioned().then(|| version.version_str().to_owned());
    Ok((version, echoed, src_bucket, src_key))
}

fn invalid_request_delete_marker() -> AwsError {
    errors::invalid_request("The source of a copy request may not specifically refer to a delete marker by version id.")
}

pub async fn copy_object(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: CopyObjectRequest,
) -> Result<CopyObjectOutput, AwsError> {
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
    let (src, src_version_echo, src_bucket, src_key) = copy_source(&s3, &input.copy_source)?;
    check_copy_conditions(
        &src,
        input.copy_source_if_match.as_deref(),
        input.copy_source_if_none_match.as_deref(),
        input.copy_source_if_modified_since,
        input.copy_source_if_unmodified_since,
    )?;
    let replace_meta = match input.metadata_directive.as_deref() {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(errors::invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", other));
        }
    };
    let replace_tags = match input.tagging_directive.as_deref() {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(other) => {
            return Err(errors::invalid_argument("Unknown tagging directive.", "x-amz-tagging-directive", other));
        }
    };
    // Naming a source version makes a copy in place legal in a versioning-enabled bucket: it
    // restores that version as the newest.
    let names_version = parse_copy_source(&input.copy_source).is_ok_and(|(_, _, v)| v.is_some());
    if src_bucket == input.bucket
        && src_key == input.key
        && !(names_version && bucket.versioning_enabled())
        && !replace_meta
        && input.storage_class.is_none()
        && input.website_redirect_location.is_none()
        && input.server_side_encryption.is_none()
        && input.sse_kms_key_id.is_none()
    {
        return Err(errors::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let mut meta = if replace_meta {
        ObjectMeta {
            headers: ContentHeaders {
                content_type: input.content_type,
                content_encoding: stored_encoding(input.content_encoding),
                content_disposition: input.content_disposition,
                content_language: input.content_language,
                cache_control: input.cache_control,
                expires: input.expires,
            },
            metadata: metadata(input.metadata),
            ..Default::default()
        }
    } else {
        src.meta.clone()
    };
    meta.storage_class =
        input.storage_class.filter(|s| s != "STANDARD").or(if replace_meta { None } else { meta.storage_class });
    if input.website_redirect_location.is_some() {
        meta.website_redirect = input.website_redirect_location;
    }
    if input.server_side_encryption.is_some() {
        meta.sse = input.server_side_encryption;
        meta.sse_kms_key_id = input.sse_kms_key_id;
    }
    // A copy's lock comes from its own request (or the bucket's default), never the source.
    meta.lock = crate::lock::for_new_version(
        &bucket,
        crate::lock::LockRequest {
            mode: input.object_lock_mode.as_deref(),
            until: input.object_lock_retain_until_date,
            legal_hold: input.object_lock_legal_hold_status.as_deref(),
        },
        None,
    )?;
    let tags = if replace_tags {
        input.tagging.as_deref().map(common::parse_tagging_header).transpose()?.unwrap_or_default()
    } else {
        src.tags.clone()
    };
    // Each version owns its bytes: the copy streams them into a new blob, hashing them again
    // in the same pass when the copy asks for another checksum algorithm.
    let rehash = input
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)
        .filter(|a| src.checksum.as_ref().is_none_or(|c| c.algorithm != *a));
    let (blob, value) = match src.blob {
        Some(b) => {
            let gone = || errors::no_such_key(&src_key);
            let (blob, _, value) = common::copy_range(&s3, b, 0..b.size, rehash, gone).await?;
            (Some(blob), value)
        }
        None => (None, rehash.map(|a| a.of(b""))),
    };
    let checksum = match (rehash, value) {
        (Some(algorithm), Some(value)) => Some(StoredChecksum { algorithm, value, kind: "FULL_OBJECT" }),
        _ => src.checksum.clone(),
    };
    let last_modified = now();
    let version = ObjectVersion {
        version_id: None,
        delete_marker: false,
        last_modified,
        etag: src.etag.clone(),
        blob,
        meta,
        checksum: checksum.clone(),
        parts: src.parts.clone(),
        tags,
        acl,
        upload_id: None,
    };
    let condition = write_condition(&input.key, input.if_match.as_deref(), input.if_none_match.as_deref());
    let notice = Some((notifications::OBJECT_CREATED_COPY, Caller::Request(&ctx)));
    let version_id = commit_version(&s3, &bucket, &input.key, version, condition, None, notice).await?;
    let mut result =
        CopyObjectResult { e_tag: Some(src.etag.clone()), last_modified: Some(last_modified), ..Default::default() };
    if let Some(c) = checksum {
        result.checksum_type = Some(c.kind.to_owned());
        set_checksum(
            c.algorithm,
            c.value,
            &mut result.checksum_crc32,
            &mut result.checksum_crc32_c,
            &mut result.checksum_crc64_nvme,
            &mut result.checksum_sha1,
            &mut result.checksum_sha256,
        );
    }
    Ok(CopyObjectOutput {
        copy_object_result: Some(result),
        copy_source_version_id: src_version_echo,
        version_id,
        server_side_encryption: Some(src.meta.sse.clone().unwrap_or_else(|| "AES256".into())),
        ..Default::default()
    })
}

/// Queues the event of a tagging or ACL change of a version: its ETag and version, no size.
pub fn notify_update(s3: &S3, bucket: &Bucket, key: &str, v: &ObjectVersion, event: &'static str, caller: Caller) {
    if s3.notifying(bucket) {
        let facts = ObjectFacts {
            size: None,
            etag: Some(v.etag.trim_matches('"').to_owned()),
            version_id: bucket.versioned().then(|| v.version_str().to_owned()),
        };
        s3.notify(bucket, event, key, &facts, caller);
    }
}

fn tag_list(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag { key: k.clone(), value: v.clone() }).collect()
}

fn version_for_tagging(
    s3: &S3,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<(Arc<ObjectVersion>, bool), AwsError> {
    let bucket = s3.bucket(bucket)?;
    let v = find_version(&bucket, key, version_id)?;
    Ok((v, bucket.versioned()))
}

pub async fn get_object_tagging(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: GetObjectTaggingRequest,
) -> Result<GetObjectTaggingOutput, AwsError> {
    let (v, versioned) = version_for_tagging(&s3, &input.bucket, &input.key, input.version_id.as_deref())?;
    let tag_set = tag_list(&v.tags);
    Ok(GetObjectTaggingOutput { version_id: versioned.then(|| v.version_str().to_owned()), tag_set })
}

pub async fn put_object_tagging(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: PutObjectTaggingRequest,
) -> Result<PutObjectTaggingOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let tags: Vec<(String, String)> = input.tagging.tag_set.into_iter().map(|t| (t.key, t.value)).collect();
    common::check_tags(&tags)?;
    let v =
        common::update_version(&s3, "PUT", &bucket, &input.key, input.version_id.as_deref(), |v| v.tags = tags).await?;
    notify_update(&s3, &bucket, &input.key, &v, notifications::OBJECT_TAGGING_PUT, Caller::Request(&ctx));
    Ok(PutObjectTaggingOutput { version_id: bucket.versioned().then(|| v.version_str().to_owned()) })
}

pub async fn delete_object_tagging(
    s3: Arc<S3>,
    ctx: RequestContext,
    input: DeleteObjectTaggingRequest,
) -> Result<DeleteObjectTaggingOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let v = common::update_version(&s3, "DELETE", &bucket, &input.key, input.version_id.as_deref(), |v| v.tags.clear())
        .await?;
    notify_update(&s3, &bucket, &input.key, &v, notifications::OBJECT_TAGGING_DELETE, Caller::Request(&ctx));
    Ok(DeleteObjectTaggingOutput { version_id: bucket.versioned().then(|| v.version_str().to_owned()) })
}

pub async fn get_object_attributes(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: GetObjectAttributesRequest,
) -> Result<GetObjectAttributesOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let v = find_version(&bucket, &input.key, input.version_id.as_deref())?;
    let wants = |a: &str| input.object_attributes.iter().any(|x| x == a);
    for a in &input.object_attributes {
        if !["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"].contains(&a.as_str()) {
            return Err(errors::invalid_argument("Invalid attribute name specified.", "x-amz-object-attributes", a));
        }
    }
    let mut out = GetObjectAttributesOutput {
        last_modified: Some(v.last_modified),
        version_id: bucket.versioned().then(|| v.version_str().to_owned()),
        ..Default::default()
    };
    if wants("ETag") {
        out.e_tag = Some(v.etag.trim_matches('"').to_owned());
    }
    if wants("StorageClass") {
        out.storage_class = Some(v.meta.storage_class.clone().unwrap_or_else(|| "STANDARD".into()));
    }
    if wants("ObjectSize") {
        out.object_size = Some(v.size() as i64);
    }
    if wants("Checksum")
        && let Some(c) = &v.checksum
    {
        let mut cs = Checksum { checksum_type: Some(c.kind.to_owned()), ..Default::default() };
        // Unlike GET and HEAD, the attributes give a composite checksum without its "-<parts>".
        let value = match c.value.rsplit_once('-') {
            Some((base, n)) if c.kind == "COMPOSITE" && n.bytes().all(|b| b.is_ascii_digit()) => base,
            _ => &c.value,
        };
        set_checksum(
            c.algorithm,
            value.to_owned(),
            &mut cs.checksum_crc32,
            &mut cs.checksum_crc32_c,
            &mut cs.checksum_crc64_nvme,
            &mut cs.checksum_sha1,
            &mut cs.checksum_sha256,
        );
        out.checksum = Some(cs);
    }
    if wants("ObjectParts") && !v.parts.is_empty() {
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let marker = input.part_number_marker.unwrap_or(0).max(0) as usize;
        let algorithm = v.checksum.as_ref().map(|c| c.algorithm);
        let parts: Vec<ObjectPart> = v
            .parts
            .iter()
            .enumerate()
            .skip(marker)
            .take(max)
            .map(|(i, p)| {
                let mut part =
                    ObjectPart { part_number: Some(i as i32 + 1), size: Some(p.size as i64), ..Default::default() };
                if let (Some(a), Some(value)) = (algorithm, &p.checksum) {
                    set_checksum(
                        a,
                        value.clone(),
                        &mut part.checksum_crc32,
                        &mut part.checksum_crc32_c,
                        &mut part.checksum_crc64_nvme,
                        &mut part.checksum_sha1,
                        &mut part.checksum_sha256,
                    );
                }
                part
            })
            .collect();
        let next = marker + parts.len();
        out.object_parts = Some(GetObjectAttributesParts {
            total_parts_count: Some(v.parts.len() as i32),
            part_number_marker: Some(marker as i32),
            next_part_number_marker: Some(next as i32),
            max_parts: Some(max as i32),
            is_truncated: Some(next < v.parts.len()),
            parts: Some(parts),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_like_aws() {
        assert_eq!(parse_range("bytes=0-4", 10), RangeSpec::Part(0, 4));
        assert_eq!(parse_range("bytes=5-", 10), RangeSpec::Part(5, 9));
        assert_eq!(parse_range("bytes=-3", 10), RangeSpec::Part(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), RangeSpec::Part(0, 9));
        assert_eq!(parse_range("bytes=8-100", 10), RangeSpec::Part(8, 9));
        assert_eq!(parse_range("bytes=10-", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 10), RangeSpec::Whole);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), RangeSpec::Whole);
        assert_eq!(parse_range("items=0-1", 10), RangeSpec::Whole);
    }

    #[test]
    fn copy_sources_parse() {
        assert_eq!(parse_copy_source("/b/a%20key/x").unwrap(), ("b".into(), "a key/x".into(), None));
        assert_eq!(parse_copy_source("b/k?versionId=abc").unwrap(), ("b".into(), "k".into(), Some("abc".into())));
        assert!(parse_copy_source("b").is_err());
    }
}
