//! The REST protocols' HTTP bindings (restXml for S3, restJson1 for Lambda): the router that finds
//! an operation from method, path, query and headers, and the mapping of URI labels, query
//! parameters and headers to and from input and output members.

use super::scalar;
use crate::error::AwsError;
use crate::shape::{Location, Member, Route, ServiceModel, ShapeId, ShapeKind, TimestampFormat};
use crate::types::Value;
use http::{HeaderMap, HeaderValue};
use percent_encoding::percent_decode_str;
use serde_json::Map;
use std::sync::OnceLock;

/// One segment of a URI template.
#[derive(Debug, PartialEq)]
enum Segment {
    Literal(&'static str),
    Label(&'static str),
    /// `{Key+}`: the rest of the path, slashes included.
    Greedy(&'static str),
}

/// A route compiled from its URI template.
#[derive(Debug)]
pub struct CompiledRoute {
    route: &'static Route,
    segments: Vec<Segment>,
    /// Query keys the template requires, with the value when it fixes one (`list-type=2`).
    query: Vec<(&'static str, Option<&'static str>)>,
}

impl CompiledRoute {
    fn compile(route: &'static Route) -> Self {
        let (path, query) = route.uri.split_once('?').unwrap_or((route.uri, ""));
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) => match label.strip_suffix('+') {
                    Some(greedy) => Segment::Greedy(greedy),
                    None => Segment::Label(label),
                },
                None => Segment::Literal(s),
            })
            .collect();
        let query = query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (kv, None),
            })
            .collect();
        CompiledRoute { route, segments, query }
    }

    /// More specific routes are tried first: literal segments, then fixed and required query
    /// keys, then required headers, then plain labels over greedy ones.
    fn rank(&self) -> (usize, usize, usize, usize, usize) {
        let literals = self.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        let greedy = self.segments.iter().any(|s| matches!(s, Segment::Greedy(_)));
        let query = self.query.len() + self.route.required_query.len();
        (literals, query, self.route.required_headers.len(), self.segments.len(), usize::from(!greedy))
    }

    /// The labels captured from `path` (raw, still percent-encoded), or `None` on mismatch.
    fn match_path<'p>(&self, path: &'p str) -> Option<Vec<(&'static str, &'p str)>> {
        let mut rest = path.strip_prefix('/').unwrap_or(path);
        let mut labels = Vec::new();
        for seg in &self.segments {
            if let Segment::Greedy(name) = seg {
                if rest.is_empty() {
                    return None;
                }
                labels.push((*name, rest));
                rest = "";
                continue;
            }
            let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
            match seg {
                Segment::Literal(lit) if *lit == head => {}
                Segment::Label(name) if !head.is_empty() => labels.push((*name, head)),
                _ => return None,
            }
            rest = tail;
        }
        rest.is_empty().then_some(labels)
    }

    fn match_query(&self, query: &[(String, String)]) -> bool {
        self.query.iter().all(|(k, v)| query.iter().any(|(qk, qv)| qk == k && v.is_none_or(|v| v == qv)))
    }

    /// Whether the request carries what the input requires in headers and query.
    fn has_required(&self, query: &[(String, String)], headers: &HeaderMap) -> bool {
        self.route.required_headers.iter().all(|h| headers.contains_key(*h))
            && self.route.required_query.iter().all(|q| query.iter().any(|(k, _)| k == q))
    }
}

/// The outcome of routing a REST request.
pub struct Matched<'p> {
    pub route: &'static Route,
    /// URI labels, still percent-encoded.
    pub labels: Vec<(&'static str, &'p str)>,
}

/// Finds the operation of a REST request among every operation AWS defines for the service.
pub fn route<'p>(
    model: &'static ServiceModel,
    method: &str,
    path: &'p str,
    query: &[(String, String)],
    headers: &HeaderMap,
) -> Result<Matched<'p>, AwsError> {
    let routes = compiled(model);
    let mut fallback = None;
    // Cheap tests first (method, fixed query keys), the path last: this runs on every request.
    for compiled in routes {
        if compiled.route.method != method || !compiled.match_query(query) {
            continue;
        }
        let Some(labels) = compiled.match_path(path) else { continue };
        if compiled.has_required(query, headers) {
            return Ok(Matched { route: compiled.route, labels });
        }
        // Remember the best route whose required members are missing: validation will name them.
        fallback.get_or_insert(Matched { route: compiled.route, labels });
    }
    if let Some(m) = fallback {
        return Ok(m);
    }
    if routes.iter().any(|r| r.match_path(path).is_some()) {
        return Err(AwsError::new(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        ));
    }
    Err(AwsError::not_found(
        "UnknownOperationException",
        format!("No {} operation matches {method} {path}", model.name),
    ))
}

/// A service's routes compiled and sorted by specificity, built once on first use.
#[derive(Debug, Default)]
pub struct RouteTable(OnceLock<Vec<CompiledRoute>>);

impl RouteTable {
    pub const fn new() -> Self {
        RouteTable(OnceLock::new())
    }
}

fn compiled(model: &'static ServiceModel) -> &'static [CompiledRoute] {
    model.route_table.0.get_or_init(|| {
        let mut routes: Vec<CompiledRoute> = model.routes.iter().map(CompiledRoute::compile).collect();
        // Between equally specific routes (S3's deprecated GetBucketLifecycle and its successor
        // share `GET /{Bucket}?lifecycle`), the one we serve wins.
        routes.sort_by_key(|r| std::cmp::Reverse((r.rank(), model.operation(r.route.name).is_some())));
        routes
    })
}

/// Splits and decodes a query string.
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn decode_label(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Reads the members bound to the URI, query string and headers into `out`.
pub fn read_bindings(
    model: &ServiceModel,
    input: ShapeId,
    labels: &[(&'static str, &str)],
    query: &[(String, String)],
    headers: &HeaderMap,
    out: &mut Map<String, Value>,
) -> Result<(), AwsError> {
    let ShapeKind::Structure(st) = &model.shape(input).kind else { return Ok(()) };
    for member in st.members {
        let name = member.wire_name();
        let value = match member.location {
            Location::Uri => match labels.iter().find(|(l, _)| *l == name) {
                Some((_, raw)) => {
                    Some(scalar::from_text(model, member.shape, &decode_label(raw), TimestampFormat::Iso8601)?)
                }
                None => None,
            },
            Location::Query => match &model.shape(member.shape).kind {
                ShapeKind::List(list) => {
                    let items: Vec<Value> = query
                        .iter()
                        .filter(|(k, _)| k == name)
                        .map(|(_, v)| scalar::from_text(model, list.member, v, TimestampFormat::Iso8601))
                        .collect::<Result<_, _>>()?;
                    (!items.is_empty()).then_some(Value::Array(items))
                }
                ShapeKind::Map(_) => {
                    // Every query parameter no other member binds.
                    let bound = |key: &str| {
                        st.members.iter().any(|m| {
                            m.location == Location::Query
                                && m.wire_name() == key
                                && !matches!(model.shape(m.shape).kind, ShapeKind::Map(_))
                        })
                    };
                    let map: Map<String, Value> = query
                        .iter()
                        .filter(|(k, _)| !bound(k))
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    (!map.is_empty()).then_some(Value::Object(map))
                }
                _ => match query.iter().find(|(k, _)| k == name) {
                    Some((_, v)) => Some(scalar::from_text(model, member.shape, v, TimestampFormat::Iso8601)?),
                    None => None,
                },
            },
            Location::Headers => {
                let map: Map<String, Value> = headers
                    .iter()
                    .filter_map(|(k, v)| {
                        let key = k.as_str().strip_prefix(name)?;
                        Some((key.to_owned(), Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())))
                    })
                    .collect();
                (!map.is_empty()).then_some(Value::Object(map))
            }
            // Read below, in one pass over the request's headers.
            Location::Header | Location::Body | Location::StatusCode => None,
        };
        if let Some(v) = value {
            out.insert(member.name.to_owned(), v);
        }
    }
    // A request carries a handful of headers and an input may bind dozens (GetObject: 20), so
    // each header is matched against the members rather than each member looked up by name.
    // Header members' wire names are lowercase in the generated tables, as `http` stores names.
    for (header, raw) in headers {
        let Some(member) =
            st.members.iter().find(|m| m.location == Location::Header && m.wire_name() == header.as_str())
        else {
            continue;
        };
        // A repeated header: the first value counts.
        if out.contains_key(member.name) {
            continue;
        }
        if let Some(v) = read_header(model, member, raw)? {
            out.insert(member.name.to_owned(), v);
        }
    }
    Ok(())
}

fn read_header(model: &ServiceModel, member: &Member, raw: &HeaderValue) -> Result<Option<Value>, AwsError> {
    let text = String::from_utf8_lossy(raw.as_bytes());
    let format = member.timestamp_format.unwrap_or(TimestampFormat::Rfc822);
    match &model.shape(member.shape).kind {
        ShapeKind::List(list) => {
            let items = text
                .split(',')
                .map(|part| scalar::from_text(model, list.member, part.trim(), format))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(Value::Array(items)))
        }
        // RFC 9110: a conditional header whose date does not parse is ignored (as S3 does).
        ShapeKind::Timestamp(_) if member.wire_name().starts_with("if-") => {
            Ok(scalar::from_text(model, member.shape, &text, format).ok())
        }
        _ => Ok(Some(scalar::from_text(model, member.shape, &text, format)?)),
    }
}

/// Writes the output members bound to headers; returns the status code to answer with, if the
/// output sets one.
pub fn write_bindings(model: &ServiceModel, output: ShapeId, value: &Value, headers: &mut HeaderMap) -> Option<u16> {
    let ShapeKind::Structure(st) = &model.shape(output).kind else { return None };
    let obj = value.as_object()?;
    let (mut status, mut partial) = (None, false);
    // Only the members the handler set: an output may bind dozens of headers (GetObject: 30).
    for (name, v) in obj {
        if v.is_null() {
            continue;
        }
        let Some(member) = st.member(name) else { continue };
        match member.location {
            Location::Header => {
                let format = member.timestamp_format.unwrap_or(TimestampFormat::Rfc822);
                let text = match (&model.shape(member.shape).kind, v) {
                    (ShapeKind::List(list), Value::Array(items)) => items
                        .iter()
                        .map(|i| scalar::to_text(model, list.member, i, format))
                        .collect::<Vec<_>>()
                        .join(","),
                    _ => scalar::to_text(model, member.shape, v, format),
                };
                insert_header(headers, header_name(member.wire_name()), text);
                // A response carrying Content-Range is partial content (S3 ranged GET/HEAD).
                partial |= member.wire_name() == "content-range";
            }
            Location::Headers => {
                for (k, v) in v.as_object().into_iter().flatten() {
                    let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
                    let name = format!("{}{}", member.wire_name(), k.to_ascii_lowercase());
                    insert_header(headers, http::HeaderName::try_from(name).ok(), text);
                }
            }
            Location::StatusCode => status = v.as_u64().and_then(|s| u16::try_from(s).ok()),
            _ => {}
        }
    }
    status.or(partial.then_some(206))
}

/// The header name of a model's wire name, without copying it when it is already canonical.
fn header_name(name: &'static str) -> Option<http::HeaderName> {
    let canonical = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if canonical && !name.is_empty() {
        Some(http::HeaderName::from_static(name))
    } else {
        http::HeaderName::from_bytes(name.as_bytes()).ok()
    }
}

fn insert_header(headers: &mut HeaderMap, name: Option<http::HeaderName>, value: String) {
    // The text becomes the header value without a copy.
    let (Some(name), Ok(value)) = (name, HeaderValue::from_maybe_shared(bytes::Bytes::from(value))) else {
        tracing::warn!("dropping an output header that is not valid HTTP");
        return;
    };
    headers.insert(name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    static ROUTES: [Route; 7] = [
        Route {
            name: "CopyObject",
            method: "PUT",
            uri: "/{Bucket}/{Key+}",
            required_headers: &["x-amz-copy-source"],
            required_query: &[],
        },
        Route { name: "GetObject", method: "GET", uri: "/{Bucket}/{Key+}", required_headers: &[], required_query: &[] },
        Route { name: "ListBuckets", method: "GET", uri: "/", required_headers: &[], required_query: &[] },
        Route { name: "ListObjects", method: "GET", uri: "/{Bucket}", required_headers: &[], required_query: &[] },
        Route {
            name: "ListObjectsV2",
            method: "GET",
            uri: "/{Bucket}?list-type=2",
            required_headers: &[],
            required_query: &[],
        },
        Route { name: "PutObject", method: "PUT", uri: "/{Bucket}/{Key+}", required_headers: &[], required_query: &[] },
        Route {
            name: "UploadPart",
            method: "PUT",
            uri: "/{Bucket}/{Key+}",
            required_headers: &[],
            required_query: &["partNumber", "uploadId"],
        },
    ];

    static MODEL: ServiceModel = ServiceModel {
        name: "s3",
        protocol: crate::shape::Protocol::RestXml,
        api_version: "2006-03-01",
        target_prefix: "",
        json_version: "",
        xml_namespace: "",
        signing_name: "s3",
        validation_error: "InvalidArgument",
        error_type_prefix: "",
        validation_shows_values: true,
        shapes: &[],
        operations: &[],
        routes: &ROUTES,
        route_table: RouteTable::new(),
    };

    fn op(method: &str, path: &str, query: &str, headers: &[&'static str]) -> Result<&'static str, u16> {
        let mut map = HeaderMap::new();
        for h in headers {
            map.insert(*h, http::HeaderValue::from_static("x"));
        }
        route(&MODEL, method, path, &parse_query(Some(query)), &map)
            .map(|m| m.route.name)
            .map_err(|e| e.status.as_u16())
    }

    #[test]
    fn routes_by_specificity() {
        assert_eq!(op("GET", "/", "", &[]), Ok("ListBuckets"));
        assert_eq!(op("GET", "/b", "", &[]), Ok("ListObjects"));
        assert_eq!(op("GET", "/b/", "", &[]), Ok("ListObjects"));
        assert_eq!(op("GET", "/b", "list-type=2", &[]), Ok("ListObjectsV2"));
        assert_eq!(op("GET", "/b", "list-type=1", &[]), Ok("ListObjects"));
        assert_eq!(op("GET", "/b/k/with/slashes/", "", &[]), Ok("GetObject"));
        assert_eq!(op("PUT", "/b/k", "", &[]), Ok("PutObject"));
        assert_eq!(op("PUT", "/b/k", "", &["x-amz-copy-source"]), Ok("CopyObject"));
        assert_eq!(op("PUT", "/b/k", "partNumber=1&uploadId=u", &[]), Ok("UploadPart"));
        assert_eq!(op("PUT", "/b/k", "partNumber=1", &[]), Ok("PutObject"));
        assert_eq!(op("DELETE", "/b/k", "", &[]), Err(405));
    }

    #[test]
    fn greedy_label_keeps_the_raw_rest_of_the_path() {
        let m = route(&MODEL, "GET", "/b/a%20b/c/", &[], &HeaderMap::new()).ok().unwrap();
        assert_eq!(m.labels, vec![("Bucket", "b"), ("Key", "a%20b/c/")]);
        assert_eq!(decode_label(m.labels[1].1), "a b/c/");
    }
}
