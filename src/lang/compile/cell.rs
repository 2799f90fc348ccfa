//! A cell's tests → `Check`s: constant operands folded, enum variants as one
//! bit set, account-dependent operands kept as `Dynamic`; against an input of
//! known type a comparison or range becomes a typed range (`Ints`, `Dates`,
//! `Decimals`, `Bool`); and per table the `Matcher`, the rows' non-`-` cells
//! in flat arrays. Every check must mean what the checked cell means.

use rust_decimal::Decimal;

use crate::lang::semantics::{compare, in_range};

use super::code::Code;
use super::fold::fold;
use super::{Check, CompiledCell};
use crate::lang::ir::{TExpr, TExprKind, TTest};
use crate::lang::syntax::ast::CompareOp;
use crate::types::{Type, Value};

pub(super) fn compile_cell(cell: &crate::lang::ir::TCell, input: &Type) -> CompiledCell {
    if cell.tests.is_empty() && !cell.negated {
        return CompiledCell {
            any: true,
            negated: false,
            checks: Vec::new(),
        };
    }
    let mut checks = Vec::new();
    let mut enum_bits = 0u64;
    for test in &cell.tests {
        let mut test = test.clone();
        match &mut test {
            TTest::Compare(_, e) => fold(e),
            TTest::Range { low, high, .. } => {
                fold(low);
                fold(high);
            }
        }
        match test {
            TTest::Compare(
                CompareOp::Eq,
                TExpr {
                    kind: TExprKind::Const(Value::Enum(i)),
                    ..
                },
            ) if matches!(input, Type::Enum(_)) && i < 64 => {
                enum_bits |= 1 << i;
            }
            TTest::Compare(
                op,
                TExpr {
                    kind: TExprKind::Const(v),
                    ..
                },
            ) => checks.push(Check::Compare(op, v)),
            TTest::Range {
                low:
                    TExpr {
                        kind: TExprKind::Const(low),
                        ..
                    },
                low_inclusive,
                high:
                    TExpr {
                        kind: TExprKind::Const(high),
                        ..
                    },
                high_inclusive,
            } => checks.push(Check::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            }),
            dynamic => checks.push(Check::Dynamic(dynamic)),
        }
    }
    if enum_bits != 0 {
        checks.insert(0, Check::EnumSet(enum_bits));
    }
    CompiledCell {
        any: false,
        negated: cell.negated,
        checks,
    }
}

/// A table's cells for evaluation: per row, the cells that test something (a
/// `-` cell always matches and is left out), each with its checks, in three
/// flat arrays, so that matching a row reads contiguous memory and does no
/// work for `-` cells.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    /// Row `r`'s cells are `cells[row_starts[r]..row_starts[r + 1]]`.
    pub row_starts: Vec<u32>,
    pub cells: Vec<CellTest>,
    pub checks: Vec<Check>,
    /// Per check, for a per-account one (`Check::Dynamic`): its operands
    /// compiled (a comparison's, or a range's low and high), so that the
    /// evaluator runs them as code instead of walking their trees.
    pub operands: Vec<Option<Operands>>,
    /// Whether a per-account operand reads one of the table's inputs (then
    /// it needs an environment holding them all).
    pub operands_read_inputs: bool,
}

/// A per-account check's operands, compiled.
#[derive(Clone, Debug)]
pub enum Operands {
    Compare(Code),
    Range { low: Code, high: Code },
}

impl Operands {
    fn of(check: &Check) -> Option<Operands> {
        match check {
            Check::Dynamic(TTest::Compare(_, e)) => Some(Operands::Compare(Code::compile(e))),
            Check::Dynamic(TTest::Range { low, high, .. }) => Some(Operands::Range {
                low: Code::compile(low),
                high: Code::compile(high),
            }),
            _ => None,
        }
    }
}

/// One cell that tests its column's input.
#[derive(Clone, Debug)]
pub struct CellTest {
    /// The input column.
    pub input: u32,
    pub negated: bool,
    /// Whether a null input matches (the cell is `null`, or `not(...)` without `null`).
    pub null_matches: bool,
    /// `checks[first_check..end_check]`: the cell matches when any of them does (before `negated`).
    pub first_check: u32,
    pub end_check: u32,
}

impl Matcher {
    pub(super) fn build(rows: &[Vec<CompiledCell>], inputs: &[crate::lang::ir::Input]) -> Matcher {
        let mut m = Matcher::default();
        for row in rows {
            m.row_starts.push(m.cells.len() as u32);
            for (i, cell) in row.iter().enumerate() {
                if cell.any {
                    continue;
                }
                let null_matches = !cell.negated
                    && cell
                        .checks
                        .iter()
                        .any(|c| matches!(c, Check::Compare(CompareOp::Eq, Value::Null)));
                let first_check = m.checks.len() as u32;
                m.checks.extend(
                    cell.checks
                        .iter()
                        .map(|c| specialise(c.clone(), &inputs[i].expr.ty)),
                );
                m.operands.extend(cell.checks.iter().map(Operands::of));
                m.operands_read_inputs |= cell.checks.iter().any(|c| match c {
                    Check::Dynamic(TTest::Compare(_, e)) => reads_input(e),
                    Check::Dynamic(TTest::Range { low, high, .. }) => {
                        reads_input(low) || reads_input(high)
                    }
                    _ => false,
                });
                m.cells.push(CellTest {
                    input: i as u32,
                    negated: cell.negated,
                    null_matches,
                    first_check,
                    end_check: m.checks.len() as u32,
                });
            }
        }
        m.row_starts.push(m.cells.len() as u32);
        m
    }

    pub fn row(&self, r: usize) -> &[CellTest] {
        &self.cells[self.row_starts[r] as usize..self.row_starts[r + 1] as usize]
    }

    pub fn checks(&self, cell: &CellTest) -> &[Check] {
        &self.checks[cell.first_check as usize..cell.end_check as usize]
    }

    /// The compiled operands of `cell`'s checks, one per check.
    pub fn operands(&self, cell: &CellTest) -> &[Option<Operands>] {
        &self.operands[cell.first_check as usize..cell.end_check as usize]
    }
}

/// Whether `e` reads a table input anywhere.
fn reads_input(e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Input(_) => true,
        TExprKind::Const(_)
        | TExprKind::Account
        | TExprKind::AsOf
        | TExprKind::Local(_)
        | TExprKind::TableOutput { .. } => false,
        TExprKind::Field(base, _) | TExprKind::Project(base, _) | TExprKind::Unary(_, base) => {
            reads_input(base)
        }
        TExprKind::Binary(_, l, r) => reads_input(l) || reads_input(r),
        TExprKind::Call(_, args) => args.iter().any(reads_input),
        TExprKind::Each(each) => [Some(&each.list), each.filter.as_ref(), each.body.as_ref()]
            .into_iter()
            .flatten()
            .any(reads_input),
    }
}

/// A bound of a typed range check: the value and whether it is included.
pub type Bound<T> = Option<(T, bool)>;

/// A constant check against an input of a known type becomes a typed range, so
/// that matching does no dispatch on the constant's kind.
fn specialise(check: Check, input: &Type) -> Check {
    match input {
        Type::Bool => match check {
            Check::Compare(CompareOp::Eq, Value::Bool(b)) => Check::Bool(b),
            _ => check,
        },
        Type::Integer | Type::Days => typed_range(
            check,
            |v| match v {
                Value::Int(n) => Some(*n),
                _ => None,
            },
            |low, high| Check::Ints { low, high },
        ),
        Type::Date => typed_range(
            check,
            |v| match v {
                Value::Date(d) => Some(*d),
                _ => None,
            },
            |low, high| Check::Dates { low, high },
        ),
        Type::Money | Type::Decimal => {
            typed_range(check, decimal, |low, high| Check::Decimals { low, high })
        }
        _ => check,
    }
}

/// A comparison or range whose constants `value` reads as `T`, as the typed
/// check `make` builds from its bounds; any other check as it is.
fn typed_range<T: Copy>(
    check: Check,
    value: impl Fn(&Value) -> Option<T>,
    make: impl Fn(Bound<T>, Bound<T>) -> Check,
) -> Check {
    let typed = match &check {
        Check::Compare(op, v) => value(v).and_then(|v| bounds(*op, v)),
        Check::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        } => match (value(low), value(high)) {
            (Some(lo), Some(hi)) => Some((Some((lo, *low_inclusive)), Some((hi, *high_inclusive)))),
            _ => None,
        },
        _ => None,
    };
    match typed {
        Some((low, high)) => make(low, high),
        None => check,
    }
}

/// `x op v` as bounds on `x`; `None` for `!=`, which is not one range.
fn bounds<T: Copy>(op: CompareOp, v: T) -> Option<(Bound<T>, Bound<T>)> {
    match op {
        CompareOp::Lt => Some((None, Some((v, false)))),
        CompareOp::Le => Some((None, Some((v, true)))),
        CompareOp::Gt => Some((Some((v, false)), None)),
        CompareOp::Ge => Some((Some((v, true)), None)),
        CompareOp::Eq => Some((Some((v, true)), Some((v, true)))),
        CompareOp::Ne => None,
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::Dec(d) => Some(*d),
        _ => None,
    }
}

/// `x` within the bounds (`None`: unbounded on that side).
#[inline(always)]
fn within<T: PartialOrd>(x: &T, low: &Bound<T>, high: &Bound<T>) -> bool {
    let above = match low {
        None => true,
        Some((b, true)) => x >= b,
        Some((b, false)) => x > b,
    };
    above
        && match high {
            None => true,
            Some((b, true)) => x <= b,
            Some((b, false)) => x < b,
        }
}

impl Check {
    /// The typed checks against a non-null input of their own type, decided
    /// inline; `None` for anything else (a widened number, a generic
    /// comparison, a per-account operand).
    #[inline(always)]
    pub fn fast_outcome(&self, input: &Value) -> Option<bool> {
        Some(match self {
            Check::Bool(b) => matches!(input, Value::Bool(x) if x == b),
            Check::EnumSet(bits) => {
                matches!(input, Value::Enum(i) if *i < 64 && bits & (1u64 << i) != 0)
            }
            Check::Ints { low, high } => match input {
                Value::Int(n) => within(n, low, high),
                _ => return None,
            },
            Check::Dates { low, high } => matches!(input, Value::Date(d) if within(d, low, high)),
            Check::Decimals { low, high } => match input {
                Value::Dec(d) => within(d, low, high),
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Whether a non-null `input` passes this check; `None` only for a
    /// per-account operand (`Dynamic`), which needs the account.
    pub fn constant_outcome(&self, input: &Value) -> Option<bool> {
        if let Some(hit) = self.fast_outcome(input) {
            return Some(hit);
        }
        Some(match self {
            Check::Ints { low, high } => match input {
                Value::Dec(d) => {
                    let widen =
                        |b: &Bound<i64>| b.map(|(v, inclusive)| (Decimal::from(v), inclusive));
                    within(d, &widen(low), &widen(high))
                }
                _ => false,
            },
            Check::Decimals { low, high } => match input {
                Value::Int(n) => within(&Decimal::from(*n), low, high),
                _ => false,
            },
            // Decided by `fast_outcome` whatever the input.
            Check::Bool(_) | Check::EnumSet(_) | Check::Dates { .. } => false,
            Check::Compare(op, v) => compare(*op, input, v),
            Check::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => in_range(input, low, *low_inclusive, high, *high_inclusive),
            Check::Dynamic(_) => return None,
        })
    }
}
