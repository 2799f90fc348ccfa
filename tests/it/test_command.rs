//! `arrears test`: pass/fail, diffs, formats, coverage gate, exit codes.

use crate::common;

use std::path::Path;

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
    // Traceable to its rules (issue 15 item 3): the rule set's fingerprint, per
    // rules directory and per case, and each case's as-of date.
    let shipped = arrears::model::load_dir(&crate::common::root().join("rules"))
        .unwrap()
        .fingerprint;
    assert_eq!(
        json["rules"],
        serde_json::json!([{ "dir": "rules", "fingerprint": shipped }])
    );
    for case in json["cases"].as_array().unwrap() {
        assert_eq!(case["rules_fingerprint"], shipped.as_str(), "{case}");
        assert_eq!(case["as_of"], "2026-11-22", "{case}");
    }

    let out = arrears(&["test", "--format", "junit", FAILING, PASSING]);
    let xml = stdout(&out);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"tests="3""#) && xml.contains(r#"failures="2""#),
        "{xml}"
    );
    assert!(xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains(&format!(
            "<property name=\"rules_fingerprint\" value=\"{shipped}\"/>"
        )),
        "{xml}"
    );
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
    // A failing case does not hide the coverage below the minimum.
    let out = arrears(&["test", "--min-coverage", "100", FAILING]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is below --min-coverage 100%"),
        "{}",
        stderr(&out)
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
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    // Two broken documents: still one line, naming the first problem and the other.
    let other = dir.path().join("other.yaml");
    std::fs::write(
        &other,
        "tests: other
cases:
  - name: x
    acount: y
",
    )
    .unwrap();
    let out = arrears(&["test", bad.to_str().unwrap(), other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let errors = stderr(&out);
    assert_eq!(errors.lines().count(), 1, "{errors}");
    assert!(
        errors.contains("bad.yaml:4:5: unknown key")
            && errors.contains("(and 1 more, at ")
            && errors.contains("other.yaml:4)"),
        "{errors}"
    );
}

/// A directory searched for test documents: a file whose top-level key is
/// `tests` but which does not parse, or is not UTF-8, is reported at its line
/// and column (exit 2), not skipped with its cases; `--format github` makes
/// each an annotation.
#[test]
fn a_searched_directory_reports_test_documents_that_do_not_parse() {
    let dir = "tests/fixtures/test_command/search_broken";
    let out = arrears(&["test", dir]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(stdout(&out), "", "no case runs");
    assert_snapshot!("search_broken", stderr(&out));
    let out = arrears(&["test", dir, "--format", "github"]);
    assert_eq!(out.status.code(), Some(2));
    let annotations = stdout(&out);
    assert_eq!(annotations.lines().count(), 2, "{annotations}");
    assert!(
        annotations.contains(&format!("::error file={dir}/broken.yaml,line=8,col=14,"))
            && annotations.contains(&format!("::error file={dir}/latin1.yaml,line=5,col=14,")),
        "{annotations}"
    );
}

/// Names the rules do not have are annotated at their lines with
/// `--format github`, as what reading a document finds is (exit 2).
#[test]
fn names_the_rules_do_not_have_are_annotated() {
    let doc = "tests/fixtures/test_command/misspelt_names.yaml";
    let out = arrears(&["test", doc, "--format", "github"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let annotations = stdout(&out);
    assert_eq!(annotations.lines().count(), 3, "{annotations}");
    // Each at the name written wrong: a misspelt field at its key, in either style.
    for (at, message) in [
        (
            "line=9,col=12,",
            "there is no row `entry:consumer-in-arear`",
        ),
        ("line=13,col=28,", "`categry` is not a field of `open_case`"),
        ("line=18,col=9,", "`reasn` is not a field of `open_case`"),
    ] {
        assert!(
            annotations
                .lines()
                .any(|l| l.starts_with(&format!("::error file={doc},{at}")) && l.contains(message)),
            "{at} {message}: {annotations}"
        );
    }
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

/// A document that cannot be used is refused before any case runs: exit 2
/// and one line, the first problem with file:line:col, then how many more and
/// at which lines, and the `lint --tests` that lists them all.
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
        // The first problem may be in a timeline the document names, at its own line.
        assert!(
            errors.starts_with("error: tests/fixtures/test_command/")
                && errors.lines().count() == 1,
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
    // Each at the key or value written wrong, not at the table's name.
    let at = |needle: &str| -> (u64, u64) {
        let d = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("`{needle}` not reported"));
        (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap())
    };
    assert_eq!(at("no output `categroy`"), (9, 16));
    assert_eq!(
        at("`dpd_bucket.bucket` is never `b1_30`: it is not a variant of enum `dpd_bucket`"),
        (9, 17)
    );
    assert_eq!(
        at("`collection_class.class` is never `card_erly`: the table never gives it"),
        (10, 34)
    );
    assert_eq!(
        at("`entry.category` is a variant of enum `entry_category`, never `true`"),
        (13, 25)
    );
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
        "`on` 2026-10-24 is not a day of the timeline (2026-11-02 to 2027-01-15)",
        "`never`: `sa` is not a field of `nominate_severance`",
        "`timeline`: cannot read",
        "`account.risk_scor`: the schema has no field `risk_scor`",
        "`never` needs a `timeline`",
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
        "tests/fixtures/eval/collect/rules",
        SELF_CONTAINED,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    // One line: the first problem (the inline account), and the other's line.
    assert!(
        stderr(&out).contains("self_contained.yaml:8:14: bad account data")
            && stderr(&out).trim_end().ends_with("(and 1 more, at line 9)"),
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

const TIMELINE_CASES: &str = "samples/timelines/tests";
const TIMELINE_FAILING: &str = "tests/fixtures/test_command/timeline_failing.yaml";

/// A case may name a timeline: it runs day by day as `arrears simulate` runs
/// it, and the shipped timelines' cases pass, in text and in JUnit.
#[test]
fn the_shipped_timelines_cases_pass() {
    let out = arrears(&["test", TIMELINE_CASES]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(
        text.contains("pass  shipped timelines › a broken promise sends its letter once"),
        "{text}"
    );
    let out = arrears(&["test", "--format", "junit", TIMELINE_CASES]);
    let xml = stdout(&out);
    assert!(
        xml.contains(
            r#"<testsuite name="shipped timelines" tests="30" skipped="0" errors="0" failures="0">"#
        ),
        "{xml}"
    );
    // `lint` reads and checks them as `test` does, timelines included.
    let out = arrears(&[
        "lint",
        "--deny-warnings",
        "--tests",
        TIMELINE_CASES,
        "rules",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// A failing timeline case names the day of each unmet expectation; a timeline
/// that stops is a failure with the stop's line; JUnit reports them like any case.
#[test]
fn failing_timeline_cases_name_the_day() {
    let out = arrears(&["test", TIMELINE_FAILING]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#"on 2026-11-24: action 2 `date`: expected "2026-11-25", got "2026-11-24""#),
        "{text}"
    );
    assert!(
        text.contains("on 2026-11-19: the timeline stopped: tests/fixtures/test_command/timelines/stops.yaml:42:5: the account's `promises`: no item with id `P-2`"),
        "{text}"
    );
    assert_snapshot!("timeline_failing", text);
    let out = arrears(&["test", "--format", "junit", TIMELINE_FAILING]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_snapshot!(
        "timeline_failing_junit",
        common::redact_fingerprints(&stdout(&out))
    );
}

/// Rows that fire on any day of a timeline count in coverage: the SA-exit row
/// fires only in a timeline whose service agreements are paid down one by one,
/// on days after the one a case names.
#[test]
fn timeline_cases_count_in_row_coverage() {
    let out = arrears(&["test", "--format", "json", "--coverage", TIMELINE_CASES]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let fired = |table: &str| -> Vec<String> {
        json["coverage"]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table)
            .unwrap()["fired"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        fired("sa_exit"),
        ["keep-non-arrears-case", "utility-sa-paid-down"]
    );
    // Guard rails count too: every timeline call carries the Reg F window.
    assert!(fired("reg_f").contains(&"inconvenient_times".to_string()));
    // Every day runs, so rows fired on days a case does not name count too.
    let doc = tempfile::tempdir().unwrap();
    let path = doc.path().join("first_day.yaml");
    let timeline = common::root().join("samples/timelines/utility_last_sa_removed.yaml");
    std::fs::write(
        &path,
        format!(
            "tests: first day\nrules: {}\ncases:\n  - name: opens\n    timeline: {}\n    on:\n      2026-10-01:\n        contains: [{{type: open_case}}]\n",
            common::root().join("rules").display(),
            timeline.display()
        ),
    )
    .unwrap();
    let out = arrears(&[
        "test",
        "--format",
        "json",
        "--coverage",
        path.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json["passed"], 1, "{json}");
    let sa_exit = json["coverage"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "sa_exit")
        .unwrap();
    assert_eq!(
        sa_exit["fired"],
        serde_json::json!(["utility-sa-paid-down"]),
        "{sa_exit}"
    );
}

/// `arrears lint` checks what a test document's cases run as `arrears test`
/// reads them: a timeline case's account and happenings (types, values,
/// dates, unknown fields with the nearest name), each at its own
/// file:line:col in the timeline with the case that reads it, once however
/// many cases name it; each bad field of an inline account where it is
/// written; and it warns of the fields of the cases' accounts the schema does
/// not have, as `arrears test` does (`unknown-account-field`).
#[test]
fn lint_checks_timeline_cases_and_accounts_where_written() {
    let cases = "tests/fixtures/test_command/lint_mistakes/cases.yaml";
    let out = arrears(&["lint", "--tests", cases]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let shown: String = stdout(&out)
        .split("\n\n")
        .filter(|d| !d.contains(": info["))
        .collect::<Vec<_>>()
        .join("\n\n");
    assert_snapshot!("lint_mistakes", shown);
    // `arrears test` refuses the same document at its first problem.
    let out = arrears(&["test", cases]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("(and 8 more, at "),
        "{}",
        stderr(&out)
    );
    // An analyst's everyday mistakes in an account's values: each says what
    // to write instead (`true` for an enum, a currency sign, a thousands
    // separator, `'no'` for a bool, a month 13).
    let values = "tests/fixtures/test_command/unusable/account_values.yaml";
    let out = arrears(&["lint", "--tests", values]);
    let headers = finding_lines(&stdout(&out), false);
    assert_snapshot!("lint_account_values", headers.join("\n"));
}

/// A test document named twice, spelt `x`, `./x`, absolute or through `..`,
/// runs once: `test` counts its cases once
/// and `doc --tests` counts each row's firings once.
#[test]
fn a_document_named_twice_however_spelt_runs_once() {
    let doc = "rules/tests/entry.yaml";
    let absolute = common::root().join(doc).display().to_string();
    let summary = |args: &[&str]| {
        let out = arrears(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        stdout(&out).lines().last().unwrap_or_default().to_string()
    };
    let once = summary(&["test", doc]);
    assert!(once.ends_with("0 failed"), "{once}");
    let spellings = [
        doc,
        "./rules/tests/entry.yaml",
        &absolute,
        "rules/../rules/tests/entry.yaml",
    ];
    assert_eq!(summary(&[&["test"][..], &spellings].concat()), once);
    let site = tempfile::tempdir().unwrap();
    let site_once = site.path().join("once").display().to_string();
    let site_twice = site.path().join("twice").display().to_string();
    let doc_site = |out: &str, tests: &[&str]| {
        let mut args = vec!["doc", "--out", out];
        for t in tests {
            args.extend(["--tests", *t]);
        }
        summary(&args)
    };
    let written = doc_site(&site_once, &[doc]);
    assert!(
        written.contains("row coverage from 43 test case(s)"),
        "{written}"
    );
    assert_eq!(
        doc_site(&site_twice, &spellings).replace(&site_twice, &site_once),
        written
    );
    let page =
        |dir: &str| std::fs::read_to_string(Path::new(dir).join("table-entry.html")).unwrap();
    assert_eq!(page(&site_twice), page(&site_once));
}

/// An expected value no action can have (an enum variant misspelt, an event no
/// template has, a promise's follow-up or a callback's day written wrong) is
/// an error wherever an expectation is written, `never` and a day's
/// `excludes` too: there it could never fail. Each is shown at the value.
#[test]
fn expected_values_no_action_has_are_errors_at_the_value() {
    let values = "tests/fixtures/test_command/unusable/timeline_values.yaml";
    let out = arrears(&["lint", "--tests", values]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let headers = finding_lines(&stdout(&out), true);
    assert_snapshot!("lint_timeline_values", headers.join("\n"));
}

/// Every independent mistake of a document is reported in one run, by `lint`
/// and by `test` alike: unknown keys at every level, dates, names the rules
/// do not have; and none that follows from another (a case whose only
/// expectation is misspelt is not also said to expect nothing).
#[test]
fn one_mistake_hides_no_other_in_a_test_document() {
    let doc = "tests/fixtures/test_command/unusable/several_mistakes.yaml";
    let out = arrears(&["lint", "--tests", doc]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let headers = finding_lines(&stdout(&out), true);
    assert_snapshot!("lint_several_mistakes", headers.join("\n"));
    let errors = headers.iter().filter(|l| l.contains(": error[")).count();
    let out = arrears(&["test", doc]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains(&format!("(and {} more, at ", errors - 1)),
        "{}",
        stderr(&out)
    );
}

/// A document's own problems (exit 2) come before a usage error the command
/// line makes with documents that read (`--coverage` over two rules
/// directories), as when the documents were refused before the rules loaded.
#[test]
fn a_document_problem_comes_before_a_coverage_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::root().join("rules"), &dir.path().join("other"));
    let rules = common::root().join("rules");
    let doc = |name: &str, rules: &str, as_of: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!("tests: {name}\nrules: {rules}\nas_of: {as_of}\ncases:\n  - name: a\n    account: {{id: x}}\n    rows: [entry:consumer-in-arrears]\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let one = doc("one.yaml", rules.to_str().unwrap(), "2026-11-31");
    let two = doc("two.yaml", "other", "2026-11-22");
    let out = arrears(&["test", "--coverage", &one, &two]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`2026-11-31` is not a date"),
        "{}",
        stderr(&out)
    );
}

/// The error and warning lines of lint's text output (with their `help:`
/// lines when `help`), for a snapshot that does not repeat the source excerpts.
fn finding_lines(text: &str, help: bool) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.contains(": error[") || l.contains(": warning[") || (help && l.contains("help:"))
        })
        .map(str::to_string)
        .collect()
}
