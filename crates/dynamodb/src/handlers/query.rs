//! Query and Scan: key ranges over the ordered storage, Limit and the 1 MB page cap applied to
//! the items read, then the filter, then the projection — as DynamoDB does.

use super::common::*;
use super::items::projection;
use super::legacy;
use crate::DynamoDb;
use crate::error::{envelope, validation};
use crate::expression::eval::{matches, project};
use crate::expression::{CmpOp, Condition, ExprKind, Operand, Path};
use crate::generated::types::*;
use crate::table::{IndexDef, KeyDef, Projection, TableMeta, prefix_end, resume_after, resume_before};
use crate::value::{
    AttrValue, Item, WireItem, encode_key_part, encode_key_prefix, item_from_wire, item_size, item_to_wire,
};
use ruststack_core::{AwsError, RequestContext};
use std::borrow::Cow;
use std::ops::Bound;
use std::sync::Arc;

/// A page stops once this many bytes were read.
const PAGE_BYTES: usize = 1024 * 1024;

/// The sort key part of a key condition.
#[derive(Debug)]
enum RangeCond {
    Cmp(CmpOp, AttrValue),
    Between(AttrValue, AttrValue),
    BeginsWith(AttrValue),
}

fn unsupported() -> AwsError {
    validation("Query key condition not supported")
}

fn flatten(c: Condition, out: &mut Vec<Condition>) -> Result<(), AwsError> {
    match c {
        Condition::And(a, b) => {
            flatten(*a, out)?;
            flatten(*b, out)
        }
        Condition::Or(..) => Err(validation("Invalid operator used in KeyConditionExpression: OR")),
        Condition::Not(..) => Err(validation("Invalid operator used in KeyConditionExpression: NOT")),
        Condition::In(..) => Err(validation("Invalid operator used in KeyConditionExpression: IN")),
        Condition::Exists(_) => Err(validation("Invalid operator used in KeyConditionExpression: attribute_exists")),
        Condition::NotExists(_) => {
            Err(validation("Invalid operator used in KeyConditionExpression: attribute_not_exists"))
        }
        Condition::AttrType(..) => Err(validation("Invalid operator used in KeyConditionExpression: attribute_type")),
        Condition::Contains(..) => Err(validation("Invalid operator used in KeyConditionExpression: contains")),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

fn single_attr(op: &Operand) -> Option<&str> {
    match op {
        Operand::Path(p) if p.0.len() == 1 => Some(p.root()),
        _ => None,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

/// Splits a key condition into the encoded prefix it fixes (every partition key attribute and
/// the sort key attributes compared for equality before the last one named) and the condition
/// on the last sort key attribute named. Sort key attributes are named left to right, without
/// gaps (a multi-attribute key of a global index has up to four).
fn analyze(cond: Condition, key: &KeyDef) -> Result<(Vec<u8>, Option<RangeCond>), AwsError> {
    let mut leaves = Vec::new();
    flatten(cond, &mut leaves)?;
    let mut conds: Vec<(String, RangeCond)> = Vec::new();
    for leaf in leaves {
        let (name, rc) = match leaf {
            Condition::Compare(a, op, b) => match (&a, &b) {
                (Operand::Path(_), Operand::Value(v)) => {
                    (single_attr(&a).ok_or_else(unsupported)?.to_owned(), RangeCond::Cmp(op, v.clone()))
                }
                (Operand::Value(v), Operand::Path(_)) => {
                    (single_attr(&b).ok_or_else(unsupported)?.to_owned(), RangeCond::Cmp(flip(op), v.clone()))
                }
                _ => return Err(unsupported()),
            },
            Condition::Between(a, Operand::Value(lo), Operand::Value(hi)) => {
                (single_attr(&a).ok_or_else(unsupported)?.to_owned(), RangeCond::Between(lo, hi))
            }
            Condition::BeginsWith(a, Operand::Value(p)) => {
                (single_attr(&a).ok_or_else(unsupported)?.to_owned(), RangeCond::BeginsWith(p))
            }
            _ => return Err(unsupported()),
        };
        if let Some(t) = key.type_of(&name)
            && rc_values(&rc).iter().any(|v| v.scalar_type() != Some(t))
        {
            return Err(validation(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            ));
        }
        if conds.iter().any(|(n, _)| *n == name) {
            return Err(validation("KeyConditionExpressions must only contain one condition per key"));
        }
        conds.push((name, rc));
    }
    let attrs = key.attrs().count();
    if conds.len() > attrs {
        return Err(validation(format!(
            "The number of query conditions ({}) exceeds the number of key attributes defined in the schema ({attrs})",
            conds.len()
        )));
    }
    let mut take = |name: &str| conds.iter().position(|(n, _)| n == name).map(|i| conds.remove(i).1);
    let missed = |name: &str| validation(format!("Query condition missed key schema element: {name}"));
    let mut prefix = Vec::new();
    for (name, _) in key.hash_attrs() {
        match take(name) {
            Some(RangeCond::Cmp(CmpOp::Eq, v)) => encode_key_part(&v, &mut prefix),
            Some(_) => return Err(unsupported()),
            None => return Err(missed(name)),
        }
    }
    let mut named = Vec::new();
    let mut skipped = None;
    for (name, _) in key.range_attrs() {
        match take(name) {
            Some(rc) => {
                if let Some(gap) = skipped {
                    return Err(validation(format!(
                        "RANGE key attributes {gap} must have equality conditions specified in the query because a condition is present on key attribute {name}"
                    )));
                }
                if matches!(rc, RangeCond::Cmp(CmpOp::Ne, _)) {
                    return Err(unsupported());
                }
                named.push(rc);
            }
            None => skipped = skipped.or(Some(name.as_str())),
        }
    }
    if !conds.is_empty() {
        // A condition on an attribute outside the key: AWS names the sort key it expected.
        return Err(skipped.map_or_else(unsupported, missed));
    }
    let last = named.pop();
    for rc in named {
        match rc {
            RangeCond::Cmp(CmpOp::Eq, v) => encode_key_part(&v, &mut prefix),
            _ => return Err(unsupported()),
        }
    }
    Ok((prefix, last))
}

fn rc_values(rc: &RangeCond) -> Vec<&AttrValue> {
    match rc {
        RangeCond::Cmp(_, v) | RangeCond::BeginsWith(v) => vec![v],
        RangeCond::Between(a, b) => vec![a, b],
    }
}

fn with(prefix: &[u8], v: &AttrValue) -> Vec<u8> {
    let mut out = prefix.to_vec();
    encode_key_part(v, &mut out);
    out
}

fn after(bytes: Vec<u8>) -> Bound<Vec<u8>> {
    prefix_end(&bytes).map_or(Bound::Unbounded, Bound::Excluded)
}

/// The byte range of a key condition: the encoded `prefix` it fixes, then its last condition.
fn key_range(prefix: Vec<u8>, range: Option<&RangeCond>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let all_upper = after(prefix.clone());
    match range {
        None => (Bound::Included(prefix), all_upper),
        Some(RangeCond::Cmp(op, v)) => {
            let k = with(&prefix, v);
            match op {
                CmpOp::Eq => (Bound::Included(k.clone()), after(k)),
                CmpOp::Lt => (Bound::Included(prefix), Bound::Excluded(k)),
                CmpOp::Le => (Bound::Included(prefix), after(k)),
                CmpOp::Gt => (prefix_end(&k).map_or(Bound::Excluded(k), Bound::Included), all_upper),
                _ => (Bound::Included(k), all_upper),
            }
        }
        Some(RangeCond::Between(lo, hi)) => (Bound::Included(with(&prefix, lo)), after(with(&prefix, hi))),
        Some(RangeCond::BeginsWith(p)) => {
            let mut k = prefix;
            encode_key_prefix(p, &mut k);
            (Bound::Included(k.clone()), after(k))
        }
    }
}

/// Whether a storage position lies in a key condition's range (an ExclusiveStartKey must).
fn within(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>, pos: &[u8]) -> bool {
    let above = match lower {
        Bound::Included(l) => pos >= l.as_slice(),
        Bound::Excluded(l) => pos > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match upper {
        Bound::Included(u) => pos <= u.as_slice(),
        Bound::Excluded(u) => pos < u.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

/// The storage position of an ExclusiveStartKey.
fn start_position(meta: &TableMeta, index: Option<&IndexDef>, esk: WireItem) -> Result<Vec<u8>, AwsError> {
    let invalid =
        || validation("The provided starting key is invalid: The provided key element does not match the schema");
    let esk = item_from_wire(esk)?;
    let mut pos = match index {
        Some(ix) => ix.key.encode(&esk).ok_or_else(invalid)?,
        None => Vec::new(),
    };
    pos.extend(meta.key.encode(&esk).ok_or_else(invalid)?);
    Ok(pos)
}

/// What a Query or Scan asks for, once parsed.
struct Read {
    index: Option<IndexDef>,
    filter: Option<Condition>,
    paths: Option<Vec<Path>>,
    select: String,
    limit: Option<usize>,
    forward: bool,
    start: Option<Vec<u8>>,
    segment: Option<(u32, u32)>,
}

struct Page {
    /// Already in wire form: converting straight from storage saves a copy per item.
    items: Vec<WireItem>,
    count: usize,
    scanned: usize,
    bytes: usize,
    last_key: Option<Item>,
}

fn index_def(meta: &TableMeta, name: Option<&str>) -> Result<Option<IndexDef>, AwsError> {
    match name {
        None => Ok(None),
        Some(n) => meta
            .index(n)
            .cloned()
            .map(Some)
            .ok_or_else(|| validation(format!("The table does not have the specified index: {n}"))),
    }
}

/// Select's values in the order AWS lists them when it rejects one.
const SELECT_VALUES: [&str; 4] = ["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"];

/// The checks of Select against the rest of the request, made before the table is read, in
/// AWS's request-validation envelope.
fn check_select_request(
    select: Option<&str>,
    index: bool,
    projection_expression: bool,
    attributes_to_get: bool,
) -> Result<(), AwsError> {
    let Some(select) = select else { return Ok(()) };
    if !SELECT_VALUES.contains(&select) {
        return Err(envelope(validation(format!(
            "Value '{select}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            SELECT_VALUES.join(", ")
        ))));
    }
    if select == "ALL_PROJECTED_ATTRIBUTES" && !index {
        return Err(envelope(validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")));
    }
    if select == "SPECIFIC_ATTRIBUTES" {
        if !projection_expression && !attributes_to_get {
            return Err(envelope(validation(
                "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
            )));
        }
        return Ok(());
    }
    let what = if select == "COUNT" { "only the Count" } else { select };
    let given = if projection_expression {
        "ProjectionExpression"
    } else if attributes_to_get {
        "AttributesToGet"
    } else {
        return Ok(());
    };
    Err(envelope(validation(format!("Cannot specify the {given} when choosing to get {what}"))))
}

/// The checks of Select and ConsistentRead against the index read.
fn check_select(read: &Read, consistent: bool) -> Result<(), AwsError> {
    if let Some(ix) = &read.index {
        if ix.global && consistent {
            return Err(validation("Consistent reads are not supported on global secondary indexes"));
        }
        if read.select == "ALL_ATTRIBUTES" && ix.global && ix.projection != Projection::All {
            return Err(validation(format!(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
                ix.name
            )));
        }
    }
    Ok(())
}

fn default_select(select: Option<String>, index: bool, projected: bool) -> String {
    select.unwrap_or_else(|| {
        if projected {
            "SPECIFIC_ATTRIBUTES".into()
        } else if index {
            "ALL_PROJECTED_ATTRIBUTES".into()
        } else {
            "ALL_ATTRIBUTES".into()
        }
    })
}

/// ConsumedCapacity of a read; with INDEXES, charged to the index that was read.
fn read_capacity(table: &str, index: Option<&IndexDef>, units: f64, mode: Option<&str>) -> Option<ConsumedCapacity> {
    let mut out = consumed(table, units, mode)?;
    if mode == Some("INDEXES")
        && let Some(ix) = index
    {
        out.table = Some(Capacity { capacity_units: Some(0.0), ..Default::default() });
        let per_index =
            Some([(ix.name.clone(), Capacity { capacity_units: Some(units), ..Default::default() })].into());
        if ix.global {
            out.global_secondary_indexes = per_index;
        } else {
            out.local_secondary_indexes = per_index;
        }
    }
    Some(out)
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100000001b3))
}

/// Reads one page from the items `iter` yields.
fn read_page<'a>(meta: &TableMeta, read: &Read, iter: impl Iterator<Item = crate::table::Entry<'a>>) -> Page {
    let mut page = Page { items: Vec::new(), count: 0, scanned: 0, bytes: 0, last_key: None };
    let mut last: Option<Cow<'a, Item>> = None;
    let mut stopped = false;
    for (_, item) in iter {
        if let Some((segment, total)) = read.segment {
            let mut pk = Vec::new();
            if let Some(v) = item.get(&meta.key.hash.0) {
                encode_key_part(v, &mut pk);
            }
            if (fnv(&pk) % total as u64) as u32 != segment {
                continue;
            }
        }
        page.scanned += 1;
        page.bytes += item_size(&item);
        // The attributes the index holds (an LSI fetches the rest from the table).
        let view: Cow<Item> = match &read.index {
            Some(ix)
                if ix.projection != Projection::All && (ix.global || read.select == "ALL_PROJECTED_ATTRIBUTES") =>
            {
                Cow::Owned(meta.project_for_index(ix, &item))
            }
            _ => Cow::Borrowed(&*item),
        };
        if read.filter.as_ref().is_none_or(|f| matches(&view, f)) {
            page.count += 1;
            if read.select != "COUNT" {
                page.items.push(match &read.paths {
                    Some(p) => item_to_wire(&project(&view, p)),
                    None => item_to_wire(&view),
                });
            }
        }
        drop(view);
        last = Some(item);
        if read.limit.is_some_and(|l| page.scanned >= l) || page.bytes >= PAGE_BYTES {
            stopped = true;
            break;
        }
    }
    if stopped && let Some(item) = last {
        let mut key = meta.key.extract(&item);
        if let Some(ix) = &read.index {
            key.extend(ix.key.extract(&item));
        }
        page.last_key = Some(key);
    }
    page
}

pub async fn query(db: Arc<DynamoDb>, ctx: RequestContext, input: QueryInput) -> Result<QueryOutput, AwsError> {
    check_select_request(
        input.select.as_deref(),
        input.index_name.is_some(),
        input.projection_expression.is_some(),
        input.attributes_to_get.is_some(),
    )?;
    legacy::mixed(
        &[
            ("KeyConditions", input.key_conditions.is_some()),
            ("QueryFilter", input.query_filter.is_some()),
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("KeyConditionExpression", input.key_condition_expression.is_some()),
            ("FilterExpression", input.filter_expression.is_some()),
            ("ProjectionExpression", input.projection_expression.is_some()),
        ],
    )?;
    let uses = input.key_condition_expression.is_some()
        || input.filter_expression.is_some()
        || input.projection_expression.is_some();
    let maps = ExprMaps::new(input.expression_attribute_names, input.expression_attribute_values, uses)?;
    let mut ctx_e = maps.context();
    let key_condition = match input.key_condition_expression.as_deref() {
        Some(k) => Some(ctx_e.parse_condition(ExprKind::KeyCondition, k)?),
        None => legacy::conditions(input.key_conditions, None)?,
    };
    let filter = match input.filter_expression.as_deref() {
        Some(f) => Some(ctx_e.parse_condition(ExprKind::Filter, f)?),
        None => legacy::conditions(input.query_filter, input.conditional_operator.as_deref())?,
    };
    let paths = projection(&mut ctx_e, input.projection_expression.as_deref(), input.attributes_to_get)?;
    ctx_e.check_unused()?;
    let Some(key_condition) = key_condition else {
        return Err(validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    };
    let table = db.region(&ctx).table(&input.table_name)?;
    let state = table.state.read();
    let meta = &state.meta;
    let index = index_def(meta, input.index_name.as_deref())?;
    let key = index.as_ref().map_or(&meta.key, |i| &i.key);
    let (prefix, range) = analyze(key_condition, key)?;
    if let Some(f) = &filter
        && let Some(k) = f.roots().into_iter().find(|r| key.is_key(r))
    {
        let param = if input.filter_expression.is_some() { "Filter Expression" } else { "QueryFilter" };
        return Err(validation(format!(
            "{param} can only contain non-primary key attributes: Primary key attribute: {k}"
        )));
    }
    let consistent = input.consistent_read.unwrap_or(false);
    let read = Read {
        select: default_select(input.select, index.is_some(), paths.is_some()),
        start: input.exclusive_start_key.map(|k| start_position(meta, index.as_ref(), k)).transpose()?,
        index,
        filter,
        paths,
        limit: input.limit.map(|l| l.max(1) as usize),
        forward: input.scan_index_forward.unwrap_or(true),
        segment: None,
    };
    check_select(&read, consistent)?;
    let (mut lower, mut upper) = key_range(prefix, range.as_ref());
    if let Some(pos) = &read.start {
        if !within(&lower, &upper, pos) {
            return Err(validation(
                "The provided starting key is outside query boundaries based on provided conditions",
            ));
        }
        if read.forward {
            lower = resume_after(lower, pos.clone());
        } else {
            upper = resume_before(upper, pos.clone());
        }
    }
    let page = match &read.index {
        Some(ix) => read_page(meta, &read, state.data.index_range(&ix.name, lower, upper, read.forward)),
        None => read_page(meta, &read, state.data.range(lower, upper, read.forward)),
    };
    Ok(QueryOutput {
        items: (read.select != "COUNT").then_some(page.items),
        count: Some(page.count as i32),
        scanned_count: Some(page.scanned as i32),
        last_evaluated_key: page.last_key.as_ref().map(item_to_wire),
        consumed_capacity: read_capacity(
            &input.table_name,
            read.index.as_ref(),
            read_units(page.bytes, consistent),
            input.return_consumed_capacity.as_deref(),
        ),
    })
}

pub async fn scan(db: Arc<DynamoDb>, ctx: RequestContext, input: ScanInput) -> Result<ScanOutput, AwsError> {
    check_select_request(
        input.select.as_deref(),
        input.index_name.is_some(),
        input.projection_expression.is_some(),
        input.attributes_to_get.is_some(),
    )?;
    legacy::mixed(
        &[
            ("ScanFilter", input.scan_filter.is_some()),
            ("AttributesToGet", input.attributes_to_get.is_some()),
            ("ConditionalOperator", input.conditional_operator.is_some()),
        ],
        &[
            ("FilterExpression", input.filter_expression.is_some()),
            ("ProjectionExpression", input.projection_expression.is_some()),
        ],
    )?;
    let segment = match (input.segment, input.total_segments) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(validation(
                "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
            ));
        }
        (None, Some(_)) => {
            return Err(validation(
                "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
            ));
        }
        (Some(s), Some(t)) if s >= t => {
            return Err(validation(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments",
            ));
        }
        (Some(s), Some(t)) => Some((s as u32, t as u32)),
    };
    let uses = input.filter_expression.is_some() || input.projection_expression.is_some();
    let maps = ExprMaps::new(input.expression_attribute_names, input.expression_attribute_values, uses)?;
    let mut ctx_e = maps.context();
    let filter = match input.filter_expression.as_deref() {
        Some(f) => Some(ctx_e.parse_condition(ExprKind::Filter, f)?),
        None => legacy::conditions(input.scan_filter, input.conditional_operator.as_deref())?,
    };
    let paths = projection(&mut ctx_e, input.projection_expression.as_deref(), input.attributes_to_get)?;
    ctx_e.check_unused()?;
    let table = db.region(&ctx).table(&input.table_name)?;
    let state = table.state.read();
    let meta = &state.meta;
    let index = index_def(meta, input.index_name.as_deref())?;
    let consistent = input.consistent_read.unwrap_or(false);
    let read = Read {
        select: default_select(input.select, index.is_some(), paths.is_some()),
        start: input.exclusive_start_key.map(|k| start_position(meta, index.as_ref(), k)).transpose()?,
        index,
        filter,
        paths,
        limit: input.limit.map(|l| l.max(1) as usize),
        forward: true,
        segment,
    };
    check_select(&read, consistent)?;
    let lower = read.start.clone().map_or(Bound::Unbounded, Bound::Excluded);
    let page = match &read.index {
        Some(ix) => read_page(meta, &read, state.data.index_range(&ix.name, lower, Bound::Unbounded, true)),
        None => read_page(meta, &read, state.data.range(lower, Bound::Unbounded, true)),
    };
    Ok(ScanOutput {
        items: (read.select != "COUNT").then_some(page.items),
        count: Some(page.count as i32),
        scanned_count: Some(page.scanned as i32),
        last_evaluated_key: page.last_key.as_ref().map(item_to_wire),
        consumed_capacity: read_capacity(
            &input.table_name,
            read.index.as_ref(),
            read_units(page.bytes, consistent),
            input.return_consumed_capacity.as_deref(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    fn n(v: i64) -> AttrValue {
        AttrValue::N(Number::from_i64(v))
    }

    /// The storage position of table key (pk, sk).
    fn pos(pk: &str, sk: i64) -> Vec<u8> {
        let mut out = Vec::new();
        encode_key_part(&AttrValue::S(pk.into()), &mut out);
        encode_key_part(&n(sk), &mut out);
        out
    }

    #[test]
    fn start_keys_must_lie_within_the_key_condition() {
        let hash = AttrValue::S("a".into());
        let inside = |range: Option<RangeCond>, p: Vec<u8>| {
            let mut prefix = Vec::new();
            encode_key_part(&hash, &mut prefix);
            let (lo, hi) = key_range(prefix, range.as_ref());
            within(&lo, &hi, &p)
        };
        assert!(inside(None, pos("a", 5)));
        assert!(!inside(None, pos("b", 5)));
        assert!(inside(Some(RangeCond::Cmp(CmpOp::Gt, n(3))), pos("a", 4)));
        assert!(!inside(Some(RangeCond::Cmp(CmpOp::Gt, n(3))), pos("a", 3)));
        assert!(inside(Some(RangeCond::Cmp(CmpOp::Le, n(3))), pos("a", 3)));
        assert!(!inside(Some(RangeCond::Cmp(CmpOp::Lt, n(3))), pos("a", 3)));
        assert!(inside(Some(RangeCond::Between(n(1), n(9))), pos("a", 9)));
        assert!(!inside(Some(RangeCond::Between(n(1), n(9))), pos("a", 10)));
        assert!(!inside(Some(RangeCond::Cmp(CmpOp::Eq, n(2))), pos("a", 1)));
    }

    /// A multi-attribute index key: `g` (S) partition key, `s1` (S) then `s2` (N) sort key.
    fn multi_key() -> KeyDef {
        KeyDef {
            hash: ("g".into(), crate::value::ScalarType::S),
            range: Some(("s1".into(), crate::value::ScalarType::S)),
            more_hash: vec![],
            more_range: vec![("s2".into(), crate::value::ScalarType::N)],
        }
    }

    fn key_condition(src: &str) -> Result<(Vec<u8>, Option<RangeCond>), String> {
        let names = std::collections::HashMap::new();
        let values = [
            (":g".to_string(), AttrValue::S("g".into())),
            (":a".to_string(), AttrValue::S("a".into())),
            (":n".to_string(), n(5)),
        ]
        .into();
        let mut ctx = crate::expression::ExprContext::new(&names, &values);
        let cond = ctx.parse_condition(ExprKind::KeyCondition, src).map_err(|e| e.message)?;
        analyze(cond, &multi_key()).map_err(|e| e.message)
    }

    #[test]
    fn multi_attribute_sort_keys_are_named_left_to_right() {
        let mut g = Vec::new();
        encode_key_part(&AttrValue::S("g".into()), &mut g);
        let (prefix, range) = key_condition("g = :g").unwrap();
        assert_eq!(prefix, g);
        assert!(range.is_none());
        let (prefix, range) = key_condition("g = :g AND s1 = :a AND s2 > :n").unwrap();
        let mut ga = g.clone();
        encode_key_part(&AttrValue::S("a".into()), &mut ga);
        assert_eq!(prefix, ga);
        assert!(matches!(range, Some(RangeCond::Cmp(CmpOp::Gt, _))));
        let (prefix, range) = key_condition("s1 > :a AND g = :g").unwrap();
        assert_eq!(prefix, g);
        assert!(matches!(range, Some(RangeCond::Cmp(CmpOp::Gt, _))));
        assert_eq!(
            key_condition("g = :g AND s2 > :n").unwrap_err(),
            "RANGE key attributes s1 must have equality conditions specified in the query because a condition is present on key attribute s2"
        );
        assert_eq!(key_condition("g = :g AND s1 > :a AND s2 = :n").unwrap_err(), "Query key condition not supported");
        assert_eq!(key_condition("s1 = :a").unwrap_err(), "Query condition missed key schema element: g");
        assert_eq!(key_condition("g = :g AND x = :a").unwrap_err(), "Query condition missed key schema element: s1");
        assert_eq!(
            key_condition("g = :g AND s1 = :a AND s2 = :n AND x = :a").unwrap_err(),
            "The number of query conditions (4) exceeds the number of key attributes defined in the schema (3)"
        );
    }
}
