//! RotateSecret and CancelRotateSecret. Rotation settings are recorded here; running the rotation
//! function goes through [`crate::rotation::Rotator`] once one is installed.

use super::*;
use crate::generated::types::*;
use crate::rotation::STEPS;
use crate::state::{AWSCURRENT, AWSPENDING, SecretsState, now_millis};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

const DAY: i64 = 86_400_000;

/// Days between rotations of `rate(N days)` / `rate(N hours)` schedules; `cron(…)` is accepted
/// without a computed next date.
fn schedule_days(expr: &str) -> Result<Option<f64>, AwsError> {
    let bad = || invalid_parameter(format!("Invalid ScheduleExpression: {expr}"));
    if let Some(inner) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (n, unit) = inner.trim().split_once(' ').ok_or_else(bad)?;
        let n = f64::from(n.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(bad)?);
        return match unit.trim() {
            "day" | "days" => Ok(Some(n)),
            "hour" | "hours" => Ok(Some(n / 24.0)),
            _ => Err(bad()),
        };
    }
    if expr.starts_with("cron(") && expr.ends_with(')') {
        return Ok(None);
    }
    Err(bad())
}

pub async fn rotate_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: RotateSecretRequest,
) -> Result<RotateSecretResponse, AwsError> {
    let now = now_millis();
    let token = input.client_request_token.clone().unwrap_or_else(new_version_id);
    let (arn, name, lambda_arn) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut s = find_live(&region, &ctx, &input.secret_id)?;
        let lambda_arn = input
            .rotation_lambda_arn
            .clone()
            .or_else(|| s.rotation.lambda_arn.clone())
            .ok_or_else(|| invalid_request("No Lambda rotation function ARN is associated with this secret."))?;
        let current = s.version_with_stage(AWSCURRENT).map(|v| v.id.clone());
        if let Some(pending) = s.version_with_stage(AWSPENDING)
            && Some(&pending.id) != current.as_ref()
            && pending.id != token
        {
            return Err(invalid_request("A previous rotation isn't complete. That rotation will be reattempted."));
        }
        if let Some(rules) = &input.rotation_rules {
            if rules.automatically_after_days.is_some() && rules.schedule_expression.is_some() {
                return Err(invalid_parameter(
                    "You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.",
                ));
            }
            let every = match (&rules.schedule_expression, rules.automatically_after_days) {
                (Some(expr), _) => schedule_days(expr)?,
                (None, Some(days)) => Some(days as f64),
                (None, None) => None,
            };
            s.rotation.automatically_after_days = rules.automatically_after_days;
            s.rotation.schedule_expression = rules.schedule_expression.clone();
            s.rotation.duration = rules.duration.clone();
            s.rotation.next_rotation = every.map(|d| now.saturating_add((d * DAY as f64) as i64));
        }
        s.rotation.enabled = Some(true);
        s.rotation.lambda_arn = Some(lambda_arn.clone());
        let out = (s.arn.clone(), s.name.clone(), lambda_arn);
        region.save(s)?;
        out
    };

    let rotator = state.rotator.read().clone();
    if input.rotate_immediately.unwrap_or(true)
        && let Some(rotator) = rotator
    {
        // The function calls back into this service, so no lock is held while it runs.
        for step in STEPS {
            rotator
                .invoke(&lambda_arn, step, &arn, &token)
                .await
                .map_err(|e| invalid_request(format!("Rotation failed at step {step}: {e}")))?;
        }
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        if let Some(s) = region.secrets.get(&name) {
            let mut s = s.clone();
            s.rotation.last_rotated = Some(now_millis());
            // A finished rotation leaves AWSPENDING on no version besides the current one.
            if let Some(i) = s.versions.iter().position(|v| v.id == token)
                && s.versions[i].stages.iter().any(|st| st == AWSCURRENT)
            {
                s.detach_stage(i, AWSPENDING);
            }
            region.save(s)?;
        }
    }
    Ok(RotateSecretResponse { arn: Some(arn), name: Some(name), version_id: Some(token) })
}

pub async fn cancel_rotate_secret(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: CancelRotateSecretRequest,
) -> Result<CancelRotateSecretResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let mut s = find_live(&region, &ctx, &input.secret_id)?;
    if s.rotation.enabled.is_none() {
        return Err(invalid_request("Secret does not have rotation enabled."));
    }
    s.rotation.enabled = Some(false);
    s.rotation.next_rotation = None;
    let pending = s.version_with_stage(AWSPENDING).map(|v| v.id.clone());
    let out = CancelRotateSecretResponse { arn: Some(s.arn.clone()), name: Some(s.name.clone()), version_id: pending };
    region.save(s)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert_eq!(schedule_days("rate(10 days)").unwrap(), Some(10.0));
        assert_eq!(schedule_days("rate(12 hours)").unwrap(), Some(0.5));
        assert_eq!(schedule_days("cron(0 16 1,15 * ? *)").unwrap(), None);
        assert!(schedule_days("every day").is_err());
        assert!(schedule_days("rate(x days)").is_err());
        assert!(schedule_days("rate(0 days)").is_err());
        assert!(schedule_days("rate(-3 days)").is_err());
        assert!(schedule_days("rate(NaN days)").is_err());
    }
}
