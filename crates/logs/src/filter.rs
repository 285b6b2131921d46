//! CloudWatch Logs filter patterns (FilterLogEvents): terms, quoted phrases, `?` alternatives,
//! `-` exclusions, and JSON patterns such as `{ $.level = "ERROR" && $.latency > 100 }`.
//!
//! A pattern is parsed once per request and then matched against every candidate event.

use serde_json::Value;

/// A parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// The empty pattern: every event matches.
    All,
    Terms(Terms),
    Json(Expr),
}

/// Term patterns: every `required` term, none of `excluded`, and one of `any` when it is not empty.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Terms {
    pub required: Vec<String>,
    pub any: Vec<String>,
    pub excluded: Vec<String>,
}

/// A JSON pattern's expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Selector, Op, Literal),
    Is(Selector, IsWhat),
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

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    /// A string, possibly with `*` wildcards.
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IsWhat {
    True,
    False,
    Null,
    NotExists,
}

/// Why a pattern was refused (the caller turns it into InvalidParameterException).
#[derive(Debug, PartialEq)]
pub struct PatternError(pub String);

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Pattern::All);
        }
        if let Some(body) = text.strip_prefix('{') {
            let body = body.strip_suffix('}').ok_or_else(invalid)?;
            let mut p = JsonParser { s: body.as_bytes(), i: 0 };
            let expr = p.expr()?;
            p.skip_ws();
            if p.i != p.s.len() {
                return Err(invalid());
            }
            return Ok(Pattern::Json(expr));
        }
        if text.starts_with('[') {
            return Err(PatternError("Space-delimited filter patterns are not supported by RustStack".into()));
        }
        parse_terms(text).map(Pattern::Terms)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Terms(t) => {
                t.required.iter().all(|w| message.contains(w.as_str()))
                    && !t.excluded.iter().any(|w| message.contains(w.as_str()))
                    && (t.any.is_empty() || t.any.iter().any(|w| message.contains(w.as_str())))
            }
            Pattern::Json(expr) => {
                let trimmed = message.trim_start();
                if !trimmed.starts_with('{') && !trimmed.starts_with('[') {
                    return false;
                }
                match serde_json::from_str::<Value>(trimmed) {
                    Ok(doc) => eval(expr, &doc),
                    Err(_) => false,
                }
            }
        }
    }
}

fn invalid() -> PatternError {
    PatternError("Invalid filter pattern".into())
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
        let word = match chars.peek() {
            Some(&(_, '"')) => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        None => return Err(invalid()),
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c)) => word.push(c),
                            None => return Err(invalid()),
                        },
                        Some((_, c)) => word.push(c),
                    }
                }
                word
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
                text[from..end].to_string()
            }
        };
        if word.is_empty() {
            // A lone `-` or `?` is a literal term.
            if let Some(p) = prefix {
                terms.required.push(p.to_string());
            }
            continue;
        }
        match prefix {
            Some('?') => terms.any.push(word),
            Some(_) => terms.excluded.push(word),
            None => terms.required.push(word),
        }
    }
    Ok(terms)
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
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

    fn expr(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, PatternError> {
        if self.eat("(") {
            let e = self.expr()?;
            return if self.eat(")") { Ok(e) } else { Err(invalid()) };
        }
        let selector = self.selector()?;
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
        if matches!(literal, Literal::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(invalid());
        }
        Ok(Expr::Compare(selector, op, literal))
    }

    fn selector(&mut self) -> Result<Selector, PatternError> {
        self.skip_ws();
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

    fn literal(&mut self) -> Result<Literal, PatternError> {
        self.skip_ws();
        if self.s.get(self.i) == Some(&b'"') {
            self.i += 1;
            let mut out = Vec::new();
            while let Some(&c) = self.s.get(self.i) {
                self.i += 1;
                match c {
                    b'"' => return Ok(Literal::Text(String::from_utf8_lossy(&out).into_owned())),
                    b'\\' => {
                        if let Some(&next) = self.s.get(self.i) {
                            out.push(next);
                            self.i += 1;
                        }
                    }
                    c => out.push(c),
                }
            }
            return Err(invalid());
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

fn eval(expr: &Expr, doc: &Value) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, doc) && eval(b, doc),
        Expr::Or(a, b) => eval(a, doc) || eval(b, doc),
        Expr::Is(sel, what) => {
            let v = select(doc, sel);
            match what {
                IsWhat::True => v == Some(&Value::Bool(true)),
                IsWhat::False => v == Some(&Value::Bool(false)),
                IsWhat::Null => v == Some(&Value::Null),
                IsWhat::NotExists => v.is_none(),
            }
        }
        Expr::Compare(sel, op, literal) => {
            let Some(v) = select(doc, sel) else { return false };
            match literal {
                Literal::Number(n) => {
                    let value = match v {
                        Value::Number(x) => x.as_f64(),
                        _ => None,
                    };
                    let Some(x) = value else { return false };
                    match op {
                        Op::Eq => x == *n,
                        Op::Ne => x != *n,
                        Op::Lt => x < *n,
                        Op::Le => x <= *n,
                        Op::Gt => x > *n,
                        Op::Ge => x >= *n,
                    }
                }
                Literal::Text(pattern) => {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => return false,
                    };
                    let m = wildcard_match(pattern, &text);
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
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("ab", "ab"));
        assert!(!wildcard_match("ab", "abc"));
        assert!(wildcard_match("*b*", "abc"));
        assert!(!wildcard_match("a*d", "abc"));
    }
}
