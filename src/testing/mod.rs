//! `arrears test`: test documents with cases, their expectations, coverage.
//!
//! A test document is a YAML or TOML file whose top-level key is `tests`. Each
//! case names an account (inline, or by id from the document's `accounts`
//! file), an `as_of`, and what must happen: the exact actions, actions it
//! contains or excludes (listed fields only), rows that must or must not fire,
//! and table outputs. A document is read ([`TestDocument::read`]: its keys,
//! dates and that every case expects something), checked against the rules
//! ([`TestDocument::check`]: rows, tables, outputs, action fields, accounts),
//! then run; `arrears lint` reports the same problems. It must not decide
//! anything itself: cases run through the same policy and evaluator as
//! `dry-run`.

pub mod expect;

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

use crate::data::snapshot::{account_id, decode_account};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::eval::{Decision, Evaluation, Outcome};
use crate::lang::compile::Plan;
use crate::model::load::format_of;
use crate::model::spanned::{CellText, ExactJson, Format, Spanned};
use crate::policy::Policy;
use crate::source::{SourceFile, Span};
use crate::testing::expect::{
    diff_actions, excluded_actions, malformed_expectation, missing_actions, same,
};

/// The code of every problem in a test document (besides YAML/TOML syntax).
const CODE: &str = "test-document";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDoc {
    pub tests: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The rules directory the cases run against, relative to the test document.
    #[serde(default)]
    pub rules: Option<Spanned<String>>,
    /// The evaluation date of every case that does not set its own.
    #[serde(default)]
    pub as_of: Option<Spanned<CellText>>,
    /// A file of accounts that cases name by id, relative to the test document.
    #[serde(default)]
    pub accounts: Option<Spanned<String>>,
    pub cases: Vec<Spanned<CaseDoc>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseDoc {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// An account id from the document's `accounts`, or the account itself
    /// (its numbers as written, read exactly like an accounts file's).
    pub account: Spanned<ExactJson>,
    #[serde(default)]
    pub as_of: Option<Spanned<CellText>>,
    /// Exactly these actions, in this order; only the listed fields are compared.
    #[serde(default)]
    pub actions: Option<Vec<Spanned<Json>>>,
    /// These actions, in any order, among others; each matches a different action.
    #[serde(default)]
    pub contains: Option<Vec<Spanned<Json>>>,
    /// No action matches any of these.
    #[serde(default)]
    pub excludes: Option<Vec<Spanned<Json>>>,
    /// Rows that must fire: `table:row-id`.
    #[serde(default)]
    pub rows: Option<Vec<Spanned<String>>>,
    /// Rows that must not fire: `table:row-id`.
    #[serde(default)]
    pub rows_not_fired: Option<Vec<Spanned<String>>>,
    /// Outputs of tables: `{ entry: { category: arrears } }`; `table[item]` for a per-item table.
    #[serde(default)]
    pub decisions: Option<IndexMap<DecisionKey, Json>>,
}

impl CaseDoc {
    /// Whether the case can fail: it sets `actions` (`[]` means none) or a non-empty expectation.
    fn expects_something(&self) -> bool {
        let listed = |l: &Option<Vec<_>>| l.as_ref().is_some_and(|l| !l.is_empty());
        self.actions.is_some()
            || listed(&self.contains)
            || listed(&self.excludes)
            || self.rows.as_ref().is_some_and(|l| !l.is_empty())
            || self.rows_not_fired.as_ref().is_some_and(|l| !l.is_empty())
            || self.decisions.as_ref().is_some_and(|d| !d.is_empty())
    }
}

/// A `decisions` key, `table` or `table[item]`, with where it is written.
#[derive(Debug)]
pub struct DecisionKey(pub Spanned<String>);

impl DecisionKey {
    /// The table's name and, for a per-item table, the item.
    fn parts(&self) -> (&str, Option<&str>) {
        let key = self.0.value.as_str();
        match key.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']'))),
            None => (key, None),
        }
    }
}

impl PartialEq for DecisionKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}

impl Eq for DecisionKey {}

impl Hash for DecisionKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.value.hash(state);
    }
}

impl<'de> Deserialize<'de> for DecisionKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::deserialize(deserializer).map(DecisionKey)
    }
}

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    Pass,
    /// Expectations not met, one line each.
    Fail(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub suite: String,
    pub file: String,
    pub line: usize,
    pub name: String,
    pub outcome: CaseOutcome,
    /// `(table, row)` of every row that fired.
    pub fired: BTreeSet<(u32, u32)>,
    /// With `explain`, the traced evaluation of a failing case.
    pub explanation: Option<Evaluation>,
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
            message: match &d.help {
                Some(help) => format!("{}; {help}", d.message),
                None => d.message.clone(),
            },
        }
    }
}

/// Test documents in `paths`: files as given, directories searched recursively
/// for YAML/TOML files whose top-level key is `tests`.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, TestFileError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| TestFileError {
            location: path.display().to_string(),
            message: e.to_string(),
        })?;
        if meta.is_dir() {
            walk(path, &mut out, &mut Vec::new())?;
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Finds test documents below `dir`; `visited` holds the directories entered
/// (device and inode), so a symlink loop is walked once.
fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    visited: &mut Vec<(u64, u64)>,
) -> Result<(), TestFileError> {
    use std::os::unix::fs::MetadataExt;
    let err = |e: std::io::Error| TestFileError {
        location: dir.display().to_string(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(dir).map_err(err)?;
    if visited.contains(&(meta.dev(), meta.ino())) {
        return Ok(());
    }
    visited.push((meta.dev(), meta.ino()));
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let path = entry.map_err(err)?.path();
        if path.is_dir() {
            walk(&path, out, visited)?;
        } else if format_of(&path).is_some() && is_test_document(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether `path` is a test document; a FIFO or device is not (never opened).
fn is_test_document(path: &Path) -> bool {
    let Ok(bytes) = crate::input::read_regular(path, crate::model::load::MAX_RULE_FILE_BYTES)
    else {
        return false;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return false;
    };
    let file = SourceFile::new(path.display().to_string(), text);
    let format = format_of(path).unwrap_or(Format::Yaml);
    crate::model::load::parse::<crate::model::doc::Probe>(format, &file)
        .is_ok_and(|p| p.tests.is_some())
}

/// serde's `unknown field `x`, expected one of ...` as an unknown key with a `did you mean`.
fn unknown_key(d: Diagnostic) -> Diagnostic {
    let Some((name, expected)) = d
        .message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    else {
        return d;
    };
    let keys: Vec<&str> = expected
        .split([',', ' '])
        .map(|k| k.trim_matches('`'))
        .filter(|k| !k.is_empty() && !matches!(*k, "expected" | "one" | "of" | "or"))
        .collect();
    let help = did_you_mean(name, keys.iter().copied()).unwrap_or_else(|| {
        "docs/testing.md lists the keys of a test document and of a case".to_string()
    });
    Diagnostic {
        code: CODE,
        message: format!("unknown key `{name}` (the keys here: {})", keys.join(", ")),
        help: Some(help),
        ..d
    }
}

/// A test document, read and with its dates and accounts resolved.
pub struct TestDocument {
    pub path: PathBuf,
    pub file: Arc<SourceFile>,
    pub doc: TestDoc,
    /// Per case, its evaluation date.
    as_of: Vec<NaiveDate>,
    accounts: Vec<Json>,
}

impl TestDocument {
    /// Reads a test document: every key known, every date a date, every case
    /// with an `as_of` and an expectation, the `accounts` file readable.
    pub fn read(path: &Path) -> Result<TestDocument, Vec<Diagnostic>> {
        let name = path.display().to_string();
        let unreadable = |message: String| {
            let file = SourceFile::new(name.clone(), "");
            vec![Diagnostic::error(CODE, &file, Span::default(), message)]
        };
        let bytes = crate::input::read_regular(path, crate::model::load::MAX_RULE_FILE_BYTES)
            .map_err(|e| unreadable(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| unreadable("not valid UTF-8; save the file as UTF-8".into()))?;
        let file = SourceFile::new(name, text);
        let format = format_of(path).unwrap_or(Format::Yaml);
        let doc: TestDoc =
            crate::model::load::parse(format, &file).map_err(|d| vec![unknown_key(*d)])?;
        let mut problems = Vec::new();
        let default_as_of = doc
            .as_of
            .as_ref()
            .and_then(|d| parse_date(&file, d, &mut problems));
        if doc.cases.is_empty() {
            problems.push(Diagnostic::error(
                CODE,
                &file,
                doc.tests.span,
                format!("`{}` has no cases, so it checks nothing", doc.tests.value),
            ));
        }
        let mut as_of = Vec::new();
        for case in &doc.cases {
            let case = &case.value;
            let date = match &case.as_of {
                Some(d) => parse_date(&file, d, &mut problems),
                None if doc.as_of.is_none() => {
                    problems.push(Diagnostic::error(
                        CODE,
                        &file,
                        case.name.span,
                        format!(
                            "case `{}` has no `as_of`, and the document sets none",
                            case.name.value
                        ),
                    ));
                    None
                }
                None => default_as_of,
            };
            as_of.push(date.unwrap_or_default());
            if !case.expects_something() {
                problems.push(
                    Diagnostic::error(
                        CODE,
                        &file,
                        case.name.span,
                        format!("case `{}` expects nothing, so it cannot fail", case.name.value),
                    )
                    .with_help(
                        "add `actions`, `contains`, `excludes`, `rows`, `rows_not_fired` or `decisions` (see docs/testing.md)",
                    ),
                );
            }
        }
        let accounts = match &doc.accounts {
            None => Vec::new(),
            Some(rel) => {
                let target = path.parent().unwrap_or(Path::new(".")).join(&rel.value);
                match crate::data::accounts::read_accounts(&target) {
                    Ok(records) => records.into_iter().filter_map(|r| r.json.ok()).collect(),
                    Err(e) => {
                        problems.push(Diagnostic::error(CODE, &file, rel.span, e.to_string()));
                        Vec::new()
                    }
                }
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(TestDocument {
            path: path.to_path_buf(),
            file,
            doc,
            as_of,
            accounts,
        })
    }

    /// The rules directory the document names (`rules:`), relative to its own directory.
    pub fn rules_dir(&self) -> Option<PathBuf> {
        let rel = self.doc.rules.as_ref()?;
        Some(
            self.path
                .parent()
                .unwrap_or(Path::new("."))
                .join(&rel.value),
        )
    }

    /// Names the rules do not have (rows, tables, outputs), expected actions
    /// that are malformed, and accounts that cannot be found or decoded.
    pub fn check(&self, subject: &Subject) -> Vec<Diagnostic> {
        let plan = subject.plan();
        let error =
            |span: Span, message: String| Diagnostic::error(CODE, &self.file, span, message);
        let row_refs: Vec<&str> = plan
            .tables
            .iter()
            .flat_map(|t| t.row_refs.iter().map(|r| &**r))
            .collect();
        let mut problems = Vec::new();
        for case in &self.doc.cases {
            let case = &case.value;
            if let Err(message) = self.account(case, plan) {
                problems.push(error(case.account.span, message));
            }
            for (key, rows) in [
                ("rows", &case.rows),
                ("rows_not_fired", &case.rows_not_fired),
            ] {
                for row in rows.iter().flatten() {
                    if !row_refs.contains(&row.value.as_str()) {
                        let help = did_you_mean(&row.value, row_refs.iter().copied())
                            .unwrap_or_else(|| "a row is written `table:row-id`".to_string());
                        problems.push(
                            error(
                                row.span,
                                format!("`{key}`: there is no row `{}`", row.value),
                            )
                            .with_help(help),
                        );
                    }
                }
            }
            for (key, expected) in [
                ("actions", &case.actions),
                ("contains", &case.contains),
                ("excludes", &case.excludes),
            ] {
                let Some(expected) = expected else { continue };
                if let Subject::Tables(_) = subject {
                    let at = expected.first().map_or(case.name.span, |e| e.span);
                    problems.push(error(
                        at,
                        format!("`{key}` needs a policy; these rules have none (expect `decisions` or `rows`)"),
                    ));
                    continue;
                }
                for want in expected {
                    if let Some((message, help)) = malformed_expectation(&want.value) {
                        problems.push(
                            error(want.span, format!("`{key}`: {message}")).with_help_opt(help),
                        );
                    }
                }
            }
            for (key, want) in case.decisions.iter().flatten() {
                problems.extend(check_decision(plan, key, want, &error));
            }
        }
        crate::diagnostic::sort(&mut problems);
        problems
    }

    /// The case's account, decoded: from the document's `accounts` by id, or inline.
    fn account(&self, case: &CaseDoc, plan: &Plan) -> Result<crate::types::Value, String> {
        let schema = plan.schema();
        let json = match &case.account.value.0 {
            Json::String(id) => self
                .accounts
                .iter()
                .find(|a| account_id(schema, a).as_deref() == Some(id.as_str()))
                .ok_or_else(|| match &self.doc.accounts {
                    Some(file) => {
                        let ids: Vec<String> = self
                            .accounts
                            .iter()
                            .filter_map(|a| account_id(schema, a))
                            .collect();
                        let hint = did_you_mean(id, ids.iter().map(String::as_str))
                            .map_or_else(String::new, |h| format!("; {h}"));
                        format!("no account `{id}` in `{}`{hint}", file.value)
                    }
                    None => format!(
                        "the document names no `accounts` file to find the account `{id}` in"
                    ),
                })?,
            inline => inline,
        };
        decode_account(schema, json).map_err(|errors| {
            const SHOWN: usize = 3;
            let mut shown: Vec<String> = errors.iter().take(SHOWN).map(|e| e.to_string()).collect();
            if errors.len() > SHOWN {
                shown.push(format!("and {} more", errors.len() - SHOWN));
            }
            format!("bad account data: {}", shown.join("; "))
        })
    }

    /// How many cases `filter` (a substring of the name) selects; all without one.
    pub fn selected(&self, filter: Option<&str>) -> usize {
        self.doc
            .cases
            .iter()
            .filter(|c| selects(filter, &c.value))
            .count()
    }

    /// Runs the cases `filter` selects (all without one). With `explain`,
    /// failing cases keep their traced evaluation.
    pub fn run(&self, subject: &Subject, explain: bool, filter: Option<&str>) -> Vec<CaseResult> {
        let plan = subject.plan();
        let mut results = Vec::new();
        for (case, &as_of) in self.doc.cases.iter().zip(&self.as_of) {
            let case_doc = &case.value;
            if !selects(filter, case_doc) {
                continue;
            }
            let (line, _) = self.file.line_col(case.span.start);
            let mut problems = Vec::new();
            let mut fired = BTreeSet::new();
            let mut explanation = None;
            match self.account(case_doc, plan) {
                Err(problem) => problems.push(problem),
                Ok(account) => {
                    let outcome = match subject {
                        Subject::Policy(policy) => {
                            crate::policy::run(policy, &account, as_of, explain)
                                .map(|r| (r.evaluation, Some(r.actions)))
                        }
                        Subject::Tables(plan) => {
                            crate::eval::evaluate(plan, &account, as_of, explain).map(|e| (e, None))
                        }
                    };
                    match outcome {
                        Err(err) => problems.push(format!("evaluation failed: {err}")),
                        Ok((evaluation, actions)) => {
                            fired = fired_rows(&evaluation);
                            check_case(
                                plan,
                                case_doc,
                                &evaluation,
                                actions.as_deref(),
                                &mut problems,
                            );
                            if explain && !problems.is_empty() {
                                explanation = Some(evaluation);
                            }
                        }
                    }
                }
            }
            results.push(CaseResult {
                suite: self.doc.tests.value.clone(),
                file: self.file.name.clone(),
                line,
                name: case_doc.name.value.clone(),
                outcome: if problems.is_empty() {
                    CaseOutcome::Pass
                } else {
                    CaseOutcome::Fail(problems)
                },
                fired,
                explanation,
            });
        }
        results
    }
}

/// Whether two paths name the same directory.
pub fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// `arrears lint`'s check of test documents: the documents under `paths` are
/// read and checked against `subject` (the rules in `dir`, when they have no
/// errors), or against the rules directory a document's `rules:` names.
pub fn lint(
    paths: &[PathBuf],
    dir: &Path,
    subject: Option<&Subject>,
) -> Result<Vec<Diagnostic>, TestFileError> {
    let mut problems = Vec::new();
    for path in discover(paths)? {
        let doc = match TestDocument::read(&path) {
            Ok(doc) => doc,
            Err(p) => {
                problems.extend(p);
                continue;
            }
        };
        match (doc.rules_dir(), &doc.doc.rules) {
            (Some(other), Some(named)) if !same_dir(&other, dir) => {
                let unusable = |message: String| {
                    Diagnostic::error(CODE, &doc.file, named.span, message)
                        .with_help(format!("run `arrears lint {}`", other.display()))
                };
                match crate::policy::load(&other) {
                    Err(e) => problems.push(unusable(e.to_string())),
                    Ok(l) if l.has_errors() => problems.push(unusable(format!(
                        "the rules in `{}` have errors, so this document is not checked against them",
                        other.display()
                    ))),
                    Ok(l) => match (&l.policy, &l.plan) {
                        (Some(policy), _) => problems.extend(doc.check(&Subject::Policy(policy))),
                        (None, Some(plan)) => problems.extend(doc.check(&Subject::Tables(plan))),
                        (None, None) => {}
                    },
                }
            }
            _ => problems.extend(subject.map(|s| doc.check(s)).unwrap_or_default()),
        }
    }
    Ok(problems)
}

fn selects(filter: Option<&str>, case: &CaseDoc) -> bool {
    filter.is_none_or(|f| case.name.value.contains(f))
}

/// A `decisions` entry: the table exists, is (or is not) per item as written,
/// and has the outputs listed.
fn check_decision(
    plan: &Plan,
    key: &DecisionKey,
    want: &Json,
    error: &dyn Fn(Span, String) -> Diagnostic,
) -> Vec<Diagnostic> {
    let (name, item) = key.parts();
    let span = key.0.span;
    let Some(table) = plan.tables.iter().find(|t| t.table.name == name) else {
        let help = did_you_mean(name, plan.tables.iter().map(|t| t.table.name.as_str()));
        return vec![
            error(span, format!("`decisions`: there is no table `{name}`")).with_help_opt(help),
        ];
    };
    let mut problems = Vec::new();
    match (&table.table.for_each, item) {
        (Some(_), None) => problems.push(error(
            span,
            format!(
                "`decisions`: `{name}` runs once per item; write `{name}[ITEM]` with the item's id"
            ),
        )),
        (None, Some(_)) => problems.push(error(
            span,
            format!("`decisions`: `{name}` is not a per-item table; write `{name}`"),
        )),
        _ => {}
    }
    let outputs: Vec<&str> = table.results.iter().map(|(n, _)| &**n).collect();
    let listed: Vec<&serde_json::Map<String, Json>> = match want {
        Json::Object(fields) => vec![fields],
        Json::Array(rows) => rows.iter().filter_map(Json::as_object).collect(),
        _ => Vec::new(),
    };
    for output in listed.iter().flat_map(|fields| fields.keys()) {
        if !outputs.contains(&output.as_str()) {
            problems.push(
                error(
                    span,
                    format!(
                        "`decisions`: table `{name}` has no output `{output}` (its outputs: {})",
                        outputs.join(", ")
                    ),
                )
                .with_help_opt(did_you_mean(output, outputs.iter().copied())),
            );
        }
    }
    problems
}

fn parse_date(
    file: &Arc<SourceFile>,
    cell: &Spanned<CellText>,
    problems: &mut Vec<Diagnostic>,
) -> Option<NaiveDate> {
    let date = NaiveDate::parse_from_str(cell.value.0.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        problems.push(Diagnostic::error(
            CODE,
            file,
            cell.span,
            format!("`{}` is not a date (YYYY-MM-DD)", cell.value.0),
        ));
    }
    date
}

/// Reads, checks and runs every case of one test document against `subject`;
/// the first problem of an unusable document is the error.
pub fn run_file(
    subject: &Subject,
    path: &Path,
    explain: bool,
) -> Result<Vec<CaseResult>, TestFileError> {
    let doc = TestDocument::read(path).map_err(|p| first_problem(&p))?;
    let problems = doc.check(subject);
    if !problems.is_empty() {
        return Err(first_problem(&problems));
    }
    Ok(doc.run(subject, explain, None))
}

fn first_problem(problems: &[Diagnostic]) -> TestFileError {
    problems.first().map_or_else(
        || TestFileError {
            location: String::new(),
            message: "unusable test document".into(),
        },
        TestFileError::from,
    )
}

fn fired_rows(evaluation: &Evaluation) -> BTreeSet<(u32, u32)> {
    evaluation
        .decisions
        .iter()
        .flat_map(|d| d.outcome.rows().into_iter().map(move |r| (d.table, r)))
        .collect()
}

fn check_case(
    plan: &Plan,
    case: &CaseDoc,
    evaluation: &Evaluation,
    actions: Option<&[crate::policy::Action]>,
    problems: &mut Vec<String>,
) {
    let values = |list: &Option<Vec<Spanned<Json>>>| -> Option<Vec<Json>> {
        list.as_ref()
            .map(|l| l.iter().map(|s| s.value.clone()).collect())
    };
    let (exact, contains, excludes) = (
        values(&case.actions),
        values(&case.contains),
        values(&case.excludes),
    );
    if exact.is_some() || contains.is_some() || excludes.is_some() {
        match actions {
            None => problems.push(
                "`actions`, `contains` and `excludes` need a policy; these rules have none (expect `decisions` or `rows`)"
                    .into(),
            ),
            Some(actions) => {
                let actual: Vec<Json> = actions
                    .iter()
                    .filter_map(|a| serde_json::to_value(a).ok())
                    .collect();
                if let Some(exact) = &exact {
                    problems.extend(diff_actions(exact, &actual));
                }
                if let Some(contains) = &contains {
                    problems.extend(missing_actions(contains, &actual));
                }
                if let Some(excludes) = &excludes {
                    problems.extend(excluded_actions(excludes, &actual));
                }
            }
        }
    }
    let fired: BTreeSet<String> = fired_rows(evaluation)
        .into_iter()
        .map(|(t, r)| plan.tables[t as usize].row_refs[r as usize].to_string())
        .collect();
    for row in case.rows.iter().flatten() {
        let row = &row.value;
        if !fired.contains(row) {
            let table = row.split(':').next().unwrap_or_default();
            let fired_here: Vec<&str> = fired
                .iter()
                .filter(|f| f.split(':').next() == Some(table))
                .map(|s| s.as_str())
                .collect();
            problems.push(format!(
                "row `{row}` did not fire{}",
                if fired_here.is_empty() {
                    String::new()
                } else {
                    format!(" (fired: {})", fired_here.join(", "))
                }
            ));
        }
    }
    for row in case.rows_not_fired.iter().flatten() {
        if fired.contains(&row.value) {
            problems.push(format!(
                "row `{}` fired; `rows_not_fired` lists it",
                row.value
            ));
        }
    }
    if let Some(decisions) = &case.decisions {
        for (key, want) in decisions {
            let (name, label) = key.parts();
            let key = &key.0.value;
            let Some(t) = plan.tables.iter().position(|t| t.table.name == name) else {
                problems.push(format!("`decisions`: no table `{name}`"));
                continue;
            };
            let found = evaluation
                .decisions
                .iter()
                .find(|d| d.table == t as u32 && d.label.as_deref() == label);
            let Some(decision) = found else {
                problems.push(format!("`decisions`: table `{key}` made no decision"));
                continue;
            };
            let got = outputs_json(plan, decision);
            if !same(want, &got) {
                problems.push(format!(
                    "table `{key}`: expected {}, got {}",
                    serde_json::to_string(want).unwrap_or_default(),
                    serde_json::to_string(&got).unwrap_or_default()
                ));
            }
        }
    }
}

/// A decision's outputs as JSON: one object, or a list for multi-row results.
pub fn outputs_json(plan: &Plan, d: &Decision) -> Json {
    let t = d.table;
    match &d.outcome {
        Outcome::Row { values, .. } | Outcome::Default { values } => plan.outputs_json(t, values),
        Outcome::Aggregate { value, .. } => plan.outputs_json(t, std::slice::from_ref(value)),
        Outcome::Rows(rows) => {
            Json::Array(rows.iter().map(|(_, v)| plan.outputs_json(t, v)).collect())
        }
    }
}

/// Rows fired per table over a set of results.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Per table in declaration order: name, rows that fired, all rows' ids.
    pub tables: Vec<TableCoverage>,
}

#[derive(Debug, Clone)]
pub struct TableCoverage {
    pub table: String,
    pub fired: Vec<String>,
    pub never: Vec<String>,
}

impl TableCoverage {
    pub fn total(&self) -> usize {
        self.fired.len() + self.never.len()
    }

    pub fn percent(&self) -> f64 {
        percent(self.fired.len(), self.total())
    }
}

impl Coverage {
    pub fn compute(plan: &Plan, results: &[CaseResult]) -> Coverage {
        let fired: BTreeSet<(u32, u32)> = results
            .iter()
            .flat_map(|r| r.fired.iter().copied())
            .collect();
        let tables = plan
            .tables
            .iter()
            .enumerate()
            .map(|(t, ct)| {
                let (f, n): (Vec<_>, Vec<_>) = ct
                    .table
                    .rows
                    .iter()
                    .enumerate()
                    .partition(|(r, _)| fired.contains(&(t as u32, *r as u32)));
                TableCoverage {
                    table: ct.table.name.clone(),
                    fired: f.into_iter().map(|(_, row)| row.id.clone()).collect(),
                    never: n.into_iter().map(|(_, row)| row.id.clone()).collect(),
                }
            })
            .collect();
        Coverage { tables }
    }

    pub fn fired(&self) -> usize {
        self.tables.iter().map(|t| t.fired.len()).sum()
    }

    pub fn total(&self) -> usize {
        self.tables.iter().map(|t| t.total()).sum()
    }

    pub fn percent(&self) -> f64 {
        percent(self.fired(), self.total())
    }

    pub fn by_table(&self) -> BTreeMap<&str, &TableCoverage> {
        self.tables.iter().map(|t| (t.table.as_str(), t)).collect()
    }
}

/// A share for display; coverage is a ratio of counts, not money.
fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
