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
    // A letter has no time of day: the Reg F window, which an SMS carries, does not apply to it.
    for line in text.lines().filter(|l| l.contains(" send_letter event=")) {
        assert!(!line.contains("window="), "{line}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains(" sms event=") && l.contains("window=08:00-21:00")),
        "{text}"
    );
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
    // The table reads `retreat`, which only the policy's re-treatment table is given.
    for file in ["rules/retreatment.yaml", "rules/tests/retreatment.yaml"] {
        std::fs::remove_file(dir.path().join(file)).unwrap();
    }
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
    let line = human
        .lines()
        .find(|l| l.starts_with("  guard rails       "))
        .unwrap_or_else(|| panic!("no guard rails line: {human}"));
    for (rule, n) in &want {
        assert!(line.contains(&format!("{rule} withheld {n}")), "{human}");
    }
}

/// The shipped packs' invariants, read from `rules/guardrails/`: each
/// `when`, checked against the schema with the proposed `action` in scope, and
/// the actions it forbids.
fn shipped_invariants(schema: &arrears::data::schema::Schema) -> Invariants {
    use arrears::types::Type;
    let docs = arrears::model::load_dir(&root().join("rules")).expect("rules/ loads");
    let action = Type::Record(schema.guard_action_record);
    docs.invariants
        .iter()
        .map(|(file, _, doc)| {
            let never = &doc.value.never.value;
            let locals = [("action".to_string(), action.clone())];
            let (when, problems) = arrears::lang::check::standalone_expression(
                schema,
                file,
                &never.when,
                &locals,
                &Type::Bool,
            );
            assert!(problems.is_empty(), "{problems:?}");
            let actions = never.action.iter().map(|a| a.value.clone()).collect();
            (never.when.value.0.clone(), when.expect("checked"), actions)
        })
        .collect()
}

/// The guard rails' `action` record for an action a run wrote: its guarded
/// action name and the record, or `None` for an action no rail is asked about.
fn guarded(
    schema: &arrears::data::schema::Schema,
    action: &serde_json::Value,
    as_of: chrono::NaiveDate,
) -> Option<(String, arrears::types::Value)> {
    use arrears::types::Value;
    let name = match action["type"].as_str()? {
        "schedule_event" => action["event_type"].as_str()?,
        other @ ("offer_payment_plan" | "nominate_severance") => other,
        _ => return None,
    };
    let variant = |enum_name: &str, v: &str| {
        schema
            .enum_by_name(enum_name)
            .and_then(|e| schema.variant(e, v))
            .map_or(Value::Null, Value::Enum)
    };
    let channel = match name {
        "call" => "call",
        "send_letter" => "letter",
        "sms" => "sms",
        "email" => "email",
        _ => "",
    };
    let date = action["date"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(as_of);
    let record = schema.record(schema.guard_action_record);
    let fields: Vec<Value> = record
        .fields
        .iter()
        .map(|f| match f.name.as_str() {
            "type" => variant("guarded_action", name),
            "channel" => variant("contact_channel", channel),
            "event" => action["event"]
                .as_str()
                .map_or(Value::Null, |e| Value::Text(e.into())),
            "date" => Value::Date(date),
            "time" => action["time"]
                .as_str()
                .map_or(Value::Null, |t| Value::Text(t.into())),
            "pending" => Value::Bool(false),
            other => panic!("the guard action record gained a field `{other}`: set it here"),
        })
        .collect();
    Some((name.to_string(), Value::Record(fields.into())))
}

type Invariants = Vec<(String, arrears::lang::ir::TExpr, Vec<String>)>;

/// The shipped policy, its invariants and the sample accounts, read once for
/// every case of the property test.
fn shipped() -> &'static (arrears::policy::Policy, Invariants, Vec<serde_json::Value>) {
    static SHIPPED: std::sync::OnceLock<(
        arrears::policy::Policy,
        Invariants,
        Vec<serde_json::Value>,
    )> = std::sync::OnceLock::new();
    SHIPPED.get_or_init(|| {
        let policy = crate::scenarios::shipped_policy();
        let invariants = shipped_invariants(policy.plan.schema());
        let mut all = crate::scenarios::accounts(&root().join("samples/scenarios/accounts.yaml"));
        all.extend(crate::scenarios::accounts(
            &root().join("samples/accounts.yaml"),
        ));
        (policy, invariants, all)
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..proptest::prelude::ProptestConfig::default() })]

    /// Whatever the strategy proposes for a random account, no action a run
    /// writes breaks an invariant the shipped packs state: each invariant's
    /// `when`, read from the pack, is evaluated for the account and the action,
    /// and where it holds the action must not be one it forbids. The accounts
    /// are driven into the invariants' circumstances: a bankruptcy stay, a
    /// death, invalid contact details, a timely unverified dispute, life
    /// support at the premise.
    #[test]
    fn no_action_violates_a_shipped_invariant(
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
        let (policy, invariants, all) = shipped();
        let schema = policy.plan.schema();
        proptest::prop_assert!(invariants.len() >= 6, "the shipped packs state {} invariants", invariants.len());
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
        let decoded = arrears::data::snapshot::decode_account(schema, &account).expect("account decodes");
        for action in crate::scenarios::actions(policy, &account, as_of) {
            let Some((name, record)) = guarded(schema, &action, as_of) else {
                continue;
            };
            for (text, when, forbidden) in invariants {
                if !forbidden.contains(&name) {
                    continue;
                }
                let holds = arrears::lang::semantics::eval_standalone(when, &decoded, as_of, std::slice::from_ref(&record));
                proptest::prop_assert!(
                    holds != Ok(arrears::types::Value::Bool(true)),
                    "never {} when {}, yet {}", name, text, action
                );
            }
        }
    }
}

/// Without the bankruptcy row, lint refutes the shipped invariant with an
/// account that dry-run really gives a call.
#[test]
fn removing_the_bankruptcy_row_violates_its_invariant_with_a_real_call() {
    let dir = shipped_rules();
    let rules = dir.path().join("rules");
    let pack = rules.join("guardrails/stay_and_deceased.yaml");
    let text = std::fs::read_to_string(&pack).unwrap();
    let (start, end) = (
        text.find("  - id: bankruptcy_stay").unwrap(),
        text.find("  - id: deceased").unwrap(),
    );
    std::fs::write(&pack, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (message, as_of, account) = first_violation(&rules);
    assert!(
        message.contains("never call when account.bankruptcy"),
        "{message}"
    );
    let run = dry_run_counterexample(&rules, &as_of, &account);
    assert!(
        run["accounts"][0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["event_type"] == "call"),
        "{run}"
    );
}

/// The first `invariant-violated` of lint over `rules` (which must exit 1):
/// its message, the day and the account (JSON) it gives.
fn first_violation(rules: &Path) -> (String, String, String) {
    let out = crate::common::arrears(&["lint", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let violated = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "invariant-violated")
        .expect("an invariant is violated");
    let message = violated["message"].as_str().unwrap().to_string();
    let as_of = message
        .split(" on ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let account = message[message.find('{').unwrap()..].to_string();
    (message, as_of, account)
}

/// `dry-run --format json` of the account lint gave as a counterexample, as of its day.
fn dry_run_counterexample(rules: &Path, as_of: &str, account: &str) -> serde_json::Value {
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), format!("[{account}]")).unwrap();
    let run = crate::common::arrears(&[
        "dry-run",
        "--allow-analysis-errors",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        as_of,
        "--format",
        "json",
        file.path().to_str().unwrap(),
    ]);
    serde_json::from_slice(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&run)))
}

/// Reg F's limits are invariants too: lint proves them on the shipped pack,
/// and weakening `seven_in_seven` to `">= 8"` leaves exactly seven calls in
/// the seven days open. Lint then reports the violation with a real account
/// (a rules test's, seven call attempts in the seven days ending on its as-of
/// day): its pending call, postponed by the shipped rail, now goes out that
/// day, and the account lint prints shows it, dry-run with either pack.
#[test]
fn weakening_reg_f_seven_in_seven_violates_its_invariant_with_a_real_call() {
    let dir = shipped_rules();
    let (diagnostics, proven) = lint_invariants(dir.path());
    assert!(all_proven(&proven), "{proven}");
    assert!(
        !diagnostics
            .iter()
            .any(|d| d["code"] == "invariant-undecided" || d["code"] == "invariant-violated"),
        "{diagnostics:?}"
    );
    let shipped = dir.path().join("shipped");
    copy_dir(&dir.path().join("rules"), &shipped);
    edit(
        &dir.path().join("rules/guardrails/reg_f.yaml"),
        r#"calls_in_7_days: ">= 7" }"#,
        r#"calls_in_7_days: ">= 8" }"#,
    );
    let (diagnostics, _) = lint_invariants(dir.path());
    let violated: Vec<&serde_json::Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "invariant-violated")
        .collect();
    assert_eq!(violated.len(), 1, "{diagnostics:?}");
    let message = violated[0]["message"].as_str().unwrap();
    assert!(
        message.contains("`never call when account.jurisdiction != GB"),
        "{message}"
    );
    assert!(message.contains("of `reg_f` is violated"), "{message}");
    assert!(
        message.contains("gets `call` on 2026-11-22 through its pending event `first-call`"),
        "{message}"
    );
    let account: serde_json::Value =
        serde_json::from_str(&message[message.find('{').unwrap()..]).unwrap();
    let calls = account["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["channel"] == "call" && c["date"].as_str().unwrap() > "2026-11-15")
        .count();
    assert_eq!(calls, 7, "{account}");
    assert_ne!(account["jurisdiction"], "GB");
    // The shipped rail postpones that call; the weakened one lets it out.
    let yaml = format!("- {}\n", serde_json::to_string(&account).unwrap());
    let run = |rules: &Path| {
        std::fs::write(dir.path().join("cx.yaml"), &yaml).unwrap();
        let out = crate::common::arrears(&[
            "dry-run",
            "--allow-analysis-errors",
            "--rules",
            rules.to_str().unwrap(),
            "--as-of",
            "2026-11-22",
            dir.path().join("cx.yaml").to_str().unwrap(),
        ]);
        stdout(&out)
    };
    let before = run(&shipped);
    assert!(
        before.contains("postpone event=first-call from=2026-11-22")
            && before.contains("guard:reg_f/seven_in_seven"),
        "{before}"
    );
    let after = run(&dir.path().join("rules"));
    assert!(!after.contains("event=first-call"), "{after}");
}

/// Massachusetts' proviso (940 CMR 7.04(1)(f): a communication answering the
/// debtor's request is not the creditor's) is in the rail's row and in its
/// invariant alike. With the invariant written without it, lint refutes it
/// with a rules test's account whose callback, asked for when the customer was
/// reached, goes out with a text and a call in its seven days; dry-run gives
/// that account the callback on the day asked.
#[test]
fn the_massachusetts_invariant_without_its_proviso_is_refuted_by_a_requested_callback() {
    let dir = shipped_rules();
    let rules = dir.path().join("rules");
    let pack = rules.join("guardrails/reg_f.yaml");
    let text = std::fs::read_to_string(&pack).unwrap();
    let when = "        account.jurisdiction = MA\n";
    let start = text.find(when).expect("the Massachusetts invariant") + when.len();
    let end = start
        + text[start..]
            .find("        and count(c in account.contacts")
            .unwrap();
    assert!(text[start..end].contains("not(starts_with(action.event, \"callback-\")"));
    std::fs::write(&pack, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (message, as_of, account) = first_violation(&rules);
    assert!(
        message.contains("never call when account.jurisdiction = MA and count("),
        "{message}"
    );
    assert!(
        message.contains("through callback:call-on-the-day-asked"),
        "{message}"
    );
    let cx: serde_json::Value =
        serde_json::from_str(&message[message.find('{').unwrap()..]).unwrap();
    assert_eq!(cx["jurisdiction"], "MA");
    assert_eq!(cx["dispositions"][0]["status"], "contacted");
    assert_eq!(cx["dispositions"][0]["reason"], "call_back");
    let run = dry_run_counterexample(&rules, &as_of, &account);
    let actions = run["accounts"][0]["actions"].as_array().unwrap();
    let callback = actions
        .iter()
        .find(|a| a["type"] == "schedule_event" && a["event_type"] == "call")
        .unwrap_or_else(|| panic!("{run}"));
    assert!(callback["event"].as_str().unwrap().starts_with("callback-"));
    assert_eq!(
        callback["date"], cx["dispositions"][0]["callback_date"],
        "{run}"
    );
}

/// A rail narrowed so that an SMS escapes it (the tester's edit): the strategy
/// never proposes an SMS to a bankrupt customer, but a case opened before the
/// bankruptcy carries one pending, so lint refutes the invariant with that
/// account, on which dry-run lets the SMS go out while the shipped rail
/// cancels it.
#[test]
fn a_rail_that_lets_a_pending_sms_through_violates_its_invariant() {
    let dir = shipped_rules();
    let rules = dir.path().join("rules");
    edit(
        &rules.join("guardrails/stay_and_deceased.yaml"),
        "asks_for_payment: action.channel != null or",
        "asks_for_payment: action.channel = call or action.channel = letter or",
    );
    let (message, as_of, account) = first_violation(&rules);
    assert!(
        message.contains("never sms when account.bankruptcy"),
        "{message}"
    );
    let event = message.split('`').nth(7).unwrap();
    assert!(
        message.contains(&format!("pending event `{event}`, carried out that day")),
        "{message}"
    );
    let named = |rules: &Path| {
        dry_run_counterexample(rules, &as_of, &account)["accounts"][0]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["event"] == event)
            .map(|a| a["type"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(named(&rules), Vec::<String>::new(), "the SMS goes out");
    assert_eq!(
        named(&crate::common::root().join("rules")),
        ["cancel_event"],
        "the shipped rail cancels it"
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
        format!("{text}  - never: {{ when: \"action.date < account.breathing_space_start + 60 days\", action: [nominate_severance] }}\n"),
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
    assert_eq!(proven["message"], "14 of 15 guard-rail invariants proven");
}

/// Utility accounts in winter whose case reaches its severance day: a GB
/// customer on the Priority Services Register and an Illinois space-heating
/// one (case opened 15 Oct; as of 20 Dec both are in their winter window).
const WINTER_SEVERANCE: &str = r#"
- id: winter-gb-psr
  customer_class: residential
  jurisdiction: GB
  product: utility
  days_past_due: 60
  arrears: '600.00'
  balance: '1200.00'
  credit_limit: null
  risk_score: null
  bankruptcy: false
  deceased: false
  hardship: false
  contact_invalid: false
  forced: false
  budget_plan_active: false
  pay_plan: {active: false, scheduled_due: '0.00'}
  last_payment_date: '2026-10-08'
  promises: []
  dispositions: []
  case: {category: arrears, class: utility_res, template: utility_res_std, start_date: '2026-10-15'}
  priority_services_register: true
  service_agreements:
  - {id: winter-gb-psr-el, type: electric, debt_class: residential_energy, arrears: '600.00', life_support: false, sensitive_load: false, master_meter: false}
- id: winter-il-heating
  customer_class: residential
  jurisdiction: IL
  product: utility
  days_past_due: 60
  arrears: '600.00'
  balance: '1200.00'
  credit_limit: null
  risk_score: null
  bankruptcy: false
  deceased: false
  hardship: false
  contact_invalid: false
  forced: false
  budget_plan_active: false
  pay_plan: {active: false, scheduled_due: '0.00'}
  last_payment_date: '2026-10-08'
  promises: []
  dispositions: []
  case: {category: arrears, class: utility_res, template: utility_res_std, start_date: '2026-10-15'}
  service_agreements:
  - {id: winter-il-heating-gas, type: gas, debt_class: residential_energy, arrears: '600.00', life_support: false, sensitive_load: false, master_meter: false, space_heating: true}
"#;

/// Cuts the row `id` out of a rule file.
fn remove_row(path: &Path, id: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text
        .find(&format!("  - id: {id}\n"))
        .unwrap_or_else(|| panic!("{} has no row {id}", path.display()));
    let end = text[start + 1..]
        .find("  - id: ")
        .map_or(text.len(), |e| start + 1 + e);
    std::fs::write(path, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

/// Lint's diagnostics of `rules` in `dir` as JSON, and its `invariants-proven` message.
fn lint_invariants(dir: &Path) -> (Vec<serde_json::Value>, String) {
    let out = arrears_in(dir, &["lint", "rules", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let diagnostics = json["diagnostics"].as_array().unwrap().clone();
    let proven = diagnostics
        .iter()
        .find(|d| d["code"] == "invariants-proven")
        .map(|d| d["message"].as_str().unwrap().to_string())
        .unwrap_or_default();
    (diagnostics, proven)
}

/// Every invariant proven: the message reads `N of N`.
fn all_proven(message: &str) -> bool {
    let words: Vec<&str> = message.split(' ').collect();
    words.len() > 3 && words[1] == "of" && words[0] == words[2]
}

/// Ofgem's winter protection, the Illinois winter moratorium and the
/// bankruptcy stay on severance are guard rails, not only strategy rows: with
/// the strategy's rows deleted (an analyst's edit), lint still proves every
/// invariant and neither winter account is nominated for severance.
#[test]
fn the_winter_and_bankruptcy_severance_stops_hold_without_the_strategy_rows() {
    let dir = shipped_rules();
    let strategy = dir.path().join("rules/sa_severance.yaml");
    for row in [
        "bankruptcy-stay",
        "il-winter-moratorium",
        "gb-ofgem-winter-psr",
    ] {
        remove_row(&strategy, row);
    }
    // The strategy's own tests name the rows removed.
    std::fs::remove_file(dir.path().join("rules/tests/severance.yaml")).unwrap();
    let (diagnostics, proven) = lint_invariants(dir.path());
    assert!(all_proven(&proven), "{proven}");
    assert!(
        !diagnostics.iter().any(|d| d["severity"] == "error"),
        "{diagnostics:?}"
    );
    std::fs::write(dir.path().join("accounts.yaml"), WINTER_SEVERANCE).unwrap();
    let out = arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            "2026-12-20",
            "accounts.yaml",
        ],
    );
    let shown = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!shown.contains("nominate_severance sas="), "{shown}");
    for rule in [
        "guard:utility_disconnection/ofgem_winter_psr",
        "guard:utility_disconnection/illinois_winter_space_heating",
    ] {
        assert!(
            shown
                .lines()
                .any(|l| l.starts_with("    withhold action=nominate_severance ")
                    && l.ends_with(rule)),
            "{rule}: {shown}"
        );
    }
}

/// The bankruptcy stay's stop on severance is proven from the rail's row:
/// without it, its invariant is no longer proven.
#[test]
fn the_bankruptcy_severance_invariant_rests_on_the_rail() {
    let dir = shipped_rules();
    let (_, proven) = lint_invariants(dir.path());
    assert!(all_proven(&proven), "{proven}");
    remove_row(
        &dir.path().join("rules/guardrails/stay_and_deceased.yaml"),
        "bankruptcy_no_severance",
    );
    let (diagnostics, proven) = lint_invariants(dir.path());
    assert!(!all_proven(&proven), "{proven}");
    assert!(
        diagnostics.iter().any(|d| {
            matches!(
                d["code"].as_str(),
                Some("invariant-undecided" | "invariant-violated")
            ) && d["message"].as_str().is_some_and(|m| {
                m.contains("nominate_severance, start_severance when account.bankruptcy")
            })
        }),
        "{diagnostics:?}"
    );
}

/// A time zone that is not IANA's is the account's field at fault, named as
/// the field (not as a table) by `dry-run` and in the batch's reject.
#[test]
fn a_time_zone_that_is_not_iana_is_named_as_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = root().join("rules");
    let rules = rules.to_str().unwrap();
    let account = format!("{CARD_7DPD}  time_zone: America/Chicgo\n");
    std::fs::write(d.join("accounts.yaml"), &account).unwrap();
    let out = arrears_in(
        d,
        &[
            "dry-run",
            "--rules",
            rules,
            "--as-of",
            "2026-11-22",
            "accounts.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("  error: `account.time_zone`: `America/Chicgo` is not an IANA time zone (such as `America/Los_Angeles`) (accounts.yaml:23:14)\n"),
        "{}",
        stdout(&out)
    );
    let json = &serde_saphyr::from_str::<Vec<serde_json::Value>>(&account).unwrap()[0];
    std::fs::write(d.join("accounts.jsonl"), format!("{json}\n")).unwrap();
    let out = arrears_in(
        d,
        &[
            "batch",
            "--rules",
            rules,
            "--as-of",
            "2026-11-22",
            "--out",
            "actions.jsonl",
            "--rejects",
            "rejects.jsonl",
            "accounts.jsonl",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let reject: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("rejects.jsonl")).unwrap()).unwrap();
    assert_eq!(reject["field"], "account.time_zone");
    assert_eq!(
        reject["reason"],
        "evaluation failed: `account.time_zone`: `America/Chicgo` is not an IANA time zone (such as `America/Los_Angeles`)"
    );
}

/// A case event's or contact's `time` is the schema's `time`: `HH:MM`, or the
/// account is refused naming the field and the form, so no call is booked at
/// a time the window check cannot read (`7:00` would skip it).
#[test]
fn a_case_time_that_is_not_hh_mm_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rules = root().join("rules");
    let rules = rules.to_str().unwrap();
    let case = |time: &str| {
        format!(
            "{CARD_7DPD}  case:\n    category: arrears\n    class: card_early\n    template: card_early_std\n    start_date: 2026-11-17\n    events:\n      - {{ id: first-call, type: call, date: 2026-11-22, time: \"{time}\", status: pending }}\n"
        )
    };
    for (time, valid) in [
        ("7:00", false),
        ("9:30 pm", false),
        ("25:00", false),
        ("07:00", true),
    ] {
        let account = case(time);
        std::fs::write(d.join("accounts.yaml"), &account).unwrap();
        let out = arrears_in(
            d,
            &[
                "dry-run",
                "--rules",
                rules,
                "--as-of",
                "2026-11-22",
                "accounts.yaml",
            ],
        );
        let text = stdout(&out);
        let error = format!("  error: `account.case.events[0].time`: expected a time of day HH:MM (00:00 to 23:59), found `{time}` (accounts.yaml:29:");
        assert_eq!(text.contains(&error), !valid, "{time}: {text}");
        assert_eq!(
            out.status.code(),
            Some(if valid { 0 } else { 1 }),
            "{time}: {text}"
        );
        let json = &serde_saphyr::from_str::<Vec<serde_json::Value>>(&account).unwrap()[0];
        std::fs::write(d.join("accounts.jsonl"), format!("{json}\n")).unwrap();
        let out = arrears_in(
            d,
            &[
                "batch",
                "--rules",
                rules,
                "--as-of",
                "2026-11-22",
                "--out",
                "a.jsonl",
                "--rejects",
                "r.jsonl",
                "accounts.jsonl",
            ],
        );
        let rejects = std::fs::read_to_string(d.join("r.jsonl")).unwrap();
        assert_eq!(
            rejects.contains("\"field\":\"account.case.events[0].time\""),
            !valid,
            "{time}: {rejects}"
        );
        assert_eq!(
            out.status.code(),
            Some(if valid { 0 } else { 1 }),
            "{time}: {}",
            stderr(&out)
        );
    }
}

/// An invariant that only a later rule set breaks (the bankruptcy stay row in
/// force until 2027-12-31): lint dates its counterexample inside that set's
/// period, the rules test's account moved there with its dates (no test is
/// dated in 2028), not on the test's own day, when the row still stops the
/// call. `--counterexamples` writes the account, and its `Run it` line,
/// dry-run, shows the call.
#[test]
fn an_invariant_broken_from_a_later_day_is_shown_on_a_day_of_those_rules() {
    let dir = shipped_rules();
    edit(
        &dir.path().join("rules/guardrails/stay_and_deceased.yaml"),
        "    then: { effect: cancel, reason: '\"bankruptcy automatic stay\"' }\n",
        "    then: { effect: cancel, reason: '\"bankruptcy automatic stay\"' }\n    effective: { until: 2027-12-31 }\n",
    );
    let (diagnostics, _) = lint_invariants(dir.path());
    let violated: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d["code"] == "invariant-violated")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(violated.len(), 1, "{diagnostics:?}");
    assert!(
        violated[0].contains("gets `call` on 2028-01-01 (a rules test's account of 2026-11-19, its dates moved with it into these rules' period) through")
            && violated[0].ends_with("(rules in force from 2028-01-01)"),
        "{}",
        violated[0]
    );
    let out = arrears_in(
        dir.path(),
        &[
            "lint",
            "rules",
            "--as-of",
            "2028-02-01",
            "--counterexamples",
            "cx",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let file = dir
        .path()
        .join("cx/stay_and_deceased--call--invariant-violated.yaml");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{e}: {:?}", std::fs::read_dir(dir.path().join("cx"))));
    assert_snapshot!("invariant_counterexample_file", &text);
    let run = text
        .lines()
        .find_map(|l| l.strip_prefix("# Run it: arrears "))
        .unwrap();
    let out = arrears_in(dir.path(), &run.split(' ').collect::<Vec<_>>());
    let shown = stdout(&out);
    assert!(
        shown.contains(" call event=callback-2027-12-31 ") && shown.contains("as of 2028-01-01"),
        "{shown}{}",
        stderr(&out)
    );
}

/// A medical certificate that runs out on the first day of the Illinois
/// winter moratorium (a space-heating household): the date passes through both
/// protections, and the postponement names both, in order, so the timeline
/// explains why the shut-off waits until April.
#[test]
fn a_postponement_through_two_protections_names_both() {
    let shipped = std::fs::read_to_string(
        root().join("samples/timelines/utility_severance_medical_certificate.yaml"),
    )
    .unwrap();
    let timeline = shipped
        .replace("space_heating: false", "space_heating: true")
        .replace(
            "medical_certificate_until\": 2026-11-25",
            "medical_certificate_until\": 2026-12-01",
        );
    assert_ne!(timeline, shipped);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("timeline.yaml"), timeline).unwrap();
    let rules = root().join("rules");
    let out = arrears_in(
        dir.path(),
        &[
            "simulate",
            "--rules",
            rules.to_str().unwrap(),
            "timeline.yaml",
        ],
    );
    let text = stdout(&out);
    let postponed: Vec<&str> = text.lines().filter(|l| l.contains("postpone ")).collect();
    assert_eq!(
        postponed,
        ["    postpone event=start-severance from=2026-11-19 to=2027-04-01 reason=\"medical certificate, then Illinois winter moratorium (space heating)\"  <- guard:utility_disconnection/medical_certificate"],
        "{text}{}",
        stderr(&out)
    );
}
