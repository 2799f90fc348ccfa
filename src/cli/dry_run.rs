//! `arrears dry-run --rules DIR --as-of DATE ACCOUNTS`
//! It reads the arguments and accounts and prints; deciding is the policy's and
//! the evaluator's.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde_json::{json, Value as Json};

use super::render::{conditions, dynamic_tests, operands, row_id, Detail};
use super::{error_line, parse_date, Exit, Format, Out};
use crate::data::accounts::AccountRecord;
use crate::data::snapshot::{account_id, decode_account};
use crate::diagnostic::printable;
use crate::eval::{evaluate, Evaluation, Outcome};
use crate::lang::compile::Plan;
use crate::lang::semantics::EvalErrorKind;
use crate::policy::{Action, Policy};
use crate::types::value_to_json;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
    /// The evaluation date (YYYY-MM-DD); rules never read the clock.
    #[arg(long, value_parser = parse_date)]
    as_of: NaiveDate,
    /// Accounts: a YAML list, a JSON array or object, JSON Lines, or a directory of such files;
    /// `-`: standard input (JSON, JSON Lines or YAML, told by its first character).
    accounts: PathBuf,
    /// Show, per table, the inputs and why each row tried did or did not match.
    #[arg(long)]
    explain: bool,
    /// With `--explain`: every failing cell of a row tried, not just the first.
    #[arg(long, requires = "explain")]
    all_cells: bool,
    /// Show only the account with this id (repeatable).
    #[arg(long = "account", value_name = "ID")]
    accounts_shown: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Run although lint's table analysis or guard-rail proofs find errors (a gap, overlapping
    /// rows, a violated invariant), to watch a finding happen on its account (`lint
    /// --counterexamples`); errors of the checks still stop it (exit 3).
    #[arg(long)]
    allow_analysis_errors: bool,
}

/// What happened to one account.
enum Result<'p> {
    /// The decisions, and with a policy the actions and (with `--explain`), per
    /// table, whether they needed it.
    Evaluated(Evaluation, Option<(Vec<Action<'p>>, Option<Vec<bool>>)>),
    BadData(Vec<crate::data::snapshot::FieldError>),
    Unreadable(String),
    EvalFailed(crate::eval::EvalError),
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let book = match super::rules::Rules::load(&args.rules) {
        Ok(book) => book,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let loaded = match if args.allow_analysis_errors {
        book.checked_on(args.as_of)
    } else {
        book.runnable_on(args.as_of)
    } {
        Ok(loaded) => loaded,
        Err(refused) => return refused.exit(),
    };
    let (policy, plan): (Option<&Policy>, Option<&Plan>) = match (&loaded.policy, &loaded.plan) {
        (Some(p), _) => (Some(p), Some(&p.plan)),
        (None, plan) => (None, plan.as_ref()),
    };
    let Some(plan) = plan else {
        error_line(format!(
            "`{}` has no tables to evaluate",
            args.rules.display()
        ));
        return Exit::InvalidRules;
    };
    let read = if args.accounts.as_os_str() == "-" {
        crate::data::accounts::read_stdin()
    } else {
        crate::data::accounts::read_accounts(&args.accounts)
    };
    let records = match read {
        Ok(records) => records,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let schema = plan.schema();
    let ids: Vec<Option<String>> = records
        .iter()
        .map(|r| {
            r.json
                .as_ref()
                .ok()
                .and_then(|json| account_id(schema, json))
        })
        .collect();
    warn_repeated_ids(&records, &ids);
    for warning in crate::data::accounts::unknown_field_warnings(schema, &records) {
        eprintln!("warning: {}", printable(&warning));
    }
    if let Err(message) = check_shown(&args.accounts_shown, &ids, &args.accounts) {
        error_line(message);
        return Exit::BadInput;
    }
    let mut failed = 0usize;
    let mut results = Vec::with_capacity(records.len());
    for (record, id) in records.iter().zip(ids) {
        if !args.accounts_shown.is_empty()
            && !id
                .as_ref()
                .is_some_and(|id| args.accounts_shown.contains(id))
        {
            continue;
        }
        let result = match &record.json {
            Err(message) => Result::Unreadable(message.clone()),
            Ok(json) => match decode_account(schema, json) {
                Err(errors) => Result::BadData(errors),
                Ok(account) => match policy {
                    Some(policy) => {
                        match crate::policy::run(policy, &account, args.as_of, args.explain) {
                            Ok(run) => {
                                // A second, demand-driven run: only when the trace shows it.
                                let used = args
                                    .explain
                                    .then(|| tables_used(policy, &account, args.as_of));
                                Result::Evaluated(run.evaluation, Some((run.actions, used)))
                            }
                            Err(err) => Result::EvalFailed(err),
                        }
                    }
                    None => match evaluate(plan, &account, args.as_of, args.explain) {
                        Ok(evaluation) => Result::Evaluated(evaluation, None),
                        Err(err) => Result::EvalFailed(err),
                    },
                },
            },
        };
        if !matches!(result, Result::Evaluated(..)) {
            failed += 1;
        }
        results.push((record, id, result));
    }
    let _ = match args.format {
        Format::Human => {
            for (record, id, result) in &results {
                human_account(out, plan, record, id.as_deref(), result, args);
            }
            let _ = writeln!(
                out,
                "{} account(s) as of {}: {} evaluated, {failed} failed",
                results.len(),
                args.as_of,
                results.len() - failed
            );
            super::effective_lines(out, &book, args.as_of)
        }
        Format::Json => {
            let accounts: Vec<Json> = results
                .iter()
                .map(|(record, id, result)| json_account(plan, record, id.as_deref(), result, args))
                .collect();
            let mut doc = json!({
                "as_of": args.as_of.to_string(),
                "rules_fingerprint": loaded.fingerprint,
                "accounts": accounts,
                "summary": { "accounts": results.len(), "evaluated": results.len() - failed, "failed": failed },
            });
            if !book.versions.is_empty() {
                doc["effective"] = book.in_force_json(args.as_of);
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
    };
    if failed > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// Every id asked for with `--account` is in the accounts file: otherwise
/// the message names the first missing one and the nearest ids there are.
fn check_shown(
    shown: &[String],
    ids: &[Option<String>],
    accounts: &std::path::Path,
) -> std::result::Result<(), String> {
    let known = || ids.iter().flatten().map(String::as_str);
    let Some(missing) = shown.iter().find(|s| !known().any(|id| id == s.as_str())) else {
        return Ok(());
    };
    let mut nearest: Vec<(f64, &str)> = known()
        .map(|id| (strsim::jaro_winkler(missing, id), id))
        .collect();
    nearest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    nearest.dedup_by(|a, b| a.1 == b.1);
    let nearest: Vec<String> = nearest
        .iter()
        .take(3)
        .map(|(_, id)| format!("`{id}`"))
        .collect();
    let hint = if nearest.is_empty() {
        "it has no account ids".to_string()
    } else {
        format!("the nearest ids are {}", nearest.join(", "))
    };
    Err(format!(
        "no account `{missing}` in `{}`; {hint}",
        accounts.display()
    ))
}

/// Per table: whether the batch's demand-driven run (`policy::run_needed`)
/// evaluates it for this account, i.e. whether the actions need it.
fn tables_used(policy: &Policy, account: &crate::types::Value, as_of: NaiveDate) -> Vec<bool> {
    let mut used = vec![false; policy.plan.tables.len()];
    match crate::policy::run_needed(policy, account, as_of) {
        Ok(run) => {
            for d in &run.evaluation.decisions {
                used[d.table as usize] = true;
            }
        }
        // Not reached: `run` evaluated every table without an error. Mark nothing.
        Err(_) => used.fill(true),
    }
    used
}

/// An id given to two accounts (a file concatenated twice, a copied sample):
/// each is evaluated, as the batch does, but said once on stderr.
fn warn_repeated_ids(records: &[AccountRecord], ids: &[Option<String>]) {
    let mut first: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut repeats = Vec::new();
    for (record, id) in records.iter().zip(ids) {
        let Some(id) = id.as_deref() else { continue };
        match first.get(id) {
            Some(at) => repeats.push(format!("`{id}` at {} (first at {at})", record.origin)),
            None => {
                first.insert(id, &record.origin);
            }
        }
    }
    if let Some(example) = repeats.first() {
        eprintln!(
            "warning: {} account(s) repeat the id of an earlier one, e.g. {}; each is evaluated",
            repeats.len(),
            printable(example)
        );
    }
}

fn human_account(
    out: &mut Out,
    plan: &Plan,
    record: &AccountRecord,
    id: Option<&str>,
    result: &Result,
    args: &Args,
) {
    let origin = &record.origin;
    let name = id.map_or_else(|| format!("(no id) at {origin}"), |id| id.to_string());
    let _ = writeln!(out, "account {}", printable(&name));
    match result {
        Result::Unreadable(message) => {
            let _ = writeln!(
                out,
                "  error: {}",
                printable(&format!("{origin}: {message}"))
            );
        }
        Result::BadData(errors) => {
            for e in errors {
                let at = record.location_of(&e.field);
                let _ = writeln!(out, "  error: {}", printable(&format!("{e} ({at})")));
            }
        }
        Result::EvalFailed(err) => {
            let at = err
                .field()
                .map(|field| format!(" ({})", record.location_of(field)));
            let _ = writeln!(
                out,
                "  error: {}",
                printable(&format!("{err}{}", at.unwrap_or_default()))
            );
        }
        Result::Evaluated(evaluation, actions) => {
            let mut used = None;
            if let Some((actions, needed)) = actions {
                super::render::actions(out, actions);
                if !args.explain {
                    return;
                }
                let _ = writeln!(out, "  decisions:");
                used = needed.as_deref();
            }
            let detail = Detail {
                trace: args.explain,
                all_cells: args.all_cells,
                used,
            };
            super::render::detailed_decisions(out, plan, evaluation, &detail);
        }
    }
}

fn json_account(
    plan: &Plan,
    record: &AccountRecord,
    id: Option<&str>,
    result: &Result,
    args: &Args,
) -> Json {
    let mut doc = json!({ "account": id, "origin": record.origin });
    match result {
        Result::Unreadable(message) => {
            doc["errors"] = json!([{ "field": null, "message": message }])
        }
        Result::BadData(errors) => {
            let errors: Vec<Json> = errors
                .iter()
                .map(|e| json!({ "field": e.field, "message": e.message, "location": record.location_of(&e.field) }))
                .collect();
            doc["errors"] = json!(errors)
        }
        Result::EvalFailed(err) => {
            let mut error = match &err.kind {
                EvalErrorKind::Field { field, message } => {
                    json!({ "field": field, "message": message, "location": record.location_of(field) })
                }
                kind => json!({ "table": err.table, "message": kind.to_string() }),
            };
            if let Some(item) = err.item {
                // Its index from 0, as the item's field path and the decision's label number it.
                error["item"] = json!(item);
            }
            if let Some(input) = &err.input {
                error["input"] = json!(input);
            }
            doc["errors"] = json!([error]);
        }
        Result::Evaluated(evaluation, actions) => {
            let mut used = None;
            if let Some((actions, needed)) = actions {
                doc["actions"] = json!(actions);
                used = needed.as_ref();
            }
            let decisions: Vec<Json> = evaluation
                .decisions
                .iter()
                .map(|d| {
                    let table = &plan.tables[d.table as usize].table;
                    let mut j = json!({ "table": table.name, "hit": table.hit.name() });
                    if let Some(label) = &d.label {
                        j["item"] = json!(label.as_ref());
                    }
                    if let Some(used) = used {
                        j["used_by_actions"] = json!(used[d.table as usize]);
                    }
                    let ids: Vec<&str> = d.outcome.rows().iter().map(|r| row_id(table, *r)).collect();
                    j["rows"] = json!(ids);
                    match &d.outcome {
                        Outcome::Row { .. } | Outcome::Aggregate { .. } => j["outputs"] = plan.outputs_json(d.table, plan.result(d)),
                        Outcome::Default { .. } => {
                            j["default"] = json!(true);
                            j["outputs"] = plan.outputs_json(d.table, plan.result(d));
                        }
                        Outcome::Rows(rows) => {
                            j["results"] = rows
                                .iter()
                                .map(|(r, values)| json!({ "row": row_id(table, *r), "outputs": plan.outputs_json(d.table, plan.row_values(d.table, *r, values)) }))
                                .collect();
                        }
                    }
                    j
                })
                .collect();
            doc["decisions"] = json!(decisions);
            if !evaluation.trace.is_empty() {
                doc["trace"] = evaluation
                    .trace
                    .iter()
                    .map(|t| {
                        let table = &plan.tables[t.table as usize].table;
                        let misses = |r: u32| t.misses.iter().filter(move |m| m.row == r);
                        json!({
                            "table": table.name,
                            // A computed input not computed is left out.
                            "inputs": table.inputs.iter().zip(&t.inputs)
                                .filter_map(|(i, v)| Some((i.name.clone(), value_to_json(v.as_ref()?, &i.expr.ty, plan.schema()))))
                                .collect::<serde_json::Map<_, _>>(),
                            "rows": t.rows.iter().map(|(r, failed)| {
                                let row = &table.rows[*r as usize];
                                match failed {
                                    None => json!({
                                        "row": row.id, "matched": true,
                                        "cells": conditions(table, *r as usize)
                                            .map(|(input, cell)| (input.to_string(), json!(cell)))
                                            .collect::<serde_json::Map<_, _>>(),
                                    }),
                                    Some(c) => {
                                        let mut j = json!({
                                            "row": row.id, "matched": false,
                                            "failed_input": table.inputs[*c as usize].name,
                                            "cell": row.cells[*c as usize].text,
                                        });
                                        if let Some(first) = misses(*r).find(|m| m.input == *c) {
                                            add_operands(&mut j, plan, t.table, first);
                                        }
                                        if args.all_cells {
                                            j["failed_cells"] = misses(*r).map(|m| {
                                                let mut cell = json!({
                                                    "input": table.inputs[m.input as usize].name,
                                                    "cell": row.cells[m.input as usize].text,
                                                });
                                                add_operands(&mut cell, plan, t.table, m);
                                                cell
                                            }).collect();
                                        }
                                        j
                                    }
                                }
                            }).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
            }
        }
    }
    doc
}

/// A failing cell's per-account operand values (`"operands"`), or why they
/// could not be evaluated (`"error"`); nothing for a cell of constants.
fn add_operands(j: &mut Json, plan: &Plan, t: u32, miss: &crate::eval::CellMiss) {
    match &miss.operands {
        Err(err) => {
            let input = &plan.tables[t as usize].table.inputs[miss.input as usize].name;
            j["error"] = json!(err.beside_input(input).to_string())
        }
        Ok(values) if values.is_empty() => {}
        Ok(values) => {
            let Some((_, tests)) = dynamic_tests(plan, t, miss.row, miss.input) else {
                return;
            };
            j["operands"] = values
                .iter()
                .zip(operands(&tests))
                .map(|(v, e)| value_to_json(v, &e.ty, plan.schema()))
                .collect();
        }
    }
}
