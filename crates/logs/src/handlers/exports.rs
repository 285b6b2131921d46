//! Export tasks. CreateExportTask writes the group's events of `[from, to]` to an S3 bucket of the
//! account as AWS does: `aws-logs-write-test` ("Permission Check Successful") at the bucket's
//! root, then one gzipped file per stream with events, `<prefix>/<task-id>/<stream>/000000.gz`,
//! each line `<ISO 8601 time> <message>`. The task runs before the answer, so it is COMPLETED (or
//! FAILED) when described. S3 is reached through the [`Buckets`](ruststack_core::buckets::Buckets) the binary sets.
//! Tasks are kept in memory.

use super::group_not_found;
use crate::generated::types::*;
use crate::state::{LogsState, Pos, now_millis};
use ruststack_core::protocol::scalar::format_timestamp;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, RequestContext};
use std::io::Write;
use std::ops::Bound;
use std::sync::Arc;

pub async fn create_export_task(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: CreateExportTaskRequest,
) -> Result<CreateExportTaskResponse, AwsError> {
    let name = input.log_group_name.clone();
    // The streams to export with their event key prefixes, read under the region's lock.
    let streams: Vec<_> = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let group = region.groups.get(&name).ok_or_else(group_not_found)?;
        let prefix = input.log_stream_name_prefix.as_deref().unwrap_or("");
        group
            .streams
            .keys()
            .filter(|s| s.starts_with(prefix))
            .map(|s| (s.clone(), region.stream_key(&name, s)))
            .collect()
    };
    let destination = state.export_destination();
    if !destination.as_ref().is_some_and(|d| d.exists(&input.destination)) {
        return Err(AwsError::bad_request(
            "InvalidParameterException",
            "The given bucket does not exist. Please make sure the bucket is valid.",
        ));
    }
    let Some(destination) = destination else { unreachable!("checked above") };
    let id = uuid();
    let prefix = input.destination_prefix.clone().unwrap_or_else(|| "exportedlogs".into());
    let mut task = ExportTask {
        task_id: Some(id.clone()),
        task_name: input.task_name.clone(),
        log_group_name: Some(name),
        from: Some(input.from),
        to: Some(input.to),
        destination: Some(input.destination.clone()),
        destination_prefix: Some(prefix.clone()),
        status: None,
        execution_info: Some(ExportTaskExecutionInfo { creation_time: Some(now_millis()), completion_time: None }),
    };
    let (account, region) = (ctx.account_id.to_string(), ctx.region.to_string());
    let put = |key: String, body: Vec<u8>| destination.put(&account, &region, &input.destination, &key, body.into());
    let mut result = put("aws-logs-write-test".into(), b"Permission Check Successful".to_vec()).await;
    // `to` is inclusive: events at that millisecond are exported.
    let (lo, hi) = (Pos { timestamp: input.from, id: 0 }, Pos { timestamp: input.to.saturating_add(1), id: 0 });
    for (stream, key) in streams {
        if result.is_err() || input.from > input.to {
            break;
        }
        let mut lines = Vec::new();
        for e in state.events(&key, Bound::Included(lo), Bound::Excluded(hi), false) {
            let time = format_timestamp(e.timestamp as f64 / 1000.0, TimestampFormat::Iso8601);
            lines.extend_from_slice(format!("{time} {}\n", e.message).as_bytes());
        }
        if !lines.is_empty() {
            result = put(format!("{prefix}/{id}/{stream}/000000.gz"), gzip(&lines)).await;
        }
    }
    let (code, message) = match result {
        Ok(()) => ("COMPLETED", "Completed successfully".to_owned()),
        Err(e) => ("FAILED", e.message),
    };
    task.status = Some(ExportTaskStatus { code: Some(code.into()), message: Some(message) });
    if let Some(info) = task.execution_info.as_mut() {
        info.completion_time = Some(now_millis());
    }
    let region = state.region(&ctx.account_id, &ctx.region);
    region.write().export_tasks.push(task);
    Ok(CreateExportTaskResponse { task_id: Some(id) })
}

pub async fn describe_export_tasks(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeExportTasksRequest,
) -> Result<DescribeExportTasksResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let start = match &input.next_token {
        Some(token) => token
            .parse::<usize>()
            .map_err(|_| AwsError::bad_request("InvalidParameterException", "The specified nextToken is invalid."))?,
        None => 0,
    };
    let limit = input.limit.unwrap_or(50).clamp(1, 50) as usize;
    let matching: Vec<_> = region
        .export_tasks
        .iter()
        .rev()
        .filter(|t| input.task_id.as_ref().is_none_or(|id| t.task_id.as_ref() == Some(id)))
        .filter(|t| {
            input.status_code.as_ref().is_none_or(|c| t.status.as_ref().and_then(|s| s.code.as_ref()) == Some(c))
        })
        .skip(start)
        .take(limit + 1)
        .cloned()
        .collect();
    let more = matching.len() > limit;
    let export_tasks: Vec<_> = matching.into_iter().take(limit).collect();
    Ok(DescribeExportTasksResponse {
        export_tasks: Some(export_tasks),
        next_token: more.then(|| (start + limit).to_string()),
    })
}

pub async fn cancel_export_task(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: CancelExportTaskRequest,
) -> Result<(), AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let task = region.export_tasks.iter().find(|t| t.task_id.as_ref() == Some(&input.task_id)).ok_or_else(not_found)?;
    // Tasks run to their end before CreateExportTask answers: none is left to cancel.
    let code = task.status.as_ref().and_then(|s| s.code.as_deref()).unwrap_or_default();
    Err(AwsError::bad_request(
        "InvalidOperationException",
        if code == "CANCELLED" {
            "The specified export task has already been cancelled"
        } else {
            "The specified export task has already finished"
        },
    ))
}

fn not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified export task does not exist.")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

/// A random version 4 UUID, as AWS's task ids are.
fn uuid() -> String {
    let n = (fastrand::u128(..) & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}
