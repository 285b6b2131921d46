//! The operations, grouped by what they act on.

pub mod batch;
pub mod common;
pub mod items;
pub mod legacy;
pub mod query;
pub mod tables;
pub mod transact;
