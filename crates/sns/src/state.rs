//! Topics, subscriptions and mobile push platform applications and endpoints of every account
//! and region, keyed by ARN.

use crate::delivery::LambdaInvoker;
use parking_lot::RwLock;
use ruststack_core::store::{KvStore, MemoryStore, Write, prefix_end};
use ruststack_core::{AwsError, RequestContext, ServiceState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Trees of the kv store, keyed `account \0 region \0 name` (topics) and
/// `account \0 region \0 name:id` (subscriptions), as their ARNs end.
pub const TOPICS: &str = "sns/topics";
pub const SUBSCRIPTIONS: &str = "sns/subscriptions";
/// Mobile push: platform applications (`… \0 app/<platform>/<name>`) and their endpoints
/// (`… \0 endpoint/<platform>/<name>/<id>`).
pub const APPS: &str = "sns/apps";
pub const ENDPOINTS: &str = "sns/endpoints";
/// Account-wide SMS settings and opted-out phone numbers: one record per `account \0 region \0`.
pub const SMS: &str = "sns/sms";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub fifo: bool,
    pub content_dedup: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    pub token: String,
    pub attributes: BTreeMap<String, String>,
    /// Parsed FilterPolicy, if any.
    pub filter: Option<serde_json::Value>,
    pub filter_on_body: bool,
    pub raw: bool,
}

/// A mobile push platform application (credentials are kept, never checked with the platform).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformApp {
    pub arn: String,
    pub attributes: BTreeMap<String, String>,
}

/// A device endpoint of a platform application: `Token`, `Enabled` and `CustomUserData`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlatformEndpoint {
    pub arn: String,
    pub app_arn: String,
    pub attributes: BTreeMap<String, String>,
}

impl PlatformEndpoint {
    pub fn enabled(&self) -> bool {
        self.attributes.get("Enabled").is_none_or(|v| !v.eq_ignore_ascii_case("false"))
    }
}

/// SetSMSAttributes' settings and the phone numbers opted out of SMS, of one account and region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SmsSettings {
    pub attributes: BTreeMap<String, String>,
    pub opted_out: std::collections::BTreeSet<String>,
}

#[derive(Default)]
pub struct Topics {
    pub topics: BTreeMap<String, Topic>,
    pub subscriptions: BTreeMap<String, Subscription>,
    pub apps: BTreeMap<String, PlatformApp>,
    pub endpoints: BTreeMap<String, PlatformEndpoint>,
    /// By `account \0 region \0` (the store key).
    pub sms: HashMap<Vec<u8>, SmsSettings>,
}

pub struct Sns {
    pub inner: RwLock<Topics>,
    pub queues: ruststack_sqs::Queues,
    pub lambda: RwLock<Option<Arc<dyn LambdaInvoker>>>,
    /// SMS and platform-endpoint publications, kept for inspection.
    pub sms: RwLock<Vec<serde_json::Value>>,
    /// FIFO deduplication: topic ARN + id → (expiry ms, message id).
    pub dedup: RwLock<HashMap<String, (i64, String)>>,
    pub sequence: std::sync::atomic::AtomicU64,
    kv: Arc<dyn KvStore>,
    /// Account and region pairs whose topics and subscriptions are in `inner`.
    loaded: RwLock<HashMap<String, HashSet<String>>>,
    /// Set when a write failed: everything is reloaded from the store on the next request.
    stale: AtomicBool,
}

impl Sns {
    /// SNS with its state in memory only.
    pub fn new(queues: ruststack_sqs::Queues) -> Self {
        Sns::with_store(queues, Arc::new(MemoryStore::default()))
    }

    /// SNS keeping topics and subscriptions in `kv` (write-through, loaded per account and
    /// region on first use).
    pub fn with_store(queues: ruststack_sqs::Queues, kv: Arc<dyn KvStore>) -> Self {
        Sns {
            kv,
            loaded: RwLock::default(),
            stale: AtomicBool::new(false),
            inner: RwLock::default(),
            queues,
            lambda: RwLock::new(None),
            sms: RwLock::default(),
            dedup: RwLock::default(),
            sequence: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

/// The key of a topic or subscription: `account \0 region \0` and what follows the account in
/// its ARN (`arn:aws:sns:<region>:<account>:<rest>`).
fn arn_key(arn: &str) -> Option<Vec<u8>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("sns"), Some(region), Some(account), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let mut k = scope(account, region);
    k.extend_from_slice(rest.as_bytes());
    Some(k)
}

use ruststack_core::store::region_scope as scope;

impl Sns {
    /// Loads the caller's account and region, and that of `arn` (when it names another), from
    /// the store on first use.
    pub fn ensure(&self, ctx: &RequestContext, arn: Option<&str>) {
        if self.stale.load(Ordering::Acquire) && self.stale.swap(false, Ordering::AcqRel) {
            *self.inner.write() = Topics::default();
            self.loaded.write().clear();
        }
        self.ensure_scope(&ctx.account_id, &ctx.region);
        if let Some(arn) = arn {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if let ["arn", _, "sns", region, account, _] = parts.as_slice() {
                self.ensure_scope(account, region);
            }
        }
    }

    fn ensure_scope(&self, account: &str, region: &str) {
        let is_loaded = |l: &HashMap<String, HashSet<String>>| l.get(account).is_some_and(|r| r.contains(region));
        if is_loaded(&self.loaded.read()) {
            return;
        }
        let mut loaded = self.loaded.write();
        if is_loaded(&loaded) {
            return;
        }
        let prefix = scope(account, region);
        let end = prefix_end(&prefix);
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let mut inner = self.inner.write();
        for (_, v) in self.kv.range(TOPICS, Bound::Included(&prefix), end, usize::MAX) {
            match serde_json::from_slice::<Topic>(&v) {
                Ok(t) => {
                    inner.topics.insert(t.arn.clone(), t);
                }
                Err(e) => tracing::error!("sns: unreadable topic record: {e}"),
            }
        }
        for (_, v) in self.kv.range(SUBSCRIPTIONS, Bound::Included(&prefix), end, usize::MAX) {
            match serde_json::from_slice::<Subscription>(&v) {
                Ok(sub) => {
                    inner.subscriptions.insert(sub.arn.clone(), sub);
                }
                Err(e) => tracing::error!("sns: unreadable subscription record: {e}"),
            }
        }
        for (_, v) in self.kv.range(APPS, Bound::Included(&prefix), end, usize::MAX) {
            match serde_json::from_slice::<PlatformApp>(&v) {
                Ok(a) => {
                    inner.apps.insert(a.arn.clone(), a);
                }
                Err(e) => tracing::error!("sns: unreadable platform application record: {e}"),
            }
        }
        for (_, v) in self.kv.range(ENDPOINTS, Bound::Included(&prefix), end, usize::MAX) {
            match serde_json::from_slice::<PlatformEndpoint>(&v) {
                Ok(e) => {
                    inner.endpoints.insert(e.arn.clone(), e);
                }
                Err(e) => tracing::error!("sns: unreadable platform endpoint record: {e}"),
            }
        }
        if let Some(v) = self.kv.get(SMS, &prefix) {
            match serde_json::from_slice::<SmsSettings>(&v) {
                Ok(settings) => {
                    inner.sms.insert(prefix.clone(), settings);
                }
                Err(e) => tracing::error!("sns: unreadable SMS settings record: {e}"),
            }
        }
        loaded.entry(account.to_owned()).or_default().insert(region.to_owned());
    }

    /// Stores the current state (or absence) of the named topics and subscriptions in one
    /// write. Called with `inner` locked, after changing it; a failure is a 500 and everything
    /// is reloaded from the store on the next request.
    pub fn save(&self, inner: &Topics, topics: &[&str], subscriptions: &[&str]) -> Result<(), AwsError> {
        let mut writes = Vec::new();
        for arn in topics {
            let Some(key) = arn_key(arn) else { continue };
            writes.push(match inner.topics.get(*arn) {
                Some(t) => Write::Put { tree: TOPICS.into(), key, value: serde_json::to_vec(t).unwrap_or_default() },
                None => Write::Delete { tree: TOPICS.into(), key },
            });
        }
        for arn in subscriptions {
            let Some(key) = arn_key(arn) else { continue };
            writes.push(match inner.subscriptions.get(*arn) {
                Some(s) => {
                    Write::Put { tree: SUBSCRIPTIONS.into(), key, value: serde_json::to_vec(s).unwrap_or_default() }
                }
                None => Write::Delete { tree: SUBSCRIPTIONS.into(), key },
            });
        }
        self.apply(writes)
    }

    /// Stores the current state (or absence) of the named platform applications and endpoints
    /// in one write, as [`Sns::save`] does for topics.
    pub fn save_platform(&self, inner: &Topics, apps: &[&str], endpoints: &[&str]) -> Result<(), AwsError> {
        let mut writes = Vec::new();
        for arn in apps {
            let Some(key) = arn_key(arn) else { continue };
            writes.push(match inner.apps.get(*arn) {
                Some(a) => Write::Put { tree: APPS.into(), key, value: serde_json::to_vec(a).unwrap_or_default() },
                None => Write::Delete { tree: APPS.into(), key },
            });
        }
        for arn in endpoints {
            let Some(key) = arn_key(arn) else { continue };
            writes.push(match inner.endpoints.get(*arn) {
                Some(e) => Write::Put { tree: ENDPOINTS.into(), key, value: serde_json::to_vec(e).unwrap_or_default() },
                None => Write::Delete { tree: ENDPOINTS.into(), key },
            });
        }
        self.apply(writes)
    }

    /// Stores the SMS settings of the account and region `key` (`account \0 region \0`).
    pub fn save_sms(&self, inner: &Topics, key: &[u8]) -> Result<(), AwsError> {
        let value = serde_json::to_vec(&inner.sms.get(key).cloned().unwrap_or_default()).unwrap_or_default();
        self.apply(vec![Write::Put { tree: SMS.into(), key: key.to_vec(), value }])
    }

    fn apply(&self, writes: Vec<Write>) -> Result<(), AwsError> {
        if writes.is_empty() {
            return Ok(());
        }
        self.kv.blocking(|kv| kv.apply(writes)).map_err(|e| {
            self.stale.store(true, Ordering::Release);
            AwsError::internal(format!("SNS could not store the change: {e}"))
        })
    }
}

impl ServiceState for Sns {
    fn reset(&self) {
        *self.inner.write() = Topics::default();
        self.loaded.write().clear();
        self.sms.write().clear();
        self.dedup.write().clear();
    }
}
