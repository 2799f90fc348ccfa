//! `arrears test [PATHS]`

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use super::{error_line, number_in, Exit, Out};
use crate::diagnostic::printable;
use crate::testing::{discover, run_file, CaseOutcome, CaseResult, Coverage, Subject};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    #[default]
    Human,
    Json,
    /// JUnit XML, for CI systems.
    Junit,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The rules directory.
    #[arg(long, default_value = "rules")]
    rules: PathBuf,
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
    #[arg(long, value_name = "PERCENT", value_parser = number_in(0.0..=100.0))]
    min_coverage: Option<f64>,
}

pub fn run(args: &Args, out: &mut Out) -> Exit {
    let loaded = match crate::policy::load(&args.rules) {
        Ok(loaded) => loaded,
        Err(err) => {
            error_line(err);
            return Exit::BadInput;
        }
    };
    let subject = match (&loaded.policy, &loaded.plan) {
        (Some(policy), _) => Subject::Policy(policy),
        (None, Some(plan)) => Subject::Tables(plan),
        (None, None) => return super::invalid_rules(&args.rules, &loaded.diagnostics),
    };
    let paths = if args.paths.is_empty() {
        vec![args.rules.clone()]
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
    let mut results: Vec<CaseResult> = Vec::new();
    for file in &files {
        match run_file(&subject, file, args.explain) {
            Ok(r) => results.extend(r),
            Err(err) => {
                error_line(err);
                return Exit::BadInput;
            }
        }
    }
    let plan = match &subject {
        Subject::Policy(p) => &p.plan,
        Subject::Tables(plan) => *plan,
    };
    let failed = results
        .iter()
        .filter(|r| r.outcome != CaseOutcome::Pass)
        .count();
    let passed = results.len() - failed;
    let coverage =
        (args.coverage || args.min_coverage.is_some()).then(|| Coverage::compute(plan, &results));
    let _ = match args.format {
        TestFormat::Human => human(out, plan, &results, coverage.as_ref(), passed, failed),
        TestFormat::Json => {
            let doc = json!({
                "cases": results.iter().map(|r| json!({
                    "suite": r.suite, "file": r.file, "line": r.line, "name": r.name,
                    "status": if r.outcome == CaseOutcome::Pass { "pass" } else { "fail" },
                    "problems": match &r.outcome { CaseOutcome::Fail(p) => p.clone(), CaseOutcome::Pass => Vec::new() },
                })).collect::<Vec<_>>(),
                "passed": passed,
                "failed": failed,
                "coverage": coverage.as_ref().map(|c| json!({
                    "percent": round1(c.percent()),
                    "rows_fired": c.fired(),
                    "rows": c.total(),
                    "tables": c.tables.iter().map(|t| json!({
                        "table": t.table, "percent": round1(t.percent()), "fired": t.fired, "never": t.never,
                    })).collect::<Vec<_>>(),
                })),
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        TestFormat::Junit => writeln!(out, "{}", junit(&results)),
    };
    if failed > 0 {
        return Exit::Findings;
    }
    if let (Some(min), Some(c)) = (args.min_coverage, &coverage) {
        if c.percent() < min {
            error_line(format!(
                "row coverage {:.1}% is below --min-coverage {min}%",
                c.percent()
            ));
            return Exit::Findings;
        }
    }
    Exit::Ok
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One decimal place for display.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn human(
    out: &mut Out,
    plan: &crate::compile::Plan,
    results: &[CaseResult],
    coverage: Option<&Coverage>,
    passed: usize,
    failed: usize,
) -> std::io::Result<()> {
    for r in results {
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
                    super::render::decisions(out, plan, evaluation, true);
                }
            }
        }
    }
    if let Some(c) = coverage {
        writeln!(
            out,
            "\nrow coverage (rows that fired in at least one case):"
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
    writeln!(
        out,
        "\n{} case(s): {passed} passed, {failed} failed",
        results.len()
    )
}

fn junit(results: &[CaseResult]) -> String {
    let mut report = Report::new("arrears");
    let mut suites: Vec<TestSuite> = Vec::new();
    for r in results {
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
        if let Some(suite) = suites.last_mut() {
            suite.add_test_case(case);
        }
    }
    report.add_test_suites(suites);
    report.to_string().unwrap_or_default()
}
