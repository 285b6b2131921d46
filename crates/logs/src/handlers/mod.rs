//! The operation handlers, by area, and the errors and lookups they share.

pub mod deliveries;
pub mod events;
pub mod exports;
pub mod filters;
pub mod groups;
pub mod policies;
pub mod queries;
pub mod streams;
pub mod tags;

use crate::state::{LogGroup, LogStream, LogsState, Region};
use ruststack_core::{AwsError, RequestContext};

pub(crate) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

pub(crate) fn group_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log group does not exist.")
}

pub(crate) fn stream_not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified log stream does not exist.")
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (DescribeLogGroups adds `:*` to `arn`).
pub(crate) fn group_arn(ctx: &RequestContext, name: &str) -> String {
    ctx.arn("logs", &format!("log-group:{name}"))
}

/// The log group name of `logGroupName` or `logGroupIdentifier` (a name or an ARN), exactly one.
pub(crate) fn group_name<'a>(name: &'a Option<String>, identifier: &'a Option<String>) -> Result<&'a str, AwsError> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")),
        (Some(n), None) => Ok(n),
        (None, Some(id)) => Ok(name_from_identifier(id)),
        (None, None) => Err(invalid("Should provide either name or ARN of the log group.")),
    }
}

/// A log group name from a name or `arn:…:log-group:<name>[:*]`.
pub(crate) fn name_from_identifier(id: &str) -> &str {
    match id.strip_prefix("arn:") {
        Some(_) => match id.find(":log-group:") {
            Some(at) => {
                let rest = &id[at + ":log-group:".len()..];
                rest.strip_suffix(":*").unwrap_or(rest)
            }
            None => id,
        },
        None => id,
    }
}

pub(crate) fn group<'r>(region: &'r Region, name: &str) -> Result<&'r LogGroup, AwsError> {
    region.groups.get(name).ok_or_else(group_not_found)
}

pub(crate) fn group_mut<'r>(region: &'r mut Region, name: &str) -> Result<&'r mut LogGroup, AwsError> {
    region.groups.get_mut(name).ok_or_else(group_not_found)
}

/// Changes a group's own record through `f`, stores it, and only then updates the cache.
pub(crate) fn update_group(
    state: &LogsState,
    region: &mut Region,
    name: &str,
    f: impl FnOnce(&mut LogGroup) -> Result<(), AwsError>,
) -> Result<(), AwsError> {
    let mut record = group(region, name)?.record();
    f(&mut record)?;
    state.commit(vec![region.put_group(&record)])?;
    group_mut(region, name)?.update(record);
    Ok(())
}

pub(crate) fn stream<'g>(group: &'g LogGroup, name: &str) -> Result<&'g LogStream, AwsError> {
    group.streams.get(name).ok_or_else(stream_not_found)
}

/// An opaque pagination token carrying the last returned name.
pub(crate) fn name_token(name: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

pub(crate) fn parse_name_token(token: &str) -> Result<String, AwsError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid("The specified nextToken is invalid."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_names_or_arns() {
        assert_eq!(name_from_identifier("/aws/lambda/f"), "/aws/lambda/f");
        assert_eq!(name_from_identifier("arn:aws:logs:us-east-1:000000000000:log-group:/a/b"), "/a/b");
        assert_eq!(name_from_identifier("arn:aws:logs:us-east-1:000000000000:log-group:/a/b:*"), "/a/b");
        assert!(group_name(&None, &None).is_err());
        assert!(group_name(&Some("a".into()), &Some("a".into())).is_err());
        assert_eq!(parse_name_token(&name_token("/x/y")).unwrap(), "/x/y");
        assert!(parse_name_token("!!").is_err());
    }
}
