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
    // Only the header line CRLF, and a last line without its newline.
    let text = std::fs::read_to_string(&input).unwrap();
    let (header, rest) = text.split_once("\r\n").unwrap();
    let mixed = format!("{header}\r\n{}", rest.replace("\r\n", "\n"));
    std::fs::write(&input, mixed.trim_end_matches('\n')).unwrap();
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
        ("case.contacts", "contacts"),
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
