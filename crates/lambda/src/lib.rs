//! AWS Lambda for RustStack: the control plane (functions, versions, aliases, layers, permissions,
//! function URLs) and execution without containers — each execution environment is a local
//! process speaking the real Lambda Runtime API, kept warm between invocations.
//!
//! Layout: [`state`] holds what the control plane stores; [`functions`], [`versions`],
//! [`aliases`], [`layers`], [`permissions`] and [`urls`] are its handlers; [`packages`] unpacks
//! zips; [`environments`] runs the process pool, [`runtime_api`] the per-environment Runtime API
//! listener, [`bootstraps`] the Python and Node.js runtime clients shipped in the binary;
//! [`invoke`] answers Invoke; [`events`] builds API Gateway proxy events; [`logs`] frames the
//! START/END/REPORT lines written to a [`LogSink`]. [`event_sources`] and [`stream_sources`]
//! poll SQS queues and DynamoDB streams for event source mappings, filtered by [`filters`].
//! [`persist`] writes the control plane and the packages through to the server's storage
//! (`--data-dir`), loaded per account and region on first use (regions holding event source
//! mappings at startup, so their pollers resume); running environments are processes and never
//! stored.
//!
//! Everything that calls back into the gateway (functions' `AWS_ENDPOINT_URL`, pollers,
//! destinations, S3 code downloads) uses the port the server gives [`state::Lambda::with_gateway_port`],
//! never a request's `Host`, which a port mapping or virtual host may change.

pub mod aliases;
pub mod bootstraps;
pub mod environments;
pub mod event_invoke;
pub mod event_sources;
pub mod events;
pub mod filters;
pub mod functions;
pub mod generated;
mod handle;
pub mod invoke;
pub mod layers;
pub mod logs;
pub mod loopback;
pub mod packages;
pub mod permissions;
pub mod persist;
pub mod raw;
pub mod runtime_api;
pub mod s3_code;
pub mod state;
pub mod stream_sources;
pub mod urls;
pub mod versions;

pub use handle::{InvocationType, InvokeOutcome, LambdaHandle, service_with_handle};
pub use logs::{LogSink, MemoryLogSink};

use generated::ops;
use ruststack_core::{Handlers, Service};
use std::sync::Arc;

/// The Lambda service with its handler table, writing function logs to an in-memory sink.
pub fn service() -> Arc<dyn Service> {
    service_with_logs(Arc::new(MemoryLogSink::default()), ruststack_core::store::Storage::memory())
}

/// The Lambda service writing function logs (`/aws/lambda/<name>`) to `sink` and its control
/// plane through to `storage` (see [`persist`]).
pub fn service_with_logs(sink: Arc<dyn LogSink>, storage: ruststack_core::store::Storage) -> Arc<dyn Service> {
    service_over(Arc::new(state::Lambda::with_storage(sink, storage)))
}

/// The handler table over `lambda`.
fn service_over(lambda: Arc<state::Lambda>) -> Arc<dyn Service> {
    let _ = lambda.me.set(Arc::downgrade(&lambda));
    lambda.resume_event_sources();
    Handlers::new(&generated::MODEL, lambda)
        .on(ops::CreateFunction, functions::create_function)
        .on(ops::GetFunction, functions::get_function)
        .on(ops::GetFunctionConfiguration, functions::get_function_configuration)
        .on(ops::ListFunctions, functions::list_functions)
        .on(ops::DeleteFunction, functions::delete_function)
        .on(ops::UpdateFunctionCode, functions::update_function_code)
        .on(ops::UpdateFunctionConfiguration, functions::update_function_configuration)
        .on(ops::GetAccountSettings, functions::get_account_settings)
        .on(ops::PutFunctionConcurrency, functions::put_function_concurrency)
        .on(ops::GetFunctionConcurrency, functions::get_function_concurrency)
        .on(ops::DeleteFunctionConcurrency, functions::delete_function_concurrency)
        .on(ops::TagResource, functions::tag_resource)
        .on(ops::UntagResource, functions::untag_resource)
        .on(ops::ListTags, functions::list_tags)
        .on(ops::PublishVersion, versions::publish_version)
        .on(ops::ListVersionsByFunction, versions::list_versions_by_function)
        .on(ops::CreateAlias, aliases::create_alias)
        .on(ops::GetAlias, aliases::get_alias)
        .on(ops::UpdateAlias, aliases::update_alias)
        .on(ops::DeleteAlias, aliases::delete_alias)
        .on(ops::ListAliases, aliases::list_aliases)
        .on(ops::AddPermission, permissions::add_permission)
        .on(ops::RemovePermission, permissions::remove_permission)
        .on(ops::GetPolicy, permissions::get_policy)
        .on(ops::PublishLayerVersion, layers::publish_layer_version)
        .on(ops::GetLayerVersion, layers::get_layer_version)
        .on(ops::GetLayerVersionByArn, layers::get_layer_version_by_arn)
        .on(ops::ListLayers, layers::list_layers)
        .on(ops::ListLayerVersions, layers::list_layer_versions)
        .on(ops::DeleteLayerVersion, layers::delete_layer_version)
        .on(ops::CreateFunctionUrlConfig, urls::create_function_url_config)
        .on(ops::GetFunctionUrlConfig, urls::get_function_url_config)
        .on(ops::UpdateFunctionUrlConfig, urls::update_function_url_config)
        .on(ops::DeleteFunctionUrlConfig, urls::delete_function_url_config)
        .on(ops::ListFunctionUrlConfigs, urls::list_function_url_configs)
        .on(ops::GetFunctionCodeSigningConfig, functions::get_function_code_signing_config)
        .on(ops::PutFunctionEventInvokeConfig, event_invoke::put_function_event_invoke_config)
        .on(ops::GetFunctionEventInvokeConfig, event_invoke::get_function_event_invoke_config)
        .on(ops::UpdateFunctionEventInvokeConfig, event_invoke::update_function_event_invoke_config)
        .on(ops::DeleteFunctionEventInvokeConfig, event_invoke::delete_function_event_invoke_config)
        .on(ops::ListFunctionEventInvokeConfigs, event_invoke::list_function_event_invoke_configs)
        .on(ops::CreateEventSourceMapping, stream_sources::create_event_source_mapping)
        .on(ops::GetEventSourceMapping, event_sources::get_event_source_mapping)
        .on(ops::UpdateEventSourceMapping, event_sources::update_event_source_mapping)
        .on(ops::DeleteEventSourceMapping, event_sources::delete_event_source_mapping)
        .on(ops::ListEventSourceMappings, event_sources::list_event_source_mappings)
        .on(ops::AddLayerVersionPermission, layers::add_layer_version_permission)
        .on(ops::GetLayerVersionPolicy, layers::get_layer_version_policy)
        .on(ops::RemoveLayerVersionPermission, layers::remove_layer_version_permission)
        .on(ops::Invoke, invoke::invoke)
        .on(ops::InvokeAsync, invoke::invoke_async)
        .raw(raw::handle)
        .into_service()
}
