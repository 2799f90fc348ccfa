//! Human rendering shared by commands: case actions, decisions, traces.
//! Text that comes from input (ids, values, rule ids) goes through
//! [`printable`], so control characters are shown escaped.
//! It must not evaluate anything: it shows decisions and actions it is given.

use super::Out;
use crate::diagnostic::printable;
use crate::eval::{CellMiss, Evaluation, Outcome, TableTrace};
use crate::lang::compile::Check;
use crate::lang::compile::Plan;
use crate::lang::ir::Table;
use crate::lang::ir::{TExpr, TTest};
use crate::policy::Action;
use crate::types::{ShowValue, Type, Value};

pub fn row_id(table: &Table, row: u32) -> &str {
    &table.rows[row as usize].id
}

pub fn show(plan: &Plan, value: &Value, ty: &Type) -> String {
    printable(&ShowValue(value, ty, plan.schema()).to_string()).into_owned()
}

/// What gave a decision's outputs.
#[derive(Clone, Copy)]
enum By {
    Row(u32),
    Default,
    /// An aggregate over the rows: computed, written nowhere.
    Aggregate,
}

/// A decision's outputs, `name = value`; a percent the row or the default writes (`2%`) as written.
fn assignments(plan: &Plan, table: &Table, by: By, values: &[Value]) -> String {
    table
        .result_columns()
        .iter()
        .zip(values)
        .enumerate()
        .map(|(o, (output, v))| {
            let written = match by {
                By::Row(r) => table.written_percent(r as usize, o),
                By::Default => table.default_written_percent(o),
                By::Aggregate => None,
            };
            let shown = written.unwrap_or_else(|| show(plan, v, &output.ty));
            format!("{} = {}", output.name, shown)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn actions(out: &mut Out, actions: &[Action]) {
    if actions.is_empty() {
        let _ = writeln!(out, "    (no actions)");
    }
    for action in actions {
        let line = format!("{}  <- {}", action.kind, action.rules.join(", "));
        let _ = writeln!(out, "    {}", printable(&line));
    }
}

/// Every decision, one line each; with `explain`, each table's inputs and the
/// first failing cell of every row tried.
pub fn decisions(out: &mut Out, plan: &Plan, evaluation: &Evaluation, explain: bool) {
    let detail = Detail {
        trace: explain,
        ..Detail::default()
    };
    detailed_decisions(out, plan, evaluation, &detail);
}

/// How much [`detailed_decisions`] shows.
#[derive(Default)]
pub struct Detail<'a> {
    /// Each table's inputs and, per row tried, the first failing cell.
    pub trace: bool,
    /// Every failing cell of a row tried, not just the first.
    pub all_cells: bool,
    /// Per table: whether the account's actions needed it (`policy::run_needed`);
    /// the others are marked.
    pub used: Option<&'a [bool]>,
}

/// Every decision, one line each, with the detail asked for.
pub fn detailed_decisions(out: &mut Out, plan: &Plan, evaluation: &Evaluation, detail: &Detail) {
    let width = plan
        .tables
        .iter()
        .map(|t| t.table.name.len())
        .max()
        .unwrap_or(0);
    for (i, decision) in evaluation.decisions.iter().enumerate() {
        let table = &plan.tables[decision.table as usize].table;
        let line = match &decision.outcome {
            Outcome::Row { row, also, .. } => {
                let ids: Vec<&str> = std::iter::once(row)
                    .chain(also)
                    .map(|r| row_id(table, *r))
                    .collect();
                format!(
                    "{}  [{}]",
                    assignments(plan, table, By::Row(*row), plan.result(decision)),
                    printable(&ids.join(", "))
                )
            }
            Outcome::Default { .. } => {
                format!(
                    "{}  [default]",
                    assignments(plan, table, By::Default, plan.result(decision))
                )
            }
            Outcome::Aggregate { value, rows } => {
                let ids: Vec<&str> = rows.iter().map(|r| row_id(table, *r)).collect();
                let ids = if ids.is_empty() {
                    "no rows".to_string()
                } else {
                    printable(&ids.join(", ")).into_owned()
                };
                format!(
                    "{}  [{ids}]",
                    assignments(plan, table, By::Aggregate, std::slice::from_ref(value))
                )
            }
            Outcome::Rows(rows) if rows.is_empty() => "(no rows)".to_string(),
            Outcome::Rows(rows) => rows
                .iter()
                .map(|(r, values)| {
                    format!(
                        "{}  [{}]",
                        assignments(
                            plan,
                            table,
                            By::Row(*r),
                            plan.row_values(decision.table, *r, values)
                        ),
                        printable(row_id(table, *r))
                    )
                })
                .collect::<Vec<_>>()
                .join(&format!("\n    {:width$}  ", "")),
        };
        let name = match &decision.label {
            Some(label) => format!("{}[{}]", table.name, printable(label)),
            None => table.name.clone(),
        };
        let unused = detail
            .used
            .is_some_and(|used| !used.get(decision.table as usize).copied().unwrap_or(true));
        let unused = if unused { UNUSED_MARK } else { "" };
        let _ = writeln!(out, "    {name:width$}  {line}{unused}");
        if detail.trace {
            if let Some(trace) = evaluation.trace.get(i) {
                table_trace(out, plan, decision.table, trace, detail.all_cells);
            }
        }
    }
}

/// A row's conditions as written: (input, cell) for each cell that is not `-`.
pub fn conditions(table: &Table, row: usize) -> impl Iterator<Item = (&str, &str)> {
    table
        .inputs
        .iter()
        .zip(&table.rows[row].cells)
        .filter(|(_, cell)| cell.negated || !cell.tests.is_empty())
        .map(|(input, cell)| (input.name.as_str(), cell.text.as_str()))
}

/// After a computed input no row tried and no output evaluated reads.
pub const NOT_COMPUTED: &str = "(not computed: no row tried reads it)";

/// After the decision of a table the pipeline did not read for this account.
pub const UNUSED_MARK: &str = "  (not used by this account's actions)";

fn table_trace(out: &mut Out, plan: &Plan, t: u32, trace: &TableTrace, all_cells: bool) {
    let table = &plan.tables[t as usize].table;
    let inputs: Vec<String> = table
        .inputs
        .iter()
        .zip(&trace.inputs)
        .map(|(input, v)| match v {
            Some(v) => format!("{} = {}", input.name, show(plan, v, &input.expr.ty)),
            None => format!("{} {NOT_COMPUTED}", input.name),
        })
        .collect();
    let _ = writeln!(out, "        inputs: {}", inputs.join(", "));
    let mut misses = trace.misses.iter().peekable();
    for (row, failed) in &trace.rows {
        let r = &table.rows[*row as usize];
        let Some(first) = failed else {
            // The matched row's conditions, so the thresholds that held are on the page.
            let cells: Vec<String> = conditions(table, *row as usize)
                .map(|(input, cell)| format!("{input} {cell:?}"))
                .collect();
            let cells = if cells.is_empty() {
                String::new()
            } else {
                format!(" ({})", cells.join(", "))
            };
            let _ = writeln!(out, "        + {}: matched{cells}", printable(&r.id));
            continue;
        };
        let mut row_misses = std::iter::from_fn(|| misses.next_if(|m| m.row == *row)).peekable();
        // Traces built before every miss was recorded still name the first failing cell.
        let first_miss = row_misses.next_if(|m| m.input == *first);
        let _ = writeln!(
            out,
            "        - {}: {}",
            printable(&r.id),
            cell_miss(plan, t, *row, *first, first_miss, trace)
        );
        for miss in row_misses {
            if all_cells {
                let _ = writeln!(
                    out,
                    "          and {}",
                    cell_miss(plan, t, *row, miss.input, Some(miss), trace)
                );
            }
        }
    }
}

/// `input = value does not match "cell"`, and the values of the cell's
/// per-account operands for this account.
fn cell_miss(
    plan: &Plan,
    t: u32,
    row: u32,
    c: u32,
    miss: Option<&CellMiss>,
    trace: &TableTrace,
) -> String {
    let table = &plan.tables[t as usize].table;
    let input = &table.inputs[c as usize];
    let cell = &table.rows[row as usize].cells[c as usize].text;
    let Some(Some(value)) = trace.inputs.get(c as usize) else {
        // Only a cell after its row's first failing one can meet an input
        // that cannot be computed (evaluation never tests it).
        let err = match miss {
            Some(CellMiss {
                operands: Err(err), ..
            }) => format!(": {}", err.beside_input(&input.name)),
            _ => String::new(),
        };
        return format!(
            "{} cannot be computed for this account{err}, so it is not tested against {cell:?}",
            input.name
        );
    };
    let value = show(plan, value, &input.expr.ty);
    if let Some(CellMiss {
        operands: Err(err), ..
    }) = miss
    {
        return format!(
            "{} = {value} cannot be tested against {cell:?} for this account: {err}",
            input.name
        );
    }
    let mut text = format!("{} = {value} does not match {cell:?}", input.name);
    let Some(miss) = miss else {
        return text;
    };
    let Some((negated, tests)) = dynamic_tests(plan, t, row, c) else {
        return text;
    };
    match miss.operands.as_deref() {
        Err(_) | Ok([]) => {}
        Ok(values) => {
            let mut values = values.iter();
            let mut value = |e: &TExpr| {
                values
                    .next()
                    .map_or_else(|| "?".to_string(), |v| show(plan, v, &e.ty))
            };
            let tests: Vec<String> = tests
                .iter()
                .map(|test| match test {
                    TTest::Compare(op, e) => format!("{} {}", op.as_str(), value(e)),
                    TTest::Range {
                        low,
                        low_inclusive,
                        high,
                        high_inclusive,
                    } => format!(
                        "{}{}..{}{}",
                        if *low_inclusive { '[' } else { '(' },
                        value(low),
                        value(high),
                        if *high_inclusive { ']' } else { ')' }
                    ),
                })
                .collect();
            let tests = tests.join(", ");
            let tests = if negated {
                format!("not({tests})")
            } else {
                tests
            };
            text.push_str(&format!(" (for this account: {tests})"));
        }
    }
    text
}

/// Whether row `row`'s cell for input `c` is negated, and its per-account
/// tests in order: the tests whose operands a [`CellMiss`] holds.
pub fn dynamic_tests(plan: &Plan, t: u32, row: u32, c: u32) -> Option<(bool, Vec<&TTest>)> {
    let m = &plan.tables[t as usize].matcher;
    let cell = m.row(row as usize).iter().find(|cell| cell.input == c)?;
    let tests = m
        .checks(cell)
        .iter()
        .filter_map(|check| match check {
            Check::Dynamic(test) => Some(test),
            _ => None,
        })
        .collect();
    Some((cell.negated, tests))
}

/// The operands of `tests` in the order a [`CellMiss`] holds their values.
pub fn operands<'a>(tests: &[&'a TTest]) -> Vec<&'a TExpr> {
    tests
        .iter()
        .flat_map(|test| match test {
            TTest::Compare(_, e) => vec![e],
            TTest::Range { low, high, .. } => vec![low, high],
        })
        .collect()
}
