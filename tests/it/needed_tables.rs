//! `policy::run_needed` (the batch's path: only the tables the pipeline reads
//! for the account) gives exactly the actions of `policy::run` (every table
//! evaluated first), on generated accounts of every kind and on the sample and
//! scenario accounts, at several evaluation dates.

use crate::common;

use arrears::data::generate::{json_line, Generator};
use arrears::policy::{run, run_needed, ActionKind};
use chrono::NaiveDate;
use common::{copy_dir, root};

#[test]
fn needed_tables_give_the_same_actions_as_all_tables() {
    let loaded = arrears::policy::load(&root().join("rules")).expect("rules load");
    let policy = loaded.policy.as_ref().expect("shipped policy");
    let schema = policy.plan.schema();
    let mut accounts: Vec<serde_json::Value> =
        ["samples/accounts.yaml", "samples/scenarios/accounts.yaml"]
            .iter()
            .flat_map(|f| arrears::data::accounts::read_accounts(&root().join(f)).unwrap())
            .filter_map(|r| r.json.ok())
            .collect();
    let samples = accounts.len();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let mut generator = Generator::new(11, as_of);
    accounts.extend(
        (0..20_000)
            .map(|_| serde_json::from_str(&json_line(&generator.account(), None)).expect("json")),
    );
    let (mut compared, mut with_actions, mut fewer_decisions) = (0, 0, 0);
    for date in ["2026-01-15", "2026-07-01", "2026-11-22"] {
        let as_of: NaiveDate = date.parse().unwrap();
        for (i, json) in accounts.iter().enumerate() {
            let account = arrears::data::snapshot::decode_account(schema, json).expect("decodes");
            let all = run(policy, &account, as_of, false);
            let needed = run_needed(policy, &account, as_of);
            match (&all, &needed) {
                (Ok(all), Ok(needed)) => {
                    assert_eq!(
                        all.actions, needed.actions,
                        "account #{i} ({} samples first) as of {date}",
                        samples
                    );
                    with_actions += usize::from(!all.actions.is_empty());
                    fewer_decisions += usize::from(
                        needed.evaluation.decisions.len() < all.evaluation.decisions.len(),
                    );
                }
                // An error in a table this account's actions need fails both ways.
                (Err(_), Err(_)) => {}
                // An error in a table only `run` evaluates: the one allowed difference.
                (Err(_), Ok(_)) => {}
                (Ok(_), Err(e)) => panic!("account #{i} as of {date}: only run_needed fails: {e}"),
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 3 * accounts.len());
    // The comparison means something: both kinds of account were seen.
    assert!(with_actions > 10_000, "{with_actions}");
    assert!(fewer_decisions > 10_000, "{fewer_decisions}");
}

/// The promise follow-up table takes the promise as a param and is evaluated by
/// the pipeline itself; it may still read other tables' outputs, which are
/// evaluated for it on demand.
#[test]
fn the_follow_up_table_reads_other_tables() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), dir.path());
    let file = dir.path().join("promise_follow_up.yaml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replacen(
            "  ptp_dispositions:",
            "  bucket: dpd_bucket.bucket\n  ptp_dispositions:",
            1,
        )
        .replacen(
            "rows:\n",
            "rows:\n  - id: probe\n    when: { status: broken, bucket: \"current, b1_29, b30_59, b60_89, b90_119, b120_plus\" }\n    then: { follow_up: call, detail: '\"bucket seen\"', date: \"null\" }\n",
            1,
        );
    std::fs::write(&file, text).unwrap();
    let loaded = arrears::policy::load(dir.path()).expect("rules load");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let policy = loaded.policy.as_ref().expect("policy");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let mut generator = Generator::new(5, as_of);
    let mut probed = 0;
    for _ in 0..5_000 {
        let json = serde_json::from_str(&json_line(&generator.account(), None)).unwrap();
        let account = arrears::data::snapshot::decode_account(policy.plan.schema(), &json).unwrap();
        for actions in [
            run(policy, &account, as_of, false).unwrap().actions,
            run_needed(policy, &account, as_of).unwrap().actions,
        ] {
            for a in &actions {
                if let ActionKind::FollowUp {
                    follow_up, detail, ..
                } = &a.kind
                {
                    if a.rules.len() == 1 && &*a.rules[0] == "promise_follow_up:probe" {
                        probed += 1;
                        assert_eq!(follow_up, "call");
                        assert_eq!(detail.as_deref(), Some("bucket seen"));
                    }
                }
            }
        }
    }
    assert!(probed > 10, "{probed}");
}
