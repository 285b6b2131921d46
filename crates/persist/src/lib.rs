//! Disk backends for the core's storage traits, used with `--data-dir`:
//!
//! - [`SqliteStore`]: the [`KvStore`](ruststack_core::store::KvStore) in one SQLite file (WAL,
//!   `synchronous=FULL`, group commit): every service's metadata;
//! - [`DiskObjects`]: the [`ObjectStore`](ruststack_core::objects::ObjectStore) as one file per
//!   blob (temporary file, fsync, rename): S3 object bodies and parts;
//! - [`DataDir`]: the directory holding both, with its format version and process lock.
//!
//! Services see only [`Storage`](ruststack_core::store::Storage), so the same handlers run on
//! memory or disk.

mod data_dir;
mod objects;
mod sqlite;

pub use data_dir::{DataDir, FORMAT_VERSION, OpenError};
pub use objects::DiskObjects;
pub use sqlite::SqliteStore;

#[cfg(test)]
mod suite;
