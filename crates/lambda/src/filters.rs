//! Event filtering of event source mappings (`FilterCriteria`): up to five patterns in
//! EventBridge's syntax ([`ruststack_core::event_pattern`]), OR'ed. A record that no pattern
//! matches is dropped: an SQS message is deleted from its queue, a stream's position moves past
//! the record. SQS patterns see the message `body` parsed when it holds a JSON object (a plain
//! string otherwise, so a JSON pattern for `body` drops plain messages and the reverse); stream
//! patterns see the record as delivered (`eventName`, `dynamodb.NewImage`, …).

use crate::generated::types::FilterCriteria;
use crate::state::invalid_param;
use ruststack_core::AwsError;
use ruststack_core::event_pattern;
use serde_json::Value;

/// AWS's default quota of filters per event source mapping.
pub const MAX_FILTERS: usize = 5;

fn invalid_pattern() -> AwsError {
    invalid_param("Invalid filter pattern definition.")
}

/// Checks criteria as Create/UpdateEventSourceMapping do. Criteria without filters (`{}`, or
/// `{"Filters": []}`) clear them: `None`. `stream`: a DynamoDB stream source, whose data key
/// `dynamodb` must be matched with a JSON pattern.
pub fn check(criteria: Option<FilterCriteria>, stream: bool) -> Result<Option<FilterCriteria>, AwsError> {
    let Some(filters) = criteria.and_then(|c| c.filters).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    if filters.len() > MAX_FILTERS {
        return Err(invalid_param(format!(
            "The number of filters ({}) exceeds the limit of {MAX_FILTERS} filters for an event source mapping.",
            filters.len()
        )));
    }
    for filter in &filters {
        let pattern: Value =
            filter.pattern.as_deref().and_then(|p| serde_json::from_str(p).ok()).ok_or_else(invalid_pattern)?;
        event_pattern::validate(&pattern).map_err(|_| invalid_pattern())?;
        if stream && pattern.get("dynamodb").is_some_and(|d| !d.is_object()) {
            return Err(invalid_pattern());
        }
    }
    Ok(Some(FilterCriteria { filters: Some(filters) }))
}

/// The patterns of stored criteria (checked when they were stored; others are skipped).
pub fn patterns(criteria: Option<&FilterCriteria>) -> Vec<Value> {
    criteria
        .and_then(|c| c.filters.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|f| serde_json::from_str(f.pattern.as_deref()?).ok())
        .collect()
}

/// Whether a record passes: no patterns, or one that matches.
pub fn passes(patterns: &[Value], record: &Value) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| event_pattern::matches(p, record))
}

/// Whether an `aws:sqs` record passes, its `body` parsed when it is a JSON object.
pub fn sqs_passes(patterns: &[Value], record: &Value) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let parsed = record["body"].as_str().and_then(|b| serde_json::from_str::<Value>(b).ok()).filter(Value::is_object);
    match parsed {
        Some(body) => {
            let mut view = record.clone();
            view["body"] = body;
            passes(patterns, &view)
        }
        None => passes(patterns, record),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::types::Filter;
    use serde_json::json;

    fn criteria(patterns: &[&str]) -> Option<FilterCriteria> {
        Some(FilterCriteria {
            filters: Some(patterns.iter().map(|p| Filter { pattern: Some(p.to_string()) }).collect()),
        })
    }

    #[test]
    fn criteria_are_checked() {
        assert!(check(None, false).unwrap().is_none());
        assert!(check(Some(FilterCriteria::default()), false).unwrap().is_none());
        assert!(check(criteria(&[]), false).unwrap().is_none());
        assert!(check(criteria(&[r#"{"body": {"a": [1]}}"#]), false).unwrap().is_some());
        for bad in [r#"{"a": "b"}"#, "not json", r#"[{"a": ["b"]}]"#, r#"{"a": [{"nope": 1}]}"#, "null"] {
            let e = check(criteria(&[bad]), false).unwrap_err();
            assert_eq!(
                (e.code.as_ref(), e.message.as_ref()),
                ("InvalidParameterValueException", "Invalid filter pattern definition."),
                "{bad}"
            );
        }
        let missing = Some(FilterCriteria { filters: Some(vec![Filter { pattern: None }]) });
        assert!(check(missing, false).is_err());
        let six = [r#"{"a": ["b"]}"#; 6];
        assert!(check(criteria(&six), false).unwrap_err().message.contains("exceeds"));
        assert!(check(criteria(&six[..5]), false).is_ok());
        // A stream's data key takes a JSON pattern.
        assert!(check(criteria(&[r#"{"dynamodb": ["x"]}"#]), true).is_err());
        assert!(check(criteria(&[r#"{"dynamodb": {"Keys": {"id": {"S": ["x"]}}}}"#]), true).is_ok());
    }

    #[test]
    fn sqs_bodies_are_parsed_when_json() {
        let record =
            |body: &str| json!({"messageId": "m", "body": body, "attributes": {"ApproximateReceiveCount": "1"}});
        let json_pattern = patterns(criteria(&[r#"{"body": {"kind": ["keep"]}}"#]).as_ref());
        assert!(sqs_passes(&json_pattern, &record(r#"{"kind": "keep", "n": 1}"#)));
        assert!(!sqs_passes(&json_pattern, &record(r#"{"kind": "drop"}"#)));
        assert!(!sqs_passes(&json_pattern, &record("kind keep")));
        let string_pattern = patterns(criteria(&[r#"{"body": [{"prefix": "keep"}]}"#]).as_ref());
        assert!(sqs_passes(&string_pattern, &record("keep me")));
        assert!(!sqs_passes(&string_pattern, &record("drop me")));
        // A JSON body does not match a plain-string pattern.
        assert!(!sqs_passes(&string_pattern, &record(r#"{"keep": 1}"#)));
        // Patterns are OR'ed; metadata filters apply whatever the body.
        let either = patterns(criteria(&[r#"{"body": {"kind": ["a"]}}"#, r#"{"body": {"kind": ["b"]}}"#]).as_ref());
        assert!(sqs_passes(&either, &record(r#"{"kind": "b"}"#)));
        let metadata = patterns(criteria(&[r#"{"attributes": {"ApproximateReceiveCount": ["1"]}}"#]).as_ref());
        assert!(sqs_passes(&metadata, &record("anything")));
        assert!(sqs_passes(&[], &record("anything")));
    }

    #[test]
    fn stream_records_match_on_event_name_and_images() {
        let insert =
            json!({"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "new"}, "n": {"N": "3"}}}});
        let remove = json!({"eventName": "REMOVE", "dynamodb": {"OldImage": {"status": {"S": "old"}}}});
        let only_inserts = patterns(criteria(&[r#"{"eventName": ["INSERT"]}"#]).as_ref());
        assert!(passes(&only_inserts, &insert));
        assert!(!passes(&only_inserts, &remove));
        let by_image =
            patterns(criteria(&[r#"{"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "ne"}]}}}}"#]).as_ref());
        assert!(passes(&by_image, &insert));
        assert!(!passes(&by_image, &remove));
    }
}
