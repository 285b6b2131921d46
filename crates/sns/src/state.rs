//! Topics and subscriptions of every account and region, keyed by ARN.

use crate::delivery::LambdaInvoker;
use parking_lot::RwLock;
use ruststack_core::ServiceState;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Topic {
    pub arn: String,
    pub name: String,
    pub account: String,
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub fifo: bool,
    pub content_dedup: bool,
}

#[derive(Debug, Clone)]
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

#[derive(Default)]
pub struct Topics {
    pub topics: BTreeMap<String, Topic>,
    pub subscriptions: BTreeMap<String, Subscription>,
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
}

impl Sns {
    pub fn new(queues: ruststack_sqs::Queues) -> Self {
        Sns {
            inner: RwLock::default(),
            queues,
            lambda: RwLock::new(None),
            sms: RwLock::default(),
            dedup: RwLock::default(),
            sequence: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

impl ServiceState for Sns {
    fn reset(&self) {
        *self.inner.write() = Topics::default();
        self.sms.write().clear();
        self.dedup.write().clear();
    }
}
