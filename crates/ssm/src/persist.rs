//! How parameters sit in the kv store (`--data-dir` or memory), one account and region per key
//! range:
//!
//! - `ssm/parameters`: `account \0 region \0 name` → the parameter's record (JSON): its tags and
//!   the labels of its labelled versions, the parts that change after a version is written;
//! - `ssm/versions`: `account \0 region \0 name \0 version` (8 bytes, big-endian, so a parameter's
//!   versions are in order) → one version as JSON, which never changes once written.
//!
//! A PutParameter therefore writes one version entry (and deletes the oldest beyond 100); label
//! and tag changes rewrite only the small record. Parameter names cannot contain `\0`.

use crate::state::{StoredParameter, Version};
use ruststack_core::AwsError;
use ruststack_core::store::{KvStore, MemoryStore, Write, prefix_end};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

const PARAMETERS: &str = "ssm/parameters";
const VERSIONS: &str = "ssm/versions";

/// A parameter's record: what is not in its versions' entries.
#[derive(Serialize, Deserialize, Default)]
struct Record {
    tags: Vec<(String, String)>,
    /// `(version, labels)` of the versions that have labels.
    labels: Vec<(i64, Vec<String>)>,
}

/// The store of one account and region: the kv store and the key prefix of the region.
pub struct RegionStore {
    kv: Arc<dyn KvStore>,
    scope: Vec<u8>,
}

impl Default for RegionStore {
    /// A private memory store (for regions built outside [`crate::state::Ssm`]).
    fn default() -> Self {
        RegionStore { kv: Arc::new(MemoryStore::default()), scope: Vec::new() }
    }
}

impl RegionStore {
    pub fn new(kv: Arc<dyn KvStore>, account: &str, region: &str) -> Self {
        let scope = ruststack_core::store::region_scope(account, region);
        RegionStore { kv, scope }
    }

    fn record_key(&self, name: &str) -> Vec<u8> {
        let mut key = self.scope.clone();
        key.extend_from_slice(name.as_bytes());
        key
    }

    fn version_key(&self, name: &str, version: i64) -> Vec<u8> {
        let mut key = self.record_key(name);
        key.push(0);
        key.extend_from_slice(&version.to_be_bytes());
        key
    }

    /// Every parameter of the region.
    pub fn load(&self) -> BTreeMap<String, StoredParameter> {
        let mut versions: BTreeMap<String, Vec<Version>> = BTreeMap::new();
        for (key, stored) in self.range(VERSIONS) {
            let rest = &key[self.scope.len()..];
            let Some(cut) = rest.iter().position(|b| *b == 0) else { continue };
            let name = String::from_utf8_lossy(&rest[..cut]).into_owned();
            match serde_json::from_slice::<Version>(&stored) {
                Ok(v) => versions.entry(name).or_default().push(v),
                Err(e) => tracing::error!(parameter = name, error = %e, "unreadable parameter version"),
            }
        }
        let mut params = BTreeMap::new();
        for (key, stored) in self.range(PARAMETERS) {
            let name = String::from_utf8_lossy(&key[self.scope.len()..]).into_owned();
            let record = serde_json::from_slice::<Record>(&stored).unwrap_or_else(|e| {
                tracing::error!(parameter = name, error = %e, "unreadable parameter record");
                Record::default()
            });
            let Some(mut versions) = versions.remove(&name).filter(|v| !v.is_empty()) else {
                tracing::error!(parameter = name, "parameter record without versions");
                continue;
            };
            for (number, labels) in record.labels {
                if let Some(v) = versions.iter_mut().find(|v| v.version == number) {
                    v.labels = labels;
                }
            }
            params.insert(name.clone(), StoredParameter { name, versions, tags: record.tags });
        }
        params
    }

    fn range(&self, tree: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let end = prefix_end(&self.scope);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        self.kv.range(tree, Bound::Included(&self.scope), end, usize::MAX)
    }

    fn record_write<'a>(
        &self,
        name: &str,
        tags: &[(String, String)],
        labelled: impl Iterator<Item = (i64, &'a [String])>,
    ) -> Result<Write, AwsError> {
        let labels = labelled.filter(|(_, l)| !l.is_empty()).map(|(n, l)| (n, l.to_vec())).collect();
        let record = Record { tags: tags.to_vec(), labels };
        let value = serde_json::to_vec(&record).map_err(encode_failed)?;
        Ok(Write::Put { tree: PARAMETERS.into(), key: self.record_key(name), value })
    }

    fn version_write(&self, name: &str, version: &Version) -> Result<Write, AwsError> {
        let value = serde_json::to_vec(version).map_err(encode_failed)?;
        Ok(Write::Put { tree: VERSIONS.into(), key: self.version_key(name, version.version), value })
    }

    /// A new parameter: its record and versions.
    pub fn create(&self, param: &StoredParameter) -> Result<(), AwsError> {
        let labelled = param.versions.iter().map(|v| (v.version, v.labels.as_slice()));
        let mut writes = vec![self.record_write(&param.name, &param.tags, labelled)?];
        for v in &param.versions {
            writes.push(self.version_write(&param.name, v)?);
        }
        self.apply(writes)
    }

    /// A new version of `param`, and the removal of version `dropped` (which has no labels, so
    /// the record stays as it is).
    pub fn add_version(
        &self,
        param: &StoredParameter,
        version: &Version,
        dropped: Option<i64>,
    ) -> Result<(), AwsError> {
        let mut writes = vec![self.version_write(&param.name, version)?];
        if let Some(old) = dropped {
            writes.push(Write::Delete { tree: VERSIONS.into(), key: self.version_key(&param.name, old) });
        }
        self.apply(writes)
    }

    /// Rewrites the record of `name`.
    pub fn write_record<'a>(
        &self,
        name: &str,
        tags: &[(String, String)],
        labelled: impl Iterator<Item = (i64, &'a [String])>,
    ) -> Result<(), AwsError> {
        let write = self.record_write(name, tags, labelled)?;
        self.apply(vec![write])
    }

    /// Deletes the parameters with all their versions, as one batch.
    pub fn remove(&self, params: &[&StoredParameter]) -> Result<(), AwsError> {
        let mut writes = Vec::new();
        for p in params {
            writes.push(Write::Delete { tree: PARAMETERS.into(), key: self.record_key(&p.name) });
            for v in &p.versions {
                writes.push(Write::Delete { tree: VERSIONS.into(), key: self.version_key(&p.name, v.version) });
            }
        }
        self.apply(writes)
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        self.kv.blocking(|kv| kv.apply(writes)).map_err(|e| {
            tracing::error!(error = %e, "cannot store parameters");
            AwsError::internal(format!("The parameter could not be stored: {e}"))
        })
    }
}

fn encode_failed(e: serde_json::Error) -> AwsError {
    AwsError::internal(format!("cannot encode a parameter: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{MAX_VERSIONS, Params};
    use ruststack_core::Timestamp;
    use ruststack_core::store::Storage;

    fn version(n: i64, value: &str) -> Version {
        Version {
            version: n,
            value: value.into(),
            kind: "String".into(),
            key_id: None,
            description: Some("d".into()),
            allowed_pattern: None,
            tier: "Standard".into(),
            policies: vec![],
            data_type: "text".into(),
            modified: Timestamp { millis: 1_700_000_000_123 },
            modified_user: "arn:aws:iam::000000000000:root".into(),
            labels: vec![],
        }
    }

    fn region(kv: &Arc<dyn KvStore>) -> crate::state::Ssm {
        crate::state::Ssm::new(Storage { kv: kv.clone(), objects: Storage::memory().objects })
    }

    /// Writes through one `Ssm`, then reads everything back through a fresh one on the same store.
    fn round_trip(kv: Arc<dyn KvStore>) {
        let (account, us, eu) = (Arc::from("000000000000"), Arc::from("us-east-1"), Arc::from("eu-west-1"));
        let ssm = region(&kv);
        {
            let cell = ssm.region(&account, &us);
            let mut params: parking_lot::RwLockWriteGuard<'_, Params> = cell.write();
            params.push_version("/a/b", version(1, "one"), vec![("k".into(), "v".into())]).unwrap();
            for n in 2..=(MAX_VERSIONS as i64 + 2) {
                params.push_version("/a/b", version(n, &format!("v{n}")), vec![]).unwrap();
            }
            let labels: Vec<Vec<String>> = params["/a/b"]
                .versions
                .iter()
                .map(|v| if v.version == 5 { vec!["prod".into()] } else { vec![] })
                .collect();
            params.set_tags_and_labels("/a/b", vec![("t".into(), "é".into())], labels).unwrap();
            params.push_version("gone", version(1, "x"), vec![]).unwrap();
            assert_eq!(params.remove(&["gone", "never"]).unwrap(), [true, false]);
            ssm.region(&account, &eu).write().push_version("/a/b", version(1, "eu"), vec![]).unwrap();
        }
        let fresh = region(&kv);
        let cell = fresh.region(&account, &us);
        let params = cell.read();
        assert_eq!(params.keys().collect::<Vec<_>>(), ["/a/b"]);
        let p = &params["/a/b"];
        assert_eq!(p.versions.len(), MAX_VERSIONS);
        assert_eq!((p.versions[0].version, p.current().version), (3, MAX_VERSIONS as i64 + 2));
        assert_eq!(p.labelled("prod").unwrap().value, "v5");
        assert_eq!(p.tags, [("t".to_string(), "é".to_string())]);
        assert_eq!(p.current().modified, Timestamp { millis: 1_700_000_000_123 });
        assert_eq!(kv.range(VERSIONS, Bound::Unbounded, Bound::Unbounded, 1000).len(), MAX_VERSIONS + 1);
        assert_eq!(fresh.region(&account, &eu).read()["/a/b"].current().value, "eu");
    }

    #[test]
    fn parameters_round_trip_in_memory() {
        round_trip(Arc::new(MemoryStore::default()));
    }

    #[test]
    fn parameters_round_trip_on_disk() {
        let dir = std::env::temp_dir().join(format!("ruststack-ssm-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let kv = ruststack_persist::SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap();
        round_trip(Arc::new(kv));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
