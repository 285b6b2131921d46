//! Integrity of uploaded bytes: the MD5 behind ETags and `Content-MD5`, and the flexible
//! checksums (`x-amz-checksum-*`) AWS checks, stores and returns.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use crc_fast::{CrcAlgorithm, Digest as Crc};
use md5::{Digest, Md5};
use ruststack_core::AwsError;

/// A flexible checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

/// Stored by name.
impl serde::Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Algorithm::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown checksum algorithm {name}")))
    }
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] =
        [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    /// The name in `x-amz-sdk-checksum-algorithm` and `ChecksumAlgorithm` elements.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The header (or trailer) carrying the value.
    pub fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.header().eq_ignore_ascii_case(name))
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// CRCs combine into a full-object checksum across parts; SHAs only compose.
    pub fn is_crc(self) -> bool {
        matches!(self, Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme)
    }

    /// Checks that a client-sent value has the algorithm's shape (base64 of the digest).
    pub fn check_value(self, value: &str) -> Result<(), AwsError> {
        match B64.decode(value) {
            Ok(raw) if raw.len() == self.digest_len() => Ok(()),
            _ => {
                Err(AwsError::bad_request("InvalidRequest", format!("Value for {} header is invalid.", self.header())))
            }
        }
    }

    /// The base64 checksum of `data` in one go.
    pub fn of(self, data: &[u8]) -> String {
        let mut h = Hasher::new(self);
        h.update(data);
        h.finish()
    }
}

/// An incremental flexible checksum.
pub enum Hasher {
    Crc(Crc, Algorithm),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Crc32 => Hasher::Crc(Crc::new(CrcAlgorithm::Crc32IsoHdlc), algorithm),
            Algorithm::Crc32c => Hasher::Crc(Crc::new(CrcAlgorithm::Crc32Iscsi), algorithm),
            Algorithm::Crc64Nvme => Hasher::Crc(Crc::new(CrcAlgorithm::Crc64Nvme), algorithm),
            Algorithm::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc(c, _) => c.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
        }
    }

    /// The raw digest bytes.
    pub fn finish_raw(self) -> Vec<u8> {
        match self {
            Hasher::Crc(c, Algorithm::Crc64Nvme) => c.finalize().to_be_bytes().to_vec(),
            Hasher::Crc(c, _) => (c.finalize() as u32).to_be_bytes().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
        }
    }

    /// The digest in base64, as headers carry it.
    pub fn finish(self) -> String {
        B64.encode(self.finish_raw())
    }
}

/// The multipart checksum of part checksums: the checksum of their concatenated raw digests,
/// suffixed with the part count (`COMPOSITE` checksum type).
pub fn composite(algorithm: Algorithm, part_values: &[&str]) -> String {
    let mut h = Hasher::new(algorithm);
    for v in part_values {
        h.update(&B64.decode(v).unwrap_or_default());
    }
    format!("{}-{}", h.finish(), part_values.len())
}

/// The full-object CRC of parts from their own CRCs and sizes (CRCs combine without the bytes);
/// `None` for a non-CRC algorithm or a malformed part value.
pub fn combine_crc(algorithm: Algorithm, parts: &[(&str, u64)]) -> Option<String> {
    let crc = match algorithm {
        Algorithm::Crc32 => CrcAlgorithm::Crc32IsoHdlc,
        Algorithm::Crc32c => CrcAlgorithm::Crc32Iscsi,
        Algorithm::Crc64Nvme => CrcAlgorithm::Crc64Nvme,
        Algorithm::Sha1 | Algorithm::Sha256 => return None,
    };
    let mut total: Option<u64> = None;
    for (value, len) in parts {
        let raw = B64.decode(value).ok()?;
        let part = match raw.len() {
            4 => u32::from_be_bytes(raw.try_into().ok()?) as u64,
            8 => u64::from_be_bytes(raw.try_into().ok()?),
            _ => return None,
        };
        total = Some(match total {
            None => part,
            Some(t) => crc_fast::checksum_combine(crc, t, part, *len),
        });
    }
    let total = match total {
        Some(t) => t,
        None => crc_fast::checksum(crc, b""),
    };
    Some(if algorithm == Algorithm::Crc64Nvme {
        B64.encode(total.to_be_bytes())
    } else {
        B64.encode((total as u32).to_be_bytes())
    })
}

/// MD5 while streaming, for the ETag and `Content-MD5`.
#[derive(Default)]
pub struct Md5Hasher(Md5);

impl Md5Hasher {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; 16] {
        self.0.finalize().into()
    }
}

/// `"hex"`: the ETag of a single-part object.
pub fn etag(md5: &[u8; 16]) -> String {
    format!("\"{}\"", hex::encode(md5))
}

/// The ETag of a multipart object: the MD5 of the parts' binary MD5s, dash, part count.
pub fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut h = Md5::new();
    for m in part_md5s {
        h.update(m);
    }
    format!("\"{}-{}\"", hex::encode(h.finalize()), part_md5s.len())
}

/// Decodes a `Content-MD5` header (base64 of 16 bytes).
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], AwsError> {
    B64.decode(value.trim()).ok().and_then(|v| <[u8; 16]>::try_from(v).ok()).ok_or_else(|| {
        AwsError::bad_request("InvalidDigest", "The Content-MD5 you specified was invalid.")
            .with_field("Content-MD5", value.to_owned())
    })
}

pub fn md5_base64(md5: &[u8; 16]) -> String {
    B64.encode(md5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // Values as AWS SDKs compute them for "hello".
        assert_eq!(Algorithm::Crc32.of(b"hello"), "NhCmhg==");
        assert_eq!(Algorithm::Crc32c.of(b"hello"), "mnG7TA==");
        assert_eq!(Algorithm::Sha1.of(b"hello"), "qvTGHdzF6KLavt4PO0gs2a6pQ00=");
        assert_eq!(Algorithm::Sha256.of(b"hello"), "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
        assert_eq!(Algorithm::Crc64Nvme.of(b"hello"), B64.encode(0x3377857006524257u64.to_be_bytes()));
        let md5 = {
            let mut h = Md5Hasher::default();
            h.update(b"hello");
            h.finish()
        };
        assert_eq!(etag(&md5), "\"5d41402abc4b2a76b9719d911017c592\"");
    }

    #[test]
    fn value_shapes_are_checked() {
        assert!(Algorithm::Crc32.check_value("NhCmhg==").is_ok());
        assert_eq!(Algorithm::Crc32.check_value("nope").unwrap_err().code, "InvalidRequest");
        assert_eq!(parse_content_md5("abc").unwrap_err().code, "InvalidDigest");
        assert_eq!(Algorithm::from_header("X-Amz-Checksum-CRC32C"), Some(Algorithm::Crc32c));
    }

    #[test]
    fn crcs_combine_across_parts() {
        for a in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let (x, y, z) = (a.of(b"hello "), a.of(b"wide "), a.of(b"world"));
            let combined = combine_crc(a, &[(&x, 6), (&y, 5), (&z, 5)]).unwrap();
            assert_eq!(combined, a.of(b"hello wide world"), "{a:?}");
        }
        assert_eq!(combine_crc(Algorithm::Sha1, &[]), None);
    }

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        let a = [0u8; 16];
        let e = multipart_etag(&[a, a]);
        assert!(e.ends_with("-2\"") && e.len() == 36, "{e}");
    }
}
