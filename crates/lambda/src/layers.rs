//! Layers: versioned packages unpacked into a function's `/opt` equivalent.

use crate::functions::code_from;
use crate::generated::types::*;
use crate::packages::Code;
use crate::state::*;
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

/// A layer name from a name or a layer ARN.
fn layer_name(input: &str) -> Result<String, AwsError> {
    if !input.starts_with("arn:") {
        return Ok(input.to_owned());
    }
    match input.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "lambda", _, _, "layer", name] => Ok((*name).to_owned()),
        _ => Err(invalid_param(format!("Invalid layer name: {input}"))),
    }
}

/// The layers a function configuration names (`…:layer:name:version`), in order.
pub fn resolve(
    region: &Region,
    ctx: &RequestContext,
    arns: &[String],
) -> Result<(Vec<Layer>, Vec<Arc<Code>>), AwsError> {
    if arns.len() > 5 {
        return Err(invalid_param("Cannot reference more than 5 layers."));
    }
    let mut list = Vec::new();
    let mut codes = Vec::new();
    for arn in arns {
        let missing = || invalid_param(format!("Layer version {arn} does not exist."));
        let parts: Vec<&str> = arn.split(':').collect();
        let ["arn", _, "lambda", region_name, account, "layer", name, version] = parts.as_slice() else {
            return Err(validation(
                arn,
                "layers",
                "Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+",
            ));
        };
        if *region_name != &*ctx.region || *account != &*ctx.account_id {
            return Err(missing());
        }
        let version: i64 = version.parse().map_err(|_| missing())?;
        let layer = region.layers.get(*name).and_then(|l| l.versions.get(&version)).ok_or_else(missing)?;
        list.push(Layer {
            arn: Some(layer.version_arn.clone()),
            code_size: Some(layer.code.zip.len() as i64),
            ..Default::default()
        });
        codes.push(layer.code.clone());
    }
    Ok((list, codes))
}

fn content(host: &str, layer: &LayerVersion) -> LayerVersionContentOutput {
    LayerVersionContentOutput {
        location: Some(layer.code.location(host)),
        code_sha256: Some(layer.code.sha256.clone()),
        code_size: Some(layer.code.zip.len() as i64),
        ..Default::default()
    }
}

fn list_item(layer: &LayerVersion) -> LayerVersionsListItem {
    LayerVersionsListItem {
        layer_version_arn: Some(layer.version_arn.clone()),
        version: Some(layer.version),
        description: layer.description(),
        created_date: Some(layer.created.clone()),
        compatible_runtimes: layer.compatible_runtimes.clone(),
        compatible_architectures: layer.compatible_architectures.clone(),
        license_info: layer.license_info.clone(),
    }
}

pub async fn publish_layer_version(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: PublishLayerVersionRequest,
) -> Result<PublishLayerVersionResponse, AwsError> {
    let name = layer_name(&input.layer_name)?;
    let code = code_from(
        &lambda,
        &ctx,
        input.content.zip_file.as_ref(),
        (
            input.content.s3_bucket.as_deref(),
            input.content.s3_key.as_deref(),
            input.content.s3_object_version.as_deref(),
        ),
    )
    .await?;
    lambda.store_code(&code).await?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.layers.get(&name).cloned();
    let entry = region.layers.entry(name.clone()).or_default();
    entry.next_version = entry.next_version.max(1);
    let version = entry.next_version;
    entry.next_version += 1;
    let arn = ctx.arn("lambda", &format!("layer:{name}"));
    let layer = Arc::new(LayerVersion {
        name,
        version_arn: format!("{arn}:{version}"),
        arn,
        version,
        description: input.description.unwrap_or_default(),
        created: now_iso(),
        compatible_runtimes: input.compatible_runtimes,
        compatible_architectures: input.compatible_architectures,
        license_info: input.license_info,
        code,
    });
    entry.versions.insert(version, layer.clone());
    lambda.save_layer(&ctx.account_id, &ctx.region, &mut region, &layer.name, before)?;
    Ok(PublishLayerVersionResponse {
        content: Some(content(&ctx.host, &layer)),
        layer_arn: Some(layer.arn.clone()),
        layer_version_arn: Some(layer.version_arn.clone()),
        description: layer.description(),
        created_date: Some(layer.created.clone()),
        version: Some(layer.version),
        compatible_architectures: layer.compatible_architectures.clone(),
        compatible_runtimes: layer.compatible_runtimes.clone(),
        license_info: layer.license_info.clone(),
    })
}

pub async fn get_layer_version(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetLayerVersionRequest,
) -> Result<GetLayerVersionResponse, AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let layer = region
        .layers
        .get(&name)
        .and_then(|l| l.versions.get(&input.version_number))
        .ok_or_else(|| resource_not_found("The resource you requested does not exist."))?;
    Ok(GetLayerVersionResponse {
        content: Some(content(&ctx.host, layer)),
        layer_arn: Some(layer.arn.clone()),
        layer_version_arn: Some(layer.version_arn.clone()),
        description: layer.description(),
        created_date: Some(layer.created.clone()),
        version: Some(layer.version),
        compatible_architectures: layer.compatible_architectures.clone(),
        compatible_runtimes: layer.compatible_runtimes.clone(),
        license_info: layer.license_info.clone(),
    })
}

pub async fn get_layer_version_by_arn(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetLayerVersionByArnRequest,
) -> Result<GetLayerVersionResponse, AwsError> {
    let parts: Vec<&str> = input.arn.split(':').collect();
    let ["arn", _, "lambda", _, _, "layer", name, version] = parts.as_slice() else {
        return Err(validation(
            &input.arn,
            "arn",
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)",
        ));
    };
    let version_number: i64 =
        version.parse().map_err(|_| resource_not_found("The resource you requested does not exist."))?;
    get_layer_version(lambda, ctx, GetLayerVersionRequest { layer_name: (*name).to_owned(), version_number }).await
}

fn compatible(layer: &LayerVersion, runtime: Option<&str>, arch: Option<&str>) -> bool {
    let has = |list: &Option<Vec<String>>, want: Option<&str>| {
        want.is_none_or(|w| list.as_ref().is_some_and(|l| l.iter().any(|x| x == w)))
    };
    has(&layer.compatible_runtimes, runtime) && has(&layer.compatible_architectures, arch)
}

pub async fn list_layers(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListLayersRequest,
) -> Result<ListLayersResponse, AwsError> {
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let items: Vec<(String, LayersListItem)> = region
        .layers
        .iter()
        .filter_map(|(name, entry)| {
            let latest = entry.versions.values().rev().find(|l| {
                compatible(l, input.compatible_runtime.as_deref(), input.compatible_architecture.as_deref())
            })?;
            Some((
                name.clone(),
                LayersListItem {
                    layer_name: Some(name.clone()),
                    layer_arn: Some(latest.arn.clone()),
                    latest_matching_version: Some(list_item(latest)),
                },
            ))
        })
        .collect();
    let (layers, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListLayersResponse { layers: Some(layers), next_marker })
}

pub async fn list_layer_versions(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: ListLayerVersionsRequest,
) -> Result<ListLayerVersionsResponse, AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    // Newest first; the key sorts descending versions ascending.
    let items: Vec<(String, LayerVersionsListItem)> = region
        .layers
        .get(&name)
        .map(|entry| {
            entry
                .versions
                .values()
                .rev()
                .filter(|l| {
                    compatible(l, input.compatible_runtime.as_deref(), input.compatible_architecture.as_deref())
                })
                .map(|l| (format!("{:020}", i64::MAX - l.version), list_item(l)))
                .collect()
        })
        .unwrap_or_default();
    let (layer_versions, next_marker) = page(&items, input.marker.as_deref(), input.max_items);
    Ok(ListLayerVersionsResponse { layer_versions: Some(layer_versions), next_marker })
}

// ---- layer version policies ----

fn no_such_layer_version() -> AwsError {
    resource_not_found("The resource you requested does not exist.")
}

/// Grants another account, an organization or everyone use of a layer version.
pub async fn add_layer_version_permission(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: AddLayerVersionPermissionRequest,
) -> Result<AddLayerVersionPermissionResponse, AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.layers.get(&name).cloned();
    let entry = region.layers.get_mut(&name).ok_or_else(no_such_layer_version)?;
    let layer = entry.versions.get(&input.version_number).ok_or_else(no_such_layer_version)?.clone();
    if let Some(current) = entry.policies.get(&input.version_number) {
        if input.revision_id.as_ref().is_some_and(|r| *r != current.revision_id) {
            return Err(precondition_failed());
        }
        if current.statements.iter().any(|s| s["Sid"] == input.statement_id.as_str()) {
            return Err(crate::permissions::duplicate_statement(&input.statement_id));
        }
    }
    let mut statement = serde_json::json!({
        "Sid": input.statement_id,
        "Effect": "Allow",
        "Principal": crate::permissions::principal(&input.principal),
        "Action": input.action,
        "Resource": layer.version_arn,
    });
    if let Some(org) = &input.organization_id {
        statement["Condition"] = serde_json::json!({ "StringEquals": { "aws:PrincipalOrgID": org } });
    }
    let policy = entry.policies.entry(input.version_number).or_default();
    policy.statements.push(statement.clone());
    policy.revision_id = uuid();
    let revision_id = policy.revision_id.clone();
    lambda.save_layer(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    Ok(AddLayerVersionPermissionResponse { statement: Some(statement.to_string()), revision_id: Some(revision_id) })
}

pub async fn get_layer_version_policy(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: GetLayerVersionPolicyRequest,
) -> Result<GetLayerVersionPolicyResponse, AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let region = region.read();
    let entry = region.layers.get(&name).filter(|e| e.versions.contains_key(&input.version_number));
    let policy = entry
        .and_then(|e| e.policies.get(&input.version_number))
        .filter(|p| !p.statements.is_empty())
        .ok_or_else(no_such_layer_version)?;
    let document = serde_json::json!({ "Version": "2012-10-17", "Id": "default", "Statement": policy.statements });
    Ok(GetLayerVersionPolicyResponse {
        policy: Some(document.to_string()),
        revision_id: Some(policy.revision_id.clone()),
    })
}

pub async fn remove_layer_version_permission(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: RemoveLayerVersionPermissionRequest,
) -> Result<(), AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.layers.get(&name).cloned();
    let entry = region
        .layers
        .get_mut(&name)
        .filter(|e| e.versions.contains_key(&input.version_number))
        .ok_or_else(no_such_layer_version)?;
    let Some(policy) = entry.policies.get_mut(&input.version_number).filter(|p| !p.statements.is_empty()) else {
        return Err(resource_not_found("No policy is associated with the given resource."));
    };
    if input.revision_id.as_ref().is_some_and(|r| *r != policy.revision_id) {
        return Err(precondition_failed());
    }
    let count = policy.statements.len();
    policy.statements.retain(|s| s["Sid"] != input.statement_id.as_str());
    if policy.statements.len() == count {
        return Err(resource_not_found(format!("Statement {} is not found in resource policy.", input.statement_id)));
    }
    if policy.statements.is_empty() {
        entry.policies.remove(&input.version_number);
    } else {
        policy.revision_id = uuid();
    }
    lambda.save_layer(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    Ok(())
}

pub async fn delete_layer_version(
    lambda: Arc<Lambda>,
    ctx: RequestContext,
    input: DeleteLayerVersionRequest,
) -> Result<(), AwsError> {
    let name = layer_name(&input.layer_name)?;
    let region = lambda.region(&ctx).await?;
    let mut region = region.write();
    let before = region.layers.get(&name).cloned();
    if let Some(entry) = region.layers.get_mut(&name)
        && entry.versions.remove(&input.version_number).is_some()
    {
        entry.policies.remove(&input.version_number);
        lambda.save_layer(&ctx.account_id, &ctx.region, &mut region, &name, before)?;
    }
    Ok(())
}
