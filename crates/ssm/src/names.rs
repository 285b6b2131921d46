//! Parameter names, paths, labels and `name:selector` references, validated as Parameter Store
//! validates them.

use crate::errors::{self, validation};
use ruststack_core::AwsError;

/// A name may hold at most this many `/`-separated levels.
pub const MAX_LEVELS: usize = 15;

/// AWS's answer to a malformed name (it names only "ssm", whatever the fault).
const NAME_RULES: &str = "Parameter name: can't be prefixed with \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";
/// AWS's answer to a reserved prefix on a name that is not a path.
const RESERVED_PREFIX: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).";

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')
}

/// Whether `name` starts with the reserved `aws` / `ssm` prefix (after an optional `/`).
fn reserved(name: &str) -> bool {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let head = bare.get(..3).unwrap_or("").to_ascii_lowercase();
    head == "aws" || head == "ssm"
}

/// Checks a name given to PutParameter (the rules for names a parameter may be created with).
pub fn validate_new_name(name: &str) -> Result<(), AwsError> {
    if reserved(name) {
        let is_path = name.matches('/').count() > 1;
        // A path under `/aws…` (the namespace of AWS's public parameters) is refused outright.
        if is_path && name.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("/aws")) {
            return Err(AwsError::bad_request(
                "AccessDeniedException",
                format!("No access to reserved parameter name: {name}."),
            ));
        }
        return Err(validation(if is_path { NAME_RULES } else { RESERVED_PREFIX }));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(validation("Parameter name must be a fully qualified name."));
    }
    if !name.chars().all(allowed_char) || name.contains("//") || (name.len() > 1 && name.ends_with('/')) {
        return Err(validation(NAME_RULES));
    }
    if levels(name) > MAX_LEVELS {
        return Err(AwsError::bad_request(
            "HierarchyLevelLimitExceededException",
            "Parameter name: hierarchy level limit exceeded: maximum 15 levels.",
        ));
    }
    Ok(())
}

/// The number of hierarchy levels of a name (`/a/b` and `a` are 2 and 1).
pub fn levels(name: &str) -> usize {
    name.trim_start_matches('/').split('/').count()
}

/// Checks a name that GetParameter reads (after any `:selector`): AWS refuses malformed names
/// with the PutParameter text instead of answering ParameterNotFound.
pub fn validate_reference(reference: &str) -> Result<(), AwsError> {
    if reference.starts_with("arn:") {
        return Ok(());
    }
    let name = reference.split_once(':').map_or(reference, |(name, _)| name);
    if !name.chars().all(allowed_char) || (name.contains('/') && !name.starts_with('/')) {
        return Err(validation(NAME_RULES));
    }
    Ok(())
}

/// Whether `path` lies in the namespace of AWS's public parameters, which GetParametersByPath
/// may read.
pub fn public_path(path: &str) -> bool {
    path == "/aws/service" || path.starts_with("/aws/service/")
}

/// Whether `path` starts with the reserved `/aws` or `/ssm` prefix.
pub fn reserved_path(path: &str) -> bool {
    path.starts_with('/') && reserved(path)
}

/// Checks the `Path` of GetParametersByPath and the `Path` filter.
pub fn validate_path(path: &str) -> Result<(), AwsError> {
    let ok = path.starts_with('/')
        && (!reserved(path) || public_path(path))
        && path.chars().all(allowed_char)
        && !path.contains("//")
        && levels(path) <= MAX_LEVELS;
    if ok {
        return Ok(());
    }
    Err(validation(
        "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \\\"aws\\\" or \\\"ssm\\\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.",
    ))
}

/// A label may not start with a digit, `aws` or `ssm`, contain `/` or `:`, or exceed 100 characters.
pub fn valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.len() <= 100
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
        && label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// What a `name:selector` reference picks.
#[derive(Debug, PartialEq)]
pub enum Selector<'a> {
    Latest,
    Version(i64),
    Label(&'a str),
}

/// Splits `name`, `name:3` or `name:label`.
pub fn parse_reference(reference: &str) -> Result<(&str, Selector<'_>), AwsError> {
    let Some((name, selector)) = reference.split_once(':') else {
        return Ok((reference, Selector::Latest));
    };
    if selector.is_empty() || selector.contains(':') {
        return Err(validation(format!("Invalid label or version selector: {reference}")));
    }
    if selector.bytes().all(|b| b.is_ascii_digit()) {
        let version = selector.parse::<i64>().map_err(|_| errors::version_not_found(name, selector))?;
        return Ok((name, Selector::Version(version)));
    }
    Ok((name, Selector::Label(selector)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_parameter_store_rules() {
        for ok in ["a", "/a/b-c_d.e", "my.param", "/my/aws"] {
            assert!(validate_new_name(ok).is_ok(), "{ok}");
        }
        assert!(validate_new_name("/awsome").is_err(), "any aws prefix is reserved");
        assert_eq!(validate_new_name("a/b").unwrap_err().message, "Parameter name must be a fully qualified name.");
        assert_eq!(validate_new_name("/a b").unwrap_err().code, "ValidationException");
        assert_eq!(validate_new_name("SSM-x").unwrap_err().code, "ValidationException");
        assert_eq!(validate_new_name("/aws/x").unwrap_err().code, "AccessDeniedException");
        let deep: String = (0..16).map(|i| format!("/l{i}")).collect();
        assert_eq!(validate_new_name(&deep).unwrap_err().code, "HierarchyLevelLimitExceededException");
        let fifteen: String = (0..15).map(|i| format!("/l{i}")).collect();
        assert!(validate_new_name(&fifteen).is_ok());
    }

    #[test]
    fn name_errors_carry_aws_texts() {
        assert_eq!(validate_new_name("ssm_test").unwrap_err().message, RESERVED_PREFIX);
        assert_eq!(validate_new_name("AWS_TEST").unwrap_err().message, RESERVED_PREFIX);
        assert_eq!(validate_new_name("/SSM/path/x").unwrap_err().message, NAME_RULES);
        assert_eq!(validate_new_name("/my/a@b").unwrap_err().message, NAME_RULES);
        let denied = validate_new_name("/AWS_test/path").unwrap_err();
        assert_eq!(denied.code, "AccessDeniedException");
        assert_eq!(denied.message, "No access to reserved parameter name: /AWS_test/path.");
    }

    #[test]
    fn read_names_are_checked() {
        for bad in ["xxx/yyy", "{test}-test", "/a b"] {
            assert_eq!(validate_reference(bad).unwrap_err().message, NAME_RULES, "{bad}");
        }
        for ok in ["a", "/a/b:3", "/a:label", "arn:aws:ssm:us-east-1:000000000000:parameter/a b"] {
            assert!(validate_reference(ok).is_ok(), "{ok}");
        }
        assert!(validate_path("/aws/service/global-infrastructure").is_ok());
        assert!(validate_path("/aws/other").is_err());
    }

    #[test]
    fn references_carry_versions_and_labels() {
        assert_eq!(parse_reference("/a").unwrap(), ("/a", Selector::Latest));
        assert_eq!(parse_reference("/a:3").unwrap(), ("/a", Selector::Version(3)));
        assert_eq!(parse_reference("/a:prod").unwrap(), ("/a", Selector::Label("prod")));
        assert!(parse_reference("/a:").is_err());
        assert!(parse_reference("/a:b:c").is_err());
    }

    #[test]
    fn labels() {
        assert!(valid_label("prod"));
        assert!(!valid_label("1prod"));
        assert!(!valid_label("awsx"));
        assert!(!valid_label("a/b"));
        assert!(!valid_label(&"x".repeat(101)));
    }
}
