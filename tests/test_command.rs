//! `arrears test`: pass/fail, diffs, formats, coverage gate, exit codes.

mod common;

use common::{arrears, stdout};

const PASSING: &str = "tests/fixtures/test_command/passing.yaml";
const FAILING: &str = "tests/fixtures/test_command/failing.yaml";

#[test]
fn passing_document_exits_0() {
    let out = arrears(&["test", PASSING]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("passing", stdout(&out));
}

#[test]
fn wrong_expectations_fail_with_a_diff_and_exit_1() {
    let out = arrears(&["test", FAILING]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "row `entry:over-limit-amount` did not fire (fired: entry:arrears-consumer-5d-5usd)"
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
    insta::assert_snapshot!("failing", text);
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
        .any(|r| r == "arrears-consumer-5d-5usd"));
}

#[test]
fn unusable_documents_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "tests: broken\ncases:\n  - name: x\n    acount: y\n").unwrap();
    let out = arrears(&["test", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `acount`"));
    let out = arrears(&["test", dir.path().join("missing.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}
