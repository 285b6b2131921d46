//! ExportTableToPointInTime, DescribeExport, ListExports. An export starts IN_PROGRESS and a task
//! writes the table to S3 as AWS lays it out (DynamoDB JSON):
//! `<prefix>/AWSDynamoDB/<export-id>/` holding `_started`, `data/<file>.json.gz` (one
//! `{"Item":…}` per line), `manifest-files.json`, `manifest-summary.json` and their `.md5` files.
//! A write S3 refuses fails the export with `S3<code>` as AWS reports it.

use crate::DynamoDb;
use crate::error::validation;
use crate::generated::types::*;
use crate::value::{item_from_wire, item_size};
use base64::Engine;
use bytes::Bytes;
use md5::{Digest, Md5};
use ruststack_core::protocol::scalar::format_timestamp;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::io::Write;
use std::sync::Arc;

pub async fn export_table_to_point_in_time(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ExportTableToPointInTimeInput,
) -> Result<ExportTableToPointInTimeOutput, AwsError> {
    let format = input.export_format.unwrap_or_else(|| "DYNAMODB_JSON".into());
    if format != "DYNAMODB_JSON" {
        return Err(validation(format!("ExportFormat {format} is not supported by this emulator; use DYNAMODB_JSON")));
    }
    let export_type = input.export_type.unwrap_or_else(|| "FULL_EXPORT".into());
    if export_type != "FULL_EXPORT" {
        return Err(validation(format!("ExportType {export_type} is not supported by this emulator; use FULL_EXPORT")));
    }
    let region = db.region(&ctx);
    let table = region.lookup(&input.table_arn).ok_or_else(|| {
        AwsError::bad_request("TableNotFoundException", format!("Table not found: {}", input.table_arn))
    })?;
    let meta = table.state.read().meta.clone();
    let Some(pitr) = &meta.point_in_time_recovery else {
        return Err(AwsError::bad_request(
            "PointInTimeRecoveryUnavailableException",
            format!("Point in time recovery is not enabled for table '{}'", meta.name),
        ));
    };
    let now = Timestamp::now();
    let export_time = input.export_time.unwrap_or(now);
    if export_time < pitr.enabled_at || export_time > now {
        return Err(AwsError::bad_request(
            "InvalidExportTimeException",
            "Export time must be within the point in time recovery window of the table",
        ));
    }
    // AWS's export ids: the start time in milliseconds and eight hex digits.
    let id = format!("{:014}-{:08x}", now.millis, fastrand::u32(..));
    let description = ExportDescription {
        export_arn: Some(format!("{}/export/{id}", meta.arn)),
        export_status: Some("IN_PROGRESS".into()),
        start_time: Some(now),
        table_arn: Some(meta.arn.clone()),
        table_id: Some(meta.id.clone()),
        export_time: Some(export_time),
        client_token: input.client_token,
        s3_bucket: Some(input.s3_bucket),
        s3_bucket_owner: Some(input.s3_bucket_owner.unwrap_or_else(|| ctx.account_id.to_string())),
        s3_prefix: input.s3_prefix,
        s3_sse_algorithm: Some(input.s3_sse_algorithm.unwrap_or_else(|| "AES256".into())),
        s3_sse_kms_key_id: input.s3_sse_kms_key_id,
        export_format: Some(format),
        export_type: Some(export_type),
        ..Default::default()
    };
    let arn = description.export_arn.clone().unwrap_or_default();
    region.exports.write().insert(arn.clone(), description.clone());
    let answer = description.clone();
    let (db2, name) = (db.clone(), meta.name.clone());
    tokio::spawn(async move {
        let result = run(&db2, &ctx, &name, &id, &description).await;
        let region = db2.region(&ctx);
        let mut exports = region.exports.write();
        let Some(export) = exports.get_mut(&arn) else { return };
        export.end_time = Some(Timestamp::now());
        match result {
            Ok((items, bytes, manifest)) => {
                export.export_status = Some("COMPLETED".into());
                export.item_count = Some(items);
                export.billed_size_bytes = Some(bytes);
                export.export_manifest = Some(manifest);
            }
            Err((code, message)) => {
                export.export_status = Some("FAILED".into());
                export.failure_code = Some(code);
                export.failure_message = Some(message);
            }
        }
    });
    Ok(ExportTableToPointInTimeOutput { export_description: Some(answer) })
}

/// Writes the export; its item count, size and manifest key, or its failure code and message.
async fn run(
    db: &Arc<DynamoDb>,
    ctx: &RequestContext,
    table: &str,
    id: &str,
    export: &ExportDescription,
) -> Result<(i64, i64, String), (String, String)> {
    let buckets = db.buckets();
    let bucket = export.s3_bucket.clone().unwrap_or_default();
    let (account, region) = (ctx.account_id.to_string(), ctx.region.to_string());
    let put = |key: String, body: Vec<u8>| {
        let fut = buckets.put(&account, &region, &bucket, &key, Bytes::from(body));
        async move { fut.await.map_err(|e| crate::buckets::failure(&e)) }
    };
    let base = match export.s3_prefix.as_deref().filter(|p| !p.is_empty()) {
        Some(prefix) => format!("{}/AWSDynamoDB/{id}", prefix.trim_end_matches('/')),
        None => format!("AWSDynamoDB/{id}"),
    };
    put(format!("{base}/_started"), Vec::new()).await?;

    let (mut lines, mut items, mut bytes) = (Vec::new(), 0i64, 0i64);
    let mut start = None;
    loop {
        let input = ScanInput {
            table_name: table.to_owned(),
            exclusive_start_key: start.take(),
            consistent_read: Some(true),
            ..Default::default()
        };
        let page = super::query::scan(db.clone(), ctx.clone(), input)
            .await
            .map_err(|e| ("UNKNOWN".to_owned(), e.message.clone()))?;
        for item in page.items.unwrap_or_default() {
            bytes += item_from_wire(item.clone()).map(|i| item_size(&i) as i64).unwrap_or(0);
            items += 1;
            let line = serde_json::json!({ "Item": item });
            lines.extend_from_slice(line.to_string().as_bytes());
            lines.push(b'\n');
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => break,
        }
    }
    let data = gzip(&lines);
    let data_key = format!("{base}/data/{}.json.gz", random_name());
    let files = serde_json::json!({
        "itemCount": items,
        "md5Checksum": base64::engine::general_purpose::STANDARD.encode(Md5::digest(&data)),
        "etag": hex(&Md5::digest(&data)),
        "dataFileS3Key": data_key,
    })
    .to_string()
        + "\n";
    put(data_key, data).await?;
    let files_key = format!("{base}/manifest-files.json");
    put(format!("{base}/manifest-files.md5"), hex(&Md5::digest(files.as_bytes())).into_bytes()).await?;
    put(files_key.clone(), files.into_bytes()).await?;
    let iso = |t: Option<Timestamp>| t.map(|t| format_timestamp(t.as_secs_f64(), TimestampFormat::Iso8601));
    let summary = serde_json::json!({
        "version": "2020-06-30",
        "exportArn": export.export_arn,
        "startTime": iso(export.start_time),
        "endTime": iso(Some(Timestamp::now())),
        "tableArn": export.table_arn,
        "tableId": export.table_id,
        "exportTime": iso(export.export_time),
        "s3Bucket": export.s3_bucket,
        "s3Prefix": export.s3_prefix,
        "s3SseAlgorithm": export.s3_sse_algorithm,
        "s3SseKmsKeyId": export.s3_sse_kms_key_id,
        "manifestFilesS3Key": files_key,
        "billedSizeBytes": bytes,
        "itemCount": items,
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    })
    .to_string();
    let summary_key = format!("{base}/manifest-summary.json");
    put(format!("{base}/manifest-summary.md5"), hex(&Md5::digest(summary.as_bytes())).into_bytes()).await?;
    put(summary_key.clone(), summary.into_bytes()).await?;
    Ok((items, bytes, summary_key))
}

pub async fn describe_export(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeExportInput,
) -> Result<DescribeExportOutput, AwsError> {
    let export = db.region(&ctx).exports.read().get(&input.export_arn).cloned().ok_or_else(|| {
        AwsError::bad_request("ExportNotFoundException", format!("Export not found: {}", input.export_arn))
    })?;
    Ok(DescribeExportOutput { export_description: Some(export) })
}

pub async fn list_exports(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListExportsInput,
) -> Result<ListExportsOutput, AwsError> {
    let limit = input.max_results.unwrap_or(25).clamp(1, 25) as usize;
    let exports = db.region(&ctx).exports.read().clone();
    let mut summaries: Vec<_> = exports
        .values()
        .filter(|e| input.table_arn.as_ref().is_none_or(|t| e.table_arn.as_ref() == Some(t)))
        .filter(|e| input.next_token.as_ref().is_none_or(|t| e.export_arn.as_ref() >= Some(t)))
        .map(|e| ExportSummary {
            export_arn: e.export_arn.clone(),
            export_status: e.export_status.clone(),
            export_type: e.export_type.clone(),
        })
        .take(limit + 1)
        .collect();
    let next_token = (summaries.len() > limit).then(|| summaries.pop().and_then(|s| s.export_arn)).flatten();
    Ok(ListExportsOutput { export_summaries: Some(summaries), next_token })
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A data file's name: 26 lowercase letters and digits, as AWS's look.
fn random_name() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..26).map(|_| CHARS[fastrand::usize(..CHARS.len())] as char).collect()
}
