//! Effective dating (`model::effective`): a row replaced on 2027-01-01 gives
//! the old action as of 2026-12-31 and the new one from 2027-01-01 in
//! `dry-run`, `test`, `batch` and across a `simulate` timeline; overlapping
//! versions are a lint error naming both; a gap is a warning, and a day with no
//! version of a table the policy reads fails with that day named; `lint`
//! analyses every distinct rule set, `lint --as-of` one.

use crate::common::{arrears_in, root, shipped_rules_edited, stderr, stdout};

const OLD_ROW: &str = "  - id: card-early
    description: Card 1-59 DPD; champion early treatment (experiment card_early_letters).
    when: { category: arrears, product: card, bucket: \"b1_29, b30_59\" }
    then: { class: '\"card_early\"', template: '\"card_early_std\"' }
";

/// The shipped rules with the `card-early` row in two versions: `card_early_std`
/// until 2026-12-31, `card_early_soft` from 2027-01-01 (`until`/`from` as given).
fn dated_rules(until: &str, from: &str) -> tempfile::TempDir {
    shipped_rules_edited("collection_class.yaml", |text| {
        assert!(text.contains(OLD_ROW), "the shipped card-early row changed");
        let versions = format!(
            "{}    effective: {{ until: {until} }}\n\n{}    effective: {{ from: {from} }}\n",
            OLD_ROW,
            OLD_ROW
                .replace("card_early_std", "card_early_soft")
                .replace("champion early treatment", "soft treatment from 2027")
        );
        text.replace(OLD_ROW, &versions)
    })
}

/// `simulate --rules rules NAME` in `dir`, of the timeline
/// `tests/fixtures/effective/NAME` copied there (beside the edited rules).
fn simulate_fixture(dir: &std::path::Path, name: &str) -> std::process::Output {
    std::fs::copy(
        root().join("tests/fixtures/effective").join(name),
        dir.join(name),
    )
    .unwrap();
    arrears_in(dir, &["simulate", "--rules", "rules", name])
}

fn dry_run(dir: &std::path::Path, as_of: &str, format: &str) -> std::process::Output {
    arrears_in(
        dir,
        &[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            as_of,
            "--account",
            "card-arrears-7dpd",
            "--format",
            format,
            "samples/accounts.yaml",
        ],
    )
}

#[test]
fn a_row_replaced_on_2027_01_01_gives_the_old_action_before_and_the_new_one_from_that_day() {
    let dir = dated_rules("2026-12-31", "2027-01-01");
    let before = dry_run(dir.path(), "2026-12-31", "human");
    let after = dry_run(dir.path(), "2027-01-01", "human");
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(
        stdout(&before).contains("assign_class class=card_early template=card_early_std"),
        "{}",
        stdout(&before)
    );
    assert!(
        stdout(&after).contains("assign_class class=card_early template=card_early_soft"),
        "{}",
        stdout(&after)
    );
    assert_snapshot!("dry_run_names_the_versions", stdout(&after));
    // JSON names the dated versions in force, with where each is written.
    let json: serde_json::Value =
        serde_json::from_slice(&dry_run(dir.path(), "2026-12-31", "json").stdout).unwrap();
    assert_eq!(
        json["effective"],
        serde_json::json!([{
            "kind": "row", "name": "collection_class:card-early", "from": null,
            "until": "2026-12-31", "at": "rules/collection_class.yaml:89:9",
        }])
    );
}

#[test]
fn undated_rules_print_no_versions() {
    let out = arrears_in(
        root(),
        &[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            "2026-11-22",
            "--format",
            "json",
            "samples/accounts.yaml",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("effective").is_none());
}

#[test]
fn a_simulated_timeline_switches_versions_on_the_change_date() {
    let dir = dated_rules("2026-12-31", "2027-01-01");
    let out = simulate_fixture(dir.path(), "crossing.yaml");
    let text = stdout(&out);
    assert!(out.status.success(), "{}{}", text, stderr(&out));
    // The case opens on 2027-01-01 (5 DPD) under the row in force that day.
    let opened = text
        .lines()
        .skip_while(|l| !l.contains("2027-01-01"))
        .find(|l| l.contains("assign_class"))
        .unwrap_or_else(|| panic!("no case opened on 2027-01-01:\n{text}"));
    assert!(opened.contains("template=card_early_soft"), "{text}");
    assert!(!text.contains("card_early_std"), "{text}");
    // It names the versions it ran and the day they change, as dry-run does.
    let named = &text[text.find("effective-dated").unwrap_or(text.len())..];
    assert_snapshot!("simulate_names_the_versions_of_each_span", named);
    let out = arrears_in(
        dir.path(),
        &[
            "simulate",
            "--rules",
            "rules",
            "--format",
            "json",
            "crossing.yaml",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let spans = &json["timelines"][0]["effective"];
    assert_eq!(
        (
            &spans[0]["from"],
            &spans[0]["to"],
            &spans[1]["from"],
            &spans[1]["to"]
        ),
        (
            &serde_json::json!("2026-12-30"),
            &serde_json::json!("2026-12-31"),
            &serde_json::json!("2027-01-01"),
            &serde_json::json!("2027-01-02")
        ),
        "{spans}"
    );
    assert_eq!(spans[1]["versions"][0]["from"], "2027-01-01", "{spans}");
    assert_eq!(
        spans[1]["versions"][0]["at"],
        "rules/collection_class.yaml:95:9"
    );
}

#[test]
fn test_documents_and_batch_run_the_version_of_their_as_of() {
    let dir = dated_rules("2026-12-31", "2027-01-01");
    let doc = |as_of: &str, template: &str| {
        format!(
            "tests: dated\nrules: rules\nas_of: {as_of}\naccounts: samples/accounts.yaml\ncases:\n  - name: card early on {as_of}\n    account: card-arrears-7dpd\n    contains:\n      - {{ type: assign_class, template: {template} }}\n"
        )
    };
    std::fs::write(
        dir.path().join("old.yaml"),
        doc("2026-12-31", "card_early_std"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("new.yaml"),
        doc("2027-01-01", "card_early_soft"),
    )
    .unwrap();
    let out = arrears_in(dir.path(), &["test", "old.yaml", "new.yaml"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_snapshot!("test_names_the_versions", stdout(&out));
    // Cases of one document on both sides of the change: refused, naming the case.
    let both = doc("2026-12-31", "card_early_std")
        + "  - name: card early in 2027\n    account: card-arrears-7dpd\n    as_of: 2027-01-01\n    contains:\n      - { type: assign_class, template: card_early_soft }\n";
    std::fs::write(dir.path().join("both.yaml"), both).unwrap();
    let out = arrears_in(dir.path(), &["test", "both.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("both.yaml:10:11: case `card early in 2027` is as of 2027-01-01"),
        "{}",
        stderr(&out)
    );

    let accounts = dir.path().join("one.jsonl");
    let account = serde_yaml_account(dir.path());
    std::fs::write(&accounts, account).unwrap();
    let out = arrears_in(
        dir.path(),
        &[
            "batch",
            "--rules",
            "rules",
            "--as-of",
            "2027-01-01",
            "--out",
            "out.jsonl",
            "--summary",
            "summary.json",
            "one.jsonl",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let actions = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert!(actions.contains("card_early_soft"), "{actions}");
    assert!(stderr(&out).contains("effective-dated versions in force on 2027-01-01: 1\n    row collection_class:card-early (from 2027-01-01) at rules/collection_class.yaml:95:9"), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["effective"][0]["from"], "2027-01-01");
}

/// `card-arrears-7dpd` from the samples as one JSON line.
fn serde_yaml_account(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(dir.join("samples/accounts.yaml")).unwrap();
    let all: Vec<serde_json::Value> = serde_saphyr::from_str(&text).unwrap();
    let one = all.iter().find(|a| a["id"] == "card-arrears-7dpd").unwrap();
    format!("{}\n", serde_json::to_string(one).unwrap())
}

#[test]
fn overlapping_versions_are_a_lint_error_naming_both() {
    let dir = dated_rules("2027-01-31", "2027-01-01");
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(out.status.code(), Some(1));
    assert_snapshot!("overlap", stdout(&out));
    // Every command refuses them.
    let out = dry_run(dir.path(), "2026-06-01", "human");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("two versions of row `collection_class:card-early`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_gap_is_a_warning_and_lint_names_the_period_of_each_set() {
    let dir = dated_rules("2026-12-30", "2027-01-02");
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    assert_snapshot!("gap", stdout(&out));
    // On a day of the gap the row does not exist: card accounts fall through to the default.
    let out = arrears_in(dir.path(), &["lint", "--as-of", "2026-12-31", "rules"]);
    assert_snapshot!("gap_as_of", stdout(&out));
}

#[test]
fn a_day_when_no_version_of_a_table_is_in_force_names_the_day() {
    let dir = shipped_rules_edited("risk_segment.yaml", |text| {
        text.replacen(
            "table: risk_segment\n",
            "table: risk_segment\neffective: { from: 2027-01-01 }\n",
            1,
        )
    });
    let out = dry_run(dir.path(), "2026-12-31", "human");
    assert_eq!(out.status.code(), Some(3));
    assert_snapshot!("no_version_in_force", stderr(&out));
    let out = dry_run(dir.path(), "2027-01-01", "human");
    assert!(out.status.success(), "{}", stderr(&out));
    // A timeline over such a day stops there, with the exit of refused rules, as dry-run's.
    let out = simulate_fixture(dir.path(), "crossing.yaml");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("crossing.yaml: on 2026-12-30: the rules in force on 2026-12-30"),
        "{}",
        stderr(&out)
    );
    // The set from 2027 is analysed and its invariants proven; the summary
    // says the other was not, without taking back what was proven.
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    let text = stdout(&out);
    let summary = text.lines().last().unwrap_or_default();
    assert!(
        summary.contains("guard-rail invariants proven")
            && summary.contains("the effective-dated rule sets with errors were not analysed")
            && !summary.contains("nor the guard-rail invariants proven"),
        "{summary}"
    );
}

/// A wrong clause is one error at its cell: the version it dates is not also
/// reported as overlapping or leaving a gap beside the other version.
#[test]
fn bad_effective_dates_are_errors_at_their_cell() {
    let cases = [
        (
            "2026-12-31",
            "2027-13-01",
            "`2027-13-01` is not a date (YYYY-MM-DD)",
        ),
        (
            "2026-11-31",
            "2027-01-01",
            "`2026-11-31` is not a date (YYYY-MM-DD)",
        ),
        (
            "yesterday",
            "2027-01-01",
            "`yesterday` is not a date (YYYY-MM-DD)",
        ),
        (
            "2026-12-31, from: 2027-02-01",
            "2027-01-01",
            "`until: 2026-12-31` is before `from: 2027-02-01`",
        ),
        (
            "2026-12-31",
            "2027-03-01, until: 2027-01-31",
            "`until: 2027-01-31` is before `from: 2027-03-01`",
        ),
    ];
    for (until, from, message) in cases {
        let dir = dated_rules(until, from);
        let out = arrears_in(dir.path(), &["lint", "rules"]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains(message), "{until} / {from}: {text}");
        assert!(
            text.contains("rules: 1 error(s), "),
            "{until} / {from}: not one error:\n{text}"
        );
        assert!(
            !text.contains("effective-overlap") && !text.contains("effective-gap"),
            "{until} / {from}: {text}"
        );
    }
}

/// A row whose dates do not cover a test case's `as_of` is said to be out of
/// force that day, with when it is in force, not "there is no row" with a
/// did-you-mean to another row; a test document is checked against the rules
/// in force on its cases' day only, as `arrears test` runs it.
#[test]
fn lint_says_a_row_named_by_a_test_is_not_in_force_on_the_case_s_day() {
    let dir = shipped_rules_edited("entry.yaml", |text| {
        let row = "  - id: consumer-in-arrears\n";
        let at = text.find(row).expect("the shipped consumer-in-arrears row");
        let end = at + text[at..].find("\n\n").expect("the row ends");
        format!(
            "{}\n    effective: {{ from: 2020-01-01, until: 2020-12-31 }}{}",
            &text[..end],
            &text[end..]
        )
    });
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let named: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("error[test-document]") && l.contains("consumer-in-arrears"))
        .collect();
    assert!(!named.is_empty(), "{text}");
    for line in &named {
        assert!(
            line.contains("row `entry:consumer-in-arrears` is not in force on 2026-11-22, the case's `as_of`: it is in force from 2020-01-01 until 2020-12-31"),
            "{line}"
        );
    }
    assert!(!text.contains("there is no row"), "{text}");
    assert!(!text.contains("did you mean `entry:"), "{text}");
}

const CONSUMER_TERMS: &str = "    then: { tolerance_amount: $3, tolerance_percent: 0%, tolerance_rule: amount, plan_tolerance: per_instalment, grace_days: 3, grace_business_days: \"false\" }\n";

/// The shipped rules with the card and loan promise terms row in two
/// versions: as shipped until the day before `from`, `edit` of it from `from`.
fn rules_with_consumer_terms_changed(
    until: &str,
    from: &str,
    edit: impl Fn(&str) -> String,
) -> tempfile::TempDir {
    shipped_rules_edited("promise_terms.yaml", |text| {
        let at = text
            .find("  - id: consumer\n")
            .expect("the shipped consumer terms row");
        let end =
            at + text[at..].find(CONSUMER_TERMS).expect("its $3 tolerance") + CONSUMER_TERMS.len();
        let row = &text[at..end];
        let versions = format!(
            "{row}    effective: {{ until: {until} }}\n{}    effective: {{ from: {from} }}\n",
            edit(row)
        );
        text.replacen(row, &versions, 1)
    })
}

/// The shipped rules with the card and loan promise tolerance $3 until
/// 2026-11-30 and $0 from 2026-12-01.
fn rules_with_tolerance_tightened() -> tempfile::TempDir {
    rules_with_consumer_terms_changed("2026-11-30", "2026-12-01", |row| {
        row.replace("$3", "$0")
            .replace("$3 underpayment tolerated", "no underpayment tolerated")
    })
}

/// The shipped rules with the card and loan grace 3 days until 2026-11-19
/// and 10 from 2026-11-20.
fn rules_with_grace_extended() -> tempfile::TempDir {
    rules_with_consumer_terms_changed("2026-11-19", "2026-11-20", |row| {
        row.replace("grace_days: 3,", "grace_days: 10,")
            .replace("3 calendar days grace", "10 calendar days grace")
    })
}

/// Tester 18 item 1: $209 paid on a $212 promise with a $3 tolerance is kept
/// at its deadline (2026-11-23); the tolerance tightened to $0 on 2026-12-01
/// does not judge it again: no broken outcome, no broken-promise letter, and
/// its report keeps the $209 required that decided it.
#[test]
fn a_kept_promise_stays_kept_when_its_terms_change_after_it_was_decided() {
    let dir = rules_with_tolerance_tightened();
    let out = simulate_fixture(dir.path(), "tolerance_tightened.yaml");
    let text = stdout(&out);
    assert!(out.status.success(), "{}{}", text, stderr(&out));
    assert!(!text.contains("status=broken"), "{text}");
    assert!(!text.contains("BROKEN_PROMISE"), "{text}");
    // Reported with the figures that decided it ($209 required under the $3 of
    // its day), so 2026-12-01 repeats the day before instead of showing $212.
    assert!(!text.contains("required=212.00"), "{text}");
    assert!(
        text.contains("2026-11-24 to 2026-12-01: the policy repeated its actions of 2026-11-23"),
        "{text}"
    );
    let last = text
        .lines()
        .rev()
        .find(|l| l.contains("promise_outcome"))
        .unwrap_or_else(|| panic!("no outcome:\n{text}"));
    assert!(
        last.contains("status=kept paid=209.00 required=209.00 deadline=2026-11-23"),
        "{text}"
    );
    assert_snapshot!("tolerance_tightened_history", text);
}

/// A promise due 2026-11-06 breaks at its 3-day grace (deadline 11-09) while
/// a written dispute withholds its letter, which stays pending. The grace
/// becomes 10 days on 11-20: the outcome is still reported with the deadline
/// that decided it, and the follow-up counts from it, so the letter is given
/// up as history on 12-10 (31 days after 11-09), not on 12-17 (31 days after
/// the 11-16 that today's grace would give).
#[test]
fn a_broken_promise_is_followed_up_from_the_deadline_that_decided_it() {
    let dir = rules_with_grace_extended();
    let out = simulate_fixture(dir.path(), "grace_extended_after_broken.yaml");
    let text = stdout(&out);
    assert!(out.status.success(), "{}{}", text, stderr(&out));
    let outcomes: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("promise_outcome") && l.contains("status=broken"))
        .collect();
    assert!(!outcomes.is_empty(), "{text}");
    for line in &outcomes {
        assert!(line.contains("deadline=2026-11-09"), "{line}\n{text}");
    }
    let given_up = text
        .lines()
        .rev()
        .skip_while(|l| !l.contains("cancel_event event=promise-P-1-send_letter"))
        .find(|l| l.starts_with("2026-"))
        .unwrap_or_else(|| panic!("the withheld letter was never given up:\n{text}"));
    assert!(given_up.starts_with("2026-12-10"), "{given_up}\n{text}");
    assert_snapshot!("grace_extended_after_broken_history", text);
}

/// `arrears test` says of a row out of force on the case's day what lint
/// says, from the same check (`testing::Dating`): not "there is no row" with a
/// did-you-mean to another row.
#[test]
fn test_says_a_row_out_of_force_on_the_case_s_day_as_lint_does() {
    let fixture = root().join("tests/fixtures/effective/out_of_force");
    let out = arrears_in(&fixture, &["test", "fees.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let said = stderr(&out);
    assert_snapshot!("test_out_of_force_row", &said);
    assert!(!said.contains("there is no row"), "{said}");
    let out = arrears_in(&fixture, &["lint", "--tests", "fees.yaml", "rules"]);
    let linted = stdout(&out);
    let message = "`rows`: row `late_fee:loan-grace` is not in force on 2026-11-22, the case's `as_of`: it is in force from 2027-01-01";
    assert!(said.contains(message), "{said}");
    assert!(
        linted.contains(&format!("fees.yaml:10:12: error[test-document]: {message}")),
        "{linted}"
    );
}

/// The shipped rules with `card_early_std` in two versions: the shipped one
/// until 2026-12-31, and from 2027-01-01 one whose second letter goes on day
/// 12 as `CARD_EARLY_2B` and which adds an `extra-call` on day 8.
fn rules_with_template_2027() -> tempfile::TempDir {
    let mut new = String::new();
    let dir = shipped_rules_edited("templates/card_early_std.yaml", |text| {
        let (second, email) = (
            "  - id: second-letter\n    day: 20\n",
            "  - id: reminder-email\n",
        );
        assert!(text.contains(second) && text.contains(email) && text.contains("CARD_EARLY_2 }"));
        let dated = |effective: &str| {
            text.replacen(
                "\nevents:\n",
                &format!("\neffective: {effective}\nevents:\n"),
                1,
            )
        };
        new = dated("{ from: 2027-01-01 }")
            .replace(second, "  - id: second-letter\n    day: 12\n")
            .replace("CARD_EARLY_2 }", "CARD_EARLY_2B }")
            .replace(
                email,
                &format!("  - id: extra-call\n    day: 8\n    type: call\n    params: {{ queue: CARD_EARLY }}\n{email}"),
            );
        dated("{ until: 2026-12-31 }")
    });
    std::fs::write(
        dir.path().join("rules/templates/card_early_std_2027.yaml"),
        new,
    )
    .unwrap();
    dir
}

#[test]
fn an_open_case_keeps_the_events_of_the_template_version_it_was_opened_with() {
    let dir = rules_with_template_2027();
    let timeline =
        std::fs::read_to_string(root().join("tests/fixtures/effective/template_version.yaml"))
            .unwrap();
    std::fs::write(dir.path().join("opened_2026.yaml"), &timeline).unwrap();
    // The same account entering after the new version is in force.
    std::fs::write(
        dir.path().join("opened_2027.yaml"),
        timeline
            .replace("from: 2026-12-26", "from: 2027-01-02")
            .replace("to: 2027-01-20", "to: 2027-01-25"),
    )
    .unwrap();
    let simulate = |file: &str| {
        let out = arrears_in(dir.path(), &["simulate", "--rules", "rules", file]);
        assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
        stdout(&out)
    };
    let opened_2026 = simulate("opened_2026.yaml");
    assert!(
        opened_2026.contains("2026-12-30  (")
            && opened_2026.contains(
                "schedule_event 2027-01-19 send_letter event=second-letter letter=\"CARD_EARLY_2\""
            )
            && opened_2026.contains("done: second-letter send_letter (due 2027-01-19)"),
        "{opened_2026}"
    );
    // Nothing of the 2027 version reaches the case opened in 2026.
    assert!(
        !opened_2026.contains("extra-call") && !opened_2026.contains("CARD_EARLY_2B"),
        "{opened_2026}"
    );
    // A case opened from 2027-01-01 gets the 2027 version.
    let opened_2027 = simulate("opened_2027.yaml");
    assert!(
        opened_2027.contains("event=extra-call")
            && opened_2027.contains("letter=\"CARD_EARLY_2B\"")
            && opened_2027.contains("template:card_early_std/extra-call"),
        "{opened_2027}"
    );
}
