//! Secrets as resources: create, describe, update, delete and restore, list; random passwords.

use super::*;
use crate::generated::types::*;
use crate::password;
use crate::state::{AWSCURRENT, Rotation, Secret, SecretsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const DAY: i64 = 86_400_000;

/// Characters AWS allows in secret names.
fn valid_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

pub async fn create_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: CreateSecretRequest,
) -> Result<CreateSecretResponse, AwsError> {
    if !valid_name(&input.name) {
        return Err(invalid_parameter(
            "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
        ));
    }
    let value = value_of(input.secret_string, input.secret_binary)?;
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    region.purge_expired(now)?;
    if let Some(existing) = region.secrets.get(&input.name) {
        if existing.deleted.is_some() {
            return Err(invalid_request(
                "You can't create this secret because a secret with this name is already scheduled for deletion.",
            ));
        }
        // A retried request (same token, same value) is answered as the first one was; the same
        // token with another value is refused as in PutSecretValue.
        if let (Some(token), Some(value)) = (&input.client_request_token, &value)
            && let Some(version) = existing.version(token)
        {
            if &version.value != value {
                return Err(super::values::token_in_use(token, &existing.arn));
            }
            return Ok(CreateSecretResponse {
                arn: Some(existing.arn.clone()),
                name: Some(existing.name.clone()),
                version_id: Some(token.clone()),
                replication_status: None,
            });
        }
        return Err(AwsError::bad_request(
            "ResourceExistsException",
            format!("The operation failed because the secret {} already exists.", input.name),
        ));
    }
    let arn = ctx.arn("secretsmanager", &format!("secret:{}-{}", input.name, arn_suffix()));
    let mut secret = Secret {
        name: input.name.clone(),
        arn,
        description: input.description,
        kms_key_id: input.kms_key_id.filter(|k| !k.is_empty()),
        secret_type: input.r#type,
        tags: Vec::new(),
        created: now,
        last_changed: now,
        last_accessed: None,
        deleted: None,
        deletion_date: None,
        versions: Vec::new(),
        rotation: Rotation::default(),
        policy: None,
        replica_regions: Vec::new(),
        replica_failures: Default::default(),
        primary_region: None,
    };
    tags::merge(&mut secret, input.tags.unwrap_or_default())?;
    for replica in input.add_replica_regions.unwrap_or_default() {
        let r = super::replication::replica_region(&ctx, replica.region.as_deref())?;
        if !secret.replica_regions.iter().any(|(x, _)| *x == r) {
            secret.replica_regions.push((r, replica.kms_key_id));
        }
    }
    let version_id = value.map(|value| {
        let id = input.client_request_token.unwrap_or_else(new_version_id);
        secret.add_version(id.clone(), value, &[AWSCURRENT.to_string()], now);
        id
    });
    let (arn, name, replicated) = (secret.arn.clone(), secret.name.clone(), !secret.replica_regions.is_empty());
    region.save(secret)?;
    drop(region);
    let replication_status = if replicated { super::replication::replicate(&state, &ctx, &name, false)? } else { None };
    Ok(CreateSecretResponse { arn: Some(arn), name: Some(name), version_id, replication_status })
}

/// The replicas of a primary secret as AWS reports them (none for a replica or a secret
/// without replicas).
pub(crate) fn replication_status(secret: &Secret) -> Option<Vec<ReplicationStatusType>> {
    (!secret.replica_regions.is_empty()).then(|| {
        secret
            .replica_regions
            .iter()
            .map(|(region, kms)| {
                let failure = secret.replica_failures.get(region);
                ReplicationStatusType {
                    region: Some(region.clone()),
                    kms_key_id: Some(kms.clone().unwrap_or_else(|| "alias/aws/secretsmanager".into())),
                    status: Some(if failure.is_some() { "Failed" } else { "InSync" }.into()),
                    status_message: Some(failure.cloned().unwrap_or_else(|| "Replication succeeded".into())),
                    last_accessed_date: None,
                }
            })
            .collect()
    })
}

/// The PrimaryRegion AWS shows: a replica's primary, or the secret's own region when it has
/// replicas; none for a single-region secret.
pub(crate) fn primary_region(secret: &Secret, region: &str) -> Option<String> {
    secret.primary_region.clone().or_else(|| (!secret.replica_regions.is_empty()).then(|| region.to_string()))
}

fn tags_out(secret: &Secret) -> Option<Vec<Tag>> {
    (!secret.tags.is_empty())
        .then(|| secret.tags.iter().map(|(k, v)| Tag { key: Some(k.clone()), value: Some(v.clone()) }).collect())
}

fn rotation_rules(r: &Rotation) -> Option<RotationRulesType> {
    (r.automatically_after_days.is_some() || r.schedule_expression.is_some() || r.duration.is_some()).then(|| {
        RotationRulesType {
            automatically_after_days: r.automatically_after_days,
            duration: r.duration.clone(),
            schedule_expression: r.schedule_expression.clone(),
        }
    })
}

pub async fn describe_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: DescribeSecretRequest,
) -> Result<DescribeSecretResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let s = find(&region, &ctx, &input.secret_id)?;
    let now = now_millis();
    if s.deletion_date.is_some_and(|d| d <= now) {
        return Err(secret_not_found());
    }
    Ok(DescribeSecretResponse {
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        r#type: s.secret_type.clone(),
        description: s.description.clone(),
        kms_key_id: s.kms_key_id.clone(),
        rotation_enabled: s.rotation.enabled,
        rotation_lambda_arn: s.rotation.lambda_arn.clone(),
        rotation_rules: rotation_rules(&s.rotation),
        last_rotated_date: s.rotation.last_rotated.map(ts),
        last_changed_date: Some(ts(s.last_changed)),
        last_accessed_date: s.last_accessed.map(ts),
        deleted_date: s.deleted.map(ts),
        next_rotation_date: s.rotation.next_rotation.map(ts),
        tags: tags_out(s),
        version_ids_to_stages: s.versions_to_stages(),
        created_date: Some(ts(s.created)),
        primary_region: primary_region(s, &ctx.region),
        replication_status: replication_status(s),
        ..Default::default()
    })
}

pub async fn update_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: UpdateSecretRequest,
) -> Result<UpdateSecretResponse, AwsError> {
    let value = value_of(input.secret_string, input.secret_binary)?;
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    let version_id = match value {
        Some(value) => {
            let id = input.client_request_token.unwrap_or_else(new_version_id);
            values::put_version(&mut s, &id, value, &[AWSCURRENT.to_string()], now)?;
            Some(id)
        }
        None => None,
    };
    if let Some(d) = input.description {
        s.description = Some(d);
        s.last_changed = now;
    }
    if let Some(k) = input.kms_key_id {
        s.kms_key_id = (!k.is_empty()).then_some(k);
        s.last_changed = now;
    }
    if let Some(t) = input.r#type {
        s.secret_type = Some(t);
    }
    let out = UpdateSecretResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()), version_id };
    region.save(s)?;
    Ok(out)
}

pub async fn delete_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: DeleteSecretRequest,
) -> Result<DeleteSecretResponse, AwsError> {
    let force = input.force_delete_without_recovery.unwrap_or(false);
    if force && input.recovery_window_in_days.is_some() {
        return Err(invalid_parameter(
            "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        ));
    }
    let days = input.recovery_window_in_days.unwrap_or(30);
    if !(7..=30).contains(&days) {
        return Err(invalid_parameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."));
    }
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    region.purge_expired(now)?;
    let name = resolve(&region, &ctx, &input.secret_id).ok_or_else(secret_not_found)?.to_string();
    let mut s = region.secrets.get(&name).ok_or_else(secret_not_found)?.clone();
    not_on_replica(&s)?;
    if !s.replica_regions.is_empty() {
        let regions: Vec<&str> = s.replica_regions.iter().map(|(r, _)| r.as_str()).collect();
        return Err(invalid_parameter(format!(
            "You can't delete secret {} that still has replica regions [{}]",
            s.arn,
            regions.join(", ")
        )));
    }
    if force {
        region.remove(std::slice::from_ref(&name))?;
        return Ok(DeleteSecretResponse { arn: Some(s.arn), name: Some(s.name), deletion_date: Some(ts(now)) });
    }
    if s.deleted.is_some() {
        return Err(invalid_request(
            "You can't perform this operation on the secret because it was already scheduled for deletion.",
        ));
    }
    let deletion_date = now + days * DAY;
    s.deleted = Some(now);
    s.deletion_date = Some(deletion_date);
    let out = DeleteSecretResponse {
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        deletion_date: Some(ts(deletion_date)),
    };
    region.save(s)?;
    Ok(out)
}

pub async fn restore_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: RestoreSecretRequest,
) -> Result<RestoreSecretResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    region.purge_expired(now_millis())?;
    let name = resolve(&region, &ctx, &input.secret_id).ok_or_else(secret_not_found)?.to_string();
    let mut s = region.secrets.get(&name).ok_or_else(secret_not_found)?.clone();
    not_on_replica(&s)?;
    s.deleted = None;
    s.deletion_date = None;
    let out = RestoreSecretResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()) };
    region.save(s)?;
    Ok(out)
}

/// Whether a secret passes ListSecrets / BatchGetSecretValue filters: every filter, one of its
/// values each; values match by prefix, `!` negates.
pub(crate) fn passes(secret: &Secret, filters: &[Filter], region: &str) -> Result<bool, AwsError> {
    for f in filters {
        let key = f.key.as_deref().unwrap_or("");
        let values = f.values.as_deref().unwrap_or(&[]);
        if values.is_empty() {
            return Err(invalid_parameter(format!("Invalid filter values for key: {key}")));
        }
        let any = values.iter().any(|v| {
            let (negate, v) = match v.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, v.as_str()),
            };
            let hit = match key {
                "name" => secret.name.starts_with(v),
                "description" => secret.description.as_deref().is_some_and(|d| d.starts_with(v)),
                "tag-key" => secret.tags.iter().any(|(k, _)| k.starts_with(v)),
                "tag-value" => secret.tags.iter().any(|(_, val)| val.starts_with(v)),
                "primary-region" => primary_region(secret, region).is_some_and(|p| p.starts_with(v)),
                "owning-service" => false,
                // `all` searches names, descriptions and tags, ignoring case.
                _ => {
                    let needle = v.to_lowercase();
                    let has = |s: &str| s.to_lowercase().contains(&needle);
                    has(&secret.name)
                        || secret.description.as_deref().is_some_and(has)
                        || secret.tags.iter().any(|(k, val)| has(k) || has(val))
                }
            };
            hit != negate
        });
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}

pub async fn list_secrets(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: ListSecretsRequest,
) -> Result<ListSecretsResponse, AwsError> {
    let offset = input.next_token.as_deref().map(parse_offset_token).transpose()?.unwrap_or(0);
    let limit = input.max_results.unwrap_or(100).clamp(1, 100) as usize;
    let filters = input.filters.unwrap_or_default();
    let include_deleted = input.include_planned_deletion.unwrap_or(false);
    let now = now_millis();
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let mut found = Vec::new();
    for s in region.secrets.values() {
        if s.deletion_date.is_some_and(|d| d <= now) || (s.deleted.is_some() && !include_deleted) {
            continue;
        }
        if passes(s, &filters, &ctx.region)? {
            found.push(s);
        }
    }
    match input.sort_by.as_deref().unwrap_or("created-date") {
        "name" => found.sort_by(|a, b| a.name.cmp(&b.name)),
        "last-changed-date" => found.sort_by_key(|s| s.last_changed),
        "last-accessed-date" => found.sort_by_key(|s| s.last_accessed.unwrap_or(0)),
        _ => found.sort_by_key(|s| s.created),
    }
    if input.sort_order.as_deref() == Some("desc") {
        found.reverse();
    }
    let page: Vec<SecretListEntry> =
        found.iter().skip(offset).take(limit).map(|s| list_entry(s, &ctx.region)).collect();
    let next = offset + page.len();
    let next_token = (next < found.len()).then(|| offset_token(next));
    Ok(ListSecretsResponse { secret_list: Some(page), next_token })
}

fn list_entry(s: &Secret, region: &str) -> SecretListEntry {
    SecretListEntry {
        arn: Some(s.arn.clone()),
        name: Some(s.name.clone()),
        r#type: s.secret_type.clone(),
        description: s.description.clone(),
        kms_key_id: s.kms_key_id.clone(),
        rotation_enabled: s.rotation.enabled,
        rotation_lambda_arn: s.rotation.lambda_arn.clone(),
        rotation_rules: rotation_rules(&s.rotation),
        last_rotated_date: s.rotation.last_rotated.map(ts),
        last_changed_date: Some(ts(s.last_changed)),
        last_accessed_date: s.last_accessed.map(ts),
        deleted_date: s.deleted.map(ts),
        next_rotation_date: s.rotation.next_rotation.map(ts),
        tags: tags_out(s),
        secret_versions_to_stages: s.versions_to_stages(),
        created_date: Some(ts(s.created)),
        primary_region: primary_region(s, region),
        ..Default::default()
    }
}

pub async fn get_random_password(
    _state: Arc<SecretsState>,
    _ctx: RequestContext,
    input: GetRandomPasswordRequest,
) -> Result<GetRandomPasswordResponse, AwsError> {
    let defaults = password::Options::default();
    let options = password::Options {
        length: input.password_length.map_or(defaults.length, |n| n.max(0) as usize),
        exclude_characters: input.exclude_characters.unwrap_or_default(),
        exclude_numbers: input.exclude_numbers.unwrap_or(false),
        exclude_punctuation: input.exclude_punctuation.unwrap_or(false),
        exclude_uppercase: input.exclude_uppercase.unwrap_or(false),
        exclude_lowercase: input.exclude_lowercase.unwrap_or(false),
        include_space: input.include_space.unwrap_or(false),
        require_each_included_type: input.require_each_included_type.unwrap_or(true),
    };
    let password = password::generate(&options).map_err(invalid_parameter)?;
    Ok(GetRandomPasswordResponse { random_password: Some(password) })
}
