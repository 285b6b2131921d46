//! CloudWatch Logs filter patterns (FilterLogEvents):
//!
//! - terms and quoted phrases, all required: `ERROR "request failed"`; `?` marks alternatives
//!   (`?ERROR ?WARN`), `-` exclusions (`ERROR -timeout`), `%…%` a regular expression;
//! - JSON patterns: `{ $.level = "ERROR" && ($.latency > 100 || $.user.id = "u-*") }`, with
//!   `IS TRUE|FALSE|NULL`, `NOT EXISTS`, array indexes and `%regex%` values;
//! - space-delimited patterns: `[ip, user, ..., status = 4*, size > 1000]`.
//!
//! A pattern is parsed once per request and then matched against every candidate event.

use regex::Regex;
use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// The empty pattern: every event matches.
    All,
    Terms(Terms),
    Json(Expr),
    Delimited(Vec<Column>),
}

/// A term of an unstructured pattern.
#[derive(Debug, Clone)]
pub enum Term {
    Text(String),
    Regex(Regex),
}

impl Term {
    fn found_in(&self, message: &str) -> bool {
        match self {
            Term::Text(t) => message.contains(t.as_str()),
            Term::Regex(r) => r.is_match(message),
        }
    }
}

/// Term patterns: every `required` term, none of `excluded`, and one of `any` when it is not empty.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub required: Vec<Term>,
    pub any: Vec<Term>,
    pub excluded: Vec<Term>,
}

/// A JSON pattern's expression; `S` selects the value compared (a JSON path or a column name).
#[derive(Debug, Clone)]
pub enum Expr<S = Selector> {
    And(Box<Expr<S>>, Box<Expr<S>>),
    Or(Box<Expr<S>>, Box<Expr<S>>),
    Compare(S, Op, Literal),
    Is(S, IsWhat),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Field(String),
    Index(usize),
}

pub type Selector = Vec<Step>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub enum Literal {
    Number(f64),
    /// A string, possibly with `*` wildcards.
    Text(String),
    Regex(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IsWhat {
    True,
    False,
    Null,
    NotExists,
}

/// One column of a space-delimited pattern.
#[derive(Debug, Clone)]
pub enum Column {
    /// `...`: any number of fields.
    Any,
    /// A named field, with conditions on its value when the pattern gives some.
    Field(String, Option<Expr<String>>),
}

/// Why a pattern was refused (the caller turns it into InvalidParameterException).
#[derive(Debug, PartialEq)]
pub struct PatternError(pub String);

fn invalid() -> PatternError {
    PatternError("Invalid filter pattern".into())
}

fn regex(body: &str) -> Result<Regex, PatternError> {
    Regex::new(body).map_err(|_| PatternError(format!("Invalid regular expression in filter pattern: %{body}%")))
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(body) = text.strip_prefix('{') {
            let body = body.strip_suffix('}').ok_or_else(invalid)?;
            let mut p = Parser { s: body.as_bytes(), i: 0 };
            let expr = p.expr(&mut |p| p.selector())?;
            p.end()?;
            return Ok(Pattern::Json(expr));
        }
        if let Some(body) = text.strip_prefix('[') {
            let body = body.strip_suffix(']').ok_or_else(invalid)?;
            // `[]` names no column: AWS takes it for "every event" (a common subscription filter).
            if body.trim().is_empty() {
                return Ok(Pattern::All);
            }
            return parse_columns(body).map(Pattern::Delimited);
        }
        parse_terms(text).map(Pattern::Terms)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms(t) => {
                t.required.iter().all(|w| w.found_in(message))
                    && !t.excluded.iter().any(|w| w.found_in(message))
                    && (t.any.is_empty() || t.any.iter().any(|w| w.found_in(message)))
            }
            Pattern::Json(expr) => {
                let trimmed = message.trim_start();
                if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
                    return false;
                }
                match serde_json::from_str::<Value>(trimmed) {
                    Ok(doc) => eval(expr, &|sel: &Selector| select(&doc, sel).map(Cell::Json)),
                    Err(_) => false,
                }
            }
            Pattern::Delimited(columns) => match_columns(columns, &split_fields(message)),
        }
    }
}

fn parse_terms(text: &str) -> Result<Terms, PatternError> {
    let mut terms = Terms::default();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut prefix = None;
        if c == '?' || c == '-' {
            prefix = Some(c);
            chars.next();
        }
        let term = match chars.peek() {
            Some(&(_, quote @ ('"' | '%'))) => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err(invalid()),
                        Some((_, c)) if c == quote => break,
                        Some((_, '\\')) if quote == '"' => match chars.next() {
                            Some((_, c)) => word.push(c),
                            None => return Err(invalid()),
                        },
                        Some((_, c)) => word.push(c),
                    }
                }
                if quote == '%' { Term::Regex(regex(&word)?) } else { Term::Text(word) }
            }
            _ => {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                let from = start + prefix.map_or(0, |_| 1);
                Term::Text(text[from..end].to_string())
            }
        };
        if matches!(&term, Term::Text(t) if t.is_empty()) {
            // A lone `-` or `?` is a literal term.
            if let Some(p) = prefix {
                terms.required.push(Term::Text(p.to_string()));
            }
            continue;
        }
        match prefix {
            Some('?') => terms.any.push(term),
            Some(_) => terms.excluded.push(term),
            None => terms.required.push(term),
        }
    }
    Ok(terms)
}

/// The columns of `[a, b = 1, ..., c]`.
fn parse_columns(body: &str) -> Result<Vec<Column>, PatternError> {
    let mut columns = Vec::new();
    for part in split_top_level_commas(body) {
        let part = part.trim();
        if part == "..." {
            columns.push(Column::Any);
            continue;
        }
        let name_len = part.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(part.len());
        if name_len == 0 {
            return Err(invalid());
        }
        let name = &part[..name_len];
        if part[name_len..].trim().is_empty() {
            columns.push(Column::Field(name.to_string(), None));
            continue;
        }
        let mut p = Parser { s: part.as_bytes(), i: 0 };
        let expr = p.expr(&mut |p| p.column_name())?;
        p.end()?;
        columns.push(Column::Field(name.to_string(), Some(expr)));
    }
    if columns.is_empty() {
        return Err(invalid());
    }
    Ok(columns)
}

/// Splits on commas outside quotes and `%…%`.
fn split_top_level_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_quote, mut in_regex) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            '"' if !in_regex => in_quote = !in_quote,
            '%' if !in_quote => in_regex = !in_regex,
            ',' if !in_quote && !in_regex => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The fields of a space-delimited message: runs of non-space characters, with `"…"` and `[…]`
/// taken whole (without their delimiters).
fn split_fields(message: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let close = match bytes[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close
            && let Some(len) = bytes[i + 1..].iter().position(|&b| b == close)
        {
            fields.push(&message[i + 1..i + 1 + len]);
            i += len + 2;
            continue;
        }
        let len = bytes[i..].iter().position(|b| b.is_ascii_whitespace()).unwrap_or(bytes.len() - i);
        fields.push(&message[i..i + len]);
        i += len;
    }
    fields
}

/// The fields a space-delimited pattern names, by `$name`, when `message` matches it (what
/// TestMetricFilter answers as extracted values); empty for other patterns.
pub fn extracted_values(pattern: &Pattern, message: &str) -> Vec<(String, String)> {
    let Pattern::Delimited(columns) = pattern else { return Vec::new() };
    let fields = split_fields(message);
    let mut out = Vec::new();
    if capture_columns(columns, &fields, &mut out) { out } else { Vec::new() }
}

/// [`match_columns`] that records the value of each named column of the match it finds.
fn capture_columns(columns: &[Column], fields: &[&str], out: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = columns.split_first() else { return fields.is_empty() };
    match first {
        Column::Any => (0..=fields.len()).any(|skip| capture_columns(rest, &fields[skip..], out)),
        Column::Field(name, _) => {
            if !match_columns(std::slice::from_ref(first), &fields[..fields.len().min(1)]) {
                return false;
            }
            let mark = out.len();
            out.push((format!("${name}"), fields[0].to_string()));
            if capture_columns(rest, &fields[1..], out) {
                true
            } else {
                out.truncate(mark);
                false
            }
        }
    }
}

/// Matches columns to fields, `...` absorbing any number of them. A column's condition may
/// only name that column.
fn match_columns(columns: &[Column], fields: &[&str]) -> bool {
    let Some((first, rest)) = columns.split_first() else { return fields.is_empty() };
    match first {
        Column::Any => (0..=fields.len()).any(|skip| match_columns(rest, &fields[skip..])),
        Column::Field(name, cond) => {
            let Some((&value, more)) = fields.split_first() else { return false };
            let holds = cond
                .as_ref()
                .is_none_or(|expr| eval(expr, &|column: &String| (column == name).then_some(Cell::Text(value))));
            holds && match_columns(rest, more)
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn end(&mut self) -> Result<(), PatternError> {
        self.skip_ws();
        if self.i == self.s.len() { Ok(()) } else { Err(invalid()) }
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_ws();
        if self.s[self.i..].starts_with(token.as_bytes()) {
            self.i += token.len();
            true
        } else {
            false
        }
    }

    /// A keyword (`IS`, `TRUE`…) followed by a non-word character.
    fn eat_keyword(&mut self, word: &str) -> bool {
        self.skip_ws();
        let rest = &self.s[self.i..];
        if rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && rest.get(word.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
        {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn expr<S>(&mut self, sel: &mut impl FnMut(&mut Self) -> Result<S, PatternError>) -> Result<Expr<S>, PatternError> {
        let mut left = self.and(sel)?;
        while self.eat("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and(sel)?));
        }
        Ok(left)
    }

    fn and<S>(&mut self, sel: &mut impl FnMut(&mut Self) -> Result<S, PatternError>) -> Result<Expr<S>, PatternError> {
        let mut left = self.unary(sel)?;
        while self.eat("&&") {
            left = Expr::And(Box::new(left), Box::new(self.unary(sel)?));
        }
        Ok(left)
    }

    fn unary<S>(
        &mut self,
        sel: &mut impl FnMut(&mut Self) -> Result<S, PatternError>,
    ) -> Result<Expr<S>, PatternError> {
        if self.eat("(") {
            let e = self.expr(sel)?;
            return if self.eat(")") { Ok(e) } else { Err(invalid()) };
        }
        self.skip_ws();
        let selector = sel(self)?;
        if self.eat_keyword("IS") {
            let what = if self.eat_keyword("TRUE") {
                IsWhat::True
            } else if self.eat_keyword("FALSE") {
                IsWhat::False
            } else if self.eat_keyword("NULL") {
                IsWhat::Null
            } else {
                return Err(invalid());
            };
            return Ok(Expr::Is(selector, what));
        }
        if self.eat_keyword("NOT") {
            return if self.eat_keyword("EXISTS") { Ok(Expr::Is(selector, IsWhat::NotExists)) } else { Err(invalid()) };
        }
        let op = if self.eat("!=") {
            Op::Ne
        } else if self.eat("<=") {
            Op::Le
        } else if self.eat(">=") {
            Op::Ge
        } else if self.eat("=") {
            Op::Eq
        } else if self.eat("<") {
            Op::Lt
        } else if self.eat(">") {
            Op::Gt
        } else {
            return Err(invalid());
        };
        let literal = self.literal()?;
        if !matches!(literal, Literal::Number(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(invalid());
        }
        Ok(Expr::Compare(selector, op, literal))
    }

    /// `$.a.b[0]`.
    fn selector(&mut self) -> Result<Selector, PatternError> {
        if self.s.get(self.i) != Some(&b'$') {
            return Err(invalid());
        }
        self.i += 1;
        let mut steps = Vec::new();
        loop {
            match self.s.get(self.i) {
                Some(b'.') => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < self.s.len()
                        && (self.s[self.i].is_ascii_alphanumeric()
                            || matches!(self.s[self.i], b'_' | b'-' | b'@' | b'*'))
                    {
                        self.i += 1;
                    }
                    if start == self.i {
                        return Err(invalid());
                    }
                    steps.push(Step::Field(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()));
                }
                Some(b'[') => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                        self.i += 1;
                    }
                    let n = std::str::from_utf8(&self.s[start..self.i]).ok().and_then(|n| n.parse().ok());
                    if self.s.get(self.i) != Some(&b']') {
                        return Err(invalid());
                    }
                    self.i += 1;
                    steps.push(Step::Index(n.ok_or_else(invalid)?));
                }
                _ => break,
            }
        }
        if steps.is_empty() { Err(invalid()) } else { Ok(steps) }
    }

    /// A column name of a space-delimited condition.
    fn column_name(&mut self) -> Result<String, PatternError> {
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        if start == self.i {
            return Err(invalid());
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    fn delimited(&mut self, close: u8) -> Result<String, PatternError> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                c if c == close => return Ok(String::from_utf8_lossy(&out).into_owned()),
                b'\\' if close == b'"' => {
                    if let Some(&next) = self.s.get(self.i) {
                        out.push(next);
                        self.i += 1;
                    }
                }
                c => out.push(c),
            }
        }
        Err(invalid())
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'"') => return Ok(Literal::Text(self.delimited(b'"')?)),
            Some(b'%') => return Ok(Literal::Regex(regex(&self.delimited(b'%')?)?)),
            _ => {}
        }
        let start = self.i;
        while self.i < self.s.len()
            && !self.s[self.i].is_ascii_whitespace()
            && !matches!(self.s[self.i], b')' | b'&' | b'|')
        {
            self.i += 1;
        }
        if start == self.i {
            return Err(invalid());
        }
        let word = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        Ok(match word.parse::<f64>() {
            Ok(n) if n.is_finite() => Literal::Number(n),
            _ => Literal::Text(word),
        })
    }
}

fn select<'v>(doc: &'v Value, selector: &Selector) -> Option<&'v Value> {
    selector.iter().try_fold(doc, |v, step| match step {
        Step::Field(name) => v.get(name.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

/// A value an expression compares: a JSON value or a space-delimited field.
enum Cell<'v> {
    Json(&'v Value),
    Text(&'v str),
}

fn eval<'v, S>(expr: &Expr<S>, lookup: &dyn Fn(&S) -> Option<Cell<'v>>) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, lookup) && eval(b, lookup),
        Expr::Or(a, b) => eval(a, lookup) || eval(b, lookup),
        Expr::Is(sel, what) => {
            let v = lookup(sel);
            match (what, v) {
                (IsWhat::NotExists, v) => v.is_none(),
                (IsWhat::True, Some(Cell::Json(Value::Bool(true)))) => true,
                (IsWhat::False, Some(Cell::Json(Value::Bool(false)))) => true,
                (IsWhat::Null, Some(Cell::Json(Value::Null))) => true,
                _ => false,
            }
        }
        Expr::Compare(sel, op, literal) => {
            let Some(cell) = lookup(sel) else { return false };
            match literal {
                Literal::Number(n) => {
                    let x = match cell {
                        Cell::Json(Value::Number(x)) => x.as_f64(),
                        Cell::Text(t) => t.parse::<f64>().ok(),
                        _ => None,
                    };
                    let Some(x) = x else { return false };
                    match op {
                        Op::Eq => x == *n,
                        Op::Ne => x != *n,
                        Op::Lt => x < *n,
                        Op::Le => x <= *n,
                        Op::Gt => x > *n,
                        Op::Ge => x >= *n,
                    }
                }
                Literal::Text(_) | Literal::Regex(_) => {
                    let owned;
                    let text: &str = match cell {
                        Cell::Json(Value::String(s)) => s,
                        Cell::Json(v @ (Value::Number(_) | Value::Bool(_))) => {
                            owned = v.to_string();
                            &owned
                        }
                        Cell::Text(t) => t,
                        _ => return false,
                    };
                    let m = match literal {
                        Literal::Regex(r) => r.is_match(text),
                        Literal::Text(pattern) => wildcard_match(pattern, text),
                        Literal::Number(_) => false,
                    };
                    if *op == Op::Eq { m } else { !m }
                }
            }
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn delimited_patterns_extract_their_named_fields() {
        let p = Pattern::parse("[ip, user, ..., status = 4*, size]").unwrap();
        let got = extracted_values(&p, "127.0.0.1 frank x y 404 2326");
        let want: Vec<(String, String)> =
            [("$ip", "127.0.0.1"), ("$user", "frank"), ("$status", "404"), ("$size", "2326")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(got, want);
        assert!(extracted_values(&p, "127.0.0.1 frank 200 1").is_empty());
        assert!(extracted_values(&Pattern::parse("ERROR").unwrap(), "ERROR").is_empty());
        assert!(Pattern::parse("[]").unwrap().matches("anything at all"));
        assert!(Pattern::parse("[ ]").unwrap().matches(""));
    }

    #[test]
    fn terms_phrases_alternatives_and_exclusions() {
        assert!(m("", "anything"));
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"));
        assert!(m("ERROR timeout", "ERROR: timeout after 3s"));
        assert!(!m("ERROR timeout", "ERROR: refused"));
        assert!(m("\"request failed\"", "the request failed badly"));
        assert!(!m("\"request failed\"", "request has failed"));
        assert!(m("?ERROR ?WARN", "WARN low disk"));
        assert!(!m("?ERROR ?WARN", "INFO ok"));
        assert!(m("ERROR -timeout", "ERROR refused"));
        assert!(!m("ERROR -timeout", "ERROR timeout"));
        assert!(!m("-\"not me\"", "please not me"));
        assert!(Pattern::parse("\"open").is_err());
    }

    #[test]
    fn regex_terms() {
        assert!(m("%ERR(OR)?|WARN%", "WARN disk"));
        assert!(m("%code [45][0-9]{2}%", "GET / code 404"));
        assert!(!m("%code [45][0-9]{2}%", "GET / code 200"));
        assert!(m("GET -%code 2..%", "GET / code 500"));
        assert!(Pattern::parse("%(unclosed%").is_err());
        assert!(Pattern::parse("%open").is_err());
    }

    #[test]
    fn json_patterns() {
        let line = r#"{"level":"ERROR","latency":250,"user":{"id":"u-17","admin":true},"tags":["a","b"],"gone":null}"#;
        assert!(m(r#"{ $.level = "ERROR" }"#, line));
        assert!(m("{ $.level = ERROR }", line));
        assert!(!m(r#"{ $.level = "INFO" }"#, line));
        assert!(m(r#"{ $.level != "INFO" }"#, line));
        assert!(m("{ $.latency > 100 }", line));
        assert!(!m("{ $.latency <= 100 }", line));
        assert!(m("{ $.latency = 250 }", line));
        assert!(m(r#"{ $.user.id = "u-*" }"#, line));
        assert!(m("{ $.user.id = %^u-[0-9]+$% }", line));
        assert!(m("{ $.user.admin IS TRUE }", line));
        assert!(!m("{ $.user.admin IS FALSE }", line));
        assert!(m("{ $.gone IS NULL }", line));
        assert!(m("{ $.missing NOT EXISTS }", line));
        assert!(m(r#"{ $.tags[1] = "b" }"#, line));
        assert!(m(r#"{ ($.level = "INFO" || $.latency > 200) && $.user.admin IS TRUE }"#, line));
        assert!(!m(r#"{ $.level = "ERROR" && $.latency < 10 }"#, line));
        assert!(!m(r#"{ $.level = "ERROR" }"#, "ERROR not json"));
        for bad in ["{ level = 1 }", "{ $.a = }", "{ $.a = 1", "{ $.a ~ 1 }", "{ $.a > x }", "{ $.a = \"x }"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn space_delimited_patterns() {
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
        assert!(m("[ip, id, user, timestamp, request, status, size]", line));
        assert!(!m("[ip, id, user, timestamp, request, status]", line));
        assert!(m("[ip, id, user, timestamp, request, status = 404, size]", line));
        assert!(m("[ip, id, user, timestamp, request, status = 4*, size > 1000]", line));
        assert!(!m("[ip, id, user, timestamp, request, status = 200, size]", line));
        assert!(m(r#"[..., request = "*html*", status, size]"#, line));
        assert!(m("[ip = 127.0.0.1, ...]", line));
        assert!(m("[..., status != 200 && status != 500, size]", line));
        assert!(m("[ip, ..., size < 2000]", line));
        assert!(!m("[ip, ..., size < 1000]", line));
        assert!(m("[..., user = %^fr%, timestamp, request, status, size]", line));
        assert!(Pattern::parse("[a, = 1]").is_err());
        assert!(Pattern::parse("[a, b =]").is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("ab", "ab"));
        assert!(!wildcard_match("ab", "abc"));
        assert!(wildcard_match("*b*", "abc"));
        assert!(!wildcard_match("a*d", "abc"));
    }
}
