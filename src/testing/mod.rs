//! `arrears test`: test documents with cases, their expectations, coverage.
//!
//! A test document is a YAML or TOML file whose top-level key is `tests`. Each
//! case names an account (inline, or by id from the document's `accounts`
//! file), an `as_of`, and what must happen: the exact actions, actions it
//! contains or excludes (listed fields only), rows that must or must not fire,
//! and table outputs. A timeline case names a timeline instead (run as
//! `arrears simulate` runs it) and expects actions on given days, on some day
//! or on none. A document is read ([`TestDocument::read`]: its keys,
//! dates and that every case expects something), checked against the rules
//! ([`TestDocument::check`]: rows, tables, outputs, action fields, accounts),
//! then run; `arrears lint` reports the same problems. It must not decide
//! anything itself: cases run through the same policy and evaluator as
//! `dry-run`.
//!
//! This file holds what the stages share: the rules under test ([`Subject`]),
//! an unusable document's error and the problem code. Reading is
//! `document.rs`, checking `check.rs`, running `run.rs` (matching expected
//! actions `expect.rs`), timeline cases `timeline.rs`, row coverage
//! `coverage.rs`.

mod check;
mod coverage;
mod document;
pub mod expect;
mod run;
mod timeline;

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::lang::compile::Plan;
use crate::policy::Policy;
pub use check::{lint, Dating};
pub use coverage::{Coverage, TableCoverage};
pub use document::{discover, CaseDoc, DayDoc, DayKey, DecisionKey, TestDoc, TestDocument};
pub use run::{outputs_json, run_file, CaseOutcome, CaseResult};

/// The code of every problem in a test document (besides YAML/TOML syntax).
const CODE: &str = "test-document";

/// The code of a field of a test's account the schema does not have (a warning).
const UNKNOWN_FIELD: &str = "unknown-account-field";

/// The rules under test: a policy, or tables alone.
pub enum Subject<'a> {
    Policy(&'a Policy),
    Tables(&'a Plan),
}

impl Subject<'_> {
    pub fn plan(&self) -> &Plan {
        match self {
            Subject::Policy(p) => &p.plan,
            Subject::Tables(plan) => plan,
        }
    }
}

/// A test document that cannot be used at all.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TestFileError {
    pub location: String,
    pub message: String,
}

impl From<&Diagnostic> for TestFileError {
    /// The diagnostic on one line, its hint after a `;`.
    fn from(d: &Diagnostic) -> Self {
        TestFileError {
            location: d.location(),
            message: d.message_with_help(),
        }
    }
}

/// Whether two paths name the same directory.
pub fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// Drops a problem reported again at the same place with the same message
/// (a timeline two cases name is read for each), keeping the first.
fn drop_repeats(problems: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|d| seen.insert((d.file.name.clone(), d.span, d.message.clone())));
}
