//! Listings: DescribeParameters (metadata, with Filters or ParameterFilters) and
//! GetParametersByPath (values under a path), both paged in name order.

use crate::errors::{self, validation};
use crate::generated::types::*;
use crate::names;
use crate::paging;
use crate::params::{inline_policies, render};
use crate::state::{self, Ssm, Version};
use ruststack_core::{AwsError, RequestContext};
use std::ops::Bound;
use std::sync::Arc;

const DESCRIBE_KEYS: &str = "Path, Name, Type, KeyId, Tier, DataType";
const BY_PATH_KEYS: &str = "Type, KeyId, Label";

/// A checked ParameterStringFilter.
struct Filter<'a> {
    key: &'a str,
    option: &'a str,
    values: &'a [String],
}

fn check_filters<'a>(filters: &'a [ParameterStringFilter], by_path: bool) -> Result<Vec<Filter<'a>>, AwsError> {
    let mut seen = std::collections::HashSet::new();
    filters
        .iter()
        .map(|f| {
            let key = f.key.as_str();
            if !seen.insert(key) {
                return Err(AwsError::bad_request(
                    "InvalidFilterKey",
                    format!(
                        "The following filter is duplicated in the request: {key}. A request can contain only one occurrence of a specific filter."
                    ),
                ));
            }
            let valid_key = key.starts_with("tag:")
                || if by_path {
                    matches!(key, "Type" | "KeyId" | "Label")
                } else {
                    matches!(key, "Name" | "Path" | "Type" | "KeyId" | "Tier" | "DataType")
                };
            if !valid_key {
                return Err(errors::invalid_filter_key(key, if by_path { BY_PATH_KEYS } else { DESCRIBE_KEYS }));
            }
            let values = f.values.as_deref().unwrap_or(&[]);
            let default = if key == "Path" { "OneLevel" } else { "Equals" };
            let option = f.option.as_deref().unwrap_or(default);
            let (ok, valid): (bool, &str) = match key {
                "Path" => (matches!(option, "OneLevel" | "Recursive"), "Recursive, OneLevel"),
                "Name" => (matches!(option, "Equals" | "BeginsWith" | "Contains"), "BeginsWith, Equals, Contains"),
                "Label" => (option == "Equals", "Equals"),
                _ => (matches!(option, "Equals" | "BeginsWith"), "BeginsWith, Equals"),
            };
            if !ok {
                return Err(errors::invalid_filter_option(option, valid));
            }
            if values.is_empty() && !key.starts_with("tag:") {
                return Err(AwsError::bad_request(
                    "InvalidFilterValue",
                    format!("The following filter values are missing : null for filter key {key}."),
                ));
            }
            if key == "Path" {
                for v in values {
                    if names::reserved_path(v) {
                        return Err(validation(
                            "Filters for common parameters can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). When using global parameters, please specify within a global namespace.",
                        ));
                    }
                    names::validate_path(v)?;
                }
            }
            let allowed: &[&str] = match key {
                "Type" => &["String", "StringList", "SecureString"],
                "Tier" => &["Standard", "Advanced", "Intelligent-Tiering"],
                _ => &[],
            };
            if let Some(bad) = values.iter().find(|v| !allowed.is_empty() && !allowed.contains(&v.as_str())) {
                return Err(AwsError::bad_request(
                    "InvalidFilterValue",
                    format!("The following filter value is not valid: {bad}. Valid values include: [{}].", allowed.join(", ")),
                ));
            }
            Ok(Filter { key, option, values })
        })
        .collect()
}

fn text_matches(option: &str, candidate: &str, wanted: &str) -> bool {
    match option {
        "BeginsWith" => candidate.starts_with(wanted),
        "Contains" => candidate.contains(wanted),
        _ => candidate == wanted,
    }
}

/// Whether `name` lies under `path` (directly, or anywhere below when `recursive`). A top-level
/// name without its slash lies under `/`.
fn under_path(name: &str, path: &str, recursive: bool) -> bool {
    if !name.starts_with('/') {
        return path.trim_end_matches('/').is_empty() && !name.contains('/');
    }
    let prefix = path.trim_end_matches('/');
    let Some(rest) = name.strip_prefix(prefix).and_then(|r| r.strip_prefix('/')) else { return false };
    !rest.is_empty() && (recursive || !rest.contains('/'))
}

/// The version of `param` a filter set selects (the labelled one for a Label filter), if any.
fn select<'p>(param: &'p state::StoredParameter, filters: &[Filter]) -> Option<&'p Version> {
    let mut version = param.current();
    if let Some(label) = filters.iter().find(|f| f.key == "Label") {
        version = param.versions.iter().rev().find(|v| v.labels.iter().any(|l| label.values.contains(l)))?;
    }
    filters
        .iter()
        .all(|f| {
            let any = |candidate: &str| f.values.iter().any(|w| text_matches(f.option, candidate, w));
            match f.key {
                "Name" => f.values.iter().any(|w| {
                    // A top-level name is the same with or without its slash: Equals and
                    // BeginsWith compare names without it, Contains sees the name with it.
                    let bare = param.name.trim_start_matches('/');
                    match f.option {
                        "Contains" => format!("/{bare}").contains(w.as_str()),
                        _ => text_matches(f.option, bare, w.trim_start_matches('/')),
                    }
                }),
                "Path" => f.values.iter().any(|p| under_path(&param.name, p, f.option == "Recursive")),
                "Type" => any(&version.kind),
                "KeyId" => version.key_id.as_deref().is_some_and(any),
                "Tier" => any(&version.tier),
                "DataType" => any(&version.data_type),
                "Label" => true,
                tag => {
                    let key = &tag[4..];
                    param.tags.iter().any(|(k, v)| k == key && (f.values.is_empty() || any(v)))
                }
            }
        })
        .then_some(version)
}

pub async fn describe_parameters(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: DescribeParametersRequest,
) -> Result<DescribeParametersResult, AwsError> {
    let old = input.filters.as_deref().unwrap_or(&[]);
    let new = input.parameter_filters.as_deref().unwrap_or(&[]);
    if !old.is_empty() && !new.is_empty() {
        return Err(validation("You can use either Filters or ParameterFilters in a single request."));
    }
    // The legacy Filters (Name, Type, KeyId) read as ParameterFilters: Name by prefix.
    let legacy: Vec<ParameterStringFilter> = old
        .iter()
        .map(|f| ParameterStringFilter {
            key: f.key.clone(),
            option: Some(if f.key == "Name" { "BeginsWith" } else { "Equals" }.to_owned()),
            values: Some(f.values.clone()),
        })
        .collect();
    let filters = check_filters(if old.is_empty() { new } else { &legacy }, false)?;
    let start = paging::start_name(input.next_token.as_deref())?;
    let limit = input.max_results.unwrap_or(50) as usize;
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    let lower = start.as_deref().map_or(Bound::Unbounded, Bound::Included);
    let mut page = Vec::new();
    let mut next_token = None;
    for param in params.range::<str, _>((lower, Bound::Unbounded)).map(|(_, p)| p) {
        let Some(v) = select(param, &filters) else { continue };
        if page.len() == limit {
            next_token = Some(paging::name_token(&param.name));
            break;
        }
        page.push(ParameterMetadata {
            name: Some(param.name.clone()),
            arn: Some(state::parameter_arn(&ctx.region, &ctx.account_id, &param.name)),
            r#type: Some(v.kind.clone()),
            key_id: v.key_id.clone(),
            last_modified_date: Some(v.modified),
            last_modified_user: Some(v.modified_user.clone()),
            description: v.description.clone(),
            allowed_pattern: v.allowed_pattern.clone(),
            version: Some(v.version),
            tier: Some(v.tier.clone()),
            policies: Some(inline_policies(&v.policies)),
            data_type: Some(v.data_type.clone()),
        });
    }
    Ok(DescribeParametersResult { parameters: Some(page), next_token })
}

pub async fn get_parameters_by_path(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: GetParametersByPathRequest,
) -> Result<GetParametersByPathResult, AwsError> {
    names::validate_path(&input.path)?;
    let filters = check_filters(input.parameter_filters.as_deref().unwrap_or(&[]), true)?;
    let recursive = input.recursive.unwrap_or(false);
    let decrypt = input.with_decryption.unwrap_or(false);
    let start = paging::start_name(input.next_token.as_deref())?;
    let limit = input.max_results.unwrap_or(10) as usize;
    let prefix = format!("{}/", input.path.trim_end_matches('/'));
    let lower = match &start {
        Some(name) if name.as_str() > prefix.as_str() => name.clone(),
        _ => prefix.clone(),
    };
    // `/` also holds the top-level names written without a slash, which sort after `/…`.
    let root = prefix == "/";
    let lower = if root { start.clone().unwrap_or_default() } else { lower };
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    let mut page = Vec::new();
    let mut next_token = None;
    for param in params.range::<str, _>((Bound::Included(lower.as_str()), Bound::Unbounded)).map(|(_, p)| p) {
        if !root && !param.name.starts_with(&prefix) {
            break;
        }
        if !under_path(&param.name, &input.path, recursive) {
            continue;
        }
        let Some(v) = select(param, &filters) else { continue };
        if page.len() == limit {
            next_token = Some(paging::name_token(&param.name));
            break;
        }
        let selector = filters.iter().any(|f| f.key == "Label").then(|| format!(":{}", v.version));
        page.push(render(&ctx, param, v, decrypt, selector));
    }
    Ok(GetParametersByPathResult { parameters: Some(page), next_token })
}

#[cfg(test)]
mod tests {
    use super::under_path;

    #[test]
    fn paths() {
        assert!(under_path("/a/b", "/a", false));
        assert!(under_path("/a/b", "/a/", false));
        assert!(!under_path("/a/b/c", "/a", false));
        assert!(under_path("/a/b/c", "/a", true));
        assert!(!under_path("/ab/c", "/a", true));
        assert!(under_path("/x", "/", false));
        assert!(!under_path("/x/y", "/", false));
        assert!(under_path("/x/y", "/", true));
        assert!(under_path("x", "/", false));
        assert!(!under_path("x", "/x", true));
    }
}
