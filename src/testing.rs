//! `arrears test`: test documents with cases, their expectations, coverage.
//!
//! A test document is a YAML or TOML file whose top-level key is `tests`. Each
//! case names an account (inline, or by id from the document's `accounts`
//! file), an `as_of`, and what must happen: the exact actions (listed fields
//! only), rows that must fire, and table outputs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::compile::Plan;
use crate::eval::{Decision, Evaluation, Outcome};
use crate::expect::{diff_actions, same};
use crate::model::load::format_of;
use crate::model::spanned::{reading, CellText, Format, Spanned};
use crate::policy::Policy;
use crate::snapshot::{account_id, decode_account};
use crate::source::SourceFile;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDoc {
    pub tests: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
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
    /// An account id from the document's `accounts`, or the account itself.
    pub account: Spanned<Json>,
    #[serde(default)]
    pub as_of: Option<Spanned<CellText>>,
    /// Exactly these actions, in this order; only the listed fields are compared.
    #[serde(default)]
    pub actions: Option<Vec<Json>>,
    /// Rows that must fire: `table:row-id`.
    #[serde(default)]
    pub rows: Option<Vec<String>>,
    /// Outputs of tables: `{ entry: { category: arrears } }`; `table[item]` for a per-item table.
    #[serde(default)]
    pub decisions: Option<IndexMap<String, Json>>,
}

/// The rules under test: a policy, or tables alone.
pub enum Subject<'a> {
    Policy(&'a Policy),
    Tables(&'a Plan),
}

impl Subject<'_> {
    fn plan(&self) -> &Plan {
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
    read_doc::<crate::model::doc::Probe>(&file).is_ok_and(|p| p.tests.is_some())
}

fn read_doc<T: serde::de::DeserializeOwned>(file: &Arc<SourceFile>) -> Result<T, TestFileError> {
    let format = format_of(Path::new(&file.name)).unwrap_or(Format::Yaml);
    reading(format, file, || match format {
        Format::Yaml => serde_saphyr::from_str_with_options(
            &file.text,
            crate::model::load::yaml_options(&file.text),
        )
        .map_err(|e| {
            let (line, col) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let text = e.without_snippet().to_string();
            let message = text
                .find(" at line ")
                .map_or(text.clone(), |i| text[..i].to_string());
            TestFileError {
                location: format!("{}:{line}:{col}", file.name),
                message,
            }
        }),
        Format::Toml => toml::from_str(&file.text).map_err(|e| {
            let (line, col) = e.span().map_or((0, 0), |s| file.line_col(s.start));
            TestFileError {
                location: format!("{}:{line}:{col}", file.name),
                message: e.message().to_string(),
            }
        }),
    })
}

fn parse_date(file: &SourceFile, cell: &Spanned<CellText>) -> Result<NaiveDate, TestFileError> {
    NaiveDate::parse_from_str(cell.value.0.trim(), "%Y-%m-%d").map_err(|_| {
        let (line, col) = file.line_col(cell.span.start);
        TestFileError {
            location: format!("{}:{line}:{col}", file.name),
            message: format!("`{}` is not a date (YYYY-MM-DD)", cell.value.0),
        }
    })
}

/// Runs every case of one test document.
/// With `explain`, failing cases keep their traced evaluation.
pub fn run_file(
    subject: &Subject,
    path: &Path,
    explain: bool,
) -> Result<Vec<CaseResult>, TestFileError> {
    let bytes =
        crate::input::read_regular(path, crate::model::load::MAX_RULE_FILE_BYTES).map_err(|e| {
            TestFileError {
                location: path.display().to_string(),
                message: e.to_string(),
            }
        })?;
    let text = String::from_utf8(bytes).map_err(|_| TestFileError {
        location: path.display().to_string(),
        message: "not valid UTF-8; save the file as UTF-8".into(),
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    let doc: TestDoc = read_doc(&file)?;
    let default_as_of = doc
        .as_of
        .as_ref()
        .map(|d| parse_date(&file, d))
        .transpose()?;
    let plan = subject.plan();
    let schema = &plan.program.schema;
    let accounts: Vec<Json> = match &doc.accounts {
        None => Vec::new(),
        Some(rel) => {
            let target = path.parent().unwrap_or(Path::new(".")).join(&rel.value);
            crate::accounts::read_accounts(&target)
                .map_err(|e| {
                    let (line, col) = file.line_col(rel.span.start);
                    TestFileError {
                        location: format!("{}:{line}:{col}", file.name),
                        message: e.to_string(),
                    }
                })?
                .into_iter()
                .filter_map(|r| r.json.ok())
                .collect()
        }
    };
    let mut results = Vec::new();
    for case in &doc.cases {
        let case_doc = &case.value;
        let (line, _) = file.line_col(case.span.start);
        let as_of = match &case_doc.as_of {
            Some(d) => parse_date(&file, d)?,
            None => default_as_of.ok_or_else(|| TestFileError {
                location: format!("{}:{line}", file.name),
                message: format!(
                    "case `{}` has no `as_of`, and the document sets none",
                    case_doc.name.value
                ),
            })?,
        };
        let mut problems = Vec::new();
        let mut fired = BTreeSet::new();
        let mut explanation = None;
        let account = match &case_doc.account.value {
            Json::String(id) => accounts
                .iter()
                .find(|a| account_id(schema, a).as_deref() == Some(id.as_str()))
                .cloned(),
            inline => Some(inline.clone()),
        };
        match account {
            None => problems.push(match &doc.accounts {
                Some(file) => format!(
                    "no account `{}` in `{}`",
                    case_doc.account.value, file.value
                ),
                None => {
                    "the document names no `accounts` file to find this account id in".to_string()
                }
            }),
            Some(json) => match decode_account(schema, &json) {
                Err(errors) => {
                    problems.extend(errors.iter().map(|e| format!("bad account data: {e}")))
                }
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
            },
        }
        results.push(CaseResult {
            suite: doc.tests.value.clone(),
            file: file.name.clone(),
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
    Ok(results)
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
    if let Some(expected) = &case.actions {
        match actions {
            None => problems.push(
                "`actions` needs a policy; these rules have none (expect `decisions` or `rows`)"
                    .into(),
            ),
            Some(actions) => {
                let actual: Vec<Json> = actions
                    .iter()
                    .filter_map(|a| serde_json::to_value(a).ok())
                    .collect();
                problems.extend(diff_actions(expected, &actual));
            }
        }
    }
    if let Some(rows) = &case.rows {
        let fired: BTreeSet<String> = fired_rows(evaluation)
            .into_iter()
            .map(|(t, r)| plan.tables[t as usize].row_refs[r as usize].to_string())
            .collect();
        for row in rows {
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
    }
    if let Some(decisions) = &case.decisions {
        for (key, want) in decisions {
            let (name, label) = match key.split_once('[') {
                Some((n, rest)) => (n, Some(rest.trim_end_matches(']'))),
                None => (key.as_str(), None),
            };
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
