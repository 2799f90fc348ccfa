//! Test documents as written and as read: the `tests:` document and its cases
//! (serde types), finding test documents below a directory, and reading one
//! (every key known, every date a date, every case expects something, the
//! `accounts` file read) with each case's account resolved and decoded; a
//! case that names a timeline is read by `timeline.rs`. It must not check
//! names against the rules or run a case: `check.rs` and `run.rs` do.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

use super::timeline::TimelineCase;
use super::{TestFileError, CODE};
use crate::data::snapshot::{account_id, decode_account};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::compile::Plan;
use crate::model::load::{date_cell, format_of};
use crate::model::spanned::{CellText, ExactJson, Format, Spanned};
use crate::source::SourceFile;

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
    #[serde(default)]
    pub account: Option<Spanned<ExactJson>>,
    /// A timeline document instead of an account, relative to the test document.
    #[serde(default)]
    pub timeline: Option<Spanned<String>>,
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
    /// Timeline cases: the actions of given days, by date.
    #[serde(default)]
    pub on: Option<IndexMap<DayKey, Spanned<DayDoc>>>,
    /// Timeline cases: each matches an action on some day.
    #[serde(default)]
    pub ever: Option<Vec<Spanned<Json>>>,
    /// Timeline cases: no action on any day matches one of these.
    #[serde(default)]
    pub never: Option<Vec<Spanned<Json>>>,
    /// Timeline cases: the first and last days `ever` and `never` look at.
    #[serde(default)]
    pub from: Option<Spanned<CellText>>,
    #[serde(default)]
    pub to: Option<Spanned<CellText>>,
}

/// What a timeline case expects of one day's actions (as a case's `actions`,
/// `contains` and `excludes` do of its run's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayDoc {
    #[serde(default)]
    pub actions: Option<Vec<Spanned<Json>>>,
    #[serde(default)]
    pub contains: Option<Vec<Spanned<Json>>>,
    #[serde(default)]
    pub excludes: Option<Vec<Spanned<Json>>>,
}

impl DayDoc {
    /// Whether the day can fail: `actions` (`[]`: none that day) or a non-empty list.
    pub(super) fn expects_something(&self) -> bool {
        let listed = |l: &Option<Vec<_>>| l.as_ref().is_some_and(|l| !l.is_empty());
        self.actions.is_some() || listed(&self.contains) || listed(&self.excludes)
    }
}

/// An `on` key: a day of the timeline, as written.
#[derive(Debug)]
pub struct DayKey(pub Spanned<CellText>);

impl PartialEq for DayKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.value == other.0.value
    }
}

impl Eq for DayKey {}

impl Hash for DayKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.value.0.hash(state);
    }
}

impl<'de> Deserialize<'de> for DayKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::deserialize(deserializer).map(DayKey)
    }
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
    pub(super) fn parts(&self) -> (&str, Option<&str>) {
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

/// What one case runs: an account on its `as_of`, or a timeline.
pub(super) enum CaseSetup {
    Account(NaiveDate),
    Timeline(TimelineCase),
}

/// A test document, read and with its dates and accounts resolved.
pub struct TestDocument {
    pub path: PathBuf,
    pub file: Arc<SourceFile>,
    pub doc: TestDoc,
    /// Per case, what it runs.
    pub(super) setups: Vec<CaseSetup>,
    accounts: Vec<Json>,
}

impl TestDocument {
    /// Reads a test document: every key known, every date a date, every case
    /// with an `as_of` and an expectation, the `accounts` file readable.
    pub fn read(path: &Path) -> Result<TestDocument, Vec<Diagnostic>> {
        let (file, doc): (_, TestDoc) = crate::model::load::read_document(
            path,
            CODE,
            "docs/testing.md lists the keys of a test document and of a case",
        )
        .map_err(|d| vec![d])?;
        let mut problems = Vec::new();
        let default_as_of = doc
            .as_of
            .as_ref()
            .and_then(|d| date_cell(CODE, &file, d, &mut problems));
        if doc.cases.is_empty() {
            problems.push(Diagnostic::error(
                CODE,
                &file,
                doc.tests.span,
                format!("`{}` has no cases, so it checks nothing", doc.tests.value),
            ));
        }
        let mut setups = Vec::new();
        for case in &doc.cases {
            let case = &case.value;
            if case.timeline.is_some() {
                setups.push(CaseSetup::Timeline(TimelineCase::read(
                    &file,
                    path,
                    case,
                    &mut problems,
                )));
                continue;
            }
            super::timeline::misplaced_in_account_case(&file, case, &mut problems);
            if case.account.is_none() {
                problems.push(
                    Diagnostic::error(
                        CODE,
                        &file,
                        case.name.span,
                        format!("case `{}` names no `account`", case.name.value),
                    )
                    .with_help("a case runs an `account` on its `as_of`, or a `timeline`"),
                );
            }
            let date = match &case.as_of {
                Some(d) => date_cell(CODE, &file, d, &mut problems),
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
            setups.push(CaseSetup::Account(date.unwrap_or_default()));
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
            setups,
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

    /// The case's account, decoded: from the document's `accounts` by id, or inline.
    pub(super) fn account(
        &self,
        account: &Spanned<ExactJson>,
        plan: &Plan,
    ) -> Result<crate::types::Value, String> {
        let schema = plan.schema();
        let json = match &account.value.0 {
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
}
