//! What an open case's state (`account.case`, see `policy::case`) tells the
//! pipeline: the events scheduled so far, and the service agreements that
//! left the case. The pipeline reads it so that a run does not repeat what an
//! earlier run did (a follow-up letter is sent once, an SA is removed once)
//! and a contact hold can cancel what is still pending. It is read in place
//! from the account each time it is asked (a case's events are few), so an
//! account copies none of them. It must not change the state: the run's
//! actions do, through `case::apply`.

use super::decisions::{field, list, text};
use crate::data::schema::Schema;
use crate::eval::{EvalError, EvalErrorKind};
use crate::policy::case::{
    is_follow_up_of, recorded_outcome, Channel, EventStatus, RecordedOutcome,
};
use crate::policy::promise::Instalment;
use crate::policy::slots::EventSlots;
use crate::policy::CaseSlots;
use crate::types::Value;

#[derive(Debug, Default)]
pub(super) struct CaseState<'a> {
    /// The case's events, with how to read them (none without events).
    events: Option<(&'a [Value], EventSlots, &'a Schema)>,
    removed_sas: &'a [Value],
}

/// One event of the case, borrowed from the account (its type from the schema).
#[derive(Debug)]
pub(super) struct StateEvent<'a> {
    /// Its place in the case's `events` (`account.case.events[index]`).
    pub(super) index: usize,
    pub(super) id: &'a str,
    pub(super) event_type: &'a str,
    /// `event_type`'s variant of the schema's `event_type` enum.
    pub(super) type_variant: usize,
    pub(super) date: chrono::NaiveDate,
    pub(super) time: Option<&'a str>,
    status: EventStatus,
}

/// What became of an event the case was given ([`CaseState::event_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Booked {
    Pending(chrono::NaiveDate),
    Done(chrono::NaiveDate),
    /// Booked and cancelled, never carried out nor booked again.
    Cancelled,
    /// Not among the events the case holds.
    Never,
    /// The case holds no event at all (a store that keeps no history).
    NoHistory,
}

impl<'a> CaseState<'a> {
    /// The state of the open case `case` (a record value), as far as the schema keeps it.
    pub(super) fn read(schema: &'a Schema, case: &'a Value, slots: &CaseSlots) -> CaseState<'a> {
        CaseState {
            events: slots
                .events
                .map(|ev| (list(field(case, ev.slot)), ev, schema)),
            removed_sas: slots
                .removed_sas
                .map_or(&[], |slot| list(field(case, slot))),
        }
    }

    /// The case's events that the state describes in full (an id, a type, a
    /// status and a date), in order.
    fn events(&self) -> impl Iterator<Item = StateEvent<'a>> + '_ {
        let (events, ev, schema) = match self.events {
            Some((events, ev, schema)) => (events, Some(ev), Some(schema)),
            None => (&[][..], None, None),
        };
        events.iter().enumerate().filter_map(move |(index, e)| {
            let (ev, schema) = (ev?, schema?);
            let variant = |v: &Value| match v {
                Value::Enum(i) => Some(*i as usize),
                _ => None,
            };
            let id = text(field(e, ev.id))?;
            let type_variant = variant(field(e, ev.event_type))?;
            let event_type = schema.enum_def(ev.type_enum).variants.get(type_variant)?;
            let status = match schema
                .enum_def(ev.status_enum)
                .variants
                .get(variant(field(e, ev.status))?)?
                .as_str()
            {
                "pending" => EventStatus::Pending,
                "done" => EventStatus::Done,
                _ => EventStatus::Cancelled,
            };
            let &Value::Date(date) = field(e, ev.date) else {
                return None;
            };
            Some(StateEvent {
                index,
                id,
                event_type,
                type_variant,
                date,
                time: ev.time.and_then(|t| text(field(e, t))),
                status,
            })
        })
    }

    /// An event with this id was scheduled for the case and not cancelled: it
    /// is pending or was carried out, so it is not scheduled again.
    pub(super) fn has_event(&self, id: &str) -> bool {
        self.events()
            .any(|e| e.id == id && e.status != EventStatus::Cancelled)
    }

    /// An event with this id was ever scheduled for the case, whatever became
    /// of it: a callback cancelled (superseded, a hold, a re-treatment) is
    /// not booked again.
    pub(super) fn ever_had_event(&self, id: &str) -> bool {
        self.events().any(|e| e.id == id)
    }

    /// The events earlier runs scheduled that are still pending.
    pub(super) fn pending(&self) -> impl Iterator<Item = StateEvent<'a>> + '_ {
        self.events().filter(|e| e.status == EventStatus::Pending)
    }

    /// Where the case has the event with this id: pending (on the day the
    /// rails last moved it to), carried out, only cancelled, or never booked.
    pub(super) fn event_state(&self, id: &str) -> Booked {
        let mut booked = match self.events().next() {
            Some(_) => Booked::Never,
            None => Booked::NoHistory,
        };
        for e in self.events().filter(|e| e.id == id) {
            booked = match e.status {
                EventStatus::Pending => return Booked::Pending(e.date),
                EventStatus::Done => Booked::Done(e.date),
                EventStatus::Cancelled
                    if booked == Booked::Never || booked == Booked::NoHistory =>
                {
                    Booked::Cancelled
                }
                EventStatus::Cancelled => booked,
            };
        }
        booked
    }

    /// The ids of the contact events (letter, call, email, SMS) still pending.
    pub(super) fn pending_contacts(&self) -> Vec<String> {
        self.pending()
            .filter(|e| Channel::of_event(e.event_type).is_some())
            .map(|e| e.id.to_string())
            .collect()
    }

    /// The ids of the follow-up events still pending for the promise `key`
    /// (a callback scheduled while it was pending).
    pub(super) fn pending_of_promise(&self, key: &str) -> Vec<String> {
        self.pending()
            .filter(|e| is_follow_up_of(e.id, key))
            .map(|e| e.id.to_string())
            .collect()
    }

    /// The outcome an earlier run decided for the promise `key`, as the case
    /// recorded it (`case::promise_outcome_event_id`), with the figures that
    /// decided it when recorded: the promise is not judged again. Only an
    /// outcome recorded on or before `as_of` is read: a run as of an earlier
    /// day (a look back with today's case history) judges the promise as it
    /// stood then, so none is broken before its deadline. Every outcome the
    /// case records for it is checked, whatever its date, against the
    /// promise's instalments (`plan`: a payment plan's, `None` for a single
    /// promise): figures that do not read or that no run gives
    /// (`RecordedOutcome::fault`), or a second outcome, are an error naming
    /// the event, never used as written nor replaced unseen.
    pub(super) fn recorded_outcome(
        &self,
        key: &str,
        plan: Option<&[Instalment]>,
        as_of: chrono::NaiveDate,
    ) -> Result<HeldOutcome<'a>, EvalError> {
        let mut held = HeldOutcome::default();
        let mut first: Option<StateEvent<'a>> = None;
        for e in self.events().filter(|e| e.status == EventStatus::Done) {
            let Some(outcome) = recorded_outcome(e.id, key) else {
                continue;
            };
            let fault = match (&outcome, &first) {
                (Err(problem), _) => Some(problem.clone()),
                (Ok(_), Some(f)) if f.id != e.id => Some(format!(
                    "the case records a second outcome for it, after `{}` \
                     (`account.case.events[{}]`): a promise is decided once",
                    echoed_id(f.id),
                    f.index
                )),
                (Ok(o), _) => o.fault(e.date, plan),
            };
            if let Some(problem) = fault {
                return Err(outcome_error(&e, key, &problem));
            }
            held.held = true;
            if e.date <= as_of && held.read.is_none() {
                held.read = outcome.ok();
            }
            first.get_or_insert(e);
        }
        Ok(held)
    }

    /// The service agreement left the case in an earlier run.
    pub(super) fn removed(&self, sa: &str) -> bool {
        self.removed_sas.iter().filter_map(text).any(|s| s == sa)
    }
}

/// What the case holds of a promise's outcome ([`CaseState::recorded_outcome`]).
#[derive(Debug, Default)]
pub(super) struct HeldOutcome<'a> {
    /// The outcome decided on or before the run's day.
    pub(super) read: Option<RecordedOutcome<'a>>,
    /// The case records an outcome for the promise, whatever its date: the
    /// case system records no other.
    pub(super) held: bool,
}

/// A recorded outcome's id as a message quotes it: whole up to 300
/// characters (every figure an outcome records fits), else cut as any echo.
fn echoed_id(id: &str) -> std::borrow::Cow<'_, str> {
    crate::diagnostic::echoed_within(id, 300)
}

/// The account's row is refused at the event: its case history cannot be
/// trusted for the promise, and today's terms would judge it again unseen.
fn outcome_error(e: &StateEvent, key: &str, problem: &str) -> EvalError {
    EvalError {
        table: String::new(),
        item: None,
        input: None,
        kind: EvalErrorKind::Field {
            field: format!("account.case.events[{}].id", e.index),
            message: format!(
                "the outcome of promise `{}` recorded on {} as `{}` cannot be trusted: {problem}; \
                 the account is not evaluated until the case system's record is put right \
                 (docs/policy.md, \"An outcome is decided once\")",
                crate::diagnostic::echoed(key),
                e.date,
                echoed_id(e.id),
            ),
        },
    }
}
