//! Request ids: unique enough for logs and correlation, cheap enough for every request.

/// A random request id in the UUID shape AWS uses (`8d0c…-…`), built without formatting machinery
/// because every request makes one.
pub fn new_request_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits = fastrand::u128(..);
    let mut out = [0u8; 36];
    for (i, byte) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            *byte = b'-';
        } else {
            *byte = HEX[(bits & 0xf) as usize];
            bits >>= 4;
        }
    }
    String::from_utf8(out.to_vec()).unwrap_or_default()
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
