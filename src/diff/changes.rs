//! What differs between one account's actions under the two rule sets, field
//! by field: each action of one side paired with the other side's action of
//! the same kind about the same thing (event, promise, SA, experiment), and
//! every field whose value moved named with both values; an action without a
//! partner was added or removed. The report aggregates these, so that every
//! changed account is explained even when no area's label moved.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::policy::Action;

/// Fields that say which thing an action is about: two actions of one kind
/// are the same action, changed, only when these agree.
const IDENTITY: [&str; 5] = ["event", "promise", "sa", "experiment", "action"];

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

fn object(action: &Action) -> Map<String, Json> {
    match serde_json::to_value(action) {
        Ok(Json::Object(map)) => map,
        _ => Map::new(),
    }
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
    for o in &olds {
        match new_left.iter_mut().find(|n| n.is_some_and(|n| n == o)) {
            Some(slot) => *slot = None,
            None => old_left.push(o),
        }
    }
    let mut diffs = Vec::new();
    for o in old_left {
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
                rules: rules(o).collect(),
            });
            continue;
        };
        let n = new_left[i].take().expect("an action left to pair");
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
                diffs.push(ActionDiff {
                    action: kind(o).to_string(),
                    change: Change::Field(field.to_string()),
                    values: Some((value_text(was), value_text(is))),
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
            rules: rules(n).collect(),
        });
    }
    diffs
}
