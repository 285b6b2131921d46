//! Every queue of every account and region, found by name, URL or ARN.

use crate::errors::queue_does_not_exist;
use crate::persist;
use crate::queue::{Queue, now_ms};
use parking_lot::{Mutex, RwLock};
use ruststack_core::store::{KvStore, MemoryStore};
use ruststack_core::{AwsError, RequestContext, ServiceState};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

type Region = BTreeMap<String, Arc<Queue>>;
/// Account → region → queues by name.
type Accounts = HashMap<Arc<str>, HashMap<Arc<str>, Region>>;

/// A message move task (StartMessageMoveTask), kept for ListMessageMoveTasks.
#[derive(Debug, Clone)]
pub struct MoveTask {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<i32>,
    pub status: &'static str,
    pub moved: i64,
    pub to_move: i64,
    pub started_ms: i64,
}

pub struct Sqs {
    /// Queues of the regions loaded so far (a loaded region has an entry, maybe empty).
    queues: RwLock<Accounts>,
    pub tasks: Mutex<Vec<MoveTask>>,
    pub kv: Arc<dyn KvStore>,
    /// Set by a queue whose write to the store failed (see [`Sqs::ensure_loaded`]).
    stale: Arc<AtomicBool>,
}

impl Default for Sqs {
    fn default() -> Self {
        Sqs::new(Arc::new(MemoryStore::default()))
    }
}

impl ServiceState for Sqs {
    fn reset(&self) {
        let all = std::mem::take(&mut *self.queues.write());
        for q in all.values().flat_map(|r| r.values()).flat_map(|r| r.values()) {
            q.mark_deleted();
        }
        self.tasks.lock().clear();
    }
}

/// The account and name a queue URL points at, and its region when the host names one
/// (`sqs.<region>.localhost.localstack.cloud`, `<region>.queue.localhost.localstack.cloud`).
pub fn parse_queue_url(url: &str) -> Option<(Option<&str>, &str, &str)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or(path).trim_end_matches('/');
    let (account, name) = path.rsplit_once('/')?;
    let account = account.rsplit('/').next().unwrap_or(account);
    if name.is_empty() || account.is_empty() {
        return None;
    }
    let host = host.split(':').next().unwrap_or(host);
    let region = if let Some(r) = host.strip_prefix("sqs.") {
        r.split('.').next().filter(|r| r.contains('-'))
    } else if let Some((r, _)) = host.split_once(".queue.") {
        Some(r).filter(|r| r.contains('-'))
    } else {
        None
    };
    Some((region, account, name))
}

/// The URL of a queue as we hand it out: on the host the client reached us at.
pub fn queue_url(ctx: &RequestContext, q: &Queue) -> String {
    format!("http://{}/{}/{}", ctx.host, q.account, q.name)
}

impl Sqs {
    pub fn new(kv: Arc<dyn KvStore>) -> Self {
        Sqs { queues: RwLock::default(), tasks: Mutex::default(), kv, stale: Arc::default() }
    }

    /// Makes sure an account and region's queues are in memory: loaded from the store on first
    /// use. After a failed write every region is dropped and reloaded from the store, which is
    /// the truth.
    fn ensure_loaded(&self, account: &str, region: &str) {
        if self.stale.load(Ordering::Acquire) {
            let mut all = self.queues.write();
            if self.stale.swap(false, Ordering::AcqRel) {
                for q in std::mem::take(&mut *all).values().flat_map(|r| r.values()).flat_map(|r| r.values()) {
                    q.mark_deleted();
                }
            }
        }
        if self.queues.read().get(account).is_some_and(|a| a.contains_key(region)) {
            return;
        }
        let mut all = self.queues.write();
        let regions = all.entry(Arc::from(account)).or_default();
        if regions.contains_key(region) {
            return;
        }
        let (account, region): (Arc<str>, Arc<str>) = (Arc::from(account), Arc::from(region));
        let loaded = persist::load_region(&self.kv, &account, &region, now_ms());
        let queues = loaded
            .into_iter()
            .map(|mut q| {
                q.stale = self.stale.clone();
                (q.name.clone(), Arc::new(q))
            })
            .collect();
        regions.insert(region, queues);
    }

    pub fn get(&self, account: &str, region: &str, name: &str) -> Option<Arc<Queue>> {
        self.ensure_loaded(account, region);
        self.queues.read().get(account)?.get(region)?.get(name).cloned()
    }

    /// The queue a request's `QueueUrl` names.
    pub fn resolve(&self, ctx: &RequestContext, url: &str) -> Result<Arc<Queue>, AwsError> {
        // AWS also takes a bare queue name for QueueUrl: the caller's queue in the request's region.
        if !url.is_empty() && !url.contains('/') {
            return self.get(&ctx.account_id, &ctx.region, url).ok_or_else(queue_does_not_exist);
        }
        let (region, account, name) = parse_queue_url(url).ok_or_else(queue_does_not_exist)?;
        // LocalStack also accepts `/queue/<name>`-style paths: a non-numeric account is the caller's.
        let account =
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) { account } else { &ctx.account_id };
        let region = region.unwrap_or(&ctx.region);
        self.get(account, region, name).ok_or_else(queue_does_not_exist)
    }

    /// The queue of an ARN (`arn:aws:sqs:<region>:<account>:<name>`).
    pub fn by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let mut parts = arn.split(':');
        let (Some("arn"), Some(_), Some("sqs"), Some(region), Some(account), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        self.get(account, region, name)
    }

    /// Adds a queue unless one of that name exists (storing it first); returns the queue that
    /// is there.
    pub fn insert(&self, mut q: Queue) -> Result<(Arc<Queue>, bool), AwsError> {
        q.stale = self.stale.clone();
        self.ensure_loaded(&q.account, &q.region);
        let mut all = self.queues.write();
        let region = all.entry(q.account.clone()).or_default().entry(q.region.clone()).or_default();
        if let Some(existing) = region.get(&q.name) {
            return Ok((existing.clone(), false));
        }
        q.commit(&mut q.inner.lock())?;
        let q = Arc::new(q);
        region.insert(q.name.clone(), q.clone());
        Ok((q, true))
    }

    pub fn remove(&self, q: &Queue) -> Result<(), AwsError> {
        let mut all = self.queues.write();
        {
            // The queue's lock keeps its own writes from landing after the delete.
            let _inner = q.inner.lock();
            persist::commit(&*self.kv, persist::delete_queue(&*self.kv, q))?;
        }
        if let Some(region) = all.get_mut(&*q.account).and_then(|a| a.get_mut(&*q.region)) {
            region.remove(&q.name);
        }
        q.mark_deleted();
        Ok(())
    }

    /// The queues of an account and region, in name order.
    pub fn list(&self, account: &str, region: &str) -> Vec<Arc<Queue>> {
        self.ensure_loaded(account, region);
        self.queues
            .read()
            .get(account)
            .and_then(|a| a.get(region))
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_url_forms() {
        assert_eq!(
            parse_queue_url("http://sqs.eu-west-1.localhost.localstack.cloud:4566/000000000000/q1"),
            Some((Some("eu-west-1"), "000000000000", "q1"))
        );
        assert_eq!(parse_queue_url("http://localhost:4566/000000000000/q1"), Some((None, "000000000000", "q1")));
        assert_eq!(
            parse_queue_url("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"),
            Some((Some("us-east-1"), "123456789012", "q.fifo"))
        );
        assert_eq!(parse_queue_url("http://localhost:4566/q"), None);
        assert_eq!(parse_queue_url("nonsense"), None);
    }
}
