//! Write-through of the control plane to the kv store (`--data-dir`), loaded lazily per account
//! and region.
//!
//! One record per function (`$LATEST`, versions, aliases, policies, tags, concurrency, URL and
//! event invoke configs), per layer name and per event source mapping, keyed
//! `account\0region\0name`. Code and layer zips are blobs of the object store, one per distinct
//! content, recorded by hex SHA-256 in `lambda/code` (the blob is written before the record, and
//! the record before any function or layer naming it). Unpacked directories are a cache rebuilt
//! from the zip on first use. Function URL ids map to their function in `lambda/urls`, since URL
//! requests arrive without account or region.
//!
//! Handlers change the cache under the region's write lock, then call `save_*` with the record as
//! it was before: the batch is applied, or the old record is put back and the write answers 500.

use crate::event_sources::Mapping;
use crate::generated::types::{FunctionConfiguration, FunctionEventInvokeConfig};
use crate::packages::{Code, Opt};
use crate::state::{
    Alias, Function, Lambda, LayerEntry, LayerPolicy, LayerVersion, Region, UrlConfig, UrlTarget, Version,
    next_revision,
};
use ruststack_core::AwsError;
use ruststack_core::store::{Transaction, Write, prefix_end};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

const FUNCTIONS: &str = "lambda/functions";
const LAYERS: &str = "lambda/layers";
const MAPPINGS: &str = "lambda/mappings";
const CODE: &str = "lambda/code";
const URLS: &str = "lambda/urls";
/// Who uses a package: `sha \0 account \0 region \0 f|l \0 name` (a function or a layer), so the
/// blob is deleted once the last user's batch has committed.
const CODE_REFS: &str = "lambda/code-refs";

use ruststack_core::store::region_scope as scope;

fn key(account: &str, region: &str, name: &str) -> Vec<u8> {
    let mut key = scope(account, region);
    key.extend_from_slice(name.as_bytes());
    key
}

fn store_failed(e: impl std::fmt::Display) -> AwsError {
    tracing::error!(error = %e, "lambda: cannot write to the store");
    AwsError::internal(format!("The state could not be stored: {e}"))
}

#[derive(Serialize, Deserialize)]
struct VersionRecord {
    config: FunctionConfiguration,
    /// Hex SHA-256 of the code and of each layer, in order.
    code: String,
    layers: Vec<String>,
    revision: u64,
}

#[derive(Serialize, Deserialize)]
struct FunctionRecord {
    latest: VersionRecord,
    versions: Vec<(u64, VersionRecord)>,
    next_version: u64,
    aliases: BTreeMap<String, Alias>,
    policies: BTreeMap<String, Vec<serde_json::Value>>,
    policy_revisions: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    reserved_concurrency: Option<i32>,
    urls: BTreeMap<String, UrlConfig>,
    last_published: Option<(u64, u64)>,
    event_invoke: BTreeMap<String, FunctionEventInvokeConfig>,
}

#[derive(Serialize, Deserialize)]
struct LayerVersionRecord {
    name: String,
    arn: String,
    version_arn: String,
    version: i64,
    description: String,
    created: String,
    compatible_runtimes: Option<Vec<String>>,
    compatible_architectures: Option<Vec<String>>,
    license_info: Option<String>,
    code: String,
}

#[derive(Serialize, Deserialize)]
struct LayerRecord {
    versions: Vec<LayerVersionRecord>,
    next_version: i64,
    #[serde(default)]
    policies: BTreeMap<i64, LayerPolicy>,
}

#[derive(Serialize, Deserialize)]
struct UrlRecord {
    account: String,
    region: String,
    function: String,
    qualifier: Option<String>,
}

fn version_record(v: &Version) -> VersionRecord {
    VersionRecord {
        config: v.config.clone(),
        code: v.code.sha_hex.clone(),
        layers: v.opt.layers.iter().map(|c| c.sha_hex.clone()).collect(),
        revision: v.revision,
    }
}

fn function_record(f: &Function) -> FunctionRecord {
    FunctionRecord {
        latest: version_record(&f.latest),
        versions: f.versions.iter().map(|(n, v)| (*n, version_record(v))).collect(),
        next_version: f.next_version,
        aliases: f.aliases.clone(),
        policies: f.policies.clone(),
        policy_revisions: f.policy_revisions.clone(),
        tags: f.tags.clone(),
        reserved_concurrency: f.reserved_concurrency,
        urls: f.urls.clone(),
        last_published: f.last_published,
        event_invoke: f.event_invoke.clone(),
    }
}

fn layer_record(entry: &LayerEntry) -> LayerRecord {
    LayerRecord {
        versions: entry
            .versions
            .values()
            .map(|l| LayerVersionRecord {
                name: l.name.clone(),
                arn: l.arn.clone(),
                version_arn: l.version_arn.clone(),
                version: l.version,
                description: l.description.clone(),
                created: l.created.clone(),
                compatible_runtimes: l.compatible_runtimes.clone(),
                compatible_architectures: l.compatible_architectures.clone(),
                license_info: l.license_info.clone(),
                code: l.code.sha_hex.clone(),
            })
            .collect(),
        next_version: entry.next_version,
        policies: entry.policies.clone(),
    }
}

/// The packages a function's snapshots use (code and layers).
fn function_packages(f: &Function) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in std::iter::once(&f.latest).chain(f.versions.values()) {
        out.insert(v.code.sha_hex.clone());
        out.extend(v.opt.layers.iter().map(|c| c.sha_hex.clone()));
    }
    out
}

fn layer_packages(entry: &LayerEntry) -> BTreeSet<String> {
    entry.versions.values().map(|l| l.code.sha_hex.clone()).collect()
}

enum CommitError {
    /// A package the batch starts to use is no longer stored.
    PackageGone,
    Store(std::io::Error),
}

impl From<std::io::Error> for CommitError {
    fn from(e: std::io::Error) -> Self {
        CommitError::Store(e)
    }
}

fn ref_key(sha: &str, owner: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(sha.len() + 1 + owner.len());
    key.extend_from_slice(sha.as_bytes());
    key.push(0);
    key.extend_from_slice(owner);
    key
}

fn put<T: Serialize>(tree: &str, key: Vec<u8>, value: &T) -> Result<Write, AwsError> {
    let value = serde_json::to_vec(value).map_err(store_failed)?;
    Ok(Write::Put { tree: tree.into(), key, value })
}

impl Lambda {
    /// Keeps a package's zip in the object store (once per content) before anything names it.
    pub async fn store_code(&self, code: &Code) -> Result<(), AwsError> {
        if self.storage.kv.get(CODE, code.sha_hex.as_bytes()).is_some() {
            return Ok(());
        }
        let mut writer = self.storage.objects.create();
        writer.write(code.zip.clone()).await.map_err(store_failed)?;
        let id = writer.finish().await.map_err(store_failed)?;
        let sha = code.sha_hex.clone();
        self.storage.kv.blocking(|kv| kv.put(CODE, sha.as_bytes(), id.to_string().as_bytes())).map_err(store_failed)
    }

    /// A package by hex SHA-256: the live one, else read back from its blob.
    async fn load_code(&self, sha_hex: &str) -> Result<Arc<Code>, AwsError> {
        if let Some(code) = Code::by_hex(sha_hex) {
            return Ok(code);
        }
        let missing = || AwsError::internal(format!("The stored package {sha_hex} is missing"));
        let id: u64 = self
            .storage
            .kv
            .get(CODE, sha_hex.as_bytes())
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok())
            .ok_or_else(missing)?;
        let body = self.storage.objects.read(id, None).map_err(|_| missing())?;
        let zip = ruststack_core::body::collect(body, usize::MAX).await.map_err(|_| missing())?;
        Code::from_zip(zip)
    }

    async fn load_version(
        &self,
        record: VersionRecord,
        account: &Arc<str>,
        region: &Arc<str>,
        revisions: &mut HashMap<u64, u64>,
    ) -> Result<Arc<Version>, AwsError> {
        let code = self.load_code(&record.code).await?;
        let mut layers = Vec::with_capacity(record.layers.len());
        for sha in &record.layers {
            layers.push(self.load_code(sha).await?);
        }
        // Revisions key warm environments of this process: a restored snapshot gets a new one.
        let revision = *revisions.entry(record.revision).or_insert_with(next_revision);
        Ok(Arc::new(Version {
            config: record.config,
            code,
            opt: Opt::new(layers),
            revision,
            account: account.clone(),
            region: region.clone(),
        }))
    }

    async fn load_function(
        &self,
        r: FunctionRecord,
        account: &Arc<str>,
        region: &Arc<str>,
    ) -> Result<Function, AwsError> {
        let mut revisions = HashMap::new();
        let latest_revision = r.latest.revision;
        let latest = self.load_version(r.latest, account, region, &mut revisions).await?;
        let mut versions = BTreeMap::new();
        for (n, v) in r.versions {
            versions.insert(n, self.load_version(v, account, region, &mut revisions).await?);
        }
        let last_published = r.last_published.map(|(rev, n)| {
            (if rev == latest_revision { latest.revision } else { revisions.get(&rev).copied().unwrap_or(0) }, n)
        });
        Ok(Function {
            latest,
            versions,
            next_version: r.next_version,
            aliases: r.aliases,
            policies: r.policies,
            policy_revisions: r.policy_revisions,
            tags: r.tags,
            reserved_concurrency: r.reserved_concurrency,
            urls: r.urls,
            last_published,
            event_invoke: r.event_invoke,
        })
    }

    /// Reads one account and region's records back from the store.
    pub(crate) async fn load_region(&self, account: &Arc<str>, region: &Arc<str>) -> Result<Region, AwsError> {
        let corrupt = |what: &str, e: serde_json::Error| {
            tracing::error!(what, error = %e, "lambda: unreadable record");
            AwsError::internal(format!("A stored {what} record is unreadable: {e}"))
        };
        let prefix = scope(account, region);
        let end = prefix_end(&prefix);
        let range = |tree: &str| {
            let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
            self.storage.kv.range(tree, Bound::Included(&prefix), end, usize::MAX)
        };
        let name_of = |k: &[u8]| String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
        let mut out = Region::default();
        for (k, v) in range(FUNCTIONS) {
            let r: FunctionRecord = serde_json::from_slice(&v).map_err(|e| corrupt("function", e))?;
            // One function whose package is gone must not make the whole region unreadable.
            match self.load_function(r, account, region).await {
                Ok(f) => {
                    out.functions.insert(name_of(&k), f);
                }
                Err(e) => tracing::error!(function = %name_of(&k), error = %e.message, "lambda: function not restored"),
            }
        }
        for (k, v) in range(LAYERS) {
            let r: LayerRecord = serde_json::from_slice(&v).map_err(|e| corrupt("layer", e))?;
            let mut entry =
                LayerEntry { versions: BTreeMap::new(), next_version: r.next_version, policies: r.policies };
            for l in r.versions {
                let code = match self.load_code(&l.code).await {
                    Ok(code) => code,
                    Err(e) => {
                        tracing::error!(layer = %l.version_arn, error = %e.message, "lambda: layer version not restored");
                        continue;
                    }
                };
                entry.versions.insert(
                    l.version,
                    Arc::new(LayerVersion {
                        name: l.name,
                        arn: l.arn,
                        version_arn: l.version_arn,
                        version: l.version,
                        description: l.description,
                        created: l.created,
                        compatible_runtimes: l.compatible_runtimes,
                        compatible_architectures: l.compatible_architectures,
                        license_info: l.license_info,
                        code,
                    }),
                );
            }
            out.layers.insert(name_of(&k), entry);
        }
        for (k, v) in range(MAPPINGS) {
            let m: Mapping = serde_json::from_slice(&v).map_err(|e| corrupt("event source mapping", e))?;
            out.mappings.insert(name_of(&k), m);
        }
        Ok(out)
    }

    /// Applies `writes` with the package references of `owner` moved from `before` to `after`,
    /// as one transaction that also checks every newly used package is still stored (a
    /// concurrent delete of its last user may have just removed it). Then deletes the blobs of
    /// packages nobody uses any more.
    fn commit_with_refs(
        &self,
        mut writes: Vec<Write>,
        owner: &[u8],
        before: &BTreeSet<String>,
        after: &BTreeSet<String>,
    ) -> Result<(), AwsError> {
        let added: Vec<&String> = after.difference(before).collect();
        let dropped: Vec<&String> = before.difference(after).collect();
        for sha in &added {
            writes.push(Write::Put { tree: CODE_REFS.into(), key: ref_key(sha, owner), value: Vec::new() });
        }
        for sha in &dropped {
            writes.push(Write::Delete { tree: CODE_REFS.into(), key: ref_key(sha, owner) });
        }
        self.storage
            .kv
            .blocking(|kv| {
                kv.transact(|tx: &mut dyn Transaction| {
                    for sha in &added {
                        if tx.get(CODE, sha.as_bytes())?.is_none() {
                            return Err(CommitError::PackageGone);
                        }
                    }
                    for w in &writes {
                        match w {
                            Write::Put { tree, key, value } => tx.put(tree, key, value)?,
                            Write::Delete { tree, key } => tx.delete(tree, key)?,
                        }
                    }
                    Ok(())
                })
            })
            .map_err(|e| match e {
                CommitError::PackageGone => {
                    AwsError::internal("The deployment package was removed by a concurrent request. Please try again.")
                }
                CommitError::Store(e) => store_failed(e),
            })?;
        for sha in dropped {
            self.collect_package(sha);
        }
        Ok(())
    }

    /// Forgets a package nobody uses: its record in the same transaction that sees no user left,
    /// its blob after that has committed. A failure only leaves an unused blob behind.
    pub(crate) fn collect_package(&self, sha: &str) {
        let prefix = ref_key(sha, b"");
        let end = prefix_end(&prefix);
        let unused = self.storage.kv.blocking(|kv| {
            kv.transact(|tx: &mut dyn Transaction| {
                let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
                if !tx.range(CODE_REFS, Bound::Included(&prefix), end, 1)?.is_empty() {
                    return Ok::<_, std::io::Error>(None);
                }
                let Some(id) = tx.get(CODE, sha.as_bytes())? else { return Ok(None) };
                tx.delete(CODE, sha.as_bytes())?;
                Ok(std::str::from_utf8(&id).ok().and_then(|id| id.parse::<u64>().ok()))
            })
        });
        match unused {
            Ok(Some(id)) => self.storage.objects.delete(id),
            Ok(None) => {}
            Err(e) => tracing::warn!(sha, error = %e, "lambda: cannot collect an unused package"),
        }
    }

    /// The function a URL id points to: in memory, else from the store.
    pub fn url_target(&self, url_id: &str) -> Option<UrlTarget> {
        if let Some(target) = self.urls.read().get(url_id) {
            return Some(target.clone());
        }
        let record: UrlRecord = serde_json::from_slice(&self.storage.kv.get(URLS, url_id.as_bytes())?).ok()?;
        Some(UrlTarget {
            account: record.account.into(),
            region: record.region.into(),
            function: record.function,
            qualifier: record.qualifier,
        })
    }

    /// Stores function `name` as it now is in `region` (or its deletion), together with the URL
    /// ids it gained or lost. On failure `before` is put back and the write answers 500.
    pub fn save_function(
        &self,
        account: &Arc<str>,
        region_name: &Arc<str>,
        region: &mut Region,
        name: &str,
        before: Option<Function>,
    ) -> Result<(), AwsError> {
        let after = region.functions.get(name);
        let old_urls: BTreeMap<&str, &str> =
            before.iter().flat_map(|f| f.urls.iter().map(|(q, u)| (u.url_id.as_str(), q.as_str()))).collect();
        let new_urls: BTreeMap<&str, &str> =
            after.iter().flat_map(|f| f.urls.iter().map(|(q, u)| (u.url_id.as_str(), q.as_str()))).collect();
        let mut writes = Vec::new();
        let fkey = key(account, region_name, name);
        let prepared = (|| {
            match after {
                Some(f) => writes.push(put(FUNCTIONS, fkey, &function_record(f))?),
                None => writes.push(Write::Delete { tree: FUNCTIONS.into(), key: fkey }),
            }
            for id in old_urls.keys().filter(|id| !new_urls.contains_key(*id)) {
                writes.push(Write::Delete { tree: URLS.into(), key: id.as_bytes().to_vec() });
            }
            for (id, qualifier) in new_urls.iter().filter(|(id, _)| !old_urls.contains_key(*id)) {
                let record = UrlRecord {
                    account: account.to_string(),
                    region: region_name.to_string(),
                    function: name.to_owned(),
                    qualifier: (!qualifier.is_empty()).then(|| qualifier.to_string()),
                };
                writes.push(put(URLS, id.as_bytes().to_vec(), &record)?);
            }
            Ok::<_, AwsError>(())
        })();
        let packages_before = before.as_ref().map(function_packages).unwrap_or_default();
        let packages_after = after.map(function_packages).unwrap_or_default();
        let owner = [&key(account, region_name, "f\0")[..], name.as_bytes()].concat();
        let applied = prepared.and_then(|()| self.commit_with_refs(writes, &owner, &packages_before, &packages_after));
        if let Err(e) = applied {
            match before {
                Some(f) => region.functions.insert(name.to_owned(), f),
                None => region.functions.remove(name),
            };
            return Err(e);
        }
        // The URL id index in memory follows the store.
        let gone: Vec<String> =
            old_urls.keys().filter(|id| !new_urls.contains_key(*id)).map(|id| id.to_string()).collect();
        let added: Vec<(String, String)> = new_urls
            .iter()
            .filter(|(id, _)| !old_urls.contains_key(*id))
            .map(|(id, q)| (id.to_string(), q.to_string()))
            .collect();
        if !gone.is_empty() || !added.is_empty() {
            let mut urls = self.urls.write();
            for id in gone {
                urls.remove(&id);
            }
            for (id, qualifier) in added {
                urls.insert(
                    id,
                    UrlTarget {
                        account: account.clone(),
                        region: region_name.clone(),
                        function: name.to_owned(),
                        qualifier: (!qualifier.is_empty()).then_some(qualifier),
                    },
                );
            }
        }
        Ok(())
    }

    /// Stores layer `name` as it now is in `region`; on failure puts `before` back.
    pub fn save_layer(
        &self,
        account: &str,
        region_name: &str,
        region: &mut Region,
        name: &str,
        before: Option<LayerEntry>,
    ) -> Result<(), AwsError> {
        let lkey = key(account, region_name, name);
        let write = match region.layers.get(name) {
            Some(entry) => put(LAYERS, lkey, &layer_record(entry)),
            None => Ok(Write::Delete { tree: LAYERS.into(), key: lkey }),
        };
        let packages_before = before.as_ref().map(layer_packages).unwrap_or_default();
        let packages_after = region.layers.get(name).map(layer_packages).unwrap_or_default();
        let owner = [&key(account, region_name, "l\0")[..], name.as_bytes()].concat();
        let applied = write.and_then(|w| self.commit_with_refs(vec![w], &owner, &packages_before, &packages_after));
        if let Err(e) = applied {
            match before {
                Some(entry) => region.layers.insert(name.to_owned(), entry),
                None => region.layers.remove(name),
            };
            return Err(e);
        }
        Ok(())
    }

    /// Loads, in the background, every account and region holding event source mappings, so
    /// their pollers resume at startup without waiting for a request (the rest of the store
    /// still loads on first use). Without a Tokio runtime (unit tests building the service)
    /// regions load on first use only.
    pub(crate) fn resume_event_sources(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let lambda = Arc::downgrade(self);
        runtime.spawn(async move {
            let Some(lambda) = lambda.upgrade() else { return };
            let keys =
                lambda.storage.kv.blocking(|kv| kv.range(MAPPINGS, Bound::Unbounded, Bound::Unbounded, usize::MAX));
            let mut scopes: Vec<(Arc<str>, Arc<str>)> = Vec::new();
            for (key, _) in keys {
                let mut parts = key.splitn(3, |b| *b == 0);
                let (Some(account), Some(region), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
                    continue;
                };
                let scope = (
                    Arc::from(String::from_utf8_lossy(account).as_ref()),
                    Arc::from(String::from_utf8_lossy(region).as_ref()),
                );
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
            for (account, region) in scopes {
                if let Err(e) = lambda.region_of(&account, &region).await {
                    tracing::error!(%account, %region, error = %e.message, "lambda: event source mappings not resumed");
                }
            }
        });
    }

    /// Stores event source mapping `uuid` as it now is in `region`; on failure puts `before` back.
    pub fn save_mapping(
        &self,
        account: &str,
        region_name: &str,
        region: &mut Region,
        uuid: &str,
        before: Option<Mapping>,
    ) -> Result<(), AwsError> {
        let mkey = key(account, region_name, uuid);
        let write = match region.mappings.get(uuid) {
            Some(m) => put(MAPPINGS, mkey, m),
            None => Ok(Write::Delete { tree: MAPPINGS.into(), key: mkey }),
        };
        let applied = write.and_then(|w| self.storage.kv.blocking(|kv| kv.apply(vec![w])).map_err(store_failed));
        if let Err(e) = applied {
            match before {
                Some(m) => region.mappings.insert(uuid.to_owned(), m),
                None => region.mappings.remove(uuid),
            };
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::types::{
        CreateAliasRequest, CreateFunctionRequest, DeleteFunctionRequest, DeleteLayerVersionRequest, FunctionCode,
        LayerVersionContentInput, PublishLayerVersionRequest, PublishVersionRequest, TagResourceRequest,
    };
    use crate::packages::tests::make_zip;
    use crate::{MemoryLogSink, aliases, functions, layers, versions};
    use ruststack_core::store::Storage;
    use ruststack_core::{Blob, RequestContext};

    /// Writes through one service instance, reads back through a fresh one over the same stores.
    async fn round_trip(storage: Storage) {
        let first = Arc::new(Lambda::with_storage(Arc::new(MemoryLogSink::default()), storage.clone()));
        let ctx = RequestContext::for_tests("CreateFunction");
        let layer_zip = make_zip(&[("python/helper.py", "X = 1", 0o644)]);
        let layer = layers::publish_layer_version(
            first.clone(),
            ctx.clone(),
            PublishLayerVersionRequest {
                layer_name: "helpers".into(),
                content: LayerVersionContentInput {
                    zip_file: Some(Blob(layer_zip.clone().into())),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let zip = make_zip(&[("index.py", "def handler(e, c):\n    return 1\n", 0o644)]);
        let created = functions::create_function(
            first.clone(),
            ctx.clone(),
            CreateFunctionRequest {
                function_name: "f".into(),
                runtime: Some("python3.12".into()),
                role: "arn:aws:iam::000000000000:role/r".into(),
                handler: Some("index.handler".into()),
                code: FunctionCode { zip_file: Some(Blob(zip.clone().into())), ..Default::default() },
                layers: layer.layer_version_arn.map(|a| vec![a]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let published = versions::publish_version(
            first.clone(),
            ctx.clone(),
            PublishVersionRequest { function_name: "f".into(), ..Default::default() },
        )
        .await
        .unwrap();
        aliases::create_alias(
            first.clone(),
            ctx.clone(),
            CreateAliasRequest {
                function_name: "f".into(),
                name: "live".into(),
                function_version: "1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let arn = created.function_arn.clone().unwrap();
        functions::tag_resource(
            first.clone(),
            ctx.clone(),
            TagResourceRequest { resource: arn, tags: [("k".to_owned(), "v".to_owned())].into() },
        )
        .await
        .unwrap();
        // Wait for the background activation, which writes the settled state too.
        for _ in 0..100 {
            let region = first.region(&ctx).await.unwrap();
            if region.read().functions["f"].latest.config.state.as_deref() != Some("Pending") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // Revisions are per process; everything else reads back as written.
        let normalize = |f: &Function| {
            let mut v = serde_json::to_value(function_record(f)).unwrap();
            v["latest"]["revision"] = 0.into();
            v["versions"][0][1]["revision"] = 0.into();
            v["last_published"][0] = 0.into();
            v
        };
        let expected = {
            let region = first.region(&ctx).await.unwrap();
            let region = region.read();
            assert_eq!(region.functions["f"].latest.config.state.as_deref(), Some("Active"));
            normalize(&region.functions["f"])
        };

        let second = Arc::new(Lambda::with_storage(Arc::new(MemoryLogSink::default()), storage.clone()));
        let region = second.region(&ctx).await.unwrap();
        {
            let region = region.read();
            let f = &region.functions["f"];
            assert_eq!(normalize(f), expected);
            assert_eq!(f.last_published.map(|p| p.0), Some(f.latest.revision));
            assert_eq!(f.versions[&1].config.version, published.version);
            assert_eq!(f.latest.code.zip.as_ref(), zip.as_slice());
            assert_eq!(f.latest.opt.layers[0].zip.as_ref(), layer_zip.as_slice());
            assert_eq!(f.aliases["live"].function_version, "1");
            assert_eq!(region.layers["helpers"].next_version, 2);
        }

        // A package's blob goes with its last user: the layer's outlives the function using it.
        let blob = |data: &[u8]| -> Option<u64> {
            let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
            storage.kv.get(CODE, sha.as_bytes()).map(|id| String::from_utf8(id).unwrap().parse().unwrap())
        };
        let (code_blob, layer_blob) = (blob(&zip).unwrap(), blob(&layer_zip).unwrap());
        functions::delete_function(
            second.clone(),
            ctx.clone(),
            DeleteFunctionRequest { function_name: "f".into(), qualifier: None },
        )
        .await
        .unwrap();
        assert!(blob(&zip).is_none());
        assert!(storage.objects.read(code_blob, None).is_err());
        assert!(storage.objects.read(layer_blob, None).is_ok());
        layers::delete_layer_version(
            second.clone(),
            ctx.clone(),
            DeleteLayerVersionRequest { layer_name: "helpers".into(), version_number: 1 },
        )
        .await
        .unwrap();
        assert!(blob(&layer_zip).is_none());
        assert!(storage.objects.read(layer_blob, None).is_err());
    }

    #[tokio::test]
    async fn memory_round_trip() {
        round_trip(Storage::memory()).await;
    }

    #[tokio::test]
    async fn disk_round_trip() {
        let dir = std::env::temp_dir().join(format!("ruststack-lambda-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let kv = ruststack_persist::SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap();
        let objects = ruststack_persist::DiskObjects::open(&dir.join("blobs")).unwrap();
        round_trip(Storage { kv: Arc::new(kv), objects: Arc::new(objects) }).await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
