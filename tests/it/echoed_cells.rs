//! Tester 18 item 2: a reject echoes a bad cell clipped to a readable length
//! with the length it had (`diagnostic::echoed`), never the whole value: a
//! 200,000-character time zone, enum, amount or date gives a short line.

use crate::batch::{batch_with, generate};
use crate::common;

#[test]
fn a_huge_bad_cell_is_echoed_clipped_with_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let extract = generate(dir.path(), "x.csv", 8, 3, &[]);
    let mut reader = csv::Reader::from_path(&extract).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let huge = |start: &str| format!("{start}{}", "é".repeat(200_000));
    // (row, column, value): each a different decoding or evaluation path.
    let bad = [
        (0, "TIME_ZONE", huge("America/")),
        (1, "JURIS", huge("Z")),
        (2, "ARREARS_AMT", huge("1")),
        (3, "LAST_PAY_DATE", huge("2026-")),
    ];
    for (row, column, value) in &bad {
        let col = header.iter().position(|h| h == *column).unwrap();
        let mut cells: Vec<String> = rows[*row].iter().map(str::to_string).collect();
        cells[col] = value.clone();
        rows[*row] = csv::StringRecord::from(cells);
    }
    let mut writer = csv::Writer::from_path(&extract).unwrap();
    writer.write_record(&header).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
    let (_, rejects, _) = batch_with(
        &common::root().join("rules"),
        &extract,
        &dir.path().join("out"),
        &[],
    );
    assert_eq!(rejects.len(), bad.len(), "{rejects:?}");
    for ((row, _, value), reject) in bad.iter().zip(&rejects) {
        assert_eq!(reject["line"], row + 2, "{reject}");
        let line = reject.to_string();
        assert!(line.len() < 600, "{} bytes: {}", line.len(), &line[..600]);
        let reason = reject["reason"].as_str().unwrap();
        let marker = format!("… ({} characters in all)", value.chars().count());
        assert!(reason.contains(&marker), "no `{marker}`: {reason}");
    }
}
