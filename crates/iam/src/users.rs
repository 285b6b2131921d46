//! Users and groups: create, get, update (rename, move), delete with AWS's conflict checks, list,
//! and group membership.

use crate::errors::{already_exists, delete_conflict, limit_exceeded};
use crate::generated::types::*;
use crate::ids;
use crate::paging::page;
use crate::state::{self, Common, Group, Principal, key};
use crate::{Iam, account};
use ruststack_core::identity::Identity;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const GROUPS_PER_USER: usize = 10;

pub async fn create_user(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateUserRequest,
) -> Result<CreateUserResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.users.contains_key(&key(&i.user_name)) {
        return Err(already_exists(format!("User with name {} already exists.", i.user_name)));
    }
    state::check_boundary(&a, i.permissions_boundary.as_deref())?;
    let mut common = Common::default();
    crate::tags::apply(&mut common.tags, i.tags.unwrap_or_default())?;
    let user = state::User {
        name: i.user_name.clone(),
        path: i.path.unwrap_or_else(|| "/".to_owned()),
        id: ids::unique_id("AIDA"),
        created: ids::now(),
        boundary: i.permissions_boundary,
        common,
        keys: Vec::new(),
        certs: Vec::new(),
        login: None,
        ssh_keys: Vec::new(),
        mfa: Vec::new(),
    };
    let out = a.user_out(&user, true);
    a.users.insert(key(&i.user_name), user);
    a.commit()?;
    Ok(CreateUserResponse { user: Some(out) })
}

pub async fn get_user(_: Arc<Iam>, ctx: RequestContext, i: GetUserRequest) -> Result<GetUserResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let name = match i.user_name {
        Some(name) => name,
        // Without a name, the caller: an IAM user's key names its user, a default or numeric key
        // the root; role sessions have no user.
        None => match ctx.identity.as_deref().map(|id| (caller_user_name(id), id)) {
            Some((Some(name), _)) => name.to_owned(),
            Some((None, id)) if !id.arn.ends_with(":root") => {
                return Err(AwsError::bad_request(
                    "ValidationError",
                    "Must specify userName when calling with non-User credentials",
                ));
            }
            _ => {
                return Ok(GetUserResponse {
                    user: User {
                        user_id: a.id.clone(),
                        arn: format!("arn:aws:iam::{}:root", a.id),
                        create_date: a.created,
                        ..Default::default()
                    },
                });
            }
        },
    };
    let user = a.user(&name)?;
    Ok(GetUserResponse { user: a.user_out(user, true) })
}

/// The user name of an identity whose ARN is an IAM user's.
pub fn caller_user_name(identity: &Identity) -> Option<&str> {
    let resource = identity.arn.split_once(":user/")?.1;
    resource.rsplit('/').next()
}

pub async fn update_user(_: Arc<Iam>, ctx: RequestContext, i: UpdateUserRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let old_key = key(&i.user_name);
    a.user(&i.user_name)?;
    if let Some(new) = &i.new_user_name
        && key(new) != old_key
        && a.users.contains_key(&key(new))
    {
        return Err(already_exists(format!("User with name {new} already exists.")));
    }
    let mut user = a.users.remove(&old_key).expect("checked above");
    if let Some(path) = i.new_path {
        user.path = path;
    }
    if let Some(new) = i.new_user_name {
        user.name = new;
    }
    let new_key = key(&user.name);
    for g in a.groups.values_mut() {
        for m in g.members.iter_mut().filter(|m| **m == old_key) {
            *m = new_key.clone();
        }
    }
    for d in a.mfa_devices.values_mut() {
        if let Some((k, _)) = d.user.as_mut().filter(|(k, _)| *k == old_key) {
            *k = new_key.clone();
        }
    }
    // Keys keep working under the user's new ARN: the commit registers them again.
    a.users.insert(new_key, user);
    a.commit()?;
    Ok(())
}

pub fn user_identity(account: &str, arn: &str, user_id: &str, secret: &str) -> Identity {
    Identity {
        secret_key: secret.to_owned(),
        account_id: account.to_owned(),
        arn: arn.to_owned(),
        user_id: user_id.to_owned(),
        session_token: None,
        expires_millis: None,
    }
}

pub async fn delete_user(_: Arc<Iam>, ctx: RequestContext, i: DeleteUserRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let k = key(&i.user_name);
    let user = a.user(&i.user_name)?;
    if !user.keys.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete access keys first."));
    }
    if !user.certs.is_empty() {
        return Err(crate::certs::certificates_conflict());
    }
    if user.login.is_some() {
        return Err(delete_conflict("Cannot delete entity, must delete login profile first."));
    }
    if !user.ssh_keys.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete SSH public keys first."));
    }
    if !user.mfa.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete MFA device first."));
    }
    if !user.common.inline.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    if !user.common.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
    }
    if a.groups.values().any(|g| g.members.contains(&k)) {
        return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
    }
    a.users.remove(&k);
    a.commit()?;
    Ok(())
}

pub async fn list_users(_: Arc<Iam>, ctx: RequestContext, i: ListUsersRequest) -> Result<ListUsersResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let items =
        a.users.iter().filter(|(_, u)| u.path.starts_with(prefix)).map(|(k, u)| (k.clone(), a.user_out(u, false)));
    let (users, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListUsersResponse { users, is_truncated: Some(marker.is_some()), marker })
}

pub async fn create_group(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateGroupRequest,
) -> Result<CreateGroupResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.groups.contains_key(&key(&i.group_name)) {
        return Err(already_exists(format!("Group with name {} already exists.", i.group_name)));
    }
    let group = Group {
        name: i.group_name.clone(),
        path: i.path.unwrap_or_else(|| "/".to_owned()),
        id: ids::unique_id("AGPA"),
        created: ids::now(),
        common: Common::default(),
        members: Vec::new(),
    };
    let out = a.group_out(&group);
    a.groups.insert(key(&i.group_name), group);
    a.commit()?;
    Ok(CreateGroupResponse { group: out })
}

pub async fn get_group(_: Arc<Iam>, ctx: RequestContext, i: GetGroupRequest) -> Result<GetGroupResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let group = a.group(&i.group_name)?;
    let mut members: Vec<_> = group.members.iter().filter_map(|k| a.users.get(k).map(|u| (k.clone(), u))).collect();
    members.sort_by(|x, y| x.0.cmp(&y.0));
    let (users, marker) =
        page(members.into_iter().map(|(k, u)| (k, a.user_out(u, false))), i.marker.as_deref(), i.max_items);
    Ok(GetGroupResponse { group: a.group_out(group), users, is_truncated: Some(marker.is_some()), marker })
}

pub async fn update_group(_: Arc<Iam>, ctx: RequestContext, i: UpdateGroupRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    a.group(&i.group_name)?;
    if let Some(new) = &i.new_group_name
        && key(new) != key(&i.group_name)
        && a.groups.contains_key(&key(new))
    {
        return Err(already_exists(format!("Group with name {new} already exists.")));
    }
    let mut group = a.groups.remove(&key(&i.group_name)).expect("checked above");
    if let Some(path) = i.new_path {
        group.path = path;
    }
    if let Some(new) = i.new_group_name {
        group.name = new;
    }
    a.groups.insert(key(&group.name), group);
    a.commit()?;
    Ok(())
}

pub async fn delete_group(_: Arc<Iam>, ctx: RequestContext, i: DeleteGroupRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let group = a.group(&i.group_name)?;
    if !group.members.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must remove users from group first."));
    }
    if !group.common.inline.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    if !group.common.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
    }
    a.groups.remove(&key(&i.group_name));
    a.commit()?;
    Ok(())
}

pub async fn list_groups(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListGroupsRequest,
) -> Result<ListGroupsResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let items = a.groups.iter().filter(|(_, g)| g.path.starts_with(prefix)).map(|(k, g)| (k.clone(), a.group_out(g)));
    let (groups, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListGroupsResponse { groups, is_truncated: Some(marker.is_some()), marker })
}

pub async fn add_user_to_group(_: Arc<Iam>, ctx: RequestContext, i: AddUserToGroupRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let user_key = key(&a.user(&i.user_name)?.name);
    a.group(&i.group_name)?;
    if a.groups.values().filter(|g| g.members.contains(&user_key)).count() >= GROUPS_PER_USER {
        return Err(limit_exceeded(format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")));
    }
    let group = a.groups.get_mut(&key(&i.group_name)).expect("checked above");
    if !group.members.contains(&user_key) {
        group.members.push(user_key);
    }
    a.commit()?;
    Ok(())
}

pub async fn remove_user_from_group(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: RemoveUserFromGroupRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    a.user(&i.user_name)?;
    let user_key = key(&i.user_name);
    let group =
        a.groups.get_mut(&key(&i.group_name)).ok_or_else(|| state::not_found(Principal::Group, &i.group_name))?;
    group.members.retain(|m| *m != user_key);
    a.commit()?;
    Ok(())
}

pub async fn list_groups_for_user(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListGroupsForUserRequest,
) -> Result<ListGroupsForUserResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    a.user(&i.user_name)?;
    let user_key = key(&i.user_name);
    let items =
        a.groups.iter().filter(|(_, g)| g.members.contains(&user_key)).map(|(k, g)| (k.clone(), a.group_out(g)));
    let (groups, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListGroupsForUserResponse { groups, is_truncated: Some(marker.is_some()), marker })
}
