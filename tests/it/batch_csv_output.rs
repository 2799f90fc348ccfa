//! `batch --output-format csv`: each action's `fields` cell is the JSON
//! Lines action without `account`, `row`, `type` and `rules`, its fields in
//! the same order; a null text output stays `null`, distinct from `""`.

use std::path::Path;

use serde_json::Value as Json;

use crate::common;

use common::{arrears, copy_dir, root, stderr};

const AS_OF: &str = "2026-11-22";

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs a batch of `rules` over `input` into `out` in `format`.
fn batch(rules: &Path, input: &Path, out: &Path, format: &str) {
    let o = arrears(&[
        "batch",
        "--rules",
        p(rules),
        "--as-of",
        AS_OF,
        "--output-format",
        format,
        "--out",
        p(out),
        p(input),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The shipped rules, with one entry row's reason `null` and another's `""`.
fn rules_with_null_and_empty_reasons(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("rules");
    copy_dir(&root().join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    let edited = text
        .replace(
            r#"reason: '"current but poor risk score"'"#,
            "reason: 'null'",
        )
        .replace(
            r#"reason: '"consumer account past due"'"#,
            r#"reason: '""'"#,
        );
    assert_eq!(edited.matches("reason: 'null'").count(), 1);
    assert_eq!(edited.matches(r#"reason: '""'"#).count(), 1);
    std::fs::write(&entry, edited).unwrap();
    rules
}

/// Each CSV row next to the JSON Lines action it stands for.
fn csv_and_jsonl_actions(rules: &Path, dir: &Path) -> Vec<(csv::StringRecord, Json)> {
    let extract = dir.join("x.csv");
    let o = arrears(&["generate", "--accounts", "400", "--seed", "1", p(&extract)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (csv_out, jsonl_out) = (dir.join("actions.csv"), dir.join("actions.jsonl"));
    batch(rules, &extract, &csv_out, "csv");
    batch(rules, &extract, &jsonl_out, "jsonl");
    let mut reader = csv::Reader::from_path(&csv_out).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["account", "row", "type", "rules", "fields"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let actions: Vec<Json> = std::fs::read_to_string(&jsonl_out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), actions.len());
    assert!(rows.len() > 400);
    rows.into_iter().zip(actions).collect()
}

#[test]
fn csv_fields_keep_the_order_of_the_json_lines_action() {
    let dir = tempfile::tempdir().unwrap();
    let mut multi_field_actions = 0;
    for (row, mut action) in csv_and_jsonl_actions(&root().join("rules"), dir.path()) {
        let object = action.as_object_mut().unwrap();
        for key in ["account", "row", "type", "rules"] {
            object.shift_remove(key);
        }
        if object.len() > 1 {
            multi_field_actions += 1;
        }
        // Compared as text: the order of the keys is what is checked.
        assert_eq!(&row[4], action.to_string(), "{:?}", row);
    }
    assert!(multi_field_actions > 100, "{multi_field_actions}");
}

#[test]
fn a_null_text_output_stays_null_and_an_empty_one_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_with_null_and_empty_reasons(dir.path());
    let (mut nulls, mut empties) = (0, 0);
    for (row, action) in csv_and_jsonl_actions(&rules, dir.path()) {
        if &row[2] != "open_case" {
            continue;
        }
        let fields: Json = serde_json::from_str(&row[4]).unwrap();
        match &row[3] {
            "entry:preemptive-low-score" => {
                nulls += 1;
                assert_eq!(fields["reason"], Json::Null, "{row:?}");
                assert_eq!(action["reason"], Json::Null, "{action}");
            }
            "entry:consumer-in-arrears" => {
                empties += 1;
                assert_eq!(fields["reason"], "", "{row:?}");
                assert_eq!(action["reason"], "", "{action}");
            }
            _ => assert!(fields["reason"].as_str().is_some_and(|r| !r.is_empty())),
        }
    }
    assert!(nulls > 0 && empties > 0, "{nulls} null, {empties} empty");
}
