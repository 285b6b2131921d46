//! AWS Systems Manager Parameter Store for RustStack: parameters with versions, labels, tiers and
//! tags, per account and region, kept in the kv store given to [`service`] (memory, or the
//! `--data-dir`): written through on every change, loaded per account and region on first use
//! (see `persist`).

pub mod generated;

mod describe;
mod errors;
mod names;
mod paging;
mod params;
mod persist;
pub mod secrets_ref;
mod state;
mod tags;

use generated::ops;
use ruststack_core::Service;
use ruststack_core::store::Storage;
use std::sync::Arc;

pub use secrets_ref::{Pick, ReadError, SecretVersion, SecretsReader};
pub use state::Ssm;

/// The SSM service with its handler table.
/// Parameter Store with its handler table, keeping its state in `storage`.
pub fn service(storage: Storage) -> Arc<dyn Service> {
    service_with_secrets(storage, None)
}

/// Parameter Store reading `/aws/reference/secretsmanager/…` through `secrets`.
pub fn service_with_secrets(storage: Storage, secrets: Option<Arc<dyn SecretsReader>>) -> Arc<dyn Service> {
    let mut state = Ssm::new(storage);
    state.secrets = secrets;
    ruststack_core::Handlers::new(&generated::MODEL, Arc::new(state))
        .on(ops::PutParameter, params::put_parameter)
        .on(ops::GetParameter, params::get_parameter)
        .on(ops::GetParameters, params::get_parameters)
        .on(ops::DeleteParameter, params::delete_parameter)
        .on(ops::DeleteParameters, params::delete_parameters)
        .on(ops::GetParameterHistory, params::get_parameter_history)
        .on(ops::LabelParameterVersion, params::label_parameter_version)
        .on(ops::UnlabelParameterVersion, params::unlabel_parameter_version)
        .on(ops::DescribeParameters, describe::describe_parameters)
        .on(ops::GetParametersByPath, describe::get_parameters_by_path)
        .on(ops::AddTagsToResource, tags::add_tags_to_resource)
        .on(ops::RemoveTagsFromResource, tags::remove_tags_from_resource)
        .on(ops::ListTagsForResource, tags::list_tags_for_resource)
        .into_service()
}
