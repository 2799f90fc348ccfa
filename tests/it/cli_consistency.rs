//! The commands speak alike: `lint --rules`, the nearest code for an unknown
//! `--explain`, `lint --list-codes`, quoted flag notes, `generate` saying what
//! it wrote.

use crate::common;

use common::{arrears, arrears_in, stderr, stdout};

const RULES: &str = "tests/fixtures/explain/untestable_cell/rules";

#[test]
fn lint_takes_the_rules_directory_as_rules_or_positionally() {
    let positional = arrears(&["lint", RULES]);
    assert_eq!(positional.status.code(), Some(0), "{}", stderr(&positional));
    let flag = arrears(&["lint", "--rules", RULES]);
    assert_eq!(flag.status.code(), Some(0), "{}", stderr(&flag));
    assert_eq!(stdout(&flag), stdout(&positional));
    assert!(
        stdout(&flag).ends_with(&format!(
            "{RULES}: 1 tables, no problems, 2 info(s) on what was not analysed\n"
        )),
        "{}",
        stdout(&flag)
    );

    // Both, naming one directory: fine.
    let both = arrears(&["lint", RULES, "--rules", &format!("./{RULES}/")]);
    assert_eq!(both.status.code(), Some(0), "{}", stderr(&both));
    assert_eq!(stdout(&both), stdout(&positional));

    // Both, naming two: a usage error, nothing linted.
    let two = arrears(&["lint", "rules", "--rules", RULES]);
    assert_eq!(two.status.code(), Some(64));
    assert_eq!(stdout(&two), "");
    assert_snapshot!("lint_two_rules_directories", stderr(&two));
}

#[test]
fn an_unknown_code_suggests_the_nearest() {
    let out = arrears(&["lint", "--explain", "unused-feild"]);
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(stdout(&out), "");
    let far = arrears(&["lint", "--explain", "xyz"]);
    assert_eq!(far.status.code(), Some(64));
    assert_snapshot!(
        "lint_explain_unknown_code",
        format!("{}{}", stderr(&out), stderr(&far))
    );
}

#[test]
fn list_codes_prints_every_code_with_severity_and_summary() {
    let out = arrears(&["lint", "--list-codes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let codes: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let documented: Vec<&str> = arrears::lang::analysis::codes::CODES
        .iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(codes, documented);
    for (line, doc) in text.lines().zip(arrears::lang::analysis::codes::CODES) {
        assert!(line.contains(&format!("  {:7}  ", doc.severity)), "{line}");
    }
    assert_snapshot!("lint_list_codes", text);
}

#[test]
fn flag_notes_are_quoted_like_other_text() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-11-22",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let flags: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("flag "))
        .collect();
    assert!(!flags.is_empty());
    for line in &flags {
        // `flag` is an enum (bare, like `category=arrears`); `note` is text.
        assert!(line.contains(" note=\""), "{line}");
        assert!(!line.contains(" flag=\""), "{line}");
    }
    assert_snapshot!("dry_run_flag_lines", flags.join("\n"));
}

/// Data rows (lines after the header) of a generated file.
fn data_rows(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).unwrap().lines().count()
}

#[test]
fn generate_says_which_files_it_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let out = arrears_in(
        tmp.path(),
        &["generate", "--accounts", "300", "--seed", "7", "x.csv"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "stdout stays free for data");
    let report = stderr(&out);
    for line in report.lines() {
        let (path, rows) = line
            .strip_prefix("wrote ")
            .and_then(|l| l.split_once(": "))
            .unwrap_or_else(|| panic!("{line}"));
        let rows: usize = rows
            .trim_end_matches(" rows")
            .replace(',', "")
            .parse()
            .unwrap();
        assert_eq!(rows + 1, data_rows(&tmp.path().join(path)), "{line}");
    }
    assert_snapshot!("generate_csv_report", report);

    let out = arrears_in(
        tmp.path(),
        &[
            "generate",
            "--accounts",
            "1200",
            "--format",
            "jsonl",
            "y.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "wrote y.jsonl: 1,200 rows\n");
    assert_eq!(data_rows(&tmp.path().join("y.jsonl")), 1200);
}

/// Every command that evaluates rules refuses rules `lint` reports an error in,
/// also one only the table analysis finds (two rows of a `unique` table that
/// overlap), with exit 3, one line naming the first error, and nothing written.
#[test]
fn every_command_refuses_rules_with_an_analysis_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    common::copy_dir(&common::root().join("rules"), &dir.join("rules"));
    common::copy_dir(&common::root().join("rules"), &dir.join("clean"));
    let bucket = dir.join("rules/dpd_bucket.yaml");
    let text = std::fs::read_to_string(&bucket).unwrap();
    // One band reaches into the next: an account at 29 DPD matches two rows.
    let overlapping = text.replacen(r#""[30..59]""#, r#""[29..59]""#, 1);
    assert_ne!(text, overlapping);
    std::fs::write(&bucket, overlapping).unwrap();
    let accounts = common::root().join("samples/accounts.jsonl");
    let accounts = accounts.to_str().unwrap();
    let timeline = common::root().join("samples/timelines/card_promise_kept.yaml");
    let timeline = timeline.to_str().unwrap();

    // The checks pass: only lint's analysis finds the overlap, as an error.
    let lint = arrears_in(dir, &["lint", "rules"]);
    assert_eq!(lint.status.code(), Some(1), "{}", stdout(&lint));
    assert!(
        stdout(&lint).contains("error[table-overlap]"),
        "{}",
        stdout(&lint)
    );

    let as_of = ["--as-of", "2026-11-22"];
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "dry-run",
            [&["dry-run", "--rules", "rules"][..], &as_of, &[accounts]].concat(),
        ),
        ("test", vec!["test", "--rules", "rules", "rules/tests"]),
        // The document names its rules `..`: shown as `rules`, not `rules/tests/..`.
        (
            "test (the document's rules)",
            vec!["test", "rules/tests/dpd_bucket.yaml"],
        ),
        (
            "batch",
            [
                &["batch", "--rules", "rules"][..],
                &as_of,
                &[
                    accounts,
                    "--out",
                    "out/actions.jsonl",
                    "--rejects",
                    "out/rejects.jsonl",
                    "--summary",
                    "out/summary.json",
                ],
            ]
            .concat(),
        ),
        ("simulate", vec!["simulate", "--rules", "rules", timeline]),
        (
            "diff",
            [
                &["diff", "--base", "clean", "--rules", "rules"][..],
                &as_of,
                &[accounts, "--out", "out/diff.txt"],
            ]
            .concat(),
        ),
        (
            "diff (the base)",
            [
                &["diff", "--base", "rules", "--rules", "clean"][..],
                &as_of,
                &[accounts],
            ]
            .concat(),
        ),
        ("doc", vec!["doc", "--rules", "rules", "--out", "out/site"]),
    ];
    std::fs::create_dir(dir.join("out")).unwrap();
    let mut seen = String::new();
    for (name, args) in &runs {
        let o = arrears_in(dir, args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{name}: {err}");
        assert_eq!(stdout(&o), "", "{name}: nothing is evaluated");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        seen.push_str(&format!("{name}: {err}"));
    }
    let written: Vec<_> = std::fs::read_dir(dir.join("out")).unwrap().collect();
    assert!(written.is_empty(), "{written:?}");
    assert_snapshot!("refused_rules", seen);
}

/// What the commands refuse is what lint reports as errors (test documents
/// aside): over every analysis and evaluation fixture and the shipped rules,
/// `lint_errors` (only the error-level analysis) finds the same errors as `lint`.
#[test]
fn the_errors_commands_refuse_are_lints_errors() {
    use arrears::diagnostic::{Diagnostic, Severity};
    let key = |d: &Diagnostic| (d.code, d.file.name.clone(), d.span.start, d.message.clone());
    let mut dirs = vec![common::root().join("rules")];
    for group in ["analysis", "eval"] {
        for entry in std::fs::read_dir(common::root().join("tests/fixtures").join(group)).unwrap() {
            let dir = entry.unwrap().path();
            dirs.push(if dir.join("rules").is_dir() {
                dir.join("rules")
            } else {
                dir
            });
        }
    }
    let mut with_errors = 0;
    for dir in &dirs {
        let linted = arrears::lint(dir, &[], None).unwrap();
        let mut lint: Vec<_> = linted
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error && d.code != "test-document")
            .map(key)
            .collect();
        let book = arrears::policy::Rulebook::load(dir).unwrap();
        let mut refused: Vec<_> = arrears::lint_errors(dir, &book, 0)
            .iter()
            .map(key)
            .collect();
        lint.sort();
        refused.sort();
        assert_eq!(refused, lint, "{}", dir.display());
        with_errors += usize::from(!lint.is_empty());
    }
    assert!(with_errors >= 12, "{with_errors}");
}
