//! `batch --open-cases FILE` (issue 13 item 4): a listed open case whose
//! account no row of the extract has is closed, with its reason and rule, after
//! the extract's own actions; a listed account that is in the extract (even on
//! a rejected row) is left to the policy; repeats, comments and blank lines are
//! counted or skipped; a bad file stops the run before anything is written; the
//! file is an input no output may replace.

use std::path::Path;

use serde_json::{json, Value as Json};

use crate::batch::{batch, json_lines, p, small_extract, summary, GOOD};
use crate::common::{self, stderr};
use crate::outputs::mkfifo;

const LIST: &str = "# open cases on 2026-11-21\n\
                    A1\n\
                    GONE-1\n\
                    \n\
                    A2\n\
                    \x20 GONE-2 \r\n\
                    GONE-1\n";

/// A1 evaluated, A2 rejected (bad money): both in the extract.
fn extract(dir: &Path) -> std::path::PathBuf {
    let rows = [
        ("A1", GOOD.to_string()),
        ("A2", GOOD.replace("212.00", "\"12,5O\"")),
    ];
    small_extract(dir, &rows)
}

/// The closing pair for one absent account.
fn closed(account: &str) -> [Json; 2] {
    [
        json!({"account": account, "row": null, "type": "cancel_pending_events", "rules": ["batch:open-cases"]}),
        json!({"account": account, "row": null, "type": "close_case",
               "reason": "account no longer in the extract", "rules": ["batch:open-cases"]}),
    ]
}

/// `N.NN s (N rows/s)` varies from run to run.
fn without_timing(summary: &str) -> String {
    summary
        .lines()
        .map(|l| match l.find(" actions in ") {
            Some(i) => format!("{} actions in ... s (... rows/s)", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn absent_accounts_are_closed_and_present_ones_left_to_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    assert_eq!(batch(&input, &plain, &[]).status.code(), Some(1));
    let without = json_lines(&plain.join("actions.jsonl"));
    assert!(!without.is_empty());

    let list = dir.path().join("open.txt");
    std::fs::write(&list, LIST).unwrap();
    let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let actions = json_lines(&dir.path().join("actions.jsonl"));
    // The extract's actions unchanged, then the absent accounts' cases closed,
    // each once, in the file's order; nothing for A1 (evaluated) or A2 (rejected).
    let mut expected = without.clone();
    expected.extend(closed("GONE-1"));
    expected.extend(closed("GONE-2"));
    assert_eq!(actions, expected);

    let s = summary(dir.path());
    assert_eq!(
        s["open_cases"],
        json!({"listed": 4, "listed_twice": 1, "in_extract": 2, "closed_absent": 2,
               "left_open": 0, "rejects_without_id": 0})
    );
    assert_eq!(
        s["actions"].as_u64().unwrap(),
        without.len() as u64 + 4,
        "the closing actions are counted"
    );
    assert_eq!(s["action_type"]["close_case"], 2);
    assert_eq!(s["rows_read"], 2, "the list adds no rows");
    assert!(plain_summary_has_no_open_cases(&plain));
    assert_snapshot!(
        "absent_closed_summary",
        common::redact_fingerprints(&without_timing(&stderr(&o)))
            .replace(&dir.path().display().to_string(), "[dir]")
    );

    // CSV output: the row cell is empty.
    let o = batch(
        &input,
        dir.path(),
        &["--open-cases", p(&list), "--output-format", "csv"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("actions.jsonl")).unwrap();
    let tail: Vec<&str> = csv.lines().rev().take(2).collect();
    assert_eq!(
        tail,
        [
            r#"GONE-2,,close_case,batch:open-cases,"{""reason"":""account no longer in the extract""}""#,
            "GONE-2,,cancel_pending_events,batch:open-cases,{}",
        ]
    );
}

fn plain_summary_has_no_open_cases(dir: &Path) -> bool {
    summary(dir).get("open_cases").is_none()
}

/// A rejected row whose account id cannot be read may be any listed account:
/// nothing is closed, and the summary says why.
#[test]
fn a_reject_without_an_account_id_leaves_absent_cases_open() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let account: Json =
        serde_json::from_str(include_str!("../fixtures/combinations/account.json")).unwrap();
    std::fs::write(&input, format!("{account}\nnot json\n")).unwrap();
    let list = dir.path().join("open.txt");
    std::fs::write(&list, "GONE-1\n").unwrap();
    let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let actions = json_lines(&dir.path().join("actions.jsonl"));
    assert!(
        actions.iter().all(|a| a["account"] != "GONE-1"),
        "{actions:?}"
    );
    assert_eq!(summary(dir.path())["open_cases"]["left_open"], 1);
    assert_eq!(summary(dir.path())["open_cases"]["rejects_without_id"], 1);
    assert!(
        stderr(&o).contains("warning: 1 listed open cases are absent from the extract but were left open: 1 rejected rows had no readable account id"),
        "{}",
        stderr(&o)
    );
}

/// A line that is not one account id, a device, a missing file: exit 2, one
/// line naming the file (and line), and no output file written.
#[test]
fn a_bad_open_cases_file_stops_the_run_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let list = dir.path().join("open.txt");
    let cases: [(&[u8], &str); 5] = [
        (
            b"A1\n# the header\nACCT_NO,STATUS\n",
            "open.txt` line 3: `ACCT_NO,STATUS` has a comma, so it is not one account id; the file lists one account id per line, with no header",
        ),
        (b"A1\nA2 open\n", "open.txt` line 2: `A2 open` has a space"),
        (b"A1\n\xff\n", "open.txt` line 2: not valid UTF-8"),
        (&[b'A'; 2000], "open.txt` line 1: longer than 1024 bytes"),
        // A cut transfer: the last id may have lost bytes.
        (b"A1\nGONE-", "open.txt` line 2: `GONE-`, the file's last line, has no line end"),
    ];
    for (text, message) in cases {
        std::fs::write(&list, text).unwrap();
        let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: `") && err.contains(message),
            "{err}"
        );
        let written: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("actions") || n.contains("summary") || n.contains("rejects"))
            .collect();
        assert!(written.is_empty(), "{written:?}");
    }
    for (path, message) in [
        (
            "/dev/zero",
            "`/dev/zero` is a character device, not a file or a FIFO",
        ),
        ("missing.txt", "cannot read `missing.txt`"),
    ] {
        let o = batch(&input, dir.path(), &["--open-cases", path]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
    }
}

/// The list may come through a FIFO (`<(query-case-system)`), read once.
#[test]
fn the_list_may_be_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let fifo = dir.path().join("open.fifo");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, LIST).unwrap())
    };
    let o = batch(&input, dir.path(), &["--open-cases", p(&fifo)]);
    writer.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(summary(dir.path())["open_cases"]["closed_absent"], 2);
}

/// The open-cases file is an input: no output may replace it, through any name.
#[test]
fn no_output_may_replace_the_open_cases_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let list = dir.path().join("open.txt");
    std::fs::write(&list, LIST).unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&list, &link).unwrap();
    for flag in ["--out", "--rejects", "--summary"] {
        let o = crate::common::arrears(&[
            "batch",
            "--rules",
            "rules",
            "--as-of",
            "2026-11-22",
            "--open-cases",
            p(&list),
            flag,
            p(&link),
            p(&input),
        ]);
        assert_eq!(o.status.code(), Some(64), "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is the same file as the open-cases file"),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read_to_string(&list).unwrap(), LIST);
    }
}

/// An empty or header-only extract is a failed transfer, not every account
/// gone: with `--open-cases` it is refused (exit 7), nothing written, not even
/// to standard output.
#[test]
fn an_empty_extract_with_open_cases_closes_nothing_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("open.txt");
    std::fs::write(&list, LIST).unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let header_only = small_extract(dir.path(), &[]);
    for input in [&empty, &header_only] {
        let o = batch(input, dir.path(), &["--open-cases", p(&list)]);
        assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("has no rows, and --open-cases would close every listed case as absent")
                && err.contains("nothing written"),
            "{err}"
        );
        assert!(!err.contains("close_case"), "{err}");
        for f in ["actions.jsonl", "rejects.jsonl", "summary.json"] {
            assert!(!dir.path().join(f).exists(), "{f} was written");
        }
        // Nothing on standard output either, in either output format.
        for format in ["jsonl", "csv"] {
            let o = common::arrears(&[
                "batch",
                "--rules",
                "rules",
                "--as-of",
                "2026-11-22",
                "--output-format",
                format,
                "--open-cases",
                p(&list),
                p(input),
            ]);
            assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
            assert!(o.stdout.is_empty(), "{}", common::stdout(&o));
        }
    }
    // Without --open-cases an empty extract is still an empty run.
    let o = batch(&empty, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// More than half the listed cases to close (a truncated extract does that)
/// stops the run: exit 8, no case closed, nothing written (with actions on
/// standard output, no closure among them); half is fine, and
/// `--max-closed-share` lets a portfolio sale through on purpose.
#[test]
fn closing_most_listed_cases_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let list = dir.path().join("open.txt");
    std::fs::write(&list, "A1\nGONE-1\nGONE-2\n").unwrap();
    let files = ["actions.jsonl", "rejects.jsonl", "summary.json"];
    let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim_end(),
        format!(
            "error: `{}` has 2 rows, and --open-cases would close 2 of the 3 listed cases as absent (67%, \
             more than --max-closed-share 50): a truncated or incomplete extract does that, so no case is \
             closed; no output written. If that many accounts did leave (a portfolio sale), run again \
             with --max-closed-share 67",
            input.display()
        )
    );
    for f in files {
        assert!(!dir.path().join(f).exists(), "{f} written");
    }
    // Actions on standard output: the extract's went out, which the line says; no closure did.
    let o = common::batch_in(
        crate::common::root(),
        "rules",
        &["--open-cases", p(&list), p(&input)],
    );
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\"account\":\"A1\""), "{out}");
    assert!(!out.contains("batch:open-cases"), "{out}");
    assert!(
        stderr(&o).contains("what went to --out (standard output) is incomplete"),
        "{}",
        stderr(&o)
    );
    // Just short of the share needed, then on purpose.
    for (share, code) in [("66", 8), ("67", 1), ("100", 1)] {
        let o = batch(
            &input,
            dir.path(),
            &["--open-cases", p(&list), "--max-closed-share", share],
        );
        assert_eq!(o.status.code(), Some(code), "{share}: {}", stderr(&o));
    }
    assert_eq!(summary(dir.path())["open_cases"]["closed_absent"], 2);
    // Half is not more than half.
    std::fs::write(&list, "A1\nA2\nGONE-1\nGONE-2\n").unwrap();
    let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // 0 refuses any closure; none to close is fine.
    let o = batch(
        &input,
        dir.path(),
        &["--open-cases", p(&list), "--max-closed-share", "0"],
    );
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    std::fs::write(&list, "A1\nA2\n").unwrap();
    let o = batch(
        &input,
        dir.path(),
        &["--open-cases", p(&list), "--max-closed-share", "0"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The share is about the open cases: without them, and out of range, a usage error.
    for flags in [
        &["--max-closed-share", "60"][..],
        &["--open-cases", p(&list), "--max-closed-share", "101"],
    ] {
        let o = batch(&input, dir.path(), flags);
        assert_eq!(o.status.code(), Some(64), "{flags:?}: {}", stderr(&o));
    }
}

/// A one-column header (`ACCT_NO`, the extract's id column, or a usual name
/// such as `account_id`) is not an account id: refused, never a case closed
/// for account `ACCT_NO`.
#[test]
fn a_header_line_in_the_open_cases_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    let list = dir.path().join("open.txt");
    for header in ["ACCT_NO", "acct_no", "# export\nAccount_Id"] {
        std::fs::write(&list, format!("{header}\nA1\nGONE-1\n")).unwrap();
        let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let name = header.lines().last().unwrap();
        let line = header.lines().count();
        assert!(
            stderr(&o).contains(&format!(
                "open.txt` line {line}: `{name}` is a column name, not an account id"
            )),
            "{}",
            stderr(&o)
        );
        assert!(!dir.path().join("actions.jsonl").exists());
    }
    // Further down, the same text is an id like any other.
    std::fs::write(&list, "A1\nACCT_NO\n").unwrap();
    let o = batch(&input, dir.path(), &["--open-cases", p(&list)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}
