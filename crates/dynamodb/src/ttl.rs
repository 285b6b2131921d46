//! Time to live: a background sweeper deletes items whose TTL attribute (a Number of epoch
//! seconds) is in the past, within about a second rather than the 48 hours AWS allows.

use crate::DynamoDb;
use crate::table::{Table, TableState};
use crate::value::AttrValue;
use ruststack_core::AwsError;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often tables are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// AWS ignores TTL values more than five years in the past.
pub const MAX_AGE_SECS: i64 = 5 * 365 * 24 * 3600;

/// The expiry time of `item` (epoch seconds) under TTL attribute `attr`, if it has one.
pub fn expiry(item: &crate::value::Item, attr: &str) -> Option<i64> {
    match item.get(attr) {
        // Fractional seconds count by their integer part.
        Some(AttrValue::N(n)) => n.to_string().split('.').next().and_then(|s| s.parse::<i64>().ok()),
        _ => None,
    }
}

/// Whether `item` has expired at `now` (epoch seconds) under TTL attribute `attr`.
pub fn expired(item: &crate::value::Item, attr: &str, now: i64) -> bool {
    expiry(item, attr).is_some_and(|s| s <= now && now - s <= MAX_AGE_SECS)
}

/// Deletes the expired items of one table as one stored batch; returns how many.
pub fn sweep_table(table: &Table, state: &mut TableState, now: i64) -> Result<usize, AwsError> {
    let Some(attr) = state.meta.ttl_attribute.clone() else { return Ok(0) };
    // Item writes let go of the lock before their commit: read the table once they are stored.
    table.store.flush()?;
    let expired_items = state.data.expired(&attr, now, usize::MAX);
    let mut writes = Vec::new();
    let mut records = Vec::with_capacity(expired_items.len());
    for (k, old) in &expired_items {
        table.store.put_item(&state.meta, k, Some(old), None, &mut writes);
        let record = state.stream.as_ref().and_then(|stream| {
            let r = stream.prepare(state.meta.key.extract(old), Some(old), None, true, records.len() as u64)?;
            table.store.put_record(stream, &r, &mut writes);
            Some(r)
        });
        records.extend(record);
    }
    let changes = expired_items.iter().map(|(k, old)| (k.as_slice(), Some(old), None));
    let stats = state.data.stats_after(&state.meta, changes);
    table.store.put_stats(&state.meta.name, stats, &mut writes);
    table.store.apply(writes)?;
    let TableState { meta, data, stream } = state;
    for (k, old) in expired_items.iter() {
        data.change(meta, k.clone(), Some(old), None);
    }
    if let Some(stream) = stream {
        for r in records {
            stream.push(r);
        }
    }
    Ok(expired_items.len())
}

fn sweep(db: &DynamoDb) {
    let now = ruststack_core::Timestamp::now().millis / 1000;
    for region in db.regions.all() {
        let tables: Vec<_> = region.tables.read().values().cloned().collect();
        for table in tables {
            if table.state.read().meta.ttl_attribute.is_none() {
                continue;
            }
            // A table read back from the store is loaded so its expired items go too.
            table.ensure_loaded();
            // Look under the read lock first: most sweeps find nothing to delete.
            let due = {
                let s = table.state.read();
                s.meta.ttl_attribute.as_ref().is_some_and(|attr| !s.data.expired(attr, now, 1).is_empty())
            };
            if due && let Err(e) = sweep_table(&table, &mut table.state.write(), now) {
                tracing::error!(error = %e.message, "TTL deletions could not be stored");
            }
        }
    }
}

/// Starts the sweeper thread; it ends when the service is dropped.
pub fn start(db: &Arc<DynamoDb>) {
    let weak: Weak<DynamoDb> = Arc::downgrade(db);
    let _ = std::thread::Builder::new().name("dynamodb-ttl".into()).spawn(move || {
        loop {
            std::thread::sleep(SWEEP_EVERY);
            match weak.upgrade() {
                Some(db) => sweep(&db),
                None => return,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;
    use crate::value::Item;

    #[test]
    fn expiry_rules() {
        let item = |v: AttrValue| -> Item { [("exp".to_string(), v)].into() };
        let now = 1_700_000_000;
        assert!(expired(&item(AttrValue::N(Number::from_i64(now - 1))), "exp", now));
        assert!(expired(&item(AttrValue::N(Number::parse("1699999999.9").unwrap())), "exp", now));
        assert!(!expired(&item(AttrValue::N(Number::from_i64(now + 10))), "exp", now));
        assert!(!expired(&item(AttrValue::N(Number::from_i64(now - MAX_AGE_SECS - 1))), "exp", now));
        assert!(!expired(&item(AttrValue::S("1".into())), "exp", now));
        assert!(!expired(&item(AttrValue::N(Number::from_i64(1))), "other", now));
    }
}
