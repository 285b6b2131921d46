//! What IAM keeps. IAM is global: state is per account only, in one process-wide directory that
//! STS reads too (AssumeRole needs the role). Names are unique case-insensitively, so maps are
//! keyed by the lowercase name (which also gives AWS's case-insensitive listing order).
//!
//! The directory is a cache of the kv store (see [`crate::persist`]): an account is read from the
//! store on its first use, and changes go through [`write`] / [`mutate`], which store them before
//! the handler answers.

use crate::errors::no_such_entity;
use crate::generated::types as t;
use crate::persist::{self, millis};
use parking_lot::{RwLock, RwLockWriteGuard};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

/// Every account's IAM state.
#[derive(Default)]
pub struct Directory {
    accounts: RwLock<HashMap<String, Arc<RwLock<Account>>>>,
}

pub static DIRECTORY: LazyLock<Directory> = LazyLock::new(Directory::default);

impl Directory {
    /// The account's state: read from the store on first use, or empty when it has none.
    pub fn account(&self, id: &str) -> Arc<RwLock<Account>> {
        if let Some(a) = self.accounts.read().get(id) {
            return a.clone();
        }
        let loaded = persist::load(&persist::current(), id).unwrap_or_else(|| Account::empty(id));
        self.cache(id, loaded)
    }

    /// The account's state if it has any, in memory or in the store.
    pub fn existing(&self, id: &str) -> Option<Arc<RwLock<Account>>> {
        if let Some(a) = self.accounts.read().get(id) {
            return Some(a.clone());
        }
        let loaded = persist::load(&persist::current(), id)?;
        Some(self.cache(id, loaded))
    }

    /// Caches a loaded account, unless another request cached it first.
    fn cache(&self, id: &str, loaded: Account) -> Arc<RwLock<Account>> {
        self.accounts.write().entry(id.to_owned()).or_insert_with(|| Arc::new(RwLock::new(loaded))).clone()
    }

    pub fn clear(&self) {
        self.accounts.write().clear();
    }
}

/// Lowercase map key of an IAM name.
pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Write access to an account: changes made through it are stored when it is committed (or,
/// failing that, when it is dropped: a handler's error path still leaves store and cache alike).
pub struct AccountWrite<'a> {
    guard: RwLockWriteGuard<'a, Account>,
    committed: bool,
}

/// Locks `account` for a change.
pub fn write(account: &Arc<RwLock<Account>>) -> AccountWrite<'_> {
    AccountWrite { guard: account.write(), committed: false }
}

/// Runs `f` on the caller's account and stores what it changed before answering.
pub fn mutate<T>(ctx: &RequestContext, f: impl FnOnce(&mut Account) -> Result<T, AwsError>) -> Result<T, AwsError> {
    let account = DIRECTORY.account(&ctx.account_id);
    let mut a = write(&account);
    let out = f(&mut a);
    a.commit()?;
    out
}

impl AccountWrite<'_> {
    /// Stores the changes; `InternalFailure` when the store refuses them (the change is undone).
    pub fn commit(&mut self) -> Result<(), AwsError> {
        self.committed = true;
        persist::commit(&mut self.guard)
    }
}

impl Drop for AccountWrite<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = persist::commit(&mut self.guard);
        }
    }
}

impl std::ops::Deref for AccountWrite<'_> {
    type Target = Account;

    fn deref(&self) -> &Account {
        &self.guard
    }
}

impl std::ops::DerefMut for AccountWrite<'_> {
    fn deref_mut(&mut self) -> &mut Account {
        &mut self.guard
    }
}

/// What users, groups and roles share: inline policies, attached managed policies and tags.
#[derive(Default, Debug, Clone, Serialize, Deserialize)]
pub struct Common {
    /// Inline policy name → document.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs, in attachment order.
    pub attached: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub active: bool,
    #[serde(with = "millis")]
    pub created: Timestamp,
}

/// An X.509 signing certificate as uploaded (the PEM text is what AWS hands back).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningCert {
    pub id: String,
    pub body: String,
    pub active: bool,
    #[serde(with = "millis")]
    pub uploaded: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub path: String,
    pub id: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
    pub boundary: Option<String>,
    pub common: Common,
    pub keys: Vec<AccessKey>,
    #[serde(default)]
    pub certs: Vec<SigningCert>,
    #[serde(default)]
    pub login: Option<LoginProfile>,
    #[serde(default)]
    pub ssh_keys: Vec<SshKey>,
    /// Serial numbers of the MFA devices enabled for the user, with when.
    #[serde(default)]
    pub mfa: Vec<(String, i64)>,
}

/// A user's console password (kept only to say whether one exists; never checked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginProfile {
    #[serde(with = "millis")]
    pub created: Timestamp,
    pub reset_required: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SshKey {
    pub id: String,
    pub body: String,
    pub fingerprint: String,
    pub active: bool,
    #[serde(with = "millis")]
    pub uploaded: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcProvider {
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    #[serde(with = "millis")]
    pub created: Timestamp,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamlProvider {
    pub name: String,
    pub document: String,
    pub uuid: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
    #[serde(with = "millis")]
    pub valid_until: Timestamp,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerCert {
    pub name: String,
    pub path: String,
    pub id: String,
    pub body: String,
    pub chain: Option<String>,
    #[serde(with = "millis")]
    pub uploaded: Timestamp,
    pub expiration: Option<i64>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VirtualMfa {
    pub serial: String,
    /// The base32 secret as AWS hands it out once.
    pub seed: String,
    /// The user key it is enabled for, and when.
    pub user: Option<(String, i64)>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CredentialReport {
    #[serde(with = "millis")]
    pub generated: Timestamp,
    pub csv: String,
}

/// The account's password policy as set (None: the fields left out of the request).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PasswordPolicy {
    pub min_length: i32,
    pub symbols: bool,
    pub numbers: bool,
    pub uppercase: bool,
    pub lowercase: bool,
    pub users_can_change: bool,
    pub max_age: Option<i32>,
    pub reuse_prevention: Option<i32>,
    pub hard_expiry: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub path: String,
    pub id: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
    pub common: Common,
    /// Member user keys.
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
    pub trust: String,
    pub description: Option<String>,
    pub max_session: i32,
    pub boundary: Option<String>,
    pub service_linked: bool,
    pub common: Common,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub description: Option<String>,
    #[serde(with = "millis")]
    pub created: Timestamp,
    #[serde(with = "millis")]
    pub updated: Timestamp,
    /// Oldest first.
    pub versions: Vec<PolicyVersion>,
    pub default_version: String,
    /// Version numbers are never reused.
    pub next_version: u32,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    pub id: String,
    #[serde(with = "millis")]
    pub created: Timestamp,
    /// Role keys.
    pub roles: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Default)]
pub struct Account {
    pub id: String,
    /// When the account was first used: the root user's CreateDate.
    pub created: Timestamp,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub roles: BTreeMap<String, Role>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    pub profiles: BTreeMap<String, InstanceProfile>,
    /// Keys created by the root user for itself.
    pub root_keys: Vec<AccessKey>,
    /// Signing certificates of the root user.
    pub root_certs: Vec<SigningCert>,
    /// OpenID Connect providers by ARN.
    pub oidc: BTreeMap<String, OidcProvider>,
    /// SAML providers by ARN.
    pub saml: BTreeMap<String, SamlProvider>,
    /// Server certificates by lowercase name.
    pub server_certs: BTreeMap<String, ServerCert>,
    /// Virtual MFA devices by serial number (ARN).
    pub mfa_devices: BTreeMap<String, VirtualMfa>,
    pub password_policy: Option<PasswordPolicy>,
    /// The last credential report GenerateCredentialReport made.
    pub report: Option<CredentialReport>,
    /// What the store holds for this account.
    pub stamps: persist::Stamps,
}

/// The three kinds of principal that hold policies.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Principal {
    User,
    Group,
    Role,
}

impl Principal {
    pub fn noun(self) -> &'static str {
        match self {
            Principal::User => "user",
            Principal::Group => "group",
            Principal::Role => "role",
        }
    }
}

impl Account {
    /// An account without IAM state, first used now.
    pub fn empty(id: &str) -> Self {
        Account { id: id.to_owned(), created: crate::ids::now(), ..Default::default() }
    }

    pub fn arn(&self, kind: &str, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:{kind}{path}{name}", self.id)
    }

    pub fn user(&self, name: &str) -> Result<&User, AwsError> {
        self.users.get(&key(name)).ok_or_else(|| not_found(Principal::User, name))
    }

    pub fn user_mut(&mut self, name: &str) -> Result<&mut User, AwsError> {
        self.users.get_mut(&key(name)).ok_or_else(|| not_found(Principal::User, name))
    }

    pub fn group(&self, name: &str) -> Result<&Group, AwsError> {
        self.groups.get(&key(name)).ok_or_else(|| not_found(Principal::Group, name))
    }

    pub fn role(&self, name: &str) -> Result<&Role, AwsError> {
        self.roles.get(&key(name)).ok_or_else(|| not_found(Principal::Role, name))
    }

    pub fn role_mut(&mut self, name: &str) -> Result<&mut Role, AwsError> {
        self.roles.get_mut(&key(name)).ok_or_else(|| not_found(Principal::Role, name))
    }

    pub fn profile(&self, name: &str) -> Result<&InstanceProfile, AwsError> {
        self.profiles.get(&key(name)).ok_or_else(|| no_such_entity(format!("Instance Profile {name} cannot be found.")))
    }

    pub fn profile_mut(&mut self, name: &str) -> Result<&mut InstanceProfile, AwsError> {
        self.profiles
            .get_mut(&key(name))
            .ok_or_else(|| no_such_entity(format!("Instance Profile {name} cannot be found.")))
    }

    pub fn common(&self, kind: Principal, name: &str) -> Result<&Common, AwsError> {
        let k = key(name);
        let found = match kind {
            Principal::User => self.users.get(&k).map(|u| &u.common),
            Principal::Group => self.groups.get(&k).map(|g| &g.common),
            Principal::Role => self.roles.get(&k).map(|r| &r.common),
        };
        found.ok_or_else(|| not_found(kind, name))
    }

    pub fn common_mut(&mut self, kind: Principal, name: &str) -> Result<&mut Common, AwsError> {
        let k = key(name);
        let found = match kind {
            Principal::User => self.users.get_mut(&k).map(|u| &mut u.common),
            Principal::Group => self.groups.get_mut(&k).map(|g| &mut g.common),
            Principal::Role => self.roles.get_mut(&k).map(|r| &mut r.common),
        };
        found.ok_or_else(|| not_found(kind, name))
    }

    /// How many users, groups and roles have `arn` attached.
    pub fn attachment_count(&self, arn: &str) -> i32 {
        let has = |c: &Common| c.attached.iter().any(|a| a == arn);
        (self.users.values().filter(|u| has(&u.common)).count()
            + self.groups.values().filter(|g| has(&g.common)).count()
            + self.roles.values().filter(|r| has(&r.common)).count()) as i32
    }

    /// How many users and roles use `arn` as their permissions boundary.
    pub fn boundary_count(&self, arn: &str) -> i32 {
        let is = |b: &Option<String>| b.as_deref() == Some(arn);
        (self.users.values().filter(|u| is(&u.boundary)).count()
            + self.roles.values().filter(|r| is(&r.boundary)).count()) as i32
    }

    /// A user as Create/GetUser show it (`full`), or as listings do: without the permissions
    /// boundary and tags.
    pub fn user_out(&self, u: &User, full: bool) -> t::User {
        t::User {
            path: u.path.clone(),
            user_name: u.name.clone(),
            user_id: u.id.clone(),
            arn: self.arn("user", &u.path, &u.name),
            create_date: u.created,
            password_last_used: None,
            permissions_boundary: full.then(|| boundary_out(&u.boundary)).flatten(),
            tags: (full && !u.common.tags.is_empty()).then(|| tags_out(&u.common.tags)),
        }
    }

    pub fn group_out(&self, g: &Group) -> t::Group {
        t::Group {
            path: g.path.clone(),
            group_name: g.name.clone(),
            group_id: g.id.clone(),
            arn: self.arn("group", &g.path, &g.name),
            create_date: g.created,
        }
    }

    /// A role as Create/GetRole show it (`full`), or as listings do: without the permissions
    /// boundary, tags and last use.
    pub fn role_out(&self, r: &Role, full: bool) -> t::Role {
        t::Role {
            path: r.path.clone(),
            role_name: r.name.clone(),
            role_id: r.id.clone(),
            arn: self.arn("role", &r.path, &r.name),
            create_date: r.created,
            assume_role_policy_document: Some(crate::policy_doc::encode(&r.trust)),
            description: r.description.clone(),
            max_session_duration: Some(r.max_session),
            permissions_boundary: full.then(|| boundary_out(&r.boundary)).flatten(),
            tags: (full && !r.common.tags.is_empty()).then(|| tags_out(&r.common.tags)),
            role_last_used: full.then(t::RoleLastUsed::default),
            ..Default::default()
        }
    }

    pub fn profile_out(&self, p: &InstanceProfile) -> t::InstanceProfile {
        t::InstanceProfile {
            path: p.path.clone(),
            instance_profile_name: p.name.clone(),
            instance_profile_id: p.id.clone(),
            arn: self.arn("instance-profile", &p.path, &p.name),
            create_date: p.created,
            roles: p.roles.iter().filter_map(|k| self.roles.get(k)).map(|r| self.role_out(r, false)).collect(),
            tags: (!p.tags.is_empty()).then(|| tags_out(&p.tags)),
        }
    }
}

/// A permissions boundary must name a managed policy that exists (customer or AWS managed).
pub fn check_boundary(a: &Account, arn: Option<&str>) -> Result<(), AwsError> {
    match arn {
        Some(arn) if !a.policies.contains_key(arn) && crate::aws_managed::find(arn).is_none() => {
            Err(no_such_entity(format!("Scope ARN: {arn} does not exist or is not attachable.")))
        }
        _ => Ok(()),
    }
}

pub fn not_found(kind: Principal, name: &str) -> AwsError {
    no_such_entity(format!("The {} with name {name} cannot be found.", kind.noun()))
}

fn boundary_out(arn: &Option<String>) -> Option<t::AttachedPermissionsBoundary> {
    arn.as_ref().map(|a| t::AttachedPermissionsBoundary {
        permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_owned()),
        permissions_boundary_arn: Some(a.clone()),
    })
}

pub fn tags_out(tags: &[(String, String)]) -> Vec<t::Tag> {
    tags.iter().map(|(k, v)| t::Tag { key: k.clone(), value: v.clone() }).collect()
}

/// What STS needs of a role to assume it.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    pub arn: String,
    pub id: String,
    pub name: String,
    pub max_session_duration: i32,
}

/// Looks a role up by ARN (`arn:aws:iam::<account>:role/<path/>name`) in the role's account.
pub fn find_role(arn: &str) -> Option<RoleInfo> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    let account = DIRECTORY.existing(account)?;
    let account = account.read();
    let role = account.roles.get(&key(name))?;
    Some(RoleInfo {
        arn: account.arn("role", &role.path, &role.name),
        id: role.id.clone(),
        name: role.name.clone(),
        max_session_duration: role.max_session,
    })
}
