//! DynamoDB's expression language: condition, key condition, filter, projection and update
//! expressions, with a hand-written lexer and recursive-descent parser.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod reserved;

pub use ast::{CmpOp, Condition, Operand, Path, PathElem, UpdateAction};
pub use parser::{ExprContext, ExprKind};
