//! Deployment packages: zips checked when uploaded (readable, no entry escaping the target
//! directory, at most 250 MB unzipped), unpacked once per distinct content into the work
//! directory, and served back for GetFunction's `Code.Location`.
//!
//! The work directory is `$RUSTSTACK_LAMBDA_DIR`, else `<temp>/ruststack-lambda/<pid>`.

use crate::state::invalid_param;
use base64::Engine;
use bytes::Bytes;
use parking_lot::Mutex;
use ruststack_core::AwsError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, LazyLock, Weak};
use tokio::sync::OnceCell;

/// AWS's limit on a function's unzipped code (with layers).
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// AWS's limit on a zip uploaded directly in the request.
pub const MAX_ZIPPED: usize = 52_428_800;

/// A deployment package (function code or layer content), shared by every version using it.
pub struct Code {
    pub zip: Bytes,
    /// Base64 SHA-256, as Lambda reports `CodeSha256`.
    pub sha256: String,
    pub sha_hex: String,
    pub unzipped_size: u64,
    dir: OnceCell<Result<PathBuf, String>>,
}

/// Live packages by hex SHA-256: deduplicates unpacking and serves downloads.
static CODES: LazyLock<Mutex<HashMap<String, Weak<Code>>>> = LazyLock::new(Default::default);

impl Code {
    /// Checks a zip and returns the shared package for its content.
    pub fn from_zip(zip: Bytes) -> Result<Arc<Code>, AwsError> {
        if zip.len() > MAX_ZIPPED {
            return Err(AwsError::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLargeException",
                format!("Zipped size must be smaller than {MAX_ZIPPED} bytes"),
            ));
        }
        let unzipped_size = check_zip(&zip)?;
        let digest = Sha256::digest(&zip);
        let sha_hex = hex::encode(digest);
        let mut codes = CODES.lock();
        if let Some(existing) = codes.get(&sha_hex).and_then(Weak::upgrade) {
            return Ok(existing);
        }
        codes.retain(|_, w| w.strong_count() > 0);
        let code = Arc::new(Code {
            sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            sha_hex: sha_hex.clone(),
            unzipped_size,
            zip,
            dir: OnceCell::new(),
        });
        codes.insert(sha_hex, Arc::downgrade(&code));
        Ok(code)
    }

    /// A live package by hex SHA-256 (code downloads).
    pub fn by_hex(sha_hex: &str) -> Option<Arc<Code>> {
        CODES.lock().get(sha_hex).and_then(Weak::upgrade)
    }

    /// The directory holding the unpacked package, unpacking it on first use.
    pub async fn dir(&self) -> Result<PathBuf, String> {
        self.dir
            .get_or_init(|| async {
                let target = work_dir().join("code").join(&self.sha_hex);
                let zip = self.zip.clone();
                let t = target.clone();
                tokio::task::spawn_blocking(move || unpack_fresh(&zip, &t))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
                    .map(|()| target)
            })
            .await
            .clone()
    }

    /// The URL path GetFunction and GetLayerVersion give as `Location`.
    pub fn location(&self, host: &str) -> String {
        format!("http://{host}/_ruststack/lambda/code/{}.zip", self.sha_hex)
    }
}

impl Drop for Code {
    fn drop(&mut self) {
        if let Some(Ok(dir)) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The `/opt` of a function version: its layers unpacked into one directory, later layers
/// overwriting earlier ones as on AWS.
pub struct Opt {
    pub layers: Vec<Arc<Code>>,
    dir: OnceCell<Result<Option<PathBuf>, String>>,
}

impl Opt {
    pub fn new(layers: Vec<Arc<Code>>) -> Arc<Opt> {
        Arc::new(Opt { layers, dir: OnceCell::new() })
    }

    /// The merged directory, or `None` without layers.
    pub async fn dir(&self) -> Result<Option<PathBuf>, String> {
        self.dir
            .get_or_init(|| async {
                if self.layers.is_empty() {
                    return Ok(None);
                }
                let key: String = self.layers.iter().map(|c| &c.sha_hex[..16]).collect::<Vec<_>>().join("-");
                let target = work_dir().join("opt").join(format!("{key}-{}", fastrand::u32(..)));
                let zips: Vec<Bytes> = self.layers.iter().map(|c| c.zip.clone()).collect();
                let t = target.clone();
                tokio::task::spawn_blocking(move || {
                    zips.iter().try_for_each(|z| unpack(z, &t))?;
                    Ok::<_, std::io::Error>(())
                })
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
                Ok(Some(target))
            })
            .await
            .clone()
    }
}

impl Drop for Opt {
    fn drop(&mut self) {
        if let Some(Ok(Some(dir))) = self.dir.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The work directory of this process.
pub fn work_dir() -> &'static Path {
    static DIR: LazyLock<PathBuf> = LazyLock::new(|| match std::env::var_os("RUSTSTACK_LAMBDA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let base = std::env::temp_dir().join("ruststack-lambda");
            sweep_stale(&base);
            base.join(std::process::id().to_string())
        }
    });
    &DIR
}

/// Removes the work directories of RustStack processes that no longer run.
fn sweep_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn bad_zip() -> AwsError {
    invalid_param("Could not unzip uploaded file. Please check your file, then try to upload again.")
}

/// Reads a zip's directory: every entry must stay inside the target (no `..`, no absolute path)
/// and the total unzipped size within AWS's limit. Returns that size.
pub fn check_zip(zip: &[u8]) -> Result<u64, AwsError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|_| bad_zip())?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|_| bad_zip())?;
        if entry.enclosed_name().is_none() {
            return Err(invalid_param(format!(
                "Could not unzip uploaded file. The entry '{}' points outside of the package.",
                String::from_utf8_lossy(entry.name_raw())
            )));
        }
        total = total.saturating_add(entry.size());
    }
    if total > MAX_UNZIPPED {
        return Err(invalid_param(format!("Unzipped size must be smaller than {MAX_UNZIPPED} bytes")));
    }
    Ok(total)
}

/// Unpacks into a new directory (replacing a leftover one).
fn unpack_fresh(zip: &[u8], target: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(target);
    unpack(zip, target)
}

/// Unpacks a zip under `target`, keeping Unix modes (the `bootstrap` of custom runtimes must stay
/// executable) and refusing entries and symlinks that escape it.
pub fn unpack(zip: &[u8], target: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    std::fs::create_dir_all(target)?;
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| invalid(e.to_string()))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| invalid(e.to_string()))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(invalid(format!("entry {} escapes the package", String::from_utf8_lossy(entry.name_raw()))));
        };
        let path = target.join(&relative);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if mode.is_some_and(|m| m & 0o170000 == 0o120000) {
            let mut link = String::new();
            entry.read_to_string(&mut link)?;
            if !stays_inside(&relative, Path::new(&link)) {
                return Err(invalid(format!(
                    "symlink {} escapes the package",
                    String::from_utf8_lossy(entry.name_raw())
                )));
            }
            let _ = std::fs::remove_file(&path);
            std::os::unix::fs::symlink(&link, &path)?;
            continue;
        }
        let _ = std::fs::remove_file(&path);
        let mut out = std::fs::File::create(&path)?;
        std::io::copy(&mut entry, &mut out)?;
        // Zips built without Unix modes (or with 0644) still get an executable bootstrap.
        let mut perm = mode.map(|m| m & 0o777).filter(|m| *m != 0).unwrap_or(0o644);
        if relative.file_name().is_some_and(|n| n == "bootstrap") {
            perm |= 0o755;
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(perm | 0o400))?;
    }
    Ok(())
}

/// Whether a symlink at `entry` with target `link` resolves inside the package (lexically).
fn stays_inside(entry: &Path, link: &Path) -> bool {
    if link.is_absolute() {
        return false;
    }
    let mut depth: i64 = entry.components().count() as i64 - 1;
    for c in link.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of `(name, content, unix mode)` entries.
    pub fn make_zip(entries: &[(&str, &str, u32)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content, mode) in entries {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .unix_permissions(*mode);
            w.start_file(*name, opts).unwrap();
            w.write_all(content.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_slip_entries_are_rejected() {
        let good = make_zip(&[("a/b.py", "x = 1", 0o644)]);
        assert_eq!(check_zip(&good).unwrap(), 5);
        let evil = make_zip(&[("../evil.py", "x", 0o644)]);
        let err = check_zip(&evil).unwrap_err();
        assert_eq!(err.code, "InvalidParameterValueException");
        assert!(err.message.contains("../evil.py"), "{}", err.message);
        assert_eq!(check_zip(b"not a zip").unwrap_err().code, "InvalidParameterValueException");
    }

    #[test]
    fn unpack_keeps_modes_and_makes_bootstrap_executable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("rs-lambda-test-{}", fastrand::u64(..)));
        let zip = make_zip(&[("bootstrap", "#!/bin/sh\n", 0o644), ("lib/x.txt", "hi", 0o600)]);
        unpack(&zip, &dir).unwrap();
        let mode = std::fs::metadata(dir.join("bootstrap")).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(std::fs::read_to_string(dir.join("lib/x.txt")).unwrap(), "hi");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlinks_must_stay_inside() {
        assert!(stays_inside(Path::new("a/link"), Path::new("../b")));
        assert!(!stays_inside(Path::new("a/link"), Path::new("../../b")));
        assert!(!stays_inside(Path::new("link"), Path::new("/etc/passwd")));
    }
}
