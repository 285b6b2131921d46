//! How secrets sit in the kv store (`--data-dir` or memory), one account and region per key range:
//!
//! - `secretsmanager/secrets`: `account \0 region \0 name` → the secret as JSON, its versions'
//!   ids, labels and dates included but not their values;
//! - `secretsmanager/values`: `account \0 region \0 name \0 version-id` → one version's value,
//!   a tag byte (`s` text, `b` binary) then its bytes as they are.
//!
//! Values never change once written, so a change of labels, tags or settings rewrites only the
//! small record, and a new version adds one value entry. Secret names cannot contain `\0`, so the
//! first `\0` after the prefix ends the name.

use crate::state::{Secret, SecretValue};
use bytes::Bytes;
use ruststack_core::AwsError;
use ruststack_core::store::{KvStore, MemoryStore, Write, prefix_end};
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;

const SECRETS: &str = "secretsmanager/secrets";
const VALUES: &str = "secretsmanager/values";

/// The store of one account and region: the kv store and the key prefix of the region.
pub struct RegionStore {
    kv: Arc<dyn KvStore>,
    scope: Vec<u8>,
}

impl Default for RegionStore {
    /// A private memory store (regions built outside [`crate::state::SecretsState`], in tests).
    fn default() -> Self {
        RegionStore { kv: Arc::new(MemoryStore::default()), scope: Vec::new() }
    }
}

impl RegionStore {
    pub fn new(kv: Arc<dyn KvStore>, account: &str, region: &str) -> Self {
        let scope = ruststack_core::store::region_scope(account, region);
        RegionStore { kv, scope }
    }

    fn secret_key(&self, name: &str) -> Vec<u8> {
        let mut key = self.scope.clone();
        key.extend_from_slice(name.as_bytes());
        key
    }

    fn value_key(&self, name: &str, version: &str) -> Vec<u8> {
        let mut key = self.secret_key(name);
        key.push(0);
        key.extend_from_slice(version.as_bytes());
        key
    }

    /// Every secret of the region, with its values.
    pub fn load(&self) -> BTreeMap<String, Secret> {
        let mut secrets = BTreeMap::new();
        for (key, record) in self.range(SECRETS) {
            match serde_json::from_slice::<Secret>(&record) {
                Ok(secret) => {
                    secrets.insert(secret.name.clone(), secret);
                }
                Err(e) => tracing::error!(key = %String::from_utf8_lossy(&key), error = %e, "unreadable secret record"),
            }
        }
        for (key, stored) in self.range(VALUES) {
            let rest = &key[self.scope.len()..];
            let Some(cut) = rest.iter().position(|b| *b == 0) else { continue };
            let (name, version) = (String::from_utf8_lossy(&rest[..cut]), String::from_utf8_lossy(&rest[cut + 1..]));
            let slot = secrets.get_mut(name.as_ref()).and_then(|s| s.versions.iter_mut().find(|v| v.id == version));
            match (slot, decode_value(stored)) {
                (Some(v), Some(value)) => v.value = value,
                _ => tracing::error!(secret = %name, version = %version, "unreadable or orphaned secret value"),
            }
        }
        secrets
    }

    fn range(&self, tree: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let end = prefix_end(&self.scope);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        self.kv.range(tree, Bound::Included(&self.scope), end, usize::MAX)
    }

    /// Writes `secret` as one batch: its record, the values of versions `old` lacks, and the
    /// removal of the values of versions it dropped.
    pub fn save(&self, old: Option<&Secret>, secret: &Secret) -> Result<(), AwsError> {
        let record =
            serde_json::to_vec(secret).map_err(|e| AwsError::internal(format!("cannot encode secret: {e}")))?;
        let mut writes = vec![Write::Put { tree: SECRETS.into(), key: self.secret_key(&secret.name), value: record }];
        let old_ids: HashSet<&str> =
            old.map(|o| o.versions.iter().map(|v| v.id.as_str()).collect()).unwrap_or_default();
        let new_ids: HashSet<&str> = secret.versions.iter().map(|v| v.id.as_str()).collect();
        for v in secret.versions.iter().filter(|v| !old_ids.contains(v.id.as_str())) {
            let (key, value) = (self.value_key(&secret.name, &v.id), encode_value(&v.value));
            writes.push(Write::Put { tree: VALUES.into(), key, value });
        }
        for v in old.map_or(&[][..], |o| &o.versions[..]).iter().filter(|v| !new_ids.contains(v.id.as_str())) {
            writes.push(Write::Delete { tree: VALUES.into(), key: self.value_key(&secret.name, &v.id) });
        }
        self.apply(writes)
    }

    /// Deletes the secrets, their values included, as one batch.
    pub fn remove(&self, secrets: &[&Secret]) -> Result<(), AwsError> {
        let mut writes = Vec::new();
        for s in secrets {
            writes.push(Write::Delete { tree: SECRETS.into(), key: self.secret_key(&s.name) });
            for v in &s.versions {
                writes.push(Write::Delete { tree: VALUES.into(), key: self.value_key(&s.name, &v.id) });
            }
        }
        self.apply(writes)
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        self.kv.blocking(|kv| kv.apply(writes)).map_err(|e| {
            tracing::error!(error = %e, "cannot store secrets");
            AwsError::internal(format!("The secret could not be stored: {e}"))
        })
    }
}

fn encode_value(value: &SecretValue) -> Vec<u8> {
    let (tag, bytes) = match value {
        SecretValue::String(s) => (b's', s.as_bytes()),
        SecretValue::Binary(b) => (b'b', &b[..]),
    };
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(tag);
    out.extend_from_slice(bytes);
    out
}

fn decode_value(mut stored: Vec<u8>) -> Option<SecretValue> {
    let tag = *stored.first()?;
    stored.remove(0);
    match tag {
        b's' => String::from_utf8(stored).ok().map(SecretValue::String),
        b'b' => Some(SecretValue::Binary(Bytes::from(stored))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{AWSCURRENT, AWSPENDING, Rotation};
    use ruststack_core::store::KvStore;

    fn secret(name: &str) -> Secret {
        Secret {
            name: name.into(),
            arn: format!("arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}-AbCdEf"),
            description: Some("d".into()),
            kms_key_id: None,
            secret_type: None,
            tags: vec![("k".into(), "v".into())],
            created: 1,
            last_changed: 2,
            last_accessed: Some(3),
            deleted: None,
            deletion_date: None,
            versions: Vec::new(),
            rotation: Rotation { enabled: Some(true), ..Default::default() },
            policy: Some("{}".into()),
            replica_regions: vec![("eu-west-1".into(), None)],
            replica_failures: Default::default(),
            primary_region: None,
        }
    }

    /// Saves, changes and removes secrets in `kv`, checking what a fresh load sees each time.
    fn round_trip(kv: Arc<dyn KvStore>) {
        let store = RegionStore::new(kv.clone(), "000000000000", "us-east-1");
        let other = RegionStore::new(kv.clone(), "000000000000", "us-east-10");
        let mut s = secret("app/db");
        s.add_version("v1".into(), SecretValue::String("héllo".into()), &[AWSCURRENT.into()], 5);
        s.add_version("v2".into(), SecretValue::Binary(Bytes::from_static(b"\0\xff\x01")), &[AWSCURRENT.into()], 6);
        store.save(None, &s).unwrap();
        other.save(None, &secret("elsewhere")).unwrap();

        let loaded = store.load();
        assert_eq!(loaded.keys().collect::<Vec<_>>(), ["app/db"]);
        let l = &loaded["app/db"];
        assert_eq!((l.arn.as_str(), l.tags.clone(), l.rotation.enabled), (s.arn.as_str(), s.tags.clone(), Some(true)));
        assert_eq!(l.versions_to_stages(), s.versions_to_stages());
        assert_eq!(l.version("v1").unwrap().value, SecretValue::String("héllo".into()));
        assert_eq!(l.version("v2").unwrap().value, SecretValue::Binary(Bytes::from_static(b"\0\xff\x01")));

        // Dropping a version removes its value; adding one adds only its value.
        let mut changed = s.clone();
        changed.versions.remove(0);
        changed.add_version("v3".into(), SecretValue::String(String::new()), &[AWSPENDING.into()], 7);
        store.save(Some(&s), &changed).unwrap();
        let l = &store.load()["app/db"];
        assert!(l.version("v1").is_none());
        assert_eq!(l.version("v3").unwrap().value, SecretValue::String(String::new()));
        assert_eq!(kv.range(VALUES, Bound::Unbounded, Bound::Unbounded, 100).len(), 2);

        store.remove(&[&changed]).unwrap();
        assert!(store.load().is_empty());
        assert_eq!(kv.range(VALUES, Bound::Unbounded, Bound::Unbounded, 100).len(), 0);
        assert_eq!(other.load().len(), 1);
    }

    #[test]
    fn secrets_round_trip_in_memory() {
        round_trip(Arc::new(MemoryStore::default()));
    }

    #[test]
    fn secrets_round_trip_on_disk() {
        let dir = std::env::temp_dir().join(format!("ruststack-sm-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let kv = ruststack_persist::SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap();
        round_trip(Arc::new(kv));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
