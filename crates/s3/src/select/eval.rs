//! Records, their evaluation against a parsed query, and the input and output formats of
//! S3 Select (JSON documents or lines, CSV).

use super::sql::{AGGREGATES, Expr, Lit, Query, Step};
use ruststack_core::AwsError;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A JSON value keeping its members in document order (S3 Select echoes them that way).
/// `Missing` is SQL's MISSING: a path that leads nowhere.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Missing,
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<J, E> {
                Ok(J::Num(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<J, E> {
                Ok(J::Num(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<J, E> {
                Ok(serde_json::Number::from_f64(n).map_or(J::Null, J::Num))
            }
            fn visit_str<E>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<J, E> {
                Ok(J::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(J::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, J>()? {
                    out.push((k, v));
                }
                Ok(J::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    fn write_json(&self, out: &mut String) {
        match self {
            J::Missing | J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(&n.to_string()),
            J::Str(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
            J::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                let mut first = true;
                for (k, v) in members.iter().filter(|(_, v)| *v != J::Missing) {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            J::Num(n) => n.as_f64(),
            J::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            J::Missing | J::Null => String::new(),
            J::Str(s) => s.clone(),
            J::Num(n) => n.to_string(),
            J::Bool(b) => b.to_string(),
            other => {
                let mut s = String::new();
                other.write_json(&mut s);
                s
            }
        }
    }

    fn field(&self, name: &str, exact: bool) -> J {
        let J::Obj(members) = self else { return J::Missing };
        let found = members
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| if exact { None } else { members.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) });
        match found {
            Some((_, v)) => v.clone(),
            // CSV columns answer to their position (`_1`) whatever their header names.
            None => match name.strip_prefix('_').and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n >= 1 => members.get(n - 1).map_or(J::Missing, |(_, v)| v.clone()),
                _ => J::Missing,
            },
        }
    }
}

fn num(f: f64) -> J {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        J::Num((f as i64).into())
    } else {
        serde_json::Number::from_f64(f).map_or(J::Null, J::Num)
    }
}

/// Follows `steps` from `v`: a field or index of something else is MISSING; `[*]` yields an
/// array's items, or anything else once.
fn walk(v: J, steps: &[Step], out: &mut Vec<J>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(v);
        return;
    };
    match step {
        Step::Field(name, exact) => walk(v.field(name, *exact), rest, out),
        Step::Index(i) => {
            let item = match v {
                J::Arr(items) => items.into_iter().nth(*i).unwrap_or(J::Missing),
                _ => J::Missing,
            };
            walk(item, rest, out)
        }
        Step::Wildcard => match v {
            J::Arr(items) => items.into_iter().for_each(|item| walk(item, rest, out)),
            other => walk(other, rest, out),
        },
    }
}

pub struct Eval<'q> {
    pub query: &'q Query,
}

impl Eval<'_> {
    /// The rows a record gives: the FROM path followed from it (`S3Object[*]` is the record
    /// itself).
    pub fn rows(&self, record: J) -> Vec<J> {
        let steps = match self.query.from.first() {
            Some(Step::Wildcard) => &self.query.from[1..],
            _ => &self.query.from[..],
        };
        let mut out = Vec::new();
        walk(record, steps, &mut out);
        out
    }

    fn path(&self, row: &J, steps: &[Step]) -> J {
        let steps = match (steps.first(), &self.query.alias) {
            (Some(Step::Field(first, _)), Some(alias)) if first.eq_ignore_ascii_case(alias) => &steps[1..],
            (Some(Step::Field(first, false)), None) if first.eq_ignore_ascii_case("s3object") => &steps[1..],
            _ => steps,
        };
        let mut out = Vec::new();
        walk(row.clone(), steps, &mut out);
        if out.len() == 1 { out.pop().unwrap_or(J::Missing) } else { J::Arr(out) }
    }

    pub fn matches(&self, row: &J) -> Result<bool, AwsError> {
        match &self.query.filter {
            None => Ok(true),
            Some(e) => Ok(self.value(row, e)? == J::Bool(true)),
        }
    }

    pub fn value(&self, row: &J, e: &Expr) -> Result<J, AwsError> {
        Ok(match e {
            Expr::Lit(l) => match l {
                Lit::Null => J::Null,
                Lit::Missing => J::Missing,
                Lit::Bool(b) => J::Bool(*b),
                Lit::Num(f, _) => num(*f),
                Lit::Str(s) => J::Str(s.clone()),
            },
            Expr::Path(steps) => self.path(row, steps),
            Expr::CountStar => return Err(aggregate_misuse()),
            Expr::Call(name, args) => {
                let args = args.iter().map(|a| self.value(row, a)).collect::<Result<Vec<_>, _>>()?;
                call(name, &args)?
            }
            Expr::Not(a) => match self.value(row, a)? {
                J::Bool(b) => J::Bool(!b),
                _ => J::Null,
            },
            Expr::Neg(a) => self.value(row, a)?.as_f64().map_or(J::Null, |f| num(-f)),
            Expr::Is(a, missing_only, negated) => {
                let v = self.value(row, a)?;
                let hit = if *missing_only { v == J::Missing } else { matches!(v, J::Null | J::Missing) };
                J::Bool(hit != *negated)
            }
            Expr::Like(a, p, negated) => match (self.value(row, a)?, self.value(row, p)?) {
                (J::Str(s), J::Str(p)) => J::Bool(like(&s, &p) != *negated),
                _ => J::Null,
            },
            Expr::Between(a, lo, hi, negated) => {
                let v = self.value(row, a)?;
                let (lo, hi) = (self.value(row, lo)?, self.value(row, hi)?);
                match (compare(&v, &lo), compare(&v, &hi)) {
                    (Some(a), Some(b)) => J::Bool((a.is_ge() && b.is_le()) != *negated),
                    _ => J::Null,
                }
            }
            Expr::In(a, list, negated) => {
                let v = self.value(row, a)?;
                let mut hit = false;
                for item in list {
                    hit |= compare(&v, &self.value(row, item)?).is_some_and(|o| o.is_eq());
                }
                J::Bool(hit != *negated)
            }
            Expr::Binary(op, a, b) => {
                let (x, y) = (self.value(row, a)?, self.value(row, b)?);
                binary(op, x, y)
            }
        })
    }

    /// The output record of a row (`SELECT *` or the projections).
    pub fn project(&self, row: J) -> Result<J, AwsError> {
        let Some(list) = &self.query.projections else {
            return Ok(match row {
                J::Obj(_) => row,
                J::Missing => J::Obj(Vec::new()),
                other => J::Obj(vec![("_1".to_owned(), other)]),
            });
        };
        let mut out = Vec::with_capacity(list.len());
        for (i, p) in list.iter().enumerate() {
            let name = match (&p.alias, &p.expr) {
                (Some(a), _) => a.clone(),
                (None, Expr::Path(steps)) => match steps.last() {
                    Some(Step::Field(f, _)) if steps.len() > 1 || self.query.alias.is_none() => f.clone(),
                    _ => format!("_{}", i + 1),
                },
                _ => format!("_{}", i + 1),
            };
            out.push((name, self.value(&row, &p.expr)?));
        }
        Ok(J::Obj(out))
    }
}

fn aggregate_misuse() -> AwsError {
    AwsError::bad_request("InvalidAggregate", "Aggregate functions are only allowed in the SELECT list.")
}

/// Running aggregates of a query whose projections aggregate (`count(*)`, `sum(x)`, …).
pub struct Aggregates {
    states: Vec<Agg>,
}

#[derive(Clone)]
enum Agg {
    Count(u64),
    Sum(Option<f64>),
    Min(Option<J>),
    Max(Option<J>),
    Avg(f64, u64),
}

impl Aggregates {
    pub fn new(query: &Query) -> Result<Option<Aggregates>, AwsError> {
        let Some(list) = &query.projections else { return Ok(None) };
        if !list.iter().any(|p| p.expr.is_aggregate()) {
            return Ok(None);
        }
        let mut states = Vec::new();
        for p in list {
            states.push(match &p.expr {
                Expr::CountStar => Agg::Count(0),
                Expr::Call(name, args) if args.len() == 1 && AGGREGATES.contains(&name.as_str()) => match name.as_str()
                {
                    "count" => Agg::Count(0),
                    "sum" => Agg::Sum(None),
                    "min" => Agg::Min(None),
                    "max" => Agg::Max(None),
                    _ => Agg::Avg(0.0, 0),
                },
                _ => return Err(aggregate_misuse()),
            });
        }
        Ok(Some(Aggregates { states }))
    }

    pub fn add(&mut self, eval: &Eval<'_>, row: &J) -> Result<(), AwsError> {
        let list = eval.query.projections.as_deref().unwrap_or_default();
        for (state, p) in self.states.iter_mut().zip(list) {
            let v = match &p.expr {
                Expr::Call(_, args) => eval.value(row, &args[0])?,
                _ => J::Bool(true),
            };
            if matches!(v, J::Null | J::Missing) {
                continue;
            }
            match state {
                Agg::Count(n) => *n += 1,
                Agg::Sum(s) => *s = Some(s.unwrap_or(0.0) + v.as_f64().ok_or_else(not_numeric)?),
                Agg::Avg(s, n) => {
                    *s += v.as_f64().ok_or_else(not_numeric)?;
                    *n += 1;
                }
                Agg::Min(m) => {
                    if m.as_ref().is_none_or(|cur| compare(&v, cur).is_some_and(|o| o.is_lt())) {
                        *m = Some(v);
                    }
                }
                Agg::Max(m) => {
                    if m.as_ref().is_none_or(|cur| compare(&v, cur).is_some_and(|o| o.is_gt())) {
                        *m = Some(v);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn finish(self, query: &Query) -> J {
        let list = query.projections.as_deref().unwrap_or_default();
        let members = self
            .states
            .into_iter()
            .zip(list)
            .enumerate()
            .map(|(i, (state, p))| {
                let v = match state {
                    Agg::Count(n) => J::Num(n.into()),
                    Agg::Sum(s) => s.map_or(J::Null, num),
                    Agg::Avg(s, n) => {
                        if n == 0 {
                            J::Null
                        } else {
                            num(s / n as f64)
                        }
                    }
                    Agg::Min(m) | Agg::Max(m) => m.unwrap_or(J::Null),
                };
                (p.alias.clone().unwrap_or_else(|| format!("_{}", i + 1)), v)
            })
            .collect();
        J::Obj(members)
    }
}

fn not_numeric() -> AwsError {
    AwsError::bad_request("CastFailed", "Attempt to convert from one data type to another failed.")
}

fn compare(a: &J, b: &J) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (J::Str(x), J::Str(y)) => Some(x.cmp(y)),
        (J::Bool(x), J::Bool(y)) => Some(x.cmp(y)),
        (J::Num(_), _) | (_, J::Num(_)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        _ => None,
    }
}

fn binary(op: &str, x: J, y: J) -> J {
    match op {
        "and" => match (x, y) {
            (J::Bool(false), _) | (_, J::Bool(false)) => J::Bool(false),
            (J::Bool(true), J::Bool(true)) => J::Bool(true),
            _ => J::Null,
        },
        "or" => match (x, y) {
            (J::Bool(true), _) | (_, J::Bool(true)) => J::Bool(true),
            (J::Bool(false), J::Bool(false)) => J::Bool(false),
            _ => J::Null,
        },
        "||" => match (x, y) {
            (J::Str(a), J::Str(b)) => J::Str(a + &b),
            _ => J::Null,
        },
        "=" | "<>" | "<" | ">" | "<=" | ">=" => match compare(&x, &y) {
            Some(o) => J::Bool(match op {
                "=" => o.is_eq(),
                "<>" => o.is_ne(),
                "<" => o.is_lt(),
                ">" => o.is_gt(),
                "<=" => o.is_le(),
                _ => o.is_ge(),
            }),
            None => J::Null,
        },
        _ => match (x.as_f64(), y.as_f64()) {
            (Some(a), Some(b)) => match op {
                "+" => num(a + b),
                "-" => num(a - b),
                "*" => num(a * b),
                "/" if b != 0.0 => num(a / b),
                "%" if b != 0.0 => num(a % b),
                _ => J::Null,
            },
            _ => J::Null,
        },
    }
}

/// SQL LIKE: `%` any run, `_` one character.
fn like(s: &str, pattern: &str) -> bool {
    fn go(s: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| go(&s[i..], rest)),
            Some(('_', rest)) => !s.is_empty() && go(&s[1..], rest),
            Some((c, rest)) => s.first() == Some(c) && go(&s[1..], rest),
        }
    }
    go(&s.chars().collect::<Vec<_>>(), &pattern.chars().collect::<Vec<_>>())
}

fn call(name: &str, args: &[J]) -> Result<J, AwsError> {
    let arg = |i: usize| args.get(i).cloned().unwrap_or(J::Missing);
    Ok(match name {
        "lower" => match arg(0) {
            J::Str(s) => J::Str(s.to_lowercase()),
            _ => J::Null,
        },
        "upper" => match arg(0) {
            J::Str(s) => J::Str(s.to_uppercase()),
            _ => J::Null,
        },
        "char_length" | "character_length" => match arg(0) {
            J::Str(s) => J::Num((s.chars().count() as u64).into()),
            _ => J::Null,
        },
        "trim" => match arg(0) {
            J::Str(s) => J::Str(s.trim().to_owned()),
            _ => J::Null,
        },
        "coalesce" => args.iter().find(|v| !matches!(v, J::Null | J::Missing)).cloned().unwrap_or(J::Null),
        "nullif" => {
            if compare(&arg(0), &arg(1)).is_some_and(|o| o.is_eq()) {
                J::Null
            } else {
                arg(0)
            }
        }
        "substring" => match arg(0) {
            J::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let start = arg(1).as_f64().unwrap_or(1.0).max(1.0) as usize - 1;
                let len = arg(2).as_f64().map_or(chars.len(), |l| l.max(0.0) as usize);
                J::Str(chars.iter().skip(start).take(len).collect())
            }
            _ => J::Null,
        },
        _ if AGGREGATES.contains(&name) => return Err(aggregate_misuse()),
        other => {
            return Err(AwsError::bad_request(
                "UnsupportedFunction",
                format!("Function {other} is not supported by RustStack's S3 Select."),
            ));
        }
    })
}

// ---- input formats ----

fn malformed(what: &str) -> AwsError {
    AwsError::bad_request("InvalidJsonType", format!("The JSON input is not valid: {what}"))
}

/// The records of a JSON input: each top-level value of the document (a DOCUMENT may hold
/// several; LINES holds one per line).
pub fn json_records(data: &[u8]) -> Result<Vec<J>, AwsError> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_slice(data).into_iter::<J>() {
        out.push(v.map_err(|e| malformed(&e.to_string()))?);
    }
    Ok(out)
}

pub struct CsvIn {
    pub field: char,
    pub record: String,
    pub quote: char,
    pub escape: char,
    pub comments: Option<char>,
    /// `USE`, `IGNORE` or `NONE`.
    pub header: String,
    pub quoted_record_delimiter: bool,
}

/// The records of a CSV input as objects named by the header line (`USE`) or by position.
pub fn csv_records(data: &str, opt: &CsvIn) -> Vec<J> {
    let mut rows = split_csv(data, opt);
    let names: Option<Vec<String>> = match opt.header.as_str() {
        "USE" if !rows.is_empty() => Some(rows.remove(0)),
        "IGNORE" if !rows.is_empty() => {
            rows.remove(0);
            None
        }
        _ => None,
    };
    rows.into_iter()
        .map(|fields| {
            J::Obj(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name =
                            names.as_ref().and_then(|n| n.get(i).cloned()).unwrap_or_else(|| format!("_{}", i + 1));
                        (name, J::Str(f))
                    })
                    .collect(),
            )
        })
        .collect()
}

fn split_csv(data: &str, opt: &CsvIn) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = data.char_indices().peekable();
    let record = opt.record.as_str();
    let mut at_row_start = true;
    while let Some((i, c)) = chars.next() {
        if at_row_start {
            at_row_start = false;
            if opt.comments == Some(c) {
                // Skip the comment line.
                let rest = &data[i..];
                let skip = rest.find(record).map_or(rest.len(), |p| p + record.len());
                let end = i + skip;
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
                at_row_start = true;
                continue;
            }
        }
        if quoted {
            if c == opt.escape && opt.escape != opt.quote && chars.peek().is_some_and(|(_, n)| *n == opt.quote) {
                field.push(opt.quote);
                chars.next();
            } else if c == opt.quote {
                if chars.peek().is_some_and(|(_, n)| *n == opt.quote) {
                    field.push(opt.quote);
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        if c == opt.quote && field.is_empty() {
            quoted = true;
        } else if c == opt.field {
            row.push(std::mem::take(&mut field));
        } else if data[i..].starts_with(record) {
            for _ in 1..record.chars().count() {
                chars.next();
            }
            row.push(std::mem::take(&mut field));
            rows.push(std::mem::take(&mut row));
            at_row_start = true;
        } else {
            field.push(c);
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    // A "\r\n" file read with the default "\n" keeps no carriage returns.
    if record == "\n" {
        for r in &mut rows {
            if let Some(last) = r.last_mut()
                && last.ends_with('\r')
            {
                last.pop();
            }
        }
    }
    let _ = opt.quoted_record_delimiter;
    rows
}

// ---- output formats ----

pub enum Out {
    Json { record: String },
    Csv { field: String, record: String, quote: char, escape: char, always: bool },
}

impl Out {
    pub fn write(&self, record: &J, buf: &mut String) {
        match self {
            Out::Json { record: delimiter } => {
                record.write_json(buf);
                buf.push_str(delimiter);
            }
            Out::Csv { field, record: delimiter, quote, escape, always } => {
                let values: Vec<J> = match record {
                    J::Obj(members) => members.iter().map(|(_, v)| v.clone()).collect(),
                    other => vec![other.clone()],
                };
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        buf.push_str(field);
                    }
                    let text = v.text();
                    let needs = *always
                        || text.contains(field.as_str())
                        || text.contains(*quote)
                        || text.contains(delimiter.as_str())
                        || text.contains('\n');
                    if needs {
                        buf.push(*quote);
                        for ch in text.chars() {
                            if ch == *quote {
                                buf.push(*escape);
                            }
                            buf.push(ch);
                        }
                        buf.push(*quote);
                    } else {
                        buf.push_str(&text);
                    }
                }
                buf.push_str(delimiter);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sql::parse;
    use super::*;

    fn run(sql: &str, records: Vec<J>) -> Vec<String> {
        let q = parse(sql).unwrap();
        let eval = Eval { query: &q };
        let mut aggs = Aggregates::new(&q).unwrap();
        let mut out = Vec::new();
        for r in records {
            for row in eval.rows(r) {
                if !eval.matches(&row).unwrap() {
                    continue;
                }
                match &mut aggs {
                    Some(a) => a.add(&eval, &row).unwrap(),
                    None => {
                        let mut s = String::new();
                        eval.project(row).unwrap().write_json(&mut s);
                        out.push(s);
                    }
                }
            }
        }
        if let Some(a) = aggs {
            let mut s = String::new();
            a.finish(&q).write_json(&mut s);
            out.push(s);
        }
        out
    }

    #[test]
    fn json_paths_filters_and_aggregates() {
        let long = json_records(br#"{"a":{"b0":"s"},"c":"d0"}{"a":{"b1":"s"},"c":"d1"}"#).unwrap();
        assert_eq!(run("select * from s3object[*].a", long.clone()), [r#"{"b0":"s"}"#, r#"{"b1":"s"}"#]);
        assert_eq!(run("select * from s3object[*] s where s.c = 'd1'", long.clone()), [r#"{"a":{"b1":"s"},"c":"d1"}"#]);
        assert_eq!(run("select s.c, s.a.b0 as x from s3object s limit 1", long.clone())[0], r#"{"c":"d0","x":"s"}"#);
        assert_eq!(run("SELECT count(*) FROM S3Object", long), [r#"{"_1":2}"#]);
        let doc = json_records(br#"[{"staff":[{"name":"x"}]}]"#).unwrap();
        assert_eq!(run("select * from s3object s", doc.clone()), [r#"{"_1":[{"staff":[{"name":"x"}]}]}"#]);
        assert_eq!(run("select * from s3object[*].staff[*] s", doc), ["{}"]);
        // Members keep their order.
        let ordered = json_records(br#"{"z":1,"a":2}"#).unwrap();
        assert_eq!(run("select * from s3object", ordered), [r#"{"z":1,"a":2}"#]);
    }

    #[test]
    fn csv_headers_positions_and_output() {
        let opt = CsvIn {
            field: ',',
            record: "\n".into(),
            quote: '"',
            escape: '"',
            comments: None,
            header: "USE".into(),
            quoted_record_delimiter: false,
        };
        let rows = csv_records("a,b\n1,\"x,y\"\n3,z\n", &opt);
        assert_eq!(run("select s.b from s3object s where s._1 > 1", rows.clone()), [r#"{"b":"z"}"#]);
        assert_eq!(run("select sum(a), max(b) from s3object", rows.clone()), [r#"{"_1":4,"_2":"z"}"#]);
        let out = Out::Csv { field: ",".into(), record: "\n".into(), quote: '"', escape: '"', always: false };
        let mut buf = String::new();
        out.write(&rows[0], &mut buf);
        assert_eq!(buf, "1,\"x,y\"\n");
        assert!(like("abc", "a%") && like("abc", "_b_") && !like("abc", "b%"));
    }
}
