//! Test documents as written and as read: the `tests:` document and its cases
//! (serde types), finding test documents below a directory, and reading one
//! (every key known, every date a date, every case expects something, the
//! `accounts` file read) with each case's account resolved and decoded, and
//! a case that names a timeline read as one (no key of an account case, its
//! dates, `from` / `to` only with `ever` / `never`). It must not check names
//! against the rules or run a case: `check.rs`, `run.rs` and `timeline.rs` do.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

use super::{TestFileError, CODE, UNKNOWN_FIELD};
use crate::data::accounts::AccountRecord;
use crate::data::schema::Schema;
use crate::data::snapshot::{account_id, decode_account};
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::compile::Plan;
use crate::model::load::{date_cell, format_of};
use crate::model::spanned::{CellText, Format, LocatedJson, Spanned};
use crate::source::{SourceFile, Span};

// Unknown keys are found before the document is read into these types
// (`UnknownKeys`), every one of them; editors still refuse them.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
/// A test document for `arrears test`: cases with an account (or a timeline) and what they expect.
pub struct TestDoc {
    /// The suite's name, shown before each case's.
    pub tests: Spanned<String>,
    /// What the suite covers, for readers.
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
    /// The cases; each expects something (`actions`, `contains`, `excludes`, `rows`, `rows_not_fired`, `decisions`, or for a timeline `on`, `ever`, `never`).
    pub cases: Vec<Spanned<CaseDoc>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
/// One test case.
pub struct CaseDoc {
    /// The case's name (`--filter` matches it).
    pub name: Spanned<String>,
    /// What the case shows, for readers.
    #[serde(default)]
    pub description: Option<String>,
    /// An account id from the document's `accounts`, or the account itself
    /// (its numbers as written, read exactly like an accounts file's).
    #[serde(default)]
    pub account: Option<Spanned<LocatedJson>>,
    /// A timeline document instead of an account, relative to the test document.
    #[serde(default)]
    pub timeline: Option<Spanned<String>>,
    /// The evaluation date (`YYYY-MM-DD`), if not the document's.
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
    /// Timeline cases: the first day `ever` and `never` look at.
    #[serde(default)]
    pub from: Option<Spanned<CellText>>,
    /// Timeline cases: the last day `ever` and `never` look at.
    #[serde(default)]
    pub to: Option<Spanned<CellText>>,
}

/// What a timeline case expects of one day's actions (as a case's `actions`,
/// `contains` and `excludes` do of its run's).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DayDoc {
    /// Exactly these actions that day, in order (`[]`: none).
    #[serde(default)]
    pub actions: Option<Vec<Spanned<Json>>>,
    /// These actions that day, among others.
    #[serde(default)]
    pub contains: Option<Vec<Spanned<Json>>>,
    /// No action that day matches one of these.
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

/// Editor schemas: an `on` key is a date.
impl schemars::JsonSchema for DayKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DayKey".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
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

/// Editor schemas: a `decisions` key is `table` or `table[item]`.
impl schemars::JsonSchema for DecisionKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DecisionKey".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
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
    // A document named twice (`x ./x`, or in a directory also given) is run once.
    crate::input::dedup_same_files(&mut out);
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

/// Whether `path` is a test document: its top-level key is `tests`. A file
/// that does not parse (or is not UTF-8) but has a top-level `tests` line is
/// one, so that its error is reported rather than its cases skipped. A FIFO
/// or device is not (never opened).
fn is_test_document(path: &Path) -> bool {
    let Ok(bytes) = crate::input::read_regular(path, crate::model::load::MAX_RULE_FILE_BYTES)
    else {
        return false;
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let bytes = e.into_bytes();
            return crate::model::load::has_top_level_key(
                &String::from_utf8_lossy(&bytes),
                "tests",
            );
        }
    };
    let file = SourceFile::new(path.display().to_string(), text);
    let format = format_of(path).unwrap_or(Format::Yaml);
    match crate::model::load::parse::<crate::model::doc::Probe>(format, &file) {
        Ok(probe) => probe.tests.is_some(),
        Err(_) => crate::model::load::has_top_level_key(&file.text, "tests"),
    }
}

/// What one case runs: an account on its `as_of` (`None`: not a date, an
/// error already), or a timeline.
pub(super) enum CaseSetup {
    Account(Option<NaiveDate>),
    Timeline(TimelineCase),
}

/// A test document, read and with its dates and accounts resolved.
pub struct TestDocument {
    pub path: PathBuf,
    pub file: Arc<SourceFile>,
    pub doc: TestDoc,
    /// Per case, what it runs.
    pub(super) setups: Vec<CaseSetup>,
    /// The `accounts` file's records, each read.
    accounts: Vec<AccountRecord>,
    /// Whether every record of the `accounts` file was read (else an account
    /// id not found may be the unread record's: not said again).
    accounts_complete: bool,
    /// Per case (by index), the keys it has that a case does not: a field of
    /// its account dedented into the case is not also missing from the account.
    unknown_case_keys: Vec<(usize, Vec<String>)>,
    /// What reading found wrong (keys, dates, cases that expect nothing, the
    /// `accounts` file), every independent problem: [`TestDocument::check`]
    /// reports them with the rest.
    pub(super) problems: Vec<Diagnostic>,
}

/// Where the docs list a test document's keys.
const KEYS_DOC: &str = "docs/testing.md lists the keys of a test document and of a case";

/// What a test document starts with, for a file that is not one.
const STARTS: &str =
    "a test document is a mapping that starts with `tests: NAME`, then its `cases` (docs/testing.md)";

impl TestDocument {
    /// Reads a test document: every key known, every date a date, every case
    /// with an `as_of` and an expectation, the `accounts` file readable. An
    /// error is a document that cannot be read at all (or whose own keys are
    /// misspelt: everything after would follow from that); any other problem
    /// is kept in `problems`, every one of them, and the document is still
    /// checked against its rules.
    pub fn read(path: &Path) -> Result<TestDocument, Vec<Diagnostic>> {
        use crate::model::load::{parse_document, read_text};
        let file = read_text(path, CODE).map_err(|d| vec![d])?;
        // Unknown keys first, every one (the types below ignore them), and
        // which cases and days have one, so that their missing keys are not
        // said again as cases that expect nothing.
        let mut unknown = parse_document::<LocatedJson>(path, &file, CODE, KEYS_DOC, STARTS)
            .map(|tree| UnknownKeys::of(&file, &tree))
            .unwrap_or_default();
        let doc: TestDoc = match parse_document(path, &file, CODE, KEYS_DOC, STARTS) {
            Ok(doc) => doc,
            Err(d) => {
                let mut problems = unknown.problems;
                problems.push(d);
                super::drop_repeats(&mut problems);
                return Err(problems);
            }
        };
        if unknown.top {
            return Err(unknown.problems);
        }
        let mut problems = std::mem::take(&mut unknown.problems);
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
        for (i, case) in doc.cases.iter().enumerate() {
            let case = &case.value;
            let misspelt = unknown.cases.iter().any(|(c, _)| *c == i);
            if case.timeline.is_some() {
                setups.push(CaseSetup::Timeline(TimelineCase::read(
                    &file,
                    path,
                    case,
                    &Misspelt {
                        case: misspelt,
                        days: unknown
                            .days
                            .iter()
                            .filter(|(c, _)| *c == i)
                            .map(|(_, d)| *d)
                            .collect(),
                    },
                    &mut problems,
                )));
                continue;
            }
            let date = match &case.as_of {
                Some(d) => date_cell(CODE, &file, d, &mut problems),
                None => default_as_of,
            };
            setups.push(CaseSetup::Account(date));
            // A misspelt key may be the `timeline`, `account`, `as_of` or
            // expectation this case lacks: said once, as the unknown key.
            if misspelt {
                continue;
            }
            misplaced_in_account_case(&file, case, &mut problems);
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
            if case.as_of.is_none() && doc.as_of.is_none() {
                problems.push(Diagnostic::error(
                    CODE,
                    &file,
                    case.name.span,
                    format!(
                        "case `{}` has no `as_of`, and the document sets none",
                        case.name.value
                    ),
                ));
            }
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
        let mut accounts_complete = true;
        let accounts = match &doc.accounts {
            None => Vec::new(),
            Some(rel) => {
                let target = path.parent().unwrap_or(Path::new(".")).join(&rel.value);
                match crate::data::accounts::read_accounts(&target) {
                    // A record that cannot be read is an error here, not a
                    // case's puzzling "no account".
                    Ok(records) => records
                        .into_iter()
                        .filter(|r| match &r.json {
                            Ok(_) => true,
                            Err(reason) => {
                                accounts_complete = false;
                                problems.push(Diagnostic::error(
                                    CODE,
                                    &file,
                                    rel.span,
                                    format!("{}: {reason}", r.origin),
                                ));
                                false
                            }
                        })
                        .collect(),
                    Err(e) => {
                        accounts_complete = false;
                        problems.push(Diagnostic::error(CODE, &file, rel.span, e.to_string()));
                        Vec::new()
                    }
                }
            }
        };
        Ok(TestDocument {
            path: path.to_path_buf(),
            file,
            doc,
            setups,
            accounts,
            accounts_complete,
            unknown_case_keys: unknown.cases,
            problems,
        })
    }

    /// What reading found wrong (checking reports it too).
    pub fn read_problems(&self) -> &[Diagnostic] {
        &self.problems
    }

    /// Each account case's name and `as_of`, in document order (timeline
    /// cases run every day of their timeline, so they have none; a case whose
    /// `as_of` is not a date has none either).
    pub fn case_dates(&self) -> Vec<(&Spanned<String>, NaiveDate)> {
        self.doc
            .cases
            .iter()
            .zip(&self.setups)
            .filter_map(|(case, setup)| match setup {
                CaseSetup::Account(date) => Some((&case.value.name, (*date)?)),
                CaseSetup::Timeline(_) => None,
            })
            .collect()
    }

    /// The rules directory the document names (`rules:`), relative to its own directory.
    pub fn rules_dir(&self) -> Option<PathBuf> {
        let rel = self.doc.rules.as_ref()?;
        Some(tidy_join(
            self.path.parent().unwrap_or(Path::new(".")),
            &rel.value,
        ))
    }

    /// The accounts file's account named `id`.
    fn account_named(&self, schema: &Schema, id: &str) -> Option<&AccountRecord> {
        self.accounts.iter().find(|a| {
            a.json
                .as_ref()
                .is_ok_and(|json| account_id(schema, json).as_deref() == Some(id))
        })
    }

    /// Fields of the cases' accounts (inline, or named in the `accounts`
    /// file) that the schema does not have, as `arrears dry-run` warns of
    /// them ([`crate::data::accounts::unknown_field_warnings`]): decoding
    /// ignores them, but in an account written for a test one is a typo.
    pub fn unknown_field_warnings(&self, plan: &Plan) -> Vec<String> {
        self.unknown_fields_found(plan)
            .into_iter()
            .map(|(at, what)| format!("{at}: {what}"))
            .collect()
    }

    /// The same warnings as `arrears lint` reports them ([`UNKNOWN_FIELD`]),
    /// each at its key; one in an accounts file whose text cannot be read
    /// again at the document's `accounts`.
    pub fn unknown_field_diagnostics(&self, plan: &Plan) -> Vec<Diagnostic> {
        use crate::data::accounts::Place;
        self.unknown_fields_found(plan)
            .into_iter()
            .map(|(at, what)| match at {
                Place::Written(file, span) => Diagnostic::warning(UNKNOWN_FIELD, &file, span, what),
                Place::Origin(origin) => {
                    let span = self
                        .doc
                        .accounts
                        .as_ref()
                        .map_or(self.doc.tests.span, |a| a.span);
                    Diagnostic::warning(
                        UNKNOWN_FIELD,
                        &self.file,
                        span,
                        format!("{origin}: {what}"),
                    )
                }
            })
            .collect()
    }

    /// Each field of the cases' accounts the schema does not have: where, and what is said.
    fn unknown_fields_found(&self, plan: &Plan) -> Vec<(crate::data::accounts::Place, String)> {
        use crate::data::accounts::Place;
        let schema = plan.schema();
        let mut named: Vec<&AccountRecord> = Vec::new();
        let mut found = Vec::new();
        for case in &self.doc.cases {
            let Some(account) = &case.value.account else {
                continue;
            };
            let (json, positions) = account.value.clone().into_parts(&mut |span| span);
            if let Json::String(id) = &json {
                if let Some(record) = self.account_named(schema, id) {
                    if !named.iter().any(|r| std::ptr::eq(*r, record)) {
                        named.push(record);
                    }
                }
                continue;
            }
            for (path, message) in crate::data::snapshot::unknown_fields(schema, &json, None) {
                let value = positions.of("account", &format!("account.{path}"));
                let key = path.rsplit(['.', ']']).next().unwrap_or(&path);
                let at = crate::model::spanned::key_before(&self.file, value, key).unwrap_or(value);
                found.push((
                    Place::Written(self.file.clone(), at),
                    format!(
                        "case `{}`: `account.{path}` is ignored: {message}",
                        case.value.name.value
                    ),
                ));
            }
        }
        found.extend(crate::data::accounts::unknown_fields_found(schema, named));
        found
    }

    /// What is wrong with the case's account: an id the `accounts` file does
    /// not have, or a record it holds that does not decode (at the case's
    /// `account`), or each field of an inline account that does not decode,
    /// where it is written.
    pub(super) fn account_problems(
        &self,
        case: usize,
        account: &Spanned<LocatedJson>,
        plan: &Plan,
    ) -> Vec<Diagnostic> {
        let error =
            |span: Span, message: String| Diagnostic::error(CODE, &self.file, span, message);
        let (json, written) = account.value.clone().into_parts(&mut |span| span);
        if let Json::String(id) = &json {
            // The record may be the one the `accounts` file could not read.
            if !self.accounts_complete && self.account_named(plan.schema(), id).is_none() {
                return Vec::new();
            }
            return self
                .account(account, plan)
                .err()
                .map(|message| error(account.span, message))
                .into_iter()
                .collect();
        }
        // A field written beside `account` instead of in it is said once, as
        // the case's unknown key.
        let dedented = self
            .unknown_case_keys
            .iter()
            .find(|(c, _)| *c == case)
            .map_or(&[][..], |(_, keys)| keys);
        let missing_but_dedented = |e: &crate::data::snapshot::FieldError| {
            e.missing_from() == Some("account")
                && dedented.iter().any(|k| e.field == format!("account.{k}"))
        };
        match decode_account(plan.schema(), &json) {
            Ok(_) => Vec::new(),
            Err(mut errors) => {
                errors.retain(|e| !missing_but_dedented(e));
                crate::data::snapshot::missing_fields_together(&errors)
                    .iter()
                    .map(|e| {
                        let at = written.of("account", &e.field);
                        error(at, format!("bad account data: {e}"))
                    })
                    .collect()
            }
        }
    }

    /// The case's account, decoded: from the document's `accounts` by id, or inline.
    pub(super) fn account(
        &self,
        account: &Spanned<LocatedJson>,
        plan: &Plan,
    ) -> Result<crate::types::Value, String> {
        let schema = plan.schema();
        let written = account.value.clone().into_json();
        let json = match &written {
            Json::String(id) => self
                .account_named(schema, id)
                .and_then(|a| a.json.as_ref().ok())
                .ok_or_else(|| match &self.doc.accounts {
                    Some(file) => {
                        let ids: Vec<String> = self
                            .accounts
                            .iter()
                            .filter_map(|a| account_id(schema, a.json.as_ref().ok()?))
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

/// A timeline case as read: its timeline's path and its dates.
pub(super) struct TimelineCase {
    /// The timeline document, resolved against the test document's directory.
    pub(super) path: PathBuf,
    /// The date of each `on` entry, in order (`None`: not a date, an error already).
    pub(super) on: Vec<Option<NaiveDate>>,
    pub(super) from: Option<NaiveDate>,
    pub(super) to: Option<NaiveDate>,
}

/// The keys only an account case has, with what a timeline case writes instead.
const ACCOUNT_ONLY: &str = "a timeline case expects actions: `on` (a day's), `ever`, `never`";

impl TimelineCase {
    /// Reads a case that names a `timeline`: no key of an account case, every
    /// date a date, `from` not after `to` and only with `ever` or `never`, and
    /// every day and the case expecting something.
    pub(super) fn read(
        file: &Arc<SourceFile>,
        document: &Path,
        case: &CaseDoc,
        misspelt: &Misspelt,
        problems: &mut Vec<Diagnostic>,
    ) -> TimelineCase {
        let error = |span: Span, message: String| Diagnostic::error(CODE, file, span, message);
        let name = &case.name;
        if let Some(account) = &case.account {
            problems.push(error(
                account.span,
                "a case names an `account` or a `timeline`, not both".into(),
            ));
        }
        if let Some(as_of) = &case.as_of {
            problems.push(error(
                as_of.span,
                "`as_of` is for an account case; a timeline case runs every day of its timeline"
                    .into(),
            ));
        }
        for (key, list) in [
            ("actions", &case.actions),
            ("contains", &case.contains),
            ("excludes", &case.excludes),
        ] {
            if let Some(list) = list {
                problems.push(
                    error(
                        first_span(list, name.span),
                        format!("`{key}` is for an account case's one run"),
                    )
                    .with_help(format!(
                        "in a timeline case, write it under `on: {{DATE: {{{key}: ...}}}}`, or use `ever` / `never`"
                    )),
                );
            }
        }
        for (key, list) in [
            ("rows", &case.rows),
            ("rows_not_fired", &case.rows_not_fired),
        ] {
            if let Some(list) = list {
                problems.push(
                    error(
                        first_span(list, name.span),
                        format!("`{key}` is for an account case"),
                    )
                    .with_help(ACCOUNT_ONLY),
                );
            }
        }
        if let Some(decisions) = &case.decisions {
            let span = decisions.keys().next().map_or(name.span, |k| k.0.span);
            problems.push(
                error(span, "`decisions` is for an account case".into()).with_help(ACCOUNT_ONLY),
            );
        }
        let mut on = Vec::new();
        for (d, (day, expected)) in case.on.iter().flatten().enumerate() {
            let date = date_cell(CODE, file, &day.0, problems);
            if !expected.value.expects_something() && !misspelt.days.contains(&d) {
                problems.push(
                    error(
                        day.0.span,
                        format!("`on` {}: expects nothing", day.0.value.0),
                    )
                    .with_help("add `actions`, `contains` or `excludes` (see docs/testing.md)"),
                );
            }
            on.push(date);
        }
        let from = case
            .from
            .as_ref()
            .and_then(|d| date_cell(CODE, file, d, problems));
        let to = case
            .to
            .as_ref()
            .and_then(|d| date_cell(CODE, file, d, problems));
        if let (Some(from), Some(to), Some(cell)) = (from, to, &case.to) {
            if to < from {
                problems.push(error(
                    cell.span,
                    format!("`to` ({to}) is before `from` ({from})"),
                ));
            }
        }
        let listed = |l: &Option<Vec<_>>| l.as_ref().is_some_and(|l| !l.is_empty());
        let window = listed(&case.ever) || listed(&case.never);
        for (key, cell) in [("from", &case.from), ("to", &case.to)] {
            if let (Some(cell), false, false) = (cell, window, misspelt.case) {
                problems.push(error(
                    cell.span,
                    format!("`{key}` narrows the days `ever` and `never` look at, and this case has neither"),
                ));
            }
        }
        if !window && !misspelt.case && case.on.as_ref().is_none_or(|on| on.is_empty()) {
            problems.push(
                error(
                    name.span,
                    format!("case `{}` expects nothing, so it cannot fail", name.value),
                )
                .with_help("add `on`, `ever` or `never` (see docs/testing.md)"),
            );
        }
        let timeline = case.timeline.as_ref().map_or("", |t| t.value.as_str());
        TimelineCase {
            path: tidy_join(document.parent().unwrap_or(Path::new(".")), timeline),
            on,
            from,
            to,
        }
    }
}

/// What a timeline case's unknown keys may stand for: in the case (`nevr`),
/// its missing expectations are not said again; in a day (by index), that
/// day's.
pub(super) struct Misspelt {
    case: bool,
    days: Vec<usize>,
}

/// The keys a document, a case and a day may have: their types' fields.
static KEYS: std::sync::LazyLock<[Vec<String>; 3]> = std::sync::LazyLock::new(|| {
    fn keys_of<T: schemars::JsonSchema>() -> Vec<String> {
        let schema = schemars::schema_for!(T);
        schema
            .get("properties")
            .and_then(Json::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
    [
        keys_of::<TestDoc>(),
        keys_of::<CaseDoc>(),
        keys_of::<DayDoc>(),
    ]
});

/// Every key of a test document that its level does not have, each at the
/// key, found in the document read as plain data: the document's types
/// ignore unknown keys, so one misspelt key hides nothing else.
#[derive(Default)]
struct UnknownKeys {
    problems: Vec<Diagnostic>,
    /// The document's own keys have one (`rules`, `as_of` or `accounts` may
    /// be misspelt, and everything checked after would follow from it).
    top: bool,
    /// The cases (by index) with one of their own, and those keys.
    cases: Vec<(usize, Vec<String>)>,
    /// The days (case, day by index) with one.
    days: Vec<(usize, usize)>,
}

impl UnknownKeys {
    fn of(file: &Arc<SourceFile>, tree: &LocatedJson) -> UnknownKeys {
        let [doc_keys, case_keys, day_keys] = &*KEYS;
        let mut found = UnknownKeys::default();
        let mut unknown = |fields: &[(String, LocatedJson)], keys: &[String]| -> bool {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let mut any = false;
            for (key, value) in fields {
                if !keys.contains(&key.as_str()) {
                    let at = crate::model::spanned::key_before(file, value.span, key)
                        .unwrap_or(value.span);
                    found.problems.push(crate::model::load::unknown_key_at(
                        file, at, CODE, key, &keys, KEYS_DOC,
                    ));
                    any = true;
                }
            }
            any
        };
        let Some(fields) = tree.fields() else {
            return found;
        };
        let top = unknown(fields, doc_keys);
        let mut cases = Vec::new();
        let mut days = Vec::new();
        let listed = fields.iter().find(|(k, _)| k == "cases");
        for (i, case) in listed
            .and_then(|(_, c)| c.items())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Some(fields) = case.fields() else {
                continue;
            };
            if unknown(fields, case_keys) {
                let known = |k: &String| case_keys.contains(k);
                cases.push((
                    i,
                    fields
                        .iter()
                        .map(|(k, _)| k.clone())
                        .filter(|k| !known(k))
                        .collect(),
                ));
            }
            let on = fields.iter().find(|(k, _)| k == "on");
            for (d, (_, day)) in on
                .and_then(|(_, o)| o.fields())
                .into_iter()
                .flatten()
                .enumerate()
            {
                if day.fields().is_some_and(|f| unknown(f, day_keys)) {
                    days.push((i, d));
                }
            }
        }
        UnknownKeys {
            top,
            cases,
            days,
            ..found
        }
    }
}

/// An account case's keys that need a timeline: each is an error.
pub(super) fn misplaced_in_account_case(
    file: &Arc<SourceFile>,
    case: &CaseDoc,
    problems: &mut Vec<Diagnostic>,
) {
    let name = case.name.span;
    let spans = [
        (
            "on",
            case.on
                .as_ref()
                .map(|on| on.keys().next().map_or(name, |k| k.0.span)),
        ),
        ("ever", case.ever.as_ref().map(|l| first_span(l, name))),
        ("never", case.never.as_ref().map(|l| first_span(l, name))),
        ("from", case.from.as_ref().map(|c| c.span)),
        ("to", case.to.as_ref().map(|c| c.span)),
    ];
    for (key, span) in spans {
        if let Some(span) = span {
            problems.push(
                Diagnostic::error(CODE, file, span, format!("`{key}` needs a `timeline`"))
                    .with_help("an account case is one run, on its `as_of`; a timeline case names `timeline: PATH`"),
            );
        }
    }
}

fn first_span<T>(list: &[Spanned<T>], otherwise: Span) -> Span {
    list.first().map_or(otherwise, |s| s.span)
}

/// `dir` joined with `rel` as a reader writes it: `overlap/tests` and `..` is
/// `overlap`, not `overlap/tests/..`. A `..` after a symbolic link is kept,
/// since it leads to the link target's parent.
fn tidy_join(dir: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in dir.join(rel).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_)))
                    && !out.is_symlink() =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

#[cfg(test)]
mod tidy_tests {
    use super::tidy_join;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_rules_path_is_joined_without_dot_dot() {
        for (dir, rel, joined) in [
            ("overlap/tests", "..", "overlap"),
            ("tests", "..", "."),
            ("rules/tests", "../../rules", "rules"),
            ("", "../rules", "../rules"),
            ("/a/b", "./c", "/a/b/c"),
        ] {
            assert_eq!(
                tidy_join(Path::new(dir), rel),
                PathBuf::from(joined),
                "{dir} + {rel}"
            );
        }
        // Past a symbolic link, `..` is the target's parent: kept.
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("real/inner")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("real/inner"), tmp.path().join("link")).unwrap();
        let link = tmp.path().join("link");
        assert_eq!(tidy_join(&link, ".."), link.join(".."));
    }
}
