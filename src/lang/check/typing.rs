//! The typing rules as plain functions of types: which types compare, what
//! arithmetic yields, what may fill an output (and the integer constant stored
//! as a decimal there), and the hints for a value written as the wrong type.
//! No `Checker` and no diagnostics here: the callers report.

use crate::lang::ir::*;
use crate::lang::syntax::ast::CompareOp;
use crate::types::{Type, Value};

pub(super) fn bool_like(t: &Type) -> bool {
    matches!(t, Type::Bool | Type::Null | Type::Error)
}

pub(super) fn orderable(t: &Type) -> bool {
    matches!(
        t,
        Type::Integer | Type::Decimal | Type::Money | Type::Days | Type::Date | Type::Error
    )
}

pub(super) fn summable(t: &Type) -> bool {
    matches!(
        t,
        Type::Integer | Type::Decimal | Type::Money | Type::Days | Type::Error
    )
}

pub(super) fn unify_numeric(a: &Type, b: &Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Type::Integer, Type::Decimal) | (Type::Decimal, Type::Integer) => Some(Type::Decimal),
        (Type::Integer, Type::Days) | (Type::Days, Type::Integer) => Some(Type::Days),
        (Type::Error, t) | (t, Type::Error) => Some(t.clone()),
        _ => None,
    }
}

/// Whether an input of type `a` can be compared with `b` by `op`.
pub(super) fn comparable(a: &Type, b: &Type, op: CompareOp) -> bool {
    if a.is_unknown() || b.is_unknown() {
        return true;
    }
    let ordering = !matches!(op, CompareOp::Eq | CompareOp::Ne);
    let same_family = a == b
        || (a.is_numeric() && b.is_numeric())
        || matches!(
            (a, b),
            (Type::Days, Type::Integer) | (Type::Integer, Type::Days)
        );
    same_family && (!ordering || !matches!(a, Type::Bool | Type::Record(_) | Type::List(_)))
}

/// The result type of `a op b` for arithmetic operators.
pub(super) fn arithmetic(op: BinOp, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    if a.is_unknown() || b.is_unknown() {
        return Some(if *a == Type::Null {
            b.clone()
        } else {
            a.clone()
        });
    }
    match (op, a, b) {
        (BinOp::Add | BinOp::Sub, Integer, Integer) => Some(Integer),
        (BinOp::Add | BinOp::Sub, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Add | BinOp::Sub, Money, Money) => Some(Money),
        (BinOp::Add | BinOp::Sub, Days, Days | Integer) | (BinOp::Add, Integer, Days) => Some(Days),
        (BinOp::Add | BinOp::Sub, Date, Days) | (BinOp::Add, Days, Date) => Some(Date),
        (BinOp::Sub, Date, Date) => Some(Days),
        (BinOp::Add, Text, Text) => Some(Text),
        (BinOp::Mul, Integer, Integer) => Some(Integer),
        (BinOp::Mul, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Mul, Money, Integer | Decimal) | (BinOp::Mul, Integer | Decimal, Money) => {
            Some(Money)
        }
        (BinOp::Mul, Days, Integer) | (BinOp::Mul, Integer, Days) => Some(Days),
        (BinOp::Div, Integer | Decimal, Integer | Decimal) => Some(Decimal),
        (BinOp::Div, Money, Integer | Decimal) => Some(Money),
        (BinOp::Div, Money, Money) => Some(Decimal),
        _ => None,
    }
}

/// Whether a value of type `actual` may fill an output declared `declared`.
pub(super) fn fits(actual: &Type, declared: &Type) -> bool {
    actual == declared
        || actual.is_unknown()
        || *declared == Type::Error
        || matches!(
            (actual, declared),
            (Type::Integer, Type::Decimal | Type::Days)
        )
}

/// Integer constants stored as decimals where a decimal output expects them.
pub(super) fn coerce(expr: TExpr, declared: &Type) -> TExpr {
    match (&expr.kind, &expr.ty, declared) {
        (TExprKind::Const(Value::Int(n)), Type::Integer, Type::Decimal) => TExpr {
            kind: TExprKind::Const(Value::Dec((*n).into())),
            ty: Type::Decimal,
        },
        _ => expr,
    }
}

/// How a value of a type is written, for a bare word where one was expected.
pub(super) fn how_written(ty: &Type) -> Option<String> {
    Some(
        match ty {
            Type::Money => "money is written with its currency: `$5`, `$12.50` or `5.00 USD`",
            Type::Bool => "a boolean is written `true` or `false`",
            Type::Date => "a date is written `2026-11-22`",
            Type::Integer | Type::Decimal => "a number is written `5`, `12.5` or `20%`",
            Type::Days => "days are written `30 days` or as a number",
            _ => return None,
        }
        .into(),
    )
}

pub(super) fn money_hint(value: &Type, wanted: &Type) -> Option<String> {
    match (value, wanted) {
        (Type::Integer | Type::Decimal, Type::Money) => {
            Some("write money with its currency: `$5` or `5.00 USD`".into())
        }
        (Type::Text, Type::Date) => Some("write dates bare, without quotes: `2026-11-22`".into()),
        // `2026/11/22` parses as a division and `11-22-2026` as a subtraction.
        (Type::Integer | Type::Decimal, Type::Date) => Some(
            "write dates year first, with dashes: `2026-11-22` (`2026/11/22` and `11-22-2026` are arithmetic on numbers)".into(),
        ),
        (Type::Money, Type::Integer | Type::Decimal | Type::Days) => Some(
            "the other side is a number, not money: write it without `$` or a currency code".into(),
        ),
        _ => None,
    }
}
