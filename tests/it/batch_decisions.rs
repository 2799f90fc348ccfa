//! `arrears batch` over plain tables (rules without a policy) and with
//! `--decisions`: one JSON object per row with every table's outputs, checked
//! against the reference evaluator on every evaluation fixture, byte for byte
//! on one, and over the shipped rules; options that only mean something for
//! actions are refused.

use std::path::Path;

use arrears::eval::{Outcome, Tables};
use serde_json::{json, Value as Json};

use crate::common::{arrears, root, stderr, stdout};

const AS_OF: &str = "2026-11-22";

/// The accounts of a YAML accounts file as a JSON Lines file in `dir`.
fn jsonl(accounts: &Path, dir: &Path) -> (std::path::PathBuf, Vec<Json>) {
    let records: Vec<Json> = arrears::data::accounts::read_accounts(accounts)
        .unwrap()
        .into_iter()
        .map(|r| r.json.unwrap())
        .collect();
    let path = dir.join("accounts.jsonl");
    let text: String = records.iter().map(|j| format!("{j}\n")).collect();
    std::fs::write(&path, text).unwrap();
    (path, records)
}

/// What a decisions line must say, from the reference evaluator: per table
/// (tables that take params left out), its outputs as an object, an array of
/// them for `collect` / `rule_order` rows, an array of `{item, outputs}` for a
/// per-item table.
fn expected(plan: &arrears::lang::compile::Plan, account: &Json, row: u64) -> Option<Json> {
    let value = arrears::data::snapshot::decode_account(plan.schema(), account).ok()?;
    let mut tables = Tables::reference(plan, &value, AS_OF.parse().unwrap());
    tables.require_all().ok()?;
    let outputs = |d: &arrears::eval::Decision| match &d.outcome {
        Outcome::Rows(rows) => Json::Array(
            rows.iter()
                .map(|(r, v)| plan.outputs_json(d.table, plan.row_values(d.table, *r, v)))
                .collect(),
        ),
        _ => plan.outputs_json(d.table, plan.result(d)),
    };
    let mut out = serde_json::Map::new();
    for &t in &plan.order {
        let table = &plan.tables[t as usize];
        if !table.table.params.is_empty() {
            continue;
        }
        let made: Vec<_> = tables
            .evaluation
            .decisions
            .iter()
            .filter(|d| d.table == t)
            .collect();
        let value = match table.table.for_each {
            Some(_) => Json::Array(
                made.iter()
                    .map(|d| json!({"item": d.label.as_deref(), "outputs": outputs(d)}))
                    .collect(),
            ),
            None => outputs(made[0]),
        };
        out.insert(table.name.to_string(), value);
    }
    let id = arrears::data::snapshot::account_id(plan.schema(), account).unwrap_or_default();
    Some(json!({"account": id, "row": row, "decisions": out}))
}

#[test]
fn plain_tables_batch_writes_each_rows_decisions() {
    let (mut fixtures, mut refused) = (0, 0);
    for entry in std::fs::read_dir(root().join("tests/fixtures/eval")).unwrap() {
        let fixture = entry.unwrap().path();
        let dir = tempfile::tempdir().unwrap();
        let (input, accounts) = jsonl(&fixture.join("accounts.yaml"), dir.path());
        let out = dir.path().join("decisions.jsonl");
        let rules = fixture.join("rules");
        let o = arrears(&[
            "batch",
            "--rules",
            rules.to_str().unwrap(),
            "--as-of",
            AS_OF,
            "--out",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        // Rules lint finds an error in (a gap, an overlap: the `first`, `unique`
        // and `any` fixtures) are refused whole, before any row is read.
        let linted = arrears::lint(&rules, &[], None).unwrap();
        if linted
            .diagnostics
            .iter()
            .any(|d| d.severity == arrears::diagnostic::Severity::Error)
        {
            assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
            assert!(!out.exists(), "{}", fixture.display());
            refused += 1;
            continue;
        }
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}: {}",
            fixture.display(),
            stderr(&o)
        );
        let loaded = arrears::policy::load(&rules).unwrap();
        let plan = loaded.plan.as_ref().expect("plain tables");
        let wanted = expected_lines(plan, &accounts);
        let got = json_lines(&out);
        assert_eq!(got, wanted, "{}", fixture.display());
        assert!(stderr(&o).contains(&format!("{} decision lines", wanted.len())));
        fixtures += 1;
    }
    assert!(fixtures >= 10);
    assert_eq!(refused, 3);
}

#[test]
fn decisions_lines_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/eval/collect");
    let (input, _) = jsonl(&fixture.join("accounts.yaml"), dir.path());
    let o = arrears(&[
        "batch",
        "--rules",
        fixture.join("rules").to_str().unwrap(),
        "--as-of",
        AS_OF,
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_snapshot!("collect_decisions", stdout(&o));
}

#[test]
fn decisions_over_a_policy_give_every_tables_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("decisions.jsonl");
    let input = dir.path().join("extract.jsonl");
    let g = arrears(&[
        "generate",
        "--accounts",
        "300",
        "--seed",
        "3",
        "--format",
        "jsonl",
        input.to_str().unwrap(),
    ]);
    assert!(g.status.success(), "{}", stderr(&g));
    let o = arrears(&[
        "batch",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "--decisions",
        "--out",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
    let loaded = arrears::policy::load(&root().join("rules")).unwrap();
    let plan = &loaded.policy.as_ref().unwrap().plan;
    let wanted = expected_lines(plan, &json_lines(&input));
    let got = json_lines(&out);
    assert!(wanted.len() >= 250, "{}", wanted.len());
    assert_eq!(got, wanted);
}

#[test]
fn decisions_refuse_options_for_actions() {
    let input = root().join("samples/accounts.jsonl");
    for extra in [
        ["--output-format", "csv"],
        ["--open-cases", "samples/open-cases.txt"],
    ] {
        let mut args = vec![
            "batch",
            "--rules",
            "rules",
            "--as-of",
            AS_OF,
            "--decisions",
            input.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = arrears(&args);
        assert_eq!(o.status.code(), Some(64), "{extra:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(extra[0]) && stderr(&o).contains("applies to a policy's actions"),
            "{}",
            stderr(&o)
        );
    }
}

/// The decision line expected for each account that decodes, rows numbered from 1.
fn expected_lines(plan: &arrears::lang::compile::Plan, accounts: &[Json]) -> Vec<Json> {
    accounts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| expected(plan, a, i as u64 + 1))
        .collect()
}

/// Every line of a JSON Lines file.
fn json_lines(path: &std::path::Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
