//! Storage traits that services keep their state behind, so the same handlers run in memory or on
//! disk (`--data-dir`): an ordered key-value store of named trees with atomic batches.
//!
//! [`MemoryStore`] is the default backend. Keys are bytes compared in binary order, which is what
//! S3 listings (UTF-8 key order) and DynamoDB range keys need.

use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// One write of an atomic batch.
#[derive(Debug, Clone)]
pub enum Write {
    Put { tree: String, key: Vec<u8>, value: Vec<u8> },
    Delete { tree: String, key: Vec<u8> },
}

/// An ordered key-value store of named trees.
pub trait KvStore: Send + Sync + 'static {
    fn get(&self, tree: &str, key: &[u8]) -> Option<Vec<u8>>;
    /// Applies every write or none (one AWS write = one batch).
    fn apply(&self, writes: Vec<Write>) -> std::io::Result<()>;
    /// Up to `limit` entries of `tree` with keys in `(start, end)`, in key order.
    fn range(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// Removes every tree.
    fn clear(&self) -> std::io::Result<()>;

    fn put(&self, tree: &str, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        self.apply(vec![Write::Put { tree: tree.into(), key: key.into(), value: value.into() }])
    }

    fn delete(&self, tree: &str, key: &[u8]) -> std::io::Result<()> {
        self.apply(vec![Write::Delete { tree: tree.into(), key: key.into() }])
    }
}

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// The in-memory backend.
#[derive(Default)]
pub struct MemoryStore {
    trees: RwLock<HashMap<String, Tree>>,
}

impl KvStore for MemoryStore {
    fn get(&self, tree: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.trees.read().get(tree)?.get(key).cloned()
    }

    fn apply(&self, writes: Vec<Write>) -> std::io::Result<()> {
        let mut trees = self.trees.write();
        for write in writes {
            match write {
                Write::Put { tree, key, value } => {
                    trees.entry(tree).or_default().insert(key, value);
                }
                Write::Delete { tree, key } => {
                    if let Some(t) = trees.get_mut(&tree) {
                        t.remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    fn range(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let trees = self.trees.read();
        let Some(t) = trees.get(tree) else { return Vec::new() };
        t.range::<[u8], _>((start, end)).take(limit).map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn clear(&self) -> std::io::Result<()> {
        self.trees.write().clear();
        Ok(())
    }
}

/// State kept per account and region, as AWS keeps most resources.
pub struct PerRegion<T> {
    inner: RwLock<HashMap<AccountRegion, Arc<T>>>,
}

/// `(account id, region)`.
type AccountRegion = (Arc<str>, Arc<str>);

impl<T> Default for PerRegion<T> {
    fn default() -> Self {
        PerRegion { inner: RwLock::new(HashMap::new()) }
    }
}

impl<T: Default> PerRegion<T> {
    /// The state of one account and region, created empty on first use.
    pub fn get(&self, account: &Arc<str>, region: &Arc<str>) -> Arc<T> {
        if let Some(state) = self.inner.read().get(&(account.clone(), region.clone())) {
            return state.clone();
        }
        self.inner.write().entry((account.clone(), region.clone())).or_default().clone()
    }

    /// Every account and region's state.
    pub fn all(&self) -> Vec<Arc<T>> {
        self.inner.read().values().cloned().collect()
    }

    /// Forgets every account and region.
    pub fn clear(&self) {
        self.inner.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_ranges_in_binary_key_order() {
        let s = MemoryStore::default();
        for k in ["b", "a", "é", "B", "aa"] {
            s.put("t", k.as_bytes(), b"v").unwrap();
        }
        let keys: Vec<_> = s
            .range("t", Bound::Unbounded, Bound::Unbounded, 10)
            .into_iter()
            .map(|(k, _)| String::from_utf8(k).unwrap())
            .collect();
        assert_eq!(keys, ["B", "a", "aa", "b", "é"]);
        let after_a = s.range("t", Bound::Excluded(b"a"), Bound::Unbounded, 2);
        assert_eq!(after_a.len(), 2);
        assert_eq!(after_a[0].0, b"aa");
        s.delete("t", b"a").unwrap();
        assert_eq!(s.get("t", b"a"), None);
        s.clear().unwrap();
        assert_eq!(s.get("t", b"b"), None);
    }

    #[test]
    fn per_region_state_is_separate() {
        let p: PerRegion<RwLock<Vec<u8>>> = PerRegion::default();
        let (a, r1, r2) = (Arc::from("1"), Arc::from("us-east-1"), Arc::from("eu-west-1"));
        p.get(&a, &r1).write().push(1);
        assert_eq!(p.get(&a, &r1).read().len(), 1);
        assert_eq!(p.get(&a, &r2).read().len(), 0);
        p.clear();
        assert_eq!(p.get(&a, &r1).read().len(), 0);
    }
}
