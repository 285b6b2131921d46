//! DynamoDB's expression language: condition, key condition, filter, projection and update
//! expressions, with a hand-written lexer and recursive-descent parser.

pub mod reserved;
