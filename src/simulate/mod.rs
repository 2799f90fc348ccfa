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
use crate::model::spanned::{CellText, LocatedJson, Spanned};
use crate::policy::case::{self, Case, Event};
use crate::policy::{Action, Policy};
use crate::source::{SourceFile, Span};

pub use happen::Happening;

/// The code of every problem in a timeline document (besides YAML/TOML syntax).
pub const CODE: &str = "timeline";

/// A timeline runs at most this many days (ten years): a mistyped year must
/// not run the policy a million times.
pub const MAX_DAYS: i64 = 3_660;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// A timeline for `arrears simulate`: an account and what happens to it, day by day.
pub struct TimelineDoc {
    /// The timeline's name.
    pub timeline: Spanned<String>,
    /// The story, for readers.
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
    pub account: LocatedJson,
    /// What happens, dated: new figures, promises, payments, contacts' outcomes.
    #[serde(default)]
    pub happenings: Vec<Spanned<happen::HappeningDoc>>,
}

/// A timeline document, read and checked against one policy's schema: its
/// dates, its happenings' fields, and the starting case state resolved.
pub struct Timeline {
    pub path: PathBuf,
    pub file: Arc<SourceFile>,
    pub name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    ages: Option<String>,
    /// The account's facts on the first day, its case state taken out.
    facts: Json,
    /// The account field that holds the case state (`case`), when the policy reads one.
    case_field: Option<String>,
    /// The case state on the first day.
    case: Option<Case>,
    /// In date order; happenings of one day in the order written.
    happenings: Vec<Happening>,
}

/// One simulated day: what happened, what the policy did, what fell due.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// The account's arrears and (with `ages`) days past due at the end of the
    /// day, as `(field, value)`: why the rules decided what they did.
    pub figures: Vec<(String, Json)>,
    /// The day's happenings, as written (`payment amount=47.00 promise=P1`).
    pub happened: Vec<String>,
    /// Owned: a timeline's days may run under different policies.
    pub actions: Vec<Action<'static>>,
    /// `(table, row)` of every row that fired in the day's run (test coverage).
    pub fired: Vec<(u32, u32)>,
    /// Events carried out on this day: by an agent's contact report (a
    /// `contact` happening), then by the case system.
    pub done: Vec<Event>,
    /// The case at the end of the day; `None` when no case is open.
    pub case: Option<Case>,
    /// The account's contacts at the end of the day (its `contacts` field,
    /// kept across cases), as the account holds them.
    pub contacts: Json,
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
/// account that no longer decodes, a payment naming a promise the account does
/// not have, a table that fails). The days before it are kept.
#[derive(Debug)]
pub struct Stopped {
    pub history: History,
    pub date: NaiveDate,
    pub message: String,
    /// The happening that failed, when one did.
    pub at: Option<Span>,
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
    /// Reads a timeline document and checks it against the policy it will run
    /// with: every key known, every date a date, `from` not after `to` and at
    /// most [`MAX_DAYS`] apart, every happening inside them and in date order, of exactly one
    /// kind and naming fields the schema has, `ages` an integer field, and the
    /// starting case a case state. Nothing runs until all of that holds.
    pub fn read(path: &Path, policy: &Policy) -> Result<Timeline, Vec<Diagnostic>> {
        let (file, doc): (_, TimelineDoc) = crate::model::load::read_document(
            path,
            CODE,
            "docs/simulate.md lists the keys of a timeline and of a happening",
            "a timeline is a mapping that starts with `timeline: NAME`, then `from`, `to` and `account` (docs/simulate.md)",
        )
        .map_err(|d| vec![d])?;
        let error = |span: Span, message: String| Diagnostic::error(CODE, &file, span, message);
        let mut problems = Vec::new();
        let from = date_cell(CODE, &file, &doc.from, &mut problems);
        let to = date_cell(CODE, &file, &doc.to, &mut problems);
        // Happenings are checked against the span only when it is one: a
        // `to` before `from` puts every happening "outside", follow-ons that
        // would bury the real error.
        let mut span = from.zip(to);
        if let (Some(from), Some(to)) = (from, to) {
            let days = (to - from).num_days();
            if days < 0 {
                span = None;
                problems.push(
                    error(
                        doc.to.span,
                        format!("`to` ({to}) is before `from` ({from})"),
                    )
                    .with_help("`from` is the first day and `to` the last"),
                );
            } else if days >= MAX_DAYS {
                span = None;
                problems.push(
                    error(
                        doc.to.span,
                        format!("the timeline runs {} days; at most {MAX_DAYS}", days + 1),
                    )
                    .with_help("check the year of `from` and `to`"),
                );
            }
        }
        let world = happen::World::new(policy, doc.ages.as_ref().map(|a| a.value.as_str()));
        if let (Some(ages), Err(message)) = (&doc.ages, world.check_ages()) {
            problems.push(error(ages.span, message));
        }
        let mut happenings: Vec<Happening> = Vec::new();
        for h in &doc.happenings {
            let Some(h) = Happening::read(&file, h, &mut problems) else {
                continue;
            };
            // A date before the one above is a typo more often than a choice.
            if let Some(before) = happenings.last().filter(|b| b.date > h.date) {
                problems.push(
                    error(
                        h.span,
                        format!(
                            "this happening is on {}, before the one written above it ({})",
                            h.date, before.date
                        ),
                    )
                    .with_help("write the happenings in date order"),
                );
            }
            if let Some((from, to)) = span {
                if h.date < from || h.date > to {
                    problems.push(error(
                        h.span,
                        format!(
                            "this happening is on {}, outside the timeline ({from} to {to})",
                            h.date
                        ),
                    ));
                }
            }
            for (at, message) in world.check(&file, &h) {
                problems.push(error(at, message));
            }
            happenings.push(h);
        }
        let schema = policy.plan.schema();
        let case_field = policy
            .slots
            .case
            .map(|c| schema.account().fields[c.slot].name.clone());
        let account_span = doc.account.span;
        let (mut facts, written) = doc.account.into_parts(&mut |span| span);
        let mut case = None;
        // Whether the account can be decoded to find its bad values: a mapping
        // with a readable case state.
        let mut decodable = true;
        match facts.as_object_mut() {
            None => {
                decodable = false;
                problems.push(error(
                    account_span,
                    "`account` must be a mapping: the account's fields on the first day".into(),
                ))
            }
            // The starting case state, taken out of the facts: from here on the
            // policy's actions change it, not the timeline.
            Some(object) => {
                let state = case_field.as_ref().and_then(|f| object.remove(f));
                if let Some(mut json) = state.filter(|json| !json.is_null()) {
                    // A list in its old place (the contacts under the case) is
                    // said as every reader of accounts says it, at its key.
                    let case_record = (policy.slots.case).and_then(|c| {
                        crate::data::schema::record_of(&schema.account().fields[c.slot].ty)
                    });
                    if let (Some(field), Some(record), Json::Object(state)) =
                        (&case_field, case_record, &mut json)
                    {
                        state.retain(|key, value| {
                            let Some(message) =
                                crate::data::snapshot::misplaced_list(schema, record, key, value)
                            else {
                                return true;
                            };
                            let path = format!("account.{field}.{key}");
                            let value = written.of("account", &path);
                            let at = crate::model::spanned::key_before(&file, value, key)
                                .unwrap_or(value);
                            problems.push(error(at, format!("`{path}`: {message}")));
                            decodable = false;
                            false
                        });
                    }
                    match serde_json::from_value(json) {
                        Ok(state) => case = Some(state),
                        Err(e) => {
                            decodable = false;
                            problems.push(
                                error(account_span, format!("the account's case: {e}"))
                                    .with_help("docs/simulate.md lists the case state's fields"),
                            )
                        }
                    }
                }
            }
        }
        // The records with a key the schema does not have (`account`,
        // `account.promises[0]`): a misspelt key also leaves its field
        // missing, and the typo is the one mistake.
        let mut misspelt_in = Vec::new();
        for (path, message) in
            crate::data::snapshot::unknown_fields(schema, &facts, case_field.as_deref())
        {
            // Decoding ignores unknown fields (extracts carry columns no rule
            // reads); in an account written by hand one is a typo.
            // At the misspelt key itself, where the editor can show it.
            let record = path.rsplit_once('.').map_or("", |(record, _)| record);
            misspelt_in.push(match record {
                "" => "account".to_string(),
                record => format!("account.{record}"),
            });
            let value = written.of("account", &format!("account.{path}"));
            let key = path.rsplit(['.', ']']).next().unwrap_or(&path);
            let at = crate::model::spanned::key_before(&file, value, key).unwrap_or(value);
            problems.push(error(at, format!("`account.{path}`: {message}")));
        }
        // The first day's account must decode before any day runs; each bad
        // field is shown where it is written, beside the happenings' problems.
        if decodable {
            if let Err(mut errors) = decode_fields(case_field.as_deref(), schema, &facts, &case) {
                errors.retain(|e| {
                    e.missing_from()
                        .is_none_or(|record| !misspelt_in.iter().any(|m| m == record))
                });
                problems.extend(
                    crate::data::snapshot::missing_fields_together(&errors)
                        .iter()
                        .map(|e| error(written.of("account", &e.field), e.to_string())),
                );
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Timeline {
            path: path.to_path_buf(),
            file: file.clone(),
            name: doc.timeline.value,
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            ages: doc.ages.map(|a| a.value),
            facts,
            case_field,
            case,
            happenings,
        })
    }

    /// The account with its case state, decoded by the schema; every bad
    /// field, on one line.
    fn decode(
        &self,
        schema: &crate::data::schema::Schema,
        facts: &Json,
        case: &Option<Case>,
    ) -> Result<crate::types::Value, String> {
        decode_fields(self.case_field.as_deref(), schema, facts, case).map_err(|errors| {
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// The agents' queue on `date` at this point of the day: the case as
    /// that day's run leaves it, run on the account as it stands (the same
    /// judgement the day's run makes after the happenings), so a contact
    /// report carries out only an event the day's guard rails let go out.
    fn queue<'p>(
        &self,
        schema: &crate::data::schema::Schema,
        facts: &Json,
        case: &Option<Case>,
        date: NaiveDate,
        policy_on: &dyn Fn(NaiveDate) -> Result<&'p Policy, String>,
    ) -> Result<Option<Case>, String> {
        let value = self.decode(schema, facts, case)?;
        let run =
            crate::policy::run_needed(policy_on(date)?, &value, date).map_err(|e| e.to_string())?;
        Ok(case::apply(case.clone(), &run.actions, date))
    }

    /// The one line that says why a run stopped: at the happening's
    /// `file:line:col`, or the file and the day.
    pub fn stopped_line(&self, stopped: &Stopped) -> String {
        match stopped.at {
            Some(span) => {
                Diagnostic::error(CODE, &self.file, span, stopped.message.clone()).one_line()
            }
            None => format!(
                "{}: on {}: {}",
                self.path.display(),
                stopped.date,
                stopped.message
            ),
        }
    }

    /// Runs the policy on every day of the timeline; `policy` is the one the
    /// timeline was read with.
    pub fn run(&self, policy: &Policy) -> Result<History, Box<Stopped>> {
        self.run_dated(policy, &|_| Ok(policy))
    }

    /// Runs the timeline with the policy in force on each day (`policy_on`:
    /// effective-dated rules switch versions on their dates); `policy` is the
    /// one the timeline was read with (the schema and the case fields, which
    /// are not dated). A day whose rules cannot be built stops the timeline.
    pub fn run_dated<'p>(
        &self,
        policy: &'p Policy,
        policy_on: &dyn Fn(NaiveDate) -> Result<&'p Policy, String>,
    ) -> Result<History, Box<Stopped>> {
        let schema = policy.plan.schema();
        let mut facts = self.facts.clone();
        let mut case = self.case.clone();
        let mut history = History {
            timeline: self.name.clone(),
            account: crate::data::snapshot::account_id(schema, &facts).unwrap_or_default(),
            days: Vec::new(),
        };
        let stop = |history: History, date: NaiveDate, message: String, at: Option<Span>| {
            Box::new(Stopped {
                history,
                date,
                message,
                at,
            })
        };
        let world = happen::World::new(policy, self.ages.as_deref());
        let mut pending = self.happenings.iter().peekable();
        let mut date = self.from;
        while date <= self.to {
            if date > self.from {
                world.age(&mut facts);
            }
            let mut happened = Vec::new();
            // The account as the policy sees it, decoded after every happening,
            // so a value that breaks it is blamed on the happening that wrote it.
            let mut value = None;
            // Events an agent's contact report carried out: the day's first `done`.
            let mut done = Vec::new();
            while let Some(h) = pending.next_if(|h| h.date == date) {
                let queue = match (&case, h.reports_contact()) {
                    (Some(_), true) => match self.queue(schema, &facts, &case, date, policy_on) {
                        Ok(queue) => queue,
                        Err(message) => return Err(stop(history, date, message, None)),
                    },
                    _ => None,
                };
                let decoded = world
                    .apply(h, &mut facts, case.as_mut(), queue.as_ref(), &mut done)
                    .and_then(|()| self.decode(schema, &facts, &case));
                match decoded {
                    Ok(v) => value = Some(v),
                    Err(message) => return Err(stop(history, date, message, Some(h.span))),
                }
                happened.push(h.describe());
            }
            // Paid in full today: 0 days past due today, as the rules see it.
            if world.settle(&mut facts) {
                value = None;
            }
            let value = match value {
                Some(v) => v,
                None => match self.decode(schema, &facts, &case) {
                    Ok(v) => v,
                    Err(message) => return Err(stop(history, date, message, None)),
                },
            };
            let today = match policy_on(date) {
                Ok(p) => p,
                Err(message) => return Err(stop(history, date, message, None)),
            };
            let (actions, fired): (Vec<Action<'static>>, _) =
                match crate::policy::run(today, &value, date, false) {
                    Ok(run) => (
                        run.actions.into_iter().map(Action::into_owned).collect(),
                        run.evaluation.fired_rows().collect(),
                    ),
                    Err(e) => return Err(stop(history, date, e.to_string(), None)),
                };
            case = case::apply(case, &actions, date);
            if let Some(c) = case.as_mut() {
                let carried_out = case::execute_due(c, date);
                for event in &carried_out {
                    if let Some(contact) = case::contact_made(event, date) {
                        happen::add_contact(&mut facts, &contact);
                    }
                }
                done.extend(carried_out);
            }
            history.days.push(Day {
                date,
                figures: world.figures(&facts),
                happened,
                actions,
                fired,
                done,
                case: case.clone(),
                contacts: facts
                    .get(case::CONTACTS_FIELD)
                    .cloned()
                    .unwrap_or(Json::Null),
            });
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        Ok(history)
    }
}

/// The account's facts with its case state (in `case_field`), decoded by the schema.
fn decode_fields(
    case_field: Option<&str>,
    schema: &crate::data::schema::Schema,
    facts: &Json,
    case: &Option<Case>,
) -> Result<crate::types::Value, Vec<crate::data::snapshot::FieldError>> {
    let mut account = facts.clone();
    if let (Some(field), Some(object)) = (case_field, account.as_object_mut()) {
        let state = serde_json::to_value(case).unwrap_or(Json::Null);
        object.insert(field.to_string(), state);
    }
    decode_account(schema, &account)
}
