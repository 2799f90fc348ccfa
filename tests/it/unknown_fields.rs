//! Account fields the schema does not have: ignored by design (an extract
//! carries columns no rule reads), but in accounts written by hand a typo or a
//! field in the wrong record. `dry-run` and `test` warn on stderr, once per
//! distinct path, at the key's file:line:col with the nearest known field, and
//! change neither their output nor their exit code; `simulate` refuses a
//! timeline up front (exit 2 at the happening's line) for a value that cannot
//! be valid where it is written. Fixtures: `tests/fixtures/unknown_fields/`.

use serde_json::Value as Json;

use crate::common::{arrears, stderr, stdout};

const AS_OF: &str = "2026-11-22";
const FIXTURES: &str = "tests/fixtures/unknown_fields";

/// The same accounts with every field the schema does not have removed.
fn without_unknown_fields(accounts: &[Json]) -> Vec<Json> {
    fn strip(value: &mut Json, unknown: &[&str]) {
        match value {
            Json::Object(map) => {
                map.retain(|k, _| !unknown.contains(&k.as_str()));
                map.values_mut().for_each(|v| strip(v, unknown));
            }
            Json::Array(items) => items.iter_mut().for_each(|v| strip(v, unknown)),
            _ => {}
        }
    }
    let mut accounts = accounts.to_vec();
    for a in &mut accounts {
        // `callback_date` is known in a disposition, unknown elsewhere.
        if let Json::Object(map) = a {
            map.remove("callback_date");
            for p in map["promises"].as_array_mut().unwrap() {
                p.as_object_mut().unwrap().remove("callback_date");
            }
        }
        strip(a, &["callbackdate"]);
    }
    accounts
}

fn dry_run(accounts: &str) -> std::process::Output {
    arrears(&["dry-run", "--as-of", AS_OF, "--format", "json", accounts])
}

/// Each accounts format warns at the key, once per distinct path, and the
/// actions and exit code are those of the same accounts without the fields.
#[test]
fn dry_run_warns_of_each_unknown_field_once_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    for (name, accounts) in [
        ("yaml", "samples/invalid/unknown-fields.yaml".to_string()),
        ("json", format!("{FIXTURES}/accounts.json")),
        ("jsonl", format!("{FIXTURES}/accounts.jsonl")),
    ] {
        let out = dry_run(&accounts);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert_snapshot!(format!("dry_run_{name}"), stderr(&out));
        // The accounts without the unknown fields: the same output, no warning.
        let json: Json = serde_json::from_str(&stdout(&out)).unwrap();
        let read: Vec<Json> = match name {
            "yaml" => {
                let text = std::fs::read_to_string(&accounts).unwrap();
                serde_saphyr::from_str(&text).unwrap()
            }
            "json" => serde_json::from_str(&std::fs::read_to_string(&accounts).unwrap()).unwrap(),
            _ => std::fs::read_to_string(&accounts)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
        };
        let clean = dir.path().join(format!("clean-{name}.json"));
        std::fs::write(
            &clean,
            serde_json::to_string(&without_unknown_fields(&read)).unwrap(),
        )
        .unwrap();
        let clean_out = dry_run(clean.to_str().unwrap());
        assert_eq!(clean_out.status.code(), Some(0));
        assert_eq!(stderr(&clean_out), "", "{name}");
        let clean_json: Json = serde_json::from_str(&stdout(&clean_out)).unwrap();
        // Everything but where each account was read from.
        let actions = |doc: &Json| -> Vec<(Json, Json)> {
            doc["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["account"].clone(), a["actions"].clone()))
                .collect()
        };
        assert_eq!(actions(&json).len(), 2, "{name}");
        assert_eq!(actions(&json), actions(&clean_json), "{name}");
    }
}

/// The accounts a test document's cases run: inline (at the key in the test
/// document) and named from its `accounts` file. The cases still pass.
#[test]
fn test_warns_of_unknown_fields_in_the_cases_accounts() {
    let out = arrears(&["test", &format!("{FIXTURES}/inline.yaml")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("2 case(s): 2 passed"),
        "{}",
        stdout(&out)
    );
    assert_snapshot!("test_inline_and_named", stderr(&out));
}

/// A timeline that writes, on a later day, a value decoding would refuse
/// whatever the day is told before the first day runs, at the key or value
/// written wrong.
#[test]
fn simulate_refuses_a_value_that_cannot_be_valid_before_the_first_day() {
    for (name, at, says) in [
        (
            "not_a_call_back",
            ":31:21:",
            "only a `call_back` disposition has one",
        ),
        (
            "callback_before_its_date",
            ":31:21:",
            "is before the disposition's own date",
        ),
        ("not_a_combination", ":31:21:", "is not a valid combination"),
        (
            "callback_date_at_the_top",
            ":30:11:",
            // A path is written from the account's fields, a list's item by its id.
            "did you mean `dispositions[ID].callback_date`?",
        ),
        (
            "callback_date_in_a_promise",
            ":31:81:",
            "did you mean `account.dispositions[].callback_date`?",
        ),
    ] {
        let path = format!("{FIXTURES}/timelines/{name}.yaml");
        let out = arrears(&["simulate", "--rules", "rules", &path]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(stdout(&out), "", "{name}: no day ran");
        assert!(
            err.starts_with(&format!("error: {path}{at}")),
            "{name}: {err}"
        );
        assert!(err.contains(says), "{name}: {err}");
    }
}

/// `batch` with JSON Lines input warns once per distinct unknown field (the
/// line of the first row that has it, the nearest field, how many more rows
/// have it) and counts them in the summary (`unknown_fields`); its actions
/// and exit code are those of the same rows without the fields, whose
/// summary has no `unknown_fields` at all.
#[test]
fn batch_warns_of_each_unknown_field_of_json_lines_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let batch = |input: &str, name: &str| {
        let out = dir.path().join(format!("{name}.jsonl"));
        let summary = dir.path().join(format!("{name}.summary.json"));
        let run = arrears(&[
            "batch",
            "--rules",
            "rules",
            "--as-of",
            AS_OF,
            "--out",
            out.to_str().unwrap(),
            "--summary",
            summary.to_str().unwrap(),
            input,
        ]);
        let summary: Json =
            serde_json::from_str(&std::fs::read_to_string(summary).unwrap()).unwrap();
        (run, std::fs::read_to_string(out).unwrap(), summary)
    };
    let input = format!("{FIXTURES}/accounts.jsonl");
    let (run, actions, summary) = batch(&input, "typos");
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let err = stderr(&run);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_snapshot!("batch_jsonl_warnings", warnings.join("\n"));
    assert_eq!(
        summary["unknown_fields"][0],
        serde_json::json!({
            "field": "account.dispositions[].callbackdate",
            "first_line": 1,
            "rows": 2,
            "message": "the schema has no field `callbackdate`; did you mean `callback_date`?"
        })
    );
    // The same rows without the fields: the same actions, no warning, no count.
    let rows: Vec<Json> = std::fs::read_to_string(&input)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let clean = dir.path().join("clean.jsonl");
    let lines: Vec<String> = without_unknown_fields(&rows)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(&clean, lines.join("\n") + "\n").unwrap();
    let (clean_run, clean_actions, clean_summary) = batch(clean.to_str().unwrap(), "without");
    assert_eq!(clean_run.status.code(), Some(0));
    // (The rows leave out the guard rails' fields, `fields_not_seen`: that warning stays.)
    assert!(
        !stderr(&clean_run).contains("is ignored"),
        "{}",
        stderr(&clean_run)
    );
    assert_eq!(actions, clean_actions);
    assert!(clean_summary.get("unknown_fields").is_none());
    assert_eq!(summary["action_type"], clean_summary["action_type"]);
}

/// A record of a JSON array is named by the line and column it starts at, as
/// its own warnings name its keys, not by its index (`accounts.json[1]`); a
/// string holding `[`, `,` and an escaped quote does not move the count.
#[test]
fn dry_run_names_a_json_record_by_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(crate::common::root().join("samples/accounts.jsonl")).unwrap();
    let mut records: Vec<Json> = text
        .lines()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    records[0]["risk_scor"] = Json::from(1);
    records[0]["note"] = Json::from("a \"quoted\" [list, of] {things}");
    records[1].as_object_mut().unwrap().remove("id");
    let file = dir.path().join("accounts.json");
    std::fs::write(&file, serde_json::to_string_pretty(&records).unwrap()).unwrap();
    let out = crate::common::arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--as-of",
            AS_OF,
            "--rules",
            crate::common::root().join("rules").to_str().unwrap(),
            "accounts.json",
        ],
    );
    let shown: Vec<String> = stderr(&out)
        .lines()
        .chain(stdout(&out).lines())
        .filter(|l| !l.starts_with("    "))
        .map(str::to_string)
        .collect();
    assert_snapshot!("json_record_named_by_its_line", shown.join("\n"));
}
