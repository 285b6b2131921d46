//! SelectObjectContent (S3 Select): an object read whole (decompressed from GZIP or BZIP2),
//! split into JSON or CSV records, run through the SQL of `sql.rs`, and answered as an AWS
//! event stream of Records, Stats and End messages.

mod eval;
mod sql;

use crate::common::find_version;
use crate::generated::types::*;
use crate::state::S3;
use bytes::{BufMut, Bytes, BytesMut};
use eval::{Aggregates, CsvIn, Eval, Out};
use ruststack_core::{AwsError, RequestContext, StreamingBody};
use std::io::Read;
use std::sync::Arc;

/// Objects larger than this are refused rather than read into memory.
const MAX_INPUT: usize = 256 * 1024 * 1024;
/// Records are sent in messages of about this size.
const CHUNK: usize = 64 * 1024;

pub async fn select_object_content(
    s3: Arc<S3>,
    _: RequestContext,
    input: SelectObjectContentRequest,
) -> Result<SelectObjectContentOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    if !input.expression_type.eq_ignore_ascii_case("SQL") {
        return Err(AwsError::bad_request(
            "InvalidExpressionType",
            "The ExpressionType is invalid. Only SQL expressions are supported.",
        ));
    }
    let query = sql::parse(&input.expression)?;
    let output = output_format(&input.output_serialization)?;
    let format = input_format(&input.input_serialization)?;
    let version = find_version(&bucket, &input.key, None)?;
    let stored = match version.blob {
        Some(blob) => {
            let body = s3.read_blob(blob, None).map_err(crate::errors::internal)?;
            ruststack_core::body::collect(body, MAX_INPUT).await?
        }
        None => Bytes::new(),
    };
    let data = decompress(input.input_serialization.compression_type.as_deref(), &stored)?;
    let records = match &format {
        Input::Json => eval::json_records(&data)?,
        Input::Csv(opt) => eval::csv_records(&String::from_utf8_lossy(&data), opt),
    };

    let eval = Eval { query: &query };
    let mut aggregates = Aggregates::new(&query)?;
    let mut stream = BytesMut::new();
    let mut chunk = String::new();
    let mut returned = 0usize;
    let mut emitted = 0u64;
    'records: for record in records {
        for row in eval.rows(record) {
            if query.limit.is_some_and(|l| emitted >= l) {
                break 'records;
            }
            if !eval.matches(&row)? {
                continue;
            }
            match &mut aggregates {
                Some(a) => a.add(&eval, &row)?,
                None => {
                    output.write(&eval.project(row)?, &mut chunk);
                    emitted += 1;
                    if chunk.len() >= CHUNK {
                        returned += chunk.len();
                        records_message(&mut stream, std::mem::take(&mut chunk));
                    }
                }
            }
        }
    }
    if let Some(a) = aggregates {
        output.write(&a.finish(&query), &mut chunk);
    }
    if !chunk.is_empty() {
        returned += chunk.len();
        records_message(&mut stream, chunk);
    }
    let stats = format!(
        "<Stats xmlns=\"\"><BytesScanned>{}</BytesScanned><BytesProcessed>{}</BytesProcessed><BytesReturned>{returned}</BytesReturned></Stats>",
        stored.len(),
        data.len()
    );
    message(&mut stream, &[("event", "Stats"), ("content", "text/xml")], stats.as_bytes());
    message(&mut stream, &[("event", "End")], b"");
    Ok(SelectObjectContentOutput { payload: StreamingBody::from_bytes(stream.freeze()) })
}

enum Input {
    Json,
    Csv(CsvIn),
}

fn one_char(value: Option<&str>, default: char, name: &str) -> Result<char, AwsError> {
    match value {
        None | Some("") => Ok(default),
        Some(s) if s.chars().count() == 1 => Ok(s.chars().next().unwrap_or(default)),
        Some(s) => Err(crate::errors::invalid_argument(format!("{name} must be a single character."), name, s)),
    }
}

fn input_format(ser: &InputSerialization) -> Result<Input, AwsError> {
    match (&ser.csv, &ser.json, &ser.parquet) {
        (Some(csv), None, None) => {
            let header = csv.file_header_info.as_deref().unwrap_or("NONE").to_ascii_uppercase();
            if !["USE", "IGNORE", "NONE"].contains(&header.as_str()) {
                return Err(crate::errors::invalid_argument(
                    "Invalid FileHeaderInfo.",
                    "FileHeaderInfo",
                    csv.file_header_info.as_deref().unwrap_or(""),
                ));
            }
            let quote = one_char(csv.quote_character.as_deref(), '"', "QuoteCharacter")?;
            Ok(Input::Csv(CsvIn {
                field: one_char(csv.field_delimiter.as_deref(), ',', "FieldDelimiter")?,
                record: csv.record_delimiter.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "\n".into()),
                quote,
                escape: one_char(csv.quote_escape_character.as_deref(), quote, "QuoteEscapeCharacter")?,
                comments: csv.comments.as_deref().and_then(|c| c.chars().next()),
                header,
                quoted_record_delimiter: csv.allow_quoted_record_delimiter.unwrap_or(false),
            }))
        }
        (None, Some(json), None) => match json.r#type.as_deref().map(str::to_ascii_uppercase).as_deref() {
            None | Some("DOCUMENT") | Some("LINES") => Ok(Input::Json),
            Some(_) => Err(crate::errors::invalid_argument(
                "Invalid JSON type.",
                "JSONType",
                json.r#type.as_deref().unwrap_or(""),
            )),
        },
        (None, None, Some(_)) => Err(AwsError::new(
            http::StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "Parquet input is not supported by RustStack's S3 Select.",
        )),
        _ => Err(crate::errors::malformed_xml()),
    }
}

fn output_format(ser: &OutputSerialization) -> Result<Out, AwsError> {
    match (&ser.csv, &ser.json) {
        (Some(csv), None) => {
            let quote = one_char(csv.quote_character.as_deref(), '"', "QuoteCharacter")?;
            Ok(Out::Csv {
                field: csv.field_delimiter.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| ",".into()),
                record: csv.record_delimiter.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "\n".into()),
                quote,
                escape: one_char(csv.quote_escape_character.as_deref(), quote, "QuoteEscapeCharacter")?,
                always: csv.quote_fields.as_deref().is_some_and(|q| q.eq_ignore_ascii_case("ALWAYS")),
            })
        }
        (None, Some(json)) => Ok(Out::Json {
            record: json.record_delimiter.clone().filter(|r| !r.is_empty()).unwrap_or_else(|| "\n".into()),
        }),
        _ => Err(crate::errors::malformed_xml()),
    }
}

fn decompress(kind: Option<&str>, data: &[u8]) -> Result<Vec<u8>, AwsError> {
    let mut out = Vec::new();
    let failed = |_| {
        AwsError::bad_request(
            "InvalidCompressionFormat",
            "The file is not in a supported compression format. Only GZIP and BZIP2 are supported.",
        )
    };
    match kind.map(str::to_ascii_uppercase).as_deref() {
        None | Some("NONE") => out.extend_from_slice(data),
        Some("GZIP") => {
            flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out).map_err(failed)?;
        }
        Some("BZIP2") => {
            bzip2::read::MultiBzDecoder::new(data).read_to_end(&mut out).map_err(failed)?;
        }
        Some(other) => {
            return Err(crate::errors::invalid_argument("Invalid compression format.", "CompressionType", other));
        }
    }
    if out.len() > MAX_INPUT {
        return Err(AwsError::bad_request("ObjectSerializationConflict", "The object is too large to select from."));
    }
    Ok(out)
}

fn records_message(stream: &mut BytesMut, payload: String) {
    message(stream, &[("event", "Records"), ("content", "application/octet-stream")], payload.as_bytes());
}

/// One event-stream message: prelude (total and headers lengths, CRC32), string headers
/// (`:message-type`, `:event-type`, `:content-type`), payload, CRC32 of all before it.
fn message(stream: &mut BytesMut, headers: &[(&str, &str)], payload: &[u8]) {
    let mut h = BytesMut::new();
    let mut header = |name: &str, value: &str| {
        h.put_u8(name.len() as u8);
        h.put_slice(name.as_bytes());
        h.put_u8(7);
        h.put_u16(value.len() as u16);
        h.put_slice(value.as_bytes());
    };
    header(":message-type", "event");
    for (kind, value) in headers {
        header(if *kind == "event" { ":event-type" } else { ":content-type" }, value);
    }
    let total = 12 + h.len() + payload.len() + 4;
    let start = stream.len();
    stream.put_u32(total as u32);
    stream.put_u32(h.len() as u32);
    let prelude_crc = crc32(&stream[start..start + 8]);
    stream.put_u32(prelude_crc);
    stream.put_slice(&h);
    stream.put_slice(payload);
    let message_crc = crc32(&stream[start..]);
    stream.put_u32(message_crc);
}

fn crc32(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stream_messages_are_framed_with_both_crcs() {
        let mut s = BytesMut::new();
        message(&mut s, &[("event", "End")], b"");
        let total = u32::from_be_bytes(s[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(s[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, s.len());
        assert_eq!(u32::from_be_bytes(s[8..12].try_into().unwrap()), crc32(&s[..8]));
        assert_eq!(u32::from_be_bytes(s[total - 4..].try_into().unwrap()), crc32(&s[..total - 4]));
        let h = &s[12..12 + headers];
        assert_eq!(&h[1..14], b":message-type");
        assert!(std::str::from_utf8(h).unwrap_or("").contains(":event-typeEnd") || h.windows(3).any(|w| w == b"End"));
    }

    #[test]
    fn compressed_inputs_are_read() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"a,b\n").unwrap();
        assert_eq!(decompress(Some("GZIP"), &gz.finish().unwrap()).unwrap(), b"a,b\n");
        assert_eq!(decompress(Some("BZIP2"), b"not bzip2").unwrap_err().code, "InvalidCompressionFormat");
        assert_eq!(decompress(None, b"x").unwrap(), b"x");
    }
}
