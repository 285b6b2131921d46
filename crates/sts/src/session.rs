//! Temporary credentials: `ASIA…` keys with a secret and a session token, registered with the
//! gateway until they expire so that calls signed with them act as the session's identity.

use crate::generated::types::Credentials as Issued;
use ruststack_core::Timestamp;
use ruststack_core::identity::{Credentials, Identity};

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random(len: usize, alphabet: &[u8]) -> String {
    (0..len).map(|_| alphabet[fastrand::usize(..alphabet.len())] as char).collect()
}

/// Who a session acts as.
pub struct Principal {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

/// Issues credentials valid for `duration_secs` and registers them.
pub fn issue(registry: &Credentials, principal: Principal, duration_secs: i32) -> Issued {
    let access_key_id = format!("ASIA{}", random(16, UPPER_ALNUM));
    let secret_access_key = random(40, BASE64);
    // Shaped like AWS's tokens: a fixed base64 preamble and a long opaque tail.
    let session_token = format!("IQoJb3JpZ2luX2VjE{}", random(340, BASE64));
    let now = Timestamp::now().millis;
    let expires = now - now % 1000 + i64::from(duration_secs) * 1000;
    registry.insert(
        access_key_id.clone(),
        Identity {
            secret_key: secret_access_key.clone(),
            account_id: principal.account_id,
            arn: principal.arn,
            user_id: principal.user_id,
            session_token: Some(session_token.clone()),
            expires_millis: Some(expires),
        },
    );
    Issued { access_key_id, secret_access_key, session_token, expiration: Timestamp { millis: expires } }
}

#[cfg(test)]
mod tests {
    #[test]
    fn issued_keys_are_registered_until_expiry() {
        let registry = ruststack_core::identity::Credentials::default();
        let p = super::Principal { account_id: "111111111111".into(), arn: "arn".into(), user_id: "AROA:s".into() };
        let c = super::issue(&registry, p, 900);
        assert!(c.access_key_id.starts_with("ASIA") && c.access_key_id.len() == 20);
        assert_eq!(c.secret_access_key.len(), 40);
        let identity = registry.get(&c.access_key_id).unwrap();
        assert_eq!(identity.account_id, "111111111111");
        assert_eq!(identity.session_token.as_deref(), Some(c.session_token.as_str()));
    }
}
