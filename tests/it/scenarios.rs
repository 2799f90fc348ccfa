//! The shipped policy over the shipped scenarios: every scenario's actions
//! match `samples/scenarios/expected.yaml`, and invariants hold for every
//! account, including perturbed ones.

use std::path::Path;

use arrears::data::snapshot::{account_id, decode_account};
use arrears::policy::{self, Policy};
use arrears::testing::{discover, run_file, CaseOutcome, Coverage, Subject};
use proptest::prelude::*;
use serde_json::Value as Json;

use crate::common;

use common::root;

pub(crate) fn shipped_policy() -> Policy {
    let loaded = policy::load(&root().join("rules")).expect("rules/ is readable");
    let errors: Vec<String> = loaded.diagnostics.iter().map(|d| d.render()).collect();
    assert!(
        errors.is_empty(),
        "the shipped rules lint clean:\n{}",
        errors.join("\n")
    );
    loaded.policy.expect("the shipped rules have a policy")
}

pub(crate) fn accounts(path: &Path) -> Vec<Json> {
    arrears::data::accounts::read_accounts(path)
        .expect("accounts file reads")
        .into_iter()
        .map(|r| r.json.expect("account parses"))
        .collect()
}

pub(crate) fn actions(policy: &Policy, account: &Json, as_of: chrono::NaiveDate) -> Vec<Json> {
    let decoded = decode_account(&policy.plan.program.schema, account).expect("account decodes");
    let run = policy::run(policy, &decoded, as_of, false).expect("account evaluates");
    run.actions
        .iter()
        .map(|a| serde_json::to_value(a).expect("action serialises"))
        .collect()
}

#[test]
fn every_scenario_produces_its_expected_actions() {
    let policy = shipped_policy();
    let path = root().join("samples/scenarios/expected.yaml");
    let results =
        run_file(&Subject::Policy(&policy), &path, false).expect("scenario document is usable");
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            CaseOutcome::Pass => None,
            CaseOutcome::Fail(problems) => {
                Some(format!("{}:\n  {}", r.name, problems.join("\n  ")))
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing scenario(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every scenario account has a case: nothing in the accounts file goes unchecked.
    let schema = &policy.plan.program.schema;
    for account in accounts(&root().join("samples/scenarios/accounts.yaml")) {
        let id = account_id(schema, &account).unwrap_or_default();
        assert!(
            results.iter().any(|r| r.name == id),
            "scenario account `{id}` has no case"
        );
    }
}

/// The shipped rules come with their own tests; with the scenarios they pass and fire every row.
#[test]
fn shipped_tests_pass_with_full_row_coverage() {
    let policy = shipped_policy();
    let files = discover(&[root().join("rules"), root().join("samples/scenarios")])
        .expect("test documents found");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(root().join("rules/tests"))),
        "rules/tests has test documents"
    );
    let mut results = Vec::new();
    for file in &files {
        results.extend(
            run_file(&Subject::Policy(&policy), file, false).expect("usable test document"),
        );
    }
    let failing: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            CaseOutcome::Pass => None,
            CaseOutcome::Fail(p) => Some(format!("{} › {}: {}", r.suite, r.name, p.join("; "))),
        })
        .collect();
    assert!(
        failing.is_empty(),
        "{} failing case(s):\n{}",
        failing.len(),
        failing.join("\n")
    );
    let coverage = Coverage::compute(&policy.plan, &results);
    let never: Vec<String> = coverage
        .tables
        .iter()
        .flat_map(|t| t.never.iter().map(move |r| format!("{}:{r}", t.table)))
        .collect();
    assert!(never.is_empty(), "rows no case fires: {}", never.join(", "));
}

#[test]
fn scenarios_expect_every_action_type() {
    let text =
        std::fs::read_to_string(root().join("samples/scenarios/expected.yaml")).expect("readable");
    for wanted in [
        "open_case",
        "close_case",
        "cancel_pending_events",
        "remove_sa",
        "create_todo",
        "assign_class",
        "assign_arm",
        "schedule_event",
        "promise_outcome",
        "follow_up",
        "offer_payment_plan",
        "nominate_severance",
        "exclude_severance",
    ] {
        assert!(
            text.contains(&format!("type: {wanted}")),
            "no scenario expects a `{wanted}` action"
        );
    }
}

/// Sets a field of a JSON account if it exists.
fn set(account: &mut Json, field: &str, value: Json) {
    if let Some(slot) = account.get_mut(field) {
        *slot = value;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// No action without the rules that caused it; the same input gives the same actions.
    #[test]
    fn every_action_names_its_rules_and_runs_are_deterministic(
        pick in 0usize..1000,
        dpd in 0i64..200,
        arrears_cents in 0i64..500_000,
        bankruptcy in any::<bool>(),
        forced in any::<bool>(),
    ) {
        let policy = shipped_policy();
        let mut all = accounts(&root().join("samples/scenarios/accounts.yaml"));
        all.extend(accounts(&root().join("samples/accounts.yaml")));
        let mut account = all[pick % all.len()].clone();
        set(&mut account, "days_past_due", Json::from(dpd));
        set(&mut account, "arrears", Json::from(format!("{}.{:02}", arrears_cents / 100, arrears_cents % 100)));
        set(&mut account, "bankruptcy", Json::from(bankruptcy));
        set(&mut account, "forced", Json::from(forced));
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date");
        let first = actions(&policy, &account, as_of);
        for action in &first {
            let rules = action.get("rules").and_then(|r| r.as_array()).cloned().unwrap_or_default();
            prop_assert!(!rules.is_empty(), "action without rules: {}", action);
            prop_assert!(rules.iter().all(|r| r.as_str().is_some_and(|s| s.contains(':'))), "malformed rule ref in {}", action);
        }
        prop_assert_eq!(first, actions(&policy, &account, as_of));
    }
}
