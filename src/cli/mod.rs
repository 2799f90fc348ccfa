//! The `arrears` command line. Only this module prints; one file per command.
//! It owns argument parsing, exit codes (`Exit`) and rendering; it must not
//! decide anything a library caller would need (that goes below, so `lint()`,
//! `policy::run` and the batch give the same answers without it).

mod base;
mod batch;
mod ci;
mod diff;
mod doc;
mod dry_run;
mod fmt;
mod generate;
mod lint;
mod manual;
mod output;
mod render;
mod rules;
mod schema;
mod simulate;
mod test;

use std::io::Write;

use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes, stable and documented in the README and every manual page
/// (`Exit::meaning`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Findings = 1,
    BadInput = 2,
    InvalidRules = 3,
    TooManyRejects = 4,
    Unbalanced = 5,
    DiffIncomplete = 6,
    EmptyExtract = 7,
    TooManyClosures = 8,
    Usage = 64,
}
// `batch` (`diff`, `generate`) stopped by a signal exits 128 + its number (129, 130, 143): see `output::remove_partials_on_signal`.

impl Exit {
    pub const ALL: [Exit; 10] = [
        Exit::Ok,
        Exit::Findings,
        Exit::BadInput,
        Exit::InvalidRules,
        Exit::TooManyRejects,
        Exit::Unbalanced,
        Exit::DiffIncomplete,
        Exit::EmptyExtract,
        Exit::TooManyClosures,
        Exit::Usage,
    ];

    /// What the code means, in one sentence (the manual pages' EXIT STATUS).
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => "Everything ran and nothing is wrong.",
            Exit::Findings => {
                "It ran and found problems: lint errors, accounts that could not be evaluated, failing \
                 test cases, coverage below --min-coverage; for diff, some account's actions changed."
            }
            Exit::BadInput => {
                "An input could not be read (a missing file, a directory, unparseable accounts, an \
                 unusable test document), or an output could not be written (standard output included)."
            }
            Exit::InvalidRules => {
                "The rules have errors, so nothing was evaluated (arrears lint shows them)."
            }
            Exit::TooManyRejects => {
                "batch --max-rejects N: more than N rows were rejected; the run stopped and wrote no \
                 actions or summary (the rejects read so far are kept in --rejects FILE)."
            }
            Exit::Unbalanced => {
                "batch: rows read differ from rows evaluated plus rows rejected (diff: compared plus \
                 rejected); the output is discarded."
            }
            Exit::DiffIncomplete => {
                "diff: no compared account changed, but some rows could not be compared, so \
                 \"nothing changed\" is not proven."
            }
            Exit::EmptyExtract => {
                "batch --open-cases: the extract has no rows (a failed transfer), so no case is closed \
                 and nothing is written."
            }
            Exit::TooManyClosures => {
                "batch --open-cases: the run would close more of the listed cases as absent than \
                 --max-closed-share allows (default half), as a truncated extract does; no case is \
                 closed and nothing is written."
            }
            Exit::Usage => {
                "The command line is wrong: an unknown flag, a bad value, an output over an input or \
                 inside the rules directory."
            }
        }
    }

    /// What the code means for `command` (a subcommand's name; `None`: the
    /// program), where that is narrower than [`Exit::meaning`].
    pub fn meaning_for(self, command: Option<&str>) -> &'static str {
        match (self, command) {
            (Exit::Findings, Some("lint")) => {
                "The rules have errors (or warnings, with --deny-warnings)."
            }
            (Exit::Findings, Some("dry-run")) => "Some account could not be evaluated.",
            (Exit::Findings, Some("test")) => {
                "A case failed, or row coverage is below --min-coverage."
            }
            (Exit::Findings, Some("batch")) => "Some row was rejected.",
            (Exit::Findings, Some("simulate")) => {
                "A timeline stopped on a day: its account could not be evaluated or its actions applied."
            }
            (Exit::Findings, Some("diff")) => "Some compared account's actions changed.",
            (Exit::Findings, Some("fmt")) => {
                "--check or --diff: some file is not in canonical form."
            }
            (Exit::InvalidRules, Some("fmt")) => {
                "Some rule file does not parse, or a file is no rule file (empty, only comments, a list); it is reported at file:line:col and left alone."
            }
            _ => self.meaning(),
        }
    }

    /// The codes `command` (a subcommand's name; `None`: the program) can end with.
    pub fn of_command(command: Option<&str>) -> Vec<Exit> {
        use Exit::*;
        let codes: &[Exit] = match command {
            None => &Exit::ALL,
            Some("completions" | "man" | "schema") => &[Ok, BadInput, Usage],
            // Exit 3: a --rules directory without a policy that builds.
            Some("generate") => &[Ok, BadInput, InvalidRules, Usage],
            Some("doc") => &[Ok, BadInput, InvalidRules, Usage],
            Some("lint") => &[Ok, Findings, BadInput, Usage],
            Some("batch") => &[
                Ok,
                Findings,
                BadInput,
                InvalidRules,
                TooManyRejects,
                Unbalanced,
                EmptyExtract,
                TooManyClosures,
                Usage,
            ],
            Some("diff") => &[
                Ok,
                Findings,
                BadInput,
                InvalidRules,
                Unbalanced,
                DiffIncomplete,
                Usage,
            ],
            Some(_) => &[Ok, Findings, BadInput, InvalidRules, Usage],
        };
        codes.to_vec()
    }
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
    /// Run accounts through a timeline of days: each day's happenings, actions and events due.
    Simulate(simulate::Args),
    /// Compare two rule sets over the same accounts: transition matrices, events, rules; exit 1 when anything changed.
    Diff(diff::Args),
    /// Write a realistic synthetic extract (CSV and companion files, or JSON Lines) for the shipped rules.
    Generate(generate::Args),
    /// Write the policy as a static HTML site: pipeline, tables with test coverage, templates.
    Doc(doc::Args),
    /// Rewrite rule files with every cell and expression in canonical form, keeping comments and layout.
    Fmt(fmt::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(manual::CompletionsArgs),
    /// Print the manual page, or write one page per command with `--out DIR`.
    Man(manual::ManArgs),
    /// Print or write the JSON Schema of a document kind, for editors (yaml-language-server, taplo).
    Schema(schema::Args),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    #[value(alias = "text")]
    Human,
    Json,
}

/// Exactly `YYYY-MM-DD`, a real calendar date: chrono alone also takes a
/// sign, one-digit months and days, and leading spaces.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("`{s}` is not a calendar date in the form YYYY-MM-DD"))
}

/// A parser for a number in `range` (NaN is not in any range).
pub fn number_in(
    range: std::ops::RangeInclusive<f64>,
) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |s| match s.parse::<f64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a number from {} to {}",
            range.start(),
            range.end()
        )),
    }
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
            let message = named_flag(&err)
                .or_else(|| alias_suggested(&err))
                .unwrap_or_else(|| clap_message(&err.render().to_string()));
            return usage_error(message).into();
        }
    };
    // `batch` writes standard output from its own writer thread, so it must not
    // find stdout locked here.
    if let Command::Batch(args) = &cli.command {
        return batch::run(args).into();
    }
    if let Command::Diff(args) = &cli.command {
        return diff::run(args).into();
    }
    let mut out = CheckedOut::new(std::io::BufWriter::new(std::io::stdout().lock()));
    let exit = match cli.command {
        Command::Lint(args) => lint::run(&args, &mut out),
        Command::DryRun(args) => dry_run::run(&args, &mut out),
        Command::Test(args) => test::run(&args, &mut out),
        Command::Batch(args) => batch::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Generate(args) => generate::run(&args, &mut out),
        Command::Simulate(args) => simulate::run(&args, &mut out),
        Command::Doc(args) => doc::run(&args, &mut out),
        Command::Fmt(args) => fmt::run(&args, &mut out),
        Command::Completions(args) => manual::completions(&args, &mut out),
        Command::Man(args) => manual::man(&args, &mut out),
        Command::Schema(args) => schema::run(&args, &mut out),
    };
    out.finish(exit).into()
}

/// Whether a write failed because its reader went away (`| head`): the
/// reader's choice, so not an error (exit as if written, and say nothing).
pub fn is_closed_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// Standard output that remembers its first write error, so that a command
/// printing with `let _ = writeln!(..)` still fails when nothing reached the
/// file (`> /dev/full`, a full disk). After an error, writes are dropped.
pub struct CheckedOut<W: Write> {
    inner: W,
    error: Option<std::io::Error>,
}

impl<W: Write> CheckedOut<W> {
    pub fn new(inner: W) -> Self {
        CheckedOut { inner, error: None }
    }

    fn keep(&mut self, result: std::io::Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    /// The command's exit code, unless standard output failed: then exit 2
    /// with one line. A closed pipe (`| head`) is the reader's choice: quiet.
    pub fn finish(mut self, exit: Exit) -> Exit {
        let flushed = self.flush();
        self.keep(flushed);
        match self.error {
            None => exit,
            Some(e) if is_closed_pipe(&e) => exit,
            Some(e) => {
                error_line(format!("cannot write standard output: {e}"));
                Exit::BadInput
            }
        }
    }
}

impl<W: Write> Write for CheckedOut<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none() {
            let written = self.inner.write_all(buf);
            self.keep(written);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_none() {
            let flushed = self.inner.flush();
            self.keep(flushed);
        }
        Ok(())
    }
}

/// After a command's output: the effective-dated versions it used, when the
/// rules have any (`model::effective`).
pub fn effective_lines(
    out: &mut Out,
    book: &crate::policy::Rulebook,
    date: chrono::NaiveDate,
) -> std::io::Result<()> {
    effective_lines_over(out, book, date, date)
}

/// [`effective_lines`] for days `first` to `last`, which one rule set runs
/// (`simulate`: each span of a timeline's days).
pub fn effective_lines_over(
    out: &mut Out,
    book: &crate::policy::Rulebook,
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
) -> std::io::Result<()> {
    if book.versions.is_empty() {
        return Ok(());
    }
    let lines = book.in_force_lines(first);
    let days = if first == last {
        format!("on {first}")
    } else {
        format!("from {first} to {last}")
    };
    writeln!(
        out,
        "effective-dated versions in force {days}: {}",
        lines.len()
    )?;
    for line in lines {
        writeln!(out, "    {}", crate::diagnostic::printable(&line))?;
    }
    Ok(())
}

/// clap's usage error as one line: its message (up to the first blank line,
/// joined) and its tips (`a similar subcommand exists: 'simulate'`), without
/// the usage block.
fn clap_message(rendered: &str) -> String {
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let tips: String = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .map(|tip| format!("; {tip}"))
        .collect();
    format!("{message}{tips}")
}

/// An unknown `--NAME` that is the last words of one of its command's flags
/// (`batch --format` for `--output-format`), which clap's spelling match finds
/// too far to suggest (it tells to pass it after `--` instead), named as clap
/// names a near spelling. Where two flags end so (`--input-format`,
/// `--output-format`), the output's: `--format` is the output's format in
/// every other command.
fn named_flag(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::UnknownArgument || err.get(ContextKind::SuggestedArg).is_some() {
        return None;
    }
    let Some(ContextValue::String(given)) = err.get(ContextKind::InvalidArg) else {
        return None;
    };
    let name = given.strip_prefix("--")?.split('=').next()?;
    let ending = format!("-{name}");
    let subcommand = invoked_subcommand()?;
    let mut flags: Vec<&str> = subcommand
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|long| long.ends_with(&ending))
        .collect();
    flags.sort_by_key(|long| !long.starts_with("output-"));
    let flag = flags.first()?;
    Some(format!(
        "unexpected argument '{given}' found; a similar argument exists: '--{flag}'"
    ))
}

/// An unknown `--NAME` for which clap suggests a flag's alias (`--ouput`:
/// `--output`, the alias of `--out`), named by the flag's own name.
fn alias_suggested(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let (Some(ContextValue::String(given)), Some(ContextValue::String(suggested))) = (
        err.get(ContextKind::InvalidArg),
        err.get(ContextKind::SuggestedArg),
    ) else {
        return None;
    };
    let alias = suggested.strip_prefix("--")?;
    let subcommand = invoked_subcommand()?;
    let flag = subcommand
        .get_arguments()
        .find(|a| a.get_all_aliases().is_some_and(|all| all.contains(&alias)))?
        .get_long()?;
    Some(format!(
        "unexpected argument '{given}' found; a similar argument exists: '--{flag}'"
    ))
}

/// The subcommand named on the command line, if any.
fn invoked_subcommand() -> Option<clap::Command> {
    use clap::CommandFactory;
    let command = Cli::command();
    std::env::args()
        .skip(1)
        .find_map(|a| command.find_subcommand(&a).cloned())
}

/// Every usage error (exit 64) goes through here, so each is one line ending
/// where to look for help, as the README says: `error: ... (see `arrears --help`)`.
pub fn usage_error(message: impl std::fmt::Display) -> Exit {
    error_line(format!("{message} (see `arrears --help`)"));
    Exit::Usage
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails every write with `kind`.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_on_standard_output_is_exit_2_and_a_closed_pipe_keeps_the_code() {
        for (kind, exit, expected) in [
            (std::io::ErrorKind::StorageFull, Exit::Ok, Exit::BadInput),
            (
                std::io::ErrorKind::StorageFull,
                Exit::Findings,
                Exit::BadInput,
            ),
            (std::io::ErrorKind::BrokenPipe, Exit::Ok, Exit::Ok),
            (
                std::io::ErrorKind::BrokenPipe,
                Exit::Findings,
                Exit::Findings,
            ),
        ] {
            let mut out = CheckedOut::new(std::io::BufWriter::new(Failing(kind)));
            // As the commands print: results ignored.
            let _ = writeln!(out, "account AC1");
            assert_eq!(out.finish(exit), expected, "{kind:?} after {exit:?}");
        }
        let mut fine = CheckedOut::new(Vec::new());
        let _ = writeln!(fine, "account AC1");
        assert_eq!(fine.inner, b"account AC1\n");
        assert_eq!(fine.finish(Exit::Findings), Exit::Findings);
    }

    #[test]
    fn as_of_is_exactly_yyyy_mm_dd() {
        for bad in [
            "+2026-11-22",
            "2026-2-3",
            " 2026-11-22",
            "2026-11-22 ",
            "2026-02-30",
            "02026-11-2",
        ] {
            assert!(parse_date(bad).is_err(), "`{bad}` was accepted");
        }
        assert_eq!(
            parse_date("2026-11-22"),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap())
        );
    }
}
