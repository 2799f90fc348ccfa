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
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let loaded = match crate::policy::load(&args.dir) {
        Ok(loaded) => loaded,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let mut diagnostics = loaded.diagnostics;
    sort(&mut diagnostics);
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
                    p.name,
                    p.plan.tables.len(),
                    p.templates.len(),
                    p.experiments.len()
                ),
                (None, Some(plan)) => format!("{} tables", plan.tables.len()),
                (None, None) => String::new(),
            };
            if errors == 0 && warnings == 0 {
                writeln!(out, "{}: {summary}, no problems", args.dir.display())
            } else {
                writeln!(
                    out,
                    "{}: {errors} error(s), {warnings} warning(s)",
                    args.dir.display()
                )
            }
        }
    };
    if errors > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
