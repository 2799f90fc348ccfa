//! The `arrears` command line. Only this module prints; one file per command.

mod batch;
mod dry_run;
mod generate;
mod lint;
mod render;
mod test;

use std::io::Write;

use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes, stable and documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything ran and nothing is wrong.
    Ok = 0,
    /// It ran and found problems: lint errors, accounts that could not be evaluated.
    Findings = 1,
    /// An input could not be read: a missing file, a directory, unparseable accounts.
    BadInput = 2,
    /// The rules have errors, so nothing was evaluated (`arrears lint` shows them).
    InvalidRules = 3,
    /// `batch --max-rejects N`: more than N rows were rejected; the run stopped and wrote no output.
    TooManyRejects = 4,
    /// `batch`: rows read != rows evaluated + rows rejected; the output is discarded.
    Unbalanced = 5,
    /// The command line itself is wrong.
    Usage = 64,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "arrears",
    version,
    about = "A rule engine for debt-collections policy",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load, parse and type-check every rule file; print each problem with file, line and column.
    Lint(lint::Args),
    /// Evaluate the rules against sample accounts and print each account's actions or decisions.
    DryRun(dry_run::Args),
    /// Run test documents: cases with expected actions, rows and decisions; row coverage.
    Test(test::Args),
    /// Evaluate a large extract (CSV with a column mapping, or JSON Lines) into case actions, in parallel.
    Batch(batch::Args),
    /// Write a realistic synthetic extract (CSV and companion files, or JSON Lines) for the shipped rules.
    Generate(generate::Args),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a calendar date in the form YYYY-MM-DD"))
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            if !err.use_stderr() {
                // `--help`, `--version`.
                let _ = err.print();
                return Exit::Ok.into();
            }
            error_line(usage_line(&err.render().to_string()));
            return Exit::Usage.into();
        }
    };
    // `batch` writes standard output from its own writer thread, so it must not
    // find stdout locked here.
    if let Command::Batch(args) = &cli.command {
        return batch::run(args).into();
    }
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let exit = match cli.command {
        Command::Lint(args) => lint::run(&args, &mut out),
        Command::DryRun(args) => dry_run::run(&args, &mut out),
        Command::Test(args) => test::run(&args, &mut out),
        Command::Batch(args) => batch::run(&args),
        Command::Generate(args) => generate::run(&args, &mut out),
    };
    // A closed pipe (`| head`) is not an error worth a message.
    let _ = out.flush();
    exit.into()
}

/// Commands that need valid rules say where the first error is, and exit 3.
pub fn invalid_rules(dir: &std::path::Path, diagnostics: &[crate::diagnostic::Diagnostic]) -> Exit {
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostic::Severity::Error)
        .collect();
    if let Some(first) = errors.first() {
        error_line(format!(
            "the rules in `{}` have {} error(s), the first at {}: {}; run `arrears lint {}`",
            dir.display(),
            errors.len(),
            first.location(),
            first.message,
            dir.display()
        ));
    }
    Exit::InvalidRules
}

/// clap's usage error as one line: its message (up to the first blank line,
/// joined), without the usage block, and where to look for help.
fn usage_line(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see `arrears --help`)")
}

/// Prints a one-line error for the user to stderr; control characters from
/// the input (a file name, an id) are shown escaped, so it stays one line.
pub fn error_line(message: impl std::fmt::Display) {
    eprintln!(
        "error: {}",
        crate::diagnostic::printable(&message.to_string())
    );
}

pub type Out<'a> = dyn Write + 'a;
