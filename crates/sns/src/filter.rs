//! SNS subscription filter policies: which published messages a subscription receives, matched
//! against message attributes or (FilterPolicyScope MessageBody) the JSON message itself, with
//! the event pattern matcher Lambda's event filtering shares ([`ruststack_core::event_pattern`]).

use ruststack_core::event_pattern;
use serde_json::{Map, Value};

/// A value a policy condition is matched against.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Str(String),
    Num(f64),
    Null,
    Bool(bool),
}

/// Checks a policy is well formed (an event pattern: objects of arrays or nested objects).
pub use ruststack_core::event_pattern::validate;

/// Whether attributes (name → fields; a String.Array attribute gives several) match the policy:
/// the attributes the policy names are matched as the flat JSON object they make.
pub fn matches_attributes(policy: &Value, lookup: &dyn Fn(&str) -> Option<Vec<Field>>) -> bool {
    let mut names = Vec::new();
    named_keys(policy, &mut names);
    let attributes: Map<String, Value> = names
        .into_iter()
        .filter_map(|name| {
            let mut fields: Vec<Value> = lookup(name)?.into_iter().filter_map(to_json).collect();
            let value = if fields.len() == 1 { fields.remove(0) } else { Value::Array(fields) };
            Some((name.to_owned(), value))
        })
        .collect();
    event_pattern::matches(policy, &Value::Object(attributes))
}

/// The keys a policy names, through its `$or` alternatives.
fn named_keys<'a>(policy: &'a Value, out: &mut Vec<&'a str>) {
    for (key, value) in policy.as_object().into_iter().flatten() {
        if key == "$or" {
            for alternative in value.as_array().into_iter().flatten() {
                named_keys(alternative, out);
            }
        } else if !out.contains(&key.as_str()) {
            out.push(key);
        }
    }
}

fn to_json(field: Field) -> Option<Value> {
    Some(match field {
        Field::Str(s) => Value::String(s),
        Field::Num(n) => Value::Number(serde_json::Number::from_f64(n)?),
        Field::Bool(b) => Value::Bool(b),
        Field::Null => Value::Null,
    })
}

/// Whether a JSON message body matches the policy (nested keys follow nested objects).
pub fn matches_body(policy: &Value, body: &Value) -> bool {
    event_pattern::matches(policy, body)
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
