//! `arrears simulate`: one account through a timeline of days. A timeline
//! document holds the starting snapshot and the dated happenings of the outside
//! world (new figures from the extract, a promise, a payment, a disposition, a
//! contact's outcome). Each day the happenings of the day change the account,
//! the policy runs on the account and its case state, the run's actions are
//! applied to the case state (`policy::case::apply`), and the case system
//! carries out the events that fell due (`policy::case::execute_due`); the next
//! day starts from there. The result is the case's history, day by day. It
//! decides nothing itself: every action comes from the same `policy::run` as
//! `dry-run`'s.

mod happen;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::data::snapshot::decode_account;
use crate::diagnostic::Diagnostic;
use crate::model::load::{date_cell, format_of};
use crate::model::spanned::{CellText, ExactJson, Spanned};
use crate::policy::case::{self, Case, Event};
use crate::policy::{Action, Policy};
use crate::source::{SourceFile, Span};

pub use happen::Happening;

/// The code of every problem in a timeline document (besides YAML/TOML syntax).
const CODE: &str = "timeline";

/// A timeline runs at most this many days (ten years): a mistyped year must
/// not run the policy a million times.
pub const MAX_DAYS: i64 = 3_660;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineDoc {
    pub timeline: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The first day simulated.
    pub from: Spanned<CellText>,
    /// The last day simulated (inclusive).
    pub to: Spanned<CellText>,
    /// An integer field that counts days past due: it grows by one each day
    /// while the account is in arrears and is 0 once the arrears are paid.
    #[serde(default)]
    pub ages: Option<Spanned<String>>,
    /// The account on the first day, before that day's happenings; its `case`
    /// (if any) is the open case's state.
    pub account: Spanned<ExactJson>,
    #[serde(default)]
    pub happenings: Vec<Spanned<happen::HappeningDoc>>,
}

/// A timeline document, read, with its dates and happenings resolved.
pub struct Timeline {
    pub path: PathBuf,
    pub file: Arc<SourceFile>,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    ages: Option<Spanned<String>>,
    account: Spanned<Json>,
    /// In date order; happenings of one day in the order written.
    happenings: Vec<Happening>,
}

/// One simulated day: what happened, what the policy did, what fell due.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// The day's happenings, as written (`payment amount=47.00 promise=P1`).
    pub happened: Vec<String>,
    pub actions: Vec<Action>,
    /// Events the case system carried out on this day.
    pub done: Vec<Event>,
    /// The case at the end of the day; `None` when no case is open.
    pub case: Option<Case>,
}

impl Day {
    /// The treatment ran its course today: the case started the day with an
    /// event pending (or opened today with events) and ends it with none.
    pub fn treatment_ended(&self, before: Option<&Case>) -> bool {
        let had_pending = before.is_some_and(Case::treatment_active)
            || (before.is_none() && self.case.as_ref().is_some_and(|c| !c.events.is_empty()));
        had_pending && self.case.as_ref().is_some_and(|c| !c.treatment_active())
    }
}

/// The history of one timeline: one entry per day from `from` to `to`.
#[derive(Debug, Clone)]
pub struct History {
    pub timeline: String,
    pub account: String,
    pub days: Vec<Day>,
}

/// Why a timeline could not run to its end: the day, and what went wrong (an
/// account that no longer decodes, a happening that names nothing, a table
/// that fails). The days before it are kept.
#[derive(Debug)]
pub struct Stopped {
    pub history: History,
    pub date: NaiveDate,
    pub message: String,
    /// Where the happening that failed is written, when one did.
    pub at: Option<Diagnostic>,
}

/// Timeline documents: a file, or the `.yaml`/`.yml`/`.toml` files of a
/// directory (not its subdirectories), sorted by name.
pub fn discover(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && format_of(p).is_some())
        .collect();
    files.sort();
    Ok(files)
}

impl Timeline {
    /// Reads a timeline document: every key known, every date a date, `from`
    /// not after `to` and at most [`MAX_DAYS`] apart, every happening inside
    /// them and of exactly one kind.
    pub fn read(path: &Path) -> Result<Timeline, Vec<Diagnostic>> {
        let (file, doc): (_, TimelineDoc) = crate::model::load::read_document(
            path,
            CODE,
            "docs/simulate.md lists the keys of a timeline and of a happening",
        )
        .map_err(|d| vec![d])?;
        let mut problems = Vec::new();
        let from = date_cell(CODE, &file, &doc.from, &mut problems);
        let to = date_cell(CODE, &file, &doc.to, &mut problems);
        if let (Some(from), Some(to)) = (from, to) {
            let days = (to - from).num_days();
            if days < 0 {
                problems.push(Diagnostic::error(
                    CODE,
                    &file,
                    doc.to.span,
                    format!("`to` ({to}) is before `from` ({from})"),
                ));
            } else if days >= MAX_DAYS {
                problems.push(
                    Diagnostic::error(
                        CODE,
                        &file,
                        doc.to.span,
                        format!("the timeline runs {} days; at most {MAX_DAYS}", days + 1),
                    )
                    .with_help("check the year of `from` and `to`"),
                );
            }
        }
        if !doc.account.value.0.is_object() {
            problems.push(Diagnostic::error(
                CODE,
                &file,
                doc.account.span,
                "`account` must be a mapping: the account's fields on the first day",
            ));
        }
        let mut happenings = Vec::new();
        for h in &doc.happenings {
            if let Some(h) = Happening::read(&file, h, &mut problems) {
                if let (Some(from), Some(to)) = (from, to) {
                    if h.date < from || h.date > to {
                        problems.push(Diagnostic::error(
                            CODE,
                            &file,
                            h.span,
                            format!(
                                "this happening is on {}, outside the timeline ({from} to {to})",
                                h.date
                            ),
                        ));
                    }
                }
                happenings.push(h);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        happenings.sort_by_key(|h| h.date);
        Ok(Timeline {
            path: path.to_path_buf(),
            file,
            name: doc.timeline.value,
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            ages: doc.ages,
            account: Spanned::new(doc.account.value.0, doc.account.span),
            happenings,
        })
    }

    fn error(&self, span: Span, message: String) -> Diagnostic {
        Diagnostic::error(CODE, &self.file, span, message)
    }

    /// What is wrong with the timeline for this policy, before any day runs:
    /// `ages` and every happening's fields checked against the schema.
    pub fn check(&self, policy: &Policy) -> Vec<Diagnostic> {
        let world = happen::World::new(policy, self.ages.as_ref().map(|a| a.value.as_str()));
        let mut problems = Vec::new();
        if let (Some(ages), Err(message)) = (&self.ages, world.check_ages()) {
            problems.push(self.error(ages.span, message));
        }
        for h in &self.happenings {
            for message in world.check(h) {
                problems.push(self.error(h.span, message));
            }
        }
        problems
    }

    /// Runs the policy on every day of the timeline.
    pub fn run(&self, policy: &Policy) -> Result<History, Box<Stopped>> {
        let schema = policy.plan.schema();
        let case_field = policy
            .slots
            .case
            .map(|c| schema.account().fields[c.slot].name.clone());
        let mut facts = self.account.value.clone();
        let mut history = History {
            timeline: self.name.clone(),
            account: crate::data::snapshot::account_id(schema, &facts).unwrap_or_default(),
            days: Vec::new(),
        };
        let stop = |history: History, date: NaiveDate, message: String, at: Option<Diagnostic>| {
            Box::new(Stopped {
                history,
                date,
                message,
                at,
            })
        };
        // The starting case state, taken out of the facts: from here on the
        // policy's actions change it, not the timeline.
        let mut case: Option<Case> = match case_field
            .as_ref()
            .and_then(|f| facts.as_object_mut().and_then(|o| o.remove(f)))
        {
            None | Some(Json::Null) => None,
            Some(json) => match serde_json::from_value(json) {
                Ok(case) => Some(case),
                Err(e) => {
                    let at = self.error(self.account.span, format!("the account's case: {e}"));
                    return Err(stop(history, self.from, at.message.clone(), Some(at)));
                }
            },
        };
        if let Some(at) = self.check(policy).into_iter().next() {
            return Err(stop(history, self.from, at.message.clone(), Some(at)));
        }
        let world = happen::World::new(policy, self.ages.as_ref().map(|a| a.value.as_str()));
        let mut pending = self.happenings.iter().peekable();
        let mut date = self.from;
        while date <= self.to {
            if date > self.from {
                world.age(&mut facts);
            }
            let mut happened = Vec::new();
            while let Some(h) = pending.next_if(|h| h.date == date) {
                if let Err(message) = world.apply(h, &mut facts, case.as_mut()) {
                    let at = self.error(h.span, message.clone());
                    return Err(stop(history, date, message, Some(at)));
                }
                happened.push(h.describe());
            }
            let mut account = facts.clone();
            if let (Some(field), Some(object)) = (&case_field, account.as_object_mut()) {
                let state = serde_json::to_value(&case).unwrap_or(Json::Null);
                object.insert(field.clone(), state);
            }
            let value = match decode_account(schema, &account) {
                Ok(value) => value,
                Err(errors) => {
                    let message = errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    return Err(stop(history, date, message, None));
                }
            };
            let actions = match crate::policy::run(policy, &value, date, false) {
                Ok(run) => run.actions,
                Err(e) => return Err(stop(history, date, e.to_string(), None)),
            };
            case = case::apply(case, &actions, date);
            let done = match case.as_mut() {
                Some(c) => case::execute_due(c, date),
                None => Vec::new(),
            };
            history.days.push(Day {
                date,
                happened,
                actions,
                done,
                case: case.clone(),
            });
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        Ok(history)
    }
}
