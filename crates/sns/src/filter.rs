//! SNS subscription filter policies: which published messages a subscription receives, matched
//! against message attributes or (FilterPolicyScope MessageBody) the JSON message itself.

use serde_json::Value;

/// A value a policy condition is matched against.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Num(f64),
    Null,
    Bool(bool),
}

/// Checks a policy is a JSON object of arrays (or nested objects), as SNS requires.
pub fn validate(policy: &Value) -> Result<(), String> {
    let obj = policy.as_object().ok_or("Filter policy must be a JSON object")?;
    for (k, v) in obj {
        if k == "$or" {
            let alts = v.as_array().filter(|a| a.len() >= 2).ok_or("$or must be an array of at least two policies")?;
            for alt in alts {
                validate(alt)?;
            }
            continue;
        }
        match v {
            Value::Array(conds) => {
                for c in conds {
                    if let Value::Object(o) = c {
                        let op = o.keys().next().map(String::as_str).unwrap_or("");
                        if !matches!(
                            op,
                            "prefix" | "suffix" | "anything-but" | "numeric" | "exists" | "equals-ignore-case" | "cidr"
                        ) {
                            return Err(format!("Unrecognized match type {op}"));
                        }
                    }
                }
            }
            Value::Object(_) => validate(v)?,
            _ => return Err(format!("\"{k}\" must be an object or an array")),
        }
    }
    Ok(())
}

/// Whether attributes (name → fields; a String.Array attribute gives several) match the policy.
pub fn matches_attributes(policy: &Value, lookup: &dyn Fn(&str) -> Option<Vec<Field>>) -> bool {
    let Some(obj) = policy.as_object() else { return true };
    obj.iter().all(|(key, conds)| {
        if key == "$or" {
            return conds.as_array().is_some_and(|alts| alts.iter().any(|p| matches_attributes(p, lookup)));
        }
        let Some(conds) = conds.as_array() else { return false };
        match_conditions(conds, lookup(key).as_deref())
    })
}

/// Whether a JSON message body matches the policy (nested keys follow nested objects).
pub fn matches_body(policy: &Value, body: &Value) -> bool {
    let Some(obj) = policy.as_object() else { return true };
    obj.iter().all(|(key, conds)| {
        if key == "$or" {
            return conds.as_array().is_some_and(|alts| alts.iter().any(|p| matches_body(p, body)));
        }
        let value = body.get(key);
        match conds {
            Value::Object(_) => value.is_some_and(|v| matches_body(conds, v)),
            Value::Array(list) => {
                let fields = value.map(|v| match v {
                    Value::Array(items) => items.iter().filter_map(to_field).collect(),
                    other => to_field(other).into_iter().collect::<Vec<_>>(),
                });
                match_conditions(list, fields.as_deref())
            }
            _ => false,
        }
    })
}

fn to_field(v: &Value) -> Option<Field> {
    match v {
        Value::String(s) => Some(Field::Str(s.clone())),
        Value::Number(n) => n.as_f64().map(Field::Num),
        Value::Bool(b) => Some(Field::Bool(*b)),
        Value::Null => Some(Field::Null),
        _ => None,
    }
}

fn match_conditions(conds: &[Value], fields: Option<&[Field]>) -> bool {
    conds.iter().any(|c| match c {
        Value::Object(o) if o.contains_key("exists") => {
            let want = o["exists"].as_bool().unwrap_or(true);
            fields.is_some() == want
        }
        _ => fields.is_some_and(|fs| fs.iter().any(|f| condition(c, f))),
    })
}

fn condition(c: &Value, f: &Field) -> bool {
    match c {
        Value::String(s) => matches!(f, Field::Str(v) if v == s),
        Value::Number(n) => matches!(f, Field::Num(v) if Some(*v) == n.as_f64()),
        Value::Bool(b) => matches!(f, Field::Bool(v) if v == b),
        Value::Null => matches!(f, Field::Null),
        Value::Object(o) => {
            let Some((op, arg)) = o.iter().next() else { return false };
            match op.as_str() {
                "prefix" => matches!((f, arg), (Field::Str(v), Value::String(p)) if v.starts_with(p.as_str())),
                "suffix" => matches!((f, arg), (Field::Str(v), Value::String(p)) if v.ends_with(p.as_str())),
                "equals-ignore-case" => {
                    matches!((f, arg), (Field::Str(v), Value::String(p)) if v.eq_ignore_ascii_case(p))
                }
                "anything-but" => match arg {
                    Value::Array(list) => !list.iter().any(|x| condition(x, f)),
                    Value::Object(_) => !condition(arg, f),
                    other => !condition(other, f),
                },
                "numeric" => numeric(arg, f),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `{"numeric": [">", 0, "<=", 5]}`.
fn numeric(arg: &Value, f: &Field) -> bool {
    let Field::Num(v) = f else { return false };
    let Some(list) = arg.as_array() else { return false };
    list.chunks(2).all(|pair| {
        let (Some(op), Some(n)) = (pair.first().and_then(Value::as_str), pair.get(1).and_then(Value::as_f64)) else {
            return false;
        };
        match op {
            "=" => *v == n,
            ">" => *v > n,
            ">=" => *v >= n,
            "<" => *v < n,
            "<=" => *v <= n,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs<'a>(pairs: &'a [(&'a str, Field)]) -> impl Fn(&str) -> Option<Vec<Field>> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, f)| vec![f.clone()])
    }

    #[test]
    fn attribute_policies() {
        let a = [("color", Field::Str("blue".into())), ("price", Field::Num(12.0))];
        let l = attrs(&a);
        assert!(matches_attributes(&json!({"color": ["red", "blue"]}), &l));
        assert!(!matches_attributes(&json!({"color": ["red"]}), &l));
        assert!(matches_attributes(
            &json!({"color": [{"prefix": "bl"}], "price": [{"numeric": [">", 10, "<=", 12]}]}),
            &l
        ));
        assert!(!matches_attributes(&json!({"price": [{"numeric": ["<", 10]}]}), &l));
        assert!(matches_attributes(&json!({"color": [{"anything-but": ["red", "green"]}]}), &l));
        assert!(!matches_attributes(&json!({"color": [{"anything-but": {"prefix": "b"}}]}), &l));
        assert!(matches_attributes(&json!({"size": [{"exists": false}]}), &l));
        assert!(!matches_attributes(&json!({"size": [{"exists": true}]}), &l));
        assert!(matches_attributes(&json!({"$or": [{"size": ["x"]}, {"color": [{"suffix": "ue"}]}]}), &l));
        assert!(!matches_attributes(&json!({"size": ["x"]}), &l));
    }

    #[test]
    fn body_policies_follow_nested_keys() {
        let body = json!({"order": {"kind": "book", "total": 30, "tags": ["a", "b"]}, "flag": null});
        assert!(matches_body(&json!({"order": {"kind": ["book"], "total": [{"numeric": [">=", 30]}]}}), &body));
        assert!(matches_body(&json!({"order": {"tags": ["b"]}}), &body));
        assert!(!matches_body(&json!({"order": {"kind": ["cd"]}}), &body));
        assert!(matches_body(&json!({"flag": [null]}), &body));
        assert!(!matches_body(&json!({"missing": {"x": ["y"]}}), &body));
    }
}
