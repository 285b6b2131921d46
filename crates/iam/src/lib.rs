//! AWS Identity and Access Management for RustStack: users, groups, roles, managed and inline
//! policies, instance profiles, access keys, signing certificates and tags. IAM is global: state
//! is per account, not per region, and access keys it creates are shared with the gateway.
//!
//! State lives in the kv store given to [`service`] (memory, or the `--data-dir`): each account is
//! read on first use and every change is stored before the answer (see `persist`). Active access
//! keys are also kept in one small tree that [`service`] reads at startup, so keys created before
//! a restart sign requests before any IAM call.

pub mod generated;

mod aws_managed;
mod certs;
mod errors;
mod ids;
mod inline;
mod keys;
mod managed;
mod mfa;
mod paging;
mod passwords;
mod persist;
mod policy_doc;
mod profiles;
mod providers;
mod report;
mod roles;
mod server_certs;
mod ssh_keys;
mod state;
mod tags;
mod users;

use generated::ops;
use parking_lot::RwLock;
use ruststack_core::identity::Credentials;
use ruststack_core::store::Storage;
use ruststack_core::{Handlers, RequestContext, Service};
use std::sync::Arc;

pub use state::{RoleInfo, find_role};

/// Handler state. The IAM entities live in [`state::DIRECTORY`], stored through
/// [`persist::BACKING`], which also holds the gateway's key registry.
pub struct Iam;

impl ruststack_core::ServiceState for Iam {
    fn reset(&self) {
        state::DIRECTORY.clear();
    }
}

/// The caller's account.
fn account(ctx: &RequestContext) -> Arc<RwLock<state::Account>> {
    state::DIRECTORY.account(&ctx.account_id)
}

/// The IAM service with its handler table, keeping its state in `storage`; access keys go into
/// `credentials`, which learns every stored key here.
pub fn service(credentials: Credentials, storage: Storage) -> Arc<dyn Service> {
    let backing = persist::Backing { kv: storage.kv, credentials };
    persist::register_all_keys(&backing);
    *persist::BACKING.write() = Arc::new(backing);
    state::DIRECTORY.clear();
    Handlers::new(&generated::MODEL, Arc::new(Iam))
        // users and groups
        .on(ops::CreateUser, users::create_user)
        .on(ops::GetUser, users::get_user)
        .on(ops::UpdateUser, users::update_user)
        .on(ops::DeleteUser, users::delete_user)
        .on(ops::ListUsers, users::list_users)
        .on(ops::CreateGroup, users::create_group)
        .on(ops::GetGroup, users::get_group)
        .on(ops::UpdateGroup, users::update_group)
        .on(ops::DeleteGroup, users::delete_group)
        .on(ops::ListGroups, users::list_groups)
        .on(ops::AddUserToGroup, users::add_user_to_group)
        .on(ops::RemoveUserFromGroup, users::remove_user_from_group)
        .on(ops::ListGroupsForUser, users::list_groups_for_user)
        // roles
        .on(ops::CreateRole, roles::create_role)
        .on(ops::GetRole, roles::get_role)
        .on(ops::UpdateRole, roles::update_role)
        .on(ops::UpdateRoleDescription, roles::update_role_description)
        .on(ops::UpdateAssumeRolePolicy, roles::update_assume_role_policy)
        .on(ops::DeleteRole, roles::delete_role)
        .on(ops::ListRoles, roles::list_roles)
        .on(ops::CreateServiceLinkedRole, roles::create_service_linked_role)
        .on(ops::DeleteServiceLinkedRole, roles::delete_service_linked_role)
        .on(ops::GetServiceLinkedRoleDeletionStatus, roles::get_service_linked_role_deletion_status)
        // managed policies
        .on(ops::CreatePolicy, managed::create_policy)
        .on(ops::GetPolicy, managed::get_policy)
        .on(ops::DeletePolicy, managed::delete_policy)
        .on(ops::ListPolicies, managed::list_policies)
        .on(ops::CreatePolicyVersion, managed::create_policy_version)
        .on(ops::GetPolicyVersion, managed::get_policy_version)
        .on(ops::DeletePolicyVersion, managed::delete_policy_version)
        .on(ops::ListPolicyVersions, managed::list_policy_versions)
        .on(ops::SetDefaultPolicyVersion, managed::set_default_policy_version)
        .on(ops::AttachUserPolicy, managed::attach_user_policy)
        .on(ops::DetachUserPolicy, managed::detach_user_policy)
        .on(ops::ListAttachedUserPolicies, managed::list_attached_user_policies)
        .on(ops::AttachGroupPolicy, managed::attach_group_policy)
        .on(ops::DetachGroupPolicy, managed::detach_group_policy)
        .on(ops::ListAttachedGroupPolicies, managed::list_attached_group_policies)
        .on(ops::AttachRolePolicy, managed::attach_role_policy)
        .on(ops::DetachRolePolicy, managed::detach_role_policy)
        .on(ops::ListAttachedRolePolicies, managed::list_attached_role_policies)
        .on(ops::ListEntitiesForPolicy, managed::list_entities_for_policy)
        // inline policies
        .on(ops::PutUserPolicy, inline::put_user_policy)
        .on(ops::GetUserPolicy, inline::get_user_policy)
        .on(ops::DeleteUserPolicy, inline::delete_user_policy)
        .on(ops::ListUserPolicies, inline::list_user_policies)
        .on(ops::PutGroupPolicy, inline::put_group_policy)
        .on(ops::GetGroupPolicy, inline::get_group_policy)
        .on(ops::DeleteGroupPolicy, inline::delete_group_policy)
        .on(ops::ListGroupPolicies, inline::list_group_policies)
        .on(ops::PutRolePolicy, inline::put_role_policy)
        .on(ops::GetRolePolicy, inline::get_role_policy)
        .on(ops::DeleteRolePolicy, inline::delete_role_policy)
        .on(ops::ListRolePolicies, inline::list_role_policies)
        // instance profiles
        .on(ops::CreateInstanceProfile, profiles::create_instance_profile)
        .on(ops::GetInstanceProfile, profiles::get_instance_profile)
        .on(ops::DeleteInstanceProfile, profiles::delete_instance_profile)
        .on(ops::ListInstanceProfiles, profiles::list_instance_profiles)
        .on(ops::AddRoleToInstanceProfile, profiles::add_role_to_instance_profile)
        .on(ops::RemoveRoleFromInstanceProfile, profiles::remove_role_from_instance_profile)
        .on(ops::ListInstanceProfilesForRole, profiles::list_instance_profiles_for_role)
        // tags
        .on(ops::TagUser, tags::tag_user)
        .on(ops::UntagUser, tags::untag_user)
        .on(ops::ListUserTags, tags::list_user_tags)
        .on(ops::TagRole, tags::tag_role)
        .on(ops::UntagRole, tags::untag_role)
        .on(ops::ListRoleTags, tags::list_role_tags)
        .on(ops::TagPolicy, tags::tag_policy)
        .on(ops::UntagPolicy, tags::untag_policy)
        .on(ops::ListPolicyTags, tags::list_policy_tags)
        .on(ops::TagInstanceProfile, tags::tag_instance_profile)
        .on(ops::UntagInstanceProfile, tags::untag_instance_profile)
        .on(ops::ListInstanceProfileTags, tags::list_instance_profile_tags)
        // access keys and the account
        .on(ops::CreateAccessKey, keys::create_access_key)
        .on(ops::DeleteAccessKey, keys::delete_access_key)
        .on(ops::UpdateAccessKey, keys::update_access_key)
        .on(ops::ListAccessKeys, keys::list_access_keys)
        .on(ops::GetAccessKeyLastUsed, keys::get_access_key_last_used)
        .on(ops::GetAccountSummary, keys::get_account_summary)
        // signing certificates
        .on(ops::UploadSigningCertificate, certs::upload_signing_certificate)
        .on(ops::UpdateSigningCertificate, certs::update_signing_certificate)
        .on(ops::ListSigningCertificates, certs::list_signing_certificates)
        .on(ops::DeleteSigningCertificate, certs::delete_signing_certificate)
        // identity providers
        .on(ops::CreateOpenIDConnectProvider, providers::create_open_id_connect_provider)
        .on(ops::GetOpenIDConnectProvider, providers::get_open_id_connect_provider)
        .on(ops::ListOpenIDConnectProviders, providers::list_open_id_connect_providers)
        .on(ops::DeleteOpenIDConnectProvider, providers::delete_open_id_connect_provider)
        .on(ops::UpdateOpenIDConnectProviderThumbprint, providers::update_open_id_connect_provider_thumbprint)
        .on(ops::AddClientIDToOpenIDConnectProvider, providers::add_client_id_to_open_id_connect_provider)
        .on(ops::RemoveClientIDFromOpenIDConnectProvider, providers::remove_client_id_from_open_id_connect_provider)
        .on(ops::TagOpenIDConnectProvider, providers::tag_open_id_connect_provider)
        .on(ops::UntagOpenIDConnectProvider, providers::untag_open_id_connect_provider)
        .on(ops::ListOpenIDConnectProviderTags, providers::list_open_id_connect_provider_tags)
        .on(ops::CreateSAMLProvider, providers::create_saml_provider)
        .on(ops::GetSAMLProvider, providers::get_saml_provider)
        .on(ops::ListSAMLProviders, providers::list_saml_providers)
        .on(ops::UpdateSAMLProvider, providers::update_saml_provider)
        .on(ops::DeleteSAMLProvider, providers::delete_saml_provider)
        // passwords
        .on(ops::CreateLoginProfile, passwords::create_login_profile)
        .on(ops::GetLoginProfile, passwords::get_login_profile)
        .on(ops::UpdateLoginProfile, passwords::update_login_profile)
        .on(ops::DeleteLoginProfile, passwords::delete_login_profile)
        .on(ops::UpdateAccountPasswordPolicy, passwords::update_account_password_policy)
        .on(ops::GetAccountPasswordPolicy, passwords::get_account_password_policy)
        .on(ops::DeleteAccountPasswordPolicy, passwords::delete_account_password_policy)
        // MFA devices
        .on(ops::CreateVirtualMFADevice, mfa::create_virtual_mfa_device)
        .on(ops::ListVirtualMFADevices, mfa::list_virtual_mfa_devices)
        .on(ops::DeleteVirtualMFADevice, mfa::delete_virtual_mfa_device)
        .on(ops::EnableMFADevice, mfa::enable_mfa_device)
        .on(ops::DeactivateMFADevice, mfa::deactivate_mfa_device)
        .on(ops::ListMFADevices, mfa::list_mfa_devices)
        // server certificates
        .on(ops::UploadServerCertificate, server_certs::upload_server_certificate)
        .on(ops::GetServerCertificate, server_certs::get_server_certificate)
        .on(ops::ListServerCertificates, server_certs::list_server_certificates)
        .on(ops::DeleteServerCertificate, server_certs::delete_server_certificate)
        // SSH public keys
        .on(ops::UploadSSHPublicKey, ssh_keys::upload_ssh_public_key)
        .on(ops::GetSSHPublicKey, ssh_keys::get_ssh_public_key)
        .on(ops::ListSSHPublicKeys, ssh_keys::list_ssh_public_keys)
        .on(ops::UpdateSSHPublicKey, ssh_keys::update_ssh_public_key)
        .on(ops::DeleteSSHPublicKey, ssh_keys::delete_ssh_public_key)
        // credential report
        .on(ops::GenerateCredentialReport, report::generate_credential_report)
        .on(ops::GetCredentialReport, report::get_credential_report)
        .into_service()
}
