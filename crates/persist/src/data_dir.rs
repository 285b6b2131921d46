//! The data directory (`--data-dir`): its layout, format version and single-process lock.
//!
//! ```text
//! DIR/VERSION          "ruststack-data-dir <N>": the on-disk format, written last on creation
//! DIR/ruststack.lock   held with flock by the server using DIR; holds its pid
//! DIR/kv.sqlite        every service's state (SqliteStore), with -wal and -shm beside it
//! DIR/objects/         blob files (DiskObjects)
//! ```
//!
//! Opening never silently starts empty over something it does not understand: a newer format, a
//! damaged VERSION or database, or a non-empty directory that is not ours is an error naming the
//! directory and what is wrong.

use crate::objects::{DiskObjects, write_atomically};
use crate::sqlite::SqliteStore;
use ruststack_core::store::Storage;
use std::fmt;
use std::fs::{self, File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The on-disk format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const VERSION_FILE: &str = "VERSION";
const VERSION_PREFIX: &str = "ruststack-data-dir ";
const LOCK_FILE: &str = "ruststack.lock";
const KV_FILE: &str = "kv.sqlite";
const OBJECTS_DIR: &str = "objects";

/// Why a data directory cannot be used; its text is meant for the person starting the server.
#[derive(Debug)]
pub struct OpenError(String);

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpenError {}

/// An open data directory: the stores in it, and the lock that keeps other processes out for as
/// long as this value lives.
pub struct DataDir {
    pub path: PathBuf,
    pub storage: Storage,
    _lock: File,
}

impl DataDir {
    /// Creates `path` if needed, locks it, checks its format and opens its stores. Nothing is read
    /// beyond a few small files and SQLite's header, so this takes milliseconds however much
    /// data the directory holds.
    pub fn open(path: &Path) -> Result<DataDir, OpenError> {
        let shown = path.display();
        let fail = |what: &str, e: &dyn fmt::Display| OpenError(format!("data dir {shown}: {what}: {e}"));
        fs::create_dir_all(path).map_err(|e| fail("cannot create it", &e))?;
        let lock = lock(path)?;

        let version_path = path.join(VERSION_FILE);
        let fresh = match fs::read_to_string(&version_path) {
            Ok(text) => {
                check_version(&text).map_err(|e| OpenError(format!("data dir {shown}: {e}")))?;
                false
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let strangers: Vec<String> = fs::read_dir(path)
                    .map_err(|e| fail("cannot list it", &e))?
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name != LOCK_FILE)
                    .collect();
                if !strangers.is_empty() {
                    return Err(OpenError(format!(
                        "data dir {shown} is not empty ({}{}) but has no {VERSION_FILE} file: it is not a RustStack \
                         data directory, or its creation was interrupted; choose another directory or empty this one",
                        strangers.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                        if strangers.len() > 3 { ", …" } else { "" },
                    )));
                }
                true
            }
            Err(e) => return Err(fail("cannot read its VERSION file", &e)),
        };

        let kv_path = path.join(KV_FILE);
        if !fresh && !kv_path.exists() {
            return Err(OpenError(format!(
                "data dir {shown} is damaged: {KV_FILE} is missing (refusing to start empty over it)"
            )));
        }
        let kv = SqliteStore::open(&kv_path, fresh).map_err(|e| fail("cannot open its database", &e))?;
        let objects_path = path.join(OBJECTS_DIR);
        if !fresh && !objects_path.is_dir() {
            return Err(OpenError(format!(
                "data dir {shown} is damaged: {OBJECTS_DIR}/ is missing (refusing to start empty over it)"
            )));
        }
        let objects = DiskObjects::open(&objects_path).map_err(|e| fail("cannot open its objects", &e))?;
        if fresh {
            // Last: a directory with a VERSION file is complete.
            write_atomically(&version_path, format!("{VERSION_PREFIX}{FORMAT_VERSION}\n").as_bytes())
                .map_err(|e| fail("cannot write its VERSION file", &e))?;
        }
        Ok(DataDir {
            path: path.to_owned(),
            storage: Storage { kv: Arc::new(kv), objects: Arc::new(objects) },
            _lock: lock,
        })
    }
}

fn check_version(text: &str) -> Result<(), String> {
    let version = text
        .trim()
        .strip_prefix(VERSION_PREFIX)
        .and_then(|n| n.trim().parse::<u32>().ok())
        .ok_or_else(|| format!("its {VERSION_FILE} file is damaged (expected '{VERSION_PREFIX}<number>')"))?;
    if version > FORMAT_VERSION {
        return Err(format!(
            "it was written by a newer RustStack (data format {version}; this build reads up to {FORMAT_VERSION}); \
             upgrade RustStack or choose another directory"
        ));
    }
    if version == 0 {
        return Err(format!("its {VERSION_FILE} file names format 0, which no RustStack wrote"));
    }
    Ok(())
}

/// Takes the directory's exclusive lock (released by the OS when the process ends, even by
/// SIGKILL) and records our pid in the lock file.
fn lock(dir: &Path) -> Result<File, OpenError> {
    let shown = dir.display();
    let path = dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| OpenError(format!("data dir {shown}: cannot open {LOCK_FILE}: {e}")))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            let holder =
                if pid.is_empty() { "another process".to_owned() } else { format!("another process (pid {pid})") };
            return Err(OpenError(format!(
                "data dir {shown} is in use by {holder}; stop it or choose another --data-dir"
            )));
        }
        Err(TryLockError::Error(e)) => {
            return Err(OpenError(format!("data dir {shown}: cannot lock {LOCK_FILE}: {e}")));
        }
    }
    let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{}", std::process::id()));
    written.map_err(|e| OpenError(format!("data dir {shown}: cannot write {LOCK_FILE}: {e}")))?;
    Ok(file)
}
