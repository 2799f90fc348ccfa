//! Inputs at and past the documented limits: large tables load in linear
//! time, non-regular files and symlink cycles in a rules directory, and
//! records longer than the batch's per-record limit.

use crate::common;

use std::path::Path;

use common::root;

/// A rules directory with the shipped schema and one `first` table of `rows`
/// rows (DPD bands and a jurisdiction column), one YAML flow mapping a row.
fn large_table_dir(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("rules/schema.yaml"),
        dir.path().join("schema.yaml"),
    )
    .unwrap();
    let mut t = String::from(
        "table: bands\nhit: first\ninputs:\n  d: account.days_past_due\n  j: account.jurisdiction\noutputs:\n  band: integer\nrows:\n",
    );
    for i in 0..rows {
        let juris = if i % 2 == 0 { "IL, NY" } else { "-" };
        t.push_str(&format!(
            "- {{id: r{i}, when: {{d: \"[{}..{}]\", j: \"{juris}\"}}, then: {{band: \"{i}\"}}}}\n",
            i * 10,
            i * 10 + 9
        ));
    }
    std::fs::write(dir.path().join("bands.yaml"), t).unwrap();
    dir
}

fn lint_codes(dir: &Path) -> Vec<String> {
    let docs = arrears::model::load_dir(dir).unwrap();
    let loaded = arrears::policy::build(&docs);
    let mut found = loaded.diagnostics.clone();
    if let Some(plan) = &loaded.plan {
        found.extend(arrears::lang::analysis::analyse(
            &plan.program,
            &arrears::lang::analysis::Context::default(),
        ));
    }
    found
        .iter()
        .filter(|d| d.file.name.contains("bands"))
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// 20,000 rows are 260,000 YAML values: past the old fixed budget of 200,000
/// (refused as an alias bomb), inside the documented 100,000-row limit. The
/// analysis stops at its space budget and says so.
#[test]
fn a_large_yaml_table_loads_and_the_analysis_says_it_stopped() {
    let dir = large_table_dir(20_000);
    let codes = lint_codes(dir.path());
    assert_eq!(
        codes,
        ["not-analysed: table `bands` was not checked for gaps and overlaps: the table is too large to analyse exactly (more than 200000 cases, 5000000 row pairs or 8 MiB of row boxes)"]
    );
}

/// A FIFO at `path` with a thread that writes `bytes` into it once someone
/// opens it for reading. [`Fifo::release`] ends the thread whether or not
/// anyone read it.
struct Fifo {
    path: std::path::PathBuf,
    opened: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writer: std::thread::JoinHandle<()>,
}

impl Fifo {
    fn new(path: &Path, bytes: Vec<u8>) -> Fifo {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo");
        let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let (path, opened) = (path.to_path_buf(), opened.clone());
            std::thread::spawn(move || {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                opened.store(true, std::sync::atomic::Ordering::SeqCst);
                // The reader may stop early (a limit): a broken pipe is fine.
                let _ = f.write_all(&bytes);
            })
        };
        Fifo {
            path: path.to_path_buf(),
            opened,
            writer,
        }
    }

    /// Whether anyone opened the FIFO for reading, after unblocking the writer.
    fn release(self) -> bool {
        let opened = self.opened.load(std::sync::atomic::Ordering::SeqCst);
        if !opened {
            // Pairs with the writer's pending open; read what it writes.
            let mut f = std::fs::File::open(&self.path).unwrap();
            std::io::copy(&mut f, &mut std::io::sink()).unwrap();
        }
        self.writer.join().unwrap();
        opened
    }
}

fn rules_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&root().join("rules"), dir.path());
    dir
}

/// A FIFO named like a rule file is skipped with a warning, never opened
/// (before, lint blocked on it forever; fed, it read what came).
#[test]
fn a_fifo_in_the_rules_directory_is_skipped_unopened() {
    let dir = rules_copy();
    let fifo = Fifo::new(&dir.path().join("extra.yaml"), b"table: [".to_vec());
    let out = common::arrears_in(dir.path(), &["lint", ".", "--format", "json"]);
    let opened = fifo.release();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error" || d["code"] == "skipped-file")
        .map(|d| format!("{} {}: {}", d["code"], d["file"], d["message"]))
        .collect();
    assert_eq!(
        skipped,
        [r#""skipped-file" "./extra.yaml": "skipped: not a regular file (a FIFO (named pipe))""#]
    );
    assert!(!opened, "lint opened the FIFO");
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

/// `ln -s . again` used to load every file of the directory ~40 times over
/// (80 `duplicate-schema` errors), and two such links never ended; each file
/// is now read once.
#[test]
fn a_symlink_loop_loads_each_file_once() {
    let dir = rules_copy();
    let plain = arrears::model::load_dir(dir.path()).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("again")).unwrap();
    // Not a loop, but a second path to a directory: its files load once too.
    std::os::unix::fs::symlink("../mappings", dir.path().join("calendars/m")).unwrap();
    let looped = arrears::model::load_dir(dir.path()).unwrap();
    let names = |docs: &arrears::model::RuleDocs| -> Vec<String> {
        docs.files.iter().map(|f| f.name.clone()).collect()
    };
    assert_eq!(names(&looped), names(&plain));
    let notes: Vec<String> = looped
        .diagnostics
        .iter()
        .map(|d| format!("{} {}: {}", d.code, d.file.name, d.message))
        .collect();
    let base = dir.path().display();
    assert_eq!(
        notes,
        [
            format!("skipped-file {base}/again: skipped: a symlink to a directory that is read through another path (a symlink loop?)"),
            format!("skipped-file {base}/calendars/m: skipped: a symlink to a directory that is read through another path (a symlink loop?)"),
        ]
    );
}

/// An accounts file is read whole, so a FIFO is refused (exit 2) without
/// waiting for a writer; before, dry-run read whatever the FIFO gave.
#[test]
fn a_fifo_as_the_accounts_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = std::fs::read(root().join("samples/accounts.jsonl")).unwrap();
    let fifo = Fifo::new(&dir.path().join("accounts.jsonl"), accounts);
    let out = common::arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            root().join("rules").to_str().unwrap(),
            "--as-of",
            "2026-11-22",
            "accounts.jsonl",
        ],
    );
    let opened = fifo.release();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        common::stderr(&out).trim(),
        "error: `accounts.jsonl` is a FIFO (named pipe), not a regular file; an accounts file is read whole, so it must be a regular file"
    );
    assert!(!opened, "dry-run opened the FIFO");
}

/// The YAML budget grows with the file (a value per byte), so a file near the
/// 8 MiB limit may hold an alias bomb that expands far past its size: refused
/// all the same.
#[test]
fn an_alias_bomb_in_a_large_file_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("rules/schema.yaml"),
        dir.path().join("schema.yaml"),
    )
    .unwrap();
    let bomb =
        std::fs::read_to_string(root().join("tests/fixtures/lint/alias_bomb/entry.yaml")).unwrap();
    // 7 MB of comment: the file's own values stay few, its bytes many.
    let padding = format!("# {}\n", "x".repeat(100)).repeat(70_000);
    std::fs::write(dir.path().join("entry.yaml"), format!("{padding}{bomb}")).unwrap();
    let docs = arrears::model::load_dir(dir.path()).unwrap();
    let found: Vec<String> = docs
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    assert_eq!(
        found,
        ["yaml: YAML budget exceeded: the file expands to more values than it has bytes"]
    );
}

fn batch_in(dir: &Path, input: &str) -> std::process::Output {
    common::arrears_in(
        dir,
        &[
            "batch",
            "--rules",
            root().join("rules").to_str().unwrap(),
            "--as-of",
            "2026-11-22",
            "--out",
            "actions.jsonl",
            "--rejects",
            "rejects.jsonl",
            "--summary",
            "summary.json",
            input,
        ],
    )
}

/// A JSON Lines line past the 16 MiB record limit, streamed through a FIFO,
/// is a reject with its line number and the run goes on; before, the line
/// was read whole, however long.
#[test]
fn a_jsonl_line_past_the_record_limit_is_a_reject() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let good: Vec<&str> = accounts.lines().take(2).collect();
    let long = "x".repeat(arrears::data::batch::MAX_RECORD_BYTES + 1);
    let input = format!("{}\n{long}\n{}\n", good[0], good[1]);
    let fifo = Fifo::new(&dir.path().join("extract.jsonl"), input.into_bytes());
    let out = batch_in(dir.path(), "extract.jsonl");
    assert!(fifo.release(), "the batch streams a FIFO");
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (summary["rows_read"].as_u64(), summary["rejected"].as_u64()),
        (Some(3), Some(1))
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects.jsonl")).unwrap();
    let reject: serde_json::Value = serde_json::from_str(rejects.trim()).unwrap();
    assert_eq!(reject["line"], 2);
    assert_eq!(
        reject["reason"],
        "line is longer than the record limit (16 MiB); skipped"
    );
}

/// A gzip of a few KiB that expands to a CSV record (a quoted field of short
/// lines) past the limit stops the batch: exit 2, one line naming where the
/// record starts, and no output left behind.
#[test]
fn a_csv_record_past_the_record_limit_stops_the_batch() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let o = common::arrears_in(
        dir.path(),
        &["generate", "--accounts", "3", "--seed", "1", "extract.csv"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let csv = std::fs::read_to_string(dir.path().join("extract.csv")).unwrap();
    std::fs::remove_file(dir.path().join("extract.csv")).unwrap();
    let mut rows: Vec<String> = csv.lines().map(str::to_string).collect();
    // The last cell of the second account: a quoted field of 17 MiB.
    let field = "a\n".repeat((arrears::data::batch::MAX_RECORD_BYTES >> 1) + 1);
    rows[2] = format!("{}\"{field}\"", rows[2].trim_end_matches(|c| c != ','));
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(dir.path().join("extract.csv.gz")).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all((rows.join("\n") + "\n").as_bytes()).unwrap();
    gz.finish().unwrap();
    let out = batch_in(dir.path(), "extract.csv.gz");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        common::stderr(&out).trim(),
        "error: input line 3: the record is longer than the record limit (16 MiB); a CSV record cannot be skipped (its end may be inside quotes), so the batch stopped; no output written"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "extract.case_events.csv",
            "extract.contacts.csv",
            "extract.csv.gz",
            "extract.dispositions.csv",
            "extract.payments.csv",
            "extract.promises.csv",
            "extract.removed_sas.csv",
            "extract.sas.csv"
        ]
    );
}

/// The extract is streamed, so a FIFO is read; a socket or a device is
/// refused by name before anything is opened.
#[test]
fn a_socket_as_the_extract_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("extract.jsonl")).unwrap();
    let out = batch_in(dir.path(), "extract.jsonl");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        common::stderr(&out).trim(),
        "error: `extract.jsonl` is a socket, not a file or a FIFO"
    );
}

/// Two cases for one account are an operational error: the summary counts
/// the rows that repeat an id, names a few, and warns on stderr.
#[test]
fn duplicate_account_ids_are_counted_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let lines: Vec<&str> = accounts.lines().filter(|l| !l.trim().is_empty()).collect();
    let input = [lines[0], lines[1], lines[0], lines[2], lines[1], lines[0]].join("\n") + "\n";
    std::fs::write(dir.path().join("extract.jsonl"), input).unwrap();
    let out = batch_in(dir.path(), "extract.jsonl");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    let id = |line: &str| serde_json::from_str::<serde_json::Value>(line).unwrap()["id"].clone();
    assert_eq!(summary["evaluated"], 6, "{}", common::stderr(&out));
    assert_eq!(summary["duplicate_account_ids"], 3);
    assert_eq!(
        summary["duplicate_account_id_examples"],
        serde_json::json!([id(lines[0]), id(lines[1])])
    );
    let warning = format!(
        "warning: 3 rows repeat the account id of an earlier row (e.g. `{}`, `{}`); each got its own actions",
        id(lines[0]).as_str().unwrap(),
        id(lines[1]).as_str().unwrap()
    );
    assert!(
        common::stderr(&out).lines().any(|l| l == warning),
        "{}",
        common::stderr(&out)
    );
}

/// Repeats far apart, across many small chunks, of packed ids (`AC…`, kept
/// whole by the id store) and of an id it hashes (lower case, punctuation):
/// each repeat counted once, the examples in the order the repeats came.
#[test]
fn duplicate_account_ids_are_counted_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let first = accounts.lines().find(|l| !l.trim().is_empty()).unwrap();
    let template: serde_json::Value = serde_json::from_str(first).unwrap();
    let row = |id: &str| {
        let mut account = template.clone();
        account["id"] = serde_json::json!(id);
        account.to_string()
    };
    let packed = |i: u32| format!("AC{i:09}");
    let mut rows = vec![row("acct-x")];
    rows.extend((0..2500).map(|i| row(&packed(i))));
    rows.push(row("acct-x"));
    rows.extend((0..5).map(|i| row(&packed(i * 500))));
    std::fs::write(dir.path().join("extract.jsonl"), rows.join("\n") + "\n").unwrap();
    let rules = root().join("rules");
    let out = common::arrears_in(
        dir.path(),
        &[
            "batch",
            "--rules",
            rules.to_str().unwrap(),
            "--as-of",
            "2026-11-22",
            "--chunk-rows",
            "7",
            "--out",
            "actions.jsonl",
            "--summary",
            "summary.json",
            "extract.jsonl",
        ],
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["evaluated"], 2507, "{}", common::stderr(&out));
    assert_eq!(summary["duplicate_account_ids"], 6);
    assert_eq!(
        summary["duplicate_account_id_examples"],
        serde_json::json!(["acct-x", packed(0), packed(500), packed(1000), packed(1500)])
    );
}

/// A header that names a mapped column twice was resolved to the first;
/// now it is refused, naming the column and both positions.
#[test]
fn a_duplicated_csv_header_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = common::arrears_in(
        dir.path(),
        &["generate", "--accounts", "3", "--seed", "1", "extract.csv"],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let path = dir.path().join("extract.csv");
    let csv = std::fs::read_to_string(&path).unwrap();
    let (header, rest) = csv.split_once('\n').unwrap();
    assert!(header.starts_with(
        "ACCT_NO,CUST_CLASS,JURIS,PRODUCT,DPD,ARREARS_AMT,BALANCE,CREDIT_LIMIT,RISK_SCORE,"
    ));
    std::fs::write(
        &path,
        format!("{}\n{rest}", header.replacen("RISK_SCORE", "DPD", 1)),
    )
    .unwrap();
    let out = batch_in(dir.path(), "extract.csv");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        common::stderr(&out).trim(),
        "error: the input `extract.csv` has the column `DPD` twice (columns 5 and 9); rename or remove one"
    );
}

/// `arrears test` searches directories for test documents: a FIFO among them
/// is not a test document (never opened) and a symlink loop is walked once.
/// Before, the search read the FIFO (blocking until a writer came) and
/// found every document again through the link.
#[test]
fn the_test_search_skips_fifos_and_symlink_loops() {
    let dir = rules_copy();
    let plain = common::arrears_in(dir.path(), &["test", "--rules", ".", "tests"]);
    let fifo = Fifo::new(&dir.path().join("tests/extra.yaml"), b"tests: [".to_vec());
    std::os::unix::fs::symlink(".", dir.path().join("tests/again")).unwrap();
    let out = common::arrears_in(dir.path(), &["test", "--rules", ".", "tests"]);
    assert!(!fifo.release(), "the search opened the FIFO");
    assert!(plain.status.success(), "{}", common::stderr(&plain));
    let last = |o: &std::process::Output| common::stdout(o).lines().last().map(str::to_string);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(last(&out), last(&plain));
}
