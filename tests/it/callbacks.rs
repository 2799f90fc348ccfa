//! Dated callbacks (`account.dispositions[].callback_date`, the `callback` policy area): an
//! account is refused when a callback date sits on a disposition that is not a call-back or
//! comes before the disposition's own date, naming the account and the disposition.

use crate::common::{arrears, stderr, stdout};

const ACCOUNTS: &str = "tests/fixtures/callbacks/accounts.json";

#[test]
fn a_misplaced_callback_date_is_refused_naming_the_disposition() {
    let o = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-11-22",
        ACCOUNTS,
    ]);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("account callback-dated\n    open_case"),
        "{text}"
    );
    assert!(
        text.contains(
            "account callback-on-a-dispute\n  error: `account.dispositions[0]`: callback_date \
             2026-11-24 on a disposition whose reason is `dispute`: only a `call_back` \
             disposition has one"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "account callback-before-its-disposition\n  error: `account.dispositions[1]`: \
             callback_date 2026-11-16 is before the disposition's own date 2026-11-17"
        ),
        "{text}"
    );
    assert!(text.contains("1 evaluated, 2 failed"), "{text}");
}

/// Lint holds the `callback` area to its contract: the outputs it reads, with their types, and
/// one run per disposition.
#[test]
fn lint_checks_the_callback_contract() {
    let lint_with = |from: &str, to: &str| {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        crate::common::copy_dir(&crate::common::root().join("rules"), &rules);
        let path = rules.join("callback.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
        let o = arrears(&["lint", rules.to_str().unwrap()]);
        (o.status.code(), format!("{}{}", stdout(&o), stderr(&o)))
    };
    let (code, text) = lint_with("  channel: contact_channel\n", "  channel: event_type\n");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "output `channel` of the `callback` table `callback` is event_type; `callback` needs"
        ),
        "{text}"
    );
    let (code, text) = lint_with("book: ", "booked: ");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("the `callback` table `callback` has no output `book`"),
        "{text}"
    );
}

/// The extract's dispositions companion carries `CALLBACK_DATE`: a dated call-back on an open
/// case books the call, a date on a dispute rejects the row naming the disposition, and a
/// companion without the column (an older extract) still reads.
#[test]
fn the_extract_reads_callback_dates_from_the_dispositions_companion() {
    use crate::batch::{batch, small_extract, summary, GOOD};
    let dir = tempfile::tempdir().unwrap();
    // An open card case, opened 2 Nov.
    let open = GOOD.replace(
        "2026-10-08,,,,,",
        "2026-10-08,arrears,card_early,card_early_std,,2026-11-02",
    );
    let rows = [("A1", open.clone()), ("A2", open)];
    let input = small_extract(dir.path(), &rows);
    let dispositions = dir.path().join("small.dispositions.csv");
    std::fs::write(
        &dispositions,
        "ACCT_NO,DISP_DATE,STATUS,REASON,RESOLUTION,CALLBACK_DATE\n\
         A1,2026-11-20,contacted,call_back,none,2026-11-25\n\
         A2,2026-11-20,contacted,dispute,escalated,2026-11-25\n",
    )
    .unwrap();
    let o = batch(&input, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let actions = std::fs::read_to_string(dir.path().join("actions.jsonl")).unwrap();
    assert!(
        actions.contains(
            r#""type":"schedule_event","event":"callback-2026-11-20","event_type":"call","date":"2026-11-25""#
        ),
        "{actions}"
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects.jsonl")).unwrap();
    assert!(
        rejects.contains(r#""account":"A2","field":"account.dispositions[0]""#)
            && rejects
                .contains("callback_date 2026-11-25 on a disposition whose reason is `dispute`"),
        "{rejects}"
    );
    assert_eq!(summary(dir.path())["evaluated"], 1);

    // Without the column: the same call-back has no day, and books nothing.
    std::fs::write(
        &dispositions,
        "ACCT_NO,DISP_DATE,STATUS,REASON,RESOLUTION\nA1,2026-11-20,contacted,call_back,none\n",
    )
    .unwrap();
    let o = batch(&input, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let actions = std::fs::read_to_string(dir.path().join("actions.jsonl")).unwrap();
    assert!(!actions.contains("callback-"), "{actions}");
    assert_eq!(summary(dir.path())["evaluated"], 2);
}

/// A timeline's contact may carry the day the customer asked to be called back, only when the
/// customer was reached: the shipped timeline books it and carries it out on its day
/// (`simulate::every_shipped_timeline_history_is_its_snapshot`); an unanswered call cannot.
#[test]
fn a_timeline_callback_needs_a_customer_reached() {
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(crate::common::root().join("samples/timelines/card_callback.yaml"))
            .unwrap();
    let from = "contact: {channel: call, outcome: reached, callback: 2026-11-13}";
    assert!(shipped.contains(from));
    let path = dir.path().join("t.yaml");
    std::fs::write(
        &path,
        shipped.replace(
            from,
            "contact: {channel: call, outcome: no_answer, callback: 2026-11-13}",
        ),
    )
    .unwrap();
    let o = arrears(&["simulate", "--rules", "rules", path.to_str().unwrap()]);
    let text = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains(
            "a callback on 2026-11-13: only a customer reached (`outcome: reached`) asks for one"
        ),
        "{text}"
    );
}

/// Only an optional field's column may be absent from an extract (`COLUMN: field?`): on a
/// required field the mapping is a rules error (lint's too), before any row is read.
#[test]
fn a_required_fields_column_cannot_be_absent() {
    use crate::batch::{small_extract, GOOD};
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    crate::common::copy_dir(&crate::common::root().join("rules"), &rules);
    let mapping = rules.join("mappings/extract.yaml");
    let text = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(
        &mapping,
        text.replace("DISP_DATE: date\n", "DISP_DATE: date?\n"),
    )
    .unwrap();
    let input = small_extract(dir.path(), &[("A1", GOOD.to_string())]);
    let out = dir.path().join("out.jsonl");
    let o = arrears(&[
        "batch",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        "2026-11-22",
        "--out",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    let text = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{text}");
    assert!(
        text.contains("the column `DISP_DATE` maps the required field `dispositions.date`"),
        "{text}"
    );
}
