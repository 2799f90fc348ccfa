//! What an open case's state (`account.case`, see `policy::case`) tells the
//! pipeline, read once per run: the events scheduled so far, and the service
//! agreements that left the case. The pipeline reads it so that a run does
//! not repeat what an earlier run did (a follow-up letter is sent once, an SA
//! is removed once) and a contact hold can cancel what is still pending. It
//! must not change the state: the run's actions do, through `case::apply`.

use super::decisions::{field, list, text};
use crate::data::schema::Schema;
use crate::policy::case::{follow_up_event_id, Channel, EventStatus};
use crate::policy::CaseSlots;
use crate::types::Value;

#[derive(Debug, Default)]
pub(super) struct CaseState {
    events: Vec<StateEvent>,
    removed_sas: Vec<String>,
}

#[derive(Debug)]
pub(super) struct StateEvent {
    pub(super) id: String,
    pub(super) event_type: String,
    pub(super) date: chrono::NaiveDate,
    pub(super) time: Option<String>,
    contact: bool,
    status: EventStatus,
}

impl CaseState {
    /// The state of the open case `case` (a record value), as far as the schema keeps it.
    pub(super) fn read(schema: &Schema, case: &Value, slots: &CaseSlots) -> CaseState {
        let variant = |v: &Value| match v {
            Value::Enum(i) => Some(*i as usize),
            _ => None,
        };
        let events = slots.events.map_or_else(Vec::new, |ev| {
            let (type_enum, status_enum) = (ev.type_enum, ev.status_enum);
            list(field(case, ev.slot))
                .iter()
                .filter_map(|e| {
                    let id = text(field(e, ev.id))?.to_string();
                    let event_type =
                        &schema.enum_def(type_enum).variants[variant(field(e, ev.event_type))?];
                    let status = match schema.enum_def(status_enum).variants
                        [variant(field(e, ev.status))?]
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
                        id,
                        event_type: event_type.clone(),
                        date,
                        time: ev.time.and_then(|t| text(field(e, t))).map(str::to_string),
                        contact: Channel::of_event(event_type).is_some(),
                        status,
                    })
                })
                .collect()
        });
        let removed_sas = slots.removed_sas.map_or_else(Vec::new, |slot| {
            list(field(case, slot))
                .iter()
                .filter_map(text)
                .map(str::to_string)
                .collect()
        });
        CaseState {
            events,
            removed_sas,
        }
    }

    /// An event with this id was scheduled for the case and not cancelled: it
    /// is pending or was carried out, so it is not scheduled again.
    pub(super) fn has_event(&self, id: &str) -> bool {
        self.events
            .iter()
            .any(|e| e.id == id && e.status != EventStatus::Cancelled)
    }

    /// The events earlier runs scheduled that are still pending.
    pub(super) fn pending(&self) -> impl Iterator<Item = &StateEvent> {
        self.events
            .iter()
            .filter(|e| e.status == EventStatus::Pending)
    }

    /// The ids of the contact events (letter, call, email, SMS) still pending.
    pub(super) fn pending_contacts(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.contact && e.status == EventStatus::Pending)
            .map(|e| e.id.clone())
            .collect()
    }

    /// The ids of the follow-up events still pending for the promise `key`
    /// (a callback scheduled while it was pending).
    pub(super) fn pending_of_promise(&self, key: &str) -> Vec<String> {
        let prefix = follow_up_event_id(key, "");
        self.events
            .iter()
            .filter(|e| e.status == EventStatus::Pending && e.id.starts_with(&prefix))
            .map(|e| e.id.clone())
            .collect()
    }

    /// The service agreement left the case in an earlier run.
    pub(super) fn removed(&self, sa: &str) -> bool {
        self.removed_sas.iter().any(|s| s == sa)
    }
}
