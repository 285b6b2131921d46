//! Disk backends for the core's storage traits, used with `--data-dir`:
//!
//! - [`SqliteStore`]: the [`KvStore`](ruststack_core::store::KvStore) in one SQLite file (WAL,
//!   `synchronous=FULL`, group commit, checkpoints off the write path): every service's metadata;
//! - [`DiskObjects`]: the [`ObjectStore`](ruststack_core::objects::ObjectStore) as one file per
//!   blob (temporary file, fsync, link, directory fsync): S3 object bodies and parts, Lambda code;
//! - [`DataDir`]: the directory holding both, with its format version and process lock.
//!
//! Services see only [`Storage`](ruststack_core::store::Storage), so the same handlers run on
//! memory or disk. How a service keeps its state there:
//!
//! - Trees are named `<service>/<what>` (`s3/objects`, `dynamodb/items`); regional state puts
//!   `account \0 region \0` in front of its keys, so one account's resources are one key range.
//! - One AWS write is one `apply` batch, or one `transact` when it reads first (conditions,
//!   version counters, TransactWriteItems); call both through `kv.blocking(..)`. Reads may be
//!   called directly.
//! - Read on demand (`get`, `range` with a limit for pages); load nothing whole at startup.
//! - A blob is written (`create` … `finish`) before the batch that records its id, and deleted
//!   only after the batch that drops its last reference has committed — never from a `Drop` of
//!   in-memory state, which also runs at shutdown.

mod data_dir;
mod objects;
mod sqlite;

pub use data_dir::{DataDir, FORMAT_VERSION, OpenError};
pub use objects::DiskObjects;
pub use sqlite::SqliteStore;

#[cfg(test)]
mod suite;
