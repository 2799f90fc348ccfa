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
