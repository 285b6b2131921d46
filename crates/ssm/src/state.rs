//! What Parameter Store keeps per account and region: parameters by name (sorted, so listings
//! page in name order), each with its versions, labels and tags.

use parking_lot::RwLock;
use ruststack_core::Timestamp;
use ruststack_core::store::PerRegion;
use std::collections::BTreeMap;

/// AWS keeps the newest 100 versions of a parameter.
pub const MAX_VERSIONS: usize = 100;
/// A version can carry at most 10 labels.
pub const MAX_LABELS_PER_VERSION: usize = 10;
/// Standard-tier values hold up to 4 KB, advanced ones 8 KB.
pub const STANDARD_VALUE_LIMIT: usize = 4096;
pub const ADVANCED_VALUE_LIMIT: usize = 8192;

#[derive(Default)]
pub struct Ssm {
    pub regions: PerRegion<RwLock<BTreeMap<String, StoredParameter>>>,
}

impl ruststack_core::ServiceState for Ssm {
    fn reset(&self) {
        self.regions.clear();
    }
}

/// One version of a parameter, as PutParameter wrote it.
#[derive(Debug, Clone)]
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
    pub modified: Timestamp,
    pub modified_user: String,
    pub labels: Vec<String>,
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
