//! What `batch` (and the printing commands) may write: never an input, never
//! one output over another, never a device or FIFO replaced by a file, no
//! partial file left behind by an interrupted run, and write errors on
//! standard output reported (issue 11).

use crate::common;

use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{arrears_in, root};

const AS_OF: &str = "2026-11-22";

fn rules() -> String {
    root().join("rules").display().to_string()
}

pub(crate) fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// A generated CSV extract `x.csv` with its companions in `dir`.
fn extract(dir: &Path) -> PathBuf {
    let out = arrears_in(
        dir,
        &["generate", "--accounts", "20", "--seed", "1", "x.csv"],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    dir.join("x.csv")
}

/// A batch of the shipped rules in `dir`.
fn batch_in(dir: &Path, extra: &[&str]) -> Output {
    common::batch_in(dir, rules(), extra)
}

/// Exit 64, one `error:` line containing `needle`, nothing on stdout.
fn refused(out: &Output, needle: &str) {
    let stderr = common::stderr(out);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "no `{needle}` in {stderr}");
    // A usage error (64) points at the help, as the README says.
    assert!(
        stderr.trim_end().ends_with("(see `arrears --help`)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_output_over_an_input_or_another_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = extract(dir.path());
    std::fs::hard_link(&input, dir.path().join("hard.csv")).unwrap();
    std::os::unix::fs::symlink("x.csv", dir.path().join("link.csv")).unwrap();
    std::fs::copy(dir.path().join("x.sas.csv"), dir.path().join("sas2.csv")).unwrap();
    let before: Vec<(String, Vec<u8>)> = names(dir.path())
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(dir.path().join(&n)).unwrap()))
        .collect();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--out", "x.csv"],
            "--out `x.csv` is the same file as the input `x.csv`",
        ),
        (
            &["--out", "./x.csv"],
            "--out `./x.csv` is the same file as the input",
        ),
        (
            &["--out", "hard.csv"],
            "--out `hard.csv` is the same file as the input",
        ),
        (
            &["--out", "link.csv"],
            "--out `link.csv` is the same file as the input",
        ),
        (
            &["--rejects", "x.csv"],
            "--rejects `x.csv` is the same file as the input",
        ),
        (
            &["--summary", "x.csv"],
            "--summary `x.csv` is the same file as the input",
        ),
        (
            &["--out", "x.sas.csv"],
            "--out `x.sas.csv` is the same file as the companion file for `service_agreements`",
        ),
        (
            &[
                "--companion",
                "service_agreements=sas2.csv",
                "--summary",
                "sas2.csv",
            ],
            "--summary `sas2.csv` is the same file as the companion file for `service_agreements`",
        ),
        (
            &["--out", "new.jsonl", "--rejects", "new.jsonl"],
            "--rejects `new.jsonl` is the same file as --out `new.jsonl`",
        ),
        (
            &["--out", "new.jsonl", "--summary", "./new.jsonl"],
            "--summary `./new.jsonl` is the same file as --out `new.jsonl`",
        ),
        (
            &["--rejects", "r.jsonl", "--summary", "r.jsonl"],
            "--summary `r.jsonl` is the same file as --rejects `r.jsonl`",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = extra.to_vec();
        args.push("x.csv");
        refused(&batch_in(dir.path(), &args), needle);
        let after: Vec<(String, Vec<u8>)> = names(dir.path())
            .into_iter()
            .map(|n| (n.clone(), std::fs::read(dir.path().join(&n)).unwrap()))
            .collect();
        assert!(
            before == after,
            "{extra:?} changed the directory: {:?}",
            names(dir.path())
        );
    }
}

/// Every file under `dir` with its bytes, in path order.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(tree(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// An output in a rules directory (a rule file, the mapping, a new file the
/// next run would read as rules), named directly or through a link to the
/// directory, is refused by every command that writes files beside its rules
/// (`doc --out` too, a site directory there).
#[test]
fn an_output_inside_a_rules_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    common::copy_dir(&root().join("rules"), &dir.path().join("rules"));
    common::copy_dir(&root().join("rules"), &dir.path().join("old"));
    std::os::unix::fs::symlink("rules", dir.path().join("link")).unwrap();
    let accounts = root().join("samples/accounts.yaml").display().to_string();
    let batch = [
        "batch",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "--input-format",
        "csv",
    ];
    let diff = [
        "diff", "--base", "old", "--rules", "rules", "--as-of", AS_OF,
    ];
    let cases: &[(&[&str], &[&str], &str)] = &[
        (
            &batch,
            &["--out", "rules/mappings/extract.yaml", "x.csv"],
            "--out `rules/mappings/extract.yaml` is inside the rules directory `rules`",
        ),
        (
            &batch,
            &["--rejects", "rules/entry.yaml", "x.csv"],
            "--rejects `rules/entry.yaml` is inside the rules directory `rules`",
        ),
        (
            &batch,
            &["--summary", "link/summary.yaml", "x.csv"],
            "--summary `link/summary.yaml` is inside the rules directory `rules`",
        ),
        (
            &diff,
            &["--changed", "rules/entry.yaml", &accounts],
            "--changed `rules/entry.yaml` is inside the rules directory `rules`",
        ),
        (
            &diff,
            &["--out", "old/report.yaml", &accounts],
            "--out `old/report.yaml` is inside the rules directory `old`",
        ),
        (
            &["doc", "--rules", "rules", "--no-tests"],
            &["--out", "rules/site"],
            "--out `rules/site` is inside the rules directory `rules`",
        ),
        (
            &["doc", "--rules", "rules", "--no-tests"],
            &["--out", "link"],
            "--out `link` is inside the rules directory `rules`",
        ),
        (
            &["lint", "rules"],
            &["--counterexamples", "rules"],
            "--counterexamples `rules` is inside the rules directory `rules`",
        ),
        (
            &["lint", "rules"],
            &["--counterexamples", "link/cx"],
            "--counterexamples `link/cx` is inside the rules directory `rules`",
        ),
    ];
    let before = tree(dir.path());
    for (command, extra, needle) in cases {
        let args: Vec<&str> = command.iter().chain(extra.iter()).copied().collect();
        refused(&arrears_in(dir.path(), &args), needle);
        assert!(before == tree(dir.path()), "{args:?} changed a file");
    }
}

#[test]
fn a_symlinked_output_replaces_its_target_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::write(dir.path().join("real/actions.jsonl"), "old\n").unwrap();
    std::os::unix::fs::symlink("real/actions.jsonl", dir.path().join("actions.jsonl")).unwrap();
    // A link whose target is not there yet.
    std::os::unix::fs::symlink("real/summary.json", dir.path().join("summary.json")).unwrap();
    let out = batch_in(
        dir.path(),
        &[
            "--out",
            "actions.jsonl",
            "--summary",
            "summary.json",
            "x.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    for (link, target) in [
        ("actions.jsonl", "real/actions.jsonl"),
        ("summary.json", "real/summary.json"),
    ] {
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(
            meta.file_type().is_symlink(),
            "{link} was replaced by a file"
        );
        let written = std::fs::read_to_string(dir.path().join(target)).unwrap();
        assert!(written.starts_with('{'), "{target} not written: {written}");
    }
    assert_eq!(
        names(&dir.path().join("real")),
        ["actions.jsonl", "summary.json"]
    );
}

#[test]
fn a_fifo_output_is_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    let fifo = dir.path().join("actions.fifo");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = batch_in(dir.path(), &["--out", "actions.fifo", "x.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    let actions = reader.join().unwrap();
    let summary = common::stderr(&out);
    let count = actions.lines().count();
    assert!(count > 0);
    assert!(
        summary.contains(&format!("; {count} actions")),
        "{count} lines read, {summary}"
    );
    assert!(
        !names(dir.path()).iter().any(|n| n.starts_with('.')),
        "{:?}",
        names(dir.path())
    );
}

#[test]
fn max_rejects_needs_an_output_file() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    mkfifo(&dir.path().join("actions.fifo"));
    let needle = "--max-rejects needs --out";
    refused(
        &batch_in(dir.path(), &["--max-rejects", "0", "x.csv"]),
        needle,
    );
    refused(
        &batch_in(dir.path(), &["--max-rejects", "0", "--out", "-", "x.csv"]),
        needle,
    );
    // Opening a FIFO for writing waits for a reader: the test is one.
    let reader = {
        let fifo = dir.path().join("actions.fifo");
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    refused(
        &batch_in(
            dir.path(),
            &["--max-rejects", "0", "--out", "actions.fifo", "x.csv"],
        ),
        "`actions.fifo` is a device or FIFO",
    );
    assert!(
        reader.join().unwrap().is_empty(),
        "actions reached the FIFO"
    );
    let out = batch_in(
        dir.path(),
        &["--max-rejects", "0", "--out", "a.jsonl", "x.csv"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

#[test]
fn a_terminated_batch_removes_its_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    mkfifo(&input);
    // An earlier run's output, which a stopped run must leave whole.
    std::fs::write(dir.path().join("out.jsonl"), "earlier run\n").unwrap();
    let mut child = common::batch_command(
        dir.path(),
        rules(),
        &[
            "--out",
            "out.jsonl",
            "--rejects",
            "rejects.jsonl",
            "in.jsonl",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Opens when the batch opens its end; held open, the batch waits for more rows.
    let mut feed = std::fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap();
    feed.write_all(b"{\"id\": \"AC1\"}\n").unwrap();
    feed.flush().unwrap();
    let partial = |n: &String| n.contains("arrears-partial") || n.ends_with(".partial");
    let mut waited = 0;
    while names(dir.path()).iter().filter(|n| partial(n)).count() < 2 {
        assert!(child.try_wait().unwrap().is_none(), "the batch ended early");
        waited += 1;
        assert!(
            waited < 6000,
            "no partial files appeared: {:?}",
            names(dir.path())
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    drop(feed);
    assert_eq!(
        out.status.code(),
        Some(143),
        "{:?} {}",
        out.status,
        common::stderr(&out)
    );
    assert_eq!(names(dir.path()), ["in.jsonl", "out.jsonl"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap(),
        "earlier run\n"
    );
    assert_eq!(
        common::stderr(&out),
        "error: stopped by SIGTERM before the end: no output file was written, and files there before are as they were\n"
    );
}

#[test]
fn a_stale_partial_file_of_a_dead_run_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    let mut gone = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .arg("--version")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let stale = dir
        .path()
        .join(format!(".out.jsonl.arrears-partial-{dead}"));
    std::fs::write(&stale, "half of an earlier run\n").unwrap();
    let out = batch_in(dir.path(), &["--out", "out.jsonl", "x.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(!stale.exists(), "{:?}", names(dir.path()));
}

#[test]
fn numeric_flags_out_of_range_are_usage_errors_naming_the_range() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    for (args, needle) in [
        (["--threads", "100000"], "100000 is not in 0..=1024"),
        (
            ["--chunk-rows", "18446744073709551615"],
            "is not in 1..=1000000",
        ),
        (["--chunk-rows", "0"], "0 is not in 1..=1000000"),
    ] {
        let mut args = args.to_vec();
        args.push("x.csv");
        refused(&batch_in(dir.path(), &args), needle);
    }
    refused(
        &arrears_in(
            dir.path(),
            &["generate", "--accounts", "18446744073709551615", "y.csv"],
        ),
        "is not in 0..=1000000000",
    );
    refused(
        &arrears_in(
            dir.path(),
            &[
                "generate",
                "--accounts",
                "1",
                "--corrupt-rate",
                "NaN",
                "y.csv",
            ],
        ),
        "`NaN` is not a number from 0 to 1",
    );
    refused(
        &arrears_in(
            dir.path(),
            &["test", "--rules", &rules(), "--min-coverage", "150"],
        ),
        "`150` is not a number from 0 to 100",
    );
    assert_eq!(
        names(dir.path())
            .iter()
            .filter(|n| n.starts_with('y'))
            .count(),
        0
    );
}

#[test]
fn as_of_must_be_exactly_yyyy_mm_dd() {
    for bad in ["+2026-11-22", "2026-2-3", " 2026-11-22"] {
        let out = arrears_in(
            root(),
            &["dry-run", "--as-of", bad, "samples/accounts.yaml"],
        );
        refused(
            &out,
            &format!("`{bad}` is not a calendar date in the form YYYY-MM-DD"),
        );
    }
}

#[test]
fn a_companion_that_is_not_a_file_or_a_fifo_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    std::fs::create_dir(dir.path().join("sas.dir")).unwrap();
    for (path, what) in [
        ("/dev/zero", "is a character device"),
        ("sas.dir", "is a directory"),
        ("missing.csv", "does not exist"),
    ] {
        let companion = format!("service_agreements={path}");
        let out = batch_in(dir.path(), &["--companion", &companion, "x.csv"]);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "the companion file for `service_agreements` (`{path}`) {what}"
            )),
            "{stderr}"
        );
    }
}

/// Companions are read once, in step with the extract, so a FIFO or a
/// process substitution streams them as it streams the extract: the same
/// actions as from the files. An output naming that FIFO is still refused.
#[test]
fn a_companion_from_a_fifo_or_a_process_substitution_is_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    extract(d);
    let out = batch_in(d, &["--out", "files.jsonl", "x.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let fifo = d.join("sas.fifo");
    mkfifo(&fifo);
    let sas = std::fs::read(d.join("x.sas.csv")).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, sas).unwrap())
    };
    let out = batch_in(
        d,
        &[
            "--out",
            "fifo.jsonl",
            "--companion",
            "service_agreements=sas.fifo",
            "x.csv",
        ],
    );
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let read = |name: &str| std::fs::read_to_string(d.join(name)).unwrap();
    assert_eq!(read("fifo.jsonl"), read("files.jsonl"));
    // Bash's `<(...)`: a pipe named `/dev/fd/N`.
    let out = Command::new("bash")
        .current_dir(d)
        .arg("-c")
        .arg(format!(
            "{} batch --rules {} --as-of {AS_OF} --out substituted.jsonl --companion contacts=<(cat x.contacts.csv) x.csv",
            env!("CARGO_BIN_EXE_arrears"),
            rules()
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert_eq!(read("substituted.jsonl"), read("files.jsonl"));
    // Nothing opens the FIFO before the refusal: no writer is needed.
    let out = batch_in(
        d,
        &[
            "--out",
            "sas.fifo",
            "--companion",
            "service_agreements=sas.fifo",
            "x.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(64), "{}", common::stderr(&out));
}

/// Standard output to a file that cannot grow: the shell's `ulimit -f 0`
/// makes every write fail with EFBIG, as a full disk fails with ENOSPC
/// (SIGXFSZ ignored, so the write returns the error instead of killing).
#[test]
fn a_write_error_on_standard_output_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &["lint", "rules"],
        &["dry-run", "--as-of", AS_OF, "samples/accounts.yaml"],
        &["lint", "--explain", "aggregate"],
        &["test", "--rules", "rules"],
    ];
    for args in commands {
        let file = dir.path().join("stdout");
        let out = Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 0; exec \"$@\"")
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_arrears"))
            .args(*args)
            .current_dir(root())
            .stdout(std::fs::File::create(&file).unwrap())
            .output()
            .unwrap();
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write standard output: File too large"),
            "{stderr}"
        );
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 0);
    }
}

/// `| head`: the reader is gone before anything is written (`generate` wrote
/// nothing either, so it says nothing of rows written).
#[test]
fn a_closed_pipe_on_standard_output_ends_quietly() {
    let commands: &[(&[&str], i32)] = &[
        (&["lint", "rules"], 0),
        (&["dry-run", "--as-of", AS_OF, "samples/accounts.yaml"], 0),
        (&["batch", "--as-of", AS_OF, "samples/accounts.jsonl"], 0),
        (
            &[
                "diff",
                "--base",
                "rules",
                "--as-of",
                AS_OF,
                "samples/accounts.jsonl",
            ],
            0,
        ),
        (
            &["generate", "--accounts", "300", "--format", "jsonl", "-"],
            0,
        ),
    ];
    for (args, code) in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
            .args(*args)
            .current_dir(root())
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("error") && !stderr.contains("panic") && !stderr.contains("wrote"),
            "{args:?}: {stderr}"
        );
    }
}

/// Runs `arrears` in the crate root with `input` written to a pipe on its stdin.
fn arrears_piped(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    // The reader may stop early on a usage error: a closed pipe is fine then.
    let _ = feeder.join().unwrap();
    out
}

#[test]
fn a_dash_reads_accounts_from_standard_input() {
    let from_file = arrears_in(
        root(),
        &[
            "dry-run",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "samples/accounts.jsonl",
        ],
    );
    let piped = arrears_piped(
        &["dry-run", "--as-of", AS_OF, "--format", "json", "-"],
        &std::fs::read(root().join("samples/accounts.jsonl")).unwrap(),
    );
    assert_eq!(piped.status.code(), Some(0), "{}", common::stderr(&piped));
    let without_origins = |o: &Output| {
        let mut doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for account in doc["accounts"].as_array_mut().unwrap() {
            account["origin"] = serde_json::Value::Null;
        }
        doc
    };
    assert_eq!(without_origins(&piped), without_origins(&from_file));
    // YAML is told from its first character.
    let yaml = arrears_piped(
        &["dry-run", "--as-of", AS_OF, "-"],
        &std::fs::read(root().join("samples/accounts.yaml")).unwrap(),
    );
    assert_eq!(yaml.status.code(), Some(0), "{}", common::stderr(&yaml));
    assert!(common::stdout(&yaml).contains("24 account(s) as of 2026-11-22: 24 evaluated"));

    let jsonl = std::fs::read(root().join("samples/accounts.jsonl")).unwrap();
    let batch = |extra: &[&str]| {
        let mut args = vec!["batch", "--as-of", AS_OF];
        args.extend_from_slice(extra);
        arrears_piped(&args, &jsonl)
    };
    let piped = batch(&["--input-format", "jsonl", "-"]);
    assert_eq!(piped.status.code(), Some(0), "{}", common::stderr(&piped));
    let from_file = arrears_in(
        root(),
        &["batch", "--as-of", AS_OF, "samples/accounts.jsonl"],
    );
    assert!(!piped.stdout.is_empty());
    assert_eq!(piped.stdout, from_file.stdout);
    refused(
        &batch(&["-"]),
        "standard input (`-`) needs --input-format csv|jsonl",
    );
    // CSV from standard input has no directory to find its companions in.
    let csv = batch(&["--input-format", "csv", "-"]);
    assert_eq!(csv.status.code(), Some(2));
    assert!(
        common::stderr(&csv).contains("give --companion service_agreements=PATH"),
        "{}",
        common::stderr(&csv)
    );
}

/// `schema --out DIR` and `man --out DIR` replace only regular files in DIR:
/// a symbolic link there (whose target is outside) or a FIFO (whose write
/// would block) is refused before anything is written.
#[test]
fn an_out_directory_replaces_only_its_regular_files() {
    use std::os::unix::fs::OpenOptionsExt;
    for (command, page) in [("schema", "table.schema.json"), ("man", "arrears.1")] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(dir.path().join("precious.txt"), "mine").unwrap();
        std::os::unix::fs::symlink("../precious.txt", out.join(page)).unwrap();
        refused_with(
            &arrears_in(dir.path(), &[command, "--out", "out"]),
            2,
            &format!("`out/{page}` is a symbolic link; `--out DIR` replaces only regular files there (nothing written)"),
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
            "mine"
        );
        assert_eq!(names(&out), vec![page.to_string()]);
        std::fs::remove_file(out.join(page)).unwrap();
        mkfifo(&out.join(page));
        let reader = {
            let fifo = out.join(page);
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        refused_with(
            &arrears_in(dir.path(), &[command, "--out", "out"]),
            2,
            &format!("`out/{page}` is a FIFO (named pipe)"),
        );
        // Lets the reader go: a writer that opens and closes without writing
        // (opening fails until the reader is waiting in its open).
        while !reader.is_finished()
            && std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(out.join(page))
                .is_err()
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            reader.join().unwrap().is_empty(),
            "{command} wrote into the FIFO"
        );
        assert_eq!(names(&out), vec![page.to_string()]);
    }
}

/// One `error:` line containing `needle`, exit `code`, nothing on stdout.
/// `man --out DIR` writes into a directory of manual pages only: a rules
/// directory (or any file that is not a page) is refused unless
/// `--allow-other-files`, and a page is replaced only when `arrears man` wrote
/// it and nobody edited it since; what it refuses is named, and nothing is written.
#[test]
fn man_out_replaces_only_its_own_unedited_pages() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| arrears_in(dir.path(), &[&["man", "--out"][..], args].concat());
    let listing = |d: &str| -> Vec<(String, Vec<u8>)> {
        names(&dir.path().join(d))
            .into_iter()
            .map(|n| {
                let bytes = std::fs::read(dir.path().join(d).join(&n)).unwrap_or_default();
                (n, bytes)
            })
            .collect()
    };
    // A rules directory: named by a rule file, left as it was.
    common::copy_dir(&common::root().join("rules"), &dir.path().join("rules"));
    let before = listing("rules");
    refused_with(
        &run(&["rules"]),
        2,
        "`rules` holds `callback.yaml`, a rule file or another document, not a manual page: `man --out` writes into a directory of manual pages such as `~/.local/share/man/man1`; give --allow-other-files to write there anyway (nothing written)",
    );
    assert_eq!(listing("rules"), before);
    // A man1 directory with another program's page: written, then rewritten.
    std::fs::create_dir(dir.path().join("man1")).unwrap();
    std::fs::write(dir.path().join("man1/ls.1"), ".TH LS 1\n").unwrap();
    for _ in 0..2 {
        let out = run(&["man1"]);
        assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    }
    let lint_page = dir.path().join("man1/arrears-lint.1");
    assert!(std::fs::read_to_string(&lint_page)
        .unwrap()
        .contains(".TH arrears-lint 1"));
    // An edited page is kept, and so is every other page.
    let edited = format!(
        "{}.SH LOCAL NOTES\nours\n",
        std::fs::read_to_string(&lint_page).unwrap()
    );
    std::fs::write(&lint_page, &edited).unwrap();
    let before = listing("man1");
    refused_with(
        &run(&["man1"]),
        2,
        "`man1/arrears-lint.1` was edited since `arrears man` wrote it; not replacing it (keep your edits elsewhere and remove it to get the current page; nothing written)",
    );
    assert_eq!(listing("man1"), before);
    // A file of that name arrears did not write.
    std::fs::write(&lint_page, ".TH arrears-lint 1 \"hand-written\"\n").unwrap();
    refused_with(
        &run(&["man1"]),
        2,
        "`man1/arrears-lint.1` exists and was not written by `arrears man --out`; not replacing it (remove it to get the current page; nothing written)",
    );
    // A symbolic link where a page goes: its target is not touched.
    std::fs::remove_file(&lint_page).unwrap();
    std::fs::write(dir.path().join("precious.txt"), "mine").unwrap();
    std::os::unix::fs::symlink("../precious.txt", &lint_page).unwrap();
    refused_with(
        &run(&["man1"]),
        2,
        "`man1/arrears-lint.1` is a symbolic link; `--out DIR` replaces only regular files there (nothing written)",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("precious.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(&lint_page).unwrap();
    // A file given for the directory.
    refused_with(
        &run(&["precious.txt"]),
        2,
        "`precious.txt` is a regular file, not a directory",
    );
    // Asked to, it writes beside other files, still replacing none it did not write.
    std::fs::write(dir.path().join("man1/notes.txt"), "mine").unwrap();
    refused_with(
        &run(&["man1"]),
        2,
        "`man1` holds `notes.txt`, not a manual page",
    );
    let out = run(&["man1", "--allow-other-files"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(lint_page.is_file());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("man1/notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("man1/ls.1")).unwrap(),
        ".TH LS 1\n"
    );
}

fn refused_with(out: &Output, code: i32, needle: &str) {
    let stderr = common::stderr(out);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "no `{needle}` in {stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// A generated CSV extract `bad.csv` with some corrupt rows, in `dir`.
pub(crate) fn corrupt_extract(dir: &Path) {
    let out = arrears_in(
        dir,
        &[
            "generate",
            "--accounts",
            "60",
            "--seed",
            "3",
            "--corrupt-rate",
            "0.1",
            "bad.csv",
        ],
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
}

/// A batch in `dir` with standard output and error redirected to files.
fn batch_redirected(dir: &Path, extra: &[&str], stdout: &Path, stderr: &Path) -> Option<i32> {
    common::batch_command(dir, rules(), extra)
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(stderr).unwrap())
        .status()
        .unwrap()
        .code()
}

fn inode(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
}

/// `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `-` name the streams the
/// process has: written through (a redirected file is neither renamed over nor
/// lost), and two outputs on one stream are a usage error.
#[test]
fn standard_streams_are_written_through_and_never_shared() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corrupt_extract(d);
    let o = batch_in(
        d,
        &[
            "--out",
            "ref.jsonl",
            "--rejects",
            "ref-rejects.jsonl",
            "--summary",
            "ref.json",
            "bad.csv",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    let actions = std::fs::read(d.join("ref.jsonl")).unwrap();
    let rejects = std::fs::read_to_string(d.join("ref-rejects.jsonl")).unwrap();
    assert!(!actions.is_empty() && !rejects.is_empty());

    // Standard output redirected to a file: the file keeps its inode and gets the actions.
    let (so, se) = (d.join("so.txt"), d.join("se.txt"));
    std::fs::write(&so, "").unwrap();
    let before = inode(&so);
    let code = batch_redirected(
        d,
        &["--out", "/dev/stdout", "--rejects", "r.jsonl", "bad.csv"],
        &so,
        &se,
    );
    assert_eq!(code, Some(1), "{}", std::fs::read_to_string(&se).unwrap());
    assert_eq!(std::fs::read(&so).unwrap(), actions);
    assert_eq!(inode(&so), before, "the redirected file was replaced");
    // Standard error redirected: the rejects, then the human summary, both there.
    let code = batch_redirected(
        d,
        &["--out", "o.jsonl", "--rejects", "/dev/stderr", "bad.csv"],
        &so,
        &se,
    );
    assert_eq!(code, Some(1));
    let err = std::fs::read_to_string(&se).unwrap();
    assert!(err.starts_with(&rejects), "{err}");
    assert!(err.contains(" rows read: "), "the summary is lost: {err}");
    // A pipe, through /dev/stdout and /dev/fd/1.
    for out in ["/dev/stdout", "/dev/fd/1"] {
        let o = batch_in(d, &["--out", out, "bad.csv"]);
        assert_eq!(o.status.code(), Some(1), "{out}: {}", common::stderr(&o));
        assert_eq!(o.stdout, actions, "{out}");
    }
    // `-` is standard output for --rejects and --summary too.
    let o = batch_in(d, &["--out", "o.jsonl", "--rejects", "-", "bad.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    assert_eq!(common::stdout(&o), rejects);
    let o = batch_in(d, &["--out", "o.jsonl", "--summary", "-", "bad.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["rows_read"], 60);
    assert!(!d.join("-").exists(), "a file named `-` was created");
    // Two outputs on one stream.
    for (args, needle) in [
        (
            &["--out", "-", "--rejects", "/dev/stdout"][..],
            "--rejects `/dev/stdout` is the same stream as --out `-`",
        ),
        (
            &["--rejects", "/dev/fd/1"],
            "--rejects `/dev/fd/1` is the same stream as --out `-`",
        ),
        (
            &["--summary", "-"],
            "--summary `-` is the same stream as --out `-`",
        ),
        (
            &[
                "--out",
                "o.jsonl",
                "--rejects",
                "-",
                "--summary",
                "/dev/stdout",
            ],
            "--summary `/dev/stdout` is the same stream as --rejects `-`",
        ),
    ] {
        let mut args = args.to_vec();
        args.push("bad.csv");
        refused(&batch_in(d, &args), needle);
    }
    // Standard output redirected to the file another output names.
    let code = batch_redirected(
        d,
        &["--out", "-", "--rejects", "so.txt", "bad.csv"],
        &so,
        &se,
    );
    assert_eq!(code, Some(64), "{}", std::fs::read_to_string(&se).unwrap());
    // A character device may take two outputs (lines interleave, nothing is replaced).
    let o = batch_in(
        d,
        &["--out", "/dev/null", "--rejects", "/dev/null", "bad.csv"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", common::stderr(&o));
}

/// `generate` CSV is eight files: to a stream or a device it is refused (exit
/// 64) before anything is written, never companions created beside `/dev/stdout`;
/// JSON Lines is one stream and goes to standard output as it would to a file.
#[test]
fn generate_csv_refuses_a_stream_and_jsonl_writes_to_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for out in ["/dev/stdout", "-", "/dev/fd/1", "/dev/null"] {
        let o = arrears_in(
            d,
            &[
                "generate",
                "--accounts",
                "5",
                "--seed",
                "1",
                "--format",
                "csv",
                out,
            ],
        );
        assert_eq!(o.status.code(), Some(64), "{out}: {}", common::stderr(&o));
        let err = common::stderr(&o);
        assert!(err.contains("a CSV extract is eight files"), "{err}");
        assert!(err.contains("--format jsonl"), "{err}");
        assert!(o.stdout.is_empty());
    }
    assert!(names(d).is_empty(), "{:?}", names(d));
    let o = arrears_in(
        d,
        &[
            "generate",
            "--accounts",
            "5",
            "--seed",
            "1",
            "--format",
            "jsonl",
            "g.jsonl",
        ],
    );
    assert!(o.status.success());
    let file = std::fs::read(d.join("g.jsonl")).unwrap();
    for out in ["/dev/stdout", "-"] {
        let o = arrears_in(
            d,
            &[
                "generate",
                "--accounts",
                "5",
                "--seed",
                "1",
                "--format",
                "jsonl",
                out,
            ],
        );
        assert!(o.status.success(), "{}", common::stderr(&o));
        assert_eq!(o.stdout, file, "{out}");
    }
    assert_eq!(names(d), ["g.jsonl"]);
}

/// A batch whose standard output fills up (`/dev/full`) says what is true of
/// a stream: what was written is incomplete, not "no output written".
#[test]
fn a_full_stream_is_reported_incomplete_not_unwritten() {
    let dir = tempfile::tempdir().unwrap();
    extract(dir.path());
    let rules = rules();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let out = common::batch_command(dir.path(), &rules, &["x.csv"])
        .stdout(full())
        .output()
        .unwrap();
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains("cannot write --out (standard output): No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("no output written"), "{stderr}");
    let out = batch_in(
        dir.path(),
        &["--out", "/dev/full", "--rejects", "r.jsonl", "x.csv"],
    );
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.ends_with("error: cannot write --out `/dev/full`: No space left on device (os error 28); --rejects `r.jsonl` not written (a file already there is left as it was)\n"), "{stderr}");
    assert!(!dir.path().join("r.jsonl").exists());
}

/// A summary that cannot be written (`--summary /dev/full`) says what became
/// of the other outputs: files not written, a stream written in full.
#[test]
fn a_summary_that_cannot_be_written_says_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    extract(d);
    let out = batch_in(
        d,
        &[
            "--out",
            "o.jsonl",
            "--rejects",
            "r.jsonl",
            "--summary",
            "/dev/full",
            "x.csv",
        ],
    );
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.ends_with("error: cannot write the summary to `/dev/full`: No space left on device (os error 28); --out `o.jsonl` and --rejects `r.jsonl` not written (a file already there is left as it was)\n"), "{stderr}");
    assert!(!d.join("o.jsonl").exists() && !d.join("r.jsonl").exists());
    let out = batch_in(d, &["--summary", "/dev/full", "x.csv"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!out.stdout.is_empty());
    assert!(stderr.ends_with("error: cannot write the summary to `/dev/full`: No space left on device (os error 28); what went to --out (standard output) is complete (a stream cannot be taken back); no other output written\n"), "{stderr}");
}

/// A loop of symbolic links as an output is refused (it would be replaced by
/// a file, and the links lost), and so is a read-only file: exit 2 before any
/// row is read, nothing written.
#[test]
fn a_link_loop_a_read_only_file_or_a_directory_as_an_output_is_refused_before_the_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    extract(d);
    std::os::unix::fs::symlink("loop2", d.join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", d.join("loop2")).unwrap();
    let out = batch_in(d, &["--out", "loop1", "x.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("`loop1` is a loop of symbolic links"),
        "{}",
        common::stderr(&out)
    );
    assert!(std::fs::symlink_metadata(d.join("loop1"))
        .unwrap()
        .file_type()
        .is_symlink());
    let ro = d.join("ro.json");
    std::fs::write(&ro, "last night's\n").unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    for flag in ["--out", "--rejects", "--summary"] {
        let out = batch_in(d, &[flag, "ro.json", "x.csv"]);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: {flag}: `ro.json` is read-only; it is not replaced"
            )),
            "{stderr}"
        );
        assert!(
            !stderr.contains("rows read"),
            "the run went ahead: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&ro).unwrap(), "last night's\n");
    }
    // A directory is refused before the run too: `--summary` was found only
    // after it, and the whole night's outputs were discarded.
    std::fs::create_dir(d.join("reports")).unwrap();
    for flag in ["--out", "--rejects", "--summary"] {
        let also = if flag == "--out" {
            "--rejects"
        } else {
            "--out"
        };
        let out = batch_in(d, &[flag, "reports", also, "a.jsonl", "x.csv"]);
        let stderr = common::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flag}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {flag}: `reports` is a directory")),
            "{stderr}"
        );
        assert!(!d.join("a.jsonl").exists(), "{flag}");
    }
}

/// `generate` writes only files it may replace, refused as the other commands
/// refuse them, before anything is written: an OUT named for another kind of
/// file (`accounts.yaml`, exit 64), an output or companion inside the rules
/// directory (64, as `batch` and `diff`), a symbolic link or a companion that is
/// not a regular file (2, as `schema` and `man`), a FIFO no process reads (2,
/// instead of waiting for ever). A FIFO with a reader is a stream.
#[test]
fn generate_refuses_its_inputs_links_and_a_fifo_without_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::copy_dir(&root().join("rules"), &d.join("rules"));
    std::fs::create_dir(d.join("samples")).unwrap();
    std::fs::write(d.join("samples/accounts.yaml"), "accounts: []\n").unwrap();
    std::fs::write(d.join("samples/accounts.jsonl"), "{}\n").unwrap();
    std::os::unix::fs::symlink("samples/accounts.jsonl", d.join("link.csv")).unwrap();
    std::os::unix::fs::symlink("samples/accounts.jsonl", d.join("y.sas.csv")).unwrap();
    std::fs::create_dir(d.join("z.promises.csv")).unwrap();
    mkfifo(&d.join("fifo.csv"));
    // `tree` would read the FIFO: the files that may be harmed, and the names.
    let state = || (tree(&d.join("rules")), tree(&d.join("samples")), names(d));
    let before = state();
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", "--accounts", "5", "--rules", "rules"];
        args.extend(extra);
        arrears_in(d, &args)
    };
    let mut seen = String::new();
    for (out, code) in [
        (&["rules/entry.yaml"][..], 64),
        (&["rules/extract.csv"], 64),
        (&["samples/accounts.yaml"], 64),
        (&["--format", "jsonl", "x.csv"], 64),
        (&["link.csv"], 2),
        (&["y.csv"], 2),
        (&["z.csv"], 2),
        (&["fifo.csv"], 2),
    ] {
        let o = generate(out);
        let stderr = common::stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{out:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{out:?}: {stderr}");
        seen += &format!("{}\n{stderr}\n", out.join(" "));
    }
    assert_snapshot!("generate_refusals", seen);
    assert!(state() == before, "a refused generate wrote something");
    // With a reader, OUT as a FIFO is a stream; its companions go beside it.
    let reader = {
        let fifo = d.join("fifo.csv");
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let o = generate(&["fifo.csv"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let streamed = reader.join().unwrap();
    let o = generate(&["file.csv"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(streamed, std::fs::read(d.join("file.csv")).unwrap());
    assert_eq!(
        std::fs::read(d.join("fifo.sas.csv")).unwrap(),
        std::fs::read(d.join("file.sas.csv")).unwrap()
    );
}

/// `diff` reads every file of an accounts directory: a report written there
/// would be read as an account by the next run (exit 64, as inside the rules
/// directory). An output that is a FIFO no process reads is refused (exit 2)
/// after a short wait instead of blocking the run, for `diff` as for `batch`.
#[test]
fn diff_refuses_an_output_in_its_accounts_directory_and_a_fifo_nobody_reads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("acc")).unwrap();
    std::fs::copy(
        root().join("samples/accounts.yaml"),
        d.join("acc/accounts.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("acc", d.join("link")).unwrap();
    mkfifo(&d.join("report.fifo"));
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff",
            "--base",
            &rules(),
            "--rules",
            &rules(),
            "--as-of",
            AS_OF,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        arrears_in(d, &args)
    };
    let state = || (tree(&d.join("acc")), names(d));
    let before = state();
    let mut seen = String::new();
    for (extra, code) in [
        (
            &["--format", "json", "--out", "acc/diff.json", "acc"][..],
            64,
        ),
        (&["--changed", "link/changed.jsonl", "acc"], 64),
        (&["--rejects", "acc/sub/rejects.jsonl", "./acc/"], 64),
        (&["--out", "report.fifo", "acc"], 2),
        (&["--changed", "report.fifo", "acc"], 2),
    ] {
        let o = diff(extra);
        let stderr = common::stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        assert!(o.stdout.is_empty(), "{extra:?}");
        seen += &format!("{}\n{stderr}\n", extra.join(" "));
        assert!(state() == before, "{extra:?} wrote something");
    }
    assert_snapshot!("diff_refusals", seen);
    // Beside the accounts directory, or to a FIFO with a reader, the report is written.
    let reader = {
        let fifo = d.join("report.fifo");
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = diff(&["--out", "report.fifo", "acc"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    let streamed = reader.join().unwrap();
    let o = diff(&["--out", "report.txt", "acc"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    assert_eq!(
        streamed,
        std::fs::read_to_string(d.join("report.txt")).unwrap()
    );
}

/// `generate` stopped by a signal removes its partial files (all eight of a
/// CSV extract) and leaves an earlier extract whole, as the batch does.
#[test]
fn a_terminated_generate_removes_its_partial_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("x.csv"), "earlier run\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args([
            "generate",
            "--accounts",
            "1000000000",
            "--rules",
            &rules(),
            "x.csv",
        ])
        .current_dir(d)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partials = || {
        names(d)
            .iter()
            .filter(|n| n.contains("arrears-partial"))
            .count()
    };
    let mut waited = 0;
    while partials() < 8 {
        assert!(child.try_wait().unwrap().is_none(), "generate ended early");
        waited += 1;
        assert!(waited < 6000, "no partial files appeared: {:?}", names(d));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", common::stderr(&out));
    assert_eq!(names(d), ["x.csv"]);
    assert_eq!(
        std::fs::read_to_string(d.join("x.csv")).unwrap(),
        "earlier run\n"
    );
}

/// An input FIFO no process writes (the extract, a companion, `--open-cases`)
/// is refused (exit 2, one line naming it) after the same short wait as an
/// output FIFO no process reads, instead of waiting for ever in silence.
#[test]
fn batch_and_diff_refuse_an_input_fifo_no_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    extract(d);
    mkfifo(&d.join("in.jsonl"));
    mkfifo(&d.join("open.txt"));
    let rules = rules();
    let base = ["--rules", &rules, "--as-of", AS_OF];
    let batch = |extra: &[&'static str]| [&["batch"][..], &base, extra].concat();
    let diff = |extra: &[&'static str]| [&["diff", "--base", &rules][..], &base, extra].concat();
    let mut seen = String::new();
    let run = |args: Vec<&str>, seen: &mut String| {
        let started = std::time::Instant::now();
        let o = arrears_in(d, &args);
        let stderr = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(started.elapsed() >= std::time::Duration::from_secs(2));
        *seen += &format!("{}\n{stderr}\n", args[args.len() - 1]);
    };
    run(batch(&["--out", "o.jsonl", "in.jsonl"]), &mut seen);
    run(diff(&["in.jsonl"]), &mut seen);
    run(
        batch(&["--out", "o.jsonl", "--open-cases", "open.txt", "x.csv"]),
        &mut seen,
    );
    std::fs::remove_file(d.join("x.contacts.csv")).unwrap();
    mkfifo(&d.join("x.contacts.csv"));
    run(batch(&["--out", "o.jsonl", "x.csv"]), &mut seen);
    assert!(!d.join("o.jsonl").exists());
    assert_snapshot!("input_fifo_no_process_writes", seen);
}

/// `batch` names the output it could not write mid-run (a full disk:
/// `/dev/full`), by its option and path, and what became of the others (the
/// words `diff` uses: `cli::output::what_became`): files not written, what
/// went to a stream incomplete.
#[test]
fn batch_names_the_output_it_could_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corrupt_extract(d);
    let mut seen = String::new();
    for extra in [
        &[
            "--out",
            "/dev/full",
            "--rejects",
            "r.jsonl",
            "--summary",
            "s.json",
        ][..],
        &["--rejects", "/dev/full", "--out", "o.jsonl"],
        &["--rejects", "/dev/full", "--out", "/dev/null"],
    ] {
        let args = [extra, &["bad.csv"][..]].concat();
        let o = batch_in(d, &args);
        let stderr = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        seen += &format!("{}\n{stderr}", extra.join(" "));
    }
    for file in ["o.jsonl", "r.jsonl", "s.json"] {
        assert!(!d.join(file).exists(), "{file}");
    }
    assert_snapshot!("batch_output_not_written", seen);
}

/// `diff` names the output it could not write (a full disk: `/dev/full`) and
/// what became of the others, as `batch` does.
#[test]
fn diff_names_the_output_it_could_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    corrupt_extract(d);
    let rules = rules();
    let mut seen = String::new();
    for extra in [
        &[
            "--rejects",
            "/dev/full",
            "--changed",
            "c.jsonl",
            "--out",
            "r.txt",
        ][..],
        &["--out", "/dev/full", "--rejects", "rj.jsonl"],
    ] {
        let args = [
            &[
                "diff", "--base", &rules, "--rules", &rules, "--as-of", AS_OF,
            ][..],
            extra,
            &["bad.csv"],
        ]
        .concat();
        let o = arrears_in(d, &args);
        let stderr = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        seen += &stderr;
    }
    for file in ["c.jsonl", "r.txt", "rj.jsonl"] {
        assert!(!d.join(file).exists(), "{file}");
    }
    assert_snapshot!("diff_output_not_written", seen);
}
