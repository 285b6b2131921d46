//! Metric filters and subscription filters of log groups, kept in the group's record.
//!
//! Metric filters are stored and described (no metrics are emitted: RustStack has no CloudWatch
//! metrics). Subscription filters deliver the events PutLogEvents (and other services' log lines)
//! add to a group: events matching the filter pattern go to a Lambda function as AWS sends them,
//! `{"awslogs": {"data": base64(gzip(DATA_MESSAGE JSON))}}`, one asynchronous invocation per batch
//! and stream, through the [`SubscriptionTarget`] the binary sets.

use super::{group, invalid, name_token, parse_name_token, update_group};
use crate::filter::Pattern;
use crate::generated::types::*;
use crate::state::{Event, LogsState, now_millis};
use base64::Engine;
use ruststack_core::service::BoxFuture;
use ruststack_core::{AwsError, RequestContext};
use std::io::Write;
use std::sync::Arc;

/// Metric filters a log group can have.
const MAX_METRIC_FILTERS: usize = 100;
/// Subscription filters a log group can have.
const MAX_SUBSCRIPTION_FILTERS: usize = 2;

/// Where subscription filters deliver: Lambda functions, provided by the binary.
pub trait SubscriptionTarget: Send + Sync {
    /// Whether the function `arn` exists.
    fn function_exists(&self, arn: &str) -> BoxFuture<bool>;
    /// Invokes the function asynchronously (an Event invocation) with `payload`.
    fn invoke(&self, arn: &str, payload: Vec<u8>);
}

fn limit_exceeded() -> AwsError {
    AwsError::bad_request("LimitExceededException", "Resource limit exceeded.")
}

fn parse_pattern(text: &str) -> Result<Pattern, AwsError> {
    Pattern::parse(text).map_err(|_| invalid("Invalid filter pattern"))
}

pub async fn put_metric_filter(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutMetricFilterRequest,
) -> Result<(), AwsError> {
    parse_pattern(&input.filter_pattern)?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        let existing = g.metric_filters.get(&input.filter_name);
        if existing.is_none() && g.metric_filters.len() >= MAX_METRIC_FILTERS {
            return Err(limit_exceeded());
        }
        // Replacing a filter keeps its creation time.
        let created = existing.and_then(|f| f.creation_time).unwrap_or_else(now_millis);
        let filter = MetricFilter {
            filter_name: Some(input.filter_name.clone()),
            filter_pattern: Some(input.filter_pattern.clone()),
            metric_transformations: Some(input.metric_transformations.clone()),
            creation_time: Some(created),
            log_group_name: Some(input.log_group_name.clone()),
            apply_on_transformed_logs: Some(input.apply_on_transformed_logs.unwrap_or(false)),
            field_selection_criteria: input.field_selection_criteria.clone(),
            emit_system_field_dimensions: input.emit_system_field_dimensions.clone(),
        };
        g.metric_filters.insert(input.filter_name.clone(), filter);
        Ok(())
    })
}

pub async fn delete_metric_filter(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteMetricFilterRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| match g.metric_filters.remove(&input.filter_name) {
        Some(_) => Ok(()),
        None => Err(AwsError::bad_request("ResourceNotFoundException", "The specified metric filter does not exist.")),
    })
}

pub async fn describe_metric_filters(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeMetricFiltersRequest,
) -> Result<DescribeMetricFiltersResponse, AwsError> {
    match (&input.metric_name, &input.metric_namespace) {
        (Some(_), None) => {
            return Err(invalid(
                "If you include the metricName parameter in your request, you must also include the metricNamespace parameter.",
            ));
        }
        (None, Some(_)) => {
            return Err(invalid(
                "If you include the metricNamespace parameter in your request, you must also include the metricName parameter.",
            ));
        }
        _ => {}
    }
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    // Tokens carry `group \0 filter` of the last filter returned; pages are in that order.
    let after = input.next_token.as_deref().map(parse_name_token).transpose()?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let groups: Vec<_> = match &input.log_group_name {
        Some(name) => vec![group(&region, name)?],
        None => region.groups.values().collect(),
    };
    let matching = groups.into_iter().flat_map(|g| g.metric_filters.iter().map(move |(n, f)| (&g.name, n, f))).filter(
        |(g, n, f)| {
            // AWS applies the prefix only together with a log group name.
            (input.log_group_name.is_none() || input.filter_name_prefix.as_deref().is_none_or(|p| n.starts_with(p)))
                && input.metric_name.as_ref().is_none_or(|m| {
                    f.metric_transformations
                        .iter()
                        .flatten()
                        .any(|t| &t.metric_name == m && Some(&t.metric_namespace) == input.metric_namespace.as_ref())
                })
                && after.as_ref().is_none_or(|a| format!("{g}\0{n}").as_str() > a.as_str())
        },
    );
    let mut metric_filters = Vec::new();
    let mut next_token = None;
    for (_, _, f) in matching {
        if metric_filters.len() == limit {
            next_token = metric_filters.last().map(|f: &MetricFilter| {
                name_token(&format!(
                    "{}\0{}",
                    f.log_group_name.as_deref().unwrap_or(""),
                    f.filter_name.as_deref().unwrap_or("")
                ))
            });
            break;
        }
        metric_filters.push(f.clone());
    }
    Ok(DescribeMetricFiltersResponse { metric_filters: Some(metric_filters), next_token })
}

pub async fn test_metric_filter(
    _state: Arc<LogsState>,
    _ctx: RequestContext,
    input: TestMetricFilterRequest,
) -> Result<TestMetricFilterResponse, AwsError> {
    let pattern = parse_pattern(&input.filter_pattern)?;
    let matches = input
        .log_event_messages
        .into_iter()
        .enumerate()
        .filter(|(_, m)| pattern.matches(m))
        .map(|(i, m)| MetricFilterMatchRecord {
            event_number: Some(i as i64 + 1),
            extracted_values: Some(crate::filter::extracted_values(&pattern, &m).into_iter().collect()),
            event_message: Some(m),
        })
        .collect();
    Ok(TestMetricFilterResponse { matches: Some(matches) })
}

/// Refuses destinations we cannot deliver to with AWS's errors for unreachable ones.
async fn check_destination(state: &LogsState, arn: &str) -> Result<(), AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let service = match parts.as_slice() {
        ["arn", _, service, _, _, _] => *service,
        _ => return Err(invalid(format!("Invalid ARN: {arn}"))),
    };
    match service {
        "lambda" => {
            let exists = match state.subscription_target() {
                Some(target) => target.function_exists(arn).await,
                None => false,
            };
            if exists {
                Ok(())
            } else {
                Err(invalid(
                    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.",
                ))
            }
        }
        "logs" => {
            let name = parts[5].strip_prefix("destination:").unwrap_or("");
            let region = state.region(&Arc::from(parts[4]), &Arc::from(parts[3]));
            if region.read().destinations.contains_key(name) {
                Ok(())
            } else {
                Err(AwsError::bad_request("ResourceNotFoundException", "The specified destination does not exist."))
            }
        }
        // RustStack serves neither Kinesis nor Firehose: their streams are never ACTIVE here.
        "kinesis" => Err(invalid(
            "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.",
        )),
        "firehose" => Err(invalid(
            "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.",
        )),
        _ => Err(invalid(format!("Invalid destination ARN: {arn}"))),
    }
}

pub async fn put_subscription_filter(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: PutSubscriptionFilterRequest,
) -> Result<(), AwsError> {
    {
        let region = state.region(&ctx.account_id, &ctx.region);
        group(&region.read(), &input.log_group_name)?;
    }
    parse_pattern(&input.filter_pattern)?;
    check_destination(&state, &input.destination_arn).await?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        let existing = g.subscription_filters.get(&input.filter_name);
        if existing.is_none() && g.subscription_filters.len() >= MAX_SUBSCRIPTION_FILTERS {
            return Err(limit_exceeded());
        }
        let created = existing.and_then(|f| f.creation_time).unwrap_or_else(now_millis);
        let filter = SubscriptionFilter {
            filter_name: Some(input.filter_name.clone()),
            log_group_name: Some(input.log_group_name.clone()),
            filter_pattern: Some(input.filter_pattern.clone()),
            destination_arn: Some(input.destination_arn.clone()),
            role_arn: input.role_arn.clone(),
            distribution: Some(input.distribution.clone().unwrap_or_else(|| "ByLogStream".into())),
            apply_on_transformed_logs: Some(input.apply_on_transformed_logs.unwrap_or(false)),
            creation_time: Some(created),
            field_selection_criteria: input.field_selection_criteria.clone(),
            emit_system_fields: input.emit_system_fields.clone(),
        };
        g.subscription_filters.insert(input.filter_name.clone(), filter);
        Ok(())
    })
}

pub async fn delete_subscription_filter(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DeleteSubscriptionFilterRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    update_group(&state, &mut region, &input.log_group_name, |g| {
        match g.subscription_filters.remove(&input.filter_name) {
            Some(_) => Ok(()),
            None => Err(AwsError::bad_request(
                "ResourceNotFoundException",
                "The specified subscription filter does not exist.",
            )),
        }
    })
}

pub async fn describe_subscription_filters(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeSubscriptionFiltersRequest,
) -> Result<DescribeSubscriptionFiltersResponse, AwsError> {
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let after = input.next_token.as_deref().map(parse_name_token).transpose()?;
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let g = group(&region, &input.log_group_name)?;
    let mut filters: Vec<SubscriptionFilter> = g
        .subscription_filters
        .iter()
        .filter(|(n, _)| input.filter_name_prefix.as_deref().is_none_or(|p| n.starts_with(p)))
        .filter(|(n, _)| after.as_ref().is_none_or(|a| *n > a))
        .take(limit + 1)
        .map(|(_, f)| f.clone())
        .collect();
    let next_token = (filters.len() > limit).then(|| {
        filters.truncate(limit);
        name_token(filters.last().and_then(|f| f.filter_name.as_deref()).unwrap_or(""))
    });
    Ok(DescribeSubscriptionFiltersResponse { subscription_filters: Some(filters), next_token })
}

/// Sends the events just stored in `group`/`stream` to the group's subscription filters whose
/// pattern they match.
pub(crate) fn deliver(
    state: &LogsState,
    account: &str,
    group: &str,
    stream: &str,
    filters: &[SubscriptionFilter],
    events: &[Event],
) {
    let Some(target) = state.subscription_target() else { return };
    for filter in filters {
        let Some(arn) = filter.destination_arn.as_deref().filter(|a| a.starts_with("arn:aws:lambda:")) else {
            continue;
        };
        let Ok(pattern) = Pattern::parse(filter.filter_pattern.as_deref().unwrap_or("")) else { continue };
        let log_events: Vec<_> = events
            .iter()
            .filter(|e| pattern.matches(&e.message))
            .map(|e| {
                serde_json::json!({ "id": format!("{:056}", e.id), "timestamp": e.timestamp, "message": e.message })
            })
            .collect();
        if log_events.is_empty() {
            continue;
        }
        let message = serde_json::json!({
            "messageType": "DATA_MESSAGE",
            "owner": account,
            "logGroup": group,
            "logStream": stream,
            "subscriptionFilters": [filter.filter_name.as_deref().unwrap_or("")],
            "logEvents": log_events,
        });
        let data = base64::engine::general_purpose::STANDARD.encode(gzip(message.to_string().as_bytes()));
        let payload = serde_json::json!({ "awslogs": { "data": data } });
        target.invoke(arn, payload.to_string().into_bytes());
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use std::io::Read;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, Vec<u8>)>>);

    impl SubscriptionTarget for Recorder {
        fn function_exists(&self, arn: &str) -> BoxFuture<bool> {
            let exists = arn.ends_with(":function:f");
            Box::pin(async move { exists })
        }
        fn invoke(&self, arn: &str, payload: Vec<u8>) {
            self.0.lock().push((arn.to_owned(), payload));
        }
    }

    #[test]
    fn matching_events_are_delivered_gzipped_and_base64_encoded() {
        let state = LogsState::default();
        let recorder = Arc::new(Recorder::default());
        state.set_subscription_target(recorder.clone());
        let filter = SubscriptionFilter {
            filter_name: Some("sub".into()),
            filter_pattern: Some("ERROR".into()),
            destination_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:f".into()),
            ..Default::default()
        };
        let ev = |id, m: &str| Event { timestamp: 5, ingestion_time: 6, message: m.into(), id };
        deliver(&state, "000000000000", "g", "s", &[filter], &[ev(1, "ERROR x"), ev(2, "fine")]);
        let sent = recorder.0.lock();
        assert_eq!(sent.len(), 1);
        let payload: serde_json::Value = serde_json::from_slice(&sent[0].1).unwrap();
        let data =
            base64::engine::general_purpose::STANDARD.decode(payload["awslogs"]["data"].as_str().unwrap()).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&data[..]).read_to_string(&mut text).unwrap();
        let message: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(message["messageType"], "DATA_MESSAGE");
        assert_eq!(message["logGroup"], "g");
        assert_eq!(message["subscriptionFilters"], serde_json::json!(["sub"]));
        assert_eq!(message["logEvents"].as_array().unwrap().len(), 1);
        assert_eq!(message["logEvents"][0]["message"], "ERROR x");
    }
}
