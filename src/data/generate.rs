//! Synthetic extracts for `arrears generate`: realistic card, loan and utility
//! accounts (figures from the collections domain notes), deterministic for a
//! seed (ChaCha8), optionally with a share of deliberately malformed rows.
//! It decides nothing itself: what an open case holds (its class, template
//! and calendar) it asks the policy the extract is made for ([`CaseHistory`]).
//!
//! CSV output matches the shipped mapping `rules/mappings/extract.yaml`: the
//! main file plus companion files `<stem>.sas.csv`, `<stem>.promises.csv`,
//! `<stem>.payments.csv`, `<stem>.dispositions.csv`, and the case's history
//! `<stem>.case_events.csv`, `<stem>.removed_sas.csv` with the account's
//! `<stem>.contacts.csv`, each in account order. The history is what a case
//! system would hold of the generated case ([`CaseHistory`]): the class and
//! template the policy gives the account, the template's events dated from
//! the case's start on the account's calendar, the contacts
//! they and the agents' dispositions made, the callbacks booked, the
//! outcomes of the promises decided before the extract's day (each the
//! `record` the run gave the night it was decided) with the follow-ups
//! that night made, and the callbacks booked on pending promises; and the
//! contacts of an account without an open case, from a case closed lately
//! (the account's contacts, not the case's: Reg F counts per debt).

use std::io::Write;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value as Json};

use crate::data::snapshot::decode_account;
use crate::policy::calendar::WorkCalendar;
use crate::policy::case::{
    apply, contact_made, execute_due, is_follow_up_of, Channel, Contact, ContactOutcome, Event,
    EventStatus,
};
use crate::policy::{Action, ActionKind, Policy, PromiseSlots};
use crate::types::Value;

pub const MAIN_COLUMNS: [&str; 32] = [
    "ACCT_NO",
    "CUST_CLASS",
    "JURIS",
    "PRODUCT",
    "DPD",
    "ARREARS_AMT",
    "BALANCE",
    "CREDIT_LIMIT",
    "RISK_SCORE",
    "BANKRUPTCY",
    "DECEASED",
    "HARDSHIP",
    "CONTACT_INVALID",
    "FORCED",
    "PSR",
    "BUDGET_PLAN",
    "PAY_PLAN_ACTIVE",
    "PAY_PLAN_DUE",
    "LAST_PAY_DATE",
    "CASE_CATEGORY",
    "CASE_CLASS",
    "CASE_TEMPLATE",
    "CASE_START",
    "TIME_ZONE",
    "BS_START",
    "BS_CRISIS",
    "BS_CRISIS_END",
    "VALIDATION_DATE",
    "DISPUTE_DATE",
    "DISPUTE_VERIFIED",
    "FORECAST_LOW_F",
    "FORECAST_HIGH_F",
];
pub const SA_COLUMNS: [&str; 10] = [
    "ACCT_NO",
    "SA_ID",
    "SA_TYPE",
    "DEBT_CLASS",
    "SA_ARREARS",
    "LIFE_SUPPORT",
    "SENSITIVE_LOAD",
    "MASTER_METER",
    "MED_CERT_UNTIL",
    "SPACE_HEATING",
];
pub const PROMISE_COLUMNS: [&str; 5] = ["ACCT_NO", "PROMISE_ID", "PLAN_ID", "AMOUNT", "DUE_DATE"];
pub const PAYMENT_COLUMNS: [&str; 4] = ["ACCT_NO", "PROMISE_ID", "AMOUNT", "PAID_ON"];
pub const DISPOSITION_COLUMNS: [&str; 6] = [
    "ACCT_NO",
    "DISP_DATE",
    "STATUS",
    "REASON",
    "RESOLUTION",
    "CALLBACK_DATE",
];

pub const CASE_EVENT_COLUMNS: [&str; 6] = [
    "ACCT_NO",
    "EVENT_ID",
    "EVENT_TYPE",
    "EVENT_DATE",
    "EVENT_TIME",
    "EVENT_STATUS",
];
pub const CONTACT_COLUMNS: [&str; 5] = [
    "ACCT_NO",
    "CONTACT_DATE",
    "CONTACT_TIME",
    "CHANNEL",
    "OUTCOME",
];
pub const REMOVED_SA_COLUMNS: [&str; 2] = ["ACCT_NO", "SA_ID"];

/// Companion file suffixes, in the order the shipped mapping lists them.
pub const COMPANIONS: [&str; 7] = [
    "sas",
    "promises",
    "payments",
    "dispositions",
    "case_events",
    "contacts",
    "removed_sas",
];

pub struct Sa {
    pub id: String,
    pub ty: &'static str,
    pub debt_class: &'static str,
    pub arrears: i64,
    pub life_support: bool,
    pub sensitive_load: bool,
    pub master_meter: bool,
    pub medical_certificate_until: Option<NaiveDate>,
    /// The service heats the home; `None`: not known to (cards, loans, commercial premises).
    pub space_heating: Option<bool>,
}

pub struct Promise {
    pub id: String,
    pub plan: Option<String>,
    pub amount: i64,
    pub due_date: NaiveDate,
    pub payments: Vec<(i64, NaiveDate)>,
}

pub struct Case {
    pub category: &'static str,
    /// The policy's class and template for the account ([`CaseHistory`]),
    /// else the generator's by product (no rules to ask).
    pub class: Option<String>,
    pub template: String,
    pub start_date: NaiveDate,
}

/// One generated account; money in cents.
pub struct Account {
    pub id: String,
    pub customer_class: &'static str,
    pub jurisdiction: &'static str,
    pub product: &'static str,
    pub dpd: i64,
    pub arrears: i64,
    pub balance: i64,
    pub credit_limit: Option<i64>,
    pub risk_score: Option<i64>,
    pub bankruptcy: bool,
    pub deceased: bool,
    pub hardship: bool,
    pub contact_invalid: bool,
    pub forced: bool,
    pub psr: Option<bool>,
    pub budget_plan: bool,
    pub pay_plan_active: bool,
    pub pay_plan_due: i64,
    pub last_payment: Option<NaiveDate>,
    pub case: Option<Case>,
    pub sas: Vec<Sa>,
    pub promises: Vec<Promise>,
    /// Date, status, reason, resolution, and the day a call-back asked for.
    pub dispositions: Vec<Disposition>,
    /// The open case's history (empty without a case, or without [`CaseHistory`]).
    pub history: History,
    /// The fields the guard rails read.
    pub guard: GuardFields,
}

/// What the guard rails read of an account (rules/guardrails/): made from a random stream
/// of its own ([`GuardFields::of_account`]), so every other value is the one generated before.
#[derive(Default)]
pub struct GuardFields {
    /// IANA name, from the state (or GB).
    pub time_zone: Option<&'static str>,
    pub breathing_space_start: Option<NaiveDate>,
    /// Filled for a Breathing Space only: a mental-health crisis one or not.
    pub mental_health_crisis: Option<bool>,
    pub mental_health_crisis_end: Option<NaiveDate>,
    pub validation_notice_date: Option<NaiveDate>,
    pub written_dispute_date: Option<NaiveDate>,
    pub dispute_verified_date: Option<NaiveDate>,
    /// Tenths of a degree F, the next 24 hours at a utility premise.
    pub forecast_low_f: Option<i64>,
    pub forecast_high_f: Option<i64>,
}

/// Seeds the guard fields' stream apart from the case history's (which takes the seed as it is).
const GUARD_STREAM: u64 = 0x6775_6172_645f_7261;

/// Seeds the stream of the contacts of an account without an open case (a case
/// closed lately) apart from the others, so that no other value moved when they came.
const CLOSED_CASE_STREAM: u64 = 0x636c_6f73_6564_5f63;

/// A state's normal daily low and high in January and July, degrees F (NOAA 1991-2020
/// normals of its largest utility city; London's Met Office ones for GB).
fn climate(jurisdiction: &str) -> [f64; 4] {
    match jurisdiction {
        "IL" => [18.0, 32.0, 66.0, 84.0],
        "NY" => [27.0, 39.0, 70.0, 85.0],
        "CO" => [18.0, 45.0, 60.0, 90.0],
        "CA" => [40.0, 57.0, 60.0, 91.0],
        "TX" => [37.0, 57.0, 77.0, 96.0],
        "MA" => [23.0, 37.0, 66.0, 82.0],
        _ => [36.0, 46.0, 57.0, 74.0],
    }
}

impl GuardFields {
    /// Time zones from the state; Breathing Space for a few GB accounts (more in arrears), a
    /// crisis one now and then, its treatment ongoing for most; US validation notices a few
    /// days after a case opened, written disputes on some (an agent's dispute disposition makes
    /// one likely; a few late), verification mailed for about half; a forecast at every utility
    /// premise around the state's normals for the day; space heating on residential gas and
    /// electric services.
    fn of_account(a: &mut Account, as_of: NaiveDate, seed: u64) -> GuardFields {
        let mut rng = ChaCha8Rng::seed_from_u64(xxhash_rust::xxh3::xxh3_64_with_seed(
            a.id.as_bytes(),
            seed ^ GUARD_STREAM,
        ));
        let rng = &mut rng;
        let mut g = GuardFields {
            time_zone: Some(match a.jurisdiction {
                "IL" => "America/Chicago",
                "NY" | "MA" => "America/New_York",
                "CO" => "America/Denver",
                "CA" => "America/Los_Angeles",
                // El Paso and Hudspeth counties keep Mountain time.
                "TX" if chance(rng, 0.04) => "America/Denver",
                "TX" => "America/Chicago",
                _ => "Europe/London",
            }),
            ..GuardFields::default()
        };
        let past = |d: NaiveDate| (d <= as_of).then_some(d);
        if a.jurisdiction == "GB" && chance(rng, if a.dpd > 0 { 0.08 } else { 0.01 }) {
            let start = days_before(as_of, rng.random_range(0..90));
            let crisis = chance(rng, 0.15);
            g.breathing_space_start = Some(start);
            g.mental_health_crisis = Some(crisis);
            if crisis && chance(rng, 0.4) {
                g.mental_health_crisis_end =
                    past(days_after(start, rng.random_range(10..60))).filter(|d| *d < as_of);
            }
        } else if a.jurisdiction != "GB" {
            if let Some(case) = &a.case {
                g.validation_notice_date =
                    past(days_after(case.start_date, rng.random_range(1..=5)));
            }
            if let Some(notice) = g.validation_notice_date {
                let disputed_to_agent = a.dispositions.iter().find(|d| d.2 == "dispute");
                g.written_dispute_date = match disputed_to_agent {
                    Some(d) if chance(rng, 0.5) => past(days_after(d.0, rng.random_range(0..6))),
                    _ if chance(rng, 0.03) => past(days_after(notice, rng.random_range(3..=50))),
                    _ => None,
                };
                if let Some(dispute) = g.written_dispute_date.filter(|_| chance(rng, 0.45)) {
                    g.dispute_verified_date = past(days_after(dispute, rng.random_range(5..=30)));
                }
            }
        }
        if a.product == "utility" {
            let [jan_low, jan_high, jul_low, jul_high] = climate(a.jurisdiction);
            // 0 in mid-January, 1 in mid-July.
            let day = f64::from(chrono::Datelike::ordinal(&as_of));
            let summer = (1.0 - (2.0 * std::f64::consts::PI * (day - 15.0) / 365.0).cos()) / 2.0;
            let anomaly = normalish(rng, 0.0, 7.0);
            let low = jan_low + (jul_low - jan_low) * summer + anomaly + normalish(rng, 0.0, 2.0);
            let high =
                jan_high + (jul_high - jan_high) * summer + anomaly + normalish(rng, 0.0, 2.0);
            let tenths = |f: f64| (f * 10.0).round() as i64;
            g.forecast_low_f = Some(tenths(low));
            g.forecast_high_f = Some(tenths(high.max(low + 4.0)));
        }
        let residential = a.customer_class == "residential";
        for sa in &mut a.sas {
            sa.space_heating = match (sa.ty, residential) {
                ("gas", true) => Some(chance(rng, 0.85)),
                ("electric", true) => Some(chance(rng, 0.25)),
                ("water", true) => Some(false),
                _ => None,
            };
        }
        g
    }
}

/// What the case system holds of an open case besides its columns.
#[derive(Default)]
pub struct History {
    pub events: Vec<Event>,
    /// Oldest first.
    pub contacts: Vec<Contact>,
    pub removed_sas: Vec<String>,
}

/// The rules a generated case's history is made from: the policy the
/// extract is made for, which gives each open case its class and template
/// (`policy::opening`, the pipeline's own treatment of the account) and its
/// calendar (the account's own, `calendar_by`, else the policy's), so that
/// its events are the ones that policy scheduled, on the days it scheduled them.
pub struct CaseHistory<'p> {
    policy: &'p Policy,
}

impl<'p> CaseHistory<'p> {
    pub fn of(policy: &'p Policy) -> CaseHistory<'p> {
        CaseHistory { policy }
    }

    /// The template names the generator gives its cases that the rules do not define.
    pub fn missing_templates(&self) -> Vec<&'static str> {
        CASE_TEMPLATES
            .iter()
            .copied()
            .filter(|t| !self.policy.templates.contains_key(*t))
            .collect()
    }

    /// Gives `a`'s open case the class and template the policy gives the
    /// account on `as_of` when it enters the case's category (one that
    /// enters another today, a bankruptcy filed since the case opened, keeps
    /// the generator's: its first night re-treats it for the category), and
    /// returns the account's own calendar. An account the policy's schema
    /// does not decode keeps the generator's too.
    fn treat(&self, a: &mut Account, as_of: NaiveDate) -> Option<&'p WorkCalendar> {
        let case = a.case.as_ref()?;
        let mut json = account_object(a);
        json.remove("case");
        let account = decode_account(self.policy.plan.schema(), &Json::Object(json)).ok()?;
        let opening = crate::policy::opening(self.policy, &account, as_of)
            .ok()
            .flatten()
            .filter(|o| {
                o.category == case.category && self.policy.templates.contains_key(&o.template)
            });
        if let (Some(opening), Some(case)) = (opening, a.case.as_mut()) {
            case.class = opening.class;
            case.template = opening.template;
        }
        self.policy.calendar_by.of(&account)
    }

    /// The history of `a`'s open case on `as_of`, from its own random stream
    /// (the generator's seed and the account number), so that the accounts'
    /// other values are those generated without it. Each `day` event of the
    /// case's template is done before `as_of` and pending from it (an event
    /// dated by an expression is left out: the generator evaluates no date
    /// expression); a done contact event made a contact, with the outcome an agent
    /// or vendor reported; each disposition on the case was a call (reached
    /// when `contacted`); a dated call-back no newer disposition superseded was
    /// booked the night after it (`callback-<date>`, on its day); and about one
    /// card or loan case in twelve had 2 to 8 more call attempts in the last 7
    /// days, so that call limits have something to count.
    fn of_account(
        &self,
        a: &Account,
        as_of: NaiveDate,
        seed: u64,
        own_calendar: Option<&WorkCalendar>,
    ) -> History {
        let Some(case) = &a.case else {
            return History {
                contacts: contacts_of_a_closed_case(a, as_of, seed),
                ..History::default()
            };
        };
        let mut rng =
            ChaCha8Rng::seed_from_u64(xxhash_rust::xxh3::xxh3_64_with_seed(a.id.as_bytes(), seed));
        let status = |date: NaiveDate| match date < as_of {
            true => EventStatus::Done,
            false => EventStatus::Pending,
        };
        let mut events = Vec::new();
        // Dated as the run dates them: on the account's calendar, else the template's.
        if let Some(template) = self.policy.templates.get(&case.template) {
            for e in &template.events {
                let Some(date) = e.day().and_then(|d| match own_calendar {
                    Some(calendar) => template.event_date_on(calendar, d, case.start_date),
                    None => template.event_date(d, case.start_date),
                }) else {
                    continue;
                };
                events.push(Event {
                    id: e.id.to_string(),
                    event_type: e.kind.to_string(),
                    date,
                    time: e.time.as_deref().map(str::to_string),
                    status: status(date),
                });
            }
        }
        let mut contacts = Vec::new();
        for (k, (on, state, reason, _, asked)) in a.dispositions.iter().enumerate() {
            if *on < case.start_date {
                continue;
            }
            let outcome = match (*state, *reason) {
                ("contacted", _) => ContactOutcome::Reached,
                ("not_contacted", "call_back") => ContactOutcome::Voicemail,
                ("not_contacted", _) => ContactOutcome::NoAnswer,
                _ => continue,
            };
            contacts.push(call(&mut rng, *on, outcome));
            let superseded = a.dispositions[k + 1..]
                .iter()
                .any(|n| n.0 > *on && (n.1 == "contacted" || n.2 == "call_back"));
            let booked = asked
                .filter(|day| !superseded && (as_of - *day).num_days() <= 30)
                .and_then(|day| {
                    own_calendar
                        .unwrap_or(&self.policy.calendar)
                        .roll_forward(day)
                });
            if let Some(date) = booked {
                events.push(Event {
                    id: format!("callback-{on}"),
                    event_type: "call".into(),
                    date,
                    time: None,
                    status: status(date),
                });
            }
        }
        for e in events.iter().filter(|e| e.status == EventStatus::Done) {
            let Some(channel) = Channel::of_event(&e.event_type) else {
                continue;
            };
            let outcome = match channel {
                Channel::Call => pick(
                    &mut rng,
                    &[
                        (ContactOutcome::Attempted, 30),
                        (ContactOutcome::NoAnswer, 35),
                        (ContactOutcome::Voicemail, 20),
                        (ContactOutcome::Reached, 15),
                    ],
                ),
                Channel::Letter => pick(
                    &mut rng,
                    &[(ContactOutcome::Sent, 97), (ContactOutcome::Returned, 3)],
                ),
                _ => pick(
                    &mut rng,
                    &[(ContactOutcome::Sent, 97), (ContactOutcome::Failed, 3)],
                ),
            };
            contacts.push(match channel {
                Channel::Call => call(&mut rng, e.date, outcome),
                _ => Contact {
                    date: e.date,
                    time: e.time.clone(),
                    channel,
                    outcome,
                },
            });
        }
        if a.product != "utility" && rng.random_bool(1.0 / 12.0) {
            for _ in 0..rng.random_range(2..=8) {
                let day = days_before(as_of, rng.random_range(1..=7));
                let outcome = pick(
                    &mut rng,
                    &[
                        (ContactOutcome::NoAnswer, 50),
                        (ContactOutcome::Voicemail, 30),
                        (ContactOutcome::Attempted, 20),
                    ],
                );
                contacts.push(call(&mut rng, day.max(case.start_date), outcome));
            }
        }
        contacts.sort_by(|x, y| (x.date, &x.time).cmp(&(y.date, &y.time)));
        History {
            events,
            contacts,
            removed_sas: Vec::new(),
        }
    }
}

impl<'p> CaseHistory<'p> {
    /// What the case system holds of `a`'s promises on `as_of`, as the policy
    /// left it: for each promise decided before `as_of`, the `record` of the
    /// `promise_outcome` the night it was first decided gave (a night of the
    /// open case, from the day after it opened, seeing the payments made by
    /// then), done that night, and the follow-up that night made (the
    /// broken-promise letter, a call, a re-treatment recorded as done); for
    /// each promise still pending, the callback the policy books on its
    /// deadline. A follow-up event is carried out on its day when that is
    /// before `as_of`, with the contact it made. Without them a run would
    /// judge those promises again under its own terms (`arrears diff` of a
    /// terms edit would re-judge them) and send their letters again. A
    /// promise once decided stays decided, so the first night is found by
    /// halving.
    fn promise_history(&self, a: &Account, as_of: NaiveDate) -> (Vec<Event>, Vec<Contact>) {
        let Some(case) = &a.case else {
            return Default::default();
        };
        let (Some(first), Some(last)) = (case.start_date.succ_opt(), as_of.pred_opt()) else {
            return Default::default();
        };
        if a.promises.is_empty() || last < first {
            return Default::default();
        }
        let Some((slot, ps)) = self.policy.slots.promises else {
            return Default::default();
        };
        // Decoded once: each night differs only in the payments made by then.
        let Ok(account) =
            decode_account(self.policy.plan.schema(), &Json::Object(account_object(a)))
        else {
            return Default::default();
        };
        let night = |day: NaiveDate| -> Vec<Action<'p>> {
            let account = with_payments_by(&account, slot, &ps, day);
            crate::policy::run_needed(self.policy, &account, day)
                .map(|run| run.actions)
                .unwrap_or_default()
        };
        let record_in = |actions: &[Action], key: &str| {
            actions.iter().find_map(|action| match &action.kind {
                ActionKind::PromiseOutcome {
                    promise, record, ..
                } if promise == key => Some(record.clone()),
                _ => None,
            })
        };
        // The promise's part of a night: its outcome's record, its follow-up,
        // and what the guard rails did to that follow-up's event.
        let of_promise = |actions: Vec<Action<'p>>, key: &str| -> Vec<Action<'p>> {
            let follow_up = |event: &str| is_follow_up_of(event, key);
            actions
                .into_iter()
                .filter(|action| match &action.kind {
                    ActionKind::PromiseOutcome { promise, .. }
                    | ActionKind::FollowUp { promise, .. } => promise == key,
                    ActionKind::ScheduleEvent { event, .. } => follow_up(event),
                    ActionKind::Withhold {
                        event: Some(event), ..
                    } => follow_up(event),
                    ActionKind::CancelEvent { event, .. } => follow_up(event),
                    _ => false,
                })
                .collect()
        };
        let tonight = night(last);
        let keys: Vec<(String, bool)> = tonight
            .iter()
            .filter_map(|action| match &action.kind {
                ActionKind::PromiseOutcome {
                    promise, record, ..
                } => Some((promise.clone(), record.is_some())),
                _ => None,
            })
            .collect();
        // Only the promises' events: the generated history holds the rest.
        let mut held = Some(crate::policy::case::Case::new(
            case.category.to_string(),
            case.start_date,
        ));
        for (key, decided) in keys {
            if !decided {
                // Pending on the last night: what that night booked for it.
                held = apply(held, &of_promise(tonight.clone(), &key), last);
                continue;
            }
            // The first night in `lo..=hi` that decides it (`hi` does, and
            // `deciding` is its actions: no night is run twice).
            let (mut lo, mut hi) = (first, last);
            let mut deciding = None;
            while lo < hi {
                let mid = lo + Days::new(((hi - lo).num_days() / 2) as u64);
                let actions = night(mid);
                match record_in(&actions, &key) {
                    Some(Some(_)) => (hi, deciding) = (mid, Some(actions)),
                    _ => lo = mid.succ_opt().unwrap_or(hi),
                }
            }
            let deciding = deciding.unwrap_or_else(|| tonight.clone());
            held = apply(held, &of_promise(deciding, &key), hi);
        }
        let Some(mut held) = held else {
            return Default::default();
        };
        // Carried out by the case system on their days, each with its contact.
        let contacts = execute_due(&mut held, last)
            .iter()
            .filter_map(|e| contact_made(e, e.date))
            .collect();
        (held.events, contacts)
    }
}

/// `account` (decoded) as it stood on `day`: each promise (the list at
/// `slot`) with only the payments (`ps.payments`) made by then.
fn with_payments_by(account: &Value, slot: usize, ps: &PromiseSlots, day: NaiveDate) -> Value {
    let Value::Record(fields) = account else {
        return account.clone();
    };
    let Value::List(promises) = &fields[slot] else {
        return account.clone();
    };
    let promises: Arc<[Value]> = promises
        .iter()
        .map(|promise| {
            let Value::Record(p) = promise else {
                return promise.clone();
            };
            let Value::List(payments) = &p[ps.payments] else {
                return promise.clone();
            };
            // A payment without a date is kept, as the night before it would.
            let made = |pay: &&Value| match pay {
                Value::Record(pay) => !matches!(pay[ps.payment_date], Value::Date(d) if d > day),
                _ => true,
            };
            if payments.iter().all(|pay| made(&pay)) {
                return promise.clone();
            }
            let mut p = p.to_vec();
            p[ps.payments] = Value::List(payments.iter().filter(made).cloned().collect());
            Value::Record(p.into())
        })
        .collect();
    let mut fields = fields.to_vec();
    fields[slot] = Value::List(promises);
    Value::Record(fields.into())
}

/// The contacts of an account without an open case: the account's, not a
/// case's (Reg F counts per debt), so a case closed in the last 10 days left
/// them (on about one account in ten in arrears and one in fifty current): 1
/// to 3 calls (reached, no answer or voicemail) and maybe a letter, from a
/// stream of their own. A case opened tonight counts them: a conversation
/// days ago holds its first call.
fn contacts_of_a_closed_case(a: &Account, as_of: NaiveDate, seed: u64) -> Vec<Contact> {
    let mut rng = ChaCha8Rng::seed_from_u64(xxhash_rust::xxh3::xxh3_64_with_seed(
        a.id.as_bytes(),
        seed ^ CLOSED_CASE_STREAM,
    ));
    let share = if a.dpd > 0 { 0.10 } else { 0.02 };
    if !rng.random_bool(share) {
        return Vec::new();
    }
    let mut contacts: Vec<Contact> = (0..rng.random_range(1..=3))
        .map(|_| {
            let day = days_before(as_of, rng.random_range(1..=10));
            let outcome = pick(
                &mut rng,
                &[
                    (ContactOutcome::Reached, 30),
                    (ContactOutcome::NoAnswer, 40),
                    (ContactOutcome::Voicemail, 30),
                ],
            );
            call(&mut rng, day, outcome)
        })
        .collect();
    if rng.random_bool(0.5) {
        contacts.push(Contact {
            date: days_before(as_of, rng.random_range(1..=10)),
            time: None,
            channel: Channel::Letter,
            outcome: ContactOutcome::Sent,
        });
    }
    contacts.sort_by(|x, y| (x.date, &x.time).cmp(&(y.date, &y.time)));
    contacts
}

/// A call on `day` at a time of the working day (09:00 to 19:59).
fn call(rng: &mut ChaCha8Rng, day: NaiveDate, outcome: ContactOutcome) -> Contact {
    Contact {
        date: day,
        time: Some(format!(
            "{:02}:{:02}",
            rng.random_range(9..20),
            rng.random_range(0..60)
        )),
        channel: Channel::Call,
        outcome,
    }
}

/// The templates the generator gives its cases (by product and class).
const CASE_TEMPLATES: [&str; 5] = [
    "card_early_std",
    "card_late_precharge",
    "loan_std",
    "utility_res_std",
    "utility_com_std",
];

pub type Disposition = (
    NaiveDate,
    &'static str,
    &'static str,
    &'static str,
    Option<NaiveDate>,
);

/// The day two in three call-backs name (3 to 21 days after the disposition), picked from the
/// account number and the disposition's place, not the random stream, so that adding it moved
/// no other value of the generated accounts.
fn callback_date(id: &str, k: i64, on: NaiveDate) -> Option<NaiveDate> {
    let h = id.bytes().fold(k as u64 * 31 + 7, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    (h % 3 != 0).then(|| days_after(on, 3 + (h / 3 % 19) as i64))
}

pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random_bool(p)
}

/// Roughly normal (sum of uniforms).
fn normalish(rng: &mut ChaCha8Rng, mean: f64, sd: f64) -> f64 {
    let s: f64 = (0..6).map(|_| rng.random::<f64>()).sum::<f64>() - 3.0;
    mean + s * sd / (0.5f64).sqrt()
}

/// Exponential-ish positive amount around `mean` dollars, in cents.
fn amount_around(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    let u: f64 = rng.random_range(1e-6..1.0);
    let x = -u.ln() * mean;
    ((x.clamp(5.0, mean * 8.0)) * 100.0).round() as i64
}

fn days_before(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_sub_days(Days::new(n.max(0) as u64)).unwrap_or(d)
}

fn days_after(d: NaiveDate, n: i64) -> NaiveDate {
    d.checked_add_days(Days::new(n.max(0) as u64)).unwrap_or(d)
}

/// The accounts of an extract, one at a time.
pub struct Generator<'p> {
    rng: ChaCha8Rng,
    seed: u64,
    as_of: NaiveDate,
    next: u64,
    history: Option<CaseHistory<'p>>,
}

impl<'p> Generator<'p> {
    /// Accounts whose open cases have no history (no events, no contacts).
    pub fn new(seed: u64, as_of: NaiveDate) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            seed,
            as_of,
            next: 1,
            history: None,
        }
    }

    /// Accounts whose open cases carry the history `history` makes of them.
    pub fn with_history(seed: u64, as_of: NaiveDate, history: CaseHistory<'p>) -> Self {
        Generator {
            history: Some(history),
            ..Generator::new(seed, as_of)
        }
    }

    pub fn account(&mut self) -> Account {
        let as_of = self.as_of;
        let rng = &mut self.rng;
        let id = format!("AC{:09}", self.next);
        self.next += 1;
        let product = pick(rng, &[("card", 45), ("loan", 20), ("utility", 35)]);
        let customer_class = match product {
            "utility" => pick(
                rng,
                &[
                    ("residential", 80),
                    ("small_business", 12),
                    ("commercial", 8),
                ],
            ),
            _ => pick(rng, &[("residential", 95), ("small_business", 5)]),
        };
        let jurisdiction = pick(
            rng,
            &[
                ("IL", 22),
                ("NY", 20),
                ("CO", 10),
                ("CA", 22),
                ("TX", 21),
                ("GB", 5),
            ],
        );
        // ~70% current; the rest across the industry buckets.
        let dpd: i64 = if chance(rng, 0.70) {
            0
        } else {
            match pick(rng, &[(0, 45), (1, 20), (2, 12), (3, 8), (4, 15)]) {
                0 => rng.random_range(1..30),
                1 => rng.random_range(30..60),
                2 => rng.random_range(60..90),
                3 => rng.random_range(90..120),
                _ => rng.random_range(120..400),
            }
        };
        let fico =
            normalish(rng, 715.0 - dpd.min(180) as f64 * 0.6, 70.0).clamp(300.0, 850.0) as i64;
        let risk_score = (product != "utility" || chance(rng, 0.3))
            .then_some(fico)
            .filter(|_| !chance(rng, 0.04));
        let mut credit_limit = None;
        let mut sas = Vec::new();
        let (arrears, balance);
        match product {
            "card" => {
                // Limits $500 (deep subprime) to $9,500 (super prime), by score.
                let steps = ((fico - 300) as f64 / 550.0 * 18.0).round() as i64;
                let limit = (500 + steps.clamp(0, 18) * 500) * 100;
                let util = if dpd > 0 {
                    rng.random_range(0.5..1.08)
                } else if chance(rng, 0.02) {
                    rng.random_range(1.0..1.12)
                } else {
                    normalish(rng, 0.27, 0.15).clamp(0.0, 0.98)
                };
                balance = (limit as f64 * util).round() as i64;
                arrears = if dpd > 0 {
                    let minimum = (balance / 35).max(2500);
                    (minimum * (dpd / 30 + 1)).min(balance)
                } else {
                    0
                };
                credit_limit = Some(limit);
                sas.push(Sa {
                    id: format!("{id}-01"),
                    ty: "card",
                    debt_class: "consumer_credit",
                    arrears,
                    life_support: false,
                    sensitive_load: false,
                    master_meter: false,
                    medical_certificate_until: None,
                    space_heating: None,
                });
            }
            "loan" => {
                let instalment = rng.random_range(150..900) * 100;
                balance = rng.random_range(2_000..40_000) * 100;
                arrears = if dpd > 0 {
                    (instalment * (dpd / 30 + 1)).min(balance)
                } else {
                    0
                };
                sas.push(Sa {
                    id: format!("{id}-01"),
                    ty: "loan",
                    debt_class: "consumer_credit",
                    arrears,
                    life_support: false,
                    sensitive_load: false,
                    master_meter: false,
                    medical_certificate_until: None,
                    space_heating: None,
                });
            }
            _ => {
                let residential = customer_class == "residential";
                let total = if dpd > 0 {
                    amount_around(rng, if residential { 800.0 } else { 2400.0 })
                } else {
                    0
                };
                let kinds: Vec<&'static str> = {
                    let mut k = vec!["electric"];
                    if chance(rng, 0.5) {
                        k.push("gas");
                    }
                    if chance(rng, 0.35) {
                        k.push("water");
                    }
                    k
                };
                let mut left = total;
                for (i, ty) in kinds.iter().enumerate() {
                    let share = if i + 1 == kinds.len() {
                        left
                    } else {
                        (left as f64 * rng.random_range(0.3..0.7)).round() as i64
                    };
                    left -= share;
                    let debt_class = match (*ty, residential) {
                        ("water", _) => "water",
                        (_, true) => "residential_energy",
                        _ => "commercial_energy",
                    };
                    let med = chance(rng, 0.015).then(|| {
                        let d = rng.random_range(-60..90);
                        if d < 0 {
                            days_before(as_of, -d)
                        } else {
                            days_after(as_of, d)
                        }
                    });
                    sas.push(Sa {
                        id: format!("{id}-{:02}", i + 1),
                        ty,
                        debt_class,
                        arrears: share,
                        life_support: chance(rng, 0.01),
                        sensitive_load: chance(rng, 0.02),
                        master_meter: !residential && chance(rng, 0.05)
                            || residential && chance(rng, 0.01),
                        medical_certificate_until: med,
                        space_heating: None,
                    });
                }
                arrears = total;
                balance = total + rng.random_range(0..40_000);
            }
        }
        let bankruptcy = chance(rng, 0.003);
        let deceased = chance(rng, 0.001);
        let hardship = chance(rng, 0.02);
        let contact_invalid = chance(rng, 0.015);
        let forced = chance(rng, 0.002);
        let psr = (jurisdiction == "GB").then(|| chance(rng, 0.1));
        let budget_plan = product == "utility" && chance(rng, 0.15);
        let pay_plan_active = dpd > 0 && chance(rng, 0.06);
        let pay_plan_due = if pay_plan_active {
            (arrears as f64 * rng.random_range(0.2..1.1)).round() as i64
        } else {
            0
        };
        let last_payment =
            (!chance(rng, 0.03)).then(|| days_before(as_of, dpd + rng.random_range(1..31)));
        // Some delinquent accounts already have an open case.
        let case = (dpd > 0 && chance(rng, 0.4)).then(|| {
            let (class, template) = match (product, customer_class) {
                ("card", _) if dpd < 60 => ("card_early", CASE_TEMPLATES[0]),
                ("card", _) => ("card_late", CASE_TEMPLATES[1]),
                ("loan", _) => ("loan", CASE_TEMPLATES[2]),
                (_, "residential") => ("utility_res", CASE_TEMPLATES[3]),
                _ => ("utility_commercial", CASE_TEMPLATES[4]),
            };
            Case {
                category: "arrears",
                class: Some(class.into()),
                template: template.into(),
                start_date: days_before(as_of, rng.random_range(1..=dpd.clamp(1, 150))),
            }
        });
        let mut promises = Vec::new();
        let mut dispositions = Vec::new();
        if case.is_some() && arrears > 0 {
            if chance(rng, 0.3) {
                let parts = pick(rng, &[(1u32, 75), (2, 15), (3, 10)]);
                let total = (arrears as f64 * rng.random_range(0.3..1.0)).round() as i64;
                let offset = rng.random_range(-40..14);
                let first_due = if offset < 0 {
                    days_before(as_of, -offset)
                } else {
                    days_after(as_of, offset)
                };
                let plan = (parts > 1).then(|| format!("{id}-PL1"));
                let each = total / parts as i64;
                for k in 0..parts {
                    let amount = if k + 1 == parts {
                        total - each * (parts as i64 - 1)
                    } else {
                        each
                    };
                    let due_date = days_after(first_due, 30 * k as i64);
                    let mut payments = Vec::new();
                    if due_date <= as_of {
                        // Promise kept rates 50-70%.
                        if chance(rng, 0.6) {
                            let paid_on = days_before(due_date, rng.random_range(0..5));
                            payments.push((amount, paid_on));
                        } else if chance(rng, 0.4) {
                            let paid_on = days_before(due_date, rng.random_range(0..5));
                            payments.push(((amount as f64 * 0.5).round() as i64, paid_on));
                        }
                    }
                    promises.push(Promise {
                        id: format!("{id}-P{}", k + 1),
                        plan: plan.clone(),
                        amount,
                        due_date,
                        payments,
                    });
                }
            }
            if chance(rng, 0.3) {
                for k in 0..rng.random_range(1..3) {
                    let (status, reason, resolution) = pick(
                        rng,
                        &[
                            (("contacted", "promise_to_pay", "payment_scheduled"), 30),
                            (("not_contacted", "none", "unreachable"), 35),
                            (("contacted", "dispute", "escalated"), 10),
                            (("contacted", "call_back", "none"), 15),
                            (("pending", "none", "none"), 10),
                        ],
                    );
                    let on = days_before(as_of, 20 - 7 * k);
                    let asked = (reason == "call_back")
                        .then(|| callback_date(&id, k, on))
                        .flatten();
                    dispositions.push((on, status, reason, resolution, asked));
                }
            }
        }
        let mut account = Account {
            id,
            customer_class,
            jurisdiction,
            product,
            dpd,
            arrears,
            balance: balance.max(arrears),
            credit_limit,
            risk_score,
            bankruptcy,
            deceased,
            hardship,
            contact_invalid,
            forced,
            psr,
            budget_plan,
            pay_plan_active,
            pay_plan_due,
            last_payment,
            case,
            sas,
            promises,
            dispositions,
            history: History::default(),
            guard: GuardFields::default(),
        };
        account.guard = GuardFields::of_account(&mut account, as_of, self.seed);
        if let Some(history) = &self.history {
            let own_calendar = history.treat(&mut account, as_of);
            account.history = history.of_account(&account, as_of, self.seed, own_calendar);
            let (events, contacts) = history.promise_history(&account, as_of);
            account.history.events.extend(events);
            if !contacts.is_empty() {
                account.history.contacts.extend(contacts);
                (account.history.contacts)
                    .sort_by(|x, y| (x.date, &x.time).cmp(&(y.date, &y.time)));
            }
        }
        account
    }

    /// Which way to break a row (`None`: leave it intact).
    pub fn corruption(&mut self, rate: f64) -> Option<u32> {
        (rate > 0.0 && self.rng.random_bool(rate.min(1.0))).then(|| self.rng.random_range(0..5))
    }
}

fn b(v: bool) -> &'static str {
    if v {
        "true"
    } else {
        "false"
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

/// Tenths of a degree as decimal text: `-31` is `-3.1`.
fn tenths(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    format!("{sign}{}.{}", t.abs() / 10, t.abs() % 10)
}

/// The main CSV row (32 cells), broken as `corrupt` says.
pub fn csv_row(a: &Account, corrupt: Option<u32>) -> Vec<String> {
    let c = a.case.as_ref();
    let g = &a.guard;
    let mut row = vec![
        a.id.clone(),
        a.customer_class.into(),
        a.jurisdiction.into(),
        a.product.into(),
        a.dpd.to_string(),
        money(a.arrears),
        money(a.balance),
        opt(&a.credit_limit.map(money)),
        opt(&a.risk_score),
        b(a.bankruptcy).into(),
        b(a.deceased).into(),
        b(a.hardship).into(),
        b(a.contact_invalid).into(),
        b(a.forced).into(),
        opt(&a.psr.map(b)),
        b(a.budget_plan).into(),
        b(a.pay_plan_active).into(),
        money(a.pay_plan_due),
        opt(&a.last_payment),
        c.map(|c| c.category.to_string()).unwrap_or_default(),
        c.and_then(|c| c.class.clone()).unwrap_or_default(),
        c.map(|c| c.template.clone()).unwrap_or_default(),
        c.map(|c| c.start_date.to_string()).unwrap_or_default(),
        opt(&g.time_zone),
        opt(&g.breathing_space_start),
        opt(&g.mental_health_crisis.map(b)),
        opt(&g.mental_health_crisis_end),
        opt(&g.validation_notice_date),
        opt(&g.written_dispute_date),
        opt(&g.dispute_verified_date),
        opt(&g.forecast_low_f.map(tenths)),
        opt(&g.forecast_high_f.map(tenths)),
    ];
    match corrupt {
        Some(0) => row[5] = "12,5O".into(),
        Some(1) => row[3] = "mortgage".into(),
        Some(2) => row[4] = String::new(),
        Some(3) => {
            row.pop();
        }
        Some(_) => row[18] = "2026-02-30".into(),
        None => {}
    }
    row
}

/// The account as a JSON object (the `dry-run` shape), broken as `corrupt` says.
pub fn json_line(a: &Account, corrupt: Option<u32>) -> String {
    let mut m = account_object(a);
    match corrupt {
        Some(0) => {
            m.insert("arrears".into(), json!("12,5O"));
        }
        Some(1) => {
            m.insert("product".into(), json!("mortgage"));
        }
        Some(2) => {
            m.remove("days_past_due");
        }
        Some(3) => {
            let text = Json::Object(m).to_string();
            return text[..text.len() / 2].to_string();
        }
        Some(_) => {
            m.insert("last_payment_date".into(), json!("2026-02-30"));
        }
        None => {}
    }
    Json::Object(m).to_string()
}

/// The account's JSON object's members, intact.
fn account_object(a: &Account) -> Map<String, Json> {
    let sas: Vec<Json> = a
        .sas
        .iter()
        .map(|s| {
            let mut m = json!({
                "id": s.id, "type": s.ty, "debt_class": s.debt_class, "arrears": money(s.arrears),
                "life_support": s.life_support, "sensitive_load": s.sensitive_load,
                "master_meter": s.master_meter,
            });
            if let Some(d) = s.medical_certificate_until {
                m["medical_certificate_until"] = json!(d.to_string());
            }
            if let Some(heating) = s.space_heating {
                m["space_heating"] = json!(heating);
            }
            m
        })
        .collect();
    let promises: Vec<Json> = a
        .promises
        .iter()
        .map(|p| {
            let payments: Vec<Json> = p
                .payments
                .iter()
                .map(|(amt, d)| json!({"amount": money(*amt), "date": d.to_string()}))
                .collect();
            let mut m = json!({
                "id": p.id, "amount": money(p.amount), "due_date": p.due_date.to_string(),
                "payments": payments,
            });
            if let Some(plan) = &p.plan {
                m["plan"] = json!(plan);
            }
            m
        })
        .collect();
    let dispositions: Vec<Json> = a
        .dispositions
        .iter()
        .map(|(d, s, r, res, asked)| {
            let mut m = json!({"date": d.to_string(), "status": s, "reason": r, "resolution": res});
            if let Some(asked) = asked {
                m["callback_date"] = json!(asked.to_string());
            }
            m
        })
        .collect();
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("customer_class".into(), json!(a.customer_class));
    m.insert("jurisdiction".into(), json!(a.jurisdiction));
    m.insert("product".into(), json!(a.product));
    m.insert("days_past_due".into(), json!(a.dpd));
    m.insert("arrears".into(), json!(money(a.arrears)));
    m.insert("balance".into(), json!(money(a.balance)));
    m.insert("credit_limit".into(), json!(a.credit_limit.map(money)));
    m.insert("risk_score".into(), json!(a.risk_score));
    m.insert("bankruptcy".into(), json!(a.bankruptcy));
    m.insert("deceased".into(), json!(a.deceased));
    m.insert("hardship".into(), json!(a.hardship));
    m.insert("contact_invalid".into(), json!(a.contact_invalid));
    m.insert("forced".into(), json!(a.forced));
    m.insert("priority_services_register".into(), json!(a.psr));
    m.insert("budget_plan_active".into(), json!(a.budget_plan));
    m.insert(
        "pay_plan".into(),
        json!({"active": a.pay_plan_active, "scheduled_due": money(a.pay_plan_due)}),
    );
    m.insert(
        "last_payment_date".into(),
        json!(a.last_payment.map(|d| d.to_string())),
    );
    let g = &a.guard;
    let date = |d: Option<NaiveDate>| json!(d.map(|d| d.to_string()));
    m.insert("time_zone".into(), json!(g.time_zone));
    m.insert(
        "breathing_space_start".into(),
        date(g.breathing_space_start),
    );
    m.insert("mental_health_crisis".into(), json!(g.mental_health_crisis));
    m.insert(
        "mental_health_crisis_end".into(),
        date(g.mental_health_crisis_end),
    );
    m.insert(
        "validation_notice_date".into(),
        date(g.validation_notice_date),
    );
    m.insert("written_dispute_date".into(), date(g.written_dispute_date));
    m.insert(
        "dispute_verified_date".into(),
        date(g.dispute_verified_date),
    );
    // Decimal text, read exactly (serde_json keeps a number's text: `arbitrary_precision`).
    let degrees = |t: Option<i64>| match t {
        Some(t) => Json::Number(tenths(t).parse().expect("decimal text is a JSON number")),
        None => Json::Null,
    };
    m.insert("forecast_low_f".into(), degrees(g.forecast_low_f));
    m.insert("forecast_high_f".into(), degrees(g.forecast_high_f));
    if let Some(c) = &a.case {
        let h = &a.history;
        m.insert(
            "case".into(),
            // The fields the CSV mapping reads too, so both formats are the same accounts.
            json!({"category": c.category, "class": c.class, "template": c.template,
                   "start_date": c.start_date.to_string(), "events": h.events,
                   "removed_sas": h.removed_sas}),
        );
    }
    // Every account's, `[]` for none: an exporter that writes every field (docs/batch.md, "Input").
    m.insert("contacts".into(), json!(a.history.contacts));
    m.insert("service_agreements".into(), Json::Array(sas));
    m.insert("promises".into(), Json::Array(promises));
    m.insert("dispositions".into(), Json::Array(dispositions));
    m
}

/// Writers for a CSV extract and its companions.
pub struct CsvWriters<W: Write> {
    pub main: csv::Writer<W>,
    pub companions: [csv::Writer<W>; COMPANIONS.len()],
    /// Data rows written so far: the main file's, then each companion's.
    pub rows: [u64; COMPANIONS.len() + 1],
}

impl<W: Write> CsvWriters<W> {
    pub fn new(main: W, companions: [W; COMPANIONS.len()]) -> csv::Result<Self> {
        let mut main = csv::WriterBuilder::new().flexible(true).from_writer(main);
        main.write_record(MAIN_COLUMNS)?;
        let mut companions = companions.map(|w| csv::Writer::from_writer(w));
        companions[0].write_record(SA_COLUMNS)?;
        companions[1].write_record(PROMISE_COLUMNS)?;
        companions[2].write_record(PAYMENT_COLUMNS)?;
        companions[3].write_record(DISPOSITION_COLUMNS)?;
        companions[4].write_record(CASE_EVENT_COLUMNS)?;
        companions[5].write_record(CONTACT_COLUMNS)?;
        companions[6].write_record(REMOVED_SA_COLUMNS)?;
        Ok(CsvWriters {
            main,
            companions,
            rows: [0; COMPANIONS.len() + 1],
        })
    }

    pub fn write(&mut self, a: &Account, corrupt: Option<u32>) -> csv::Result<()> {
        self.main.write_record(csv_row(a, corrupt))?;
        let payments: usize = a.promises.iter().map(|p| p.payments.len()).sum();
        for (rows, n) in self.rows.iter_mut().zip([
            1,
            a.sas.len(),
            a.promises.len(),
            payments,
            a.dispositions.len(),
            a.history.events.len(),
            a.history.contacts.len(),
            a.history.removed_sas.len(),
        ]) {
            *rows += n as u64;
        }
        for s in &a.sas {
            self.companions[0].write_record([
                a.id.as_str(),
                &s.id,
                s.ty,
                s.debt_class,
                &money(s.arrears),
                b(s.life_support),
                b(s.sensitive_load),
                b(s.master_meter),
                &opt(&s.medical_certificate_until),
                &opt(&s.space_heating.map(b)),
            ])?;
        }
        for p in &a.promises {
            self.companions[1].write_record([
                a.id.as_str(),
                &p.id,
                &opt(&p.plan),
                &money(p.amount),
                &p.due_date.to_string(),
            ])?;
            for (amount, date) in &p.payments {
                self.companions[2].write_record([
                    a.id.as_str(),
                    &p.id,
                    &money(*amount),
                    &date.to_string(),
                ])?;
            }
        }
        for (d, s, r, res, asked) in &a.dispositions {
            self.companions[3].write_record([
                a.id.as_str(),
                &d.to_string(),
                s,
                r,
                res,
                &opt(asked),
            ])?;
        }
        let h = &a.history;
        for e in &h.events {
            self.companions[4].write_record([
                a.id.as_str(),
                &e.id,
                &e.event_type,
                &e.date.to_string(),
                e.time.as_deref().unwrap_or_default(),
                e.status.name(),
            ])?;
        }
        for c in &h.contacts {
            self.companions[5].write_record([
                a.id.as_str(),
                &c.date.to_string(),
                c.time.as_deref().unwrap_or_default(),
                c.channel.name(),
                c.outcome.name(),
            ])?;
        }
        for sa in &h.removed_sas {
            self.companions[6].write_record([a.id.as_str(), sa])?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<(W, [W; COMPANIONS.len()])> {
        self.main.flush()?;
        let main = self.main.into_inner().map_err(|e| e.into_error())?;
        let mut out = Vec::new();
        for mut c in self.companions {
            c.flush()?;
            out.push(c.into_inner().map_err(|e| e.into_error())?);
        }
        let companions: [W; COMPANIONS.len()] = out
            .try_into()
            .map_err(|_| std::io::Error::other("companion writers"))?;
        Ok((main, companions))
    }
}
