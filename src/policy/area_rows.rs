//! What area tables' rows say, checked against the rest of the policy at lint
//! time: constant instalment counts within the offer limit, class-table
//! templates that exist, templates and experiment classes no row assigns, and
//! follow-up rows the pipeline never asks. Only constant cells are judged; a
//! computed one is known per account and left alone. It must not check a
//! table's columns (that is `contracts`).

use std::collections::{BTreeSet, HashMap};

use super::areas::{Out, Role, MAX_PLAN_INSTALMENTS};
use super::documents::Template;
use super::Builder;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::ir::{TCell, TExpr, TExprKind, TTest};
use crate::model::doc::PolicyDoc;
use crate::model::spanned::Spanned;
use crate::model::RuleDocs;
use crate::types::{Type, Value};

impl Builder<'_> {
    /// A constant instalment count outside 0..=36 in the payment-plan table is
    /// an error at its cell (a computed one is checked per account).
    pub(super) fn check_instalment_counts(&mut self, role: &Role) {
        let Some(col) = role.col(Out::Instalments) else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let Some((file, doc)) = self
            .docs
            .tables
            .iter()
            .find(|(_, t)| t.table.value == table.name)
        else {
            return;
        };
        let rows = table
            .rows
            .iter()
            .zip(&doc.rows)
            .map(|(r, d)| {
                (
                    &r.outputs[col],
                    format!("row `{}`", r.id),
                    d.value
                        .then
                        .value
                        .get(Out::Instalments.name())
                        .map(|c| c.span)
                        .unwrap_or(d.span),
                )
            })
            .chain(table.default.iter().zip(&doc.default).map(|(outputs, d)| {
                (
                    &outputs[col],
                    "the default".to_string(),
                    d.value
                        .get(Out::Instalments.name())
                        .map(|c| c.span)
                        .unwrap_or(d.span),
                )
            }));
        for (expr, row, span) in rows {
            if let TExprKind::Const(Value::Int(n)) = expr.kind {
                if !(0..=MAX_PLAN_INSTALMENTS).contains(&n) {
                    self.diags.push(
                        Diagnostic::error(
                            "policy",
                            file,
                            span,
                            format!("{row} of the payment-plan table `{}` offers {n} instalments; an offer has at most {MAX_PLAN_INSTALMENTS}", table.name),
                        )
                        .with_help(format!("offer 1 to {MAX_PLAN_INSTALMENTS} monthly instalments, or 0 for no offer")),
                    );
                }
            }
        }
    }

    /// Every constant `template` output of the class table names a template.
    pub(super) fn check_template_outputs(
        &mut self,
        role: &Role,
        templates: &HashMap<String, Template>,
        name: &Spanned<String>,
    ) {
        let Some(col) = role.col(Out::Template) else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let rows = table
            .rows
            .iter()
            .map(|r| (r.output_spans[col], &r.outputs[col]))
            .chain(table.default.iter().map(|d| (table.span, &d[col])));
        let mut problems = Vec::new();
        for (span, expr) in rows {
            if let TExprKind::Const(Value::Text(t)) = &expr.kind {
                if !templates.contains_key(t.as_ref()) {
                    problems.push((span, t.to_string()));
                }
            }
        }
        let file = table.file.clone();
        for (span, t) in problems {
            self.diags.push(
                Diagnostic::error(
                    "unknown-reference",
                    &file,
                    span,
                    format!(
                        "the class table `{}` assigns unknown template `{t}`",
                        name.value
                    ),
                )
                .with_help_opt(did_you_mean(&t, templates.keys().map(|k| k.as_str()))),
            );
        }
    }

    /// The constant values an area table's column gives (rows and default, null
    /// left out), as text; `None` when one is computed, so it is known only per account.
    fn constant_outputs(&self, role: &Role, out: Out) -> Option<BTreeSet<String>> {
        let col = role.col(out)?;
        let table = &self.program.tables[role.table as usize];
        let mut names = BTreeSet::new();
        let outputs = table.rows.iter().map(|r| &r.outputs[col]);
        for expr in outputs.chain(table.default.iter().map(|d| &d[col])) {
            match (&expr.kind, &table.outputs[col].ty) {
                (TExprKind::Const(Value::Null), _) => {}
                (TExprKind::Const(Value::Text(t)), _) => {
                    names.insert(t.to_string());
                }
                (TExprKind::Const(Value::Enum(v)), Type::Enum(e)) => {
                    names.insert(self.schema().enum_def(*e).variants[*v as usize].clone());
                }
                _ => return None,
            }
        }
        Some(names)
    }

    /// Templates no class-table row or experiment arm names, and experiment
    /// classes no class-table row assigns: configuration no new case reaches.
    /// Skipped when the class table computes the column (its values are unknown here).
    pub(super) fn check_unassigned(&mut self, docs: &RuleDocs, policy: &PolicyDoc, class: &Role) {
        let class_table = self.program.tables[class.table as usize].name.clone();
        if let Some(mut named) = self.constant_outputs(class, Out::Template) {
            // Every experiment's arms, listed or not: an unlisted one is reported itself.
            let arms = docs.experiments.iter().flat_map(|(_, d)| &d.arms);
            named.extend(arms.filter_map(|a| a.value.template.as_ref().map(|t| t.value.clone())));
            let templates = || {
                docs.templates
                    .iter()
                    .map(|(_, d)| d.template.value.as_str())
            };
            // A misspelt name (`unknown-reference` already) counts as naming
            // the template it was meant to be: no follow-on `unused`.
            let meant: Vec<&str> = named
                .iter()
                .filter(|n| !templates().any(|t| t == n.as_str()))
                .filter_map(|n| crate::diagnostic::nearest(n, templates()))
                .collect();
            for (file, doc) in &docs.templates {
                if named.contains(&doc.template.value)
                    || meant.contains(&doc.template.value.as_str())
                {
                    continue;
                }
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        doc.template.span,
                        format!(
                            "template `{}` is never assigned: no row of the class table `{class_table}` and no experiment arm names it",
                            doc.template.value
                        ),
                    )
                    .with_help(format!(
                        "name it in a `template` output of `{class_table}` or an arm's `template`, or delete it once no open case names it"
                    )),
                );
            }
        }
        let Some(classes) = self.constant_outputs(class, Out::Class) else {
            return;
        };
        let listed = docs.experiments.iter().filter(|(_, d)| {
            policy
                .experiments
                .iter()
                .any(|n| n.value == d.experiment.value)
        });
        for (file, doc) in listed {
            for aimed in doc.classes.iter().filter(|c| !classes.contains(&c.value)) {
                let help = did_you_mean(&aimed.value, classes.iter().map(String::as_str))
                    .unwrap_or_else(|| {
                        let assigned: Vec<String> =
                            classes.iter().map(|c| format!("`{c}`")).collect();
                        format!("`{class_table}` assigns {}", assigned.join(", "))
                    });
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        aimed.span,
                        format!(
                            "experiment `{}` is aimed at class `{}`, which no row of the class table `{class_table}` assigns",
                            doc.experiment.value, aimed.value
                        ),
                    )
                    .with_help(help),
                );
            }
        }
    }

    /// Rows of the follow-up table no asked promise can reach. The pipeline asks
    /// it only about a promise kept with arrears remaining or a broken one
    /// (`run/promises.rs`): a pending promise waits, a kept one with arrears paid in full
    /// closes the case first. Only cells on `promise.status` and
    /// `promise.arrears_paid_in_full` against constants are judged.
    pub(super) fn check_follow_up_rows(&mut self, role: &Role) {
        let table = &self.program.tables[role.table as usize];
        let schema = self.schema();
        let promise = schema.record(schema.promise_record);
        let Some(status_enum) = schema.enum_by_name("promise_status") else {
            return;
        };
        let (Some(pending), Some(kept), Some(broken)) = (
            schema.variant(status_enum, "pending"),
            schema.variant(status_enum, "kept"),
            schema.variant(status_enum, "broken"),
        ) else {
            return;
        };
        // The input column that reads `promise.<field>` as it is.
        let column = |field: &str| {
            let slot = promise.slot(field)? as u32;
            table.inputs.iter().position(|i| {
                matches!(&i.expr.kind, TExprKind::Field(base, s)
                    if *s == slot && matches!(base.kind, TExprKind::Local(0)))
            })
        };
        let (status, paid) = (column("status"), column("arrears_paid_in_full"));
        // Kept with arrears paid in full closes the case before the table is asked.
        let asked = [
            (pending, false),
            (pending, true),
            (kept, false),
            (broken, false),
            (broken, true),
        ];
        let mut never_asked = Vec::new();
        for (r, row) in table.rows.iter().enumerate() {
            let may_pass = |col: Option<usize>, value: Value| {
                col.is_none_or(|c| cell_admits(&row.cells[c], &value) != Some(false))
            };
            let reachable = asked
                .iter()
                .any(|&(s, p)| may_pass(status, Value::Enum(s)) && may_pass(paid, Value::Bool(p)));
            if !reachable {
                // Point at the status cell if the row has one, else the paid-in-full cell.
                let cell = [status, paid]
                    .into_iter()
                    .flatten()
                    .find(|&c| !row.cells[c].tests.is_empty() || row.cells[c].negated);
                never_asked.push((r, cell.map(|c| table.inputs[c].name.clone())));
            }
        }
        let Some((file, doc)) = self
            .docs
            .tables
            .iter()
            .find(|(_, t)| t.table.value == table.name)
        else {
            return;
        };
        for (r, input) in never_asked {
            let row = &doc.rows[r];
            let span = input
                .and_then(|i| row.value.when.get(&i))
                .map_or(row.span, |c| c.span);
            self.diags.push(
                Diagnostic::warning(
                    "unreachable-row",
                    file,
                    span,
                    format!(
                        "row `{}` of the follow-up table `{}` is never asked: the pipeline asks it only about pending promises, promises kept with arrears remaining and broken promises",
                        table.rows[r].id, table.name
                    ),
                )
                .with_help("a kept promise with arrears paid in full closes the case before the table is asked; change the row's cells or delete it"),
            );
        }
    }

    /// Rows of the re-treatment table that only reassign the class
    /// (constant `retreat: true`, `restart: false`) for an account whose
    /// treatment today may not be the case's: its `retreat.same_treatment`
    /// cell admits false, or the table does not read it. The case would take
    /// a class (and template) whose events, arms and start it never got.
    /// The default counts as a row that admits everything.
    pub(super) fn check_retreat_rows(&mut self, role: &Role) {
        let (Some(retreat), Some(restart)) = (role.col(Out::Retreat), role.col(Out::Restart))
        else {
            return;
        };
        let table = &self.program.tables[role.table as usize];
        let schema = self.schema();
        let Some(same) = schema.record(schema.retreat_record).slot("same_treatment") else {
            return;
        };
        let column = table.inputs.iter().position(|i| {
            matches!(&i.expr.kind, TExprKind::Field(base, s)
                if *s == same as u32 && matches!(base.kind, TExprKind::Local(0)))
        });
        let constant = |e: &TExpr| match &e.kind {
            TExprKind::Const(Value::Bool(b)) => Some(*b),
            _ => None,
        };
        let class_only = |outputs: &[TExpr]| {
            constant(&outputs[retreat]) == Some(true) && constant(&outputs[restart]) == Some(false)
        };
        let mut found = Vec::new();
        for row in &table.rows {
            let may_differ = column
                .is_none_or(|c| cell_admits(&row.cells[c], &Value::Bool(false)) != Some(false));
            if class_only(&row.outputs) && may_differ {
                found.push((format!("row `{}`", row.id), row.output_spans[restart]));
            }
        }
        if let Some(default) = &table.default {
            if class_only(default) {
                let span = table
                    .default_spans
                    .get(restart)
                    .copied()
                    .unwrap_or(table.span);
                found.push(("the default".to_string(), span));
            }
        }
        let file = table.file.clone();
        for (what, span) in found {
            self.diags.push(
                Diagnostic::warning(
                    "reclassify-other-treatment",
                    &file,
                    span,
                    format!(
                        "{what} of the re-treatment table `{}` only reassigns the class (`restart: false`) even when the treatment today is not the case's",
                        table.name
                    ),
                )
                .with_help("only a class change into the same treatment keeps the case's events: test `retreat.same_treatment` in the row (`same_treatment: \"true\"`), or give `restart: not same_treatment`"),
            );
        }
    }
}

/// Whether a condition cell passes a constant value; `None` when it compares
/// with something computed.
fn cell_admits(cell: &TCell, value: &Value) -> Option<bool> {
    if cell.tests.is_empty() && !cell.negated {
        return Some(true);
    }
    let constant = |e: &TExpr| match &e.kind {
        TExprKind::Const(v) => Some(v.clone()),
        _ => None,
    };
    let mut any = false;
    for test in &cell.tests {
        any |= match test {
            TTest::Compare(op, e) => crate::lang::semantics::compare(*op, value, &constant(e)?),
            TTest::Range {
                low,
                low_inclusive,
                high,
                high_inclusive,
            } => crate::lang::semantics::in_range(
                value,
                &constant(low)?,
                *low_inclusive,
                &constant(high)?,
                *high_inclusive,
            ),
        };
    }
    Some(any != cell.negated)
}
