//! [`DiskObjects`]: the [`ObjectStore`] on disk, one file per blob.
//!
//! A blob is streamed into a temporary file in `tmp/`, fsynced, linked into `blobs/<shard>/<id>`
//! and the shard directory fsynced: once `finish` returns the blob survives a crash, and a crash
//! before that leaves only a temporary file, removed at the next start. File names are random
//! hex; nothing a client sends (an S3 key) ever becomes part of a path.
//!
//! Ids are random 64-bit numbers picked at `finish`, and a hard link never replaces an existing
//! file, so an id is never reused, across restarts too, without any counter to persist: opening
//! a directory writes and fsyncs nothing, which keeps startup fast.

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
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes a writer gathers before one blocking write.
const WRITE_BUFFER: usize = 1024 * 1024;
/// Bytes per frame of a streamed read.
const READ_CHUNK: usize = 64 * 1024;

/// Blob files under one directory.
pub struct DiskObjects {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
}

impl Inner {
    fn tmp_path(&self, name: u64) -> PathBuf {
        self.root.join("tmp").join(format!("{name:016x}"))
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
    /// Opens (or creates) the blob directory `root`: removes the temporary files of writes a
    /// crash interrupted and empties old trash in the background.
    pub fn open(root: &Path) -> io::Result<DiskObjects> {
        let (tmp, blobs) = (root.join("tmp"), root.join("blobs"));
        if !tmp.is_dir() || !blobs.is_dir() {
            fs::create_dir_all(&tmp)?;
            fs::create_dir_all(&blobs)?;
            sync_dir(root)?;
            sync_dir(root.parent().unwrap_or(Path::new(".")))?;
        }
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        empty_trash(root)?;
        Ok(DiskObjects { inner: Arc::new(Inner { root: root.to_owned() }) })
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
        Box::new(DiskWriter { inner: self.inner.clone(), tmp: None, file: None, pending: Vec::new(), pending_len: 0 })
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
    /// The temporary file's path, once created; `None` again once stored.
    tmp: Option<PathBuf>,
    file: Option<File>,
    pending: Vec<Bytes>,
    pending_len: usize,
}

/// Creates a temporary file with a fresh random name.
fn create_tmp(inner: &Inner) -> io::Result<(PathBuf, File)> {
    loop {
        let path = inner.tmp_path(fastrand::u64(..));
        match File::options().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Gives the fsynced temporary file `tmp` a fresh id (a link that never replaces a file) and
/// makes the new name durable.
fn store(inner: &Inner, tmp: &Path) -> io::Result<BlobId> {
    loop {
        let id = fastrand::u64(..);
        let shard = inner.shard_dir(id);
        if !shard.is_dir() {
            fs::create_dir_all(&shard)?;
            sync_dir(shard.parent().unwrap_or(&inner.root))?;
        }
        match fs::hard_link(tmp, inner.blob_path(id)) {
            Ok(()) => {
                sync_dir(&shard)?;
                let _ = fs::remove_file(tmp);
                return Ok(id);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

impl DiskWriter {
    /// Writes the pending chunks to the temporary file on a blocking thread.
    async fn flush(&mut self) -> io::Result<()> {
        let chunks = std::mem::take(&mut self.pending);
        self.pending_len = 0;
        let file = self.file.take();
        let inner = self.inner.clone();
        let (tmp, file) = tokio::task::spawn_blocking(move || -> io::Result<(Option<PathBuf>, File)> {
            let (tmp, mut file) = match file {
                Some(file) => (None, file),
                None => create_tmp(&inner).map(|(path, file)| (Some(path), file))?,
            };
            for chunk in &chunks {
                file.write_all(chunk)?;
            }
            Ok((tmp, file))
        })
        .await
        .map_err(io::Error::other)??;
        if tmp.is_some() {
            self.tmp = tmp;
        }
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
            let tmp = self.tmp.clone().ok_or_else(|| io::Error::other("blob file missing"))?;
            let inner = self.inner.clone();
            let id = tokio::task::spawn_blocking(move || -> io::Result<BlobId> {
                let file = file.ok_or_else(|| io::Error::other("blob file missing"))?;
                file.sync_all()?;
                drop(file);
                store(&inner, &tmp)
            })
            .await
            .map_err(io::Error::other)??;
            self.tmp = None; // stored: nothing for Drop to clean up
            Ok(id)
        })
    }
}

impl Drop for DiskWriter {
    fn drop(&mut self) {
        // An abandoned upload. (A first flush still running when its future was dropped may
        // create a file after this; the next start removes what is left in tmp/.)
        if let Some(tmp) = &self.tmp {
            let _ = fs::remove_file(tmp);
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
