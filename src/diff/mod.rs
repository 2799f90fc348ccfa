//! `arrears diff`: the impact of a rule change on a book of accounts. Each
//! account is decoded once (twice when the two rule sets' schemas or mappings
//! differ) and run through both policies in the same worker, over the batch's
//! streaming pipeline (`data::batch::pipeline`), so memory stays bounded and a
//! diff costs about two batches. Per part it tallies transition matrices per
//! area, scheduled events, the action fields that moved (`changes.rs`) and
//! the rules behind the actions, merged in input
//! order into a [`Report`]; changed accounts go to `--changed` as JSON Lines.
//! It must not read rules, files or the clock: the command gives it the
//! policies and the rows, and renders the report (`render.rs`).

mod changes;
mod render;
mod report;

use std::collections::BTreeSet;
use std::io::Write;

use chrono::NaiveDate;
use serde::Serialize;

use crate::data::accounts::AccountRecord;
use crate::data::batch::{
    decode_unit, pipeline, write_reject, BatchError, Decoded, Mapping, Raw, RepeatedIds, RowSource,
    Unit,
};
use crate::policy::{Action, ActionKind, Policy};
use crate::types::Value;
pub use changes::Change;
pub use render::{html, text};
pub use report::{
    ActionChange, AreaMatrix, Cell, EventCount, Report, RowCount, RulesLabel, AREAS,
    VALUE_PAIRS_KEPT,
};

/// One rule set: its policy and, for CSV input, its mapping.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub policy: &'a Policy,
    pub mapping: Option<&'a Mapping>,
}

/// Settings of one diff.
pub struct Settings<'a> {
    pub old: Side<'a>,
    pub new: Side<'a>,
    /// Decode each row with each side's schema (and mapping): they differ.
    pub decode_twice: bool,
    pub as_of: NaiveDate,
    /// Example account ids kept per changed cell.
    pub examples: usize,
    pub chunk_rows: usize,
    /// Write each changed account to the `changed` writer.
    pub write_changed: bool,
    /// For an accounts file: where its records are written, for rejects.
    pub locations: Option<&'a Locations>,
}

/// Rows whose account id an earlier compared row had: each is compared, and
/// the command warns as `batch` and `dry-run` do.
#[derive(Debug, Default)]
pub struct Repeats {
    pub rows: u64,
    /// The first repeat: its id and where it is (`file:line`, or `line N`).
    pub first: Option<(String, String)>,
}

/// The records of an accounts file read whole (`dry-run`'s formats) as rows:
/// each record's number is its row; one that could not be parsed is a reject
/// naming its file and line.
pub struct Records(std::vec::IntoIter<(u64, Result<serde_json::Value, String>)>);

/// Where each record of an accounts file is written (its values taken out):
/// a reject names the field's `file:line:col`, as `dry-run` does.
pub struct Locations(Vec<AccountRecord>);

impl Records {
    pub fn new(mut records: Vec<AccountRecord>) -> (Records, Locations) {
        let values = records.iter_mut().map(|r| {
            match std::mem::replace(&mut r.json, Ok(serde_json::Value::Null)) {
                Ok(json) => Ok(json),
                Err(reason) => Err(format!("{}: {reason}", r.origin)),
            }
        });
        let rows = (1..).zip(values).collect::<Vec<_>>().into_iter();
        (Records(rows), Locations(records))
    }
}

impl Locations {
    /// Row `row`'s line in its file (when its format has lines) and where
    /// its `field` is written (the record's origin without one).
    fn of(&self, row: u64, field: Option<&str>) -> (Option<u64>, String) {
        let Some(record) = row
            .checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.0.get(i))
        else {
            return (None, String::new());
        };
        let line = record
            .origin
            .rsplit_once(':')
            .and_then(|(_, n)| n.parse().ok());
        let at = field.map_or_else(|| record.origin.clone(), |f| record.location_of(f));
        (line, at)
    }
}

impl RowSource for Records {
    fn next_chunk(&mut self, n: usize, out: &mut Vec<Unit>) -> Result<bool, BatchError> {
        for (line, record) in self.0.by_ref().take(n) {
            let raw = match record {
                Ok(json) => Raw::Value(json),
                Err(reason) => Raw::Bad {
                    id: None,
                    field: None,
                    reason,
                },
            };
            out.push(Unit { line, raw });
        }
        Ok(self.0.len() > 0)
    }
}

/// A reject of an accounts file's record: its line in the file (`null` for
/// a JSON array) and where the field is, where an extract's gives its line.
#[derive(Serialize)]
struct RecordReject<'a> {
    line: Option<u64>,
    location: &'a str,
    account: Option<&'a str>,
    field: Option<&'a str>,
    reason: &'a str,
}

/// Writes one reject line: an extract's as `batch` does, a record's with its location.
fn reject(
    settings: &Settings,
    out: &mut Vec<u8>,
    row: u64,
    id: Option<&str>,
    field: Option<&str>,
    reason: &str,
) {
    match settings.locations {
        None => write_reject(out, row, id, field, reason),
        Some(locations) => {
            let (line, location) = locations.of(row, field);
            let r = RecordReject {
                line,
                location: &location,
                account: id.filter(|s| !s.is_empty()),
                field,
                reason,
            };
            let _ = serde_json::to_writer(&mut *out, &r);
            out.push(b'\n');
        }
    }
}

/// What one side made of an account.
enum Outcome<'p> {
    Actions(Vec<Action<'p>>),
    Failed(String),
}

/// One `--changed` line.
#[derive(Serialize)]
struct ChangedLine<'a, 'p> {
    account: &'a str,
    row: u64,
    old: Option<&'a [Action<'p>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old_error: Option<&'a str>,
    new: Option<&'a [Action<'p>]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_error: Option<&'a str>,
}

/// One rayon task's share: its counts, its changed accounts, its rejects and
/// the ids of its compared rows (one buffer; each row's number and end in it).
struct Part {
    report: Report,
    changed: Vec<u8>,
    rejects: Vec<u8>,
    ids: Vec<(u64, usize)>,
    id_text: String,
}

/// Runs the diff: rows from `source`, changed accounts (with
/// `write_changed`) to `changed`, reject lines to `rejects`.
pub fn run(
    settings: &Settings,
    source: Box<dyn RowSource + '_>,
    changed: &mut (dyn Write + Send),
    rejects: &mut (dyn Write + Send),
    pool: &rayon::ThreadPool,
) -> Result<(Report, Repeats), BatchError> {
    let mut report = Report::new(settings.as_of, settings.examples);
    let (mut seen, mut repeats) = (RepeatedIds::default(), Repeats::default());
    let read = pipeline(
        source,
        settings.chunk_rows,
        pool,
        &|units| part(settings, units),
        |part: Part, _| {
            changed.write_all(&part.changed)?;
            rejects.write_all(&part.rejects)?;
            report.merge(part.report);
            // In input order, so the first repeat is the same whatever the threads.
            let mut start = 0;
            for (row, end) in part.ids {
                let id = &part.id_text[start..end];
                start = end;
                if !seen.first_time(id) {
                    repeats.rows += 1;
                    if repeats.first.is_none() {
                        let at = match settings.locations {
                            Some(l) => l.of(row, None).1,
                            None => format!("line {row}"),
                        };
                        repeats.first = Some((id.to_string(), at));
                    }
                }
            }
            Ok(())
        },
    );
    changed.flush()?;
    rejects.flush()?;
    report.rows_read = read?;
    Ok((report, repeats))
}

fn part(settings: &Settings, units: &[Unit]) -> Part {
    let mut part = Part {
        report: Report::new(settings.as_of, settings.examples),
        changed: Vec::new(),
        rejects: Vec::new(),
        ids: Vec::new(),
        id_text: String::new(),
    };
    let new_schema = settings.new.policy.plan.schema();
    for unit in units {
        let decoded = decode_unit(new_schema, settings.new.mapping, unit).and_then(|new| {
            let old = match settings.decode_twice {
                true => Some(decode_unit(
                    settings.old.policy.plan.schema(),
                    settings.old.mapping,
                    unit,
                )?),
                false => None,
            };
            Ok((old, new))
        });
        let (old_account, new_account) = match decoded {
            Ok(pair) => pair,
            Err(bad) => {
                part.report.rejected += 1;
                reject(
                    settings,
                    &mut part.rejects,
                    unit.line,
                    bad.id.as_deref(),
                    bad.field.as_deref(),
                    &bad.reason,
                );
                continue;
            }
        };
        let old_value = old_account
            .as_ref()
            .map_or(&new_account.value, |d| &d.value);
        let old = outcome(settings.old.policy, old_value, settings.as_of);
        let new = outcome(settings.new.policy, &new_account.value, settings.as_of);
        let Decoded { id, value } = &new_account;
        if let (Outcome::Failed(old_error), Outcome::Failed(new_error)) = (&old, &new) {
            part.report.rejected += 1;
            let reason = if old_error == new_error {
                format!("evaluation failed under both rule sets: {new_error}")
            } else {
                format!(
                    "evaluation failed under both rule sets: old: {old_error}; new: {new_error}"
                )
            };
            reject(
                settings,
                &mut part.rejects,
                unit.line,
                Some(id),
                None,
                &reason,
            );
            continue;
        }
        if !id.is_empty() {
            part.id_text.push_str(id);
            part.ids.push((unit.line, part.id_text.len()));
        }
        let money = Money::of(new_schema, value);
        let is_changed = part
            .report
            .add(id, money.arrears, money.balance, &old, &new);
        if is_changed && settings.write_changed {
            let (old_actions, old_error) = sides(&old);
            let (new_actions, new_error) = sides(&new);
            let line = ChangedLine {
                account: id,
                row: unit.line,
                old: old_actions,
                old_error,
                new: new_actions,
                new_error,
            };
            let _ = serde_json::to_writer(&mut part.changed, &line);
            part.changed.push(b'\n');
        }
    }
    part
}

fn outcome<'p>(policy: &'p Policy, account: &Value, as_of: NaiveDate) -> Outcome<'p> {
    match crate::policy::run_needed(policy, account, as_of) {
        Ok(run) => Outcome::Actions(run.actions),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn sides<'o, 'p>(outcome: &'o Outcome<'p>) -> (Option<&'o [Action<'p>]>, Option<&'o str>) {
    match outcome {
        Outcome::Actions(actions) => (Some(actions), None),
        Outcome::Failed(e) => (None, Some(e)),
    }
}

/// An account's `arrears` and `balance`, when its schema has them (zero when null).
struct Money {
    arrears: Option<rust_decimal::Decimal>,
    balance: Option<rust_decimal::Decimal>,
}

impl Money {
    fn of(schema: &crate::data::schema::Schema, account: &Value) -> Money {
        let Value::Record(fields) = account else {
            return Money {
                arrears: None,
                balance: None,
            };
        };
        let amount = |name: &str| {
            let slot = schema.account().slot(name)?;
            match fields.get(slot)? {
                Value::Dec(d) => Some(*d),
                Value::Int(i) => Some((*i).into()),
                _ => Some(rust_decimal::Decimal::ZERO),
            }
        };
        Money {
            arrears: amount("arrears"),
            balance: amount("balance"),
        }
    }
}

/// What an account's actions say in each area ([`AREAS`]), as cell labels;
/// class / template names the template the case gets (an arm's, if it has one).
fn area_values(outcome: &Outcome) -> [String; AREAS.len()] {
    let Outcome::Actions(actions) = outcome else {
        return std::array::from_fn(|_| "(evaluation failed)".to_string());
    };
    let none = || "none".to_string();
    let mut entry = None;
    let mut class = None;
    let mut arms = BTreeSet::new();
    let mut promises = BTreeSet::new();
    let (mut nominated, mut excluded) = (false, false);
    let mut closed = false;
    for action in actions {
        match &action.kind {
            ActionKind::OpenCase { category, .. } => entry = Some(category.to_string()),
            ActionKind::RetreatCase { category, .. } if entry.is_none() => {
                entry = Some(format!("{category} (re-treated)"))
            }
            ActionKind::AssignClass { class: c, template } => {
                class = Some((c.as_deref().unwrap_or("null"), &**template))
            }
            // An arm's template replaces the class's, as the case takes it.
            ActionKind::AssignArm {
                experiment,
                arm,
                template,
                ..
            } => {
                arms.insert(format!("{experiment}/{arm}"));
                if let (Some((_, t)), Some(arm_template)) = (class.as_mut(), template) {
                    *t = &**arm_template;
                }
            }
            ActionKind::PromiseOutcome { status, .. } => {
                let status = serde_json::to_value(status).ok();
                promises.insert(
                    status
                        .as_ref()
                        .and_then(|s| s.as_str())
                        .unwrap_or("?")
                        .to_string(),
                );
            }
            ActionKind::NominateSeverance { .. } => nominated = true,
            ActionKind::ExcludeSeverance { .. } => excluded = true,
            ActionKind::CloseCase { .. } => closed = true,
            _ => {}
        }
    }
    let joined = |set: BTreeSet<String>| match set.is_empty() {
        true => none(),
        false => set.into_iter().collect::<Vec<_>>().join(", "),
    };
    [
        entry.unwrap_or_else(none),
        class.map_or_else(none, |(c, t)| format!("{c}/{t}")),
        joined(arms),
        joined(promises),
        match (nominated, excluded) {
            (true, true) => "nominated and excluded".to_string(),
            (true, false) => "nominated".to_string(),
            (false, true) => "excluded".to_string(),
            (false, false) => none(),
        },
        match closed {
            true => "closed".to_string(),
            false => "not closed".to_string(),
        },
    ]
}
