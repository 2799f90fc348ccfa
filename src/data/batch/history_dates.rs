//! The case's history dated after the run's date: a contact made, or a case
//! event carried out (`done`), on a day the batch has not reached. No case
//! system records one before the day, so an account that holds one was
//! exported on a later night than the extract's `--as-of` (companions of the
//! wrong night): the summary warns of it (`history_after_as_of`).

use chrono::NaiveDate;

use crate::data::schema::{Schema, ACCOUNT};
use crate::types::{Type, Value};

/// Where an account's contacts and its case's events keep the dates read
/// (the schema's slots), found once per part by name.
pub(super) struct HistorySlots {
    /// `account.contacts`, and a contact's `date`.
    contacts: Option<(usize, usize)>,
    /// `account.case`, its `events`, an event's `date` and `status`, and the
    /// `done` variant of `event_status`.
    events: Option<(usize, usize, usize, usize, u32)>,
}

fn record_of(ty: &Type) -> Option<usize> {
    match ty {
        Type::Record(id) => Some(*id as usize),
        _ => None,
    }
}

fn list_record_of(ty: &Type) -> Option<usize> {
    match ty {
        Type::List(item) => record_of(item),
        _ => None,
    }
}

impl HistorySlots {
    pub(super) fn of(schema: &Schema) -> HistorySlots {
        let account = &schema.records[ACCOUNT as usize];
        let field = |record: usize, name: &str| {
            let def = &schema.records[record];
            def.slot(name).map(|slot| (slot, &def.fields[slot].ty))
        };
        let contacts = account
            .slot(crate::policy::case::CONTACTS_FIELD)
            .and_then(|slot| {
                let contact = list_record_of(&account.fields[slot].ty)?;
                Some((slot, field(contact, "date")?.0))
            });
        let events = (|| {
            let (case_slot, case_ty) = field(ACCOUNT as usize, "case")?;
            let (events_slot, events_ty) = field(record_of(case_ty)?, "events")?;
            let event = list_record_of(events_ty)?;
            let (date, _) = field(event, "date")?;
            let (status, status_ty) = field(event, "status")?;
            let Type::Enum(status_enum) = status_ty else {
                return None;
            };
            let done = schema
                .enum_def(*status_enum)
                .variants
                .iter()
                .position(|v| v == "done")?;
            Some((case_slot, events_slot, date, status, done as u32))
        })();
        HistorySlots { contacts, events }
    }

    /// The latest day after `as_of` that the account's contacts or its case's
    /// done events are dated; `None` when every one is on or before it.
    pub(super) fn latest_after(&self, account: &Value, as_of: NaiveDate) -> Option<NaiveDate> {
        let date_after = |item: &Value, slot: usize| match fields(item).get(slot) {
            Some(Value::Date(d)) if *d > as_of => Some(*d),
            _ => None,
        };
        let account = fields(account);
        let mut latest: Option<NaiveDate> = None;
        if let Some((slot, date)) = self.contacts {
            for contact in items(account.get(slot)) {
                latest = latest.max(date_after(contact, date));
            }
        }
        if let Some((case, events, date, status, done)) = self.events {
            let case = account.get(case).map(fields).unwrap_or_default();
            for event in items(case.get(events)) {
                if matches!(fields(event).get(status), Some(Value::Enum(v)) if *v == done) {
                    latest = latest.max(date_after(event, date));
                }
            }
        }
        latest
    }
}

/// A record's fields (none for null).
fn fields(v: &Value) -> &[Value] {
    match v {
        Value::Record(fields) => fields,
        _ => &[],
    }
}

/// A list's items (none for null or a missing field).
fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::List(items)) => items,
        _ => &[],
    }
}
