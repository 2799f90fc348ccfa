//! The rule language: a pest grammar (`grammar/arrears.pest`) with two entry
//! points, condition cells and expressions, parsed into the AST in [`ast`].

// `Arg::Each` is larger than `Arg::Expr`; the AST is a shared contract, so the
// lint is silenced here rather than boxing fields in `ast.rs`.
#[allow(clippy::large_enum_variant)]
#[rustfmt::skip] // shared contract file: formatted by its owner
pub mod ast;
mod parser;
mod print;

pub use parser::{parse_cell, parse_expr, ParseError, MAX_NESTING};
