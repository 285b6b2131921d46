//! What Parameter Store keeps per account and region: parameters by name (sorted, so listings
//! page in name order), each with its versions, labels and tags.
//!
//! [`Params`] is the in-memory cache of one region's kv entries (see [`crate::persist`]): loaded
//! on the region's first use, changed only through its methods, which write to the store first
//! and touch the cache once the store has the change.

use crate::persist::RegionStore;
use parking_lot::RwLock;
use ruststack_core::store::{PerRegion, Storage};
use ruststack_core::{AwsError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// AWS keeps the newest 100 versions of a parameter.
pub const MAX_VERSIONS: usize = 100;
/// A version can carry at most 10 labels.
pub const MAX_LABELS_PER_VERSION: usize = 10;
/// Standard-tier values hold up to 4 KB, advanced ones 8 KB.
pub const STANDARD_VALUE_LIMIT: usize = 4096;
pub const ADVANCED_VALUE_LIMIT: usize = 8192;

pub struct Ssm {
    regions: PerRegion<RegionCell>,
    storage: Storage,
    /// Secrets Manager, for `/aws/reference/secretsmanager/…` (none: such references are not found).
    pub secrets: Option<Arc<dyn crate::SecretsReader>>,
}

impl Default for Ssm {
    /// State in fresh memory stores.
    fn default() -> Self {
        Ssm::new(Storage::memory())
    }
}

impl Ssm {
    pub fn new(storage: Storage) -> Self {
        Ssm { regions: PerRegion::default(), storage, secrets: None }
    }

    /// The parameters of one account and region, read from the store on first use.
    pub fn region(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RegionCell> {
        let cell = self.regions.get(account, region);
        cell.loaded.get_or_init(|| {
            let store = RegionStore::new(self.storage.kv.clone(), account, region);
            let params = store.load();
            *cell.params.write() = Params { params, store };
        });
        cell
    }
}

impl ruststack_core::ServiceState for Ssm {
    fn reset(&self) {
        self.regions.clear();
    }
}

/// One account and region's [`Params`], with the flag of its one-time load.
#[derive(Default)]
pub struct RegionCell {
    params: RwLock<Params>,
    loaded: OnceLock<()>,
}

impl std::ops::Deref for RegionCell {
    type Target = RwLock<Params>;

    fn deref(&self) -> &Self::Target {
        &self.params
    }
}

/// The parameters of one region by name; reads go through `Deref` to the map, changes through
/// the methods, which store them first.
#[derive(Default)]
pub struct Params {
    params: BTreeMap<String, StoredParameter>,
    store: RegionStore,
}

impl std::ops::Deref for Params {
    type Target = BTreeMap<String, StoredParameter>;

    fn deref(&self) -> &Self::Target {
        &self.params
    }
}

impl Params {
    /// The parameter `name` refers to. A top-level name is one parameter with or without its
    /// leading slash (`/a` and `a` share their ARN), as AWS treats them.
    pub fn find(&self, name: &str) -> Option<&StoredParameter> {
        self.params.get(name).or_else(|| {
            let bare = name.strip_prefix('/').unwrap_or(name);
            if bare.is_empty() || bare.contains('/') {
                return None;
            }
            let other = if name.starts_with('/') { bare.to_owned() } else { format!("/{bare}") };
            self.params.get(&other)
        })
    }

    /// Adds `version` to parameter `name` (a new parameter carries `tags`), dropping the oldest
    /// version beyond [`MAX_VERSIONS`].
    pub fn push_version(&mut self, name: &str, version: Version, tags: Vec<(String, String)>) -> Result<(), AwsError> {
        match self.params.get_mut(name) {
            Some(param) => {
                let dropped = (param.versions.len() >= MAX_VERSIONS).then(|| param.versions[0].version);
                self.store.add_version(param, &version, dropped)?;
                if dropped.is_some() {
                    param.versions.remove(0);
                }
                param.versions.push(version);
            }
            None => {
                let param = StoredParameter { name: name.to_owned(), versions: vec![version], tags };
                self.store.create(&param)?;
                self.params.insert(name.to_owned(), param);
            }
        }
        Ok(())
    }

    /// Replaces the tags and the labels of every version (`labels[i]` for `versions[i]`) of `name`.
    pub fn set_tags_and_labels(
        &mut self,
        name: &str,
        tags: Vec<(String, String)>,
        labels: Vec<Vec<String>>,
    ) -> Result<(), AwsError> {
        let Some(param) = self.params.get_mut(name) else { return Ok(()) };
        let labelled = param.versions.iter().zip(&labels).map(|(v, l)| (v.version, l.as_slice()));
        self.store.write_record(name, &tags, labelled)?;
        param.tags = tags;
        for (v, l) in param.versions.iter_mut().zip(labels) {
            v.labels = l;
        }
        Ok(())
    }

    /// Deletes parameters `names` (those that exist) as one write; answers which existed.
    pub fn remove(&mut self, names: &[&str]) -> Result<Vec<bool>, AwsError> {
        let found: Vec<&StoredParameter> = names.iter().filter_map(|n| self.params.get(*n)).collect();
        if !found.is_empty() {
            self.store.remove(&found)?;
        }
        Ok(names.iter().map(|n| self.params.remove(*n).is_some()).collect())
    }
}

/// One version of a parameter, as PutParameter wrote it. Its labels change later, so they are
/// stored with the parameter's record, not with the version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub version: i64,
    pub value: String,
    pub kind: String,
    pub key_id: Option<String>,
    pub description: Option<String>,
    pub allowed_pattern: Option<String>,
    pub tier: String,
    pub policies: Vec<String>,
    pub data_type: String,
    #[serde(with = "millis")]
    pub modified: Timestamp,
    pub modified_user: String,
    #[serde(skip)]
    pub labels: Vec<String>,
}

/// Timestamps stored as whole milliseconds, exactly.
mod millis {
    use ruststack_core::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.millis)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        Ok(Timestamp { millis: i64::deserialize(d)? })
    }
}

#[derive(Debug, Clone)]
pub struct StoredParameter {
    pub name: String,
    /// Oldest first; the last one is current.
    pub versions: Vec<Version>,
    pub tags: Vec<(String, String)>,
}

impl StoredParameter {
    pub fn current(&self) -> &Version {
        self.versions.last().expect("a parameter has at least one version")
    }

    pub fn version(&self, version: i64) -> Option<&Version> {
        self.versions.iter().find(|v| v.version == version)
    }

    pub fn labelled(&self, label: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.labels.iter().any(|l| l == label))
    }
}

/// `arn:aws:ssm:<region>:<account>:parameter/<name>`, with one `/` between `parameter` and a
/// hierarchical name.
pub fn parameter_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:ssm:{region}:{account}:parameter/{}", name.strip_prefix('/').unwrap_or(name))
}
