//! Helpers every handler shares: finding buckets and versions, streaming a request body into the
//! object store while hashing it, and checking the checksums a client sent.

use crate::checksums::{self, Algorithm, Hasher, Md5Hasher};
use crate::errors;
use crate::state::{Blob, Bucket, ObjectVersion, S3};
use http::HeaderMap;
use http_body_util::BodyExt;
use ruststack_core::{AwsError, StreamingBody, Timestamp};
use std::sync::Arc;

/// Largest single PUT AWS accepts (5 GiB).
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Checks a `versionId` parameter's form: `null` or one of ours.
pub fn check_version_id(version_id: &str) -> Result<(), AwsError> {
    let ours =
        version_id.len() == 32 && version_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
    if version_id == "null" || ours {
        Ok(())
    } else {
        Err(errors::invalid_argument("Invalid version id specified", "versionId", version_id))
    }
}

/// The version a read addresses: the current one, or `version_id`.
/// A current delete marker answers NoSuchKey with `x-amz-delete-marker`; addressing a delete
/// marker by id answers 405 (AWS's MethodNotAllowed), as GET and HEAD do.
pub fn find_version(bucket: &Bucket, key: &str, version_id: Option<&str>) -> Result<Arc<ObjectVersion>, AwsError> {
    find_version_for("GET", bucket, key, version_id)
}

/// [`find_version`] for a request of another HTTP method, which the 405 on a delete marker names.
pub fn find_version_for(
    method: &'static str,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<Arc<ObjectVersion>, AwsError> {
    if let Some(v) = version_id {
        check_version_id(v)?;
    }
    let objects = bucket.objects.read();
    let versions = objects.get(key);
    match version_id {
        None => {
            let current = versions.and_then(|v| v.last()).ok_or_else(|| errors::no_such_key(key))?;
            if current.delete_marker {
                let mut err = errors::no_such_key(key).with_header("x-amz-delete-marker", "true");
                if bucket.versioned() {
                    err = err.with_header("x-amz-version-id", current.version_str().to_owned());
                }
                return Err(err);
            }
            Ok(current.clone())
        }
        Some(id) => {
            let found = versions.and_then(|vs| vs.iter().find(|v| v.version_str() == id));
            let found = found.ok_or_else(|| errors::no_such_version(key, id))?;
            if found.delete_marker {
                return Err(errors::method_not_allowed()
                    .with_field("Method", method)
                    .with_field("ResourceType", "DeleteMarker")
                    .with_header("x-amz-delete-marker", "true")
                    .with_header("x-amz-version-id", id.to_owned())
                    .with_header("last-modified", http_date(found.last_modified))
                    .with_header("allow", "DELETE"));
            }
            Ok(found.clone())
        }
    }
}

/// Replaces one version (tagging, ACL) under the key's write lock: the new list is written
/// first, then cached. Returns the new version.
pub async fn update_version(
    s3: &S3,
    method: &'static str,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    change: impl FnOnce(&mut ObjectVersion),
) -> Result<Arc<ObjectVersion>, AwsError> {
    try_update_version(s3, method, bucket, key, version_id, |v| {
        change(v);
        Ok(())
    })
    .await
}

/// [`update_version`] with a change that may refuse (Object Lock retention).
pub async fn try_update_version(
    s3: &S3,
    method: &'static str,
    bucket: &Bucket,
    key: &str,
    version_id: Option<&str>,
    change: impl FnOnce(&mut ObjectVersion) -> Result<(), AwsError>,
) -> Result<Arc<ObjectVersion>, AwsError> {
    let _serial = s3.lock_key(&bucket.name, key).await;
    let found = find_version_for(method, bucket, key, version_id)?;
    let mut versions = bucket.objects.read().get(key).cloned().unwrap_or_default();
    let at = versions.iter().position(|v| Arc::ptr_eq(v, &found)).ok_or_else(|| errors::no_such_key(key))?;
    let mut changed = (*found).clone();
    change(&mut changed)?;
    let changed = Arc::new(changed);
    versions[at] = changed.clone();
    s3.apply(vec![S3::versions_write(&bucket.name, key, &versions)])?;
    bucket.objects.write().insert(key.to_owned(), versions);
    Ok(changed)
}

pub fn http_date(t: Timestamp) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(t.millis.max(0) as u64))
}

/// The flexible checksum a write asks for: a value sent in a header, or an algorithm whose value
/// comes in the trailer (`x-amz-sdk-checksum-algorithm`).
#[derive(Debug, Default, Clone)]
pub struct ChecksumRequest {
    pub explicit: Option<(Algorithm, String)>,
    pub algorithm: Option<Algorithm>,
}

impl ChecksumRequest {
    /// From the `x-amz-checksum-*` header values (in [`Algorithm::ALL`] order) and the SDK's
    /// declared algorithm.
    pub fn new(values: [Option<&String>; 5], sdk_algorithm: Option<&str>) -> Result<Self, AwsError> {
        let mut explicit = None;
        for (algorithm, value) in Algorithm::ALL.into_iter().zip(values) {
            if let Some(value) = value {
                if explicit.is_some() {
                    return Err(errors::invalid_request(
                        "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                    ));
                }
                algorithm.check_value(value)?;
                explicit = Some((algorithm, value.clone()));
            }
        }
        let algorithm = match sdk_algorithm {
            None | Some("") => None,
            Some(name) => Some(Algorithm::from_name(name).ok_or_else(|| {
                errors::invalid_request("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
            })?),
        };
        if let (Some((a, _)), Some(b)) = (&explicit, algorithm)
            && *a != b
        {
            return Err(errors::invalid_request(format!(
                "Value for x-amz-sdk-checksum-algorithm header is invalid. Expected {} but got {}",
                a.name(),
                b.name()
            )));
        }
        Ok(ChecksumRequest { explicit, algorithm })
    }

    /// The algorithm to compute: the requested one, else CRC64NVME (AWS's default since 2025).
    pub fn to_compute(&self) -> Algorithm {
        self.explicit.as_ref().map(|e| e.0).or(self.algorithm).unwrap_or(Algorithm::Crc64Nvme)
    }
}

/// A body stored in the object store, with what was computed over it.
pub struct Written {
    /// Not yet recorded: the caller frees it if it does not commit.
    pub blob: Blob,
    pub md5: [u8; 16],
    pub checksum: (Algorithm, String),
    /// Whether the client sent (and we verified) the checksum, rather than us defaulting it.
    pub checksum_from_client: bool,
}

/// Bodies up to this size are kept in the kv store, in the batch that records them (one fsync
/// on disk instead of three: blob file, its directory, then the metadata).
pub const INLINE_MAX: usize = 32 * 1024;

/// A new blob being written: bytes go to the store while MD5 and a flexible checksum are
/// computed over them, within a size limit. A small body stays in memory until [`Sunk::store`]
/// makes it an inline blob; a larger one is streamed to the object store from the first byte
/// past [`INLINE_MAX`].
pub struct BlobSink {
    store: Arc<dyn ruststack_core::objects::ObjectStore>,
    small: bytes::BytesMut,
    writer: Option<Box<dyn ruststack_core::objects::BlobWriter>>,
    md5: Md5Hasher,
    hasher: Hasher,
    algorithm: Algorithm,
    size: u64,
    max_size: u64,
}

/// What a finished [`BlobSink`] computed, before the blob is stored.
pub struct Sunk {
    small: bytes::BytesMut,
    writer: Option<Box<dyn ruststack_core::objects::BlobWriter>>,
    pub md5: [u8; 16],
    pub checksum: (Algorithm, String),
    pub size: u64,
}

impl BlobSink {
    pub fn new(s3: &S3, algorithm: Algorithm, max_size: u64) -> Self {
        BlobSink {
            store: s3.store.clone(),
            small: bytes::BytesMut::new(),
            writer: None,
            md5: Md5Hasher::default(),
            hasher: Hasher::new(algorithm),
            algorithm,
            size: 0,
            max_size,
        }
    }

    pub async fn push(&mut self, data: bytes::Bytes) -> Result<(), AwsError> {
        self.size += data.len() as u64;
        if self.size > self.max_size {
            return Err(entity_too_large(self.size, self.max_size));
        }
        self.hasher.update(&data);
        self.md5.update(&data);
        if self.writer.is_none() {
            if self.small.len() + data.len() <= INLINE_MAX {
                self.small.extend_from_slice(&data);
                return Ok(());
            }
            let mut writer = self.store.create();
            if !self.small.is_empty() {
                writer.write(self.small.split().freeze()).await.map_err(errors::internal)?;
            }
            self.writer = Some(writer);
        }
        match &mut self.writer {
            Some(w) => w.write(data).await.map_err(errors::internal),
            None => Ok(()),
        }
    }

    /// The digests; the blob is stored only by [`Sunk::store`] (dropping discards it).
    pub fn finish(self) -> Sunk {
        Sunk {
            small: self.small,
            writer: self.writer,
            md5: self.md5.finish(),
            checksum: (self.algorithm, self.hasher.finish()),
            size: self.size,
        }
    }
}

impl Sunk {
    /// Stores the blob (durably, on disk), or holds a small one for the batch that records it;
    /// the caller records it or frees it.
    pub async fn store(self, s3: &S3) -> Result<Blob, AwsError> {
        match self.writer {
            Some(w) => {
                let id = w.finish().await.map_err(errors::internal)?;
                Ok(Blob { id, size: self.size, inline: false })
            }
            None => Ok(s3.hold_inline(self.small.freeze())),
        }
    }
}

/// Streams `body` into a new blob, hashing as it goes; then checks `Content-MD5` and the
/// flexible checksum (header or trailer). Nothing is kept when a check fails.
pub async fn write_body(
    s3: &S3,
    body: StreamingBody,
    content_md5: Option<&str>,
    checksum: &ChecksumRequest,
    max_size: u64,
) -> Result<Written, AwsError> {
    let expected_md5 = content_md5.map(checksums::parse_content_md5).transpose()?;
    let algorithm = checksum.to_compute();
    let mut sink = BlobSink::new(s3, algorithm, max_size);
    let mut trailers = HeaderMap::new();
    if let Some(mut body) = body.0 {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(errors::body_error)?;
            match frame.into_data() {
                Ok(data) => sink.push(data).await?,
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        trailers.extend(t);
                    }
                }
            }
        }
    }
    let sunk = sink.finish();
    let md5 = sunk.md5;
    if let Some(expected) = expected_md5
        && expected != md5
    {
        return Err(AwsError::bad_request(
            "BadDigest",
            "The Content-MD5 you specified did not match what we received.",
        )
        .with_field("ExpectedDigest", hex_of(&expected))
        .with_field("CalculatedDigest", checksums::md5_base64(&md5)));
    }
    let computed = sunk.checksum.1.clone();
    let mut sent = checksum.explicit.as_ref().map(|(_, v)| v.clone());
    for (name, value) in &trailers {
        let Some(a) = Algorithm::from_header(name.as_str()) else { continue };
        let value = value.to_str().unwrap_or("").to_owned();
        if a != algorithm {
            return Err(errors::invalid_request(format!(
                "The value specified in the x-amz-trailer header is not supported: {} was sent but {} was announced",
                a.name(),
                algorithm.name()
            )));
        }
        a.check_value(&value)?;
        sent = Some(value);
    }
    if let Some(sent) = &sent
        && *sent != computed
    {
        return Err(AwsError::bad_request(
            "BadDigest",
            format!("The {} you specified did not match the calculated checksum.", algorithm.name()),
        ));
    }
    let checksum_from_client = sent.is_some() || checksum.algorithm.is_some();
    let blob = sunk.store(s3).await?;
    Ok(Written { blob, md5, checksum: (algorithm, computed), checksum_from_client })
}

fn hex_of(md5: &[u8; 16]) -> String {
    checksums::md5_base64(md5)
}

pub fn entity_too_large(size: u64, max: u64) -> AwsError {
    AwsError::bad_request("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        .with_field("ProposedSize", size)
        .with_field("MaxSizeAllowed", max)
}

/// Copies a stored blob's range into a new blob (UploadPartCopy, CopyObject), computing its MD5
/// and, when asked, a flexible checksum in the same pass. `gone` answers a source deleted meanwhile.
pub async fn copy_range(
    s3: &S3,
    blob: Blob,
    range: std::ops::Range<u64>,
    algorithm: Option<Algorithm>,
    gone: impl FnOnce() -> AwsError,
) -> Result<(Blob, [u8; 16], Option<String>), AwsError> {
    let mut body = open(s3, blob, Some(range), gone)?;
    let mut sink = BlobSink::new(s3, algorithm.unwrap_or(Algorithm::Crc32), u64::MAX);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(errors::internal)?.into_data() else { continue };
        sink.push(data).await?;
    }
    let sunk = sink.finish();
    let (md5, checksum) = (sunk.md5, algorithm.map(|_| sunk.checksum.1.clone()));
    Ok((sunk.store(s3).await?, md5, checksum))
}

/// Opens a blob for reading; a blob deleted since its owner was looked up answers `gone()`.
pub fn open(
    s3: &S3,
    blob: Blob,
    range: Option<std::ops::Range<u64>>,
    gone: impl FnOnce() -> AwsError,
) -> Result<ruststack_core::body::Body, AwsError> {
    s3.read_blob(blob, range)
        .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { gone() } else { errors::internal(e) })
}

/// The checksum of a stored blob, streamed (multipart parts without one).
pub async fn checksum_of(s3: &S3, blob: Blob, algorithm: Algorithm) -> Result<String, AwsError> {
    let mut body = open(s3, blob, None, || errors::internal("a blob vanished"))?;
    let mut hasher = Hasher::new(algorithm);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(errors::internal)?.into_data() {
            hasher.update(&data);
        }
    }
    Ok(hasher.finish())
}

/// Concatenates blobs into a new one (CompleteMultipartUpload); in memory this shares the bytes.
/// `gone` answers a part deleted meanwhile (a concurrent abort).
pub async fn concat(s3: &S3, blobs: &[Blob], gone: impl Fn() -> AwsError) -> Result<Blob, AwsError> {
    let mut writer = s3.store.create();
    let mut size = 0;
    for blob in blobs {
        let mut body = open(s3, *blob, None, &gone)?;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(errors::internal)?.into_data() else { continue };
            size += data.len() as u64;
            writer.write(data).await.map_err(errors::internal)?;
        }
    }
    let id = writer.finish().await.map_err(errors::internal)?;
    Ok(Blob { id, size, inline: false })
}

/// Parses an `x-amz-tagging` header (a URL query string) into tags, checking AWS's limits.
pub fn parse_tagging_header(value: &str) -> Result<Vec<(String, String)>, AwsError> {
    let tags: Vec<(String, String)> = form_urlencoded::parse(value.as_bytes()).into_owned().collect();
    // The header has its own wording for system tags (the tagging documents say "System tags…").
    if tags.len() <= 10 && tags.iter().any(|(k, _)| k.starts_with("aws:")) {
        return Err(AwsError::bad_request("InvalidTag", "Your TagKey cannot be prefixed with aws:"));
    }
    check_tags(&tags)?;
    Ok(tags)
}

/// AWS's object tag limits.
pub fn check_tags(tags: &[(String, String)]) -> Result<(), AwsError> {
    if tags.len() > 10 {
        return Err(AwsError::bad_request("BadRequest", "Object tags cannot be greater than 10"));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(AwsError::bad_request("InvalidTag", "The TagKey you have provided is invalid"));
        }
        if v.chars().count() > 256 {
            return Err(AwsError::bad_request("InvalidTag", "The TagValue you have provided is too long, max 256"));
        }
        if tags[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(AwsError::bad_request("InvalidTag", "Cannot provide multiple Tags with the same key"));
        }
    }
    if tags.iter().any(|(k, _)| k.starts_with("aws:")) {
        return Err(AwsError::bad_request("InvalidTag", "System tags cannot be added/updated by requester"));
    }
    Ok(())
}

/// Whether an `If-Match` / `If-None-Match` list matches an ETag (`*` matches any).
pub fn etag_matches(condition: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    condition.split(',').map(str::trim).any(|c| c == "*" || c.trim_start_matches("W/").trim_matches('"') == bare)
}

/// Reads and drops what is left of a refused request body (up to a bound), so the connection
/// stays usable for the client's next request.
pub async fn drain(body: StreamingBody) {
    const LIMIT: u64 = 64 * 1024 * 1024;
    let Some(mut body) = body.0 else { return };
    let mut seen = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            seen += data.len() as u64;
            if seen > LIMIT {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_tags_are_refused_with_each_path_s_wording() {
        let header = parse_tagging_header("a=1&aws:b=2").unwrap_err();
        assert_eq!(
            (&*header.code, header.message.as_str()),
            ("InvalidTag", "Your TagKey cannot be prefixed with aws:")
        );
        let document = check_tags(&[("aws:b".into(), "2".into())]).unwrap_err();
        assert_eq!(document.message, "System tags cannot be added/updated by requester");
        // The count is checked first; a key merely containing "aws:" is fine.
        let many = (0..11).map(|i| format!("aws:k{i}=v")).collect::<Vec<_>>().join("&");
        assert_eq!(parse_tagging_header(&many).unwrap_err().code, "BadRequest");
        assert!(parse_tagging_header("x:aws:y=1").is_ok());
    }
}
