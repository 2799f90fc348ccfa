//! The pest-based parser: text → [`Expr`] / [`Cell`], with readable errors.
//! It must not resolve names or look at the schema.
//!
//! The grammar lives in `grammar/arrears.pest`. Operator precedence is handled
//! by a Pratt parser over the flat `expr` rule. Errors are rebuilt from pest's
//! failure position into short lowercase sentences with an optional fix hint.
//!
//! The rooms: this file (entry points, `ParseError`, the grammar and operator
//! table), `prescan` (checks before pest runs), `expr` (pest pairs →
//! expressions and literals), `cell` (pest pairs → a cell's tests), `errors`
//! (pest's failure position → a sentence and a fix hint).

mod cell;
mod errors;
mod expr;
mod prescan;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use pest_derive::Parser;

use super::ast::{Cell, CellKind, Expr};
use crate::source::Span;
use cell::build_tests;
use errors::convert_error;
use expr::build_expr;
use prescan::prescan;

/// Expressions nested deeper than this (brackets, operators, calls) are
/// rejected with a [`ParseError`] instead of risking a stack overflow.
pub const MAX_NESTING: usize = 64;

/// A syntax error: a lowercase message, the span of the offending text
/// (relative to the parsed string) and an optional hint on how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl ParseError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

#[derive(Parser)]
#[grammar = "../grammar/arrears.pest"]
struct ArrearsParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Which entry point is parsing; changes some wording and hints.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Expr,
    Cell,
}

/// Parses a whole expression such as `account.arrears >= $5 and not paused`.
pub fn parse_expr(text: &str) -> Result<Expr, ParseError> {
    prescan(text)?;
    let mut pairs = ArrearsParser::parse(Rule::expr_entry, text)
        .map_err(|e| convert_error(text, &e, Mode::Expr))?;
    let entry = pairs.next().ok_or_else(|| internal(text))?;
    let expr = entry
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .ok_or_else(|| internal(text))?;
    Ok(build_expr(expr)?.0)
}

/// Parses a decision-table condition cell such as `>= 5`, `[1..29]`,
/// `"CA", "TX"`, `not("NY")` or `-`.
pub fn parse_cell(text: &str) -> Result<Cell, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Cell {
            kind: CellKind::Any,
            span: Span::new(0, 0),
        });
    }
    let start = text.len() - text.trim_start().len();
    let whole = Span::new(start, start + trimmed.len());
    if trimmed == "-" {
        return Ok(Cell {
            kind: CellKind::Any,
            span: whole,
        });
    }
    prescan(text)?;
    let mut pairs = ArrearsParser::parse(Rule::cell_entry, text)
        .map_err(|e| convert_error(text, &e, Mode::Cell))?;
    let entry = pairs.next().ok_or_else(|| internal(text))?;
    for pair in entry.into_inner() {
        match pair.as_rule() {
            Rule::negated_cell => {
                let list = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::test_list)
                    .ok_or_else(|| internal(text))?;
                return Ok(Cell {
                    kind: CellKind::Tests {
                        negated: true,
                        tests: build_tests(list)?,
                    },
                    span: whole,
                });
            }
            Rule::test_list => {
                return Ok(Cell {
                    kind: CellKind::Tests {
                        negated: false,
                        tests: build_tests(pair)?,
                    },
                    span: whole,
                });
            }
            _ => {}
        }
    }
    Err(internal(text))
}

fn internal(text: &str) -> ParseError {
    ParseError::new(
        "internal parser error: unexpected parse tree",
        Span::new(0, text.len()),
    )
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

fn too_deep(span: Span) -> ParseError {
    ParseError::new(
        format!("expression is nested too deeply (the limit is {MAX_NESTING} levels)"),
        span,
    )
    .with_help("split it into smaller expressions")
}
