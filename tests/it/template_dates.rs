//! Template events dated by a date expression (issue 13): the expression reads
//! the account, `as_of` and `start_date`; its date moves to a business day,
//! never falls before the treatment's start, and a null date leaves the event
//! unscheduled. Run through `dry-run` on a copy of the shipped rules with one
//! more event in the loan template.

use serde_json::Value as Json;

use crate::common::{arrears, copy_dir, root, stderr, stdout};

const EXTRA_EVENT: &str = "
  - id: no-payment-review
    date: account.last_payment_date + 90 days
    type: create_todo
    description: Review 90 days after the last payment.
    params: { queue: NO_PAYMENT_REVIEW }
";

/// The scheduled `no-payment-review` date of a 40-DPD loan whose last payment
/// was `last_payment` (`null` for never), as of Sunday 2026-11-22.
fn review_date(last_payment: &str) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let template = rules.join("templates/loan_std.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, text + EXTRA_EVENT).unwrap();
    let accounts = std::fs::read_to_string(root().join("samples/scenarios/accounts.yaml")).unwrap();
    let start = accounts.find("- id: loan-arrears-40dpd\n").unwrap();
    let end = start + accounts[start..].find("\n- id: card-gb-early").unwrap();
    let account = accounts[start..end].replace("'2026-10-08'", last_payment);
    let file = dir.path().join("accounts.yaml");
    std::fs::write(&file, account + "\n").unwrap();
    let out = arrears(&[
        "dry-run",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        "2026-11-22",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let actions = json["accounts"][0]["actions"].as_array().unwrap().clone();
    let review: Vec<&Json> = actions
        .iter()
        .filter(|a| a["event"] == "no-payment-review")
        .collect();
    assert!(review.len() <= 1, "{review:?}");
    review.first().map(|a| {
        assert_eq!(
            a["rules"][1], "template:loan_std/no-payment-review",
            "the event names its template row"
        );
        a["date"].as_str().unwrap().to_string()
    })
}

#[test]
fn an_expression_date_is_moved_to_a_business_day() {
    // 2026-10-08 + 90 days = Wednesday 2027-01-06, a business day.
    assert_eq!(review_date("'2026-10-08'").as_deref(), Some("2027-01-06"));
    // 2026-10-04 + 90 days = Saturday 2027-01-02: the next business day is Monday.
    assert_eq!(review_date("'2026-10-04'").as_deref(), Some("2027-01-04"));
}

#[test]
fn an_expression_date_before_the_start_falls_on_the_start() {
    // 2026-07-01 + 90 days = 2026-09-29, before the case opens on Sunday
    // 2026-11-22: due at once, on the first business day.
    assert_eq!(review_date("'2026-07-01'").as_deref(), Some("2026-11-23"));
}

#[test]
fn a_null_expression_date_leaves_the_event_unscheduled() {
    assert_eq!(review_date("null"), None);
}

/// `lint rules` on a copy whose schema declares `review_after`, read by a
/// template event's date when `read` is true.
fn lint_with_review_after(read: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let schema = rules.join("schema.yaml");
    let text = std::fs::read_to_string(&schema).unwrap().replace(
        "  last_payment_date: date?",
        "  review_after: date?\n  last_payment_date: date?",
    );
    std::fs::write(&schema, text).unwrap();
    if read {
        let template = rules.join("templates/loan_std.yaml");
        let text = std::fs::read_to_string(&template).unwrap();
        let event = EXTRA_EVENT.replace(
            "account.last_payment_date + 90 days",
            "account.review_after",
        );
        std::fs::write(&template, text + &event).unwrap();
    }
    let out = arrears(&["lint", rules.to_str().unwrap()]);
    stdout(&out) + &stderr(&out)
}

#[test]
fn a_field_read_only_by_a_template_date_is_in_use() {
    assert!(lint_with_review_after(false).contains("field `account.review_after` is never read"));
    let linted = lint_with_review_after(true);
    assert!(!linted.contains("review_after"), "{linted}");
}
