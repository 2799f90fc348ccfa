//! `arrears dry-run --rules DIR --as-of DATE ACCOUNTS`

use std::path::PathBuf;

use chrono::NaiveDate;
use serde_json::{json, Value as Json};

use super::render::row_id;
use super::{error_line, parse_date, Exit, Format, Out};
use crate::compile::Plan;
use crate::diagnostic::printable;
use crate::eval::{evaluate, Evaluation, Outcome};
use crate::policy::{Action, Policy};
use crate::snapshot::{account_id, decode_account};
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
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// What happened to one account.
enum Result {
    Evaluated(Evaluation, Option<Vec<Action>>),
    BadData(Vec<crate::snapshot::FieldError>),
    Unreadable(String),
    EvalFailed(crate::eval::EvalError),
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let loaded = match crate::policy::load(&args.rules) {
        Ok(loaded) => loaded,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let (policy, plan): (Option<&Policy>, Option<&Plan>) = match (&loaded.policy, &loaded.plan) {
        (Some(p), _) => (Some(p), Some(&p.plan)),
        (None, plan) => (None, plan.as_ref()),
    };
    let Some(plan) = plan else {
        return super::invalid_rules(&args.rules, &loaded.diagnostics);
    };
    let read = if args.accounts.as_os_str() == "-" {
        crate::accounts::read_stdin()
    } else {
        crate::accounts::read_accounts(&args.accounts)
    };
    let records = match read {
        Ok(records) => records,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let schema = plan.schema();
    let mut failed = 0usize;
    let mut results = Vec::with_capacity(records.len());
    for record in &records {
        let (id, result) = match &record.json {
            Err(message) => (None, Result::Unreadable(message.clone())),
            Ok(json) => {
                let id = account_id(schema, json);
                let result = match decode_account(schema, json) {
                    Err(errors) => Result::BadData(errors),
                    Ok(account) => match policy {
                        Some(policy) => {
                            match crate::policy::run(policy, &account, args.as_of, args.explain) {
                                Ok(run) => Result::Evaluated(run.evaluation, Some(run.actions)),
                                Err(err) => Result::EvalFailed(err),
                            }
                        }
                        None => match evaluate(plan, &account, args.as_of, args.explain) {
                            Ok(evaluation) => Result::Evaluated(evaluation, None),
                            Err(err) => Result::EvalFailed(err),
                        },
                    },
                };
                (id, result)
            }
        };
        if !matches!(result, Result::Evaluated(..)) {
            failed += 1;
        }
        results.push((record, id, result));
    }
    let _ = match args.format {
        Format::Human => {
            for (record, id, result) in &results {
                human_account(
                    out,
                    plan,
                    record.origin.as_str(),
                    id.as_deref(),
                    result,
                    args.explain,
                );
            }
            writeln!(
                out,
                "{} account(s) as of {}: {} evaluated, {failed} failed",
                results.len(),
                args.as_of,
                results.len() - failed
            )
        }
        Format::Json => {
            let accounts: Vec<Json> = results
                .iter()
                .map(|(record, id, result)| {
                    json_account(plan, &record.origin, id.as_deref(), result)
                })
                .collect();
            let doc = json!({
                "as_of": args.as_of.to_string(),
                "accounts": accounts,
                "summary": { "accounts": results.len(), "evaluated": results.len() - failed, "failed": failed },
            });
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

fn human_account(
    out: &mut Out,
    plan: &Plan,
    origin: &str,
    id: Option<&str>,
    result: &Result,
    explain: bool,
) {
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
                let _ = writeln!(out, "  error: {}", printable(&format!("{e} ({origin})")));
            }
        }
        Result::EvalFailed(err) => {
            let _ = writeln!(out, "  error: {}", printable(&err.to_string()));
        }
        Result::Evaluated(evaluation, actions) => {
            if let Some(actions) = actions {
                super::render::actions(out, actions);
                if !explain {
                    return;
                }
                let _ = writeln!(out, "  decisions:");
            }
            super::render::decisions(out, plan, evaluation, explain);
        }
    }
}

fn json_account(plan: &Plan, origin: &str, id: Option<&str>, result: &Result) -> Json {
    let mut doc = json!({ "account": id, "origin": origin });
    match result {
        Result::Unreadable(message) => {
            doc["errors"] = json!([{ "field": null, "message": message }])
        }
        Result::BadData(errors) => doc["errors"] = json!(errors),
        Result::EvalFailed(err) => {
            doc["errors"] = json!([{ "table": err.table, "message": err.kind.to_string() }]);
        }
        Result::Evaluated(evaluation, actions) => {
            if let Some(actions) = actions {
                doc["actions"] = json!(actions);
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
                    let ids: Vec<&str> = d.outcome.rows().iter().map(|r| row_id(table, *r)).collect();
                    j["rows"] = json!(ids);
                    match &d.outcome {
                        Outcome::Row { values, .. } => j["outputs"] = plan.outputs_json(d.table, values),
                        Outcome::Default { values } => {
                            j["default"] = json!(true);
                            j["outputs"] = plan.outputs_json(d.table, values);
                        }
                        Outcome::Aggregate { value, .. } => j["outputs"] = plan.outputs_json(d.table, std::slice::from_ref(value)),
                        Outcome::Rows(rows) => {
                            j["results"] = rows
                                .iter()
                                .map(|(r, values)| json!({ "row": row_id(table, *r), "outputs": plan.outputs_json(d.table, values) }))
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
                        json!({
                            "table": table.name,
                            "inputs": table.inputs.iter().zip(&t.inputs)
                                .map(|(i, v)| (i.name.clone(), value_to_json(v, &i.expr.ty, plan.schema())))
                                .collect::<serde_json::Map<_, _>>(),
                            "rows": t.rows.iter().map(|(r, failed)| {
                                let row = &table.rows[*r as usize];
                                match failed {
                                    None => json!({ "row": row.id, "matched": true }),
                                    Some(c) => json!({
                                        "row": row.id, "matched": false,
                                        "failed_input": table.inputs[*c as usize].name,
                                        "cell": row.cells[*c as usize].text,
                                    }),
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
