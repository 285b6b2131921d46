//! NextToken values: opaque to clients, a position for us (an index or the next name).

use crate::errors;
use base64::Engine;
use ruststack_core::AwsError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn index_token(index: usize) -> String {
    B64.encode(format!("i:{index}"))
}

/// The index a token resumes at (0 without a token).
pub fn start_index(token: Option<&str>) -> Result<usize, AwsError> {
    let Some(token) = token else { return Ok(0) };
    decode(token)?.strip_prefix("i:").and_then(|n| n.parse().ok()).ok_or_else(errors::invalid_next_token)
}

pub fn name_token(name: &str) -> String {
    B64.encode(format!("n:{name}"))
}

/// The name a listing resumes at (inclusive), if any.
pub fn start_name(token: Option<&str>) -> Result<Option<String>, AwsError> {
    let Some(token) = token else { return Ok(None) };
    decode(token)?.strip_prefix("n:").map(|n| Some(n.to_owned())).ok_or_else(errors::invalid_next_token)
}

fn decode(token: &str) -> Result<String, AwsError> {
    B64.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(errors::invalid_next_token)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        assert_eq!(super::start_index(Some(&super::index_token(7))).unwrap(), 7);
        assert_eq!(super::start_name(Some(&super::name_token("/a/b"))).unwrap().as_deref(), Some("/a/b"));
        assert_eq!(super::start_index(Some("nope")).unwrap_err().code, "InvalidNextToken");
        assert_eq!(super::start_name(Some(&super::index_token(1))).unwrap_err().code, "InvalidNextToken");
    }
}
