//! The state of an account's collections case between runs, and how a run's
//! actions change it. The snapshot carries this state (`account.case`: category,
//! class, arms, template, start date, the template's events with their status,
//! service agreements that left the case); [`apply`] turns a
//! state and one run's actions into the next state, and [`execute_due`] is what
//! a case system does on a day: it carries out the events that fell due. One
//! function each, used by `simulate` and by any case store. Nothing here
//! decides: the policy decides, this only records what it decided.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::action::{Action, ActionKind};
use super::promise::{Instalment, Status};
use crate::decimal::read_decimal;
use rust_decimal::Decimal;

/// The fields of the `case` record that are the case's state: [`Case`]'s,
/// which the policy keeps (a schema declaring them is not declaring fields no
/// rule reads).
pub const STATE_FIELDS: [&str; 7] = [
    "category",
    "class",
    "template",
    "start_date",
    "arms",
    "events",
    "removed_sas",
];

/// The account field that holds the account's contacts, oldest first: a list
/// of [`Contact`]s, kept across cases (a case closing does not end it), since
/// the rails that count contacts count them per debt (Reg F's 7 days after a
/// conversation, 12 CFR 1006.14(b)), not per case.
pub const CONTACTS_FIELD: &str = "contacts";

/// An open case as the snapshot's `case` record holds it (field names are the
/// schema's). Lists the schema does not declare are ignored when the account is
/// decoded, so a schema may carry only part of this state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub category: String,
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    pub start_date: NaiveDate,
    /// Experiment arms the case was assigned, one per experiment.
    #[serde(default)]
    pub arms: Vec<Arm>,
    /// Every event scheduled for the case, with its status; cancelled and done
    /// events stay, so the case's history is in its state.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Service agreements that left the case (`remove_sa`); the account still
    /// lists them, the case no longer treats them.
    #[serde(default)]
    pub removed_sas: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arm {
    pub experiment: String,
    pub arm: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub date: NaiveDate,
    /// Local time of day (`HH:MM`, the consumer's time zone), for an event set at a time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub status: EventStatus,
}

impl Event {
    /// A record of something the case did on `date` (a follow-up, a plan
    /// offer, a promise's outcome), kept so that later runs do not do it again.
    fn done_on(id: String, date: NaiveDate) -> Event {
        Event {
            id,
            event_type: "custom".into(),
            date,
            time: None,
            status: EventStatus::Done,
        }
    }
}

/// The built-in enum `event_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Pending,
    Done,
    Cancelled,
}

impl EventStatus {
    /// The variant's name in the built-in enum `event_status`.
    pub fn name(self) -> &'static str {
        match self {
            EventStatus::Pending => "pending",
            EventStatus::Done => "done",
            EventStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub date: NaiveDate,
    /// Local time of day (`HH:MM`, the consumer's time zone), when known: the
    /// language has no time type, and zero-padded 24-hour text orders as time does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    pub channel: Channel,
    pub outcome: ContactOutcome,
}

/// The built-in enum `contact_channel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Letter,
    Call,
    Email,
    Sms,
}

/// The built-in enum `contact_outcome`: `sent` and `attempted` are what a case
/// system knows when it carries out an event (a letter or message went out, a
/// call was placed); the others are what an agent or a vendor reports back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactOutcome {
    Sent,
    Attempted,
    Reached,
    NoAnswer,
    Voicemail,
    WrongParty,
    Returned,
    Failed,
}

impl ContactOutcome {
    /// The variant's name in the built-in enum `contact_outcome`.
    pub fn name(self) -> &'static str {
        match self {
            ContactOutcome::Sent => "sent",
            ContactOutcome::Attempted => "attempted",
            ContactOutcome::Reached => "reached",
            ContactOutcome::NoAnswer => "no_answer",
            ContactOutcome::Voicemail => "voicemail",
            ContactOutcome::WrongParty => "wrong_party",
            ContactOutcome::Returned => "returned",
            ContactOutcome::Failed => "failed",
        }
    }
}

pub use crate::data::schema::time_of_day;

impl Channel {
    /// The variant's name in the built-in enum `contact_channel`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Letter => "letter",
            Channel::Call => "call",
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// What the case system records of a contact it carries out: `attempted`
    /// for a call (an agent reports its result later), `sent` for the others.
    pub fn outcome_when_carried_out(self) -> ContactOutcome {
        match self {
            Channel::Call => ContactOutcome::Attempted,
            _ => ContactOutcome::Sent,
        }
    }

    /// The event type that contacts by the channel named `channel` (`letter` → `send_letter`).
    pub fn event_type_of(channel: &str) -> &str {
        match channel {
            "letter" => "send_letter",
            other => other,
        }
    }

    /// The channel of a contact event type (`send_letter`, `call`, `email`,
    /// `sms`); `None` for every other event type.
    pub fn of_event(event_type: &str) -> Option<Channel> {
        match event_type {
            "send_letter" => Some(Channel::Letter),
            "call" => Some(Channel::Call),
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

impl Case {
    /// Schedules event `id` pending on `date`; one still pending with that id
    /// is replaced (moved): one pending event per id.
    fn keep_pending(&mut self, id: &str, event_type: &str, date: NaiveDate, time: Option<&str>) {
        self.events
            .retain(|e| !(e.status == EventStatus::Pending && e.id == id));
        self.events.push(Event {
            id: id.to_string(),
            event_type: event_type.to_string(),
            date,
            time: time.map(str::to_string),
            status: EventStatus::Pending,
        });
    }

    pub fn new(category: String, start_date: NaiveDate) -> Case {
        Case {
            category,
            class: None,
            template: None,
            start_date,
            arms: Vec::new(),
            events: Vec::new(),
            removed_sas: Vec::new(),
        }
    }

    /// The events still to happen.
    pub fn pending(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| e.status == EventStatus::Pending)
    }

    /// CC&B's collection process is active while an event is pending; once all
    /// are done or cancelled the treatment has run its course (the case stays
    /// open until an exit rule closes it).
    pub fn treatment_active(&self) -> bool {
        self.pending().next().is_some()
    }

    /// Cancels every pending event but a to-do (`todo:`, a person's work on
    /// the case whatever its treatment, made the day it is asked for): a run
    /// that re-treats or closes proposes no other event before its cancel
    /// (`policy::run`'s `drop_proposed_events`).
    fn cancel_pending(&mut self) {
        for e in &mut self.events {
            if e.status == EventStatus::Pending && !e.id.starts_with(TODO_PREFIX) {
                e.status = EventStatus::Cancelled;
            }
        }
    }
}

/// The state after one run: `case` (the state the run read) changed by every
/// action the run gave, in order. `as_of` is the run's date: a case opened by
/// the run starts on it. A promise's first kept or broken outcome is recorded
/// as a done event ([`promise_outcome_event_id`]). Actions that change nothing
/// the case holds (flags, severance decisions) leave it as it is.
pub fn apply(case: Option<Case>, actions: &[Action], as_of: NaiveDate) -> Option<Case> {
    let mut case = case;
    for action in actions {
        case = apply_one(case, action, as_of);
    }
    case
}

pub const TODO_PREFIX: &str = "todo:";

/// The case event a to-do from `rules` (the exit rows that asked for it) is
/// kept as: the same rows ask for the same to-do, so it is created once.
pub fn todo_event_id(rules: &[impl AsRef<str>]) -> String {
    let mut id = String::from(TODO_PREFIX);
    for (i, rule) in rules.iter().enumerate() {
        if i > 0 {
            id.push(',');
        }
        id.push_str(rule.as_ref());
    }
    id
}

/// The case event a promise's follow-up is kept as: the letter or call it
/// schedules has this id, and a follow-up without an event of its own (a
/// re-treatment) is recorded under it, so it happens once. The follow-up of a
/// decided promise is `promise-P1-send_letter`; the one made while it is
/// pending (the callback on its deadline) is `promise-P1-pending-call`, an
/// event of its own, so that the follow-up of its outcome (a repeat broken
/// promise's call) is not taken for it, and it is cancelled when the promise
/// is decided first.
pub fn follow_up_event_id(promise: &str, status: Status, follow_up: &str) -> String {
    match status {
        Status::Pending => [FOLLOW_UP_PREFIX, promise, PENDING_INFIX, follow_up].concat(),
        Status::Kept | Status::Broken => [FOLLOW_UP_PREFIX, promise, "-", follow_up].concat(),
    }
}

/// Between a promise and its follow-up in the id of a pending promise's follow-up.
const PENDING_INFIX: &str = "-pending-";

pub const FOLLOW_UP_PREFIX: &str = "promise-";

/// The case event a decided promise's outcome is recorded as: done, dated the
/// day it was decided, its id the outcome and what decided it
/// (`promise-P1-broken;deadline=2026-11-23;required=209.00;paid=0.00`, a
/// plan's with `;instalment=<id>` last). A promise is kept or broken once,
/// under the terms in force that day: a later change of its terms (tolerance,
/// grace) does not judge it again, nor move its report or follow-up. The id
/// carries the figures so that every case store that keeps the events' ids
/// keeps them, with no field of its own.
pub fn promise_outcome_event_id(
    promise: &str,
    status: Status,
    figures: &OutcomeFigures,
) -> Option<String> {
    let outcome = match status {
        Status::Pending => return None,
        Status::Kept => "kept",
        Status::Broken => "broken",
    };
    // Amounts as the action shows them (`0.00`, not `0`), so the id reads as its fields.
    let mut id = format!(
        "{FOLLOW_UP_PREFIX}{promise}-{outcome};deadline={};required={};paid={}",
        figures.deadline,
        crate::types::money_text(figures.required).as_str(),
        crate::types::money_text(figures.paid).as_str()
    );
    if let Some(instalment) = figures.instalment {
        id.push_str(";instalment=");
        id.push_str(instalment);
    }
    Some(id)
}

/// What an action about a promise's outcome names instead of a rule row
/// when the case recorded the outcome (`promise_outcome_event_id`): the
/// row in force today did not decide it.
pub const RECORDED_OUTCOME_RULE: &str = "case:recorded";

/// What decided a promise's outcome, as recorded with it: the deciding
/// instalment's figures under the terms of the day it was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutcomeFigures<'a> {
    pub deadline: NaiveDate,
    pub required: Decimal,
    pub paid: Decimal,
    /// The instalment that decided a plan (none for a single promise).
    pub instalment: Option<&'a str>,
}

/// A promise's outcome as a case event records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedOutcome<'a> {
    pub status: Status,
    /// `None` for an event recorded before the figures were (the bare
    /// `promise-P1-kept`): the report and the follow-up then take today's
    /// terms' figures, as they did then.
    pub figures: Option<OutcomeFigures<'a>>,
}

/// The outcome of the promise `promise` that the case event `id` records
/// ([`promise_outcome_event_id`], or the bare id of older cases), if it is
/// one; `Err` says why its figures do not read (an id a case store cut
/// short, or wrote otherwise): they are not guessed at, nor replaced unseen
/// by today's terms' figures.
pub fn recorded_outcome<'a>(
    id: &'a str,
    promise: &str,
) -> Option<Result<RecordedOutcome<'a>, String>> {
    let rest = id.strip_prefix(FOLLOW_UP_PREFIX)?.strip_prefix(promise)?;
    let (status, figures) = if let Some(figures) = rest.strip_prefix("-kept") {
        (Status::Kept, figures)
    } else {
        (Status::Broken, rest.strip_prefix("-broken")?)
    };
    if figures.is_empty() {
        return Some(Ok(RecordedOutcome {
            status,
            figures: None,
        }));
    }
    if !figures.starts_with(';') {
        return None;
    }
    Some(outcome_figures(figures).map(|figures| RecordedOutcome {
        status,
        figures: Some(figures),
    }))
}

/// `;deadline=…;required=…;paid=…[;instalment=…]`, in that order (the order
/// [`promise_outcome_event_id`] writes); the instalment id is the rest, whatever it holds.
fn outcome_figures(text: &str) -> Result<OutcomeFigures<'_>, String> {
    let missing = |key: &str| {
        format!(
            "its figures do not read: `;{key}=` is missing (an id cut short by the case store?)"
        )
    };
    let rest = text
        .strip_prefix(";deadline=")
        .ok_or_else(|| missing("deadline"))?;
    let (deadline, rest) = rest
        .split_once(";required=")
        .ok_or_else(|| missing("required"))?;
    let (required, rest) = rest.split_once(";paid=").ok_or_else(|| missing("paid"))?;
    let (paid, instalment) = match rest.split_once(";instalment=") {
        Some((paid, instalment)) => (paid, Some(instalment)),
        None => (rest, None),
    };
    let unread = |key: &str, value: &str, what: &str| {
        format!(
            "its figures do not read: `{key}={}` is not {what}",
            crate::diagnostic::echoed(value)
        )
    };
    // Only as the engine writes it (`money_text`: two decimals at least, no
    // trailing zero past them), so that a `paid=12` cut from `paid=120.00` (the
    // last figure of a single promise's id, with nothing after it) is refused,
    // not read as 12.
    let amount = |key: &str, value: &str| {
        let amount = read_decimal(value).map_err(|_| unread(key, value, "an amount (`209.00`)"))?;
        match crate::types::money_text(amount).as_str() == value {
            true => Ok(amount),
            false => Err(format!(
                "its figures do not read: `{key}={}` is not an amount as the engine writes it \
                 (`{}`: an id cut short by the case store?)",
                crate::diagnostic::echoed(value),
                crate::types::money_text(amount).as_str()
            )),
        }
    };
    if instalment == Some("") {
        return Err("its figures do not read: `;instalment=` names no instalment".into());
    }
    Ok(OutcomeFigures {
        deadline: deadline
            .parse()
            .map_err(|_| unread("deadline", deadline, "a date (YYYY-MM-DD)"))?,
        required: amount("required", required)?,
        paid: amount("paid", paid)?,
        instalment,
    })
}

impl RecordedOutcome<'_> {
    /// What makes this outcome, recorded as decided on `recorded_on`,
    /// impossible for the promise whose instalments are `plan` (a payment
    /// plan's; `None` for a single promise): no run decides so, so the case
    /// store's record is not the one the run gave, and it is not trusted.
    pub fn fault(&self, recorded_on: NaiveDate, plan: Option<&[Instalment]>) -> Option<String> {
        let f = self.figures.as_ref()?;
        let (paid, required) = (f.paid, f.required);
        if required.is_sign_negative() && !required.is_zero() {
            return Some(format!(
                "`required` is negative ({required}): no promise requires less than nothing"
            ));
        }
        match self.status {
            Status::Kept if paid < required => {
                return Some(format!(
                    "it is kept, but `paid` ({paid}) is less than `required` ({required})"
                ))
            }
            Status::Broken if paid >= required => {
                return Some(format!(
                    "it is broken, but `paid` ({paid}) reaches `required` ({required})"
                ))
            }
            Status::Broken if f.deadline >= recorded_on => {
                return Some(format!(
                    "it is recorded broken on {recorded_on}, but its deadline is {}: a promise \
                     breaks only once its deadline has passed",
                    f.deadline
                ))
            }
            _ => {}
        }
        match (plan, f.instalment) {
            (None, Some(instalment)) => Some(format!(
                "it names instalment `{}`, but the promise is not a payment plan",
                crate::diagnostic::echoed(instalment)
            )),
            (Some(_), None) => Some(
                "the promise is a payment plan, but the outcome names no instalment \
                 (`;instalment=`: the one that decided it)"
                    .into(),
            ),
            (Some(plan), Some(instalment)) if !plan.iter().any(|i| i.id == instalment) => {
                let ids: Vec<String> = plan
                    .iter()
                    .map(|i| format!("`{}`", crate::diagnostic::echoed(&i.id)))
                    .collect();
                Some(format!(
                    "the plan has no instalment `{}` (its instalments: {})",
                    crate::diagnostic::echoed(instalment),
                    ids.join(", ")
                ))
            }
            _ => None,
        }
    }
}

/// The prefix of the case event a customer's callback is kept as
/// (`callback-2026-11-20`, `policy::run::callback`).
pub const CALLBACK_PREFIX: &str = "callback-";

/// The prefixes of the event ids the pipeline makes itself, and whose they
/// are. A template event may not take one: a template's `callback-first`
/// would pass for a callback the customer asked for (Reg F's consent
/// exception reads the prefix), a `promise-…` for a promise's follow-up.
pub const RESERVED_EVENT_PREFIXES: [(&str, &str); 2] = [
    (CALLBACK_PREFIX, "the callbacks customers ask for"),
    (FOLLOW_UP_PREFIX, "promises' follow-ups"),
];

/// `id` is one of [`follow_up_event_id`]'s for the promise `promise`
/// (whatever its follow-up), tested without making the prefix.
pub fn is_follow_up_of(id: &str, promise: &str) -> bool {
    id.strip_prefix(FOLLOW_UP_PREFIX)
        .and_then(|rest| rest.strip_prefix(promise))
        .is_some_and(|rest| rest.starts_with('-'))
}

/// The case event the latest payment-plan offer is kept as (done, dated the
/// day it was made), so the offer table can tell how long ago an offer was made.
pub const PLAN_OFFER_EVENT_ID: &str = "payment-plan-offer";

fn apply_one(case: Option<Case>, action: &Action, as_of: NaiveDate) -> Option<Case> {
    let kind = &action.kind;
    let mut case = match (case, kind) {
        (_, ActionKind::OpenCase { category, .. }) => {
            return Some(Case::new(category.to_string(), as_of))
        }
        (None, _) => return None,
        (Some(case), _) => case,
    };
    match kind {
        ActionKind::CloseCase { .. } => return None,
        // A new treatment from today: the class, arm and template follow.
        ActionKind::RetreatCase { category, .. } => {
            case.category = category.to_string();
            case.start_date = as_of;
            case.class = None;
            case.template = None;
            case.arms.clear();
        }
        ActionKind::CancelPendingEvents => case.cancel_pending(),
        ActionKind::CancelEvent { event, .. } => {
            for e in &mut case.events {
                if e.status == EventStatus::Pending && e.id == *event {
                    e.status = EventStatus::Cancelled;
                }
            }
        }
        ActionKind::RemoveSa { sa, .. } => {
            if !case.removed_sas.contains(sa) {
                case.removed_sas.push(sa.clone());
            }
        }
        ActionKind::AssignClass { class, template } => {
            case.class = class.as_deref().map(str::to_string);
            case.template = Some(template.to_string());
        }
        ActionKind::AssignArm {
            experiment,
            arm,
            template,
            ..
        } => {
            case.arms.retain(|a| a.experiment != *experiment);
            case.arms.push(Arm {
                experiment: experiment.to_string(),
                arm: arm.to_string(),
            });
            if let Some(t) = template {
                case.template = Some(t.to_string());
            }
        }
        ActionKind::ScheduleEvent {
            event,
            event_type,
            date,
            timing,
            ..
        } => {
            let time = timing.as_ref().and_then(|t| t.time.as_deref());
            case.keep_pending(event, event_type, *date, time);
        }
        // A withheld event stays pending (a rail that must end it cancels it):
        // one this run proposed (`date`) is kept as if scheduled, one still
        // pending from an earlier run stays; either is asked about again on
        // the next run and goes out on the first day the rails allow. Due
        // today, it waits for tomorrow (or the day the rail names), so the
        // case system does not carry it out on a day the rail forbids.
        ActionKind::Withhold {
            action: event_type,
            event: Some(event),
            date,
            time,
            until,
            is_final: false,
            ..
        } => {
            if let Some(date) = date {
                case.keep_pending(event, event_type, *date, time.as_deref());
            }
            let next = as_of.succ_opt().unwrap_or(as_of);
            let next = until.filter(|u| *u > next).unwrap_or(next);
            for e in &mut case.events {
                if e.status == EventStatus::Pending && e.id == **event && e.date < next {
                    e.date = next;
                }
            }
        }
        // A to-do is work for a person from today: an event of the case, done
        // when the case system hands it over; once, so a night applied again
        // makes no second one.
        ActionKind::CreateTodo { .. } => {
            let id = todo_event_id(&action.rules);
            if !case.events.iter().any(|e| e.id == id) {
                case.events.push(Event {
                    id,
                    event_type: "create_todo".into(),
                    date: as_of,
                    time: None,
                    status: EventStatus::Pending,
                });
            }
        }
        // A follow-up is made once: one that scheduled its letter or call is
        // that event; any other is recorded as done today.
        ActionKind::FollowUp { event, .. } => {
            if !case.events.iter().any(|e| e.id == *event) {
                case.events.push(Event::done_on(event.clone(), as_of));
            }
        }
        ActionKind::HoldContact { cancelled, .. } => {
            for e in &mut case.events {
                if e.status == EventStatus::Pending && cancelled.contains(&e.id) {
                    e.status = EventStatus::Cancelled;
                }
            }
        }
        ActionKind::OfferPaymentPlan { .. } => {
            case.events.retain(|e| e.id != PLAN_OFFER_EVENT_ID);
            case.events
                .push(Event::done_on(PLAN_OFFER_EVENT_ID.into(), as_of));
        }
        ActionKind::ResumeTreatment { template } => {
            if let Some(t) = template {
                case.template = Some(t.clone());
            }
        }
        // The first outcome decided is the promise's: recorded once, as the run gave it
        // (`record`: the figures that decided it), never judged again.
        ActionKind::PromiseOutcome {
            promise,
            record: Some(id),
            ..
        } => {
            if !case
                .events
                .iter()
                .any(|e| recorded_outcome(&e.id, promise).is_some())
            {
                case.events.push(Event::done_on(id.clone(), as_of));
            }
        }
        // Opening is the first match above; these change nothing the case holds.
        ActionKind::OpenCase { .. }
        | ActionKind::PromiseOutcome { record: None, .. }
        | ActionKind::NominateSeverance { .. }
        | ActionKind::ExcludeSeverance { .. }
        | ActionKind::Withhold { .. }
        | ActionKind::Postpone { .. }
        | ActionKind::Rechannel { .. }
        | ActionKind::Flag { .. } => {}
    }
    Some(case)
}

/// What a contact the case system reports (recorded among the account's
/// contacts by the caller) carries out: the earliest pending event of its
/// channel already due (the agent made the call from the queue), now done, so
/// it is neither put to the guard rails again nor counted twice. The queue is
/// the day's: `queue` is the case as that day's run leaves it, run on the
/// account before the report ([`apply`] of its actions; `None` when it closes
/// the case), so an event the day's guard rails withhold, cancel, postpone or
/// rechannel is not in it, even on its due day, before any run judged it due:
/// the contact is only recorded, and the event waits for a run that allows
/// it. Returns the event carried out.
pub fn record_contact(case: &mut Case, contact: &Contact, queue: Option<&Case>) -> Option<Event> {
    let pending = |e: &Event| e.status == EventStatus::Pending;
    let queued = queue?
        .events
        .iter()
        .filter(|q| {
            pending(q)
                && q.date <= contact.date
                && Channel::of_event(&q.event_type) == Some(contact.channel)
                && case.events.iter().any(|e| pending(e) && e.id == q.id)
        })
        .min_by_key(|q| q.date)?;
    let event = case
        .events
        .iter_mut()
        .find(|e| pending(e) && e.id == queued.id)?;
    event.status = EventStatus::Done;
    Some(event.clone())
}

/// What a case system does on `day`: every pending event dated on or before it
/// is carried out (status `done`), in date order. Returns the events carried
/// out; a contact event among them is a contact attempt on `day`
/// ([`contact_made`]).
pub fn execute_due(case: &mut Case, day: NaiveDate) -> Vec<Event> {
    let mut due: Vec<usize> = (0..case.events.len())
        .filter(|&i| case.events[i].status == EventStatus::Pending && case.events[i].date <= day)
        .collect();
    due.sort_by_key(|&i| case.events[i].date);
    let mut done = Vec::with_capacity(due.len());
    for i in due {
        let event = &mut case.events[i];
        event.status = EventStatus::Done;
        done.push(event.clone());
    }
    done
}

/// The contact attempt the case system records of `event` carried out on
/// `day` (`sent`, or `attempted` for a call, whose result an agent reports
/// later), dated the day it happened whatever day it was booked for (an
/// overdue event goes out today); `None` for an event that contacts no one.
pub fn contact_made(event: &Event, day: NaiveDate) -> Option<Contact> {
    let channel = Channel::of_event(&event.event_type)?;
    Some(Contact {
        date: day,
        time: event.time.clone(),
        channel,
        outcome: channel.outcome_when_carried_out(),
    })
}

#[cfg(test)]
mod tests {

    use super::*;

    /// The ids are the texts they were written as with `format!`, and a
    /// promise's follow-ups are told from another's whose key it starts.
    #[test]
    fn event_ids_and_follow_ups_of_a_promise() {
        assert_eq!(todo_event_id(&["exit:3", "exit:7"]), "todo:exit:3,exit:7");
        assert_eq!(todo_event_id(&["exit:default"]), "todo:exit:default");
        assert_eq!(
            follow_up_event_id("P-1", Status::Broken, "call"),
            "promise-P-1-call"
        );
        assert_eq!(
            follow_up_event_id("P-1", Status::Pending, "call"),
            "promise-P-1-pending-call"
        );
        for (id, promise, is) in [
            ("promise-P1-call", "P1", true),
            ("promise-P1-2-send_letter", "P1", true),
            ("promise-P1-pending-call", "P1", true),
            ("promise-P1-2-send_letter", "P1-2", true),
            ("promise-P12-call", "P1", false),
            ("promise-P1", "P1", false),
            ("callback-2026-11-22", "P1", false),
        ] {
            assert_eq!(is_follow_up_of(id, promise), is, "{id} of {promise}");
            let prefix = format!("promise-{promise}-");
            assert_eq!(id.starts_with(&prefix), is, "{id} of {promise}");
        }
    }

    /// An outcome's event id reads back as the outcome and the figures it
    /// was written with; the bare id of older cases as the outcome alone;
    /// another promise's (whose key this one's starts), or a follow-up, as none.
    #[test]
    fn a_promise_outcome_is_recorded_with_what_decided_it() {
        let dec = |s: &str| read_decimal(s).unwrap();
        let figures = OutcomeFigures {
            deadline: day(23),
            required: dec("209.00"),
            paid: dec("40.50"),
            instalment: None,
        };
        let id = promise_outcome_event_id("P-1", Status::Broken, &figures).unwrap();
        assert_eq!(
            id,
            "promise-P-1-broken;deadline=2026-11-23;required=209.00;paid=40.50"
        );
        let plan = OutcomeFigures {
            instalment: Some("P-1;2=b"),
            ..figures
        };
        let plan_id = promise_outcome_event_id("plan-1", Status::Kept, &plan).unwrap();
        assert_eq!(
            promise_outcome_event_id("P-1", Status::Pending, &figures),
            None
        );
        let recorded = |status, figures| Some(Ok(RecordedOutcome { status, figures }));
        let unread = |why: &str| Some(Err(format!("its figures do not read: {why}")));
        for (id, promise, expected) in [
            (id.as_str(), "P-1", recorded(Status::Broken, Some(figures))),
            (
                plan_id.as_str(),
                "plan-1",
                recorded(Status::Kept, Some(plan)),
            ),
            ("promise-P-1-kept", "P-1", recorded(Status::Kept, None)),
            ("promise-P-1-broken", "P-1", recorded(Status::Broken, None)),
            // Figures that do not read are said, not replaced by today's.
            (
                "promise-P-1-kept;deadline=2026-13-01;required=1;paid=1",
                "P-1",
                unread("`deadline=2026-13-01` is not a date (YYYY-MM-DD)"),
            ),
            (
                "promise-P-1-kept;required=1",
                "P-1",
                unread("`;deadline=` is missing (an id cut short by the case store?)"),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;requ",
                "P-1",
                unread("`;required=` is missing (an id cut short by the case store?)"),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=1,5",
                "P-1",
                unread("`paid=1,5` is not an amount (`209.00`)"),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=0;instalment=",
                "P-1",
                unread("`;instalment=` names no instalment"),
            ),
            // Cut inside the last figure: it would read as a smaller amount.
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=12",
                "P-1",
                unread(
                    "`paid=12` is not an amount as the engine writes it (`12.00`: an id cut \
                     short by the case store?)",
                ),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=120.0",
                "P-1",
                unread(
                    "`paid=120.0` is not an amount as the engine writes it (`120.00`: an id cut \
                     short by the case store?)",
                ),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=120.",
                "P-1",
                unread(
                    "`paid=120.` is not an amount as the engine writes it (`120.00`: an id cut \
                     short by the case store?)",
                ),
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209;paid=0.00",
                "P-1",
                unread(
                    "`required=209` is not an amount as the engine writes it (`209.00`: an id \
                     cut short by the case store?)",
                ),
            ),
            (
                "promise-P-1-kept;deadline=2026-11-09;required=0.005;paid=0.010",
                "P-1",
                unread(
                    "`paid=0.010` is not an amount as the engine writes it (`0.01`: an id cut \
                     short by the case store?)",
                ),
            ),
            ("promise-P-1-2-kept", "P-1", None),
            ("promise-P-1-keptx", "P-1", None),
            ("promise-P-1-send_letter", "P-1", None),
            ("promise-P-1-call", "P-1", None),
        ] {
            assert_eq!(recorded_outcome(id, promise), expected, "{id} of {promise}");
        }
    }

    /// Figures no run gives are a fault of the record, said with what is
    /// wrong; the figures a run gives are none.
    #[test]
    fn a_recorded_outcome_no_run_gives_is_a_fault() {
        let plan: Vec<Instalment> = ["plan-1-1", "plan-1-2"]
            .iter()
            .map(|id| Instalment {
                id: id.to_string(),
                amount: Decimal::ONE_HUNDRED,
                due: day(2),
            })
            .collect();
        let fault = |id: &str, promise: &str, on: u32, plan: Option<&[Instalment]>| {
            recorded_outcome(id, promise)
                .expect("an outcome")
                .expect("figures that read")
                .fault(day(on), plan)
        };
        let single = "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=0.00";
        assert_eq!(fault(single, "P-1", 10, None), None);
        assert_eq!(fault("promise-P-1-broken", "P-1", 1, None), None);
        let kept_early = "promise-P-1-kept;deadline=2026-11-09;required=209.00;paid=209.00";
        assert_eq!(fault(kept_early, "P-1", 5, None), None);
        let kept_plan = "promise-plan-1-kept;deadline=2026-11-09;required=193.00;paid=200.00;instalment=plan-1-2";
        assert_eq!(fault(kept_plan, "plan-1", 5, Some(&plan)), None);
        for (id, promise, on, plan, expected) in [
            (
                "promise-P-1-broken;deadline=2026-11-09;required=-5.00;paid=-9.00",
                "P-1",
                10,
                None,
                "`required` is negative (-5.00): no promise requires less than nothing",
            ),
            (
                single,
                "P-1",
                9,
                None,
                "it is recorded broken on 2026-11-09, but its deadline is 2026-11-09: a promise \
                 breaks only once its deadline has passed",
            ),
            (
                "promise-P-1-kept;deadline=2026-11-09;required=209.00;paid=20.00",
                "P-1",
                10,
                None,
                "it is kept, but `paid` (20.00) is less than `required` (209.00)",
            ),
            (
                "promise-P-1-broken;deadline=2026-11-09;required=209.00;paid=209.00",
                "P-1",
                10,
                None,
                "it is broken, but `paid` (209.00) reaches `required` (209.00)",
            ),
            (
                "promise-P-1-kept;deadline=2026-11-09;required=9.00;paid=9.00;instalment=P-1",
                "P-1",
                10,
                None,
                "it names instalment `P-1`, but the promise is not a payment plan",
            ),
            (
                "promise-plan-1-kept;deadline=2026-11-09;required=9.00;paid=9.00",
                "plan-1",
                10,
                Some(&plan[..]),
                "the promise is a payment plan, but the outcome names no instalment \
                 (`;instalment=`: the one that decided it)",
            ),
            (
                "promise-plan-1-kept;deadline=2026-11-09;required=9.00;paid=9.00;instalment=plan-1-",
                "plan-1",
                10,
                Some(&plan[..]),
                "the plan has no instalment `plan-1-` (its instalments: `plan-1-1`, `plan-1-2`)",
            ),
        ] {
            assert_eq!(
                fault(id, promise, on, plan).as_deref(),
                Some(expected),
                "{id}"
            );
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn act(kind: ActionKind<'static>) -> Action<'static> {
        Action {
            kind,
            rules: Default::default(),
        }
    }

    fn schedule(id: &str, event_type: &str, date: NaiveDate) -> Action<'static> {
        act(ActionKind::ScheduleEvent {
            event: id.to_string().into(),
            event_type: event_type.to_string().into(),
            date,
            params: Default::default(),
            timing: None,
        })
    }

    fn opening() -> Vec<Action<'static>> {
        vec![
            act(ActionKind::OpenCase {
                category: "arrears".into(),
                reason: None,
            }),
            act(ActionKind::AssignClass {
                class: Some("card_early".into()),
                template: "card_early_std".into(),
            }),
            act(ActionKind::AssignArm {
                experiment: "card_early_letters".into(),
                arm: "soft_letter".into(),
                template: Some("card_early_soft".into()),
                holdout: false,
            }),
            schedule("reminder", "send_letter", day(2)),
            schedule("first-call", "call", day(5)),
            schedule("review", "create_todo", day(9)),
        ]
    }

    #[test]
    fn opening_a_case_records_class_arm_template_and_pending_events() {
        let case = apply(None, &opening(), day(2)).expect("a case is open");
        assert_eq!(case.category, "arrears");
        assert_eq!(case.start_date, day(2));
        assert_eq!(case.class.as_deref(), Some("card_early"));
        assert_eq!(case.template.as_deref(), Some("card_early_soft"));
        assert_eq!(
            case.arms,
            vec![Arm {
                experiment: "card_early_letters".into(),
                arm: "soft_letter".into()
            }]
        );
        let pending: Vec<&str> = case.pending().map(|e| e.id.as_str()).collect();
        assert_eq!(pending, ["reminder", "first-call", "review"]);
        assert!(case.treatment_active());
    }

    #[test]
    fn events_fall_due_in_date_order_and_contacts_are_recorded_on_the_day_made() {
        let mut case = apply(None, &opening(), day(2)).unwrap();
        assert_eq!(execute_due(&mut case, day(1)), []);
        let ids = |events: Vec<Event>| events.into_iter().map(|e| e.id).collect::<Vec<_>>();
        let reminder = execute_due(&mut case, day(2));
        // The call booked for day 5 goes out on day 6 (a missed night): it is
        // recorded on day 6, the day it was made, for later 7-day counts.
        let call = execute_due(&mut case, day(6));
        let contacts: Vec<Contact> = [(&reminder, day(2)), (&call, day(6))]
            .iter()
            .flat_map(|(events, on)| events.iter().filter_map(|e| contact_made(e, *on)))
            .collect();
        assert_eq!(ids(reminder), ["reminder"]);
        assert_eq!(ids(call), ["first-call"]);
        assert_eq!(
            contacts,
            [
                Contact {
                    date: day(2),
                    time: None,
                    channel: Channel::Letter,
                    outcome: ContactOutcome::Sent
                },
                Contact {
                    date: day(6),
                    time: None,
                    channel: Channel::Call,
                    outcome: ContactOutcome::Attempted
                }
            ]
        );
        // Done events are not carried out twice.
        assert_eq!(execute_due(&mut case, day(6)), []);
        let rest = execute_due(&mut case, day(30));
        assert!(!case.treatment_active(), "every event is done");
        assert!(
            rest.iter().all(|e| contact_made(e, day(30)).is_none()),
            "a to-do or review is not a contact: {rest:?}"
        );
    }

    #[test]
    fn cancelling_keeps_done_events_and_closing_ends_the_case() {
        let mut case = apply(None, &opening(), day(2)).unwrap();
        execute_due(&mut case, day(3));
        let case = apply(Some(case), &[act(ActionKind::CancelPendingEvents)], day(3)).unwrap();
        let statuses: Vec<(&str, EventStatus)> = case
            .events
            .iter()
            .map(|e| (e.id.as_str(), e.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("reminder", EventStatus::Done),
                ("first-call", EventStatus::Cancelled),
                ("review", EventStatus::Cancelled)
            ]
        );
        let closed = apply(
            Some(case),
            &[act(ActionKind::CloseCase { reason: None })],
            day(3),
        );
        assert_eq!(closed, None);
    }

    /// `cancel_pending_events` cancels every event pending where it stands in
    /// the list, one this run scheduled before it too (the pipeline proposes
    /// none there), but a to-do.
    #[test]
    fn a_cancel_cancels_every_pending_event_but_a_to_do() {
        let case = apply(None, &opening(), day(2)).unwrap();
        let todo = Action {
            kind: ActionKind::CreateTodo {
                reason: "specialist review".into(),
            },
            rules: smallvec::smallvec!["exit:keep-special-circumstances".into()],
        };
        let run = [
            todo,
            schedule("promise-P1-send_letter", "send_letter", day(4)),
            act(ActionKind::CancelPendingEvents),
        ];
        let case = apply(Some(case), &run, day(3)).unwrap();
        let pending: Vec<&str> = case.pending().map(|e| e.id.as_str()).collect();
        assert_eq!(pending, ["todo:exit:keep-special-circumstances"]);
        assert_eq!(
            case.events
                .iter()
                .filter(|e| e.status == EventStatus::Cancelled)
                .count(),
            4
        );
    }

    #[test]
    fn rescheduling_a_pending_event_moves_it() {
        let case = apply(None, &opening(), day(2)).unwrap();
        let case = apply(
            Some(case),
            &[schedule("first-call", "call", day(20))],
            day(4),
        )
        .unwrap();
        let calls: Vec<(NaiveDate, EventStatus)> = case
            .events
            .iter()
            .filter(|e| e.id == "first-call")
            .map(|e| (e.date, e.status))
            .collect();
        assert_eq!(calls, [(day(20), EventStatus::Pending)]);
    }

    #[test]
    fn a_to_do_is_kept_as_an_event_of_the_rows_that_asked_for_it() {
        let case = apply(None, &opening(), day(2)).unwrap();
        let todo = Action {
            kind: ActionKind::CreateTodo {
                reason: "specialist review".into(),
            },
            rules: smallvec::smallvec!["exit:keep-special-circumstances".into()],
        };
        let mut case = apply(Some(case), std::slice::from_ref(&todo), day(3)).unwrap();
        let id = todo_event_id(&todo.rules);
        assert_eq!(id, "todo:exit:keep-special-circumstances");
        assert!(case
            .pending()
            .any(|e| e.id == id && e.event_type == "create_todo"));
        let done = execute_due(&mut case, day(3));
        assert!(case
            .events
            .iter()
            .any(|e| e.id == id && e.status == EventStatus::Done));
        // Only the day-2 letter: a to-do is not a contact attempt.
        let contacts: Vec<Channel> = done
            .iter()
            .filter_map(|e| contact_made(e, day(3)))
            .map(|c| c.channel)
            .collect();
        assert_eq!(contacts, [Channel::Letter]);
    }

    #[test]
    fn a_removed_service_agreement_is_recorded_once() {
        let remove = act(ActionKind::RemoveSa {
            sa: "SA-1".into(),
            reason: None,
        });
        let case = apply(None, &opening(), day(2)).unwrap();
        let case = apply(Some(case), &[remove.clone(), remove], day(3)).unwrap();
        assert_eq!(case.removed_sas, ["SA-1"]);
    }

    #[test]
    fn the_latest_plan_offer_is_kept_as_a_done_event() {
        let offer = act(ActionKind::OfferPaymentPlan {
            total: crate::policy::action::Money(rust_decimal::Decimal::new(10000, 2)),
            instalments: Vec::new(),
        });
        let case = apply(None, &opening(), day(2)).unwrap();
        let case = apply(Some(case), std::slice::from_ref(&offer), day(3)).unwrap();
        let case = apply(Some(case), &[offer], day(20)).unwrap();
        let offers: Vec<_> = case
            .events
            .iter()
            .filter(|e| e.id == PLAN_OFFER_EVENT_ID)
            .map(|e| (e.date, e.status))
            .collect();
        assert_eq!(offers, [(day(20), EventStatus::Done)]);
    }

    #[test]
    fn actions_without_a_case_change_nothing() {
        let actions = [
            schedule("x", "call", day(3)),
            act(ActionKind::Flag {
                table: "flags".into(),
                values: crate::policy::action::FlagValues::Computed(Vec::new()),
            }),
        ];
        assert_eq!(apply(None, &actions, day(3)), None);
    }

    #[test]
    fn the_state_fields_are_the_case_fields() {
        let case = apply(None, &opening(), day(2)).unwrap();
        let json = serde_json::to_value(&case).unwrap();
        let mut names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut listed = STATE_FIELDS.to_vec();
        names.sort_unstable();
        listed.sort_unstable();
        assert_eq!(names, listed);
    }

    /// The schema's built-in enums and the state's Rust enums spell the same variants.
    #[test]
    fn the_builtin_enums_are_the_state_enums() {
        fn names<T: Serialize>(variants: &[T]) -> Vec<String> {
            variants
                .iter()
                .map(|v| {
                    serde_json::to_value(v)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        }
        let builtin = |name: &str| -> Vec<String> {
            crate::data::schema::BUILTIN_ENUMS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, vs)| vs.iter().map(|v| v.to_string()).collect())
                .unwrap()
        };
        use {Channel as C, ContactOutcome as O, EventStatus as S};
        assert_eq!(
            builtin("event_status"),
            names(&[S::Pending, S::Done, S::Cancelled])
        );
        assert_eq!(
            builtin("contact_channel"),
            names(&[C::Letter, C::Call, C::Email, C::Sms])
        );
        assert_eq!(
            builtin("contact_outcome"),
            names(&[
                O::Sent,
                O::Attempted,
                O::Reached,
                O::NoAnswer,
                O::Voicemail,
                O::WrongParty,
                O::Returned,
                O::Failed
            ])
        );
    }

    #[test]
    fn the_state_round_trips_through_the_snapshot_json() {
        let mut case = apply(None, &opening(), day(2)).unwrap();
        execute_due(&mut case, day(5));
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["events"][0]["type"], "send_letter");
        assert_eq!(json["events"][0]["status"], "done");
        assert!(json.get("contacts").is_none(), "contacts are the account's");
        let back: Case = serde_json::from_value(json).unwrap();
        assert_eq!(back, case);
    }

    fn withhold(event: &str, until: Option<NaiveDate>) -> Action<'static> {
        act(ActionKind::Withhold {
            action: "call".into(),
            event: Some(event.to_string().into()),
            date: None,
            time: None,
            until,
            sas: Vec::new(),
            is_final: false,
            reason: Some("contact details invalid".into()),
        })
    }

    /// A guard rail's withhold of an event this run proposed for `date`.
    fn withhold_proposal(event: &str, date: NaiveDate, is_final: bool) -> Action<'static> {
        act(ActionKind::Withhold {
            action: "send_letter".into(),
            event: Some(event.to_string().into()),
            date: Some(date),
            time: Some("10:30".into()),
            until: None,
            sas: Vec::new(),
            is_final,
            reason: Some("contact details invalid".into()),
        })
    }

    #[test]
    fn a_withheld_proposal_is_kept_pending_unless_the_rail_cancels_it() {
        let opened = apply(None, &opening()[..1], day(2)).unwrap();
        // Due today: kept pending from tomorrow, with its type and time.
        let withheld = [withhold_proposal("letter", day(2), false)];
        let mut case = apply(Some(opened.clone()), &withheld, day(2)).unwrap();
        let letter = case.events.iter().find(|e| e.id == "letter").unwrap();
        assert_eq!(
            (letter.status, letter.date, letter.event_type.as_str()),
            (EventStatus::Pending, day(3), "send_letter")
        );
        assert_eq!(letter.time.as_deref(), Some("10:30"));
        assert!(execute_due(&mut case, day(2)).is_empty());
        // Not yet due: kept on its own day.
        let withheld = [withhold_proposal("letter", day(8), false)];
        let case = apply(Some(opened.clone()), &withheld, day(2)).unwrap();
        let letter = case.events.iter().find(|e| e.id == "letter").unwrap();
        assert_eq!((letter.status, letter.date), (EventStatus::Pending, day(8)));
        // Withheld for good: the case does not hold it.
        let withheld = [withhold_proposal("letter", day(2), true)];
        let case = apply(Some(opened), &withheld, day(2)).unwrap();
        assert!(case.events.iter().all(|e| e.id != "letter"));
    }

    #[test]
    fn a_withheld_pending_event_stays_pending_and_waits_for_a_day_the_rails_allow() {
        let case = apply(None, &opening(), day(2)).unwrap();
        // Due today and withheld: still pending, moved to tomorrow, not carried out today.
        let mut case = apply(Some(case), &[withhold("first-call", None)], day(5)).unwrap();
        let call = case.events.iter().find(|e| e.id == "first-call").unwrap();
        assert_eq!((call.status, call.date), (EventStatus::Pending, day(6)));
        let done: Vec<String> = execute_due(&mut case, day(5))
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(done, ["reminder"]);
        // Withheld until a named day: it waits for that day.
        let case = apply(Some(case), &[withhold("first-call", Some(day(9)))], day(6)).unwrap();
        let call = case.events.iter().find(|e| e.id == "first-call").unwrap();
        assert_eq!((call.status, call.date), (EventStatus::Pending, day(9)));
        // A later run the rails allow: the case system carries it out on its day.
        let mut case = apply(Some(case), &[], day(9)).unwrap();
        let done: Vec<String> = execute_due(&mut case, day(9))
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(done, ["first-call", "review"]);
        // Not yet due: its date stands.
        let case = apply(None, &opening(), day(2)).unwrap();
        let case = apply(Some(case), &[withhold("review", None)], day(3)).unwrap();
        let review = case.events.iter().find(|e| e.id == "review").unwrap();
        assert_eq!((review.status, review.date), (EventStatus::Pending, day(9)));
    }
}
