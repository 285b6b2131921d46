//! [`DiskObjects`]: the [`ObjectStore`] on disk, one file per blob.
//!
//! A blob is streamed into `tmp/<id>`, fsynced, renamed into `blobs/<shard>/<id>` and the shard
//! directory fsynced: once `finish` returns the blob survives a crash, and a crash before that
//! leaves only a temporary file, removed at the next start. File names are the blob's id in hex;
//! nothing a client sends (an S3 key) ever becomes part of a path.
//!
//! Ids stay unique across restarts without a write per blob: each start takes the next
//! *generation* (persisted in `generation`) for the id's high 24 bits and counts in the low 40.

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use ruststack_core::body::{Body, BoxError};
use ruststack_core::objects::{BlobId, BlobWriter, BoxFuture, ObjectStore};
use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes a writer gathers before one blocking write.
const WRITE_BUFFER: usize = 1024 * 1024;
/// Bytes per frame of a streamed read.
const READ_CHUNK: usize = 64 * 1024;
const COUNTER_BITS: u32 = 40;
const MAX_GENERATION: u64 = (1 << (64 - COUNTER_BITS)) - 1;

/// Blob files under one directory.
pub struct DiskObjects {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    next: AtomicU64,
}

impl Inner {
    fn tmp_path(&self, id: BlobId) -> PathBuf {
        self.root.join("tmp").join(format!("{id:016x}"))
    }

    fn shard_dir(&self, id: BlobId) -> PathBuf {
        self.root.join("blobs").join(format!("{:02x}", id & 0xFF))
    }

    fn blob_path(&self, id: BlobId) -> PathBuf {
        self.shard_dir(id).join(format!("{id:016x}"))
    }
}

/// Makes a directory entry (a rename, a new file) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `contents` to `path` atomically and durably (temporary file, fsync, rename, fsync dir).
pub(crate) fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

impl DiskObjects {
    /// Opens (or creates) the blob directory `root`: takes the next id generation, removes the
    /// temporary files of writes a crash interrupted, and empties old trash in the background.
    pub fn open(root: &Path) -> io::Result<DiskObjects> {
        fs::create_dir_all(root.join("tmp"))?;
        fs::create_dir_all(root.join("blobs"))?;
        let generation_file = root.join("generation");
        let previous = match fs::read_to_string(&generation_file) {
            Ok(text) => text.trim().parse::<u64>().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("{} is damaged", generation_file.display()))
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(e),
        };
        let generation = previous + 1;
        if generation > MAX_GENERATION {
            return Err(io::Error::other(format!("{}: blob id generations exhausted", root.display())));
        }
        // Durable before any id of this generation is handed out (an id reused after a crash
        // would let a rename replace a stored blob). Its directory sync also makes `tmp/` and
        // `blobs/` durable on a fresh directory.
        write_atomically(&generation_file, format!("{generation}\n").as_bytes())?;
        for entry in fs::read_dir(root.join("tmp"))? {
            let _ = fs::remove_file(entry?.path());
        }
        empty_trash(root)?;
        let inner = Inner { root: root.to_owned(), next: AtomicU64::new(generation << COUNTER_BITS) };
        Ok(DiskObjects { inner: Arc::new(inner) })
    }

    /// Where blob `id` lives (for tests and diagnostics).
    pub fn path_of(&self, id: BlobId) -> PathBuf {
        self.inner.blob_path(id)
    }
}

/// Removes `trash-*` directories (left by [`ObjectStore::clear`]) on a background thread.
fn empty_trash(root: &Path) -> io::Result<()> {
    let trash: Vec<PathBuf> = fs::read_dir(root)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("trash-"))
        .map(|e| e.path())
        .collect();
    if !trash.is_empty() {
        std::thread::spawn(move || {
            for dir in trash {
                if let Err(e) = fs::remove_dir_all(&dir) {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot remove old blobs");
                }
            }
        });
    }
    Ok(())
}

impl ObjectStore for DiskObjects {
    fn create(&self) -> Box<dyn BlobWriter> {
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        Box::new(DiskWriter { inner: self.inner.clone(), id, file: None, pending: Vec::new(), pending_len: 0 })
    }

    fn read(&self, id: BlobId, range: Option<Range<u64>>) -> io::Result<Body> {
        let mut file = File::open(self.inner.blob_path(id)).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => io::Error::new(io::ErrorKind::NotFound, format!("no blob {id}")),
            _ => e,
        })?;
        let total = file.metadata()?.len();
        let range = range.unwrap_or(0..total);
        let range = range.start.min(total)..range.end.min(total);
        if range.start > 0 {
            file.seek(SeekFrom::Start(range.start))?;
        }
        let left = range.end.saturating_sub(range.start);
        // The open descriptor keeps the bytes readable even if the blob is deleted meanwhile.
        let file = tokio::fs::File::from_std(file);
        Ok(http_body_util::BodyExt::boxed_unsync(FileBody { file, left, buf: Vec::new() }))
    }

    fn delete(&self, id: BlobId) {
        match fs::remove_file(self.inner.blob_path(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(id, error = %e, "cannot delete a blob"),
        }
    }

    fn clear(&self) {
        // Swap the blob tree for an empty one at once; the old one is removed in the background.
        let root = &self.inner.root;
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let trash = root.join(format!("trash-{stamp}"));
        let result = fs::rename(root.join("blobs"), &trash)
            .and_then(|()| fs::create_dir(root.join("blobs")))
            .and_then(|()| sync_dir(root))
            .and_then(|()| empty_trash(root));
        if let Err(e) = result {
            tracing::error!(root = %root.display(), error = %e, "cannot clear the blobs");
        }
    }
}

struct DiskWriter {
    inner: Arc<Inner>,
    id: BlobId,
    /// The temporary file, once the first bytes are written.
    file: Option<File>,
    pending: Vec<Bytes>,
    pending_len: usize,
}

impl DiskWriter {
    /// Writes the pending chunks to the temporary file on a blocking thread.
    async fn flush(&mut self) -> io::Result<()> {
        let chunks = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let file = self.file.take();
        let path = self.inner.tmp_path(self.id);
        let file = tokio::task::spawn_blocking(move || -> io::Result<File> {
            let mut file = match file {
                Some(file) => file,
                None => File::options().write(true).create_new(true).open(&path)?,
            };
            for chunk in &chunks {
                file.write_all(chunk)?;
            }
            Ok(file)
        })
        .await
        .map_err(io::Error::other)??;
        self.file = Some(file);
        Ok(())
    }
}

impl BlobWriter for DiskWriter {
    fn write(&mut self, chunk: Bytes) -> BoxFuture<'_, io::Result<()>> {
        self.pending_len += chunk.len();
        if !chunk.is_empty() {
            self.pending.push(chunk);
        }
        if self.pending_len < WRITE_BUFFER {
            return Box::pin(std::future::ready(Ok(())));
        }
        Box::pin(self.flush())
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        Box::pin(async move {
            self.flush().await?;
            let file = self.file.take();
            let inner = self.inner.clone();
            let id = self.id;
            tokio::task::spawn_blocking(move || -> io::Result<()> {
                let file = file.ok_or_else(|| io::Error::other("blob file missing"))?;
                file.sync_all()?;
                drop(file);
                let shard = inner.shard_dir(id);
                if !shard.exists() {
                    fs::create_dir_all(&shard)?;
                    sync_dir(shard.parent().unwrap_or(&inner.root))?;
                }
                fs::rename(inner.tmp_path(id), inner.blob_path(id))?;
                sync_dir(&shard)
            })
            .await
            .map_err(io::Error::other)??;
            self.id = BlobId::MAX; // stored: nothing for Drop to clean up
            Ok(id)
        })
    }
}

impl Drop for DiskWriter {
    fn drop(&mut self) {
        if self.id != BlobId::MAX {
            // An abandoned upload. (A flush still running when its future was dropped may
            // recreate the file; the next start removes what is left in tmp/.)
            let _ = fs::remove_file(self.inner.tmp_path(self.id));
        }
    }
}

/// Streams a byte range of an open blob file in [`READ_CHUNK`] frames.
struct FileBody {
    file: tokio::fs::File,
    /// Bytes of the range still to yield.
    left: u64,
    buf: Vec<u8>,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let want = this.left.min(READ_CHUNK as u64) as usize;
        if this.buf.len() < want {
            this.buf.resize(want, 0);
        }
        let mut read = ReadBuf::new(&mut this.buf[..want]);
        if let Err(e) = ready!(Pin::new(&mut this.file).poll_read(cx, &mut read)) {
            return Poll::Ready(Some(Err(Box::new(e))));
        }
        let filled = read.filled();
        if filled.is_empty() {
            let e = io::Error::new(io::ErrorKind::UnexpectedEof, "blob file is shorter than recorded");
            return Poll::Ready(Some(Err(Box::new(e))));
        }
        this.left -= filled.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(filled)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}
