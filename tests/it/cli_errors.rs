//! Command-line mistakes: each is one line on stderr, nothing on stdout, and
//! the exit code the README documents (2: an input could not be read,
//! 64: the command line is wrong).

use crate::common;

use std::process::Output;

use common::{arrears, arrears_in, root};

/// Asserts one line on stderr starting `error: ` and containing `needle`, and the exit code.
fn one_line_error(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(needle), "no `{needle}` in {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

const AS_OF: &str = "2026-11-22";

#[test]
fn unknown_flag_is_usage() {
    let out = arrears(&["lint", "--bogus"]);
    one_line_error(&out, 64, "unexpected argument '--bogus'");
    assert!(String::from_utf8_lossy(&out.stderr).contains("arrears --help"));
}

#[test]
fn unknown_subcommand_is_usage() {
    one_line_error(
        &arrears(&["frobnicate"]),
        64,
        "unrecognized subcommand 'frobnicate'",
    );
}

/// A misspelt subcommand, flag or value gets clap's nearest name, still on one line.
#[test]
fn a_misspelling_gets_the_nearest_name() {
    for (args, nearest) in [
        (&["simualte"][..], "a similar subcommand exists: 'simulate'"),
        (
            &["diff", "--bsae", "rules"][..],
            "a similar argument exists: '--base'",
        ),
        (
            &["lint", "--format", "jsn"][..],
            "a similar value exists: 'json'",
        ),
        // `--output` is `--out`'s alias: its misspelling names `--out`, not `--output-format`.
        (
            &["batch", "--ouput", "a.jsonl", "x.csv"][..],
            "unexpected argument '--ouput' found; a similar argument exists: '--out'",
        ),
    ] {
        let out = arrears(args);
        one_line_error(&out, 64, nearest);
        assert!(
            String::from_utf8_lossy(&out.stderr).ends_with("(see `arrears --help`)\n"),
            "{args:?}"
        );
    }
}

/// A flag that is the last word of the real one (`batch --format` for
/// `--output-format`) is too far for clap's spelling match: it is named the same
/// way, not taken for a value to pass after `--`.
#[test]
fn a_flag_that_ends_the_real_one_gets_its_name() {
    for (args, nearest) in [
        (
            &["batch", "--format", "csv", "--as-of", "2026-11-22", "x.csv"][..],
            "unexpected argument '--format' found; a similar argument exists: '--output-format'",
        ),
        (
            &["batch", "--format=csv", "x.csv"][..],
            "a similar argument exists: '--output-format'",
        ),
        (
            &["generate", "--rate", "0.1", "out.csv"][..],
            "a similar argument exists: '--corrupt-rate'",
        ),
    ] {
        let out = arrears(args);
        one_line_error(&out, 64, nearest);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("-- --"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn missing_required_argument_is_usage() {
    let out = arrears(&["dry-run", "--rules", "rules", "samples/accounts.yaml"]);
    one_line_error(&out, 64, "--as-of");
}

#[test]
fn impossible_as_of_date_is_usage() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-02-30",
        "samples/accounts.yaml",
    ]);
    one_line_error(
        &out,
        64,
        "`2026-02-30` is not a calendar date in the form YYYY-MM-DD",
    );
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "22/11/2026",
        "samples/accounts.yaml",
    ]);
    one_line_error(&out, 64, "`22/11/2026`");
    for bad in ["2026-13-01", "tomorrow"] {
        let out = arrears(&["dry-run", "--as-of", bad, "samples/accounts.yaml"]);
        one_line_error(&out, 64, &format!("`{bad}`"));
    }
}

#[test]
fn unknown_format_is_usage() {
    one_line_error(&arrears(&["lint", "--format", "xml"]), 64, "xml");
}

#[test]
fn help_and_version_succeed() {
    assert_eq!(arrears(&["--help"]).status.code(), Some(0));
    let out = arrears(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("arrears "));
}

#[test]
fn missing_accounts_file_is_bad_input() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "no-such.yaml",
    ]);
    one_line_error(&out, 2, "cannot read `no-such.yaml`");
}

#[test]
fn missing_rules_directory_is_bad_input() {
    one_line_error(
        &arrears(&["lint", "no-such-rules"]),
        2,
        "cannot read `no-such-rules`",
    );
    let out = arrears(&[
        "dry-run",
        "--rules",
        "no-such-rules",
        "--as-of",
        AS_OF,
        "samples/accounts.yaml",
    ]);
    one_line_error(&out, 2, "cannot read `no-such-rules`");
}

#[test]
fn missing_test_path_is_bad_input() {
    one_line_error(&arrears(&["test", "no-such-tests"]), 2, "no-such-tests");
}

#[test]
fn a_file_where_the_rules_directory_belongs_is_bad_input() {
    one_line_error(
        &arrears(&["lint", "README.md"]),
        2,
        "`README.md` is not a directory of rule files",
    );
}

#[test]
fn a_directory_without_account_files_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not accounts").unwrap();
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        dir.path().to_str().unwrap(),
    ]);
    one_line_error(&out, 2, "is a directory without account files");
}

#[test]
fn a_file_path_through_a_file_is_bad_input() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "samples/accounts.yaml/x.yaml",
    ]);
    one_line_error(&out, 2, "cannot read `samples/accounts.yaml/x.yaml`");
}

/// A file or directory that is listed but cannot be opened: the accounts file,
/// a rule file, the rules directory. Made unreadable with chmod 000, or — for
/// root (CI), whom chmod does not stop — by a symlink to nothing, so the check
/// runs either way.
#[cfg(unix)]
#[test]
fn unreadable_files_are_bad_input() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "x").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000)).unwrap();
    let chmod_blocks = std::fs::read(&probe).is_err();
    // Replaces `path` (a file or directory) by one that is listed but cannot be read.
    let make_unreadable = |path: &std::path::Path| {
        if chmod_blocks {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        } else {
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
            std::os::unix::fs::symlink(dir.path().join("nowhere"), path).unwrap();
        }
        assert!(std::fs::read(path).is_err() && std::fs::read_dir(path).is_err());
    };

    let accounts = dir.path().join("accounts.yaml");
    std::fs::copy(root().join("samples/accounts.yaml"), &accounts).unwrap();
    make_unreadable(&accounts);
    let out = arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            root().join("rules").to_str().unwrap(),
            "--as-of",
            AS_OF,
            "accounts.yaml",
        ],
    );
    one_line_error(&out, 2, "cannot read `accounts.yaml`");

    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("schema.yaml"),
        "schema: s\nfields: { id: text }\n",
    )
    .unwrap();
    make_unreadable(&rules.join("schema.yaml"));
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    one_line_error(&out, 2, "cannot read `rules/schema.yaml`");
    make_unreadable(&rules);
    let out = arrears_in(dir.path(), &["lint", "rules"]);
    one_line_error(&out, 2, "cannot read `rules`");
    if chmod_blocks {
        std::fs::set_permissions(&rules, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// `schema --out` and `man --out` name a directory: a file or FIFO there is
/// named as such (not the OS's "File exists") and left as it is.
#[test]
fn an_out_directory_that_is_a_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    for command in ["schema", "man"] {
        one_line_error(
            &arrears_in(dir.path(), &[command, "--out", "notes.txt"]),
            2,
            "`notes.txt` is a regular file, not a directory; --out names the directory to write into",
        );
        one_line_error(
            &arrears_in(dir.path(), &[command, "--out", "/dev/null"]),
            2,
            "`/dev/null` is a character device, not a directory",
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

/// Every exit 64, whichever command and whether clap or the command found it,
/// is one line that ends pointing at the help (`cli::usage_error`).
#[test]
fn every_usage_error_is_one_line_ending_with_the_help() {
    let inside = root().join("rules/out.jsonl");
    let inside = inside.to_str().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("no such command", &["frobnicate"]),
        ("lint: an unknown flag", &["lint", "--bogus"]),
        ("lint: an unknown code", &["lint", "--explain", "tabel-gap"]),
        (
            "lint: two directories",
            &["lint", "rules", "--rules", "samples"],
        ),
        (
            "lint: counterexamples inside the rules",
            &["lint", "rules", "--counterexamples", "rules/cx"],
        ),
        (
            "dry-run: an impossible date",
            &["dry-run", "--as-of", "2026-02-30", "samples/accounts.yaml"],
        ),
        (
            "dry-run: --all-cells without --explain",
            &[
                "dry-run",
                "--as-of",
                AS_OF,
                "--all-cells",
                "samples/accounts.yaml",
            ],
        ),
        (
            "test: a filter that matches nothing",
            &["test", "--filter", "no-such-case", "rules/tests/entry.yaml"],
        ),
        (
            "test: coverage out of range",
            &["test", "--min-coverage", "101"],
        ),
        (
            "batch: standard input without a format",
            &["batch", "--as-of", AS_OF, "-"],
        ),
        (
            "batch: --max-rejects without --out",
            &[
                "batch",
                "--as-of",
                AS_OF,
                "--max-rejects",
                "1",
                "samples/accounts.jsonl",
            ],
        ),
        (
            "batch: an output inside the rules",
            &[
                "batch",
                "--as-of",
                AS_OF,
                "--out",
                inside,
                "samples/accounts.jsonl",
            ],
        ),
        (
            "batch: 1025 threads",
            &[
                "batch",
                "--as-of",
                AS_OF,
                "--threads",
                "1025",
                "samples/accounts.jsonl",
            ],
        ),
        ("simulate: no timeline", &["simulate"]),
        (
            "diff: standard input without a format",
            &["diff", "--base", "rules", "--as-of", AS_OF, "-"],
        ),
        (
            "diff: an output inside the rules",
            &[
                "diff",
                "--base",
                "rules",
                "--as-of",
                AS_OF,
                "--out",
                inside,
                "samples/accounts.jsonl",
            ],
        ),
        (
            "generate: CSV to standard output",
            &["generate", "--accounts", "3", "-"],
        ),
        (
            "generate: a rate out of range",
            &["generate", "--corrupt-rate", "2", "x.csv"],
        ),
        ("doc: no --out", &["doc"]),
        ("fmt: an unknown flag", &["fmt", "--bogus"]),
        ("completions: an unknown shell", &["completions", "tcsh"]),
        ("man: an unknown flag", &["man", "--bogus"]),
        ("schema: neither a kind nor --out", &["schema"]),
    ];
    for (what, args) in cases {
        let out = arrears(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: not one line:\n{stderr}");
        assert!(stderr.starts_with("error: "), "{what}: {stderr}");
        assert!(
            stderr.ends_with(" (see `arrears --help`)\n")
                && stderr.matches("arrears --help").count() == 1,
            "{what}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{what}");
    }
    assert!(!root().join("rules/out.jsonl").exists());
    assert!(!root().join("rules/cx").exists());
}

/// A list or mapping name the rules do not have, given on the command line,
/// is a usage error (64) whichever flag names it, listing the names there are.
#[test]
fn an_unknown_list_or_mapping_name_is_usage_naming_those_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = arrears_in(d, &["generate", "--accounts", "5", "--seed", "1", "x.csv"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let rules = root().join("rules");
    let batch = |extra: &[&str]| {
        let args = [
            &[
                "batch",
                "--rules",
                rules.to_str().unwrap(),
                "--as-of",
                AS_OF,
            ][..],
            extra,
            &["x.csv"],
        ]
        .concat();
        arrears_in(d, &args)
    };
    let lists = "it has: service_agreements, promises, promises.payments, dispositions, case.events, contacts, case.removed_sas)";
    let out = batch(&["--companion", "sas=x.sas.csv"]);
    one_line_error(
        &out,
        64,
        "--companion `sas`: the mapping has no list of that name (",
    );
    one_line_error(&out, 64, lists);
    let out = batch(&["--no-companion", "contact"]);
    one_line_error(
        &out,
        64,
        "--no-companion `contact`: the mapping has no list of that name (did you mean `contacts`? it has:",
    );
    let out = batch(&["--companion", "case.contacts=x.contacts.csv"]);
    // The contacts' old place is no typo: said as lint says it of `account.case.contacts`.
    one_line_error(
        &out,
        64,
        "--companion `case.contacts`: the mapping has no list of that name (not read here: the list is `account.contacts`: give --companion contacts=PATH; it has:",
    );
    let out = batch(&["--mapping", "extract-v2"]);
    one_line_error(&out, 64, "--mapping `extract-v2`: `");
    one_line_error(
        &out,
        64,
        "` has no mapping document of that name (did you mean `extract-v1`? it has: extract-v1)",
    );
}
