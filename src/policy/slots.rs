//! The snapshot fields the pipeline reads (the account's arrears, its open
//! case, service agreements, promises and their payments, dispositions), found in the schema
//! by name and type when the policy is built, so the pipeline reads them by
//! slot. A field an area needs and the schema lacks is one error listing them
//! all. It must not read an account.

use super::Builder;
use crate::model::doc::PolicyDoc;
use crate::types::{EnumId, Type};

/// Where the pipeline finds the snapshot facts it needs.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub arrears: usize,
    pub case: Option<CaseSlots>,
    pub service_agreements: Option<(usize, SaSlots)>,
    pub promises: Option<(usize, PromiseSlots)>,
    /// `account.dispositions`, when the policy books callbacks.
    pub dispositions: Option<(usize, DispositionSlots)>,
    /// `account.time_zone` (text, an IANA name), for contact windows.
    pub time_zone: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct CaseSlots {
    pub slot: usize,
    pub start_date: usize,
    pub template: Option<usize>,
    /// `case.category` (an enum) and `case.class` (text), when the schema has them.
    pub category: Option<usize>,
    pub class: Option<usize>,
    /// `case.events`, when the schema keeps the case's events (`policy::case`).
    pub events: Option<EventSlots>,
    /// `case.removed_sas`, when the schema keeps the service agreements that left the case.
    pub removed_sas: Option<usize>,
}

/// The case state's events: each one's id, type and status.
#[derive(Debug, Clone, Copy)]
pub struct EventSlots {
    pub slot: usize,
    pub id: usize,
    pub event_type: usize,
    pub status: usize,
    pub date: usize,
    /// `time` (`HH:MM` text), when the schema keeps events' time of day.
    pub time: Option<usize>,
    /// The built-in enums `event_type` and `event_status`, for the variants' names.
    pub type_enum: EnumId,
    pub status_enum: EnumId,
}

/// A disposition: its own date (the callback event's id) and the day the customer asked for.
#[derive(Debug, Clone, Copy)]
pub struct DispositionSlots {
    pub date: usize,
    pub callback_date: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct SaSlots {
    pub id: usize,
    pub arrears: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct PromiseSlots {
    pub id: usize,
    pub amount: usize,
    pub due_date: usize,
    pub plan: Option<usize>,
    pub payments: usize,
    pub payment_amount: usize,
    pub payment_date: usize,
}
impl Builder<'_> {
    /// Resolves the snapshot fields the pipeline reads.
    pub(super) fn slots(&mut self, doc: &PolicyDoc) -> Option<Slots> {
        let schema = self.program.schema.clone();
        let account = schema.account();
        let mut missing = Vec::new();
        let arrears = field(
            account,
            "account",
            "arrears",
            |t| *t == Type::Money,
            "money",
        )
        .map_err(|m| missing.push(m))
        .ok();
        let case = field(
            account,
            "account",
            "case",
            |t| matches!(t, Type::Record(_)),
            "an optional record: the open case",
        )
        .and_then(|s| {
            let Type::Record(r) = account.fields[s].ty else {
                return Err("`account.case` (a record)".to_string());
            };
            let rec = schema.record(r);
            let start_date = field(
                rec,
                "account.case",
                "start_date",
                |t| *t == Type::Date,
                "date",
            )?;
            let template = rec
                .slot("template")
                .filter(|&t| rec.fields[t].ty == Type::Text);
            let category = rec
                .slot("category")
                .filter(|&t| matches!(rec.fields[t].ty, Type::Enum(_)));
            let class = rec
                .slot("class")
                .filter(|&t| rec.fields[t].ty == Type::Text);
            // The state the pipeline reads back is optional; declared, it has its shape.
            let path = "account.case";
            let events = match rec.slot("events") {
                None => None,
                Some(_) => {
                    let (slot, r) = list_of_records(rec, path, "events")?;
                    let ev = schema.record(r);
                    let path = "account.case.events[]";
                    let (event_type, type_enum) =
                        builtin_enum_field(&schema, ev, path, "type", "event_type")?;
                    let (status, status_enum) =
                        builtin_enum_field(&schema, ev, path, "status", "event_status")?;
                    Some(EventSlots {
                        slot,
                        id: field(ev, path, "id", |t| *t == Type::Text, "text")?,
                        event_type,
                        status,
                        date: field(ev, path, "date", |t| *t == Type::Date, "date")?,
                        time: ev.slot("time").filter(|&t| ev.fields[t].ty == Type::Text),
                        type_enum,
                        status_enum,
                    })
                }
            };
            let removed_sas = match rec.slot("removed_sas") {
                None => None,
                Some(_) => Some(field(
                    rec,
                    path,
                    "removed_sas",
                    |t| matches!(t, Type::List(i) if **i == Type::Text),
                    "a list of text",
                )?),
            };
            Ok(CaseSlots {
                slot: s,
                start_date,
                template,
                category,
                class,
                events,
                removed_sas,
            })
        })
        .map_err(|m| missing.push(m))
        .ok();
        let service_agreements = if doc.sa_exit.is_some() || doc.severance.is_some() {
            list_of_records(account, "account", "service_agreements")
                .and_then(|(s, r)| {
                    let rec = schema.record(r);
                    let path = "account.service_agreements[]";
                    let id = field(rec, path, "id", |t| *t == Type::Text, "text")?;
                    let arrears = field(rec, path, "arrears", |t| *t == Type::Money, "money")?;
                    Ok((s, SaSlots { id, arrears }))
                })
                .map_err(|m| missing.push(m))
                .ok()
        } else {
            None
        };
        let promises = if doc.promise_terms.is_some() {
            list_of_records(account, "account", "promises")
                .and_then(|(s, r)| {
                    let rec = schema.record(r);
                    let path = "account.promises[]";
                    let id = field(rec, path, "id", |t| *t == Type::Text, "text")?;
                    let amount = field(rec, path, "amount", |t| *t == Type::Money, "money")?;
                    let due_date = field(rec, path, "due_date", |t| *t == Type::Date, "date")?;
                    let plan = rec.slot("plan").filter(|&p| rec.fields[p].ty == Type::Text);
                    let (payments, pr) = list_of_records(rec, path, "payments")?;
                    let prec = schema.record(pr);
                    let ppath = "account.promises[].payments[]";
                    let payment_amount =
                        field(prec, ppath, "amount", |t| *t == Type::Money, "money")?;
                    let payment_date = field(prec, ppath, "date", |t| *t == Type::Date, "date")?;
                    Ok((
                        s,
                        PromiseSlots {
                            id,
                            amount,
                            due_date,
                            plan,
                            payments,
                            payment_amount,
                            payment_date,
                        },
                    ))
                })
                .map_err(|m| missing.push(m))
                .ok()
        } else {
            None
        };
        let dispositions = if doc.callback.is_some() {
            list_of_records(account, "account", "dispositions")
                .and_then(|(s, r)| {
                    let rec = schema.record(r);
                    let path = "account.dispositions[]";
                    let date = field(rec, path, "date", |t| *t == Type::Date, "date")?;
                    let callback_date =
                        field(rec, path, "callback_date", |t| *t == Type::Date, "date")?;
                    Ok((
                        s,
                        DispositionSlots {
                            date,
                            callback_date,
                        },
                    ))
                })
                .map_err(|m| missing.push(m))
                .ok()
        } else {
            None
        };
        if !missing.is_empty() {
            self.error(
                "policy",
                doc.policy.span,
                format!(
                    "the policy needs schema fields it cannot find: {}",
                    missing.join(", ")
                ),
            )
            .help = Some(
                "declare them in the schema (docs/rule-files.md lists the fields each area reads)"
                    .into(),
            );
            return None;
        }
        let time_zone = account
            .slot("time_zone")
            .filter(|&t| account.fields[t].ty == Type::Text);
        Some(Slots {
            arrears: arrears?,
            case,
            service_agreements,
            promises,
            dispositions,
            time_zone,
        })
    }
}

/// The slot of a field whose type passes `ok`, or what is missing.
fn field(
    record: &crate::data::schema::RecordDef,
    path: &str,
    name: &str,
    ok: impl Fn(&Type) -> bool,
    want: &str,
) -> Result<usize, String> {
    match record.slot(name) {
        Some(s) if ok(&record.fields[s].ty) => Ok(s),
        _ => Err(format!("`{path}.{name}` ({want})")),
    }
}

/// The slot of a field typed by the built-in enum `enum_name`, and that enum.
fn builtin_enum_field(
    schema: &crate::data::schema::Schema,
    record: &crate::data::schema::RecordDef,
    path: &str,
    name: &str,
    enum_name: &str,
) -> Result<(usize, EnumId), String> {
    let slot = field(record, path, name, |_| true, enum_name)?;
    match record.fields[slot].ty {
        Type::Enum(e) if schema.enum_def(e).name == enum_name => Ok((slot, e)),
        _ => Err(format!("`{path}.{name}` ({enum_name})")),
    }
}

fn list_of_records(
    record: &crate::data::schema::RecordDef,
    path: &str,
    name: &str,
) -> Result<(usize, crate::types::RecordId), String> {
    let s = field(
        record,
        path,
        name,
        |t| matches!(t, Type::List(i) if matches!(**i, Type::Record(_))),
        "a list of records",
    )?;
    match &record.fields[s].ty {
        Type::List(inner) => match **inner {
            Type::Record(r) => Ok((s, r)),
            _ => Err(format!("`{path}.{name}` (a list of records)")),
        },
        _ => Err(format!("`{path}.{name}` (a list of records)")),
    }
}
