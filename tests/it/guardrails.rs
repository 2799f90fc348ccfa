//! Guard-rail packs end to end: no strategy table can read one, a policy
//! without one is warned about, a rail can move a call to a letter, a
//! bankruptcy stay cancels the contacts a case holds pending, and the batch
//! summary counts what each guard rule did. The per-rule scenarios (Reg F,
//! the call window, Breathing Space) are in samples/scenarios.

use std::path::Path;

use crate::common::{arrears_in, copy_dir, root, stderr, stdout};

/// A copy of the shipped rules in a temporary directory, to change.
fn shipped_rules() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &dir.path().join("rules"));
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const CARD_7DPD: &str = r#"
- id: card-7dpd
  customer_class: residential
  jurisdiction: IL
  product: card
  days_past_due: 7
  arrears: "212.00"
  balance: "6480.12"
  credit_limit: "8000.00"
  risk_score: 701
  bankruptcy: false
  deceased: false
  hardship: false
  contact_invalid: false
  forced: false
  budget_plan_active: false
  pay_plan: { active: false, scheduled_due: "0.00" }
  last_payment_date: "2026-10-08"
  promises: []
  dispositions: []
  service_agreements:
    - { id: card-7dpd-01, type: card, debt_class: consumer_credit, arrears: "212.00", life_support: false, sensitive_load: false, master_meter: false }
"#;

fn dry_run(dir: &Path, accounts: &str) -> (i32, String, String) {
    std::fs::write(dir.join("accounts.yaml"), accounts).unwrap();
    let out = arrears_in(
        dir,
        &[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            "2026-11-22",
            "accounts.yaml",
        ],
    );
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

#[test]
fn a_strategy_table_cannot_read_a_guard_rail() {
    let dir = shipped_rules();
    edit(
        &dir.path().join("rules/collection_class.yaml"),
        "  bucket: dpd_bucket.bucket\n",
        "  bucket: dpd_bucket.bucket\n  stay: stay_and_deceased.effect\n",
    );
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("error[table-reference]: `stay_and_deceased` is a guard rail: no table can read what a guard rail decides"),
        "{text}"
    );
    assert!(text.contains("rules/collection_class.yaml:"), "{text}");
}

#[test]
fn a_policy_without_guard_rails_is_warned_about() {
    let dir = shipped_rules();
    std::fs::remove_dir_all(dir.path().join("rules/guardrails")).unwrap();
    // The rule tests name guard rows; without the pack they are checked elsewhere.
    std::fs::remove_dir_all(dir.path().join("rules/tests")).unwrap();
    let out = arrears_in(dir.path(), &["lint", "rules", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .filter(|c| *c == "no-guardrails")
        .collect();
    assert_eq!(codes, ["no-guardrails"], "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0), "a warning does not fail lint");
    // With the shipped pack there is no such warning.
    let out = arrears_in(root(), &["lint", "rules"]);
    assert!(!stdout(&out).contains("no-guardrails"));
}

#[test]
fn a_rail_can_turn_a_call_into_a_letter() {
    let dir = shipped_rules();
    std::fs::write(
        dir.path().join("rules/guardrails/letters_only.yaml"),
        r#"guardrails: letters_only
description: Illinois customers are written to, never called (a test rail).
hit: first
inputs:
  is_call: action.type = call
  jurisdiction: account.jurisdiction
outputs:
  effect: guard_effect
  channel: contact_channel
  reason: text
rows:
  - id: write_instead
    when: { is_call: "true", jurisdiction: IL }
    then: { effect: rechannel, channel: letter, reason: '"letters only"' }
default: { effect: allow, channel: "null", reason: "null" }
"#,
    )
    .unwrap();
    let (code, text, err) = dry_run(dir.path(), CARD_7DPD);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("schedule_event 2026-11-27 send_letter event=first-call queue=\"CARD_EARLY\"  <- collection_class:card-early, template:card_early_std/first-call, guard:letters_only/write_instead\n"),
        "{text}"
    );
    assert!(
        text.contains("rechannel event=first-call from=call to=send_letter reason=\"letters only\"  <- guard:letters_only/write_instead\n"),
        "{text}"
    );
    // A letter is no call: the Reg F window does not apply to it.
    assert!(!text.contains("window="), "{text}");
}

#[test]
fn a_bankruptcy_stay_cancels_the_contacts_a_case_holds_pending() {
    let dir = shipped_rules();
    // Without the re-treatment (which cancels every pending event itself), the
    // guard rail alone must cancel what an earlier run scheduled.
    edit(
        &dir.path().join("rules/policy.yaml"),
        "retreat: retreatment\n",
        "",
    );
    let account = CARD_7DPD.replace("bankruptcy: false", "bankruptcy: true").replace(
        "  service_agreements:",
        "  case:\n    category: arrears\n    class: card_early\n    template: card_early_std\n    start_date: '2026-11-02'\n    events:\n    - {id: reminder-letter, type: send_letter, date: '2026-11-02', status: done}\n    - {id: second-letter, type: send_letter, date: '2026-11-23', status: pending}\n    - {id: late-call, type: call, date: '2026-11-25', status: pending}\n    - {id: credit-rating, type: affect_credit_rating, date: '2026-12-02', status: pending}\n  service_agreements:",
    );
    let (code, text, err) = dry_run(dir.path(), &account);
    assert_eq!(code, 0, "{err}");
    for event in ["second-letter", "late-call"] {
        assert!(
            text.contains(&format!("cancel_event event={event} reason=\"bankruptcy automatic stay\"  <- guard:stay_and_deceased/bankruptcy_stay\n")),
            "{event}: {text}"
        );
    }
    // The credit-rating event is not a contact.
    assert!(!text.contains("event=credit-rating"), "{text}");
}

#[test]
fn the_batch_summary_counts_each_guard_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = arrears_in(
        dir.path(),
        &[
            "generate",
            "--accounts",
            "1000",
            "--seed",
            "7",
            "extract.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = arrears_in(
        dir.path(),
        &[
            "batch",
            "--rules",
            &root().join("rules").display().to_string(),
            "--as-of",
            "2026-11-22",
            "--out",
            "actions.jsonl",
            "--summary",
            "summary.json",
            "extract.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    // Counted from the actions written: every withhold, by the rules it names.
    let actions = std::fs::read_to_string(dir.path().join("actions.jsonl")).unwrap();
    let mut want = std::collections::BTreeMap::<String, u64>::new();
    for line in actions.lines() {
        let a: serde_json::Value = serde_json::from_str(line).unwrap();
        if a["type"] == "withhold" {
            for r in a["rules"].as_array().unwrap() {
                *want.entry(r.as_str().unwrap().to_string()).or_default() += 1;
            }
        }
    }
    assert!(
        !want.is_empty(),
        "the extract has accounts the guard rails stop"
    );
    let got: std::collections::BTreeMap<String, u64> = summary["guard_rails"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(rule, c)| (rule.clone(), c["withheld"].as_u64().unwrap()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(got, want);
    let human = stderr(&out);
    let (rule, n) = want.iter().next().unwrap();
    assert!(
        human.contains(&format!("  guard rails       {rule} withheld {n}")),
        "{human}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, failure_persistence: None, ..proptest::prelude::ProptestConfig::default() })]

    /// Whatever the strategy proposes for a random account, what the shipped
    /// guard rails stop never comes out: no contact or payment request under a
    /// bankruptcy stay, to a deceased customer or after a timely unverified
    /// written dispute; no contact through invalid details; no severance
    /// nomination at a life-support premise.
    #[test]
    fn no_action_gets_past_the_shipped_guard_rails(
        pick in 0usize..1000,
        dpd in 0i64..200,
        arrears_cents in 0i64..500_000,
        bankruptcy in proptest::prelude::any::<bool>(),
        deceased in proptest::prelude::any::<bool>(),
        contact_invalid in proptest::prelude::any::<bool>(),
        disputed in proptest::prelude::any::<bool>(),
        life_support in proptest::prelude::any::<bool>(),
    ) {
        use serde_json::Value as Json;
        let policy = crate::scenarios::shipped_policy();
        let mut all = crate::scenarios::accounts(&root().join("samples/scenarios/accounts.yaml"));
        all.extend(crate::scenarios::accounts(&root().join("samples/accounts.yaml")));
        let mut account = all[pick % all.len()].clone();
        let object = account.as_object_mut().expect("an account is a record");
        object.insert("days_past_due".into(), Json::from(dpd));
        object.insert("arrears".into(), Json::from(format!("{}.{:02}", arrears_cents / 100, arrears_cents % 100)));
        object.insert("bankruptcy".into(), Json::from(bankruptcy));
        object.insert("deceased".into(), Json::from(deceased));
        object.insert("contact_invalid".into(), Json::from(contact_invalid));
        if disputed {
            object.insert("validation_notice_date".into(), Json::from("2026-11-01"));
            object.insert("written_dispute_date".into(), Json::from("2026-11-15"));
            object.insert("dispute_verified_date".into(), Json::Null);
        }
        if let Some(sas) = object.get_mut("service_agreements").and_then(|s| s.as_array_mut()) {
            for sa in sas.iter_mut().take(1) {
                sa["life_support"] = Json::from(life_support);
            }
        }
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
        let contact = ["send_letter", "call", "email", "sms"];
        for action in crate::scenarios::actions(&policy, &account, as_of) {
            let kind = action["type"].as_str().unwrap_or_default();
            let contacts = kind == "schedule_event"
                && contact.contains(&action["event_type"].as_str().unwrap_or_default());
            let asks = contacts || kind == "offer_payment_plan";
            proptest::prop_assert!(!(asks && (bankruptcy || deceased || disputed)), "stayed, deceased or disputed, yet {}", action);
            proptest::prop_assert!(!(contacts && contact_invalid), "invalid contact details, yet {}", action);
            proptest::prop_assert!(!(kind == "nominate_severance" && life_support), "life support, yet {}", action);
        }
    }
}

/// Without the bankruptcy row, lint refutes the shipped invariant with an
/// account that dry-run really gives a call.
#[test]
fn removing_the_bankruptcy_row_violates_its_invariant_with_a_real_call() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&root.join("rules"), &rules);
    let pack = rules.join("guardrails/stay_and_deceased.yaml");
    let text = std::fs::read_to_string(&pack).unwrap();
    let (start, end) = (
        text.find("  - id: bankruptcy_stay").unwrap(),
        text.find("  - id: deceased").unwrap(),
    );
    std::fs::write(&pack, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let out = crate::common::arrears(&["lint", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let violated = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "invariant-violated")
        .expect("the bankruptcy invariant is violated");
    let message = violated["message"].as_str().unwrap();
    assert!(
        message.contains("never call when account.bankruptcy"),
        "{message}"
    );
    let as_of = message
        .split(" on ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let account = &message[message.find('{').unwrap()..];
    let file = dir.path().join("cx.json");
    std::fs::write(&file, format!("[{account}]")).unwrap();
    let run = crate::common::arrears(&[
        "dry-run",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        as_of,
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    let shown = String::from_utf8_lossy(&run.stdout);
    assert!(
        shown.contains("\"event_type\": \"call\"") || shown.contains("\"event_type\":\"call\""),
        "{shown}"
    );
}

/// A condition no guard input is by itself (the Breathing Space window
/// compares with account dates) is reported undecided, never proven.
#[test]
fn an_invariant_the_analysis_cannot_decide_is_undecided() {
    let dir = shipped_rules();
    let pack = dir.path().join("rules/guardrails/breathing_space.yaml");
    let text = std::fs::read_to_string(&pack).unwrap();
    std::fs::write(
        &pack,
        format!("{text}\ninvariants:\n  - never: {{ when: \"action.date < account.breathing_space_start + 60 days\", action: [nominate_severance] }}\n"),
    )
    .unwrap();
    let out = arrears_in(dir.path(), &["lint", "rules", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"invariant-undecided"), "{codes:?}");
    assert!(!codes.contains(&"invariant-violated"), "{codes:?}");
    let proven = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "invariants-proven")
        .unwrap();
    assert_eq!(proven["message"], "7 of 8 guard-rail invariants proven");
}
