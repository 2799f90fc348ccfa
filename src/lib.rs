//! arrears: a rule engine for debt-collections policy.
//!
//! Pipeline (one direction only): load → parse → check → compile → evaluate.
//! See ARCHITECTURE.md for the map and the layer order `tests/it/layers.rs`
//! checks. The root holds the library's entry points (`load_rules`, `lint`)
//! and nothing the stages below use.

pub mod cli;
pub mod data;
pub mod decimal;
pub mod diagnostic;
pub mod eval;
pub mod input;
pub mod lang;
pub mod model;
pub mod policy;
pub mod simulate;
pub mod site;
pub mod source;
pub mod testing;
pub mod types;

use std::path::{Path, PathBuf};

use lang::{analysis, check};

/// Loads and checks the tables of a rules directory (without compiling the
/// policy; `policy::load` does both).
pub fn load_rules(dir: &Path) -> Result<check::Checked, model::LoadError> {
    let docs = model::load_dir(dir)?;
    Ok(policy::check_tables(&docs))
}

/// What `arrears lint DIR` finds: the checked rules and every diagnostic, in
/// the order they are printed (`diagnostic::sort`).
pub struct Linted {
    pub loaded: policy::Loaded,
    pub diagnostics: Vec<diagnostic::Diagnostic>,
    /// The counterexample accounts written, when asked for (`lint --counterexamples`).
    pub counterexamples: Vec<PathBuf>,
}

/// Lints a rules directory as `arrears lint` does: loading, checking, the
/// policy, the table analysis (only when the rules have no errors), and the
/// test documents under `DIR/tests/` and in `tests`; with `counterexamples`, one
/// account per finding is written there. `Err` is a directory or test document
/// that cannot be read at all, or a counterexample that cannot be written.
pub fn lint(
    dir: &Path,
    tests: &[PathBuf],
    counterexamples: Option<&Path>,
) -> Result<Linted, String> {
    use diagnostic::Severity;
    use testing::Subject;
    let docs = model::load_dir(dir).map_err(|e| e.to_string())?;
    let loaded = policy::build(&docs);
    let mut diagnostics = loaded.diagnostics.clone();
    let rules_ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    let mut written = Vec::new();
    if rules_ok {
        let program = match (&loaded.policy, &loaded.plan) {
            (Some(p), _) => Some(&p.plan.program),
            (None, Some(plan)) => Some(&plan.program),
            (None, None) => None,
        };
        if let Some(program) = program {
            let ctx = analysis::Context {
                schema_doc: docs.schemas.first().map(|(f, d)| (f, d)),
                policy: loaded.policy.as_ref().map(analysis::PolicyUse::of),
            };
            let findings = analysis::analyse_findings(program, &ctx);
            if let Some(out) = counterexamples {
                written = analysis::counterexample::write_all(out, dir, program, &findings)?;
            }
            diagnostics.extend(findings.into_iter().map(|f| f.diagnostic));
        }
    }
    let test_paths: Vec<PathBuf> = Some(dir.join("tests"))
        .filter(|t| t.is_dir())
        .into_iter()
        .chain(tests.iter().cloned())
        .collect();
    let subject = match (&loaded.policy, &loaded.plan) {
        _ if !rules_ok => None,
        (Some(p), _) => Some(Subject::Policy(p)),
        (None, Some(plan)) => Some(Subject::Tables(plan)),
        (None, None) => None,
    };
    diagnostics
        .extend(testing::lint(&test_paths, dir, subject.as_ref()).map_err(|e| e.to_string())?);
    diagnostic::sort(&mut diagnostics);
    Ok(Linted {
        loaded,
        diagnostics,
        counterexamples: written,
    })
}
