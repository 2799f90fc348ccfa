//! `arrears test`: pass/fail, diffs, formats, coverage gate, exit codes.

use crate::common;

use common::{arrears, stderr, stdout};

const PASSING: &str = "tests/fixtures/test_command/passing.yaml";
const FAILING: &str = "tests/fixtures/test_command/failing.yaml";

#[test]
fn passing_document_exits_0() {
    let out = arrears(&["test", PASSING]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_snapshot!("passing", stdout(&out));
}

#[test]
fn wrong_expectations_fail_with_a_diff_and_exit_1() {
    let out = arrears(&["test", FAILING]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "row `entry:over-limit-amount` did not fire (fired: entry:consumer-in-arrears)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"table `entry`: expected {"category":"over_limit"}, got {"category":"arrears""#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"unexpected action {"type":"assign_class","class":"card_early""#),
        "{text}"
    );
    assert!(text.ends_with("2 case(s): 0 passed, 2 failed\n"), "{text}");
    assert_snapshot!("failing", text);
}

#[test]
fn explain_shows_the_trace_of_failing_cases_only() {
    let out = arrears(&["test", "--explain", FAILING, PASSING]);
    let text = stdout(&out);
    assert!(text.contains("explanation:"), "{text}");
    assert!(
        text.contains("- special-bankruptcy: bankruptcy = false does not match \"true\""),
        "{text}"
    );
    assert_eq!(
        text.matches("explanation:").count(),
        2,
        "only the two failing cases are explained"
    );
}

#[test]
fn json_and_junit_formats() {
    let out = arrears(&["test", "--format", "json", FAILING, PASSING]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["passed"], 1);
    assert_eq!(json["failed"], 2);
    assert_eq!(json["cases"][0]["status"], "fail");
    assert!(json["cases"][0]["problems"]
        .as_array()
        .is_some_and(|p| p.len() == 2));

    let out = arrears(&["test", "--format", "junit", FAILING, PASSING]);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"tests="3""#) && xml.contains(r#"failures="2""#),
        "{xml}"
    );
    assert!(xml.contains("<failure"), "{xml}");
}

#[test]
fn coverage_reports_rows_and_gates_on_minimum() {
    let out = arrears(&["test", "--coverage", PASSING]);
    let text = stdout(&out);
    assert!(text.contains("row coverage"), "{text}");
    assert!(text.contains("never:"), "{text}");
    let out = arrears(&["test", "--min-coverage", "100", PASSING]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "one case cannot cover every row"
    );
    let out = arrears(&["test", "--format", "json", "--coverage", PASSING]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let entry = json["coverage"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "entry")
        .unwrap()
        .clone();
    assert!(entry["fired"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "consumer-in-arrears"));
}

#[test]
fn unusable_documents_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "tests: broken\ncases:\n  - name: x\n    acount: y\n").unwrap();
    let out = arrears(&["test", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let errors = stderr(&out);
    assert!(
        errors.contains(":4:5: unknown key `acount`") && errors.contains("did you mean `account`?"),
        "{errors}"
    );
    let out = arrears(&["test", dir.path().join("missing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

const OUTCOMES: &str = "tests/fixtures/test_command/outcomes.yaml";
const OUTCOMES_FAILING: &str = "tests/fixtures/test_command/outcomes_failing.yaml";
const SELF_CONTAINED: &str = "tests/fixtures/test_command/self_contained.yaml";

/// `contains`, `excludes` and `rows_not_fired` assert one outcome without
/// listing every incidental action.
#[test]
fn contains_excludes_and_rows_not_fired() {
    let out = arrears(&["test", OUTCOMES]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = arrears(&["test", OUTCOMES_FAILING]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_snapshot!("outcomes_failing", stdout(&out));
}

/// A document that cannot be used is refused before any case runs, every
/// problem on one line with file:line:col (exit 2).
#[test]
fn unusable_documents_name_every_problem() {
    let dir = common::root().join("tests/fixtures/test_command/unusable");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let path = format!("tests/fixtures/test_command/unusable/{name}");
        let out = arrears(&["test", &path]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stdout(&out));
        assert_eq!(stdout(&out), "", "{name}: no case runs");
        let errors = stderr(&out);
        assert!(
            errors
                .lines()
                .all(|l| l.starts_with(&format!("error: {path}:"))),
            "{errors}"
        );
        assert_snapshot!(
            format!("unusable_{}", name.trim_end_matches(".yaml")),
            errors
        );
    }
}

/// `arrears lint` reports the same problems, for the documents under the rules
/// directory's `tests/` and those `--tests` names.
#[test]
fn lint_checks_test_documents() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::root().join("rules"), dir.path());
    let rules = dir.path().to_str().unwrap();
    let out = arrears(&["lint", rules]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let entry = dir.path().join("tests/entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    std::fs::write(&entry, text.replacen("rows: ['entry:", "rows: ['entri:", 1)).unwrap();
    let out = arrears(&["lint", "--format", "json", rules]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let diagnostics: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] != "info")
        .collect();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "test-document");
    assert!(diagnostics[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("entry.yaml"));

    let out = arrears(&[
        "lint",
        "--format",
        "json",
        "--tests",
        "tests/fixtures/test_command/unusable",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let messages: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    for wanted in [
        "expects nothing",
        "unknown key `exludes`",
        "there is no table `entri`",
        "no output `categroy`",
        "there is no row `entry:over-limit-amout`",
        "unknown action type `close_cse`",
        "no account `card-arrears-7dpdd`",
        "bad account data",
        "has no cases",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(wanted)),
            "`{wanted}` not in {messages:#?}"
        );
    }
}

/// `rules:` makes a document self-contained; an explicit `--rules` overrides it.
#[test]
fn a_document_names_its_rules_and_the_command_line_overrides_them() {
    let elsewhere = tempfile::tempdir().unwrap();
    let document = common::root().join(SELF_CONTAINED);
    let out = common::arrears_in(elsewhere.path(), &["test", document.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    // Tables with no `entry`: the document is checked against them, and refused.
    let out = arrears(&[
        "test",
        "--rules",
        "tests/fixtures/eval/first/rules",
        SELF_CONTAINED,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("there is no row `entry:consumer-in-arrears`"),
        "{}",
        stderr(&out)
    );
    // Documents naming different rules cannot share one coverage report.
    let copy = elsewhere.path().join("rules-copy");
    common::copy_dir(&common::root().join("rules"), &copy);
    let other = elsewhere.path().join("other.yaml");
    let text = std::fs::read_to_string(&document).unwrap();
    std::fs::write(
        &other,
        text.replace("rules: ../../../rules", "rules: rules-copy")
            .replace(
                "accounts: ../../../samples",
                &format!("accounts: {}/samples", common::root().display()),
            ),
    )
    .unwrap();
    let both = [document.to_str().unwrap(), other.to_str().unwrap()];
    let out = arrears(&["test", both[0], both[1]]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = arrears(&["test", "--coverage", both[0], both[1]]);
    assert_eq!(out.status.code(), Some(64), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("row coverage is per rules directory"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn filter_runs_matching_cases_and_says_how_many_were_left_out() {
    let out = arrears(&["test", "--filter", "7 dpd", PASSING, FAILING]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_snapshot!("filtered", stdout(&out));
    let out = arrears(&["test", "--filter", "no such case", PASSING]);
    assert_eq!(out.status.code(), Some(64));
    assert!(
        stderr(&out).contains("matches none of the 1 case name(s)"),
        "{}",
        stderr(&out)
    );
    let out = arrears(&["test", "--filter", "7 dpd", "--min-coverage", "50", PASSING]);
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    let out = arrears(&["test", "--filter", "7 dpd", "--coverage", PASSING, FAILING]);
    let text = stdout(&out);
    assert!(
        text.contains("partial: only the cases --filter selected ran"),
        "{text}"
    );
    let out = arrears(&[
        "test",
        "--format",
        "json",
        "--filter",
        "7 dpd",
        "--coverage",
        PASSING,
        FAILING,
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["filtered_out"], 2);
    assert_eq!(json["coverage"]["partial"], true);
}
