//! The rule language: a pest grammar (`grammar/arrears.pest`) with two entry
//! points, condition cells and expressions, parsed into the AST in [`ast`].
//! It must not resolve names or types; that is the checker's.

pub mod ast;
mod parser;
mod print;

pub use parser::{parse_cell, parse_expr, ParseError, MAX_NESTING};
pub use print::{canonical_cell, canonical_expr};
