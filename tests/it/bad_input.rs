//! Hostile and broken input: every case under `tests/fixtures/bad_input/<case>/`
//! is run through the CLI binary, and what a user sees (exit code, stdout,
//! stderr) is snapshotted as `bad_input__<case>.snap`.
//!
//! A case holds a `rules/` directory (run: `arrears lint rules`), an
//! accounts file `accounts.*` (run: `arrears dry-run` against the shared
//! `_rules/`), or a CSV extract `extract.csv` with its companion files (run:
//! `arrears batch` with the shipped rules and mapping, rejects on stdout). `expect.txt` pins the exit code (`exit: N`) and text the
//! output must contain (`contains: ...`). No case may panic or hang.
//!
//! Inputs too big to commit (a 10 MB cell, a sparse 9 MiB rule file, a sparse
//! accounts file past the size limit, too many rule files) are generated into
//! a temporary directory by the tests at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad_input")
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run arrears");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "`arrears {}` in {} took {:?}",
        args.join(" "),
        cwd.display(),
        start.elapsed()
    );
    out
}

/// What the user sees, as one text (control characters escaped, so the
/// snapshots stay text).
fn transcript(args: &[&str], out: &Output) -> String {
    let text = format!(
        "$ arrears {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A batch summary's timing and rules fingerprint vary from run to run.
    let text: String = text
        .lines()
        .map(
            |line| match (line.find(" in "), line.ends_with(" rows/s)")) {
                (Some(at), true) => format!("{} in ... s (... rows/s)\n", &line[..at]),
                _ if line.trim_start().starts_with("rules ") && line.contains("sha256:") => {
                    "  rules             sha256:... as of ...\n".to_string()
                }
                _ => format!("{line}\n"),
            },
        )
        .collect();
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn assert_no_crash(name: &str, out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack overflow"),
        "{name}: crashed:\n{stderr}"
    );
    assert!(
        matches!(out.status.code(), Some(0..=3 | 64)),
        "{name}: exit status {:?}",
        out.status
    );
}

struct Expect {
    exit: i32,
    contains: Vec<String>,
}

fn expect(dir: &Path) -> Expect {
    let text = std::fs::read_to_string(dir.join("expect.txt"))
        .unwrap_or_else(|e| panic!("{}: expect.txt: {e}", dir.display()));
    let mut exit = None;
    let mut contains = Vec::new();
    for line in text.lines() {
        if let Some(code) = line.strip_prefix("exit:") {
            exit = Some(code.trim().parse().expect("exit code"));
        } else if let Some(s) = line.strip_prefix("contains:") {
            if !s.trim().is_empty() {
                contains.push(s.trim().to_string());
            }
        }
    }
    Expect {
        exit: exit.unwrap_or_else(|| panic!("{}: expect.txt has no `exit:`", dir.display())),
        contains,
    }
}

fn case_args(dir: &Path) -> Vec<String> {
    if dir.join("rules").is_dir() {
        return vec!["lint".into(), "rules".into()];
    }
    if dir.join("extract.csv").is_file() {
        return [
            "batch",
            "--rules",
            "../../../../rules",
            "--as-of",
            "2026-11-22",
            "--out",
            "/dev/null",
            "--rejects",
            "-",
            "extract.csv",
        ]
        .map(str::to_string)
        .to_vec();
    }
    let accounts = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("accounts"))
        .unwrap_or_else(|| panic!("{}: neither rules/ nor accounts.*", dir.display()));
    ["dry-run", "--rules", "../_rules", "--as-of", "2026-11-22"]
        .iter()
        .map(|s| s.to_string())
        .chain([accounts])
        .collect()
}

#[test]
fn every_bad_input_case_is_a_clear_message() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('_'))
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let args = case_args(dir);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(dir, &args);
        let text = transcript(&args, &out);
        assert_no_crash(&name, &out);
        let want = expect(dir);
        assert_eq!(out.status.code(), Some(want.exit), "{name}:\n{text}");
        for s in &want.contains {
            assert!(text.contains(s.as_str()), "{name}: no `{s}` in:\n{text}");
        }
        // Errors are reported, never an empty screen: a rejected row's reason is one.
        assert!(
            text.contains("error") || text.contains("\"reason\""),
            "{name}: exit {} without an error message:\n{text}",
            want.exit
        );
        assert_snapshot!(name, text);
    }
}

/// A minimal rules directory in a temporary directory.
fn temp_rules() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(
        fixtures().join("_rules/schema.yaml"),
        rules.join("schema.yaml"),
    )
    .unwrap();
    dir
}

fn table_with_input(input: &str) -> String {
    format!(
        "table: entry\nhit: first\ninputs:\n  dpd: \"{input}\"\noutputs:\n  level: level\nrows: []\n"
    )
}

#[test]
fn ten_megabyte_cell_is_refused_as_a_too_large_file() {
    let dir = temp_rules();
    let cell = "1 + ".repeat(10 * 1024 * 1024 / 4) + "1";
    std::fs::write(dir.path().join("rules/entry.yaml"), table_with_input(&cell)).unwrap();
    let out = run(dir.path(), &["lint", "rules"]);
    assert_no_crash("10 MB cell", &out);
    let text = transcript(&["lint", "rules"], &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("rules/entry.yaml:1:1: error[file-too-large]"),
        "{text}"
    );
    assert!(text.contains("larger than 8 MiB"), "{text}");
}

#[test]
fn five_megabyte_cell_is_refused_as_a_too_long_cell() {
    let dir = temp_rules();
    let cell = "1 + ".repeat(5 * 1024 * 1024 / 4) + "1";
    std::fs::write(dir.path().join("rules/entry.yaml"), table_with_input(&cell)).unwrap();
    let out = run(dir.path(), &["lint", "rules", "--format", "json"]);
    assert_no_crash("5 MB cell", &out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "cell-too-long", "{json}");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(8))
    );
    assert!(d["help"].as_str().unwrap().contains("split"), "{json}");
}

#[test]
fn sparse_nine_mebibyte_rule_file_is_not_read() {
    let dir = temp_rules();
    let f = std::fs::File::create(dir.path().join("rules/big.yaml")).unwrap();
    f.set_len(9 * 1024 * 1024).unwrap();
    let out = run(dir.path(), &["lint", "rules"]);
    assert_no_crash("sparse file", &out);
    let text = transcript(&["lint", "rules"], &out);
    assert!(
        text.contains("rules/big.yaml:1:1: error[file-too-large]"),
        "{text}"
    );
}

#[test]
fn too_many_rule_files_is_one_line_and_bad_input() {
    let dir = temp_rules();
    let many = dir.path().join("rules/many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..=arrears::model::load::MAX_RULE_FILES {
        std::fs::write(many.join(format!("{i}.yaml")), "").unwrap();
    }
    let out = run(dir.path(), &["lint", "rules"]);
    assert_no_crash("many files", &out);
    let text = transcript(&["lint", "rules"], &out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: `rules` holds more than 10000 rule files; is it really a rules directory?\n"
    );
}

#[test]
fn accounts_file_past_the_size_limit_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(dir.path().join("accounts.jsonl")).unwrap();
    f.set_len(arrears::data::accounts::MAX_ACCOUNTS_FILE_BYTES + 1)
        .unwrap();
    let rules = fixtures().join("_rules");
    let args = [
        "dry-run",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        "2026-11-22",
        "accounts.jsonl",
    ];
    let out = run(dir.path(), &args);
    assert_no_crash("big accounts", &out);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: `accounts.jsonl` is larger than 512 MiB; split the accounts into several files in a directory\n"
    );
}
