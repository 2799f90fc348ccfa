//! Evaluation is a pure function of (plan, account, as_of): evaluating twice,
//! or with a plan loaded a second time, gives identical decisions and traces,
//! whatever the evaluation date.

use std::sync::LazyLock;

use arrears::eval::evaluate;
use arrears::policy::Loaded;
use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use crate::common;

use common::root;

fn load() -> Loaded {
    let loaded = arrears::policy::load(&root().join("rules")).expect("rules load");
    assert!(!loaded.has_errors());
    loaded
}

static FIRST: LazyLock<Loaded> = LazyLock::new(load);
static SECOND: LazyLock<Loaded> = LazyLock::new(load);

static ACCOUNTS: LazyLock<Vec<serde_json::Value>> = LazyLock::new(|| {
    ["samples/accounts.yaml", "samples/scenarios/accounts.yaml"]
        .iter()
        .flat_map(|f| arrears::data::accounts::read_accounts(&root().join(f)).unwrap())
        .filter_map(|r| r.json.ok())
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn same_plan_account_and_date_give_identical_decisions(
        pick in 0usize..10_000,
        offset in 0u64..3_000,
        trace in any::<bool>(),
    ) {
        let as_of = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset);
        let json = &ACCOUNTS[pick % ACCOUNTS.len()];
        let policy = FIRST.policy.as_ref().expect("policy");
        let plan = &policy.plan;
        let again = &SECOND.policy.as_ref().expect("policy").plan;
        let Ok(account) = arrears::data::snapshot::decode_account(plan.schema(), json) else {
            return Ok(());
        };
        let a = evaluate(plan, &account, as_of, trace);
        let b = evaluate(plan, &account, as_of, trace);
        let c = evaluate(again, &account, as_of, trace);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
        let x = arrears::policy::run(policy, &account, as_of, trace);
        let y = arrears::policy::run(policy, &account, as_of, trace);
        prop_assert_eq!(format!("{x:?}"), format!("{y:?}"));
    }
}
