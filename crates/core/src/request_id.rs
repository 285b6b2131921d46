//! Request ids: unique enough for logs and correlation, cheap enough for every request.

use std::fmt::Write;

/// A random request id in the UUID shape AWS uses (`8d0c…-…`).
pub fn new_request_id() -> String {
    let a = fastrand::u128(..);
    let mut s = String::with_capacity(36);
    let hex = format!("{a:032x}");
    for (i, part) in [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)].iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{}", &hex[part.0..part.1]);
    }
    s
}

/// S3's `x-amz-id-2`: an opaque base64-looking host id.
pub fn new_host_id() -> String {
    use base64::Engine;
    let bytes: [u8; 24] = std::array::from_fn(|_| fastrand::u8(..));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_id_is_uuid_shaped_and_unique() {
        let a = super::new_request_id();
        let b = super::new_request_id();
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, b);
    }
}
