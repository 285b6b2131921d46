//! Roles (trust policy, session duration, description, path) and service-linked roles.

use crate::errors::{already_exists, delete_conflict, invalid_input, unmodifiable};
use crate::generated::types::*;
use crate::ids;
use crate::paging::page;
use crate::policy_doc::{self, Kind};
use crate::state::{self, Common, key};
use crate::{Iam, account};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const DEFAULT_MAX_SESSION: i32 = 3600;

pub async fn create_role(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateRoleRequest,
) -> Result<CreateRoleResponse, AwsError> {
    let trust = policy_doc::validate(&i.assume_role_policy_document, Kind::Trust)?;
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.roles.contains_key(&key(&i.role_name)) {
        return Err(already_exists(format!("Role with name {} already exists.", i.role_name)));
    }
    state::check_boundary(&a, i.permissions_boundary.as_deref())?;
    let mut common = Common::default();
    crate::tags::apply(&mut common.tags, i.tags.unwrap_or_default())?;
    let role = state::Role {
        name: i.role_name.clone(),
        path: i.path.unwrap_or_else(|| "/".to_owned()),
        id: ids::unique_id("AROA"),
        created: ids::now(),
        trust,
        description: i.description,
        max_session: i.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION),
        boundary: i.permissions_boundary,
        service_linked: false,
        common,
    };
    let mut out = a.role_out(&role, true);
    out.role_last_used = None;
    a.roles.insert(key(&i.role_name), role);
    a.commit()?;
    Ok(CreateRoleResponse { role: out })
}

pub async fn get_role(_: Arc<Iam>, ctx: RequestContext, i: GetRoleRequest) -> Result<GetRoleResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    Ok(GetRoleResponse { role: a.role_out(a.role(&i.role_name)?, true) })
}

/// The role, refusing changes to service-linked roles as AWS does.
fn modifiable<'a>(a: &'a mut state::Account, name: &str) -> Result<&'a mut state::Role, AwsError> {
    let role = a.role_mut(name)?;
    if role.service_linked {
        return Err(unmodifiable(&role.name));
    }
    Ok(role)
}

pub async fn update_role(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateRoleRequest,
) -> Result<UpdateRoleResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let role = modifiable(&mut a, &i.role_name)?;
    if let Some(d) = i.description {
        role.description = Some(d);
    }
    if let Some(m) = i.max_session_duration {
        role.max_session = m;
    }
    a.commit()?;
    Ok(UpdateRoleResponse {})
}

pub async fn update_role_description(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateRoleDescriptionRequest,
) -> Result<UpdateRoleDescriptionResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    modifiable(&mut a, &i.role_name)?.description = Some(i.description);
    a.commit()?;
    let role = a.role(&i.role_name)?;
    Ok(UpdateRoleDescriptionResponse { role: Some(a.role_out(role, true)) })
}

pub async fn update_assume_role_policy(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: UpdateAssumeRolePolicyRequest,
) -> Result<(), AwsError> {
    let trust = policy_doc::validate(&i.policy_document, Kind::Trust)?;
    let a = account(&ctx);
    let mut a = state::write(&a);
    modifiable(&mut a, &i.role_name)?.trust = trust;
    a.commit()?;
    Ok(())
}

/// AWS refuses to delete a role still in use; the checks run in AWS's order.
fn check_deletable(a: &state::Account, role: &state::Role) -> Result<(), AwsError> {
    let k = key(&role.name);
    if a.profiles.values().any(|p| p.roles.contains(&k)) {
        return Err(delete_conflict("Cannot delete entity, must remove roles from instance profile first."));
    }
    if !role.common.inline.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must delete policies first."));
    }
    if !role.common.attached.is_empty() {
        return Err(delete_conflict("Cannot delete entity, must detach all policies first."));
    }
    Ok(())
}

pub async fn delete_role(_: Arc<Iam>, ctx: RequestContext, i: DeleteRoleRequest) -> Result<(), AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let role = a.role(&i.role_name)?;
    if role.service_linked {
        return Err(unmodifiable(&role.name));
    }
    check_deletable(&a, role)?;
    a.roles.remove(&key(&i.role_name));
    a.commit()?;
    Ok(())
}

pub async fn list_roles(_: Arc<Iam>, ctx: RequestContext, i: ListRolesRequest) -> Result<ListRolesResponse, AwsError> {
    let a = account(&ctx);
    let a = a.read();
    let prefix = i.path_prefix.as_deref().unwrap_or("/");
    let items =
        a.roles.iter().filter(|(_, r)| r.path.starts_with(prefix)).map(|(k, r)| (k.clone(), a.role_out(r, false)));
    let (roles, marker) = page(items, i.marker.as_deref(), i.max_items);
    Ok(ListRolesResponse { roles, is_truncated: Some(marker.is_some()), marker })
}

/// The role name AWS gives a service's linked role (`AWSServiceRoleForAutoScaling`, …).
fn service_role_name(service: &str) -> String {
    let prefix = service.split('.').next().unwrap_or(service);
    let known = match prefix {
        "autoscaling" => Some("AutoScaling"),
        "ecs" => Some("ECS"),
        "elasticloadbalancing" => Some("ElasticLoadBalancing"),
        "rds" => Some("RDS"),
        "elasticbeanstalk" => Some("ElasticBeanstalk"),
        "spot" => Some("EC2Spot"),
        "es" | "opensearchservice" => Some("AmazonOpenSearchService"),
        "eks" => Some("AmazonEKS"),
        "lambda" => Some("Lambda"),
        "organizations" => Some("Organizations"),
        "support" => Some("Support"),
        "trustedadvisor" => Some("TrustedAdvisor"),
        _ => None,
    };
    let suffix = known.map(str::to_owned).unwrap_or_else(|| {
        prefix
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect()
    });
    format!("AWSServiceRoleFor{suffix}")
}

pub async fn create_service_linked_role(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: CreateServiceLinkedRoleRequest,
) -> Result<CreateServiceLinkedRoleResponse, AwsError> {
    let service = i.aws_service_name;
    if !service.ends_with(".amazonaws.com") {
        return Err(invalid_input(format!("Invalid service name: {service}")));
    }
    let mut name = service_role_name(&service);
    if let Some(suffix) = &i.custom_suffix {
        name = format!("{name}_{suffix}");
    }
    let a = account(&ctx);
    let mut a = state::write(&a);
    if a.roles.contains_key(&key(&name)) {
        return Err(invalid_input(format!(
            "Service role name {name} has been taken in this account, please try a different suffix."
        )));
    }
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":["{service}"]}},"Action":["sts:AssumeRole"]}}]}}"#
    );
    let role = state::Role {
        name: name.clone(),
        path: format!("/aws-service-role/{service}/"),
        id: ids::unique_id("AROA"),
        created: ids::now(),
        trust,
        description: i.description,
        max_session: DEFAULT_MAX_SESSION,
        boundary: None,
        service_linked: true,
        common: Common::default(),
    };
    let mut out = a.role_out(&role, false);
    out.role_last_used = None;
    a.roles.insert(key(&name), role);
    a.commit()?;
    Ok(CreateServiceLinkedRoleResponse { role: Some(out) })
}

pub async fn delete_service_linked_role(
    _: Arc<Iam>,
    ctx: RequestContext,
    i: DeleteServiceLinkedRoleRequest,
) -> Result<DeleteServiceLinkedRoleResponse, AwsError> {
    let a = account(&ctx);
    let mut a = state::write(&a);
    let role = a.role(&i.role_name)?;
    if !role.service_linked {
        return Err(invalid_input(format!("{} is not a service-linked role.", role.name)));
    }
    check_deletable(&a, role)?;
    // Deletion finishes at once here; the task id records the role's path and name as AWS's does.
    let task = format!(
        "task{}{}/{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        role.path,
        role.name,
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u16(..0x1000),
        fastrand::u16(..0x1000),
        fastrand::u64(..1 << 48)
    );
    a.roles.remove(&key(&i.role_name));
    a.commit()?;
    Ok(DeleteServiceLinkedRoleResponse { deletion_task_id: task })
}

pub async fn get_service_linked_role_deletion_status(
    _: Arc<Iam>,
    _: RequestContext,
    i: GetServiceLinkedRoleDeletionStatusRequest,
) -> Result<GetServiceLinkedRoleDeletionStatusResponse, AwsError> {
    if !i.deletion_task_id.starts_with("task/aws-service-role/") {
        return Err(invalid_input(format!("Invalid deletion task id: {}", i.deletion_task_id)));
    }
    Ok(GetServiceLinkedRoleDeletionStatusResponse { status: "SUCCEEDED".to_owned(), reason: None })
}

#[cfg(test)]
mod tests {
    #[test]
    fn service_role_names() {
        assert_eq!(super::service_role_name("autoscaling.amazonaws.com"), "AWSServiceRoleForAutoScaling");
        assert_eq!(super::service_role_name("custom-thing.amazonaws.com"), "AWSServiceRoleForCustomThing");
    }
}
