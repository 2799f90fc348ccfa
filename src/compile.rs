//! The compiler: a checked [`Program`] → an evaluation [`Plan`]. Constant
//! operands are folded once; cell tests become typed checks against constant
//! values or enum bit sets, so evaluating a cell does no lookups or parsing.

use crate::eval::eval_constant;
use crate::ir::{EachExpr, Program, TExpr, TExprKind, TTest, Table};
use crate::syntax::ast::CompareOp;
use crate::types::{Type, Value};
use rust_decimal::Decimal;

/// One test of a cell against the column's input value.
#[derive(Clone, Debug)]
pub enum Check {
    Compare(CompareOp, Value),
    Range {
        low: Value,
        low_inclusive: bool,
        high: Value,
        high_inclusive: bool,
    },
    /// Input equals one of these enum variants (bit `i` = variant `i`).
    EnumSet(u64),
    /// An operand that depends on the account: evaluated per account.
    Dynamic(TTest),
}

#[derive(Clone, Debug)]
pub struct CompiledCell {
    pub any: bool,
    pub negated: bool,
    pub checks: Vec<Check>,
}

#[derive(Clone, Debug)]
pub struct CompiledTable {
    pub table: Table,
    /// Per row, one compiled cell per input.
    pub rows: Vec<Vec<CompiledCell>>,
    /// For a large table whose first column tests a number against constants:
    /// the rows that can match, by the first input's value.
    pub index: Option<RowIndex>,
}

/// Candidate rows of a table by the value of its first input. The bounds of
/// every first-column cell cut the number line into segments (each bound a
/// point of its own, and the open gaps between); a cell's outcome is the same
/// everywhere inside a segment, so each segment lists the rows whose first
/// cell matches there, in row order. Lookup is a binary search.
#[derive(Clone, Debug)]
pub struct RowIndex {
    bounds: Vec<Decimal>,
    /// Per segment (`2 * bounds.len() + 1` of them), its slice of `rows`.
    starts: Vec<u32>,
    rows: Vec<u32>,
}

/// Tables with fewer rows are scanned.
const INDEX_MIN_ROWS: usize = 16;

impl RowIndex {
    /// The rows (ascending) whose first cell can match `x`; `None` when `x` is
    /// not a number (null): scan every row.
    pub fn candidates(&self, x: &Value) -> Option<&[u32]> {
        let x = match x {
            Value::Int(n) => Decimal::from(*n),
            Value::Dec(d) => *d,
            _ => return None,
        };
        let i = self.bounds.partition_point(|b| *b < x);
        let seg = if self.bounds.get(i) == Some(&x) {
            2 * i + 1
        } else {
            2 * i
        };
        Some(&self.rows[self.starts[seg] as usize..self.starts[seg + 1] as usize])
    }

    fn build(rows: &[Vec<CompiledCell>], input: &Type) -> Option<RowIndex> {
        if rows.len() < INDEX_MIN_ROWS
            || !matches!(
                input,
                Type::Integer | Type::Days | Type::Money | Type::Decimal
            )
        {
            return None;
        }
        let num = |v: &Value| match v {
            Value::Int(n) => Some(Decimal::from(*n)),
            Value::Dec(d) => Some(*d),
            _ => None,
        };
        let mut bounds = Vec::new();
        for row in rows {
            let cell = row.first()?;
            if cell.any {
                continue;
            }
            for check in &cell.checks {
                match check {
                    Check::Compare(_, v) => bounds.push(num(v)?),
                    Check::Range { low, high, .. } => {
                        bounds.push(num(low)?);
                        bounds.push(num(high)?);
                    }
                    _ => return None,
                }
            }
        }
        bounds.sort();
        bounds.dedup();
        if bounds.is_empty() {
            return None;
        }
        let last = bounds.len() - 1;
        let mut starts = Vec::with_capacity(2 * bounds.len() + 2);
        let mut members = Vec::new();
        let limit = 32 * rows.len() + 1024;
        for seg in 0..=2 * bounds.len() {
            let i = seg / 2;
            let at = if seg % 2 == 1 {
                bounds[i]
            } else if i == 0 {
                bounds[0].checked_sub(Decimal::ONE)?
            } else if i > last {
                bounds[last].checked_add(Decimal::ONE)?
            } else {
                let mid = (bounds[i - 1].checked_add(bounds[i])?) / Decimal::TWO;
                if mid <= bounds[i - 1] || mid >= bounds[i] {
                    return None;
                }
                mid
            };
            starts.push(members.len() as u32);
            let x = Value::Dec(at);
            for (r, row) in rows.iter().enumerate() {
                if constant_cell_matches(&row[0], &x) {
                    members.push(r as u32);
                }
            }
            if members.len() > limit {
                return None;
            }
        }
        starts.push(members.len() as u32);
        Some(RowIndex {
            bounds,
            starts,
            rows: members,
        })
    }
}

/// A cell of constant checks against a non-null number, as the evaluator sees it.
fn constant_cell_matches(cell: &CompiledCell, x: &Value) -> bool {
    if cell.any {
        return true;
    }
    let hit = cell.checks.iter().any(|c| match c {
        Check::Compare(op, v) => crate::eval::compare(*op, x, v),
        Check::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        } => crate::eval::in_range(x, low, *low_inclusive, high, *high_inclusive),
        _ => false,
    });
    hit != cell.negated
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub program: Program,
    pub tables: Vec<CompiledTable>,
    pub order: Vec<u32>,
}

impl Plan {
    pub fn schema(&self) -> &crate::schema::Schema {
        &self.program.schema
    }

    /// A row's (or default's, or aggregate's) values as a JSON object keyed by output name.
    pub fn outputs_json(&self, table: &crate::ir::Table, values: &[Value]) -> serde_json::Value {
        serde_json::Value::Object(
            table
                .result_columns()
                .iter()
                .zip(values)
                .map(|(o, v)| {
                    (
                        o.name.clone(),
                        crate::types::value_to_json(v, &o.ty, self.schema()),
                    )
                })
                .collect(),
        )
    }
}

pub fn compile(program: Program) -> Plan {
    let tables = program
        .tables
        .iter()
        .map(|t| {
            let mut table = t.clone();
            for input in &mut table.inputs {
                fold(&mut input.expr);
            }
            for row in &mut table.rows {
                row.outputs.iter_mut().for_each(fold);
            }
            if let Some(default) = &mut table.default {
                default.iter_mut().for_each(fold);
            }
            let rows: Vec<Vec<CompiledCell>> = table
                .rows
                .iter()
                .map(|row| {
                    row.cells
                        .iter()
                        .zip(&table.inputs)
                        .map(|(cell, input)| compile_cell(cell, &input.expr.ty))
                        .collect()
                })
                .collect();
            let index = table
                .inputs
                .first()
                .and_then(|input| RowIndex::build(&rows, &input.expr.ty));
            CompiledTable { table, rows, index }
        })
        .collect();
    let order = program.order.clone();
    Plan {
        program,
        tables,
        order,
    }
}

fn compile_cell(cell: &crate::ir::TCell, input: &Type) -> CompiledCell {
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

/// Whether an expression reads the account, inputs, locals or other tables.
fn is_constant(e: &TExpr) -> bool {
    match &e.kind {
        TExprKind::Const(_) => true,
        TExprKind::Account
        | TExprKind::AsOf
        | TExprKind::Local(_)
        | TExprKind::Input(_)
        | TExprKind::TableOutput { .. } => false,
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => {
            is_constant(b)
        }
        TExprKind::Binary(_, l, r) => is_constant(l) && is_constant(r),
        TExprKind::Call(_, args) => args.iter().all(is_constant),
        TExprKind::Each(_) => false,
    }
}

/// Replaces constant subexpressions by their value. An expression whose
/// evaluation fails (e.g. `1 / 0`) is left to fail per account.
pub(crate) fn fold(e: &mut TExpr) {
    if matches!(e.kind, TExprKind::Const(_)) {
        return;
    }
    if is_constant(e) {
        if let Some(v) = eval_constant(e) {
            e.kind = TExprKind::Const(v);
        }
        return;
    }
    match &mut e.kind {
        TExprKind::Field(b, _) | TExprKind::Project(b, _) | TExprKind::Unary(_, b) => fold(b),
        TExprKind::Binary(_, l, r) => {
            fold(l);
            fold(r);
        }
        TExprKind::Call(_, args) => args.iter_mut().for_each(fold),
        TExprKind::Each(each) => {
            let EachExpr {
                list, filter, body, ..
            } = each.as_mut();
            fold(list);
            if let Some(f) = filter {
                fold(f);
            }
            if let Some(b) = body {
                fold(b);
            }
        }
        _ => {}
    }
}
