//! CloudWatch Logs Insights: StartQuery runs the query (the subset in [`crate::query`]) over the
//! log groups' events of the time range before it answers, so GetQueryResults finds it Complete.
//! Queries and their results are kept in memory, as AWS keeps results only for a while.

use super::{group, invalid, name_from_identifier};
use crate::generated::types::*;
use crate::query::{Query, Record, Val, add_json_fields};
use crate::state::{EVENT_OVERHEAD, LogsState, Pos, now_millis};
use base64::Engine;
use ruststack_core::protocol::scalar::format_timestamp;
use ruststack_core::shape::TimestampFormat;
use ruststack_core::{AwsError, RequestContext};
use std::ops::Bound;
use std::sync::Arc;

/// Log groups one query may search.
const MAX_GROUPS: usize = 50;
/// Queries remembered per account and region (the oldest are forgotten first).
const MAX_KEPT: usize = 1000;

/// A query that ran, with what GetQueryResults and DescribeQueries answer.
pub struct QueryRun {
    pub info: QueryInfo,
    pub results: Vec<Vec<ResultField>>,
    pub statistics: QueryStatistics,
}

fn not_found() -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", "The specified query does not exist.")
}

/// `2024-01-02 03:04:05.678`, as Insights renders times.
fn insights_time(millis: i64) -> String {
    let iso = format_timestamp(millis as f64 / 1000.0, TimestampFormat::Iso8601);
    // `2024-01-02T03:04:05.678Z` (or without milliseconds).
    let iso = iso.trim_end_matches('Z').replacen('T', " ", 1);
    match iso.find('.') {
        Some(_) => format!("{:0<23}", iso),
        None => format!("{iso}.000"),
    }
}

fn uuid() -> String {
    let n = (fastrand::u128(..) & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

pub async fn start_query(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: StartQueryRequest,
) -> Result<StartQueryResponse, AwsError> {
    let names: Vec<String> = match (&input.log_group_name, &input.log_group_names, &input.log_group_identifiers) {
        (Some(n), None, None) => vec![n.clone()],
        (None, Some(ns), None) => ns.clone(),
        (None, None, Some(ids)) => ids.iter().map(|id| name_from_identifier(id).to_owned()).collect(),
        (None, None, None) => {
            return Err(invalid("Log group name, names or identifiers must be specified."));
        }
        _ => {
            return Err(invalid(
                "LogGroupName, LogGroupNames and LogGroupIdentifiers are mutually exclusive parameters.",
            ));
        }
    };
    if names.is_empty() || names.len() > MAX_GROUPS {
        return Err(invalid(format!("A query can search from 1 to {MAX_GROUPS} log groups.")));
    }
    if input.end_time < input.start_time {
        return Err(invalid("endTime must be greater than or equal to startTime."));
    }
    let query = Query::parse(&input.query_string).map_err(|e| {
        AwsError::bad_request("MalformedQueryException", e.message.clone()).with_field(
            "queryCompileError",
            serde_json::json!({
                "location": { "startCharOffset": e.start, "endCharOffset": e.end },
                "message": e.message,
            }),
        )
    })?;
    let (lo, hi) = (input.start_time.saturating_mul(1000), input.end_time.saturating_mul(1000).saturating_add(999));
    // The streams to read, with their group, under the region's lock.
    let streams: Vec<_> = {
        let region = state.region(&ctx.account_id, &ctx.region);
        let region = region.read();
        let mut streams = Vec::new();
        for name in &names {
            let g = group(&region, name)?;
            let from = lo.max(g.retention_cutoff(now_millis()));
            for s in g.streams.keys() {
                streams.push((name.clone(), s.clone(), region.stream_key(name, s), from));
            }
        }
        streams
    };
    let mut records: Vec<(i64, u64, Record)> = Vec::new();
    let mut bytes = 0u64;
    for (group_name, stream, key, from) in &streams {
        let range =
            (Bound::Included(Pos { timestamp: *from, id: 0 }), Bound::Included(Pos { timestamp: hi, id: u64::MAX }));
        for e in state.events(key, range.0, range.1, false) {
            bytes += (e.message.len() + EVENT_OVERHEAD) as u64;
            let mut r = Record::new();
            add_json_fields(&mut r, &e.message);
            r.insert("@timestamp".into(), Val::Str(insights_time(e.timestamp)));
            r.insert("@ingestionTime".into(), Val::Str(insights_time(e.ingestion_time)));
            r.insert("@message".into(), Val::Str(e.message));
            r.insert("@logStream".into(), Val::Str(stream.clone()));
            r.insert("@log".into(), Val::Str(format!("{}:{group_name}", ctx.account_id)));
            let ptr = format!("{group_name}\0{stream}\0{}", e.id);
            r.insert("@ptr".into(), Val::Str(base64::engine::general_purpose::STANDARD.encode(ptr)));
            records.push((e.timestamp, e.id, r));
        }
    }
    let scanned = records.len();
    // Newest first, as Insights answers a query without sort.
    records.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
    let (rows, matched) = query.run(records.into_iter().map(|(_, _, r)| r).collect());
    let limit = input.limit.map_or(10_000, |l| l.clamp(1, 10_000) as usize);
    let results: Vec<Vec<ResultField>> = rows
        .into_iter()
        .take(limit)
        .map(|row| row.into_iter().map(|(f, v)| ResultField { field: Some(f), value: Some(v) }).collect())
        .collect();
    let id = uuid();
    let run = QueryRun {
        info: QueryInfo {
            query_language: Some(input.query_language.unwrap_or_else(|| "CWLI".into())),
            query_id: Some(id.clone()),
            query_string: Some(input.query_string),
            status: Some("Complete".into()),
            create_time: Some(now_millis()),
            log_group_name: names.first().cloned(),
            ..Default::default()
        },
        statistics: QueryStatistics {
            records_matched: Some(matched as f64),
            records_scanned: Some(scanned as f64),
            bytes_scanned: Some(bytes as f64),
            log_groups_scanned: Some(names.len() as f64),
            result_count: Some(results.len() as f64),
            ..Default::default()
        },
        results,
    };
    let region = state.region(&ctx.account_id, &ctx.region);
    let mut region = region.write();
    if region.queries.len() >= MAX_KEPT {
        region.queries.remove(0);
    }
    region.queries.push(run);
    Ok(StartQueryResponse { query_id: Some(id) })
}

pub async fn get_query_results(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: GetQueryResultsRequest,
) -> Result<GetQueryResultsResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let run =
        region.queries.iter().find(|q| q.info.query_id.as_deref() == Some(&input.query_id)).ok_or_else(not_found)?;
    Ok(GetQueryResultsResponse {
        query_language: run.info.query_language.clone(),
        results: Some(run.results.clone()),
        statistics: Some(run.statistics.clone()),
        status: run.info.status.clone(),
        ..Default::default()
    })
}

pub async fn stop_query(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: StopQueryRequest,
) -> Result<StopQueryResponse, AwsError> {
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    region.queries.iter().find(|q| q.info.query_id.as_deref() == Some(&input.query_id)).ok_or_else(not_found)?;
    // Queries complete before StartQuery answers: none is running to stop.
    Ok(StopQueryResponse { success: Some(false) })
}

pub async fn describe_queries(
    state: Arc<LogsState>,
    ctx: RequestContext,
    input: DescribeQueriesRequest,
) -> Result<DescribeQueriesResponse, AwsError> {
    let start = match &input.next_token {
        Some(t) => t.parse::<usize>().map_err(|_| invalid("The specified nextToken is invalid."))?,
        None => 0,
    };
    let limit = input.max_results.map_or(1000, |m| m.clamp(1, 1000) as usize);
    let region = state.region(&ctx.account_id, &ctx.region);
    let region = region.read();
    let mut queries: Vec<QueryInfo> = region
        .queries
        .iter()
        .rev()
        .map(|q| &q.info)
        .filter(|q| input.log_group_name.as_ref().is_none_or(|g| q.log_group_name.as_ref() == Some(g)))
        .filter(|q| input.status.as_ref().is_none_or(|s| q.status.as_ref() == Some(s)))
        .filter(|q| input.query_language.as_ref().is_none_or(|l| q.query_language.as_ref() == Some(l)))
        .skip(start)
        .take(limit + 1)
        .cloned()
        .collect();
    let next_token = (queries.len() > limit).then(|| {
        queries.truncate(limit);
        (start + limit).to_string()
    });
    Ok(DescribeQueriesResponse { queries: Some(queries), next_token })
}
