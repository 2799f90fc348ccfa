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
pub mod diff;
pub mod eval;
pub mod formatter;
pub mod html;
pub mod input;
pub mod json_schema;
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
    /// Whether the tables were analysed and the test documents checked
    /// against the rules: not while the rules (some effective-dated set) have errors.
    pub analysed: bool,
    /// When several effective-dated rule sets were linted: when each is in
    /// force (`until 2026-12-31`) and what it holds (`policy::Loaded::contents`),
    /// the first being `loaded`; else empty.
    pub rule_sets: Vec<(String, String)>,
}

/// What `arrears lint` is asked beyond the directory.
#[derive(Debug, Default)]
pub struct LintOptions<'a> {
    /// Test documents (or directories of them) to check besides `DIR/tests/`.
    pub tests: &'a [PathBuf],
    /// Where to write one account per finding.
    pub counterexamples: Option<&'a Path>,
    /// Only the rule set in force that day (effective dating); without it every
    /// distinct rule set is linted.
    pub as_of: Option<chrono::NaiveDate>,
    /// An earlier version of the rules: experiment edits that move accounts
    /// between arms that exist in both are warned about.
    pub base: Option<&'a Path>,
    /// Accounts expected to enter each experiment: arms too small to measure are warned about.
    pub population: Option<u64>,
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
    lint_with(
        dir,
        &LintOptions {
            tests,
            counterexamples,
            ..LintOptions::default()
        },
    )
}

/// [`lint`] with every option. Effective-dated rules (`model::effective`) are
/// linted once per distinct rule set, or only the set in force on `as_of`; a
/// diagnostic found in some sets but not all says which periods it concerns.
pub fn lint_with(dir: &Path, options: &LintOptions) -> Result<Linted, String> {
    let book = policy::Rulebook::load(dir).map_err(|e| e.to_string())?;
    let sets: Vec<usize> = match options.as_of {
        Some(date) => vec![book.set_on(date)],
        None => (0..book.versions.sets.len().max(1)).collect(),
    };
    if sets.len() > 1 && options.counterexamples.is_some() {
        return Err(format!(
            "`{}` has {} effective-dated rule sets; give `--as-of DATE` with `--counterexamples`",
            dir.display(),
            sets.len()
        ));
    }
    let mut per_set = Vec::new();
    let mut written = Vec::new();
    let mut analysed = true;
    for &set in &sets {
        let (diagnostics, mut files, set_analysed) = lint_set(dir, &book, set, options)?;
        written.append(&mut files);
        analysed &= set_analysed;
        per_set.push((set, diagnostics));
    }
    let mut diagnostics = merge_sets(&book, &per_set);
    if let Some(base) = options.base {
        let old = policy::Rulebook::load(base).map_err(|e| format!("--base: {e}"))?;
        let date = options.as_of;
        let at = |b: &policy::Rulebook| b.set(date.map_or(0, |d| b.set_on(d))).policy.is_some();
        if !at(&old) {
            // Nothing to compare with is not "no experiment moved".
            return Err(format!(
                "--base: `{}` has no policy that builds, so its experiments cannot be compared (`arrears lint {}` shows why)",
                base.display(),
                base.display()
            ));
        }
        if at(&book) {
            let pick = |b: &policy::Rulebook| date.map_or(0, |d| b.set_on(d));
            let (old_p, new_p) = (
                old.set(pick(&old)).policy.as_ref().expect("checked"),
                book.set(pick(&book)).policy.as_ref().expect("checked"),
            );
            diagnostics.extend(policy::experiment_edits(&book.docs, old_p, new_p));
        }
    }
    if let Some(population) = options.population {
        let set = options.as_of.map_or(0, |d| book.set_on(d));
        if let Some(p) = &book.set(set).policy {
            diagnostics.extend(policy::small_arms(&book.docs, p, population));
        }
    }
    diagnostic::sort(&mut diagnostics);
    let rule_sets = match sets.as_slice() {
        [_, _, ..] => sets
            .iter()
            .map(|&s| (book.versions.sets[s].describe(), book.set(s).contents()))
            .collect(),
        _ => Vec::new(),
    };
    let first = sets[0];
    Ok(Linted {
        loaded: book.into_set(first),
        diagnostics,
        counterexamples: written,
        analysed,
        rule_sets,
    })
}

/// One rule set linted: its build's diagnostics, the table analysis when it has
/// no errors, and the test documents checked against it; and whether it had
/// no errors, so was analysed.
fn lint_set(
    dir: &Path,
    book: &policy::Rulebook,
    set: usize,
    options: &LintOptions,
) -> Result<(Vec<diagnostic::Diagnostic>, Vec<PathBuf>, bool), String> {
    use diagnostic::Severity;
    use testing::Subject;
    let docs = &book.docs;
    let loaded = book.set(set);
    let mut diagnostics = loaded.diagnostics.clone();
    let rules_ok = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    let mut written = Vec::new();
    if rules_ok {
        let program = match (&loaded.policy, &loaded.plan) {
            (Some(p), _) => Some(&p.plan.program),
            (None, Some(plan)) => Some(&plan.program),
            (None, None) => None,
        };
        let mut findings = Vec::new();
        if let Some(program) = program {
            let ctx = analysis::Context {
                schema_doc: docs.schemas.first().map(|(f, d)| (f, d)),
                policy: loaded.policy.as_ref().map(analysis::PolicyUse::of),
            };
            findings = analysis::analyse_findings(program, &ctx);
        }
        if let Some(policy) = &loaded.policy {
            diagnostics.extend(analysis::unmapped_guard_fields(
                policy,
                &docs.mappings,
                &loaded.mappings,
            ));
        }
        let proofs = match loaded
            .policy
            .as_ref()
            .filter(|_| !docs.invariants.is_empty())
        {
            Some(policy) => {
                let seeds = invariant_seeds(&dir.join("tests"), book, set);
                analysis::invariants::prove_all(policy, &docs.invariants, &seeds)
            }
            None => analysis::invariants::Proofs::default(),
        };
        if let (Some(out), Some(program)) = (options.counterexamples, program) {
            written = analysis::counterexample::write_all(out, dir, program, &findings, &proofs)?;
        }
        diagnostics.extend(findings.into_iter().map(|f| f.diagnostic));
        diagnostics.extend(proofs.diagnostics);
    }
    let test_paths: Vec<PathBuf> = Some(dir.join("tests"))
        .filter(|t| t.is_dir())
        .into_iter()
        .chain(options.tests.iter().cloned())
        .collect();
    let subject = match (&loaded.policy, &loaded.plan) {
        _ if !rules_ok => None,
        (Some(p), _) => Some(Subject::Policy(p)),
        (None, Some(plan)) => Some(Subject::Tables(plan)),
        (None, None) => None,
    };
    let dating = testing::Dating::of(book, set);
    diagnostics.extend(
        testing::lint(&test_paths, dir, subject.as_ref(), dating.as_ref())
            .map_err(|e| e.to_string())?,
    );
    Ok((diagnostics, written, rules_ok))
}

/// The errors `arrears lint DIR` reports for rule set `set` of `book` (read
/// from `dir`), test documents aside: the checks', and when they find none the
/// table analysis' (gaps, overlaps) and the guard-rail proofs' (a violated
/// invariant). Every command that evaluates rules refuses a set with any
/// (`cli::rules`); warnings and infos never stop a run, so the analysis that
/// only finds those is not run.
pub fn lint_errors(dir: &Path, book: &policy::Rulebook, set: usize) -> Vec<diagnostic::Diagnostic> {
    use diagnostic::Severity;
    let loaded = book.set(set);
    let is_error = |d: &diagnostic::Diagnostic| d.severity == Severity::Error;
    let mut errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| is_error(d))
        .cloned()
        .collect();
    if !errors.is_empty() {
        return errors;
    }
    let program = match (&loaded.policy, &loaded.plan) {
        (Some(p), _) => Some(&p.plan.program),
        (None, Some(plan)) => Some(&plan.program),
        (None, None) => None,
    };
    if let Some(program) = program {
        errors.extend(analysis::errors(program));
    }
    if let Some(policy) = loaded
        .policy
        .as_ref()
        .filter(|_| !book.docs.invariants.is_empty())
    {
        let invariants = &book.docs.invariants;
        // A proof needs no account: the rules' test accounts (a fifth of a
        // batch's start-up to read) are read only for an invariant not proven.
        let unseeded = analysis::invariants::prove_all(policy, invariants, &[]);
        if unseeded
            .diagnostics
            .iter()
            .any(|d| d.code != "invariants-proven")
        {
            let seeds = invariant_seeds(&dir.join("tests"), book, set);
            errors.extend(
                analysis::invariants::prove_all(policy, invariants, &seeds)
                    .diagnostics
                    .into_iter()
                    .filter(is_error),
            );
        }
    }
    diagnostic::sort(&mut errors);
    errors
}

/// The accounts of the rules' own tests (`DIR/tests/*.yaml`, each case's
/// inline `account` on its `as_of`): the bases lint builds invariant
/// counterexamples on for rule set `set` of `book`, dated in its periods
/// (`invariants::seeds_in`). A file that does not read is skipped (its test lint says why).
fn invariant_seeds(
    tests: &Path,
    book: &policy::Rulebook,
    set: usize,
) -> Vec<analysis::invariants::Seed> {
    let seeds = test_accounts(tests);
    match book.versions.sets.get(set) {
        Some(rule_set) => analysis::invariants::seeds_in(&seeds, &rule_set.periods),
        None => seeds,
    }
}

/// Each inline `account` of the test documents in `tests`, on its case's `as_of`.
fn test_accounts(tests: &Path) -> Vec<analysis::invariants::Seed> {
    use serde_json::Value as Json;
    let Ok(entries) = std::fs::read_dir(tests) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        // A FIFO would block the read (a device never ends): regular files only.
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let date = |j: Option<&Json>| {
        j.and_then(Json::as_str)
            .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
    };
    let mut seeds = Vec::new();
    for path in paths {
        let Ok(text) = std::fs::File::open(&path)
            .map_err(|_| ())
            .and_then(|f| input::read_limited(f, 8 << 20).map_err(|_| ()))
        else {
            continue;
        };
        let Ok(doc) = serde_saphyr::from_str::<Json>(&String::from_utf8_lossy(&text)) else {
            continue;
        };
        let cases = doc.get("cases").and_then(Json::as_array);
        for case in cases.into_iter().flatten() {
            let as_of = date(case.get("as_of")).or_else(|| date(doc.get("as_of")));
            if let (Some(account), Some(as_of)) =
                (case.get("account").filter(|a| a.is_object()), as_of)
            {
                seeds.push(analysis::invariants::Seed {
                    account: account.clone(),
                    as_of,
                    moved_from: None,
                });
            }
        }
    }
    seeds
}

/// The diagnostics of every rule set linted, each once: one found in every
/// set as it is, one found in some sets with the periods of those sets.
fn merge_sets(
    book: &policy::Rulebook,
    per_set: &[(usize, Vec<diagnostic::Diagnostic>)],
) -> Vec<diagnostic::Diagnostic> {
    type Key = (&'static str, String, usize, String);
    let key = |d: &diagnostic::Diagnostic| -> Key {
        (d.code, d.file.name.clone(), d.span.start, d.message.clone())
    };
    let mut order: Vec<Key> = Vec::new();
    let mut found: std::collections::HashMap<Key, (diagnostic::Diagnostic, Vec<usize>)> =
        std::collections::HashMap::new();
    for (set, diagnostics) in per_set {
        for d in diagnostics {
            let k = key(d);
            let entry = found.entry(k.clone()).or_insert_with(|| {
                order.push(k);
                (d.clone(), Vec::new())
            });
            if !entry.1.contains(set) {
                entry.1.push(*set);
            }
        }
    }
    order
        .into_iter()
        .map(|k| {
            let (mut d, sets) = found.remove(&k).expect("recorded");
            if sets.len() < per_set.len() {
                let periods: Vec<String> = sets
                    .iter()
                    .map(|&s| book.versions.sets[s].describe())
                    .collect();
                d.message = format!("{} (rules in force {})", d.message, periods.join(", "));
            }
            d
        })
        .collect()
}
