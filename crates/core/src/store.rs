//! Storage traits that services keep their state behind, so the same handlers run in memory or on
//! disk (`--data-dir`): an ordered key-value store of named trees with atomic batches and
//! read-your-writes transactions, plus [`Storage`], the pair of stores a service is given.
//!
//! [`MemoryStore`] is the default backend; `ruststack-persist` has the disk ones. Keys are bytes
//! compared in binary order, which is what S3 listings (UTF-8 key order) and DynamoDB range keys need.
//!
//! A disk store blocks: a write waits for its fsync (about a millisecond). Handlers call writes and
//! transactions through [`KvStore::blocking`] (`state.kv.blocking(|kv| kv.apply(writes))`), which
//! moves the wait off the async workers only when the backend can block. Reads come from the page
//! cache in microseconds and may be called directly.

use crate::objects::{MemoryObjects, ObjectStore};
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::ops::Bound;
use std::sync::Arc;

/// One write of an atomic batch.
#[derive(Debug, Clone)]
pub enum Write {
    Put { tree: String, key: Vec<u8>, value: Vec<u8> },
    Delete { tree: String, key: Vec<u8> },
}

/// Entries of a range read, in the order asked for.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// An ordered key-value store of named trees.
///
/// A read error of a disk backend (a failing disk) is logged and reads as absent; write errors are
/// returned, and a write that returned `Ok` survives a crash.
pub trait KvStore: Send + Sync + 'static {
    fn get(&self, tree: &str, key: &[u8]) -> Option<Vec<u8>>;
    /// Applies every write or none (one AWS write = one batch).
    fn apply(&self, writes: Vec<Write>) -> io::Result<()>;
    /// Up to `limit` entries of `tree` with keys in `(start, end)`, in key order.
    fn range(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries;
    /// Removes every tree.
    fn clear(&self) -> io::Result<()>;

    fn put(&self, tree: &str, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.apply(vec![Write::Put { tree: tree.into(), key: key.into(), value: value.into() }])
    }

    fn delete(&self, tree: &str, key: &[u8]) -> io::Result<()> {
        self.apply(vec![Write::Delete { tree: tree.into(), key: key.into() }])
    }

    /// Like [`KvStore::range`], in descending key order (DynamoDB `ScanIndexForward=false`).
    /// The default reads the whole range; backends override it.
    fn range_rev(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries {
        let mut all = self.range(tree, start, end, usize::MAX);
        all.reverse();
        all.truncate(limit);
        all
    }

    /// Runs `f` as one serializable transaction: its reads see its own writes, no other write
    /// interleaves, and its writes are kept only when `f` returns `Ok` (then durably, as one batch).
    /// `f` is called once. Prefer [`transact`], which carries the closure's own result and error.
    /// Inside `f`, read and write through the [`Transaction`] only: the store itself is locked
    /// until `f` returns, so calling it from `f` deadlocks.
    fn transaction(&self, f: &mut dyn FnMut(&mut dyn Transaction) -> io::Result<()>) -> io::Result<()>;

    /// Whether calls may wait on the disk (see [`KvStore::blocking`]).
    fn may_block(&self) -> bool {
        false
    }
}

/// The read-write view of a store inside [`KvStore::transaction`].
pub trait Transaction {
    fn get(&mut self, tree: &str, key: &[u8]) -> io::Result<Option<Vec<u8>>>;
    fn range(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries>;
    fn range_rev(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries>;
    fn put(&mut self, tree: &str, key: &[u8], value: &[u8]) -> io::Result<()>;
    fn delete(&mut self, tree: &str, key: &[u8]) -> io::Result<()>;
}

/// Runs a transaction whose closure returns its own value or error (such as an `AwsError` for a
/// failed condition): `Err` from the closure rolls back and is returned as is; a store failure is
/// converted with `From<io::Error>`.
pub fn transact<T, E: From<io::Error>>(
    store: &dyn KvStore,
    f: impl FnOnce(&mut dyn Transaction) -> Result<T, E>,
) -> Result<T, E> {
    let mut f = Some(f);
    let mut outcome: Option<Result<T, E>> = None;
    let stored = store.transaction(&mut |tx| {
        let f = f.take().ok_or_else(|| io::Error::other("a transaction closure was called twice"))?;
        let result = f(tx);
        let failed = result.is_err();
        outcome = Some(result);
        if failed { Err(io::Error::other("transaction aborted by its closure")) } else { Ok(()) }
    });
    match (outcome, stored) {
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(value)), Ok(())) => Ok(value),
        (_, Err(e)) => Err(E::from(e)),
        (None, Ok(())) => Err(E::from(io::Error::other("the store did not run the transaction"))),
    }
}

impl dyn KvStore {
    /// See [`transact`].
    pub fn transact<T, E: From<io::Error>>(
        &self,
        f: impl FnOnce(&mut dyn Transaction) -> Result<T, E>,
    ) -> Result<T, E> {
        transact(self, f)
    }

    /// Runs `f` (a write, usually) without stalling the async worker when the backend may block:
    /// on a multi-threaded tokio runtime the worker hands its other tasks over for the duration
    /// (`block_in_place`); in memory, or outside such a runtime, `f` simply runs.
    pub fn blocking<R>(&self, f: impl FnOnce(&Self) -> R) -> R {
        let multi_thread = self.may_block()
            && tokio::runtime::Handle::try_current()
                .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread { tokio::task::block_in_place(|| f(self)) } else { f(self) }
    }
}

/// `account \0 region \0`: the key prefix under which a service keeps one account and region's
/// records, so that a region is one key range of a tree.
pub fn region_scope(account: &str, region: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(account.len() + region.len() + 2);
    key.extend_from_slice(account.as_bytes());
    key.push(0);
    key.extend_from_slice(region.as_bytes());
    key.push(0);
    key
}

/// The first key after every key that starts with `prefix` (the exclusive end of a prefix scan),
/// or `None` when there is none (a prefix of only `0xFF` bytes: scan to the end).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// The stores a service keeps its state in: metadata in `kv`, large payloads in `objects`.
/// In memory by default; on disk with `--data-dir`.
#[derive(Clone)]
pub struct Storage {
    pub kv: Arc<dyn KvStore>,
    pub objects: Arc<dyn ObjectStore>,
}

impl Storage {
    /// Fresh in-memory stores.
    pub fn memory() -> Self {
        Storage { kv: Arc::new(MemoryStore::default()), objects: Arc::new(MemoryObjects::default()) }
    }

    /// Forgets everything in both stores (`POST /_ruststack/reset`). Metadata first: a crash in
    /// between leaves unreferenced blobs, never references to missing ones.
    pub fn clear(&self) -> io::Result<()> {
        self.kv.clear()?;
        self.objects.clear();
        Ok(())
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::memory()
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

    fn apply(&self, writes: Vec<Write>) -> io::Result<()> {
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

    fn range(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries {
        let trees = self.trees.read();
        let Some(t) = trees.get(tree) else { return Vec::new() };
        t.range::<[u8], _>((start, end)).take(limit).map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn range_rev(&self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> Entries {
        let trees = self.trees.read();
        let Some(t) = trees.get(tree) else { return Vec::new() };
        t.range::<[u8], _>((start, end)).rev().take(limit).map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn clear(&self) -> io::Result<()> {
        self.trees.write().clear();
        Ok(())
    }

    fn transaction(&self, f: &mut dyn FnMut(&mut dyn Transaction) -> io::Result<()>) -> io::Result<()> {
        let mut trees = self.trees.write();
        let mut tx = MemoryTransaction { trees: &mut trees, undo: Vec::new(), committed: false };
        f(&mut tx)?;
        tx.committed = true;
        Ok(())
    }
}

/// Writes straight into the trees under the store's write lock, remembering what each one
/// replaced, so an abort (or a panic in the closure) puts the old values back.
struct MemoryTransaction<'a> {
    trees: &'a mut HashMap<String, Tree>,
    /// `(tree, key, previous value)`, oldest first.
    undo: Vec<(String, Vec<u8>, Option<Vec<u8>>)>,
    committed: bool,
}

impl Transaction for MemoryTransaction<'_> {
    fn get(&mut self, tree: &str, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        Ok(self.trees.get(tree).and_then(|t| t.get(key)).cloned())
    }

    fn range(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries> {
        let Some(t) = self.trees.get(tree) else { return Ok(Vec::new()) };
        Ok(t.range::<[u8], _>((start, end)).take(limit).map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn range_rev(&mut self, tree: &str, start: Bound<&[u8]>, end: Bound<&[u8]>, limit: usize) -> io::Result<Entries> {
        let Some(t) = self.trees.get(tree) else { return Ok(Vec::new()) };
        Ok(t.range::<[u8], _>((start, end)).rev().take(limit).map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    fn put(&mut self, tree: &str, key: &[u8], value: &[u8]) -> io::Result<()> {
        let previous = self.trees.entry(tree.to_owned()).or_default().insert(key.to_vec(), value.to_vec());
        self.undo.push((tree.to_owned(), key.to_vec(), previous));
        Ok(())
    }

    fn delete(&mut self, tree: &str, key: &[u8]) -> io::Result<()> {
        if let Some(previous) = self.trees.get_mut(tree).and_then(|t| t.remove(key)) {
            self.undo.push((tree.to_owned(), key.to_vec(), Some(previous)));
        }
        Ok(())
    }
}

impl Drop for MemoryTransaction<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for (tree, key, previous) in self.undo.drain(..).rev() {
            let t = self.trees.entry(tree).or_default();
            match previous {
                Some(value) => t.insert(key, value),
                None => t.remove(&key),
            };
        }
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
    fn region_scopes_are_disjoint_key_ranges() {
        assert_eq!(region_scope("123", "us-east-1"), b"123\0us-east-1\0");
        // A region named like another's prefix must not fall inside its range.
        let a = region_scope("1", "us-east-1");
        let b = region_scope("1", "us-east-10");
        assert!(!b.starts_with(&a));
    }

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
    fn memory_store_ranges_backwards_and_by_prefix() {
        let s = MemoryStore::default();
        for k in ["a", "ab", "abc", "b", "c"] {
            s.put("t", k.as_bytes(), k.as_bytes()).unwrap();
        }
        let rev = s.range_rev("t", Bound::Included(b"ab"), Bound::Excluded(b"c"), 2);
        assert_eq!(rev.iter().map(|(k, _)| &k[..]).collect::<Vec<_>>(), [&b"b"[..], b"abc"]);
        let end = prefix_end(b"ab").unwrap();
        assert_eq!(end, b"ac");
        let prefixed = s.range("t", Bound::Included(b"ab"), Bound::Excluded(&end), 10);
        assert_eq!(prefixed.len(), 2);
        assert_eq!(prefix_end(b"a\xff\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff"), None);
    }

    #[derive(Debug, PartialEq)]
    enum Failed {
        Condition,
        Store,
    }

    impl From<io::Error> for Failed {
        fn from(_: io::Error) -> Self {
            Failed::Store
        }
    }

    #[test]
    fn transactions_read_their_writes_and_roll_back_on_error() {
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        store.put("t", b"a", b"1").unwrap();
        let seen = store
            .transact(|tx| {
                tx.put("t", b"b", b"2")?;
                tx.delete("t", b"a")?;
                let keys = tx.range("t", Bound::Unbounded, Bound::Unbounded, 10)?;
                Ok::<_, Failed>((tx.get("t", b"b")?, keys.len()))
            })
            .unwrap();
        assert_eq!(seen, (Some(b"2".to_vec()), 1));
        assert_eq!(store.get("t", b"a"), None);

        let failed = store.transact(|tx| {
            tx.put("t", b"b", b"overwritten")?;
            tx.put("new", b"x", b"y")?;
            tx.delete("t", b"b")?;
            if tx.get("t", b"b")?.is_none() {
                return Err(Failed::Condition);
            }
            Ok(())
        });
        assert_eq!(failed, Err(Failed::Condition));
        assert_eq!(store.get("t", b"b").as_deref(), Some(&b"2"[..]));
        assert_eq!(store.get("new", b"x"), None);
    }

    #[test]
    fn a_panicking_transaction_leaves_nothing_behind() {
        let store = Arc::new(MemoryStore::default());
        let s = store.clone();
        let panicked = std::thread::spawn(move || {
            let kv: &dyn KvStore = &*s;
            let _ = kv.transact(|tx| -> io::Result<()> {
                tx.put("t", b"k", b"v")?;
                panic!("a bug in the closure");
            });
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(store.get("t", b"k"), None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn blocking_runs_inline_where_it_cannot_move_off_the_worker() {
        let store: Arc<dyn KvStore> = Arc::new(MemoryStore::default());
        store.blocking(|kv| kv.put("t", b"k", b"v")).unwrap();
        assert!(store.get("t", b"k").is_some());
        let storage = Storage::memory();
        storage.kv.put("t", b"k", b"v").unwrap();
        storage.clear().unwrap();
        assert!(storage.kv.get("t", b"k").is_none());
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
