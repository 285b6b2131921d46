//! AWS Identity and Access Management for RustStack.

pub mod generated;

use generated::{ops, types::*};
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::sync::Arc;

/// IAM state (users, roles, policies come with the IAM issue).
#[derive(Default)]
pub struct Iam;

impl ServiceState for Iam {
    fn reset(&self) {}
}

/// The IAM service with its handler table.
pub fn service(_credentials: ruststack_core::identity::Credentials) -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(Iam)).on(ops::ListUsers, list_users).into_service()
}

async fn list_users(_: Arc<Iam>, _: RequestContext, _: ListUsersRequest) -> Result<ListUsersResponse, AwsError> {
    Ok(ListUsersResponse { users: Vec::new(), is_truncated: Some(false), marker: None })
}
