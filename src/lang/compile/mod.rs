//! The compiler: a checked [`Program`] → an evaluation [`Plan`]. Constant
//! operands are folded once; cell tests become typed checks against constant
//! values or enum bit sets, so evaluating a cell does no lookups or parsing.
//! It must not change what a table decides, only how fast: every check means
//! what the checked cell means (`lang::semantics`).

use crate::lang::ir::{EachExpr, Program, TExpr, TExprKind, TTest, Table};
use crate::lang::semantics::eval_constant;
use crate::lang::syntax::ast::CompareOp;
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
    /// A bool input equals this.
    Bool(bool),
    /// An integer (or days) input within the bounds (`None`: unbounded).
    Ints {
        low: Bound<i64>,
        high: Bound<i64>,
    },
    Dates {
        low: Bound<chrono::NaiveDate>,
        high: Bound<chrono::NaiveDate>,
    },
    /// A money or decimal input within the bounds.
    Decimals {
        low: Bound<Decimal>,
        high: Bound<Decimal>,
    },
    /// An operand that depends on the account: evaluated per account.
    Dynamic(TTest),
}

#[derive(Clone, Debug)]
pub struct CompiledCell {
    pub any: bool,
    pub negated: bool,
    pub checks: Vec<Check>,
}

/// A rule that caused an action: `table:row-id`, `table:default`,
/// `template:name/event-id` or `experiment:name/arm`. Shared with the plan, so
/// an action's rules are counted references, not copies.
pub type RuleRef = std::sync::Arc<str>;

#[derive(Clone, Debug)]
pub struct CompiledTable {
    pub table: Table,
    /// For a large table whose first column tests a number against constants:
    /// the rows that can match, by the first input's value.
    pub index: Option<RowIndex>,
    /// What the evaluator runs: the rows' cells in flat arrays, `-` cells left out.
    pub matcher: Matcher,
    /// Per row, its outputs when they are all constants (most rows): no
    /// expression is evaluated when such a row decides.
    pub constant_outputs: Vec<Option<crate::lang::semantics::Values>>,
    /// The default's outputs when they are all constants.
    pub constant_default: Option<crate::lang::semantics::Values>,
    /// The table's name, shared by the actions that carry it.
    pub name: std::sync::Arc<str>,
    /// The name and type of each value of its single result (its result columns).
    pub results: Vec<(std::sync::Arc<str>, Type)>,
    /// The rule reference of each row (`table:row`), and of the default (`table:default`).
    pub row_refs: Vec<RuleRef>,
    pub default_ref: RuleRef,
    /// Per input, how to read it: most inputs are a field path, read in place.
    pub input_reads: Vec<InputRead>,
}

/// How an input column's value is obtained.
#[derive(Clone, Debug)]
pub enum InputRead {
    /// Fields `slots` (outermost first) of the account or of a local (the
    /// `for_each` item, a param): `account.pay_plan.active`.
    Path { local: Option<u32>, slots: Vec<u32> },
    /// Anything else: the expression is evaluated.
    Expr,
}

impl InputRead {
    fn of(e: &TExpr) -> InputRead {
        let mut slots = Vec::new();
        let mut at = e;
        loop {
            match &at.kind {
                TExprKind::Field(base, slot) => {
                    slots.push(*slot);
                    at = base;
                }
                TExprKind::Account | TExprKind::Local(_) if !slots.is_empty() => {
                    slots.reverse();
                    let local = match at.kind {
                        TExprKind::Local(i) => Some(i),
                        _ => None,
                    };
                    return InputRead::Path { local, slots };
                }
                _ => return InputRead::Expr,
            }
        }
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
    fn build(rows: &[Vec<CompiledCell>], inputs: &[crate::lang::ir::Input]) -> Matcher {
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
        // Every segment must hold a number of its own (the midpoint of two
        // close 28-digit bounds may round onto one of them).
        for i in 0..=bounds.len() {
            let ok = if i == 0 {
                bounds[0].checked_sub(Decimal::ONE).is_some()
            } else if i > last {
                bounds[last].checked_add(Decimal::ONE).is_some()
            } else {
                let mid = (bounds[i - 1].checked_add(bounds[i])?) / Decimal::TWO;
                mid > bounds[i - 1] && mid < bounds[i]
            };
            if !ok {
                return None;
            }
        }
        // Each row is added to the segments its cell matches, found by binary
        // search: linear in rows plus the index's size, which is capped.
        let segments = 2 * bounds.len() + 1;
        let point = |v: &Value| num(v).map(|v| 2 * bounds.partition_point(|b| *b < v) + 1);
        let mut per_segment: Vec<Vec<u32>> = vec![Vec::new(); segments];
        let mut members = 0usize;
        let limit = 32 * rows.len() + 1024;
        for (r, row) in rows.iter().enumerate() {
            let cell = &row[0];
            let spans = if cell.any {
                vec![(0, segments - 1)]
            } else {
                matched_segments(cell, segments, point)?
            };
            for (from, to) in spans {
                members += to + 1 - from;
                if members > limit {
                    return None;
                }
                for list in &mut per_segment[from..=to] {
                    list.push(r as u32);
                }
            }
        }
        let mut starts = Vec::with_capacity(segments + 1);
        let mut all = Vec::with_capacity(members);
        for list in per_segment {
            starts.push(all.len() as u32);
            all.extend(list);
        }
        starts.push(all.len() as u32);
        Some(RowIndex {
            bounds,
            starts,
            rows: all,
        })
    }
}

/// The segments (inclusive ranges, sorted, disjoint) where a cell of constant
/// checks matches, as [`constant_cell_matches`] decides it; `point(v)` is the
/// segment of bound `v`. `None` if a check is not a numeric comparison.
fn matched_segments(
    cell: &CompiledCell,
    segments: usize,
    point: impl Fn(&Value) -> Option<usize>,
) -> Option<Vec<(usize, usize)>> {
    let last = segments - 1;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for check in &cell.checks {
        match check {
            Check::Compare(op, v) => {
                let p = point(v)?;
                match op {
                    CompareOp::Lt => spans.push((0, p - 1)),
                    CompareOp::Le => spans.push((0, p)),
                    CompareOp::Gt => spans.push((p + 1, last)),
                    CompareOp::Ge => spans.push((p, last)),
                    CompareOp::Eq => spans.push((p, p)),
                    CompareOp::Ne => {
                        spans.push((0, p - 1));
                        spans.push((p + 1, last));
                    }
                }
            }
            Check::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => {
                let (lo, hi) = (point(low)?, point(high)?);
                let from = if *low_inclusive { lo } else { lo + 1 };
                let to = if *high_inclusive { hi } else { hi - 1 };
                if from <= to {
                    spans.push((from, to));
                }
            }
            _ => return None,
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match merged.last_mut() {
            Some(prev) if from <= prev.1 + 1 => prev.1 = prev.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    if !cell.negated {
        return Some(merged);
    }
    let mut complement = Vec::with_capacity(merged.len() + 1);
    let mut next = 0;
    for (from, to) in merged {
        if from > next {
            complement.push((next, from - 1));
        }
        next = to + 1;
    }
    if next <= last {
        complement.push((next, last));
    }
    Some(complement)
}

/// A cell of constant checks against a non-null number, as the evaluator sees it:
/// what the index must agree with.
#[cfg(test)]
fn constant_cell_matches(cell: &CompiledCell, x: &Value) -> bool {
    if cell.any {
        return true;
    }
    let hit = cell.checks.iter().any(|c| match c {
        Check::Compare(op, v) => crate::lang::semantics::compare(*op, x, v),
        Check::Range {
            low,
            low_inclusive,
            high,
            high_inclusive,
        } => crate::lang::semantics::in_range(x, low, *low_inclusive, high, *high_inclusive),
        _ => false,
    });
    hit != cell.negated
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub program: Program,
    pub tables: Vec<CompiledTable>,
    pub order: Vec<u32>,
    /// The most inputs of any table: the evaluator's scratch space for them
    /// is allocated once per account, at this size.
    pub max_inputs: usize,
}

impl Plan {
    pub fn schema(&self) -> &crate::data::schema::Schema {
        &self.program.schema
    }

    /// Table `t`'s result values (a row's, the default's or the aggregate) as
    /// JSON, each with its column name.
    pub fn named_outputs<'a>(
        &'a self,
        t: u32,
        values: &'a [Value],
    ) -> impl Iterator<Item = (&'a std::sync::Arc<str>, serde_json::Value)> + 'a {
        self.tables[t as usize]
            .results
            .iter()
            .zip(values)
            .map(|((name, ty), v)| (name, crate::types::value_to_json(v, ty, self.schema())))
    }

    /// Table `t`'s result values as a JSON object keyed by output name.
    pub fn outputs_json(&self, t: u32, values: &[Value]) -> serde_json::Value {
        serde_json::Value::Object(
            self.named_outputs(t, values)
                .map(|(name, v)| (name.to_string(), v))
                .collect(),
        )
    }
}

pub fn compile(program: Program) -> Plan {
    let tables: Vec<CompiledTable> = program
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
            let matcher = Matcher::build(&rows, &table.inputs);
            let constants = |outputs: &[TExpr]| -> Option<crate::lang::semantics::Values> {
                outputs
                    .iter()
                    .map(|e| match &e.kind {
                        TExprKind::Const(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect()
            };
            let constant_outputs = table
                .rows
                .iter()
                .map(|row| constants(&row.outputs))
                .collect();
            let constant_default = table.default.as_deref().and_then(constants);
            let row_refs = table
                .rows
                .iter()
                .map(|row| format!("{}:{}", table.name, row.id).into())
                .collect();
            let default_ref = format!("{}:default", table.name).into();
            let input_reads = table
                .inputs
                .iter()
                .map(|i| InputRead::of(&i.expr))
                .collect();
            let results = table
                .result_columns()
                .iter()
                .map(|o| (o.name.as_str().into(), o.ty.clone()))
                .collect();
            CompiledTable {
                name: table.name.as_str().into(),
                results,
                input_reads,
                table,
                index,
                matcher,
                constant_outputs,
                constant_default,
                row_refs,
                default_ref,
            }
        })
        .collect();
    let order = program.order.clone();
    let max_inputs = tables
        .iter()
        .map(|t| t.table.inputs.len())
        .max()
        .unwrap_or(0);
    Plan {
        program,
        tables,
        order,
        max_inputs,
    }
}

fn compile_cell(cell: &crate::lang::ir::TCell, input: &Type) -> CompiledCell {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check() -> impl Strategy<Value = Check> {
        let op = prop_oneof![
            Just(CompareOp::Lt),
            Just(CompareOp::Le),
            Just(CompareOp::Gt),
            Just(CompareOp::Ge),
            Just(CompareOp::Eq),
            Just(CompareOp::Ne),
        ];
        prop_oneof![
            (op, -5i64..15).prop_map(|(op, v)| Check::Compare(op, Value::Int(v))),
            (-5i64..15, -5i64..15, any::<bool>(), any::<bool>()).prop_map(
                |(lo, hi, li, hi_inc)| {
                    Check::Range {
                        low: Value::Int(lo),
                        low_inclusive: li,
                        high: Value::Int(hi),
                        high_inclusive: hi_inc,
                    }
                }
            ),
        ]
    }

    fn cell() -> impl Strategy<Value = CompiledCell> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(check(), 1..3),
        )
            .prop_map(|(any, negated, checks)| CompiledCell {
                any: any && checks.len() == 1,
                negated,
                checks,
            })
    }

    proptest! {
        /// The index lists, for every number, exactly the rows whose first
        /// cell matches it, in row order.
        #[test]
        fn row_index_agrees_with_matching_every_cell(cells in prop::collection::vec(cell(), 16..40)) {
            let rows: Vec<Vec<CompiledCell>> = cells.into_iter().map(|c| vec![c]).collect();
            // Every cell here stays far below the index's size cap.
            let index = RowIndex::build(&rows, &Type::Integer).expect("an index");
            for x in -8i64..18 {
                let x = Value::Int(x);
                let expected: Vec<u32> = (0..rows.len() as u32)
                    .filter(|&r| constant_cell_matches(&rows[r as usize][0], &x))
                    .collect();
                prop_assert_eq!(index.candidates(&x), Some(expected.as_slice()));
            }
        }
    }
}
