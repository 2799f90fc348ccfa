//! What the outside world does to an account in a timeline: new figures from
//! the extract (`set`), a new promise or disposition (`add`), a payment, a
//! contact's outcome (with the day a customer reached asked to be called back:
//! a call_back disposition). A happening changes the account's facts (a contact
//! is one of them: the account's contacts outlive a case), or, for a path under
//! `case`, the case state (a callback booked by hand), and a contact may carry
//! out a pending event of the case; it
//! never changes what the policy decided. Field paths are checked against the
//! schema, so a misspelt field is
//! an error, not a silent no-op.

use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value as Json;

use super::CODE;
use crate::data::schema::{record_of, Schema, ACCOUNT};
use crate::data::snapshot::number_text;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::model::spanned::{key_before, CellText, ExactJson, LocatedJson, Positions, Spanned};
use crate::policy::case::{time_of_day, Case, Channel, Contact, ContactOutcome, Event};
use crate::policy::Policy;
use crate::source::{SourceFile, Span};
use crate::types::{format_money, RecordId, Type};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// What happens on one day.
pub struct HappeningDoc {
    /// The day (`YYYY-MM-DD`), within the timeline.
    pub on: Spanned<CellText>,
    /// Fields that take new values (`days_past_due: 35`, `service_agreements[SA-2].arrears: 0`).
    #[serde(default)]
    pub set: Option<IndexMap<String, LocatedJson>>,
    /// Items appended to list fields (`promises: {id: P1, …}`).
    #[serde(default)]
    pub add: Option<IndexMap<String, LocatedJson>>,
    /// A payment: the account's arrears fall by its amount.
    #[serde(default)]
    pub payment: Option<PaymentDoc>,
    /// A contact's outcome, recorded among the account's contacts (with or without an open case).
    #[serde(default)]
    pub contact: Option<ContactDoc>,
    /// Words for the history; alone, a happening may be just a note.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// A payment received.
pub struct PaymentDoc {
    /// The amount paid (a number or its text).
    pub amount: ExactJson,
    /// The promise it pays: recorded among that promise's payments.
    #[serde(default)]
    pub promise: Option<String>,
    /// The service agreement it pays: that SA's arrears fall too.
    #[serde(default)]
    pub sa: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
/// A contact with the customer and how it went.
pub struct ContactDoc {
    /// How the customer was contacted.
    pub channel: Channel,
    /// What came of it.
    pub outcome: ContactOutcome,
    /// Local time of day (`HH:MM`, the consumer's time zone).
    #[serde(default)]
    pub time: Option<String>,
    /// The day a customer who was reached asked to be called back: the agent's disposition
    /// (contacted, call_back, with this `callback_date`) is added to the account's dispositions.
    #[serde(default)]
    pub callback: Option<Spanned<CellText>>,
}

/// A field path: `name`, `record.name`, `list[ID].name` (the list item whose
/// `id` is `ID`).
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Item(String),
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if !valid(name) {
            return None;
        }
        steps.push(Step::Field(name.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']')?;
            let id = rest.get(1..close)?.trim();
            if !rest.starts_with('[') || id.is_empty() {
                return None;
            }
            steps.push(Step::Item(id.to_string()));
            rest = &rest[close + 1..];
        }
    }
    Some(steps)
}

/// One field a `set` or `add` writes: its path, the value, and where both
/// are written (a problem is shown at the key, or at the value in it).
#[derive(Debug, Clone)]
struct Change {
    path: String,
    steps: Vec<Step>,
    value: Json,
    key: Span,
    written: Positions<Span>,
}

#[derive(Debug, Clone)]
enum Kind {
    Set(Vec<Change>),
    Add(Vec<Change>),
    Payment {
        amount: Decimal,
        promise: Option<String>,
        sa: Option<String>,
    },
    /// How, how it went, at what time, and the day a callback was asked for.
    Contact(Channel, ContactOutcome, Option<String>, Option<NaiveDate>),
    Note,
}

/// One happening, read and checked for its form; the schema checks its paths
/// when it is applied.
#[derive(Debug, Clone)]
pub struct Happening {
    pub date: NaiveDate,
    pub span: Span,
    kind: Kind,
    note: Option<String>,
}

impl Happening {
    /// A contact report, which may carry out a pending event of the day's queue.
    pub fn reports_contact(&self) -> bool {
        matches!(self.kind, Kind::Contact(..))
    }
}

fn error(file: &Arc<SourceFile>, span: Span, message: String) -> Diagnostic {
    Diagnostic::error(CODE, file, span, message)
}

fn paths(
    file: &Arc<SourceFile>,
    fields: &IndexMap<String, LocatedJson>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for (path, value) in fields {
        let (value, written) = value.clone().into_parts(&mut |span| span);
        let key = key_before(file, written.at, path).unwrap_or(written.at);
        match parse_path(path) {
            Some(steps) => out.push(Change {
                path: path.clone(),
                steps,
                value,
                key,
                written,
            }),
            None => problems.push(
                error(file, key, format!("`{path}` is not a field path"))
                    .with_help("write `field`, `record.field` or `list[ID].field`"),
            ),
        }
    }
    out
}

impl Happening {
    pub fn read(
        file: &Arc<SourceFile>,
        doc: &Spanned<HappeningDoc>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<Happening> {
        let span = doc.span;
        let h = &doc.value;
        let date = crate::model::load::date_cell(CODE, file, &h.on, problems)?;
        let given = [
            h.set.is_some(),
            h.add.is_some(),
            h.payment.is_some(),
            h.contact.is_some(),
        ]
        .iter()
        .filter(|g| **g)
        .count();
        if given > 1 {
            problems.push(
                error(
                    file,
                    span,
                    "a happening is one of `set`, `add`, `payment` or `contact`".into(),
                )
                .with_help("write two happenings on the same day"),
            );
            return None;
        }
        let kind = if let Some(fields) = &h.set {
            Kind::Set(paths(file, fields, problems))
        } else if let Some(items) = &h.add {
            Kind::Add(paths(file, items, problems))
        } else if let Some(p) = &h.payment {
            let text =
                number_text(&p.amount.0).map_or_else(|| p.amount.0.to_string(), str::to_string);
            match crate::decimal::read_decimal(&text) {
                Ok(amount) if amount > Decimal::ZERO => Kind::Payment {
                    amount,
                    promise: p.promise.clone(),
                    sa: p.sa.clone(),
                },
                Ok(_) => {
                    problems.push(error(
                        file,
                        span,
                        format!("a payment of `{text}`: the amount must be more than zero"),
                    ));
                    return None;
                }
                Err(e) => {
                    let help = crate::decimal::without_currency(&text).map(|bare| {
                        format!("write the amount without a currency sign or code: `{bare}`")
                    });
                    problems.push(
                        error(
                            file,
                            span,
                            format!("payment amount `{text}` {}", e.reason()),
                        )
                        .with_help_opt(help),
                    );
                    return None;
                }
            }
        } else if let Some(c) = &h.contact {
            if let Some(t) = c.time.as_deref().filter(|t| time_of_day(t).is_none()) {
                problems.push(
                    error(
                        file,
                        span,
                        format!("contact time `{t}` is not a time of day"),
                    )
                    .with_help("write a 24-hour local time `HH:MM`, such as `20:30`"),
                );
                return None;
            }
            let callback = match &c.callback {
                None => None,
                Some(cell) => {
                    let asked = crate::model::load::date_cell(CODE, file, cell, problems)?;
                    if c.outcome != ContactOutcome::Reached || asked < date {
                        problems.push(
                            error(
                                file,
                                cell.span,
                                format!("a callback on {asked}: only a customer reached (`outcome: reached`) asks for one, on or after the contact's day"),
                            )
                            .with_help("give the contact `outcome: reached` and a day from the happening's `on`"),
                        );
                        return None;
                    }
                    Some(asked)
                }
            };
            Kind::Contact(c.channel, c.outcome, c.time.clone(), callback)
        } else if h.note.is_some() {
            Kind::Note
        } else {
            problems.push(
                error(file, span, "this happening does nothing".into())
                    .with_help("give it `set`, `add`, `payment`, `contact` or a `note`"),
            );
            return None;
        };
        Some(Happening {
            date,
            span,
            kind,
            note: h.note.clone(),
        })
    }

    /// One line for the history: `set days_past_due=35`, `payment 47.00 promise=P1`.
    pub fn describe(&self) -> String {
        let fields = |name: &str, fields: &[Change]| {
            let parts: Vec<String> = fields
                .iter()
                .map(|c| format!("{}={}", c.path, c.value))
                .collect();
            format!("{name} {}", parts.join(" "))
        };
        let mut line = match &self.kind {
            Kind::Set(f) => fields("set", f),
            Kind::Add(f) => fields("add", f),
            Kind::Payment {
                amount,
                promise,
                sa,
            } => {
                let mut s = format!("payment {amount}");
                if let Some(p) = promise {
                    s.push_str(&format!(" promise={p}"));
                }
                if let Some(sa) = sa {
                    s.push_str(&format!(" sa={sa}"));
                }
                s
            }
            Kind::Contact(channel, outcome, time, callback) => {
                let mut s = format!("contact {} {}", serde_name(channel), serde_name(outcome));
                if let Some(t) = time {
                    s.push_str(&format!(" at {t}"));
                }
                if let Some(day) = callback {
                    s.push_str(&format!(" callback={day}"));
                }
                s
            }
            Kind::Note => "note".into(),
        };
        if let Some(note) = &self.note {
            line.push_str(&format!(" {note:?}"));
        }
        line
    }
}

/// The name a state enum's variant is written with (`no_answer`).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The account fields the happenings and the aging touch, by the names the
/// policy's contract gives them.
pub struct World<'p> {
    schema: &'p Schema,
    arrears: String,
    /// `service_agreements`, and its items' `id` and `arrears`.
    sas: Option<(String, String, String)>,
    /// `promises`, and its items' `id`, `payments`, and a payment's `amount` and `date`.
    promises: Option<(String, String, String, String, String)>,
    /// `dispositions`, and its items' `date` and `callback_date`, when the policy books callbacks.
    dispositions: Option<(String, String, String)>,
    ages: Option<&'p str>,
    /// The account field that holds the case state (`case`): a happening's
    /// path under it changes the case state, not the facts.
    case_field: Option<String>,
}

fn name_of(schema: &Schema, record: RecordId, slot: usize) -> String {
    schema.record(record).fields[slot].name.clone()
}

/// An amount in the account's facts, read from its text.
fn decimal_of(json: &Json) -> Option<Decimal> {
    number_text(json).and_then(crate::decimal::parse_decimal)
}

/// An amount written back into the facts as money is written in an accounts file.
fn money_json(amount: Decimal) -> Json {
    Json::String(format_money(amount))
}

impl<'p> World<'p> {
    pub fn new(policy: &'p Policy, ages: Option<&'p str>) -> World<'p> {
        let schema = policy.plan.schema();
        let slots = &policy.slots;
        let sas = slots.service_agreements.and_then(|(slot, sa)| {
            let record = record_of(&schema.account().fields[slot].ty)?;
            Some((
                name_of(schema, ACCOUNT, slot),
                name_of(schema, record, sa.id),
                name_of(schema, record, sa.arrears),
            ))
        });
        let promises = slots.promises.and_then(|(slot, p)| {
            let record = record_of(&schema.account().fields[slot].ty)?;
            let payment = record_of(&schema.record(record).fields[p.payments].ty)?;
            Some((
                name_of(schema, ACCOUNT, slot),
                name_of(schema, record, p.id),
                name_of(schema, record, p.payments),
                name_of(schema, payment, p.payment_amount),
                name_of(schema, payment, p.payment_date),
            ))
        });
        let dispositions = slots.dispositions.and_then(|(slot, d)| {
            let record = record_of(&schema.account().fields[slot].ty)?;
            Some((
                name_of(schema, ACCOUNT, slot),
                name_of(schema, record, d.date),
                name_of(schema, record, d.callback_date),
            ))
        });
        World {
            schema,
            arrears: name_of(schema, ACCOUNT, slots.arrears),
            sas,
            promises,
            dispositions,
            ages,
            case_field: slots.case.map(|c| name_of(schema, ACCOUNT, c.slot)),
        }
    }

    /// The `ages` field must be an integer field of the account.
    pub fn check_ages(&self) -> Result<(), String> {
        let Some(name) = self.ages else { return Ok(()) };
        let account = self.schema.account();
        match account.slot(name).map(|s| &account.fields[s].ty) {
            Some(Type::Integer) => Ok(()),
            Some(_) => Err(format!("`ages: {name}`: `{name}` is not an integer field")),
            None => Err(format!(
                "`ages: {name}`: the account has no field `{name}`{}",
                hint(did_you_mean(
                    name,
                    account.fields.iter().map(|f| f.name.as_str())
                ))
            )),
        }
    }

    /// After the day's happenings: arrears paid in full leave the aging
    /// field at 0 that same day (it grew at the start of the day). Whether it
    /// changed.
    pub fn settle(&self, facts: &mut Json) -> bool {
        let Some(field) = self.ages else { return false };
        let paid = facts
            .get(&self.arrears)
            .and_then(decimal_of)
            .is_some_and(|a| a <= Decimal::ZERO);
        match facts.as_object_mut() {
            Some(object) if paid && object.get(field).and_then(Json::as_i64) != Some(0) => {
                object.insert(field.to_string(), Json::from(0));
                true
            }
            _ => false,
        }
    }

    /// A day passes: the aging field grows by one while the account is in
    /// arrears, and is 0 once they are paid.
    pub fn age(&self, facts: &mut Json) {
        let Some(field) = self.ages else { return };
        let in_arrears = facts
            .get(&self.arrears)
            .and_then(decimal_of)
            .is_some_and(|a| a > Decimal::ZERO);
        if let Some(object) = facts.as_object_mut() {
            let days = object.get(field).and_then(Json::as_i64).unwrap_or(0);
            let next = if in_arrears {
                days.saturating_add(1)
            } else {
                0
            };
            object.insert(field.to_string(), Json::from(next));
        }
    }

    /// What is wrong with a happening whatever the day: a field the schema
    /// does not have (at its key), a value its field cannot hold (at the
    /// value), `add` to a field that is not a list, a payment naming a
    /// promise or SA when the policy reads none (at the happening).
    pub fn check(&self, file: &SourceFile, h: &Happening) -> Vec<(Span, String)> {
        let mut problems = Vec::new();
        match &h.kind {
            Kind::Set(fields) => {
                for c in fields {
                    match self.check_path(&c.path, &c.steps) {
                        Ok(ty) => problems.extend(self.value_problems(file, &ty, &c.value, c)),
                        Err(e) => problems.push((c.key, e)),
                    }
                }
            }
            Kind::Add(items) => {
                for c in items {
                    match self.check_path(&c.path, &c.steps) {
                        Ok(Type::List(ty)) => {
                            problems.extend(self.value_problems(file, &ty, &c.value, c));
                        }
                        Ok(_) => {
                            problems.push((c.key, format!("`add`: `{}` is not a list", c.path)))
                        }
                        Err(e) => problems.push((c.key, e)),
                    }
                }
            }
            Kind::Payment { promise, sa, .. } => {
                if promise.is_some() && self.promises.is_none() {
                    problems.push((
                        h.span,
                        "a payment names a promise, but the policy reads no promises".into(),
                    ));
                }
                if sa.is_some() && self.sas.is_none() {
                    problems.push((
                        h.span,
                        "a payment names an SA, but the policy reads no service agreements".into(),
                    ));
                }
            }
            Kind::Contact(.., Some(_)) if self.dispositions.is_none() => {
                problems.push((
                    h.span,
                    "a contact with a callback, but the policy books no callbacks".into(),
                ));
            }
            Kind::Contact(..) | Kind::Note => {}
        }
        problems
    }

    /// Applies one happening to the account's facts (and a contact, or a
    /// path under `case`, to the case state). A pending event a contact
    /// carries out (one of the day's `queue`, [`record_contact`]) is pushed
    /// to `done`.
    ///
    /// [`record_contact`]: crate::policy::case::record_contact
    pub fn apply(
        &self,
        h: &Happening,
        facts: &mut Json,
        mut case: Option<&mut Case>,
        queue: Option<&Case>,
        done: &mut Vec<Event>,
    ) -> Result<(), String> {
        match &h.kind {
            Kind::Note => Ok(()),
            Kind::Set(fields) => {
                for Change {
                    path, steps, value, ..
                } in fields
                {
                    self.check_path(path, steps)?;
                    if self.in_case(steps) {
                        self.in_case_state(path, steps, case.as_deref_mut(), |slot| {
                            *slot = value.clone();
                            Ok(())
                        })?;
                        continue;
                    }
                    *self.locate(path, steps, facts)? = value.clone();
                }
                Ok(())
            }
            Kind::Add(items) => {
                for Change {
                    path,
                    steps,
                    value: item,
                    ..
                } in items
                {
                    match self.check_path(path, steps)? {
                        Type::List(_) => {}
                        _ => return Err(format!("`add`: `{path}` is not a list")),
                    }
                    if self.in_case(steps) {
                        self.in_case_state(path, steps, case.as_deref_mut(), |slot| {
                            if slot.is_null() {
                                *slot = Json::Array(Vec::new());
                            }
                            match slot {
                                Json::Array(list) => {
                                    list.push(item.clone());
                                    Ok(())
                                }
                                _ => Err(format!("`add`: the case's `{path}` is not a list")),
                            }
                        })?;
                        continue;
                    }
                    let slot = self.locate(path, steps, facts)?;
                    if slot.is_null() {
                        *slot = Json::Array(Vec::new());
                    }
                    match slot {
                        Json::Array(list) => list.push(item.clone()),
                        _ => return Err(format!("`add`: the account's `{path}` is not a list")),
                    }
                }
                Ok(())
            }
            Kind::Payment {
                amount,
                promise,
                sa,
            } => self.pay(h.date, *amount, promise.as_deref(), sa.as_deref(), facts),
            // Recorded among the account's contacts with or without an open
            // case: a customer ringing in after it closed still talked about the debt.
            Kind::Contact(channel, outcome, time, callback) => {
                if let Some(asked) = callback {
                    self.add_callback(h.date, *asked, facts)?;
                }
                let contact = Contact {
                    date: h.date,
                    time: time.clone(),
                    channel: *channel,
                    outcome: *outcome,
                };
                add_contact(facts, &contact);
                if let Some(case) = case {
                    done.extend(crate::policy::case::record_contact(case, &contact, queue));
                }
                Ok(())
            }
        }
    }

    /// `steps` name a field of the case state (`case.events`).
    fn in_case(&self, steps: &[Step]) -> bool {
        matches!((steps.first(), &self.case_field), (Some(Step::Field(f)), Some(c)) if f == c)
    }

    /// Changes the case state at `path` (under `case`) with `change`, as the
    /// state's JSON, read back as a case state: the policy's next run sees it.
    fn in_case_state(
        &self,
        path: &str,
        steps: &[Step],
        case: Option<&mut Case>,
        change: impl FnOnce(&mut Json) -> Result<(), String>,
    ) -> Result<(), String> {
        let case = case.ok_or_else(|| format!("`{path}`: no case is open"))?;
        let mut json = serde_json::to_value(&*case).map_err(|e| e.to_string())?;
        let mut here = &mut json;
        for step in &steps[1..] {
            here = match step {
                Step::Field(name) => here
                    .as_object_mut()
                    .ok_or_else(|| {
                        format!("`{path}`: the case's value before `{name}` is not a record")
                    })?
                    .entry(name.clone())
                    .or_insert(Json::Null),
                Step::Item(id) => {
                    item_with_id(Some(here), "id", id).map_err(|e| format!("`{path}`: {e}"))?
                }
            };
        }
        change(here)?;
        *case =
            serde_json::from_value(json).map_err(|e| format!("`{path}`: not a case state: {e}"))?;
        Ok(())
    }

    /// The agent's disposition for a customer reached who asked to be called back on `asked`
    /// (seed 003's layers: contacted, call_back, no resolution).
    fn add_callback(
        &self,
        on: NaiveDate,
        asked: NaiveDate,
        facts: &mut Json,
    ) -> Result<(), String> {
        let (list, date, callback_date) = self
            .dispositions
            .as_ref()
            .ok_or("a contact with a callback, but the policy books no callbacks")?;
        let mut item = serde_json::Map::new();
        item.insert(date.clone(), Json::String(on.to_string()));
        item.insert("status".into(), Json::from("contacted"));
        item.insert("reason".into(), Json::from("call_back"));
        item.insert("resolution".into(), Json::from("none"));
        item.insert(callback_date.clone(), Json::String(asked.to_string()));
        let object = facts.as_object_mut().ok_or("the account is not a record")?;
        match object
            .entry(list.clone())
            .or_insert_with(|| Json::Array(Vec::new()))
        {
            Json::Array(items) => items.push(Json::Object(item)),
            _ => return Err(format!("the account's `{list}` is not a list")),
        }
        Ok(())
    }

    fn pay(
        &self,
        date: NaiveDate,
        amount: Decimal,
        promise: Option<&str>,
        sa: Option<&str>,
        facts: &mut Json,
    ) -> Result<(), String> {
        let reduce = |value: &mut Json, what: &str| -> Result<(), String> {
            let now = decimal_of(value).ok_or_else(|| format!("`{what}` is not an amount"))?;
            *value = money_json((now - amount).max(Decimal::ZERO));
            Ok(())
        };
        let arrears = facts
            .get_mut(&self.arrears)
            .ok_or_else(|| format!("the account has no `{}`", self.arrears))?;
        reduce(arrears, &self.arrears.clone())?;
        if let Some(sa) = sa {
            let (list, id, sa_arrears) = self
                .sas
                .as_ref()
                .ok_or("a payment names an SA, but the policy reads no service agreements")?;
            let item = item_with_id(facts.get_mut(list.as_str()), id, sa)
                .map_err(|e| format!("the account's `{list}`: {e}"))?;
            let value = item
                .get_mut(sa_arrears.as_str())
                .ok_or_else(|| format!("SA `{sa}` has no `{sa_arrears}`"))?;
            reduce(value, &format!("{list}[{sa}].{sa_arrears}"))?;
        }
        if let Some(promise) = promise {
            let (list, id, payments, pay_amount, pay_date) = self
                .promises
                .as_ref()
                .ok_or("a payment names a promise, but the policy reads no promises")?;
            let item = item_with_id(facts.get_mut(list.as_str()), id, promise)
                .map_err(|e| format!("the account's `{list}`: {e}"))?;
            let object = item
                .as_object_mut()
                .ok_or_else(|| format!("promise `{promise}` is not a record"))?;
            let entry = object
                .entry(payments.clone())
                .or_insert_with(|| Json::Array(Vec::new()));
            if entry.is_null() {
                *entry = Json::Array(Vec::new());
            }
            let mut payment = serde_json::Map::new();
            payment.insert(pay_amount.clone(), money_json(amount));
            payment.insert(pay_date.clone(), Json::String(date.to_string()));
            entry
                .as_array_mut()
                .ok_or_else(|| format!("promise `{promise}`'s `{payments}` is not a list"))?
                .push(Json::Object(payment));
        }
        Ok(())
    }

    /// What is wrong with a value a happening writes: keys the schema does
    /// not have (at the key), and values its field cannot hold (checked as
    /// decoding would, at the value).
    fn value_problems(
        &self,
        file: &SourceFile,
        ty: &Type,
        json: &Json,
        change: &Change,
    ) -> Vec<(Span, String)> {
        let path = change.path.as_str();
        let at = |field: &str| change.written.of(path, field);
        let unknown = crate::data::snapshot::unknown_fields_in(self.schema, ty, json, path);
        // A misspelt key also leaves its field missing: the typo is the one
        // mistake, and the record's other values are still checked.
        let misspelt_in: Vec<&str> = unknown
            .iter()
            .map(|(field, _)| field.rsplit_once('.').map_or(path, |(record, _)| record))
            .collect();
        let mut problems: Vec<(Span, String)> = unknown
            .iter()
            .map(|(field, message)| {
                let key = field.rsplit(['.', ']']).next().unwrap_or(field);
                let span = key_before(file, at(field), key).unwrap_or(at(field));
                (span, format!("`{field}`: {message}"))
            })
            .collect();
        // What the value alone makes invalid (a callback date on a disposition
        // that is no call-back) is told now, not on the day it is written.
        problems.extend(
            crate::data::snapshot::check_written(self.schema, ty, json, path)
                .into_iter()
                .filter(|e| e.missing_from().is_none_or(|r| !misspelt_in.contains(&r)))
                .map(|e| (at(&e.field), e.to_string())),
        );
        problems
    }

    /// The arrears and the aging field as they stand, for the history.
    pub fn figures(&self, facts: &Json) -> Vec<(String, Json)> {
        std::iter::once(self.arrears.as_str())
            .chain(self.ages)
            .filter_map(|name| Some((name.to_string(), facts.get(name)?.clone())))
            .collect()
    }

    /// The schema type at `path`, or why the schema has no such field.
    fn check_path(&self, path: &str, steps: &[Step]) -> Result<Type, String> {
        let mut ty = Type::Record(ACCOUNT);
        for (at, step) in steps.iter().enumerate() {
            match (step, &ty) {
                (Step::Field(name), Type::Record(record)) => {
                    let fields = &self.schema.record(*record).fields;
                    let Some(field) = fields.iter().find(|f| f.name == *name) else {
                        return Err(self.no_field(path, steps, at, *record, name));
                    };
                    ty = field.ty.clone();
                }
                (Step::Item(_), Type::List(item)) if matches!(**item, Type::Record(_)) => {
                    ty = (**item).clone();
                }
                (Step::Item(id), _) => {
                    return Err(format!("`{path}`: `[{id}]` selects a list item, but this field is not a list of records"));
                }
                (Step::Field(name), _) => {
                    return Err(format!(
                        "`{path}`: `{name}` is inside a field that is not a record"
                    ));
                }
            }
        }
        Ok(ty)
    }

    /// Why `steps[at]`, a field `record` does not have, is wrong, with the
    /// path most probably meant, written as a path is (from the account's
    /// fields, the rest of the path kept): a sibling spelt nearly so
    /// (`case.templat` → `case.template`), the field where it is in another
    /// record (`case.contacts` → `contacts`, the account's; `template` →
    /// `case.template`), or the path without `account.`, which rules write
    /// and paths do not.
    fn no_field(
        &self,
        path: &str,
        steps: &[Step],
        at: usize,
        record: crate::types::RecordId,
        name: &str,
    ) -> String {
        let (before, rest) = (
            written(&steps[..at], false),
            written(&steps[at + 1..], true),
        );
        if at == 0 && name == "account" && !rest.is_empty() {
            let rest = written(&steps[1..], false);
            let fix = match self.check_path(&rest, &steps[1..]) {
                Ok(_) => format!("write `{rest}`"),
                Err(problem) => problem,
            };
            return format!(
                "`{path}`: a path starts at the account's fields, without `account.`; {fix}"
            );
        }
        // A list written in its old place (`case.contacts`) is no typo.
        if let Some(list) = crate::data::snapshot::list_place(self.schema, record, name) {
            let short = list.strip_prefix("account.").unwrap_or(&list);
            let not_read = crate::data::snapshot::not_read_here(&list);
            return format!("`{path}`: {not_read}; write `{short}{rest}`");
        }
        let fields = &self.schema.record(record).fields;
        let meant = crate::diagnostic::nearest(name, fields.iter().map(|f| f.name.as_str()))
            .map(|sibling| {
                if before.is_empty() {
                    sibling.to_string()
                } else {
                    format!("{before}.{sibling}")
                }
            })
            .or_else(|| {
                crate::data::snapshot::belongs_elsewhere(self.schema, record, name)
                    .map(|place| place.as_path())
            })
            .map(|meant| format!("did you mean `{meant}{rest}`?"));
        let missing = if before.is_empty() {
            format!("no field `{name}` in the schema")
        } else {
            format!("`{before}` has no field `{name}`")
        };
        format!("`{path}`: {missing}{}", hint(meant))
    }

    /// The JSON value at `path` in the facts, created as null when the last
    /// field is missing; a list item must exist.
    fn locate<'j>(
        &self,
        path: &str,
        steps: &[Step],
        facts: &'j mut Json,
    ) -> Result<&'j mut Json, String> {
        let mut here = facts;
        for step in steps {
            here = match step {
                Step::Field(name) => {
                    if here.is_null() {
                        *here = Json::Object(serde_json::Map::new());
                    }
                    here.as_object_mut()
                        .ok_or_else(|| {
                            format!("`{path}`: the account's value before `{name}` is not a record")
                        })?
                        .entry(name.clone())
                        .or_insert(Json::Null)
                }
                Step::Item(id) => {
                    item_with_id(Some(here), "id", id).map_err(|e| format!("`{path}`: {e}"))?
                }
            };
        }
        Ok(here)
    }
}

/// The item of a list whose `id_field` is `id`; otherwise the ids there are,
/// for the message.
fn item_with_id<'j>(
    items: Option<&'j mut Json>,
    id_field: &str,
    id: &str,
) -> Result<&'j mut Json, String> {
    let items = items
        .and_then(Json::as_array_mut)
        .map(Vec::as_mut_slice)
        .unwrap_or_default();
    let ids: Vec<String> = items
        .iter()
        .filter_map(|item| item.get(id_field).and_then(number_text))
        .map(|id| format!("`{id}`"))
        .collect();
    items
        .iter_mut()
        .find(|item| item.get(id_field).and_then(number_text) == Some(id))
        .ok_or_else(|| {
            format!(
                "no item with {id_field} `{id}` (the {id_field}s there: {})",
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.join(", ")
                }
            )
        })
}

/// Steps written as a path names them: `service_agreements[SA-2].arrears`;
/// `after` another step, the first field too with its `.`.
fn written(steps: &[Step], after: bool) -> String {
    let mut text = String::new();
    for step in steps {
        match step {
            Step::Field(name) => {
                if after || !text.is_empty() {
                    text.push('.');
                }
                text.push_str(name);
            }
            Step::Item(id) => {
                text.push('[');
                text.push_str(id);
                text.push(']');
            }
        }
    }
    text
}

fn hint(help: Option<String>) -> String {
    help.map(|h| format!("; {h}")).unwrap_or_default()
}

/// Appends `contact` to the account's contacts (`policy::case::CONTACTS_FIELD`),
/// which outlive a case: the rails count them per debt.
pub fn add_contact(facts: &mut Json, contact: &Contact) {
    let Some(account) = facts.as_object_mut() else {
        return;
    };
    let list = account
        .entry(crate::policy::case::CONTACTS_FIELD)
        .or_insert(Json::Null);
    if !list.is_array() {
        *list = Json::Array(Vec::new());
    }
    if let (Json::Array(items), Ok(item)) = (list, serde_json::to_value(contact)) {
        items.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_name_fields_and_list_items() {
        use Step::{Field as F, Item as I};
        assert_eq!(
            parse_path("days_past_due"),
            Some(vec![F("days_past_due".into())])
        );
        assert_eq!(
            parse_path("service_agreements[SA-2].arrears"),
            Some(vec![
                F("service_agreements".into()),
                I("SA-2".into()),
                F("arrears".into())
            ])
        );
        assert_eq!(
            parse_path("pay_plan.active"),
            Some(vec![F("pay_plan".into()), F("active".into())])
        );
        for bad in ["", "a..b", "a[", "a[]", "a b", "[x]", "a]x"] {
            assert_eq!(parse_path(bad), None, "{bad:?}");
        }
    }
}
