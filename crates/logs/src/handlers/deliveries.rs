//! The v2 delivery API: delivery sources (a resource that vends logs), delivery destinations (S3,
//! a log group, Firehose or X-Ray) with their policies, and deliveries pairing one source with one
//! destination. Stored and described; no logs flow, since no served service vends them.

use super::{name_token, parse_name_token};
use crate::generated::types::*;
use crate::state::{DeliveryDestinationRecord, LogsState};
use ruststack_core::{AwsError, RequestContext};
use std::sync::Arc;

fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", message)
}

fn conflict(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ConflictException", message)
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

fn source_missing(name: &str) -> AwsError {
    not_found(format!("Delivery source {name} does not exist."))
}

fn destination_missing(name: &str) -> AwsError {
    not_found(format!("Delivery destination {name} does not exist."))
}

/// One page of `items` (in key order) after the token's key, with the next token.
fn page<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    token: Option<&str>,
    limit: Option<i32>,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let after = token.map(parse_name_token).transpose()?;
    let limit = limit.unwrap_or(50).clamp(1, 50) as usize;
    let mut out: Vec<(String, T)> =
        items.filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)).take(limit + 1).collect();
    let next = (out.len() > limit).then(|| {
        out.truncate(limit);
        name_token(&out[limit - 1].0)
    });
    Ok((out.into_iter().map(|(_, v)| v).collect(), next))
}

/// The service of a resource ARN (`arn:aws:<service>:…`).
fn arn_service(arn: &str) -> Result<&str, AwsError> {
    match arn.split(':').collect::<Vec<_>>().as_slice() {
        ["arn", _, service, _, _, ..] if !service.is_empty() => Ok(service),
        _ => Err(validation(format!("Invalid resource ARN: {arn}"))),
    }
}

pub async fn put_delivery_source(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutDeliverySourceRequest,
) -> Result<PutDeliverySourceResponse, AwsError> {
    let service = arn_service(&input.resource_arn)?.to_owned();
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let source = match region.deliveries.sources.get(&input.name) {
        Some(existing) => {
            // A source stays on its resource and log type; only tags and configuration change.
            if existing.resource_arns.as_deref() != Some(std::slice::from_ref(&input.resource_arn))
                || existing.log_type.as_deref() != Some(input.log_type.as_str())
            {
                return Err(conflict(format!(
                    "Delivery source {} already exists with a different resource or log type.",
                    input.name
                )));
            }
            DeliverySource {
                tags: input.tags.or_else(|| existing.tags.clone()),
                delivery_source_configuration: input
                    .delivery_source_configuration
                    .or_else(|| existing.delivery_source_configuration.clone()),
                ..existing.clone()
            }
        }
        None => DeliverySource {
            name: Some(input.name.clone()),
            arn: Some(ctx.arn("logs", &format!("delivery-source:{}", input.name))),
            resource_arns: Some(vec![input.resource_arn]),
            service: Some(service),
            log_type: Some(input.log_type),
            tags: Some(input.tags.unwrap_or_default()),
            delivery_source_configuration: input.delivery_source_configuration,
            status: None,
            status_reason: None,
        },
    };
    state.commit(vec![region.put_delivery_record("source", &input.name, &source)])?;
    region.deliveries.sources.insert(input.name, source.clone());
    Ok(PutDeliverySourceResponse { delivery_source: Some(source) })
}

pub async fn get_delivery_source(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetDeliverySourceRequest,
) -> Result<GetDeliverySourceResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let source = region.deliveries.sources.get(&input.name).ok_or_else(|| source_missing(&input.name))?;
    Ok(GetDeliverySourceResponse { delivery_source: Some(source.clone()) })
}

pub async fn describe_delivery_sources(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeDeliverySourcesRequest,
) -> Result<DescribeDeliverySourcesResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let items = region.deliveries.sources.iter().filter(|(_, s)| {
        input.resource_arns.as_ref().is_none_or(|arns| s.resource_arns.iter().flatten().any(|a| arns.contains(a)))
    });
    let (delivery_sources, next_token) =
        page(items.map(|(k, v)| (k.clone(), v.clone())), input.next_token.as_deref(), input.limit)?;
    Ok(DescribeDeliverySourcesResponse { delivery_sources: Some(delivery_sources), next_token })
}

pub async fn delete_delivery_source(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteDeliverySourceRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if !region.deliveries.sources.contains_key(&input.name) {
        return Err(source_missing(&input.name));
    }
    if region.deliveries.deliveries.values().any(|d| d.delivery_source_name.as_deref() == Some(input.name.as_str())) {
        return Err(conflict(format!("Delivery source {} is in use by a delivery.", input.name)));
    }
    state.commit(vec![region.delete_delivery_record("source", &input.name)])?;
    region.deliveries.sources.remove(&input.name);
    Ok(())
}

/// The destination type a resource ARN implies.
fn destination_type(arn: &str) -> Result<&'static str, AwsError> {
    match arn_service(arn)? {
        "s3" => Ok("S3"),
        "logs" => Ok("CWL"),
        "firehose" => Ok("FH"),
        _ => Err(validation(format!("Invalid delivery destination resource ARN: {arn}"))),
    }
}

pub async fn put_delivery_destination(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutDeliveryDestinationRequest,
) -> Result<PutDeliveryDestinationResponse, AwsError> {
    let kind = match (&input.delivery_destination_configuration, input.delivery_destination_type.as_deref()) {
        (Some(config), _) => destination_type(&config.destination_resource_arn)?.to_owned(),
        (None, Some("XRAY")) => "XRAY".to_owned(),
        (None, _) => return Err(validation("deliveryDestinationConfiguration must be specified.")),
    };
    if let Some(t) = &input.delivery_destination_type
        && *t != kind
    {
        return Err(validation(format!("deliveryDestinationType {t} does not match the destination resource.")));
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let existing = region.deliveries.destinations.get(&input.name);
    if let Some(existing) = existing {
        let old = &existing.destination;
        if input.output_format.is_some() && input.output_format != old.output_format {
            return Err(validation("The outputFormat of a delivery destination cannot be changed."));
        }
        if old.delivery_destination_type.as_deref() != Some(kind.as_str()) {
            return Err(validation("The type of a delivery destination cannot be changed."));
        }
    }
    let destination = DeliveryDestination {
        name: Some(input.name.clone()),
        arn: Some(ctx.arn("logs", &format!("delivery-destination:{}", input.name))),
        delivery_destination_type: Some(kind),
        output_format: input.output_format.or_else(|| existing.and_then(|e| e.destination.output_format.clone())),
        delivery_destination_configuration: input.delivery_destination_configuration,
        role_arn: input.role_arn.or_else(|| existing.and_then(|e| e.destination.role_arn.clone())),
        tags: Some(input.tags.or_else(|| existing.and_then(|e| e.destination.tags.clone())).unwrap_or_default()),
    };
    let record = DeliveryDestinationRecord { destination, policy: existing.and_then(|e| e.policy.clone()) };
    state.commit(vec![region.put_delivery_record("destination", &input.name, &record)])?;
    let out = record.destination.clone();
    region.deliveries.destinations.insert(input.name, record);
    Ok(PutDeliveryDestinationResponse { delivery_destination: Some(out) })
}

pub async fn get_delivery_destination(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetDeliveryDestinationRequest,
) -> Result<GetDeliveryDestinationResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let d = region.deliveries.destinations.get(&input.name).ok_or_else(|| destination_missing(&input.name))?;
    Ok(GetDeliveryDestinationResponse { delivery_destination: Some(d.destination.clone()) })
}

pub async fn describe_delivery_destinations(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeDeliveryDestinationsRequest,
) -> Result<DescribeDeliveryDestinationsResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let items = region
        .deliveries
        .destinations
        .iter()
        .filter(|(k, _)| input.names.as_ref().is_none_or(|names| names.contains(k)))
        .map(|(k, v)| (k.clone(), v.destination.clone()));
    let (delivery_destinations, next_token) = page(items, input.next_token.as_deref(), input.limit)?;
    Ok(DescribeDeliveryDestinationsResponse { delivery_destinations: Some(delivery_destinations), next_token })
}

pub async fn delete_delivery_destination(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteDeliveryDestinationRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let arn = match region.deliveries.destinations.get(&input.name) {
        Some(d) => d.destination.arn.clone(),
        None => return Err(destination_missing(&input.name)),
    };
    if region.deliveries.deliveries.values().any(|d| d.delivery_destination_arn == arn) {
        return Err(conflict(format!("Delivery destination {} is in use by a delivery.", input.name)));
    }
    state.commit(vec![region.delete_delivery_record("destination", &input.name)])?;
    region.deliveries.destinations.remove(&input.name);
    Ok(())
}

/// Changes a destination's policy, stored before the cache changes.
fn set_policy(state: &LogsState, ctx: &RequestContext, name: &str, policy: Option<String>) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let current = region.deliveries.destinations.get(name).ok_or_else(|| destination_missing(name))?;
    if policy.is_none() && current.policy.is_none() {
        return Err(not_found(format!("Delivery destination {name} has no policy.")));
    }
    let updated = DeliveryDestinationRecord { destination: current.destination.clone(), policy };
    state.commit(vec![region.put_delivery_record("destination", name, &updated)])?;
    region.deliveries.destinations.insert(name.to_owned(), updated);
    Ok(())
}

pub async fn put_delivery_destination_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutDeliveryDestinationPolicyRequest,
) -> Result<PutDeliveryDestinationPolicyResponse, AwsError> {
    let policy = input.delivery_destination_policy;
    set_policy(&state, &ctx, &input.delivery_destination_name, Some(policy.clone()))?;
    Ok(PutDeliveryDestinationPolicyResponse { policy: Some(Policy { delivery_destination_policy: Some(policy) }) })
}

pub async fn get_delivery_destination_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetDeliveryDestinationPolicyRequest,
) -> Result<GetDeliveryDestinationPolicyResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let name = &input.delivery_destination_name;
    let d = region.deliveries.destinations.get(name).ok_or_else(|| destination_missing(name))?;
    Ok(GetDeliveryDestinationPolicyResponse { policy: Some(Policy { delivery_destination_policy: d.policy.clone() }) })
}

pub async fn delete_delivery_destination_policy(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteDeliveryDestinationPolicyRequest,
) -> Result<(), AwsError> {
    set_policy(&state, &ctx, &input.delivery_destination_name, None)
}

fn delivery_missing(id: &str) -> AwsError {
    not_found(format!("Delivery {id} does not exist."))
}

/// Delivery ids: 16 characters of `[0-9A-Za-z]`.
fn delivery_id() -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..16).map(|_| CHARS[fastrand::usize(..CHARS.len())] as char).collect()
}

pub async fn create_delivery(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: CreateDeliveryRequest,
) -> Result<CreateDeliveryResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if !region.deliveries.sources.contains_key(&input.delivery_source_name) {
        return Err(source_missing(&input.delivery_source_name));
    }
    let destination = region
        .deliveries
        .destinations
        .values()
        .find(|d| d.destination.arn.as_deref() == Some(input.delivery_destination_arn.as_str()))
        .ok_or_else(|| not_found(format!("Delivery destination {} does not exist.", input.delivery_destination_arn)))?;
    let kind = destination.destination.delivery_destination_type.clone();
    let taken = region.deliveries.deliveries.values().any(|d| {
        d.delivery_source_name.as_deref() == Some(input.delivery_source_name.as_str())
            && d.delivery_destination_arn.as_deref() == Some(input.delivery_destination_arn.as_str())
    });
    if taken {
        return Err(conflict("A delivery between this source and destination already exists."));
    }
    if input.s3_delivery_configuration.is_some() && kind.as_deref() != Some("S3") {
        return Err(validation("s3DeliveryConfiguration applies only to S3 delivery destinations."));
    }
    let id = delivery_id();
    let delivery = Delivery {
        arn: Some(ctx.arn("logs", &format!("delivery:{id}"))),
        id: Some(id.clone()),
        delivery_source_name: Some(input.delivery_source_name),
        delivery_destination_arn: Some(input.delivery_destination_arn),
        delivery_destination_type: kind,
        record_fields: input.record_fields,
        field_delimiter: input.field_delimiter,
        s3_delivery_configuration: input.s3_delivery_configuration,
        tags: Some(input.tags.unwrap_or_default()),
    };
    state.commit(vec![region.put_delivery_record("delivery", &id, &delivery)])?;
    region.deliveries.deliveries.insert(id, delivery.clone());
    Ok(CreateDeliveryResponse { delivery: Some(delivery) })
}

pub async fn get_delivery(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetDeliveryRequest,
) -> Result<GetDeliveryResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let d = region.deliveries.deliveries.get(&input.id).ok_or_else(|| delivery_missing(&input.id))?;
    Ok(GetDeliveryResponse { delivery: Some(d.clone()) })
}

pub async fn describe_deliveries(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeDeliveriesRequest,
) -> Result<DescribeDeliveriesResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let items = region
        .deliveries
        .deliveries
        .iter()
        .filter(|(_, d)| {
            input
                .delivery_source_names
                .as_ref()
                .is_none_or(|names| d.delivery_source_name.as_ref().is_some_and(|n| names.contains(n)))
        })
        .map(|(k, v)| (k.clone(), v.clone()));
    let (deliveries, next_token) = page(items, input.next_token.as_deref(), input.limit)?;
    Ok(DescribeDeliveriesResponse { deliveries: Some(deliveries), next_token })
}

pub async fn update_delivery_configuration(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: UpdateDeliveryConfigurationRequest,
) -> Result<UpdateDeliveryConfigurationResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    let current = region.deliveries.deliveries.get(&input.id).ok_or_else(|| delivery_missing(&input.id))?;
    if input.s3_delivery_configuration.is_some() && current.delivery_destination_type.as_deref() != Some("S3") {
        return Err(validation("s3DeliveryConfiguration applies only to S3 delivery destinations."));
    }
    let mut updated = current.clone();
    if input.record_fields.is_some() {
        updated.record_fields = input.record_fields;
    }
    if input.field_delimiter.is_some() {
        updated.field_delimiter = input.field_delimiter;
    }
    if input.s3_delivery_configuration.is_some() {
        updated.s3_delivery_configuration = input.s3_delivery_configuration;
    }
    state.commit(vec![region.put_delivery_record("delivery", &input.id, &updated)])?;
    region.deliveries.deliveries.insert(input.id, updated);
    Ok(UpdateDeliveryConfigurationResponse {})
}

pub async fn delete_delivery(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteDeliveryRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if !region.deliveries.deliveries.contains_key(&input.id) {
        return Err(delivery_missing(&input.id));
    }
    state.commit(vec![region.delete_delivery_record("delivery", &input.id)])?;
    region.deliveries.deliveries.remove(&input.id);
    Ok(())
}
