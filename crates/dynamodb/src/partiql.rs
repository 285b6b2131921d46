//! DynamoDB's PartiQL subset, parsed into the same AST as expressions: `SELECT`, `INSERT`,
//! `UPDATE` (SET/REMOVE) and `DELETE`, with `?` parameters and PartiQL literals
//! (`'text'`, numbers, `TRUE`/`FALSE`/`NULL`, `{'k': v}` maps, `[..]` lists, `<<..>>` sets).

use crate::error::validation;
use crate::expression::{CmpOp, Condition, Operand, Path, PathElem, UpdateAction};
use crate::number::Number;
use crate::value::{AttrValue, Item};
use ruststack_core::AwsError;

#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select { table: String, index: Option<String>, projection: Option<Vec<Path>>, filter: Option<Condition> },
    Insert { table: String, item: Item },
    Update { table: String, actions: Vec<UpdateAction>, filter: Condition },
    Delete { table: String, filter: Condition },
}

impl Statement {
    pub fn table(&self) -> &str {
        match self {
            Statement::Select { table, .. }
            | Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. } => table,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(String),
    Param,
    Punct(&'static str),
    Eof,
}

fn malformed(detail: impl std::fmt::Display) -> AwsError {
    validation(format!("Statement wasn't well formed, can't be processed: {detail}"))
}

fn tokenize(src: &str) -> Result<Vec<Tok>, AwsError> {
    const PUNCT: [&str; 21] =
        ["<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">", "+", "-", "*"];
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(malformed("unterminated quoted text")),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) => {
                        s.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(if c == '\'' { Tok::Str(s) } else { Tok::Quoted(s) });
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                if (chars[i] == 'e' || chars[i] == 'E') && matches!(chars.get(i + 1), Some('+' | '-')) {
                    i += 1;
                }
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == '?' {
            out.push(Tok::Param);
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match PUNCT.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                out.push(Tok::Punct(p));
                i += p.len();
            }
            None => return Err(malformed(format!("unexpected character {c}"))),
        }
    }
    out.push(Tok::Eof);
    Ok(out)
}

struct Parser<'p> {
    toks: Vec<Tok>,
    pos: usize,
    params: &'p [AttrValue],
    next_param: usize,
    /// Nesting of parentheses, NOT, maps and lists, bounded to protect the stack.
    depth: usize,
}

const MAX_NESTING: usize = 100;

/// Parses a statement, substituting `?` with `params` in order.
pub fn parse(src: &str, params: &[AttrValue]) -> Result<Statement, AwsError> {
    let mut p = Parser { toks: tokenize(src)?, pos: 0, params, next_param: 0, depth: 0 };
    let stmt = p.statement()?;
    if p.peek() != &Tok::Eof {
        return Err(malformed(format!("unexpected token {:?}", p.peek())));
    }
    if p.next_param != params.len() {
        return Err(validation("Number of parameters in request and statement don't match."));
    }
    Ok(stmt)
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos]
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.next();
        }
        yes
    }

    fn kw(&mut self, kw: &str) -> Result<(), AwsError> {
        if self.eat_kw(kw) { Ok(()) } else { Err(malformed(format!("expected {kw}, found {:?}", self.peek()))) }
    }

    fn eat(&mut self, p: &str) -> bool {
        let yes = matches!(self.peek(), Tok::Punct(q) if *q == p);
        if yes {
            self.next();
        }
        yes
    }

    fn expect(&mut self, p: &str) -> Result<(), AwsError> {
        if self.eat(p) { Ok(()) } else { Err(malformed(format!("expected {p}, found {:?}", self.peek()))) }
    }

    fn name(&mut self) -> Result<String, AwsError> {
        match self.next() {
            Tok::Ident(s) | Tok::Quoted(s) => Ok(s),
            t => Err(malformed(format!("expected a name, found {t:?}"))),
        }
    }

    fn statement(&mut self) -> Result<Statement, AwsError> {
        if self.eat_kw("SELECT") {
            let projection = if self.eat("*") {
                None
            } else {
                let mut paths = vec![self.path()?];
                while self.eat(",") {
                    paths.push(self.path()?);
                }
                Some(paths)
            };
            self.kw("FROM")?;
            let table = self.name()?;
            let index = if self.eat(".") { Some(self.name()?) } else { None };
            let filter = if self.eat_kw("WHERE") { Some(self.condition()?) } else { None };
            return Ok(Statement::Select { table, index, projection, filter });
        }
        if self.eat_kw("INSERT") {
            self.kw("INTO")?;
            let table = self.name()?;
            self.kw("VALUE")?;
            let AttrValue::M(item) = self.value()? else {
                return Err(malformed("INSERT expects a tuple value"));
            };
            return Ok(Statement::Insert { table, item });
        }
        if self.eat_kw("UPDATE") {
            let table = self.name()?;
            let mut actions = Vec::new();
            loop {
                if self.eat_kw("SET") {
                    let path = self.path()?;
                    self.expect("=")?;
                    actions.push(UpdateAction::Set(path, self.set_value()?));
                } else if self.eat_kw("REMOVE") {
                    actions.push(UpdateAction::Remove(self.path()?));
                } else {
                    break;
                }
                self.eat(",");
            }
            if actions.is_empty() {
                return Err(malformed("UPDATE needs SET or REMOVE"));
            }
            self.kw("WHERE")?;
            let filter = self.condition()?;
            return Ok(Statement::Update { table, actions, filter });
        }
        if self.eat_kw("DELETE") {
            self.kw("FROM")?;
            let table = self.name()?;
            self.kw("WHERE")?;
            let filter = self.condition()?;
            return Ok(Statement::Delete { table, filter });
        }
        Err(malformed(format!("unexpected token {:?}", self.peek())))
    }

    fn path(&mut self) -> Result<Path, AwsError> {
        let mut elems = vec![PathElem::Attr(self.name()?)];
        loop {
            if self.eat(".") {
                elems.push(PathElem::Attr(self.name()?));
            } else if self.eat("[") {
                match self.next() {
                    Tok::Num(n) => elems.push(PathElem::Index(n.parse().map_err(|_| malformed("bad index"))?)),
                    Tok::Str(s) => elems.push(PathElem::Attr(s)),
                    t => return Err(malformed(format!("unexpected token {t:?}"))),
                }
                self.expect("]")?;
            } else {
                return Ok(Path(elems));
            }
        }
    }

    fn nest(&mut self) -> Result<(), AwsError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(malformed("too many levels of nesting"));
        }
        Ok(())
    }

    fn value(&mut self) -> Result<AttrValue, AwsError> {
        self.nest()?;
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<AttrValue, AwsError> {
        let negative = self.eat("-");
        let v = match self.next() {
            Tok::Param => {
                let v = self.params.get(self.next_param).cloned();
                self.next_param += 1;
                v.ok_or_else(|| validation("Number of parameters in request and statement don't match."))?
            }
            Tok::Str(s) => AttrValue::S(s),
            Tok::Num(n) => AttrValue::N(Number::parse(&n).map_err(|e| validation(e.message()))?),
            Tok::Ident(k) if k.eq_ignore_ascii_case("TRUE") => AttrValue::Bool(true),
            Tok::Ident(k) if k.eq_ignore_ascii_case("FALSE") => AttrValue::Bool(false),
            Tok::Ident(k) if k.eq_ignore_ascii_case("NULL") => AttrValue::Null,
            Tok::Punct("{") => {
                let mut m = Item::new();
                if !self.eat("}") {
                    loop {
                        let key = match self.next() {
                            Tok::Str(s) | Tok::Quoted(s) | Tok::Ident(s) => s,
                            t => return Err(malformed(format!("unexpected token {t:?}"))),
                        };
                        self.expect(":")?;
                        m.insert(key, self.value()?);
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.expect("}")?;
                }
                AttrValue::M(m)
            }
            Tok::Punct("[") => {
                let mut l = Vec::new();
                if !self.eat("]") {
                    loop {
                        l.push(self.value()?);
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.expect("]")?;
                }
                AttrValue::L(l)
            }
            Tok::Punct("<<") => {
                let mut l = Vec::new();
                loop {
                    l.push(self.value()?);
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect(">>")?;
                set_of(l)?
            }
            t => return Err(malformed(format!("unexpected token {t:?}"))),
        };
        if negative {
            return match v {
                AttrValue::N(n) => Ok(AttrValue::N(n.negate())),
                _ => Err(malformed("unexpected -")),
            };
        }
        Ok(v)
    }

    fn is_value_start(&self) -> bool {
        match self.peek() {
            Tok::Param | Tok::Str(_) | Tok::Num(_) => true,
            Tok::Punct(p) => matches!(*p, "{" | "[" | "<<" | "-"),
            Tok::Ident(k) => ["TRUE", "FALSE", "NULL"].iter().any(|w| k.eq_ignore_ascii_case(w)),
            _ => false,
        }
    }

    fn operand(&mut self) -> Result<Operand, AwsError> {
        if self.is_value_start() { Ok(Operand::Value(self.value()?)) } else { Ok(Operand::Path(self.path()?)) }
    }

    /// The value of a SET: operand, `a + b`, `a - b`, or list_append / set_add / set_delete.
    fn set_value(&mut self) -> Result<Operand, AwsError> {
        if let Tok::Ident(f) = self.peek().clone()
            && matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("(")))
        {
            let f = f.to_ascii_lowercase();
            self.next();
            self.expect("(")?;
            let a = self.operand()?;
            self.expect(",")?;
            let b = self.operand()?;
            self.expect(")")?;
            return match f.as_str() {
                "list_append" => Ok(Operand::ListAppend(Box::new(a), Box::new(b))),
                // set_add / set_delete become ADD / DELETE in the handler.
                "set_add" => Ok(Operand::Plus(Box::new(a), Box::new(b))),
                "set_delete" => Ok(Operand::Minus(Box::new(a), Box::new(b))),
                _ => Err(malformed(format!("unknown function {f}"))),
            };
        }
        let a = self.operand()?;
        if self.eat("+") {
            return Ok(Operand::Plus(Box::new(a), Box::new(self.operand()?)));
        }
        if self.eat("-") {
            return Ok(Operand::Minus(Box::new(a), Box::new(self.operand()?)));
        }
        Ok(a)
    }

    fn condition(&mut self) -> Result<Condition, AwsError> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, AwsError> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, AwsError> {
        self.nest()?;
        let c = self.not_inner();
        self.depth -= 1;
        c
    }

    fn not_inner(&mut self) -> Result<Condition, AwsError> {
        if self.eat_kw("NOT") {
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        if self.eat("(") {
            let c = self.condition()?;
            self.expect(")")?;
            return Ok(c);
        }
        if let Tok::Ident(f) = self.peek().clone()
            && matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("(")))
        {
            let f = f.to_ascii_lowercase();
            self.next();
            self.expect("(")?;
            let a = self.operand()?;
            self.expect(",")?;
            let b = self.operand()?;
            self.expect(")")?;
            return match (f.as_str(), a) {
                ("begins_with", a) => Ok(Condition::BeginsWith(a, b)),
                ("contains", a) => Ok(Condition::Contains(a, b)),
                ("attribute_type", Operand::Path(p)) => Ok(Condition::AttrType(p, b)),
                _ => Err(malformed(format!("unknown function {f}"))),
            };
        }
        let left = self.operand()?;
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            self.kw("MISSING")?;
            let Operand::Path(p) = left else { return Err(malformed("IS MISSING needs a path")) };
            return Ok(if negated { Condition::Exists(p) } else { Condition::NotExists(p) });
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.operand()?;
            self.kw("AND")?;
            return Ok(Condition::Between(left, lo, self.operand()?));
        }
        if self.eat_kw("IN") {
            let close = if self.eat("[") {
                "]"
            } else {
                self.expect("(")?;
                ")"
            };
            let mut list = vec![self.operand()?];
            while self.eat(",") {
                list.push(self.operand()?);
            }
            self.expect(close)?;
            return Ok(Condition::In(left, list));
        }
        let op = match self.next() {
            Tok::Punct("=") => CmpOp::Eq,
            Tok::Punct("<>") | Tok::Punct("!=") => CmpOp::Ne,
            Tok::Punct("<") => CmpOp::Lt,
            Tok::Punct("<=") => CmpOp::Le,
            Tok::Punct(">") => CmpOp::Gt,
            Tok::Punct(">=") => CmpOp::Ge,
            t => return Err(malformed(format!("unexpected token {t:?}"))),
        };
        Ok(Condition::Compare(left, op, self.operand()?))
    }
}

fn set_of(values: Vec<AttrValue>) -> Result<AttrValue, AwsError> {
    let bad = || validation("A set must contain values of one scalar type (S, N or B)");
    match values.first() {
        Some(AttrValue::S(_)) => Ok(AttrValue::SS(
            values
                .into_iter()
                .map(|v| if let AttrValue::S(s) = v { Ok(s) } else { Err(bad()) })
                .collect::<Result<_, _>>()?,
        )),
        Some(AttrValue::N(_)) => Ok(AttrValue::NS(
            values
                .into_iter()
                .map(|v| if let AttrValue::N(n) = v { Ok(n) } else { Err(bad()) })
                .collect::<Result<_, _>>()?,
        )),
        Some(AttrValue::B(_)) => Ok(AttrValue::BS(
            values
                .into_iter()
                .map(|v| if let AttrValue::B(b) = v { Ok(b) } else { Err(bad()) })
                .collect::<Result<_, _>>()?,
        )),
        _ => Err(bad()),
    }
}

/// Splits a WHERE clause into equalities on the given key attributes and the rest.
pub fn split_key(cond: Condition, keys: &[&str]) -> (Item, Option<Condition>) {
    fn walk(c: Condition, keys: &[&str], found: &mut Item, rest: &mut Vec<Condition>) {
        match c {
            Condition::And(a, b) => {
                walk(*a, keys, found, rest);
                walk(*b, keys, found, rest);
            }
            Condition::Compare(Operand::Path(p), CmpOp::Eq, Operand::Value(v))
                if p.0.len() == 1 && keys.contains(&p.root()) && !found.contains_key(p.root()) =>
            {
                found.insert(p.root().to_owned(), v);
            }
            other => rest.push(other),
        }
    }
    let mut found = Item::new();
    let mut rest = Vec::new();
    walk(cond, keys, &mut found, &mut rest);
    let rest = rest.into_iter().reduce(|a, b| Condition::And(Box::new(a), Box::new(b)));
    (found, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttrValue {
        AttrValue::S(v.into())
    }

    #[test]
    fn parses_each_statement() {
        let st = parse("SELECT a, \"b\".c FROM \"tbl\".\"idx\" WHERE pk = ? AND n >= 5", &[s("x")]).unwrap();
        let Statement::Select { table, index, projection, filter } = st else { panic!() };
        assert_eq!((table.as_str(), index.as_deref()), ("tbl", Some("idx")));
        assert_eq!(projection.unwrap().len(), 2);
        assert!(matches!(filter, Some(Condition::And(..))));
        let st = parse(
            "INSERT INTO t VALUE {'pk': ?, 'n': -1.5, 'l': [1, 'a'], 's': <<'x', 'y'>>, 'b': true, 'z': null}",
            &[s("k")],
        )
        .unwrap();
        let Statement::Insert { item, .. } = st else { panic!() };
        assert_eq!(item["pk"], s("k"));
        assert_eq!(item["n"], AttrValue::N(Number::parse("-1.5").unwrap()));
        assert_eq!(item["s"], AttrValue::SS(vec!["x".into(), "y".into()]));
        assert_eq!(item["z"], AttrValue::Null);
        let st =
            parse("UPDATE t SET a = a + 1 SET b = 'it''s' REMOVE c WHERE pk = 'k' AND c IS NOT MISSING", &[]).unwrap();
        let Statement::Update { actions, filter, .. } = st else { panic!() };
        assert_eq!(actions.len(), 3);
        assert_eq!(actions[1], UpdateAction::Set(Path::attr("b"), Operand::Value(s("it's"))));
        let (key, rest) = split_key(filter, &["pk"]);
        assert_eq!(key["pk"], s("k"));
        assert!(matches!(rest, Some(Condition::Exists(_))));
        assert!(matches!(parse("DELETE FROM t WHERE pk = 'a'", &[]).unwrap(), Statement::Delete { .. }));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("SELECT * FROM t WHERE pk = ?", &[]).unwrap_err().message,
            "Number of parameters in request and statement don't match."
        );
        assert_eq!(
            parse("SELECT * FROM t", &[s("x")]).unwrap_err().message,
            "Number of parameters in request and statement don't match."
        );
        assert!(parse("SELEKT * FROM t", &[]).unwrap_err().message.starts_with("Statement wasn't well formed"));
        assert!(parse("SELECT * FROM t WHERE", &[]).unwrap_err().message.starts_with("Statement wasn't well formed"));
        assert!(parse("INSERT INTO t VALUE {'a': 'x'", &[]).is_err());
        assert!(parse("SELECT * FROM 't", &[]).is_err());
        let deep = format!("INSERT INTO t VALUE {{'pk': {}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep, &[]).unwrap_err().message.contains("too many levels of nesting"));
        let deep = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(200), ")".repeat(200));
        assert!(parse(&deep, &[]).unwrap_err().message.contains("too many levels of nesting"));
    }
}
