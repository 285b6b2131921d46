//! Multi-Region secrets: a primary secret keeps copies (replicas) in other regions of its
//! account. A replica has the primary's name, versions, values, tags and policy, the primary's
//! ARN with its own region, and its own KMS key; it is refreshed whenever the primary changes
//! (see [`SecretsState::sync_replicas`]) and refuses changes of its own until promoted.

use super::*;
use crate::generated::types::*;
use crate::state::SecretsState;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// A region a secret may be replicated to: named, and not the primary's own.
pub(crate) fn replica_region(ctx: &RequestContext, region: Option<&str>) -> Result<String, AwsError> {
    match region {
        Some(r) if !r.is_empty() && r != &*ctx.region => Ok(r.to_string()),
        _ => Err(invalid_parameter("Invalid replica region.")),
    }
}

/// Writes the replicas of primary secret `name` of the caller's region, records the regions
/// where that failed, and answers the secret's replication status.
pub(crate) fn replicate(
    state: &SecretsState,
    ctx: &RequestContext,
    name: &str,
    overwrite: bool,
) -> Result<Option<Vec<ReplicationStatusType>>, AwsError> {
    let failed = state.sync_replicas(&ctx.account_id, &ctx.region, name, overwrite)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let Some(secret) = region.secrets.get(name) else { return Ok(None) };
    if failed.is_empty() {
        return Ok(super::secrets::replication_status(secret));
    }
    let mut secret = secret.clone();
    secret.replica_failures.extend(failed);
    let status = super::secrets::replication_status(&secret);
    region.save(secret)?;
    Ok(status)
}

pub async fn replicate_secret_to_regions(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: ReplicateSecretToRegionsRequest,
) -> Result<ReplicateSecretToRegionsResponse, AwsError> {
    let overwrite = input.force_overwrite_replica_secret.unwrap_or(false);
    let (arn, name, requested) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut s = find_live(&region, &ctx, &input.secret_id)?;
        let mut requested = Vec::new();
        for replica in &input.add_replica_regions {
            let r = replica_region(&ctx, replica.region.as_deref())?;
            match s.replica_regions.iter_mut().find(|(x, _)| *x == r) {
                Some(existing) => existing.1 = replica.kms_key_id.clone(),
                None => s.replica_regions.push((r.clone(), replica.kms_key_id.clone())),
            }
            // Asking again retries a region whose replication failed.
            s.replica_failures.remove(&r);
            requested.push(r);
        }
        let out = (s.arn.clone(), s.name.clone(), requested);
        region.save(s)?;
        out
    };
    let status = replicate(&state, &ctx, &name, overwrite)?.unwrap_or_default();
    let replication_status =
        status.into_iter().filter(|st| st.region.as_ref().is_some_and(|r| requested.contains(r))).collect();
    Ok(ReplicateSecretToRegionsResponse { arn: Some(arn), replication_status: Some(replication_status) })
}

pub async fn remove_regions_from_replication(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: RemoveRegionsFromReplicationRequest,
) -> Result<RemoveRegionsFromReplicationResponse, AwsError> {
    let (arn, name, removed, status) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut s = find_live(&region, &ctx, &input.secret_id)?;
        // Regions that are not replicas are ignored, so removing twice succeeds.
        let removed: Vec<String> = s
            .replica_regions
            .iter()
            .map(|(r, _)| r.clone())
            .filter(|r| input.remove_replica_regions.contains(r))
            .collect();
        s.replica_regions.retain(|(r, _)| !removed.contains(r));
        for r in &removed {
            s.replica_failures.remove(r);
        }
        let out = (s.arn.clone(), s.name.clone(), removed, super::secrets::replication_status(&s).unwrap_or_default());
        region.save(s)?;
        out
    };
    for target in &removed {
        state.drop_replica(&ctx.account_id, &ctx.region, target, &name)?;
    }
    Ok(RemoveRegionsFromReplicationResponse { arn: Some(arn), replication_status: Some(status) })
}

pub async fn stop_replication_to_replica(
    state: Arc<SecretsState>,
    ctx: RequestContext,
    input: StopReplicationToReplicaRequest,
) -> Result<StopReplicationToReplicaResponse, AwsError> {
    let (arn, name, primary) = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let mut region = region.write();
        let mut s = find(&region, &ctx, &input.secret_id)?.clone();
        let Some(primary) = s.primary_region.take() else {
            return Err(invalid_request("The secret is not a replica secret."));
        };
        let out = (s.arn.clone(), s.name.clone(), primary);
        region.save(s)?;
        out
    };
    state.forget_replica(&ctx.account_id, &primary, &ctx.region, &name)?;
    Ok(StopReplicationToReplicaResponse { arn: Some(arn) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::{secrets, values};

    fn in_region(region: &str) -> RequestContext {
        let mut ctx = RequestContext::for_tests("test");
        ctx.region = Arc::from(region);
        ctx
    }

    async fn value(state: &Arc<SecretsState>, ctx: &RequestContext, id: &str) -> Result<String, AwsError> {
        let got = values::get_secret_value(
            state.clone(),
            ctx.clone(),
            GetSecretValueRequest { secret_id: id.into(), ..Default::default() },
        )
        .await?;
        Ok(got.secret_string.unwrap_or_default())
    }

    #[tokio::test]
    async fn replicas_follow_their_primary_refuse_changes_and_can_be_promoted() {
        let state = Arc::new(SecretsState::default());
        let (east, west) = (in_region("us-east-1"), in_region("eu-west-1"));
        let created = secrets::create_secret(
            state.clone(),
            east.clone(),
            CreateSecretRequest { name: "db".into(), secret_string: Some("v1".into()), ..Default::default() },
        )
        .await
        .unwrap();
        let arn = created.arn.unwrap();
        let replica_arn = arn.replace("us-east-1", "eu-west-1");
        let out = replicate_secret_to_regions(
            state.clone(),
            east.clone(),
            ReplicateSecretToRegionsRequest {
                secret_id: arn.clone(),
                add_replica_regions: vec![ReplicaRegionType { region: Some("eu-west-1".into()), kms_key_id: None }],
                force_overwrite_replica_secret: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(out.replication_status.unwrap()[0].status.as_deref(), Some("InSync"));
        assert_eq!(value(&state, &west, &replica_arn).await.unwrap(), "v1");

        // A change of the primary reaches the replica by the next request.
        values::put_secret_value(
            state.clone(),
            east.clone(),
            PutSecretValueRequest { secret_id: "db".into(), secret_string: Some("v2".into()), ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(value(&state, &west, "db").await.unwrap(), "v2");
        let refused = values::put_secret_value(
            state.clone(),
            west.clone(),
            PutSecretValueRequest { secret_id: "db".into(), secret_string: Some("x".into()), ..Default::default() },
        )
        .await
        .unwrap_err();
        assert_eq!(refused.code, "InvalidParameterException");
        let described =
            secrets::describe_secret(state.clone(), west.clone(), DescribeSecretRequest { secret_id: "db".into() })
                .await
                .unwrap();
        assert_eq!(described.primary_region.as_deref(), Some("us-east-1"));
        assert_eq!(described.arn.as_deref(), Some(replica_arn.as_str()));

        // Promotion detaches it: the primary forgets the region, later changes stay home.
        stop_replication_to_replica(
            state.clone(),
            west.clone(),
            StopReplicationToReplicaRequest { secret_id: "db".into() },
        )
        .await
        .unwrap();
        let primary =
            secrets::describe_secret(state.clone(), east.clone(), DescribeSecretRequest { secret_id: "db".into() })
                .await
                .unwrap();
        assert!(primary.replication_status.is_none());
        values::put_secret_value(
            state.clone(),
            east.clone(),
            PutSecretValueRequest { secret_id: "db".into(), secret_string: Some("v3".into()), ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(value(&state, &west, "db").await.unwrap(), "v2");
        let again = stop_replication_to_replica(
            state.clone(),
            west,
            StopReplicationToReplicaRequest { secret_id: "db".into() },
        )
        .await
        .unwrap_err();
        assert_eq!(again.code, "InvalidRequestException");
    }

    #[tokio::test]
    async fn an_existing_secret_fails_replication_unless_overwritten_and_removal_deletes_replicas() {
        let state = Arc::new(SecretsState::default());
        let (east, west) = (in_region("us-east-1"), in_region("eu-west-1"));
        for (ctx, v) in [(&east, "mine"), (&west, "theirs")] {
            secrets::create_secret(
                state.clone(),
                ctx.clone(),
                CreateSecretRequest { name: "db".into(), secret_string: Some(v.into()), ..Default::default() },
            )
            .await
            .unwrap();
        }
        let request = |force| ReplicateSecretToRegionsRequest {
            secret_id: "db".into(),
            add_replica_regions: vec![ReplicaRegionType { region: Some("eu-west-1".into()), kms_key_id: None }],
            force_overwrite_replica_secret: Some(force),
        };
        let out = replicate_secret_to_regions(state.clone(), east.clone(), request(false)).await.unwrap();
        let status = &out.replication_status.unwrap()[0];
        assert_eq!(status.status.as_deref(), Some("Failed"));
        assert_eq!(
            status.status_message.as_deref(),
            Some("Replication failed: Secret name db already exists in region eu-west-1.")
        );
        assert_eq!(value(&state, &west, "db").await.unwrap(), "theirs");
        let out = replicate_secret_to_regions(state.clone(), east.clone(), request(true)).await.unwrap();
        assert_eq!(out.replication_status.unwrap()[0].status.as_deref(), Some("InSync"));
        assert_eq!(value(&state, &west, "db").await.unwrap(), "mine");

        let deleting = secrets::delete_secret(
            state.clone(),
            east.clone(),
            DeleteSecretRequest { secret_id: "db".into(), ..Default::default() },
        )
        .await
        .unwrap_err();
        assert!(deleting.message.ends_with("that still has replica regions [eu-west-1]"), "{}", deleting.message);
        let same = replicate_secret_to_regions(
            state.clone(),
            east.clone(),
            ReplicateSecretToRegionsRequest {
                secret_id: "db".into(),
                add_replica_regions: vec![ReplicaRegionType { region: Some("us-east-1".into()), kms_key_id: None }],
                force_overwrite_replica_secret: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(same.message, "Invalid replica region.");
        for _ in 0..2 {
            let out = remove_regions_from_replication(
                state.clone(),
                east.clone(),
                RemoveRegionsFromReplicationRequest {
                    secret_id: "db".into(),
                    remove_replica_regions: vec!["eu-west-1".into()],
                },
            )
            .await
            .unwrap();
            assert!(out.replication_status.is_some_and(|s| s.is_empty()));
        }
        assert_eq!(value(&state, &west, "db").await.unwrap_err().code, "ResourceNotFoundException");
    }
}
