//! The operations, grouped by what they act on.

pub mod backups;
pub mod batch;
pub mod common;
pub mod exports;
pub mod imports;
pub mod items;
pub mod legacy;
pub mod partiql;
pub mod policies;
pub mod query;
pub mod tables;
pub mod transact;
