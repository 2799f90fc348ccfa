//! `arrears dry-run` end to end: the shipped rules against the shipped
//! samples, output formats, and exit codes.

use crate::common;

use common::{arrears, root, stderr, stdout};

use std::path::Path;
use std::process::{Command, Output};

const AS_OF: &str = "2026-11-22";

/// Accounts in `samples/accounts.yaml`: one `- id:` line each.
fn sample_count() -> usize {
    std::fs::read_to_string(root().join("samples/accounts.yaml"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("- id: "))
        .count()
}

fn dry_run_json(accounts: &str) -> (Output, serde_json::Value) {
    let out = arrears(&[
        "dry-run", "--rules", "rules", "--as-of", AS_OF, "--format", "json", accounts,
    ]);
    let json = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    (out, json)
}

fn account<'a>(json: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["account"] == id)
        .unwrap_or_else(|| panic!("no account {id}"))
}

fn decision<'a>(json: &'a serde_json::Value, id: &str, table: &str) -> &'a serde_json::Value {
    account(json, id)["decisions"]
        .as_array()
        .unwrap_or_else(|| panic!("{id} has no decisions"))
        .iter()
        .find(|d| d["table"] == table)
        .unwrap_or_else(|| panic!("{id}: no decision for {table}"))
}

#[test]
fn dry_run_samples_human() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    let n = sample_count();
    assert!(n >= 20);
    let summary = format!("{n} account(s) as of 2026-11-22: {n} evaluated, 0 failed\n");
    assert!(text.ends_with(&summary), "{}", text.lines().last().unwrap());
    assert_eq!(text.matches("\naccount ").count() + 1, n);
    assert!(text.contains("account card-overlimit-dpd0\n"));
    assert_snapshot!("dry_run_samples_human", text);
    // `text` is the human format's other name (`diff` calls it that), and
    // `diff` takes `human`: one spelling works everywhere.
    let mut as_text = vec!["dry-run", "--rules", "rules", "--as-of", AS_OF];
    as_text.extend(["--format", "text", "samples/accounts.yaml"]);
    assert_eq!(stdout(&arrears(&as_text)), text);
    let diff = arrears(&[
        "diff",
        "--base",
        "rules",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "--format",
        "human",
        "samples/accounts.yaml",
    ]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
}

#[test]
fn dry_run_samples_json() {
    let (out, json) = dry_run_json("samples/accounts.yaml");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let n = json["accounts"].as_array().unwrap().len();
    assert_eq!(n, sample_count());
    assert_eq!(
        json["summary"],
        serde_json::json!({ "accounts": n, "evaluated": n, "failed": 0 })
    );
    assert_eq!(json["as_of"], AS_OF);
    for a in json["accounts"].as_array().unwrap() {
        assert!(a.get("errors").is_none(), "{a:#}");
        // One decision per once-per-account table; per-item tables decide per item.
        let once: Vec<&str> = a["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d.get("item").is_none())
            .map(|d| d["table"].as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<&str> = once.iter().copied().collect();
        assert_eq!(
            once.len(),
            unique.len(),
            "a table decided twice for {}",
            a["account"]
        );
        assert!(
            unique.contains("entry") && unique.contains("collection_class"),
            "{a:#}"
        );
        assert!(
            a["actions"].is_array(),
            "the shipped rules have a policy: actions for {}",
            a["account"]
        );
        assert!(a.get("trace").is_none(), "no trace without --explain");
    }
    assert_eq!(
        json["rules_fingerprint"],
        arrears::model::load_dir(&common::root().join("rules"))
            .unwrap()
            .fingerprint
    );
    assert_snapshot!(
        "dry_run_samples_json",
        common::redact_fingerprints(&serde_json::to_string_pretty(&json).unwrap())
    );
}

#[test]
fn sample_decisions_are_the_documented_ones() {
    let (_, json) = dry_run_json("samples/accounts.yaml");
    let category = |id: &str| {
        decision(&json, id, "entry")["outputs"]["category"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let entry_row = |id: &str| decision(&json, id, "entry")["rows"].clone();
    assert_eq!(category("card-overlimit-dpd0"), "over_limit");
    assert_eq!(
        entry_row("card-overlimit-dpd0"),
        serde_json::json!(["over-limit-amount"])
    );
    assert_eq!(category("card-overlimit-pct-lowlimit"), "over_limit");
    assert_eq!(
        entry_row("card-overlimit-pct-lowlimit"),
        serde_json::json!(["over-limit-percent"])
    );
    assert_eq!(category("payplan-covers-arrears"), "none");
    assert_eq!(
        decision(&json, "payplan-covers-arrears", "entry")["default"],
        true
    );
    assert_eq!(category("bankrupt-zero-arrears"), "special_circumstances");
    assert_eq!(
        entry_row("bankrupt-zero-arrears"),
        serde_json::json!(["special-bankruptcy"])
    );
    assert_eq!(category("card-arrears-7dpd"), "arrears");
    assert_eq!(
        entry_row("card-arrears-7dpd"),
        serde_json::json!(["consumer-in-arrears"])
    );
    assert_eq!(category("card-current-clean"), "none");
    assert_eq!(category("card-preemptive-lowscore"), "preemptive");
    assert_eq!(category("deceased"), "special_circumstances");
    assert_eq!(category("forced-in"), "force_and_stay");
    assert_eq!(category("util-res-18dpd-not-yet"), "none");
    assert_eq!(category("util-res-arrears-25dpd"), "arrears");
    // Other tables.
    assert_eq!(
        decision(&json, "card-current-clean", "dpd_bucket")["outputs"]["bucket"],
        "current"
    );
    assert_eq!(
        decision(&json, "card-arrears-7dpd", "dpd_bucket")["outputs"]["bucket"],
        "b1_29"
    );
    // A guard rail's decision is reported like a table's: a call's window.
    assert_eq!(
        decision(&json, "card-arrears-7dpd", "reg_f")["outputs"]["window_start"],
        "08:00"
    );
    assert_eq!(
        decision(&json, "bankrupt-zero-arrears", "exit")["outputs"]["close"],
        false
    );
    assert_eq!(
        decision(&json, "card-current-clean", "exit")["rows"],
        serde_json::json!(["close-paid-in-full"])
    );
    // Money in JSON is a string with every digit.
    assert_eq!(
        decision(&json, "card-current-clean", "payment_plan_offer")["outputs"]["amount"],
        "0.00"
    );
    // Every entry row fires for at least one sample (the samples say so).
    let fired: Vec<String> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            decision(&json, a["account"].as_str().unwrap(), "entry")["rows"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let entry = std::fs::read_to_string(root().join("rules/entry.yaml")).unwrap();
    for line in entry
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- id: "))
    {
        assert!(
            fired.iter().any(|f| f == line),
            "entry row {line} fires for no sample"
        );
    }
}

#[test]
fn explain_jsonl_human() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "--explain",
        "samples/accounts.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("        inputs: dpd = 7\n"),
        "traces show inputs"
    );
    // A matched row shows its conditions: the row id names the intent, the trace the numbers.
    assert!(
        text.contains(
            "        + consumer-in-arrears: matched (product \"card, loan\", dpd \">= 5\", effective_arrears \">= $5\")\n"
        ),
        "{text}"
    );
    assert!(text.contains("        - current: dpd = 7 does not match \"<= 0\"\n"));
    assert_snapshot!("explain_jsonl_human", text);
}

#[test]
fn explain_json_has_a_trace_per_table() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "--explain",
        "--format",
        "json",
        "samples/accounts.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let first = &json["accounts"][0];
    let trace = first["trace"].as_array().expect("trace");
    assert_eq!(trace.len(), first["decisions"].as_array().unwrap().len());
    let bucket = trace.iter().find(|t| t["table"] == "dpd_bucket").unwrap();
    assert_eq!(bucket["inputs"]["dpd"], 7);
    assert_eq!(
        bucket["rows"][0],
        serde_json::json!({ "row": "current", "matched": false, "failed_input": "dpd", "cell": "<= 0" })
    );
    assert_eq!(
        bucket["rows"][1],
        serde_json::json!({ "row": "early-delinquency", "matched": true, "cells": { "dpd": "[1..29]" } })
    );
}

#[test]
fn bad_accounts_are_reported_and_good_ones_evaluated() {
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "samples/invalid/bad-accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("account bad-arrears-not-money\n  error: `account.arrears`: expected money"),
        "{text}"
    );
    assert!(text.contains("found `\"abc\"`"), "{text}");
    assert!(
        text.contains(
            "account bad-missing-dpd\n  error: `account.days_past_due`: missing required field"
        ),
        "{text}"
    );
    assert!(
        text.contains("account good-card-arrears-9dpd\n    open_case category=arrears"),
        "{text}"
    );
    assert!(text.contains("<- entry:consumer-in-arrears"), "{text}");
    assert!(
        text.ends_with("3 account(s) as of 2026-11-22: 1 evaluated, 2 failed\n"),
        "{text}"
    );

    let (out, json) = dry_run_json("samples/invalid/bad-accounts.yaml");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json["summary"],
        serde_json::json!({ "accounts": 3, "evaluated": 1, "failed": 2 })
    );
    assert_eq!(
        account(&json, "bad-arrears-not-money")["errors"][0]["field"],
        "account.arrears"
    );
    assert_eq!(
        account(&json, "bad-missing-dpd")["errors"][0]["field"],
        "account.days_past_due"
    );
    assert_eq!(
        account(&json, "bad-missing-dpd")["errors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        decision(&json, "good-card-arrears-9dpd", "entry")["outputs"]["category"],
        "arrears"
    );
}

#[test]
fn rules_with_an_error_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    common::copy_dir(&root().join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry)
        .unwrap()
        .replacen(r#"">= 5""#, r#"">== 5""#, 1);
    std::fs::write(&entry, text).unwrap();
    let accounts = root().join("samples/accounts.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["dry-run", "--rules", "rules", "--as-of", AS_OF])
        .arg(&accounts)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "nothing is evaluated");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: the rules in `rules` have errors, the first at rules/entry.yaml:"),
        "{err}"
    );
    assert!(
        err.ends_with(" (1 error; `arrears lint rules` shows it)\n"),
        "{err}"
    );
}

#[test]
fn json_lines_with_a_malformed_line() {
    let lines: Vec<String> = std::fs::read_to_string(root().join("samples/accounts.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(lines.len() >= 2);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("accounts.jsonl");
    std::fs::write(
        &path,
        format!(
            "{}\n{{\"id\": \"broken\", \"arrears\": \n{}\n",
            lines[0], lines[1]
        ),
    )
    .unwrap();
    let path = path.to_str().unwrap();

    let out = arrears(&["dry-run", "--rules", "rules", "--as-of", AS_OF, path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "account (no id) at {path}:2\n  error: {path}:2: invalid JSON"
        )),
        "{text}"
    );
    assert!(
        text.ends_with("3 account(s) as of 2026-11-22: 2 evaluated, 1 failed\n"),
        "{text}"
    );

    let out = arrears(&[
        "dry-run", "--rules", "rules", "--as-of", AS_OF, "--format", "json", path,
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["summary"],
        serde_json::json!({ "accounts": 3, "evaluated": 2, "failed": 1 })
    );
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(accounts[1]["origin"], format!("{path}:2"));
    assert!(accounts[1]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid JSON"));
    assert!(accounts[0]["decisions"].is_array());
    assert!(accounts[2]["decisions"].is_array());
}

#[test]
fn accounts_as_json_array_and_object_give_the_same_decisions() {
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(root().join("samples/accounts.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let tmp = tempfile::tempdir().unwrap();
    let array = tmp.path().join("all.json");
    std::fs::write(&array, serde_json::to_string(&lines).unwrap()).unwrap();
    let one = tmp.path().join("one.json");
    std::fs::write(&one, serde_json::to_string(&lines[0]).unwrap()).unwrap();
    let run = |p: &Path| {
        let out = arrears(&[
            "dry-run",
            "--rules",
            "rules",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            p.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        json["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["decisions"].clone())
            .collect::<Vec<_>>()
    };
    let from_jsonl = run(&root().join("samples/accounts.jsonl"));
    assert_eq!(run(&array), from_jsonl);
    assert_eq!(run(&one), from_jsonl[..1]);
}

/// Two accounts with one id (a sample copied into itself): both are
/// evaluated, and the repeat is named once on stderr, as `batch` does.
#[test]
fn dry_run_warns_about_a_repeated_account_id() {
    let jsonl = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let first = jsonl.lines().next().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("twice.jsonl");
    std::fs::write(&file, format!("{first}\n{jsonl}")).unwrap();
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warning = stderr(&out);
    assert!(
        warning.contains(
            "warning: 1 account(s) repeat the id of an earlier one, e.g. `card-arrears-7dpd`"
        ) && warning.contains("twice.jsonl:2 (first at ")
            && warning.contains("twice.jsonl:1)"),
        "{warning}"
    );
    let accounts = jsonl.lines().filter(|l| !l.trim().is_empty()).count() + 1;
    assert!(stdout(&out).contains(&format!("{accounts} account(s) as of")));
    let out = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        AS_OF,
        "samples/accounts.jsonl",
    ]);
    assert!(!stderr(&out).contains("repeat"), "{}", stderr(&out));
}
