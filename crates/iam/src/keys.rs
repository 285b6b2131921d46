//! Access keys (registered with the gateway by `persist::commit`, so `--enforce-sigv4` accepts
//! them and requests act as their user) and GetAccountSummary.

use crate::errors::{limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::ids;
use crate::paging::page;
use crate::state::{self, Account};
use crate::users::caller_user_name;
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::collections::HashMap;
use std::sync::Arc;

const KEYS_PER_USER: usize = 2;

/// The user a key operation is about: the named one, else the calling IAM user, else the root.
fn owner(ctx: &RequestContext, named: Option<String>) -> Option<String> {
    named.or_else(|| ctx.identity.as_deref().and_then(caller_user_name).map(str::to_owned))
}

/// The keys of the user, or of the root when there is none.
fn keys_of<'a>(a: &'a mut Account, user: Option<&str>) -> Result<&'a mut Vec<state::AccessKey>, AwsError> {
    match user {
        Some(name) => Ok(&mut a.user_mut(name)?.keys),
        None => Ok(&mut a.root_keys),
    }
}

pub async fn create_access_key(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateAccessKeyRequest,
) -> Result<CreateAccessKeyResponse, AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    let keys = keys_of(&mut a, user.as_deref())?;
    if keys.len() >= KEYS_PER_USER {
        return Err(limit_exceeded(format!("Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}")));
    }
    let key =
        state::AccessKey { id: ids::access_key_id(), secret: ids::secret_key(), active: true, created: ids::now() };
    let out = AccessKey {
        user_name: user.clone().map(|u| canonical(&a, &u)).unwrap_or_default(),
        access_key_id: key.id.clone(),
        status: "Active".to_owned(),
        secret_access_key: key.secret.clone(),
        create_date: Some(key.created),
    };
    keys_of(&mut a, user.as_deref())?.push(key);
    a.commit()?;
    Ok(CreateAccessKeyResponse { access_key: out })
}

fn canonical(a: &Account, name: &str) -> String {
    a.user(name).map(|u| u.name.clone()).unwrap_or_else(|_| name.to_owned())
}

fn key_not_found(id: &str) -> AwsError {
    no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

pub async fn delete_access_key(_: Arc<Iam>, ctx: RequestContext, i: DeleteAccessKeyRequest) -> Result<(), AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    let keys = keys_of(&mut a, user.as_deref())?;
    let index = keys.iter().position(|k| k.id == i.access_key_id).ok_or_else(|| key_not_found(&i.access_key_id))?;
    keys.remove(index);
    a.commit()?;
    Ok(())
}

pub async fn update_access_key(_: Arc<Iam>, ctx: RequestContext, i: UpdateAccessKeyRequest) -> Result<(), AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let mut a = state::write(&a);
    let keys = keys_of(&mut a, user.as_deref())?;
    let key = keys.iter_mut().find(|k| k.id == i.access_key_id).ok_or_else(|| key_not_found(&i.access_key_id))?;
    // An inactive key is unknown to the gateway until it is activated again (`persist::commit`
    // registers active keys and forgets the others).
    key.active = i.status == "Active";
    a.commit()?;
    Ok(())
}

pub async fn list_access_keys(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListAccessKeysRequest,
) -> Result<ListAccessKeysResponse, AwsError> {
    let user = owner(&ctx, i.user_name);
    let a = account(&ctx);
    let a = a.read();
    let name = user.as_deref().map(|u| canonical(&a, u));
    let keys = match user.as_deref() {
        Some(user) => &a.user(user)?.keys,
        None => &a.root_keys,
    };
    let items = keys.iter().enumerate().map(|(n, k)| {
        let meta = AccessKeyMetadata {
            user_name: name.clone(),
            access_key_id: Some(k.id.clone()),
            status: Some(if k.active { "Active" } else { "Inactive" }.to_owned()),
            create_date: Some(k.created),
        };
        (format!("{n:03}"), meta)
    });
    let (access_key_metadata, marker) = page(items.collect::<Vec<_>>(), i.marker.as_deref(), i.max_items);
    Ok(ListAccessKeysResponse { access_key_metadata, is_truncated: Some(marker.is_some()), marker })
}

pub async fn get_access_key_last_used(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetAccessKeyLastUsedRequest,
) -> Result<GetAccessKeyLastUsedResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let owner = a.users.values().find(|u| u.keys.iter().any(|k| k.id == i.access_key_id)).map(|u| u.name.clone());
    if owner.is_none() && !a.root_keys.iter().any(|k| k.id == i.access_key_id) {
        return Err(key_not_found(&i.access_key_id));
    }
    Ok(GetAccessKeyLastUsedResponse {
        user_name: Some(owner.unwrap_or_else(|| "root".to_owned())),
        access_key_last_used: Some(AccessKeyLastUsed {
            last_used_date: None,
            service_name: "N/A".to_owned(),
            region: "N/A".to_owned(),
        }),
    })
}

pub async fn get_account_summary(
    _: Arc<Iam>,
    ctx: RequestContext,
    _: (),
) -> Result<GetAccountSummaryResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let versions: usize = a.policies.values().map(|p| p.versions.len()).sum();
    let count = |n: usize| n as i32;
    let summary: HashMap<String, i32> = [
        ("Users", count(a.users.len())),
        ("UsersQuota", 5000),
        ("Groups", count(a.groups.len())),
        ("GroupsQuota", 300),
        ("Roles", count(a.roles.len())),
        ("RolesQuota", 1000),
        ("Policies", count(a.policies.len())),
        ("PoliciesQuota", 1500),
        ("PolicyVersionsInUse", count(versions)),
        ("PolicyVersionsInUseQuota", 10000),
        ("VersionsPerPolicyQuota", 5),
        ("PolicySizeQuota", 6144),
        ("UserPolicySizeQuota", 2048),
        ("GroupPolicySizeQuota", 5120),
        ("RolePolicySizeQuota", 10240),
        ("AssumeRolePolicySizeQuota", 2048),
        ("InstanceProfiles", count(a.profiles.len())),
        ("InstanceProfilesQuota", 1000),
        ("AccessKeysPerUserQuota", 2),
        ("GroupsPerUserQuota", 10),
        ("AttachedPoliciesPerUserQuota", 10),
        ("AttachedPoliciesPerGroupQuota", 10),
        ("AttachedPoliciesPerRoleQuota", 10),
        ("ServerCertificates", count(a.server_certs.len())),
        ("ServerCertificatesQuota", 20),
        ("SigningCertificatesPerUserQuota", 2),
        ("MFADevices", count(a.mfa_devices.len())),
        ("MFADevicesInUse", count(a.users.values().map(|u| u.mfa.len()).sum())),
        ("AccountMFAEnabled", 0),
        ("AccountAccessKeysPresent", i32::from(!a.root_keys.is_empty())),
        ("AccountSigningCertificatesPresent", i32::from(!a.root_certs.is_empty())),
        ("Providers", count(a.oidc.len() + a.saml.len())),
        ("GlobalEndpointTokenVersion", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Ok(GetAccountSummaryResponse { summary_map: Some(summary) })
}
