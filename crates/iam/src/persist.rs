//! How IAM sits in the kv store (`--data-dir` or memory). IAM is global, so keys start with the
//! account alone:
//!
//! - `iam/accounts`: `account` → the account's own record (creation date, root access keys);
//! - `iam/users`, `iam/groups`, `iam/roles`, `iam/profiles`: `account \0 lowercase-name` → the
//!   entity as JSON; `iam/policies`: `account \0 policy-arn` → a customer managed policy;
//!   `iam/oidc-providers`, `iam/saml-providers`: `account \0 arn`; `iam/server-certificates`:
//!   `account \0 lowercase-name`; `iam/mfa-devices`: `account \0 serial` (virtual devices);
//! - `iam/access-keys`: `access-key-id` → the identity an active key acts as. It repeats what the
//!   users hold, so that the gateway can know every key at startup by reading one small tree,
//!   before any IAM call loads an account.
//!
//! Handlers change the cached [`Account`] in place under its write lock; [`commit`] then stores
//! what changed as one batch, found by comparing each entry's hash with the hash of what the
//! store holds (kept in [`Stamps`]), and syncs the gateway's keys. A failed write reloads the
//! account from the store, so the cache never holds what the store does not.

use crate::state::{
    AccessKey, Account, CredentialReport, Group, InstanceProfile, ManagedPolicy, OidcProvider, PasswordPolicy, Role,
    SamlProvider, ServerCert, SigningCert, User, VirtualMfa,
};
use parking_lot::RwLock;
use ruststack_core::identity::{Credentials, Identity};
use ruststack_core::store::{KvStore, MemoryStore, Write, prefix_end};
use ruststack_core::{AwsError, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Bound;
use std::sync::{Arc, LazyLock};

/// The trees, in the order of [`Stamps`]' maps.
const TREES: [&str; N_TREES] = [
    "iam/accounts",
    "iam/users",
    "iam/groups",
    "iam/roles",
    "iam/policies",
    "iam/profiles",
    "iam/access-keys",
    "iam/oidc-providers",
    "iam/saml-providers",
    "iam/server-certificates",
    "iam/mfa-devices",
];
const N_TREES: usize = 11;
const ACCOUNT: usize = 0;
const USERS: usize = 1;
const GROUPS: usize = 2;
const ROLES: usize = 3;
const POLICIES: usize = 4;
const PROFILES: usize = 5;
const ACCESS_KEYS: usize = 6;
const OIDC: usize = 7;
const SAML: usize = 8;
const SERVER_CERTS: usize = 9;
const MFA_DEVICES: usize = 10;

/// Where IAM state is stored and whom to tell about access keys; set by [`crate::service`].
pub struct Backing {
    pub kv: Arc<dyn KvStore>,
    pub credentials: Credentials,
}

pub static BACKING: LazyLock<RwLock<Arc<Backing>>> = LazyLock::new(|| {
    RwLock::new(Arc::new(Backing { kv: Arc::new(MemoryStore::default()), credentials: Credentials::default() }))
});

fn backing() -> Arc<Backing> {
    BACKING.read().clone()
}

/// Per tree, entity key → hash of the value the store holds for it.
#[derive(Default)]
pub struct Stamps {
    trees: [HashMap<String, u64>; N_TREES],
}

/// An account's own record.
#[derive(Serialize, Deserialize)]
struct AccountRecord {
    #[serde(with = "millis")]
    created: Timestamp,
    root_keys: Vec<AccessKey>,
    #[serde(default)]
    root_certs: Vec<SigningCert>,
    #[serde(default)]
    password_policy: Option<PasswordPolicy>,
    #[serde(default)]
    report: Option<CredentialReport>,
}

/// What an active access key acts as.
#[derive(Serialize, Deserialize)]
struct KeyRecord {
    account: String,
    arn: String,
    user_id: String,
    secret: String,
}

impl KeyRecord {
    fn identity(self) -> Identity {
        crate::users::user_identity(&self.account, &self.arn, &self.user_id, &self.secret)
    }
}

/// Timestamps stored as whole milliseconds, exactly.
pub mod millis {
    use ruststack_core::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.millis)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        Ok(Timestamp { millis: i64::deserialize(d)? })
    }
}

fn kv_key(tree: usize, account: &str, entity: &str) -> Vec<u8> {
    match tree {
        ACCOUNT => account.as_bytes().to_vec(),
        ACCESS_KEYS => entity.as_bytes().to_vec(),
        _ => {
            let mut key = Vec::with_capacity(account.len() + 1 + entity.len());
            key.extend_from_slice(account.as_bytes());
            key.push(0);
            key.extend_from_slice(entity.as_bytes());
            key
        }
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Calls `f(tree, entity key, value)` for every entry the account is stored as, serializing
/// each into one reused buffer.
fn for_each_entry(a: &Account, mut f: impl FnMut(usize, &str, &[u8])) {
    let mut buf = Vec::with_capacity(1024);
    let mut emit = |tree: usize, key: &str, value: &dyn erased::Encode, buf: &mut Vec<u8>| {
        buf.clear();
        if let Err(e) = value.encode(buf) {
            tracing::error!(tree = TREES[tree], key, error = %e, "cannot encode an IAM entity");
            return;
        }
        f(tree, key, buf);
    };
    let record = AccountRecord {
        created: a.created,
        root_keys: a.root_keys.clone(),
        root_certs: a.root_certs.clone(),
        password_policy: a.password_policy.clone(),
        report: a.report.clone(),
    };
    emit(ACCOUNT, "", &record, &mut buf);
    for (k, u) in &a.users {
        emit(USERS, k, u, &mut buf);
    }
    for (k, g) in &a.groups {
        emit(GROUPS, k, g, &mut buf);
    }
    for (k, r) in &a.roles {
        emit(ROLES, k, r, &mut buf);
    }
    for (k, p) in &a.policies {
        emit(POLICIES, k, p, &mut buf);
    }
    for (k, p) in &a.profiles {
        emit(PROFILES, k, p, &mut buf);
    }
    for (k, p) in &a.oidc {
        emit(OIDC, k, p, &mut buf);
    }
    for (k, p) in &a.saml {
        emit(SAML, k, p, &mut buf);
    }
    for (k, c) in &a.server_certs {
        emit(SERVER_CERTS, k, c, &mut buf);
    }
    for (k, d) in &a.mfa_devices {
        emit(MFA_DEVICES, k, d, &mut buf);
    }
    for (id, record) in key_records(a) {
        emit(ACCESS_KEYS, &id, &record, &mut buf);
    }
}

/// The active keys of the account's users and root, as the gateway knows them.
fn key_records(a: &Account) -> Vec<(String, KeyRecord)> {
    let mut out = Vec::new();
    let root = format!("arn:aws:iam::{}:root", a.id);
    for k in a.root_keys.iter().filter(|k| k.active) {
        let record =
            KeyRecord { account: a.id.clone(), arn: root.clone(), user_id: a.id.clone(), secret: k.secret.clone() };
        out.push((k.id.clone(), record));
    }
    for u in a.users.values() {
        for k in u.keys.iter().filter(|k| k.active) {
            let arn = a.arn("user", &u.path, &u.name);
            out.push((
                k.id.clone(),
                KeyRecord { account: a.id.clone(), arn, user_id: u.id.clone(), secret: k.secret.clone() },
            ));
        }
    }
    out
}

/// Serialization through a trait object, so one loop handles every entity type.
mod erased {
    pub trait Encode {
        fn encode(&self, buf: &mut Vec<u8>) -> serde_json::Result<()>;
    }

    impl<T: serde::Serialize> Encode for T {
        fn encode(&self, buf: &mut Vec<u8>) -> serde_json::Result<()> {
            serde_json::to_writer(buf, self)
        }
    }
}

/// Stores what changed in `a` since its last commit, as one batch, and tells the gateway about
/// keys that appeared, changed or went. On a store failure the account is reloaded from the
/// store (dropping the change) and the caller answers `InternalFailure`.
pub fn commit(a: &mut Account) -> Result<(), AwsError> {
    commit_to(&backing(), a)
}

fn commit_to(backing: &Backing, a: &mut Account) -> Result<(), AwsError> {
    let mut writes = Vec::new();
    let mut changed: Vec<(usize, String, u64)> = Vec::new();
    let mut key_puts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut unchanged = 0usize;
    for_each_entry(a, |tree, key, value| {
        let h = hash(value);
        if a.stamps.trees[tree].get(key) == Some(&h) {
            unchanged += 1;
            return;
        }
        writes.push(Write::Put { tree: TREES[tree].into(), key: kv_key(tree, &a.id, key), value: value.to_vec() });
        if tree == ACCESS_KEYS {
            key_puts.push((key.to_owned(), value.to_vec()));
        }
        changed.push((tree, key.to_owned(), h));
    });
    // Entries the store holds that the account no longer has (counted first: usually none).
    let stored: usize = a.stamps.trees.iter().map(HashMap::len).sum();
    let kept = unchanged + changed.iter().filter(|(t, k, _)| a.stamps.trees[*t].contains_key(k)).count();
    let mut gone: Vec<(usize, String)> = Vec::new();
    if kept < stored {
        let mut present: [HashSet<String>; N_TREES] = Default::default();
        for_each_entry(a, |tree, key, _| {
            present[tree].insert(key.to_owned());
        });
        for (tree, stamps) in a.stamps.trees.iter().enumerate() {
            gone.extend(stamps.keys().filter(|k| !present[tree].contains(*k)).map(|k| (tree, k.clone())));
        }
        for (tree, key) in &gone {
            writes.push(Write::Delete { tree: TREES[*tree].into(), key: kv_key(*tree, &a.id, key) });
        }
    }
    if writes.is_empty() {
        return Ok(());
    }
    if let Err(e) = backing.kv.blocking(|kv| kv.apply(writes)) {
        tracing::error!(account = a.id, error = %e, "cannot store IAM changes");
        *a = load(backing, &a.id).unwrap_or_else(|| Account::empty(&a.id));
        return Err(AwsError::internal(format!("The change could not be stored: {e}")));
    }
    for (tree, key, h) in changed {
        a.stamps.trees[tree].insert(key, h);
    }
    for (tree, key) in gone {
        a.stamps.trees[tree].remove(&key);
        if tree == ACCESS_KEYS {
            backing.credentials.remove(&key);
        }
    }
    for (id, value) in key_puts {
        if let Ok(record) = serde_json::from_slice::<KeyRecord>(&value) {
            backing.credentials.insert(id, record.identity());
        }
    }
    Ok(())
}

/// Reads account `id` from the store, or `None` when it has never been written; its active
/// keys are registered with the gateway again.
pub fn load(backing: &Backing, id: &str) -> Option<Account> {
    let record = backing.kv.get(TREES[ACCOUNT], id.as_bytes())?;
    let mut a = Account::empty(id);
    match serde_json::from_slice::<AccountRecord>(&record) {
        Ok(r) => {
            a.created = r.created;
            a.root_keys = r.root_keys;
            a.root_certs = r.root_certs;
            a.password_policy = r.password_policy;
            a.report = r.report;
        }
        Err(e) => tracing::error!(account = id, error = %e, "unreadable IAM account record"),
    }
    let prefix = kv_key(USERS, id, "");
    let end = prefix_end(&prefix);
    let range = |tree: usize| {
        let end = end.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
        let skip = prefix.len();
        backing
            .kv
            .range(TREES[tree], Bound::Included(&prefix), end, usize::MAX)
            .into_iter()
            .map(move |(key, value)| (String::from_utf8_lossy(&key[skip..]).into_owned(), value, tree))
    };
    fn decode<T: for<'de> Deserialize<'de>>(tree: usize, key: &str, value: &[u8]) -> Option<T> {
        serde_json::from_slice(value)
            .map_err(|e| tracing::error!(tree = TREES[tree], key, error = %e, "unreadable IAM entity"))
            .ok()
    }
    for (k, v, t) in range(USERS) {
        a.users.extend(decode::<User>(t, &k, &v).map(|u| (k, u)));
    }
    for (k, v, t) in range(GROUPS) {
        a.groups.extend(decode::<Group>(t, &k, &v).map(|g| (k, g)));
    }
    for (k, v, t) in range(ROLES) {
        a.roles.extend(decode::<Role>(t, &k, &v).map(|r| (k, r)));
    }
    for (k, v, t) in range(POLICIES) {
        a.policies.extend(decode::<ManagedPolicy>(t, &k, &v).map(|p| (k, p)));
    }
    for (k, v, t) in range(PROFILES) {
        a.profiles.extend(decode::<InstanceProfile>(t, &k, &v).map(|p| (k, p)));
    }
    for (k, v, t) in range(OIDC) {
        a.oidc.extend(decode::<OidcProvider>(t, &k, &v).map(|p| (k, p)));
    }
    for (k, v, t) in range(SAML) {
        a.saml.extend(decode::<SamlProvider>(t, &k, &v).map(|p| (k, p)));
    }
    for (k, v, t) in range(SERVER_CERTS) {
        a.server_certs.extend(decode::<ServerCert>(t, &k, &v).map(|c| (k, c)));
    }
    for (k, v, t) in range(MFA_DEVICES) {
        a.mfa_devices.extend(decode::<VirtualMfa>(t, &k, &v).map(|d| (k, d)));
    }
    // What the store holds is what this account serializes to (the key entries included, which
    // the last commit wrote from the same users).
    let mut stamps = Stamps::default();
    for_each_entry(&a, |tree, key, value| {
        stamps.trees[tree].insert(key.to_owned(), hash(value));
    });
    a.stamps = stamps;
    for (key_id, record) in key_records(&a) {
        backing.credentials.insert(key_id, record.identity());
    }
    Some(a)
}

/// Registers every stored access key with the gateway (at startup: one small tree).
pub fn register_all_keys(backing: &Backing) {
    for (key, value) in backing.kv.range(TREES[ACCESS_KEYS], Bound::Unbounded, Bound::Unbounded, usize::MAX) {
        match serde_json::from_slice::<KeyRecord>(&value) {
            Ok(record) => backing.credentials.insert(String::from_utf8_lossy(&key).into_owned(), record.identity()),
            Err(e) => tracing::error!(error = %e, "unreadable IAM access key record"),
        }
    }
}

/// The backing in use.
pub fn current() -> Arc<Backing> {
    backing()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Common, PolicyVersion};

    fn key(id: &str, active: bool) -> AccessKey {
        AccessKey { id: id.into(), secret: format!("secret-{id}"), active, created: Timestamp { millis: 1_000 } }
    }

    fn user(name: &str, keys: Vec<AccessKey>) -> User {
        User {
            name: name.into(),
            path: "/team/".into(),
            id: format!("AIDA{name}"),
            created: Timestamp { millis: 2_000 },
            boundary: None,
            common: Common { inline: [("p".to_string(), "{}".to_string())].into(), attached: vec![], tags: vec![] },
            keys,
            certs: vec![],
            login: None,
            ssh_keys: vec![],
            mfa: vec![],
        }
    }

    /// Commits changes to an account, then checks what a fresh load and the key registry see.
    fn round_trip(kv: Arc<dyn KvStore>) {
        let backing = Backing { kv: kv.clone(), credentials: Credentials::default() };
        let mut a = Account::empty("111111111111");
        a.users.insert("alice".into(), user("Alice", vec![key("AKIA1", true), key("AKIA2", false)]));
        a.users.insert("bob".into(), user("Bob", vec![]));
        a.root_keys.push(key("AKIAROOT", true));
        let arn = "arn:aws:iam::111111111111:policy/p".to_string();
        let created = Timestamp { millis: 3_000 };
        a.policies.insert(
            arn.clone(),
            ManagedPolicy {
                name: "p".into(),
                path: "/".into(),
                id: "ANPA1".into(),
                arn: arn.clone(),
                description: None,
                created,
                updated: created,
                versions: vec![PolicyVersion { id: "v1".into(), document: "{}".into(), created }],
                default_version: "v1".into(),
                next_version: 2,
                tags: vec![("k".into(), "v".into())],
            },
        );
        commit_to(&backing, &mut a).unwrap();
        let alice = backing.credentials.get("AKIA1").unwrap();
        assert_eq!(
            (alice.arn.as_str(), alice.secret_key.as_str()),
            ("arn:aws:iam::111111111111:user/team/Alice", "secret-AKIA1")
        );
        assert!(backing.credentials.get("AKIA2").is_none(), "inactive keys are not registered");
        assert_eq!(backing.credentials.get("AKIAROOT").unwrap().arn, "arn:aws:iam::111111111111:root");

        // An unchanged account writes nothing; a change writes only what changed.
        let rows = |tree: usize| kv.range(TREES[tree], Bound::Unbounded, Bound::Unbounded, 100).len();
        assert_eq!((rows(USERS), rows(POLICIES), rows(ACCESS_KEYS)), (2, 1, 2));
        commit_to(&backing, &mut a).unwrap();
        a.users.remove("bob");
        let mut renamed = a.users.remove("alice").unwrap();
        renamed.name = "Alicia".into();
        a.users.insert("alicia".into(), renamed);
        a.root_keys.clear();
        commit_to(&backing, &mut a).unwrap();
        assert_eq!((rows(USERS), rows(ACCESS_KEYS)), (1, 1));
        assert!(backing.credentials.get("AKIAROOT").is_none());
        assert_eq!(backing.credentials.get("AKIA1").unwrap().arn, "arn:aws:iam::111111111111:user/team/Alicia");

        // A fresh process: the startup scan knows the key, the lazy load brings back the rest.
        let fresh = Backing { kv: kv.clone(), credentials: Credentials::default() };
        register_all_keys(&fresh);
        assert_eq!(fresh.credentials.get("AKIA1").unwrap().user_id, "AIDAAlice");
        assert!(load(&fresh, "222222222222").is_none());
        let mut loaded = load(&fresh, "111111111111").unwrap();
        assert_eq!(loaded.created, a.created);
        assert_eq!(loaded.users.keys().collect::<Vec<_>>(), ["alicia"]);
        let u = &loaded.users["alicia"];
        assert_eq!((u.keys.len(), u.keys[1].active, u.common.inline["p"].as_str()), (2, false, "{}"));
        assert_eq!(loaded.policies[&arn].tags, [("k".to_string(), "v".to_string())]);
        assert_eq!(loaded.policies[&arn].versions[0].created, created);
        // What was loaded is known to be stored: committing it writes nothing.
        let before = rows(USERS) + rows(ACCOUNT) + rows(POLICIES) + rows(ACCESS_KEYS);
        commit_to(&fresh, &mut loaded).unwrap();
        assert_eq!(rows(USERS) + rows(ACCOUNT) + rows(POLICIES) + rows(ACCESS_KEYS), before);
    }

    #[test]
    fn accounts_round_trip_in_memory() {
        round_trip(Arc::new(MemoryStore::default()));
    }

    #[test]
    fn accounts_round_trip_on_disk() {
        let dir = std::env::temp_dir().join(format!("ruststack-iam-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let kv = ruststack_persist::SqliteStore::open(&dir.join("kv.sqlite"), true).unwrap();
        round_trip(Arc::new(kv));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A store whose writes fail.
    struct Broken;

    impl KvStore for Broken {
        fn get(&self, _: &str, _: &[u8]) -> Option<Vec<u8>> {
            None
        }
        fn apply(&self, _: Vec<Write>) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
        fn range(&self, _: &str, _: Bound<&[u8]>, _: Bound<&[u8]>, _: usize) -> ruststack_core::store::Entries {
            Vec::new()
        }
        fn clear(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn transaction(
            &self,
            _: &mut dyn FnMut(&mut dyn ruststack_core::store::Transaction) -> std::io::Result<()>,
        ) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }

    #[test]
    fn a_failed_write_leaves_neither_cache_nor_keys_changed() {
        let backing = Backing { kv: Arc::new(Broken), credentials: Credentials::default() };
        let mut a = Account::empty("111111111111");
        a.users.insert("alice".into(), user("Alice", vec![key("AKIA1", true)]));
        let err = commit_to(&backing, &mut a).unwrap_err();
        assert_eq!((err.status.as_u16(), err.code.as_ref()), (500, "InternalFailure"));
        assert!(a.users.is_empty());
        assert!(backing.credentials.get("AKIA1").is_none());
    }
}
