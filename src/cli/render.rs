//! Human rendering shared by commands: case actions, decisions, traces.
//! Text that comes from input (ids, values, rule ids) goes through
//! [`printable`], so control characters are shown escaped.

use super::Out;
use crate::compile::Plan;
use crate::diagnostic::printable;
use crate::eval::{Evaluation, Outcome, TableTrace};
use crate::ir::Table;
use crate::policy::Action;
use crate::types::{ShowValue, Type, Value};

pub fn row_id(table: &Table, row: u32) -> &str {
    &table.rows[row as usize].id
}

pub fn show(plan: &Plan, value: &Value, ty: &Type) -> String {
    printable(&ShowValue(value, ty, plan.schema()).to_string()).into_owned()
}

fn assignments(plan: &Plan, table: &Table, values: &[Value]) -> String {
    table
        .result_columns()
        .iter()
        .zip(values)
        .map(|(o, v)| format!("{} = {}", o.name, show(plan, v, &o.ty)))
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
    let width = plan
        .tables
        .iter()
        .map(|t| t.table.name.len())
        .max()
        .unwrap_or(0);
    for (i, decision) in evaluation.decisions.iter().enumerate() {
        let table = &plan.tables[decision.table as usize].table;
        let line = match &decision.outcome {
            Outcome::Row { row, also, values } => {
                let ids: Vec<&str> = std::iter::once(row)
                    .chain(also)
                    .map(|r| row_id(table, *r))
                    .collect();
                format!(
                    "{}  [{}]",
                    assignments(plan, table, values),
                    printable(&ids.join(", "))
                )
            }
            Outcome::Default { values } => {
                format!("{}  [default]", assignments(plan, table, values))
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
                    assignments(plan, table, std::slice::from_ref(value))
                )
            }
            Outcome::Rows(rows) if rows.is_empty() => "(no rows)".to_string(),
            Outcome::Rows(rows) => rows
                .iter()
                .map(|(r, values)| {
                    format!(
                        "{}  [{}]",
                        assignments(plan, table, values),
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
        let _ = writeln!(out, "    {name:width$}  {line}");
        if explain {
            if let Some(trace) = evaluation.trace.get(i) {
                table_trace(out, plan, table, trace);
            }
        }
    }
}

fn table_trace(out: &mut Out, plan: &Plan, table: &Table, trace: &TableTrace) {
    let inputs: Vec<String> = table
        .inputs
        .iter()
        .zip(&trace.inputs)
        .map(|(input, v)| format!("{} = {}", input.name, show(plan, v, &input.expr.ty)))
        .collect();
    let _ = writeln!(out, "        inputs: {}", inputs.join(", "));
    for (row, failed) in &trace.rows {
        let r = &table.rows[*row as usize];
        let _ = match failed {
            None => writeln!(out, "        + {}: matched", printable(&r.id)),
            Some(cell) => {
                let c = *cell as usize;
                let input = &table.inputs[c];
                writeln!(
                    out,
                    "        - {}: {} = {} does not match {:?}",
                    printable(&r.id),
                    input.name,
                    show(plan, &trace.inputs[c], &input.expr.ty),
                    r.cells[c].text
                )
            }
        };
    }
}
