//! A subset of the CloudWatch Logs Insights query language: `fields`/`display`, `filter` (with
//! comparisons, `like`/`=~` regexes or substrings, `in [..]`, `and`/`or`/`not`, `ispresent`),
//! `sort`, `limit` and `stats count(..)`/`sum`/`avg`/`min`/`max` `[as alias]` `[by fields]`.
//!
//! Each event is a record of fields: `@timestamp`, `@message`, `@logStream`, `@log`,
//! `@ingestionTime`, and for JSON messages every member by its dotted path, as Insights discovers
//! them.

use regex::Regex;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Why a query was refused, with the character offsets AWS reports.
#[derive(Debug, PartialEq)]
pub struct QueryError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Regex(String),
    Num(f64),
    Sym(&'static str),
}

#[derive(Debug)]
pub enum Expr {
    Field(String),
    Lit(Val),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    Like(Box<Expr>, Like),
    In(Box<Expr>, Vec<Val>),
    IsPresent(String),
}

#[derive(Debug)]
pub enum Like {
    Regex(Regex),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Val {
    fn num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn truthy(&self) -> bool {
        matches!(self, Val::Bool(true))
    }

    pub fn render(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Str(s) => Some(s.clone()),
            Val::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            Val::Num(n) => Some(n.to_string()),
            Val::Bool(b) => Some(b.to_string()),
        }
    }
}

#[derive(Debug)]
pub struct Agg {
    func: String,
    field: Option<String>,
    name: String,
}

#[derive(Debug)]
pub enum Command {
    Fields(Vec<String>),
    Display(Vec<String>),
    Filter(Expr),
    Sort(Vec<(String, bool)>),
    Limit(usize),
    Stats(Vec<Agg>, Vec<String>),
}

#[derive(Debug)]
pub struct Query {
    pub commands: Vec<Command>,
}

/// A record: field name to value.
pub type Record = BTreeMap<String, Val>;

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, QueryError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |m: String, at: usize| QueryError { message: m, start: at, end: at };
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let tok = match c {
            b'"' | b'\'' | b'`' => {
                let quote = c;
                let mut s = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(err("unterminated string".into(), start)),
                        Some(&q) if q == quote => break,
                        Some(b'\\') if b.get(i + 1).is_some() => {
                            s.push(b[i + 1] as char);
                            i += 2;
                            continue;
                        }
                        Some(_) => {
                            let ch = text[i..].chars().next().unwrap_or('\0');
                            s.push(ch);
                            i += ch.len_utf8();
                            continue;
                        }
                    }
                }
                i += 1;
                if quote == b'`' { Tok::Ident(s) } else { Tok::Str(s) }
            }
            b'/' => {
                let end = text[i + 1..].find('/').ok_or_else(|| err("unterminated regex".into(), start))?;
                let body = text[i + 1..i + 1 + end].to_string();
                i += end + 2;
                Tok::Regex(body)
            }
            b'0'..=b'9' => {
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                Tok::Num(text[start..i].parse().map_err(|_| err("bad number".into(), start))?)
            }
            c if c.is_ascii_alphabetic() || c == b'@' || c == b'_' || c == b'$' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'@' | b'_' | b'.' | b'$' | b'-'))
                {
                    i += 1;
                }
                Tok::Ident(text[start..i].to_string())
            }
            _ => {
                let two = text.get(i..i + 2).unwrap_or("");
                let sym = ["!=", "<=", ">=", "=~"].into_iter().find(|s| *s == two);
                match sym {
                    Some(s) => {
                        i += 2;
                        Tok::Sym(s)
                    }
                    None => {
                        let s = match c {
                            b'|' => "|",
                            b',' => ",",
                            b'(' => "(",
                            b')' => ")",
                            b'[' => "[",
                            b']' => "]",
                            b'=' => "=",
                            b'<' => "<",
                            b'>' => ">",
                            b'*' => "*",
                            b'-' => "-",
                            _ => {
                                return Err(err(
                                    format!(
                                        "unexpected symbol found {} at line 1 and position {}",
                                        c as char,
                                        start + 1
                                    ),
                                    start,
                                ));
                            }
                        };
                        i += 1;
                        Tok::Sym(s)
                    }
                }
            }
        };
        out.push((tok, start));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.i).map_or(self.len, |(_, p)| *p)
    }

    fn fail<T>(&self, what: &str) -> Result<T, QueryError> {
        let at = self.at();
        let found = match self.peek() {
            Some(Tok::Ident(s)) | Some(Tok::Str(s)) => s.clone(),
            Some(Tok::Sym(s)) => s.to_string(),
            Some(Tok::Num(n)) => n.to_string(),
            Some(Tok::Regex(r)) => format!("/{r}/"),
            None => "end of query".into(),
        };
        Err(QueryError {
            message: format!("{what}: unexpected symbol found {found} at line 1 and position {}", at + 1),
            start: at,
            end: at + found.len().max(1) - 1,
        })
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(k)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Result<String, QueryError> {
        match self.peek().cloned() {
            Some(Tok::Ident(s)) => {
                self.i += 1;
                Ok(s)
            }
            _ => self.fail("expected a field name"),
        }
    }

    fn idents(&mut self) -> Result<Vec<String>, QueryError> {
        let mut out = vec![self.ident()?];
        while self.sym(",") {
            out.push(self.ident()?);
        }
        Ok(out)
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let name = match self.peek() {
            Some(Tok::Ident(s)) => s.to_ascii_lowercase(),
            _ => return self.fail("expected a command"),
        };
        self.i += 1;
        match name.as_str() {
            "fields" => Ok(Command::Fields(self.idents()?)),
            "display" => Ok(Command::Display(self.idents()?)),
            "filter" => Ok(Command::Filter(self.or()?)),
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let f = self.ident()?;
                    let desc = if self.keyword("desc") {
                        true
                    } else {
                        self.keyword("asc");
                        false
                    };
                    keys.push((f, desc));
                    if !self.sym(",") {
                        break;
                    }
                }
                Ok(Command::Sort(keys))
            }
            "limit" => match self.peek() {
                Some(Tok::Num(n)) if *n >= 1.0 && n.fract() == 0.0 && *n <= 10_000.0 => {
                    let n = *n as usize;
                    self.i += 1;
                    Ok(Command::Limit(n))
                }
                _ => self.fail("limit takes a number from 1 to 10000"),
            },
            "stats" => {
                let mut aggs = Vec::new();
                loop {
                    let func = self.ident()?.to_ascii_lowercase();
                    if !["count", "sum", "avg", "min", "max"].contains(&func.as_str()) || !self.sym("(") {
                        self.i -= 1;
                        return self.fail("expected an aggregation function");
                    }
                    let field = if self.sym("*") || matches!(self.peek(), Some(Tok::Sym(")"))) {
                        None
                    } else {
                        Some(self.ident()?)
                    };
                    if !self.sym(")") {
                        return self.fail("expected )");
                    }
                    let default =
                        format!("{func}({})", field.as_deref().unwrap_or(if func == "count" { "*" } else { "" }));
                    let name = if self.keyword("as") { self.ident()? } else { default };
                    if func != "count" && field.is_none() {
                        return self.fail("expected a field");
                    }
                    aggs.push(Agg { func, field, name });
                    if !self.sym(",") {
                        break;
                    }
                }
                let by = if self.keyword("by") { self.idents()? } else { Vec::new() };
                Ok(Command::Stats(aggs, by))
            }
            _ => {
                self.i -= 1;
                self.fail("expected a command")
            }
        }
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.and()?;
        while self.keyword("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut e = self.not()?;
        while self.keyword("and") {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, QueryError> {
        let left = self.operand()?;
        let negated = self.keyword("not");
        let e = if self.keyword("like") || self.sym("=~") {
            let like = match self.peek().cloned() {
                Some(Tok::Regex(r)) => Like::Regex(Regex::new(&r).map_err(|e| QueryError {
                    message: format!("invalid regex: {e}"),
                    start: self.at(),
                    end: self.at(),
                })?),
                Some(Tok::Str(s)) => Like::Text(s),
                _ => return self.fail("expected a regex or string"),
            };
            self.i += 1;
            Expr::Like(Box::new(left), like)
        } else if self.keyword("in") {
            if !self.sym("[") {
                return self.fail("expected [");
            }
            let mut values = Vec::new();
            loop {
                match self.peek().cloned() {
                    Some(Tok::Str(s)) => values.push(Val::Str(s)),
                    Some(Tok::Num(n)) => values.push(Val::Num(n)),
                    _ => return self.fail("expected a value"),
                }
                self.i += 1;
                if !self.sym(",") {
                    break;
                }
            }
            if !self.sym("]") {
                return self.fail("expected ]");
            }
            Expr::In(Box::new(left), values)
        } else if negated {
            return self.fail("expected like or in");
        } else {
            let op = ["=", "!=", "<", "<=", ">", ">="].into_iter().find(|op| self.sym(op));
            match op {
                Some(op) => Expr::Cmp(op, Box::new(left), Box::new(self.operand()?)),
                None => return Ok(left),
            }
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    fn operand(&mut self) -> Result<Expr, QueryError> {
        match self.peek().cloned() {
            Some(Tok::Sym("(")) => {
                self.i += 1;
                let e = self.or()?;
                if !self.sym(")") {
                    return self.fail("expected )");
                }
                Ok(e)
            }
            Some(Tok::Sym("-")) => {
                self.i += 1;
                match self.peek().cloned() {
                    Some(Tok::Num(n)) => {
                        self.i += 1;
                        Ok(Expr::Lit(Val::Num(-n)))
                    }
                    _ => self.fail("expected a number"),
                }
            }
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(Expr::Lit(Val::Str(s)))
            }
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(Expr::Lit(Val::Num(n)))
            }
            Some(Tok::Ident(s)) => {
                self.i += 1;
                if s.eq_ignore_ascii_case("ispresent") && self.sym("(") {
                    let f = self.ident()?;
                    if !self.sym(")") {
                        return self.fail("expected )");
                    }
                    return Ok(Expr::IsPresent(f));
                }
                Ok(Expr::Field(s))
            }
            _ => self.fail("expected a field or value"),
        }
    }
}

impl Query {
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let toks = lex(text)?;
        let mut p = Parser { toks, i: 0, len: text.len() };
        let mut commands = Vec::new();
        loop {
            commands.push(p.command()?);
            if p.peek().is_none() {
                break;
            }
            if !p.sym("|") {
                return p.fail("expected |");
            }
        }
        Ok(Query { commands })
    }

    /// Runs the query over `records` (in time order, newest first); returns the result rows as
    /// `(field, value)` lists, and how many records matched the filters.
    pub fn run(&self, records: Vec<Record>) -> (Vec<Vec<(String, String)>>, usize) {
        let mut rows = records;
        let mut shown: Option<Vec<String>> = None;
        let mut limit = None;
        let mut matched = None;
        for c in &self.commands {
            match c {
                Command::Fields(f) => {
                    let mut all = shown.unwrap_or_default();
                    all.extend(f.iter().filter(|x| !x.starts_with("@ptr")).cloned());
                    shown = Some(all);
                }
                Command::Display(f) => shown = Some(f.clone()),
                Command::Filter(e) => rows.retain(|r| eval(e, r).truthy()),
                Command::Sort(keys) => rows.sort_by(|a, b| {
                    keys.iter()
                        .map(|(k, desc)| {
                            let o = compare(a.get(k).unwrap_or(&Val::Null), b.get(k).unwrap_or(&Val::Null));
                            if *desc { o.reverse() } else { o }
                        })
                        .find(|o| *o != Ordering::Equal)
                        .unwrap_or(Ordering::Equal)
                }),
                Command::Limit(n) => limit = Some(*n),
                Command::Stats(aggs, by) => {
                    matched.get_or_insert(rows.len());
                    rows = stats(&rows, aggs, by);
                    let mut names: Vec<String> = by.clone();
                    names.extend(aggs.iter().map(|a| a.name.clone()));
                    shown = Some(names);
                }
            }
        }
        let matched = matched.unwrap_or(rows.len());
        if let Some(n) = limit {
            rows.truncate(n);
        }
        let out = rows
            .into_iter()
            .map(|r| {
                let mut fields: Vec<(String, String)> = match &shown {
                    Some(names) => {
                        names.iter().filter_map(|n| r.get(n).and_then(Val::render).map(|v| (n.clone(), v))).collect()
                    }
                    // Without fields, display or stats AWS answers the event's own fields.
                    None => ["@timestamp", "@message", "@logStream", "@log"]
                        .iter()
                        .filter_map(|k| r.get(*k).and_then(Val::render).map(|v| (k.to_string(), v)))
                        .collect(),
                };
                if let Some(ptr) = r.get("@ptr").and_then(Val::render) {
                    fields.retain(|(k, _)| k != "@ptr");
                    fields.push(("@ptr".into(), ptr));
                }
                fields
            })
            .collect();
        (out, matched)
    }
}

fn compare(a: &Val, b: &Val) -> Ordering {
    // Non-numbers before numbers (ascending), numbers by value, the rest by text.
    match (a.num(), b.num()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.render().cmp(&b.render()),
    }
}

fn eval(e: &Expr, r: &Record) -> Val {
    match e {
        Expr::Field(f) => r.get(f).cloned().unwrap_or(Val::Null),
        Expr::Lit(v) => v.clone(),
        Expr::Not(x) => Val::Bool(!eval(x, r).truthy()),
        Expr::And(a, b) => Val::Bool(eval(a, r).truthy() && eval(b, r).truthy()),
        Expr::Or(a, b) => Val::Bool(eval(a, r).truthy() || eval(b, r).truthy()),
        Expr::IsPresent(f) => Val::Bool(r.get(f).is_some_and(|v| *v != Val::Null)),
        Expr::Like(x, like) => {
            let Some(text) = eval(x, r).render() else { return Val::Bool(false) };
            Val::Bool(match like {
                Like::Regex(re) => re.is_match(&text),
                Like::Text(t) => text.contains(t.as_str()),
            })
        }
        Expr::In(x, values) => {
            let v = eval(x, r);
            Val::Bool(v != Val::Null && values.iter().any(|w| compare(&v, w) == Ordering::Equal))
        }
        Expr::Cmp(op, a, b) => {
            let (a, b) = (eval(a, r), eval(b, r));
            if a == Val::Null || b == Val::Null {
                return Val::Bool(false);
            }
            let o = match (a.num(), b.num()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.render().cmp(&b.render()),
            };
            Val::Bool(match *op {
                "=" => o == Ordering::Equal,
                "!=" => o != Ordering::Equal,
                "<" => o == Ordering::Less,
                "<=" => o != Ordering::Greater,
                ">" => o == Ordering::Greater,
                _ => o != Ordering::Less,
            })
        }
    }
}

fn stats(rows: &[Record], aggs: &[Agg], by: &[String]) -> Vec<Record> {
    let mut groups: BTreeMap<Vec<Option<String>>, Vec<&Record>> = BTreeMap::new();
    for r in rows {
        let key = by.iter().map(|f| r.get(f).and_then(Val::render)).collect();
        groups.entry(key).or_default().push(r);
    }
    if by.is_empty() && groups.is_empty() {
        groups.insert(Vec::new(), Vec::new());
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let mut out = Record::new();
            for (f, v) in by.iter().zip(key) {
                if let Some(v) = v {
                    out.insert(f.clone(), Val::Str(v));
                }
            }
            for a in aggs {
                let values: Vec<f64> = members
                    .iter()
                    .filter_map(|r| a.field.as_ref().map_or(Some(1.0), |f| r.get(f).and_then(Val::num)))
                    .collect();
                let v = match a.func.as_str() {
                    "count" => match &a.field {
                        None => Val::Num(members.len() as f64),
                        Some(f) => Val::Num(members.iter().filter(|r| r.get(f).is_some_and(|v| *v != Val::Null)).count() as f64),
                    },
                    "sum" => Val::Num(values.iter().sum()),
                    "avg" if !values.is_empty() => Val::Num(values.iter().sum::<f64>() / values.len() as f64),
                    "min" => values.iter().copied().reduce(f64::min).map_or(Val::Null, Val::Num),
                    "max" => values.iter().copied().reduce(f64::max).map_or(Val::Null, Val::Num),
                    _ => Val::Null,
                };
                out.insert(a.name.clone(), v);
            }
            out
        })
        .collect()
}

/// Adds a JSON message's members to `record` by dotted path (arrays by index).
pub fn add_json_fields(record: &mut Record, message: &str) {
    let trimmed = message.trim_start();
    if !trimmed.starts_with('{') {
        return;
    }
    let Ok(serde_json::Value::Object(doc)) = serde_json::from_str::<serde_json::Value>(trimmed) else { return };
    fn walk(record: &mut Record, prefix: &str, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(record, &path, v);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(record, &format!("{prefix}.{i}"), v);
                }
            }
            serde_json::Value::Null => {}
            serde_json::Value::Bool(b) => {
                record.insert(prefix.to_owned(), Val::Bool(*b));
            }
            serde_json::Value::Number(n) => {
                record.insert(prefix.to_owned(), Val::Num(n.as_f64().unwrap_or(0.0)));
            }
            serde_json::Value::String(s) => {
                record.insert(prefix.to_owned(), Val::Str(s.clone()));
            }
        }
    }
    walk(record, "", &serde_json::Value::Object(doc));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(ts: i64, msg: &str) -> Record {
        let mut r = Record::new();
        r.insert("@timestamp".into(), Val::Num(ts as f64));
        r.insert("@message".into(), Val::Str(msg.into()));
        r.insert("@ptr".into(), Val::Str(format!("p{ts}")));
        add_json_fields(&mut r, msg);
        r
    }

    #[test]
    fn filters_sorts_limits_and_counts() {
        let records = vec![
            rec(3, r#"{"level":"ERROR","ms":30}"#),
            rec(2, r#"{"level":"INFO","ms":10}"#),
            rec(1, r#"{"level":"ERROR","ms":20}"#),
        ];
        let q = Query::parse("fields @message | filter level = 'ERROR' | sort ms asc | limit 1").unwrap();
        let (rows, matched) = q.run(records.clone_records());
        assert_eq!(matched, 2);
        assert_eq!(
            rows,
            vec![vec![("@message".into(), r#"{"level":"ERROR","ms":20}"#.into()), ("@ptr".into(), "p1".into())]]
        );
        let q = Query::parse("stats count(*) as n, avg(ms) by level | sort level").unwrap();
        let (rows, _) = q.run(records.clone_records());
        assert_eq!(
            rows[0],
            vec![("level".into(), "ERROR".into()), ("n".into(), "2".into()), ("avg(ms)".into(), "25".into())]
        );
        let q = Query::parse("filter @message like /INFO/ or ms > 25 | display @timestamp").unwrap();
        let (rows, _) = q.run(records.clone_records());
        assert_eq!(rows.len(), 2);
        let q = Query::parse("filter level not in ['ERROR'] and ispresent(ms)").unwrap();
        assert_eq!(q.run(records.clone_records()).0.len(), 1);
        assert!(Query::parse("test").is_err());
        assert!(Query::parse("fields @message |").is_err());
        assert!(Query::parse("limit 0").is_err());
    }

    trait CloneRecords {
        fn clone_records(&self) -> Vec<Record>;
    }

    impl CloneRecords for Vec<Record> {
        fn clone_records(&self) -> Vec<Record> {
            self.clone()
        }
    }
}
