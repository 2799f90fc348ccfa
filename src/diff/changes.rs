//! What differs between one account's actions under the two rule sets, field
//! by field: each action of one side paired with the other side's action of
//! the same kind about the same thing (event, promise, SA, experiment), and
//! every field whose value moved named with both values; an action without a
//! partner was added or removed. A money, number or date field that moved
//! also says by how much (new minus old; a date in days), and a flag's
//! outputs are compared one by one (`values.NAME`), a payment plan's
//! instalments too (`instalments[N].due`, `instalments[N].amount`). The report aggregates
//! these, so that every changed account is explained even when no area's
//! label moved.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value as Json};

use crate::policy::{Action, ActionKind};

/// Fields that say which thing an action is about: two actions of one kind
/// are the same action, changed, only when these agree (`table`: a flag's).
const IDENTITY: [&str; 6] = ["event", "promise", "sa", "experiment", "action", "table"];

/// What a field's difference is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Unit {
    Money,
    /// A decimal number (a flag's `decimal` output).
    Number,
    Integer,
    /// A date's difference.
    Days,
    /// A decimal its row writes as a percent (`2%`): its difference in percentage points.
    Percent,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Money => "money",
            Unit::Number => "number",
            Unit::Integer => "integer",
            Unit::Days => "days",
            Unit::Percent => "percentage_points",
        }
    }

    /// What a field's type makes of its value: `None` for one that is not a quantity.
    fn of(action: &Action, field: &str) -> Option<Unit> {
        match (&action.kind, field) {
            (ActionKind::PromiseOutcome { .. }, "paid" | "required")
            | (ActionKind::OfferPaymentPlan { .. }, "total") => Some(Unit::Money),
            (ActionKind::OfferPaymentPlan { .. }, field) if field.starts_with("instalments[") => {
                match field.rsplit('.').next() {
                    Some("amount") => Some(Unit::Money),
                    Some("due") => Some(Unit::Days),
                    _ => None,
                }
            }
            (ActionKind::PromiseOutcome { .. }, "deadline")
            | (ActionKind::ScheduleEvent { .. }, "date")
            | (ActionKind::Postpone { .. }, "from" | "to")
            | (ActionKind::Withhold { .. }, "date" | "until")
            | (ActionKind::ExcludeSeverance { .. }, "until") => Some(Unit::Days),
            (ActionKind::Flag { values, .. }, field) => {
                let name = field.strip_prefix(FLAG_VALUE)?;
                let value = values.values().iter().find(|v| &*v.name == name)?;
                // A flag's output is text, an enum variant, money, a decimal, an integer or a date.
                match &value.value {
                    _ if value.text => None,
                    Json::String(_) if value.percent => Some(Unit::Percent),
                    Json::Number(_) => Some(Unit::Integer),
                    Json::String(s) if date(s).is_some() => Some(Unit::Days),
                    Json::String(s) if Decimal::from_str(s).is_ok() => Some(Unit::Number),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `new - old`, in this unit; `None` when either is not one of its values (null).
    fn difference(self, old: &Json, new: &Json) -> Option<Decimal> {
        // A percent's difference is in points: 2% to 5% is +3.
        match self {
            Unit::Money | Unit::Number => {
                let amount = |v: &Json| Decimal::from_str(v.as_str()?).ok();
                amount(new)?.checked_sub(amount(old)?)
            }
            Unit::Percent => {
                let points = |v: &Json| {
                    Decimal::from_str(v.as_str()?)
                        .ok()?
                        .checked_mul(Decimal::ONE_HUNDRED)
                };
                Some(points(new)?.checked_sub(points(old)?)?.normalize())
            }
            Unit::Integer => Some(Decimal::from(new.as_i64()?) - Decimal::from(old.as_i64()?)),
            Unit::Days => {
                let day = |v: &Json| date(v.as_str()?);
                Some((day(new)? - day(old)?).num_days().into())
            }
        }
    }
}

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A field's value as an analyst reads it, a percent as its row writes it (`2%`).
fn shown(unit: Option<Unit>, value: Option<&Json>) -> String {
    match (unit, value) {
        (Some(Unit::Percent), Some(Json::String(s))) => match Decimal::from_str(s) {
            Ok(fraction) => crate::lang::syntax::ast::Literal::Percent(fraction).to_string(),
            Err(_) => s.clone(),
        },
        _ => value_text(value),
    }
}

/// How far a field moved on one action: `new - old`, in `unit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Difference {
    pub unit: Unit,
    pub by: Decimal,
}

/// A flag's output `NAME` is compared as the field `values.NAME`.
const FLAG_VALUE: &str = "values.";

/// How one action kind moved on one account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A field's value moved (the action's `rules` included).
    Field(String),
    /// Only the new rules make it.
    Added,
    /// Only the base rules made it.
    Removed,
}

/// One difference: the action's `type`, what moved, the values (for a
/// field), and the rules the actions involved name, on either side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDiff {
    pub action: String,
    pub change: Change,
    pub values: Option<(String, String)>,
    /// For a quantity (money, number, date) on both sides: by how much it moved.
    pub difference: Option<Difference>,
    pub rules: BTreeSet<String>,
}

/// A field's value as an analyst reads it: text as it is, anything else as compact JSON.
pub fn value_text(value: Option<&Json>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An action as its JSON members, a flag's outputs each a member of its own.
fn object(action: &Action) -> Map<String, Json> {
    let mut map = match serde_json::to_value(action) {
        Ok(Json::Object(map)) => map,
        _ => Map::new(),
    };
    // A promise's `record` is its status and figures again, as one id: the
    // fields themselves say what moved.
    if let ActionKind::PromiseOutcome { .. } = action.kind {
        map.remove("record");
    }
    if let ActionKind::Flag { .. } = action.kind {
        if let Some(Json::Object(values)) = map.remove("values") {
            for (name, value) in values {
                map.insert(format!("{FLAG_VALUE}{name}"), value);
            }
        }
    }
    // A plan's instalments one by one (`instalments[2].due`), so that a moved
    // one is named with its difference, not as two lists.
    if let ActionKind::OfferPaymentPlan { .. } = action.kind {
        if let Some(Json::Array(instalments)) = map.remove("instalments") {
            for (i, instalment) in instalments.into_iter().enumerate() {
                let Json::Object(members) = instalment else {
                    continue;
                };
                for (name, value) in members {
                    map.insert(instalment_field(i + 1, &name), value);
                }
            }
        }
    }
    map
}

/// The field an instalment's member is compared as: `instalments[N].due`, N from 1.
fn instalment_field(number: usize, member: &str) -> String {
    format!("instalments[{number}].{member}")
}

fn kind(action: &Map<String, Json>) -> &str {
    action.get("type").and_then(Json::as_str).unwrap_or("?")
}

fn rules(action: &Map<String, Json>) -> impl Iterator<Item = String> + '_ {
    action
        .get("rules")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_string))
}

fn same_thing(a: &Map<String, Json>, b: &Map<String, Json>) -> bool {
    IDENTITY.iter().all(|key| a.get(*key) == b.get(*key))
}

/// Fields (`type` aside) both hold with the same value: how alike two actions are.
fn alike(a: &Map<String, Json>, b: &Map<String, Json>) -> usize {
    a.iter()
        .filter(|(k, v)| k.as_str() != "type" && b.get(k.as_str()) == Some(v))
        .count()
}

/// Every difference between `old` and `new`, one account's actions: none when they are equal.
pub fn action_diffs<'p>(old: &[Action<'p>], new: &[Action<'p>]) -> Vec<ActionDiff> {
    if old == new {
        return Vec::new();
    }
    let olds: Vec<Map<String, Json>> = old.iter().map(object).collect();
    let news: Vec<Map<String, Json>> = new.iter().map(object).collect();
    // Equal actions on both sides say nothing: take them out first.
    let mut new_left: Vec<Option<&Map<String, Json>>> = news.iter().map(Some).collect();
    let mut old_left = Vec::new();
    for (a, o) in old.iter().zip(&olds) {
        match new_left.iter_mut().find(|n| n.is_some_and(|n| n == o)) {
            Some(slot) => *slot = None,
            None => old_left.push((a, o)),
        }
    }
    let mut diffs = Vec::new();
    for (old_action, o) in old_left {
        // The most alike action about the same thing, the first of equals.
        let mut best: Option<(usize, usize)> = None;
        for (i, n) in new_left.iter().enumerate() {
            let Some(n) = n else { continue };
            if kind(n) != kind(o) || !same_thing(o, n) {
                continue;
            }
            let score = alike(o, n);
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        let Some((i, _)) = best else {
            diffs.push(ActionDiff {
                action: kind(o).to_string(),
                change: Change::Removed,
                values: None,
                difference: None,
                rules: rules(o).collect(),
            });
            continue;
        };
        let n = new_left[i].take().expect("an action left to pair");
        let new_action = &new[i];
        let both_rules: BTreeSet<String> = rules(o).chain(rules(n)).collect();
        let fields: BTreeSet<&str> = o
            .keys()
            .chain(n.keys())
            .map(String::as_str)
            .filter(|k| *k != "type")
            .collect();
        for field in fields {
            let (was, is) = (o.get(field), n.get(field));
            if was != is {
                let (old_unit, new_unit) =
                    (Unit::of(old_action, field), Unit::of(new_action, field));
                let difference = old_unit
                    .filter(|unit| new_unit == Some(*unit))
                    .and_then(|unit| {
                        let by = unit.difference(was?, is?)?;
                        Some(Difference { unit, by })
                    });
                diffs.push(ActionDiff {
                    action: kind(o).to_string(),
                    change: Change::Field(field.to_string()),
                    values: Some((shown(old_unit, was), shown(new_unit, is))),
                    difference,
                    rules: both_rules.clone(),
                });
            }
        }
    }
    for n in new_left.into_iter().flatten() {
        diffs.push(ActionDiff {
            action: kind(n).to_string(),
            change: Change::Added,
            values: None,
            difference: None,
            rules: rules(n).collect(),
        });
    }
    diffs
}
