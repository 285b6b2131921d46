//! AddPermission / RemovePermission, which edit the statements of a topic's `Policy` attribute
//! as AWS does, and the topic's data protection policy.

use crate::api::{default_policy, invalid, not_found};
use crate::generated::types::*;
use crate::state::Sns;
use ruststack_core::{AwsError, RequestContext};
use serde_json::{Value, json};
use std::sync::Arc;

type R<T> = Result<T, AwsError>;

/// The actions a topic policy may grant (anything else is "out of service scope").
const TOPIC_ACTIONS: &[&str] = &[
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
];

/// One value, or the list when there are several (as AWS renders principals and actions).
fn one_or_many(mut items: Vec<String>) -> Value {
    if items.len() == 1 { Value::String(items.remove(0)) } else { json!(items) }
}

/// The topic's policy document and a mutable view of its statements.
fn policy_of(topic: &crate::state::Topic) -> Value {
    topic
        .attributes
        .get("Policy")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| serde_json::from_str(&default_policy(&topic.arn, &topic.account)).unwrap_or_default())
}

fn statements(doc: &mut Value) -> &mut Vec<Value> {
    let obj = doc.as_object_mut().expect("policy documents are objects");
    let entry = obj.entry("Statement").or_insert_with(|| json!([]));
    if !entry.is_array() {
        *entry = json!([entry.take()]);
    }
    entry.as_array_mut().expect("made an array above")
}

pub async fn add_permission(s: Arc<Sns>, ctx: RequestContext, input: AddPermissionInput) -> R<()> {
    s.ensure(&ctx, Some(&input.topic_arn));
    let mut inner = s.inner.write();
    let topic = inner.topics.get_mut(&input.topic_arn).ok_or_else(|| not_found("Topic"))?;
    let mut doc = policy_of(topic);
    if statements(&mut doc).iter().any(|st| st.get("Sid").and_then(Value::as_str) == Some(input.label.as_str())) {
        return Err(invalid("Statement already exists"));
    }
    if input.action_name.iter().any(|a| !TOPIC_ACTIONS.contains(&a.as_str())) {
        return Err(invalid("Policy statement action out of service scope!"));
    }
    let principals = input.aws_account_id.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
    let actions = input.action_name.iter().map(|a| format!("SNS:{a}")).collect();
    statements(&mut doc).push(json!({
        "Sid": input.label,
        "Effect": "Allow",
        "Principal": {"AWS": one_or_many(principals)},
        "Action": one_or_many(actions),
        "Resource": topic.arn,
    }));
    let before = topic.attributes.insert("Policy".into(), doc.to_string());
    if let Err(e) = s.save(&inner, &[&input.topic_arn], &[]) {
        restore(&mut inner, &input.topic_arn, before);
        return Err(e);
    }
    Ok(())
}

pub async fn remove_permission(s: Arc<Sns>, ctx: RequestContext, input: RemovePermissionInput) -> R<()> {
    s.ensure(&ctx, Some(&input.topic_arn));
    let mut inner = s.inner.write();
    let topic = inner.topics.get_mut(&input.topic_arn).ok_or_else(|| not_found("Topic"))?;
    let mut doc = policy_of(topic);
    let list = statements(&mut doc);
    let count = list.len();
    list.retain(|st| st.get("Sid").and_then(Value::as_str) != Some(input.label.as_str()));
    // Removing a label the policy lacks succeeds and changes nothing.
    if list.len() == count {
        return Ok(());
    }
    let before = topic.attributes.insert("Policy".into(), doc.to_string());
    if let Err(e) = s.save(&inner, &[&input.topic_arn], &[]) {
        restore(&mut inner, &input.topic_arn, before);
        return Err(e);
    }
    Ok(())
}

fn restore(inner: &mut crate::state::Topics, arn: &str, before: Option<String>) {
    if let Some(t) = inner.topics.get_mut(arn) {
        match before {
            Some(p) => t.attributes.insert("Policy".into(), p),
            None => t.attributes.remove("Policy"),
        };
    }
}

pub async fn get_data_protection_policy(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: GetDataProtectionPolicyInput,
) -> R<GetDataProtectionPolicyResponse> {
    s.ensure(&ctx, Some(&input.resource_arn));
    let inner = s.inner.read();
    let topic = inner.topics.get(&input.resource_arn).ok_or_else(|| not_found("Topic"))?;
    Ok(GetDataProtectionPolicyResponse {
        data_protection_policy: Some(topic.attributes.get("DataProtectionPolicy").cloned().unwrap_or_default()),
    })
}

pub async fn put_data_protection_policy(
    s: Arc<Sns>,
    ctx: RequestContext,
    input: PutDataProtectionPolicyInput,
) -> R<()> {
    // AWS checks the document against its data protection schema; we check it is a JSON object
    // with statements.
    let doc: Value = serde_json::from_str(&input.data_protection_policy)
        .map_err(|_| invalid("DataProtectionPolicy Reason: Failed to parse the data protection policy"))?;
    if !doc.get("Statement").is_some_and(Value::is_array) {
        return Err(invalid("DataProtectionPolicy Reason: the data protection policy must contain a Statement list"));
    }
    s.ensure(&ctx, Some(&input.resource_arn));
    let mut inner = s.inner.write();
    let topic = inner.topics.get_mut(&input.resource_arn).ok_or_else(|| not_found("Topic"))?;
    let before = topic.attributes.insert("DataProtectionPolicy".into(), input.data_protection_policy);
    if let Err(e) = s.save(&inner, &[&input.resource_arn], &[]) {
        if let Some(t) = inner.topics.get_mut(&input.resource_arn) {
            match before {
                Some(p) => t.attributes.insert("DataProtectionPolicy".into(), p),
                None => t.attributes.remove("DataProtectionPolicy"),
            };
        }
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn permissions_add_and_remove_statements() {
        let sns = Arc::new(Sns::new(ruststack_sqs::Queues::new(&ruststack_core::store::Storage::memory())));
        let ctx = RequestContext::for_tests("AddPermission");
        let arn = crate::api::create_topic(
            sns.clone(),
            ctx.clone(),
            CreateTopicInput { name: "t".into(), ..Default::default() },
        )
        .await
        .unwrap()
        .topic_arn
        .unwrap();
        let add = |label: &str, accounts: &[&str], actions: &[&str]| AddPermissionInput {
            topic_arn: arn.clone(),
            label: label.into(),
            aws_account_id: accounts.iter().map(|x| x.to_string()).collect(),
            action_name: actions.iter().map(|x| x.to_string()).collect(),
        };
        add_permission(sns.clone(), ctx.clone(), add("one", &["111111111111"], &["Publish"])).await.unwrap();
        add_permission(sns.clone(), ctx.clone(), add("two", &["1", "2"], &["Publish", "Subscribe"])).await.unwrap();
        let err = add_permission(sns.clone(), ctx.clone(), add("one", &["1"], &["Publish"])).await.unwrap_err();
        assert_eq!(err.message, "Invalid parameter: Statement already exists");
        let err = add_permission(sns.clone(), ctx.clone(), add("three", &["1"], &["Nope"])).await.unwrap_err();
        assert_eq!(err.message, "Invalid parameter: Policy statement action out of service scope!");
        let policy = |sns: &Arc<Sns>| -> Value {
            serde_json::from_str(&sns.inner.read().topics[&arn].attributes["Policy"]).unwrap()
        };
        let doc = policy(&sns);
        assert_eq!(doc["Statement"][0]["Sid"], "__default_statement_ID");
        assert_eq!(doc["Statement"][1]["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
        assert_eq!(doc["Statement"][1]["Action"], "SNS:Publish");
        assert_eq!(doc["Statement"][2]["Action"], json!(["SNS:Publish", "SNS:Subscribe"]));
        let remove = |label: &str| RemovePermissionInput { topic_arn: arn.clone(), label: label.into() };
        remove_permission(sns.clone(), ctx.clone(), remove("one")).await.unwrap();
        remove_permission(sns.clone(), ctx.clone(), remove("missing")).await.unwrap();
        assert_eq!(policy(&sns)["Statement"].as_array().unwrap().len(), 2);
        let missing = RemovePermissionInput { topic_arn: format!("{arn}x"), label: "one".into() };
        assert_eq!(remove_permission(sns.clone(), ctx, missing).await.unwrap_err().code, "NotFound");
    }
}
