//! Inline policies embedded in users, groups and roles (size limits per kind, as AWS's quotas).

use crate::errors::{limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::paging::{Page, page};
use crate::policy_doc::{self, Kind};
use crate::state::{Account, Principal};
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// The aggregate size of a principal's inline policies (non-whitespace characters).
fn size_quota(kind: Principal) -> usize {
    match kind {
        Principal::User => 2048,
        Principal::Group => 5120,
        Principal::Role => 10240,
    }
}

fn put(a: &mut Account, kind: Principal, owner: &str, name: String, document: &str) -> Result<(), AwsError> {
    let document = policy_doc::validate(document, Kind::Identity)?;
    if kind == Principal::Role && a.role(owner)?.service_linked {
        return Err(crate::errors::unmodifiable(owner));
    }
    let common = a.common_mut(kind, owner)?;
    let size = |d: &str| d.chars().filter(|c| !c.is_whitespace()).count();
    let others: usize = common.inline.iter().filter(|(n, _)| **n != name).map(|(_, d)| size(d)).sum();
    let quota = size_quota(kind);
    if others + size(&document) > quota {
        return Err(limit_exceeded(format!(
            "Maximum policy size of {quota} bytes exceeded for {} {owner}",
            kind.noun()
        )));
    }
    common.inline.insert(name, document);
    Ok(())
}

fn not_found(kind: Principal, name: &str) -> AwsError {
    no_such_entity(format!("The {} policy with name {name} cannot be found.", kind.noun()))
}

fn get(a: &Account, kind: Principal, owner: &str, name: &str) -> Result<String, AwsError> {
    let doc = a.common(kind, owner)?.inline.get(name).ok_or_else(|| not_found(kind, name))?;
    Ok(policy_doc::encode(doc))
}

fn delete(a: &mut Account, kind: Principal, owner: &str, name: &str) -> Result<(), AwsError> {
    a.common_mut(kind, owner)?.inline.remove(name).map(|_| ()).ok_or_else(|| not_found(kind, name))
}

fn list(
    a: &Account,
    kind: Principal,
    owner: &str,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<Page<String>, AwsError> {
    let names = a.common(kind, owner)?.inline.keys().map(|n| (n.clone(), n.clone()));
    let (names, next) = page(names, marker, max);
    Ok((names, Some(next.is_some()), next))
}

macro_rules! inline_handlers {
    ($kind:expr, $field:ident,
     $put:ident, $PutReq:ident, $get:ident, $GetReq:ident, $GetResp:ident,
     $delete:ident, $DeleteReq:ident, $list:ident, $ListReq:ident, $ListResp:ident) => {
        pub async fn $put(_: Arc<Iam>, ctx: RequestContext, i: $PutReq) -> Result<(), AwsError> {
            crate::state::mutate(&ctx, |a| put(a, $kind, &i.$field, i.policy_name, &i.policy_document))
        }

        pub async fn $get(_: Arc<Iam>, ctx: RequestContext, i: $GetReq) -> Result<$GetResp, AwsError> {
            let a = account(&ctx);
            let a = a.read();
            let policy_document = get(&a, $kind, &i.$field, &i.policy_name)?;
            Ok($GetResp { $field: canonical_name(&a, $kind, &i.$field), policy_name: i.policy_name, policy_document })
        }

        pub async fn $delete(_: Arc<Iam>, ctx: RequestContext, i: $DeleteReq) -> Result<(), AwsError> {
            crate::state::mutate(&ctx, |a| delete(a, $kind, &i.$field, &i.policy_name))
        }

        pub async fn $list(_: Arc<Iam>, ctx: RequestContext, i: $ListReq) -> Result<$ListResp, AwsError> {
            let a = account(&ctx);
            let a = a.read();
            let (policy_names, is_truncated, marker) = list(&a, $kind, &i.$field, i.marker.as_deref(), i.max_items)?;
            Ok($ListResp { policy_names, is_truncated, marker })
        }
    };
}

/// The owner's name as it was created (lookups are case-insensitive).
fn canonical_name(a: &Account, kind: Principal, name: &str) -> String {
    let k = crate::state::key(name);
    match kind {
        Principal::User => a.users.get(&k).map(|u| u.name.clone()),
        Principal::Group => a.groups.get(&k).map(|g| g.name.clone()),
        Principal::Role => a.roles.get(&k).map(|r| r.name.clone()),
    }
    .unwrap_or_else(|| name.to_owned())
}

inline_handlers!(
    Principal::User,
    user_name,
    put_user_policy,
    PutUserPolicyRequest,
    get_user_policy,
    GetUserPolicyRequest,
    GetUserPolicyResponse,
    delete_user_policy,
    DeleteUserPolicyRequest,
    list_user_policies,
    ListUserPoliciesRequest,
    ListUserPoliciesResponse
);
inline_handlers!(
    Principal::Group,
    group_name,
    put_group_policy,
    PutGroupPolicyRequest,
    get_group_policy,
    GetGroupPolicyRequest,
    GetGroupPolicyResponse,
    delete_group_policy,
    DeleteGroupPolicyRequest,
    list_group_policies,
    ListGroupPoliciesRequest,
    ListGroupPoliciesResponse
);
inline_handlers!(
    Principal::Role,
    role_name,
    put_role_policy,
    PutRolePolicyRequest,
    get_role_policy,
    GetRolePolicyRequest,
    GetRolePolicyResponse,
    delete_role_policy,
    DeleteRolePolicyRequest,
    list_role_policies,
    ListRolePoliciesRequest,
    ListRolePoliciesResponse
);
