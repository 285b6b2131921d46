//! Attribute values: DynamoDB's ten data types, their validation as AWS does it on input,
//! equality (sets are unordered), item size as AWS counts it, and the ordered key encoding.

use crate::error::validation;
use crate::generated::types::AttributeValue;
use crate::number::Number;
use bytes::Bytes;
use ruststack_core::{AwsError, Blob};
use std::collections::{BTreeMap, HashMap};

/// An item (or a map value): attribute name → value.
pub type Item = BTreeMap<String, AttrValue>;

/// The wire form of an item.
pub type WireItem = HashMap<String, AttributeValue>;

/// Largest item (400 KB) and key parts, in bytes.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
pub const MAX_HASH_KEY_SIZE: usize = 2048;
pub const MAX_RANGE_KEY_SIZE: usize = 1024;
/// Deepest nesting of maps and lists.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone)]
pub enum AttrValue {
    S(String),
    N(Number),
    B(Bytes),
    SS(Vec<String>),
    NS(Vec<Number>),
    BS(Vec<Bytes>),
    M(Item),
    L(Vec<AttrValue>),
    Null,
    Bool(bool),
}

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ScalarType {
    S,
    N,
    B,
}

impl ScalarType {
    pub fn parse(s: &str) -> Option<ScalarType> {
        match s {
            "S" => Some(ScalarType::S),
            "N" => Some(ScalarType::N),
            "B" => Some(ScalarType::B),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScalarType::S => "S",
            ScalarType::N => "N",
            ScalarType::B => "B",
        }
    }
}

fn same_set<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

impl PartialEq for AttrValue {
    fn eq(&self, other: &AttrValue) -> bool {
        use AttrValue::*;
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (SS(a), SS(b)) => same_set(a, b),
            (NS(a), NS(b)) => same_set(a, b),
            (BS(a), BS(b)) => same_set(a, b),
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            _ => false,
        }
    }
}

impl AttrValue {
    /// The type's name as DynamoDB writes it (`S`, `NS`, `NULL`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            AttrValue::S(_) => "S",
            AttrValue::N(_) => "N",
            AttrValue::B(_) => "B",
            AttrValue::SS(_) => "SS",
            AttrValue::NS(_) => "NS",
            AttrValue::BS(_) => "BS",
            AttrValue::M(_) => "M",
            AttrValue::L(_) => "L",
            AttrValue::Null => "NULL",
            AttrValue::Bool(_) => "BOOL",
        }
    }

    pub fn scalar_type(&self) -> Option<ScalarType> {
        match self {
            AttrValue::S(_) => Some(ScalarType::S),
            AttrValue::N(_) => Some(ScalarType::N),
            AttrValue::B(_) => Some(ScalarType::B),
            _ => None,
        }
    }

    /// Ordering of two values of the same scalar type (`None` otherwise): numbers numerically,
    /// strings as UTF-8 bytes, binaries as unsigned bytes.
    pub fn compare(&self, other: &AttrValue) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (AttrValue::S(a), AttrValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (AttrValue::N(a), AttrValue::N(b)) => Some(a.cmp(b)),
            (AttrValue::B(a), AttrValue::B(b)) => Some(a.as_ref().cmp(b.as_ref())),
            _ => None,
        }
    }

    /// Size as AWS counts it toward the 400 KB item limit (without the attribute name).
    pub fn size(&self) -> usize {
        fn number(n: &Number) -> usize {
            (n.significant_digits() as usize).div_ceil(2) + 1
        }
        match self {
            AttrValue::S(s) => s.len(),
            AttrValue::N(n) => number(n),
            AttrValue::B(b) => b.len(),
            AttrValue::SS(v) => v.iter().map(String::len).sum(),
            AttrValue::NS(v) => v.iter().map(number).sum(),
            AttrValue::BS(v) => v.iter().map(Bytes::len).sum(),
            AttrValue::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            AttrValue::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            AttrValue::Null | AttrValue::Bool(_) => 1,
        }
    }

    /// Converts from the wire, validating as AWS does.
    pub fn from_wire(v: AttributeValue) -> Result<AttrValue, AwsError> {
        from_wire_at(v, 0).map_err(|e| validation(e.message()))
    }

    /// Converts to the wire form.
    pub fn to_wire(&self) -> AttributeValue {
        let mut w = AttributeValue::default();
        match self {
            AttrValue::S(s) => w.s = Some(s.clone()),
            AttrValue::N(n) => w.n = Some(n.to_string()),
            AttrValue::B(b) => w.b = Some(Blob(b.clone())),
            AttrValue::SS(v) => w.ss = Some(v.clone()),
            AttrValue::NS(v) => w.ns = Some(v.iter().map(Number::to_string).collect()),
            AttrValue::BS(v) => w.bs = Some(v.iter().map(|b| Blob(b.clone())).collect()),
            AttrValue::M(m) => w.m = Some(item_to_wire(m)),
            AttrValue::L(l) => w.l = Some(l.iter().map(AttrValue::to_wire).collect()),
            AttrValue::Null => w.null = Some(true),
            AttrValue::Bool(b) => w.bool = Some(*b),
        }
        w
    }
}

/// A value error before it is given its context (item, key, expression value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(String);

impl ValueError {
    pub fn message(&self) -> &str {
        &self.0
    }

    /// AWS checks for empty sets while validating the request, before any value is given its
    /// context: the message is in the request-validation envelope, even inside
    /// ExpressionAttributeValues.
    fn is_request_check(&self) -> bool {
        self.0.starts_with("1 validation error detected: ")
    }
}

fn invalid(msg: impl Into<String>) -> ValueError {
    ValueError(format!("One or more parameter values were invalid: {}", msg.into()))
}

/// AWS's message for an empty string or number set (its two spaces included).
fn empty_set(kind: &str) -> ValueError {
    ValueError(format!(
        "1 validation error detected: One or more parameter values were invalid: An {kind} set  may not be empty"
    ))
}

fn parse_number(s: &str) -> Result<Number, ValueError> {
    Number::parse(s).map_err(|e| ValueError(e.message()))
}

fn check_duplicates<T: PartialEq>(items: &[T], show: impl Fn(&T) -> String) -> Result<(), ValueError> {
    for (i, a) in items.iter().enumerate() {
        if items[..i].contains(a) {
            let shown: Vec<String> = items.iter().map(show).collect();
            return Err(invalid(format!("Input collection [{}] contains duplicates.", shown.join(", "))));
        }
    }
    Ok(())
}

fn from_wire_at(v: AttributeValue, depth: usize) -> Result<AttrValue, ValueError> {
    let set = [
        v.s.is_some(),
        v.n.is_some(),
        v.b.is_some(),
        v.ss.is_some(),
        v.ns.is_some(),
        v.bs.is_some(),
        v.m.is_some(),
        v.l.is_some(),
        v.null.is_some(),
        v.bool.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if set == 0 {
        return Err(ValueError(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into(),
        ));
    }
    if set > 1 {
        return Err(ValueError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                .into(),
        ));
    }
    if depth > MAX_DEPTH {
        return Err(invalid("Nesting Levels have exceeded supported limits"));
    }
    Ok(if let Some(s) = v.s {
        AttrValue::S(s)
    } else if let Some(n) = v.n {
        AttrValue::N(parse_number(&n)?)
    } else if let Some(b) = v.b {
        AttrValue::B(b.0)
    } else if let Some(ss) = v.ss {
        if ss.is_empty() {
            return Err(empty_set("string"));
        }
        check_duplicates(&ss, |s| s.clone())?;
        AttrValue::SS(ss)
    } else if let Some(ns) = v.ns {
        if ns.is_empty() {
            return Err(empty_set("number"));
        }
        let nums = ns.iter().map(|s| parse_number(s)).collect::<Result<Vec<_>, _>>()?;
        check_duplicates(&nums, Number::to_string)?;
        AttrValue::NS(nums)
    } else if let Some(bs) = v.bs {
        if bs.is_empty() {
            return Err(invalid("Binary sets should not be empty"));
        }
        let bytes: Vec<Bytes> = bs.into_iter().map(|b| b.0).collect();
        check_duplicates(&bytes, |b| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(b)
        })?;
        AttrValue::BS(bytes)
    } else if let Some(m) = v.m {
        let mut item = Item::new();
        for (k, v) in m {
            item.insert(k, from_wire_at(v, depth + 1)?);
        }
        AttrValue::M(item)
    } else if let Some(l) = v.l {
        AttrValue::L(l.into_iter().map(|v| from_wire_at(v, depth + 1)).collect::<Result<_, _>>()?)
    } else if let Some(null) = v.null {
        if !null {
            return Err(invalid("Null attribute value types must have the value of true"));
        }
        AttrValue::Null
    } else {
        AttrValue::Bool(v.bool.unwrap_or_default())
    })
}

/// Converts a wire item, validating every value.
pub fn item_from_wire(item: WireItem) -> Result<Item, AwsError> {
    let mut out = Item::new();
    for (k, v) in item {
        out.insert(k, AttrValue::from_wire(v)?);
    }
    Ok(out)
}

/// Converts `ExpressionAttributeValues`, naming the offending key in errors as AWS does.
pub fn expression_values_from_wire(values: Option<WireItem>) -> Result<HashMap<String, AttrValue>, AwsError> {
    let mut out = HashMap::new();
    for (k, v) in values.unwrap_or_default() {
        match from_wire_at(v, 0) {
            Ok(v) => {
                out.insert(k, v);
            }
            Err(e) if e.is_request_check() => return Err(validation(e.0)),
            Err(e) => {
                return Err(validation(format!(
                    "ExpressionAttributeValues contains invalid value: {} for key {k}",
                    e.message()
                )));
            }
        }
    }
    Ok(out)
}

pub fn item_to_wire(item: &Item) -> WireItem {
    item.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect()
}

/// Size of an item as AWS counts it: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// Appends the ordered, self-delimiting encoding of a key value: numbers by value, strings and
/// binaries bytewise (a 0x00 byte is escaped as 00 FF, the end marked by 00 00).
pub fn encode_key_part(v: &AttrValue, out: &mut Vec<u8>) {
    fn bytes(b: &[u8], out: &mut Vec<u8>) {
        for &c in b {
            out.push(c);
            if c == 0 {
                out.push(0xFF);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    match v {
        AttrValue::S(s) => bytes(s.as_bytes(), out),
        AttrValue::B(b) => bytes(b, out),
        AttrValue::N(n) => n.encode_ordered(out),
        _ => {}
    }
}

/// The encoding of a string or binary prefix (for `begins_with` ranges): no end marker.
pub fn encode_key_prefix(v: &AttrValue, out: &mut Vec<u8>) {
    let b: &[u8] = match v {
        AttrValue::S(s) => s.as_bytes(),
        AttrValue::B(b) => b,
        _ => return,
    };
    for &c in b {
        out.push(c);
        if c == 0 {
            out.push(0xFF);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue { s: Some(v.into()), ..Default::default() }
    }

    fn err(v: AttributeValue) -> String {
        from_wire_at(v, 0).unwrap_err().0
    }

    #[test]
    fn exactly_one_type_must_be_set() {
        assert_eq!(
            err(AttributeValue::default()),
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        );
        let two = AttributeValue { s: Some("a".into()), n: Some("1".into()), ..Default::default() };
        assert!(err(two).starts_with("Supplied AttributeValue has more than one datatypes set"));
        let null_false = AttributeValue { null: Some(false), ..Default::default() };
        assert_eq!(
            err(null_false),
            "One or more parameter values were invalid: Null attribute value types must have the value of true"
        );
    }

    #[test]
    fn sets_are_non_empty_and_without_duplicates() {
        let ss =
            |v: &[&str]| AttributeValue { ss: Some(v.iter().map(|s| s.to_string()).collect()), ..Default::default() };
        assert_eq!(
            err(ss(&[])),
            "1 validation error detected: One or more parameter values were invalid: An string set  may not be empty"
        );
        assert_eq!(
            err(ss(&["a", "a"])),
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
        // An empty string is a valid set member.
        assert!(from_wire_at(ss(&[""]), 0).is_ok());
        let ns =
            |v: &[&str]| AttributeValue { ns: Some(v.iter().map(|s| s.to_string()).collect()), ..Default::default() };
        assert_eq!(
            err(ns(&[])),
            "1 validation error detected: One or more parameter values were invalid: An number set  may not be empty"
        );
        assert_eq!(
            err(ns(&["1", "1.0"])),
            "One or more parameter values were invalid: Input collection [1, 1] contains duplicates."
        );
        assert_eq!(err(ns(&["x"])), "The parameter cannot be converted to a numeric value: x");
        let bs = AttributeValue { bs: Some(vec![]), ..Default::default() };
        assert_eq!(err(bs), "One or more parameter values were invalid: Binary sets should not be empty");
    }

    #[test]
    fn expression_values_name_the_key_except_for_empty_sets() {
        let values =
            |v: AttributeValue| expression_values_from_wire(Some([(":v".to_owned(), v)].into())).unwrap_err().message;
        let n = AttributeValue { n: Some("x".into()), ..Default::default() };
        assert_eq!(
            values(n),
            "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: x for key :v"
        );
        let nested = AttributeValue {
            m: Some([("a".to_owned(), AttributeValue { ss: Some(vec![]), ..Default::default() })].into()),
            ..Default::default()
        };
        assert_eq!(
            values(nested),
            "1 validation error detected: One or more parameter values were invalid: An string set  may not be empty"
        );
    }

    #[test]
    fn nesting_is_limited() {
        let mut v = s("x");
        for _ in 0..32 {
            v = AttributeValue { l: Some(vec![v]), ..Default::default() };
        }
        assert!(from_wire_at(v.clone(), 0).is_ok());
        let v = AttributeValue { l: Some(vec![v]), ..Default::default() };
        assert_eq!(err(v), "One or more parameter values were invalid: Nesting Levels have exceeded supported limits");
    }

    #[test]
    fn round_trip_and_set_equality() {
        let wire = AttributeValue {
            m: Some(
                [
                    (
                        "a".to_string(),
                        AttributeValue { ns: Some(vec!["2".into(), "1.50".into()]), ..Default::default() },
                    ),
                    ("b".to_string(), AttributeValue { null: Some(true), ..Default::default() }),
                ]
                .into(),
            ),
            ..Default::default()
        };
        let v = AttrValue::from_wire(wire).unwrap();
        let back = v.to_wire();
        assert_eq!(back.m.as_ref().unwrap()["a"].ns.as_ref().unwrap(), &["2", "1.5"]);
        let a = AttrValue::SS(vec!["x".into(), "y".into()]);
        let b = AttrValue::SS(vec!["y".into(), "x".into()]);
        assert_eq!(a, b);
        assert_ne!(a, AttrValue::SS(vec!["x".into()]));
        assert_ne!(AttrValue::S("1".into()), AttrValue::N(Number::from_i64(1)));
    }

    #[test]
    fn sizes_follow_aws() {
        assert_eq!(AttrValue::S("héllo".into()).size(), 6);
        assert_eq!(AttrValue::N(Number::parse("12345").unwrap()).size(), 4);
        assert_eq!(AttrValue::N(Number::parse("1").unwrap()).size(), 2);
        assert_eq!(AttrValue::Bool(true).size(), 1);
        assert_eq!(AttrValue::L(vec![]).size(), 3);
        assert_eq!(AttrValue::M([("ab".to_string(), AttrValue::Null)].into()).size(), 3 + 2 + 1 + 1);
        let item: Item = [("name".to_string(), AttrValue::S("abc".into()))].into();
        assert_eq!(item_size(&item), 7);
    }

    #[test]
    fn key_encoding_orders_like_dynamodb() {
        let enc = |v: AttrValue| {
            let mut out = Vec::new();
            encode_key_part(&v, &mut out);
            out
        };
        assert!(enc(AttrValue::S("a".into())) < enc(AttrValue::S("a\0".into())));
        assert!(enc(AttrValue::S("a\0".into())) < enc(AttrValue::S("aa".into())));
        assert!(enc(AttrValue::S("Z".into())) < enc(AttrValue::S("a".into())));
        assert!(enc(AttrValue::B(Bytes::from_static(&[0x7F]))) < enc(AttrValue::B(Bytes::from_static(&[0x80]))));
        let mut prefix = Vec::new();
        encode_key_prefix(&AttrValue::S("ab".into()), &mut prefix);
        assert!(enc(AttrValue::S("abc".into())).starts_with(&prefix));
    }
}
