//! The documents a policy names besides its tables: calendars (weekends,
//! holidays), contact templates (events, their types, and days or date expressions) and experiments
//! (arms and shares) → `WorkCalendar`, `Template`, `ClassExperiment`, each
//! checked and every unused one reported. It must not look inside area tables
//! (that is `contracts` and `area_rows`).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use super::calendar::WorkCalendar;
use super::experiment::{self, Arm, Claim, Experiment};
use super::{action, Builder};
use crate::data::schema::BUILTIN_ENUMS;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::lang::check::standalone_expression;
use crate::lang::compile::RuleRef;
use crate::lang::ir::TExpr;
use crate::model::doc::{EventDoc, ExperimentDoc, PolicyDoc};
use crate::model::RuleDocs;
use crate::source::{SourceFile, Span};
use crate::types::Type;

#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub calendar: WorkCalendar,
    pub events: Vec<Event>,
    /// Its `day` events' dates for a treatment started on one day, made the
    /// first time one starts then ([`Template::event_date_from_today`]):
    /// every treatment a batch starts, starts on its as-of date.
    starting: OnceLock<(chrono::NaiveDate, EventDays)>,
}

/// Per `day` event (its day), its date.
type EventDays = Box<[(i64, Option<chrono::NaiveDate>)]>;

impl Template {
    pub fn new(name: String, calendar: WorkCalendar, events: Vec<Event>) -> Template {
        Template {
            name,
            calendar,
            events,
            starting: OnceLock::new(),
        }
    }

    /// The date of an event `day` days after a case started on `start`: the
    /// calendar day, rolled forward to a business day; `None` past the date range.
    pub fn event_date(&self, day: i64, start: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        self.event_date_on(&self.calendar, day, start)
    }

    /// [`Template::event_date`] on another calendar: an account's own (`calendar_by`).
    pub fn event_date_on(
        &self,
        calendar: &WorkCalendar,
        day: i64,
        start: chrono::NaiveDate,
    ) -> Option<chrono::NaiveDate> {
        u64::try_from(day)
            .ok()
            .and_then(|d| start.checked_add_days(chrono::Days::new(d)))
            .and_then(|d| calendar.roll_forward(d))
    }

    /// [`Template::event_date`] for a treatment that starts `today`: read
    /// from the dates made for the first such day, when it is that day.
    pub fn event_date_from_today(
        &self,
        day: i64,
        today: chrono::NaiveDate,
    ) -> Option<chrono::NaiveDate> {
        let (from, dates) = self.starting.get_or_init(|| {
            let dates = self
                .events
                .iter()
                .filter_map(Event::day)
                .map(|d| (d, self.event_date(d, today)))
                .collect();
            (today, dates)
        });
        match dates.iter().find(|(d, _)| *d == day) {
            Some((_, date)) if *from == today => *date,
            _ => self.event_date(day, today),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: Arc<str>,
    pub kind: Arc<str>,
    pub date: EventDate,
    /// Local time of day (`HH:MM`), if the template sets one.
    pub time: Option<Arc<str>>,
    pub params: action::Params,
    /// `template:name/event-id`, the rule ref of the actions it causes.
    pub rule_ref: RuleRef,
}

impl Event {
    /// The time of day an action scheduling it carries (its window is the guard rails').
    pub fn timing(&self) -> Option<action::Timing<'_>> {
        self.time.as_ref().map(|t| action::Timing {
            time: Some(std::borrow::Cow::Borrowed(&**t)),
            window: None,
        })
    }

    /// The event's day after the treatment's start; `None` when a date expression dates it.
    pub fn day(&self) -> Option<i64> {
        match self.date {
            EventDate::Day(day) => Some(day),
            EventDate::Expr { .. } => None,
        }
    }
}

/// When a template event falls, before the calendar moves it to a business day.
#[derive(Debug, Clone)]
pub enum EventDate {
    /// Calendar days after the treatment's start.
    Day(i64),
    /// A date expression over the account, `as_of` and `start_date` (the
    /// treatment's start), as written; null leaves the event unscheduled.
    Expr { expr: Arc<TExpr>, text: String },
}

/// The name a template event's date expression reads the treatment's start by.
pub const START_DATE: &str = "start_date";

#[derive(Debug, Clone)]
pub struct ClassExperiment {
    pub experiment: Experiment,
    pub classes: Vec<String>,
}
impl Builder<'_> {
    pub(super) fn calendars(&mut self, docs: &RuleDocs) -> HashMap<String, WorkCalendar> {
        let mut out = HashMap::new();
        for (file, doc) in &docs.calendars {
            let calendar = super::calendar::from_doc(file, doc, &mut self.diags);
            if out.contains_key(&doc.calendar.value) {
                self.diags.push(Diagnostic::error(
                    "duplicate-name",
                    file,
                    doc.calendar.span,
                    format!("calendar `{}` is declared twice", doc.calendar.value),
                ));
            }
            out.insert(doc.calendar.value.clone(), calendar);
        }
        out
    }

    pub(super) fn templates(
        &mut self,
        docs: &RuleDocs,
        calendars: &HashMap<String, WorkCalendar>,
        default: Option<&WorkCalendar>,
    ) -> HashMap<String, Template> {
        let event_types = BUILTIN_ENUMS
            .iter()
            .find(|(n, _)| *n == "event_type")
            .map_or(&[][..], |(_, v)| *v);
        let mut out = HashMap::new();
        for (file, doc) in &docs.templates {
            let calendar = match &doc.calendar {
                Some(name) => match calendars.get(&name.value) {
                    Some(c) => Some(c.clone()),
                    None => {
                        self.diags.push(
                            Diagnostic::error(
                                "unknown-reference",
                                file,
                                name.span,
                                format!("unknown calendar `{}`", name.value),
                            )
                            .with_help_opt(did_you_mean(
                                &name.value,
                                calendars.keys().map(|k| k.as_str()),
                            )),
                        );
                        None
                    }
                },
                None => default.cloned(),
            }
            // The calendar's error is said once, where it is named: a
            // stand-in keeps the template known, so that no class row that
            // assigns it says "unknown template" too (the policy is refused).
            .unwrap_or_else(|| WorkCalendar::weekdays("unknown"));
            let mut events = Vec::new();
            let mut ids = BTreeSet::new();
            for e in &doc.events {
                let event_span = e.span;
                let e = &e.value;
                if !event_types.contains(&e.kind.value.as_str()) {
                    self.diags.push(
                        Diagnostic::error(
                            "event-type",
                            file,
                            e.kind.span,
                            format!("unknown event type `{}`", e.kind.value),
                        )
                        .with_help(event_type_help(&e.kind.value, event_types)),
                    );
                }
                let Some(date) = self.event_date(file, e, event_span) else {
                    continue;
                };
                if let Some((prefix, whose)) = crate::policy::case::RESERVED_EVENT_PREFIXES
                    .iter()
                    .find(|(prefix, _)| e.id.value.0.starts_with(prefix))
                {
                    self.diags.push(
                        Diagnostic::error(
                            "reserved-event-id",
                            file,
                            e.id.span,
                            format!(
                                "event id `{}` starts with `{prefix}`, which the policy keeps for {whose}",
                                e.id.value.0
                            ),
                        )
                        .with_help(format!(
                            "the guard rails and the case state tell those events by the prefix (Reg F's consent exception reads `{}`): give this event an id of its own, such as `{}`",
                            crate::policy::case::CALLBACK_PREFIX,
                            suggested_event_id(&e.id.value.0, prefix)
                        )),
                    );
                }
                if !ids.insert(e.id.value.0.clone()) {
                    self.diags.push(Diagnostic::error(
                        "duplicate-name",
                        file,
                        e.id.span,
                        format!("event id `{}` is used twice in this template", e.id.value.0),
                    ));
                }
                let time = e.time.as_ref().and_then(|t| {
                    if crate::policy::case::time_of_day(&t.value).is_none() {
                        self.diags.push(
                            Diagnostic::error(
                                "event-day",
                                file,
                                t.span,
                                format!("time `{}` is not a time of day", t.value),
                            )
                            .with_help("write a 24-hour local time `HH:MM`, such as `20:30`"),
                        );
                        return None;
                    }
                    Some(Arc::from(t.value.as_str()))
                });
                events.push(Event {
                    time,
                    rule_ref: format!("template:{}/{}", doc.template.value, e.id.value.0).into(),
                    id: e.id.value.0.as_str().into(),
                    kind: e.kind.value.as_str().into(),
                    date,
                    params: Arc::new(
                        e.params
                            .iter()
                            .map(|(k, v)| (k.clone(), v.value.0.clone()))
                            .collect(),
                    ),
                });
            }
            if out.contains_key(&doc.template.value) {
                self.diags.push(Diagnostic::error(
                    "duplicate-name",
                    file,
                    doc.template.span,
                    format!("template `{}` is declared twice", doc.template.value),
                ));
            }
            out.insert(
                doc.template.value.clone(),
                Template::new(doc.template.value.clone(), calendar, events),
            );
        }
        out
    }

    /// Each guard-rail invariant checked like a cell: its `when` a yes/no
    /// expression over the account and the proposed `action`, its actions
    /// `guarded_action` variants. Proving it is lint's
    /// (`lang::analysis::invariants`).
    pub(super) fn invariants(&mut self, docs: &RuleDocs) {
        let schema = self.schema();
        let action = Type::Record(schema.guard_action_record);
        let guarded = schema.enum_by_name("guarded_action");
        let mut diags = Vec::new();
        for (file, pack, doc) in &docs.invariants {
            let never = &doc.value.never.value;
            let locals = [("action".to_string(), action.clone())];
            let (_, problems) =
                standalone_expression(schema, file, &never.when, &locals, &Type::Bool);
            diags.extend(problems);
            for a in &never.action {
                if guarded.and_then(|e| schema.variant(e, &a.value)).is_none() {
                    let variants = guarded
                        .map(|e| schema.enum_def(e).variants.clone())
                        .unwrap_or_default();
                    diags.push(
                        Diagnostic::error(
                            "invalid-invariant",
                            file,
                            a.span,
                            format!(
                                "`{}` is not a guarded action; an invariant of `{pack}` names it",
                                a.value
                            ),
                        )
                        .with_help_opt(did_you_mean(&a.value, variants.iter().map(String::as_str))),
                    );
                }
            }
        }
        self.diags.extend(diags);
    }

    /// A template event's `day` (0..3660) or `date` expression, exactly one.
    fn event_date(
        &mut self,
        file: &Arc<SourceFile>,
        e: &EventDoc,
        event_span: Span,
    ) -> Option<EventDate> {
        match (&e.day, &e.date) {
            (Some(day), None) => {
                if !(0..=3660).contains(&day.value) {
                    self.diags.push(Diagnostic::error(
                        "event-day",
                        file,
                        day.span,
                        format!("day `{}` is outside 0..3660", day.value),
                    ));
                    return None;
                }
                Some(EventDate::Day(day.value))
            }
            (None, Some(cell)) => {
                let (expr, diags) = standalone_expression(
                    self.schema(),
                    file,
                    cell,
                    &[(START_DATE.to_string(), Type::Date)],
                    &Type::Date,
                );
                // `date: 90` is a `day: 90` written under the wrong key.
                let days = cell.value.0.trim().parse::<i64>().ok();
                self.diags.extend(diags.into_iter().map(|d| match days {
                    Some(n) if d.help.is_none() => d.with_help(format!(
                        "`date:` is a date expression; {n} days after the treatment's start is `day: {n}` (or `date: start_date + {n} days`)"
                    )),
                    _ => d,
                }));
                Some(EventDate::Expr {
                    expr: Arc::new(expr?),
                    text: cell.value.0.clone(),
                })
            }
            (day, date) => {
                let both = day.is_some() && date.is_some();
                let span = day.as_ref().map_or(event_span, |d| d.span);
                self.diags.push(
                    Diagnostic::error(
                        "event-day",
                        file,
                        span,
                        if both {
                            format!("event `{}` has both a `day` and a `date`", e.id.value.0)
                        } else {
                            format!("event `{}` has neither a `day` nor a `date`", e.id.value.0)
                        },
                    )
                    .with_help(
                        "give `day: N` (days after the case start) or `date: EXPRESSION` (e.g. `start_date + 30 days`), not both",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn experiments(
        &mut self,
        docs: &RuleDocs,
        policy: &PolicyDoc,
        templates: &HashMap<String, Template>,
    ) -> Vec<ClassExperiment> {
        let mut out = Vec::new();
        for name in &policy.experiments {
            let Some((file, doc)) = docs
                .experiments
                .iter()
                .find(|(_, d)| d.experiment.value == name.value)
            else {
                let help = did_you_mean(
                    &name.value,
                    docs.experiments
                        .iter()
                        .map(|(_, d)| d.experiment.value.as_str()),
                );
                self.error(
                    "unknown-reference",
                    name.span,
                    format!("unknown experiment `{}`", name.value),
                )
                .help = help;
                continue;
            };
            let Some(experiment) = self.experiment(file, doc, templates) else {
                continue;
            };
            out.push(ClassExperiment {
                experiment,
                classes: doc.classes.iter().map(|c| c.value.clone()).collect(),
            });
        }
        let names = || {
            docs.experiments
                .iter()
                .map(|(_, d)| d.experiment.value.as_str())
        };
        for (file, doc) in &docs.experiments {
            // Not listed, unless a misspelling of it is (`unknown-reference`
            // says so already: the warning would only bury that error).
            let listed = policy.experiments.iter().any(|n| {
                n.value == doc.experiment.value
                    || (!names().any(|e| e == n.value)
                        && crate::diagnostic::nearest(&n.value, names())
                            == Some(doc.experiment.value.as_str()))
            });
            if !listed {
                self.diags.push(
                    Diagnostic::warning(
                        "unused",
                        file,
                        doc.experiment.span,
                        format!(
                            "experiment `{}` is not listed in the policy",
                            doc.experiment.value
                        ),
                    )
                    .with_help("add it to the policy's `experiments`, or delete it"),
                );
            }
        }
        out
    }
}

impl Builder<'_> {
    /// One experiment document → its arms and bucket owners; problems are
    /// diagnostics, and an experiment that cannot be laid out is left out.
    fn experiment(
        &mut self,
        file: &Arc<SourceFile>,
        doc: &ExperimentDoc,
        templates: &HashMap<String, Template>,
    ) -> Option<Experiment> {
        let mut arms = Vec::new();
        let mut claims = Vec::new();
        let mut ok = true;
        let explicit = doc
            .arms
            .iter()
            .any(|a| a.value.buckets.is_some() || a.value.take_from.is_some());
        for arm_doc in &doc.arms {
            let arm = &arm_doc.value;
            let share = match &arm.share {
                None => None,
                Some(cell) => {
                    let text = cell.value.0.trim().trim_end_matches('%').trim();
                    let share = crate::decimal::parse_decimal(text)
                        .and_then(experiment::percent_to_basis_points);
                    if share.is_none() {
                        ok = false;
                        self.diags.push(
                            Diagnostic::error("experiment", file, cell.span, format!("`{}` is not a share", cell.value.0))
                                .with_help("write a percentage from 0% to 100% with at most two decimals, e.g. `12.5%`"),
                        );
                    }
                    share
                }
            };
            let claim = match (&arm.buckets, &arm.take_from) {
                (Some(b), None) => match experiment::parse_ranges(&b.value.0) {
                    Ok(ranges) => Claim::Buckets(ranges),
                    Err(problem) => {
                        ok = false;
                        self.diags.push(
                            Diagnostic::error("experiment", file, b.span, problem).with_help(
                                "buckets are inclusive ranges of 0 to 9999: `0-7999, 9500-9999`",
                            ),
                        );
                        continue;
                    }
                },
                (None, Some(donor)) => match share {
                    Some(share) => Claim::TakeFrom(share, donor.value.clone()),
                    None => {
                        ok = false;
                        self.diags.push(
                            Diagnostic::error(
                                "experiment",
                                file,
                                donor.span,
                                format!(
                                    "arm `{}` takes from `{}` but gives no `share`",
                                    arm.name.value, donor.value
                                ),
                            )
                            .with_help("write how much it takes: `share: 10%`"),
                        );
                        continue;
                    }
                },
                (Some(_), Some(donor)) => {
                    ok = false;
                    self.diags.push(
                        Diagnostic::error("experiment", file, donor.span, format!("arm `{}` has both `buckets` and `take_from`", arm.name.value))
                            .with_help("`take_from` is for a new arm; once lint has shown its buckets, write them and drop `take_from`"),
                    );
                    continue;
                }
                (None, None) => match share {
                    Some(share) => Claim::Consecutive(share),
                    None => {
                        ok = false;
                        self.diags.push(
                            Diagnostic::error(
                                "experiment",
                                file,
                                arm.name.span,
                                format!(
                                    "arm `{}` has no `buckets`, `share` or `take_from`",
                                    arm.name.value
                                ),
                            )
                            .with_help("give it its buckets: `buckets: 0-7999`"),
                        );
                        continue;
                    }
                },
            };
            if let Some(t) = &arm.template {
                if !templates.contains_key(&t.value) {
                    self.diags.push(
                        Diagnostic::error(
                            "unknown-reference",
                            file,
                            t.span,
                            format!("unknown template `{}`", t.value),
                        )
                        .with_help_opt(did_you_mean(
                            &t.value,
                            templates.keys().map(|k| k.as_str()),
                        )),
                    );
                }
            }
            // A finding about the share points at it, not at the arm's `-`.
            let at = arm.share.as_ref().map_or(arm_doc.span, |s| s.span);
            claims.push((claim, share, at));
            arms.push(Arm {
                rule_ref: format!("experiment:{}/{}", doc.experiment.value, arm.name.value).into(),
                name: arm.name.value.clone(),
                share: share.unwrap_or(0),
                template: arm.template.as_ref().map(|t| t.value.clone()),
                holdout: arm.holdout,
            });
        }
        let name = &doc.experiment.value;
        // An arm that is wrong is reported; its experiment still exists, so
        // its uses are not reported again.
        if !ok || arms.len() != doc.arms.len() {
            return Some(Experiment::consecutive(name, &doc.salt.value, arms));
        }
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        let only: Vec<Claim> = claims.iter().map(|(c, _, _)| c.clone()).collect();
        let owner = match experiment::layout(&names, &only) {
            Ok(owner) => owner,
            Err(problems) => {
                for problem in problems {
                    // At the claim that is wrong; buckets no arm claims, at the experiment.
                    let span = problem.arm.map_or(doc.experiment.span, |i| {
                        let arm = &doc.arms[i];
                        match (&arm.value.buckets, &arm.value.take_from) {
                            (Some(buckets), _) => buckets.span,
                            (_, Some(donor)) => donor.span,
                            _ => arm.value.name.span,
                        }
                    });
                    self.diags.push(
                        Diagnostic::error("experiment", file, span, problem.message)
                            .with_help_opt(problem.help),
                    );
                }
                return Some(Experiment::consecutive(name, &doc.salt.value, arms));
            }
        };
        if explicit {
            for (i, arm) in arms.iter_mut().enumerate() {
                let owned = owner.iter().filter(|&&o| usize::from(o) == i).count() as u32;
                if let (Claim::Buckets(_), Some(share), span) = &claims[i] {
                    if *share != owned {
                        self.diags.push(
                            Diagnostic::error("experiment", file, *span, format!(
                                "arm `{}` says {} but owns {owned} buckets ({})",
                                arm.name,
                                experiment::format_percent(u64::from(*share)),
                                experiment::format_percent(u64::from(owned))
                            ))
                            .with_help("a share with `buckets` must equal their count (100 buckets are 1%); or drop the share"),
                        );
                    }
                }
                arm.share = owned;
            }
        } else if !doc.arms.is_empty() && total_share(&arms) == u64::from(experiment::FULL_SHARE) {
            // (Shares that do not total 100% are the error below; their
            // layout is no assignment to keep.)
            let ranges: Vec<String> = arms
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    format!(
                        "`{}`: `buckets: {}`",
                        a.name,
                        experiment::show_ranges(&experiment::ranges_of(&owner, i as u16))
                    )
                })
                .collect();
            self.diags.push(
                Diagnostic::warning(
                    "experiment-layout",
                    file,
                    doc.experiment.span,
                    format!("experiment `{}` lays its arms out by shares alone, so adding or resizing an arm moves accounts between the other arms", doc.experiment.value),
                )
                .with_help(format!("write each arm's buckets (the same assignment as today): {}", ranges.join(", "))),
            );
        }
        let experiment = Experiment {
            name: doc.experiment.value.clone(),
            salt: doc.salt.value.clone(),
            arms,
            owner,
        };
        let total = total_share(&experiment.arms);
        for problem in experiment.validate() {
            let off = problem.starts_with("arm shares total");
            let full = u64::from(experiment::FULL_SHARE);
            // Over 100%: at the share that passes it; under: at the experiment.
            let past = (off && total > full).then(|| {
                let mut sum = 0u64;
                claims
                    .iter()
                    .zip(&experiment.arms)
                    .find_map(|((_, _, at), arm)| {
                        sum += u64::from(arm.share);
                        (sum > full).then_some((*at, arm.name.as_str()))
                    })
            });
            let (span, help) = match past.flatten() {
                Some((at, arm)) => (at, Some(format!(
                    "shares are parts of all accounts and total 100%: lower `{arm}`'s share or another's by {} points",
                    experiment::format_percent(total - full).trim_end_matches('%')
                ))),
                None if off => (doc.experiment.span, Some(format!(
                    "shares are parts of all accounts and total 100%: {} of accounts belong to no arm; raise a share or add an arm",
                    experiment::format_percent(full - total)
                ))),
                None => (doc.experiment.span, None),
            };
            let message = match off {
                true => format!(
                    "{problem} ({})",
                    experiment
                        .arms
                        .iter()
                        .map(|a| format!(
                            "`{}` {}",
                            a.name,
                            experiment::format_percent(u64::from(a.share))
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                false => problem,
            };
            self.diags
                .push(Diagnostic::error("experiment", file, span, message).with_help_opt(help));
        }
        Some(experiment)
    }
}

/// What an experiment's arms' shares add up to (`FULL_SHARE` is 100%).
fn total_share(arms: &[Arm]) -> u64 {
    arms.iter().map(|a| u64::from(a.share)).sum()
}

/// The help for an unknown event type: the type it is a synonym of
/// (`send_email` → `email`, `phone_call` → `call`), else the nearest spelling,
/// else the list.
fn event_type_help(kind: &str, event_types: &[&str]) -> String {
    const SYNONYMS: [(&str, &str); 9] = [
        ("letter", "send_letter"),
        ("mail", "send_letter"),
        ("e_mail", "email"),
        ("text", "sms"),
        ("text_message", "sms"),
        ("phone", "call"),
        ("phone_call", "call"),
        ("todo", "create_todo"),
        ("severance", "start_severance"),
    ];
    let lower = kind.to_ascii_lowercase();
    let bare = ["send_", "make_", "place_", "schedule_", "create_", "start_"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .unwrap_or(&lower);
    let synonym = [lower.as_str(), bare]
        .into_iter()
        .find_map(|w| {
            event_types
                .iter()
                .copied()
                .find(|t| *t == w)
                .or_else(|| SYNONYMS.iter().find(|(s, _)| *s == w).map(|(_, t)| *t))
        })
        .filter(|t| *t != kind);
    match synonym {
        Some(t) => format!("did you mean `{t}`?"),
        None => did_you_mean(kind, event_types.iter().copied())
            .unwrap_or_else(|| format!("event types: {}", event_types.join(", "))),
    }
}

/// A template event id without the reserved `prefix`, for the help: `first`
/// for `callback-first`, `event` when nothing is left.
fn suggested_event_id(id: &str, prefix: &str) -> String {
    match id.strip_prefix(prefix).unwrap_or(id) {
        "" => "event".to_string(),
        rest => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate};

    use super::{Event, EventDate, Template, WorkCalendar};

    /// The dates kept for the first day a treatment starts are the dates
    /// `event_date` gives, that day and (not kept) any other.
    #[test]
    fn dates_from_today_are_event_dates() {
        let mut calendar = WorkCalendar::weekdays("t");
        let first = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
        calendar.holidays.insert(first + Days::new(4));
        calendar.holidays.insert(first + Days::new(31));
        let days = [0, 1, 3, 4, 7, 10, 30, 45, 3660];
        let events = days
            .iter()
            .map(|&d| Event {
                id: format!("e{d}").into(),
                kind: "send_letter".into(),
                date: EventDate::Day(d),
                time: None,
                params: Default::default(),
                rule_ref: format!("template:t/e{d}").into(),
            })
            .collect();
        let template = Template::new("t".into(), calendar, events);
        for start in 0..12 {
            let today = first + Days::new(start);
            for day in days.iter().copied().chain([2, 5, -1]) {
                assert_eq!(
                    template.event_date_from_today(day, today),
                    template.event_date(day, today),
                    "day {day} from {today}"
                );
            }
        }
        let last = NaiveDate::MAX - Days::new(2);
        assert_eq!(template.event_date_from_today(3660, last), None);
    }
}
