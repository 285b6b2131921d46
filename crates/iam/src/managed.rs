//! Managed policies: customer policies with up to five versions, the AWS managed ones, and their
//! attachment to users, groups and roles.

use crate::aws_managed;
use crate::errors::{already_exists, delete_conflict, limit_exceeded, no_such_entity, unmodifiable};
use crate::generated::types::*;
use crate::ids;
use crate::paging::{Page, page};
use crate::policy_doc::{self, Kind};
use crate::state::{self, Account, ManagedPolicy, Principal, key, tags_out};
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const MAX_VERSIONS: usize = 5;
const MAX_POLICY_SIZE: usize = 6144;
const ATTACHED_PER_ENTITY: usize = 10;

fn not_found(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} was not found."))
}

fn not_attachable(arn: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
}

/// Size as IAM counts it: characters other than whitespace.
fn policy_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// Which answer a customer managed policy is rendered for: each shows other optional members.
#[derive(Clone, Copy, PartialEq)]
enum View {
    /// CreatePolicy: tags when there are some, never the description.
    Created,
    /// GetPolicy: the description when set, and tags always (an empty list when none).
    Get,
    /// ListPolicies: neither.
    Listed,
}

fn local_out(a: &Account, p: &ManagedPolicy, view: View) -> Policy {
    Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.id.clone()),
        arn: Some(p.arn.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(p.default_version.clone()),
        attachment_count: Some(a.attachment_count(&p.arn)),
        permissions_boundary_usage_count: Some(a.boundary_count(&p.arn)),
        is_attachable: Some(true),
        description: p.description.clone().filter(|_| view == View::Get),
        create_date: Some(p.created),
        update_date: Some(p.updated),
        tags: match view {
            View::Created => (!p.tags.is_empty()).then(|| tags_out(&p.tags)),
            View::Get => Some(tags_out(&p.tags)),
            View::Listed => None,
        },
    }
}

fn aws_out(a: &Account, p: &aws_managed::AwsPolicy) -> Policy {
    let arn = p.arn();
    Policy {
        policy_name: Some(p.name.to_owned()),
        policy_id: Some(p.id()),
        attachment_count: Some(a.attachment_count(&arn)),
        permissions_boundary_usage_count: Some(a.boundary_count(&arn)),
        arn: Some(arn),
        path: Some(p.path.to_owned()),
        default_version_id: Some("v1".to_owned()),
        is_attachable: Some(true),
        description: None,
        create_date: Some(aws_managed::CREATED),
        update_date: Some(aws_managed::CREATED),
        tags: None,
    }
}

fn version_out(v: &state::PolicyVersion, default: &str, with_document: bool) -> PolicyVersion {
    PolicyVersion {
        document: with_document.then(|| policy_doc::encode(&v.document)),
        version_id: Some(v.id.clone()),
        is_default_version: Some(v.id == default),
        create_date: Some(v.created),
    }
}

pub async fn create_policy(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreatePolicyRequest,
) -> Result<CreatePolicyResponse, AwsError> {
    let document = policy_doc::validate(&i.policy_document, Kind::Identity)?;
    if policy_size(&document) > MAX_POLICY_SIZE {
        return Err(limit_exceeded(format!("Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}")));
    }
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.policies.values().any(|p| key(&p.name) == key(&i.policy_name)) {
        return Err(already_exists(format!(
            "A policy called {} already exists. Duplicate names are not allowed.",
            i.policy_name
        )));
    }
    let path = i.path.unwrap_or_else(|| "/".to_owned());
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    let now = ids::now();
    let policy = ManagedPolicy {
        arn: a.arn("policy", &path, &i.policy_name),
        name: i.policy_name,
        path,
        id: ids::unique_id("ANPA"),
        description: i.description,
        created: now,
        updated: now,
        versions: vec![state::PolicyVersion { id: "v1".to_owned(), document, created: now }],
        default_version: "v1".to_owned(),
        next_version: 2,
        tags,
    };
    let out = local_out(&a, &policy, View::Created);
    a.policies.insert(policy.arn.clone(), policy);
    a.commit()?;
    Ok(CreatePolicyResponse { policy: Some(out) })
}

pub async fn get_policy(_: Arc<Iam>, ctx: RequestContext, i: GetPolicyRequest) -> Result<GetPolicyResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let policy = match (a.policies.get(&i.policy_arn), aws_managed::find(&i.policy_arn)) {
        (Some(p), _) => local_out(&a, p, View::Get),
        (None, Some(p)) => aws_out(&a, p),
        (None, None) => return Err(not_found(&i.policy_arn)),
    };
    Ok(GetPolicyResponse { policy: Some(policy) })
}

pub async fn delete_policy(_: Arc<Iam>, ctx: RequestContext, i: DeletePolicyRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let p = a.policies.get(&i.policy_arn).ok_or_else(|| not_found(&i.policy_arn))?;
    if a.attachment_count(&p.arn) > 0 {
        return Err(delete_conflict("Cannot delete a policy attached to entities."));
    }
    if p.versions.len() > 1 {
        return Err(delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        ));
    }
    a.policies.remove(&i.policy_arn);
    a.commit()?;
    Ok(())
}

pub async fn list_policies(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListPoliciesRequest,
) -> Result<ListPoliciesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let scope = i.scope.as_deref().unwrap_or("All");
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let only_attached = i.only_attached.unwrap_or(false);
    let usage = i.policy_usage_filter.as_deref();
    let mut items: Vec<(String, Policy)> = Vec::new();
    if scope != "Local" {
        items.extend(aws_managed::POLICIES.iter().map(|p| (key(p.name), aws_out(&a, p))));
    }
    if scope != "AWS" {
        items.extend(a.policies.values().map(|p| (key(&p.name), local_out(&a, p, View::Listed))));
    }
    items.retain(|(_, p)| {
        p.path.as_deref().is_some_and(|path| path.starts_with(prefix))
            && match (only_attached, usage) {
                (false, _) => true,
                (true, Some("PermissionsBoundary")) => p.permissions_boundary_usage_count.unwrap_or(0) > 0,
                (true, Some("PermissionsPolicy")) => p.attachment_count.unwrap_or(0) > 0,
                (true, _) => p.attachment_count.unwrap_or(0) + p.permissions_boundary_usage_count.unwrap_or(0) > 0,
            }
    });
    items.sort_by(|x, y| x.0.cmp(&y.0));
    let (policies, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListPoliciesResponse { policies: Some(policies), is_truncated: Some(marker.is_some()), marker })
}

fn local_mut<'a>(a: &'a mut Account, arn: &str) -> Result<&'a mut ManagedPolicy, AwsError> {
    a.policies.get_mut(arn).ok_or_else(|| not_found(arn))
}

pub async fn create_policy_version(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreatePolicyVersionRequest,
) -> Result<CreatePolicyVersionResponse, AwsError> {
    let document = policy_doc::validate(&i.policy_document, Kind::Identity)?;
    if policy_size(&document) > MAX_POLICY_SIZE {
        return Err(limit_exceeded(format!("Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}")));
    }
    let a = account(&ctx);
    let mut a = state::write(&a);
    let p = local_mut(&mut a, &i.policy_arn)?;
    if p.versions.len() >= MAX_VERSIONS {
        return Err(limit_exceeded(
            "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
        ));
    }
    let now = ids::now();
    let version = state::PolicyVersion { id: format!("v{}", p.next_version), document, created: now };
    p.next_version += 1;
    if i.set_as_default.unwrap_or(false) {
        p.default_version = version.id.clone();
    }
    p.updated = now;
    let out = version_out(&version, &p.default_version, false);
    p.versions.push(version);
    a.commit()?;
    Ok(CreatePolicyVersionResponse { policy_version: Some(out) })
}

fn version_not_found(arn: &str, version: &str) -> AwsError {
    no_such_entity(format!("Policy {arn} version {version} does not exist or is not attachable."))
}

pub async fn get_policy_version(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetPolicyVersionRequest,
) -> Result<GetPolicyVersionResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    if let Some(p) = a.policies.get(&i.policy_arn) {
        let v = p.versions.iter().find(|v| v.id == i.version_id);
        let v = v.ok_or_else(|| version_not_found(&i.policy_arn, &i.version_id))?;
        return Ok(GetPolicyVersionResponse { policy_version: Some(version_out(v, &p.default_version, true)) });
    }
    let p = aws_managed::find(&i.policy_arn).ok_or_else(|| not_found(&i.policy_arn))?;
    if i.version_id != "v1" {
        return Err(version_not_found(&i.policy_arn, &i.version_id));
    }
    let v =
        state::PolicyVersion { id: "v1".to_owned(), document: p.document.to_owned(), created: aws_managed::CREATED };
    Ok(GetPolicyVersionResponse { policy_version: Some(version_out(&v, "v1", true)) })
}

pub async fn delete_policy_version(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeletePolicyVersionRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let p = local_mut(&mut a, &i.policy_arn)?;
    let index = p.versions.iter().position(|v| v.id == i.version_id);
    let index = index.ok_or_else(|| version_not_found(&i.policy_arn, &i.version_id))?;
    if p.default_version == i.version_id {
        return Err(delete_conflict("Cannot delete the default version of a policy."));
    }
    p.versions.remove(index);
    a.commit()?;
    Ok(())
}

pub async fn list_policy_versions(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListPolicyVersionsRequest,
) -> Result<ListPolicyVersionsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let versions: Vec<(String, PolicyVersion)> = match (a.policies.get(&i.policy_arn), aws_managed::find(&i.policy_arn))
    {
        // Newest first, as AWS lists them.
        (Some(p), _) => p
            .versions
            .iter()
            .rev()
            .enumerate()
            .map(|(n, v)| (format!("{n:03}"), version_out(v, &p.default_version, false)))
            .collect(),
        (None, Some(_)) => {
            let v =
                state::PolicyVersion { id: "v1".to_owned(), document: String::new(), created: aws_managed::CREATED };
            vec![("000".to_owned(), version_out(&v, "v1", false))]
        }
        (None, None) => return Err(not_found(&i.policy_arn)),
    };
    let (versions, marker) = page(versions, i.marker.as_deref(), i.max_items);
    Ok(ListPolicyVersionsResponse { versions: Some(versions), is_truncated: Some(marker.is_some()), marker })
}

pub async fn set_default_policy_version(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: SetDefaultPolicyVersionRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let p = local_mut(&mut a, &i.policy_arn)?;
    if !p.versions.iter().any(|v| v.id == i.version_id) {
        return Err(version_not_found(&i.policy_arn, &i.version_id));
    }
    p.default_version = i.version_id;
    p.updated = ids::now();
    a.commit()?;
    Ok(())
}

fn attach(a: &mut Account, kind: Principal, name: &str, arn: &str) -> Result<(), AwsError> {
    if kind == Principal::Role && a.role(name)?.service_linked {
        return Err(unmodifiable(name));
    }
    a.common(kind, name)?;
    if !a.policies.contains_key(arn) && aws_managed::find(arn).is_none() {
        return Err(not_attachable(arn));
    }
    let common = a.common_mut(kind, name)?;
    if common.attached.iter().any(|x| x == arn) {
        return Ok(());
    }
    if common.attached.len() >= ATTACHED_PER_ENTITY {
        let quota = match kind {
            Principal::User => "PoliciesPerUser",
            Principal::Group => "PoliciesPerGroup",
            Principal::Role => "PoliciesPerRole",
        };
        return Err(limit_exceeded(format!("Cannot exceed quota for {quota}: {ATTACHED_PER_ENTITY}")));
    }
    common.attached.push(arn.to_owned());
    Ok(())
}

fn detach(a: &mut Account, kind: Principal, name: &str, arn: &str) -> Result<(), AwsError> {
    if kind == Principal::Role && a.role(name)?.service_linked {
        return Err(unmodifiable(name));
    }
    let common = a.common_mut(kind, name)?;
    let before = common.attached.len();
    common.attached.retain(|x| x != arn);
    if common.attached.len() == before {
        return Err(no_such_entity(format!("Policy {arn} was not found.")));
    }
    Ok(())
}

fn attached(
    a: &Account,
    kind: Principal,
    name: &str,
    prefix: Option<&str>,
    marker: Option<&str>,
    max: Option<i32>,
) -> Result<Page<AttachedPolicy>, AwsError> {
    let prefix = prefix.unwrap_or("/");
    let items: Vec<(String, AttachedPolicy)> = a
        .common(kind, name)?
        .attached
        .iter()
        .filter_map(|arn| {
            let (name, path) = match (a.policies.get(arn), aws_managed::find(arn)) {
                (Some(p), _) => (p.name.clone(), p.path.as_str()),
                (None, Some(p)) => (p.name.to_owned(), p.path),
                _ => return None,
            };
            path.starts_with(prefix)
                .then_some(AttachedPolicy { policy_name: Some(name), policy_arn: Some(arn.clone()) })
        })
        .enumerate()
        .map(|(n, p)| (format!("{n:03}"), p))
        .collect();
    let (items, next) = page(items, marker, max);
    Ok((items, Some(next.is_some()), next))
}

macro_rules! attachment_handlers {
    ($kind:expr, $attach:ident, $AttachReq:ident, $detach:ident, $DetachReq:ident,
     $list:ident, $ListReq:ident, $ListResp:ident, $field:ident) => {
        pub async fn $attach(_: Arc<Iam>, ctx: RequestContext, i: $AttachReq) -> Result<(), AwsError> {
            state::mutate(&ctx, |a| attach(a, $kind, &i.$field, &i.policy_arn))
        }

        pub async fn $detach(_: Arc<Iam>, ctx: RequestContext, i: $DetachReq) -> Result<(), AwsError> {
            state::mutate(&ctx, |a| detach(a, $kind, &i.$field, &i.policy_arn))
        }

        pub async fn $list(_: Arc<Iam>, ctx: RequestContext, i: $ListReq) -> Result<$ListResp, AwsError> {
            let a = account(&ctx);
            let a = a.read();
            let (items, is_truncated, marker) =
                attached(&a, $kind, &i.$field, i.path_prefix.as_deref(), i.marker.as_deref(), i.max_items)?;
            Ok($ListResp { attached_policies: Some(items), is_truncated, marker })
        }
    };
}

attachment_handlers!(
    Principal::User,
    attach_user_policy,
    AttachUserPolicyRequest,
    detach_user_policy,
    DetachUserPolicyRequest,
    list_attached_user_policies,
    ListAttachedUserPoliciesRequest,
    ListAttachedUserPoliciesResponse,
    user_name
);
attachment_handlers!(
    Principal::Group,
    attach_group_policy,
    AttachGroupPolicyRequest,
    detach_group_policy,
    DetachGroupPolicyRequest,
    list_attached_group_policies,
    ListAttachedGroupPoliciesRequest,
    ListAttachedGroupPoliciesResponse,
    group_name
);
attachment_handlers!(
    Principal::Role,
    attach_role_policy,
    AttachRolePolicyRequest,
    detach_role_policy,
    DetachRolePolicyRequest,
    list_attached_role_policies,
    ListAttachedRolePoliciesRequest,
    ListAttachedRolePoliciesResponse,
    role_name
);

pub async fn list_entities_for_policy(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListEntitiesForPolicyRequest,
) -> Result<ListEntitiesForPolicyResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let arn = &i.policy_arn;
    if !a.policies.contains_key(arn) && aws_managed::find(arn).is_none() {
        return Err(not_found(arn));
    }
    let filter = i.entity_filter.as_deref();
    let wants = |kind: &str| filter.is_none_or(|f| f == kind);
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let usage = i.policy_usage_filter.as_deref();
    let as_policy = |c: &state::Common| usage != Some("PermissionsBoundary") && c.attached.iter().any(|x| x == arn);
    let as_boundary = |b: &Option<String>| usage != Some("PermissionsPolicy") && b.as_deref() == Some(arn.as_str());
    let has = |c: &state::Common, b: &Option<String>, path: &str| {
        (as_policy(c) || as_boundary(b)) && path.starts_with(prefix)
    };
    // One listing of all three kinds, paged together (users, then groups, then roles).
    let mut entities: Vec<(String, (u8, String, String))> = Vec::new();
    if wants("User") {
        entities.extend(
            a.users
                .iter()
                .filter(|(_, u)| has(&u.common, &u.boundary, &u.path))
                .map(|(k, u)| (format!("1{k}"), (1, u.name.clone(), u.id.clone()))),
        );
    }
    if wants("Group") {
        entities.extend(
            a.groups
                .iter()
                .filter(|(_, g)| has(&g.common, &None, &g.path))
                .map(|(k, g)| (format!("2{k}"), (2, g.name.clone(), g.id.clone()))),
        );
    }
    if wants("Role") {
        entities.extend(
            a.roles
                .iter()
                .filter(|(_, r)| has(&r.common, &r.boundary, &r.path))
                .map(|(k, r)| (format!("3{k}"), (3, r.name.clone(), r.id.clone()))),
        );
    }
    let (items, marker) = page(entities, i.marker.as_deref(), i.max_items);
    let mut out = ListEntitiesForPolicyResponse {
        policy_groups: Some(Vec::new()),
        policy_users: Some(Vec::new()),
        policy_roles: Some(Vec::new()),
        is_truncated: Some(marker.is_some()),
        marker,
    };
    for (kind, name, id) in items {
        match kind {
            1 => out.policy_users.get_or_insert_default().push(PolicyUser { user_name: Some(name), user_id: Some(id) }),
            2 => out
                .policy_groups
                .get_or_insert_default()
                .push(PolicyGroup { group_name: Some(name), group_id: Some(id) }),
            _ => out.policy_roles.get_or_insert_default().push(PolicyRole { role_name: Some(name), role_id: Some(id) }),
        }
    }
    Ok(out)
}
