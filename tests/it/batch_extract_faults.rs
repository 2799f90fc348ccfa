//! Faults an operator's extract may have, found by running the batch as an
//! operator would: CRLF line ends and blank lines (row numbers stay physical
//! line numbers), an unterminated quote, a repeated row, a companion named by
//! `--companion`, an input that is not a regular file or is empty.

use std::path::{Path, PathBuf};

use crate::batch::{p, GOOD};
use crate::common::{self, stderr};

/// A generated extract with some corrupt rows (`bad.csv` and its companions) in `dir`.
fn generated(dir: &Path) -> PathBuf {
    crate::outputs::corrupt_extract(dir);
    dir.join("bad.csv")
}

/// The batch's (actions, rejects, stderr, exit code) for `input` in `dir`.
fn run(dir: &Path, input: &Path, extra: &[&str]) -> (String, String, String, Option<i32>) {
    let rules = common::root().join("rules");
    let (out, rejects) = (dir.join("out.jsonl"), dir.join("rejects.jsonl"));
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&rejects);
    let args = [
        &["--out", p(&out), "--rejects", p(&rejects)][..],
        extra,
        &[p(input)],
    ]
    .concat();
    let o = common::batch_in(dir, &rules, &args);
    let read = |f: &Path| std::fs::read_to_string(f).unwrap_or_default();
    (read(&out), read(&rejects), stderr(&o), o.status.code())
}

/// Every `\n` of a file made `\r\n`.
fn to_crlf(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text.replace('\n', "\r\n")).unwrap();
}

/// The `"row"`/`"line"` numbers of JSON lines.
fn numbers(lines: &str, key: &str) -> Vec<u64> {
    lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()[key]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn crlf_line_ends_and_blank_lines_keep_row_numbers_physical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = generated(d);
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(!rejects.is_empty());
    // The extract and every companion with CRLF line ends: the same bytes out.
    for entry in std::fs::read_dir(d).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("bad.")
        {
            to_crlf(&path);
        }
    }
    let crlf = run(d, &input, &[]);
    assert_eq!(
        (crlf.0.as_str(), crlf.1.as_str()),
        (actions.as_str(), rejects.as_str()),
        "{}",
        crlf.2
    );
    // Only the header line CRLF, the last line's `\n` alone too. (A last
    // line without a line end is a cut transfer: `a_last_row_without_a_line_end_is_rejected`.)
    let text = std::fs::read_to_string(&input).unwrap();
    let (header, rest) = text.split_once("\r\n").unwrap();
    let mixed = format!("{header}\r\n{}", rest.replace("\r\n", "\n"));
    std::fs::write(&input, mixed).unwrap();
    let mixed = run(d, &input, &[]);
    assert_eq!(
        (mixed.0.as_str(), mixed.1.as_str()),
        (actions.as_str(), rejects.as_str()),
        "{}",
        mixed.2
    );
    // A blank line after line 3 (CRLF): every later row one line further down.
    let mut lines: Vec<&str> = text.split_inclusive("\r\n").collect();
    lines.insert(3, "\r\n");
    std::fs::write(&input, lines.concat()).unwrap();
    let (blank_actions, blank_rejects, err, _) = run(d, &input, &[]);
    let shift = |ns: Vec<u64>| {
        ns.into_iter()
            .map(|n| if n > 3 { n + 1 } else { n })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        numbers(&blank_actions, "row"),
        shift(numbers(&actions, "row")),
        "{err}"
    );
    assert_eq!(
        numbers(&blank_rejects, "line"),
        shift(numbers(&rejects, "line"))
    );
}

/// A quoted cell with a newline in it: the row is numbered by its first line,
/// the next row by its own.
#[test]
fn a_row_after_a_quoted_newline_has_its_own_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = crate::batch::small_extract(
        d,
        &[
            ("A1", GOOD.replace("2026-10-08", "\"2026-10-08\r\nx\"")),
            ("A2", GOOD.replace("212.00", "\"1O\"")),
        ],
    );
    to_crlf(&input);
    let (_, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(numbers(&rejects, "line"), [2, 4], "{rejects}");
}

/// A quote never closed swallows the rest of the file into one cell: the
/// batch stops (exit 2, nothing written) naming the line where it opened, in
/// the extract or a companion, instead of blaming the companion's order.
#[test]
fn an_unterminated_quote_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = common::arrears_in(
        d,
        &["generate", "--accounts", "20", "--seed", "1", "ex.csv"],
    );
    assert!(o.status.success());
    let input = d.join("ex.csv");
    let good = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    lines[10] = lines[10].replacen(",residential,", ",\"residential,", 1);
    assert!(lines[10].contains('"'));
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let (actions, _, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("error: input line 11: a quoted cell opened on this line is never closed (an unterminated quote)"),
        "{err}"
    );
    assert!(!err.contains("not in the input's account order"), "{err}");
    assert!(actions.is_empty() && !d.join("out.jsonl").exists());
    // In a companion (CRLF too).
    std::fs::write(&input, &good).unwrap();
    let sas = d.join("ex.sas.csv");
    let text = std::fs::read_to_string(&sas).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let cells: Vec<&str> = lines[3].split(',').collect();
    let broken = format!("{},\"{}", cells[0], cells[1..].join(","));
    lines[3] = broken;
    std::fs::write(&sas, lines.join("\r\n") + "\r\n").unwrap();
    let (_, _, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ex.sas.csv` line 4: a quoted cell opened on this line is never closed"),
        "{err}"
    );
    // A closed quote with a newline in the last row's last cell is a cell.
    std::fs::write(&sas, text).unwrap();
    // (The last row's last cell, FORECAST_HIGH_F, emptied: a newline, trimmed to empty.)
    let (before_last_cell, _) = good.trim_end_matches('\n').rsplit_once(',').unwrap();
    std::fs::write(&input, format!("{before_last_cell},\"\n\"\n")).unwrap();
    let (_, _, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.starts_with("20 rows read: 20 evaluated"), "{err}");
}

/// A row sent twice: the repeat is rejected naming the first row (its
/// companion rows went with that one), never evaluated as an account without
/// its lists; every other row's actions are unchanged.
#[test]
fn a_repeated_row_is_rejected_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = common::arrears_in(
        d,
        &["generate", "--accounts", "40", "--seed", "5", "ex.csv"],
    );
    assert!(o.status.success());
    let input = d.join("ex.csv");
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!((code, rejects.as_str()), (Some(0), ""), "{err}");
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let id = lines[5].split(',').next().unwrap().to_string();
    lines.insert(6, lines[5]);
    std::fs::write(&input, lines.concat()).unwrap();
    let (twice, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let reject: serde_json::Value = serde_json::from_str(rejects.trim()).unwrap();
    assert_eq!(reject["line"], 7);
    assert_eq!(reject["account"], id.as_str());
    assert!(
        reject["reason"].as_str().unwrap().contains(&format!(
            "account `{id}` repeats the row at line 6, its first row"
        )),
        "{reject}"
    );
    assert!(
        err.contains("41 rows read: 40 evaluated, 1 rejected"),
        "{err}"
    );
    assert!(!err.contains("warning"), "{err}");
    let shifted: Vec<serde_json::Value> = actions
        .lines()
        .map(|l| {
            let mut a: serde_json::Value = serde_json::from_str(l).unwrap();
            let row = a["row"].as_u64().unwrap();
            a["row"] = (if row > 6 { row + 1 } else { row }).into();
            a
        })
        .collect();
    let twice: Vec<serde_json::Value> = twice
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(twice, shifted);
}

/// A companion row's reject names the file read, `--companion`'s path or the
/// mapping's pattern filled in, never the pattern `{stem}.sas.csv`.
#[test]
fn a_companion_reject_names_the_file_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input =
        crate::batch::small_extract(d, &[("A1", GOOD.to_string()), ("A2", GOOD.to_string())]);
    let sas = "ACCT_NO,SA_ID,SA_TYPE,DEBT_CLASS,SA_ARREARS,LIFE_SUPPORT,SENSITIVE_LOAD,MASTER_METER,MED_CERT_UNTIL,SPACE_HEATING\n\
               A1,S1,electric,residential_energy,10.00,false,false,false,,\n\
               A2,S2,electric,residential_energy,1O.00,false,false,false,,\n";
    std::fs::write(d.join("small.sas.csv"), sas).unwrap();
    let other = d.join("elsewhere.csv");
    std::fs::write(&other, sas).unwrap();
    let (_, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let beside = format!("(`{}` line 3)", d.join("small.sas.csv").display());
    assert!(rejects.contains(&beside), "{rejects}");
    std::fs::write(d.join("small.sas.csv"), "not read").unwrap();
    let companion = format!("service_agreements={}", p(&other));
    let (_, rejects, err, code) = run(d, &input, &["--companion", &companion]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        rejects.contains(&format!("(`{}` line 3)", other.display())),
        "{rejects}"
    );
    assert!(!rejects.contains("{stem}"), "{rejects}");
}

/// A device or a directory given as a CSV extract is named as such (not as a
/// missing companion), and an empty CSV as empty (not as a header without the
/// mapped columns); an empty companion too.
#[test]
fn a_device_a_directory_or_an_empty_csv_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (input, needle) in [
        (
            "/dev/zero",
            "`/dev/zero` is a character device, not a file or a FIFO",
        ),
        (".", "`.` is a directory, not a file or a FIFO"),
    ] {
        // Before anything else: without --input-format too, although the name tells no format.
        for flags in [&["--input-format", "csv"][..], &[], &["--max-rejects", "1"]] {
            let (_, _, err, code) = run(d, Path::new(input), flags);
            assert_eq!(code, Some(2), "{flags:?}: {err}");
            assert_eq!(err.trim_end(), format!("error: {needle}"));
        }
    }
    let input = crate::batch::small_extract(d, &[("A1", GOOD.to_string())]);
    std::fs::write(&input, "").unwrap();
    let (_, _, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("small.csv` is empty (0 bytes): a CSV extract starts with its header row"),
        "{err}"
    );
    // Through a FIFO or standard input the size is not known: the reader says it.
    let companion = |name: &str, file: &str| format!("{name}={}", p(&d.join(file)));
    let lists = [
        ("service_agreements", "sas"),
        ("promises", "promises"),
        ("promises.payments", "payments"),
        ("dispositions", "dispositions"),
        ("case.events", "case_events"),
        ("contacts", "contacts"),
        ("case.removed_sas", "removed_sas"),
    ];
    let companions: Vec<String> = lists
        .iter()
        .map(|(list, suffix)| companion(list, &format!("small.{suffix}.csv")))
        .collect();
    let mut args = vec!["--input-format", "csv"];
    for c in &companions {
        args.extend(["--companion", c.as_str()]);
    }
    args.push("-");
    let o = common::batch_command(common::root(), "rules", &args)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the input is empty (no header row)"),
        "{}",
        stderr(&o)
    );
    crate::batch::small_extract(d, &[("A1", GOOD.to_string())]);
    std::fs::write(d.join("small.sas.csv"), "").unwrap();
    let (_, _, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("small.sas.csv` is empty (no header row)"),
        "{err}"
    );
}

/// A generated 40-row extract in `dir` (`ex.csv` and its companions), and its actions.
fn forty_accounts(dir: &Path) -> (PathBuf, String) {
    let o = common::arrears_in(
        dir,
        &["generate", "--accounts", "40", "--seed", "5", "ex.csv"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let input = dir.join("ex.csv");
    let (actions, rejects, err, code) = run(dir, &input, &[]);
    assert_eq!((code, rejects.as_str()), (Some(0), ""), "{err}");
    (input, actions)
}

/// The account id of a CSV extract's last row.
fn account_of_last(csv: &[u8]) -> String {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let last = text.trim_end().lines().last().unwrap().to_string();
    last.split(',').next().unwrap().to_string()
}

/// `file` with line `n` (1-based) given to `edit` as bytes.
fn edit_line(file: &Path, n: usize, edit: impl FnOnce(&[u8]) -> Vec<u8>) {
    let bytes = std::fs::read(file).unwrap();
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines[n - 1] = edit(&lines[n - 1]);
    std::fs::write(file, lines.join(&b'\n')).unwrap();
}

/// `actions` without those of `account`.
fn without(actions: &str, account: &str) -> String {
    let tag = format!("{{\"account\":\"{account}\",");
    actions
        .lines()
        .filter(|l| !l.starts_with(&tag))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn one_reject(rejects: &str) -> serde_json::Value {
    assert_eq!(rejects.lines().count(), 1, "{rejects}");
    serde_json::from_str(rejects.trim()).unwrap()
}

/// One bad cell of an extract row (not UTF-8, or a blank account id) is that
/// row's reject, naming the line and field: its companion rows go with it,
/// and every other account is evaluated with its own rows, as without it.
#[test]
fn a_row_with_a_bad_cell_or_a_blank_id_is_one_reject_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, clean) = forty_accounts(d);
    let original = std::fs::read(&input).unwrap();
    // Line 8 is AC000000007: an SA, a promise, case events and contacts in
    // the companions; the next account with contacts is AC000000012.
    let line8 =
        String::from_utf8(original.split(|&b| b == b'\n').nth(7).unwrap().to_vec()).unwrap();
    assert!(line8.starts_with("AC000000007,residential,IL,"), "{line8}");

    // A byte that is not UTF-8 in the jurisdiction.
    edit_line(&input, 8, |l| {
        let at = l.windows(4).position(|w| w == b",IL,").unwrap();
        [&l[..at], &b",I\xffL,"[..], &l[at + 4..]].concat()
    });
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let reject = one_reject(&rejects);
    assert_eq!(reject["line"], 8);
    assert_eq!(reject["account"], "AC000000007");
    assert_eq!(reject["field"], "account.jurisdiction");
    assert_eq!(
        reject["reason"],
        "column `JURIS` is not valid UTF-8 (`I\\xFFL`): the extract is read as UTF-8, so the row is not evaluated"
    );
    assert!(
        err.contains("40 rows read: 39 evaluated, 1 rejected"),
        "{err}"
    );
    assert_eq!(actions, without(&clean, "AC000000007"));

    // A blank account id: its rows in each companion are those that come
    // before the next account's there and belong to no later row.
    std::fs::write(&input, &original).unwrap();
    edit_line(&input, 8, |l| {
        l[l.iter().position(|&b| b == b',').unwrap()..].to_vec()
    });
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let reject = one_reject(&rejects);
    assert_eq!(reject["line"], 8);
    assert_eq!(reject["account"], serde_json::Value::Null);
    assert_eq!(reject["field"], "account.id");
    let reason = reject["reason"]
        .as_str()
        .unwrap()
        .replace(&format!("{}/", d.display()), "");
    assert!(
        reason.starts_with("the account id (column `ACCT_NO`) is empty, so the row is no account's and is not evaluated; its companion rows, keyed by the id it lost, are taken with it and not evaluated either: `ex.sas.csv` line 9 (account `AC000000007`); in `ex.promises.csv`,"),
        "{reason}"
    );
    assert!(
        err.contains("40 rows read: 39 evaluated, 1 rejected"),
        "{err}"
    );
    assert_eq!(actions, without(&clean, "AC000000007"));

    // An account id that is not UTF-8 is no id either.
    std::fs::write(&input, &original).unwrap();
    edit_line(&input, 8, |l| [&b"AC00000\xff007"[..], &l[11..]].concat());
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let reject = one_reject(&rejects);
    assert_eq!(
        (reject["line"].as_u64(), reject["field"].as_str()),
        (Some(8), Some("account.id"))
    );
    assert!(
        reject["reason"]
            .as_str()
            .unwrap()
            .starts_with("column `ACCT_NO` is not valid UTF-8 (`AC00000\\xFF007`)"),
        "{reject}"
    );
    assert_eq!(actions, without(&clean, "AC000000007"));
}

/// Several rows in a row without an account id (the tester's repro: two
/// neighbours blanked) are each a reject: the accounts whose rows stand before
/// the next account's in each companion are theirs, and every other account is
/// evaluated with its own rows, as without them.
#[test]
fn neighbouring_rows_without_an_id_are_each_a_reject_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, clean) = forty_accounts(d);
    let original = std::fs::read(&input).unwrap();
    for blanked in [&[4, 5][..], &[2, 3], &[7, 8, 9], &[4, 6]] {
        std::fs::write(&input, &original).unwrap();
        for &line in blanked {
            edit_line(&input, line, |l| {
                l[l.iter().position(|&b| b == b',').unwrap()..].to_vec()
            });
        }
        let (actions, rejects, err, code) = run(d, &input, &[]);
        assert_eq!(code, Some(1), "{blanked:?}: {err}");
        let lines: Vec<u64> = rejects
            .lines()
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(r).unwrap()["line"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            lines,
            blanked.iter().map(|&l| l as u64).collect::<Vec<_>>(),
            "{rejects}"
        );
        let mut expected = clean.clone();
        for &line in blanked {
            expected = without(&expected, &format!("AC{:09}", line - 1));
        }
        assert_eq!(actions, expected, "{blanked:?}");
    }
}

/// Rows taken for a row without an id that belong to a later row (a
/// companion out of the input's order) reject that later row, naming why,
/// instead of evaluating it without them.
#[test]
fn rows_taken_for_a_row_without_an_id_reject_their_account_if_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, _) = forty_accounts(d);
    // AC000000003's id blanked; AC000000005's SA moved before AC000000004's.
    edit_line(&input, 4, |l| {
        l[l.iter().position(|&b| b == b',').unwrap()..].to_vec()
    });
    let sas = d.join("ex.sas.csv");
    let text = std::fs::read_to_string(&sas).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let of = |lines: &[&str], id: &str| lines.iter().position(|l| l.starts_with(id)).unwrap();
    let (four, five) = (of(&lines, "AC000000004,"), of(&lines, "AC000000005,"));
    assert_eq!(five, four + 1, "one SA each: {text}");
    lines.swap(four, five);
    let three = of(&lines, "AC000000003,");
    lines.remove(three);
    std::fs::write(&sas, lines.join("\n") + "\n").unwrap();
    let (_, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    let rejects: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(
        (rejects[0]["line"].as_u64(), rejects[0]["field"].as_str()),
        (Some(4), Some("account.id"))
    );
    assert_eq!(rejects[1]["line"], 6);
    assert_eq!(rejects[1]["account"], "AC000000005");
    assert!(
        rejects[1]["reason"].as_str().unwrap().contains("came right after the row at line 4, whose account id is empty or not UTF-8, and were taken as that row's"),
        "{rejects:?}"
    );
}

/// A byte that is not UTF-8 in a companion row is a reject of the account
/// that takes the row, naming the file, line, column and field, as the
/// extract's own cells are: never a `\u{FFFD}` passed on, nor an enum's
/// "not one of" over mojibake. One in the account id: a row among an
/// account's rows is that account's; one between two accounts' rows rejects
/// every account whose rows could stand there and whose id it could be.
#[test]
fn a_companion_cell_that_is_not_utf8_rejects_the_account_that_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, clean) = forty_accounts(d);
    let events = d.join("ex.case_events.csv");
    let original = std::fs::read(&events).unwrap();
    // Lines 2-8 are AC000000007's events (line 4 its `first-call`, line 8
    // its promise's callback, which the generated history holds), lines
    // 9-14 AC000000012's; the extract has AC000000007 to AC000000012 at lines 8-13.
    let line = |n: usize| {
        String::from_utf8(original.split(|&b| b == b'\n').nth(n - 1).unwrap().to_vec()).unwrap()
    };
    assert!(
        line(4).starts_with("AC000000007,first-call,call,"),
        "{}",
        line(4)
    );
    assert!(line(8).starts_with("AC000000007,") && line(9).starts_with("AC000000012,"));
    let replace = |l: &[u8], from: &[u8], to: &[u8]| {
        let at = l.windows(from.len()).position(|w| w == from).unwrap();
        [&l[..at], to, &l[at + from.len()..]].concat()
    };
    let rejected = |n: usize, from: &[u8], to: &[u8]| {
        std::fs::write(&events, &original).unwrap();
        edit_line(&events, n, |l| replace(l, from, to));
        let (actions, rejects, err, code) = run(d, &input, &[]);
        assert_eq!(code, Some(1), "{err}");
        let rejects: Vec<serde_json::Value> = rejects
            .replace(&format!("{}/", d.display()), "")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let mut expected = clean.clone();
        for r in &rejects {
            expected = without(&expected, r["account"].as_str().unwrap());
        }
        assert_eq!(actions, expected);
        rejects
    };

    // A text cell: the event id is not passed on as `first-\u{FFFD}call`.
    let r = rejected(4, b"first-call", b"first-\xffcall");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0]["line"].as_u64(), r[0]["account"].as_str()),
        (Some(8), Some("AC000000007"))
    );
    assert_eq!(r[0]["field"], "account.case.events[2].id");
    assert_eq!(
        r[0]["reason"],
        "column `EVENT_ID` of `ex.case_events.csv` line 4 is not valid UTF-8 (`first-\\xFFcall`): the companion files are read as UTF-8, so the account's row is not evaluated"
    );

    // An enum cell says so too, not "not one of" the variants.
    let r = rejected(4, b",call,", b",c\xffll,");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["field"], "account.case.events[2].type");
    assert!(
        r[0]["reason"].as_str().unwrap().starts_with(
            "column `EVENT_TYPE` of `ex.case_events.csv` line 4 is not valid UTF-8 (`c\\xFFll`)"
        ),
        "{r:?}"
    );

    // The account id, among the account's own rows: that account's.
    let r = rejected(4, b"AC000000007", b"AC00000\xff007");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0]["line"].as_u64(), r[0]["account"].as_str()),
        (Some(8), Some("AC000000007"))
    );
    assert!(
        r[0]["reason"].as_str().unwrap().starts_with("the account id (column `ACCT_NO`) of `ex.case_events.csv` line 4 is not valid UTF-8 (`AC00000\\xFF007`); the row stands among this account's rows there, so it is taken as theirs"),
        "{r:?}"
    );

    // Between AC000000007's rows and AC000000012's: of the accounts read
    // from the one to the other, only AC000000012 has an id it could be.
    let r = rejected(9, b"AC000000012", b"AC0000000\xff2");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0]["line"].as_u64(), r[0]["account"].as_str()),
        (Some(13), Some("AC000000012"))
    );
    assert_eq!(r[0]["field"], "account.case.events");
    assert_eq!(
        r[0]["reason"],
        "`ex.case_events.csv` line 9: the account id (column `ACCT_NO`) is not valid UTF-8 (`AC0000000\\xFF2`), so the rows cannot be matched to an account by id; they stand where this account's rows would (before account `AC000000012`'s rows there) and the id could be this account's, so the row is not evaluated (without them it could be wrong)"
    );
    // The last account's last row: that account's, at the end of the file.
    let r = rejected(8, b"AC000000007", b"AC00000\xff007");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["account"], "AC000000007");

    // An id a byte longer could be any of them: each is rejected.
    let r = rejected(9, b"AC000000012", b"AC0000000\xff12");
    let lines: Vec<u64> = r.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [8, 9, 10, 11, 12, 13], "{r:?}");

    // An id no account there could have: its rows belong to no row, as a
    // companion row of an account not in the input, and the run stops.
    std::fs::write(&events, &original).unwrap();
    edit_line(&events, 9, |l| {
        replace(l, b"AC000000012", b"XX00000\xff012")
    });
    let (actions, _, err, code) = run(d, &input, &[]);
    let err = err.replace(&format!("{}/", d.display()), "");
    assert_eq!((code, actions.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.contains("error: companion `ex.case_events.csv` line 9: the account id (column `ACCT_NO`) is not valid UTF-8 (`XX00000\\xFF012`), and no account of the input whose rows could stand there has an id it could be"),
        "{err}"
    );
}

/// A companion row out of the extract's order stops the run naming the
/// misplaced row's line, and the line of the rows it stands beside: rows
/// that stand before their place (`A3`'s, ahead of `A1`'s) and rows that
/// stand after it (`A1`'s again, after `A2`'s) alike.
#[test]
fn an_out_of_order_companion_row_is_named_with_its_neighbour() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = [
        ("A1", GOOD.to_string()),
        ("A2", GOOD.to_string()),
        ("A3", GOOD.to_string()),
    ];
    let input = crate::batch::small_extract(d, &rows);
    let contacts = d.join("small.contacts.csv");
    let header = "ACCT_NO,CONTACT_DATE,CONTACT_TIME,CHANNEL,OUTCOME\n";
    for (rows, needle) in [
        (
            "A3,2026-11-18,10:00,call,no_answer\n\
             A1,2026-11-18,10:00,call,no_answer\n\
             A1,2026-11-19,10:00,call,no_answer\n",
            "small.contacts.csv` line 3: account `A1`'s rows are not taken by any row of the input: they come after account `A3`'s (line 2), and no row of the input after `A3`'s is `A1`'s. Either `A3`'s rows (line 2) stand before their place (the input has `A1` before `A3`: move them after `A1`'s rows)",
        ),
        (
            "A1,2026-11-18,10:00,call,no_answer\n\
             A2,2026-11-18,10:00,call,no_answer\n\
             A2,2026-11-19,10:00,call,no_answer\n\
             A1,2026-11-20,10:00,call,no_answer\n",
            "small.contacts.csv` line 5: account `A1`'s rows are not taken by any row of the input: they come after account `A2`'s (lines 3-4), and no row of the input after `A2`'s is `A1`'s. Either `A2`'s rows (lines 3-4) stand before their place (the input has `A1` before `A2`: move them after `A1`'s rows), or `A1`'s rows from line 5 stand after theirs (`A1` comes earlier in the input: move them there) (companion files",
        ),
        (
            "A9,2026-11-18,10:00,call,no_answer\n",
            "small.contacts.csv` line 2: no row of the input has account id `A9`, so the rows for it from line 2 belong to no account (remove them",
        ),
    ] {
        std::fs::write(&contacts, format!("{header}{rows}")).unwrap();
        let (actions, _, err, code) = run(d, &input, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(needle), "{needle}\n{err}");
        assert!(actions.is_empty());
    }
}

/// A companion row of an account the extract does not have at all (between
/// two accounts it has) is said to be that: not the two-way "misplaced"
/// message, half of which ("the input has `A9` before `A1`") would be false.
/// The run stops as for any companion row left over: nothing written.
#[test]
fn a_companion_row_of_an_account_not_in_the_input_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = [("A1", GOOD.to_string()), ("A2", GOOD.to_string())];
    let input = crate::batch::small_extract(d, &rows);
    let contacts = d.join("small.contacts.csv");
    let header = "ACCT_NO,CONTACT_DATE,CONTACT_TIME,CHANNEL,OUTCOME\n";
    std::fs::write(
        &contacts,
        format!(
            "{header}A1,2026-11-18,10:00,call,no_answer\n\
             A9,2026-11-18,10:00,call,no_answer\n\
             A2,2026-11-18,10:00,call,no_answer\n"
        ),
    )
    .unwrap();
    let (actions, _, err, code) = run(d, &input, &[]);
    let err = err.replace(&format!("{}/", d.display()), "");
    assert_eq!((code, actions.as_str()), (Some(2), ""), "{err}");
    assert_snapshot!("companion_row_of_an_account_not_in_the_input", err);

    // Out of order, of an account the input has (rejected: its row is
    // short): misplaced, said both ways, and not "not in the input".
    let input = crate::batch::small_extract(
        d,
        &[
            ("A1", GOOD.to_string()),
            ("A9", "short,row".to_string()),
            ("A2", GOOD.to_string()),
        ],
    );
    std::fs::write(
        &contacts,
        format!(
            "{header}A1,2026-11-18,10:00,call,no_answer\n\
             A2,2026-11-18,10:00,call,no_answer\n\
             A9,2026-11-18,10:00,call,no_answer\n"
        ),
    )
    .unwrap();
    // (No rejects file is written either: the run fails.)
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(
        (code, actions.as_str(), rejects.as_str()),
        (Some(2), "", ""),
        "{err}"
    );
    assert!(
        err.contains("line 4: account `A9`'s rows are not taken by any row of the input: they come after account `A2`'s (line 3)"),
        "{err}"
    );
    assert!(!err.contains("is not in the input"), "{err}");
}

/// `file` without its last `n` bytes: a transfer cut short.
fn cut(file: &Path, n: usize) {
    let bytes = std::fs::read(file).unwrap();
    std::fs::write(file, &bytes[..bytes.len() - n]).unwrap();
}

/// A file whose last line has no line end was cut inside it (a forecast of
/// 95 read as 9 lets a disconnection out): that row is a reject naming its
/// line, column and why, in the extract, a companion (the account that takes
/// the row) or JSON Lines (unless the line is whole JSON, which closes
/// itself; the account named when its id was read whole before the cut), and
/// every other account is evaluated as without it.
#[test]
fn a_last_row_without_a_line_end_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, clean) = forty_accounts(d);
    let original = std::fs::read(&input).unwrap();
    let account = account_of_last(&original);
    let mut shown = Vec::new();
    for n in [2, 1] {
        std::fs::write(&input, &original).unwrap();
        cut(&input, n);
        let (actions, rejects, err, code) = run(d, &input, &[]);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.starts_with("40 rows read: 39 evaluated, 1 rejected"),
            "{err}"
        );
        assert_eq!(actions, without(&clean, &account));
        let reject = one_reject(&rejects);
        assert_eq!(
            (reject["line"].as_u64(), reject["account"].as_str()),
            (Some(41), Some(&*account))
        );
        shown.push(rejects);
    }
    std::fs::write(&input, &original).unwrap();

    // A companion's last row: the account that takes it.
    let contacts = d.join("ex.contacts.csv");
    let whole = std::fs::read(&contacts).unwrap();
    let account = account_of_last(&whole);
    let lines = whole.iter().filter(|&&b| b == b'\n').count();
    cut(&contacts, 2);
    let (actions, rejects, err, code) = run(d, &input, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(actions, without(&clean, &account));
    let reject = one_reject(&rejects);
    assert_eq!(reject["account"].as_str(), Some(&*account));
    assert!(
        reject["reason"].as_str().unwrap().contains(&format!(
            "ex.contacts.csv` line {lines}, the file's last, has no line end"
        )),
        "{rejects}"
    );
    shown.push(rejects.replace(&format!("{}/", d.display()), ""));
    // Cut inside the account id: its rows are no account's, and the run says
    // the line was cut.
    let id_end = whole[..whole.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 6;
    std::fs::write(&contacts, &whole[..id_end]).unwrap();
    let (actions, _, err, code) = run(d, &input, &[]);
    assert_eq!((code, actions.as_str()), (Some(2), ""), "{err}");
    assert!(
        err.contains(&format!(
            "line {lines}, the file's last, has no line end and ends inside its account id"
        )),
        "{err}"
    );
    std::fs::write(&contacts, &whole).unwrap();

    // The extract's last row cut inside its account id: no account's (not
    // the account of the shorter id), so the real one is not taken as absent.
    let last_start = original[..original.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    std::fs::write(&input, &original[..last_start + 6]).unwrap();
    let (actions, rejects, err, code) = run(d, &input, &[]);
    let cut_id = String::from_utf8(original[last_start..last_start + 6].to_vec()).unwrap();
    match code {
        // Its companion rows are then no row's: the run stops.
        Some(2) => assert!(
            actions.is_empty() && err.contains(&account_of_last(&original)),
            "{err}"
        ),
        _ => {
            assert_eq!(code, Some(1), "{err}");
            let reject = one_reject(&rejects);
            assert!(reject["account"].is_null(), "{rejects}");
            assert!(!actions.contains(&format!("\"{cut_id}\"")), "{actions}");
        }
    }
    std::fs::write(&input, &original).unwrap();

    // JSON Lines: a cut line is a reject; a whole one without its `\n` is read.
    let o = common::arrears_in(
        d,
        &[
            "generate",
            "--accounts",
            "40",
            "--seed",
            "5",
            "--format",
            "jsonl",
            "ex.jsonl",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = d.join("ex.jsonl");
    let whole = std::fs::read(&jsonl).unwrap();
    let (clean, _, err, code) = run(d, &jsonl, &[]);
    assert_eq!(code, Some(0), "{err}");
    cut(&jsonl, 1);
    let (actions, rejects, err, code) = run(d, &jsonl, &[]);
    assert_eq!((code, rejects.as_str()), (Some(0), ""), "{err}");
    assert_eq!(actions, clean);
    std::fs::write(&jsonl, &whole).unwrap();
    cut(&jsonl, 10);
    let (actions, rejects, err, code) = run(d, &jsonl, &[]);
    assert_eq!(code, Some(1), "{err}");
    let last: serde_json::Value = serde_json::from_slice(
        whole
            .trim_ascii_end()
            .rsplit(|&b| b == b'\n')
            .next()
            .unwrap(),
    )
    .unwrap();
    let id = last["id"].as_str().unwrap();
    assert_eq!(actions, without(&clean, id));
    // Named by the id read whole before the cut, as a CSV row is.
    let reject = one_reject(&rejects);
    assert_eq!(
        (reject["line"].as_u64(), reject["account"].as_str()),
        (Some(40), Some(id))
    );
    shown.push(rejects);
    // Cut inside the id: no account named (not the shorter id's).
    let trimmed = whole.trim_ascii_end();
    let at = trimmed.len() - trimmed.rsplit(|&b| b == b'\n').next().unwrap().len();
    let in_id = at + std::str::from_utf8(&whole[at..]).unwrap().find(id).unwrap() + 4;
    std::fs::write(&jsonl, &whole[..in_id]).unwrap();
    let (actions, rejects, err, code) = run(d, &jsonl, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(actions, without(&clean, id));
    let reject = one_reject(&rejects);
    assert_eq!(reject["line"].as_u64(), Some(40));
    assert!(reject["account"].is_null(), "{rejects}");
    assert_snapshot!("last_row_without_a_line_end", shown.concat());
}
