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
