//! A condition cell's tests from pest's pairs: comparisons, ranges and plain
//! values, and the refusal of `5 - 10` written for a range. Operands are
//! built by `expr`; it must not resolve names or check types.

use pest::iterators::{Pair, Pairs};

use super::expr::build_expr;
use super::{span_of, ParseError, Rule};
use crate::lang::syntax::ast::{
    BinaryOp, CompareOp, Expr, ExprKind, Literal, UnaryTest, UnaryTestKind,
};
use crate::source::Span;

pub(super) fn build_tests(list: Pair<'_, Rule>) -> Result<Vec<UnaryTest>, ParseError> {
    let mut tests = Vec::new();
    for p in list.into_inner() {
        if p.as_rule() == Rule::unary_test {
            tests.push(build_test(p)?);
        }
    }
    Ok(tests)
}

fn build_test(pair: Pair<'_, Rule>) -> Result<UnaryTest, ParseError> {
    let span = span_of(&pair);
    let text = pair.as_str();
    let inner = pair
        .into_inner()
        .next()
        .ok_or_else(|| ParseError::new("internal parser error", span))?;
    let kind = match inner.as_rule() {
        Rule::compare_test => {
            let mut it = inner.into_inner();
            let op_pair = it
                .next()
                .and_then(|p| p.into_inner().next())
                .ok_or_else(|| ParseError::new("internal parser error", span))?;
            let op = match op_pair.as_rule() {
                Rule::op_eq => CompareOp::Eq,
                Rule::op_ne => CompareOp::Ne,
                Rule::op_lt => CompareOp::Lt,
                Rule::op_le => CompareOp::Le,
                Rule::op_gt => CompareOp::Gt,
                _ => CompareOp::Ge,
            };
            let e = it
                .find(|p| p.as_rule() == Rule::expr)
                .ok_or_else(|| ParseError::new("internal parser error", span))?;
            UnaryTestKind::Compare(op, build_expr(e)?.0)
        }
        Rule::range_test => build_range(inner.into_inner(), span)?,
        _ => {
            let (e, _) = build_expr(inner)?;
            reject_dash_range(&e, text)?;
            UnaryTestKind::Equals(e)
        }
    };
    Ok(UnaryTest { kind, span })
}

fn build_range(pairs: Pairs<'_, Rule>, span: Span) -> Result<UnaryTestKind, ParseError> {
    let mut low_inclusive = true;
    let mut high_inclusive = true;
    let mut bounds = Vec::with_capacity(2);
    for p in pairs {
        match p.as_rule() {
            Rule::range_open => low_inclusive = p.as_str() == "[",
            Rule::range_close => high_inclusive = p.as_str() == "]",
            Rule::expr => bounds.push(build_expr(p)?.0),
            _ => {}
        }
    }
    let mut bounds = bounds.into_iter();
    match (bounds.next(), bounds.next()) {
        (Some(low), Some(high)) => Ok(UnaryTestKind::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        }),
        _ => Err(ParseError::new("internal parser error", span)),
    }
}

/// A bare cell `5 - 10` (literal minus literal, no brackets) is almost
/// certainly a range written the spreadsheet way, not a subtraction.
fn reject_dash_range(e: &Expr, text: &str) -> Result<(), ParseError> {
    let ExprKind::Binary(BinaryOp::Sub, l, r) = &e.kind else {
        return Ok(());
    };
    let is_lit = |x: &Expr| {
        matches!(
            x.kind,
            ExprKind::Literal(
                Literal::Integer(_)
                    | Literal::Decimal(_)
                    | Literal::Money { .. }
                    | Literal::Date(_)
                    | Literal::Percent(_)
            )
        )
    };
    if text.starts_with('(') || !is_lit(l) || !is_lit(r) {
        return Ok(());
    }
    let low = text.get(l.span.start - e.span.start..l.span.end - e.span.start);
    let high = text.get(r.span.start - e.span.start..r.span.end - e.span.start);
    let (Some(low), Some(high)) = (low, high) else {
        return Ok(());
    };
    Err(ParseError::new(
        format!("`{}` is a subtraction, not a range", text.trim()),
        e.span,
    )
    .with_help(format!("write a range as `[{low}..{high}]`")))
}
