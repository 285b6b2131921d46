//! The server's [`Storage`]: in memory, or in the `--data-dir` opened at startup. Installed once
//! by `main` before `Ready.`; services will receive it from `services::all`, and
//! `POST /_ruststack/reset` clears it.

use ruststack_core::store::Storage;
use std::sync::OnceLock;

static STORAGE: OnceLock<Storage> = OnceLock::new();

/// Makes `storage` the server's (the first call wins).
pub fn install(storage: Storage) {
    let _ = STORAGE.set(storage);
}

/// The server's storage (fresh memory stores when `main` installed none, as in unit tests).
pub fn get() -> &'static Storage {
    STORAGE.get_or_init(Storage::memory)
}

/// Forgets everything stored, on disk too (the reset endpoint).
pub fn clear() {
    if let Err(e) = get().clear() {
        tracing::error!(error = %e, "cannot clear the stored state");
    }
}
