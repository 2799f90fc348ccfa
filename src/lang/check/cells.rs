//! One cell's text → a checked tree: the length limit, parsing (a syntax
//! error placed in the file), condition cells (`-`, `not(...)`, comparisons,
//! ranges) whose every operand must compare with its input column's type, and
//! expression cells. It must not resolve names or type operators itself
//! (`names`, `expr`).

use super::typing::{comparable, money_hint};
use super::{error_expr, Checker, Scope, MAX_CELL_BYTES};
use crate::diagnostic::Diagnostic;
use crate::lang::ir::*;
use crate::lang::syntax::ast::{self, CellKind, CompareOp, UnaryTestKind};
use crate::lang::syntax::{parse_cell, parse_expr, ParseError};
use crate::model::spanned::{CellText, Spanned};
use crate::source::Span;
use crate::types::Type;

impl Checker<'_> {
    pub(super) fn parse_error(&mut self, scope: &Scope, err: ParseError) {
        let span = scope.span(err.span);
        let mut d = Diagnostic::error("syntax", scope.file, span, err.message);
        d.help = err.help;
        self.diags.push(d);
    }

    fn too_long(&mut self, scope: &Scope, cell: &Spanned<CellText>) -> bool {
        if cell.value.0.len() > MAX_CELL_BYTES {
            self.error(
                "cell-too-long",
                scope.file,
                Span::new(cell.span.start, cell.span.start + 1),
                format!(
                    "cell is {} bytes long; the limit is {MAX_CELL_BYTES}",
                    cell.value.0.len()
                ),
            )
            .help = Some("split the logic into an input column or another table".into());
            return true;
        }
        false
    }

    pub(super) fn expression(
        &mut self,
        scope: &mut Scope,
        cell: &Spanned<CellText>,
        expect: Option<&Type>,
    ) -> TExpr {
        if self.too_long(scope, cell) {
            return error_expr();
        }
        if cell.value.0.trim().is_empty() {
            self.error(
                "syntax",
                scope.file,
                cell.span,
                "expected an expression, found an empty cell".into(),
            );
            return error_expr();
        }
        match parse_expr(&cell.value.0) {
            Ok(expr) => self.expr(scope, &expr, expect),
            Err(err) => {
                self.parse_error(scope, err);
                error_expr()
            }
        }
    }

    pub(super) fn cell(
        &mut self,
        scope: &mut Scope,
        cell: &Spanned<CellText>,
        column: &str,
        input: &Type,
    ) -> TCell {
        let text = cell.value.0.clone();
        if self.too_long(scope, cell) {
            return TCell {
                negated: false,
                tests: Vec::new(),
                text,
                span: cell.span,
            };
        }
        let parsed = match parse_cell(&cell.value.0) {
            Ok(parsed) => parsed,
            Err(err) => {
                self.parse_error(scope, err);
                return TCell {
                    negated: false,
                    tests: Vec::new(),
                    text,
                    span: cell.span,
                };
            }
        };
        match parsed.kind {
            CellKind::Any => TCell {
                negated: false,
                tests: Vec::new(),
                text,
                span: cell.span,
            },
            CellKind::Tests { negated, tests } => {
                let tests = tests
                    .iter()
                    .map(|t| self.test(scope, t, column, input))
                    .collect();
                TCell {
                    negated,
                    tests,
                    text,
                    span: cell.span,
                }
            }
        }
    }

    fn test(
        &mut self,
        scope: &mut Scope,
        test: &ast::UnaryTest,
        column: &str,
        input: &Type,
    ) -> TTest {
        match &test.kind {
            UnaryTestKind::Compare(op, expr) => {
                let e = self.operand(scope, expr, column, input, *op);
                TTest::Compare(*op, e)
            }
            UnaryTestKind::Equals(expr) => {
                let e = self.operand(scope, expr, column, input, CompareOp::Eq);
                TTest::Compare(CompareOp::Eq, e)
            }
            UnaryTestKind::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let lo = self.operand(scope, low, column, input, CompareOp::Ge);
                let hi = self.operand(scope, high, column, input, CompareOp::Le);
                TTest::Range {
                    low: lo,
                    low_inclusive: *low_inclusive,
                    high: hi,
                    high_inclusive: *high_inclusive,
                }
            }
        }
    }

    /// An operand of a cell test, checked to be comparable with the input.
    fn operand(
        &mut self,
        scope: &mut Scope,
        expr: &ast::Expr,
        column: &str,
        input: &Type,
        op: CompareOp,
    ) -> TExpr {
        let e = self.expr(scope, expr, Some(input));
        if !comparable(input, &e.ty, op) {
            let (i, o) = (self.show(input), self.show(&e.ty));
            let help = money_hint(&e.ty, input);
            let span = scope.span(expr.span);
            self.error(
                "type-mismatch",
                scope.file,
                span,
                format!("cannot compare input `{column}` ({i}) with {o}"),
            )
            .help = help;
        }
        e
    }
}
