//! AWS Secrets Manager for RustStack: secrets with versions and staging labels, scheduled
//! deletion, tags, resource policies, rotation settings and random passwords, kept per account
//! and region.
//!
//! # Modules
//!
//! - [`state`]: what is stored, behind [`state::SecretsState::region`], and how staging labels
//!   move between versions;
//! - [`persist`]: how it sits in the kv store (`--data-dir`): written through on every change,
//!   loaded per account and region on first use;
//! - [`handlers`]: the operations, by area (secrets, values, tags, policies, rotation);
//! - [`password`]: the passwords of GetRandomPassword;
//! - [`rotation`]: the seam through which RotateSecret will run a rotation Lambda. Lambda installs
//!   a [`rotation::Rotator`] with [`SecretsHandle::set_rotator`] (from [`service_with_handle`]);
//!   without one, RotateSecret records the rotation settings only.
//!
//! Secrets whose recovery window has passed are not found from then on, and dropped from the store
//! on the next create, delete or restore in their region.

pub mod generated;
pub mod handlers;
pub mod password;
pub mod persist;
pub mod rotation;
pub mod state;

use generated::ops;
use handlers::{policy, replication, rotate, secrets, tags, values};
use ruststack_core::store::Storage;
use ruststack_core::{Handlers, Service};
use state::SecretsState;
use std::sync::Arc;

/// A handle on the Secrets Manager state for other services; clones share the state.
#[derive(Clone)]
pub struct SecretsHandle {
    state: Arc<SecretsState>,
}

impl SecretsHandle {
    /// Installs the function runner RotateSecret calls for the four rotation steps.
    pub fn set_rotator(&self, rotator: Arc<dyn rotation::Rotator>) {
        *self.state.rotator.write() = Some(rotator);
    }

    /// GetSecretValue for other services (Parameter Store's secret references), in `ctx`'s
    /// account and region.
    pub async fn get_secret_value(
        &self,
        ctx: ruststack_core::RequestContext,
        input: generated::types::GetSecretValueRequest,
    ) -> Result<generated::types::GetSecretValueResponse, ruststack_core::AwsError> {
        values::get_secret_value(self.state.clone(), ctx, input).await
    }
}

/// The Secrets Manager service with its handler table, keeping its state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with_handle(storage).0
}

/// The service and a [`SecretsHandle`] on its state.
pub fn service_with_handle(storage: Storage) -> (Arc<dyn Service>, SecretsHandle) {
    let state = Arc::new(SecretsState::new(storage));
    let service = Handlers::new(&generated::MODEL, state.clone())
        .on(ops::CreateSecret, secrets::create_secret)
        .on(ops::DescribeSecret, secrets::describe_secret)
        .on(ops::UpdateSecret, secrets::update_secret)
        .on(ops::DeleteSecret, secrets::delete_secret)
        .on(ops::RestoreSecret, secrets::restore_secret)
        .on(ops::ListSecrets, secrets::list_secrets)
        .on(ops::GetRandomPassword, secrets::get_random_password)
        .on(ops::GetSecretValue, values::get_secret_value)
        .on(ops::BatchGetSecretValue, values::batch_get_secret_value)
        .on(ops::PutSecretValue, values::put_secret_value)
        .on(ops::ListSecretVersionIds, values::list_secret_version_ids)
        .on(ops::UpdateSecretVersionStage, values::update_secret_version_stage)
        .on(ops::TagResource, tags::tag_resource)
        .on(ops::UntagResource, tags::untag_resource)
        .on(ops::PutResourcePolicy, policy::put_resource_policy)
        .on(ops::GetResourcePolicy, policy::get_resource_policy)
        .on(ops::DeleteResourcePolicy, policy::delete_resource_policy)
        .on(ops::RotateSecret, rotate::rotate_secret)
        .on(ops::CancelRotateSecret, rotate::cancel_rotate_secret)
        .on(ops::ReplicateSecretToRegions, replication::replicate_secret_to_regions)
        .on(ops::RemoveRegionsFromReplication, replication::remove_regions_from_replication)
        .on(ops::StopReplicationToReplica, replication::stop_replication_to_replica)
        .on(ops::ValidateResourcePolicy, policy::validate_resource_policy)
        .into_service();
    (service, SecretsHandle { state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use generated::types::*;
    use ruststack_core::RequestContext;

    fn ctx() -> RequestContext {
        RequestContext::for_tests("test")
    }

    #[tokio::test]
    async fn versions_deletion_and_restore() {
        let state = Arc::new(SecretsState::default());
        let created = secrets::create_secret(
            state.clone(),
            ctx(),
            CreateSecretRequest {
                name: "db".into(),
                secret_string: Some("v1".into()),
                client_request_token: Some("a".repeat(32)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(created.version_id.as_deref(), Some("a".repeat(32).as_str()));
        let arn = created.arn.unwrap();
        assert!(arn.rsplit_once('-').is_some_and(|(_, s)| s.len() == 6));
        values::put_secret_value(
            state.clone(),
            ctx(),
            PutSecretValueRequest { secret_id: arn.clone(), secret_string: Some("v2".into()), ..Default::default() },
        )
        .await
        .unwrap();
        let get = |stage: &str| {
            values::get_secret_value(
                state.clone(),
                ctx(),
                GetSecretValueRequest {
                    secret_id: "db".into(),
                    version_stage: Some(stage.into()),
                    ..Default::default()
                },
            )
        };
        assert_eq!(get("AWSCURRENT").await.unwrap().secret_string.as_deref(), Some("v2"));
        assert_eq!(get("AWSPREVIOUS").await.unwrap().secret_string.as_deref(), Some("v1"));

        secrets::delete_secret(
            state.clone(),
            ctx(),
            DeleteSecretRequest { secret_id: "db".into(), recovery_window_in_days: Some(7), ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(get("AWSCURRENT").await.unwrap_err().code, "InvalidRequestException");
        secrets::restore_secret(state.clone(), ctx(), RestoreSecretRequest { secret_id: "db".into() }).await.unwrap();
        assert_eq!(get("AWSCURRENT").await.unwrap().secret_string.as_deref(), Some("v2"));
    }
}

#[cfg(test)]
mod rotation_tests {
    use super::*;
    use generated::types::*;
    use ruststack_core::RequestContext;
    use ruststack_core::service::BoxFuture;

    /// A rotation function doing what AWS's templates do: createSecret puts an AWSPENDING
    /// version under the token, finishSecret moves AWSCURRENT onto it.
    struct TemplateRotator {
        state: Arc<SecretsState>,
        steps: parking_lot::Mutex<Vec<&'static str>>,
    }

    impl rotation::Rotator for TemplateRotator {
        fn invoke(&self, _lambda: &str, step: &'static str, arn: &str, token: &str) -> BoxFuture<Result<(), String>> {
            self.steps.lock().push(step);
            let (state, arn, token) = (self.state.clone(), arn.to_string(), token.to_string());
            Box::pin(async move {
                let ctx = RequestContext::for_tests("rotation");
                match step {
                    "createSecret" => values::put_secret_value(
                        state,
                        ctx,
                        PutSecretValueRequest {
                            secret_id: arn,
                            client_request_token: Some(token),
                            secret_string: Some("rotated".into()),
                            version_stages: Some(vec!["AWSPENDING".into()]),
                            ..Default::default()
                        },
                    )
                    .await
                    .map(|_| ()),
                    "finishSecret" => {
                        let current = values::get_secret_value(
                            state.clone(),
                            ctx.clone(),
                            GetSecretValueRequest { secret_id: arn.clone(), ..Default::default() },
                        )
                        .await
                        .map_err(|e| e.message)?
                        .version_id;
                        values::update_secret_version_stage(
                            state,
                            ctx,
                            UpdateSecretVersionStageRequest {
                                secret_id: arn,
                                version_stage: "AWSCURRENT".into(),
                                move_to_version_id: Some(token),
                                remove_from_version_id: current,
                            },
                        )
                        .await
                        .map(|_| ())
                    }
                    _ => Ok(()),
                }
                .map_err(|e: ruststack_core::AwsError| e.message)
            })
        }
    }

    #[tokio::test]
    async fn rotate_secret_runs_the_four_steps_and_promotes_the_new_version() {
        let (_service, handle) = service_with_handle(Storage::memory());
        let state = handle.state.clone();
        let rotator = Arc::new(TemplateRotator { state: state.clone(), steps: Default::default() });
        handle.set_rotator(rotator.clone());
        let ctx = RequestContext::for_tests("test");
        let first = secrets::create_secret(
            state.clone(),
            ctx.clone(),
            CreateSecretRequest { name: "r".into(), secret_string: Some("initial".into()), ..Default::default() },
        )
        .await
        .unwrap()
        .version_id
        .unwrap();
        let out = rotate::rotate_secret(
            state.clone(),
            ctx.clone(),
            RotateSecretRequest {
                secret_id: "r".into(),
                rotation_lambda_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:f".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(*rotator.steps.lock(), rotation::STEPS);
        let token = out.version_id.unwrap();
        let d = secrets::describe_secret(state.clone(), ctx, DescribeSecretRequest { secret_id: "r".into() })
            .await
            .unwrap();
        let stages = d.version_ids_to_stages.unwrap();
        assert_eq!(stages[&token], ["AWSCURRENT"]);
        assert_eq!(stages[&first], ["AWSPREVIOUS"]);
        assert!(d.last_rotated_date.is_some());
        assert_eq!(d.rotation_enabled, Some(true));
    }
}
