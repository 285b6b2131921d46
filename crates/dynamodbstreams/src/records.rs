//! Stream records in AWS's wire shape, converted straight from DynamoDB's values.

use crate::generated::types::{AttributeValue, Identity, Record, StreamRecord as WireStreamRecord};
use ruststack_core::{Blob, Timestamp};
use ruststack_dynamodb::streams::{Stream, StreamRecord};
use ruststack_dynamodb::value::{AttrValue, Item};
use std::collections::HashMap;

fn value(v: &AttrValue) -> AttributeValue {
    let mut w = AttributeValue::default();
    match v {
        AttrValue::S(s) => w.s = Some(s.clone()),
        AttrValue::N(n) => w.n = Some(n.to_string()),
        AttrValue::B(b) => w.b = Some(Blob(b.clone())),
        AttrValue::SS(v) => w.ss = Some(v.clone()),
        AttrValue::NS(v) => w.ns = Some(v.iter().map(|n| n.to_string()).collect()),
        AttrValue::BS(v) => w.bs = Some(v.iter().map(|b| Blob(b.clone())).collect()),
        AttrValue::M(m) => w.m = Some(item(m)),
        AttrValue::L(l) => w.l = Some(l.iter().map(value).collect()),
        AttrValue::Null => w.null = Some(true),
        AttrValue::Bool(b) => w.bool = Some(*b),
    }
    w
}

fn item(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter().map(|(k, v)| (k.clone(), value(v))).collect()
}

/// A record as GetRecords returns it; `region` is where the request was received.
pub fn record(stream: &Stream, r: &StreamRecord, region: &str) -> Record {
    Record {
        event_id: Some(r.event_id()),
        event_name: Some(r.event.as_str().into()),
        event_version: Some("1.1".into()),
        event_source: Some("aws:dynamodb".into()),
        aws_region: Some(region.into()),
        dynamodb: Some(WireStreamRecord {
            // Rounded down to the second, as AWS documents.
            approximate_creation_date_time: Some(Timestamp { millis: r.at.millis.div_euclid(1000) * 1000 }),
            keys: Some(item(&r.keys)),
            new_image: r.new.as_ref().map(item),
            old_image: r.old.as_ref().map(item),
            sequence_number: Some(r.sequence_number()),
            size_bytes: Some(r.size as i64),
            stream_view_type: Some(stream.view_type.as_str().into()),
        }),
        user_identity: r
            .by_ttl
            .then(|| Identity { principal_id: Some("dynamodb.amazonaws.com".into()), r#type: Some("Service".into()) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruststack_dynamodb::number::Number;
    use ruststack_dynamodb::streams::{ViewType, event_json};
    use ruststack_dynamodb::table::KeyDef;
    use ruststack_dynamodb::value::ScalarType;

    /// JSON without the nulls of unset members (the codec leaves those out too).
    fn strip_nulls(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect()
            }
            serde_json::Value::Array(a) => a.into_iter().map(strip_nulls).collect(),
            other => other,
        }
    }

    #[test]
    fn get_records_and_lambda_events_render_alike() {
        let key = KeyDef::new(("pk".into(), ScalarType::S), None);
        let stream = Stream::new(
            "arn:aws:dynamodb:us-east-1:000000000000:table/t",
            "t",
            "2024-01-01T00:00:00.000".into(),
            ViewType::NewAndOldImages,
            key,
        );
        let keys: Item = [("pk".to_string(), AttrValue::S("k".into()))].into();
        let mut old = keys.clone();
        old.insert("n".into(), AttrValue::NS(vec![Number::from_i64(1)]));
        old.insert("b".into(), AttrValue::B(b"hi".to_vec().into()));
        old.insert(
            "m".into(),
            AttrValue::M([("l".to_string(), AttrValue::L(vec![AttrValue::Null, AttrValue::Bool(true)]))].into()),
        );
        stream.record(keys.clone(), Some(&old), None, true);
        let (typed, event) = stream
            .read(0, 1, |r| (record(&stream, r, "us-east-1"), event_json(&stream, r, "us-east-1")))
            .unwrap()
            .records
            .remove(0);
        let mut typed = strip_nulls(serde_json::to_value(typed).unwrap());
        let mut event = event;
        // The one difference: Lambda's events spell the identity's members in camel case.
        assert_eq!(
            typed["userIdentity"],
            serde_json::json!({"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"})
        );
        assert_eq!(
            event["userIdentity"],
            serde_json::json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        typed.as_object_mut().unwrap().remove("userIdentity");
        event.as_object_mut().unwrap().remove("userIdentity");
        assert_eq!(typed, event);
        assert_eq!(event["dynamodb"]["OldImage"]["b"]["B"], "aGk=");
    }
}
