//! What Secrets Manager remembers, per account and region: secrets, their versions with staging
//! labels, tags, resource policies and rotation settings.
//!
//! Handlers reach state only through [`SecretsState::region`]. The in-memory [`Region`] is a cache
//! of the service's kv trees (see [`crate::persist`]): a region is loaded on its first use, and
//! every change goes to the store first ([`Region::save`], [`Region::remove`]) and into the cache
//! only once the store has it.

use crate::persist::RegionStore;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use ruststack_core::store::{PerRegion, Storage};
use ruststack_core::{AwsError, ServiceState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

pub const AWSCURRENT: &str = "AWSCURRENT";
pub const AWSPREVIOUS: &str = "AWSPREVIOUS";
pub const AWSPENDING: &str = "AWSPENDING";
/// Versions AWS keeps per secret; older versions without staging labels are dropped beyond it.
pub const MAX_VERSIONS: usize = 100;

/// Secrets saved in a primary region whose replicas are not refreshed yet: account, region, name.
type Outbox = Arc<Mutex<Vec<(Arc<str>, Arc<str>, String)>>>;

pub struct SecretsState {
    regions: PerRegion<RegionCell>,
    storage: Storage,
    outbox: Outbox,
    /// Held while replicas are written, so refreshes of one secret apply in order; taken before
    /// any region lock, never while one is held.
    replicating: Mutex<()>,
    /// Runs rotation functions; absent until Lambda provides one.
    pub rotator: RwLock<Option<Arc<dyn crate::rotation::Rotator>>>,
}

impl Default for SecretsState {
    /// State in fresh memory stores.
    fn default() -> Self {
        SecretsState::new(Storage::memory())
    }
}

impl SecretsState {
    pub fn new(storage: Storage) -> Self {
        SecretsState {
            regions: PerRegion::default(),
            storage,
            outbox: Outbox::default(),
            replicating: Mutex::new(()),
            rotator: RwLock::new(None),
        }
    }

    /// The secrets of one account and region, read from the store on first use. Replicas of
    /// secrets changed by earlier requests are refreshed first, so every request sees them.
    /// Handlers call it before taking any region lock.
    pub fn region(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RegionCell> {
        let pending = std::mem::take(&mut *self.outbox.lock());
        for (account, region, name) in pending {
            if let Err(e) = self.sync_replicas(&account, &region, &name, false) {
                tracing::error!(secret = %name, error = %e.message, "cannot refresh replicas");
            }
        }
        self.cell(account, region)
    }

    /// [`SecretsState::region`] without refreshing replicas.
    pub(crate) fn cell(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RegionCell> {
        let cell = self.regions.get(account, region);
        cell.loaded.get_or_init(|| {
            let store = RegionStore::new(self.storage.kv.clone(), account, region);
            let secrets = store.load();
            let outbox = Some((self.outbox.clone(), account.clone(), region.clone()));
            *cell.region.write() = Region { secrets, store, outbox };
        });
        cell
    }

    /// Writes the current copy of primary secret `name` of `region` into each of its replica
    /// regions (those whose replication has not failed). A secret of the same name that is not
    /// this secret's replica is replaced when `overwrite`, else that region fails. Returns the
    /// regions that failed now, with AWS's status message.
    pub fn sync_replicas(
        &self,
        account: &Arc<str>,
        region: &Arc<str>,
        name: &str,
        overwrite: bool,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let _order = self.replicating.lock();
        let primary = match self.cell(account, region).read().secrets.get(name) {
            Some(s) if s.primary_region.is_none() => s.clone(),
            _ => return Ok(BTreeMap::new()),
        };
        let mut failed = BTreeMap::new();
        for (target, kms) in &primary.replica_regions {
            if primary.replica_failures.contains_key(target) {
                continue;
            }
            let target_region: Arc<str> = Arc::from(target.as_str());
            let cell = self.cell(account, &target_region);
            let mut replica_region = cell.write();
            let ours = |s: &Secret| s.primary_region.as_deref() == Some(&**region);
            if let Some(existing) = replica_region.secrets.get(name)
                && !ours(existing)
            {
                if !overwrite {
                    failed.insert(
                        target.clone(),
                        format!("Replication failed: Secret name {name} already exists in region {target}."),
                    );
                    continue;
                }
                replica_region.remove(&[name.to_string()])?;
            }
            let mut replica = primary.clone();
            replica.arn = replica_arn(&primary.arn, region, target);
            replica.kms_key_id = kms.clone();
            replica.replica_regions = Vec::new();
            replica.replica_failures = BTreeMap::new();
            replica.primary_region = Some(region.to_string());
            replica_region.save(replica)?;
        }
        Ok(failed)
    }

    /// Deletes the replica of primary secret `name` (of `primary`) from `target`, if it is there.
    pub fn drop_replica(&self, account: &Arc<str>, primary: &str, target: &str, name: &str) -> Result<(), AwsError> {
        let _order = self.replicating.lock();
        let cell = self.cell(account, &Arc::from(target));
        let mut replica_region = cell.write();
        if replica_region.secrets.get(name).is_some_and(|s| s.primary_region.as_deref() == Some(primary)) {
            replica_region.remove(&[name.to_string()])?;
        }
        Ok(())
    }

    /// Detaches a replica (now promoted) from its primary in `primary`: the primary forgets
    /// region `target`.
    pub fn forget_replica(&self, account: &Arc<str>, primary: &str, target: &str, name: &str) -> Result<(), AwsError> {
        let _order = self.replicating.lock();
        let cell = self.cell(account, &Arc::from(primary));
        let mut region = cell.write();
        if let Some(s) = region.secrets.get(name).filter(|s| s.replica_regions.iter().any(|(r, _)| r == target)) {
            let mut s = s.clone();
            s.replica_regions.retain(|(r, _)| r != target);
            s.replica_failures.remove(target);
            region.save(s)?;
        }
        Ok(())
    }
}

/// The ARN of a secret's replica: the primary's, in the replica's region.
pub fn replica_arn(arn: &str, from: &str, to: &str) -> String {
    let needle = format!(":secretsmanager:{from}:");
    arn.replacen(&needle, &format!(":secretsmanager:{to}:"), 1)
}

impl ServiceState for SecretsState {
    fn reset(&self) {
        self.outbox.lock().clear();
        self.regions.clear();
    }

    fn stored_bytes(&self) -> u64 {
        let mut total = 0u64;
        for region in self.regions.all() {
            for secret in region.read().secrets.values() {
                total += secret.versions.iter().map(|v| v.value.len() as u64).sum::<u64>();
            }
        }
        total
    }
}

/// One account and region's [`Region`], with the flag of its one-time load from the store.
#[derive(Default)]
pub struct RegionCell {
    region: RwLock<Region>,
    loaded: OnceLock<()>,
}

impl std::ops::Deref for RegionCell {
    type Target = RwLock<Region>;

    fn deref(&self) -> &Self::Target {
        &self.region
    }
}

/// The secrets of one account and region, by name, and where they are stored.
#[derive(Default)]
pub struct Region {
    pub secrets: BTreeMap<String, Secret>,
    store: RegionStore,
    /// Where saves of secrets with replicas are queued, with this region's account and name.
    outbox: Option<(Outbox, Arc<str>, Arc<str>)>,
}

impl Region {
    /// Stores `secret` (new or changed) and then caches it. On a store failure the cache is left
    /// as it was and the caller answers `InternalFailure`.
    pub fn save(&mut self, secret: Secret) -> Result<(), AwsError> {
        self.store.save(self.secrets.get(&secret.name), &secret)?;
        if !secret.replica_regions.is_empty()
            && let Some((outbox, account, region)) = &self.outbox
        {
            outbox.lock().push((account.clone(), region.clone(), secret.name.clone()));
        }
        self.secrets.insert(secret.name.clone(), secret);
        Ok(())
    }

    /// Forgets the secrets `names`, in the store first.
    pub fn remove(&mut self, names: &[String]) -> Result<(), AwsError> {
        let gone: Vec<&Secret> = names.iter().filter_map(|n| self.secrets.get(n)).collect();
        if gone.is_empty() {
            return Ok(());
        }
        self.store.remove(&gone)?;
        for name in names {
            self.secrets.remove(name);
        }
        Ok(())
    }

    /// Forgets secrets whose recovery window has passed.
    pub fn purge_expired(&mut self, now: i64) -> Result<(), AwsError> {
        let expired: Vec<String> = self
            .secrets
            .values()
            .filter(|s| s.deletion_date.is_some_and(|d| d <= now))
            .map(|s| s.name.clone())
            .collect();
        self.remove(&expired)
    }
}

/// A secret value: text or bytes. Stored apart from the secret's record (see [`crate::persist`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SecretValue {
    String(String),
    Binary(Bytes),
}

impl SecretValue {
    pub fn len(&self) -> usize {
        match self {
            SecretValue::String(s) => s.len(),
            SecretValue::Binary(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for SecretValue {
    fn default() -> Self {
        SecretValue::String(String::new())
    }
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    pub stages: Vec<String>,
    /// Kept in its own kv entry: it never changes, so a secret's record stays small.
    #[serde(skip)]
    pub value: SecretValue,
    pub created: i64,
    pub last_accessed: Option<i64>,
}

#[derive(Default, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub enabled: Option<bool>,
    pub lambda_arn: Option<String>,
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
    pub last_rotated: Option<i64>,
    pub next_rotation: Option<i64>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Secret {
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub secret_type: Option<String>,
    pub tags: Vec<(String, String)>,
    pub created: i64,
    pub last_changed: i64,
    pub last_accessed: Option<i64>,
    /// When DeleteSecret was called, while the secret waits for its deletion date.
    pub deleted: Option<i64>,
    pub deletion_date: Option<i64>,
    /// In creation order.
    pub versions: Vec<Version>,
    pub rotation: Rotation,
    pub policy: Option<String>,
    pub replica_regions: Vec<(String, Option<String>)>,
    /// Replica regions where replication failed, with AWS's status message.
    #[serde(default)]
    pub replica_failures: BTreeMap<String, String>,
    /// Set on a replica: the region of its primary secret. Replicas are copies the primary's
    /// region refreshes (see [`SecretsState::sync_replicas`]); they refuse changes.
    #[serde(default)]
    pub primary_region: Option<String>,
}

impl Secret {
    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    pub fn version_with_stage(&self, stage: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.stages.iter().any(|s| s == stage))
    }

    fn index_with_stage(&self, stage: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.stages.iter().any(|s| s == stage))
    }

    /// Attaches `stage` to version `target`, taking it from whichever version had it. Moving
    /// AWSCURRENT also moves AWSPREVIOUS to the version that was current, as AWS does.
    pub fn attach_stage(&mut self, target: usize, stage: &str) {
        let holder = self.index_with_stage(stage);
        if holder == Some(target) {
            return;
        }
        if let Some(h) = holder {
            self.versions[h].stages.retain(|s| s != stage);
        }
        if stage == AWSCURRENT
            && let Some(old) = holder
        {
            for v in &mut self.versions {
                v.stages.retain(|s| s != AWSPREVIOUS);
            }
            self.versions[old].stages.push(AWSPREVIOUS.to_string());
        }
        self.versions[target].stages.push(stage.to_string());
    }

    /// Removes `stage` from version `target`.
    pub fn detach_stage(&mut self, target: usize, stage: &str) {
        self.versions[target].stages.retain(|s| s != stage);
    }

    /// Adds a version carrying `stages` and returns its index; drops the oldest versions without
    /// labels beyond [`MAX_VERSIONS`].
    pub fn add_version(&mut self, id: String, value: SecretValue, stages: &[String], now: i64) -> usize {
        self.versions.push(Version { id, stages: Vec::new(), value, created: now, last_accessed: None });
        let mut index = self.versions.len() - 1;
        for stage in stages {
            self.attach_stage(index, stage);
        }
        while self.versions.len() > MAX_VERSIONS {
            match self.versions.iter().position(|v| v.stages.is_empty()) {
                Some(i) if i != index => {
                    self.versions.remove(i);
                    if i < index {
                        index -= 1;
                    }
                }
                _ => break,
            }
        }
        self.last_changed = now;
        index
    }

    /// Version ids with their labels, for versions that have labels.
    pub fn versions_to_stages(&self) -> Option<std::collections::HashMap<String, Vec<String>>> {
        let map: std::collections::HashMap<_, _> =
            self.versions.iter().filter(|v| !v.stages.is_empty()).map(|v| (v.id.clone(), v.stages.clone())).collect();
        (!map.is_empty()).then_some(map)
    }
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    ruststack_core::Timestamp::now().millis
}

/// The start of the current UTC day: AWS records access dates with day precision.
pub fn today(now: i64) -> i64 {
    now - now.rem_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret {
            name: "s".into(),
            arn: "arn".into(),
            description: None,
            kms_key_id: None,
            secret_type: None,
            tags: Vec::new(),
            created: 0,
            last_changed: 0,
            last_accessed: None,
            deleted: None,
            deletion_date: None,
            versions: Vec::new(),
            rotation: Rotation::default(),
            policy: None,
            replica_regions: Vec::new(),
            replica_failures: BTreeMap::new(),
            primary_region: None,
        }
    }

    fn stages(s: &Secret) -> Vec<(String, Vec<String>)> {
        s.versions.iter().map(|v| (v.id.clone(), v.stages.clone())).collect()
    }

    #[test]
    fn current_and_previous_move_like_aws() {
        let mut s = secret();
        let cur = vec![AWSCURRENT.to_string()];
        s.add_version("v1".into(), SecretValue::String("1".into()), &cur, 1);
        s.add_version("v2".into(), SecretValue::String("2".into()), &cur, 2);
        s.add_version("v3".into(), SecretValue::String("3".into()), &cur, 3);
        assert_eq!(
            stages(&s),
            [("v1".into(), vec![]), ("v2".into(), vec![AWSPREVIOUS.into()]), ("v3".into(), vec![AWSCURRENT.into()])]
        );
        // A pending version does not disturb AWSCURRENT / AWSPREVIOUS.
        s.add_version("v4".into(), SecretValue::String("4".into()), &[AWSPENDING.to_string()], 4);
        assert_eq!(s.version_with_stage(AWSCURRENT).unwrap().id, "v3");
        assert_eq!(s.version_with_stage(AWSPREVIOUS).unwrap().id, "v2");
        // Promoting it makes the old current the previous one.
        s.attach_stage(3, AWSCURRENT);
        assert_eq!(s.version_with_stage(AWSCURRENT).unwrap().id, "v4");
        assert_eq!(s.version_with_stage(AWSPREVIOUS).unwrap().id, "v3");
        assert!(s.version("v2").unwrap().stages.is_empty());
    }

    #[test]
    fn unlabelled_versions_are_dropped_beyond_the_limit() {
        let mut s = secret();
        let cur = vec![AWSCURRENT.to_string()];
        for i in 0..(MAX_VERSIONS + 5) {
            s.add_version(format!("v{i}"), SecretValue::String(i.to_string()), &cur, i as i64);
        }
        assert_eq!(s.versions.len(), MAX_VERSIONS);
        assert_eq!(s.version_with_stage(AWSCURRENT).unwrap().id, format!("v{}", MAX_VERSIONS + 4));
        assert!(s.version("v0").is_none());
    }

    #[test]
    fn today_truncates_to_utc_midnight() {
        assert_eq!(today(86_400_000 * 3 + 5), 86_400_000 * 3);
    }
}
