//! Expected actions: partial matching of actual case actions against what a
//! test case says they should be. Only the fields an expectation lists are
//! compared, so expectations stay readable and survive new action fields.

use serde_json::Value as Json;

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
            crate::snapshot::parse_decimal(&a.to_string()) == crate::snapshot::parse_decimal(b)
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

fn compact(v: &Json) -> String {
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
}
