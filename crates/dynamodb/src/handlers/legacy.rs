//! The legacy (pre-expression) parameters, translated into the expression AST so they share
//! one evaluator: Expected, AttributesToGet, AttributeUpdates, KeyConditions, QueryFilter,
//! ScanFilter and ConditionalOperator.

use crate::error::validation;
use crate::expression::{CmpOp, Condition, Operand, Path, UpdateAction};
use crate::generated::types::{
    AttributeValue, AttributeValueUpdate, Condition as WireCondition, ExpectedAttributeValue,
};
use crate::value::AttrValue;
use ruststack_core::AwsError;
use std::collections::HashMap;

/// AWS's error for a request mixing both styles.
pub fn mixed(legacy: &[(&str, bool)], expressions: &[(&str, bool)]) -> Result<(), AwsError> {
    let l: Vec<&str> = legacy.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect();
    let e: Vec<&str> = expressions.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect();
    if !l.is_empty() && !e.is_empty() {
        return Err(validation(format!(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
            l.join(", "),
            e.join(", ")
        )));
    }
    Ok(())
}

fn values(list: Option<Vec<AttributeValue>>) -> Result<Vec<AttrValue>, AwsError> {
    list.unwrap_or_default().into_iter().map(AttrValue::from_wire).collect()
}

/// One `ComparisonOperator` with its `AttributeValueList` on attribute `name`.
fn comparison(name: &str, op: &str, args: Vec<AttrValue>) -> Result<Condition, AwsError> {
    let path = || Operand::Path(Path::attr(name));
    let count = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(validation(format!(
                "One or more parameter values were invalid: Invalid number of argument(s) for the {op} ComparisonOperator"
            )))
        }
    };
    let mut it = args.clone().into_iter().map(Operand::Value);
    let mut arg = || it.next().unwrap_or(Operand::Value(AttrValue::Null));
    Ok(match op {
        "EQ" | "NE" | "LE" | "LT" | "GE" | "GT" => {
            count(1)?;
            let cmp = match op {
                "EQ" => CmpOp::Eq,
                "NE" => CmpOp::Ne,
                "LE" => CmpOp::Le,
                "LT" => CmpOp::Lt,
                "GE" => CmpOp::Ge,
                _ => CmpOp::Gt,
            };
            Condition::Compare(path(), cmp, arg())
        }
        "NOT_NULL" => {
            count(0)?;
            Condition::Exists(Path::attr(name))
        }
        "NULL" => {
            count(0)?;
            Condition::NotExists(Path::attr(name))
        }
        "CONTAINS" => {
            count(1)?;
            Condition::Contains(path(), arg())
        }
        "NOT_CONTAINS" => {
            count(1)?;
            Condition::And(
                Box::new(Condition::Exists(Path::attr(name))),
                Box::new(Condition::Not(Box::new(Condition::Contains(path(), arg())))),
            )
        }
        "BEGINS_WITH" => {
            count(1)?;
            Condition::BeginsWith(path(), arg())
        }
        "IN" => {
            if args.is_empty() {
                return Err(validation(format!(
                    "One or more parameter values were invalid: Invalid number of argument(s) for the {op} ComparisonOperator"
                )));
            }
            Condition::In(path(), args.into_iter().map(Operand::Value).collect())
        }
        "BETWEEN" => {
            count(2)?;
            let (lo, hi) = (arg(), arg());
            Condition::Between(path(), lo, hi)
        }
        other => return Err(validation(format!("Unsupported ComparisonOperator: {other}"))),
    })
}

fn combine(conds: Vec<Condition>, operator: Option<&str>) -> Option<Condition> {
    let or = operator == Some("OR");
    conds.into_iter().reduce(|a, b| {
        if or { Condition::Or(Box::new(a), Box::new(b)) } else { Condition::And(Box::new(a), Box::new(b)) }
    })
}

/// `Expected` → a condition.
pub fn expected(
    expected: Option<HashMap<String, ExpectedAttributeValue>>,
    operator: Option<&str>,
) -> Result<Option<Condition>, AwsError> {
    let Some(expected) = expected else { return Ok(None) };
    let mut conds = Vec::new();
    let mut names: Vec<_> = expected.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, e) in names {
        if let Some(op) = e.comparison_operator.as_deref() {
            if e.value.is_some() {
                return Err(validation(
                    "One or more parameter values were invalid: Value and AttributeValueList cannot be used together",
                ));
            }
            conds.push(comparison(&name, op, values(e.attribute_value_list)?)?);
            continue;
        }
        match (e.exists, e.value) {
            (Some(false), Some(_)) => {
                return Err(validation(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: ".to_owned()
                        + &name,
                ));
            }
            (Some(false), None) => conds.push(Condition::NotExists(Path::attr(&name))),
            (_, Some(v)) => conds.push(Condition::Compare(
                Operand::Path(Path::attr(&name)),
                CmpOp::Eq,
                Operand::Value(AttrValue::from_wire(v)?),
            )),
            (_, None) => {
                return Err(validation(
                    "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: "
                        .to_owned()
                        + &name,
                ));
            }
        }
    }
    Ok(combine(conds, operator))
}

/// `KeyConditions`, `QueryFilter`, `ScanFilter` → a condition.
pub fn conditions(
    map: Option<HashMap<String, WireCondition>>,
    operator: Option<&str>,
) -> Result<Option<Condition>, AwsError> {
    let Some(map) = map else { return Ok(None) };
    let mut names: Vec<_> = map.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    let mut conds = Vec::new();
    for (name, c) in names {
        conds.push(comparison(&name, &c.comparison_operator, values(c.attribute_value_list)?)?);
    }
    Ok(combine(conds, operator))
}

/// `AttributesToGet` → projection paths.
pub fn attributes_to_get(names: Option<Vec<String>>) -> Option<Vec<Path>> {
    names.map(|n| n.iter().map(|a| Path::attr(a)).collect())
}

/// `AttributeUpdates` → update actions.
pub fn attribute_updates(updates: HashMap<String, AttributeValueUpdate>) -> Result<Vec<UpdateAction>, AwsError> {
    let mut out = Vec::new();
    for (name, u) in updates {
        let path = Path::attr(&name);
        let value = u.value.map(AttrValue::from_wire).transpose()?;
        match (u.action.as_deref().unwrap_or("PUT"), value) {
            ("PUT", Some(v)) => out.push(UpdateAction::Set(path, Operand::Value(v))),
            ("DELETE", None) => out.push(UpdateAction::Remove(path)),
            ("DELETE", Some(v @ (AttrValue::SS(_) | AttrValue::NS(_) | AttrValue::BS(_)))) => {
                out.push(UpdateAction::Delete(path, Operand::Value(v)))
            }
            ("ADD", Some(v @ (AttrValue::N(_) | AttrValue::SS(_) | AttrValue::NS(_) | AttrValue::BS(_)))) => {
                out.push(UpdateAction::Add(path, Operand::Value(v)))
            }
            ("ADD", Some(AttrValue::L(l))) => out.push(UpdateAction::Set(
                path.clone(),
                Operand::ListAppend(
                    Box::new(Operand::IfNotExists(path, Box::new(Operand::Value(AttrValue::L(vec![]))))),
                    Box::new(Operand::Value(AttrValue::L(l))),
                ),
            )),
            (action, _) => {
                return Err(validation(format!(
                    "One or more parameter values were invalid: Action {action} is not supported for the type of attribute: {name}"
                )));
            }
        }
    }
    Ok(out)
}
