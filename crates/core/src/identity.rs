//! Credentials that services issue at run time (IAM access keys, STS temporary credentials), shared
//! with the gateway so that requests signed with them are verified (`--enforce-sigv4`) and act as
//! the identity that owns them.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

/// Who an access key belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub secret_key: String,
    /// The account the key acts in.
    pub account_id: String,
    /// The principal's ARN (`arn:aws:iam::123456789012:user/alice`, an assumed-role ARN, …).
    pub arn: String,
    /// The principal's unique id (`AIDA…`, `AROA…:session`).
    pub user_id: String,
    /// STS session token, for temporary credentials.
    pub session_token: Option<String>,
    /// Expiry of temporary credentials, in milliseconds since the epoch.
    pub expires_millis: Option<i64>,
}

impl Identity {
    /// Whether temporary credentials are past their expiry.
    pub fn expired(&self) -> bool {
        self.expires_millis.is_some_and(|t| t <= crate::types::Timestamp::now().millis)
    }
}

/// The keys issued so far. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    keys: Arc<RwLock<HashMap<String, Identity>>>,
}

impl Credentials {
    /// Registers (or replaces) an access key.
    pub fn insert(&self, access_key: impl Into<String>, identity: Identity) {
        self.keys.write().insert(access_key.into(), identity);
    }

    /// Forgets an access key (DeleteAccessKey).
    pub fn remove(&self, access_key: &str) {
        self.keys.write().remove(access_key);
    }

    /// The identity of a key that exists and has not expired.
    pub fn get(&self, access_key: &str) -> Option<Identity> {
        self.get_even_expired(access_key).filter(|i| !i.expired())
    }

    /// The identity of a key that exists, expired or not (to tell `ExpiredToken` from unknown).
    pub fn get_even_expired(&self, access_key: &str) -> Option<Identity> {
        self.keys.read().get(access_key).cloned()
    }

    /// Forgets every issued key (`POST /_ruststack/reset`).
    pub fn clear(&self) {
        self.keys.write().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(expires_millis: Option<i64>) -> Identity {
        Identity {
            secret_key: "s".into(),
            account_id: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/alice".into(),
            user_id: "AIDAEXAMPLE".into(),
            session_token: None,
            expires_millis,
        }
    }

    #[test]
    fn expired_keys_are_unknown() {
        let c = Credentials::default();
        c.insert("AKIA1", identity(None));
        c.insert("ASIA1", identity(Some(1)));
        assert_eq!(c.get("AKIA1").map(|i| i.account_id), Some("123456789012".into()));
        assert_eq!(c.get("ASIA1"), None);
        c.remove("AKIA1");
        assert_eq!(c.get("AKIA1"), None);
    }
}
