//! Browser form uploads (POST Object, what `generate_presigned_post` prepares): the form's fields,
//! the policy document's expiration and conditions checked as S3 checks them, and the file part
//! streamed into the object store.

use crate::checksums::{self, Algorithm};
use crate::common::{BlobSink, MAX_PUT_SIZE};
use crate::cors::render;
use crate::errors;
use crate::form::{self, FormReader};
use crate::objects::{check_key, check_storage_class, commit_version, effective_sse};
use crate::state::{ContentHeaders, ObjectMeta, ObjectVersion, S3, StoredChecksum, now};
use base64::Engine;
use http::{HeaderValue, Response, StatusCode};
use ruststack_core::AwsError;
use ruststack_core::body::{self, Body};
use ruststack_core::service::Raw;
use serde_json::Value;
use std::sync::Arc;

/// AWS's limit on the form fields before the file.
const MAX_PRE_DATA: usize = 20 * 1024;

/// Takes `POST /bucket` with a `multipart/form-data` body; anything else is not ours.
pub fn offer(s3: &Arc<S3>, parts: &http::request::Parts, body: Body) -> Raw {
    let content_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary = match form::boundary(content_type) {
        Some(b) if parts.uri.query().is_none_or(str::is_empty) => b,
        _ => return Raw::NotMine(body),
    };
    let Some((bucket, key)) = crate::cors::addressed(parts) else { return Raw::NotMine(body) };
    if !key.is_empty() {
        return Raw::NotMine(body);
    }
    let s3 = s3.clone();
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let path_style = crate::cors::addressed_by_path(parts);
    Raw::Answer(Box::pin(async move {
        let form = FormReader::new(body, &boundary);
        match post_object(&s3, &bucket, form, &host, path_style).await {
            Ok(response) => response,
            Err(e) => render(e),
        }
    }))
}

/// The form fields before the file, names lowercased (S3 matches them case-insensitively).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn denied(reason: impl std::fmt::Display) -> AwsError {
    AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", format!("Invalid according to Policy: {reason}"))
}

fn invalid_policy(reason: &str) -> AwsError {
    AwsError::bad_request("InvalidPolicyDocument", format!("Invalid Policy: {reason}"))
}

/// Fields a policy need not mention.
fn exempt(name: &str) -> bool {
    matches!(name, "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file" | "bucket")
        || name.starts_with("x-ignore-")
}

/// A parsed policy condition.
enum Condition {
    Eq(String, String),
    StartsWith(String, String),
    Length(u64, u64),
}

impl Condition {
    fn describe(&self) -> String {
        match self {
            Condition::Eq(f, v) => format!("[\"eq\", \"${f}\", \"{v}\"]"),
            Condition::StartsWith(f, v) => format!("[\"starts-with\", \"${f}\", \"{v}\"]"),
            Condition::Length(a, b) => format!("[\"content-length-range\", {a}, {b}]"),
        }
    }
}

fn parse_conditions(doc: &Value) -> Result<Vec<Condition>, AwsError> {
    let list =
        doc.get("conditions").and_then(Value::as_array).ok_or_else(|| invalid_policy("Policy missing conditions."))?;
    let field = |v: &Value| -> Result<String, AwsError> {
        let s = v
            .as_str()
            .ok_or_else(|| invalid_policy("Invalid Policy: Invalid Simple-Condition: value must be a string."))?;
        Ok(s.strip_prefix('$').unwrap_or(s).to_ascii_lowercase())
    };
    let mut out = Vec::new();
    for c in list {
        match c {
            Value::Object(map) => {
                for (k, v) in map {
                    let v = v
                        .as_str()
                        .ok_or_else(|| invalid_policy("Invalid Simple-Condition: value must be a string."))?;
                    out.push(Condition::Eq(k.to_ascii_lowercase(), v.to_owned()));
                }
            }
            Value::Array(items) => {
                match items.first().and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                    Some("eq") if items.len() == 3 => {
                        out.push(Condition::Eq(field(&items[1])?, items[2].as_str().unwrap_or_default().to_owned()))
                    }
                    Some("starts-with") if items.len() == 3 => out.push(Condition::StartsWith(
                        field(&items[1])?,
                        items[2].as_str().unwrap_or_default().to_owned(),
                    )),
                    Some("content-length-range") if items.len() == 3 => {
                        let n = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                        let (Some(a), Some(b)) = (n(&items[1]), n(&items[2])) else {
                            return Err(invalid_policy("Invalid content-length-range."));
                        };
                        out.push(Condition::Length(a, b));
                    }
                    _ => {
                        return Err(invalid_policy(
                            "Invalid Condition: unknown operation or wrong number of arguments.",
                        ));
                    }
                }
            }
            _ => return Err(invalid_policy("Invalid Condition.")),
        }
    }
    Ok(out)
}

/// Checks the policy's expiration and field conditions; returns the allowed length range.
fn check_policy(policy_b64: &str, bucket: &str, fields: &Fields) -> Result<Option<(u64, u64)>, AwsError> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid_policy("Invalid Policy: Policy could not be base64 decoded."))?;
    let doc: Value = serde_json::from_slice(&raw).map_err(|_| invalid_policy("Invalid JSON."))?;
    let expiration =
        doc.get("expiration").and_then(Value::as_str).ok_or_else(|| invalid_policy("Policy missing expiration."))?;
    let expires =
        ruststack_core::protocol::scalar::parse_timestamp(expiration, ruststack_core::shape::TimestampFormat::Iso8601)
            .ok_or_else(|| invalid_policy("Invalid 'expiration' value: must be an ISO8601 date."))?;
    if expires < ruststack_core::Timestamp::now().as_secs_f64() {
        return Err(denied("Policy expired."));
    }
    let conditions = parse_conditions(&doc)?;
    let value_of = |f: &str| if f == "bucket" { Some(bucket) } else { fields.get(f) };
    let mut range = None;
    for c in &conditions {
        let ok = match c {
            Condition::Eq(f, v) => value_of(f) == Some(v.as_str()),
            Condition::StartsWith(f, v) => value_of(f).is_some_and(|x| x.starts_with(v.as_str())),
            Condition::Length(a, b) => {
                range = Some((*a, *b));
                true
            }
        };
        if !ok {
            return Err(denied(format!("Policy Condition failed: {}", c.describe())));
        }
    }
    let covered = |name: &str| {
        conditions.iter().any(|c| matches!(c, Condition::Eq(f, _) | Condition::StartsWith(f, _) if f == name))
    };
    let extra: Vec<&str> = fields.0.iter().map(|(k, _)| k.as_str()).filter(|k| !exempt(k) && !covered(k)).collect();
    if !extra.is_empty() {
        return Err(denied(format!("Extra input fields: {}", extra.join(", "))));
    }
    Ok(range)
}

/// Parses a `tagging` field (`<Tagging><TagSet><Tag>…`).
fn parse_tagging(xml: &str) -> Result<Vec<(String, String)>, AwsError> {
    let root = ruststack_core::protocol::xml::parse(xml.as_bytes()).map_err(|_| errors::malformed_xml())?;
    let set = root.child("TagSet").ok_or_else(errors::malformed_xml)?;
    let tags: Vec<(String, String)> = set
        .children
        .iter()
        .filter(|t| t.name == "Tag")
        .map(|t| {
            let text = |n: &str| t.child(n).map(|c| c.text.clone()).unwrap_or_default();
            (text("Key"), text("Value"))
        })
        .collect();
    crate::common::check_tags(&tags)?;
    Ok(tags)
}

async fn post_object(
    s3: &Arc<S3>,
    bucket_name: &str,
    mut form: FormReader,
    host: &str,
    path_style: bool,
) -> Result<Response<Body>, AwsError> {
    let bucket = s3.bucket(bucket_name)?;
    // Fields come first; the file part ends them (AWS ignores anything after it).
    let mut fields = Fields(Vec::new());
    let mut pre_data = 0usize;
    let filename = loop {
        let Some(part) = form.next_part().await? else {
            return Err(errors::invalid_argument("POST requires exactly one file upload per request.", "file", "0"));
        };
        let name = part.name.to_ascii_lowercase();
        if name == "file" {
            break part.filename.unwrap_or_default();
        }
        let value = match form.field_value(MAX_PRE_DATA - pre_data.min(MAX_PRE_DATA)).await? {
            Ok(v) => v,
            Err(_) => {
                return Err(AwsError::bad_request(
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceeding the upload file was too large.",
                )
                .with_field("MaxPostPreDataLength", MAX_PRE_DATA));
            }
        };
        pre_data += name.len() + value.len();
        fields.0.push((name, String::from_utf8_lossy(&value).into_owned()));
    };
    let key_template = fields.get("key").filter(|k| !k.is_empty()).ok_or_else(|| {
        errors::invalid_argument(
            "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
            "key",
            "",
        )
    })?;
    let range = match fields.get("policy") {
        Some(policy) => check_policy(policy, bucket_name, &fields)?,
        None => None,
    };
    let key = key_template.replace("${filename}", &filename);
    check_key(&key)?;
    check_storage_class(fields.get("x-amz-storage-class"))?;
    let tags = fields.get("tagging").map(parse_tagging).transpose()?.unwrap_or_default();
    let acl = crate::acl::on_create(
        &bucket,
        &crate::acl::AclRequest { canned: fields.get("acl"), ..Default::default() },
        &bucket.account_id,
    )?;

    let mut sink = BlobSink::new(s3, Algorithm::Crc64Nvme, MAX_PUT_SIZE);
    while let Some(chunk) = form.file_chunk().await? {
        sink.push(chunk).await?;
    }
    let sunk = sink.finish();
    if let Some((min, max)) = range {
        if sunk.size < min {
            return Err(AwsError::bad_request(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
            )
            .with_field("ProposedSize", sunk.size)
            .with_field("MinSizeAllowed", min));
        }
        if sunk.size > max {
            return Err(AwsError::bad_request(
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
            )
            .with_field("ProposedSize", sunk.size)
            .with_field("MaxSizeAllowed", max));
        }
    }
    let etag = checksums::etag(&sunk.md5);
    let (algorithm, value) = sunk.checksum.clone();
    let blob = sunk.store(s3).await?;
    let owned = |name: &str| fields.get(name).map(str::to_owned);
    let (sse, sse_kms_key_id) = effective_sse(
        &bucket,
        owned("x-amz-server-side-encryption"),
        owned("x-amz-server-side-encryption-aws-kms-key-id"),
    );
    let metadata =
        fields.0.iter().filter_map(|(k, v)| Some((k.strip_prefix("x-amz-meta-")?.to_owned(), v.clone()))).collect();
    let meta = ObjectMeta {
        headers: ContentHeaders {
            content_type: owned("content-type"),
            content_encoding: owned("content-encoding"),
            content_disposition: owned("content-disposition"),
            content_language: owned("content-language"),
            cache_control: owned("cache-control"),
            expires: owned("expires"),
        },
        metadata,
        storage_class: owned("x-amz-storage-class").filter(|s| s != "STANDARD"),
        website_redirect: owned("x-amz-website-redirect-location"),
        sse: sse.clone(),
        sse_kms_key_id,
        tags: Vec::new(),
        acl: None,
        lock: crate::lock::for_new_version(&bucket, Default::default(), None)?,
    };
    let version = ObjectVersion {
        version_id: None,
        delete_marker: false,
        last_modified: now(),
        etag: etag.clone(),
        blob: Some(blob),
        meta,
        checksum: Some(StoredChecksum { algorithm, value, kind: "FULL_OBJECT" }),
        parts: Vec::new(),
        tags,
        acl,
        upload_id: None,
    };
    let notice = Some((crate::notifications::OBJECT_CREATED_POST, crate::notifications::Caller::Post));
    let version_id = commit_version(s3, &bucket, &key, version, |_| Ok(()), None, notice).await?;

    let encoded_key = percent_encoding::utf8_percent_encode(&key, KEY_SET).to_string();
    let location = if path_style {
        format!("http://{host}/{bucket_name}/{encoded_key}")
    } else {
        format!("http://{host}/{encoded_key}")
    };
    let mut response = Response::new(body::empty());
    let redirect = fields.get("success_action_redirect").or_else(|| fields.get("redirect"));
    let redirect = redirect.filter(|r| r.starts_with("http://") || r.starts_with("https://"));
    if let Some(target) = redirect {
        let sep = if target.contains('?') { '&' } else { '?' };
        let q = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let url = format!("{target}{sep}bucket={}&key={}&etag={}", q(bucket_name), q(&key), q(&etag));
        *response.status_mut() = StatusCode::SEE_OTHER;
        set(&mut response, "location", &url);
    } else {
        match fields.get("success_action_status") {
            Some("200") => *response.status_mut() = StatusCode::OK,
            Some("201") => {
                *response.status_mut() = StatusCode::CREATED;
                let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>");
                for (tag, text) in
                    [("Location", location.as_str()), ("Bucket", bucket_name), ("Key", &key), ("ETag", &etag)]
                {
                    xml.push('<');
                    xml.push_str(tag);
                    xml.push('>');
                    ruststack_core::protocol::xml::escape_into(&mut xml, text);
                    xml.push_str("</");
                    xml.push_str(tag);
                    xml.push('>');
                }
                xml.push_str("</PostResponse>");
                set(&mut response, "content-type", "application/xml");
                *response.body_mut() = body::full(xml);
            }
            _ => *response.status_mut() = StatusCode::NO_CONTENT,
        }
        set(&mut response, "location", &location);
    }
    set(&mut response, "etag", &etag);
    set(&mut response, "x-amz-server-side-encryption", sse.as_deref().unwrap_or("AES256"));
    if let Some(v) = version_id {
        set(&mut response, "x-amz-version-id", &v);
    }
    Ok(response)
}

/// Characters of a key left unescaped in the `Location` URL.
const KEY_SET: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

fn set(response: &mut Response<Body>, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::try_from(value) {
        response.headers_mut().insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(doc: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(doc)
    }

    #[test]
    fn policies_check_expiration_conditions_and_extra_fields() {
        let fields = Fields(vec![("key".into(), "up/a.txt".into()), ("content-type".into(), "text/plain".into())]);
        let ok = policy(
            r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","up/"],["eq","$Content-Type","text/plain"],["content-length-range",1,10]]}"#,
        );
        assert_eq!(check_policy(&ok, "b", &fields).unwrap(), Some((1, 10)));
        let expired = policy(r#"{"expiration":"2001-01-01T00:00:00Z","conditions":[]}"#);
        assert_eq!(
            check_policy(&expired, "b", &fields).unwrap_err().message,
            "Invalid according to Policy: Policy expired."
        );
        let wrong_bucket = policy(r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[{"bucket":"c"}]}"#);
        assert_eq!(
            check_policy(&wrong_bucket, "b", &fields).unwrap_err().message,
            "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"c\"]"
        );
        let loose = policy(r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[["starts-with","$key",""]]}"#);
        assert_eq!(
            check_policy(&loose, "b", &fields).unwrap_err().message,
            "Invalid according to Policy: Extra input fields: content-type"
        );
        assert_eq!(check_policy("!!", "b", &fields).unwrap_err().code, "InvalidPolicyDocument");
    }
}
