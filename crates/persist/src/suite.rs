//! One test suite for every backend: each behaviour is a generic function called with the
//! in-memory store of the core and the disk store of this crate, so both keep the same contract.

use crate::{DataDir, DiskObjects, FORMAT_VERSION, SqliteStore};
use bytes::Bytes;
use ruststack_core::objects::{BlobId, MemoryObjects, ObjectStore};
use ruststack_core::store::{KvStore, MemoryStore, Write, prefix_end, transact};
use std::collections::BTreeMap;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ruststack-persist-{name}-{}-{}", std::process::id(), fastrand()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

fn fastrand() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::Instant::now())
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `check` on a memory store and on a fresh SQLite store.
fn each_kv(name: &str, check: impl Fn(Arc<dyn KvStore>)) {
    check(Arc::new(MemoryStore::default()));
    let dir = TempDir::new(name);
    check(Arc::new(SqliteStore::open(&dir.0.join("kv.sqlite"), true).unwrap()));
}

/// Runs `check` on memory objects and on fresh blob files.
async fn each_objects<F, Fut>(name: &str, check: F)
where
    F: Fn(Arc<dyn ObjectStore>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    check(Arc::new(MemoryObjects::default())).await;
    let dir = TempDir::new(name);
    check(Arc::new(DiskObjects::open(&dir.0.join("objects")).unwrap())).await;
}

fn keys(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<Vec<u8>> {
    entries.iter().map(|(k, _)| k.clone()).collect()
}

fn put(tree: &str, key: &[u8], value: &[u8]) -> Write {
    Write::Put { tree: tree.into(), key: key.into(), value: value.into() }
}

#[test]
fn ranges_match_a_btreemap_for_every_bound_shape() {
    each_kv("ranges", |s| {
        let mut model = BTreeMap::new();
        let mut seed = 7u64;
        for _ in 0..300 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 60) as usize % 4;
            let key: Vec<u8> = (0..len)
                .map(|i| [0x00, 0x01, b'a', b'b', 0x7F, 0x80, 0xFE, 0xFF][(seed >> (8 * i + 8)) as usize % 8])
                .collect();
            let value = seed.to_le_bytes().to_vec();
            if seed.is_multiple_of(5) {
                s.delete("t", &key).unwrap();
                model.remove(&key);
            } else {
                s.put("t", &key, &value).unwrap();
                model.insert(key, value);
            }
        }
        let probes: [&[u8]; 6] = [b"", b"\x00", b"a", b"ab", b"\x80", b"\xFF\xFF"];
        for lo in probes {
            for hi in probes {
                for (start, end) in [
                    (Bound::Included(lo), Bound::Included(hi)),
                    (Bound::Included(lo), Bound::Excluded(hi)),
                    (Bound::Excluded(lo), Bound::Unbounded),
                    (Bound::Unbounded, Bound::Excluded(hi)),
                    (Bound::Excluded(lo), Bound::Included(hi)),
                    (Bound::Unbounded, Bound::Unbounded),
                ] {
                    if lo > hi && !matches!((start, end), (Bound::Unbounded, _) | (_, Bound::Unbounded)) {
                        continue; // BTreeMap panics on an inverted range
                    }
                    let expected: Vec<_> =
                        model.range::<[u8], _>((start, end)).map(|(k, v)| (k.clone(), v.clone())).collect();
                    assert_eq!(s.range("t", start, end, usize::MAX), expected, "{start:?}..{end:?}");
                    assert_eq!(s.range("t", start, end, 3), expected[..expected.len().min(3)]);
                    let mut rev = expected.clone();
                    rev.reverse();
                    rev.truncate(4);
                    assert_eq!(s.range_rev("t", start, end, 4), rev, "rev {start:?}..{end:?}");
                }
            }
        }
        assert!(s.range("t", Bound::Unbounded, Bound::Unbounded, 0).is_empty());
        assert!(s.range("missing", Bound::Unbounded, Bound::Unbounded, 10).is_empty());
    });
}

#[test]
fn keys_order_as_bytes_and_values_keep_every_byte() {
    each_kv("order", |s| {
        for k in ["b", "a", "é", "B", "aa", ""] {
            s.put("t", k.as_bytes(), k.as_bytes()).unwrap();
        }
        let got = s.range("t", Bound::Unbounded, Bound::Unbounded, 10);
        let names: Vec<_> = got.iter().map(|(k, _)| String::from_utf8(k.clone()).unwrap()).collect();
        assert_eq!(names, ["", "B", "a", "aa", "b", "é"]);
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        s.put("t", b"big", &big).unwrap();
        assert_eq!(s.get("t", b"big").unwrap(), big);
        s.put("t", b"empty", b"").unwrap();
        assert_eq!(s.get("t", b"empty"), Some(Vec::new()));
        assert_eq!(s.get("t", b"absent"), None);
        let end = prefix_end(b"a").unwrap();
        assert_eq!(
            keys(&s.range("t", Bound::Included(b"a"), Bound::Excluded(&end), 10)),
            [b"a".to_vec(), b"aa".to_vec()]
        );
    });
}

#[test]
fn a_batch_applies_in_order_and_trees_are_separate() {
    each_kv("batch", |s| {
        s.apply(vec![
            put("x", b"k", b"1"),
            put("y", b"k", b"2"),
            put("x", b"k", b"3"),
            Write::Delete { tree: "y".into(), key: b"k".to_vec() },
            put("y", b"other", b"4"),
            Write::Delete { tree: "nowhere".into(), key: b"k".to_vec() },
        ])
        .unwrap();
        assert_eq!(s.get("x", b"k").as_deref(), Some(&b"3"[..]));
        assert_eq!(s.get("y", b"k"), None);
        assert_eq!(s.get("y", b"other").as_deref(), Some(&b"4"[..]));
        s.apply(Vec::new()).unwrap();
        s.clear().unwrap();
        assert_eq!(s.get("x", b"k"), None);
        assert!(s.range("y", Bound::Unbounded, Bound::Unbounded, 10).is_empty());
        s.put("x", b"after", b"clear").unwrap();
        assert!(s.get("x", b"after").is_some());
    });
}

#[derive(Debug, PartialEq)]
enum TestError {
    ConditionFailed,
    Store(String),
}

impl From<io::Error> for TestError {
    fn from(e: io::Error) -> Self {
        TestError::Store(e.to_string())
    }
}

#[test]
fn transactions_see_their_writes_and_roll_back_whole() {
    each_kv("tx", |s| {
        s.put("t", b"a", b"1").unwrap();
        let seen = transact(&*s, |tx| {
            tx.put("t", b"b", b"2")?;
            tx.delete("t", b"a")?;
            let all = tx.range("t", Bound::Unbounded, Bound::Unbounded, 10)?;
            let rev = tx.range_rev("t", Bound::Unbounded, Bound::Unbounded, 10)?;
            Ok::<_, TestError>((tx.get("t", b"b")?, keys(&all), keys(&rev)))
        })
        .unwrap();
        assert_eq!(seen, (Some(b"2".to_vec()), vec![b"b".to_vec()], vec![b"b".to_vec()]));
        assert_eq!(s.get("t", b"a"), None);

        // A conditional write whose condition fails keeps nothing it wrote.
        let result = transact(&*s, |tx| {
            tx.put("t", b"b", b"changed")?;
            tx.put("u", b"new", b"x")?;
            if tx.get("t", b"missing")?.is_none() {
                return Err(TestError::ConditionFailed);
            }
            Ok(())
        });
        assert_eq!(result, Err(TestError::ConditionFailed));
        assert_eq!(s.get("t", b"b").as_deref(), Some(&b"2"[..]));
        assert_eq!(s.get("u", b"new"), None);
    });
}

#[test]
fn concurrent_batches_all_land_whole() {
    each_kv("concurrent", |s| {
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for n in 0..40u8 {
                        let batch = (0..3u8).map(|part| put("c", &[t, n, part], &[t ^ n ^ part])).collect();
                        s.apply(batch).unwrap();
                    }
                })
            })
            .collect();
        // Transactions interleave with the batches and stay serializable.
        for _ in 0..50 {
            transact(&*s, |tx| {
                let n = tx.get("counter", b"n")?.map_or(0, |v| v[0]);
                tx.put("counter", b"n", &[n + 1])
            })
            .unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
        let all = s.range("c", Bound::Unbounded, Bound::Unbounded, usize::MAX);
        assert_eq!(all.len(), 8 * 40 * 3);
        assert!(all.iter().all(|(k, v)| v[0] == k[0] ^ k[1] ^ k[2]));
        assert_eq!(s.get("counter", b"n"), Some(vec![50]));
    });
}

#[test]
fn concurrent_read_modify_writes_are_serializable() {
    each_kv("counter", |s| {
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for n in 0..25u8 {
                        transact(&*s, |tx| {
                            let count =
                                tx.get("counter", b"n")?.map_or(0, |v| u32::from_be_bytes(v.try_into().unwrap()));
                            tx.put("counter", b"n", &(count + 1).to_be_bytes())?;
                            tx.put("log", &count.to_be_bytes(), &[t, n])?;
                            // Every other write of this thread fails its condition: nothing of it stays.
                            if n % 2 == 1 {
                                tx.put("log", b"never", b"")?;
                                return Err(TestError::ConditionFailed);
                            }
                            Ok(())
                        })
                        .or_else(|e| if e == TestError::ConditionFailed { Ok(()) } else { Err(e) })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let done = 8 * 13;
        assert_eq!(s.get("counter", b"n"), Some((done as u32).to_be_bytes().to_vec()));
        let log = s.range("log", Bound::Unbounded, Bound::Unbounded, usize::MAX);
        assert_eq!(log.len(), done, "one log entry per committed increment, none for failed ones");
        assert_eq!(s.get("log", b"never"), None);
    });
}

#[test]
fn a_panicking_transaction_leaves_nothing_and_the_store_goes_on() {
    each_kv("panic", |s| {
        let s2 = s.clone();
        let panicked = std::thread::spawn(move || {
            let _ = transact(&*s2, |tx| -> io::Result<()> {
                tx.put("t", b"half", b"written")?;
                panic!("a bug in a handler");
            });
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(s.get("t", b"half"), None);
        s.put("t", b"after", b"ok").unwrap();
        assert_eq!(s.get("t", b"after").as_deref(), Some(&b"ok"[..]));
        assert_eq!(s.get("t", b"half"), None);
    });
}

async fn read_all(s: &dyn ObjectStore, id: BlobId, range: Option<std::ops::Range<u64>>) -> Bytes {
    ruststack_core::body::collect(s.read(id, range).unwrap(), usize::MAX).await.unwrap()
}

async fn store_blob(s: &dyn ObjectStore, chunks: &[Bytes]) -> BlobId {
    let mut w = s.create();
    for c in chunks {
        w.write(c.clone()).await.unwrap();
    }
    w.finish().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_stream_in_and_read_back_in_ranges() {
    each_objects("ranges", |s| async move {
        let big = Bytes::from((0..3_000_000u32).map(|i| (i % 253) as u8).collect::<Vec<_>>());
        let chunks = [Bytes::from_static(b"hello "), big.slice(..100_000), Bytes::new(), big.slice(100_000..)];
        let id = store_blob(&*s, &chunks).await;
        let all = read_all(&*s, id, None).await;
        assert_eq!(all.len(), 6 + big.len());
        assert_eq!(&all[..6], b"hello ");
        assert_eq!(all[6..], big[..]);
        assert_eq!(read_all(&*s, id, Some(3..9)).await[..], [b'l', b'o', b' ', 0, 1, 2]);
        let n = all.len() as u64;
        assert_eq!(read_all(&*s, id, Some(n - 5..n + 10)).await[..], all[all.len() - 5..]);
        assert_eq!(read_all(&*s, id, Some(1_000_000..2_100_001)).await[..], all[1_000_000..2_100_001]);
        assert!(read_all(&*s, id, Some(4..4)).await.is_empty());
        assert!(read_all(&*s, id, Some(n + 1..n + 5)).await.is_empty());
        let body = s.read(id, Some(10..20)).unwrap();
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(10));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_blobs_exist_and_ids_are_distinct() {
    each_objects("empty", |s| async move {
        let a = store_blob(&*s, &[]).await;
        let b = store_blob(&*s, &[Bytes::from_static(b"b")]).await;
        assert_ne!(a, b);
        assert!(read_all(&*s, a, None).await.is_empty());
        assert_eq!(&read_all(&*s, b, None).await[..], b"b");
        let mut dropped = s.create();
        dropped.write(Bytes::from_static(b"never finished")).await.unwrap();
        drop(dropped);
        assert_eq!(&read_all(&*s, b, None).await[..], b"b");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_spare_readers_in_flight_and_clear_forgets_all() {
    each_objects("delete", |s| async move {
        let payload = Bytes::from(vec![9u8; 200_000]);
        let id = store_blob(&*s, std::slice::from_ref(&payload)).await;
        let streaming = s.read(id, None).unwrap();
        s.delete(id);
        s.delete(id); // twice is harmless
        assert_eq!(s.read(id, None).err().map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        assert_eq!(ruststack_core::body::collect(streaming, usize::MAX).await.unwrap(), payload);

        let kept = store_blob(&*s, &[Bytes::from_static(b"x")]).await;
        s.clear();
        assert!(s.read(kept, None).is_err());
        let after = store_blob(&*s, &[Bytes::from_static(b"after clear")]).await;
        assert_eq!(&read_all(&*s, after, None).await[..], b"after clear");
    })
    .await;
}

// ---- disk only ----

/// Every file under `dir`, relative.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_ids_survive_a_restart_and_never_repeat() {
    let dir = TempDir::new("restart");
    let root = dir.0.join("objects");
    let first = {
        let s = DiskObjects::open(&root).unwrap();
        store_blob(&s, &[Bytes::from_static(b"kept")]).await
    };
    let s = DiskObjects::open(&root).unwrap();
    assert_eq!(&read_all(&s, first, None).await[..], b"kept");
    let second = store_blob(&s, &[Bytes::from_static(b"new")]).await;
    assert_ne!(first, second);
    assert_eq!(&read_all(&s, first, None).await[..], b"kept");
    // A writer abandoned before finish leaves no file; one interrupted by a crash is removed at open.
    let mut w = s.create();
    w.write(Bytes::from(vec![1u8; 2 * 1024 * 1024])).await.unwrap();
    drop(w);
    assert!(files_under(&root.join("tmp")).is_empty());
    std::fs::write(root.join("tmp").join("0000000000000001"), b"torn").unwrap();
    drop(s);
    DiskObjects::open(&root).unwrap();
    assert!(files_under(&root.join("tmp")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_keys_never_reach_the_file_system() {
    let outer = TempDir::new("traversal");
    let data = outer.0.join("data");
    let dd = DataDir::open(&data).unwrap();
    let long = "k".repeat(1024);
    let hostile = ["../../etc/passwd", "a/../../b", "%2F..", "/abs", "..", "nul\0byte", "ünïcødé/🦀", long.as_str()];
    let mut writes = Vec::new();
    for key in hostile {
        let id = store_blob(&*dd.storage.objects, &[Bytes::from(key.as_bytes().to_vec())]).await;
        writes.push(put("objects", key.as_bytes(), &id.to_be_bytes()));
    }
    dd.storage.kv.apply(writes).unwrap();
    for key in hostile {
        let id = u64::from_be_bytes(dd.storage.kv.get("objects", key.as_bytes()).unwrap().try_into().unwrap());
        assert_eq!(&read_all(&*dd.storage.objects, id, None).await[..], key.as_bytes());
    }
    // Nothing was created beside the data dir, and inside it only our names exist.
    let beside: Vec<_> = std::fs::read_dir(&outer.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(beside, ["data"]);
    for file in files_under(&data) {
        let name = file.to_string_lossy().into_owned();
        let ours = ["VERSION", "ruststack.lock", "kv.sqlite", "kv.sqlite-wal", "kv.sqlite-shm"]
            .contains(&name.as_str())
            || (name.starts_with("objects/blobs/")
                && file.file_name().unwrap().to_string_lossy().bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(ours, "unexpected file {name}");
    }
}

#[test]
fn a_data_dir_is_created_locked_and_versioned() {
    let dir = TempDir::new("datadir");
    let path = dir.0.join("d");
    let dd = DataDir::open(&path).unwrap();
    assert_eq!(
        std::fs::read_to_string(path.join("VERSION")).unwrap(),
        format!("ruststack-data-dir {FORMAT_VERSION}\n")
    );
    assert_eq!(std::fs::read_to_string(path.join("ruststack.lock")).unwrap().trim(), std::process::id().to_string());
    dd.storage.kv.put("t", b"k", b"v").unwrap();

    let second = DataDir::open(&path).err().expect("a second opener must be refused").to_string();
    assert!(second.contains(&path.display().to_string()), "{second}");
    assert!(second.contains(&format!("pid {}", std::process::id())), "{second}");

    drop(dd);
    let dd = DataDir::open(&path).unwrap();
    assert_eq!(dd.storage.kv.get("t", b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn newer_damaged_or_foreign_dirs_are_refused() {
    let dir = TempDir::new("refuse");
    let open_err = |p: &Path| DataDir::open(p).err().map(|e| e.to_string()).unwrap_or_default();

    let newer = dir.0.join("newer");
    drop(DataDir::open(&newer).unwrap());
    std::fs::write(newer.join("VERSION"), format!("ruststack-data-dir {}\n", FORMAT_VERSION + 1)).unwrap();
    assert!(open_err(&newer).contains("newer RustStack"), "{}", open_err(&newer));

    std::fs::write(newer.join("VERSION"), "garbage").unwrap();
    assert!(open_err(&newer).contains("VERSION file is damaged"));

    let foreign = dir.0.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    assert!(open_err(&foreign).contains("has no VERSION file"));
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "mine");

    let damaged = dir.0.join("damaged");
    drop(DataDir::open(&damaged).unwrap());
    std::fs::remove_file(damaged.join("kv.sqlite-wal")).ok();
    std::fs::remove_file(damaged.join("kv.sqlite-shm")).ok();
    std::fs::write(damaged.join("kv.sqlite"), vec![0x5Au8; 8192]).unwrap();
    assert!(open_err(&damaged).contains("database"), "{}", open_err(&damaged));
    std::fs::remove_file(damaged.join("kv.sqlite")).unwrap();
    assert!(open_err(&damaged).contains("kv.sqlite is missing"));
}
