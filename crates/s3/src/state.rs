//! What S3 keeps: buckets (global names, each owned by an account), their objects as version
//! lists in a `BTreeMap` (UTF-8 binary key order, so listings page without sorting), multipart
//! uploads, and bucket configuration. Object bytes live in the core's [`ObjectStore`].

use crate::checksums::Algorithm;
use parking_lot::{Mutex, RwLock};
use ruststack_core::Timestamp;
use ruststack_core::objects::{BlobId, ObjectStore};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The S3 service state.
pub struct S3 {
    pub buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    pub store: Arc<dyn ObjectStore>,
}

impl Default for S3 {
    fn default() -> Self {
        S3 { buckets: RwLock::default(), store: Arc::new(ruststack_core::objects::MemoryObjects::default()) }
    }
}

impl ruststack_core::ServiceState for S3 {
    fn reset(&self) {
        self.buckets.write().clear();
        self.store.clear();
    }
}

/// A stored blob, deleted from the store when the last version or part holding it goes away
/// (copies share it; a GET in flight keeps streaming what it started).
pub struct BlobRef {
    pub id: BlobId,
    pub size: u64,
    store: Arc<dyn ObjectStore>,
}

impl BlobRef {
    pub fn new(store: Arc<dyn ObjectStore>, id: BlobId, size: u64) -> Arc<Self> {
        Arc::new(BlobRef { id, size, store })
    }

    pub fn read(
        &self,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<ruststack_core::body::Body, ruststack_core::AwsError> {
        self.store.read(self.id, range).map_err(crate::errors::internal)
    }
}

impl Drop for BlobRef {
    fn drop(&mut self) {
        self.store.delete(self.id);
    }
}

pub struct Bucket {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub created: Timestamp,
    /// Key → versions, oldest first; the last one is the current version.
    pub objects: RwLock<BTreeMap<String, Vec<Arc<ObjectVersion>>>>,
    /// Upload id → upload.
    pub uploads: Mutex<HashMap<String, Arc<Upload>>>,
    /// `Enabled` / `Suspended`, or `None` for a bucket never versioned.
    pub versioning: RwLock<Option<String>>,
    /// Stored sub-resource documents (`tagging`, `cors`, `policy`, …) as their JSON values.
    pub config: RwLock<HashMap<&'static str, serde_json::Value>>,
    /// Object Lock enabled (at creation, or later by PutObjectLockConfiguration).
    pub object_lock: std::sync::atomic::AtomicBool,
}

impl Bucket {
    pub fn new(name: String, account_id: String, region: String) -> Self {
        Bucket {
            name,
            account_id,
            region,
            created: now(),
            objects: RwLock::default(),
            uploads: Mutex::default(),
            versioning: RwLock::default(),
            config: RwLock::default(),
            object_lock: Default::default(),
        }
    }

    /// Whether new writes get fresh version ids.
    pub fn versioning_enabled(&self) -> bool {
        self.versioning.read().as_deref() == Some("Enabled")
    }

    /// Whether versions carry ids in responses (versioning configured at least once).
    pub fn versioned(&self) -> bool {
        self.versioning.read().is_some()
    }

    pub fn object_lock_enabled(&self) -> bool {
        self.object_lock.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A stored sub-resource document, as the generated type it was stored from.
    pub fn config<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.config.read().get(name).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub fn has_config(&self, name: &str) -> bool {
        self.config.read().contains_key(name)
    }

    /// Stores a sub-resource document (replacing the previous one).
    pub fn set_config(&self, name: &'static str, value: &impl serde::Serialize) {
        if let Ok(v) = serde_json::to_value(value) {
            self.config.write().insert(name, v);
        }
    }

    /// Removes a sub-resource document; whether there was one.
    pub fn remove_config(&self, name: &str) -> bool {
        self.config.write().remove(name).is_some()
    }
}

/// Content headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
}

/// What describes an object besides its bytes (shared by PutObject, CopyObject and multipart).
#[derive(Debug, Clone, Default)]
pub struct ObjectMeta {
    pub headers: ContentHeaders,
    pub metadata: HashMap<String, String>,
    pub storage_class: Option<String>,
    pub website_redirect: Option<String>,
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub tags: Vec<(String, String)>,
    /// The ACL the creating request set (`None`: the owner's full control).
    pub acl: Option<Vec<crate::generated::types::Grant>>,
}

/// A flexible checksum stored with an object.
#[derive(Debug, Clone)]
pub struct StoredChecksum {
    pub algorithm: Algorithm,
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: &'static str,
}

/// One part of a completed multipart object (for `partNumber` reads and GetObjectAttributes).
#[derive(Debug, Clone)]
pub struct PartInfo {
    pub size: u64,
    pub checksum: Option<String>,
}

/// One version of a key: an object or a delete marker.
pub struct ObjectVersion {
    /// `None` is the `null` version.
    pub version_id: Option<String>,
    pub delete_marker: bool,
    pub last_modified: Timestamp,
    pub etag: String,
    pub blob: Option<Arc<BlobRef>>,
    pub meta: ObjectMeta,
    pub checksum: Option<StoredChecksum>,
    pub parts: Vec<PartInfo>,
    /// Replaced by PutObjectTagging / DeleteObjectTagging.
    pub tags: Mutex<Vec<(String, String)>>,
    /// Replaced by PutObjectAcl (`None`: the owner's full control).
    pub acl: Mutex<Option<Vec<crate::generated::types::Grant>>>,
}

impl ObjectVersion {
    pub fn size(&self) -> u64 {
        self.blob.as_ref().map_or(0, |b| b.size)
    }

    pub fn version_str(&self) -> &str {
        self.version_id.as_deref().unwrap_or("null")
    }

    pub fn delete_marker(version_id: Option<String>) -> Self {
        ObjectVersion {
            version_id,
            delete_marker: true,
            last_modified: now(),
            etag: String::new(),
            blob: None,
            meta: ObjectMeta::default(),
            checksum: None,
            parts: Vec::new(),
            tags: Mutex::default(),
            acl: Mutex::default(),
        }
    }
}

/// An upload in progress.
pub struct Upload {
    pub id: String,
    pub key: String,
    pub initiated: Timestamp,
    pub meta: ObjectMeta,
    pub checksum_algorithm: Option<Algorithm>,
    pub checksum_type: Option<String>,
    pub parts: Mutex<BTreeMap<i32, Arc<Part>>>,
}

pub struct Part {
    pub number: i32,
    pub etag: String,
    pub md5: [u8; 16],
    pub blob: Arc<BlobRef>,
    pub last_modified: Timestamp,
    pub checksum: Option<(Algorithm, String)>,
}

/// Now, at the second precision S3 timestamps have.
pub fn now() -> Timestamp {
    let t = Timestamp::now();
    Timestamp { millis: t.millis - t.millis % 1000 }
}

/// A new version id: 32 URL-safe characters, as AWS's look.
pub fn new_version_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    (0..32).map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char).collect()
}

/// A new multipart upload id.
pub fn new_upload_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..64).map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char).collect()
}
