//! Data-driven evaluation fixtures: every folder of `tests/fixtures/eval/`
//! holds a tiny rules directory (`rules/`), some accounts (`accounts.yaml`),
//! optionally the evaluation date (`as_of.txt`, default 2026-11-22) and
//! optionally `expect.txt`: lines `<account id> | <text>` where the text must
//! appear in that account's rendering (`\n` in the text stands for a newline). Each case's full rendering is
//! snapshotted as `hit_policies__<case>.snap`. Each account is evaluated three
//! ways that must agree: the fast paths, with a trace, and the reference
//! (`Tables::reference`); under a decision, `not computed:` names the computed
//! inputs its trace shows were not computed (no row tried and no output read them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use arrears::eval::{evaluate, Outcome, Tables};
use arrears::lang::compile::{compile, Plan};
use arrears::types::{ShowValue, Value};
use chrono::NaiveDate;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn show_values(plan: &Plan, table: u32, values: &[Value]) -> String {
    let t = &plan.tables[table as usize].table;
    let columns = t.result_columns();
    assert_eq!(
        columns.len(),
        values.len(),
        "table `{}`: one value per output",
        t.name
    );
    columns
        .iter()
        .zip(values)
        .map(|(c, v)| format!("{} = {}", c.name, ShowValue(v, &c.ty, plan.schema())))
        .collect::<Vec<_>>()
        .join(", ")
}

fn row_id(plan: &Plan, table: u32, row: u32) -> &str {
    &plan.tables[table as usize].table.rows[row as usize].id
}

/// Renders every account's evaluation as readable text, and returns it with
/// the rendering of each account keyed by account id.
fn render_case(dir: &Path) -> (String, Vec<(String, String)>) {
    let checked = arrears::load_rules(&dir.join("rules")).expect("rules dir readable");
    let messages: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(
        messages.is_empty(),
        "{}: diagnostics:\n{}",
        dir.display(),
        messages.join("\n")
    );
    let program = checked.program.expect("a program when there are no errors");
    let plan = compile(program);
    let as_of = match std::fs::read_to_string(dir.join("as_of.txt")) {
        Ok(text) => {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").expect("as_of.txt holds a date")
        }
        Err(_) => NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
    };
    let records = arrears::data::accounts::read_accounts(&dir.join("accounts.yaml"))
        .expect("accounts readable");
    assert!(!records.is_empty(), "{}: no accounts", dir.display());
    let mut all = format!("as_of {as_of}\n");
    let mut per_account = Vec::new();
    for record in &records {
        let json = record.json.as_ref().expect("account parses");
        let id =
            arrears::data::snapshot::account_id(plan.schema(), json).expect("account has an id");
        let account = arrears::data::snapshot::decode_account(plan.schema(), json)
            .unwrap_or_else(|e| panic!("{}: account {id} does not decode: {e:?}", dir.display()));
        let mut out = String::new();
        writeln!(out, "account {id}").unwrap();
        // Evaluate with and without a trace: the decisions must not depend on it.
        let plain = evaluate(&plan, &account, as_of, false);
        let traced = evaluate(&plan, &account, as_of, true);
        match (&plain, &traced) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.decisions, b.decisions, "trace changes decisions for {id}")
            }
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("trace changes the result for {id}"),
        }
        let mut reference = Tables::reference(&plan, &account, as_of);
        let reference = reference.require_all().map(|()| reference.evaluation);
        assert_eq!(plain, reference, "the reference differs for {id}");
        match traced {
            Err(err) => writeln!(out, "  error: {err}").unwrap(),
            Ok(evaluation) => {
                assert_eq!(evaluation.trace.len(), evaluation.decisions.len());
                for (d, trace) in evaluation.decisions.iter().zip(&evaluation.trace) {
                    let name = &plan.tables[d.table as usize].table.name;
                    let line = match &d.outcome {
                        Outcome::Row { row, also, .. } => {
                            let agreeing: Vec<&str> =
                                also.iter().map(|r| row_id(&plan, d.table, *r)).collect();
                            format!(
                                "row {}{}: {}",
                                row_id(&plan, d.table, *row),
                                if agreeing.is_empty() {
                                    String::new()
                                } else {
                                    format!(" (agreeing: {})", agreeing.join(", "))
                                },
                                show_values(&plan, d.table, plan.result(d))
                            )
                        }
                        Outcome::Default { .. } => {
                            format!("default: {}", show_values(&plan, d.table, plan.result(d)))
                        }
                        Outcome::Aggregate { value, rows } => format!(
                            "aggregate {} from [{}]",
                            show_values(&plan, d.table, std::slice::from_ref(value)),
                            rows.iter()
                                .map(|r| row_id(&plan, d.table, *r))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Outcome::Rows(rows) if rows.is_empty() => "rows: (none)".to_string(),
                        Outcome::Rows(rows) => {
                            let mut s = String::from("rows:");
                            for (r, values) in rows {
                                write!(
                                    s,
                                    "\n    {}: {}",
                                    row_id(&plan, d.table, *r),
                                    show_values(
                                        &plan,
                                        d.table,
                                        plan.row_values(d.table, *r, values)
                                    )
                                )
                                .unwrap();
                            }
                            s
                        }
                    };
                    writeln!(out, "  {name}: {line}").unwrap();
                    let table = &plan.tables[d.table as usize].table;
                    let not_computed: Vec<&str> = table
                        .inputs
                        .iter()
                        .zip(&trace.inputs)
                        .filter(|(_, v)| v.is_none())
                        .map(|(i, _)| i.name.as_str())
                        .collect();
                    if !not_computed.is_empty() {
                        writeln!(out, "    not computed: {}", not_computed.join(", ")).unwrap();
                    }
                }
            }
        }
        all.push_str(&out);
        per_account.push((id, out));
    }
    (all, per_account)
}

fn check_expectations(dir: &Path, per_account: &[(String, String)]) -> usize {
    let Ok(text) = std::fs::read_to_string(dir.join("expect.txt")) else {
        return 0;
    };
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (id, want) = line
            .split_once(" | ")
            .unwrap_or_else(|| panic!("bad expect line {line:?}"));
        let want = want.trim().replace("\\n", "\n");
        let (_, got) = per_account
            .iter()
            .find(|(a, _)| a == id.trim())
            .unwrap_or_else(|| panic!("{}: expect.txt names unknown account {id}", dir.display()));
        assert!(
            got.contains(&want),
            "{}: account {id}: expected to find {want:?} in\n{got}",
            dir.display(),
        );
        n += 1;
    }
    n
}

#[test]
fn eval_fixtures() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/fixtures/eval exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let names: Vec<String> = cases
        .iter()
        .map(|c| c.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in [
        "first",
        "unique",
        "priority",
        "any",
        "collect",
        "collect_sum",
        "collect_min",
        "collect_max",
        "collect_count",
        "rule_order",
        "table_reference",
        "null_handling",
        "list_functions",
        "dates",
        "enum_cells",
        "lazy_inputs",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing eval fixture `{required}`"
        );
    }
    for (dir, name) in cases.iter().zip(&names) {
        let (text, per_account) = render_case(dir);
        let expectations = check_expectations(dir, &per_account);
        assert!(
            expectations > 0,
            "{name}: add an expect.txt with at least one expectation"
        );
        assert_snapshot!(name.as_str(), text);
    }
}
