//! Evaluation: conditions against an item, update actions applied to an item, projections.

use super::ast::*;
use crate::error::validation;
use crate::value::{AttrValue, Item};
use ruststack_core::AwsError;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The value at `path`, if the item has one.
pub fn resolve<'a>(item: &'a Item, path: &Path) -> Option<&'a AttrValue> {
    let mut elems = path.0.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(a) => item.get(a)?,
        PathElem::Index(_) => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn size_of(v: &AttrValue) -> Option<usize> {
    Some(match v {
        AttrValue::S(s) => s.chars().count(),
        AttrValue::B(b) => b.len(),
        AttrValue::SS(s) => s.len(),
        AttrValue::NS(s) => s.len(),
        AttrValue::BS(s) => s.len(),
        AttrValue::M(m) => m.len(),
        AttrValue::L(l) => l.len(),
        _ => return None,
    })
}

/// A condition operand's value (`None`: the attribute is missing or has no size).
fn operand<'a>(item: &'a Item, op: &'a Operand) -> Option<Cow<'a, AttrValue>> {
    match op {
        Operand::Path(p) => resolve(item, p).map(Cow::Borrowed),
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Size(p) => {
            let n = size_of(resolve(item, p)?)?;
            Some(Cow::Owned(AttrValue::N(crate::number::Number::from_i64(n as i64))))
        }
        // Update-only operands never reach a condition (the parser rejects them).
        _ => None,
    }
}

fn compare(a: &AttrValue, op: CmpOp, b: &AttrValue) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        _ => match a.compare(b) {
            None => false,
            Some(o) => match op {
                CmpOp::Lt => o == Ordering::Less,
                CmpOp::Le => o != Ordering::Greater,
                CmpOp::Gt => o == Ordering::Greater,
                _ => o != Ordering::Less,
            },
        },
    }
}

/// Whether `item` satisfies the condition (a missing item is an empty one).
pub fn matches(item: &Item, cond: &Condition) -> bool {
    match cond {
        Condition::Compare(a, op, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => compare(&a, *op, &b),
            // `<>` holds when exactly one side is missing.
            (None, Some(_)) | (Some(_), None) => *op == CmpOp::Ne,
            (None, None) => false,
        },
        Condition::Between(v, lo, hi) => match (operand(item, v), operand(item, lo), operand(item, hi)) {
            (Some(v), Some(lo), Some(hi)) => compare(&v, CmpOp::Ge, &lo) && compare(&v, CmpOp::Le, &hi),
            _ => false,
        },
        Condition::In(v, list) => match operand(item, v) {
            Some(v) => list.iter().any(|o| operand(item, o).is_some_and(|o| *o == *v)),
            None => false,
        },
        Condition::And(a, b) => matches(item, a) && matches(item, b),
        Condition::Or(a, b) => matches(item, a) || matches(item, b),
        Condition::Not(c) => !matches(item, c),
        Condition::Exists(p) => resolve(item, p).is_some(),
        Condition::NotExists(p) => resolve(item, p).is_none(),
        Condition::AttrType(p, t) => match (resolve(item, p), operand(item, t)) {
            (Some(v), Some(t)) => matches!(&*t, AttrValue::S(name) if name == v.type_name()),
            _ => false,
        },
        Condition::BeginsWith(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (AttrValue::S(a), AttrValue::S(b)) => a.starts_with(b.as_str()),
                (AttrValue::B(a), AttrValue::B(b)) => a.starts_with(b),
                _ => false,
            },
            _ => false,
        },
        Condition::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(a), Some(b)) => match (&*a, &*b) {
                (AttrValue::S(a), AttrValue::S(b)) => a.contains(b.as_str()),
                (AttrValue::B(a), AttrValue::B(b)) => b.is_empty() || a.windows(b.len()).any(|w| w == &b[..]),
                (AttrValue::SS(set), AttrValue::S(b)) => set.contains(b),
                (AttrValue::NS(set), AttrValue::N(b)) => set.contains(b),
                (AttrValue::BS(set), AttrValue::B(b)) => set.contains(b),
                (AttrValue::L(list), b) => list.contains(b),
                _ => false,
            },
            _ => false,
        },
    }
}

// ---- updates ------------------------------------------------------------------------------

fn wrong_type() -> AwsError {
    validation("An operand in the update expression has an incorrect data type")
}

fn invalid_path() -> AwsError {
    validation("The document path provided in the update expression is invalid for update")
}

/// The value a SET operand computes, read from the item as it was before the update.
fn set_value(item: &Item, op: &Operand) -> Result<AttrValue, AwsError> {
    match op {
        Operand::Path(p) => resolve(item, p).cloned().ok_or_else(|| {
            validation("The provided expression refers to an attribute that does not exist in the item")
        }),
        Operand::Value(v) => Ok(v.clone()),
        Operand::IfNotExists(p, fallback) => match resolve(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_value(item, fallback),
        },
        Operand::ListAppend(a, b) => match (set_value(item, a)?, set_value(item, b)?) {
            (AttrValue::L(mut a), AttrValue::L(b)) => {
                a.extend(b);
                Ok(AttrValue::L(a))
            }
            _ => Err(wrong_type()),
        },
        Operand::Plus(a, b) | Operand::Minus(a, b) => match (set_value(item, a)?, set_value(item, b)?) {
            (AttrValue::N(a), AttrValue::N(b)) => {
                let r = if matches!(op, Operand::Plus(..)) { a.checked_add(b) } else { a.checked_sub(b) };
                r.map(AttrValue::N).map_err(|e| validation(e.message()))
            }
            _ => Err(wrong_type()),
        },
        Operand::Size(_) => Err(wrong_type()),
    }
}

/// The container that holds the last element of `path`, for writing.
fn parent_mut<'a>(item: &'a mut Item, path: &Path) -> Result<Option<&'a mut AttrValue>, AwsError> {
    let elems = &path.0;
    if elems.len() == 1 {
        return Ok(None);
    }
    let PathElem::Attr(first) = &elems[0] else { return Err(invalid_path()) };
    let mut cur = item.get_mut(first).ok_or_else(invalid_path)?;
    for e in &elems[1..elems.len() - 1] {
        cur = match (e, cur) {
            (PathElem::Attr(a), AttrValue::M(m)) => m.get_mut(a).ok_or_else(invalid_path)?,
            (PathElem::Index(i), AttrValue::L(l)) => l.get_mut(*i).ok_or_else(invalid_path)?,
            _ => return Err(invalid_path()),
        };
    }
    Ok(Some(cur))
}

fn set_path(item: &mut Item, path: &Path, value: AttrValue) -> Result<(), AwsError> {
    let last = path.0.last().ok_or_else(invalid_path)?;
    match (parent_mut(item, path)?, last) {
        (None, PathElem::Attr(a)) => {
            item.insert(a.clone(), value);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), value);
        }
        // Past the end of a list: appended.
        (Some(AttrValue::L(l)), PathElem::Index(i)) => {
            if *i < l.len() {
                l[*i] = value;
            } else {
                l.push(value);
            }
        }
        _ => return Err(invalid_path()),
    }
    Ok(())
}

fn remove_path(item: &mut Item, path: &Path) -> Result<(), AwsError> {
    let last = path.0.last().ok_or_else(invalid_path)?;
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        // A missing parent has nothing to remove.
        Err(_) => return Ok(()),
    };
    match (parent, last) {
        (None, PathElem::Attr(a)) => {
            item.remove(a);
        }
        (Some(AttrValue::M(m)), PathElem::Attr(a)) => {
            m.remove(a);
        }
        (Some(AttrValue::L(l)), PathElem::Index(i)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

fn set_union<T: PartialEq + Clone>(a: &mut Vec<T>, b: &[T]) {
    for x in b {
        if !a.contains(x) {
            a.push(x.clone());
        }
    }
}

fn added(current: Option<&AttrValue>, v: &AttrValue) -> Result<AttrValue, AwsError> {
    Ok(match (current, v) {
        (None, v) => v.clone(),
        (Some(AttrValue::N(a)), AttrValue::N(b)) => {
            AttrValue::N(a.checked_add(*b).map_err(|e| validation(e.message()))?)
        }
        (Some(AttrValue::SS(a)), AttrValue::SS(b)) => {
            let mut a = a.clone();
            set_union(&mut a, b);
            AttrValue::SS(a)
        }
        (Some(AttrValue::NS(a)), AttrValue::NS(b)) => {
            let mut a = a.clone();
            set_union(&mut a, b);
            AttrValue::NS(a)
        }
        (Some(AttrValue::BS(a)), AttrValue::BS(b)) => {
            let mut a = a.clone();
            set_union(&mut a, b);
            AttrValue::BS(a)
        }
        _ => return Err(wrong_type()),
    })
}

/// The set left after DELETE (`None`: it became empty, so the attribute goes).
fn deleted(current: &AttrValue, v: &AttrValue) -> Result<Option<AttrValue>, AwsError> {
    let out = match (current, v) {
        (AttrValue::SS(a), AttrValue::SS(b)) => {
            let rest: Vec<_> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
            (!rest.is_empty()).then_some(AttrValue::SS(rest))
        }
        (AttrValue::NS(a), AttrValue::NS(b)) => {
            let rest: Vec<_> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
            (!rest.is_empty()).then_some(AttrValue::NS(rest))
        }
        (AttrValue::BS(a), AttrValue::BS(b)) => {
            let rest: Vec<_> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
            (!rest.is_empty()).then_some(AttrValue::BS(rest))
        }
        _ => return Err(wrong_type()),
    };
    Ok(out)
}

/// Applies update actions to `item`: every value is computed from the item as it was before
/// the update, then SET, ADD and DELETE are written and REMOVE applied (list elements from the
/// highest index down, so indexes refer to the original list).
pub fn apply_update(item: &mut Item, actions: &[UpdateAction]) -> Result<(), AwsError> {
    enum Write<'p> {
        Set(&'p Path, AttrValue),
        Remove(&'p Path),
    }
    let mut writes = Vec::with_capacity(actions.len());
    for action in actions {
        match action {
            UpdateAction::Set(p, op) => writes.push(Write::Set(p, set_value(item, op)?)),
            UpdateAction::Add(p, Operand::Value(v)) => writes.push(Write::Set(p, added(resolve(item, p), v)?)),
            UpdateAction::Delete(p, Operand::Value(v)) => {
                if let Some(current) = resolve(item, p) {
                    match deleted(current, v)? {
                        Some(rest) => writes.push(Write::Set(p, rest)),
                        None => writes.push(Write::Remove(p)),
                    }
                }
            }
            UpdateAction::Remove(p) => writes.push(Write::Remove(p)),
            _ => return Err(wrong_type()),
        }
    }
    let mut removes = Vec::new();
    for w in writes {
        match w {
            Write::Set(p, v) => set_path(item, p, v)?,
            Write::Remove(p) => removes.push(p),
        }
    }
    removes.sort_by(|a, b| b.0.cmp(&a.0));
    for p in removes {
        remove_path(item, p)?;
    }
    Ok(())
}

// ---- projections --------------------------------------------------------------------------

#[derive(Default)]
struct Selection {
    whole: bool,
    children: BTreeMap<PathElem, Selection>,
}

fn project_value(v: &AttrValue, sel: &Selection) -> Option<AttrValue> {
    if sel.whole {
        return Some(v.clone());
    }
    match v {
        AttrValue::M(m) => {
            let out: Item = sel
                .children
                .iter()
                .filter_map(|(e, s)| match e {
                    PathElem::Attr(a) => Some((a.clone(), project_value(m.get(a)?, s)?)),
                    PathElem::Index(_) => None,
                })
                .collect();
            (!out.is_empty()).then_some(AttrValue::M(out))
        }
        AttrValue::L(l) => {
            let out: Vec<AttrValue> = sel
                .children
                .iter()
                .filter_map(|(e, s)| match e {
                    PathElem::Index(i) => project_value(l.get(*i)?, s),
                    PathElem::Attr(_) => None,
                })
                .collect();
            (!out.is_empty()).then_some(AttrValue::L(out))
        }
        _ => None,
    }
}

/// The parts of `item` that `paths` name (ProjectionExpression, UPDATED_OLD/NEW).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut root = Selection::default();
    for p in paths {
        let mut sel = &mut root;
        for e in &p.0 {
            sel = sel.children.entry(e.clone()).or_default();
        }
        sel.whole = true;
    }
    let mut out = Item::new();
    for (e, sel) in &root.children {
        if let PathElem::Attr(a) = e
            && let Some(v) = item.get(a).and_then(|v| project_value(v, sel))
        {
            out.insert(a.clone(), v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::parser::{ExprContext, ExprKind};
    use super::*;
    use crate::number::Number;
    use bytes::Bytes;
    use std::collections::HashMap;

    fn n(v: &str) -> AttrValue {
        AttrValue::N(Number::parse(v).unwrap())
    }

    fn s(v: &str) -> AttrValue {
        AttrValue::S(v.into())
    }

    fn values() -> HashMap<String, AttrValue> {
        [
            (":s", s("hello")),
            (":he", s("he")),
            (":lo", n("1")),
            (":hi", n("10")),
            (":five", n("5")),
            (":zero", n("0")),
            (":x", s("x")),
            (":tS", s("S")),
            (":tN", s("N")),
            (":tL", s("L")),
            (":ss", AttrValue::SS(vec!["a".into(), "b".into()])),
            (":ssa", AttrValue::SS(vec!["a".into()])),
            (":ssc", AttrValue::SS(vec!["c".into()])),
            (":ns", AttrValue::NS(vec![Number::from_i64(7)])),
            (":list", AttrValue::L(vec![n("3")])),
            (":b", AttrValue::B(Bytes::from_static(b"\x01\x02"))),
            (":b1", AttrValue::B(Bytes::from_static(b"\x01"))),
            (":p1", n("0.1")),
            (":p2", n("0.2")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn item() -> Item {
        let m: Item = [("inr".to_string(), n("5")), ("s".to_string(), s("deep"))].into();
        [
            ("str", s("hello")),
            ("num", n("5")),
            ("bin", AttrValue::B(Bytes::from_static(b"\x01\x02\x03"))),
            ("ss", AttrValue::SS(vec!["a".into(), "b".into()])),
            ("ns", AttrValue::NS(vec![Number::from_i64(7), Number::from_i64(8)])),
            ("lst", AttrValue::L(vec![n("1"), s("two"), AttrValue::M(m.clone())])),
            ("mp", AttrValue::M(m)),
            ("nul", AttrValue::Null),
            ("flag", AttrValue::Bool(true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn check(src: &str) -> bool {
        let names = HashMap::new();
        let values = values();
        let mut ctx = ExprContext::new(&names, &values);
        let c = ctx.parse_condition(ExprKind::Condition, src).unwrap_or_else(|e| panic!("{src}: {}", e.message));
        matches(&item(), &c)
    }

    #[test]
    fn comparisons() {
        assert!(check("str = :s"));
        assert!(!check("str <> :s"));
        assert!(check("num = :five"));
        assert!(check("num <> :lo"));
        assert!(check("num > :lo AND num < :hi AND num >= :five AND num <= :five"));
        assert!(!check("num > :hi"));
        // Different types never compare, except <> which holds.
        assert!(!check("str < :hi"));
        assert!(check("str <> :hi"));
        // A nope attribute: only <> holds.
        assert!(!check("nope = :s"));
        assert!(check("nope <> :s"));
        assert!(!check("nope < :s"));
        assert!(check("mp.inr = :five"));
        assert!(check("lst[2].s = lst[2].s"));
        assert!(check("lst[0] = :lo"));
        assert!(!check("lst[9] = :lo"));
        assert!(check("ss = :ss"));
    }

    #[test]
    fn between_in_and_logic() {
        assert!(check("num BETWEEN :lo AND :hi"));
        assert!(check("num BETWEEN :five AND :five"));
        assert!(!check("num BETWEEN :zero AND :lo OR num BETWEEN :hi AND :hi"));
        assert!(!check("str BETWEEN :lo AND :hi"));
        assert!(check("num IN (:lo, :five)"));
        assert!(!check("num IN (:lo, :hi)"));
        assert!(!check("nope IN (:lo)"));
        assert!(check("NOT num = :lo"));
        assert!(check("num = :lo OR num = :five"));
        assert!(!check("num = :lo AND num = :five"));
        assert!(check("NOT (num = :lo OR str = :x)"));
    }

    #[test]
    fn functions() {
        assert!(check("attribute_exists(str) AND attribute_exists(mp.inr) AND attribute_exists(lst[1])"));
        assert!(!check("attribute_exists(nope) OR attribute_exists(mp.nope) OR attribute_exists(lst[5])"));
        assert!(check("attribute_not_exists(nope)"));
        assert!(!check("attribute_not_exists(nul)"));
        assert!(check("attribute_type(str, :tS) AND attribute_type(num, :tN) AND attribute_type(lst, :tL)"));
        assert!(!check("attribute_type(str, :tN)"));
        assert!(check("begins_with(str, :he)"));
        assert!(!check("begins_with(str, :x)"));
        assert!(check("begins_with(bin, :b1)"));
        assert!(!check("begins_with(num, :he)"));
        assert!(check("contains(str, :he)"));
        assert!(check("contains(bin, :b)"));
        assert!(check("contains(lst, :lo)"));
        assert!(!check("contains(lst, :hi)"));
        assert!(!check("contains(num, :lo)"));
        assert!(check("size(str) = :five"));
        assert!(check("size(ss) < :five AND size(lst) > :lo AND size(mp) > :lo AND size(bin) > :lo"));
        assert!(!check("size(num) = :lo"));
        assert!(!check("size(nope) = :lo"));
    }

    #[test]
    fn contains_on_sets() {
        let names = HashMap::new();
        let mut values = values();
        values.insert(":a".into(), s("a"));
        values.insert(":seven".into(), n("7"));
        let mut ctx = ExprContext::new(&names, &values);
        let c = ctx.parse_condition(ExprKind::Condition, "contains(ss, :a) AND contains(ns, :seven)").unwrap();
        assert!(matches(&item(), &c));
        let c = ctx.parse_condition(ExprKind::Condition, "contains(ss, :x)").unwrap();
        assert!(!matches(&item(), &c));
    }

    fn run_update(src: &str) -> Result<Item, String> {
        let names = HashMap::new();
        let values = values();
        let mut ctx = ExprContext::new(&names, &values);
        let actions = ctx.parse_update(src).map_err(|e| e.message)?;
        let mut it = item();
        apply_update(&mut it, &actions).map_err(|e| e.message)?;
        Ok(it)
    }

    #[test]
    fn set_with_arithmetic_and_functions() {
        let it =
            run_update("SET a = :p1 + :p2, num = num - :lo, c = if_not_exists(c, :five), str = if_not_exists(str, :x)")
                .unwrap();
        assert_eq!(it["a"], n("0.3"));
        assert_eq!(it["num"], n("4"));
        assert_eq!(it["c"], n("5"));
        assert_eq!(it["str"], s("hello"));
        let it =
            run_update("SET lst = list_append(lst, :list), l2 = list_append(:list, if_not_exists(l2, :list))").unwrap();
        assert_eq!(size_of(&it["lst"]), Some(4));
        assert_eq!(it["l2"], AttrValue::L(vec![n("3"), n("3")]));
        // Values come from the item as it was: a swap works.
        let it = run_update("SET num = str, str = num").unwrap();
        assert_eq!((it["num"].clone(), it["str"].clone()), (s("hello"), n("5")));
        let it = run_update("SET mp.inr = :x, lst[1] = :x, lst[10] = :x").unwrap();
        assert_eq!(resolve(&it, &Path(vec![PathElem::Attr("mp".into()), PathElem::Attr("inr".into())])), Some(&s("x")));
        assert_eq!(size_of(&it["lst"]), Some(4));
        assert_eq!(
            run_update("SET a = str + :lo").unwrap_err(),
            "An operand in the update expression has an incorrect data type"
        );
        assert_eq!(
            run_update("SET a = nope + :lo").unwrap_err(),
            "The provided expression refers to an attribute that does not exist in the item"
        );
        assert_eq!(
            run_update("SET nope.x = :lo").unwrap_err(),
            "The document path provided in the update expression is invalid for update"
        );
        assert_eq!(
            run_update("SET a = list_append(str, :list)").unwrap_err(),
            "An operand in the update expression has an incorrect data type"
        );
    }

    #[test]
    fn remove_add_delete() {
        let it = run_update("REMOVE str, mp.inr, lst[0], lst[1], nope").unwrap();
        assert!(!it.contains_key("str"));
        assert_eq!(it["mp"], AttrValue::M([("s".to_string(), s("deep"))].into()));
        assert_eq!(size_of(&it["lst"]), Some(1));
        let it = run_update("ADD num :five, newnum :five, ss :ssc, newset :ss").unwrap();
        assert_eq!(it["num"], n("10"));
        assert_eq!(it["newnum"], n("5"));
        assert_eq!(it["ss"], AttrValue::SS(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(it["newset"], AttrValue::SS(vec!["a".into(), "b".into()]));
        assert_eq!(
            run_update("ADD str :five").unwrap_err(),
            "An operand in the update expression has an incorrect data type"
        );
        assert_eq!(
            run_update("ADD ss :ns").unwrap_err(),
            "An operand in the update expression has an incorrect data type"
        );
        let it = run_update("DELETE ss :ssa, ns :ns, nope :ss").unwrap();
        assert_eq!(it["ss"], AttrValue::SS(vec!["b".into()]));
        assert_eq!(it["ns"], AttrValue::NS(vec![Number::from_i64(8)]));
        let it = run_update("DELETE ss :ss").unwrap();
        assert!(!it.contains_key("ss"));
        assert_eq!(
            run_update("DELETE str :ss").unwrap_err(),
            "An operand in the update expression has an incorrect data type"
        );
    }

    #[test]
    fn projections() {
        let names = HashMap::new();
        let values = HashMap::new();
        let mut ctx = ExprContext::new(&names, &values);
        let paths = ctx.parse_projection("str, mp.inr, lst[2].s, lst[0], nope, mp.nothing").unwrap();
        let out = project(&item(), &paths);
        assert_eq!(out.len(), 3);
        assert_eq!(out["mp"], AttrValue::M([("inr".to_string(), n("5"))].into()));
        assert_eq!(out["lst"], AttrValue::L(vec![n("1"), AttrValue::M([("s".to_string(), s("deep"))].into())]));
    }
}
