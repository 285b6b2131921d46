//! The SQL of S3 Select: a lexer and a recursive-descent parser for
//! `SELECT <* | projections> FROM S3Object[path] [[AS] alias] [WHERE cond] [LIMIT n]`.

use ruststack_core::AwsError;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A double-quoted identifier: matched case-sensitively.
    Quoted(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

fn parse_error(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ParseUnexpectedToken", message)
}

fn lex(sql: &str) -> Result<Vec<Tok>, AwsError> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(sql[start..i].to_owned()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'e' || b[i] == b'E') {
                i += 1;
            }
            out.push(Tok::Num(sql[start..i].to_owned()));
        } else if c == b'\'' || c == b'"' {
            let mut s = String::new();
            i += 1;
            loop {
                let Some(ch) = sql[i..].chars().next() else {
                    return Err(parse_error("Unterminated literal in the SQL expression."));
                };
                i += ch.len_utf8();
                if ch as u32 == c as u32 {
                    // A doubled quote stands for itself.
                    if b.get(i) == Some(&c) {
                        s.push(ch);
                        i += 1;
                        continue;
                    }
                    break;
                }
                s.push(ch);
            }
            out.push(if c == b'\'' { Tok::Str(s) } else { Tok::Quoted(s) });
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            let sym = match two {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "<>" => Some("<>"),
                "!=" => Some("!="),
                "||" => Some("||"),
                _ => None,
            };
            if let Some(s) = sym {
                out.push(Tok::Sym(s));
                i += 2;
                continue;
            }
            let one = match c {
                b'*' => "*",
                b',' => ",",
                b'.' => ".",
                b'[' => "[",
                b']' => "]",
                b'(' => "(",
                b')' => ")",
                b'=' => "=",
                b'<' => "<",
                b'>' => ">",
                b'+' => "+",
                b'-' => "-",
                b'/' => "/",
                b'%' => "%",
                _ => return Err(parse_error(format!("Unexpected character '{}' in the SQL expression.", c as char))),
            };
            out.push(Tok::Sym(one));
            i += 1;
        }
    }
    Ok(out)
}

/// One step of a path: `.name`, `[n]` or `[*]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Field(String, bool),
    Index(usize),
    Wildcard,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Missing,
    Bool(bool),
    Num(f64, String),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Lit),
    /// A path from the record (its first step may be the FROM alias).
    Path(Vec<Step>),
    /// `count(*)`.
    CountStar,
    Call(String, Vec<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    /// `e IS [NOT] NULL` / `IS [NOT] MISSING`: (expr, missing_only, negated).
    Is(Box<Expr>, bool, bool),
    Like(Box<Expr>, Box<Expr>, bool),
    Between(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    In(Box<Expr>, Vec<Expr>, bool),
}

impl Expr {
    pub fn is_aggregate(&self) -> bool {
        match self {
            Expr::CountStar => true,
            Expr::Call(name, args) => AGGREGATES.contains(&name.as_str()) || args.iter().any(Expr::is_aggregate),
            Expr::Binary(_, a, b) | Expr::Like(a, b, _) => a.is_aggregate() || b.is_aggregate(),
            Expr::Not(a) | Expr::Neg(a) | Expr::Is(a, _, _) => a.is_aggregate(),
            _ => false,
        }
    }
}

pub const AGGREGATES: [&str; 5] = ["count", "sum", "min", "max", "avg"];

#[derive(Debug, PartialEq)]
pub struct Projection {
    pub expr: Expr,
    pub alias: Option<String>,
}

#[derive(Debug, PartialEq)]
pub struct Query {
    /// `None` for `SELECT *`.
    pub projections: Option<Vec<Projection>>,
    /// The path after `S3Object` in FROM.
    pub from: Vec<Step>,
    pub alias: Option<String>,
    pub filter: Option<Expr>,
    pub limit: Option<u64>,
}

const RESERVED: [&str; 12] =
    ["select", "from", "where", "as", "and", "or", "not", "is", "like", "limit", "between", "in"];

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if let Some(Tok::Ident(s)) = self.peek()
            && s.eq_ignore_ascii_case(kw)
        {
            self.at += 1;
            return true;
        }
        false
    }

    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(t)) if *t == s) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), AwsError> {
        if self.sym(s) { Ok(()) } else { Err(self.unexpected()) }
    }

    fn unexpected(&self) -> AwsError {
        match self.peek() {
            Some(t) => parse_error(format!("Unexpected token found {} in the SQL expression.", describe(t))),
            None => parse_error("Unexpected end of the SQL expression."),
        }
    }

    fn query(&mut self) -> Result<Query, AwsError> {
        if !self.keyword("select") {
            return Err(self.unexpected());
        }
        let projections = if self.sym("*") {
            None
        } else {
            let mut list = vec![self.projection()?];
            while self.sym(",") {
                list.push(self.projection()?);
            }
            Some(list)
        };
        if !self.keyword("from") {
            return Err(self.unexpected());
        }
        match self.next() {
            Some(Tok::Ident(s)) if s.eq_ignore_ascii_case("s3object") => {}
            _ => {
                self.at -= 1;
                return Err(self.unexpected());
            }
        }
        let from = self.steps()?;
        let alias = if self.keyword("as") {
            Some(self.identifier()?)
        } else {
            match self.peek() {
                Some(Tok::Ident(s)) if !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r)) => Some(self.identifier()?),
                Some(Tok::Quoted(_)) => Some(self.identifier()?),
                _ => None,
            }
        };
        let filter = if self.keyword("where") { Some(self.expr()?) } else { None };
        let limit = if self.keyword("limit") {
            match self.next() {
                Some(Tok::Num(n)) => Some(n.parse().map_err(|_| parse_error("LIMIT must be a non-negative integer."))?),
                _ => {
                    self.at -= 1;
                    return Err(self.unexpected());
                }
            }
        } else {
            None
        };
        if self.peek().is_some() {
            return Err(self.unexpected());
        }
        Ok(Query { projections, from, alias, filter, limit })
    }

    fn identifier(&mut self) -> Result<String, AwsError> {
        match self.next() {
            Some(Tok::Ident(s)) | Some(Tok::Quoted(s)) => Ok(s),
            _ => {
                self.at -= 1;
                Err(self.unexpected())
            }
        }
    }

    fn projection(&mut self) -> Result<Projection, AwsError> {
        let expr = self.expr()?;
        let alias = if self.keyword("as") {
            Some(self.identifier()?)
        } else {
            match self.peek() {
                Some(Tok::Ident(s)) if !RESERVED.iter().any(|r| s.eq_ignore_ascii_case(r)) => Some(self.identifier()?),
                _ => None,
            }
        };
        Ok(Projection { expr, alias })
    }

    /// `.name`, `."Name"`, `[n]`, `[*]` repeated.
    fn steps(&mut self) -> Result<Vec<Step>, AwsError> {
        let mut steps = Vec::new();
        loop {
            if self.sym(".") {
                match self.next() {
                    Some(Tok::Ident(s)) => steps.push(Step::Field(s, false)),
                    Some(Tok::Quoted(s)) => steps.push(Step::Field(s, true)),
                    Some(Tok::Sym("*")) => steps.push(Step::Wildcard),
                    _ => {
                        self.at -= 1;
                        return Err(self.unexpected());
                    }
                }
            } else if self.sym("[") {
                match self.next() {
                    Some(Tok::Sym("*")) => steps.push(Step::Wildcard),
                    Some(Tok::Num(n)) => steps.push(Step::Index(n.parse().map_err(|_| self.unexpected())?)),
                    Some(Tok::Str(s)) => steps.push(Step::Field(s, true)),
                    _ => {
                        self.at -= 1;
                        return Err(self.unexpected());
                    }
                }
                self.expect_sym("]")?;
            } else {
                return Ok(steps);
            }
        }
    }

    fn expr(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Binary("or", Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            left = Expr::Binary("and", Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, AwsError> {
        if self.keyword("not") { Ok(Expr::Not(Box::new(self.not()?))) } else { self.comparison() }
    }

    fn comparison(&mut self) -> Result<Expr, AwsError> {
        let left = self.additive()?;
        for op in ["=", "<>", "!=", "<=", ">=", "<", ">"] {
            if self.sym(op) {
                let op = if op == "!=" { "<>" } else { op };
                return Ok(Expr::Binary(op, Box::new(left), Box::new(self.additive()?)));
            }
        }
        if self.keyword("is") {
            let negated = self.keyword("not");
            let missing = if self.keyword("null") {
                false
            } else if self.keyword("missing") {
                true
            } else {
                return Err(self.unexpected());
            };
            return Ok(Expr::Is(Box::new(left), missing, negated));
        }
        let negated = self.keyword("not");
        if self.keyword("like") {
            return Ok(Expr::Like(Box::new(left), Box::new(self.additive()?), negated));
        }
        if self.keyword("between") {
            let low = self.additive()?;
            if !self.keyword("and") {
                return Err(self.unexpected());
            }
            let high = self.additive()?;
            return Ok(Expr::Between(Box::new(left), Box::new(low), Box::new(high), negated));
        }
        if self.keyword("in") {
            self.expect_sym("(")?;
            let mut list = vec![self.expr()?];
            while self.sym(",") {
                list.push(self.expr()?);
            }
            self.expect_sym(")")?;
            return Ok(Expr::In(Box::new(left), list, negated));
        }
        if negated {
            return Err(self.unexpected());
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.sym("+") {
                "+"
            } else if self.sym("-") {
                "-"
            } else if self.sym("||") {
                "||"
            } else {
                return Ok(left);
            };
            left = Expr::Binary(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, AwsError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.sym("*") {
                "*"
            } else if self.sym("/") {
                "/"
            } else if self.sym("%") {
                "%"
            } else {
                return Ok(left);
            };
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, AwsError> {
        if self.sym("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, AwsError> {
        match self.next() {
            Some(Tok::Num(n)) => {
                let v: f64 =
                    n.parse().map_err(|_| parse_error(format!("Invalid number {n} in the SQL expression.")))?;
                Ok(Expr::Lit(Lit::Num(v, n)))
            }
            Some(Tok::Str(s)) => Ok(Expr::Lit(Lit::Str(s))),
            Some(Tok::Sym("(")) => {
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Some(Tok::Quoted(s)) => {
                let mut steps = vec![Step::Field(s, true)];
                steps.extend(self.steps()?);
                Ok(Expr::Path(steps))
            }
            Some(Tok::Ident(s)) => {
                let lower = s.to_ascii_lowercase();
                match lower.as_str() {
                    "null" => return Ok(Expr::Lit(Lit::Null)),
                    "missing" => return Ok(Expr::Lit(Lit::Missing)),
                    "true" => return Ok(Expr::Lit(Lit::Bool(true))),
                    "false" => return Ok(Expr::Lit(Lit::Bool(false))),
                    _ => {}
                }
                if self.sym("(") {
                    if lower == "count" && self.sym("*") {
                        self.expect_sym(")")?;
                        return Ok(Expr::CountStar);
                    }
                    let mut args = Vec::new();
                    if !self.sym(")") {
                        args.push(self.expr()?);
                        while self.sym(",") {
                            args.push(self.expr()?);
                        }
                        self.expect_sym(")")?;
                    }
                    return Ok(Expr::Call(lower, args));
                }
                let mut steps = vec![Step::Field(s, false)];
                steps.extend(self.steps()?);
                Ok(Expr::Path(steps))
            }
            other => {
                self.at -= 1;
                let _ = other;
                Err(self.unexpected())
            }
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Num(s) => s.clone(),
        Tok::Quoted(s) => format!("\"{s}\""),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Sym(s) => (*s).to_owned(),
    }
}

pub fn parse(sql: &str) -> Result<Query, AwsError> {
    let toks = lex(sql)?;
    Parser { toks, at: 0 }.query()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_clients_send() {
        let q = parse("select * from s3object[*].staff[*] s").unwrap();
        assert_eq!(q.projections, None);
        assert_eq!(q.from, vec![Step::Wildcard, Step::Field("staff".into(), false), Step::Wildcard]);
        assert_eq!(q.alias.as_deref(), Some("s"));
        let q = parse("SELECT count(*) FROM S3Object").unwrap();
        assert_eq!(q.projections.unwrap()[0].expr, Expr::CountStar);
        let q =
            parse("select s.a, s.\"B c\" as x from s3object s where s.c = 'it''s' and not s.n > 2 limit 3").unwrap();
        let p = q.projections.unwrap();
        assert_eq!(p[1].alias.as_deref(), Some("x"));
        assert_eq!(q.limit, Some(3));
        assert!(matches!(q.filter, Some(Expr::Binary("and", _, _))));
        assert!(parse("select * from table").is_err());
        assert!(parse("select * from s3object where").is_err());
        assert_eq!(parse("select 'x from s3object").unwrap_err().code, "ParseUnexpectedToken");
    }
}
