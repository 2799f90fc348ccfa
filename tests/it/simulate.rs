//! `arrears simulate`: every shipped timeline's history is a reviewed
//! snapshot, the JSON history says the same, and the mistakes an analyst makes
//! in a timeline get one line naming the file, line and column.

use crate::common::{arrears, arrears_in, root, stderr, stdout};

fn shipped_timelines() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("samples/timelines"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_timeline_history_is_its_snapshot() {
    let files = shipped_timelines();
    assert!(
        files.len() >= 6,
        "samples/timelines holds the shipped timelines"
    );
    for file in files {
        let relative = file.strip_prefix(root()).unwrap().to_str().unwrap();
        let out = arrears(&["simulate", "--rules", "rules", relative]);
        assert_eq!(out.status.code(), Some(0), "{relative}: {}", stderr(&out));
        let stem = file.file_stem().unwrap().to_str().unwrap();
        assert_snapshot!(format!("history_{stem}"), stdout(&out));
    }
}

/// A call carried out after its date is recorded among the account's contacts on
/// the day it went out, not the day it was booked for, so later 7-day counts
/// use the right window.
#[test]
fn an_overdue_call_is_recorded_on_the_day_it_went_out() {
    let out = arrears(&[
        "simulate",
        "--format",
        "json",
        "samples/timelines/card_overdue_call.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = doc["timelines"][0]["days"].as_array().unwrap();
    let day = days.iter().find(|d| d["date"] == "2026-11-16").unwrap();
    assert_eq!(day["done"][0]["id"], "over-limit-call");
    assert_eq!(
        day["done"][0]["date"], "2026-11-13",
        "the event keeps its booked date"
    );
    let contacts = days.last().unwrap()["contacts"].as_array().unwrap();
    let calls: Vec<&str> = contacts
        .iter()
        .filter(|c| c["channel"] == "call" && c["outcome"] == "attempted")
        .map(|c| c["date"].as_str().unwrap())
        .collect();
    assert_eq!(calls, ["2026-11-12", "2026-11-12", "2026-11-16"]);
}

#[test]
fn the_json_history_has_every_day_with_something_and_the_final_case() {
    let out = arrears(&[
        "simulate",
        "--format",
        "json",
        "samples/timelines/card_promise_kept.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let timeline = &doc["timelines"][0];
    assert_eq!(timeline["account"], "card-timeline-01");
    let days = timeline["days"].as_array().unwrap();
    let first = &days[0];
    assert_eq!(first["date"], "2026-11-02");
    assert_eq!(first["actions"][0]["type"], "open_case");
    assert_eq!(first["done"][0]["id"], "reminder-letter");
    assert_eq!(first["case"]["events"][0]["status"], "done");
    let closing: Vec<&str> = days
        .iter()
        .filter(|d| {
            d["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["type"] == "close_case")
        })
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert_eq!(closing, ["2026-11-19"]);
    // The agent's report of the first call carried out the pending call that day.
    let contact_day = days.iter().find(|d| d["date"] == "2026-11-09").unwrap();
    assert_eq!(contact_day["done"][0]["id"], "first-call", "{contact_day}");
    assert_eq!(timeline["case"], serde_json::Value::Null);
    assert_eq!(timeline["stopped"], serde_json::Value::Null);
}

/// Typical mistakes, each an edit of a shipped timeline: the first error line
/// and the exit code.
#[test]
fn timeline_mistakes_get_one_line_with_file_line_and_column() {
    let shipped =
        std::fs::read_to_string(root().join("samples/timelines/card_promise_kept.yaml")).unwrap();
    let mistakes: &[(&str, &str, &str)] = &[
        (
            "misspelt field",
            "  - on: 2026-11-19\n",
            "  - on: 2026-11-19\n    set: {days_pas_due: 3}\n  - on: 2026-11-19\n",
        ),
        ("no such day", "to: 2026-11-30", "to: 2026-11-31"),
        (
            "happening after the end",
            "to: 2026-11-30",
            "to: 2026-11-15",
        ),
        ("a mistyped year", "to: 2026-11-30", "to: 2126-11-30"),
        ("`to` before `from`", "to: 2026-11-30", "to: 2026-10-30"),
        ("an unclosed flow list where a date belongs", "to: 2026-11-30", "to: ["),
        ("a date in brackets", "to: 2026-11-30", "to: [2026-11-30]"),
        ("misspelt key", "ages:", "age:"),
        (
            "a promise that does not exist",
            "promise: P-1,",
            "promise: P-9,",
        ),
        (
            "add to a field that is not a list",
            "add:\n      promises:",
            "add:\n      arrears:",
        ),
        (
            "two kinds in one happening",
            "    note: first call answered",
            "    set: {arrears: '1.00'}\n    note: first call answered",
        ),
        (
            "a payment of nothing",
            "amount: '212.00', promise",
            "amount: '0.00', promise",
        ),
        (
            "an unknown contact outcome",
            "outcome: reached",
            "outcome: answered",
        ),
        (
            "ages a text field",
            "ages: days_past_due",
            "ages: jurisdiction",
        ),
        ("a misspelt account field", "  risk_score: 701", "  risk_scor: 701"),
        ("a starting amount that is not money", "  arrears: '212.00'", "  arrears: abc"),
        ("a happening that writes a value the field cannot hold", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {arrears: abc}\n  - on: 2026-11-19\n"),
        ("a misspelt field in an added item", "{id: P-1, amount:", "{id: P-1, amout:"),
        ("a happening dated before the one above it", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    note: typed a day too early\n  - on: 2026-11-18\n    note: the day before\n  - on: 2026-11-19\n"),
        ("a case event of an unknown type", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    add: {case.events: {id: callback-1, type: callback, date: 2026-11-20, status: pending}}\n  - on: 2026-11-19\n"),
        ("a list item that does not exist", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {'service_agreements[SA-9].arrears': '0.00'}\n  - on: 2026-11-19\n"),
        ("an old timeline's contacts under the case", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    add: {case.contacts: {date: 2026-11-19, channel: call, outcome: reached}}\n  - on: 2026-11-19\n"),
        ("a path written from `account.`, as rules write it", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {account.arrears: '1.00'}\n  - on: 2026-11-19\n"),
        ("a case field written at the top level", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {template: card_early_soft}\n  - on: 2026-11-19\n"),
        ("a disposition's field written at the top level", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {callback_date: 2026-11-20}\n  - on: 2026-11-19\n"),
        ("a case field misspelt", "  - on: 2026-11-19\n", "  - on: 2026-11-19\n    set: {case.templat: card_early_soft}\n  - on: 2026-11-19\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&root().join("rules"), &dir.path().join("rules"));
    let mut report = String::new();
    for (what, from, to) in mistakes {
        assert!(
            shipped.contains(from),
            "{what}: `{from}` is in the shipped timeline"
        );
        std::fs::write(
            dir.path().join("timeline.yaml"),
            shipped.replacen(from, to, 1),
        )
        .unwrap();
        let out = arrears_in(dir.path(), &["simulate", "timeline.yaml"]);
        // The last line: a run that stopped on a day prints its history first.
        let first = stderr(&out).lines().last().unwrap_or_default().to_string();
        // A timeline that cannot be used is exit 2: one line, no follow-ons.
        if out.status.code() == Some(2) {
            assert_eq!(stderr(&out).lines().count(), 1, "{what}: {}", stderr(&out));
        }
        report.push_str(&format!(
            "{what}: exit {:?}\n  {first}\n",
            out.status.code()
        ));
    }
    assert_snapshot!("mistakes", report);
}

#[test]
fn simulate_needs_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::copy(
        root().join("rules/schema.yaml"),
        dir.path().join("rules/schema.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("rules/dpd_bucket.yaml"),
        dir.path().join("rules/dpd_bucket.yaml"),
    )
    .unwrap();
    let timeline = root().join("samples/timelines/card_promise_kept.yaml");
    let out = arrears_in(dir.path(), &["simulate", timeline.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no `policy` document"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_json_history_says_when_the_treatment_ran_its_course() {
    let out = arrears(&[
        "simulate",
        "--format",
        "json",
        "samples/timelines/card_skip_trace.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let complete: Vec<&str> = doc["timelines"][0]["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["treatment_complete"] == true)
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    // The credit-rating event on 2026-12-02 was the template's last (the
    // contacts withheld while the details were wrong went out before it).
    assert_eq!(complete, ["2026-12-02"]);
}

/// A folded day says what it means: the policy's actions again, and no event
/// done (the day it repeats had `done:` lines, which it does not repeat).
#[test]
fn a_folded_day_says_no_event_was_done() {
    let out = arrears(&[
        "simulate",
        "--rules",
        "rules",
        "samples/timelines/card_promise_broken.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let history: Vec<&str> = text.lines().collect();
    let folded = history
        .iter()
        .position(|l| l.starts_with("2026-12-29"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        history[folded],
        "2026-12-29: the policy repeated its actions of 2026-12-28; no event done, nothing happened"
    );
    let repeated = &history[..folded];
    let day = repeated
        .iter()
        .rposition(|l| l.starts_with("2026-12-28"))
        .unwrap();
    assert!(
        repeated[day..]
            .iter()
            .any(|l| l.trim_start().starts_with("done: ")),
        "{text}"
    );
}

/// A case opened while the contact details are invalid: the rail withholds
/// the day-0 letter the run proposes, the case keeps it pending, and the case
/// system sends it once, on the day the details are traced.
#[test]
fn a_letter_withheld_on_the_day_a_case_opens_goes_out_once_when_traced() {
    let out = arrears(&[
        "simulate",
        "--format",
        "json",
        "samples/timelines/card_opened_untraced.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let days = doc["timelines"][0]["days"].as_array().unwrap();
    let sent: Vec<&str> = days
        .iter()
        .flat_map(|d| {
            d["done"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["id"] == "reminder-letter")
                .map(move |_| d["date"].as_str().unwrap())
        })
        .collect();
    assert_eq!(sent, ["2026-11-05"]);
    let first = &days[0];
    assert_eq!(first["date"], "2026-11-02");
    let pending: Vec<(&str, &str)> = first["case"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "pending")
        .map(|e| (e["id"].as_str().unwrap(), e["date"].as_str().unwrap()))
        .collect();
    assert!(
        pending.contains(&("reminder-letter", "2026-11-03")),
        "{pending:?}"
    );
}

/// A timeline or test document that is empty, only comments, or an accounts
/// file (a list) is said to be that, with what the document starts with,
/// not "unexpected end of input" or a rule file's first key.
#[test]
fn an_empty_file_or_an_accounts_file_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("empty.yaml"), "").unwrap();
    std::fs::write(d.join("comments.yaml"), "# a timeline, some day\n\n").unwrap();
    std::fs::copy(
        root().join("samples/accounts.yaml"),
        d.join("accounts.yaml"),
    )
    .unwrap();
    let rules = root().join("rules").display().to_string();
    let mut seen = String::new();
    for file in ["empty.yaml", "comments.yaml", "accounts.yaml"] {
        for command in [
            &["simulate", "--rules", &rules, file][..],
            &["test", "--rules", &rules, file],
            &["doc", "--rules", &rules, "--out", "site", "--tests", file],
        ] {
            let o = arrears_in(d, command);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{command:?}: {err}");
            assert_eq!(err.lines().count(), 1, "{command:?}: {err}");
            seen += &format!("{} {file}\n{err}\n", command[0]);
        }
    }
    assert!(!d.join("site").exists(), "doc wrote a site");
    assert_snapshot!("not_a_timeline", seen);
}

/// Tester 18 item 2, an arm with a template of its own: account `util-arm-5`
/// is in `utility_res_reminders/sms_first` (template utility_res_sms_first);
/// its class changes twice and the case keeps the arm's template, restarting nothing.
#[test]
fn a_class_change_into_the_same_treatment_keeps_the_arm_s_template() {
    let text = std::fs::read_to_string(root().join("samples/timelines/utility_class_change.yaml"))
        .unwrap()
        .replace("util-timeline-01", "util-arm-5");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arm.yaml");
    std::fs::write(&path, text).unwrap();
    let out = arrears(&["simulate", "--rules", "rules", path.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("arm=sms_first template=utility_res_sms_first"),
        "{text}"
    );
    assert!(
        text.contains("assign_class class=utility_res_high template=utility_res_sms_first  <- retreatment:class-changed, collection_class:utility-residential-high"),
        "{text}"
    );
    assert!(!text.contains("retreat_case"), "{text}");
    assert!(!text.contains("cancel_pending_events"), "{text}");
    assert!(
        text.contains(
            "case open since 2026-09-01 (category arrears, template utility_res_sms_first)"
        ),
        "{text}"
    );
}

/// A timeline's starting case with the contacts in their old place, under
/// the case, is told as the batch and `dry-run` tell it (not read there, the
/// list's place), at the key, not as the case state's
/// unknown field; empty too, as `simulate` refuses every field the account
/// does not have.
#[test]
fn a_starting_case_with_the_old_contacts_says_where_they_go() {
    let shipped =
        std::fs::read_to_string(root().join("samples/timelines/card_callback_booked.yaml"))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&root().join("rules"), &dir.path().join("rules"));
    let mut report = String::new();
    for contacts in [
        "\n      - {date: 2026-10-30, time: '10:00', channel: call, outcome: reached}",
        " []",
    ] {
        let from = "    removed_sas: []\n";
        assert!(shipped.contains(from));
        let to = format!("{from}    contacts:{contacts}\n");
        std::fs::write(
            dir.path().join("timeline.yaml"),
            shipped.replacen(from, &to, 1),
        )
        .unwrap();
        let out = arrears_in(dir.path(), &["simulate", "timeline.yaml"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        report.push_str(&format!("contacts:{contacts}\n{}\n", stderr(&out)));
    }
    // With items, what they would lose; empty, why it is refused all the same:
    // neither is a misspelling of `contacts`.
    assert_snapshot!("old_case_contacts", report);
}

/// The re-treatment's waits and its same-treatment rule are the table's rows,
/// not the pipeline's: a copy of the shipped rules whose `retreatment` row
/// is edited (or removed) changes what the timelines do.
fn simulate_with_retreatment(edit: impl Fn(&str) -> String, timeline: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    crate::common::copy_dir(&root().join("rules"), &rules);
    let table = rules.join("retreatment.yaml");
    let shipped = std::fs::read_to_string(&table).unwrap();
    let edited = edit(&shipped);
    assert_ne!(edited, shipped, "the edit applies to the shipped table");
    std::fs::write(&table, edited).unwrap();
    let out = arrears(&[
        "simulate",
        "--rules",
        rules.to_str().unwrap(),
        root().join(timeline).to_str().unwrap(),
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    text
}

/// The actions of one day of a human `simulate` history.
fn day<'t>(history: &'t str, date: &str) -> &'t str {
    let start = history
        .find(&format!("\n{date}  ("))
        .unwrap_or_else(|| panic!("no day {date} in {history}"));
    let rest = &history[start + 1..];
    let end = rest[1..].find("\n20").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn a_pending_promise_holds_a_class_change_because_the_table_says_so() {
    const TIMELINE: &str = "samples/timelines/card_promise_holds_retreatment.yaml";
    let shipped = stdout(&arrears(&["simulate", "--rules", "rules", TIMELINE]));
    assert_eq!(shipped.matches("retreat_case").count(), 1, "{shipped}");
    assert!(
        day(&shipped, "2026-11-20").contains("retreat_case"),
        "{shipped}"
    );
    // A bank that re-treats mid-promise says so in its row.
    let restart = simulate_with_retreatment(
        |t| {
            t.replace(
                r#"then: { retreat: "false", restart: "false", reason: '"a promise is pending: the new class waits for its outcome"' }"#,
                r#"then: { retreat: "true", restart: "true", reason: '"re-treated mid-promise"' }"#,
            )
        },
        TIMELINE,
    );
    let day_7 = day(&restart, "2026-11-07");
    assert!(
        day_7.contains(
            "retreat_case category=arrears reason=\"re-treated mid-promise\"  <- retreatment:promise-pending"
        ),
        "{restart}"
    );
    assert!(day_7.contains("assign_class class=card_late"), "{day_7}");
    // Without the row, the class-changed row re-treats at once.
    let removed = simulate_with_retreatment(
        |t| {
            let start = t.find("  - id: promise-pending").unwrap();
            let end = start + t[start..].find("\n\n").unwrap() + 2;
            format!("{}{}", &t[..start], &t[end..])
        },
        TIMELINE,
    );
    assert!(
        day(&removed, "2026-11-07").contains("retreat_case category=arrears reason=\"the collection class changed\"  <- retreatment:class-changed"),
        "{removed}"
    );
}

#[test]
fn a_class_change_into_the_same_treatment_restarts_only_if_the_table_says_so() {
    const TIMELINE: &str = "samples/timelines/utility_class_change.yaml";
    let restart = simulate_with_retreatment(
        |t| t.replace(r#"restart: "not same_treatment""#, r#"restart: "true""#),
        TIMELINE,
    );
    let day_20 = day(&restart, "2026-09-20");
    assert!(
        day_20.contains("cancel_pending_events  <- retreatment:class-changed"),
        "{restart}"
    );
    assert!(day_20.contains("retreat_case category=arrears"), "{day_20}");
}

/// A rule set written before `restart` (the production rules a `diff --base`
/// compares with) still loads, with a warning, and re-treats as it did then:
/// every shipped timeline passes with the old table.
#[test]
fn a_retreatment_table_written_before_restart_decides_as_before() {
    let old = std::fs::read_to_string(
        root().join("tests/fixtures/retreat_before_restart/retreatment.yaml"),
    )
    .unwrap();
    let dir = crate::common::shipped_rules_edited("retreatment.yaml", |_| old);
    // Its own tests name the rows it did not have yet.
    std::fs::remove_file(dir.path().join("rules/tests/retreatment.yaml")).unwrap();
    let lint = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(lint.status.code(), Some(0), "{}", stdout(&lint));
    assert!(
        stdout(&lint).contains(
            "warning[policy]: the `retreat` table `retreatment` has no output `restart`: the pipeline decides as before it existed"
        ),
        "{}",
        stdout(&lint)
    );
    let out = arrears_in(dir.path(), &["test", "samples/timelines/tests"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("30 case(s): 30 passed"),
        "{}",
        stdout(&out)
    );
}
