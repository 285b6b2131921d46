//! Object storage: where the bytes of large payloads (S3 objects and parts) live, apart from the
//! metadata a service keeps in its own structures.
//!
//! A blob is written once, chunk by chunk as the request body arrives, and read back as a streamed
//! [`Body`], whole or a byte range. [`MemoryObjects`] keeps each blob as the list of chunks it was
//! written with, so a GET hands out cheap clones of those `Bytes` and never copies the object.

use crate::body::Body;
use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

/// A boxed future borrowing its writer (`'static` once the writer is consumed).
pub type BoxFuture<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The handle of a stored blob.
pub type BlobId = u64;

/// A store of immutable blobs.
pub trait ObjectStore: Send + Sync + 'static {
    /// Starts a new blob. Dropping the writer without [`BlobWriter::finish`] discards it.
    fn create(&self) -> Box<dyn BlobWriter>;
    /// The blob's bytes (only `range` when given; the caller checks it against the size it recorded).
    fn read(&self, id: BlobId, range: Option<Range<u64>>) -> io::Result<Body>;
    /// Forgets a blob; readers already streaming it finish undisturbed.
    fn delete(&self, id: BlobId);
    /// Forgets every blob.
    fn clear(&self);
}

/// Receives one blob's bytes in order.
pub trait BlobWriter: Send {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>>;
    /// Stores the blob and returns its id.
    fn finish(self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>>;
}

/// Chunks smaller than this are coalesced on write, so a body that arrives in tiny frames does
/// not become a long list of tiny `Bytes`.
const COALESCE: usize = 64 * 1024;

/// The in-memory backend.
#[derive(Default)]
pub struct MemoryObjects {
    inner: Arc<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    blobs: RwLock<HashMap<BlobId, Arc<[Bytes]>>>,
    next: AtomicU64,
}

impl ObjectStore for MemoryObjects {
    fn create(&self) -> Box<dyn BlobWriter> {
        Box::new(MemoryWriter { store: self.inner.clone(), chunks: Vec::new(), small: BytesMut::new() })
    }

    fn read(&self, id: BlobId, range: Option<Range<u64>>) -> io::Result<Body> {
        let chunks = self.inner.blobs.read().get(&id).cloned();
        let chunks = chunks.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no blob {id}")))?;
        let total: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        let range = range.unwrap_or(0..total);
        let range = range.start.min(total)..range.end.min(total);
        Ok(http_body_util::BodyExt::boxed_unsync(ChunkReader {
            chunks,
            index: 0,
            skip: range.start,
            left: range.end.saturating_sub(range.start),
        }))
    }

    fn delete(&self, id: BlobId) {
        self.inner.blobs.write().remove(&id);
    }

    fn clear(&self) {
        self.inner.blobs.write().clear();
    }
}

struct MemoryWriter {
    store: Arc<MemoryInner>,
    chunks: Vec<Bytes>,
    /// Small chunks waiting to be coalesced.
    small: BytesMut,
}

impl MemoryWriter {
    fn flush_small(&mut self) {
        if !self.small.is_empty() {
            self.chunks.push(self.small.split().freeze());
        }
    }
}

impl BlobWriter for MemoryWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
        if chunk.len() >= COALESCE {
            self.flush_small();
            self.chunks.push(chunk);
        } else if !chunk.is_empty() {
            self.small.extend_from_slice(&chunk);
            if self.small.len() >= COALESCE {
                self.flush_small();
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        self.flush_small();
        let id = self.store.next.fetch_add(1, Ordering::Relaxed);
        let chunks: Arc<[Bytes]> = std::mem::take(&mut self.chunks).into();
        self.store.blobs.write().insert(id, chunks);
        Box::pin(std::future::ready(Ok(id)))
    }
}

/// Streams a byte range of a chunk list.
struct ChunkReader {
    chunks: Arc<[Bytes]>,
    index: usize,
    /// Bytes still to skip before the range starts.
    skip: u64,
    /// Bytes of the range still to yield.
    left: u64,
}

impl http_body::Body for ChunkReader {
    type Data = Bytes;
    type Error = crate::body::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        while this.left > 0 && this.index < this.chunks.len() {
            let chunk = &this.chunks[this.index];
            this.index += 1;
            let len = chunk.len() as u64;
            if this.skip >= len {
                this.skip -= len;
                continue;
            }
            let start = this.skip as usize;
            let end = (this.skip + this.left).min(len) as usize;
            this.skip = 0;
            this.left -= (end - start) as u64;
            return Poll::Ready(Some(Ok(Frame::data(chunk.slice(start..end)))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(store: &MemoryObjects, id: BlobId, range: Option<Range<u64>>) -> Bytes {
        crate::body::collect(store.read(id, range).unwrap(), usize::MAX).await.unwrap()
    }

    #[tokio::test]
    async fn writes_chunks_and_reads_ranges() {
        let store = MemoryObjects::default();
        let mut w = store.create();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        w.write(Bytes::from(vec![b'x'; COALESCE])).await.unwrap();
        w.write(Bytes::from_static(b" world")).await.unwrap();
        let id = w.finish().await.unwrap();
        let all = read_all(&store, id, None).await;
        assert_eq!(all.len(), 12 + COALESCE);
        assert_eq!(&all[..6], b"hello ");
        assert_eq!(&read_all(&store, id, Some(3..9)).await[..], b"lo xxx");
        let n = all.len() as u64;
        assert_eq!(&read_all(&store, id, Some(n - 5..n + 10)).await[..], b"world");
        assert!(read_all(&store, id, Some(4..4)).await.is_empty());
        store.delete(id);
        assert!(store.read(id, None).is_err());
    }

    #[tokio::test]
    async fn a_dropped_writer_stores_nothing_and_empty_blobs_exist() {
        let store = MemoryObjects::default();
        let mut w = store.create();
        w.write(Bytes::from_static(b"abc")).await.unwrap();
        drop(w);
        assert!(store.inner.blobs.read().is_empty());
        let id = store.create().finish().await.unwrap();
        assert!(read_all(&store, id, None).await.is_empty());
    }

    #[tokio::test]
    async fn reads_share_the_stored_bytes() {
        let store = MemoryObjects::default();
        let big = Bytes::from(vec![7u8; COALESCE * 2]);
        let mut w = store.create();
        w.write(big.clone()).await.unwrap();
        let id = w.finish().await.unwrap();
        let got = read_all(&store, id, None).await;
        assert_eq!(got.as_ptr(), big.as_ptr(), "a GET must not copy the object");
    }
}
