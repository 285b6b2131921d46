//! AWS Security Token Service for RustStack: caller identity, role sessions (AssumeRole, with a
//! web identity or SAML), session and federation tokens. Issued credentials go into the gateway's
//! registry, so calls signed with them act in their account as the session's identity.

pub mod generated;

mod assume;
mod errors;
mod session;

use generated::{ops, types::*};
use ruststack_core::identity::Credentials;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use session::Principal;
use std::sync::Arc;

/// STS state: the shared registry of issued keys (roles live in IAM).
pub struct Sts {
    credentials: Credentials,
}

impl ServiceState for Sts {
    fn reset(&self) {}
}

/// The STS service with its handler table.
pub fn service(credentials: Credentials) -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(Sts { credentials }))
        .on(ops::GetCallerIdentity, get_caller_identity)
        .on(ops::GetSessionToken, get_session_token)
        .on(ops::GetFederationToken, get_federation_token)
        .on(ops::GetAccessKeyInfo, get_access_key_info)
        .on(ops::AssumeRole, assume::assume_role)
        .on(ops::AssumeRoleWithWebIdentity, assume::assume_role_with_web_identity)
        .on(ops::AssumeRoleWithSAML, assume::assume_role_with_saml)
        .into_service()
}

/// The caller: the identity of an issued key (IAM user, assumed role, session), else the root
/// user of the account the key maps to.
pub(crate) fn caller(ctx: &RequestContext) -> Principal {
    match &ctx.identity {
        Some(identity) => Principal {
            account_id: identity.account_id.clone(),
            arn: identity.arn.clone(),
            user_id: identity.user_id.clone(),
        },
        None => Principal {
            account_id: ctx.account_id.to_string(),
            arn: format!("arn:aws:iam::{}:root", ctx.account_id),
            user_id: ctx.account_id.to_string(),
        },
    }
}

async fn get_caller_identity(
    _: Arc<Sts>,
    ctx: RequestContext,
    _: GetCallerIdentityRequest,
) -> Result<GetCallerIdentityResponse, AwsError> {
    let me = caller(&ctx);
    Ok(GetCallerIdentityResponse { user_id: Some(me.user_id), account: Some(me.account_id), arn: Some(me.arn) })
}

/// Session credentials for the caller itself (a user stays that user).
async fn get_session_token(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: GetSessionTokenRequest,
) -> Result<GetSessionTokenResponse, AwsError> {
    if ctx.identity.as_ref().is_some_and(|id| id.session_token.is_some()) {
        return Err(errors::access_denied("Cannot call GetSessionToken with session credentials"));
    }
    let duration = session_duration(&ctx, i.duration_seconds);
    let credentials = session::issue(&sts.credentials, caller(&ctx), duration);
    Ok(GetSessionTokenResponse { credentials: Some(credentials), ..Default::default() })
}

/// A user's session lasts 12 hours unless asked otherwise; the root user's at most one hour
/// (a longer request is cut to one hour, as AWS documents, not refused).
fn session_duration(ctx: &RequestContext, requested: Option<i32>) -> i32 {
    let duration = requested.unwrap_or(43_200);
    if ctx.identity.is_none() { duration.min(3_600) } else { duration }
}

/// Credentials for a federated user named by the caller, acting in the caller's account as
/// `arn:aws:sts::<account>:federated-user/<name>`. Session credentials may not call it.
async fn get_federation_token(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: GetFederationTokenRequest,
) -> Result<GetFederationTokenResponse, AwsError> {
    if ctx.identity.as_ref().is_some_and(|id| id.session_token.is_some()) {
        return Err(errors::access_denied("Cannot call GetFederationToken with session credentials"));
    }
    let tags = i.tags.unwrap_or_default();
    let packed_policy_size = assume::packed_size(i.policy.as_deref(), i.policy_arns.map_or(0, |p| p.len()), &tags)?;
    let account_id = caller(&ctx).account_id;
    let user = FederatedUser {
        federated_user_id: format!("{account_id}:{}", i.name),
        arn: format!("arn:aws:sts::{account_id}:federated-user/{}", i.name),
    };
    let principal = Principal { account_id, arn: user.arn.clone(), user_id: user.federated_user_id.clone() };
    let credentials = session::issue(&sts.credentials, principal, session_duration(&ctx, i.duration_seconds));
    Ok(GetFederationTokenResponse {
        credentials: Some(credentials),
        federated_user: Some(user),
        packed_policy_size,
        ..Default::default()
    })
}

/// The account an access key belongs to: an issued key's, else the caller's (every other key
/// maps to the default account).
async fn get_access_key_info(
    sts: Arc<Sts>,
    ctx: RequestContext,
    i: GetAccessKeyInfoRequest,
) -> Result<GetAccessKeyInfoResponse, AwsError> {
    let account = match sts.credentials.get(&i.access_key_id) {
        Some(identity) => identity.account_id,
        None => ctx.account_id.to_string(),
    };
    Ok(GetAccessKeyInfoResponse { account: Some(account) })
}
