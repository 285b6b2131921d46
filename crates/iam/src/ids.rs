//! Identifiers and timestamps shaped like AWS's: unique ids with their type prefix (`AIDA` users,
//! `AROA` roles, `ANPA` policies, `AGPA` groups, `AIPA` instance profiles, `AKIA` keys) and
//! second-precision creation dates.

use ruststack_core::Timestamp;

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random(len: usize, alphabet: &[u8]) -> String {
    (0..len).map(|_| alphabet[fastrand::usize(..alphabet.len())] as char).collect()
}

/// A 21-character unique id (`AIDA` + 17).
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random(17, UPPER_ALNUM))
}

/// A 20-character access key id (`AKIA` + 16).
pub fn access_key_id() -> String {
    format!("AKIA{}", random(16, UPPER_ALNUM))
}

/// A 32-character signing certificate id.
pub fn certificate_id() -> String {
    random(32, UPPER_ALNUM)
}

/// A 40-character secret access key.
pub fn secret_key() -> String {
    random(40, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}

/// The base32 seed of a virtual MFA device (64 characters, as AWS hands them out).
pub fn base32_seed() -> String {
    random(64, UPPER_ALNUM)
}

/// A random version-4 UUID, lowercase.
pub fn uuid() -> String {
    let b: [u8; 16] = std::array::from_fn(|i| match i {
        6 => 0x40 | (fastrand::u8(..) & 0x0f),
        8 => 0x80 | (fastrand::u8(..) & 0x3f),
        _ => fastrand::u8(..),
    });
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// IAM dates carry whole seconds.
pub fn now() -> Timestamp {
    let t = Timestamp::now();
    Timestamp { millis: t.millis - t.millis % 1000 }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        let id = super::unique_id("AIDA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA") && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_eq!(super::access_key_id().len(), 20);
        assert_eq!(super::secret_key().len(), 40);
        assert_eq!(super::now().millis % 1000, 0);
    }
}
