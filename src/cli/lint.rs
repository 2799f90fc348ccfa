//! `arrears lint [DIR]`

use std::path::PathBuf;

use super::{error_line, Exit, Format, Out};
use crate::diagnostic::{sort, Severity};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory.
    #[arg(default_value = "rules")]
    dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Write one YAML account per finding with input values (a gap, an overlap, a hidden,
    /// redundant or duplicate row) into DIR, for `dry-run` or a test document.
    #[arg(long, value_name = "DIR")]
    counterexamples: Option<PathBuf>,
    /// Print what a diagnostic code means, why it matters and an example, then exit.
    #[arg(long, value_name = "CODE")]
    explain: Option<String>,
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    if let Some(code) = &args.explain {
        return match crate::analysis::codes::find(code) {
            Some(doc) => {
                let _ = write!(out, "{}", doc.explain());
                Exit::Ok
            }
            None => {
                error_line(format!(
                    "unknown code `{code}`; docs/lint-codes.md lists every code"
                ));
                Exit::Usage
            }
        };
    }
    let docs = match crate::model::load_dir(&args.dir) {
        Ok(docs) => docs,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let loaded = crate::policy::build(&docs);
    let mut diagnostics = loaded.diagnostics;
    if !diagnostics.iter().any(|d| d.severity == Severity::Error) {
        let program = match (&loaded.policy, &loaded.plan) {
            (Some(p), _) => Some(&p.plan.program),
            (None, Some(plan)) => Some(&plan.program),
            (None, None) => None,
        };
        if let Some(program) = program {
            let ctx = crate::analysis::Context {
                schema_doc: docs.schemas.first().map(|(f, d)| (f, d)),
                policy: loaded.policy.as_ref().map(crate::analysis::PolicyUse::of),
            };
            let findings = crate::analysis::analyse_findings(program, &ctx);
            if let Some(dir) = &args.counterexamples {
                match crate::analysis::counterexample::write_all(dir, &args.dir, program, &findings)
                {
                    Ok(files) => eprintln!(
                        "wrote {} counterexample account(s) to {}",
                        files.len(),
                        dir.display()
                    ),
                    Err(err) => {
                        error_line(err);
                        return Exit::BadInput;
                    }
                }
            }
            diagnostics.extend(findings.into_iter().map(|f| f.diagnostic));
        }
    }
    sort(&mut diagnostics);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let notes = diagnostics.len() - errors - warnings;
    let _ = match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "diagnostics": diagnostics.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                "errors": errors,
                "warnings": warnings,
                "infos": notes,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
        Format::Human => {
            for d in &diagnostics {
                let _ = writeln!(out, "{}", d.render());
            }
            let summary = match (&loaded.policy, &loaded.plan) {
                (Some(p), _) => format!(
                    "policy `{}`: {} tables, {} templates, {} experiments",
                    p.name,
                    p.plan.tables.len(),
                    p.templates.len(),
                    p.experiments.len()
                ),
                (None, Some(plan)) => format!("{} tables", plan.tables.len()),
                (None, None) => String::new(),
            };
            let notes = match notes {
                0 => String::new(),
                n => format!(", {n} info(s) on what was not analysed"),
            };
            if errors == 0 && warnings == 0 {
                writeln!(out, "{}: {summary}, no problems{notes}", args.dir.display())
            } else {
                writeln!(
                    out,
                    "{}: {errors} error(s), {warnings} warning(s){notes}",
                    args.dir.display()
                )
            }
        }
    };
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
