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
