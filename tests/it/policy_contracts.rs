//! What the policy pipeline reads from its area tables is resolved when the
//! policy is built: a value it cannot use is a lint error at its cell, or an
//! evaluation error naming the row that gave it — never a silent default.
//! Each case edits one shipped rule file in a copy of `rules/`.

use crate::common;

use common::{arrears_in, root, stderr, stdout};
use std::path::Path;

const AS_OF: &str = "2026-11-22";

/// A copy of the shipped rules in `dir/rules` with `from` replaced by `to` (everywhere) in `file`.
fn rules_with(dir: &Path, file: &str, from: &str, to: &str) -> String {
    let rules = dir.join("rules");
    copy_dir(&root().join("rules"), &rules);
    let path = rules.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` is not in {file}");
    let edited = text.replace(from, to);
    std::fs::write(&path, &edited).unwrap();
    edited
}

/// A further edit of `file` in the copy `rules_with` made in `dir`.
fn rules_with_more(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join("rules").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "`{from}` is not in {file}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// `line:column` (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> String {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    format!("{line}:{column}")
}

#[test]
fn constant_instalment_counts_past_36_are_lint_errors_at_their_cell() {
    let offer_3 = "then: { instalments: 3, amount: arrears, first_due_in: 7 }";
    let dir = tempfile::tempdir().unwrap();
    let text = rules_with(
        dir.path(),
        "payment_plan_offer.yaml",
        offer_3,
        "then: { instalments: 48, amount: arrears, first_due_in: 7 }",
    );
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let at = line_col(
        &text,
        text.find("instalments: 48").unwrap() + "instalments: ".len(),
    );
    let expected = format!(
        "rules/payment_plan_offer.yaml:{at}: error[policy]: row `offer-long-plan` of the payment-plan table \
         `payment_plan_offer` offers 48 instalments; an offer has at most 36"
    );
    assert!(
        stdout(&out).lines().any(|l| l == expected),
        "{}",
        stdout(&out)
    );

    // 36 is the limit, not past it.
    let dir = tempfile::tempdir().unwrap();
    rules_with(
        dir.path(),
        "payment_plan_offer.yaml",
        offer_3,
        "then: { instalments: 36, amount: arrears, first_due_in: 7 }",
    );
    let out = arrears_in(dir.path(), &["lint", "rules", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// Runs the scenario accounts through `rules` in `dir`: (exit code, stdout).
fn dry_run_scenarios(dir: &Path) -> (Option<i32>, String) {
    let accounts = root().join("samples/scenarios/accounts.yaml");
    let out = arrears_in(
        dir,
        &[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            AS_OF,
            accounts.to_str().unwrap(),
        ],
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    (out.status.code(), stdout(&out))
}

/// Values the pipeline cannot use that are only known per account: the account fails,
/// naming the row, instead of the value being dropped or replaced.
#[test]
fn unusable_computed_values_fail_the_account_naming_the_row() {
    let cases = [
        (
            "payment_plan_offer.yaml",
            "then: { instalments: 3, amount: arrears, first_due_in: 7 }",
            "then: { instalments: account.days_past_due, amount: arrears, first_due_in: 7 }",
            "account sev-master-meter\n  error: table `payment_plan_offer`: \
             `payment_plan_offer:offer-long-plan` offers 64 instalments; an offer has 1 to 36 (0 = no offer)",
            "",
        ),
        (
            "collection_class.yaml",
            r#"then: { class: '"card_early"', template: '"card_early_std"' }"#,
            r#"then: { class: '"card_early"', template: "null" }"#,
            "account card-arrears-7dpd\n  error: table `collection_class`: \
             `collection_class:card-early` gave a null `template`",
            "",
        ),
        (
            "promise_terms.yaml",
            "tolerance_rule: larger",
            r#"tolerance_rule: "null""#,
            "error: table `promise_terms`: `promise_terms:",
            "gave a null `tolerance_rule`",
        ),
        // An optional output the table has is needed like any other: null is not `cumulative`.
        (
            "promise_terms.yaml",
            "plan_tolerance: per_instalment,",
            r#"plan_tolerance: "null","#,
            "error: table `promise_terms`: `promise_terms:",
            "gave a null `plan_tolerance`",
        ),
    ];
    for (file, from, to, expected, also) in cases {
        let dir = tempfile::tempdir().unwrap();
        rules_with(dir.path(), file, from, to);
        let (code, out) = dry_run_scenarios(dir.path());
        assert_eq!(code, Some(1), "{file}: {out}");
        assert!(out.contains(expected), "{file}: no `{expected}` in\n{out}");
        assert!(out.contains(also), "{file}: no `{also}` in\n{out}");
    }
}

/// An area's output spelled wrong is found by lint, whether the area needs it or
/// may go without it (a missing optional `detail` used to be read as null).
#[test]
fn misspelled_area_outputs_are_lint_errors_at_the_output() {
    let cases = [
        (
            "promise_follow_up.yaml",
            "detail",
            "detial",
            "promise_follow_up",
            "promise_follow_up",
        ),
        (
            "promise_terms.yaml",
            "tolerance_rule:",
            "tolerence_rule:",
            "promise_terms",
            "promise_terms",
        ),
        // Optional, but a near miss is a typo, not a table that leaves it out.
        (
            "promise_terms.yaml",
            "plan_tolerance:",
            "plan_tolerence:",
            "promise_terms",
            "promise_terms",
        ),
    ];
    for (file, right, wrong, role, table) in cases {
        let dir = tempfile::tempdir().unwrap();
        let text = rules_with(dir.path(), file, right, wrong);
        let out = arrears_in(dir.path(), &["lint", "rules"]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let (right, wrong) = (right.trim_end_matches(':'), wrong.trim_end_matches(':'));
        // The output's declaration: its type cell under `outputs:`.
        let declared = text.find("outputs:").unwrap();
        let type_cell =
            declared + text[declared..].find(&format!("{wrong}: ")).unwrap() + wrong.len() + 2;
        let expected = format!(
            "rules/{file}:{}: error[policy]: the `{role}` table `{table}` has no output `{right}`, but an output `{wrong}`",
            line_col(&text, type_cell)
        );
        let printed = stdout(&out);
        assert!(
            printed.lines().any(|l| l == expected),
            "{expected}\n{printed}"
        );
        assert!(
            printed.contains(&format!("rename `{wrong}` to `{right}`")),
            "{printed}"
        );
    }
}

/// A `promise_terms` table without `plan_tolerance` means what it meant before the output
/// existed: the plan's running total is held to one instalment's tolerance, and the plan is
/// reported at the instalment that broke. With the shipped `per_instalment`, the plan is kept.
#[test]
fn without_plan_tolerance_a_plans_tolerance_is_cumulative() {
    let dry_run_plan = |dir: &Path| {
        let accounts = root().join("samples/scenarios/accounts.yaml");
        let out = arrears_in(
            dir,
            &[
                "dry-run",
                "--rules",
                "rules",
                "--as-of",
                AS_OF,
                "--account",
                "plan-98-each-instalment-kept",
                accounts.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let shipped = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &shipped.path().join("rules"));
    let kept = "promise_outcome promise=plan-98 instalment=plan-98-3 status=kept \
                paid=294.00 required=293.00 deadline=2026-11-19";
    assert!(dry_run_plan(shipped.path()).contains(kept));

    let dir = tempfile::tempdir().unwrap();
    rules_with(
        dir.path(),
        "promise_terms.yaml",
        "  plan_tolerance: plan_tolerance\n",
        "",
    );
    rules_with_more(
        dir.path(),
        "promise_terms.yaml",
        "plan_tolerance: per_instalment, ",
        "",
    );
    let broken = "promise_outcome promise=plan-98 instalment=plan-98-2 status=broken \
                  paid=196.00 required=197.00 deadline=2026-10-18";
    let printed = dry_run_plan(dir.path());
    assert!(printed.contains(broken), "{printed}");
}

/// `money?` on an output used to be accepted with the `?` ignored; every output
/// may be null already, so the `?` is refused at its cell with a hint.
#[test]
fn optional_output_types_are_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let text = rules_with(
        dir.path(),
        "entry.yaml",
        "  reason: text\n",
        "  reason: text?\n",
    );
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let at = line_col(
        &text,
        text.find("reason: text?").unwrap() + "reason: ".len(),
    );
    let expected =
        format!("rules/entry.yaml:{at}: error[output]: output type `text?` cannot be optional");
    let printed = stdout(&out);
    assert!(
        printed.lines().any(|l| l == expected),
        "{expected}\n{printed}"
    );
    assert!(
        printed.contains("help: write `text`: any output may be null"),
        "{printed}"
    );
}

/// Configuration no account can reach used to lint clean: a template nothing
/// assigns, an experiment aimed at a class the class table never gives, a
/// follow-up row for a promise the pipeline never asks about. Each is a
/// warning at its cell with a hint, so `lint --deny-warnings` fails.
#[test]
fn configuration_no_account_reaches_is_a_warning_at_its_cell() {
    struct Case {
        file: &'static str,
        /// Replaced by `to`; empty: `to` is a new file.
        from: &'static str,
        to: &'static str,
        /// The warning points at this text (inside `to`).
        at: &'static str,
        message: &'static str,
        help: &'static str,
    }
    // New rows go first, so no earlier row masks them.
    let first_row = "  - id: paid-in-full\n";
    let cases = [
        Case {
            file: "templates/old_letters.yaml",
            from: "",
            to: "template: old_letters\nevents:\n  - { id: letter, day: 0, type: send_letter }\n",
            at: "old_letters",
            message: "warning[unused]: template `old_letters` is never assigned: no row of the class table `collection_class` and no experiment arm names it",
            help: "name it in a `template` output of `collection_class` or an arm's `template`",
        },
        Case {
            file: "experiments/card_early_letters.yaml",
            from: "classes: [card_early]",
            to: "classes: [card_erly]",
            at: "card_erly",
            message: "warning[unused]: experiment `card_early_letters` is aimed at class `card_erly`, which no row of the class table `collection_class` assigns",
            help: "did you mean `card_early`?",
        },
        Case {
            file: "promise_follow_up.yaml",
            from: first_row,
            to: concat!(
                "  - id: kept-paid-thanks\n    when: { status: kept, paid_in_full: \"true\" }\n",
                "    then: { follow_up: send_letter, detail: '\"THANKS\"', date: \"null\" }\n\n",
                "  - id: paid-in-full\n"
            ),
            at: "kept, paid_in_full",
            message: "warning[unreachable-row]: row `kept-paid-thanks` of the follow-up table `promise_follow_up` is never asked",
            help: "a kept promise with arrears paid in full closes the case before the table is asked",
        },
    ];
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let text = if case.from.is_empty() {
            common::copy_dir(&root().join("rules"), &dir.path().join("rules"));
            std::fs::write(dir.path().join("rules").join(case.file), case.to).unwrap();
            case.to.to_string()
        } else {
            rules_with(dir.path(), case.file, case.from, case.to)
        };
        let out = arrears_in(dir.path(), &["lint", "rules"]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let printed = stdout(&out);
        let at = line_col(&text, text.find(case.at).unwrap());
        let expected = format!("rules/{}:{at}: {}", case.file, case.message);
        let found: Vec<&str> = printed.lines().filter(|l| l.contains("warning[")).collect();
        assert!(
            found.iter().any(|l| l.starts_with(&expected)),
            "{expected}\n{printed}"
        );
        // The help as JSON gives it (the human form wraps it).
        let json = arrears_in(dir.path(), &["lint", "rules", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
        let helps: Vec<&str> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["help"].as_str())
            .collect();
        assert!(
            helps.iter().any(|h| h.contains(case.help)),
            "{}\n{helps:?}",
            case.help
        );
        let denied = arrears_in(dir.path(), &["lint", "rules", "--deny-warnings"]);
        assert_eq!(denied.status.code(), Some(1), "{}", stdout(&denied));
    }
}
