//! Crash safety at the backend level: a child process (this test binary, run as `crash_child`)
//! writes batches, transactions and blobs from several threads and prints each one `apply` or
//! `finish` acknowledged; the parent SIGKILLs it at a random moment, reopens the directory, and
//! checks that every acknowledged write is there byte for byte and that no batch is half-applied.

use bytes::Bytes;
use ruststack_core::store::{Write, transact};
use ruststack_persist::DataDir;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write as _};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "RUSTSTACK_CRASH_CHILD_DIR";
const WRITERS: u64 = 6;
const PARTS: u8 = 4;

/// The deterministic bytes of batch `n`'s blob.
fn blob_bytes(n: u64) -> Vec<u8> {
    let len = (n * 7919 % 300_000) as usize;
    (0..len).map(|i| ((n as usize).wrapping_mul(31).wrapping_add(i) % 251) as u8).collect()
}

fn part_value(n: u64, part: u8) -> Vec<u8> {
    format!("batch {n} part {part} ").repeat(1 + (n % 50) as usize).into_bytes()
}

#[test]
#[ignore = "the child process of `acknowledged_writes_survive_sigkill`"]
fn crash_child() {
    let dir = PathBuf::from(std::env::var(CHILD_ENV).expect("run by the crash test"));
    let dd = DataDir::open(&dir).unwrap();
    let storage = dd.storage.clone();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    rt.block_on(async move {
        let start = (std::process::id() as u64) << 32; // batch numbers unique across rounds
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let storage = storage.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let n = start + i * WRITERS + w;
                    // A blob first, then one batch that records it beside the batch's parts.
                    let mut writer = storage.objects.create();
                    for chunk in blob_bytes(n).chunks(50_000) {
                        writer.write(Bytes::copy_from_slice(chunk)).await.unwrap();
                    }
                    let id = writer.finish().await.unwrap();
                    let mut batch: Vec<Write> = (0..PARTS)
                        .map(|p| Write::Put {
                            tree: "parts".into(),
                            key: format!("{n:020}/{p}").into_bytes(),
                            value: part_value(n, p),
                        })
                        .collect();
                    batch.push(Write::Put {
                        tree: "blobs".into(),
                        key: n.to_be_bytes().to_vec(),
                        value: id.to_be_bytes().to_vec(),
                    });
                    storage.kv.blocking(|kv| kv.apply(batch)).unwrap();
                    if w == 0 {
                        // A read-modify-write transaction: the counter always equals the number of
                        // `tx` entries.
                        storage
                            .kv
                            .blocking(|kv| {
                                transact(kv, |tx| {
                                    let count = tx
                                        .get("meta", b"count")?
                                        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
                                    tx.put("meta", b"count", &(count + 1).to_be_bytes())?;
                                    tx.put("tx", &n.to_be_bytes(), b"")
                                })
                            })
                            .unwrap();
                    }
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {n}").unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

fn run_child_and_kill(dir: &Path, after: Duration) -> HashSet<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| line.strip_prefix("ack ").and_then(|n| n.parse().ok()))
            .collect::<HashSet<u64>>()
    });
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    reader.join().unwrap()
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = std::env::temp_dir().join(format!("ruststack-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut acked = HashSet::new();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    for round in 0..3 {
        let after = Duration::from_millis(400 + fastrand::u64(0..1200));
        let new = run_child_and_kill(&dir, after);
        assert!(!new.is_empty(), "round {round}: the child acknowledged nothing in {after:?}");
        acked.extend(new);

        let dd = DataDir::open(&dir).expect("reopen after SIGKILL");
        let kv = &dd.storage.kv;
        // Every batch present is whole, and every acknowledged one is present.
        let parts = kv.range("parts", Bound::Unbounded, Bound::Unbounded, usize::MAX);
        let blobs = kv.range("blobs", Bound::Unbounded, Bound::Unbounded, usize::MAX);
        let stored: HashSet<u64> = blobs.iter().map(|(k, _)| u64::from_be_bytes(k[..].try_into().unwrap())).collect();
        assert_eq!(parts.len(), stored.len() * PARTS as usize, "round {round}: a batch was half-applied");
        for (key, value) in &parts {
            let key = std::str::from_utf8(key).unwrap();
            let (n, p) = key.split_once('/').unwrap();
            assert!(stored.contains(&n.parse().unwrap()), "part {key} without the rest of its batch");
            assert_eq!(*value, part_value(n.parse().unwrap(), p.parse().unwrap()));
        }
        let missing: Vec<_> = acked.difference(&stored).collect();
        assert!(missing.is_empty(), "round {round}: acknowledged batches lost: {missing:?}");
        rt.block_on(async {
            for (key, id) in &blobs {
                let n = u64::from_be_bytes(key[..].try_into().unwrap());
                let id = u64::from_be_bytes(id[..].try_into().unwrap());
                let body = dd.storage.objects.read(id, None).expect("a recorded blob exists");
                let got = ruststack_core::body::collect(body, usize::MAX).await.unwrap();
                assert!(got[..] == blob_bytes(n)[..], "blob of batch {n} differs");
            }
        });
        let count = kv.get("meta", b"count").map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
        let txs = kv.range("tx", Bound::Unbounded, Bound::Unbounded, usize::MAX).len() as u64;
        assert_eq!(count, txs, "round {round}: a transaction was half-applied");
        eprintln!("round {round}: killed after {after:?}; {} acknowledged, {} stored", acked.len(), stored.len());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
