//! The case system's contract (docs/batch.md, "What the case system does with
//! the night's actions"): its table has a row for every action type, and what
//! the rows say holds when nights of generated accounts are applied with
//! `policy::case::apply`, as a case system built from the docs would.

use std::collections::BTreeSet;

use arrears::data::generate::{json_line, Generator};
use arrears::policy::case::{
    apply, contact_made, execute_due, follow_up_event_id, todo_event_id, Case, EventStatus,
    CONTACTS_FIELD, PLAN_OFFER_EVENT_ID,
};
use arrears::policy::promise::Status;
use arrears::policy::{run_needed, Action, ActionKind};
use arrears::testing::expect::ACTION_FIELDS;
use chrono::NaiveDate;

use crate::common::root;

const SECTION: &str = "### What the case system does with the night's actions";

/// The action types the contract's table has rows for (`nominate_severance`,
/// `exclude_severance` share one).
fn documented_kinds() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(root().join("docs/batch.md")).unwrap();
    let start = doc
        .find(SECTION)
        .expect("docs/batch.md has the contract section");
    let section = &doc[start + SECTION.len()..];
    let section = &section[..section.find("\n#").unwrap_or(section.len())];
    let mut kinds = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap();
        for name in first.split(',') {
            let name = name.trim().trim_matches('`');
            assert!(kinds.insert(name.to_string()), "`{name}` has two rows");
        }
    }
    kinds
}

#[test]
fn the_contract_has_a_row_for_every_action_type() {
    // ACTION_FIELDS is every ActionKind (a unit test of `testing::expect` holds it so).
    let kinds: BTreeSet<String> = ACTION_FIELDS.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(documented_kinds(), kinds);
}

fn case_of(account: &serde_json::Value) -> Option<Case> {
    match &account["case"] {
        serde_json::Value::Null => None,
        case => Some(serde_json::from_value(case.clone()).expect("a generated case reads")),
    }
}

/// What the table says of one account's night, checked on the case it leaves.
fn check_night(actions: &[Action], before: Option<&Case>, after: Option<&Case>, as_of: NaiveDate) {
    let kind_at = |i: usize| &actions[i].kind;
    for (i, action) in actions.iter().enumerate() {
        let event = |id: &str| after.and_then(|c| c.events.iter().find(|e| e.id == id));
        match &action.kind {
            // A re-treatment or close proposes no event before its cancel.
            ActionKind::CancelPendingEvents => {
                assert!(
                    !(0..i).any(|j| matches!(kind_at(j), ActionKind::ScheduleEvent { .. })),
                    "an event proposed before cancel_pending_events: {actions:?}"
                );
            }
            ActionKind::FollowUp {
                promise,
                follow_up,
                event: id,
                ..
            } if after.is_some() => {
                // The two forms the table gives: a decided promise's, a pending one's.
                let documented = [Status::Kept, Status::Pending]
                    .map(|status| follow_up_event_id(promise, status, follow_up));
                assert!(documented.contains(id), "`{id}` is no documented form");
                assert!(event(id).is_some(), "`{id}` recorded: {after:?}");
            }
            ActionKind::CreateTodo { .. } => {
                let id = todo_event_id(&action.rules);
                let todo = event(&id).expect("the to-do's event");
                assert_eq!(
                    (todo.event_type.as_str(), todo.date),
                    ("create_todo", as_of)
                );
            }
            ActionKind::PromiseOutcome {
                record: Some(record),
                ..
            } => {
                let held = event(record).expect("the outcome recorded, its id the record");
                assert_eq!(
                    (held.event_type.as_str(), held.date, held.status),
                    ("custom", as_of, EventStatus::Done)
                );
            }
            ActionKind::OfferPaymentPlan { .. } => {
                let offers: Vec<_> = after
                    .unwrap()
                    .events
                    .iter()
                    .filter(|e| e.id == PLAN_OFFER_EVENT_ID)
                    .collect();
                assert_eq!(offers.len(), 1);
                assert_eq!(
                    (offers[0].date, offers[0].status),
                    (as_of, EventStatus::Done)
                );
            }
            ActionKind::RetreatCase { category, .. } => {
                let case = after.unwrap();
                assert_eq!(
                    (&case.category, case.start_date),
                    (&category.to_string(), as_of)
                );
                // Every event pending before the night is cancelled, or booked again.
                for e in before.unwrap().events.iter() {
                    if e.status == EventStatus::Pending {
                        assert!(
                            case.events
                                .iter()
                                .any(|a| a.id == e.id && a.status != EventStatus::Pending)
                                || (i..actions.len()).any(|j| matches!(kind_at(j),
                                    ActionKind::ScheduleEvent { event, .. } if **event == *e.id)),
                            "`{}` still pending after the re-treatment",
                            e.id
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

/// Three nights of 3,000 generated accounts, applied, carried out and read
/// back as the next night's snapshot: every row of the table the nights use
/// holds, a night applied twice to its state gives the same case (on top of
/// itself too, but for a re-treatment), and a follow-up is given once.
#[test]
fn nights_applied_as_the_contract_says_keep_their_promises() {
    let loaded = arrears::policy::load(&root().join("rules")).expect("rules load");
    let policy = loaded.policy.as_ref().expect("shipped policy");
    let schema = policy.plan.schema();
    let first = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let mut generator = Generator::new(11, first);
    let mut accounts: Vec<serde_json::Value> = (0..3000)
        .map(|_| serde_json::from_str(&json_line(&generator.account(), None)).expect("json"))
        .collect();
    let documented = documented_kinds();
    let mut seen = BTreeSet::new();
    let mut follow_ups = BTreeSet::new();
    for night in 0..3 {
        let as_of = first + chrono::Days::new(night);
        for account in accounts.iter_mut() {
            let decoded =
                arrears::data::snapshot::decode_account(schema, account).expect("decodes");
            let Ok(run) = run_needed(policy, &decoded, as_of) else {
                continue;
            };
            let before = case_of(account);
            let after = apply(before.clone(), &run.actions, as_of);
            check_night(&run.actions, before.as_ref(), after.as_ref(), as_of);
            assert_eq!(
                apply(before.clone(), &run.actions, as_of),
                after,
                "deterministic"
            );
            let retreats = run
                .actions
                .iter()
                .any(|a| matches!(a.kind, ActionKind::RetreatCase { .. }));
            if !retreats {
                assert_eq!(
                    apply(after.clone(), &run.actions, as_of),
                    after,
                    "applied again on top of itself: {:?}",
                    run.actions
                );
            }
            for action in &run.actions {
                let name = action.kind.name();
                assert!(documented.contains(name), "`{name}` has no row");
                seen.insert(name);
                if let ActionKind::FollowUp {
                    promise, follow_up, ..
                } = &action.kind
                {
                    let id = account["id"].to_string();
                    assert!(
                        follow_ups.insert((id, promise.clone(), follow_up.clone())),
                        "{} got `{promise}`'s {} follow-up again on {as_of}",
                        account["id"],
                        follow_up
                    );
                }
            }
            // The case system's day: due events carried out, contacts recorded.
            let mut after = after;
            if let Some(case) = after.as_mut() {
                let contacts = account[CONTACTS_FIELD].as_array_mut();
                let mut made: Vec<serde_json::Value> = execute_due(case, as_of)
                    .iter()
                    .filter_map(|e| contact_made(e, as_of))
                    .map(|c| serde_json::to_value(c).unwrap())
                    .collect();
                match contacts {
                    Some(list) => list.append(&mut made),
                    None => account[CONTACTS_FIELD] = made.into(),
                }
            }
            account["case"] = serde_json::to_value(&after).unwrap();
        }
    }
    // The nights exercise the rows that matter: follow-ups, re-treatments, to-dos, records.
    for kind in [
        "open_case",
        "close_case",
        "retreat_case",
        "cancel_pending_events",
        "create_todo",
        "schedule_event",
        "promise_outcome",
        "follow_up",
        "offer_payment_plan",
        "withhold",
        "postpone",
    ] {
        assert!(seen.contains(kind), "no `{kind}` in three nights: {seen:?}");
    }
}

/// Companions exported on a later night than `--as-of` hold contacts and done
/// events dated after it: the summary counts the accounts and warns, with its
/// own code; the same extract run on its own night gives no warning.
#[test]
fn history_dated_after_as_of_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("x.csv");
    let generated = crate::common::arrears(&[
        "generate",
        "--accounts",
        "300",
        "--seed",
        "11",
        "--as-of",
        "2026-11-25",
        extract.to_str().unwrap(),
    ]);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        crate::common::stderr(&generated)
    );
    let summary = |as_of: &str| {
        let out = crate::common::batch_on(as_of, &extract, dir.path(), &[]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            crate::common::stderr(&out)
        );
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("summary.json")).unwrap(),
        )
        .unwrap();
        (json, crate::common::stderr(&out))
    };
    let (json, stderr) = summary("2026-11-25");
    assert!(json.get("history_after_as_of").is_none(), "{json}");
    assert!(!stderr.contains("history-after-as-of"), "{stderr}");

    let (json, stderr) = summary("2026-11-23");
    let late = &json["history_after_as_of"];
    let accounts = late["accounts"].as_u64().unwrap();
    assert!(accounts > 0 && accounts <= 300, "{late}");
    assert!(late["latest"].as_str().unwrap() > "2026-11-23", "{late}");
    assert_eq!(
        late["examples"].as_array().unwrap().len(),
        accounts.min(5) as usize
    );
    let line = stderr
        .lines()
        .find(|l| l.starts_with("warning: history-after-as-of: "))
        .unwrap_or_else(|| panic!("no warning: {stderr}"));
    assert!(
        line.contains(&format!("{accounts} accounts hold a contact or a done case event dated after --as-of 2026-11-23")),
        "{line}"
    );
}
