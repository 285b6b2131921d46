//! Write latency with fsync, as a PutItem pays it: `cargo test -p ruststack-persist --release
//! --test latency -- --ignored --nocapture`. Prints percentiles; asserts only that writes land.

use ruststack_core::store::{KvStore, Write};
use ruststack_persist::SqliteStore;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn item(n: u64) -> Vec<Write> {
    // An item of about 1 KiB plus one GSI entry, as a PutItem on an indexed table writes.
    vec![
        Write::Put { tree: "ddb/t".into(), key: n.to_be_bytes().to_vec(), value: vec![b'x'; 1024] },
        Write::Put {
            tree: "ddb/t/gsi".into(),
            key: [&b"g"[..], &n.to_be_bytes()].concat(),
            value: n.to_be_bytes().to_vec(),
        },
    ]
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    format!("p50 {:?}, p99 {:?}, max {:?}", at(0.5), at(0.99), samples[samples.len() - 1])
}

#[test]
#[ignore = "a measurement, run by hand"]
fn put_item_sized_write_latency() {
    let dir = std::env::temp_dir().join(format!("ruststack-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap());

    let mut one = Vec::new();
    for n in 0..500 {
        let t = Instant::now();
        store.apply(item(n)).unwrap();
        one.push(t.elapsed());
    }
    println!("1 writer, 500 writes: {}", percentiles(one));

    for writers in [8u64, 32] {
        let started = Instant::now();
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..200u64)
                        .map(|i| {
                            let t = Instant::now();
                            store.apply(item(writers * 1_000_000_000 + 1_000_000 * (w + 1) + i)).unwrap();
                            t.elapsed()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let rate = all.len() as f64 / started.elapsed().as_secs_f64();
        println!("{writers} writers, {} writes: {}; {rate:.0} writes/s (group commit)", all.len(), percentiles(all));
    }
    // Conditional writes (read, check, write) from 8 threads: transactions share commits too.
    let started = Instant::now();
    let threads: Vec<_> = (0..8u64)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..200u64)
                    .map(|i| {
                        let t = Instant::now();
                        ruststack_core::store::transact(&*store, |tx| -> std::io::Result<()> {
                            let key = (w << 32 | i).to_be_bytes();
                            if tx.get("ddb/c", &key)?.is_none() {
                                tx.put("ddb/c", &key, &[b'x'; 1024])?;
                            }
                            Ok(())
                        })
                        .unwrap();
                        t.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let all: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    println!("8 writers, {} conditional writes (transactions): {}; {rate:.0} writes/s", all.len(), percentiles(all));

    let stored = store.range("ddb/t", Bound::Unbounded, Bound::Unbounded, usize::MAX).len();
    assert_eq!(stored, 500 + 8 * 200 + 32 * 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "a measurement, run by hand"]
fn blob_write_and_read_throughput() {
    use ruststack_core::objects::ObjectStore;
    let dir = std::env::temp_dir().join(format!("ruststack-throughput-{}", std::process::id()));
    let store = ruststack_persist::DiskObjects::open(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        const MIB: usize = 1024 * 1024;
        let chunk = bytes::Bytes::from(vec![7u8; MIB]);
        let t = Instant::now();
        let mut w = store.create();
        for _ in 0..256 {
            w.write(chunk.clone()).await.unwrap();
        }
        let id = w.finish().await.unwrap();
        let write = t.elapsed();
        let t = Instant::now();
        let got = ruststack_core::body::collect(store.read(id, None).unwrap(), usize::MAX).await.unwrap();
        let read = t.elapsed();
        assert_eq!(got.len(), 256 * MIB);
        println!("256 MiB blob: written (with fsync) in {write:?}, read in {read:?}");
        let t = Instant::now();
        for _ in 0..200 {
            let mut w = store.create();
            w.write(bytes::Bytes::from_static(b"a small object body")).await.unwrap();
            w.finish().await.unwrap();
        }
        println!("small blob: {:?} per write (file fsync, link, directory fsync)", t.elapsed() / 200);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
