//! AWS Secrets Manager for RustStack.

pub mod generated;

use generated::{ops, types::*};
use parking_lot::RwLock;
use ruststack_core::store::PerRegion;
use ruststack_core::{AwsError, Handlers, RequestContext, Service, ServiceState};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Secrets per account and region, by name.
#[derive(Default)]
pub struct SecretsManager {
    secrets: PerRegion<RwLock<BTreeMap<String, SecretListEntry>>>,
}

impl ServiceState for SecretsManager {
    fn reset(&self) {
        self.secrets.clear();
    }
}

/// The Secrets Manager service with its handler table.
pub fn service() -> Arc<dyn Service> {
    Handlers::new(&generated::MODEL, Arc::new(SecretsManager::default()))
        .on(ops::ListSecrets, list_secrets)
        .into_service()
}

async fn list_secrets(
    sm: Arc<SecretsManager>,
    ctx: RequestContext,
    _input: ListSecretsRequest,
) -> Result<ListSecretsResponse, AwsError> {
    let secrets = sm.secrets.get(&ctx.account_id, &ctx.region);
    let list: Vec<SecretListEntry> = secrets.read().values().cloned().collect();
    Ok(ListSecretsResponse { secret_list: Some(list), next_token: None })
}
