//! AWS Security Token Service for RustStack.

pub mod generated;

use generated::{ops, types::*};
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::sync::Arc;

/// STS keeps no state yet: identities come from the request's access key.
#[derive(Default)]
pub struct Sts;

impl ServiceState for Sts {
    fn reset(&self) {}
}

/// The STS service with its handler table.
pub fn service(_credentials: ruststack_core::identity::Credentials) -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(Sts)).on(ops::GetCallerIdentity, get_caller_identity).into_service()
}

/// The caller is the root user of the account its access key maps to.
async fn get_caller_identity(
    _: Arc<Sts>,
    ctx: RequestContext,
    _: GetCallerIdentityRequest,
) -> Result<GetCallerIdentityResponse, AwsError> {
    Ok(GetCallerIdentityResponse {
        user_id: Some(ctx.account_id.to_string()),
        account: Some(ctx.account_id.to_string()),
        arn: Some(format!("arn:aws:iam::{}:root", ctx.account_id)),
    })
}
