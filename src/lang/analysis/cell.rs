//! What one cell of a column matches, read from its tests: constant operands
//! folded, whether null matches, the interval set of an ordered cell, the
//! finite points (booleans, enum variants, text literals) a cell takes, and
//! why a cell cannot be decided. It looks at one cell at a time and must not
//! cut columns into pieces or compare rows (that is `space` and `search`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::domain::{IntervalSet, Line};
use crate::data::schema::Schema;
use crate::lang::ir::{TCell, TExpr, TExprKind, TTest};
use crate::lang::syntax::ast::CompareOp;
use crate::types::{format_money, Type, Value};

pub(super) fn constant(e: &TExpr) -> Option<&Value> {
    match &e.kind {
        TExprKind::Const(v) => Some(v),
        _ => None,
    }
}

pub(super) fn is_any(cell: &TCell) -> bool {
    cell.tests.is_empty() && !cell.negated
}

/// Whether a test compares with a value read from the account.
fn is_dynamic(t: &TTest) -> bool {
    match t {
        TTest::Compare(_, e) => constant(e).is_none(),
        TTest::Range { low, high, .. } => constant(low).is_none() || constant(high).is_none(),
    }
}

/// Why a cell with tests `ts` cannot be decided: an operand read from the
/// account, or else `otherwise` (what the column's type does not model).
pub(super) fn undecided_why(ts: &[TTest], otherwise: &str) -> String {
    if ts.iter().any(is_dynamic) {
        "it compares with a value that depends on the account".to_string()
    } else {
        otherwise.to_string()
    }
}

/// The cell's tests with constant operands folded.
pub(super) fn folded(cell: &TCell) -> Vec<TTest> {
    cell.tests
        .iter()
        .map(|t| {
            let mut t = t.clone();
            match &mut t {
                TTest::Compare(_, e) => crate::lang::compile::fold(e),
                TTest::Range { low, high, .. } => {
                    crate::lang::compile::fold(low);
                    crate::lang::compile::fold(high);
                }
            }
            t
        })
        .collect()
}

/// Whether a null input matches the cell: only `-` and `null` do.
pub(super) fn matches_null(cell: &TCell, tests: &[TTest]) -> bool {
    is_any(cell)
        || (!cell.negated
            && tests.iter().any(|t| {
                matches!(t, TTest::Compare(CompareOp::Eq, e) if matches!(constant(e), Some(Value::Null)))
            }))
}

/// Whether an input expression can be null: a path through an optional field
/// (arithmetic and `min`/`max`/`abs`/`round`/`days_between`/`month_day` pass null on).
pub(super) fn nullable(schema: &Schema, e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(v) => v.is_null(),
        TExprKind::Field(base, slot) => {
            nullable(schema, base)
                || matches!(&base.ty, Type::Record(id)
                    if schema.record(*id).fields.get(*slot as usize).is_some_and(|f| f.optional))
        }
        TExprKind::Unary(_, b) => nullable(schema, b),
        TExprKind::Binary(crate::lang::ir::BinOp::Compare(_), _, _) => false,
        TExprKind::Binary(_, l, r) => nullable(schema, l) || nullable(schema, r),
        TExprKind::Call(f, args) => {
            use crate::lang::ir::Builtin as B;
            matches!(
                f,
                B::Min
                    | B::Max
                    | B::Abs
                    | B::Round
                    | B::DaysBetween
                    | B::MonthDay
                    | B::NextMonthDay
            ) && args.iter().any(|a| nullable(schema, a))
        }
        _ => false,
    }
}

fn key(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::Dec(d) => Some(*d),
        Value::Date(d) => Some(Decimal::from(chrono::Datelike::num_days_from_ce(d))),
        _ => None,
    }
}

/// The non-null values an ordered cell's tests match.
pub(super) fn ordered_region(line: Line, tests: &[TTest], negated: bool) -> Option<IntervalSet> {
    let mut set = IntervalSet::empty(line);
    for t in tests {
        let part = match t {
            TTest::Compare(op, e) => {
                let v = constant(e)?;
                if v.is_null() {
                    if *op == CompareOp::Ne {
                        IntervalSet::all(line)
                    } else {
                        IntervalSet::empty(line)
                    }
                } else {
                    let k = key(v)?;
                    match op {
                        CompareOp::Eq => IntervalSet::point(line, k),
                        CompareOp::Ne => IntervalSet::point(line, k).complement(),
                        CompareOp::Lt => IntervalSet::interval(line, None, Some((k, false))),
                        CompareOp::Le => IntervalSet::interval(line, None, Some((k, true))),
                        CompareOp::Gt => IntervalSet::interval(line, Some((k, false)), None),
                        CompareOp::Ge => IntervalSet::interval(line, Some((k, true)), None),
                    }
                }
            }
            TTest::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let (lo, hi) = (constant(low)?, constant(high)?);
                if lo.is_null() || hi.is_null() {
                    IntervalSet::empty(line)
                } else {
                    IntervalSet::interval(
                        line,
                        Some((key(lo)?, *low_inclusive)),
                        Some((key(hi)?, *high_inclusive)),
                    )
                }
            }
        };
        set = set.union(&part);
    }
    Some(if negated { set.complement() } else { set })
}

pub(super) fn show_ordered(ty: &Type, x: Decimal) -> String {
    match ty {
        Type::Money if x.is_sign_negative() => format!("-${}", format_money(-x)),
        Type::Money => format!("${}", format_money(x)),
        Type::Days => format!("{x} days"),
        Type::Date => i32::try_from(x.trunc().mantissa())
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map_or_else(|| format!("day {x}"), |d| d.to_string()),
        _ => x.normalize().to_string(),
    }
}

/// A point of a finite domain: a value, or "any text not written in the column" (shown as the given text).
pub(super) enum Point {
    Value(Value),
    OtherText(String),
}

/// Whether a non-null finite point matches a cell; `None` when that needs an
/// ordering of texts the analysis does not model.
pub(super) fn point_matches(p: &Point, tests: &[TTest], negated: bool) -> Option<bool> {
    let mut hit = false;
    for t in tests {
        let m = match (p, t) {
            (Point::Value(v), TTest::Compare(op, e)) => {
                crate::lang::semantics::compare(*op, v, constant(e)?)
            }
            (
                Point::Value(v),
                TTest::Range {
                    low,
                    low_inclusive,
                    high,
                    high_inclusive,
                },
            ) => crate::lang::semantics::in_range(
                v,
                constant(low)?,
                *low_inclusive,
                constant(high)?,
                *high_inclusive,
            ),
            (Point::OtherText(_), TTest::Compare(CompareOp::Eq, e)) => {
                constant(e)?;
                false
            }
            (Point::OtherText(_), TTest::Compare(CompareOp::Ne, e)) => {
                constant(e)?;
                true
            }
            (Point::OtherText(_), _) => return None,
        };
        hit |= m;
    }
    Some(hit != negated)
}

/// A value of an ordered type at a point of its line.
pub(super) fn ordered_value(ty: &Type, x: Decimal) -> Option<Value> {
    use rust_decimal::prelude::ToPrimitive;
    match ty {
        Type::Integer | Type::Days => x.to_i64().map(Value::Int),
        Type::Date => x
            .to_i32()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map(Value::Date),
        _ => Some(Value::Dec(x)),
    }
}
