//! Helpers shared by the integration tests.
// Each test binary uses a different subset.
#![allow(dead_code)]

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
pub fn arrears_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run arrears")
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
