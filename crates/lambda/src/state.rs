//! What the control plane stores, per account and region: functions (with `$LATEST`, published
//! versions, aliases, policies, tags, concurrency and URL configs) and layers; plus the name and
//! ARN helpers and the errors every handler shares.

use crate::environments::Executor;
use crate::generated::types::{AliasRoutingConfiguration, Cors, FunctionConfiguration};
use crate::logs::LogSink;
use crate::packages::{Code, Opt};
use http::StatusCode;
use parking_lot::RwLock;
use ruststack_core::store::{PerRegion, Storage};
use ruststack_core::{AwsError, RequestContext, ServiceState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The service's state.
pub struct Lambda {
    pub regions: PerRegion<RwLock<Region>>,
    pub executor: Arc<Executor>,
    /// Function URL ids → the function they invoke (URLs arrive without account or region).
    pub urls: RwLock<HashMap<String, UrlTarget>>,
    /// Where the control plane is written through (see [`crate::persist`]).
    pub storage: Storage,
    /// Serializes the first loads of regions from the store.
    loading: tokio::sync::Mutex<()>,
    /// The service's own handle, for the pollers of event source mappings loaded from the store.
    pub(crate) me: std::sync::OnceLock<std::sync::Weak<Lambda>>,
    /// The port the gateway listens on: functions (`AWS_ENDPOINT_URL`), event source pollers,
    /// destinations and S3 code downloads call the other services through it.
    gateway_port: u16,
    /// DynamoDB's streams, for stream event source mappings (none: such mappings are refused).
    pub(crate) stream_reader: Option<Arc<dyn crate::stream_sources::StreamReader>>,
}

impl Lambda {
    /// In memory only.
    pub fn new(sink: Arc<dyn LogSink>) -> Self {
        Self::with_storage(sink, Storage::memory())
    }

    pub fn with_storage(sink: Arc<dyn LogSink>, storage: Storage) -> Self {
        Lambda {
            regions: PerRegion::default(),
            executor: Executor::new(sink),
            urls: RwLock::default(),
            storage,
            loading: tokio::sync::Mutex::new(()),
            me: std::sync::OnceLock::new(),
            gateway_port: 4566,
            stream_reader: None,
        }
    }

    /// Calls back into the gateway on `port` (default 4566).
    pub fn with_gateway_port(self, port: u16) -> Self {
        Lambda { gateway_port: port, ..self }
    }

    /// Reads DynamoDB streams for stream event source mappings through `reader`.
    pub fn with_stream_reader(self, reader: Arc<dyn crate::stream_sources::StreamReader>) -> Self {
        Lambda { stream_reader: Some(reader), ..self }
    }

    /// The port the gateway listens on.
    pub fn gateway_port(&self) -> u16 {
        self.gateway_port
    }

    /// The request's account and region, loaded from the store on first use.
    pub async fn region(&self, ctx: &RequestContext) -> Result<Arc<RwLock<Region>>, AwsError> {
        let state = self.regions.get(&ctx.account_id, &ctx.region);
        if state.read().loaded {
            return Ok(state);
        }
        self.region_of(&ctx.account_id, &ctx.region).await
    }

    /// An account and region, loaded from the store on first use (then the pollers of its event
    /// source mappings start).
    pub async fn region_of(&self, account: &Arc<str>, region: &Arc<str>) -> Result<Arc<RwLock<Region>>, AwsError> {
        let state = self.regions.get(account, region);
        if state.read().loaded {
            return Ok(state);
        }
        let _guard = self.loading.lock().await;
        if state.read().loaded {
            return Ok(state);
        }
        let mut loaded = self.load_region(account, region).await?;
        loaded.loaded = true;
        {
            let mut urls = self.urls.write();
            for (name, f) in &loaded.functions {
                for (qualifier, url) in &f.urls {
                    urls.insert(
                        url.url_id.clone(),
                        UrlTarget {
                            account: account.clone(),
                            region: region.clone(),
                            function: name.clone(),
                            qualifier: (!qualifier.is_empty()).then(|| qualifier.clone()),
                        },
                    );
                }
            }
        }
        // A crash between a change and its activation left it Pending / InProgress: activate again.
        let unsettled: Vec<String> = loaded
            .functions
            .iter()
            .filter(|(_, f)| {
                let c = &f.latest.config;
                c.state.as_deref() == Some("Pending") || c.last_update_status.as_deref() == Some("InProgress")
            })
            .map(|(name, _)| name.clone())
            .collect();
        let mappings: Vec<String> = loaded.mappings.keys().cloned().collect();
        {
            // Whatever reached this region without loading it (through `regions` directly) stays.
            let mut current = state.write();
            let earlier = std::mem::take(&mut *current);
            loaded.functions.extend(earlier.functions);
            loaded.layers.extend(earlier.layers);
            loaded.mappings.extend(earlier.mappings);
            *current = loaded;
        }
        if let Some(me) = self.me.get().and_then(std::sync::Weak::upgrade) {
            for name in unsettled {
                crate::functions::activate_in(&me, account, region, &name);
            }
        }
        if let Some(me) = self.me.get() {
            for uuid in mappings {
                crate::event_sources::spawn_poller(me.clone(), account.clone(), region.clone(), uuid);
            }
        }
        Ok(state)
    }

    /// An account and region already loaded by the request being served (background work that
    /// follows a handler).
    pub fn loaded_region(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<RwLock<Region>> {
        self.regions.get(account, region)
    }
}

impl ServiceState for Lambda {
    fn reset(&self) {
        self.regions.clear();
        self.urls.write().clear();
        self.executor.stop_all();
    }

    fn gauges(&self) -> Vec<(&'static str, u64)> {
        vec![("lambda_environments", self.executor.live())]
    }

    fn stored_bytes(&self) -> u64 {
        let mut total = 0;
        for region in self.regions.all() {
            let region = region.read();
            for f in region.functions.values() {
                total += f.latest.code.zip.len() as u64;
                total += f.versions.values().map(|v| v.code.zip.len() as u64).sum::<u64>();
            }
        }
        total
    }
}

/// Where a function URL id points.
#[derive(Clone)]
pub struct UrlTarget {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub function: String,
    pub qualifier: Option<String>,
}

/// Functions and layers of one account and region.
#[derive(Default)]
pub struct Region {
    /// Whether the store's records of this account and region are in memory.
    pub loaded: bool,
    pub functions: BTreeMap<String, Function>,
    pub layers: BTreeMap<String, LayerEntry>,
    /// Event source mappings by UUID.
    pub mappings: BTreeMap<String, crate::event_sources::Mapping>,
}

/// A function: `$LATEST`, its published versions and everything attached to it.
#[derive(Clone)]
pub struct Function {
    pub latest: Arc<Version>,
    pub versions: BTreeMap<u64, Arc<Version>>,
    /// The number the next PublishVersion gets (numbers are never reused).
    pub next_version: u64,
    pub aliases: BTreeMap<String, Alias>,
    /// Resource policy statements per qualifier (`""` for the unqualified function).
    pub policies: BTreeMap<String, Vec<serde_json::Value>>,
    pub policy_revisions: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<i32>,
    /// Function URL configs per qualifier (`""` for none).
    pub urls: BTreeMap<String, UrlConfig>,
    /// `(revision of $LATEST, version number)` of the last publication: publishing an unchanged
    /// `$LATEST` again returns that version, as AWS does.
    pub last_published: Option<(u64, u64)>,
    /// Asynchronous invocation settings per qualifier (`$LATEST` for none).
    pub event_invoke: BTreeMap<String, crate::generated::types::FunctionEventInvokeConfig>,
}

impl Function {
    /// The version a qualifier names: `$LATEST`, a number, or an alias (its primary version).
    pub fn resolve(&self, qualifier: Option<&str>) -> Option<Arc<Version>> {
        match qualifier {
            None | Some("$LATEST") => Some(self.latest.clone()),
            Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => self.versions.get(&q.parse().ok()?).cloned(),
            Some(alias) => self.version_of(&self.aliases.get(alias)?.function_version),
        }
    }

    pub fn version_of(&self, version: &str) -> Option<Arc<Version>> {
        if version == "$LATEST" {
            Some(self.latest.clone())
        } else {
            self.versions.get(&version.parse().ok()?).cloned()
        }
    }
}

/// One immutable snapshot of a function version's configuration and code. An update of
/// `$LATEST` replaces the snapshot; `revision` changes with it, which retires warm environments.
pub struct Version {
    pub config: FunctionConfiguration,
    pub code: Arc<Code>,
    pub opt: Arc<Opt>,
    /// Unique over the process: keys the pool of warm environments.
    pub revision: u64,
    pub account: Arc<str>,
    pub region: Arc<str>,
}

impl Version {
    pub fn name(&self) -> &str {
        self.config.function_name.as_deref().unwrap_or_default()
    }

    pub fn version(&self) -> &str {
        self.config.version.as_deref().unwrap_or("$LATEST")
    }

    /// A copy with a different configuration (state changes keep the revision).
    pub fn with_config(&self, config: FunctionConfiguration) -> Version {
        Version {
            config,
            code: self.code.clone(),
            opt: self.opt.clone(),
            revision: self.revision,
            account: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

static REVISIONS: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique revision number for a new snapshot.
pub fn next_revision() -> u64 {
    REVISIONS.fetch_add(1, Ordering::Relaxed)
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub function_version: String,
    pub description: String,
    pub routing: Option<AliasRoutingConfiguration>,
    pub revision_id: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct UrlConfig {
    pub url_id: String,
    pub url: String,
    pub auth_type: String,
    pub cors: Option<Cors>,
    pub invoke_mode: String,
    pub created: String,
    pub modified: String,
}

/// A layer name's versions.
#[derive(Default, Clone)]
pub struct LayerEntry {
    pub versions: BTreeMap<i64, Arc<LayerVersion>>,
    pub next_version: i64,
    /// Resource policies of versions that have one.
    pub policies: BTreeMap<i64, LayerPolicy>,
}

/// The statements AddLayerVersionPermission granted on a layer version, and their revision.
#[derive(Default, Clone, Serialize, Deserialize)]
pub struct LayerPolicy {
    pub statements: Vec<serde_json::Value>,
    pub revision_id: String,
}

pub struct LayerVersion {
    pub name: String,
    pub arn: String,
    pub version_arn: String,
    pub version: i64,
    pub description: String,
    pub created: String,
    pub compatible_runtimes: Option<Vec<String>>,
    pub compatible_architectures: Option<Vec<String>>,
    pub license_info: Option<String>,
    pub code: Arc<Code>,
}

impl LayerVersion {
    /// The description as AWS answers it: absent when none was given.
    pub fn description(&self) -> Option<String> {
        (!self.description.is_empty()).then(|| self.description.clone())
    }
}

// ---- names and ARNs ----

/// A function reference split into its name and qualifier. Lambda accepts a name (`f`), a
/// partial ARN (`123456789012:function:f`) or a full ARN, each optionally with `:qualifier`.
#[derive(Debug, PartialEq)]
pub struct FunctionRef {
    pub name: String,
    pub qualifier: Option<String>,
}

pub fn parse_function_name(input: &str, qualifier: Option<&str>) -> Result<FunctionRef, AwsError> {
    let parts: Vec<&str> = input.split(':').collect();
    let (name, derived) = match parts.as_slice() {
        [name] => (*name, None),
        [name, q] => (*name, Some(*q)),
        [_, "function", name] => (*name, None),
        [_, "function", name, q] => (*name, Some(*q)),
        ["arn", _, "lambda", _, _, "function", name] => (*name, None),
        ["arn", _, "lambda", _, _, "function", name, q] => (*name, Some(*q)),
        _ => return Err(invalid_param(format!("Invalid function name: {input}"))),
    };
    if name.is_empty() {
        return Err(invalid_param(format!("Invalid function name: {input}")));
    }
    let qualifier = match (derived, qualifier) {
        (Some(d), Some(q)) if d != q => {
            return Err(invalid_param(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (Some(d), _) => Some(d.to_owned()),
        (None, q) => q.map(str::to_owned),
    };
    Ok(FunctionRef { name: name.to_owned(), qualifier })
}

pub fn function_arn(ctx: &RequestContext, name: &str) -> String {
    ctx.arn("lambda", &format!("function:{name}"))
}

pub fn qualified_arn(ctx: &RequestContext, name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => ctx.arn("lambda", &format!("function:{name}:{q}")),
        None => function_arn(ctx, name),
    }
}

// ---- errors ----

pub fn function_not_found(ctx: &RequestContext, name: &str, qualifier: Option<&str>) -> AwsError {
    resource_not_found(format!("Function not found: {}", qualified_arn(ctx, name, qualifier)))
}

pub fn resource_not_found(message: impl Into<String>) -> AwsError {
    AwsError::not_found("ResourceNotFoundException", message).with_field("Type", "User")
}

pub fn invalid_param(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterValueException", message).with_field("Type", "User")
}

pub fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::CONFLICT, "ResourceConflictException", message).with_field("Type", "User")
}

pub fn precondition_failed() -> AwsError {
    AwsError::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    .with_field("Type", "User")
}

/// A `ValidationException` in AWS's one-problem form.
pub fn validation(value: impl std::fmt::Display, path: &str, constraint: &str) -> AwsError {
    AwsError::bad_request(
        "ValidationException",
        format!("1 validation error detected: Value '{value}' at '{path}' failed to satisfy constraint: {constraint}"),
    )
}

// ---- small helpers ----

/// A random UUID (version 4) as text: request ids and revision ids.
pub fn uuid() -> String {
    let a = fastrand::u128(..);
    let a = (a & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{a:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// Lambda's timestamp format: `2024-05-01T12:00:00.000+0000`.
pub fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        now.year(),
        now.month() as u8,
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// Marker/MaxItems paging over a list sorted by key: the items after the marker, at most
/// `max_items` (default 50), and the next marker. Markers are the base64 of the last key
/// returned, opaque to clients as AWS's are.
pub fn page<T: Clone>(items: &[(String, T)], marker: Option<&str>, max_items: Option<i32>) -> (Vec<T>, Option<String>) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let max = max_items.unwrap_or(50).clamp(1, 10_000) as usize;
    let after =
        marker.map(|m| b64.decode(m).ok().and_then(|k| String::from_utf8(k).ok()).unwrap_or_else(|| m.to_owned()));
    let start = match &after {
        Some(m) => items.iter().position(|(k, _)| k > m).unwrap_or(items.len()),
        None => 0,
    };
    let slice = &items[start..];
    let taken: Vec<T> = slice.iter().take(max).map(|(_, v)| v.clone()).collect();
    let next = (slice.len() > max).then(|| b64.encode(&items[start + max - 1].0));
    (taken, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_in_every_form() {
        let r = |s: &str, q: Option<&str>| parse_function_name(s, q);
        assert_eq!(r("f", None).unwrap(), FunctionRef { name: "f".into(), qualifier: None });
        assert_eq!(r("f:prod", None).unwrap().qualifier.as_deref(), Some("prod"));
        assert_eq!(r("123456789012:function:f", Some("1")).unwrap().qualifier.as_deref(), Some("1"));
        let arn = r("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST", None).unwrap();
        assert_eq!((arn.name.as_str(), arn.qualifier.as_deref()), ("f", Some("$LATEST")));
        assert_eq!(r("f:1", Some("2")).unwrap_err().code, "InvalidParameterValueException");
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn paging_by_marker() {
        let items: Vec<(String, u32)> = (0..5).map(|i| (format!("k{i}"), i)).collect();
        let (first, next) = page(&items, None, Some(2));
        assert_eq!(first, vec![0, 1]);
        let (second, next) = page(&items, next.as_deref(), Some(2));
        assert_eq!(second, vec![2, 3]);
        let (rest, next) = page(&items, next.as_deref(), Some(2));
        assert_eq!((rest, next), (vec![4], None));
    }
}
