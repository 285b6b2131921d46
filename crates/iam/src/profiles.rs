//! Instance profiles: one role each at most.

use crate::errors::{already_exists, delete_conflict, limit_exceeded, no_such_entity};
use crate::generated::types::*;
use crate::ids;
use crate::paging::page;
use crate::state::{self, key};
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

pub async fn create_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateInstanceProfileRequest,
) -> Result<CreateInstanceProfileResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.profiles.contains_key(&key(&i.instance_profile_name)) {
        return Err(already_exists(format!("Instance Profile {} already exists.", i.instance_profile_name)));
    }
    let mut tags = Vec::new();
    crate::tags::apply(&mut tags, i.tags.unwrap_or_default())?;
    let profile = state::InstanceProfile {
        name: i.instance_profile_name.clone(),
        path: i.path.unwrap_or_else(|| "/".to_owned()),
        id: ids::unique_id("AIPA"),
        created: ids::now(),
        roles: Vec::new(),
        tags,
    };
    let out = a.profile_out(&profile);
    a.profiles.insert(key(&i.instance_profile_name), profile);
    a.commit()?;
    Ok(CreateInstanceProfileResponse { instance_profile: out })
}

pub async fn get_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: GetInstanceProfileRequest,
) -> Result<GetInstanceProfileResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    Ok(GetInstanceProfileResponse { instance_profile: a.profile_out(a.profile(&i.instance_profile_name)?) })
}

pub async fn delete_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteInstanceProfileRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    if !a.profile(&i.instance_profile_name)?.roles.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must remove roles from instance profile first."));
    }
    a.profiles.remove(&key(&i.instance_profile_name));
    a.commit()?;
    Ok(())
}

pub async fn list_instance_profiles(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListInstanceProfilesRequest,
) -> Result<ListInstanceProfilesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let items =
        a.profiles.iter().filter(|(_, p)| p.path.starts_with(prefix)).map(|(k, p)| (k.clone(), a.profile_out(p)));
    let (instance_profiles, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListInstanceProfilesResponse { instance_profiles, is_truncated: Some(marker.is_some()), marker })
}

pub async fn add_role_to_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: AddRoleToInstanceProfileRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let role_key = key(&a.role(&i.role_name)?.name);
    let profile = a.profile_mut(&i.instance_profile_name)?;
    // One role per profile: adding it again, or a second one, exceeds the quota.
    if !profile.roles.is_empty() {
        return Err(limit_exceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"));
    }
    profile.roles.push(role_key);
    a.commit()?;
    Ok(())
}

pub async fn remove_role_from_instance_profile(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: RemoveRoleFromInstanceProfileRequest,
) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    a.role(&i.role_name)?;
    let role_key = key(&i.role_name);
    let name = i.instance_profile_name;
    let profile = a.profile_mut(&name)?;
    if !profile.roles.contains(&role_key) {
        return Err(no_such_entity(format!("Role {} in Instance Profile {name} cannot be found.", i.role_name)));
    }
    profile.roles.retain(|r| *r != role_key);
    a.commit()?;
    Ok(())
}

pub async fn list_instance_profiles_for_role(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: ListInstanceProfilesForRoleRequest,
) -> Result<ListInstanceProfilesForRoleResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    a.role(&i.role_name)?;
    let role_key = key(&i.role_name);
    let items =
        a.profiles.iter().filter(|(_, p)| p.roles.contains(&role_key)).map(|(k, p)| (k.clone(), a.profile_out(p)));
    let (instance_profiles, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListInstanceProfilesForRoleResponse { instance_profiles, is_truncated: Some(marker.is_some()), marker })
}
