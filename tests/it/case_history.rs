//! The nightly CSV batch sees the case's history: the case system exports
//! each open case's events (`{stem}.case_events.csv`) and each account's
//! contacts, with or without an open case (`{stem}.contacts.csv`), so what
//! one night booked is not booked again the next, and call limits count the
//! calls already made, those of a case since closed too. The test plays the
//! case system: it applies each night's actions to the case state
//! (`policy::case::apply`, `execute_due`), records the contacts made, and
//! exports both as the next night's companions.

use std::path::Path;

use chrono::NaiveDate;
use serde_json::{json, Value as Json};

use arrears::policy::case::{self, Case, Channel, Contact, ContactOutcome};

use crate::batch::{json_lines, small_extract, summary};
use crate::common::{self, stderr};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// The account: a Massachusetts card in arrears whose customer phoned in on
/// 19 Nov (no outbound contact) and asked to be called back on Monday 23 Nov.
fn account(case: Option<&Case>, contacts: &[Contact]) -> Json {
    let mut account = json!({
        "id": "MA1", "customer_class": "residential", "jurisdiction": "MA", "product": "card",
        "days_past_due": 7, "arrears": "212.00", "balance": "6480.12", "credit_limit": "8000.00",
        "risk_score": 701, "bankruptcy": false, "deceased": false, "hardship": false,
        "contact_invalid": false, "forced": false, "budget_plan_active": false,
        "pay_plan": {"active": false, "scheduled_due": "0.00"},
        "last_payment_date": "2026-10-08", "service_agreements": [], "promises": [],
        "dispositions": [{"date": "2026-11-19", "status": "contacted", "reason": "call_back",
                          "resolution": "none", "callback_date": "2026-11-23"}],
    });
    if let Some(case) = case {
        account["case"] = serde_json::to_value(case).unwrap();
    }
    account["contacts"] = serde_json::to_value(contacts).unwrap();
    account
}

/// The account as the nightly extract: its row (case columns from `case`),
/// its disposition and contacts, and the case's events and removed SAs.
fn export(dir: &Path, case: Option<&Case>, contacts: &[Contact]) -> std::path::PathBuf {
    let columns = match case {
        Some(c) => format!(
            "{},{},{},,{}",
            c.category,
            c.class.as_deref().unwrap_or_default(),
            c.template.as_deref().unwrap_or_default(),
            c.start_date
        ),
        None => ",,,,".into(),
    };
    let row = format!(
        "residential,MA,card,7,212.00,6480.12,8000.00,701,false,false,false,false,false,,false,false,0.00,2026-10-08,{columns}"
    );
    let input = small_extract(dir, &[("MA1", row)]);
    std::fs::write(
        dir.join("small.dispositions.csv"),
        "ACCT_NO,DISP_DATE,STATUS,REASON,RESOLUTION,CALLBACK_DATE\n\
         MA1,2026-11-19,contacted,call_back,none,2026-11-23\n",
    )
    .unwrap();
    let mut rows = "ACCT_NO,CONTACT_DATE,CONTACT_TIME,CHANNEL,OUTCOME\n".to_string();
    for c in contacts {
        rows.push_str(&format!(
            "MA1,{},{},{},{}\n",
            c.date,
            c.time.as_deref().unwrap_or_default(),
            c.channel.name(),
            c.outcome.name()
        ));
    }
    std::fs::write(dir.join("small.contacts.csv"), rows).unwrap();
    let Some(case) = case else {
        return input;
    };
    let mut events = "ACCT_NO,EVENT_ID,EVENT_TYPE,EVENT_DATE,EVENT_TIME,EVENT_STATUS\n".to_string();
    for e in &case.events {
        let status = serde_json::to_value(e.status).unwrap();
        events.push_str(&format!(
            "MA1,{},{},{},{},{}\n",
            e.id,
            e.event_type,
            e.date,
            e.time.as_deref().unwrap_or_default(),
            status.as_str().unwrap()
        ));
    }
    std::fs::write(dir.join("small.case_events.csv"), events).unwrap();
    let mut removed = "ACCT_NO,SA_ID\n".to_string();
    for sa in &case.removed_sas {
        removed.push_str(&format!("MA1,{sa}\n"));
    }
    std::fs::write(dir.join("small.removed_sas.csv"), removed).unwrap();
    input
}

/// One night: the batch over the exported extract, and the case state after
/// it as the case system keeps it: the run's actions applied (the policy's
/// own actions for the account, checked equal to what the batch wrote), then
/// the day's due events carried out, their contacts added to `contacts`.
fn night(
    dir: &Path,
    as_of: &str,
    case: Option<Case>,
    contacts: &mut Vec<Contact>,
) -> (Vec<Json>, Option<Case>) {
    let night_dir = dir.join(as_of);
    std::fs::create_dir_all(&night_dir).unwrap();
    let input = export(&night_dir, case.as_ref(), contacts);
    let o = common::batch_on(as_of, &input, &night_dir, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = json_lines(&night_dir.join("actions.jsonl"));

    let rules = arrears::policy::Rulebook::load(&common::root().join("rules")).unwrap();
    let policy = rules.on(day(as_of)).policy.as_ref().unwrap();
    let decoded = arrears::data::snapshot::decode_account(
        policy.plan.schema(),
        &account(case.as_ref(), contacts),
    )
    .unwrap();
    let run = arrears::policy::run_needed(policy, &decoded, day(as_of)).unwrap();
    let made: Vec<Json> = run
        .actions
        .iter()
        .map(|a| serde_json::to_value(a).unwrap())
        .collect();
    let without_place: Vec<Json> = written
        .iter()
        .map(|line| {
            let mut line = line.clone();
            let fields = line.as_object_mut().unwrap();
            fields.remove("account");
            fields.remove("row");
            line
        })
        .collect();
    assert_eq!(
        without_place, made,
        "the batch read the case as the policy sees it"
    );

    let mut case = case::apply(case, &run.actions, day(as_of));
    if let Some(case) = &mut case {
        carry_out(case, day(as_of), contacts);
    }
    (written, case)
}

/// What the case system does on `on`: the due events carried out, each
/// contact among them recorded in the account's `contacts`.
fn carry_out(case: &mut Case, on: NaiveDate, contacts: &mut Vec<Contact>) {
    for event in case::execute_due(case, on) {
        contacts.extend(case::contact_made(&event, on));
    }
}

/// `arrears batch` of the shipped rules on `as_of`, its outputs in `dir`.
fn kinds(actions: &[Json]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match a["event"].as_str() {
            Some(event) => format!("{} {event} {}", a["type"], a["date"]),
            None => a["type"].to_string(),
        })
        .collect()
}

/// Night 0 (Thu 19 Nov) opens the case. Night 1 (Mon 23 Nov) books the
/// callback the customer asked for, which the case system makes that day,
/// as it sends the reminder SMS due that day: in Massachusetts a text counts
/// with calls (940 CMR 7.04(1)(f)), so the template's first call, due the
/// 24th, would be the third communication in seven days and is postponed
/// until the 23rd's leave them (Thursday the 26th is Thanksgiving, then a
/// weekend: Monday 30 Nov). An agent calls again that evening, unanswered.
/// Night 2 (Tue 24 Nov) reads the callback as done in the events companion
/// and does not book it again, and the contacts companion's calls and text
/// keep the first call where it waits.
#[test]
fn a_callback_is_booked_once_and_a_third_call_in_seven_days_waits_across_nights() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut contacts = Vec::new();
    let (opened, case) = night(d, "2026-11-19", None, &mut contacts);
    let mut case = case.expect("night 0 opens the case");
    assert!(
        kinds(&opened).contains(&r#""schedule_event" first-call "2026-11-24""#.to_string()),
        "{:?}",
        kinds(&opened)
    );
    assert_eq!(case.template.as_deref(), Some("card_early_std"));
    for date in ["2026-11-20", "2026-11-21", "2026-11-22"] {
        carry_out(&mut case, day(date), &mut contacts);
    }

    let (night_1, case) = night(d, "2026-11-23", Some(case), &mut contacts);
    let booked = r#""schedule_event" callback-2026-11-19 "2026-11-23""#.to_string();
    assert!(kinds(&night_1).contains(&booked), "{:?}", kinds(&night_1));
    let postponed: Vec<&Json> = night_1.iter().filter(|a| a["type"] == "postpone").collect();
    assert_eq!(postponed.len(), 1, "{night_1:?}");
    assert_eq!(postponed[0]["event"], "first-call");
    assert_eq!(postponed[0]["from"], "2026-11-24");
    assert_eq!(postponed[0]["to"], "2026-11-30");
    assert_eq!(
        postponed[0]["rules"],
        json!(["guard:reg_f/massachusetts_two_in_seven"])
    );
    let s: Json =
        serde_json::from_str(&std::fs::read_to_string(d.join("2026-11-23/summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        s["guard_rails"]["guard:reg_f/massachusetts_two_in_seven"]["postponed"],
        1
    );
    let mut case = case.unwrap();
    let evening_call = Contact {
        date: day("2026-11-23"),
        time: Some("17:40".into()),
        channel: Channel::Call,
        outcome: ContactOutcome::NoAnswer,
    };
    // Reported after the night's run: the case it left is the evening's queue.
    let queue = case.clone();
    case::record_contact(&mut case, &evening_call, Some(&queue));
    contacts.push(evening_call);
    let made: Vec<(Channel, NaiveDate)> = contacts
        .iter()
        .filter(|c| c.channel != Channel::Letter)
        .map(|c| (c.channel, c.date))
        .collect();
    assert_eq!(
        made,
        [
            (Channel::Sms, day("2026-11-23")),
            (Channel::Call, day("2026-11-23")),
            (Channel::Call, day("2026-11-23"))
        ]
    );

    let (night_2, case) = night(d, "2026-11-24", Some(case), &mut contacts);
    assert!(
        !night_2.iter().any(|a| a["event"] == "callback-2026-11-19"),
        "booked once: {night_2:?}"
    );
    assert!(
        !night_2.iter().any(|a| a["event"] == "first-call"),
        "the first call keeps its day: {night_2:?}"
    );
    let first_call = case
        .unwrap()
        .events
        .into_iter()
        .find(|e| e.id == "first-call")
        .unwrap();
    assert_eq!(
        (first_call.date, first_call.status),
        (day("2026-11-30"), case::EventStatus::Pending)
    );
    let s: Json =
        serde_json::from_str(&std::fs::read_to_string(d.join("2026-11-24/summary.json")).unwrap())
            .unwrap();
    assert!(s.get("lists_not_read").is_none());
}

/// The customer was reached on 18 Nov while an earlier case was open; it
/// closed, and tonight (19 Nov) a new case opens. The contacts are the
/// account's, exported with no case open, so Reg F's 7 days after the
/// conversation still hold: the new case's first call, due 24 Nov, waits for
/// the 25th (12 CFR 1006.14(b)(2)(ii) counts per debt, not per case).
#[test]
fn a_conversation_before_a_case_closed_keeps_the_next_cases_first_call_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut contacts = vec![Contact {
        date: day("2026-11-18"),
        time: Some("10:15".into()),
        channel: Channel::Call,
        outcome: ContactOutcome::Reached,
    }];
    let (opened, case) = night(dir.path(), "2026-11-19", None, &mut contacts);
    assert!(
        case.is_some(),
        "the night opens a case: {:?}",
        kinds(&opened)
    );
    let postponed: Vec<&Json> = opened.iter().filter(|a| a["type"] == "postpone").collect();
    assert_eq!(postponed.len(), 1, "{:?}", kinds(&opened));
    assert_eq!(postponed[0]["event"], "first-call");
    assert_eq!(postponed[0]["from"], "2026-11-24");
    assert_eq!(postponed[0]["to"], "2026-11-25");
    assert_eq!(
        postponed[0]["rules"],
        json!(["guard:reg_f/after_conversation"])
    );
}

/// The second night read without the history (an extract cut before the
/// companions existed, run with `--no-companion`): the callback the case
/// system made yesterday is booked again, and the run says what it did not read.
#[test]
fn without_the_history_companions_the_callback_books_again_and_the_run_warns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let case = Case {
        class: Some("card_early".into()),
        template: Some("card_early_std".into()),
        ..Case::new("arrears".into(), day("2026-11-19"))
    };
    let input = export(d, Some(&case), &[]);
    for file in ["case_events", "contacts", "removed_sas"] {
        std::fs::remove_file(d.join(format!("small.{file}.csv"))).unwrap();
    }
    // Forgotten: the run stops before reading a row, naming the file and the way out.
    let o = common::batch_on("2026-11-24", &input, d, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("small.case_events.csv`) does not exist")
            && stderr(&o).contains("--no-companion case.events"),
        "{}",
        stderr(&o)
    );
    // Every missing file in the one run, each with its way out, on one line.
    for (file, list) in [
        ("contacts", "contacts"),
        ("removed_sas", "case.removed_sas"),
    ] {
        assert!(
            stderr(&o).contains(&format!("; and the companion file for `{list}` (`"))
                && stderr(&o).contains(&format!("small.{file}.csv`) does not exist"))
                && stderr(&o).contains(&format!("runs with --no-companion {list} ")),
            "{}",
            stderr(&o)
        );
    }
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = common::batch_on(
        "2026-11-24",
        &input,
        d,
        &[
            "--no-companion",
            "case.events",
            "--no-companion",
            "contacts",
            "--no-companion",
            "case.removed_sas",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // One warning per list, saying what its absence costs.
    let err = stderr(&o);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        [
            "warning: `case.events` not read (--no-companion): empty for every account, so every night books again what an earlier night booked and the case still holds (a callback, a promise's follow-up, a plan offer), and the events earlier nights booked are not put to the guard rails again (docs/batch.md, \"An extract without the case history\")",
            "warning: `contacts` not read (--no-companion): empty for every account, so the contact limits count only the contacts this run proposes: a call can go out past Reg F's 7 in 7 days, or within 7 days of a conversation, unseen (docs/batch.md, \"An extract without the case history\")",
            "warning: `case.removed_sas` not read (--no-companion): empty for every account, so a service agreement that left the case is removed again, and counts for severance and for the last SA out closing the case (docs/batch.md, \"An extract without the case history\")",
        ],
        "{err}"
    );
    assert_eq!(
        summary(d)["lists_not_read"],
        json!(["case.events", "contacts", "case.removed_sas"])
    );
    let actions = std::fs::read_to_string(d.join("actions.jsonl")).unwrap();
    assert!(
        actions
            .contains(r#""event":"callback-2026-11-19","event_type":"call","date":"2026-11-24""#),
        "{actions}"
    );
    // The service agreements are no history: their warning says what they cost.
    let o = common::batch_on(
        "2026-11-24",
        &input,
        d,
        &[
            "--no-companion",
            "service_agreements",
            "--no-companion",
            "case.events",
            "--no-companion",
            "contacts",
            "--no-companion",
            "case.removed_sas",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: `service_agreements` not read (--no-companion): empty for every account, so no account has a service agreement: nothing is decided per SA (its exit, a severance nomination) and the rules that count or sum them see none (docs/batch.md, \"The column mapping (CSV)\")"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("history\")\nwarning: `service_agreements`")
            && !stderr(&o).contains("saw nothing of the accounts' history")
    );
    // A list named twice over, or one the mapping does not have, is a usage error.
    for (extra, needle) in [
        (
            vec![
                "--no-companion",
                "case.events",
                "--companion",
                "case.events=x.csv",
            ],
            "give one of them",
        ),
        (
            vec!["--no-companion", "case.arms"],
            "the mapping has no list of that name",
        ),
        // Two files for one list: the last would be read and the first dropped unseen.
        (
            vec![
                "--companion",
                "contacts=a.csv",
                "--companion",
                "contacts=b.csv",
            ],
            "--companion contacts=`a.csv` and --companion contacts=`b.csv`: one file per list",
        ),
    ] {
        let o = common::batch_on("2026-11-24", &input, d, &extra);
        assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

/// A JSON Lines extract whose records carry no `contacts` (not even `[]`) runs
/// the contact limits blind, as a CSV extract without `{stem}.contacts.csv`
/// would if it ran: the summary warns in the batch's words, and lists it in
/// `fields_not_seen` with the companion file a CSV extract needs. `null` or
/// `[]` is a list the exporter wrote: no warning. A list of the case (every
/// case's `events` left out) is warned of among the records that have a case.
#[test]
fn a_jsonl_extract_without_a_history_list_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jsonl = d.join("ex.jsonl");
    let o = common::arrears_in(
        common::root(),
        &[
            "generate",
            "--accounts",
            "40",
            "--seed",
            "5",
            "--format",
            "jsonl",
            "-",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let generated = String::from_utf8(o.stdout).unwrap();
    let rewrite = |edit: &dyn Fn(&mut serde_json::Map<String, Json>)| {
        let lines: String = (generated.lines())
            .map(|l| {
                let mut account: Json = serde_json::from_str(l).unwrap();
                edit(account.as_object_mut().unwrap());
                format!("{account}\n")
            })
            .collect();
        std::fs::write(&jsonl, lines).unwrap();
        let o = common::batch_on("2026-11-22", &jsonl, d, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        (stderr(&o), summary(d))
    };
    let (err, sum) = rewrite(&|a| {
        a.remove("contacts");
    });
    assert!(
        err.contains("warning: `contacts` is in none of the first 40 records, not even as `[]` (a CSV extract must have its companion file, `{stem}.contacts.csv`, or the run stops): if the extract does not carry it, it is empty for every account, so the contact limits count only the contacts this run proposes: a call can go out past Reg F's 7 in 7 days, or within 7 days of a conversation, unseen; write a list an account does not have as `[]` (`\"contacts\": []`) (docs/batch.md, \"An extract without the case history\")\n"),
        "{err}"
    );
    assert_eq!(
        sum["fields_not_seen"],
        json!({"records": 40, "fields": [{"field": "contacts", "file": "{stem}.contacts.csv"}]})
    );
    for written in [json!(null), json!([])] {
        let (err, sum) = rewrite(&|a| {
            a.insert("contacts".into(), written.clone());
        });
        assert!(!err.contains("warning:"), "{written}: {err}");
        assert!(sum.get("fields_not_seen").is_none(), "{written}: {sum}");
    }
    let (err, sum) = rewrite(&|a| {
        if let Some(Json::Object(case)) = a.get_mut("case") {
            case.remove("events");
        }
    });
    assert!(
        err.contains("warning: `case.events` is in none of the first 40 records, not even as `[]` (a CSV extract must have its companion file, `{stem}.case_events.csv`, or the run stops): if the extract does not carry it, it is empty for every account, so every night books again"),
        "{err}"
    );
    assert_eq!(
        sum["fields_not_seen"]["fields"],
        json!([{"field": "case.events", "file": "{stem}.case_events.csv"}])
    );
}

/// The contacts' old place, inside the case (`case.contacts`), is refused in a
/// JSON Lines record as the CLI's `--companion case.contacts` is: the record is
/// rejected at its line as not read there (no `did you mean`: it is no typo), not run without its
/// contacts behind an unknown-field warning; the record in the new shape (the
/// same contacts, the account's) is evaluated, and Reg F's 7 days after a
/// conversation hold its call.
#[test]
fn the_old_case_contacts_shape_is_rejected_at_its_line() {
    let input = common::root().join("samples/invalid/old-case-contacts.jsonl");
    let run = common::batch_rejects(&input, "2026-11-22");
    let (d, o) = (run.path(), &run.output);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let rejects = run.rejects();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], 2);
    assert_eq!(rejects[0]["account"], "AC000000004");
    assert_eq!(rejects[0]["field"], "account.case.contacts");
    let reason = rejects[0]["reason"].as_str().unwrap();
    assert!(
        reason
            .starts_with("`account.case.contacts`: not read here: the list is `account.contacts`")
            && !reason.contains("did you mean"),
        "{reason}"
    );
    assert!(!stderr(o).contains("is ignored"), "{}", stderr(o));
    let actions = json_lines(&d.join("actions.jsonl"));
    assert!(actions.iter().all(|a| a["account"] == "AC000000003"));
    assert!(
        actions
            .iter()
            .any(|a| a["rules"] == json!(["guard:reg_f/after_conversation"])),
        "{actions:?}"
    );
}

/// The same accounts file gets the batch's verdict from every reader: a
/// record with contacts in their old place, inside the case, is not
/// evaluated (the batch's reject, `dry-run`'s error at its record, `test`'s
/// bad account data at the case), naming the field and the list it should
/// be; one whose old-place list is empty loses nothing, so it is evaluated,
/// and one warning (the batch's summary: the first line and how many more;
/// `dry-run`'s: where, and how many more) says what items there will do.
#[test]
fn every_reader_gives_the_old_case_contacts_the_batch_verdict() {
    const FIXTURES: &str = "tests/fixtures/old_case_contacts";
    let input = common::root().join(FIXTURES).join("accounts.jsonl");
    let run = common::batch_rejects(&input, "2026-11-22");
    let (d, o) = (run.path(), &run.output);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let rejects = run.rejects();
    let rejected: Vec<(&Json, &Json, &Json)> = (rejects.iter())
        .map(|r| (&r["line"], &r["account"], &r["field"]))
        .collect();
    assert_eq!(
        rejected,
        [(
            &json!(3),
            &json!("AC000000004"),
            &json!("account.case.contacts")
        )]
    );
    let mut evaluated: Vec<String> = json_lines(&d.join("actions.jsonl"))
        .iter()
        .map(|a| a["account"].as_str().unwrap().to_string())
        .collect();
    evaluated.dedup();
    assert_eq!(evaluated, ["AC000000003", "AC000000005", "AC000000006"]);
    let err = stderr(o);
    let warnings: Vec<&str> = (err.lines())
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_snapshot!("old_case_contacts_batch_warnings", warnings.join("\n"));
    let sum = summary(d);
    assert_eq!(sum["unknown_fields"][0]["field"], "account.case.contacts");
    assert_eq!(sum["unknown_fields"][0]["first_line"], 2);
    assert_eq!(sum["unknown_fields"][0]["rows"], 2);

    let accounts = format!("{FIXTURES}/accounts.jsonl");
    let dry_run = |format: &str| {
        common::arrears(&[
            "dry-run",
            "--as-of",
            "2026-11-22",
            "--format",
            format,
            &accounts,
        ])
    };
    let o = dry_run("human");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // Each account's line and its errors: the actions are the batch's business.
    let out = crate::common::stdout(&o);
    let shown: Vec<&str> = (out.lines()).filter(|l| !l.starts_with("    ")).collect();
    assert_snapshot!(
        "old_case_contacts_dry_run",
        format!("{}\n{}", stderr(&o).trim_end(), shown.join("\n"))
    );
    let o = dry_run("json");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: Json = serde_json::from_str(&crate::common::stdout(&o)).unwrap();
    let failed: Vec<(&Json, &Json, &Json)> = (doc["accounts"].as_array().unwrap().iter())
        .filter(|a| a.get("errors").is_some())
        .map(|a| {
            let e = &a["errors"][0];
            (&a["account"], &e["field"], &e["location"])
        })
        .collect();
    assert_eq!(
        failed,
        [(
            &json!("AC000000004"),
            &json!("account.case.contacts"),
            &json!(format!("{accounts}:3"))
        )]
    );

    let o = common::arrears(&["test", &format!("{FIXTURES}/cases.yaml")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("error: {FIXTURES}/cases.yaml:13:14: bad account data: `account.case.contacts`: not read here: the list is `account.contacts` (an extract written for an older schema kept it here), so its items would be ignored")),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

/// `generate` writes the account's contacts whether or not a case is open
/// (a case closed lately left some), in both formats alike, and every JSON
/// Lines record carries `contacts`, `[]` when it has none, as an exporter
/// that writes every field does: the batch does not warn of it.
#[test]
fn generate_writes_every_accounts_contacts_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (format, out) in [("csv", "g.csv"), ("jsonl", "g.jsonl")] {
        let o = common::arrears_in(
            common::root(),
            &[
                "generate",
                "--accounts",
                "300",
                "--seed",
                "11",
                "--format",
                format,
                d.join(out).to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let records: Vec<Json> = std::fs::read_to_string(d.join("g.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(records.iter().all(|r| r["contacts"].is_array()));
    let without_case_with_contacts: Vec<&str> = (records.iter())
        .filter(|r| r.get("case").is_none() && !r["contacts"].as_array().unwrap().is_empty())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        without_case_with_contacts.len() >= 3,
        "{without_case_with_contacts:?}"
    );
    // The CSV's contacts are the same, account by account.
    let csv = std::fs::read_to_string(d.join("g.contacts.csv")).unwrap();
    for record in &records {
        let id = record["id"].as_str().unwrap();
        let rows = csv
            .lines()
            .filter(|l| l.starts_with(&format!("{id},")))
            .count();
        assert_eq!(rows, record["contacts"].as_array().unwrap().len(), "{id}");
    }
    let o = common::batch_on("2026-11-22", &d.join("g.jsonl"), d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
}

/// A list written where the schema has it elsewhere is named by its place,
/// the first one breadth first from the account, through a list's items
/// (`account.promises[].payments`) as through a record (`account.case.events`);
/// a null one holds nothing, and a key no list of the schema has is only an
/// unknown field.
#[test]
fn a_misplaced_list_is_named_by_its_place_in_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        common::root().join("tests/fixtures/old_case_contacts/accounts.jsonl"),
    )
    .unwrap();
    let mut record: Json = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    record["payments"] = json!([{"promise_id": "P-1", "amount": "10.00", "paid_on": "2026-11-20"}]);
    record["case"]["contacts"] = json!(null);
    record["service_agreements"][0]["events"] =
        json!([{"id": "x", "type": "call", "date": "2026-11-20", "status": "done"}]);
    record["notes"] = json!(["not a list of the schema"]);
    let accounts = dir.path().join("a.jsonl");
    std::fs::write(&accounts, format!("{record}\n")).unwrap();
    let o = common::arrears(&[
        "dry-run",
        "--as-of",
        "2026-11-22",
        "--format",
        "json",
        accounts.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let doc: Json = serde_json::from_str(&crate::common::stdout(&o)).unwrap();
    let errors: Vec<(String, String)> = (doc["accounts"][0]["errors"].as_array().unwrap().iter())
        .map(|e| {
            let message = e["message"].as_str().unwrap();
            let list = message.split("the list is `").nth(1).unwrap_or_default();
            let list = list.split('`').next().unwrap_or_default();
            (e["field"].as_str().unwrap().to_string(), list.to_string())
        })
        .collect();
    assert_eq!(
        errors,
        [
            (
                "account.service_agreements[0].events".to_string(),
                "account.case.events".to_string()
            ),
            (
                "account.payments".to_string(),
                "account.promises[].payments".to_string()
            ),
        ]
    );
    // A null one holds nothing: warned of, not an error; a key no list has: only unknown.
    assert!(stderr(&o).contains("`account.case.contacts` is ignored: not read here: the list is `account.contacts` (an extract written for an older schema kept it here); this one is empty, so nothing is lost"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`account.notes` is ignored: the schema has no field `notes`"),
        "{}",
        stderr(&o)
    );
}

/// The re-treatments a night's actions make, by the rule that made them:
/// `retreat_case` by its first rule, and a re-treatment into the treatment the
/// case has (only the class reassigned) as `reclassified:<rule>`.
fn retreatments_by_reason(actions: &[Json]) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for a in actions {
        let first = a["rules"][0].as_str().unwrap_or_default();
        let reason = match a["type"].as_str() {
            Some("retreat_case") => first.to_string(),
            Some("assign_class") if first.starts_with("retreatment:") => {
                format!("reclassified:{first}")
            }
            _ => continue,
        };
        *counts.entry(reason).or_default() += 1;
    }
    counts
}

/// A generated open case holds the class and template the shipped policy
/// gives its account (the class table's, an experiment arm's template), so
/// the extract's first night re-treats no case for a class or template the
/// generator got wrong (it put GB cards in `card_early`/`card_early_std`, and
/// residential utility arrears of $2,400 or more in `utility_res`): what is
/// left is re-treatment for what changed since the case opened (its entry
/// category) and promise follow-ups. And a GB case's events are dated on
/// the England and Wales calendar (`calendar_by`), not the policy's US one:
/// none on a UK day off, some on a US one (Thanksgiving).
#[test]
fn a_generated_case_holds_the_policys_treatment_on_the_accounts_calendar() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = common::arrears_in(
        common::root(),
        &[
            "generate",
            "--accounts",
            "3000",
            "--seed",
            "1",
            d.join("g.csv").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = common::batch_on("2026-11-22", &d.join("g.csv"), d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let actions = json_lines(&d.join("actions.jsonl"));
    let reasons = retreatments_by_reason(&actions);
    assert!(
        !reasons.contains_key("retreatment:class-changed")
            && !reasons.keys().any(|r| r.starts_with("reclassified:")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .get("retreatment:category-changed")
            .is_some_and(|&n| n > 0),
        "{reasons:?}"
    );

    let main = std::fs::read_to_string(d.join("g.csv")).unwrap();
    let gb_cases: std::collections::BTreeSet<&str> = main
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[2] == "GB" && !c[19].is_empty())
        .map(|c| c[0])
        .collect();
    assert!(!gb_cases.is_empty());
    let loaded = arrears::policy::load(&common::root().join("rules")).unwrap();
    let policy = loaded.policy.as_ref().unwrap();
    let by = &policy.calendar_by;
    let (_, gb) = by.listed.iter().find(|(value, _)| value == "GB").unwrap();
    let (gb, us) = (&by.calendars[*gb], &policy.calendar);
    let events = std::fs::read_to_string(d.join("g.case_events.csv")).unwrap();
    let gb_dates: Vec<NaiveDate> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| gb_cases.contains(c[0]))
        .map(|c| day(c[3]))
        .collect();
    assert!(!gb_dates.is_empty());
    let off_in_gb: Vec<_> = gb_dates
        .iter()
        .filter(|d| !gb.is_business_day(**d))
        .collect();
    assert!(off_in_gb.is_empty(), "{off_in_gb:?}");
    assert!(
        gb_dates.iter().any(|d| !us.is_business_day(*d)),
        "no GB event on a US day off: {gb_dates:?}"
    );
}

/// What a case's own history decides, read as of the run's day: an outcome
/// recorded after it is not yet decided; severance is nominated from the
/// case's start-severance event (postponed, cancelled, never given, carried
/// out), from the template's day only for a case that holds no event at all.
#[test]
fn a_case_s_history_is_read_as_of_the_run_s_day() {
    let out = common::arrears(&["test", "tests/fixtures/case_state/cases.yaml"]);
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", common::stderr(&out));
    assert!(text.contains("6 case(s): 6 passed, 0 failed"), "{text}");
}

/// A recorded outcome the case history cannot be trusted for (a negative
/// `required`, an instalment the plan does not have, a broken one dated by
/// its deadline, two outcomes for one promise, an id cut short, A9's inside
/// its last amount) refuses the
/// account's row at the event, with the same field and words whatever reads
/// it: `dry-run` on a JSON accounts file, `batch` on JSON Lines, and `batch`
/// on a CSV extract with its `case_events` companion (the bad-input fixture
/// `extract_recorded_outcome_faults`, the same accounts). A trusted record is
/// used as written (A6's `paid=0.00`, not today's 50.00), a bare older one
/// keeps its status (A7), and a promise decided tonight (A8) carries the id
/// the case system records: next night, read back, it is trusted and not
/// recorded again.
#[test]
fn an_untrusted_recorded_outcome_refuses_its_row_in_every_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let accounts_file = common::root().join("samples/invalid/recorded-outcomes.json");
    let accounts: Vec<Json> =
        serde_json::from_str(&std::fs::read_to_string(&accounts_file).unwrap()).unwrap();
    // Per account: `Err((field, message))`, or its promise outcomes.
    type Verdicts = std::collections::BTreeMap<String, Result<Vec<Json>, (String, String)>>;
    let outcomes = |actions: &[Json]| -> Vec<Json> {
        actions
            .iter()
            .filter(|a| a["type"] == "promise_outcome")
            .map(|a| {
                let mut a = a.clone();
                let a = a.as_object_mut().unwrap();
                a.remove("account");
                a.remove("row");
                Json::Object(a.clone())
            })
            .collect()
    };
    let dry_run = |file: &Path, as_of: &str| -> Verdicts {
        let o = common::arrears(&[
            "dry-run",
            "--as-of",
            as_of,
            "--format",
            "json",
            file.to_str().unwrap(),
        ]);
        let doc: Json = serde_json::from_slice(&o.stdout).unwrap();
        (doc["accounts"].as_array().unwrap().iter())
            .map(|a| {
                let verdict = match a.get("errors") {
                    Some(errors) => Err((
                        errors[0]["field"].as_str().unwrap().to_string(),
                        errors[0]["message"].as_str().unwrap().to_string(),
                    )),
                    None => Ok(outcomes(a["actions"].as_array().unwrap())),
                };
                (a["account"].as_str().unwrap().to_string(), verdict)
            })
            .collect()
    };
    let batch = |input: &Path, cwd: &Path, extra: &[&str]| -> Verdicts {
        let (out, rejects) = (d.join("actions.jsonl"), d.join("rejects.jsonl"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
            .args(["batch", "--rules"])
            .arg(common::root().join("rules"))
            .args(["--as-of", "2026-11-22", "--out"])
            .arg(&out)
            .arg("--rejects")
            .arg(&rejects)
            .args(extra)
            .arg(input)
            .current_dir(cwd)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let mut verdicts = Verdicts::new();
        for r in json_lines(&rejects) {
            let field = r["field"].as_str().unwrap().to_string();
            let reason = r["reason"].as_str().unwrap();
            let message = reason
                .strip_prefix(&format!("evaluation failed: `{field}`: "))
                .unwrap_or_else(|| panic!("{reason}"));
            verdicts.insert(
                r["account"].as_str().unwrap().to_string(),
                Err((field, message.to_string())),
            );
        }
        let actions = json_lines(&out);
        for a in &actions {
            let id = a["account"].as_str().unwrap().to_string();
            let mine: Vec<Json> = actions
                .iter()
                .filter(|x| x["account"] == a["account"])
                .cloned()
                .collect();
            verdicts.insert(id, Ok(outcomes(&mine)));
        }
        verdicts
    };
    let from_yaml = dry_run(&accounts_file, "2026-11-22");
    let jsonl = d.join("untrusted.jsonl");
    let lines: String = accounts.iter().map(|a| format!("{a}\n")).collect();
    std::fs::write(&jsonl, lines).unwrap();
    let from_jsonl = batch(&jsonl, d, &["--input-format", "jsonl"]);
    let csv_dir = common::root().join("tests/fixtures/bad_input/extract_recorded_outcome_faults");
    let from_csv = batch(&csv_dir.join("extract.csv"), &csv_dir, &[]);
    assert_eq!(from_yaml, from_jsonl);
    assert_eq!(from_yaml, from_csv);
    let refused: Vec<(&str, &str)> = from_yaml
        .iter()
        .filter_map(|(id, v)| {
            v.as_ref()
                .err()
                .map(|(field, _)| (id.as_str(), field.as_str()))
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("A1", "account.case.events[1].id"),
            ("A2", "account.case.events[1].id"),
            ("A3", "account.case.events[1].id"),
            ("A4", "account.case.events[2].id"),
            ("A5", "account.case.events[1].id"),
            ("A9", "account.case.events[1].id"),
        ]
    );
    let outcome = |v: &Verdicts, id: &str| v[id].as_ref().unwrap()[0].clone();
    // Trusted: reported as recorded, and not recorded again.
    let a6 = outcome(&from_yaml, "A6");
    assert_eq!(
        (&a6["paid"], &a6["status"]),
        (&json!("0.00"), &json!("broken"))
    );
    assert_eq!(a6.get("record"), None, "{a6}");
    assert_eq!(outcome(&from_yaml, "A7")["paid"], "50.00");
    // Decided tonight: the id to record, which the next night trusts.
    let a8 = outcome(&from_yaml, "A8");
    let record = a8["record"].as_str().unwrap();
    assert_eq!(
        record,
        "promise-PL8-broken;deadline=2026-11-16;required=209.00;paid=150.00;instalment=P8-2"
    );
    let mut next = accounts.iter().find(|a| a["id"] == "A8").unwrap().clone();
    next["case"]["events"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": record, "type": "custom", "date": "2026-11-22", "status": "done"}));
    let next_file = d.join("next.json");
    std::fs::write(&next_file, json!([next]).to_string()).unwrap();
    let a8_next = outcome(&dry_run(&next_file, "2026-11-23"), "A8");
    // The next night reads the record: the same outcome, naming the record, not today's row.
    let mut expected = a8.clone();
    expected.as_object_mut().unwrap().remove("record");
    expected["rules"] = json!(["case:recorded"]);
    assert_eq!(a8_next, expected);
}

/// A generated case history holds the outcome of each promise its case
/// decided before the extract's day, as the case system records it: the
/// `record` of the night it was first decided, done that night. The batch
/// on the extract's day trusts it (reports its figures, records nothing
/// again), so a terms edit (the consumer tolerance from $3 to $0) re-judges
/// none of them in `arrears diff`: only promises decided since, or pending,
/// move.
#[test]
fn a_generated_history_records_the_promises_decided_before_the_extract() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = crate::batch::generate(d, "book.csv", 400, 7, &[]);
    let events = std::fs::read_to_string(d.join("book.case_events.csv")).unwrap();
    // (account, id, date) of each outcome recorded.
    let recorded: Vec<(String, String, NaiveDate)> = events
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1].contains("-kept;") || c[1].contains("-broken;"))
        .map(|c| (c[0].to_string(), c[1].to_string(), day(c[3])))
        .collect();
    assert!(recorded.len() >= 5, "{recorded:?}");
    let o = common::batch_on("2026-11-22", &input, d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let actions = json_lines(&d.join("actions.jsonl"));
    for (account, id, on) in &recorded {
        assert!(*on < day("2026-11-22"), "{id} on {on}");
        let outcome = actions
            .iter()
            .find(|a| a["account"] == account.as_str() && a["type"] == "promise_outcome")
            .unwrap_or_else(|| panic!("{account}: no promise_outcome"));
        // Reported with the recorded figures, and not recorded again.
        assert_eq!(outcome.get("record"), None, "{outcome}");
        let mut figures = format!(
            "promise-{}-{};deadline={};required={};paid={}",
            outcome["promise"].as_str().unwrap(),
            outcome["status"].as_str().unwrap(),
            outcome["deadline"].as_str().unwrap(),
            outcome["required"].as_str().unwrap(),
            outcome["paid"].as_str().unwrap(),
        );
        if let Some(instalment) = outcome["instalment"].as_str() {
            figures.push_str(&format!(";instalment={instalment}"));
        }
        assert_eq!(&figures, id);
    }
    let zero = d.join("zero-tolerance");
    common::copy_dir(&common::root().join("rules"), &zero);
    let terms = zero.join("promise_terms.yaml");
    let text = std::fs::read_to_string(&terms).unwrap();
    std::fs::write(
        &terms,
        text.replace("tolerance_amount: $3,", "tolerance_amount: $0,"),
    )
    .unwrap();
    let o = common::arrears(&[
        "diff",
        "--base",
        "rules",
        "--rules",
        zero.to_str().unwrap(),
        "--as-of",
        "2026-12-01",
        "--format",
        "json",
        "--examples",
        "1000",
        input.to_str().unwrap(),
    ]);
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    let changed = report["actions"][0]["examples"].as_array().unwrap();
    assert!(!changed.is_empty(), "{report}");
    for account in changed {
        assert!(
            !recorded.iter().any(|(a, _, _)| a == account),
            "{account}: a recorded outcome judged again"
        );
    }
}

/// A generated case history holds what the policy did about each promise
/// before the extract's day, as a case system would: the follow-up the night
/// it was decided made (the `BROKEN_PROMISE_1` letter, sent that day, with
/// the contact it made) and the callback booked on a pending promise's
/// deadline. So the first batch night over a fresh extract proposes none of
/// them again, nor any event the history says was done, except for a case it
/// treats anew (a re-treatment starts the template over).
#[test]
fn a_generated_history_holds_the_promises_follow_ups_so_the_first_night_repeats_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = crate::batch::generate(d, "book.csv", 2000, 7, &[]);
    let as_of = day("2026-11-22");
    let rows = |suffix: &str| -> Vec<Vec<String>> {
        std::fs::read_to_string(d.join(format!("book.{suffix}.csv")))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    // (account, id) -> (type, date, status) of every event held.
    let held: std::collections::BTreeMap<(String, String), (String, NaiveDate, String)> =
        rows("case_events")
            .into_iter()
            .map(|c| {
                (
                    (c[0].clone(), c[1].clone()),
                    (c[2].clone(), day(&c[3]), c[5].clone()),
                )
            })
            .collect();
    // (account, `promise-<key>`) of each outcome recorded before the extract's day.
    let decided: std::collections::BTreeSet<(String, String)> = held
        .iter()
        .filter_map(|((account, id), (_, on, _))| {
            let head = id.split(';').next()?;
            let promise = (head.strip_suffix("-kept")).or_else(|| head.strip_suffix("-broken"))?;
            (id.contains(';') && *on < as_of).then(|| (account.clone(), promise.to_string()))
        })
        .collect();
    assert!(decided.len() >= 10, "{decided:?}");
    let letters: Vec<_> = held
        .iter()
        .filter(|((_, id), (ty, _, status))| {
            id.starts_with("promise-") && ty == "send_letter" && status == "done"
        })
        .collect();
    assert!(!letters.is_empty(), "no broken-promise letter held");
    let contacts = rows("contacts");
    for ((account, id), (_, on, _)) in &letters {
        assert!(
            contacts.iter().any(|c| c[0] == *account
                && c[1] == on.to_string()
                && c[3] == "letter"
                && c[4] == "sent"),
            "{account}: {id} sent on {on} made no contact"
        );
    }
    assert!(
        held.iter()
            .any(|((_, id), (ty, on, status))| id.starts_with("promise-")
                && id.ends_with("-call")
                && ty == "call"
                && status == "pending"
                && *on >= as_of),
        "no callback held pending on a promise's deadline"
    );

    let o = common::batch_on("2026-11-22", &input, d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let actions = json_lines(&d.join("actions.jsonl"));
    let treated_anew: std::collections::BTreeSet<&str> = actions
        .iter()
        .filter(|a| a["type"] == "retreat_case" || a["type"] == "open_case")
        .filter_map(|a| a["account"].as_str())
        .collect();
    for a in actions.iter().filter(|a| a["type"] == "schedule_event") {
        let (account, event) = (a["account"].as_str().unwrap(), a["event"].as_str().unwrap());
        let key = (account.to_string(), event.to_string());
        if let Some(promise) = event.strip_prefix("promise-") {
            assert!(
                !held.contains_key(&key),
                "{account}: {event} proposed again: {a}"
            );
            // `<id>-<follow_up>`, or a pending promise's `<id>-pending-<follow_up>`.
            let id = promise.rsplit_once('-').unwrap().0;
            let promise = format!("promise-{}", id.strip_suffix("-pending").unwrap_or(id));
            assert!(
                !decided.contains(&(account.to_string(), promise)),
                "{account}: {event} follows up a promise decided before the extract: {a}"
            );
        }
        if let Some((_, _, status)) = held.get(&key) {
            assert!(
                status != "done" || treated_anew.contains(account),
                "{account}: {event}, done, proposed again: {a}"
            );
        }
    }
}
