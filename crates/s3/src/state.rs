//! What S3 keeps: buckets (global names, each owned by an account), their objects as version
//! lists in a `BTreeMap` (UTF-8 binary key order, so listings page without sorting), multipart
//! uploads, and bucket configuration. Object bytes live in the core's [`ObjectStore`]; the
//! metadata is written through to the core's [`KvStore`] (see `persist.rs`) and these maps are
//! its cache, filled per bucket on first use.

use crate::checksums::Algorithm;
use parking_lot::{Mutex, RwLock};
use ruststack_core::Timestamp;
use ruststack_core::objects::{BlobId, ObjectStore};
use ruststack_core::store::{KvStore, Storage};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

/// How many locks writes to keys are spread over.
const KEY_LOCKS: usize = 256;

/// The S3 service state.
pub struct S3 {
    /// The bucket registry (a cache of `s3/buckets`, loaded whole on first use: it is small).
    pub(crate) buckets: RwLock<BTreeMap<String, Arc<Bucket>>>,
    pub(crate) registry_loaded: AtomicBool,
    pub store: Arc<dyn ObjectStore>,
    pub kv: Arc<dyn KvStore>,
    /// Serializes the writes to one key (its versions and its uploads): check, batch, cache update.
    pub(crate) key_locks: Box<[tokio::sync::Mutex<()>]>,
    pub(crate) key_hasher: std::hash::RandomState,
    /// Serializes bucket creation and deletion.
    pub(crate) registry_lock: tokio::sync::Mutex<()>,
    /// Small bodies received and not yet recorded: they go into the batch that records them.
    pub(crate) pending_inline: Mutex<HashMap<BlobId, bytes::Bytes>>,
    /// Event notifications: where they go and the task delivering them.
    pub(crate) notifier: crate::notifications::Notifier,
}

impl S3 {
    pub fn new(storage: Storage) -> Self {
        S3 {
            buckets: RwLock::default(),
            registry_loaded: AtomicBool::new(false),
            store: storage.objects,
            kv: storage.kv,
            key_locks: (0..KEY_LOCKS).map(|_| tokio::sync::Mutex::new(())).collect(),
            key_hasher: Default::default(),
            registry_lock: Default::default(),
            pending_inline: Default::default(),
            notifier: Default::default(),
        }
    }
}

impl Default for S3 {
    fn default() -> Self {
        S3::new(Storage::memory())
    }
}

impl ruststack_core::ServiceState for S3 {
    fn reset(&self) {
        // The gateway clears the stores next: the empty cache is what they will hold.
        self.buckets.write().clear();
        self.registry_loaded.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// A stored blob: its id in the object store and its size. Each version and part owns its blob
/// alone (copies copy the bytes), so a blob is deleted when the batch dropping its owner commits.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Blob {
    pub id: BlobId,
    pub size: u64,
    /// A small body kept in the kv store (`s3/inline`) rather than the object store.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline: bool,
}

/// What a bucket record keeps besides its identity: written whole on every change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `Enabled` / `Suspended`, or `None` for a bucket never versioned.
    pub versioning: Option<String>,
    /// Object Lock enabled (at creation, or later by PutObjectLockConfiguration).
    pub object_lock: bool,
    /// Stored sub-resource documents (`tagging`, `cors`, `policy`, …) as their JSON values.
    pub config: BTreeMap<String, serde_json::Value>,
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
    pub settings: RwLock<Settings>,
    /// Serializes writes of the bucket record.
    pub(crate) settings_lock: Mutex<()>,
    /// Set once the objects and uploads were read from the store.
    pub(crate) loaded: OnceLock<()>,
    /// Set by DeleteBucket: writes still holding the bucket must not record anything.
    pub(crate) deleted: AtomicBool,
}

impl Bucket {
    pub fn new(name: String, account_id: String, region: String) -> Self {
        Bucket::with(name, account_id, region, now(), Settings::default())
    }

    pub fn with(name: String, account_id: String, region: String, created: Timestamp, settings: Settings) -> Self {
        Bucket {
            name,
            account_id,
            region,
            created,
            objects: RwLock::default(),
            uploads: Mutex::default(),
            settings: RwLock::new(settings),
            settings_lock: Mutex::default(),
            loaded: OnceLock::new(),
            deleted: AtomicBool::new(false),
        }
    }

    /// Whether new writes get fresh version ids.
    pub fn versioning_enabled(&self) -> bool {
        self.settings.read().versioning.as_deref() == Some("Enabled")
    }

    /// Whether versions carry ids in responses (versioning configured at least once).
    pub fn versioned(&self) -> bool {
        self.settings.read().versioning.is_some()
    }

    pub fn versioning(&self) -> Option<String> {
        self.settings.read().versioning.clone()
    }

    pub fn object_lock_enabled(&self) -> bool {
        self.settings.read().object_lock
    }

    /// A stored sub-resource document, as the generated type it was stored from.
    pub fn config<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<T> {
        self.settings.read().config.get(name).and_then(|v| serde_json::from_value(v.clone()).ok())
    }

    pub fn has_config(&self, name: &str) -> bool {
        self.settings.read().config.contains_key(name)
    }

    /// Sets a sub-resource document of a bucket not yet registered (CreateBucket's defaults);
    /// registered buckets change through [`S3::set_config`].
    pub fn init_config(&self, name: &str, value: &impl serde::Serialize) {
        if let Ok(v) = serde_json::to_value(value) {
            self.settings.write().config.insert(name.to_owned(), v);
        }
    }
}

/// Content headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub content_disposition: Option<String>,
    pub content_language: Option<String>,
    pub cache_control: Option<String>,
    pub expires: Option<String>,
}

/// What describes an object besides its bytes (shared by PutObject, CopyObject and multipart).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
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
    /// Object Lock retention and legal hold (set at creation, changed in place by
    /// PutObjectRetention and PutObjectLegalHold).
    #[serde(skip_serializing_if = "Lock::is_empty")]
    pub lock: Lock,
}

/// The Object Lock state of a version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lock {
    /// `GOVERNANCE` or `COMPLIANCE`, with `until`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// `None` until a legal hold was set ON or OFF.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<bool>,
}

impl Lock {
    pub fn is_empty(&self) -> bool {
        *self == Lock::default()
    }
}

/// A flexible checksum stored with an object.
#[derive(Debug, Clone, Serialize)]
pub struct StoredChecksum {
    pub algorithm: Algorithm,
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    pub kind: &'static str,
}

/// A [`StoredChecksum`] as read back.
#[derive(Deserialize)]
struct ChecksumRecord {
    algorithm: Algorithm,
    value: String,
    kind: String,
}

impl<'de> Deserialize<'de> for StoredChecksum {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = ChecksumRecord::deserialize(d)?;
        let kind = if r.kind == "COMPOSITE" { "COMPOSITE" } else { "FULL_OBJECT" };
        Ok(StoredChecksum { algorithm: r.algorithm, value: r.value, kind })
    }
}

/// One part of a completed multipart object (for `partNumber` reads and GetObjectAttributes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartInfo {
    pub size: u64,
    pub checksum: Option<String>,
}

/// One version of a key: an object or a delete marker. Immutable once stored: tagging and ACL
/// changes replace the version in its list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectVersion {
    /// `None` is the `null` version.
    pub version_id: Option<String>,
    pub delete_marker: bool,
    pub last_modified: Timestamp,
    pub etag: String,
    pub blob: Option<Blob>,
    pub meta: ObjectMeta,
    pub checksum: Option<StoredChecksum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartInfo>,
    /// Replaced by PutObjectTagging / DeleteObjectTagging.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Replaced by PutObjectAcl (`None`: the owner's full control).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<crate::generated::types::Grant>>,
    /// The multipart upload that made this version: completing it again answers as the first
    /// completion did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<String>,
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
            tags: Vec::new(),
            acl: None,
            upload_id: None,
        }
    }
}

/// An upload in progress.
#[derive(Serialize, Deserialize)]
pub struct Upload {
    pub id: String,
    pub key: String,
    pub initiated: Timestamp,
    pub meta: ObjectMeta,
    pub checksum_algorithm: Option<Algorithm>,
    pub checksum_type: Option<String>,
    /// Kept as records of their own (`s3/parts`).
    #[serde(skip)]
    pub parts: Mutex<BTreeMap<i32, Arc<Part>>>,
}

#[derive(Serialize, Deserialize)]
pub struct Part {
    pub number: i32,
    pub etag: String,
    pub md5: [u8; 16],
    pub blob: Blob,
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
