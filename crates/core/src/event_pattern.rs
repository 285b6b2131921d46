//! Event patterns in EventBridge's syntax, shared by Lambda event filtering (`FilterCriteria`) and
//! SNS filter policies.
//!
//! A pattern is a JSON object whose keys follow the event's keys; every key must match. A key's
//! value is either a nested pattern (for a nested object of the event; an array of objects matches
//! when one of them does) or an array of conditions on the leaf value, any of which may match.
//! A leaf is a string, number, boolean or null (an array of them matches when one element does;
//! an object is not a leaf). Conditions: exact values, `prefix`, `suffix`, `equals-ignore-case`,
//! `wildcard`, `anything-but`, `numeric`, `exists`, `cidr`; `"$or": [pattern, …]` matches when
//! one alternative does.
//!
//! Numbers compare by value (EventBridge compares their text, so `300` and `300.0` differ there;
//! serde_json keeps no text to compare).

use serde_json::{Map, Value};
use std::net::IpAddr;

/// Checks `pattern` is well formed; the error says what is wrong, in SNS's words where SNS has them.
pub fn validate(pattern: &Value) -> Result<(), String> {
    let obj = pattern.as_object().ok_or("Filter policy must be a JSON object")?;
    validate_object(obj)
}

fn validate_object(obj: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in obj {
        if key == "$or" {
            let alternatives =
                value.as_array().filter(|a| a.len() >= 2).ok_or("$or must be an array of at least two policies")?;
            for alternative in alternatives {
                validate_object(alternative.as_object().ok_or("$or must be an array of at least two policies")?)?;
            }
            continue;
        }
        match value {
            Value::Array(conditions) if conditions.is_empty() => return Err(format!("\"{key}\" must not be empty")),
            Value::Array(conditions) => {
                for condition in conditions {
                    validate_condition(condition)?;
                }
            }
            Value::Object(nested) => validate_object(nested)?,
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(())
}

fn validate_condition(condition: &Value) -> Result<(), String> {
    let Value::Object(operator) = condition else {
        return match condition {
            Value::Array(_) => Err("Match value must be String, number, true, false, or null".into()),
            _ => Ok(()),
        };
    };
    let mut entries = operator.iter();
    let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
        return Err("A match type object must have exactly one key".into());
    };
    let ok = match op.as_str() {
        "prefix" | "suffix" => arg.is_string() || ignoring_case(arg).is_some_and(Value::is_string),
        "equals-ignore-case" | "wildcard" => arg.is_string(),
        "anything-but" => match arg {
            Value::String(_) | Value::Number(_) => true,
            Value::Array(list) => {
                !list.is_empty() && (list.iter().all(Value::is_string) || list.iter().all(Value::is_number))
            }
            Value::Object(inner) => match inner.iter().collect::<Vec<_>>().as_slice() {
                [(k, v)] if matches!(k.as_str(), "prefix" | "suffix" | "wildcard") => v.is_string(),
                [(k, v)] if k.as_str() == "equals-ignore-case" => {
                    v.is_string() || v.as_array().is_some_and(|l| !l.is_empty() && l.iter().all(Value::is_string))
                }
                _ => false,
            },
            _ => false,
        },
        "numeric" => valid_numeric(arg),
        "exists" => arg.is_boolean(),
        "cidr" => arg.as_str().and_then(parse_cidr).is_some(),
        _ => return Err(format!("Unrecognized match type {op}")),
    };
    if ok { Ok(()) } else { Err(format!("Value of {op} is not valid")) }
}

/// `{"equals-ignore-case": x}` → `x`.
fn ignoring_case(arg: &Value) -> Option<&Value> {
    let obj = arg.as_object().filter(|o| o.len() == 1)?;
    obj.get("equals-ignore-case")
}

/// `[op, n]` or a range `[">"|">=", n, "<"|"<=", m]` (either bound first).
fn valid_numeric(arg: &Value) -> bool {
    let Some(list) = arg.as_array() else { return false };
    let pairs: Option<Vec<(&str, f64)>> =
        list.chunks(2).map(|p| Some((p.first()?.as_str()?, p.get(1)?.as_f64()?))).collect();
    match pairs.as_deref() {
        Some([(op, _)]) => matches!(*op, "=" | "<" | "<=" | ">" | ">="),
        Some([(a, _), (b, _)]) => {
            let lower = |o: &str| matches!(o, ">" | ">=");
            let upper = |o: &str| matches!(o, "<" | "<=");
            (lower(a) && upper(b)) || (upper(a) && lower(b))
        }
        _ => false,
    }
}

/// Whether `event` matches `pattern` (a pattern [`validate`] accepted; anything else matches
/// nothing it cannot make sense of).
pub fn matches(pattern: &Value, event: &Value) -> bool {
    object_matches(pattern, Some(event))
}

/// `event` is `None` where the event has nothing at this path (so only `exists: false` can hold).
fn object_matches(pattern: &Value, event: Option<&Value>) -> bool {
    let Some(pattern) = pattern.as_object() else { return false };
    pattern.iter().all(|(key, expected)| {
        if key == "$or" {
            return expected.as_array().is_some_and(|alts| alts.iter().any(|p| object_matches(p, event)));
        }
        let child = event.and_then(|e| e.get(key));
        match expected {
            Value::Array(conditions) => conditions_match(conditions, &leaves(child)),
            Value::Object(_) => match child {
                Some(Value::Array(items)) if !items.is_empty() => {
                    items.iter().any(|item| object_matches(expected, Some(item)))
                }
                Some(nested @ Value::Object(_)) => object_matches(expected, Some(nested)),
                _ => object_matches(expected, None),
            },
            _ => false,
        }
    })
}

/// The leaf values at a path: a scalar, or the scalars of an array; none for a missing value or
/// an object (exists matching only sees leaves).
fn leaves(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Object(_)) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_object() && !v.is_array()).collect(),
        Some(scalar) => vec![scalar],
    }
}

fn conditions_match(conditions: &[Value], leaves: &[&Value]) -> bool {
    conditions.iter().any(|condition| match condition.get("exists").and_then(Value::as_bool) {
        Some(want) if condition.as_object().is_some_and(|o| o.len() == 1) => leaves.is_empty() != want,
        _ => leaves.iter().any(|leaf| leaf_matches(condition, leaf)),
    })
}

fn leaf_matches(condition: &Value, leaf: &Value) -> bool {
    match condition {
        Value::String(s) => leaf.as_str() == Some(s.as_str()),
        Value::Number(n) => leaf.is_number() && leaf.as_f64() == n.as_f64(),
        Value::Bool(b) => leaf.as_bool() == Some(*b),
        Value::Null => leaf.is_null(),
        Value::Object(operator) => {
            let Some((op, arg)) = operator.iter().next() else { return false };
            operator_matches(op, arg, leaf)
        }
        Value::Array(_) => false,
    }
}

fn operator_matches(op: &str, arg: &Value, leaf: &Value) -> bool {
    let text = leaf.as_str();
    match op {
        "prefix" | "suffix" => {
            let Some(text) = text else { return false };
            let (text, affix) = match (arg, ignoring_case(arg)) {
                (Value::String(a), _) => (text.to_owned(), a.clone()),
                (_, Some(Value::String(a))) => (text.to_lowercase(), a.to_lowercase()),
                _ => return false,
            };
            if op == "prefix" { text.starts_with(&affix) } else { text.ends_with(&affix) }
        }
        "equals-ignore-case" => match (text, arg) {
            (Some(t), Value::String(a)) => t.to_lowercase() == a.to_lowercase(),
            (Some(t), Value::Array(list)) => {
                list.iter().any(|a| a.as_str().is_some_and(|a| a.to_lowercase() == t.to_lowercase()))
            }
            _ => false,
        },
        "wildcard" => match (text, arg.as_str()) {
            (Some(t), Some(w)) => wildcard(w, t),
            _ => false,
        },
        "anything-but" => match arg {
            Value::Array(list) => !list.iter().any(|x| leaf_matches(x, leaf)),
            other => !leaf_matches(other, leaf),
        },
        "numeric" => leaf.as_f64().filter(|_| leaf.is_number()).is_some_and(|v| numeric(arg, v)),
        "cidr" => match (text.and_then(|t| t.parse::<IpAddr>().ok()), arg.as_str().and_then(parse_cidr)) {
            (Some(ip), Some((net, bits))) => in_network(ip, net, bits),
            _ => false,
        },
        _ => false,
    }
}

/// `{"numeric": [">", 0, "<=", 5]}`: every comparison holds.
fn numeric(arg: &Value, v: f64) -> bool {
    let Some(list) = arg.as_array() else { return false };
    list.chunks(2).all(|pair| {
        let (Some(op), Some(n)) = (pair.first().and_then(Value::as_str), pair.get(1).and_then(Value::as_f64)) else {
            return false;
        };
        match op {
            "=" => v == n,
            ">" => v > n,
            ">=" => v >= n,
            "<" => v < n,
            "<=" => v <= n,
            _ => false,
        }
    })
}

/// `*` stands for any run of characters; `\*` and `\\` for themselves.
fn wildcard(pattern: &str, text: &str) -> bool {
    enum Token {
        Char(char),
        Star,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => Token::Char(chars.next().unwrap_or('\\')),
            '*' => Token::Star,
            c => Token::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy match with backtracking to the last star: linear in practice.
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Token::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|tok| matches!(tok, Token::Star))
}

/// `10.0.0.0/24`, `2001:db8::/32`, or a single address.
fn parse_cidr(s: &str) -> Option<(IpAddr, u32)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
        None => (s.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - bits;
    (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(pattern: Value, event: Value) -> bool {
        validate(&pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        matches(&pattern, &event)
    }

    #[test]
    fn exact_values_and_nesting() {
        let event = json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "active"}}}, "n": 5});
        assert!(m(json!({"eventName": ["INSERT", "MODIFY"]}), event.clone()));
        assert!(!m(json!({"eventName": ["REMOVE"]}), event.clone()));
        assert!(m(json!({"dynamodb": {"NewImage": {"status": {"S": ["active"]}}}}), event.clone()));
        assert!(!m(json!({"dynamodb": {"NewImage": {"status": {"S": ["gone"]}}}}), event.clone()));
        assert!(m(json!({"eventName": ["INSERT"], "n": [5]}), event.clone()));
        assert!(!m(json!({"eventName": ["INSERT"], "n": [6]}), event.clone()));
        // A string is not the number it spells.
        assert!(!m(json!({"n": ["5"]}), event.clone()));
        // Every key of the pattern must be in the event.
        assert!(!m(json!({"missing": ["x"]}), event.clone()));
        assert!(m(json!({"a": [null], "b": [""], "c": [true]}), json!({"a": null, "b": "", "c": true})));
        assert!(!m(json!({"a": [null]}), json!({})));
    }

    #[test]
    fn arrays_in_events_match_any_element() {
        let event = json!({"tags": ["a", "b"], "items": [{"k": 1}, {"k": 2}]});
        assert!(m(json!({"tags": ["b"]}), event.clone()));
        assert!(!m(json!({"tags": ["c"]}), event.clone()));
        assert!(m(json!({"items": {"k": [2]}}), event.clone()));
        assert!(!m(json!({"items": {"k": [3]}}), event));
    }

    #[test]
    fn string_operators() {
        let event = json!({"region": "us-east-1", "file": "photo.PNG", "path": "/usr/lib/x.so"});
        assert!(m(json!({"region": [{"prefix": "us-"}]}), event.clone()));
        assert!(!m(json!({"region": [{"prefix": "eu-"}]}), event.clone()));
        assert!(m(json!({"region": [{"prefix": {"equals-ignore-case": "US-"}}]}), event.clone()));
        assert!(m(json!({"file": [{"suffix": ".PNG"}]}), event.clone()));
        assert!(!m(json!({"file": [{"suffix": ".png"}]}), event.clone()));
        assert!(m(json!({"file": [{"suffix": {"equals-ignore-case": ".png"}}]}), event.clone()));
        assert!(m(json!({"file": [{"equals-ignore-case": "PHOTO.png"}]}), event.clone()));
        assert!(m(json!({"path": [{"wildcard": "*/lib/*"}]}), event.clone()));
        assert!(!m(json!({"path": [{"wildcard": "*/bin/*"}]}), event.clone()));
        assert!(m(json!({"path": [{"wildcard": "/usr/*.so"}]}), event.clone()));
        assert!(m(json!({"s": [{"wildcard": "a\\*b"}]}), json!({"s": "a*b"})));
        assert!(!m(json!({"s": [{"wildcard": "a\\*b"}]}), json!({"s": "axb"})));
        // Prefixes apply to strings only.
        assert!(!m(json!({"n": [{"prefix": "1"}]}), json!({"n": 12})));
    }

    #[test]
    fn anything_but() {
        let event = json!({"state": "running", "limit": 150});
        assert!(m(json!({"state": [{"anything-but": "stopped"}]}), event.clone()));
        assert!(!m(json!({"state": [{"anything-but": ["stopped", "running"]}]}), event.clone()));
        assert!(m(json!({"limit": [{"anything-but": [100, 200]}]}), event.clone()));
        assert!(!m(json!({"limit": [{"anything-but": 150}]}), event.clone()));
        assert!(!m(json!({"state": [{"anything-but": {"prefix": "run"}}]}), event.clone()));
        assert!(m(json!({"state": [{"anything-but": {"suffix": "ed"}}]}), event.clone()));
        assert!(!m(json!({"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}), event.clone()));
        // A missing field is not "anything but".
        assert!(!m(json!({"other": [{"anything-but": "x"}]}), event));
    }

    #[test]
    fn numeric_ranges() {
        let event = json!({"price": 15, "text": "15"});
        assert!(m(json!({"price": [{"numeric": [">", 10, "<=", 20]}]}), event.clone()));
        assert!(!m(json!({"price": [{"numeric": [">", 15]}]}), event.clone()));
        assert!(m(json!({"price": [{"numeric": ["=", 15]}]}), event.clone()));
        assert!(m(json!({"price": [{"numeric": ["=", 1.5e1]}]}), event.clone()));
        assert!(!m(json!({"text": [{"numeric": ["=", 15]}]}), event));
    }

    #[test]
    fn exists_sees_leaves_only() {
        let event = json!({"a": 1, "obj": {"inner": 1}, "nothing": null});
        assert!(m(json!({"a": [{"exists": true}]}), event.clone()));
        assert!(m(json!({"b": [{"exists": false}]}), event.clone()));
        assert!(!m(json!({"a": [{"exists": false}]}), event.clone()));
        assert!(m(json!({"nothing": [{"exists": true}]}), event.clone()));
        // An object is not a leaf; a missing parent has no leaf under it.
        assert!(m(json!({"obj": [{"exists": false}]}), event.clone()));
        assert!(m(json!({"deep": {"er": [{"exists": false}]}}), event.clone()));
        assert!(!m(json!({"deep": {"er": [{"exists": true}]}}), event));
    }

    #[test]
    fn or_alternatives() {
        let event = json!({"kind": "book", "price": 5});
        assert!(m(json!({"$or": [{"kind": ["cd"]}, {"price": [{"numeric": ["<", 10]}]}]}), event.clone()));
        assert!(!m(json!({"$or": [{"kind": ["cd"]}, {"price": [{"numeric": [">", 10]}]}]}), event.clone()));
        assert!(m(json!({"kind": ["book"], "$or": [{"price": [5]}, {"x": ["y"]}]}), event));
    }

    #[test]
    fn cidr_ranges() {
        let event = json!({"ip": "10.0.0.17", "v6": "2001:db8::1"});
        assert!(m(json!({"ip": [{"cidr": "10.0.0.0/24"}]}), event.clone()));
        assert!(!m(json!({"ip": [{"cidr": "10.0.1.0/24"}]}), event.clone()));
        assert!(m(json!({"v6": [{"cidr": "2001:db8::/32"}]}), event));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in [
            json!([]),
            json!("x"),
            json!({"a": "b"}),
            json!({"a": 1}),
            json!({"a": []}),
            json!({"a": [["nested"]]}),
            json!({"a": [{"bogus": 1}]}),
            json!({"a": [{"prefix": 1}]}),
            json!({"a": [{"prefix": "x", "suffix": "y"}]}),
            json!({"a": [{"exists": "yes"}]}),
            json!({"a": [{"numeric": [">", "x"]}]}),
            json!({"a": [{"numeric": ["~", 1]}]}),
            json!({"a": [{"numeric": [">", 1, ">", 2]}]}),
            json!({"a": [{"numeric": [">", 1, "<"]}]}),
            json!({"a": [{"anything-but": []}]}),
            json!({"a": [{"anything-but": ["x", 1]}]}),
            json!({"a": [{"anything-but": {"numeric": [">", 1]}}]}),
            json!({"a": [{"cidr": "10.0.0.0/99"}]}),
            json!({"$or": [{"a": ["b"]}]}),
            json!({"$or": {"a": ["b"]}}),
            json!({"nested": {"a": "b"}}),
        ] {
            assert!(validate(&bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(validate(&json!({"a": [{"bogus": 1}]})).unwrap_err(), "Unrecognized match type bogus");
    }
}
