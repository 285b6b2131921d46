//! Writing and reading parameters: PutParameter, GetParameter(s), DeleteParameter(s),
//! GetParameterHistory and the version labels.

use crate::errors::{self, validation};
use crate::generated::types::*;
use crate::names::{self, Selector};
use crate::paging;
use crate::secrets_ref;
use crate::state::{
    ADVANCED_VALUE_LIMIT, MAX_LABELS_PER_VERSION, MAX_VERSIONS, Params, STANDARD_VALUE_LIMIT, Ssm, StoredParameter,
    Version, parameter_arn,
};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::sync::Arc;

const DATA_TYPES: [&str; 3] = ["text", "aws:ec2:image", "aws:ssm:integration"];
const DEFAULT_KEY: &str = "alias/aws/ssm";

/// The caller, as LastModifiedUser shows it.
fn caller(ctx: &RequestContext) -> String {
    match &ctx.identity {
        Some(identity) => identity.arn.clone(),
        None => format!("arn:aws:iam::{}:root", ctx.account_id),
    }
}

pub async fn put_parameter(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: PutParameterRequest,
) -> Result<PutParameterResult, AwsError> {
    let name = input.name.as_str();
    names::validate_new_name(name)?;
    let overwrite = input.overwrite.unwrap_or(false);
    if overwrite && input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(validation(
            "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        ));
    }
    if input.value.is_empty() {
        return Err(validation(
            "1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1.",
        ));
    }
    let data_type = input.data_type.clone().unwrap_or_else(|| "text".to_owned());
    if !DATA_TYPES.contains(&data_type.as_str()) {
        return Err(validation(format!(
            "The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )));
    }
    if data_type == "aws:ec2:image" && !is_ami_id(&input.value) {
        return Err(validation(format!(
            "Parameter value {} is not a valid Amazon Machine Image (AMI) ID.",
            input.value
        )));
    }
    if let Some(pattern) = input.allowed_pattern.as_deref().filter(|p| !p.is_empty()) {
        let re = regex::Regex::new(&format!("^(?:{pattern})$")).map_err(|_| {
            validation(format!("Parameter AllowedPattern {pattern} is not a valid regular expression."))
        })?;
        if !re.is_match(&input.value) {
            return Err(AwsError::bad_request(
                "ParameterPatternMismatchException",
                format!("Parameter value, cannot be validated against allowedPattern: {pattern}"),
            ));
        }
    }
    let policies = parse_policies(input.policies.as_deref())?;
    if let Some(tags) = &input.tags {
        crate::tags::check_tags(tags, tags.len())?;
    }

    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let existing = params.find(name);
    if existing.is_some() && !overwrite {
        return Err(errors::already_exists());
    }
    let previous = existing.map(StoredParameter::current);
    let Some(kind) = input.r#type.clone().or_else(|| previous.map(|p| p.kind.clone())) else {
        return Err(validation("A parameter type is required when you create a parameter."));
    };
    if input.key_id.is_some() && kind != "SecureString" {
        return Err(validation("KeyId is required for SecureString type parameter only."));
    }
    let tier = choose_tier(input.tier.as_deref(), previous.map(|p| p.tier.as_str()), &input.value, &policies)?;
    if let Some(previous) = existing
        && previous.versions.len() >= MAX_VERSIONS
        && !previous.versions[0].labels.is_empty()
    {
        return Err(AwsError::bad_request(
            "ParameterMaxVersionLimitExceeded",
            format!(
                "You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. Version {}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.",
                previous.versions[0].version
            ),
        ));
    }
    let version = Version {
        version: previous.map_or(1, |p| p.version + 1),
        value: input.value,
        key_id: (kind == "SecureString")
            .then(|| input.key_id.clone().or_else(|| previous.and_then(|p| p.key_id.clone())))
            .map(|k| k.unwrap_or_else(|| DEFAULT_KEY.to_owned())),
        kind,
        description: input.description.or_else(|| previous.and_then(|p| p.description.clone())),
        allowed_pattern: input.allowed_pattern.filter(|p| !p.is_empty()),
        tier: tier.to_owned(),
        policies,
        data_type,
        modified: Timestamp::now(),
        modified_user: caller(&ctx),
        labels: Vec::new(),
    };
    let number = version.version;
    let tags = input.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect();
    // Overwriting `a` when `/a` exists (or the reverse) writes a version of that parameter.
    let stored = existing.map_or_else(|| name.to_owned(), |p| p.name.clone());
    params.push_version(&stored, version, tags)?;
    Ok(PutParameterResult { version: Some(number), tier: Some(tier.to_owned()) })
}

fn is_ami_id(value: &str) -> bool {
    value.strip_prefix("ami-").is_some_and(|hex| {
        (8..=17).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parses the Policies JSON array (Expiration, ExpirationNotification, NoChangeNotification).
fn parse_policies(policies: Option<&str>) -> Result<Vec<String>, AwsError> {
    let Some(text) = policies.filter(|t| !t.trim().is_empty()) else { return Ok(Vec::new()) };
    let invalid =
        || AwsError::bad_request("InvalidPolicyAttributeException", "A policy attribute or its value is invalid.");
    let serde_json::Value::Array(items) = serde_json::from_str(text).map_err(|_| invalid())? else {
        return Err(invalid());
    };
    items
        .into_iter()
        .map(|item| match item.get("Type").and_then(|t| t.as_str()) {
            Some("Expiration" | "ExpirationNotification" | "NoChangeNotification") => Ok(item.to_string()),
            Some(_) => Err(AwsError::bad_request(
                "InvalidPolicyTypeException",
                "The policy type is not supported. Parameter Store supports the following policy types: Expiration, ExpirationNotification, and NoChangeNotification.",
            )),
            None => Err(invalid()),
        })
        .collect()
}

/// The tier a new version lands in: advanced parameters stay advanced, Intelligent-Tiering picks
/// the cheapest tier that fits, and a value must fit its tier.
fn choose_tier(
    requested: Option<&str>,
    previous: Option<&str>,
    value: &str,
    policies: &[String],
) -> Result<&'static str, AwsError> {
    let needs_advanced = value.len() > STANDARD_VALUE_LIMIT || !policies.is_empty();
    let was_advanced = previous == Some("Advanced");
    let tier = match requested {
        Some("Standard") if was_advanced => {
            return Err(validation(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
            ));
        }
        Some("Standard") => "Standard",
        Some("Advanced") => "Advanced",
        Some(_) if needs_advanced || was_advanced => "Advanced",
        None if was_advanced => "Advanced",
        _ => "Standard",
    };
    if tier == "Standard" && value.len() > STANDARD_VALUE_LIMIT {
        return Err(validation(
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
        ));
    }
    if tier == "Standard" && !policies.is_empty() {
        return Err(validation("Policies are not supported for standard tier parameters. Use the advanced tier."));
    }
    if value.len() > ADVANCED_VALUE_LIMIT {
        return Err(validation("Advanced tier parameters support a maximum parameter value of 8192 characters."));
    }
    Ok(tier)
}

/// A SecureString value as GetParameter shows it without decryption: an opaque base64 blob.
pub fn ciphertext(version: &Version) -> String {
    use base64::Engine;
    let key = version.key_id.as_deref().unwrap_or(DEFAULT_KEY);
    base64::engine::general_purpose::STANDARD.encode(format!("kms:{key}:{}", version.value))
}

/// The Parameter member of a Get* response.
pub fn render(
    ctx: &RequestContext,
    param: &StoredParameter,
    v: &Version,
    decrypt: bool,
    selector: Option<String>,
) -> ParameterOut {
    let value = if v.kind == "SecureString" && !decrypt { ciphertext(v) } else { v.value.clone() };
    ParameterOut {
        name: Some(param.name.clone()),
        r#type: Some(v.kind.clone()),
        value: Some(value),
        version: Some(v.version),
        selector,
        source_result: None,
        last_modified_date: Some(v.modified),
        arn: Some(parameter_arn(&ctx.region, &ctx.account_id, &param.name)),
        data_type: Some(v.data_type.clone()),
    }
}

pub type ParameterOut = Parameter;

/// Resolves `name`, `name:version` or `name:label` to a rendered parameter.
fn lookup(ctx: &RequestContext, params: &Params, reference: &str, decrypt: bool) -> Result<ParameterOut, AwsError> {
    let (name, selector) = names::parse_reference(reference)?;
    let param = params.find(name).ok_or_else(|| errors::parameter_not_found(""))?;
    match selector {
        Selector::Latest => Ok(render(ctx, param, param.current(), decrypt, None)),
        Selector::Version(n) => {
            let v = param.version(n).ok_or_else(|| errors::version_not_found(name, &n.to_string()))?;
            Ok(render(ctx, param, v, decrypt, Some(format!(":{n}"))))
        }
        Selector::Label(label) => {
            let v = param.labelled(label).ok_or_else(|| errors::version_not_found(name, label))?;
            Ok(render(ctx, param, v, decrypt, Some(format!(":{label}"))))
        }
    }
}

pub async fn get_parameter(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: GetParameterRequest,
) -> Result<GetParameterResult, AwsError> {
    let name = from_arn(&input.name);
    if name.starts_with(secrets_ref::PREFIX) {
        let decrypt = input.with_decryption.unwrap_or(false);
        let parameter = secrets_ref::lookup(state.secrets.clone(), &ctx, &name, decrypt).await?;
        return Ok(GetParameterResult { parameter: Some(parameter) });
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    names::validate_reference(&name)?;
    let parameter = lookup(&ctx, &params, &name, input.with_decryption.unwrap_or(false))?;
    Ok(GetParameterResult { parameter: Some(parameter) })
}

/// The name a parameter ARN (`arn:aws:ssm:…:parameter/a/b`) stands for: `/a/b`, or `t` for
/// `parameter/t` (a top-level name is found with or without its slash).
fn from_arn(name: &str) -> String {
    let Some(rest) = name.strip_prefix("arn:").and_then(|r| r.split_once(":parameter/")).map(|(_, n)| n) else {
        return name.to_owned();
    };
    let bare = rest.split(':').next().unwrap_or(rest);
    if bare.contains('/') { format!("/{rest}") } else { rest.to_owned() }
}

pub async fn get_parameters(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: GetParametersRequest,
) -> Result<GetParametersResult, AwsError> {
    let decrypt = input.with_decryption.unwrap_or(false);
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    // Secret references first (their reads await; the parameter lock is not held across them):
    // any reference that cannot be answered is listed as invalid.
    let mut seen = std::collections::HashSet::new();
    let mut rest = Vec::new();
    for reference in &input.names {
        if !seen.insert(reference.as_str()) {
            continue;
        }
        if reference.starts_with(secrets_ref::PREFIX) {
            match secrets_ref::lookup(state.secrets.clone(), &ctx, reference, decrypt).await {
                Ok(p) => found.push(p),
                Err(_) => invalid.push(reference.clone()),
            }
        } else {
            rest.push(reference);
        }
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    for reference in rest {
        match lookup(&ctx, &params, &from_arn(reference), decrypt) {
            Ok(p) => found.push(p),
            Err(e) if e.code == "ValidationException" => return Err(e),
            Err(_) => invalid.push(reference.clone()),
        }
    }
    Ok(GetParametersResult { parameters: Some(found), invalid_parameters: Some(invalid) })
}

pub async fn delete_parameter(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: DeleteParameterRequest,
) -> Result<DeleteParameterResult, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let Some(name) = params.find(&input.name).map(|p| p.name.clone()) else {
        return Err(errors::parameter_not_found(""));
    };
    params.remove(&[name.as_str()])?;
    Ok(DeleteParameterResult {})
}

pub async fn delete_parameters(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: DeleteParametersRequest,
) -> Result<DeleteParametersResult, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let stored: Vec<String> =
        input.names.iter().map(|n| params.find(n).map_or_else(|| n.clone(), |p| p.name.clone())).collect();
    let names: Vec<&str> = stored.iter().map(String::as_str).collect();
    let existed = params.remove(&names)?;
    let (mut deleted, mut invalid) = (Vec::new(), Vec::new());
    for (name, existed) in input.names.into_iter().zip(existed) {
        if existed {
            deleted.push(name);
        } else if !deleted.contains(&name) && !invalid.contains(&name) {
            invalid.push(name);
        }
    }
    Ok(DeleteParametersResult { deleted_parameters: Some(deleted), invalid_parameters: Some(invalid) })
}

pub async fn get_parameter_history(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: GetParameterHistoryRequest,
) -> Result<GetParameterHistoryResult, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let params = region.read();
    let param = params.find(&input.name).ok_or_else(|| errors::parameter_not_found(""))?;
    let decrypt = input.with_decryption.unwrap_or(false);
    let start = paging::start_index(input.next_token.as_deref())?;
    let limit = input.max_results.unwrap_or(50) as usize;
    let page: Vec<_> = param
        .versions
        .iter()
        .skip(start)
        .take(limit)
        .map(|v| ParameterHistory {
            name: Some(param.name.clone()),
            r#type: Some(v.kind.clone()),
            key_id: v.key_id.clone(),
            last_modified_date: Some(v.modified),
            last_modified_user: Some(v.modified_user.clone()),
            description: v.description.clone(),
            value: Some(if v.kind == "SecureString" && !decrypt { ciphertext(v) } else { v.value.clone() }),
            allowed_pattern: v.allowed_pattern.clone(),
            version: Some(v.version),
            labels: Some(v.labels.clone()),
            tier: Some(v.tier.clone()),
            policies: Some(inline_policies(&v.policies)),
            data_type: Some(v.data_type.clone()),
        })
        .collect();
    let next = start + page.len();
    let next_token = (next < param.versions.len()).then(|| paging::index_token(next));
    Ok(GetParameterHistoryResult { parameters: Some(page), next_token })
}

pub fn inline_policies(policies: &[String]) -> Vec<ParameterInlinePolicy> {
    policies
        .iter()
        .map(|text| ParameterInlinePolicy {
            policy_type: serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| v.get("Type").and_then(|t| t.as_str()).map(str::to_owned)),
            policy_text: Some(text.clone()),
            policy_status: Some("Pending".to_owned()),
        })
        .collect()
}

pub async fn label_parameter_version(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: LabelParameterVersionRequest,
) -> Result<LabelParameterVersionResult, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let param = params.find(&input.name).ok_or_else(|| errors::parameter_not_found(""))?;
    let number = input.parameter_version.unwrap_or(param.current().version);
    let Some(target) = param.versions.iter().position(|v| v.version == number) else {
        return Err(errors::version_not_found(&input.name, &number.to_string()));
    };
    let (valid, invalid): (Vec<_>, Vec<_>) = input.labels.into_iter().partition(|l| names::valid_label(l));
    let mut labels = param.versions[target].labels.clone();
    for label in &valid {
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }
    if labels.len() > MAX_LABELS_PER_VERSION {
        return Err(AwsError::bad_request(
            "ParameterVersionLabelLimitExceeded",
            "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
        ));
    }
    // A label names one version: attaching it here moves it off any other.
    let mut all: Vec<Vec<String>> = param.versions.iter().map(|v| v.labels.clone()).collect();
    for l in &mut all {
        l.retain(|l| !valid.contains(l));
    }
    all[target] = labels;
    let (name, tags) = (param.name.clone(), param.tags.clone());
    params.set_tags_and_labels(&name, tags, all)?;
    Ok(LabelParameterVersionResult { invalid_labels: Some(invalid), parameter_version: Some(number) })
}

pub async fn unlabel_parameter_version(
    state: Arc<Ssm>,
    ctx: RequestContext,
    input: UnlabelParameterVersionRequest,
) -> Result<UnlabelParameterVersionResult, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut params = region.write();
    let param = params.find(&input.name).ok_or_else(|| errors::parameter_not_found(""))?;
    let number = input.parameter_version;
    let Some(target) = param.versions.iter().position(|v| v.version == number) else {
        return Err(errors::version_not_found(&input.name, &number.to_string()));
    };
    let mut all: Vec<Vec<String>> = param.versions.iter().map(|v| v.labels.clone()).collect();
    let (mut removed, mut invalid) = (Vec::new(), Vec::new());
    for label in input.labels {
        if let Some(i) = all[target].iter().position(|l| *l == label) {
            all[target].remove(i);
            removed.push(label);
        } else {
            invalid.push(label);
        }
    }
    if !removed.is_empty() {
        let (name, tags) = (param.name.clone(), param.tags.clone());
        params.set_tags_and_labels(&name, tags, all)?;
    }
    Ok(UnlabelParameterVersionResult { removed_labels: Some(removed), invalid_labels: Some(invalid) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers() {
        assert_eq!(choose_tier(None, None, "v", &[]).unwrap(), "Standard");
        assert_eq!(choose_tier(None, Some("Advanced"), "v", &[]).unwrap(), "Advanced");
        assert!(choose_tier(Some("Standard"), Some("Advanced"), "v", &[]).is_err());
        let big = "x".repeat(5000);
        assert_eq!(choose_tier(Some("Intelligent-Tiering"), None, &big, &[]).unwrap(), "Advanced");
        assert_eq!(choose_tier(Some("Intelligent-Tiering"), None, "v", &[]).unwrap(), "Standard");
        assert!(choose_tier(None, None, &big, &[]).is_err());
        assert!(choose_tier(Some("Advanced"), None, &"x".repeat(9000), &[]).is_err());
    }

    #[test]
    fn ami_ids() {
        assert!(is_ami_id("ami-12345678"));
        assert!(!is_ami_id("ami-1234"));
        assert!(!is_ami_id("img-12345678"));
    }
}
