//! The core of RustStack: what every service shares.
//!
//! - [`shape`]: the static model tables the generator writes for each service;
//! - [`protocol`]: one codec per AWS wire protocol, driven by those tables;
//! - [`validate`]: AWS's input validation (required members, enums, lengths, ranges, patterns);
//! - [`error`]: the one error type, rendered by whichever codec received the request;
//! - [`event_pattern`]: EventBridge-style event patterns (Lambda event filtering, SNS filter policies);
//! - [`service`]: the handler table a service crate registers;
//! - [`store`]: the storage traits services keep their state behind;
//! - [`objects`]: blob storage for streamed payloads (S3 objects).

pub mod body;
pub mod buckets;
pub mod context;
pub mod error;
pub mod event_pattern;
pub mod identity;
pub mod objects;
pub mod protocol;
pub mod request_id;
pub mod service;
pub mod shape;
pub mod store;
pub mod types;
pub mod validate;

pub use context::RequestContext;
pub use error::{AwsError, Result};
pub use service::{Handlers, Service, ServiceState};
pub use types::{Blob, Input, OperationSpec, Output, StreamingBody, Timestamp, Value};
