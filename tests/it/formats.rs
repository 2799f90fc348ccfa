//! YAML and TOML load into the same model: the same rules written in each
//! format give identical decisions. The shipped rules lint clean.

use std::path::{Path, PathBuf};

use arrears::eval::{evaluate, Outcome};
use arrears::lang::compile::{compile, Plan};
use arrears::types::ShowValue;
use chrono::NaiveDate;

use crate::common;

use common::root;

fn fixtures() -> PathBuf {
    root().join("tests/fixtures/formats")
}

fn load_clean(dir: &Path) -> Plan {
    let checked = arrears::load_rules(dir).expect("readable");
    let rendered: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(
        rendered.is_empty(),
        "{}: {}",
        dir.display(),
        rendered.join("\n")
    );
    compile(checked.program.expect("a program"))
}

/// Every account's decisions, with table names, row ids and shown values:
/// nothing that depends on file names or on the format.
fn decisions(plan: &Plan, accounts: &Path, as_of: NaiveDate) -> Vec<String> {
    let records = arrears::data::accounts::read_accounts(accounts).unwrap();
    assert!(!records.is_empty());
    records
        .iter()
        .map(|record| {
            let json = record.json.as_ref().unwrap();
            let id = arrears::data::snapshot::account_id(plan.schema(), json).unwrap();
            let account = arrears::data::snapshot::decode_account(plan.schema(), json).unwrap();
            let evaluation = match evaluate(plan, &account, as_of, true) {
                Ok(e) => e,
                Err(e) => return format!("{id}: error {e}"),
            };
            let mut out = format!("{id}:");
            for (d, trace) in evaluation.decisions.iter().zip(&evaluation.trace) {
                let table = &plan.tables[d.table as usize].table;
                let columns = table.result_columns();
                let show = |values: &[arrears::types::Value]| {
                    columns
                        .iter()
                        .zip(values)
                        .map(|(c, v)| format!("{}={}", c.name, ShowValue(v, &c.ty, plan.schema())))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let rows = |rows: Vec<u32>| {
                    rows.iter()
                        .map(|r| table.rows[*r as usize].id.clone())
                        .collect::<Vec<_>>()
                };
                let outcome = match &d.outcome {
                    Outcome::Row { .. } | Outcome::Default { .. } | Outcome::Aggregate { .. } => {
                        show(plan.result(d))
                    }
                    Outcome::Rows(list) => list
                        .iter()
                        .map(|(r, v)| format!("({})", show(plan.row_values(d.table, *r, v))))
                        .collect::<Vec<_>>()
                        .join(" "),
                };
                // The trace (inputs and the failing cell of each row) must agree too.
                let inputs: Vec<String> = table
                    .inputs
                    .iter()
                    .zip(&trace.inputs)
                    .map(|(i, v)| match v {
                        Some(v) => {
                            format!("{}={}", i.name, ShowValue(v, &i.expr.ty, plan.schema()))
                        }
                        None => format!("{}:not-computed", i.name),
                    })
                    .collect();
                let tried: Vec<String> = trace
                    .rows
                    .iter()
                    .map(|(r, failed)| format!("{}:{:?}", table.rows[*r as usize].id, failed))
                    .collect();
                out.push_str(&format!(
                    "\n  {} {:?} -> {outcome}\n    inputs {}\n    tried {}",
                    table.name,
                    rows(d.outcome.rows()),
                    inputs.join(" "),
                    tried.join(" ")
                ));
            }
            out
        })
        .collect()
}

#[test]
fn yaml_and_toml_give_identical_decisions() {
    let yaml = load_clean(&fixtures().join("yaml"));
    let toml = load_clean(&fixtures().join("toml"));
    let accounts = fixtures().join("accounts.yaml");
    for as_of in ["2026-11-22", "2020-01-01"] {
        let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
        let from_yaml = decisions(&yaml, &accounts, as_of);
        let from_toml = decisions(&toml, &accounts, as_of);
        assert_eq!(from_yaml.len(), 4);
        for (y, t) in from_yaml.iter().zip(&from_toml) {
            assert_eq!(y, t, "YAML and TOML disagree");
        }
    }
}

#[test]
fn yaml_and_toml_models_agree() {
    let yaml = load_clean(&fixtures().join("yaml"));
    let toml = load_clean(&fixtures().join("toml"));
    assert_eq!(yaml.order.len(), 2);
    // TOML writes plain keys before sub-tables, so compare fields by name, not position.
    let fields = |p: &Plan| {
        let mut f: Vec<String> = p
            .schema()
            .account()
            .fields
            .iter()
            .map(|f| format!("{f:?}"))
            .collect();
        f.sort();
        f
    };
    assert_eq!(fields(&yaml), fields(&toml));
    assert_eq!(fields(&yaml).len(), 9);
    assert_eq!(
        format!("{:?}", yaml.schema().enums),
        format!("{:?}", toml.schema().enums)
    );
    assert_eq!(yaml.schema().currency, toml.schema().currency);
    for (y, t) in yaml.tables.iter().zip(&toml.tables) {
        let (y, t) = (&y.table, &t.table);
        assert_eq!(y.name, t.name);
        assert_eq!(y.hit, t.hit);
        assert_eq!(y.description, t.description);
        let names = |t: &arrears::lang::ir::Table| {
            t.inputs
                .iter()
                .map(|i| (i.name.clone(), i.text.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(y), names(t));
        let rows = |t: &arrears::lang::ir::Table| {
            t.rows
                .iter()
                .map(|r| {
                    (
                        r.id.clone(),
                        r.cells.iter().map(|c| c.text.clone()).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(y), rows(t));
        assert_eq!(y.default.is_some(), t.default.is_some());
    }
    // Evaluation order follows references (grade before actions), in both.
    let names = |p: &Plan| {
        p.order
            .iter()
            .map(|&t| p.tables[t as usize].table.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&yaml), ["grade", "actions"]);
    assert_eq!(names(&toml), ["grade", "actions"]);
}

/// Exact decisions for two accounts, so that "identical" cannot mean "identically empty".
#[test]
fn format_fixture_decisions_are_the_expected_ones() {
    let toml = load_clean(&fixtures().join("toml"));
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let all = decisions(&toml, &fixtures().join("accounts.yaml"), as_of);
    assert!(
        all[0].contains("grade [\"gold-current\"] -> tier=gold reason=\"current\""),
        "{}",
        all[0]
    );
    assert!(
        all[1].contains("grade [\"silver-small\"] -> tier=silver reason=\"small arrears\""),
        "{}",
        all[1]
    );
    assert!(
        all[1].contains(
            "actions [\"letter-not-gold\", \"over-limit\", \"inactive\", \"new-account\"] -> \
             (action=\"letter\" amount=3.00 USD) (action=\"limit review\" amount=30.00 USD) \
             (action=\"check items\" amount=null) (action=\"welcome\" amount=0.00 USD)"
        ),
        "{}",
        all[1]
    );
    // plan-covers: 45 DPD is late (bronze) although the plan covers most of the arrears.
    assert!(
        all[2].contains("grade [\"bronze-late\"] -> tier=bronze"),
        "{}",
        all[2]
    );
    assert!(all[2].contains("effective=50.00 USD"), "{}", all[2]);
    // big-no-plan: bronze-big and gold-old-ca-tx both match; gold is declared first, so it wins.
    assert!(
        all[3].contains("grade [\"gold-old-ca-tx\"] -> tier=gold reason=\"loyal\""),
        "{}",
        all[3]
    );
    assert!(
        all[3].contains("bronze-big:None gold-old-ca-tx:None"),
        "{}",
        all[3]
    );
}

#[test]
fn shipped_rules_lint_clean_in_both_formats() {
    let checked = arrears::load_rules(&root().join("rules")).expect("rules/ readable");
    let rendered: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(rendered.is_empty(), "{}", rendered.join("\n"));
    let program = checked.program.expect("a program");
    let file_of = |name: &str| {
        let t = program
            .tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no table {name}"));
        Path::new(&t.file.name)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(file_of("exit"), "exit.toml");
    assert_eq!(file_of("entry"), "entry.yaml");
    // Every shipped rule file became exactly one document.
    let docs = arrears::model::load_dir(&root().join("rules")).unwrap();
    let documents = docs.schemas.len()
        + docs.tables.len()
        + docs.calendars.len()
        + docs.templates.len()
        + docs.experiments.len()
        + docs.policies.len()
        + docs.mappings.len()
        + docs.test_files.len();
    assert_eq!(documents, docs.files.len(), "one document per file");
    assert!(docs.diagnostics.is_empty());
    let files: Vec<PathBuf> = docs.files.iter().map(|f| PathBuf::from(&f.name)).collect();
    assert!(files.iter().any(|p| p.extension().unwrap() == "toml"));
}

#[test]
fn toml_table_alone_with_the_shipped_schema_lints_clean() {
    // exit.toml refers to `entry`; with only the schema and entry beside it, it still checks.
    let dir = tempfile::tempdir().unwrap();
    for f in ["schema.yaml", "entry.yaml", "exit.toml"] {
        std::fs::copy(root().join("rules").join(f), dir.path().join(f)).unwrap();
    }
    let plan = load_clean(dir.path());
    assert_eq!(plan.tables.len(), 2);
    // And without `entry`, the reference is reported in exit.toml.
    std::fs::remove_file(dir.path().join("entry.yaml")).unwrap();
    let checked = arrears::load_rules(dir.path()).unwrap();
    assert!(checked.program.is_none());
    let first = checked.diagnostics.first().expect("an error");
    assert!(
        first.file.name.ends_with("exit.toml"),
        "{}",
        first.file.name
    );
    assert!(first.message.contains("entry"), "{}", first.message);
}

/// A bare `n` names the input `n`, and a bare `off` names the enum variant
/// `off`; YAML 1.2 reads both as text. The loader reads them as YAML 1.1
/// booleans (`false`), so the cell silently changes meaning.
#[test]
fn bare_yaml_words_are_cells_not_booleans() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.yaml"),
        "schema: s\nenums:\n  switch: [\"on\", \"off\"]\nfields:\n  id: text\n  n: integer\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t.yaml"),
        "table: t\nhit: first\ninputs:\n  n: account.n\noutputs:\n  out: integer\n  sw: switch\nrows:\n  - id: r\n    then: { out: n, sw: off }\n",
    )
    .unwrap();
    let plan = load_clean(dir.path());
    // `n` is the input (7 here, not a boolean or the text "n"); `off` is the enum's second variant.
    let accounts = dir.path().join("accounts.jsonl");
    std::fs::write(&accounts, "{\"id\": \"a1\", \"n\": 7}\n").unwrap();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let t = &plan.tables[0].table;
    assert_eq!(
        t.outputs[1].ty,
        arrears::types::Type::Enum(plan.schema().enum_by_name("switch").unwrap())
    );
    let decided = decisions(&plan, &accounts, as_of);
    assert!(
        decided[0].contains("t [\"r\"] -> out=7 sw=off"),
        "{decided:?}"
    );
}

/// The "Norway problem": an account whose text field is `NO` in a YAML accounts file.
#[test]
fn yaml_accounts_keep_bare_words_as_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.yaml"),
        "schema: s\nfields:\n  id: text\n  country: text\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let path = data.path().join("accounts.yaml");
    std::fs::write(&path, "- { id: a1, country: NO }\n").unwrap();
    let plan = load_clean(dir.path());
    let records = arrears::data::accounts::read_accounts(&path).unwrap();
    let json = records[0].json.as_ref().unwrap();
    assert_eq!(json["country"], "NO");
    arrears::data::snapshot::decode_account(plan.schema(), json).expect("`NO` is text");
}

/// A byte-order mark at the start of a JSON or JSON Lines accounts file is
/// skipped, as it is in CSV and YAML: `dry-run`'s reader and `batch`'s.
#[test]
fn json_accounts_may_start_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let lines = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let first = lines.lines().next().unwrap();
    let files = [
        ("accounts.json", format!("\u{feff}[{first}]")),
        ("accounts.jsonl", format!("\u{feff}{lines}")),
    ];
    for (name, text) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let records = arrears::data::accounts::read_accounts(&path).unwrap();
        let json = records[0]
            .json
            .as_ref()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(json.is_object(), "{name}");
    }
    let out = dir.path().join("actions.jsonl");
    let rejects = dir.path().join("rejects.jsonl");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
        .arg("batch")
        .arg("--rules")
        .arg(root().join("rules"))
        .args(["--as-of", "2026-11-22", "--out"])
        .arg(&out)
        .arg("--rejects")
        .arg(&rejects)
        .arg(dir.path().join("accounts.jsonl"))
        .output()
        .unwrap();
    let rejected = std::fs::read_to_string(&rejects).unwrap_or_default();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{rejected}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(rejected.is_empty(), "{rejected}");
}
