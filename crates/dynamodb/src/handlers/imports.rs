//! ImportTable, DescribeImport, ListImports. ImportTable checks its table parameters as CreateTable
//! does and creates the table; a task then reads every object under the S3 prefix (DynamoDB JSON:
//! `{"Item":…}` values, one or more per line; or CSV), each record written as PutItem would.
//! Records that are not items count as errors and fail the import, the good ones stay written; an
//! S3 error (a missing bucket) fails it with `S3<code>` and removes the table, as AWS does.

use crate::DynamoDb;
use crate::error::validation;
use crate::generated::types::*;
use crate::value::WireItem;
use bytes::Bytes;
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::io::Read;
use std::sync::Arc;

pub async fn import_table(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ImportTableInput,
) -> Result<ImportTableOutput, AwsError> {
    if !matches!(input.input_format.as_str(), "DYNAMODB_JSON" | "CSV") {
        let format = &input.input_format;
        return Err(validation(format!(
            "InputFormat {format} is not supported by this emulator; use DYNAMODB_JSON or CSV"
        )));
    }
    let compression = input.input_compression_type.clone().unwrap_or_else(|| "NONE".into());
    if !matches!(compression.as_str(), "NONE" | "GZIP") {
        return Err(validation(format!(
            "InputCompressionType {compression} is not supported by this emulator; use GZIP or NONE"
        )));
    }
    let params = input.table_creation_parameters.clone();
    let region = db.region(&ctx);
    if region.lookup(&params.table_name).is_some() {
        return Err(AwsError::bad_request(
            "ImportConflictException",
            format!("Table already exists: {}", params.table_name),
        ));
    }
    let create = CreateTableInput {
        table_name: params.table_name.clone(),
        attribute_definitions: Some(params.attribute_definitions.clone()),
        key_schema: Some(params.key_schema.clone()),
        billing_mode: params.billing_mode.clone(),
        provisioned_throughput: params.provisioned_throughput.clone(),
        on_demand_throughput: params.on_demand_throughput.clone(),
        sse_specification: params.sse_specification.clone(),
        global_secondary_indexes: params.global_secondary_indexes.clone(),
        vector_indexes: params.vector_indexes.clone(),
        ..Default::default()
    };
    let created = super::tables::create_table(db.clone(), ctx.clone(), create).await.map_err(|e| {
        // The table exists already when CreateTable says it is in use.
        if e.code == "ResourceInUseException" {
            AwsError::bad_request("ImportConflictException", format!("Table already exists: {}", params.table_name))
        } else {
            e
        }
    })?;
    let table = created.table_description.unwrap_or_default();
    let table_arn = table.table_arn.unwrap_or_default();
    let now = Timestamp::now();
    let id = format!("{:014}-{:08x}", now.millis, fastrand::u32(..));
    let description = ImportTableDescription {
        import_arn: Some(format!("{table_arn}/import/{id}")),
        import_status: Some("IN_PROGRESS".into()),
        table_arn: Some(table_arn),
        table_id: table.table_id,
        client_token: input.client_token,
        s3_bucket_source: Some(input.s3_bucket_source),
        error_count: Some(0),
        cloud_watch_log_group_arn: None,
        input_format: Some(input.input_format),
        input_format_options: input.input_format_options,
        input_compression_type: Some(compression),
        table_creation_parameters: Some(params),
        start_time: Some(now),
        processed_size_bytes: Some(0),
        processed_item_count: Some(0),
        imported_item_count: Some(0),
        ..Default::default()
    };
    let arn = description.import_arn.clone().unwrap_or_default();
    region.imports.write().insert(arn.clone(), description.clone());
    let answer = description.clone();
    let db2 = db.clone();
    tokio::spawn(async move {
        let outcome = run(&db2, &ctx, &description).await;
        let region = db2.region(&ctx);
        let mut imports = region.imports.write();
        let Some(import) = imports.get_mut(&arn) else { return };
        import.end_time = Some(Timestamp::now());
        match outcome {
            Ok(counts) => {
                import.processed_size_bytes = Some(counts.bytes);
                import.processed_item_count = Some(counts.processed);
                import.imported_item_count = Some(counts.imported);
                import.error_count = Some(counts.errors);
                import.import_status = Some(if counts.errors > 0 { "FAILED" } else { "COMPLETED" }.into());
            }
            Err((code, message)) => {
                import.import_status = Some("FAILED".into());
                import.failure_code = Some(code);
                import.failure_message = Some(message);
            }
        }
    });
    Ok(ImportTableOutput { import_table_description: answer })
}

#[derive(Default)]
struct Counts {
    bytes: i64,
    processed: i64,
    imported: i64,
    errors: i64,
}

async fn run(
    db: &Arc<DynamoDb>,
    ctx: &RequestContext,
    import: &ImportTableDescription,
) -> Result<Counts, (String, String)> {
    let source = import.s3_bucket_source.clone().unwrap_or_default();
    let params = import.table_creation_parameters.clone().unwrap_or_default();
    let buckets = db.buckets();
    let (account, region) = (ctx.account_id.to_string(), ctx.region.to_string());
    let prefix = source.s3_key_prefix.clone().unwrap_or_default();
    let keys = match buckets.list(&account, &region, &source.s3_bucket, &prefix).await {
        Ok(keys) => keys,
        Err(e) => {
            // The table an import could not fill is removed.
            let delete = DeleteTableInput { table_name: params.table_name.clone() };
            let _ = super::tables::delete_table(db.clone(), ctx.clone(), delete).await;
            return Err(crate::buckets::failure(&e));
        }
    };
    let mut counts = Counts::default();
    for (key, _) in keys.into_iter().filter(|(k, _)| !k.ends_with('/')) {
        let body =
            buckets.get(&account, &region, &source.s3_bucket, &key).await.map_err(|e| crate::buckets::failure(&e))?;
        counts.bytes += body.len() as i64;
        let Some(text) = decompress(body, import.input_compression_type.as_deref() == Some("GZIP")) else {
            counts.errors += 1;
            continue;
        };
        let records = match import.input_format.as_deref() {
            Some("CSV") => csv_items(&text, import.input_format_options.as_ref(), &params),
            _ => json_items(&text),
        };
        for record in records {
            counts.processed += 1;
            let Some(item) = record else {
                counts.errors += 1;
                continue;
            };
            let put = PutItemInput { table_name: params.table_name.clone(), item, ..Default::default() };
            match super::items::put_item(db.clone(), ctx.clone(), put).await {
                Ok(_) => counts.imported += 1,
                Err(_) => counts.errors += 1,
            }
        }
    }
    Ok(counts)
}

fn decompress(body: Bytes, gzip: bool) -> Option<Vec<u8>> {
    if !gzip {
        return Some(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&body[..]).read_to_end(&mut out).ok()?;
    Some(out)
}

/// DynamoDB JSON: `{"Item": {…}}` values, one or more on a line. A value that is not an item, or
/// a line that is not JSON, is one record in error.
fn json_items(text: &[u8]) -> Vec<Option<WireItem>> {
    let mut out = Vec::new();
    for line in text.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        for value in serde_json::Deserializer::from_slice(line).into_iter::<serde_json::Value>() {
            let Ok(mut value) = value else {
                out.push(None);
                break;
            };
            let item = match value.as_object_mut() {
                Some(object) if object.len() == 1 => object.remove("Item"),
                _ => None,
            };
            out.push(item.filter(|i| i.is_object()).and_then(|i| serde_json::from_value(i).ok()));
        }
    }
    out
}

/// CSV: the header line (or `HeaderList`) names the columns; key attributes take their defined
/// type, every other value is a string, and empty values are left out.
fn csv_items(
    text: &[u8],
    options: Option<&InputFormatOptions>,
    params: &TableCreationParameters,
) -> Vec<Option<WireItem>> {
    let csv = options.and_then(|o| o.csv.as_ref());
    let delimiter = csv.and_then(|c| c.delimiter.as_deref()).and_then(|d| d.chars().next()).unwrap_or(',');
    let text = String::from_utf8_lossy(text);
    let mut rows = csv_rows(&text, delimiter).into_iter();
    let header = match csv.and_then(|c| c.header_list.clone()) {
        Some(header) => header,
        None => rows.next().unwrap_or_default(),
    };
    let typed = |name: &str, value: String| -> Option<AttributeValue> {
        let kind =
            params.attribute_definitions.iter().find(|d| d.attribute_name == name).map(|d| d.attribute_type.as_str());
        Some(match kind {
            Some("N") => AttributeValue { n: Some(value), ..Default::default() },
            Some("B") => {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD.decode(value.as_bytes()).ok()?;
                AttributeValue { b: Some(ruststack_core::Blob(Bytes::from(bytes))), ..Default::default() }
            }
            _ => AttributeValue { s: Some(value), ..Default::default() },
        })
    };
    rows.filter(|row| !(row.len() == 1 && row[0].is_empty()))
        .map(|row| {
            if row.len() > header.len() {
                return None;
            }
            let mut item = WireItem::new();
            for (name, value) in header.iter().zip(row) {
                if !value.is_empty() {
                    item.insert(name.clone(), typed(name, value)?);
                }
            }
            Some(item)
        })
        .collect()
}

/// RFC 4180 rows: quoted fields may hold the delimiter, newlines and doubled quotes.
fn csv_rows(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            c if c == delimiter && !quoted => row.push(std::mem::take(&mut field)),
            '\r' if !quoted && chars.peek() == Some(&'\n') => {}
            '\n' if !quoted => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            c => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

pub async fn describe_import(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DescribeImportInput,
) -> Result<DescribeImportOutput, AwsError> {
    let import = db.region(&ctx).imports.read().get(&input.import_arn).cloned().ok_or_else(|| {
        AwsError::bad_request("ImportNotFoundException", format!("Import not found: {}", input.import_arn))
    })?;
    Ok(DescribeImportOutput { import_table_description: import })
}

pub async fn list_imports(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: ListImportsInput,
) -> Result<ListImportsOutput, AwsError> {
    let limit = input.page_size.unwrap_or(25).clamp(1, 25) as usize;
    let imports = db.region(&ctx).imports.read().clone();
    let mut summaries: Vec<_> = imports
        .values()
        .filter(|i| input.table_arn.as_ref().is_none_or(|t| i.table_arn.as_ref() == Some(t)))
        .filter(|i| input.next_token.as_ref().is_none_or(|t| i.import_arn.as_ref() >= Some(t)))
        .map(|i| ImportSummary {
            import_arn: i.import_arn.clone(),
            import_status: i.import_status.clone(),
            table_arn: i.table_arn.clone(),
            s3_bucket_source: i.s3_bucket_source.clone(),
            cloud_watch_log_group_arn: i.cloud_watch_log_group_arn.clone(),
            input_format: i.input_format.clone(),
            start_time: i.start_time,
            end_time: i.end_time,
        })
        .take(limit + 1)
        .collect();
    let next_token = (summaries.len() > limit).then(|| summaries.pop().and_then(|s| s.import_arn)).flatten();
    Ok(ListImportsOutput { import_summary_list: Some(summaries), next_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_records_one_or_more_per_line() {
        let text = b"{\"Item\":{\"pk\":{\"S\":\"a\"}}}\n{\"Item\":{\"pk\":{\"S\":\"b\"}}}{\"Item\":{\"pk\":{\"S\":\"c\"}}}\n\n{\"pk\":{\"S\":\"d\"}}\nnot json\n";
        let records = json_items(text);
        assert_eq!(records.len(), 5);
        assert_eq!(records.iter().filter(|r| r.is_some()).count(), 3);
        assert!(records[3].is_none() && records[4].is_none());
    }

    #[test]
    fn csv_rows_with_quotes_and_typed_keys() {
        let rows = csv_rows("a,\"b,\"\"c\"\"\"\r\nd,e\n", ',');
        assert_eq!(rows, vec![vec!["a".to_owned(), "b,\"c\"".to_owned()], vec!["d".to_owned(), "e".to_owned()]]);
        let params = TableCreationParameters {
            attribute_definitions: vec![AttributeDefinition { attribute_name: "n".into(), attribute_type: "N".into() }],
            ..Default::default()
        };
        let items = csv_items(b"n,s\n1,x\n2,\n", None, &params);
        let first = items[0].as_ref().unwrap();
        assert_eq!(first["n"].n.as_deref(), Some("1"));
        assert_eq!(first["s"].s.as_deref(), Some("x"));
        assert!(!items[1].as_ref().unwrap().contains_key("s"));
    }
}
