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
    let checked = match crate::load_rules(&args.dir) {
        Ok(checked) => checked,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let mut diagnostics = checked.diagnostics;
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
            let tables = checked.program.as_ref().map_or(0, |p| p.tables.len());
            if errors == 0 && warnings == 0 {
                writeln!(out, "{}: {tables} tables, no problems", args.dir.display())
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
