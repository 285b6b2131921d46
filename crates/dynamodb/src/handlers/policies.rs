//! Resource-based policies of tables: PutResourcePolicy, GetResourcePolicy and
//! DeleteResourcePolicy, with AWS's revision ids (the time of the put, in milliseconds) and
//! `ExpectedRevisionId` checks. Policies are stored, not enforced.

use super::tables::save_meta;
use crate::DynamoDb;
use crate::error::{table_not_found_named, validation};
use crate::generated::types::*;
use crate::table::{ResourcePolicy, Table, TableMeta};
use ruststack_core::{AwsError, RequestContext, Timestamp};
use std::sync::Arc;

/// `ExpectedRevisionId` meaning "no policy may be attached yet".
const NO_POLICY: &str = "NO_POLICY";

/// The table a policy's `ResourceArn` names.
fn table_of(db: &DynamoDb, ctx: &RequestContext, arn: &str) -> Result<Arc<Table>, AwsError> {
    let Some((_, name)) = arn.split_once(":table/") else {
        return Err(validation(format!("Invalid TableArn: Invalid ResourceArn provided as input {arn}")));
    };
    db.region(ctx).table(arn).map_err(|_| table_not_found_named(name))
}

fn policy_not_found(detail: impl std::fmt::Display) -> AwsError {
    AwsError::bad_request(
        "PolicyNotFoundException",
        format!("Resource-based policy not found for the provided ResourceArn: {detail}"),
    )
}

/// AWS's error when `ExpectedRevisionId` is not the current revision.
fn check_revision(meta: &TableMeta, expected: Option<&str>) -> Result<(), AwsError> {
    let current = meta.resource_policy.as_ref().map(|p| p.revision.as_str());
    match (expected, current) {
        (None, _) => Ok(()),
        (Some(NO_POLICY), None) => Ok(()),
        (Some(NO_POLICY), Some(rev)) => Err(policy_not_found(format!(
            "Requested policy update expecting none to be present for table {}, but a policy exists with revision id {rev}.",
            meta.name
        ))),
        (Some(e), Some(rev)) if e == rev => Ok(()),
        (Some(e), Some(rev)) => Err(policy_not_found(format!(
            "Requested update for policy with revision id {e}, but the policy associated to target table {} has revision id {rev}.",
            meta.name
        ))),
        (Some(_), None) => Err(policy_not_found(&meta.arn)),
    }
}

/// A new revision id: the time in milliseconds, after the previous one (ids compare as strings).
pub fn next_revision(previous: Option<&ResourcePolicy>) -> String {
    let now = Timestamp::now().millis;
    let after = previous.and_then(|p| p.revision.parse::<i64>().ok()).map_or(now, |r| now.max(r + 1));
    after.to_string()
}

pub async fn put_resource_policy(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: PutResourcePolicyInput,
) -> Result<PutResourcePolicyOutput, AwsError> {
    let table = table_of(&db, &ctx, &input.resource_arn)?;
    let mut state = table.state.write();
    check_revision(&state.meta, input.expected_revision_id.as_deref())?;
    // Putting the policy already attached changes nothing, its revision included.
    if let Some(p) = state.meta.resource_policy.as_ref().filter(|p| p.document == input.policy) {
        return Ok(PutResourcePolicyOutput { revision_id: Some(p.revision.clone()) });
    }
    let mut meta = state.meta.clone();
    let revision = next_revision(meta.resource_policy.as_ref());
    meta.resource_policy = Some(ResourcePolicy { document: input.policy, revision: revision.clone() });
    save_meta(&table, &mut state, meta)?;
    Ok(PutResourcePolicyOutput { revision_id: Some(revision) })
}

pub async fn get_resource_policy(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: GetResourcePolicyInput,
) -> Result<GetResourcePolicyOutput, AwsError> {
    let table = table_of(&db, &ctx, &input.resource_arn)?;
    let state = table.state.read();
    let policy = state.meta.resource_policy.as_ref().ok_or_else(|| policy_not_found(&input.resource_arn))?;
    Ok(GetResourcePolicyOutput { policy: Some(policy.document.clone()), revision_id: Some(policy.revision.clone()) })
}

pub async fn delete_resource_policy(
    db: Arc<DynamoDb>,
    ctx: RequestContext,
    input: DeleteResourcePolicyInput,
) -> Result<DeleteResourcePolicyOutput, AwsError> {
    let table = table_of(&db, &ctx, &input.resource_arn)?;
    let mut state = table.state.write();
    if state.meta.resource_policy.is_none() {
        return Err(policy_not_found(&input.resource_arn));
    }
    check_revision(&state.meta, input.expected_revision_id.as_deref())?;
    let mut meta = state.meta.clone();
    let removed = meta.resource_policy.take().map(|p| p.revision);
    save_meta(&table, &mut state, meta)?;
    Ok(DeleteResourcePolicyOutput { revision_id: removed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::test_meta;

    #[test]
    fn expected_revisions() {
        let mut meta = test_meta();
        assert!(check_revision(&meta, Some(NO_POLICY)).is_ok());
        assert_eq!(
            check_revision(&meta, Some("1")).unwrap_err().message,
            "Resource-based policy not found for the provided ResourceArn: arn"
        );
        meta.resource_policy = Some(ResourcePolicy { document: "{}".into(), revision: "5".into() });
        assert!(check_revision(&meta, Some("5")).is_ok());
        assert!(check_revision(&meta, None).is_ok());
        assert_eq!(
            check_revision(&meta, Some("4")).unwrap_err().message,
            "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id 4, but the policy associated to target table t has revision id 5."
        );
        assert_eq!(check_revision(&meta, Some(NO_POLICY)).unwrap_err().code, "PolicyNotFoundException");
    }

    #[test]
    fn revisions_increase() {
        let future = ResourcePolicy { document: String::new(), revision: "99999999999999".into() };
        assert_eq!(next_revision(Some(&future)), "100000000000000");
        assert!(next_revision(None).parse::<i64>().unwrap() > 1_700_000_000_000);
    }
}
