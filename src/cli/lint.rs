//! `arrears lint [DIR]`

use std::path::PathBuf;

use super::{error_line, Exit, Format, Out};
use crate::diagnostic::{printable, Severity};

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
    /// Test documents, or directories to search for them, to check too (the rules
    /// directory's `tests/` is always checked).
    #[arg(long, value_name = "PATH")]
    tests: Vec<PathBuf>,
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
    let crate::Linted {
        loaded,
        diagnostics,
    } = match crate::lint(&args.dir, &args.tests) {
        Ok(linted) => linted,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let _ = match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "diagnostics": diagnostics.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                "errors": errors,
                "warnings": warnings,
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
                    printable(&p.name),
                    p.plan.tables.len(),
                    p.templates.len(),
                    p.experiments.len()
                ),
                (None, Some(plan)) => format!("{} tables", plan.tables.len()),
                (None, None) => String::new(),
            };
            if errors == 0 && warnings == 0 {
                let dir = args.dir.display().to_string();
                writeln!(out, "{}: {summary}, no problems", printable(&dir))
            } else {
                writeln!(
                    out,
                    "{}: {errors} error(s), {warnings} warning(s)",
                    printable(&args.dir.display().to_string())
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
