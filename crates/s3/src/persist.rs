//! Where S3 metadata is kept: written through to the core's [`KvStore`] (one batch per AWS
//! write, before the in-memory cache changes and before the answer), read back lazily — the
//! bucket registry on first use, a bucket's objects and uploads on the first request naming it.
//!
//! Trees (keys are bytes; bucket names never contain `\0`, so `bucket \0 …` is unambiguous,
//! and object keys only ever appear inside kv keys, never in file names):
//! - `s3/buckets`: bucket name → [`BucketRecord`];
//! - `s3/objects`: `bucket \0 key` → the key's versions, oldest first;
//! - `s3/uploads`: `bucket \0 upload id` → [`Upload`] (without its parts);
//! - `s3/parts`: `bucket \0 upload id \0 part number (u32 BE)` → [`Part`].
//!
//! Blobs: a write stores its blob before the batch that records it; a blob is deleted only after
//! the batch that dropped its owner committed ([`S3::free`]). A crash between the two leaves an
//! unreferenced blob file (never a reference to a missing one).

use crate::errors;
use crate::state::{Blob, Bucket, ObjectVersion, Part, S3, Settings, Upload};
use parking_lot::RwLockReadGuard;
use ruststack_core::body::Body;
use ruststack_core::store::{Write, prefix_end};
use ruststack_core::{AwsError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::io;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub const BUCKETS: &str = "s3/buckets";
pub const OBJECTS: &str = "s3/objects";
pub const UPLOADS: &str = "s3/uploads";
pub const PARTS: &str = "s3/parts";
pub const INLINE: &str = "s3/inline";

/// Entries read per range call while loading a bucket.
const PAGE: usize = 4096;

#[derive(Serialize, Deserialize)]
struct BucketRecord {
    account_id: String,
    region: String,
    created: Timestamp,
    #[serde(default)]
    settings: Settings,
}

fn scoped(bucket: &str, rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1 + rest.len());
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(rest);
    k
}

pub fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    scoped(bucket, key.as_bytes())
}

pub fn upload_key(bucket: &str, upload_id: &str) -> Vec<u8> {
    scoped(bucket, upload_id.as_bytes())
}

pub fn part_key(bucket: &str, upload_id: &str, number: i32) -> Vec<u8> {
    let mut k = upload_key(bucket, upload_id);
    k.push(0);
    k.extend_from_slice(&(number as u32).to_be_bytes());
    k
}

/// Every entry of `tree` under `prefix`, a page at a time.
fn scan(s3: &S3, tree: &str, prefix: &[u8], mut each: impl FnMut(&[u8], &[u8])) {
    let end = prefix_end(prefix);
    let end_bound = match &end {
        Some(e) => Bound::Excluded(e.as_slice()),
        None => Bound::Unbounded,
    };
    let mut last: Option<Vec<u8>> = None;
    loop {
        let start = match &last {
            Some(l) => Bound::Excluded(l.as_slice()),
            None => Bound::Included(prefix),
        };
        let page = s3.kv.range(tree, start, end_bound, PAGE);
        for (k, v) in &page {
            each(&k[prefix.len()..], v);
        }
        if page.len() < PAGE {
            return;
        }
        last = page.into_iter().last().map(|(k, _)| k);
    }
}

fn parse<T: serde::de::DeserializeOwned>(tree: &str, key: &[u8], value: &[u8]) -> Option<T> {
    match serde_json::from_slice(value) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(tree, key = %String::from_utf8_lossy(key), error = %e, "unreadable S3 record skipped");
            None
        }
    }
}

fn encode(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("S3 records serialize")
}

impl S3 {
    /// The bucket registry, read from the store on first use.
    pub fn registry(&self) -> RwLockReadGuard<'_, BTreeMap<String, Arc<Bucket>>> {
        if !self.registry_loaded.load(Ordering::Acquire) {
            let mut buckets = self.buckets.write();
            if !self.registry_loaded.load(Ordering::Acquire) {
                scan(self, BUCKETS, b"", |name, value| {
                    let Ok(name) = std::str::from_utf8(name) else { return };
                    if let Some(r) = parse::<BucketRecord>(BUCKETS, name.as_bytes(), value) {
                        let b = Bucket::with(name.to_owned(), r.account_id, r.region, r.created, r.settings);
                        buckets.insert(name.to_owned(), Arc::new(b));
                    }
                });
                self.registry_loaded.store(true, Ordering::Release);
            }
        }
        self.buckets.read()
    }

    /// A registered bucket, without loading its objects (settings only: CORS preflights, logging targets).
    pub fn registered(&self, name: &str) -> Option<Arc<Bucket>> {
        self.registry().get(name).cloned()
    }

    /// A bucket with its objects and uploads loaded.
    pub fn bucket(&self, name: &str) -> Result<Arc<Bucket>, AwsError> {
        let bucket = self.registered(name).ok_or_else(|| errors::no_such_bucket(name))?;
        bucket.loaded.get_or_init(|| self.load_contents(&bucket));
        Ok(bucket)
    }

    fn load_contents(&self, bucket: &Bucket) {
        let prefix = scoped(&bucket.name, b"");
        let mut objects = bucket.objects.write();
        scan(self, OBJECTS, &prefix, |key, value| {
            let Ok(key) = std::str::from_utf8(key) else { return };
            if let Some(versions) = parse::<Vec<ObjectVersion>>(OBJECTS, key.as_bytes(), value)
                && !versions.is_empty()
            {
                objects.insert(key.to_owned(), versions.into_iter().map(Arc::new).collect());
            }
        });
        let mut uploads = bucket.uploads.lock();
        scan(self, UPLOADS, &prefix, |id, value| {
            if let Some(u) = parse::<Upload>(UPLOADS, id, value) {
                uploads.insert(u.id.clone(), Arc::new(u));
            }
        });
        scan(self, PARTS, &prefix, |rest, value| {
            let Some(at) = rest.iter().position(|b| *b == 0) else { return };
            let Ok(id) = std::str::from_utf8(&rest[..at]) else { return };
            if let (Some(u), Some(p)) = (uploads.get(id), parse::<Part>(PARTS, rest, value)) {
                u.parts.lock().insert(p.number, Arc::new(p));
            }
        });
    }

    /// A bucket made by this process: nothing to load.
    pub fn mark_loaded(bucket: &Bucket) {
        let _ = bucket.loaded.set(());
    }

    fn key_lock_index(&self, bucket: &str, key: &str) -> usize {
        self.key_hasher.hash_one((bucket, key)) as usize % self.key_locks.len()
    }

    /// The write lock of one key (its versions and its multipart uploads).
    pub async fn lock_key(&self, bucket: &str, key: &str) -> tokio::sync::MutexGuard<'_, ()> {
        self.key_locks[self.key_lock_index(bucket, key)].lock().await
    }

    /// The write locks of several keys, taken in one order (no deadlock between two such calls).
    pub async fn lock_keys<'k>(
        &self,
        bucket: &str,
        keys: impl Iterator<Item = &'k str>,
    ) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let mut at: Vec<usize> = keys.map(|k| self.key_lock_index(bucket, k)).collect();
        at.sort_unstable();
        at.dedup();
        let mut guards = Vec::with_capacity(at.len());
        for i in at {
            guards.push(self.key_locks[i].lock().await);
        }
        guards
    }

    /// Commits one batch (durably, on disk); a failure is the request's 500.
    pub fn apply(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        self.kv.blocking(|kv| kv.apply(writes)).map_err(|e| {
            tracing::error!(error = %e, "cannot store S3 metadata");
            errors::internal(e)
        })
    }

    /// Deletes blobs whose owners a committed batch removed (or that were never recorded).
    /// Recorded inline bodies were deleted by that batch ([`S3::inline_writes`]).
    pub fn free(&self, blobs: impl IntoIterator<Item = Blob>) {
        for b in blobs {
            if b.inline {
                self.pending_inline.lock().remove(&b.id);
            } else {
                self.store.delete(b.id);
            }
        }
    }

    /// Holds a small body for the batch that will record it.
    pub fn hold_inline(&self, bytes: bytes::Bytes) -> Blob {
        let mut pending = self.pending_inline.lock();
        let mut id = fastrand::u64(..);
        while pending.contains_key(&id) {
            id = fastrand::u64(..);
        }
        let size = bytes.len() as u64;
        pending.insert(id, bytes);
        Blob { id, size, inline: true }
    }

    /// The writes a batch needs for the blobs it records (their held inline bodies) and the
    /// blobs it drops (inline bodies go in the same batch).
    pub fn inline_writes(&self, recorded: impl IntoIterator<Item = Blob>, dropped: &[Blob]) -> Vec<Write> {
        let mut writes = Vec::new();
        for b in recorded.into_iter().filter(|b| b.inline) {
            if let Some(bytes) = self.pending_inline.lock().get(&b.id) {
                writes.push(Write::Put {
                    tree: INLINE.into(),
                    key: b.id.to_be_bytes().to_vec(),
                    value: bytes.to_vec(),
                });
            }
        }
        for b in dropped.iter().filter(|b| b.inline) {
            writes.push(Write::Delete { tree: INLINE.into(), key: b.id.to_be_bytes().to_vec() });
        }
        writes
    }

    /// After the batch of [`S3::inline_writes`] committed: the held bodies are on record.
    pub fn inline_recorded(&self, recorded: impl IntoIterator<Item = Blob>) {
        for b in recorded.into_iter().filter(|b| b.inline) {
            self.pending_inline.lock().remove(&b.id);
        }
    }

    pub fn read_blob(&self, blob: Blob, range: Option<std::ops::Range<u64>>) -> io::Result<Body> {
        if !blob.inline {
            return self.store.read(blob.id, range);
        }
        let bytes = self
            .kv
            .get(INLINE, &blob.id.to_be_bytes())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no inline body {}", blob.id)))?;
        let len = bytes.len() as u64;
        let range = range.unwrap_or(0..len);
        let bytes = bytes::Bytes::from(bytes).slice(range.start.min(len) as usize..range.end.min(len) as usize);
        Ok(ruststack_core::body::full(bytes))
    }

    pub fn bucket_write(bucket: &Bucket, settings: &Settings) -> Write {
        let record = BucketRecord {
            account_id: bucket.account_id.clone(),
            region: bucket.region.clone(),
            created: bucket.created,
            settings: settings.clone(),
        };
        Write::Put { tree: BUCKETS.into(), key: bucket.name.as_bytes().to_vec(), value: encode(&record) }
    }

    /// Changes a bucket's settings: the record is written first, then the cache.
    pub fn update_settings<R>(
        &self,
        bucket: &Bucket,
        f: impl FnOnce(&mut Settings) -> Result<R, AwsError>,
    ) -> Result<R, AwsError> {
        let _serial = bucket.settings_lock.lock();
        let mut settings = bucket.settings.read().clone();
        let result = f(&mut settings)?;
        if bucket.deleted.load(Ordering::Acquire) {
            return Err(errors::no_such_bucket(&bucket.name));
        }
        self.apply(vec![S3::bucket_write(bucket, &settings)])?;
        *bucket.settings.write() = settings;
        Ok(result)
    }

    /// Stores a sub-resource document (replacing the previous one).
    pub fn set_config(&self, bucket: &Bucket, name: &str, value: &impl Serialize) -> Result<(), AwsError> {
        let value = serde_json::to_value(value).map_err(errors::internal)?;
        self.update_settings(bucket, |s| {
            s.config.insert(name.to_owned(), value);
            Ok(())
        })
    }

    /// Removes a sub-resource document; whether there was one.
    pub fn remove_config(&self, bucket: &Bucket, name: &str) -> Result<bool, AwsError> {
        if !bucket.has_config(name) {
            return Ok(false);
        }
        self.update_settings(bucket, |s| Ok(s.config.remove(name).is_some()))
    }

    /// The write that stores a key's version list (or removes the key when it has none left).
    pub fn versions_write(bucket: &str, key: &str, versions: &[Arc<ObjectVersion>]) -> Write {
        let k = object_key(bucket, key);
        if versions.is_empty() {
            return Write::Delete { tree: OBJECTS.into(), key: k };
        }
        let list: Vec<&ObjectVersion> = versions.iter().map(|v| &**v).collect();
        Write::Put { tree: OBJECTS.into(), key: k, value: encode(&list) }
    }

    pub fn upload_write(bucket: &str, upload: &Upload) -> Write {
        Write::Put { tree: UPLOADS.into(), key: upload_key(bucket, &upload.id), value: encode(upload) }
    }

    pub fn part_write(bucket: &str, upload_id: &str, part: &Part) -> Write {
        Write::Put { tree: PARTS.into(), key: part_key(bucket, upload_id, part.number), value: encode(part) }
    }

    /// The writes that forget an upload and its parts, and the part blobs to free once they commit.
    pub fn upload_removal(bucket: &str, upload: &Upload) -> (Vec<Write>, Vec<Blob>) {
        let parts = upload.parts.lock();
        let mut writes = Vec::with_capacity(parts.len() + 1);
        writes.push(Write::Delete { tree: UPLOADS.into(), key: upload_key(bucket, &upload.id) });
        for n in parts.keys() {
            writes.push(Write::Delete { tree: PARTS.into(), key: part_key(bucket, &upload.id, *n) });
        }
        (writes, parts.values().map(|p| p.blob).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::generated::types::*;
    use crate::state::S3;
    use ruststack_core::store::Storage;
    use ruststack_core::{RequestContext, StreamingBody};
    use std::sync::Arc;

    fn ctx() -> RequestContext {
        RequestContext::for_tests("test")
    }

    async fn put(s3: &Arc<S3>, bucket: &str, key: &str, body: &'static [u8]) -> PutObjectOutput {
        let input = PutObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            body: StreamingBody::from_bytes(body),
            ..Default::default()
        };
        crate::objects::put_object(s3.clone(), ctx(), input).await.unwrap()
    }

    async fn get(s3: &Arc<S3>, bucket: &str, key: &str, version: Option<&str>) -> Result<Vec<u8>, String> {
        let input = GetObjectRequest {
            bucket: bucket.into(),
            key: key.into(),
            version_id: version.map(Into::into),
            ..Default::default()
        };
        let out = crate::objects::get_object(s3.clone(), ctx(), input).await.map_err(|e| e.code.into_owned())?;
        let body = ruststack_core::body::collect(out.body.0.unwrap(), usize::MAX).await.unwrap();
        Ok(body.to_vec())
    }

    /// Writes through one S3 instance, reads back through a fresh one on the same stores (a restart).
    async fn survives_a_restart(storage: Storage) {
        let s3 = Arc::new(S3::new(storage.clone()));
        let create = CreateBucketRequest { bucket: "bkt".into(), ..Default::default() };
        crate::buckets::create_bucket(s3.clone(), ctx(), create).await.unwrap();
        let tagging = PutBucketTaggingRequest {
            bucket: "bkt".into(),
            tagging: Tagging { tag_set: vec![Tag { key: "k".into(), value: "v".into() }] },
            ..Default::default()
        };
        crate::config::put_bucket_tagging(s3.clone(), ctx(), tagging).await.unwrap();
        for key in ["../../etc/passwd", "a/../../b", "%2F..", "日本語"] {
            put(&s3, "bkt", key, b"traversal").await;
        }
        put(&s3, "bkt", "plain", b"first").await;
        put(&s3, "bkt", "big", &[7u8; 100_000]).await;
        let overwritten = put(&s3, "bkt", "plain", b"second").await;
        assert_eq!(overwritten.version_id, None);
        let versioning = PutBucketVersioningRequest {
            bucket: "bkt".into(),
            versioning_configuration: VersioningConfiguration { status: Some("Enabled".into()), ..Default::default() },
            ..Default::default()
        };
        crate::buckets::put_bucket_versioning(s3.clone(), ctx(), versioning).await.unwrap();
        let v1 = put(&s3, "bkt", "versioned", b"one").await.version_id.unwrap();
        let v2 = put(&s3, "bkt", "versioned", b"two").await.version_id.unwrap();
        let doomed = put(&s3, "bkt", "versioned", b"three").await.version_id.unwrap();
        let blob = s3.bucket("bkt").unwrap().objects.read()["versioned"].last().unwrap().blob.unwrap();
        let delete = DeleteObjectRequest {
            bucket: "bkt".into(),
            key: "versioned".into(),
            version_id: Some(doomed),
            ..Default::default()
        };
        crate::objects::delete_object(s3.clone(), ctx(), delete).await.unwrap();
        assert!(s3.read_blob(blob, None).is_err(), "a deleted version's blob is freed");
        let upload = CreateMultipartUploadRequest { bucket: "bkt".into(), key: "mp".into(), ..Default::default() };
        let upload_id =
            crate::multipart::create_multipart_upload(s3.clone(), ctx(), upload).await.unwrap().upload_id.unwrap();
        let part = UploadPartRequest {
            bucket: "bkt".into(),
            key: "mp".into(),
            upload_id: upload_id.clone(),
            part_number: 1,
            body: StreamingBody::from_bytes(&b"part one"[..]),
            ..Default::default()
        };
        crate::multipart::upload_part(s3.clone(), ctx(), part).await.unwrap();
        drop(s3);

        let s3 = Arc::new(S3::new(storage.clone()));
        assert_eq!(get(&s3, "bkt", "plain", None).await.unwrap(), b"second");
        assert_eq!(get(&s3, "bkt", "big", None).await.unwrap(), vec![7u8; 100_000]);
        for key in ["../../etc/passwd", "a/../../b", "%2F..", "日本語"] {
            assert_eq!(get(&s3, "bkt", key, None).await.unwrap(), b"traversal", "{key}");
        }
        assert_eq!(get(&s3, "bkt", "versioned", None).await.unwrap(), b"two");
        assert_eq!(get(&s3, "bkt", "versioned", Some(&v1)).await.unwrap(), b"one");
        assert_eq!(get(&s3, "bkt", "versioned", Some(&v2)).await.unwrap(), b"two");
        let bucket = s3.bucket("bkt").unwrap();
        assert!(bucket.versioning_enabled());
        assert_eq!(bucket.config::<Tagging>(crate::config::TAGGING).unwrap().tag_set[0].value, "v");
        let up = bucket.uploads.lock()[&upload_id].clone();
        assert_eq!(up.parts.lock()[&1].blob.size, 8);

        let abort = AbortMultipartUploadRequest {
            bucket: "bkt".into(),
            key: "mp".into(),
            upload_id: upload_id.clone(),
            ..Default::default()
        };
        crate::multipart::abort_multipart_upload(s3.clone(), ctx(), abort).await.unwrap();
        let part_blob = up.parts.lock()[&1].blob;
        assert!(s3.read_blob(part_blob, None).is_err(), "an aborted upload's parts are freed");
        let big = s3.bucket("bkt").unwrap().objects.read()["big"].last().unwrap().blob.unwrap();
        assert!(!big.inline && s3.read_blob(big, None).is_ok());
        let delete = DeleteObjectRequest {
            bucket: "bkt".into(),
            key: "big".into(),
            version_id: Some("null".into()),
            ..Default::default()
        };
        crate::objects::delete_object(s3.clone(), ctx(), delete).await.unwrap();
        assert!(storage.objects.read(big.id, None).is_err(), "a file blob is deleted with its last version");
        let s3 = Arc::new(S3::new(storage));
        assert!(s3.bucket("bkt").unwrap().uploads.lock().is_empty());
    }

    #[tokio::test]
    async fn memory_state_survives_a_new_instance() {
        survives_a_restart(Storage::memory()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn disk_state_survives_a_new_instance() {
        let dir = std::env::temp_dir().join(format!("ruststack-s3-test-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let storage = Storage {
            kv: Arc::new(ruststack_persist::SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap()),
            objects: Arc::new(ruststack_persist::DiskObjects::open(&dir.join("objects")).unwrap()),
        };
        survives_a_restart(storage).await;
        // Blob files are named by random ids, never by keys.
        for entry in walk(&dir.join("objects")) {
            let name = entry.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
        out
    }
}
