//! Server-side AWS Signature Version 4: parsing, verification and aws-chunked bodies.
//!
//! Typical flow: [`scope_service_fast`] routes the request; [`parse`] extracts the
//! signature; the caller looks up the secret of [`SigV4::access_key`] (answering
//! [`AuthError::UnknownAccessKey`] itself when unknown); [`verify`] checks it; streaming
//! uploads wrap their body in [`AwsChunkedBody`] with [`VerifiedSignature::chunk_verifier`].

mod canonical;
mod error;
mod parse;
mod streaming;
mod verify;

pub use canonical::{EMPTY_SHA256, canonical_request, sha256_hex, sign, signing_key, string_to_sign};
pub use error::{AuthError, Family, family};
pub use parse::{Presigned, SigV4, access_key_hint, parse, scope_service_fast};
pub use streaming::{AwsChunkedBody, BoxError, ChunkVerifier};
pub use verify::{VerifiedSignature, verify, verify_with_key};
