//! Secret values and versions: get, batch get, put, list versions, move staging labels.

use super::*;
use crate::generated::types::*;
use crate::state::{AWSCURRENT, SecretValue, SecretsState, Version, now_millis, today};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// Most labels one version can carry.
const MAX_STAGES_PER_VERSION: usize = 20;

/// AWS's answer to a ClientRequestToken that names a version with another value.
pub(crate) fn token_in_use(token: &str, arn: &str) -> AwsError {
    AwsError::bad_request(
        "ResourceExistsException",
        format!(
            "You can't use ClientRequestToken {token} because that value is already in use for a version of secret {arn}."
        ),
    )
}

/// Adds version `id` with `stages`, or accepts a retry of the same version: a known id with the
/// same value changes nothing, with another value it is refused.
pub(crate) fn put_version(
    secret: &mut Secret,
    id: &str,
    value: SecretValue,
    stages: &[String],
    now: i64,
) -> Result<(), AwsError> {
    if let Some(existing) = secret.version(id) {
        return if existing.value == value { Ok(()) } else { Err(token_in_use(id, &secret.arn)) };
    }
    secret.add_version(id.to_string(), value, stages, now);
    Ok(())
}

/// The version a GetSecretValue-style request selects (AWSCURRENT by default).
fn select<'s>(secret: &'s Secret, id: Option<&str>, stage: Option<&str>) -> Result<&'s Version, AwsError> {
    let not_found = |what: String| {
        AwsError::bad_request(
            "ResourceNotFoundException",
            format!("Secrets Manager can't find the specified secret value for {what}"),
        )
    };
    match (id, stage) {
        (Some(id), stage) => {
            let v = secret.version(id).ok_or_else(|| not_found(format!("VersionId: {id}")))?;
            match stage {
                Some(stage) if !v.stages.iter().any(|s| s == stage) => Err(AwsError::bad_request(
                    "ResourceNotFoundException",
                    "You provided a VersionStage that is not associated to the provided VersionId.",
                )),
                _ => Ok(v),
            }
        }
        (None, stage) => {
            let stage = stage.unwrap_or(AWSCURRENT);
            secret.version_with_stage(stage).ok_or_else(|| not_found(format!("staging label: {stage}")))
        }
    }
}

/// Records today as the last access of the secret and version, taking the write lock only when
/// the date changes (once a day per secret).
fn record_access(state: &SecretsState, ctx: &RequestContext, name: &str, version_id: &str) {
    let day = today(now_millis());
    let region = state.region(&ctx.account_id, &ctx.region);
    if region.read().secrets.get(name).is_some_and(|s| s.last_accessed == Some(day)) {
        return;
    }
    let mut region = region.write();
    if let Some(s) = region.secrets.get(name) {
        let mut s = s.clone();
        s.last_accessed = Some(day);
        if let Some(v) = s.versions.iter_mut().find(|v| v.id == version_id) {
            v.last_accessed = Some(day);
        }
        // The read already succeeded; a date that cannot be stored is recorded next time.
        let _ = region.save(s);
    }
}

pub async fn get_secret_value(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: GetSecretValueRequest,
) -> Result<GetSecretValueResponse, AwsError> {
    let out = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let s = find(&region, &ctx, &input.secret_id)?;
        if s.deleted.is_some() {
            return Err(marked_for_deletion());
        }
        let v = select(s, input.version_id.as_deref(), input.version_stage.as_deref())?;
        let (secret_string, secret_binary) = value_fields(&v.value);
        GetSecretValueResponse {
            arn: Some(s.arn.clone()),
            name: Some(s.name.clone()),
            version_id: Some(v.id.clone()),
            secret_binary,
            secret_string,
            version_stages: Some(v.stages.clone()),
            created_date: Some(ts(v.created)),
        }
    };
    record_access(&state, &ctx, out.name.as_deref().unwrap_or(""), out.version_id.as_deref().unwrap_or(""));
    Ok(out)
}

pub async fn batch_get_secret_value(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: BatchGetSecretValueRequest,
) -> Result<BatchGetSecretValueResponse, AwsError> {
    let (ids, filters) = match (input.secret_id_list, input.filters) {
        (Some(ids), None) => (Some(ids), None),
        (None, Some(filters)) => (None, Some(filters)),
        _ => return Err(invalid_parameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.")),
    };
    if ids.is_some() && (input.max_results.is_some() || input.next_token.is_some()) {
        return Err(invalid_parameter("'Filters' must be provided with 'MaxResults' or 'NextToken'."));
    }
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut next_token = None;
    {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let entry = |s: &Secret, v: &Version| {
            let (secret_string, secret_binary) = value_fields(&v.value);
            SecretValueEntry {
                arn: Some(s.arn.clone()),
                name: Some(s.name.clone()),
                version_id: Some(v.id.clone()),
                secret_binary,
                secret_string,
                version_stages: Some(v.stages.clone()),
                created_date: Some(ts(v.created)),
            }
        };
        if let Some(ids) = ids {
            for id in ids {
                let got = find(&region, &ctx, &id).and_then(|s| {
                    if s.deleted.is_some() {
                        return Err(marked_for_deletion());
                    }
                    Ok((s, select(s, None, None)?))
                });
                match got {
                    Ok((s, v)) => values.push(entry(s, v)),
                    Err(e) => errors.push(APIErrorType {
                        secret_id: Some(id),
                        error_code: Some(e.code.to_string()),
                        message: Some(e.message),
                    }),
                }
            }
        } else {
            let filters = filters.unwrap_or_default();
            let offset = input.next_token.as_deref().map(parse_offset_token).transpose()?.unwrap_or(0);
            let limit = input.max_results.unwrap_or(20).clamp(1, 20) as usize;
            let mut matched = Vec::new();
            for s in region.secrets.values().filter(|s| s.deleted.is_none()) {
                if super::secrets::passes(s, &filters, &ctx.region)?
                    && let Some(v) = s.version_with_stage(AWSCURRENT)
                {
                    matched.push((s, v));
                }
            }
            values.extend(matched.iter().skip(offset).take(limit).map(|(s, v)| entry(s, v)));
            let next = offset + values.len();
            next_token = (next < matched.len()).then(|| offset_token(next));
        }
    }
    for v in &values {
        record_access(&state, &ctx, v.name.as_deref().unwrap_or(""), v.version_id.as_deref().unwrap_or(""));
    }
    Ok(BatchGetSecretValueResponse { secret_values: Some(values), next_token, errors: Some(errors) })
}

pub async fn put_secret_value(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: PutSecretValueRequest,
) -> Result<PutSecretValueResponse, AwsError> {
    let value = value_of(input.secret_string, input.secret_binary)?
        .ok_or_else(|| invalid_parameter("You must provide either SecretString or SecretBinary."))?;
    let stages = input.version_stages.unwrap_or_else(|| vec![AWSCURRENT.to_string()]);
    if stages.len() > MAX_STAGES_PER_VERSION {
        return Err(AwsError::bad_request(
            "LimitExceededException",
            format!("A version can have at most {MAX_STAGES_PER_VERSION} staging labels."),
        ));
    }
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    let id = input.client_request_token.unwrap_or_else(new_version_id);
    put_version(&mut s, &id, value, &stages, now)?;
    let version_stages = s.version(&id).map(|v| v.stages.clone());
    let out = PutSecretValueResponse {
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        version_id: Some(id),
        version_stages,
    };
    region.save(s)?;
    Ok(out)
}

pub async fn list_secret_version_ids(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: ListSecretVersionIdsRequest,
) -> Result<ListSecretVersionIdsResponse, AwsError> {
    let offset = input.next_token.as_deref().map(parse_offset_token).transpose()?.unwrap_or(0);
    let limit = input.max_results.unwrap_or(100).clamp(1, 100) as usize;
    let include_deprecated = input.include_deprecated.unwrap_or(false);
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let s = find(&region, &ctx, &input.secret_id)?;
    let kms = s.kms_key_id.clone().unwrap_or_else(|| "DEFAULT".into());
    let all: Vec<&Version> = s.versions.iter().rev().filter(|v| include_deprecated || !v.stages.is_empty()).collect();
    let versions: Vec<_> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| SecretVersionsListEntry {
            version_id: Some(v.id.clone()),
            version_stages: Some(v.stages.clone()),
            last_accessed_date: v.last_accessed.map(ts),
            created_date: Some(ts(v.created)),
            kms_key_ids: Some(vec![kms.clone()]),
        })
        .collect();
    let next = offset + versions.len();
    Ok(ListSecretVersionIdsResponse {
        next_token: (next < all.len()).then(|| offset_token(next)),
        versions: Some(versions),
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
    })
}

pub async fn update_secret_version_stage(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: UpdateSecretVersionStageRequest,
) -> Result<UpdateSecretVersionStageResponse, AwsError> {
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut secret = find_live(&region, &ctx, &input.secret_id)?;
    let s = &mut secret;
    let stage = input.version_stage.as_str();
    let index_of = |s: &Secret, id: &str| {
        s.versions.iter().position(|v| v.id == id).ok_or_else(|| {
            AwsError::bad_request(
                "ResourceNotFoundException",
                format!("Secrets Manager can't find the specified secret value for VersionId: {id}"),
            )
        })
    };
    let holder = s.version_with_stage(stage).map(|v| v.id.clone());
    if let Some(from) = &input.remove_from_version_id {
        index_of(s, from)?;
        if holder.as_deref() != Some(from.as_str()) {
            return Err(invalid_parameter(format!(
                "The staging label {stage} is not attached to the version {from}, so you can't remove it from that version."
            )));
        }
    }
    match &input.move_to_version_id {
        Some(to) => {
            let target = index_of(s, to)?;
            if let Some(h) = &holder
                && h != to
                && input.remove_from_version_id.as_deref() != Some(h.as_str())
            {
                return Err(invalid_parameter(format!(
                    "The parameter RemoveFromVersionId can't be empty. Staging label {stage} is currently attached to \
                     version {h}, so you must explicitly reference that version in RemoveFromVersionId."
                )));
            }
            if s.versions[target].stages.len() >= MAX_STAGES_PER_VERSION && holder.as_deref() != Some(to.as_str()) {
                return Err(AwsError::bad_request(
                    "LimitExceededException",
                    format!("A version can have at most {MAX_STAGES_PER_VERSION} staging labels."),
                ));
            }
            s.attach_stage(target, stage);
        }
        None => {
            if stage == AWSCURRENT && input.remove_from_version_id.is_some() {
                return Err(invalid_parameter(
                    "You can only move staging label AWSCURRENT to a different secret version. It can't be completely \
                     removed.",
                ));
            }
            if let Some(from) = &input.remove_from_version_id {
                let index = index_of(s, from)?;
                s.detach_stage(index, stage);
            }
        }
    }
    s.last_changed = now;
    let out = UpdateSecretVersionStageResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()) };
    region.save(secret)?;
    Ok(out)
}
