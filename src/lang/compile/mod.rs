//! The compiler: a checked [`Program`] → an evaluation [`Plan`]. Constant
//! operands are folded once; cell tests become typed checks against constant
//! values or enum bit sets, so evaluating a cell does no lookups or parsing.
//! It must not change what a table decides, only how fast: every check means
//! what the checked cell means (`lang::semantics`).
//!
//! The rooms: this file (the plan's types and `compile`, table by table),
//! `fold` (constant subexpressions → values), `cell` (a cell's tests →
//! `Check`s, specialised by the input's type, and the per-table `Matcher`),
//! `index` (the `RowIndex` of a large table's first column), `bits` (the
//! `RowBits`: per column and value class the rows whose cell matches), `code`
//! (expressions compiled to closures).

mod bits;
mod cell;
mod code;
mod fold;
mod index;

use crate::lang::ir::{Program, TExpr, TExprKind, TTest, Table};
use crate::lang::semantics::{Constants, Decision, Lazy, Outcome, Values};
use crate::lang::syntax::ast::CompareOp;
use crate::types::{Type, Value};
pub use bits::{First, RowBits, Selection};
use cell::compile_cell;
pub use cell::{Bound, CellTest, Matcher, Operands};
pub(crate) use code::mentions_local;
pub use code::Code;
pub(crate) use fold::fold;
pub use index::RowIndex;
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
    /// The rows whose cells match, per indexed column and class of its value:
    /// used before `index` when no trace is asked for.
    pub bits: Option<RowBits>,
    /// What the evaluator runs: the rows' cells in flat arrays, `-` cells left out.
    pub matcher: Matcher,
    /// The table's name, shared by the actions that carry it.
    pub name: std::sync::Arc<str>,
    /// The name and type of each value of its single result (its result columns).
    pub results: Vec<(std::sync::Arc<str>, Type)>,
    /// The rule reference of each row (`table:row`), and of the default (`table:default`).
    pub row_refs: Vec<RuleRef>,
    pub default_ref: RuleRef,
    /// Per input, how to read it: most inputs are a field path, read in place.
    pub input_reads: Vec<InputRead>,
    /// How many inputs are computed (`InputRead::Computed`).
    pub computed_inputs: u32,
    /// The account field path a `for_each` table's list is (read in place,
    /// not evaluated), if it is one.
    pub each_path: Option<Vec<u32>>,
    /// Per input: the index of its value among the computed inputs, or
    /// `Lazy::IN_PLACE` for one read in place (what `semantics::Lazy` reads).
    pub computed_slots: Vec<u32>,
    /// The computed inputs (their indexes among them) that read the table's
    /// item or params: of a `for_each` table's computed inputs, only these
    /// are computed again for each item (the others, `as_of` or a sum over
    /// the account, are the same for every item: computed once, when first
    /// read).
    pub item_computed: Vec<u32>,
}

/// How an input column's value is obtained.
#[derive(Clone, Debug)]
pub enum InputRead {
    /// Fields `slots` (outermost first) of the account or of a local (the
    /// `for_each` item, a param): `account.pay_plan.active`.
    Path { local: Option<u32>, slots: Vec<u32> },
    /// Anything else: the expression, compiled; its value is the `index`th
    /// of the table's computed inputs, computed the first time a cell tested
    /// or an output evaluated reads it (`semantics::Lazy`).
    Computed { index: u32, code: Code },
}

impl InputRead {
    fn of(e: &TExpr) -> InputRead {
        let (root, slots) = field_path(e);
        match root.kind {
            TExprKind::Account | TExprKind::Local(_) if !slots.is_empty() => InputRead::Path {
                local: match root.kind {
                    TExprKind::Local(i) => Some(i),
                    _ => None,
                },
                slots,
            },
            _ => InputRead::Computed {
                index: 0,
                code: Code::compile(e),
            },
        }
    }
}

/// Whether `e` reads a local below `bound` (the table's params, then its
/// item; a comprehension's variables come after them) or another input.
fn reads_local(e: &TExpr, bound: u32) -> bool {
    match &e.kind {
        TExprKind::Local(i) => *i < bound,
        TExprKind::Input(_) => true,
        TExprKind::Const(_)
        | TExprKind::Account
        | TExprKind::AsOf
        | TExprKind::TableOutput { .. } => false,
        TExprKind::Field(base, _) | TExprKind::Project(base, _) | TExprKind::Unary(_, base) => {
            reads_local(base, bound)
        }
        TExprKind::Binary(_, l, r) => reads_local(l, bound) || reads_local(r, bound),
        TExprKind::Call(_, args) => args.iter().any(|a| reads_local(a, bound)),
        TExprKind::Each(each) => [Some(&each.list), each.filter.as_ref(), each.body.as_ref()]
            .into_iter()
            .flatten()
            .any(|e| reads_local(e, bound)),
    }
}

/// The expression a chain of field reads starts from, and the slots it reads
/// (outermost first): `account.case.class` → (`account`, [case, class]).
fn field_path(e: &TExpr) -> (&TExpr, Vec<u32>) {
    let mut slots = Vec::new();
    let mut at = e;
    while let TExprKind::Field(base, slot) = &at.kind {
        slots.push(*slot);
        at = base;
    }
    slots.reverse();
    (at, slots)
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub program: Program,
    pub tables: Vec<CompiledTable>,
    /// Per table: the outputs of its rows and default that are all constants
    /// (most rows), which its decisions read here instead of holding copies.
    pub constants: Vec<Constants>,
    pub order: Vec<u32>,
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

    /// A decision's single result (see [`crate::eval::Outcome::result`]).
    pub fn result<'a>(&'a self, d: &'a Decision) -> &'a [Value] {
        d.outcome.result(&self.constants[d.table as usize])
    }

    /// The values of row `row` of table `t`, as a `collect` or `rule_order`
    /// decision holds them.
    pub fn row_values<'a>(&'a self, t: u32, row: u32, values: &'a Values) -> &'a [Value] {
        values.read(Some(row), &self.constants[t as usize])
    }

    /// A decision's outputs as JSON: one object keyed by output name, or a
    /// list of them for a `collect` or `rule_order` decision's rows.
    pub fn decision_json(&self, d: &Decision) -> serde_json::Value {
        match &d.outcome {
            Outcome::Rows(rows) => rows
                .iter()
                .map(|(r, values)| self.outputs_json(d.table, self.row_values(d.table, *r, values)))
                .collect(),
            _ => self.outputs_json(d.table, self.result(d)),
        }
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
    let (tables, constants): (Vec<CompiledTable>, Vec<Constants>) = program
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
            let mut computed = 0;
            let input_reads: Vec<InputRead> = table
                .inputs
                .iter()
                .map(|i| match InputRead::of(&i.expr) {
                    InputRead::Computed { code, .. } => {
                        computed += 1;
                        InputRead::Computed {
                            index: computed - 1,
                            code,
                        }
                    }
                    path => path,
                })
                .collect();
            let item_computed = input_reads
                .iter()
                .zip(&table.inputs)
                .filter_map(|(read, input)| match read {
                    InputRead::Computed { index, .. }
                        if reads_local(&input.expr, table.params.len() as u32 + 1) =>
                    {
                        Some(*index)
                    }
                    _ => None,
                })
                .collect();
            let computed_slots = input_reads
                .iter()
                .map(|read| match read {
                    InputRead::Computed { index, .. } => *index,
                    InputRead::Path { .. } => Lazy::IN_PLACE,
                })
                .collect();
            let matcher = Matcher::build(&rows, &table.inputs);
            let bits = RowBits::build(
                &matcher,
                rows.len(),
                &table.inputs,
                &input_reads,
                &program.schema,
            );
            let constants = |outputs: &[TExpr]| -> Option<Box<[Value]>> {
                outputs
                    .iter()
                    .map(|e| match &e.kind {
                        TExprKind::Const(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect()
            };
            let constants = Constants {
                rows: table
                    .rows
                    .iter()
                    .map(|row| constants(&row.outputs))
                    .collect(),
                default: table.default.as_deref().and_then(constants),
            };
            let row_refs = table
                .rows
                .iter()
                .map(|row| format!("{}:{}", table.name, row.id).into())
                .collect();
            let default_ref = format!("{}:default", table.name).into();
            let results = table
                .result_columns()
                .iter()
                .map(|o| (o.name.as_str().into(), o.ty.clone()))
                .collect();
            let each_path = table.for_each.as_ref().and_then(|each| {
                let (root, slots) = field_path(&each.list);
                (matches!(root.kind, TExprKind::Account) && !slots.is_empty()).then_some(slots)
            });
            let compiled = CompiledTable {
                computed_inputs: computed,
                item_computed,
                each_path,
                computed_slots,
                name: table.name.as_str().into(),
                results,
                input_reads,
                table,
                index,
                bits,
                matcher,
                row_refs,
                default_ref,
            };
            (compiled, constants)
        })
        .unzip();
    let order = program.order.clone();
    Plan {
        program,
        tables,
        constants,
        order,
    }
}
