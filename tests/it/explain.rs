//! `arrears dry-run --explain`: one account (`--account`), tables the actions
//! did not need, per-account operands' values, every failing cell
//! (`--all-cells`); and the trace behind them.

use crate::common;

use chrono::NaiveDate;
use common::{arrears, root, stderr, stdout};

const AS_OF: &str = "2026-11-22";
const FIXTURE: &str = "tests/fixtures/explain/untestable_cell";

fn dry_run(args: &[&str]) -> std::process::Output {
    let mut all = vec!["dry-run", "--rules", "rules", "--as-of", AS_OF];
    all.extend_from_slice(args);
    arrears(&all)
}

#[test]
fn explain_one_account_marks_unused_tables_and_shows_operand_values() {
    let out = dry_run(&[
        "--explain",
        "--account",
        "card-current-clean",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("account ").count(), 1, "{text}");
    assert!(text.ends_with("1 account(s) as of 2026-11-22: 1 evaluated, 0 failed\n"));
    // credit_limit 7500.00 * 10%.
    assert!(
        text.contains(
            "- over-limit-percent: over_limit_amount = -5359.45 USD does not match \
             \"> account.credit_limit * 10%\" (for this account: > 750.00 USD)\n"
        ),
        "{text}"
    );
    // No case is opened, so the pipeline reads only `entry`.
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.ends_with("  (not used by this account's actions)"))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(
        !marked.is_empty() && !marked.contains(&"entry"),
        "{marked:?}"
    );
    assert_snapshot!("explain_one_account", text);
}

#[test]
fn several_accounts_keep_the_file_order() {
    let out = dry_run(&[
        "--account",
        "loan-arrears-35dpd",
        "--account",
        "card-arrears-7dpd",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let accounts: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("account "))
        .collect();
    assert_eq!(accounts, ["card-arrears-7dpd", "loan-arrears-35dpd"]);
}

#[test]
fn an_unknown_account_is_exit_2_with_the_nearest_ids() {
    let out = dry_run(&[
        "--explain",
        "--account",
        "card-arrears-7dpd",
        "--account",
        "card-arears-7dpd",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert_snapshot!("explain_unknown_account", stderr(&out));
}

#[test]
fn all_cells_shows_every_failing_cell_of_a_row() {
    let out = dry_run(&[
        "--explain",
        "--all-cells",
        "--account",
        "card-arrears-7dpd",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "        - condition-budget-plan-holds-off: product = card does not match \"utility\"\n\
             \x20         and budget_plan = false does not match \"true\"\n"
        ),
        "{text}"
    );
    assert_snapshot!("explain_all_cells", text);

    let out = dry_run(&["--all-cells", "samples/accounts.yaml"]);
    assert_eq!(out.status.code(), Some(64), "--all-cells needs --explain");
}

/// A cell after a row's first failing one is tested only for the trace: when
/// its operand cannot be evaluated (division by zero) the trace says so and
/// the account is still evaluated, as it is without `--explain`.
#[test]
fn a_cell_only_the_trace_tests_may_fail_to_evaluate() {
    let accounts = format!("{FIXTURE}/accounts.yaml");
    let rules = format!("{FIXTURE}/rules");
    let run = |extra: &[&str]| {
        let mut args = vec!["dry-run", "--rules", &rules, "--as-of", AS_OF];
        args.extend_from_slice(extra);
        args.push(&accounts);
        arrears(&args)
    };
    let plain = run(&[]);
    assert_eq!(plain.status.code(), Some(0), "{}", stdout(&plain));
    let out = run(&["--explain", "--all-cells"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_snapshot!("explain_untestable_cell", stdout(&out));

    let out = run(&["--explain", "--all-cells", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = |account: usize| json["accounts"][account]["trace"][0]["rows"].clone();
    assert_eq!(
        rows(0)[0]["failed_cells"][1],
        serde_json::json!({
            "input": "arrears",
            "cell": "> account.arrears / account.instalments",
            "error": "division by zero",
        })
    );
    assert_eq!(
        rows(2)[1]["failed_cells"][1],
        serde_json::json!({
            "input": "arrears",
            "cell": "[$1..account.arrears * 2]",
            "operands": ["1.00", "1.00"],
        })
    );
}

#[test]
fn explain_json_has_operands_unused_tables_and_all_cells() {
    let out = dry_run(&[
        "--explain",
        "--all-cells",
        "--format",
        "json",
        "--account",
        "card-current-clean",
        "samples/accounts.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["accounts"].as_array().unwrap().len(), 1);
    let account = &json["accounts"][0];
    let used: Vec<(&str, bool)> = account["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let used = d["used_by_actions"].as_bool().expect("used_by_actions");
            (d["table"].as_str().unwrap(), used)
        })
        .collect();
    assert!(used.contains(&("entry", true)), "{used:?}");
    assert!(used.iter().any(|(_, u)| !u), "{used:?}");
    let entry = account["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "entry")
        .unwrap();
    let row = entry["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["row"] == "over-limit-percent")
        .unwrap();
    assert_eq!(row["operands"], serde_json::json!(["750.00"]));
    assert_eq!(
        row["failed_cells"][0]["operands"],
        serde_json::json!(["750.00"])
    );

    // Without `--explain` nothing changes in the decisions.
    let out = dry_run(&["--format", "json", "samples/accounts.yaml"]);
    assert!(!stdout(&out).contains("used_by_actions"));
}

/// The trace's cells agree with the evaluation: every row tried that failed
/// has its first failing cell first among its misses, the decisions are those
/// of the untraced evaluation, and a cell that reads the account has its
/// operands' values while one of numbers and symbols has none.
#[test]
fn trace_misses_agree_with_the_first_failing_cells() {
    let loaded = arrears::policy::load(&root().join("rules")).expect("rules load");
    let policy = loaded.policy.as_ref().expect("shipped policy");
    let schema = policy.plan.schema();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let (mut misses, mut with_operands) = (0, 0);
    for file in ["samples/accounts.yaml", "samples/scenarios/accounts.yaml"] {
        for record in arrears::data::accounts::read_accounts(&root().join(file)).unwrap() {
            let account =
                arrears::data::snapshot::decode_account(schema, &record.json.unwrap()).unwrap();
            let traced = arrears::policy::run(policy, &account, as_of, true).unwrap();
            let plain = arrears::policy::run(policy, &account, as_of, false).unwrap();
            assert_eq!(traced.evaluation.decisions, plain.evaluation.decisions);
            for trace in &traced.evaluation.trace {
                for (row, failed) in &trace.rows {
                    let of_row: Vec<_> = trace.misses.iter().filter(|m| m.row == *row).collect();
                    match failed {
                        None => assert!(of_row.is_empty()),
                        Some(first) => {
                            assert_eq!(of_row[0].input, *first);
                            assert!(of_row.windows(2).all(|w| w[0].input < w[1].input));
                        }
                    }
                }
                for miss in &trace.misses {
                    misses += 1;
                    let cell = &policy.plan.tables[trace.table as usize].table.rows
                        [miss.row as usize]
                        .cells[miss.input as usize];
                    let values = miss.operands.as_ref().expect("shipped rules evaluate");
                    if cell.text.contains("account.") {
                        assert!(!values.is_empty(), "{}", cell.text);
                    }
                    if cell.text.bytes().all(|b| !b.is_ascii_lowercase()) {
                        assert!(values.is_empty(), "constants only: {}", cell.text);
                    }
                    with_operands += usize::from(!values.is_empty());
                }
            }
        }
    }
    assert!(
        misses > 1000 && with_operands > 0,
        "{misses} {with_operands}"
    );
}

/// A computed input no row tried reads is shown as not computed, not as a
/// value; a cell after its row's first failing one whose input cannot be
/// computed says so, and the account is still evaluated.
#[test]
fn an_input_not_computed_is_shown_as_such() {
    let dir = "tests/fixtures/eval/lazy_inputs";
    let rules = format!("{dir}/rules");
    let accounts = format!("{dir}/accounts.yaml");
    let args = [
        "dry-run",
        "--rules",
        &rules,
        "--as-of",
        AS_OF,
        "--explain",
        "--all-cells",
    ];
    let run = |account: &str, extra: &[&str]| {
        let mut args = args.to_vec();
        args.extend_from_slice(&["--account", account]);
        args.extend_from_slice(extra);
        args.push(&accounts);
        arrears(&args)
    };
    let out = run("card-d1-zero", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("inputs: kind = card, ratio (not computed: no row tried reads it)"),
        "{text}"
    );
    let out = run("utility-d1-zero", &[]);
    let text = stdout(&out);
    assert!(
        text.contains(
            "- loan-big: kind = utility does not match \"loan\"\n          and ratio cannot be computed for this account: division by zero, so it is not tested against \"> 10\""
        ),
        "{text}"
    );
    let out = run("card-d1-zero", &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let inputs = &json["accounts"][0]["trace"][0]["inputs"];
    assert_eq!(inputs, &serde_json::json!({ "kind": "card" }), "{json}");
    // The input whose computing fails is named, in text and in JSON, and so
    // is the item of a `for_each` table.
    let out = run("loan-share-zero", &[]);
    assert!(
        stdout(&out)
            .contains("error: table `f_per_item` (item [1]), input `ratio`: division by zero"),
        "{}",
        stdout(&out)
    );
    let out = run("loan-share-zero", &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["accounts"][0]["errors"],
        serde_json::json!([{
            "table": "f_per_item",
            "item": 1,
            "input": "ratio",
            "message": "division by zero",
        }]),
        "{json}"
    );
}

/// An item without a text field is numbered from 0 wherever it is named: the
/// decision of a per-disposition table (`callback[1]`) and a decoding error of
/// the same disposition (`account.dispositions[1]`) name the second one alike.
#[test]
fn a_per_item_decision_and_an_item_error_number_items_alike() {
    let accounts =
        std::fs::read_to_string(crate::common::root().join("samples/accounts.yaml")).unwrap();
    let start = accounts.find("- id: card-arrears-7dpd\n").unwrap();
    let end = accounts[start + 1..]
        .find("\n- id:")
        .map_or(accounts.len(), |e| start + 1 + e + 1);
    let account = &accounts[start..end];
    let dispositions = |callback: &str| {
        format!("dispositions:\n    - {{date: 2026-11-20, status: not_contacted, reason: none, resolution: unreachable}}\n    - {{date: 2026-11-21, status: contacted, reason: call_back, resolution: none, callback_date: {callback}}}")
    };
    let good = account.replace("dispositions: []", &dispositions("2026-11-25"));
    let bad = account
        .replace("card-arrears-7dpd", "bad-callback")
        .replace("dispositions: []", &dispositions("2026-11-19"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.yaml");
    std::fs::write(&file, format!("{good}{bad}")).unwrap();
    let out = crate::common::arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-11-22",
        "--explain",
        file.to_str().unwrap(),
    ]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let labels: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("callback["))
        .map(|l| &l[..l.find(']').unwrap()])
        .collect();
    assert_eq!(labels, ["0", "1"], "{text}");
    assert!(
        text.contains("`account.dispositions[1]`: callback_date 2026-11-19 is before the disposition's own date 2026-11-21"),
        "{text}"
    );
}
