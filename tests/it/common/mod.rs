//! Helpers shared by the integration tests.
// Each test binary uses a different subset.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `arrears` binary from the crate root.
pub fn arrears(args: &[&str]) -> Output {
    arrears_in(root(), args)
}

/// Runs the `arrears` binary in `cwd`, so paths print relative to it.
/// `generate` reads its cases' templates from `--rules` (default `rules`):
/// run elsewhere than the crate root, it is given the shipped rules.
pub fn arrears_in(cwd: &Path, args: &[&str]) -> Output {
    let shipped = root().join("rules");
    let mut command = Command::new(env!("CARGO_BIN_EXE_arrears"));
    command.args(args).current_dir(cwd);
    if args.first() == Some(&"generate") && !args.contains(&"--rules") {
        command.arg("--rules").arg(shipped);
    }
    command.output().expect("run arrears")
}

/// The day the batch tests evaluate on.
pub const BATCH_AS_OF: &str = "2026-11-22";

/// `arrears batch --rules RULES --as-of 2026-11-22 ARGS...` run in `dir` (so
/// relative paths are read from there).
pub fn batch_in(dir: &Path, rules: impl AsRef<OsStr>, args: &[&str]) -> Output {
    batch_command(dir, rules, args)
        .output()
        .expect("run arrears batch")
}

/// [`batch_in`]'s command, for a test that sets its standard streams or
/// environment, or spawns it.
pub fn batch_command(dir: &Path, rules: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arrears"));
    command
        .arg("batch")
        .arg("--rules")
        .arg(rules)
        .args(["--as-of", BATCH_AS_OF])
        .args(args)
        .current_dir(dir);
    command
}

/// `arrears batch --rules rules --as-of AS_OF ARGS... INPUT` run from the
/// crate root (the shipped rules), writing `actions.jsonl` and `summary.json`
/// into `dir`.
pub fn batch_on(as_of: &str, input: &Path, dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["batch", "--rules", "rules", "--as-of", as_of])
        .args(["--out", dir.join("actions.jsonl").to_str().unwrap()])
        .args(["--summary", dir.join("summary.json").to_str().unwrap()])
        .args(extra)
        .arg(input)
        .current_dir(root())
        .output()
        .expect("run arrears batch")
}

/// A [`batch_rejects`] run: its temporary directory (`actions.jsonl`,
/// `summary.json`, `rejects.jsonl`) and what the command returned.
pub struct RejectingBatch {
    pub dir: tempfile::TempDir,
    pub output: Output,
}

impl RejectingBatch {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The rejects the run wrote, one JSON record a line.
    pub fn rejects(&self) -> Vec<serde_json::Value> {
        crate::batch::json_lines(&self.path().join("rejects.jsonl"))
    }
}

/// [`batch_on`] of `input` as of `as_of` into a new temporary directory, with
/// `--rejects` there: read them with [`RejectingBatch::rejects`].
pub fn batch_rejects(input: &Path, as_of: &str) -> RejectingBatch {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let output = batch_on(
        as_of,
        input,
        dir.path(),
        &["--rejects", rejects.to_str().unwrap()],
    );
    RejectingBatch { dir, output }
}

/// The shipped `rules/` and `samples/` copied into a new temporary directory,
/// with `rules/<file>` rewritten by `edit` (given its shipped text): a rule
/// set changed the way a test needs.
pub fn shipped_rules_edited(file: &str, edit: impl FnOnce(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("rules"), &dir.path().join("rules"));
    copy_dir(&root().join("samples"), &dir.path().join("samples"));
    let path = dir.path().join("rules").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(&text)).unwrap();
    dir
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies a directory tree (the shipped `rules/` has subdirectories).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Rule-set fingerprints (`sha256:` and 64 hex digits) written as
/// `sha256:[fingerprint]`, so that a snapshot does not change with every edit
/// of the shipped rules (`diff::a_fingerprint_is_sha256_over_paths_and_bytes`
/// checks the value itself).
pub fn redact_fingerprints(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("sha256:") {
        let (before, after) = rest.split_at(i + "sha256:".len());
        out.push_str(before);
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push_str("[fingerprint]");
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
