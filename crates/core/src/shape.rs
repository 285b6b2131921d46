//! Static descriptions of AWS service models, as the generator writes them.
//!
//! Every generated service crate holds one [`ServiceModel`]: the operations we serve and every shape
//! they reach. The protocol codecs walk these tables to turn wire bytes into a [`crate::Value`] keyed by
//! member names (and back), and the validator checks the same tables, so no codec or service ever
//! needs per-operation parsing code.

/// Index of a shape in [`ServiceModel::shapes`].
pub type ShapeId = u16;

/// The wire protocol a service speaks (botocore's `metadata.protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// awsJson 1.0 / 1.1: `POST /`, operation in `X-Amz-Target`, JSON body.
    AwsJson,
    /// awsQuery: form-encoded `Action=…&Version=…`, XML responses.
    AwsQuery,
    /// restXml (S3): HTTP bindings plus XML payloads.
    RestXml,
    /// restJson1 (Lambda): HTTP bindings plus JSON payloads.
    RestJson,
}

impl Protocol {
    /// The name used in logs, metrics and `/_ruststack/operations`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::AwsJson => "json",
            Protocol::AwsQuery => "query",
            Protocol::RestXml => "rest-xml",
            Protocol::RestJson => "rest-json",
        }
    }
}

/// One AWS service as served by us: metadata, the served operations and their shapes.
#[derive(Debug)]
pub struct ServiceModel {
    /// Our id for the service, as in `--services` and the health endpoint (`s3`, `dynamodb`, …).
    pub name: &'static str,
    pub protocol: Protocol,
    pub api_version: &'static str,
    /// awsJson: the `X-Amz-Target` prefix before the dot (`DynamoDB_20120810`).
    pub target_prefix: &'static str,
    /// awsJson: `1.0` or `1.1` (the response content type is `application/x-amz-json-<v>`).
    pub json_version: &'static str,
    /// awsQuery / restXml: the namespace of response documents.
    pub xml_namespace: &'static str,
    /// The service name in SigV4 credential scopes.
    pub signing_name: &'static str,
    /// The error code of input validation failures (`ValidationException`, `ValidationError`, …).
    pub validation_error: &'static str,
    /// awsJson: prefix of `__type` in error bodies (`com.amazonaws.dynamodb.v20120810#`), often empty.
    pub error_type_prefix: &'static str,
    /// Whether validation messages quote the offending value (`Value 'x' at …`). CloudWatch Logs
    /// leaves it out (`Value at 'logGroupIdentifier' …`).
    pub validation_shows_values: bool,
    pub shapes: &'static [Shape],
    /// The operations we generate types for, sorted by name.
    pub operations: &'static [Operation],
    /// Every operation AWS defines for the service, served or not, sorted by name: the REST router
    /// matches all of them so that an unserved one answers `NotImplemented` instead of being
    /// mistaken for another, and the coverage matrix lists them.
    pub routes: &'static [Route],
    /// The REST router's table, compiled from `routes` on first use.
    pub route_table: crate::protocol::rest::RouteTable,
}

impl ServiceModel {
    /// The served operation with this name.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.binary_search_by(|op| op.name.cmp(name)).ok().map(|i| &self.operations[i])
    }

    /// The shape with this id.
    pub fn shape(&self, id: ShapeId) -> &'static Shape {
        &self.shapes[id as usize]
    }

    /// The route of an operation AWS defines (served or not).
    pub fn route(&self, name: &str) -> Option<&'static Route> {
        self.routes.binary_search_by(|r| r.name.cmp(name)).ok().map(|i| &self.routes[i])
    }
}

/// Any operation AWS defines, with what the REST router needs to recognise it.
#[derive(Debug)]
pub struct Route {
    pub name: &'static str,
    pub method: &'static str,
    /// Request URI template, e.g. `/{Bucket}/{Key+}?uploads`.
    pub uri: &'static str,
    /// Lowercase names of headers the input requires (S3 tells CopyObject from PutObject by
    /// `x-amz-copy-source`).
    pub required_headers: &'static [&'static str],
    /// Query parameters the input requires (S3 tells UploadPart from PutObject by `partNumber`
    /// and `uploadId`).
    pub required_query: &'static [&'static str],
}

/// A served operation and its HTTP binding.
#[derive(Debug)]
pub struct Operation {
    pub name: &'static str,
    /// HTTP method of the REST binding (`POST` for awsJson / awsQuery).
    pub method: &'static str,
    /// REST request URI template, e.g. `/{Bucket}/{Key+}?uploads`.
    pub uri: &'static str,
    pub input: Option<ShapeId>,
    pub output: Option<ShapeId>,
    /// awsQuery: the element wrapping the output (`GetCallerIdentityResult`).
    pub result_wrapper: &'static str,
    /// HTTP status of a successful response.
    pub status: u16,
}

/// A named shape.
#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    pub kind: ShapeKind,
}

/// What a shape is, with the constraints AWS validates.
#[derive(Debug)]
pub enum ShapeKind {
    Structure(Structure),
    List(List),
    Map(Map),
    String(StringShape),
    /// `integer` and `long`.
    Integer(Range),
    /// `float` and `double`.
    Float(Range),
    Boolean,
    Blob(BlobShape),
    Timestamp(Option<TimestampFormat>),
    /// A free-form JSON document.
    Document,
}

#[derive(Debug)]
pub struct Structure {
    pub members: &'static [Member],
    /// The member bound to the whole HTTP body (REST protocols).
    pub payload: Option<&'static str>,
    /// XML element name of the structure when it is a document root (restXml).
    pub xml_name: &'static str,
    /// Exactly one member may be set.
    pub union: bool,
}

impl Structure {
    /// The member with this (model) name.
    pub fn member(&self, name: &str) -> Option<&'static Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

#[derive(Debug)]
pub struct List {
    pub member: ShapeId,
    /// XML / query element name of each item (`member` when empty).
    pub member_name: &'static str,
    pub flattened: bool,
    pub length: Range,
}

#[derive(Debug)]
pub struct Map {
    pub key: ShapeId,
    pub value: ShapeId,
    /// XML / query names of the key and value (`key` / `value` when empty).
    pub key_name: &'static str,
    pub value_name: &'static str,
    pub flattened: bool,
    pub length: Range,
}

#[derive(Debug)]
pub struct StringShape {
    /// Allowed values when the shape is an enum, else empty.
    pub enum_values: &'static [&'static str],
    pub length: Range,
    /// AWS's pattern in its own syntax (Java regex); empty when none.
    pub pattern: &'static str,
}

#[derive(Debug)]
pub struct BlobShape {
    pub streaming: bool,
    pub length: Range,
}

/// Inclusive bounds (a length for strings, lists, maps and blobs; a value for numbers).
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Range {
    pub const NONE: Range = Range { min: None, max: None };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampFormat {
    Iso8601,
    Rfc822,
    UnixTimestamp,
}

/// Where a member travels in a REST request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Header,
    /// A map bound to every header with a prefix (`x-amz-meta-`).
    Headers,
    /// A query parameter, or (for a map) every query parameter.
    Query,
    Uri,
    StatusCode,
}

/// A member of a structure.
#[derive(Debug)]
pub struct Member {
    /// The model name, which is also the key in [`crate::Value`] objects and the serde name.
    pub name: &'static str,
    pub shape: ShapeId,
    pub location: Location,
    /// The wire name (header, query key, URI label, XML element) when it differs from `name`.
    pub location_name: &'static str,
    pub required: bool,
    pub flattened: bool,
    pub xml_attribute: bool,
    /// `xmlns` to write on this member's element (S3's `AccessControlPolicy` grantee, …).
    pub xml_namespace: &'static str,
    pub timestamp_format: Option<TimestampFormat>,
    pub idempotency_token: bool,
}

impl Member {
    /// The name on the wire: `location_name` when given, else the member name.
    pub fn wire_name(&self) -> &'static str {
        if self.location_name.is_empty() { self.name } else { self.location_name }
    }
}
