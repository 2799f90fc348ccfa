//! Expected actions: partial matching of actual case actions against what a
//! test case says they should be (one run's, or one day's of a timeline).
//! Only the fields an expectation lists are compared, so expectations stay
//! readable and survive new action fields. It must not run anything: it
//! compares.

use serde_json::Value as Json;

use crate::diagnostic::Diagnostic;
use crate::model::spanned::Spanned;
use crate::source::{SourceFile, Span};

/// Every action type and the fields its JSON has besides `type` and `rules`
/// (as `dry-run --format json` prints them). Test documents are checked against
/// it, so a misspelt field is an error instead of an expectation that never matches.
pub const ACTION_FIELDS: &[(&str, &[&str])] = &[
    ("open_case", &["category", "reason"]),
    ("close_case", &["reason"]),
    ("retreat_case", &["category", "reason"]),
    ("cancel_event", &["event", "reason"]),
    ("cancel_pending_events", &[]),
    ("remove_sa", &["sa", "reason"]),
    ("create_todo", &["reason"]),
    ("assign_class", &["class", "template"]),
    ("assign_arm", &["experiment", "arm", "template", "holdout"]),
    (
        "schedule_event",
        &["event", "event_type", "date", "params", "time", "window"],
    ),
    (
        "promise_outcome",
        &[
            "promise",
            "instalment",
            "status",
            "paid",
            "required",
            "deadline",
            "arrears_paid_in_full",
            "record",
        ],
    ),
    ("follow_up", &["promise", "follow_up", "detail"]),
    ("resume_treatment", &["template"]),
    ("offer_payment_plan", &["total", "instalments"]),
    ("nominate_severance", &["sas"]),
    ("exclude_severance", &["sa", "reason", "until"]),
    ("hold_contact", &["reason", "withheld", "cancelled"]),
    (
        "withhold",
        &[
            "action", "event", "date", "time", "until", "sas", "final", "reason",
        ],
    ),
    ("postpone", &["event", "from", "to", "time", "reason"]),
    ("rechannel", &["event", "from", "to", "reason"]),
    ("flag", &["table", "values"]),
];

/// Fields every action has.
const COMMON_FIELDS: [&str; 2] = ["type", "rules"];

/// What is wrong with one expected action as written: its message, a `did
/// you mean` where one is close, and the unknown field's name when that is
/// what is wrong. `None` when it is well formed.
pub struct Malformed<'w> {
    pub message: String,
    pub help: Option<String>,
    pub field: Option<&'w str>,
}

/// What is wrong with one expected action as written (not a mapping, an unknown
/// type or field); `None` when it is well formed.
pub fn malformed_expectation(want: &Json) -> Option<Malformed<'_>> {
    let malformed = |message, help| Malformed {
        message,
        help,
        field: None,
    };
    use crate::diagnostic::did_you_mean;
    let Json::Object(fields) = want else {
        return Some(malformed(
            format!(
                "an expected action is a mapping of fields, e.g. `{{ type: open_case }}`, not {}",
                compact(want)
            ),
            None,
        ));
    };
    let known: Vec<&str> = match fields.get("type") {
        None => ACTION_FIELDS
            .iter()
            .flat_map(|(_, f)| f.iter().copied())
            .collect(),
        Some(Json::String(kind)) => match ACTION_FIELDS.iter().find(|(k, _)| k == kind) {
            Some((_, f)) => f.to_vec(),
            None => {
                return Some(malformed(
                    format!("unknown action type `{kind}`"),
                    did_you_mean(kind, ACTION_FIELDS.iter().map(|(k, _)| *k)),
                ))
            }
        },
        Some(other) => {
            return Some(malformed(
                format!("an action's `type` is a name, not {}", compact(other)),
                None,
            ))
        }
    };
    let known: Vec<&str> = COMMON_FIELDS.iter().copied().chain(known).collect();
    let unknown = fields.keys().find(|k| !known.contains(&k.as_str()))?;
    let of = match fields.get("type") {
        Some(Json::String(kind)) => format!("`{kind}`"),
        _ => "any action".to_string(),
    };
    Some(Malformed {
        message: format!(
            "`{unknown}` is not a field of {of} (its fields: {})",
            known.join(", ")
        ),
        help: did_you_mean(unknown, known.iter().copied()),
        field: Some(unknown),
    })
}

/// Every expected action under `key` that is malformed (not a mapping, an
/// unknown type or field), one problem each.
/// An unknown field is shown at its key in `file`, where the action is written.
pub fn malformed_actions(
    key: &str,
    expected: &[Spanned<Json>],
    file: &SourceFile,
    error: &dyn Fn(Span, String) -> Diagnostic,
) -> Vec<Diagnostic> {
    expected
        .iter()
        .filter_map(|want| {
            let m = malformed_expectation(&want.value)?;
            let at = m
                .field
                .and_then(|field| crate::model::spanned::key_within(file, want.span, field))
                .unwrap_or(want.span);
            Some(error(at, format!("`{key}`: {}", m.message)).with_help_opt(m.help))
        })
        .collect()
}

/// Actions as JSON, as `dry-run --format json` prints them: what expectations match.
pub fn actions_json(actions: &[crate::policy::Action]) -> Vec<Json> {
    actions
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok())
        .collect()
}

/// What `actions` (exactly these), `contains` and `excludes` find wrong with
/// one run's actions, one line each.
pub fn expected_actions(
    exact: &Option<Vec<Spanned<Json>>>,
    contains: &Option<Vec<Spanned<Json>>>,
    excludes: &Option<Vec<Spanned<Json>>>,
    actual: &[Json],
) -> Vec<String> {
    let values =
        |list: &[Spanned<Json>]| -> Vec<Json> { list.iter().map(|s| s.value.clone()).collect() };
    let mut problems = Vec::new();
    if let Some(exact) = exact {
        problems.extend(diff_actions(&values(exact), actual));
    }
    if let Some(contains) = contains {
        problems.extend(missing_actions(&values(contains), actual));
    }
    if let Some(excludes) = excludes {
        problems.extend(excluded_actions(&values(excludes), actual));
    }
    problems
}

/// Whether `got` has every field `want` lists, with the same value.
pub fn matches(want: &Json, got: &Json) -> bool {
    match want {
        Json::Object(fields) => fields
            .iter()
            .all(|(k, v)| got.get(k).is_some_and(|g| same(v, g))),
        _ => false,
    }
}

/// `contains`: each expected action matches a different actual action, in any
/// order, among others. One line per expectation left without a match.
pub fn missing_actions(expected: &[Json], actual: &[Json]) -> Vec<String> {
    let candidates: Vec<Vec<usize>> = expected
        .iter()
        .map(|want| {
            (0..actual.len())
                .filter(|&a| matches(want, &actual[a]))
                .collect()
        })
        .collect();
    let owner = match_distinct(&candidates, actual.len());
    let mut problems = Vec::new();
    for (i, want) in expected.iter().enumerate() {
        if owner.contains(&Some(i)) {
            continue;
        }
        let problem = if let Some(&taken) = candidates[i].first() {
            format!(
                "`contains` {}: expected {}; it matches only {}, which another `contains` entry also needs",
                i + 1,
                compact(want),
                described(taken, &actual[taken])
            )
        } else {
            format!(
                "`contains` {}: no action matches {}{}",
                i + 1,
                compact(want),
                closest(want, actual)
            )
        };
        problems.push(problem);
    }
    problems
}

/// `excludes`: one line per actual action that matches an excluded one.
pub fn excluded_actions(excluded: &[Json], actual: &[Json]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, never) in excluded.iter().enumerate() {
        for (a, got) in actual.iter().enumerate() {
            if matches(never, got) {
                problems.push(format!(
                    "`excludes` {}: {} matches {}",
                    i + 1,
                    described(a, got),
                    compact(never)
                ));
            }
        }
    }
    problems
}

/// A maximum matching of expectations to distinct actions (Kuhn's augmenting
/// paths; cases have a few dozen actions): for each action, the expectation it serves.
fn match_distinct(candidates: &[Vec<usize>], actions: usize) -> Vec<Option<usize>> {
    fn augment(
        e: usize,
        candidates: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &a in &candidates[e] {
            if seen[a] {
                continue;
            }
            seen[a] = true;
            if owner[a].is_none_or(|other| augment(other, candidates, seen, owner)) {
                owner[a] = Some(e);
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; actions];
    for e in 0..candidates.len() {
        let mut seen = vec![false; actions];
        augment(e, candidates, &mut seen, &mut owner);
    }
    owner
}

/// `action N {fields} (rules: a, b)`: an actual action and the rules behind it.
pub fn described(index: usize, action: &Json) -> String {
    let mut fields = action.clone();
    let rules = match fields.as_object_mut().and_then(|o| o.remove("rules")) {
        Some(Json::Array(rules)) => rules
            .iter()
            .map(|r| r.as_str().map_or_else(|| compact(r), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    format!("action {} {} (rules: {rules})", index + 1, compact(&fields))
}

/// `; closest: action N ... differs in `date``: the actual action of the same
/// type that differs from `want` in the fewest listed fields.
fn closest(want: &Json, actual: &[Json]) -> String {
    let Json::Object(fields) = want else {
        return String::new();
    };
    let differing = |got: &Json| -> Vec<&str> {
        fields
            .iter()
            .filter(|(k, v)| !got.get(k.as_str()).is_some_and(|g| same(v, g)))
            .map(|(k, _)| k.as_str())
            .collect()
    };
    let best = actual
        .iter()
        .enumerate()
        .filter(|(_, got)| {
            fields
                .get("type")
                .is_none_or(|t| got.get("type") == Some(t))
        })
        .map(|(a, got)| (differing(got), a, got))
        .min_by_key(|(d, a, _)| (d.len(), *a));
    match best {
        Some((d, a, got)) => format!(
            "; closest: {}, which differs in {}",
            described(a, got),
            d.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None if actual.is_empty() => "; there are no actions".to_string(),
        None => format!(
            "; no action has that type (types: {})",
            actual
                .iter()
                .filter_map(|a| a.get("type").and_then(Json::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Differences between expected and actual actions (JSON as `dry-run --format json` prints them);
/// empty when they match.
pub fn diff_actions(expected: &[Json], actual: &[Json]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, want) in expected.iter().enumerate() {
        let Some(got) = actual.get(i) else {
            problems.push(format!(
                "action {}: expected {}, but there are only {} actions",
                i + 1,
                compact(want),
                actual.len()
            ));
            continue;
        };
        let Json::Object(fields) = want else {
            problems.push(format!(
                "action {}: an expectation must be a mapping, found {}",
                i + 1,
                compact(want)
            ));
            continue;
        };
        for (key, value) in fields {
            match got.get(key) {
                Some(v) if same(value, v) => {}
                Some(v) => problems.push(format!(
                    "action {} `{key}`: expected {}, got {}",
                    i + 1,
                    compact(value),
                    compact(v)
                )),
                None => problems.push(format!(
                    "action {} has no `{key}` (expected {}); it is {}",
                    i + 1,
                    compact(value),
                    compact(got)
                )),
            }
        }
    }
    for extra in actual.iter().skip(expected.len()) {
        problems.push(format!("unexpected action {}", compact(extra)));
    }
    problems
}

/// Equality where a YAML scalar matches its JSON rendering (`10` matches `"10.00"` money only if equal as text or number).
pub fn same(want: &Json, got: &Json) -> bool {
    match (want, got) {
        (Json::String(a), Json::String(b)) => a == b,
        (Json::Number(a), Json::String(b)) => {
            crate::decimal::parse_decimal(&a.to_string()) == crate::decimal::parse_decimal(b)
        }
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Json::Object(a), Json::Object(b)) => {
            a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w)))
        }
        _ => want == got,
    }
}

pub fn compact(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listed_fields_only_and_order_matters() {
        let actual = vec![
            json!({"type": "open_case", "category": "arrears", "reason": "x", "rules": ["entry:a"]}),
        ];
        assert!(diff_actions(&[json!({"type": "open_case"})], &actual).is_empty());
        assert_eq!(
            diff_actions(
                &[json!({"type": "open_case", "category": "over_limit"})],
                &actual
            )
            .len(),
            1
        );
        assert_eq!(diff_actions(&[], &actual).len(), 1);
        assert_eq!(
            diff_actions(
                &[json!({"type": "open_case"}), json!({"type": "close_case"})],
                &actual
            )
            .len(),
            1
        );
        assert!(diff_actions(&[json!({"rules": ["entry:a"]})], &actual).is_empty());
        assert_eq!(
            diff_actions(&[json!({"rules": ["entry:b"]})], &actual).len(),
            1
        );
    }

    #[test]
    fn numbers_match_money_text() {
        let actual = vec![json!({"type": "x", "paid": "47.00"})];
        assert!(diff_actions(&[json!({"paid": 47})], &actual).is_empty());
        assert_eq!(diff_actions(&[json!({"paid": 46})], &actual).len(), 1);
    }

    fn actions() -> Vec<Json> {
        vec![
            json!({"type": "open_case", "category": "arrears", "reason": "r", "rules": ["entry:a"]}),
            json!({"type": "schedule_event", "event": "call", "date": "2026-11-27", "rules": ["t:y"]}),
            json!({"type": "schedule_event", "event": "letter", "date": "2026-11-23", "rules": ["t:x"]}),
        ]
    }

    #[test]
    fn contains_matches_distinct_actions_in_any_order() {
        let actual = actions();
        let call_then_any = [
            json!({"type": "schedule_event", "event": "call"}),
            json!({"type": "schedule_event"}),
        ];
        // A greedy match would give the `call` action to the unqualified entry
        // and leave the `call` entry without one.
        let any_then_call = [
            json!({"type": "schedule_event"}),
            json!({"type": "schedule_event", "event": "call"}),
        ];
        assert!(missing_actions(&call_then_any, &actual).is_empty());
        assert!(missing_actions(&any_then_call, &actual).is_empty());
        let three_events = [
            json!({"type": "schedule_event"}),
            json!({"type": "schedule_event"}),
            json!({"type": "schedule_event"}),
        ];
        let problems = missing_actions(&three_events, &actual);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("another `contains` entry"),
            "{problems:?}"
        );
        let wrong_date = missing_actions(
            &[json!({"type": "schedule_event", "event": "call", "date": "2026-11-26"})],
            &actual,
        );
        assert_eq!(
            wrong_date,
            [
                r#"`contains` 1: no action matches {"type":"schedule_event","event":"call","date":"2026-11-26"}; closest: action 2 {"type":"schedule_event","event":"call","date":"2026-11-27"} (rules: t:y), which differs in `date`"#
            ]
        );
    }

    #[test]
    fn excludes_names_every_matching_action_and_its_rules() {
        let actual = actions();
        assert!(excluded_actions(&[json!({"type": "close_case"})], &actual).is_empty());
        assert_eq!(
            excluded_actions(&[json!({"type": "open_case"})], &actual),
            [
                r#"`excludes` 1: action 1 {"type":"open_case","category":"arrears","reason":"r"} (rules: entry:a) matches {"type":"open_case"}"#
            ]
        );
        assert_eq!(
            excluded_actions(&[json!({"type": "schedule_event"})], &actual).len(),
            2
        );
    }

    #[test]
    fn malformed_expectations_are_named_with_a_suggestion() {
        assert!(malformed_expectation(&json!({"type": "open_case", "category": "x"})).is_none());
        assert!(malformed_expectation(&json!({"event": "x", "rules": []})).is_none());
        let want = json!({"type": "open_case", "categroy": "x"});
        let m = malformed_expectation(&want).unwrap();
        assert!(
            m.message
                .starts_with("`categroy` is not a field of `open_case`"),
            "{}",
            m.message
        );
        assert_eq!(m.help.as_deref(), Some("did you mean `category`?"));
        assert_eq!(m.field, Some("categroy"));
        let want = json!({"type": "close_cse"});
        let m = malformed_expectation(&want).unwrap();
        assert_eq!(m.message, "unknown action type `close_cse`");
        assert_eq!(m.help.as_deref(), Some("did you mean `close_case`?"));
        assert!(malformed_expectation(&json!("open_case")).is_some());
    }

    /// `ACTION_FIELDS` is what actions serialise to, every optional field present.
    #[test]
    fn action_fields_are_the_serialised_fields() {
        let kinds = crate::policy::action::samples::every_kind("x");
        assert_eq!(kinds.len(), ACTION_FIELDS.len());
        for kind in &kinds {
            let json = serde_json::to_value(kind).expect("serialises");
            let mut keys: Vec<&str> = json
                .as_object()
                .expect("object")
                .keys()
                .map(|k| k.as_str())
                .collect();
            keys.retain(|k| *k != "type");
            keys.sort_unstable();
            let (_, fields) = ACTION_FIELDS
                .iter()
                .find(|(name, _)| *name == kind.name())
                .unwrap_or_else(|| panic!("`{}` is missing from ACTION_FIELDS", kind.name()));
            let mut fields = fields.to_vec();
            fields.sort_unstable();
            assert_eq!(keys, fields, "{}", kind.name());
        }
    }
}
