//! Recursive-descent parser for DynamoDB expressions, resolving `#name` / `:value` references
//! and producing AWS's ValidationException messages.
//!
//! Precedence, lowest first: `OR`, `AND`, `NOT`, then comparisons, `BETWEEN`, `IN` and
//! functions; parentheses group conditions.

use super::ast::*;
use super::lexer::{Tok, Token, tokenize};
use super::reserved::is_reserved;
use crate::error::validation;
use crate::value::{AttrValue, MAX_DEPTH};
use ruststack_core::AwsError;
use std::collections::{BTreeSet, HashMap};

/// Longest expression AWS accepts, in bytes.
pub const MAX_EXPRESSION_SIZE: usize = 4096;
/// Most operands of an `IN`.
const MAX_IN_OPERANDS: usize = 100;

/// Which expression parameter is being parsed (named in error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    KeyCondition,
    Filter,
    Projection,
    Update,
}

impl ExprKind {
    pub fn name(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::Update => "UpdateExpression",
        }
    }
}

/// The `ExpressionAttributeNames` / `Values` of one request, and which of them the request's
/// expressions used (every one must be used).
pub struct ExprContext<'a> {
    names: &'a HashMap<String, String>,
    values: &'a HashMap<String, AttrValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> ExprContext<'a> {
    pub fn new(names: &'a HashMap<String, String>, values: &'a HashMap<String, AttrValue>) -> Self {
        ExprContext { names, values, used_names: BTreeSet::new(), used_values: BTreeSet::new() }
    }

    pub fn parse_condition(&mut self, kind: ExprKind, src: &str) -> Result<Condition, AwsError> {
        let mut p = Parser::new(self, kind, src)?;
        let c = p.condition()?;
        p.expect_eof()?;
        Ok(c)
    }

    pub fn parse_projection(&mut self, src: &str) -> Result<Vec<Path>, AwsError> {
        let mut p = Parser::new(self, ExprKind::Projection, src)?;
        let mut paths = vec![p.path()?];
        while p.eat(&Tok::Comma) {
            paths.push(p.path()?);
        }
        p.expect_eof()?;
        for (i, a) in paths.iter().enumerate() {
            if let Some(b) = paths[..i].iter().find(|b| b.overlaps(a)) {
                return Err(p.err(overlap_message(b, a)));
            }
        }
        Ok(paths)
    }

    pub fn parse_update(&mut self, src: &str) -> Result<Vec<UpdateAction>, AwsError> {
        let mut p = Parser::new(self, ExprKind::Update, src)?;
        let actions = p.update()?;
        p.expect_eof()?;
        for (i, a) in actions.iter().enumerate() {
            if let Some(b) = actions[..i].iter().find(|b| b.path().overlaps(a.path())) {
                return Err(p.err(overlap_message(b.path(), a.path())));
            }
        }
        Ok(actions)
    }

    /// AWS's errors for names or values defined but not used by any expression of the request.
    pub fn check_unused(&self) -> Result<(), AwsError> {
        let unused = |defined: Vec<&String>, used: &BTreeSet<String>| {
            let mut u: Vec<&String> = defined.into_iter().filter(|k| !used.contains(*k)).collect();
            u.sort();
            u.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{names}}}"
            )));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{values}}}"
            )));
        }
        Ok(())
    }
}

fn overlap_message(a: &Path, b: &Path) -> String {
    format!(
        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {a}, path two: {b}"
    )
}

struct Parser<'c, 'a> {
    ctx: &'c mut ExprContext<'a>,
    kind: ExprKind,
    src: &'c str,
    toks: Vec<Token>,
    pos: usize,
    /// Open parentheses and NOTs, bounded so a hostile expression cannot exhaust the stack.
    depth: usize,
}

/// Deepest nesting of parentheses and NOT in one expression.
const MAX_NESTING: usize = 100;

/// Functions that are conditions by themselves.
const CONDITION_FUNCTIONS: [&str; 5] =
    ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"];
/// Valid `attribute_type` names, in AWS's message order.
const TYPE_NAMES: [&str; 10] = ["B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"];

impl<'c, 'a> Parser<'c, 'a> {
    fn new(ctx: &'c mut ExprContext<'a>, kind: ExprKind, src: &'c str) -> Result<Self, AwsError> {
        if src.trim().is_empty() {
            return Err(validation(format!("Invalid {}: The expression can not be empty;", kind.name())));
        }
        if src.len() > MAX_EXPRESSION_SIZE {
            return Err(validation(format!(
                "Invalid {}: Expression size has exceeded the maximum allowed size; expression size: {}",
                kind.name(),
                src.len()
            )));
        }
        Ok(Parser { ctx, kind, src, toks: tokenize(src), pos: 0, depth: 0 })
    }

    fn err(&self, detail: impl std::fmt::Display) -> AwsError {
        validation(format!("Invalid {}: {detail}", self.kind.name()))
    }

    fn peek(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if &self.peek().tok == tok {
            self.next();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.peek().is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    /// `Syntax error; token: "x", near: "a x b"` for the current token.
    fn syntax_error(&self) -> AwsError {
        let t = self.peek();
        let token = if t.tok == Tok::Eof { "<EOF>".to_owned() } else { self.src[t.start..t.end].to_owned() };
        let start = if self.pos > 0 { self.toks[self.pos - 1].start } else { t.start };
        let end = self.peek_at(1).end.max(t.end);
        let near = &self.src[start..end];
        self.err(format!("Syntax error; token: \"{token}\", near: \"{near}\""))
    }

    fn expect(&mut self, tok: Tok) -> Result<(), AwsError> {
        if self.eat(&tok) { Ok(()) } else { Err(self.syntax_error()) }
    }

    fn expect_eof(&self) -> Result<(), AwsError> {
        if self.peek().tok == Tok::Eof { Ok(()) } else { Err(self.syntax_error()) }
    }

    // ---- conditions ---------------------------------------------------------------------

    fn condition(&mut self) -> Result<Condition, AwsError> {
        let mut left = self.and()?;
        while self.eat_kw("OR") {
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, AwsError> {
        let mut left = self.not()?;
        while self.eat_kw("AND") {
            let right = self.not()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, AwsError> {
        if self.peek().is_kw("NOT") {
            self.nest()?;
            self.next();
            let c = Condition::Not(Box::new(self.not()?));
            self.depth -= 1;
            return Ok(c);
        }
        self.primary()
    }

    fn nest(&mut self) -> Result<(), AwsError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err(format!("The expression has too many levels of nesting; maximum: {MAX_NESTING}")));
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<Condition, AwsError> {
        if self.peek().tok == Tok::LParen {
            self.nest()?;
            self.next();
            let c = self.condition()?;
            self.expect(Tok::RParen)?;
            self.depth -= 1;
            return Ok(c);
        }
        // A condition function: `name(` with a known condition function name.
        if let Tok::Ident(name) = &self.peek().tok
            && self.peek_at(1).tok == Tok::LParen
        {
            let lower = name.to_ascii_lowercase();
            if CONDITION_FUNCTIONS.contains(&lower.as_str()) {
                let name = name.clone();
                let c = self.condition_function(&name)?;
                if self.is_comparator() || self.peek().is_kw("BETWEEN") || self.peek().is_kw("IN") {
                    return Err(self.err(format!(
                        "The function is not allowed to be used this way in an expression; function: {name}"
                    )));
                }
                return Ok(c);
            }
        }
        let left = self.operand()?;
        if let Some(op) = self.comparator() {
            let right = self.operand()?;
            return Ok(Condition::Compare(left, op, right));
        }
        if self.eat_kw("BETWEEN") {
            let lo = self.operand()?;
            if !self.eat_kw("AND") {
                return Err(self.syntax_error());
            }
            let hi = self.operand()?;
            // BETWEEN orders strings, numbers and binaries only.
            for op in [&left, &lo, &hi] {
                if let Operand::Value(v) = op
                    && v.scalar_type().is_none()
                {
                    return Err(self.operand_type_error("BETWEEN", v));
                }
            }
            if let (Operand::Value(l), Operand::Value(h)) = (&lo, &hi)
                && l.compare(h) == Some(std::cmp::Ordering::Greater)
            {
                return Err(self.err(format!(
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: {{{}:{}}}, upper operand: AttributeValue: {{{}:{}}}",
                    l.type_name(),
                    show_scalar(l),
                    h.type_name(),
                    show_scalar(h)
                )));
            }
            return Ok(Condition::Between(left, lo, hi));
        }
        if self.eat_kw("IN") {
            self.expect(Tok::LParen)?;
            let mut list = vec![self.operand()?];
            while self.eat(&Tok::Comma) {
                list.push(self.operand()?);
            }
            self.expect(Tok::RParen)?;
            if list.len() > MAX_IN_OPERANDS {
                return Err(self.err(format!(
                    "The IN operator is provided with too many operands; number of operands: {}",
                    list.len()
                )));
            }
            return Ok(Condition::In(left, list));
        }
        if let Operand::Size(_) = left {
            return Err(self.err("The function is not allowed to be used this way in an expression; function: size"));
        }
        Err(self.syntax_error())
    }

    fn is_comparator(&self) -> bool {
        matches!(self.peek().tok, Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge)
    }

    fn comparator(&mut self) -> Option<CmpOp> {
        let op = match self.peek().tok {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ => return None,
        };
        self.next();
        Some(op)
    }

    /// The arguments of `name(...)`, checked for count.
    fn arguments(&mut self, name: &str, count: usize) -> Result<Vec<Operand>, AwsError> {
        self.nest()?;
        self.next(); // name
        self.expect(Tok::LParen)?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            args.push(self.operand()?);
            while self.eat(&Tok::Comma) {
                args.push(self.operand()?);
            }
        }
        self.expect(Tok::RParen)?;
        self.depth -= 1;
        if args.len() != count {
            return Err(self.err(format!(
                "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                args.len()
            )));
        }
        Ok(args)
    }

    fn operand_type_error(&self, function: &str, v: &AttrValue) -> AwsError {
        self.err(format!(
            "Incorrect operand type for operator or function; operator or function: {function}, operand type: {}",
            v.type_name()
        ))
    }

    fn path_argument(&self, function: &str, op: Operand) -> Result<Path, AwsError> {
        match op {
            Operand::Path(p) => Ok(p),
            Operand::Value(v) => Err(self.operand_type_error(function, &v)),
            _ => Err(self.err(format!(
                "Incorrect operand type for operator or function; operator or function: {function}, operand type: function"
            ))),
        }
    }

    fn condition_function(&mut self, name: &str) -> Result<Condition, AwsError> {
        let lower = name.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "attribute_exists" | "attribute_not_exists" => {
                let mut args = self.arguments(name, 1)?;
                let path = self.path_argument(name, args.remove(0))?;
                if lower == "attribute_exists" { Condition::Exists(path) } else { Condition::NotExists(path) }
            }
            "attribute_type" => {
                let mut args = self.arguments(name, 2)?;
                let ty = args.pop().unwrap_or(Operand::Value(AttrValue::Null));
                let path = self.path_argument(name, args.remove(0))?;
                if let Operand::Value(v) = &ty {
                    match v {
                        AttrValue::S(s) if TYPE_NAMES.contains(&s.as_str()) => {}
                        AttrValue::S(s) => {
                            return Err(self.err(format!(
                                "Invalid attribute type name found; type: {s}, valid types: {{ {} }}",
                                TYPE_NAMES.join(",")
                            )));
                        }
                        other => return Err(self.operand_type_error(name, other)),
                    }
                }
                Condition::AttrType(path, ty)
            }
            "begins_with" => {
                let mut args = self.arguments(name, 2)?;
                let b = args.pop().unwrap_or(Operand::Value(AttrValue::Null));
                let a = args.remove(0);
                for op in [&a, &b] {
                    if let Operand::Value(v) = op
                        && !matches!(v, AttrValue::S(_) | AttrValue::B(_))
                    {
                        return Err(self.operand_type_error(name, v));
                    }
                }
                Condition::BeginsWith(a, b)
            }
            _ => {
                let mut args = self.arguments(name, 2)?;
                let b = args.pop().unwrap_or(Operand::Value(AttrValue::Null));
                Condition::Contains(args.remove(0), b)
            }
        })
    }

    // ---- operands -----------------------------------------------------------------------

    /// An operand of a condition, or one side of a SET value.
    fn operand(&mut self) -> Result<Operand, AwsError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::ValueRef(v) => {
                self.next();
                Ok(Operand::Value(self.value(v)?))
            }
            Tok::Ident(name) if self.peek_at(1).tok == Tok::LParen => {
                let lower = name.to_ascii_lowercase();
                let update = self.kind == ExprKind::Update;
                match lower.as_str() {
                    "size" if !update => {
                        let mut args = self.arguments(name, 1)?;
                        Ok(Operand::Size(self.path_argument(name, args.remove(0))?))
                    }
                    "if_not_exists" if update => {
                        let mut args = self.arguments(name, 2)?;
                        let fallback = args.pop().unwrap_or(Operand::Value(AttrValue::Null));
                        let path = self.path_argument(name, args.remove(0))?;
                        Ok(Operand::IfNotExists(path, Box::new(fallback)))
                    }
                    "list_append" if update => {
                        let mut args = self.arguments(name, 2)?;
                        let b = args.pop().unwrap_or(Operand::Value(AttrValue::Null));
                        let a = args.remove(0);
                        Ok(Operand::ListAppend(Box::new(a), Box::new(b)))
                    }
                    "size" | "if_not_exists" | "list_append" => {
                        let place = if update { "an update expression" } else { "a condition expression" };
                        Err(self.err(format!("The function is not allowed in {place}; function: {name}")))
                    }
                    _ if CONDITION_FUNCTIONS.contains(&lower.as_str()) => Err(self.err(format!(
                        "The function is not allowed to be used this way in an expression; function: {name}"
                    ))),
                    _ => Err(self.err(format!("Invalid function name; function: {name}"))),
                }
            }
            Tok::Ident(_) | Tok::NameRef(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    fn value(&mut self, name: &str) -> Result<AttrValue, AwsError> {
        match self.ctx.values.get(name) {
            Some(v) => {
                self.ctx.used_values.insert(name.to_owned());
                Ok(v.clone())
            }
            None => Err(self.err(format!(
                "An expression attribute value used in expression is not defined; attribute value: {name}"
            ))),
        }
    }

    fn path_name(&mut self) -> Result<String, AwsError> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Ident(name) => {
                if is_reserved(name) {
                    return Err(self.err(format!("Attribute name is a reserved keyword; reserved keyword: {name}")));
                }
                self.next();
                Ok(name.clone())
            }
            Tok::NameRef(r) => match self.ctx.names.get(r) {
                Some(n) => {
                    self.ctx.used_names.insert(r.clone());
                    self.next();
                    Ok(n.clone())
                }
                None => Err(self.err(format!(
                    "An expression attribute name used in the document path is not defined; attribute name: {r}"
                ))),
            },
            _ => Err(self.syntax_error()),
        }
    }

    /// `name ( '.' name | '[' int ']' )*`
    fn path(&mut self) -> Result<Path, AwsError> {
        let mut elems = vec![PathElem::Attr(self.path_name()?)];
        loop {
            if self.eat(&Tok::Dot) {
                elems.push(PathElem::Attr(self.path_name()?));
            } else if self.eat(&Tok::LBracket) {
                let t = self.peek().clone();
                let Tok::Int(digits) = &t.tok else { return Err(self.syntax_error()) };
                let Ok(index) = digits.parse::<usize>() else { return Err(self.syntax_error()) };
                self.next();
                self.expect(Tok::RBracket)?;
                elems.push(PathElem::Index(index));
            } else {
                break;
            }
        }
        if elems.len() > MAX_DEPTH {
            return Err(
                self.err(format!("The document path has too many nesting levels; nesting levels: {}", elems.len()))
            );
        }
        Ok(Path(elems))
    }

    // ---- update expressions -------------------------------------------------------------

    fn update(&mut self) -> Result<Vec<UpdateAction>, AwsError> {
        let mut actions = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        while self.peek().tok != Tok::Eof {
            let clause = ["SET", "REMOVE", "ADD", "DELETE"].into_iter().find(|kw| self.peek().is_kw(kw));
            let Some(clause) = clause else { return Err(self.syntax_error()) };
            if seen.contains(&clause) {
                return Err(
                    self.err(format!("The \"{clause}\" section can only be used once in an update expression;"))
                );
            }
            seen.push(clause);
            self.next();
            loop {
                actions.push(self.update_action(clause)?);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        if actions.is_empty() {
            return Err(self.syntax_error());
        }
        Ok(actions)
    }

    fn update_action(&mut self, clause: &str) -> Result<UpdateAction, AwsError> {
        let path = self.path()?;
        match clause {
            "SET" => {
                self.expect(Tok::Eq)?;
                let left = self.operand()?;
                let value = if self.eat(&Tok::Plus) {
                    Operand::Plus(Box::new(left), Box::new(self.operand()?))
                } else if self.eat(&Tok::Minus) {
                    Operand::Minus(Box::new(left), Box::new(self.operand()?))
                } else {
                    left
                };
                Ok(UpdateAction::Set(path, value))
            }
            "REMOVE" => Ok(UpdateAction::Remove(path)),
            _ => {
                let value = self.operand()?;
                if let Operand::Value(v) = &value {
                    let ok = match clause {
                        "ADD" => matches!(v, AttrValue::N(_) | AttrValue::SS(_) | AttrValue::NS(_) | AttrValue::BS(_)),
                        _ => matches!(v, AttrValue::SS(_) | AttrValue::NS(_) | AttrValue::BS(_)),
                    };
                    if !ok {
                        return Err(self.err(format!(
                            "Incorrect operand type for operator or function; operator: {clause}, operand type: {}",
                            v.type_name()
                        )));
                    }
                } else {
                    return Err(self.syntax_error());
                }
                Ok(if clause == "ADD" { UpdateAction::Add(path, value) } else { UpdateAction::Delete(path, value) })
            }
        }
    }
}

/// A scalar as AWS prints it inside `AttributeValue: {N:5}`.
fn show_scalar(v: &AttrValue) -> String {
    match v {
        AttrValue::S(s) => s.clone(),
        AttrValue::N(n) => n.to_string(),
        AttrValue::B(b) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(b)
        }
        other => other.type_name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::Number;

    fn ctx_maps() -> (HashMap<String, String>, HashMap<String, AttrValue>) {
        let names = [("#n".to_string(), "name".to_string()), ("#s".to_string(), "status".to_string())].into();
        let values = [
            (":v".to_string(), AttrValue::S("x".into())),
            (":one".to_string(), AttrValue::N(Number::from_i64(1))),
            (":five".to_string(), AttrValue::N(Number::from_i64(5))),
            (":ss".to_string(), AttrValue::SS(vec!["a".into()])),
            (":t".to_string(), AttrValue::S("SS".into())),
        ]
        .into();
        (names, values)
    }

    fn cond(src: &str) -> Result<Condition, String> {
        let (n, v) = ctx_maps();
        let mut ctx = ExprContext::new(&n, &v);
        ctx.parse_condition(ExprKind::Condition, src).map_err(|e| e.message)
    }

    fn update(src: &str) -> Result<Vec<UpdateAction>, String> {
        let (n, v) = ctx_maps();
        let mut ctx = ExprContext::new(&n, &v);
        ctx.parse_update(src).map_err(|e| e.message)
    }

    fn p(s: &str) -> Operand {
        Operand::Path(Path::attr(s))
    }

    #[test]
    fn precedence_and_grouping() {
        let c = cond("a = :v OR b = :v AND NOT c = :v").unwrap();
        let eq = |x: &str| Condition::Compare(p(x), CmpOp::Eq, Operand::Value(AttrValue::S("x".into())));
        assert_eq!(
            c,
            Condition::Or(
                Box::new(eq("a")),
                Box::new(Condition::And(Box::new(eq("b")), Box::new(Condition::Not(Box::new(eq("c"))))))
            )
        );
        let c = cond("(a = :v or b = :v) and c = :v").unwrap();
        assert!(matches!(c, Condition::And(l, _) if matches!(*l, Condition::Or(..))));
    }

    #[test]
    fn every_comparator_and_operator() {
        for (src, op) in [
            ("=", CmpOp::Eq),
            ("<>", CmpOp::Ne),
            ("<", CmpOp::Lt),
            ("<=", CmpOp::Le),
            (">", CmpOp::Gt),
            (">=", CmpOp::Ge),
        ] {
            assert_eq!(
                cond(&format!("a {src} :one")).unwrap(),
                Condition::Compare(p("a"), op, Operand::Value(AttrValue::N(Number::from_i64(1))))
            );
        }
        assert!(matches!(cond("a BETWEEN :one AND :five").unwrap(), Condition::Between(..)));
        assert!(matches!(cond("a IN (:one, :five, b)").unwrap(), Condition::In(_, l) if l.len() == 3));
        assert!(matches!(cond("attribute_exists(a.b[1])").unwrap(), Condition::Exists(Path(e)) if e.len() == 3));
        assert!(matches!(cond("attribute_not_exists(#n)").unwrap(), Condition::NotExists(p) if p.root() == "name"));
        assert!(matches!(cond("attribute_type(a, :t)").unwrap(), Condition::AttrType(..)));
        assert!(matches!(cond("begins_with(a, :v)").unwrap(), Condition::BeginsWith(..)));
        assert!(matches!(cond("contains(a, :v)").unwrap(), Condition::Contains(..)));
        assert!(matches!(cond("size(a) > :one").unwrap(), Condition::Compare(Operand::Size(_), CmpOp::Gt, _)));
        assert!(matches!(cond("ATTRIBUTE_EXISTS(a)").unwrap(), Condition::Exists(_)));
    }

    #[test]
    fn syntax_errors_name_the_token() {
        assert_eq!(
            cond("a = = :v").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :v\""
        );
        assert_eq!(
            cond("a =").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\""
        );
        assert_eq!(
            cond("a = :v b").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"b\", near: \":v b\""
        );
        assert_eq!(
            cond("a = 5").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"5\", near: \"= 5\""
        );
        assert_eq!(
            cond("(a = :v").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\""
        );
        assert_eq!(
            cond("a BETWEEN :one :five").unwrap_err(),
            "Invalid ConditionExpression: Syntax error; token: \":five\", near: \":one :five\""
        );
        assert_eq!(cond("  ").unwrap_err(), "Invalid ConditionExpression: The expression can not be empty;");
        assert!(
            cond(&"a = :v AND ".repeat(400))
                .unwrap_err()
                .contains("Expression size has exceeded the maximum allowed size")
        );
    }

    #[test]
    fn reference_errors() {
        assert_eq!(
            cond("a = :x").unwrap_err(),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x"
        );
        assert_eq!(
            cond("#x = :v").unwrap_err(),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"
        );
        assert_eq!(
            cond("name = :v").unwrap_err(),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"
        );
        assert_eq!(
            cond("a.Status = :v").unwrap_err(),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Status"
        );
    }

    #[test]
    fn function_errors() {
        assert_eq!(cond("foo(a)").unwrap_err(), "Invalid ConditionExpression: Invalid function name; function: foo");
        assert_eq!(
            cond("begins_with(a)").unwrap_err(),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"
        );
        assert_eq!(
            cond("begins_with(a, :one)").unwrap_err(),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
        );
        assert_eq!(
            cond("attribute_exists(:v)").unwrap_err(),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_exists, operand type: S"
        );
        assert_eq!(
            cond("attribute_type(a, :v)").unwrap_err(),
            "Invalid ConditionExpression: Invalid attribute type name found; type: x, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"
        );
        assert_eq!(
            cond("attribute_exists(a) = :v").unwrap_err(),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"
        );
        assert_eq!(
            cond("size(a)").unwrap_err(),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"
        );
        assert_eq!(
            cond("if_not_exists(a, :v) = :v").unwrap_err(),
            "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"
        );
        assert_eq!(
            cond("a BETWEEN :five AND :one").unwrap_err(),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: {N:5}, upper operand: AttributeValue: {N:1}"
        );
        assert_eq!(
            cond("a BETWEEN :one AND :ss").unwrap_err(),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: SS"
        );
        let many = (0..101).map(|_| ":one").collect::<Vec<_>>().join(",");
        assert_eq!(
            cond(&format!("a IN ({many})")).unwrap_err(),
            "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}a = :v{}", "(".repeat(100), ")".repeat(100));
        assert!(cond(&deep).is_ok());
        let deeper = format!("{}a = :v{}", "(".repeat(101), ")".repeat(101));
        assert!(cond(&deeper).unwrap_err().contains("too many levels of nesting"));
        assert!(cond(&format!("{}a = :v", "NOT ".repeat(1000))).unwrap_err().contains("too many levels of nesting"));
        let (n, v) = ctx_maps();
        let mut ctx = ExprContext::new(&n, &v);
        let nested = format!("SET a = {}:ss{}", "list_append(:ss, ".repeat(200), ")".repeat(200));
        assert!(ctx.parse_update(&nested).unwrap_err().message.contains("too many levels of nesting"));
    }

    #[test]
    fn update_expressions() {
        let actions =
            update("SET a = :one, b = a + :one, c = if_not_exists(c, :one) REMOVE d, e[1] ADD f :one DELETE g :ss")
                .unwrap();
        assert_eq!(actions.len(), 7);
        assert!(matches!(&actions[1], UpdateAction::Set(_, Operand::Plus(..))));
        assert!(matches!(&actions[2], UpdateAction::Set(_, Operand::IfNotExists(..))));
        assert!(matches!(&actions[4], UpdateAction::Remove(Path(e)) if e[1] == PathElem::Index(1)));
        let actions = update("set l = list_append(if_not_exists(l, :ss), :ss), m = m - :one").unwrap();
        assert!(matches!(&actions[0], UpdateAction::Set(_, Operand::ListAppend(..))));
        assert!(matches!(&actions[1], UpdateAction::Set(_, Operand::Minus(..))));
        assert_eq!(
            update("SET a = :v SET b = :v").unwrap_err(),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
        );
        assert_eq!(
            update("SET a = :v, a.b = :v").unwrap_err(),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
        );
        assert_eq!(
            update("ADD a :v").unwrap_err(),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: S"
        );
        assert_eq!(
            update("DELETE a :one").unwrap_err(),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: N"
        );
        assert_eq!(
            update("SET a = size(b)").unwrap_err(),
            "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"
        );
        assert_eq!(
            update("SET a :v").unwrap_err(),
            "Invalid UpdateExpression: Syntax error; token: \":v\", near: \"a :v\""
        );
        assert_eq!(
            update("PUT a = :v").unwrap_err(),
            "Invalid UpdateExpression: Syntax error; token: \"PUT\", near: \"PUT a\""
        );
    }

    #[test]
    fn projection_and_unused() {
        let (n, v) = ctx_maps();
        let mut ctx = ExprContext::new(&n, &v);
        let paths = ctx.parse_projection("a, #n.b[0], c").unwrap();
        assert_eq!(paths.len(), 3);
        assert_eq!(
            ctx.check_unused().unwrap_err().message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#s}"
        );
        ctx.parse_condition(ExprKind::Condition, "#s = :v AND a IN (:one, :five) AND attribute_type(a, :t)").unwrap();
        assert_eq!(
            ctx.check_unused().unwrap_err().message,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:ss}"
        );
        assert!(ctx.parse_projection("a, a.b").unwrap_err().message.contains("Two document paths overlap"));
    }
}
