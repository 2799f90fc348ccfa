//! Case actions: what the pipeline tells the case-management system, the
//! dialler and the letter vendor to do. Each carries the rules that caused it.
//! It must not decide anything: actions are data.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use indexmap::IndexMap;
use rust_decimal::Decimal;
use serde::Serialize;

use smallvec::SmallVec;

use super::promise::Status;

/// Event params, shared with the template that declares them.
pub type Params = Arc<IndexMap<String, String>>;

/// Text that is usually one of the policy's own strings (a table name, an
/// enum variant, a template), borrowed from it; computed text is owned.
pub type Text<'p> = Cow<'p, str>;

/// The rule refs (`table:row`) behind an action: borrowed from the plan, so
/// an account's actions touch no reference count the threads share.
pub type Rules<'p> = SmallVec<[Text<'p>; 2]>;

/// One action, borrowing the policy that made it (`'p`); [`Action::into_owned`]
/// keeps one beyond it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Action<'p> {
    #[serde(flatten)]
    pub kind: ActionKind<'p>,
    pub rules: Rules<'p>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instalment {
    #[serde(serialize_with = "iso_date")]
    pub due: NaiveDate,
    pub amount: Money,
}

/// An amount an action carries, kept as the `Decimal` the run computed and
/// written as text only when the action is written or shown
/// ([`crate::types::format_money`]'s `812.40`): an account's actions hold no
/// string made for an amount. Equal amounts write the same text (it is
/// normalised), so equality is the amounts'.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money(pub Decimal);

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(crate::types::money_text(self.0).as_str())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::types::money_text(self.0).as_str())
    }
}

/// Text copied from a table output is an `Option`: a null output is written
/// as `null`, never as an empty string.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionKind<'p> {
    OpenCase {
        category: Text<'p>,
        reason: Option<Text<'p>>,
    },
    CloseCase {
        reason: Option<String>,
    },
    /// The open case starts again today in `category`: its pending events were
    /// cancelled, and the class, arm and events that follow are its new treatment.
    RetreatCase {
        category: Text<'p>,
        reason: Option<Text<'p>>,
    },
    CancelPendingEvents,
    /// One pending event an earlier run scheduled is no longer wanted.
    CancelEvent {
        event: String,
        reason: String,
    },
    RemoveSa {
        sa: String,
        reason: Option<String>,
    },
    CreateTodo {
        reason: String,
    },
    AssignClass {
        class: Option<Text<'p>>,
        template: Text<'p>,
    },
    AssignArm {
        experiment: Text<'p>,
        arm: Text<'p>,
        template: Option<Text<'p>>,
        holdout: bool,
    },
    ScheduleEvent {
        event: Text<'p>,
        event_type: Text<'p>,
        #[serde(serialize_with = "iso_date")]
        date: NaiveDate,
        /// The template event's, borrowed.
        #[serde(skip_serializing_if = "no_params")]
        params: Cow<'p, IndexMap<String, String>>,
        /// Its local time of day and the window it may happen in, when it has them.
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        timing: Option<Timing<'p>>,
    },
    /// A promise or payment plan evaluated. For a plan (promises sharing a `plan` id), the
    /// figures are those of `instalment`: the one that broke, else the next one due, else the last.
    PromiseOutcome {
        promise: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        instalment: Option<String>,
        status: Status,
        paid: Money,
        required: Money,
        #[serde(serialize_with = "iso_date")]
        deadline: NaiveDate,
        arrears_paid_in_full: bool,
        /// The done event the case system records today, its id as is
        /// (`policy::case::promise_outcome_event_id`): present when the
        /// outcome is decided and the case holds none for the promise yet.
        #[serde(skip_serializing_if = "Option::is_none")]
        record: Option<String>,
    },
    FollowUp {
        promise: String,
        follow_up: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
        /// The case event the follow-up is kept as
        /// (`policy::case::follow_up_event_id`): its letter or call, or
        /// recorded done when it has none. Not written: a letter's or call's
        /// `schedule_event` names it.
        #[serde(skip)]
        event: String,
    },
    ResumeTreatment {
        template: Option<String>,
    },
    OfferPaymentPlan {
        total: Money,
        instalments: Vec<Instalment>,
    },
    NominateSeverance {
        sas: Vec<String>,
    },
    ExcludeSeverance {
        sa: String,
        reason: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
    },
    /// Contact is suspended: the contact events this run would have scheduled were withheld.
    HoldContact {
        reason: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        withheld: Vec<String>,
        /// Contact events an earlier run scheduled, still pending: cancelled.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        cancelled: Vec<String>,
    },
    /// A guard rail stopped a proposed action, or held back an event still
    /// pending in the case (which stays pending); `until`: the first day it
    /// is permitted again, if known.
    Withhold {
        action: Text<'p>,
        #[serde(skip_serializing_if = "Option::is_none")]
        event: Option<Text<'p>>,
        /// An event this run proposed: the day (and time) it was proposed
        /// for. The case keeps it pending as if scheduled ([`super::case::apply`]),
        /// so it goes out once the rails allow it.
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<NaiveDate>,
        #[serde(skip_serializing_if = "Option::is_none")]
        time: Option<Text<'p>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<NaiveDate>,
        /// The service agreements a withheld severance concerns: a withheld
        /// nomination's, or, for a `start_severance` held back because no SA is
        /// nominated, those the run excluded or whose nomination was withheld.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        sas: Vec<String>,
        /// The rail cancels it (`cancel`): nothing of it is kept to go out later.
        #[serde(rename = "final", skip_serializing_if = "is_false")]
        is_final: bool,
        reason: Option<String>,
    },
    /// A guard rail moved an event to the first permitted date (and time).
    Postpone {
        event: Text<'p>,
        #[serde(serialize_with = "iso_date")]
        from: NaiveDate,
        #[serde(serialize_with = "iso_date")]
        to: NaiveDate,
        #[serde(skip_serializing_if = "Option::is_none")]
        time: Option<Text<'p>>,
        reason: Option<String>,
    },
    /// A guard rail replaced an event's channel (a call becomes a letter).
    Rechannel {
        event: Text<'p>,
        from: Text<'p>,
        to: Text<'p>,
        reason: Option<String>,
    },
    /// A flag for the case from one of the policy's flag tables.
    Flag {
        table: Text<'p>,
        values: FlagValues<'p>,
    },
}

/// When in the day a contact event may happen: its local time (`HH:MM`) if
/// it has one, and the permitted window in the consumer's time zone, so the
/// dialler needs to know no rule. Its texts are the policy's (a template's
/// time, a rail's window), borrowed: an account touches no shared count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Timing<'p> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<Text<'p>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window<'p>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Window<'p> {
    pub start: Text<'p>,
    pub end: Text<'p>,
    /// IANA name (`America/Los_Angeles`); null when the account has none.
    pub time_zone: Option<Arc<str>>,
}

/// `YYYY-MM-DD`, as chrono's `Display` writes it, without the formatting
/// machinery (a batch writes millions of dates).
fn iso_date<S: serde::Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    match IsoDate::of(*date) {
        Some(text) => serializer.serialize_str(text.as_str()),
        None => serializer.collect_str(date),
    }
}

/// A date as `YYYY-MM-DD`, the text chrono's `Display` gives, written
/// without the formatting machinery (~10 instructions against ~600).
pub(crate) struct IsoDate([u8; 10]);

impl IsoDate {
    /// `None` for a year outside 0–9999, which chrono writes with a sign or
    /// more digits: write those with `Display`.
    pub(crate) fn of(date: NaiveDate) -> Option<IsoDate> {
        use chrono::Datelike;
        let (y, m, d) = (date.year(), date.month(), date.day());
        if !(0..=9999).contains(&y) {
            return None;
        }
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let y = y as u32;
        Some(IsoDate([
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
        ]))
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }
}

/// A flag row's outputs by name, in column order; written as a JSON object.
#[derive(Clone, Debug, Eq)]
pub enum FlagValues<'p> {
    /// A row whose outputs are all constants: made once, with the policy.
    Constant(&'p ConstantFlag),
    /// Outputs computed for this account.
    Computed(Vec<FlagValue>),
}

impl FlagValues<'_> {
    pub fn values(&self) -> &[FlagValue] {
        match self {
            FlagValues::Constant(c) => &c.values,
            FlagValues::Computed(values) => values,
        }
    }
}

/// Equal when the values are, however they were made.
impl PartialEq for FlagValues<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.values() == other.values()
    }
}

/// A flag table row's constant outputs, and the JSON members of its `flag`
/// action rendered once by [`Action`]'s `Serialize`, for the batch writer to
/// copy: `"type":"flag","table":…,"values":{…},"rules":[ROW]`, the row's own
/// ref being the rules of nearly every flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstantFlag {
    pub values: Box<[FlagValue]>,
    /// The row's rule ref (`table:row`).
    pub rule: Box<str>,
    pub json: Box<str>,
    /// Where the `,"rules":…` member starts in `json`.
    pub rules_at: usize,
}

impl ConstantFlag {
    pub fn new(table: &str, rule: &str, values: Vec<FlagValue>) -> ConstantFlag {
        let mut flag = ConstantFlag {
            values: values.into(),
            rule: rule.into(),
            json: Box::default(),
            rules_at: 0,
        };
        let members = |object: String| object[1..object.len() - 1].to_string();
        let (kind_only, whole) = {
            let kind = ActionKind::Flag {
                table: table.into(),
                values: FlagValues::Constant(&flag),
            };
            let kind_only = members(serde_json::to_string(&kind).expect("a flag serialises"));
            let action = Action {
                kind,
                rules: smallvec::smallvec![rule.into()],
            };
            let whole = members(serde_json::to_string(&action).expect("a flag serialises"));
            (kind_only, whole)
        };
        debug_assert!(whole.starts_with(&kind_only));
        flag.rules_at = kind_only.len();
        flag.json = whole.into();
        flag
    }

    /// The members from `"type"` to the values.
    pub fn kind_json(&self) -> &str {
        &self.json[..self.rules_at]
    }
}

/// One output of a flag row.
#[derive(Clone, Debug, Eq)]
pub struct FlagValue {
    pub name: Arc<str>,
    pub value: serde_json::Value,
    /// A `text` output: shown quoted, like every other text (an enum's variant is not).
    pub text: bool,
    /// A decimal its row writes as a percent (`2%`): shown so to people, as
    /// the table's pages and `dry-run` show the row; JSON keeps the fraction.
    pub percent: bool,
}

/// Equal when the output and its value are: how a row writes a percent (`2%`
/// or `0.02`) is for people and makes no other action.
impl PartialEq for FlagValue {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value && self.text == other.text
    }
}

impl Serialize for FlagValues<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let values = self.values();
        let mut map = serializer.serialize_map(Some(values.len()))?;
        for FlagValue { name, value, .. } in values {
            map.serialize_entry(&**name, &WholeNumbers(value))?;
        }
        map.end()
    }
}

/// A JSON value whose numbers are handed to the serializer as integers.
/// serde_json keeps numbers as text (arbitrary precision, so account amounts
/// are exact) and passes them on as a private struct that only serde_json
/// writes as a number; sonic-rs, which writes the batch's actions, would
/// write the struct. A flag's numbers are integers and days (money and
/// decimals are strings), so every number here is an `i64`.
struct WholeNumbers<'a>(&'a serde_json::Value);

impl Serialize for WholeNumbers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde_json::Value as Json;
        match self.0 {
            Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => serializer.serialize_i64(i),
                (None, Some(u)) => serializer.serialize_u64(u),
                _ => n.serialize(serializer),
            },
            Json::Array(items) => serializer.collect_seq(items.iter().map(WholeNumbers)),
            Json::Object(map) => {
                serializer.collect_map(map.iter().map(|(k, v)| (k, WholeNumbers(v))))
            }
            other => other.serialize(serializer),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn no_params(params: &IndexMap<String, String>) -> bool {
    params.is_empty()
}

impl Action<'_> {
    /// The same action, owning its text: for keeping it beyond the policy.
    pub fn into_owned(self) -> Action<'static> {
        Action {
            kind: self.kind.into_owned(),
            rules: self
                .rules
                .into_iter()
                .map(|r| Cow::Owned(r.into_owned()))
                .collect(),
        }
    }
}

fn owned(text: Text<'_>) -> Text<'static> {
    Cow::Owned(text.into_owned())
}

impl Timing<'_> {
    /// The same timing, owning its text.
    pub fn into_owned(self) -> Timing<'static> {
        Timing {
            time: self.time.map(owned),
            window: self.window.map(|w| Window {
                start: owned(w.start),
                end: owned(w.end),
                time_zone: w.time_zone,
            }),
        }
    }
}

impl ActionKind<'_> {
    /// The same action, owning its text: for keeping it beyond the policy.
    pub fn into_owned(self) -> ActionKind<'static> {
        use ActionKind as K;
        match self {
            K::OpenCase { category, reason } => K::OpenCase {
                category: owned(category),
                reason: reason.map(owned),
            },
            K::CloseCase { reason } => K::CloseCase { reason },
            K::RetreatCase { category, reason } => K::RetreatCase {
                category: owned(category),
                reason: reason.map(owned),
            },
            K::CancelPendingEvents => K::CancelPendingEvents,
            K::CancelEvent { event, reason } => K::CancelEvent { event, reason },
            K::RemoveSa { sa, reason } => K::RemoveSa { sa, reason },
            K::CreateTodo { reason } => K::CreateTodo { reason },
            K::AssignClass { class, template } => K::AssignClass {
                class: class.map(owned),
                template: owned(template),
            },
            K::AssignArm {
                experiment,
                arm,
                template,
                holdout,
            } => K::AssignArm {
                experiment: owned(experiment),
                arm: owned(arm),
                template: template.map(owned),
                holdout,
            },
            K::ScheduleEvent {
                event,
                event_type,
                date,
                params,
                timing,
            } => K::ScheduleEvent {
                event: owned(event),
                event_type: owned(event_type),
                date,
                params: Cow::Owned(params.into_owned()),
                timing: timing.map(Timing::into_owned),
            },
            K::PromiseOutcome {
                promise,
                instalment,
                status,
                paid,
                required,
                deadline,
                arrears_paid_in_full,
                record,
            } => K::PromiseOutcome {
                promise,
                instalment,
                status,
                paid,
                required,
                deadline,
                arrears_paid_in_full,
                record,
            },
            K::FollowUp {
                promise,
                follow_up,
                detail,
                event,
            } => K::FollowUp {
                promise,
                follow_up,
                detail,
                event,
            },
            K::ResumeTreatment { template } => K::ResumeTreatment { template },
            K::OfferPaymentPlan { total, instalments } => {
                K::OfferPaymentPlan { total, instalments }
            }
            K::NominateSeverance { sas } => K::NominateSeverance { sas },
            K::ExcludeSeverance { sa, reason, until } => K::ExcludeSeverance { sa, reason, until },
            K::HoldContact {
                reason,
                withheld,
                cancelled,
            } => K::HoldContact {
                reason,
                withheld,
                cancelled,
            },
            K::Withhold {
                action,
                event,
                date,
                time,
                until,
                sas,
                is_final,
                reason,
            } => K::Withhold {
                action: owned(action),
                event: event.map(owned),
                date,
                time: time.map(owned),
                until,
                sas,
                is_final,
                reason,
            },
            K::Postpone {
                event,
                from,
                to,
                time,
                reason,
            } => K::Postpone {
                event: owned(event),
                from,
                to,
                time: time.map(owned),
                reason,
            },
            K::Rechannel {
                event,
                from,
                to,
                reason,
            } => K::Rechannel {
                event: owned(event),
                from: owned(from),
                to: owned(to),
                reason,
            },
            K::Flag { table, values } => K::Flag {
                table: owned(table),
                values: FlagValues::Computed(values.values().to_vec()),
            },
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            ActionKind::OpenCase { .. } => "open_case",
            ActionKind::CloseCase { .. } => "close_case",
            ActionKind::RetreatCase { .. } => "retreat_case",
            ActionKind::CancelPendingEvents => "cancel_pending_events",
            ActionKind::CancelEvent { .. } => "cancel_event",
            ActionKind::RemoveSa { .. } => "remove_sa",
            ActionKind::CreateTodo { .. } => "create_todo",
            ActionKind::AssignClass { .. } => "assign_class",
            ActionKind::AssignArm { .. } => "assign_arm",
            ActionKind::ScheduleEvent { .. } => "schedule_event",
            ActionKind::PromiseOutcome { .. } => "promise_outcome",
            ActionKind::FollowUp { .. } => "follow_up",
            ActionKind::ResumeTreatment { .. } => "resume_treatment",
            ActionKind::OfferPaymentPlan { .. } => "offer_payment_plan",
            ActionKind::NominateSeverance { .. } => "nominate_severance",
            ActionKind::ExcludeSeverance { .. } => "exclude_severance",
            ActionKind::HoldContact { .. } => "hold_contact",
            ActionKind::Withhold { .. } => "withhold",
            ActionKind::Postpone { .. } => "postpone",
            ActionKind::Rechannel { .. } => "rechannel",
            ActionKind::Flag { .. } => "flag",
        }
    }
}

/// One line for people: `open_case category=arrears reason="..."`.
impl fmt::Display for ActionKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self {
            ActionKind::OpenCase { category, reason } => {
                write!(
                    f,
                    " category={category} reason={}",
                    Quoted(reason.as_deref())
                )
            }
            ActionKind::CloseCase { reason } => {
                write!(f, " reason={}", Quoted(reason.as_deref()))
            }
            ActionKind::RetreatCase { category, reason } => {
                write!(
                    f,
                    " category={category} reason={}",
                    Quoted(reason.as_deref())
                )
            }
            ActionKind::CreateTodo { reason } => write!(f, " reason={reason:?}"),
            ActionKind::CancelPendingEvents => Ok(()),
            ActionKind::CancelEvent { event, reason } => {
                write!(f, " event={event} reason={reason:?}")
            }
            ActionKind::RemoveSa { sa, reason } => {
                write!(f, " sa={sa} reason={}", Quoted(reason.as_deref()))
            }
            ActionKind::AssignClass { class, template } => {
                write!(f, " class={} template={template}", OrNull(class.as_deref()))
            }
            ActionKind::AssignArm {
                experiment,
                arm,
                template,
                holdout,
            } => {
                write!(f, " experiment={experiment} arm={arm}")?;
                if let Some(t) = template {
                    write!(f, " template={t}")?;
                }
                if *holdout {
                    f.write_str(" holdout")?;
                }
                Ok(())
            }
            ActionKind::ScheduleEvent {
                event,
                event_type,
                date,
                params,
                timing,
            } => {
                write!(f, " {date} {event_type} event={event}")?;
                for (k, v) in params.iter() {
                    write!(f, " {k}={v:?}")?;
                }
                if let Some(Timing { time, window }) = timing {
                    if let Some(t) = time {
                        write!(f, " time={t}")?;
                    }
                    if let Some(w) = window {
                        write!(f, " window={}-{}", w.start, w.end)?;
                        if let Some(z) = &w.time_zone {
                            write!(f, " time_zone={z}")?;
                        }
                    }
                }
                Ok(())
            }
            ActionKind::Withhold {
                action,
                event,
                date,
                time,
                until,
                sas,
                is_final,
                reason,
            } => {
                write!(f, " action={action}")?;
                if let Some(e) = event {
                    write!(f, " event={e}")?;
                }
                if let Some(d) = date {
                    write!(f, " date={d}")?;
                }
                if let Some(t) = time {
                    write!(f, " time={t}")?;
                }
                if let Some(u) = until {
                    write!(f, " until={u}")?;
                }
                if !sas.is_empty() {
                    write!(f, " sas={}", sas.join(","))?;
                }
                if *is_final {
                    f.write_str(" final")?;
                }
                write!(f, " reason={}", Quoted(reason.as_deref()))
            }
            ActionKind::Postpone {
                event,
                from,
                to,
                time,
                reason,
            } => {
                write!(f, " event={event} from={from} to={to}")?;
                if let Some(t) = time {
                    write!(f, " time={t}")?;
                }
                write!(f, " reason={}", Quoted(reason.as_deref()))
            }
            ActionKind::Rechannel {
                event,
                from,
                to,
                reason,
            } => write!(
                f,
                " event={event} from={from} to={to} reason={}",
                Quoted(reason.as_deref())
            ),
            ActionKind::PromiseOutcome {
                promise,
                instalment,
                status,
                paid,
                required,
                deadline,
                arrears_paid_in_full,
                ..
            } => {
                let status = match status {
                    Status::Pending => "pending",
                    Status::Kept => "kept",
                    Status::Broken => "broken",
                };
                write!(f, " promise={promise}")?;
                if let Some(i) = instalment {
                    write!(f, " instalment={i}")?;
                }
                write!(
                    f,
                    " status={status} paid={paid} required={required} deadline={deadline}"
                )?;
                if *arrears_paid_in_full {
                    f.write_str(" arrears_paid_in_full")?;
                }
                Ok(())
            }
            ActionKind::FollowUp {
                promise,
                follow_up,
                detail,
                ..
            } => {
                write!(f, " promise={promise} follow_up={follow_up}")?;
                if let Some(d) = detail {
                    write!(f, " detail={d:?}")?;
                }
                Ok(())
            }
            ActionKind::ResumeTreatment { template } => match template {
                Some(t) => write!(f, " template={t}"),
                None => Ok(()),
            },
            ActionKind::OfferPaymentPlan { total, instalments } => {
                write!(f, " total={total}")?;
                for i in instalments {
                    write!(f, " {}:{}", i.due, i.amount)?;
                }
                Ok(())
            }
            ActionKind::NominateSeverance { sas } => write!(f, " sas={}", sas.join(",")),
            ActionKind::HoldContact {
                reason,
                withheld,
                cancelled,
            } => {
                write!(f, " reason={reason:?}")?;
                if !withheld.is_empty() {
                    write!(f, " withheld={}", withheld.join(","))?;
                }
                if !cancelled.is_empty() {
                    write!(f, " cancelled={}", cancelled.join(","))?;
                }
                Ok(())
            }
            ActionKind::Flag { table, values } => {
                write!(f, " table={table}")?;
                for FlagValue {
                    name,
                    value,
                    text,
                    percent,
                } in values.values()
                {
                    let fraction = match value {
                        serde_json::Value::String(s) if *percent => s.parse::<Decimal>().ok(),
                        _ => None,
                    };
                    if let Some(fraction) = fraction {
                        let written = crate::lang::syntax::ast::Literal::Percent(fraction);
                        write!(f, " {name}={written}")?;
                        continue;
                    }
                    match value {
                        serde_json::Value::String(s) if *text => write!(f, " {name}={s:?}")?,
                        serde_json::Value::String(s) => write!(f, " {name}={s}")?,
                        other => write!(f, " {name}={other}")?,
                    }
                }
                Ok(())
            }
            ActionKind::ExcludeSeverance { sa, reason, until } => {
                write!(f, " sa={sa} reason={}", Quoted(reason.as_deref()))?;
                if let Some(u) = until {
                    write!(f, " until={u}")?;
                }
                Ok(())
            }
        }
    }
}

/// Optional text for people: `"text"` (quoted and escaped as `{:?}` does), or `null`.
struct Quoted<'a>(Option<&'a str>);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, "{text:?}"),
            None => f.write_str("null"),
        }
    }
}

/// Optional text for people, as written, or `null`.
struct OrNull<'a>(Option<&'a str>);

impl fmt::Display for OrNull<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.unwrap_or("null"))
    }
}

/// Sample actions for tests that must cover every kind.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;

    /// Text with everything a JSON writer must escape, and non-ASCII.
    pub(crate) const TRICKY: &str =
        "quote \" backslash \\ tab \t newline \n nul \u{0} bell \u{7} del \u{7f} é 漢 🦀 </script>";

    /// [`every_kind`], and the kinds again with their optional fields absent
    /// (null or skipped) and a flag's values computed rather than constant.
    pub(crate) fn variants(text: &str) -> Vec<ActionKind<'static>> {
        let mut kinds = every_kind(text);
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let flag_values = kinds
            .iter()
            .find_map(|k| match k {
                ActionKind::Flag { values, .. } => Some(values.values().to_vec()),
                _ => None,
            })
            .expect("a flag");
        kinds.extend([
            ActionKind::OpenCase {
                category: String::new().into(),
                reason: None,
            },
            ActionKind::RetreatCase {
                category: text.to_string().into(),
                reason: None,
            },
            ActionKind::CloseCase { reason: None },
            ActionKind::AssignClass {
                class: None,
                template: text.to_string().into(),
            },
            ActionKind::AssignArm {
                experiment: text.to_string().into(),
                arm: text.to_string().into(),
                template: Some(text.to_string().into()),
                holdout: true,
            },
            ActionKind::ScheduleEvent {
                event: text.to_string().into(),
                event_type: text.to_string().into(),
                date,
                params: Default::default(),
                timing: None,
            },
            ActionKind::ScheduleEvent {
                event: text.to_string().into(),
                event_type: text.to_string().into(),
                date: NaiveDate::from_ymd_opt(-1, 6, 15).expect("date"),
                params: Cow::Owned(IndexMap::from([
                    (text.to_string(), text.to_string()),
                    (String::new(), String::new()),
                ])),
                timing: Some(Timing {
                    time: None,
                    window: Some(Window {
                        start: text.to_string().into(),
                        end: text.to_string().into(),
                        time_zone: None,
                    }),
                }),
            },
            ActionKind::ScheduleEvent {
                event: text.to_string().into(),
                event_type: text.to_string().into(),
                date,
                params: Default::default(),
                timing: Some(Timing {
                    time: Some(text.to_string().into()),
                    window: None,
                }),
            },
            ActionKind::HoldContact {
                reason: text.into(),
                withheld: Vec::new(),
                cancelled: Vec::new(),
            },
            ActionKind::Withhold {
                action: text.to_string().into(),
                event: None,
                date: None,
                time: None,
                until: None,
                sas: Vec::new(),
                is_final: false,
                reason: None,
            },
            ActionKind::ExcludeSeverance {
                sa: text.into(),
                reason: None,
                until: None,
            },
            ActionKind::Flag {
                table: text.to_string().into(),
                values: FlagValues::Computed(flag_values),
            },
            ActionKind::Flag {
                table: text.to_string().into(),
                values: FlagValues::Computed(Vec::new()),
            },
        ]);
        kinds
    }

    /// One action of every kind, every optional field present, every text `text`.
    pub(crate) fn every_kind(text: &str) -> Vec<ActionKind<'static>> {
        let date = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let text = || String::from(text);
        let flag_values = [
            ("days", serde_json::Value::from(-42i64), false),
            ("big", serde_json::Value::from(u64::MAX), false),
            ("note", serde_json::Value::from(text()), true),
            ("variant", serde_json::Value::from(text()), false),
            ("none", serde_json::Value::Null, true),
        ]
        .into_iter()
        .map(|(name, value, text)| FlagValue {
            name: name.into(),
            value,
            text,
            percent: false,
        })
        .collect();
        // Leaked: a test's policy-made flag, as `'static` as the samples.
        let flag: &'static ConstantFlag =
            Box::leak(Box::new(ConstantFlag::new(&text(), &text(), flag_values)));
        vec![
            ActionKind::OpenCase {
                category: text().into(),
                reason: Some(text().into()),
            },
            ActionKind::CloseCase {
                reason: Some(text()),
            },
            ActionKind::RetreatCase {
                category: text().into(),
                reason: Some(text().into()),
            },
            ActionKind::CancelPendingEvents,
            ActionKind::CancelEvent {
                event: text(),
                reason: text(),
            },
            ActionKind::RemoveSa {
                sa: text(),
                reason: Some(text()),
            },
            ActionKind::CreateTodo { reason: text() },
            ActionKind::AssignClass {
                class: Some(text().into()),
                template: text().into(),
            },
            ActionKind::AssignArm {
                experiment: text().into(),
                arm: text().into(),
                template: None,
                holdout: false,
            },
            ActionKind::ScheduleEvent {
                event: text().into(),
                event_type: text().into(),
                date,
                params: Cow::Owned([(text(), text())].into_iter().collect()),
                timing: Some(Timing {
                    time: Some(text().into()),
                    window: Some(Window {
                        start: text().into(),
                        end: text().into(),
                        time_zone: None,
                    }),
                }),
            },
            ActionKind::PromiseOutcome {
                promise: text(),
                instalment: Some(text()),
                status: Status::Kept,
                paid: Money(Decimal::new(81240, 3)),
                required: Money(Decimal::new(-5, 1)),
                deadline: date,
                arrears_paid_in_full: true,
                record: Some(text()),
            },
            ActionKind::FollowUp {
                promise: text(),
                follow_up: text(),
                detail: Some(text()),
                event: text(),
            },
            ActionKind::ResumeTreatment { template: None },
            ActionKind::OfferPaymentPlan {
                total: Money(Decimal::new(100, 0)),
                instalments: vec![Instalment {
                    due: date,
                    amount: Money(Decimal::new(3333, 2)),
                }],
            },
            ActionKind::NominateSeverance { sas: vec![text()] },
            ActionKind::ExcludeSeverance {
                sa: text(),
                reason: Some(text()),
                until: Some(date),
            },
            ActionKind::HoldContact {
                reason: text(),
                withheld: vec![text()],
                cancelled: vec![text()],
            },
            ActionKind::Withhold {
                action: text().into(),
                event: Some(text().into()),
                date: Some(date),
                time: Some(text().into()),
                until: Some(date),
                sas: vec![text(), text()],
                is_final: true,
                reason: Some(text()),
            },
            ActionKind::Postpone {
                event: text().into(),
                from: date,
                to: date,
                time: Some(text().into()),
                reason: Some(text()),
            },
            ActionKind::Rechannel {
                event: text().into(),
                from: text().into(),
                to: text().into(),
                reason: Some(text()),
            },
            ActionKind::Flag {
                table: text().into(),
                values: FlagValues::Constant(flag),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_written_as_chrono_displays_them() {
        let dates = [
            (0, 1, 1),
            (9, 2, 3),
            (999, 12, 31),
            (2026, 11, 22),
            (9999, 12, 31),
        ]
        .into_iter()
        .filter_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
        .chain([-1, 10000].map(|y| NaiveDate::from_ymd_opt(y, 6, 15).expect("date")));
        for date in dates {
            let written = serde_json::to_string(&Instalment {
                due: date,
                amount: Money(Decimal::new(100, 2)),
            })
            .expect("serialises");
            assert_eq!(
                written,
                format!("{{\"due\":\"{date}\",\"amount\":\"1.00\"}}")
            );
        }
    }

    /// An amount is written as `format_money` writes it, whatever its scale.
    #[test]
    fn amounts_are_written_with_at_least_two_places() {
        for (amount, text) in [
            (Decimal::new(8124, 1), "812.40"),
            (Decimal::new(812400, 3), "812.40"),
            (Decimal::new(81245, 2), "812.45"),
            (Decimal::new(-5, 0), "-5.00"),
        ] {
            let json = serde_json::to_string(&Money(amount)).expect("serialises");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(sonic_rs::to_string(&Money(amount)).expect("sonic-rs"), json);
            assert_eq!(Money(amount).to_string(), text);
        }
    }

    #[test]
    fn null_text_is_shown_as_null_and_empty_text_as_quotes() {
        let shown = |reason: Option<&str>| {
            ActionKind::OpenCase {
                category: "arrears".into(),
                reason: reason.map(Into::into),
            }
            .to_string()
        };
        assert_eq!(shown(None), "open_case category=arrears reason=null");
        assert_eq!(shown(Some("")), r#"open_case category=arrears reason="""#);
        let class = |class: Option<&str>| {
            ActionKind::AssignClass {
                class: class.map(Into::into),
                template: "t".into(),
            }
            .to_string()
        };
        assert_eq!(class(None), "assign_class class=null template=t");
        assert_eq!(class(Some("loan")), "assign_class class=loan template=t");
    }

    /// The batch writes the rarer actions with sonic-rs; its JSON must be
    /// serde_json's, byte for byte, whatever the strings hold.
    #[test]
    fn sonic_rs_writes_the_json_serde_json_writes() {
        let tricky = samples::TRICKY;
        let kinds = samples::variants(tricky);
        for kind in &kinds {
            let serde = serde_json::to_string(kind).expect("serde_json");
            let sonic = sonic_rs::to_string(kind).expect("sonic-rs");
            assert_eq!(sonic, serde);
        }
        let rules: Rules = smallvec::smallvec![tricky.into(), "t:r".into()];
        assert_eq!(
            sonic_rs::to_string(&rules).expect("sonic-rs"),
            serde_json::to_string(&rules).expect("serde_json")
        );
    }
}
