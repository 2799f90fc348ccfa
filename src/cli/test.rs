//! `arrears test [PATHS]`
//! It prints what `testing` reports; running and matching cases is `testing`'s.

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::{error_line, number_in, Exit, Out};
use crate::diagnostic::printable;
use crate::testing::{
    discover, same_dir, CaseOutcome, CaseResult, Coverage, Subject, TestDocument,
};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    #[default]
    #[value(alias = "text")]
    Human,
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// GitHub Actions workflow commands: an error annotation at each failed case's line, then
    /// the human report.
    Github,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory; overrides the `rules:` of every test document (default: a
    /// document's `rules:`, else `rules`).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Test documents, or directories to search for them (default: the rules directory).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: TestFormat,
    /// Report, per table, which rows fired in at least one case.
    #[arg(long)]
    coverage: bool,
    /// For failing cases, show every table's inputs and why each row did or did not match.
    #[arg(long)]
    explain: bool,
    /// Fail when overall row coverage is below this percentage (implies --coverage).
    #[arg(
        long,
        value_name = "PERCENT",
        value_parser = number_in(0.0..=100.0),
        conflicts_with = "filter"
    )]
    min_coverage: Option<f64>,
    /// Run only the cases whose name contains NAME.
    #[arg(long, value_name = "NAME")]
    filter: Option<String>,
}

/// The directory used when neither `--rules` nor a document names one.
const DEFAULT_RULES: &str = "rules";

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let paths = if args.paths.is_empty() {
        vec![args
            .rules
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RULES))]
    } else {
        args.paths.clone()
    };
    let files = match discover(&paths) {
        Ok(files) => files,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    if files.is_empty() {
        error_line(format!(
            "no test documents (files whose top-level key is `tests`) in {}",
            list(&paths)
        ));
        return Exit::BadInput;
    }
    let mut documents = Vec::new();
    // Exit 2 says one line: the first problem of all, how many more and where.
    let mut problems = Vec::new();
    for file in &files {
        let found = match TestDocument::read(file) {
            Ok(doc) => {
                let found = doc.read_problems().to_vec();
                documents.push(doc);
                found
            }
            Err(found) => found,
        };
        if args.format == TestFormat::Github && !found.is_empty() {
            let cwd = std::env::current_dir().unwrap_or_default();
            let _ = write!(out, "{}", super::ci::github_diagnostics(&found, &cwd));
        }
        problems.extend(found);
    }
    // A document read with problems is still checked against its rules (its
    // names, values, accounts), so that one run says every independent
    // problem; what reading found comes first when the rules cannot be used.
    let unreadable = documents.len() < files.len();
    if let (true, Some(line)) = (unreadable, crate::diagnostic::one_line_of(&problems)) {
        error_line(line);
        return Exit::BadInput;
    }
    let read_problems = std::mem::take(&mut problems);
    let refuse_read = || {
        crate::diagnostic::one_line_of(&read_problems).map(|line| {
            error_line(line);
            Exit::BadInput
        })
    };
    // Each rules directory is loaded once; `rule_set[d]` is document d's.
    let mut rule_dirs: Vec<PathBuf> = Vec::new();
    let mut rule_set = Vec::new();
    for doc in &documents {
        let dir = args
            .rules
            .clone()
            .or_else(|| doc.rules_dir())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RULES));
        let known = rule_dirs.iter().position(|k| same_dir(k, &dir));
        rule_set.push(known.unwrap_or_else(|| {
            rule_dirs.push(dir.clone());
            rule_dirs.len() - 1
        }));
    }
    let mut books = Vec::new();
    for dir in &rule_dirs {
        match super::rules::Rules::load(dir) {
            Ok(book) => books.push(book),
            Err(err) => {
                if let Some(exit) = refuse_read() {
                    return exit;
                }
                error_line(err);
                return Exit::BadInput;
            }
        }
    }
    // A document runs the rule set in force on its cases' `as_of` (effective
    // dating); `rule_set[d]` now indexes `sets`: (rules directory, rule set).
    let mut sets: Vec<(usize, usize)> = Vec::new();
    // Per rule set, a day it is in force (its first document's first case's).
    let mut set_dates = Vec::new();
    for (doc, set) in documents.iter().zip(rule_set.iter_mut()) {
        let book = &books[*set];
        let dates = doc.case_dates();
        let chosen = dates.first().map_or(0, |(_, d)| book.set_on(*d));
        if let Some((name, date)) = dates.iter().find(|(_, d)| book.set_on(*d) != chosen) {
            problems.push(crate::diagnostic::Diagnostic::error(
                "test-document",
                &doc.file,
                name.span,
                format!(
                    "case `{}` is as of {date}, when other effective-dated rules are in force than on {}, the document's first case's date; put the cases of each rule set in a document of their own",
                    name.value,
                    dates[0].1
                ),
            ));
        }
        let key = (*set, chosen);
        *set = sets.iter().position(|k| *k == key).unwrap_or_else(|| {
            sets.push(key);
            set_dates.push(dates.first().map(|(_, d)| *d));
            sets.len() - 1
        });
    }
    if !problems.is_empty() {
        problems.extend(read_problems);
        if let Some(line) = crate::diagnostic::one_line_of(&problems) {
            error_line(line);
        }
        return Exit::BadInput;
    }
    for &(dir, set) in &sets {
        if let Err(refused) = books[dir].runnable(set) {
            if let Some(exit) = refuse_read() {
                return exit;
            }
            return refused.exit();
        }
    }
    let subjects: Vec<Subject> = sets
        .iter()
        .map(|&(dir, set)| match books[dir].set(set) {
            crate::policy::Loaded {
                policy: Some(policy),
                ..
            } => Subject::Policy(policy),
            l => Subject::Tables(l.plan.as_ref().expect("kept only with a plan")),
        })
        .collect();
    let coverage_wanted = args.coverage || args.min_coverage.is_some();
    if coverage_wanted && sets.len() > 1 {
        if let Some(exit) = refuse_read() {
            return exit;
        }
        return super::usage_error(format!(
            "row coverage is per rules directory, and these documents use {}; run them separately or give one `--rules`",
            list(&rule_dirs)
        ));
    }
    let mut problems = Vec::new();
    for (doc, &set) in documents.iter().zip(&rule_set) {
        let (dir, in_dir) = sets[set];
        let dating = crate::testing::Dating::of(&books[dir], in_dir);
        let found = doc.check(&subjects[set], dating.as_ref());
        // What checking adds to what reading found (annotated above) is
        // annotated the same way: a misspelt row is a CI error at its line.
        if args.format == TestFormat::Github {
            let checked = found.get(doc.read_problems().len()..).unwrap_or_default();
            let cwd = std::env::current_dir().unwrap_or_default();
            let _ = write!(out, "{}", super::ci::github_diagnostics(checked, &cwd));
        }
        problems.extend(found);
    }
    if let Some(line) = crate::diagnostic::one_line_of(&problems) {
        error_line(line);
        return Exit::BadInput;
    }
    // Documents sharing an accounts file name the same account's field once.
    let mut warned = std::collections::HashSet::new();
    for (doc, &set) in documents.iter().zip(&rule_set) {
        for warning in doc.unknown_field_warnings(subjects[set].plan()) {
            if warned.insert(warning.clone()) {
                eprintln!("warning: {}", printable(&warning));
            }
        }
    }
    let filter = args.filter.as_deref();
    let all_cases: usize = documents.iter().map(|d| d.selected(None)).sum();
    let mut results: Vec<(usize, CaseResult)> = Vec::new();
    for (doc, &set) in documents.iter().zip(&rule_set) {
        results.extend(
            doc.run(&subjects[set], args.explain, filter)
                .into_iter()
                .map(|r| (set, r)),
        );
    }
    let filtered_out = all_cases - results.len();
    if let (Some(filter), true) = (filter, results.is_empty()) {
        return super::usage_error(format!(
            "--filter `{filter}` matches none of the {all_cases} case name(s) in {}",
            list(&files)
        ));
    }
    let failed = results
        .iter()
        .filter(|(_, r)| r.outcome != CaseOutcome::Pass)
        .count();
    let passed = results.len() - failed;
    let cases: Vec<CaseResult> = results.iter().map(|(_, r)| r.clone()).collect();
    // Which rules each case ran on, by fingerprint.
    let fingerprints: Vec<&str> = results
        .iter()
        .map(|(set, _)| books[sets[*set].0].docs.fingerprint.as_str())
        .collect();
    let coverage = coverage_wanted.then(|| Coverage::compute(subjects[0].plan(), &cases));
    let summary = Summary {
        passed,
        failed,
        filtered_out,
    };
    let _ = match args.format {
        TestFormat::Human => {
            human(out, &subjects, &results, coverage.as_ref(), &summary).and_then(|()| {
                for (&(dir, _), date) in sets.iter().zip(&set_dates) {
                    if let Some(date) = date {
                        super::effective_lines(out, &books[dir], *date)?;
                    }
                }
                Ok(())
            })
        }
        TestFormat::Json => {
            let effective: Vec<serde_json::Value> = sets
                .iter()
                .zip(&set_dates)
                .filter(|(&(dir, _), _)| !books[dir].versions.is_empty())
                .filter_map(|(&(dir, _), date)| {
                    date.map(|d| {
                        json!({
                            "rules": rule_dirs[dir].display().to_string(),
                            "as_of": d.to_string(),
                            "versions": books[dir].in_force_json(d),
                        })
                    })
                })
                .collect();
            let mut doc = json!({
                "rules": rule_dirs.iter().zip(&books).map(|(dir, book)| json!({
                    "dir": dir.display().to_string(), "fingerprint": book.docs.fingerprint,
                })).collect::<Vec<_>>(),
                "cases": cases.iter().zip(&fingerprints).map(|(r, fingerprint)| json!({
                    "suite": r.suite, "file": r.file, "line": r.line, "name": r.name,
                    "rules_fingerprint": fingerprint, "as_of": r.as_of.map(|d| d.to_string()),
                    "status": if r.outcome == CaseOutcome::Pass { "pass" } else { "fail" },
                    "problems": match &r.outcome { CaseOutcome::Fail(p) => p.clone(), CaseOutcome::Pass => Vec::new() },
                })).collect::<Vec<_>>(),
                "passed": passed,
                "failed": failed,
                "filtered_out": filtered_out,
                "coverage": coverage.as_ref().map(|c| json!({
                    "partial": filtered_out > 0,
                    "percent": round1(c.percent()),
                    "rows_fired": c.fired(),
                    "rows": c.total(),
                    "tables": c.tables.iter().map(|t| json!({
                        "table": t.table, "percent": round1(t.percent()), "fired": t.fired, "never": t.never,
                    })).collect::<Vec<_>>(),
                })),
            });
            if !effective.is_empty() {
                doc["effective"] = json!(effective);
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        TestFormat::Junit => writeln!(out, "{}", junit(&cases, &fingerprints)),
        TestFormat::Github => {
            let cwd = std::env::current_dir().unwrap_or_default();
            let _ = write!(out, "{}", github(&cases, &cwd));
            human(out, &subjects, &results, coverage.as_ref(), &summary)
        }
    };
    // Coverage below the minimum is said whether or not a case failed: both are for the analyst to mend.
    if let (Some(min), Some(c)) = (args.min_coverage, &coverage) {
        if c.percent() < min {
            let message = format!(
                "row coverage {:.1}% is below --min-coverage {min}%",
                c.percent()
            );
            if args.format == TestFormat::Github {
                let _ = write!(
                    out,
                    "{}",
                    super::ci::annotation("error", &[("title", "row coverage")], &message)
                );
            }
            error_line(message);
            return Exit::Findings;
        }
    }
    match failed {
        0 => Exit::Ok,
        _ => Exit::Findings,
    }
}

/// The counts the last line reports.
struct Summary {
    passed: usize,
    failed: usize,
    filtered_out: usize,
}

fn list(paths: &[impl AsRef<std::path::Path>]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.as_ref().display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One decimal place for display.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn human(
    out: &mut Out,
    subjects: &[Subject],
    results: &[(usize, CaseResult)],
    coverage: Option<&Coverage>,
    summary: &Summary,
) -> std::io::Result<()> {
    for (set, r) in results {
        match &r.outcome {
            CaseOutcome::Pass => {
                let case = format!("{} › {}", r.suite, r.name);
                writeln!(out, "pass  {}", printable(&case))?
            }
            CaseOutcome::Fail(problems) => {
                let case = format!("{} › {}  ({}:{})", r.suite, r.name, r.file, r.line);
                writeln!(out, "FAIL  {}", printable(&case))?;
                for p in problems {
                    writeln!(out, "        {}", printable(p))?;
                }
                if let Some(evaluation) = &r.explanation {
                    writeln!(out, "      explanation:")?;
                    super::render::decisions(out, subjects[*set].plan(), evaluation, true);
                }
            }
        }
    }
    if let Some(c) = coverage {
        writeln!(
            out,
            "\nrow coverage (rows that fired in at least one case){}:",
            if summary.filtered_out > 0 {
                " -- partial: only the cases --filter selected ran"
            } else {
                ""
            }
        )?;
        let width = c
            .tables
            .iter()
            .map(|t| t.table.len())
            .max()
            .unwrap_or(5)
            .max(5);
        for t in &c.tables {
            write!(
                out,
                "  {:width$}  {:>4}/{:<4} {:>6.1}%",
                t.table,
                t.fired.len(),
                t.total(),
                t.percent()
            )?;
            if !t.never.is_empty() {
                write!(out, "   never: {}", printable(&t.never.join(", ")))?;
            }
            writeln!(out)?;
        }
        writeln!(
            out,
            "  {:width$}  {:>4}/{:<4} {:>6.1}%",
            "total",
            c.fired(),
            c.total(),
            c.percent()
        )?;
    }
    write!(
        out,
        "\n{} case(s): {} passed, {} failed",
        results.len(),
        summary.passed,
        summary.failed
    )?;
    if summary.filtered_out > 0 {
        write!(out, ", {} filtered out", summary.filtered_out)?;
    }
    writeln!(out)
}

/// An error annotation at each failed case's file and line, titled with the
/// case, its problems as the message.
fn github(results: &[CaseResult], cwd: &std::path::Path) -> String {
    let mut out = String::new();
    for r in results {
        if let CaseOutcome::Fail(problems) = &r.outcome {
            let file = super::ci::relative_path(&r.file, cwd);
            out.push_str(&super::ci::annotation(
                "error",
                &[
                    ("file", &file),
                    ("line", &r.line.to_string()),
                    ("title", &format!("{} › {}", r.suite, r.name)),
                ],
                &problems.join("\n"),
            ));
        }
    }
    out
}

/// JUnit XML: a suite per test document, each case with the properties
/// `rules_fingerprint` and (for an account case) `as_of`.
fn junit(results: &[CaseResult], fingerprints: &[&str]) -> String {
    let mut report = Report::new("arrears");
    let mut suites: Vec<TestSuite> = Vec::new();
    for (r, fingerprint) in results.iter().zip(fingerprints) {
        if suites.last().is_none_or(|s| s.name.as_str() != r.suite) {
            suites.push(TestSuite::new(r.suite.clone()));
        }
        let status = match &r.outcome {
            CaseOutcome::Pass => TestCaseStatus::success(),
            CaseOutcome::Fail(problems) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(problems.first().cloned().unwrap_or_default());
                s.set_description(problems.join("\n"));
                s
            }
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_classname(format!("{}:{}", r.file, r.line));
        case.add_property(("rules_fingerprint", *fingerprint));
        if let Some(as_of) = r.as_of {
            case.add_property(("as_of", as_of.to_string().as_str()));
        }
        if let Some(suite) = suites.last_mut() {
            suite.add_test_case(case);
        }
    }
    report.add_test_suites(suites);
    report.to_string().unwrap_or_default()
}
