//! `arrears batch` and `arrears generate` end to end: nothing lost, output
//! independent of the thread count, rejects with the right line numbers, no
//! half-written files, deterministic generation, CSV and JSON Lines agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::common;

use common::{arrears, copy_dir, root, stderr};

pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

pub(crate) fn generate(dir: &Path, name: &str, n: u64, seed: u64, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let n = n.to_string();
    let seed = seed.to_string();
    let mut args = vec!["generate", "--accounts", &n, "--seed", &seed];
    args.extend_from_slice(extra);
    args.push(p(&out));
    let o = arrears(&args);
    assert!(o.status.success(), "generate: {}", stderr(&o));
    out
}

/// Runs a batch of the shipped rules into `dir`; returns the process output.
pub(crate) fn batch(input: &Path, dir: &Path, extra: &[&str]) -> Output {
    run_batch(Path::new("rules"), input, dir, extra)
}

/// Runs a batch of `rules` into `dir` (actions, rejects and summary files).
fn run_batch(rules: &Path, input: &Path, dir: &Path, extra: &[&str]) -> Output {
    let out = dir.join("actions.jsonl");
    let rejects = dir.join("rejects.jsonl");
    let summary = dir.join("summary.json");
    let args = [
        &[
            "--out",
            p(&out),
            "--rejects",
            p(&rejects),
            "--summary",
            p(&summary),
        ][..],
        extra,
        &[p(input)],
    ]
    .concat();
    common::batch_in(root(), rules, &args)
}

pub(crate) fn json_lines(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub(crate) fn summary(dir: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn nothing_is_lost_with_corrupt_rows() {
    for format in ["csv", "jsonl"] {
        let dir = tempfile::tempdir().unwrap();
        let input = generate(
            dir.path(),
            &format!("extract.{format}"),
            4000,
            11,
            &["--corrupt-rate", "0.05", "--format", format],
        );
        let o = batch(&input, dir.path(), &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let s = summary(dir.path());
        let (read, evaluated, rejected) = (
            s["rows_read"].as_u64().unwrap(),
            s["evaluated"].as_u64().unwrap(),
            s["rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, 4000, "{format}");
        assert_eq!(read, evaluated + rejected, "{format}");
        assert!(s["balanced"].as_bool().unwrap());
        // ~5% of 4,000 rows broken.
        assert!(
            (100..=320).contains(&rejected),
            "{format}: {rejected} rejects"
        );

        // Every data line is in exactly one of: the actions (via `row`, possibly
        // several actions) or the rejects (exactly once); never both.
        let first_line = if format == "csv" { 2 } else { 1 };
        let evaluated_rows: BTreeSet<u64> = json_lines(&dir.path().join("actions.jsonl"))
            .iter()
            .map(|a| a["row"].as_u64().unwrap())
            .collect();
        let rejects = json_lines(&dir.path().join("rejects.jsonl"));
        let mut rejected_rows = BTreeSet::new();
        for r in &rejects {
            assert!(
                rejected_rows.insert(r["line"].as_u64().unwrap()),
                "line rejected twice: {r}"
            );
        }
        assert_eq!(rejected_rows.len() as u64, rejected);
        assert!(evaluated_rows.is_disjoint(&rejected_rows));
        // Rows without actions are evaluated too: all others are accounted for.
        let all: BTreeSet<u64> = (first_line..first_line + 4000).collect();
        assert!(evaluated_rows.is_subset(&all) && rejected_rows.is_subset(&all));
        assert_eq!(
            all.difference(&rejected_rows).count() as u64,
            evaluated,
            "{format}"
        );
        // Every kind of corruption shows up.
        let reasons: String = rejects
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        for needle in ["12,5O", "mortgage", "2026-02-30"] {
            assert!(reasons.contains(needle), "{format}: no `{needle}` reject");
        }
    }
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "x.csv", 6000, 3, &["--corrupt-rate", "0.02"]);
    let mut outputs = Vec::new();
    for (threads, chunk) in [("1", "16384"), ("0", "700"), ("3", "97")] {
        let run = tempfile::tempdir().unwrap();
        let o = batch(
            &input,
            run.path(),
            &["--threads", threads, "--chunk-rows", chunk],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        outputs.push((
            std::fs::read(run.path().join("actions.jsonl")).unwrap(),
            std::fs::read(run.path().join("rejects.jsonl")).unwrap(),
        ));
    }
    assert!(!outputs[0].0.is_empty());
    assert!(outputs.iter().all(|o| o == &outputs[0]));
    // RAYON_NUM_THREADS=1 with the default pool is the same again.
    let run = tempfile::tempdir().unwrap();
    let out = run.path().join("a.jsonl");
    let o = common::batch_command(root(), "rules", &["--out", p(&out), p(&input)])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(std::fs::read(out).unwrap(), outputs[0].0);
}

const HEADER: &str = "ACCT_NO,CUST_CLASS,JURIS,PRODUCT,DPD,ARREARS_AMT,BALANCE,CREDIT_LIMIT,RISK_SCORE,BANKRUPTCY,DECEASED,HARDSHIP,CONTACT_INVALID,FORCED,PSR,BUDGET_PLAN,PAY_PLAN_ACTIVE,PAY_PLAN_DUE,LAST_PAY_DATE,CASE_CATEGORY,CASE_CLASS,CASE_TEMPLATE,CASE_ARM,CASE_START,TIME_ZONE,BS_START,BS_CRISIS,BS_CRISIS_END,VALIDATION_DATE,DISPUTE_DATE,DISPUTE_VERIFIED,FORECAST_LOW_F,FORECAST_HIGH_F";
/// The guard rails' columns of a row (after CASE_START), all empty: `small_extract` adds them.
pub(crate) const NO_GUARD_FIELDS: &str = ",,,,,,,,,";
pub(crate) const GOOD: &str = "residential,IL,card,7,212.00,6480.12,8000.00,701,false,false,false,false,false,,false,false,0.00,2026-10-08,,,,,";

/// Writes a small extract with empty companion files; `rows` are (id, rest of the row up to
/// CASE_START), each given empty guard-rail columns ([`NO_GUARD_FIELDS`]).
pub(crate) fn small_extract(dir: &Path, rows: &[(&str, String)]) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for (id, rest) in rows {
        text.push_str(&format!("{id},{rest}{NO_GUARD_FIELDS}\n"));
    }
    let input = dir.join("small.csv");
    std::fs::write(&input, text).unwrap();
    for (suffix, header) in [
        ("sas", "ACCT_NO,SA_ID,SA_TYPE,DEBT_CLASS,SA_ARREARS,LIFE_SUPPORT,SENSITIVE_LOAD,MASTER_METER,MED_CERT_UNTIL,SPACE_HEATING\n"),
        ("promises", "ACCT_NO,PROMISE_ID,PLAN_ID,AMOUNT,DUE_DATE\n"),
        ("payments", "ACCT_NO,PROMISE_ID,AMOUNT,PAID_ON\n"),
        ("dispositions", "ACCT_NO,DISP_DATE,STATUS,REASON,RESOLUTION\n"),
        ("case_events", "ACCT_NO,EVENT_ID,EVENT_TYPE,EVENT_DATE,EVENT_TIME,EVENT_STATUS\n"),
        ("contacts", "ACCT_NO,CONTACT_DATE,CONTACT_TIME,CHANNEL,OUTCOME\n"),
        ("removed_sas", "ACCT_NO,SA_ID\n"),
    ] {
        std::fs::write(dir.join(format!("small.{suffix}.csv")), header).unwrap();
    }
    input
}

/// A reject's field (if one is named) and a piece of its reason; `None`: evaluated.
type Expected = Option<(Option<&'static str>, &'static str)>;

#[test]
fn rejects_carry_line_numbers_accounts_and_fields() {
    // (id, row after the id, expected reject: field and a piece of the reason)
    let cases: Vec<(&str, String, Expected)> = vec![
        ("A1", GOOD.to_string(), None),
        (
            "A2",
            GOOD.replace("212.00", "\"12,5O\""),
            Some((Some("account.arrears"), "12,5O")),
        ),
        (
            "A3",
            GOOD.replace(",card,", ",mortgage,"),
            Some((Some("account.product"), "mortgage")),
        ),
        (
            "A4",
            GOOD.replace(",7,", ",,"),
            Some((Some("account.days_past_due"), "missing")),
        ),
        (
            "A5",
            GOOD.replace("2026-10-08", "2026-02-30"),
            Some((Some("account.last_payment_date"), "2026-02-30")),
        ),
        (
            "A6",
            GOOD.strip_suffix(',').unwrap().to_string(),
            Some((None, "expected 33 columns, found 32")),
        ),
        // Arithmetic overflow in the entry table: arrears - scheduled pay-plan payments.
        (
            "A7",
            GOOD.replace("212.00", "79228162514264337593543950335")
                .replace(",0.00,2026", ",-79228162514264337593543950335,2026"),
            Some((None, "evaluation failed")),
        ),
        ("A8", GOOD.replace("true", "false"), None),
        (
            "A9",
            GOOD.replace(",false,false,0.00,", ",false,maybe,0.00,"),
            Some((Some("account.pay_plan.active"), "maybe")),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<(&str, String)> = cases.iter().map(|(id, r, _)| (*id, r.clone())).collect();
    let input = small_extract(dir.path(), &rows);
    let o = batch(&input, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let rejects: BTreeMap<u64, Json> = json_lines(&dir.path().join("rejects.jsonl"))
        .into_iter()
        .map(|r| (r["line"].as_u64().unwrap(), r))
        .collect();
    let expected = cases.iter().filter(|c| c.2.is_some()).count();
    assert_eq!(rejects.len(), expected, "{rejects:?}");
    for (i, (id, _, expect)) in cases.iter().enumerate() {
        let line = i as u64 + 2; // the header is line 1
        match expect {
            None => assert!(!rejects.contains_key(&line), "line {line} rejected"),
            Some((field, reason)) => {
                let r = &rejects[&line];
                assert_eq!(r["account"], Json::from(*id), "line {line}");
                assert_eq!(r["field"].as_str(), *field, "line {line}: {r}");
                assert!(
                    r["reason"].as_str().unwrap().contains(reason),
                    "line {line}: {r}"
                );
            }
        }
    }
    let s = summary(dir.path());
    assert_eq!(s["evaluated"], 2);
    assert_eq!(s["rejected"], 7);
}

#[test]
fn a_mapping_without_a_required_field_fails_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_dir(&root().join("rules"), &rules);
    let mapping = rules.join("mappings/extract.yaml");
    let text = std::fs::read_to_string(&mapping).unwrap();
    std::fs::write(&mapping, text.replace("  DPD: days_past_due\n", "")).unwrap();
    let input = small_extract(dir.path(), &[("A1", GOOD.to_string())]);
    let out = dir.path().join("a.jsonl");
    let o = common::batch_in(root(), &rules, &["--out", p(&out), p(&input)]);
    // A broken mapping makes the rules directory invalid: exit 3, and `lint` names it.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("`days_past_due`"), "{}", stderr(&o));
    assert!(!out.exists());
    let lint = arrears(&["lint", p(&rules)]);
    assert_eq!(lint.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lint.stdout).contains("error[mapping]"));
}

#[test]
fn a_stopped_or_killed_run_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "bad.csv", 2000, 5, &["--corrupt-rate", "0.05"]);
    let o = batch(&input, dir.path(), &["--max-rejects", "0"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    for f in ["actions.jsonl", "summary.json"] {
        assert!(!dir.path().join(f).exists(), "{f} exists");
    }
    // The rejects asked for are kept: the operator's trace of which rows failed.
    let rejects = json_lines(&dir.path().join("rejects.jsonl"));
    assert!(!rejects.is_empty());
    assert!(rejects
        .iter()
        .all(|r| r["line"].as_u64().is_some() && r["reason"].is_string()));
    assert!(
        stderr(&o).contains(&format!(
            "stopped: the rejects read so far are in `{}`; no actions or summary written",
            dir.path().join("rejects.jsonl").display()
        )),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(dir.path().join("rejects.jsonl")).unwrap();
    // Without --rejects, the first ones are on stderr.
    let out = dir.path().join("actions.jsonl");
    let o = common::batch_in(
        root(),
        "rules",
        &["--max-rejects", "0", "--out", p(&out), p(&input)],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("reject: {\"line\":"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stopped: the first rejects are shown above"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // Generous enough: the same input passes.
    let o = batch(&input, dir.path(), &["--max-rejects", "1000"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(dir.path().join("actions.jsonl").exists());

    // Killed mid-run: the input is a FIFO this test holds open, so the batch cannot reach the
    // end of its input; it has read the accounts written and waits for more when it is killed.
    let accounts = generate(dir.path(), "big.jsonl", 5_000, 6, &["--format", "jsonl"]);
    let fifo = dir.path().join("fifo.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = dir.path().join("killed.jsonl");
    let mut child = common::batch_command(
        root(),
        "rules",
        &["--chunk-rows", "256", "--out", p(&out), p(&fifo)],
    )
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Opening blocks until the batch opens its input; the write returns once the batch has
    // taken all but a pipe buffer of it. The writer is kept open: no end of input.
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            std::io::Write::write_all(&mut w, &std::fs::read(accounts).unwrap()).map(|()| w)
        }
    });
    while !writer.is_finished() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the batch ended ({status}) before reading its input");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let held_open = writer.join().unwrap().expect("the batch read its input");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the batch was not killed: {status}"
    );
    drop(held_open);
    assert!(!out.exists(), "a killed run left {}", out.display());
}

#[test]
fn generate_is_deterministic_and_reads_clean() {
    let dir = tempfile::tempdir().unwrap();
    let read_all = |stem: &str| -> Vec<Vec<u8>> {
        [
            "csv",
            "sas.csv",
            "promises.csv",
            "payments.csv",
            "dispositions.csv",
        ]
        .iter()
        .map(|s| std::fs::read(dir.path().join(format!("{stem}.{s}"))).unwrap())
        .collect()
    };
    generate(dir.path(), "a.csv", 3000, 42, &[]);
    generate(dir.path(), "b.csv", 3000, 42, &[]);
    generate(dir.path(), "c.csv", 3000, 43, &[]);
    assert_eq!(read_all("a"), read_all("b"));
    assert_ne!(read_all("a")[0], read_all("c")[0]);
    let j1 = generate(dir.path(), "a.jsonl", 500, 42, &["--format", "jsonl"]);
    let j2 = generate(dir.path(), "b.jsonl", 500, 42, &["--format", "jsonl"]);
    assert_eq!(std::fs::read(j1).unwrap(), std::fs::read(j2).unwrap());

    // Through the shipped mapping with no rejects, and a realistic mix.
    let o = batch(&dir.path().join("a.csv"), dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = summary(dir.path());
    assert_eq!(s["rejected"], 0);
    assert_eq!(s["evaluated"], 3000);
    for key in [
        "entry_category",
        "collection_class",
        "experiment_arm",
        "promise_outcome",
    ] {
        assert!(
            s[key].as_object().is_some_and(|m| m.len() >= 2),
            "{key}: {}",
            s[key]
        );
    }
    assert!(s["severance_nominations"].as_u64().unwrap() > 0);
    let opened: u64 = s["entry_category"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    // ~30% delinquent, 60% of those without a case: new cases are a minority.
    assert!((150..=1200).contains(&opened), "{opened} new cases");
}

/// Actions without the row number, which differs between CSV (header) and JSON Lines.
fn actions_without_rows(path: &Path) -> Vec<Json> {
    json_lines(path)
        .into_iter()
        .map(|mut a| {
            a.as_object_mut().unwrap().remove("row");
            a
        })
        .collect()
}

#[test]
fn csv_and_json_lines_give_the_same_actions() {
    let dir = tempfile::tempdir().unwrap();
    let csv = generate(dir.path(), "x.csv", 3000, 9, &[]);
    let jsonl = generate(dir.path(), "x.jsonl", 3000, 9, &["--format", "jsonl"]);
    // A generated case holds the class the policy gives its account: one
    // case's class is made stale in both files, as a case system's would be
    // after the account moved on.
    let text = std::fs::read_to_string(&csv).unwrap();
    let line = text
        .lines()
        .find(|l| {
            // In arrears still: not bankrupt, deceased, in hardship, untraced or forced.
            let c: Vec<&str> = l.split(',').collect();
            c[19..21] == ["arrears", "card_early"] && c[9..14].iter().all(|v| *v == "false")
        })
        .expect("a card_early case");
    let stale = line.split(',').next().unwrap().to_string();
    std::fs::write(
        &csv,
        text.replacen(
            line,
            &line.replace(",arrears,card_early,", ",arrears,card_late,"),
            1,
        ),
    )
    .unwrap();
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(&format!("\"id\":\"{stale}\"")))
        .unwrap();
    let edited = line.replace("\"class\":\"card_early\"", "\"class\":\"card_late\"");
    assert_ne!(edited, line);
    std::fs::write(&jsonl, text.replacen(line, &edited, 1)).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(batch(&csv, a.path(), &[]).status.code(), Some(0));
    assert_eq!(batch(&jsonl, b.path(), &[]).status.code(), Some(0));
    let (x, y) = (
        actions_without_rows(&a.path().join("actions.jsonl")),
        actions_without_rows(&b.path().join("actions.jsonl")),
    );
    assert!(x.len() > 3000);
    assert_eq!(x, y);
    // The extract carries each open case's class, so a case whose class no
    // longer fits is re-treated from a CSV extract too.
    let class_changed: Vec<&Json> = x
        .iter()
        .filter(|a| {
            a["type"] == "retreat_case"
                && a["rules"].to_string().contains("retreatment:class-changed")
        })
        .map(|a| &a["account"])
        .collect();
    assert_eq!(class_changed, [&Json::from(stale)], "{class_changed:?}");
}

#[test]
fn gzip_input_and_csv_output() {
    let dir = tempfile::tempdir().unwrap();
    let plain = generate(dir.path(), "g.jsonl", 800, 4, &["--format", "jsonl"]);
    let gz = generate(dir.path(), "g.jsonl.gz", 800, 4, &["--format", "jsonl"]);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_eq!(batch(&plain, a.path(), &[]).status.code(), Some(0));
    assert_eq!(
        batch(&gz, b.path(), &["--output-format", "csv"])
            .status
            .code(),
        Some(0)
    );
    let jsonl = json_lines(&a.path().join("actions.jsonl"));
    let text = std::fs::read_to_string(b.path().join("actions.jsonl")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["account", "row", "type", "rules", "fields"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), jsonl.len());
    for (row, action) in rows.iter().zip(&jsonl) {
        assert_eq!(row[0], *action["account"].as_str().unwrap());
        assert_eq!(row[2], *action["type"].as_str().unwrap());
        let rules: Vec<&str> = action["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(row[3], rules.join(";"));
    }
}

/// A large table's first-column index (used without a trace) picks the same
/// rows as the full scan (used with a trace): overlapping bands, negations,
/// comparisons, `-` cells, decimal bounds, values between and on the bounds.
#[test]
fn large_table_index_agrees_with_the_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("rules/schema.yaml"),
        dir.path().join("schema.yaml"),
    )
    .unwrap();
    for (name, input, hit, cell) in [
        ("by_dpd", "account.days_past_due", "first", 0),
        ("by_score", "account.risk_score", "collect", 1),
    ] {
        let mut t = format!(
            "table: {name}\nhit: {hit}\ninputs:\n  x: {input}\n  product: account.product\noutputs:\n  row: integer\nrows:\n"
        );
        for i in 0..300i64 {
            let lo = i * 3 - 40;
            // by_dpd: mostly narrow bands (indexed); by_score: every kind of cell.
            let mode: i64 = if cell == 0 {
                [0, 1, 4, 0, 1, 4][(i % 6) as usize] + i64::from(i % 50 == 7) * 5
            } else {
                i % 6
            };
            let c = match mode {
                0 => format!("[{lo}..{}]", lo + 7),
                1 => format!("({lo}.5..{}]", lo + 2),
                2 => format!("not([{lo}..{}])", lo + 400),
                3 => format!(">= {}", lo * 2),
                4 => format!("{lo}, {}, < -30", lo + 1),
                _ => "-".to_string(),
            };
            let product = if i % 4 == 0 { "card" } else { "-" };
            t.push_str(&format!(
                "  - id: r{i}\n    when: {{ x: \"{c}\", product: \"{product}\" }}\n    then: {{ row: \"{i}\" }}\n"
            ));
        }
        if hit == "first" {
            t.push_str("default: { row: \"-1\" }\n");
        }
        std::fs::write(dir.path().join(format!("{name}.yaml")), t).unwrap();
    }
    let loaded = arrears::policy::load(dir.path()).unwrap();
    let first = loaded.diagnostics.first().map(|d| d.message.clone());
    assert!(!loaded.has_errors(), "{first:?}");
    let plan = loaded.plan.unwrap();
    assert!(plan.tables.iter().any(|t| t.index.is_some()));
    let schema = plan.schema();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let mut g = arrears::data::generate::Generator::new(1, as_of);
    let (dpd, score) = (
        schema.account().slot("days_past_due").unwrap(),
        schema.account().slot("risk_score").unwrap(),
    );
    for i in -60i64..1000 {
        let json: Json =
            serde_json::from_str(&arrears::data::generate::json_line(&g.account(), None)).unwrap();
        let account = arrears::data::snapshot::decode_account(schema, &json).unwrap();
        let arrears::types::Value::Record(fields) = account else {
            panic!()
        };
        let mut f = fields.to_vec();
        f[dpd] = arrears::types::Value::Int(i);
        // A null score: the index steps aside and every row is tried.
        f[score] = if i % 17 == 0 {
            arrears::types::Value::Null
        } else {
            arrears::types::Value::Int(i * 2 - 50)
        };
        let account = arrears::types::Value::Record(f.into());
        let fast = arrears::eval::evaluate(&plan, &account, as_of, false);
        let slow = arrears::eval::evaluate(&plan, &account, as_of, true);
        assert_eq!(
            fast.map(|e| e.decisions),
            slow.map(|e| e.decisions),
            "value {i}"
        );
    }
}

#[test]
fn actions_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "s.jsonl", 300, 8, &["--format", "jsonl"]);
    let file = dir.path().join("a.jsonl");
    let rules = "rules";
    let to_file = common::batch_in(root(), rules, &["--out", p(&file), p(&input)]);
    assert_eq!(to_file.status.code(), Some(0), "{}", stderr(&to_file));
    for out in [&["--out", "-"][..], &[][..]] {
        let o = common::batch_in(root(), rules, &[out, &[p(&input)]].concat());
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(o.stdout, std::fs::read(&file).unwrap());
    }
}

/// Runs a batch with the given rules directory and extra flags; returns (actions, rejects, summary).
pub(crate) fn batch_with(
    rules: &Path,
    input: &Path,
    dir: &Path,
    extra: &[&str],
) -> (String, Vec<Json>, Json) {
    std::fs::create_dir_all(dir).unwrap();
    let o = run_batch(rules, input, dir, extra);
    let rejects = json_lines(&dir.join("rejects.jsonl"));
    // Exit 1 when rows were rejected (the run itself completed).
    let expected = if rejects.is_empty() { 0 } else { 1 };
    assert_eq!(
        o.status.code(),
        Some(expected),
        "batch {extra:?}: {}",
        stderr(&o)
    );
    (
        std::fs::read_to_string(dir.join("actions.jsonl")).unwrap(),
        rejects,
        summary(dir),
    )
}

#[test]
fn all_tables_gives_the_same_actions_and_rejects_rows_for_any_table_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "in.csv", 1500, 9, &[]);
    let rules = root().join("rules");
    // The shipped rules: evaluating every table changes nothing.
    let (needed, rejects, _) = batch_with(&rules, &input, &dir.path().join("a"), &[]);
    let (all, all_rejects, _) =
        batch_with(&rules, &input, &dir.path().join("b"), &["--all-tables"]);
    assert!(rejects.is_empty() && all_rejects.is_empty());
    assert!(needed.lines().count() > 500);
    assert_eq!(needed, all);

    // A `unique` table that fails for every current account (two rows for DPD
    // <= 0), through a cell that reads the account, so lint cannot prove the
    // overlap (it warns `not-analysed`) and the rules run.
    let broken = dir.path().join("rules");
    copy_dir(&rules, &broken);
    let bucket = broken.join("dpd_bucket.yaml");
    let text = std::fs::read_to_string(&bucket).unwrap().replacen(
        "rows:\n",
        "rows:\n  - id: also-current\n    when: { dpd: \"<= account.days_past_due * 0\" }\n    then: { bucket: current }\n",
        1,
    );
    std::fs::write(&bucket, text).unwrap();
    let (needed, rejects, summary) = batch_with(&broken, &input, &dir.path().join("c"), &[]);
    let (all, all_rejects, all_summary) =
        batch_with(&broken, &input, &dir.path().join("d"), &["--all-tables"]);
    for s in [&summary, &all_summary] {
        assert_eq!(s["rows_read"], 1500);
        assert_eq!(s["balanced"], true);
    }
    // The summary records which way the run evaluated, for the audit trail.
    assert_eq!(summary["all_tables"], false);
    assert_eq!(all_summary["all_tables"], true);
    for r in rejects.iter().chain(&all_rejects) {
        let reason = r["reason"].as_str().unwrap();
        assert!(
            reason.contains("dpd_bucket") && reason.contains("also-current"),
            "{reason}"
        );
    }
    // Current accounts that open no case never read dpd_bucket: only `--all-tables` rejects them.
    assert!(
        !rejects.is_empty(),
        "current accounts that open a case read the bucket"
    );
    assert!(
        all_rejects.len() > 3 * rejects.len(),
        "{} vs {}",
        all_rejects.len(),
        rejects.len()
    );
    let rejected: BTreeSet<&str> = rejects
        .iter()
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    let all_rejected: BTreeSet<&str> = all_rejects
        .iter()
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    assert!(rejected.is_subset(&all_rejected));
    // Rows evaluated by both runs get the same actions.
    let by_account = |text: &str| -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in text.lines() {
            let j: Json = serde_json::from_str(line).unwrap();
            m.entry(j["account"].as_str().unwrap().to_string())
                .or_default()
                .push(line.to_string());
        }
        m
    };
    let (needed, all) = (by_account(&needed), by_account(&all));
    assert!(!all.is_empty());
    for (account, actions) in &all {
        assert_eq!(needed.get(account), Some(actions), "account {account}");
    }
}

#[test]
fn blank_companion_rows_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "in.csv", 300, 12, &[]);
    let (clean, rejects, _) = batch_with(&root().join("rules"), &input, &dir.path().join("a"), &[]);
    assert!(rejects.is_empty());
    // Blank rows between the service agreements: empty cells, spaces, and Unicode spaces.
    let sas = dir.path().join("in.sas.csv");
    let blanks = [",,,,,,,,", "  ,\t, ,,,,,,", "\u{a0},\u{2003},,,,,,,"];
    let text: String = std::fs::read_to_string(&sas)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            0 => format!("{line}\n"),
            _ => format!("{line}\n{}\n", blanks[i % blanks.len()]),
        })
        .collect();
    std::fs::write(&sas, text).unwrap();
    let (padded, rejects, summary) =
        batch_with(&root().join("rules"), &input, &dir.path().join("b"), &[]);
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(summary["rows_read"], 300);
    assert_eq!(clean, padded);
}

/// A golden run: what the shipped policy does to a generated extract (3,000
/// accounts, 1% corrupt rows), as the summary's counts and the first actions.
/// Any change to evaluation, the pipeline or the output shows here as a diff.
#[test]
fn golden_run_of_a_generated_extract() {
    let dir = tempfile::tempdir().unwrap();
    let input = generate(dir.path(), "in.csv", 3000, 11, &["--corrupt-rate", "0.01"]);
    let o = batch(&input, dir.path(), &[]);
    // Exit 1: some rows were rejected.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let mut s = summary(dir.path());
    for timing in ["seconds", "rows_per_second"] {
        s.as_object_mut().unwrap().remove(timing);
    }
    // The input as the command named it, with its size in bytes.
    let bytes = std::fs::metadata(&input).unwrap().len();
    assert_eq!(s["input"]["path"], input.display().to_string());
    assert_eq!(s["input"]["bytes"], bytes);
    assert_eq!(s["input"]["rows"], s["rows_read"]);
    s["input"]["path"] = "in.csv".into();
    // As serde_json writes it: insta's own JSON writer does not know serde_json's
    // arbitrary-precision numbers.
    assert_snapshot!(
        "golden_summary",
        common::redact_fingerprints(&serde_json::to_string_pretty(&s).unwrap())
    );
    let actions = std::fs::read_to_string(dir.path().join("actions.jsonl")).unwrap();
    let first: Vec<&str> = actions.lines().take(40).collect();
    assert_snapshot!("golden_first_actions", first.join("\n"));
}

/// A disposition whose layers the schema's `valid_combinations` do not allow rejects its
/// account's row, naming the disposition, from a CSV companion file and from JSON Lines alike.
#[test]
fn an_invalid_disposition_combination_rejects_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [("A1", GOOD.to_string()), ("A2", GOOD.to_string())];
    let input = small_extract(dir.path(), &rows);
    std::fs::write(
        dir.path().join("small.dispositions.csv"),
        "ACCT_NO,DISP_DATE,STATUS,REASON,RESOLUTION\n\
         A1,2026-11-17,contacted,promise_to_pay,payment_scheduled\n\
         A2,2026-11-17,contacted,promise_to_pay,payment_scheduled\n\
         A2,2026-11-18,not_contacted,promise_to_pay,payment_scheduled\n",
    )
    .unwrap();
    let o = batch(&input, dir.path(), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let csv_rejects = std::fs::read_to_string(dir.path().join("rejects.jsonl")).unwrap();
    assert_eq!(summary(dir.path())["evaluated"], 1);

    // The same two accounts as JSON Lines: dry-run's decoder.
    let account = |id: &str, status: &str| {
        let mut a: Json =
            serde_json::from_str(include_str!("../fixtures/combinations/account.json")).unwrap();
        a["id"] = Json::from(id);
        a["dispositions"][0]["status"] = Json::from(status);
        a.to_string()
    };
    let jsonl = dir.path().join("in.jsonl");
    let lines = [account("J1", "contacted"), account("J2", "not_contacted")];
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("jsonl");
    std::fs::create_dir(&out).unwrap();
    let o = batch(&jsonl, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let jsonl_rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    assert_snapshot!(
        "invalid_disposition_combination_rejects",
        format!("CSV extract:\n{csv_rejects}\nJSON Lines:\n{jsonl_rejects}")
    );
}
