//! `arrears lint [DIR | --rules DIR]`
//! It prints what the library's `lint()` finds and must not find anything
//! itself.

use std::path::{Path, PathBuf};

use super::{ci, error_line, Exit, Out};
use crate::diagnostic::{printable, Severity};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    #[default]
    #[value(alias = "text")]
    Human,
    Json,
    /// SARIF 2.1.0, for code scanning (`github/codeql-action/upload-sarif`).
    Sarif,
    /// GitHub Actions workflow commands: one annotation per diagnostic.
    Github,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory (default `rules`; also `--rules DIR`, as the other commands take it).
    dir: Option<PathBuf>,
    /// The rules directory, as the other commands take it.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Output format: `sarif` is a SARIF 2.1.0 log (GitHub code scanning), `github` workflow
    /// commands that GitHub Actions shows as annotations on the lines.
    #[arg(long, value_enum, default_value_t)]
    format: LintFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Test documents, or directories to search for them, to check too (the rules
    /// directory's `tests/` is always checked).
    #[arg(long, value_name = "PATH")]
    tests: Vec<PathBuf>,
    /// Write one YAML account per finding with input values (a gap, an overlap, a hidden,
    /// redundant or duplicate row) into DIR, for `dry-run` or a test document.
    #[arg(long, value_name = "DIR")]
    counterexamples: Option<PathBuf>,
    /// Lint only the rules in force on this day (effective dating); without it, every
    /// distinct rule set.
    #[arg(long, value_parser = super::parse_date)]
    as_of: Option<chrono::NaiveDate>,
    /// The rules before the edit: a directory, or a git revision (`HEAD~1`, `main`) of the
    /// repository holding the rules directory. Warns when an experiment edit moves
    /// accounts between arms that exist in both.
    #[arg(long, value_name = "DIR|REVISION")]
    base: Option<String>,
    /// Accounts expected to enter each experiment: warn about arms expected to get
    /// fewer than 2,500 of them.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    population: Option<u64>,
    /// Print what a diagnostic code means, why it matters and an example, then exit.
    #[arg(long, value_name = "CODE", value_parser = CodeName, hide_possible_values = true)]
    explain: Option<String>,
    /// Print every diagnostic code with its severity and a one-line summary, then exit.
    #[arg(long, conflicts_with = "explain")]
    list_codes: bool,
}

/// `--explain`'s value: any text (`run` names the nearest code for an
/// unknown one), with every code offered to shell completion.
#[derive(Clone)]
struct CodeName;

impl clap::builder::TypedValueParser for CodeName {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(command, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let codes = crate::lang::analysis::codes::CODES.iter();
        Some(Box::new(
            codes.map(|c| clap::builder::PossibleValue::new(c.code)),
        ))
    }
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    use crate::lang::analysis::codes::{find, CODES};
    if args.list_codes {
        let width = CODES.iter().map(|c| c.code.len()).max().unwrap_or(0);
        for c in CODES {
            let _ = writeln!(out, "{:width$}  {:7}  {}", c.code, c.severity, c.summary());
        }
        return Exit::Ok;
    }
    if let Some(code) = &args.explain {
        return match find(code) {
            Some(doc) => {
                let _ = write!(out, "{}", doc.explain());
                Exit::Ok
            }
            None => {
                let nearest = crate::diagnostic::did_you_mean(code, CODES.iter().map(|c| c.code))
                    .map_or_else(String::new, |hint| format!("{hint} "));
                super::usage_error(format!(
                    "unknown code `{code}`; {nearest}`arrears lint --list-codes` lists every code"
                ))
            }
        };
    }
    let dir = match rules_dir(args) {
        Ok(dir) => dir,
        Err(message) => return super::usage_error(message),
    };
    if let Some(out_dir) = &args.counterexamples {
        let outputs = [super::output::Named {
            what: "--counterexamples".into(),
            path: out_dir,
        }];
        if let Err(message) = super::output::refuse_inside_rules(&[dir], &outputs) {
            return super::usage_error(message);
        }
    }
    let base = match args
        .base
        .as_deref()
        .map(|b| super::base::base_rules(b, dir))
    {
        Some(Err(message)) => {
            error_line(message);
            return Exit::BadInput;
        }
        Some(Ok(base)) => Some(base),
        None => None,
    };
    let crate::Linted {
        loaded,
        diagnostics,
        counterexamples,
        analysed,
        rule_sets,
    } = match crate::lint_with(
        dir,
        &crate::LintOptions {
            tests: &args.tests,
            counterexamples: args.counterexamples.as_deref(),
            as_of: args.as_of,
            base: base.as_ref().map(|b| b.dir.as_path()),
            population: args.population,
        },
    ) {
        Ok(linted) => linted,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    if let Some(out_dir) = &args.counterexamples {
        eprintln!(
            "wrote {} counterexample account(s) to {}",
            counterexamples.len(),
            printable(&out_dir.display().to_string())
        );
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    // What lint proved is said in the summary, not counted with what it could not analyse:
    // one line per effective-dated rule set that proved a different count.
    let proven: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.code == "invariants-proven")
        .map(|d| d.message.as_str())
        .collect();
    let notes = diagnostics.len() - errors - warnings - proven.len();
    let counts = Counts {
        errors,
        warnings,
        notes,
        proven: &proven,
        analysed,
        rule_sets: &rule_sets,
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let _ = match args.format {
        LintFormat::Sarif => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&ci::sarif(&diagnostics, &cwd)).unwrap_or_default()
        ),
        LintFormat::Github => {
            let _ = write!(out, "{}", ci::github_diagnostics(&diagnostics, &cwd));
            writeln!(out, "{}", summary_line(dir, &loaded, &counts))
        }
        LintFormat::Json => {
            let json = serde_json::json!({
                "diagnostics": diagnostics.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
                "errors": errors,
                "warnings": warnings,
                "infos": notes,
                "analysed": analysed,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
        LintFormat::Human => {
            for d in &diagnostics {
                let _ = writeln!(out, "{}", d.render());
            }
            writeln!(out, "{}", summary_line(dir, &loaded, &counts))
        }
    };
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// What the summary line counts and says was done.
struct Counts<'a> {
    errors: usize,
    warnings: usize,
    notes: usize,
    /// The `invariants-proven` messages: one, or one per rule set when sets proved different counts.
    proven: &'a [&'a str],
    analysed: bool,
    /// When each effective-dated rule set linted is in force and what it holds, when there are several.
    rule_sets: &'a [(String, String)],
}

/// The last line: what was loaded and that nothing is wrong, or the counts.
fn summary_line(dir: &Path, loaded: &crate::policy::Loaded, counts: &Counts) -> String {
    // With several effective-dated rule sets, what each holds when they differ.
    let first = loaded.contents();
    let summary = match counts.rule_sets {
        [_, _, ..] if counts.rule_sets.iter().any(|(_, c)| *c != first) => counts
            .rule_sets
            .iter()
            .map(|(in_force, contents)| format!("{contents} in the rules in force {in_force}"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => first,
    };
    let notes = match counts.notes {
        0 => String::new(),
        n => format!(", {n} info(s) on what was not analysed"),
    };
    let notes = match counts.proven {
        [] => notes,
        proven => format!(", {}{notes}", proven.join(", ")),
    };
    let dir = printable(&dir.display().to_string()).into_owned();
    // Said, so that "1 error" is not read as "and nothing else is wrong".
    // With effective dating, invariants may be proven in the sets without errors only.
    let skipped = match (counts.analysed, counts.proven.is_empty()) {
        (true, _) => "",
        (false, true) => "; the tables were not analysed (gaps, overlaps, unreachable rows), nor the guard-rail invariants proven or the test documents checked against the rules: fix the errors and lint again",
        (false, false) => "; the effective-dated rule sets with errors were not analysed (gaps, overlaps, unreachable rows), nor their guard-rail invariants proven or the test documents checked against them: fix the errors and lint again",
    };
    let Counts {
        errors, warnings, ..
    } = counts;
    if *errors == 0 && *warnings == 0 {
        format!("{dir}: {summary}, no problems{notes}")
    } else {
        format!("{dir}: {errors} error(s), {warnings} warning(s){notes}{skipped}")
    }
}

/// The rules directory: positional or `--rules` (the same one if both), `rules` by default.
fn rules_dir(args: &Args) -> Result<&Path, String> {
    match (&args.dir, &args.rules) {
        (Some(dir), Some(rules)) if !same_dir(dir, rules) => Err(format!(
            "two rules directories, `{}` and `--rules {}`; give one",
            dir.display(),
            rules.display()
        )),
        (Some(dir), _) | (None, Some(dir)) => Ok(dir),
        (None, None) => Ok(Path::new("rules")),
    }
}

/// The same path, or two names of one existing directory (`rules`, `./rules/`).
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Effective-dated sets that proved different counts each have their
    /// line in the summary, and the counts of tables say whose they are.
    #[test]
    fn the_summary_says_every_rule_sets_proofs() {
        let book = crate::policy::Rulebook::load(Path::new("rules")).expect("shipped rules");
        let loaded = book.into_set(0);
        let proven = [
            "14 of 14 guard-rail invariants proven (rules in force until 2026-12-31)",
            "13 of 14 guard-rail invariants proven (rules in force from 2027-01-01)",
        ];
        let contents = loaded.contents();
        let rule_sets = [
            ("until 2026-12-31".to_string(), contents.clone()),
            ("from 2027-01-01".to_string(), contents.clone()),
        ];
        let counts = Counts {
            errors: 0,
            warnings: 0,
            notes: 7,
            proven: &proven,
            analysed: true,
            rule_sets: &rule_sets,
        };
        let line = summary_line(Path::new("rules"), &loaded, &counts);
        assert_eq!(
            line,
            format!(
                "rules: {contents}, no problems, {}, {}, 7 info(s) on what was not analysed",
                proven[0], proven[1]
            )
        );
        // Sets that hold different tables say each what it holds.
        let other = [
            rule_sets[0].clone(),
            (
                "from 2027-01-01".to_string(),
                "policy `collections`: 1 tables, 0 templates, 0 experiments".into(),
            ),
        ];
        let line = summary_line(
            Path::new("rules"),
            &loaded,
            &Counts {
                rule_sets: &other,
                ..counts
            },
        );
        assert!(
            line.starts_with(&format!("rules: {contents} in the rules in force until 2026-12-31; policy `collections`: 1 tables, 0 templates, 0 experiments in the rules in force from 2027-01-01, no problems, {}", proven[0])),
            "{line}"
        );
        // With errors in one set, what the others proved is kept, and the skip said for the sets with errors.
        let counts = Counts {
            errors: 1,
            proven: &proven[1..],
            analysed: false,
            ..counts
        };
        let line = summary_line(Path::new("rules"), &loaded, &counts);
        assert!(
            line.starts_with(&format!(
                "rules: 1 error(s), 0 warning(s), {}, 7 info(s)",
                proven[1]
            )) && line.contains("the effective-dated rule sets with errors were not analysed"),
            "{line}"
        );
    }
}
