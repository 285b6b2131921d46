//! ListObjectsV2, ListObjects (v1) and ListObjectVersions: a walk over the bucket's `BTreeMap`
//! from the page's start key, grouping common prefixes and skipping each group in one jump.

use crate::buckets::owner;
use crate::errors;
use crate::generated::types::*;
use crate::state::{Bucket, ObjectVersion, S3};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ruststack_core::{AwsError, RequestContext};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// One entry of a listing page.
enum Entry {
    Object(String, Arc<ObjectVersion>),
    Prefix(String),
}

impl Entry {
    fn name(&self) -> &str {
        match self {
            Entry::Object(k, _) | Entry::Prefix(k) => k,
        }
    }
}

/// The smallest string greater than every string starting with `prefix` (which ends with a
/// non-empty delimiter): its last character incremented. UTF-8 byte order is code point order.
fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        let mut next = c as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(n) = char::from_u32(next) {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The common prefix `key` falls in, if any.
fn common_prefix<'k>(key: &'k str, prefix: &str, delimiter: Option<&str>) -> Option<&'k str> {
    let d = delimiter.filter(|d| !d.is_empty())?;
    let rest = &key[prefix.len()..];
    rest.find(d).map(|i| &key[..prefix.len() + i + d.len()])
}

/// Walks the current objects after `marker` (exclusive), returning up to `max` entries and
/// whether more follow. Delete markers hide their key.
fn walk(
    objects: &BTreeMap<String, Vec<Arc<ObjectVersion>>>,
    prefix: &str,
    delimiter: Option<&str>,
    marker: Option<&str>,
    max: usize,
) -> (Vec<Entry>, bool) {
    let mut entries = Vec::new();
    let mut from: Bound<String> = match marker {
        Some(m) if m >= prefix => Bound::Excluded(m.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    // A marker inside a common prefix group continues after the whole group.
    if let Some(m) = marker
        && m.starts_with(prefix)
        && let Some(cp) = common_prefix(m, prefix, delimiter)
        && let Some(next) = after_prefix(cp)
    {
        from = Bound::Included(next);
    }
    'outer: loop {
        let range = objects.range::<String, _>((from.as_ref(), Bound::Unbounded));
        for (key, versions) in range {
            if !key.starts_with(prefix) {
                break 'outer;
            }
            let Some(current) = versions.last().filter(|v| !v.delete_marker) else { continue };
            let entry = match common_prefix(key, prefix, delimiter) {
                Some(cp) => Entry::Prefix(cp.to_owned()),
                None => Entry::Object(key.clone(), current.clone()),
            };
            if entries.len() == max {
                return (entries, true);
            }
            if let Entry::Prefix(cp) = &entry {
                let next = after_prefix(cp);
                entries.push(entry);
                match next {
                    Some(n) => {
                        from = Bound::Included(n);
                        continue 'outer;
                    }
                    None => break 'outer,
                }
            }
            entries.push(entry);
        }
        break;
    }
    (entries, false)
}

fn check_encoding(encoding: Option<&str>) -> Result<bool, AwsError> {
    match encoding {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(other) => {
            Err(errors::invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", other))
        }
    }
}

fn check_max_keys(max: Option<i32>) -> Result<(i32, usize), AwsError> {
    let max = max.unwrap_or(1000);
    if max < 0 {
        return Err(errors::invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647",
            "maxKeys",
            &max.to_string(),
        ));
    }
    Ok((max, max.min(1000) as usize))
}

/// URL-encodes a name when `encoding-type=url` was asked for (as AWS: spaces become `+`).
fn enc(url: bool, s: &str) -> String {
    if url {
        form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace("%2F", "/")
    } else {
        s.to_owned()
    }
}

fn object_entry(url: bool, key: &str, v: &ObjectVersion, owner_of: Option<&str>) -> Object {
    Object {
        key: Some(enc(url, key)),
        last_modified: Some(v.last_modified),
        e_tag: Some(v.etag.clone()),
        checksum_algorithm: v.checksum.as_ref().map(|c| vec![c.algorithm.name().to_owned()]),
        checksum_type: v.checksum.as_ref().map(|c| c.kind.to_owned()),
        size: Some(v.size() as i64),
        storage_class: Some(v.meta.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
        owner: owner_of.map(owner),
        restore_status: None,
    }
}

fn split(entries: Vec<Entry>, url: bool, owner_of: Option<&str>) -> (Vec<Object>, Vec<CommonPrefix>) {
    let (mut contents, mut prefixes) = (Vec::new(), Vec::new());
    for e in entries {
        match e {
            Entry::Object(k, v) => contents.push(object_entry(url, &k, &v, owner_of)),
            Entry::Prefix(p) => prefixes.push(CommonPrefix { prefix: Some(enc(url, &p)) }),
        }
    }
    (contents, prefixes)
}

fn opt_vec<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

pub async fn list_objects_v2(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: ListObjectsV2Request,
) -> Result<ListObjectsV2Output, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let url = check_encoding(input.encoding_type.as_deref())?;
    let (max_keys, max) = check_max_keys(input.max_keys)?;
    let token_key = match &input.continuation_token {
        Some(t) if t.is_empty() => {
            return Err(errors::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                t,
            ));
        }
        Some(t) => Some(B64.decode(t).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| {
            errors::invalid_argument("The continuation token provided is incorrect", "continuation-token", t)
        })?),
        None => None,
    };
    let prefix = input.prefix.clone().unwrap_or_default();
    let marker = match (&token_key, &input.start_after) {
        (Some(t), _) => Some(t.as_str()),
        (None, Some(s)) if !s.is_empty() => Some(s.as_str()),
        _ => None,
    };
    let (entries, truncated) = {
        let objects = bucket.objects.read();
        walk(&objects, &prefix, input.delimiter.as_deref(), marker, max)
    };
    let next = truncated.then(|| B64.encode(entries.last().map(Entry::name).unwrap_or("")));
    let count = entries.len() as i32;
    let owner_of = (input.fetch_owner == Some(true)).then_some(bucket.account_id.as_str());
    let (contents, prefixes) = split(entries, url, owner_of);
    Ok(ListObjectsV2Output {
        is_truncated: Some(truncated),
        contents: opt_vec(contents),
        name: Some(bucket.name.clone()),
        prefix: Some(enc(url, &prefix)),
        delimiter: input.delimiter.as_deref().map(|d| enc(url, d)),
        max_keys: Some(max_keys),
        common_prefixes: opt_vec(prefixes),
        encoding_type: input.encoding_type,
        key_count: Some(count),
        continuation_token: input.continuation_token,
        next_continuation_token: next,
        start_after: input.start_after.as_deref().map(|s| enc(url, s)),
        request_charged: None,
    })
}

pub async fn list_objects(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: ListObjectsRequest,
) -> Result<ListObjectsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let url = check_encoding(input.encoding_type.as_deref())?;
    let (max_keys, max) = check_max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let marker = input.marker.as_deref().filter(|m| !m.is_empty());
    let (entries, truncated) = {
        let objects = bucket.objects.read();
        walk(&objects, &prefix, input.delimiter.as_deref(), marker, max)
    };
    // AWS sends NextMarker only when a delimiter was given (clients use the last key otherwise).
    let next_marker =
        (truncated && input.delimiter.is_some()).then(|| enc(url, entries.last().map(Entry::name).unwrap_or("")));
    let (contents, prefixes) = split(entries, url, Some(bucket.account_id.as_str()));
    Ok(ListObjectsOutput {
        is_truncated: Some(truncated),
        marker: Some(enc(url, input.marker.as_deref().unwrap_or(""))),
        next_marker,
        contents: opt_vec(contents),
        name: Some(bucket.name.clone()),
        prefix: Some(enc(url, &prefix)),
        delimiter: input.delimiter.as_deref().map(|d| enc(url, d)),
        max_keys: Some(max_keys),
        common_prefixes: opt_vec(prefixes),
        encoding_type: input.encoding_type,
        request_charged: None,
    })
}

pub async fn list_object_versions(
    s3: Arc<S3>,
    _ctx: RequestContext,
    input: ListObjectVersionsRequest,
) -> Result<ListObjectVersionsOutput, AwsError> {
    let bucket = s3.bucket(&input.bucket)?;
    let url = check_encoding(input.encoding_type.as_deref())?;
    let (max_keys, max) = check_max_keys(input.max_keys)?;
    let prefix = input.prefix.clone().unwrap_or_default();
    let key_marker = input.key_marker.clone().filter(|m| !m.is_empty());
    let version_marker = input.version_id_marker.clone().filter(|m| !m.is_empty());
    if version_marker.is_some() && key_marker.is_none() {
        return Err(errors::invalid_argument(
            "A version-id marker cannot be specified without a key marker.",
            "version-id-marker",
            version_marker.as_deref().unwrap_or(""),
        ));
    }
    let delimiter = input.delimiter.as_deref();
    let owner_of = bucket.account_id.clone();
    let (mut versions, mut markers, mut prefixes) = (Vec::new(), Vec::new(), Vec::new());
    let mut count = 0usize;
    let mut next: Option<(String, Option<String>)> = None;
    let mut last: Option<(String, Option<String>)> = None;
    {
        let objects = bucket.objects.read();
        let from = match (&key_marker, &version_marker) {
            (Some(k), Some(_)) => Bound::Included(k.clone()),
            (Some(k), None) if *k >= prefix => Bound::Excluded(k.clone()),
            _ => Bound::Included(prefix.clone()),
        };
        let mut last_prefix: Option<String> = None;
        'keys: for (key, list) in objects.range::<String, _>((from.as_ref(), Bound::Unbounded)) {
            if !key.starts_with(&prefix) {
                break;
            }
            if let Some(cp) = common_prefix(key, &prefix, delimiter) {
                if last_prefix.as_deref() == Some(cp) || key_marker.as_deref().is_some_and(|m| m.starts_with(cp)) {
                    continue;
                }
                if count == max {
                    next = last.clone();
                    break;
                }
                last_prefix = Some(cp.to_owned());
                prefixes.push(CommonPrefix { prefix: Some(enc(url, cp)) });
                count += 1;
                last = Some((cp.to_owned(), None));
                continue;
            }
            // Newest first; after a version-id marker on the marker key, only older versions.
            let mut skip = 0;
            if Some(key) == key_marker.as_ref()
                && let Some(vm) = &version_marker
            {
                skip = list.iter().rev().position(|v| v.version_str() == vm).map_or(list.len(), |i| i + 1);
            }
            for (i, v) in list.iter().rev().enumerate().skip(skip) {
                if count == max {
                    next = last.clone();
                    break 'keys;
                }
                let is_latest = i == 0;
                if v.delete_marker {
                    markers.push(DeleteMarkerEntry {
                        owner: Some(owner(&owner_of)),
                        key: Some(enc(url, key)),
                        version_id: Some(v.version_str().to_owned()),
                        is_latest: Some(is_latest),
                        last_modified: Some(v.last_modified),
                    });
                } else {
                    versions.push(crate::generated::types::ObjectVersion {
                        e_tag: Some(v.etag.clone()),
                        checksum_algorithm: v.checksum.as_ref().map(|c| vec![c.algorithm.name().to_owned()]),
                        checksum_type: v.checksum.as_ref().map(|c| c.kind.to_owned()),
                        size: Some(v.size() as i64),
                        storage_class: Some(v.meta.storage_class.clone().unwrap_or_else(|| "STANDARD".into())),
                        key: Some(enc(url, key)),
                        version_id: Some(v.version_str().to_owned()),
                        is_latest: Some(is_latest),
                        last_modified: Some(v.last_modified),
                        owner: Some(owner(&owner_of)),
                        restore_status: None,
                    });
                }
                count += 1;
                last = Some((key.clone(), Some(v.version_str().to_owned())));
            }
        }
    }
    let truncated = next.is_some();
    let (next_key, next_version) = match next {
        Some((k, v)) => (Some(enc(url, &k)), v),
        None => (None, None),
    };
    Ok(ListObjectVersionsOutput {
        is_truncated: Some(truncated),
        key_marker: Some(enc(url, key_marker.as_deref().unwrap_or(""))),
        version_id_marker: Some(version_marker.unwrap_or_default()),
        next_key_marker: next_key,
        next_version_id_marker: next_version,
        versions: opt_vec(versions),
        delete_markers: opt_vec(markers),
        name: Some(bucket.name.clone()),
        prefix: Some(enc(url, &prefix)),
        delimiter: input.delimiter.clone(),
        max_keys: Some(max_keys),
        common_prefixes: opt_vec(prefixes),
        encoding_type: input.encoding_type,
        request_charged: None,
    })
}

/// Keeps `Bucket` in scope for the docs above.
#[allow(dead_code)]
fn _doc(_: &Bucket) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_prefix_skips_the_group() {
        assert_eq!(after_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(after_prefix("é/").as_deref(), Some("é0"));
        assert_eq!(after_prefix("x\u{D7FF}").as_deref(), Some("x\u{E000}"));
    }

    #[test]
    fn walks_with_delimiters_and_markers() {
        let mut m = BTreeMap::new();
        for k in ["a/1", "a/2", "b", "c/x/y", "d"] {
            m.insert(k.to_owned(), vec![Arc::new(ObjectVersion::delete_marker(None))]);
        }
        // Delete markers hide everything.
        assert!(walk(&m, "", Some("/"), None, 10).0.is_empty());
        for v in m.values_mut() {
            let mut dm = ObjectVersion::delete_marker(None);
            dm.delete_marker = false;
            *v = vec![Arc::new(dm)];
        }
        let names = |e: &[Entry]| e.iter().map(|e| e.name().to_owned()).collect::<Vec<_>>();
        let (e, t) = walk(&m, "", Some("/"), None, 10);
        assert_eq!(names(&e), ["a/", "b", "c/", "d"]);
        assert!(!t);
        let (e, t) = walk(&m, "", Some("/"), None, 2);
        assert_eq!(names(&e), ["a/", "b"]);
        assert!(t);
        let (e, _) = walk(&m, "", Some("/"), Some("a/"), 10);
        assert_eq!(names(&e), ["b", "c/", "d"]);
        let (e, _) = walk(&m, "c/", Some("/"), None, 10);
        assert_eq!(names(&e), ["c/x/"]);
        let (e, t) = walk(&m, "", None, Some("b"), 10);
        assert_eq!(names(&e), ["c/x/y", "d"]);
        assert!(!t);
    }
}
