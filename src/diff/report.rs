//! The diff's counts: per area a transition matrix of accounts (old label →
//! new label) with their arrears, balance and a few example ids; scheduled
//! events by type and date; per action kind and field the accounts on which
//! it moved, with the values (old → new); per rule the accounts whose actions
//! name it, and those on which an action naming it changed. It
//! is merged part by part in input order, and every count is a sum, so the
//! result does not depend on the thread count. It must not render.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{json, Value as Json};

use super::changes::{action_diffs, Change, Difference, Unit};
use super::{area_values, Outcome};
use crate::policy::ActionKind;

/// The areas compared, in report order: JSON key and title.
pub const AREAS: [(&str, &str); 6] = [
    ("entry_category", "entry category"),
    ("class_template", "class / template"),
    ("experiment_arm", "experiment arm"),
    ("promise_outcome", "promise outcome"),
    ("severance", "severance"),
    ("case_closed", "case closed"),
];

/// Which rules a side is: as named on the command line, and their fingerprint.
#[derive(Clone, Debug, Default)]
pub struct RulesLabel {
    /// `rules`, or `main (rules/ at 1a2b3c4)` for a git revision.
    pub rules: String,
    pub fingerprint: String,
    /// The effective-dated versions in force on the as-of date (none when nothing is dated).
    pub effective: Vec<crate::policy::InForce>,
}

/// One cell of a transition matrix.
#[derive(Clone, Debug, Default)]
pub struct Cell {
    pub accounts: u64,
    /// Sums of the accounts' `arrears` and `balance`; `None` once a sum overflowed.
    pub arrears: Option<Decimal>,
    pub balance: Option<Decimal>,
    /// The smallest account ids (by byte order) in the cell, at most `Report::examples`.
    pub examples: BTreeSet<String>,
}

/// One area's matrix: `(old, new)` → cell.
#[derive(Clone, Debug)]
pub struct AreaMatrix {
    pub area: &'static str,
    pub title: &'static str,
    pub cells: BTreeMap<(String, String), Cell>,
}

/// Scheduled events of one type on one date (or, summed, of one type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCount {
    pub old: u64,
    pub new: u64,
}

/// Accounts whose actions name a rule, under each rule set, and those on
/// which an action naming it (on either side) changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowCount {
    pub old: u64,
    pub new: u64,
    pub changed: u64,
}

impl RowCount {
    /// Its accounts under each rule set, for the bars and the change column.
    pub fn counts(self) -> EventCount {
        EventCount {
            old: self.old,
            new: self.new,
        }
    }
}

/// Distinct value pairs (old, new) kept per changed field: the smallest, so
/// that the parts merge to the same list whatever the thread count.
pub const VALUE_PAIRS_KEPT: usize = 1000;

/// One action kind's field that moved (or the action added or removed), over the accounts.
#[derive(Clone, Debug, Default)]
pub struct ActionChange {
    pub accounts: u64,
    /// (old value, new value) → accounts with it: the [`VALUE_PAIRS_KEPT`] smallest pairs.
    pub values: BTreeMap<(String, String), u64>,
    /// Accounts counted under a pair not kept.
    pub values_not_kept: u64,
    /// By how much a quantity moved, over every account (a field that is not one: `None`).
    pub spread: Option<Spread>,
    /// The rules the changed actions name, on either side.
    pub rules: BTreeSet<String>,
    /// The smallest account ids, at most `Report::examples`.
    pub examples: BTreeSet<String>,
}

/// The differences (new - old) of a field that moved, over the accounts:
/// every one counted, not only the value pairs kept, and every count a sum
/// or an extreme, so parts merge to the same spread whatever the threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    pub unit: Unit,
    /// Accounts with a difference, and the differences (an account may hold several actions that moved).
    pub accounts: u64,
    pub values: u64,
    pub min: Decimal,
    pub max: Decimal,
    /// The sum of the differences; `None` once it overflowed.
    pub total: Option<Decimal>,
    pub increased: u64,
    pub decreased: u64,
}

impl Spread {
    fn of(d: Difference) -> Spread {
        Spread {
            unit: d.unit,
            accounts: 0,
            values: 1,
            min: d.by,
            max: d.by,
            total: Some(d.by),
            increased: u64::from(d.by > Decimal::ZERO),
            decreased: u64::from(d.by < Decimal::ZERO),
        }
    }

    /// Adds another's differences; one in another unit (a flag's output whose type changed) is left out.
    fn merge(into: &mut Option<Spread>, other: Spread) {
        let Some(s) = into else {
            *into = Some(other);
            return;
        };
        if s.unit != other.unit {
            return;
        }
        s.accounts += other.accounts;
        s.values += other.values;
        s.min = s.min.min(other.min);
        s.max = s.max.max(other.max);
        s.total = s.total.zip(other.total).and_then(|(a, b)| a.checked_add(b));
        s.increased += other.increased;
        s.decreased += other.decreased;
    }

    /// Whether every difference is the same.
    pub fn uniform(&self) -> bool {
        self.min == self.max
    }
}

impl ActionChange {
    fn count_value(&mut self, pair: (String, String), accounts: u64) {
        if self.values.len() < VALUE_PAIRS_KEPT || self.values.contains_key(&pair) {
            *self.values.entry(pair).or_default() += accounts;
        } else if self
            .values
            .last_key_value()
            .is_some_and(|(last, _)| pair < *last)
        {
            *self.values.entry(pair).or_default() += accounts;
            if let Some((_, n)) = self.values.pop_last() {
                self.values_not_kept += n;
            }
        } else {
            self.values_not_kept += accounts;
        }
    }
}

/// What a diff found.
#[derive(Clone, Debug)]
pub struct Report {
    pub as_of: NaiveDate,
    pub old: RulesLabel,
    pub new: RulesLabel,
    /// The accounts input, as named on the command line.
    pub input: String,
    pub rows_read: u64,
    /// Rows run under both rule sets (one of them may have failed).
    pub compared: u64,
    /// Compared rows whose actions differ (or that failed under one rule set only).
    pub changed: u64,
    /// Rows that could not be decoded, or failed under both rule sets.
    pub rejected: u64,
    pub failed_old_only: u64,
    pub failed_new_only: u64,
    pub areas: Vec<AreaMatrix>,
    /// `(event type, date)` → events scheduled.
    pub events: BTreeMap<(String, NaiveDate), EventCount>,
    /// Rule (`table:row`, `template:name/event`) → accounts whose actions name it.
    pub rows: BTreeMap<String, RowCount>,
    /// (action type, what moved) → the accounts on which it moved.
    pub action_changes: BTreeMap<(String, Change), ActionChange>,
    /// Example ids kept per changed cell.
    pub examples: usize,
    /// The extract's lists read from no file (`--no-companion`), as the batch's summary names them.
    pub lists_not_read: Vec<String>,
    /// The extract's columns read from no header (`--no-column`).
    pub columns_not_read: Vec<String>,
    /// A JSON Lines extract's fields a CSV one must have columns for that its first part lacked.
    pub fields_not_seen: Option<crate::data::batch::FieldsNotSeen>,
}

fn add_money(sum: &mut Option<Decimal>, amount: Option<Decimal>) {
    if let (Some(s), Some(a)) = (sum.as_mut(), amount) {
        *sum = s.checked_add(a);
    }
}

impl Cell {
    fn empty() -> Cell {
        Cell {
            accounts: 0,
            arrears: Some(Decimal::ZERO),
            balance: Some(Decimal::ZERO),
            examples: BTreeSet::new(),
        }
    }
}

impl Report {
    pub fn new(as_of: NaiveDate, examples: usize) -> Report {
        Report {
            as_of,
            old: RulesLabel::default(),
            new: RulesLabel::default(),
            input: String::new(),
            rows_read: 0,
            compared: 0,
            changed: 0,
            rejected: 0,
            failed_old_only: 0,
            failed_new_only: 0,
            areas: AREAS
                .iter()
                .map(|(area, title)| AreaMatrix {
                    area,
                    title,
                    cells: BTreeMap::new(),
                })
                .collect(),
            events: BTreeMap::new(),
            rows: BTreeMap::new(),
            action_changes: BTreeMap::new(),
            lists_not_read: Vec::new(),
            columns_not_read: Vec::new(),
            fields_not_seen: None,
            examples,
        }
    }

    /// Whether any compared account changed.
    pub fn has_changes(&self) -> bool {
        self.changed > 0
    }

    /// Counts one compared account; returns whether it changed.
    pub(super) fn add<'p>(
        &mut self,
        id: &str,
        arrears: Option<Decimal>,
        balance: Option<Decimal>,
        old: &Outcome<'p>,
        new: &Outcome<'p>,
    ) -> bool {
        self.compared += 1;
        let changed = match (old, new) {
            (Outcome::Actions(a), Outcome::Actions(b)) => a != b,
            (Outcome::Failed(_), Outcome::Actions(_)) => {
                self.failed_old_only += 1;
                true
            }
            (Outcome::Actions(_), Outcome::Failed(_)) => {
                self.failed_new_only += 1;
                true
            }
            (Outcome::Failed(_), Outcome::Failed(_)) => false,
        };
        self.changed += changed as u64;
        if let (Outcome::Actions(a), Outcome::Actions(b)) = (old, new) {
            self.add_action_changes(id, a, b);
        }
        let (olds, news) = (area_values(old), area_values(new));
        for ((matrix, o), n) in self.areas.iter_mut().zip(olds).zip(news) {
            let differs = o != n;
            let cell = matrix.cells.entry((o, n)).or_insert_with(Cell::empty);
            cell.accounts += 1;
            add_money(&mut cell.arrears, arrears.or(Some(Decimal::ZERO)));
            add_money(&mut cell.balance, balance.or(Some(Decimal::ZERO)));
            if differs {
                keep_smallest(&mut cell.examples, id, self.examples);
            }
        }
        for (outcome, old_side) in [(old, true), (new, false)] {
            let Outcome::Actions(actions) = outcome else {
                continue;
            };
            let mut rules = BTreeSet::new();
            for action in actions {
                if let ActionKind::ScheduleEvent {
                    event_type, date, ..
                } = &action.kind
                {
                    let count = self
                        .events
                        .entry((event_type.to_string(), *date))
                        .or_default();
                    *side(count, old_side) += 1;
                }
                rules.extend(action.rules.iter().map(|r| &**r));
            }
            for rule in rules {
                let count = match self.rows.get_mut(rule) {
                    Some(count) => count,
                    None => self.rows.entry(rule.to_string()).or_default(),
                };
                *row_side(count, old_side) += 1;
            }
        }
        changed
    }

    /// What moved in one account's actions: each (action, what moved) and
    /// value pair counted once for the account, and once per rule behind it.
    fn add_action_changes<'p>(
        &mut self,
        id: &str,
        old: &[crate::policy::Action<'p>],
        new: &[crate::policy::Action<'p>],
    ) {
        let mut rules_behind = BTreeSet::new();
        let mut counted = BTreeSet::new();
        let mut pairs = BTreeSet::new();
        let mut differed = BTreeSet::new();
        for diff in action_diffs(old, new) {
            let key = (diff.action, diff.change);
            let change = self.action_changes.entry(key.clone()).or_default();
            if let Some(values) = diff.values {
                if pairs.insert((key.clone(), values.clone())) {
                    change.count_value(values, 1);
                }
            }
            if let Some(difference) = diff.difference {
                let mut spread = Spread::of(difference);
                spread.accounts = u64::from(differed.insert(key.clone()));
                Spread::merge(&mut change.spread, spread);
            }
            if counted.insert(key) {
                change.accounts += 1;
                keep_smallest(&mut change.examples, id, self.examples);
            }
            change.rules.extend(diff.rules.iter().cloned());
            rules_behind.extend(diff.rules);
        }
        for rule in rules_behind {
            self.rows.entry(rule).or_default().changed += 1;
        }
    }

    /// Adds a later part's counts.
    pub(super) fn merge(&mut self, other: Report) {
        self.compared += other.compared;
        self.changed += other.changed;
        self.rejected += other.rejected;
        self.failed_old_only += other.failed_old_only;
        self.failed_new_only += other.failed_new_only;
        for (mine, theirs) in self.areas.iter_mut().zip(other.areas) {
            for (key, cell) in theirs.cells {
                let into = mine.cells.entry(key).or_insert_with(Cell::empty);
                into.accounts += cell.accounts;
                add_money(&mut into.arrears, cell.arrears);
                if cell.arrears.is_none() {
                    into.arrears = None;
                }
                add_money(&mut into.balance, cell.balance);
                if cell.balance.is_none() {
                    into.balance = None;
                }
                for id in &cell.examples {
                    keep_smallest(&mut into.examples, id, self.examples);
                }
            }
        }
        for (key, count) in other.events {
            let into = self.events.entry(key).or_default();
            into.old += count.old;
            into.new += count.new;
        }
        for (key, count) in other.rows {
            let into = self.rows.entry(key).or_default();
            into.old += count.old;
            into.new += count.new;
            into.changed += count.changed;
        }
        for (key, theirs) in other.action_changes {
            let into = self.action_changes.entry(key).or_default();
            into.accounts += theirs.accounts;
            into.values_not_kept += theirs.values_not_kept;
            if let Some(spread) = theirs.spread {
                Spread::merge(&mut into.spread, spread);
            }
            for (pair, n) in theirs.values {
                into.count_value(pair, n);
            }
            into.rules.extend(theirs.rules);
            for id in &theirs.examples {
                keep_smallest(&mut into.examples, id, self.examples);
            }
        }
    }

    /// The (type, day) counts that changed, in day order, then type: what a
    /// list headed "by date" reads (text, HTML and JSON alike).
    pub fn changed_days(&self) -> Vec<(&(String, NaiveDate), &EventCount)> {
        let mut days: Vec<_> = self.events.iter().filter(|(_, c)| c.old != c.new).collect();
        days.sort_by_key(|((t, d), _)| (*d, t.as_str()));
        days
    }

    /// Scheduled events per type, summed over dates.
    pub fn events_by_type(&self) -> BTreeMap<&str, EventCount> {
        let mut by_type: BTreeMap<&str, EventCount> = BTreeMap::new();
        for ((event_type, _), count) in &self.events {
            let into = by_type.entry(event_type).or_default();
            into.old += count.old;
            into.new += count.new;
        }
        by_type
    }

    /// The rules whose count of accounts changed, or on whose accounts an
    /// action naming them changed, in rule order.
    pub fn changed_rows(&self) -> impl Iterator<Item = (&str, RowCount)> {
        self.rows
            .iter()
            .filter(|(_, c)| c.old != c.new || c.changed > 0)
            .map(|(rule, c)| (rule.as_str(), *c))
    }

    /// The report as JSON (docs/diff.md describes it; keys in a fixed order).
    pub fn json(&self) -> Json {
        let money = |m: Option<Decimal>| match m {
            Some(d) => json!(d.to_string()),
            None => json!("overflow"),
        };
        let label = |l: &RulesLabel| {
            json!({
                "rules": l.rules,
                "fingerprint": l.fingerprint,
                "effective": l.effective.iter().map(crate::policy::InForce::json).collect::<Vec<_>>(),
            })
        };
        let mut report = json!({
            "as_of": self.as_of.to_string(),
            "input": self.input,
            "old": label(&self.old),
            "new": label(&self.new),
            "accounts": {
                "rows_read": self.rows_read,
                "compared": self.compared,
                "changed": self.changed,
                "rejected": self.rejected,
                "failed_old_only": self.failed_old_only,
                "failed_new_only": self.failed_new_only,
            },
            "areas": self.areas.iter().map(|m| json!({
                "area": m.area,
                "cells": m.cells.iter().map(|((old, new), cell)| json!({
                    "old": old,
                    "new": new,
                    "changed": old != new,
                    "accounts": cell.accounts,
                    "arrears": money(cell.arrears),
                    "balance": money(cell.balance),
                    "examples": cell.examples,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "events": {
                "by_type": self.events_by_type().iter().map(|(t, c)| json!({
                    "event_type": t, "old": c.old, "new": c.new,
                })).collect::<Vec<_>>(),
                "by_date": self.changed_days().into_iter().map(|((t, d), c)| json!({
                    "event_type": t, "date": d.to_string(), "old": c.old, "new": c.new,
                })).collect::<Vec<_>>(),
            },
            "actions": self.action_changes.iter().map(|((action, change), c)| {
                let (what, field) = match change {
                    Change::Field(field) => ("field", Some(field)),
                    Change::Added => ("added", None),
                    Change::Removed => ("removed", None),
                };
                json!({
                    "action": action,
                    "change": what,
                    "field": field,
                    "accounts": c.accounts,
                    "values": c.values.iter().map(|((old, new), n)| json!({
                        "old": old, "new": new, "accounts": n,
                    })).collect::<Vec<_>>(),
                    "values_not_listed": c.values_not_kept,
                    "difference": c.spread.map(|s| s.json()),
                    "rules": c.rules,
                    "examples": c.examples,
                })
            }).collect::<Vec<_>>(),
            "rows": {
                "changed": self.changed_rows().map(|(rule, c)| json!({
                    "rule": rule, "old": c.old, "new": c.new, "actions_changed": c.changed,
                })).collect::<Vec<_>>(),
                "no_longer_fire": self.changed_rows().filter(|(_, c)| c.new == 0 && c.old > 0).map(|(r, _)| r).collect::<Vec<_>>(),
                "newly_fire": self.changed_rows().filter(|(_, c)| c.old == 0 && c.new > 0).map(|(r, _)| r).collect::<Vec<_>>(),
            },
        });
        // As in the batch's summary: present only when something was not read.
        if let Some(report) = report.as_object_mut() {
            for (key, names) in [
                ("lists_not_read", &self.lists_not_read),
                ("columns_not_read", &self.columns_not_read),
            ] {
                if !names.is_empty() {
                    report.insert(key.into(), json!(names));
                }
            }
            if let Some(not_seen) = &self.fields_not_seen {
                report.insert("fields_not_seen".into(), json!(not_seen));
            }
        }
        report
    }

    /// What the run did not read (`--no-companion`, `--no-column`) and what that costs: the batch's warnings.
    pub fn not_read_warnings(&self) -> Vec<String> {
        crate::data::batch::not_read_warnings(
            &self.lists_not_read,
            &self.columns_not_read,
            self.fields_not_seen.as_ref(),
        )
    }
}

impl Spread {
    /// `{"unit", "accounts", "values", "min", "max", "total", "increased", "decreased"}`:
    /// money, numbers and percentage points as exact text, as the report writes money; integers
    /// and days as numbers.
    fn json(&self) -> Json {
        let amount = |d: Decimal| match self.unit {
            Unit::Money | Unit::Number | Unit::Percent => json!(d.to_string()),
            Unit::Integer | Unit::Days => json!(i64::try_from(d).unwrap_or_default()),
        };
        json!({
            "unit": self.unit.name(),
            "accounts": self.accounts,
            "values": self.values,
            "min": amount(self.min),
            "max": amount(self.max),
            "total": self.total.map_or(json!("overflow"), amount),
            "increased": self.increased,
            "decreased": self.decreased,
        })
    }
}

fn side(count: &mut EventCount, old: bool) -> &mut u64 {
    match old {
        true => &mut count.old,
        false => &mut count.new,
    }
}

fn row_side(count: &mut RowCount, old: bool) -> &mut u64 {
    match old {
        true => &mut count.old,
        false => &mut count.new,
    }
}

/// Keeps the `n` smallest ids: the same examples whatever order the parts finish in.
fn keep_smallest(set: &mut BTreeSet<String>, id: &str, n: usize) {
    if set.len() < n {
        set.insert(id.to_string());
    } else if set.last().is_some_and(|last| id < last.as_str()) && !set.contains(id) {
        set.insert(id.to_string());
        set.pop_last();
    }
}
