//! Money and decimal exactness: no float anywhere between the account file
//! and the decision. Rules are built in a temporary directory.

use std::path::Path;
use std::str::FromStr;

use arrears::eval::{evaluate, EvalErrorKind, Outcome};
use arrears::lang::compile::{compile, Plan};
use arrears::types::Value;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const SCHEMA: &str = "\
schema: money
currency: USD
fields:
  id: text
  a: money
  b: money
  k: decimal?
  x: decimal?
  n: integer?
";

/// Columns: `sum` (a + b), `product` (a * k), `quotient` (a / b), `rounded`, `pct`, `difference` (a - b), `rounded_product` (round(a * k, 2)); all computed from the account.
const OPS: &str = r#"
table: ops
hit: first
inputs:
  sum: account.a + account.b
  product: account.a * account.k
  quotient: account.a / account.b
  rounded: round(account.x, 2)
  rounded0: round(account.x)
  pct: account.a * 15%
  difference: account.a - account.b
  rounded_product: round(account.a * account.k, 2)
outputs:
  sum: money
  product: money
  quotient: decimal
  rounded: decimal
  rounded0: decimal
  pct: money
  difference: money
  rounded_product: money
rows:
  - id: all
    then: { sum: sum, product: product, quotient: quotient, rounded: rounded, rounded0: rounded0, pct: pct, difference: difference, rounded_product: rounded_product }
"#;

/// Exact comparisons, in expressions and in cells, with constants folded at compile time.
const EXACT: &str = r#"
table: exact
hit: first
inputs:
  sum: account.a + account.b
outputs:
  cell_match: bool
  expr_equal: bool
  constant_equal: bool
  constant_product: money
rows:
  - id: thirty-cents
    when: { sum: "$0.30" }
    then:
      cell_match: "true"
      expr_equal: sum = $0.30
      constant_equal: $0.10 + $0.20 = $0.30
      constant_product: $19.99 * 15%
default:
  cell_match: "false"
  expr_equal: sum = $0.30
  constant_equal: $0.10 + $0.20 = $0.30
  constant_product: $19.99 * 15%
"#;

fn build(dir: &Path, tables: &[(&str, &str)]) -> Plan {
    std::fs::write(dir.join("schema.yaml"), SCHEMA).unwrap();
    for (name, text) in tables {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let checked = arrears::load_rules(dir).expect("readable");
    let rendered: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(rendered.is_empty(), "{}", rendered.join("\n"));
    compile(checked.program.expect("no errors"))
}

fn plan_for(tables: &[(&str, &str)]) -> (tempfile::TempDir, Plan) {
    let dir = tempfile::tempdir().unwrap();
    let plan = build(dir.path(), tables);
    (dir, plan)
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Evaluates `table` for the account written as JSON; the row's (or default's) outputs.
fn outputs(plan: &Plan, table: &str, json: &str) -> Result<Vec<Value>, EvalErrorKind> {
    let json: serde_json::Value = serde_json::from_str(json).unwrap();
    let account =
        arrears::data::snapshot::decode_account(plan.schema(), &json).expect("account decodes");
    let evaluation = evaluate(plan, &account, as_of(), false).map_err(|e| {
        assert_eq!(e.table, table);
        e.kind
    })?;
    let t = plan
        .tables
        .iter()
        .position(|t| t.table.name == table)
        .unwrap() as u32;
    let d = evaluation.decisions.iter().find(|d| d.table == t).unwrap();
    match &d.outcome {
        Outcome::Row { .. } | Outcome::Default { .. } => Ok(plan.result(d).to_vec()),
        other => panic!("unexpected outcome {other:?}"),
    }
}

fn as_dec(v: &Value) -> Decimal {
    match v {
        Value::Dec(d) => *d,
        Value::Int(n) => Decimal::from(*n),
        other => panic!("expected a decimal, got {other:?}"),
    }
}

#[test]
fn ten_cents_plus_twenty_cents_is_thirty_cents() {
    let (_dir, plan) = plan_for(&[("exact.yaml", EXACT)]);
    for account in [
        r#"{"id": "s", "a": "0.10", "b": "0.20", "x": 0}"#,
        r#"{"id": "n", "a": 0.1, "b": 0.2, "x": 0}"#,
    ] {
        let v = outputs(&plan, "exact", account).unwrap();
        assert_eq!(
            v[0],
            Value::Bool(true),
            "cell `$0.30` must match 0.1 + 0.2 ({account})"
        );
        assert_eq!(v[1], Value::Bool(true), "`sum = $0.30` ({account})");
        assert_eq!(v[2], Value::Bool(true), "constant `$0.10 + $0.20 = $0.30`");
    }
    // And a near miss really misses: exactness is not tolerance.
    let v = outputs(
        &plan,
        "exact",
        r#"{"id": "m", "a": "0.10", "b": "0.2000000001", "x": 0}"#,
    )
    .unwrap();
    assert_eq!(v[0], Value::Bool(false));
    assert_eq!(v[1], Value::Bool(false));
}

#[test]
fn money_times_percentage_is_exact() {
    let (_dir, plan) = plan_for(&[("exact.yaml", EXACT), ("ops.yaml", OPS)]);
    let v = outputs(&plan, "exact", r#"{"id": "c", "a": "1", "b": "1", "x": 0}"#).unwrap();
    assert_eq!(as_dec(&v[3]), dec("2.9985"), "$19.99 * 15% (constant)");
    assert_eq!(as_dec(&v[3]).to_string(), "2.9985");
    let v = outputs(
        &plan,
        "ops",
        r#"{"id": "p", "a": "19.99", "b": "1", "k": "0.15"}"#,
    )
    .unwrap();
    assert_eq!(
        as_dec(&v[5]),
        dec("2.9985"),
        "account.a * 15% with a = 19.99"
    );
    assert_eq!(
        as_dec(&v[1]),
        dec("2.9985"),
        "account.a * account.k with k = 0.15"
    );
}

#[test]
fn round_is_half_away_from_zero() {
    let (_dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    for (x, two, zero) in [
        ("2.345", "2.35", "2"),
        ("-2.345", "-2.35", "-2"),
        ("2.5", "2.5", "3"),
        ("-2.5", "-2.5", "-3"),
        ("0.125", "0.13", "0"),
        ("2.344999", "2.34", "2"),
        ("1.005", "1.01", "1"),
    ] {
        for written in [format!("\"{x}\""), x.to_string()] {
            let json = format!(r#"{{"id": "r", "a": "1", "b": "1", "x": {written}}}"#);
            let v = outputs(&plan, "ops", &json).unwrap();
            assert_eq!(as_dec(&v[3]), dec(two), "round({x}, 2)");
            assert_eq!(as_dec(&v[4]), dec(zero), "round({x})");
        }
    }
}

#[test]
fn division_by_zero_is_an_evaluation_error() {
    let (_dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    let v = outputs(&plan, "ops", r#"{"id": "ok", "a": "10", "b": "4", "x": 0}"#).unwrap();
    assert_eq!(as_dec(&v[2]), dec("2.5"));
    let err = outputs(
        &plan,
        "ops",
        r#"{"id": "z", "a": "10", "b": "0.00", "x": 0}"#,
    )
    .unwrap_err();
    assert_eq!(err, EvalErrorKind::DivisionByZero);
    assert_eq!(err.to_string(), "division by zero");
}

#[test]
fn constant_division_by_zero_fails_per_account_not_at_compile_time() {
    let table = r#"
table: constdiv
hit: first
inputs:
  a: account.a
outputs:
  q: money
rows:
  - id: never
    when: { a: "< $0" }
    then: { q: $1 / 0 }
default: { q: $1 }
"#;
    let (_dir, plan) = plan_for(&[("constdiv.yaml", table)]);
    let v = outputs(
        &plan,
        "constdiv",
        r#"{"id": "pos", "a": "1", "b": "1", "x": 0}"#,
    )
    .unwrap();
    assert_eq!(as_dec(&v[0]), dec("1"));
    let err = outputs(
        &plan,
        "constdiv",
        r#"{"id": "neg", "a": "-1", "b": "1", "x": 0}"#,
    )
    .unwrap_err();
    assert_eq!(err, EvalErrorKind::DivisionByZero);
}

#[test]
fn decimal_overflow_is_an_evaluation_error() {
    let (_dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    let huge = "79228162514264337593543950335"; // Decimal::MAX
    let json = format!(r#"{{"id": "big", "a": "{huge}", "b": "1", "k": "{huge}"}}"#);
    let err = outputs(&plan, "ops", &json).unwrap_err();
    assert!(matches!(err, EvalErrorKind::Overflow(_)), "{err:?}");
    assert!(err.to_string().starts_with("number overflow in "), "{err}");
    // Overflowing addition alone.
    let json = format!(r#"{{"id": "big", "a": "{huge}", "b": "1", "x": 0}}"#);
    let err = outputs(&plan, "ops", &json).unwrap_err();
    assert_eq!(err, EvalErrorKind::Overflow("addition"));
}

#[test]
fn money_decodes_exactly_from_strings_and_numbers() {
    let (_dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    let field_a = |json: &str| -> Decimal {
        let json: serde_json::Value = serde_json::from_str(json).unwrap();
        let Value::Record(fields) =
            arrears::data::snapshot::decode_account(plan.schema(), &json).unwrap()
        else {
            panic!("account is a record")
        };
        let slot = plan.schema().account().slot("a").unwrap();
        as_dec(&fields[slot])
    };
    let tenth = dec("0.1");
    assert_eq!(field_a(r#"{"id": "s", "a": "0.1", "b": 0, "x": 0}"#), tenth);
    assert_eq!(field_a(r#"{"id": "n", "a": 0.1, "b": 0, "x": 0}"#), tenth);
    assert_eq!(
        field_a(r#"{"id": "n", "a": 0.1, "b": 0, "x": 0}"#).to_string(),
        "0.1"
    );
    // Strings keep every digit, beyond what a float could hold.
    assert_eq!(
        field_a(r#"{"id": "s", "a": "12345678901234567.89", "b": 0, "x": 0}"#).to_string(),
        "12345678901234567.89"
    );
    assert_eq!(
        field_a(r#"{"id": "s", "a": " 12.50 ", "b": 0, "x": 0}"#),
        dec("12.5")
    );
    // Bad money is reported, not guessed.
    let json: serde_json::Value =
        serde_json::from_str(r#"{"id": "bad", "a": "abc", "b": 0, "x": 0}"#).unwrap();
    let errors = arrears::data::snapshot::decode_account(plan.schema(), &json).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "account.a");
}

#[test]
fn yaml_accounts_decode_money_exactly() {
    let (dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    let path = dir.path().join("accounts.yaml");
    std::fs::write(&path, "- { id: s, a: \"0.1\", b: 0.2, x: 0 }\n").unwrap();
    let records = arrears::data::accounts::read_accounts(&path).unwrap();
    let json = records[0].json.as_ref().unwrap();
    let v = outputs(&plan, "ops", &json.to_string()).unwrap();
    assert_eq!(as_dec(&v[0]), dec("0.3"));
}

#[test]
fn arithmetic_matches_exact_decimal_arithmetic() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let (_dir, plan) = plan_for(&[("ops.yaml", OPS)]);
    // A decimal with at most two places, |x| <= 10^9.
    let amount = || {
        (0u32..=2).prop_flat_map(|scale| {
            let bound = 10i64.pow(9 + scale);
            (-bound..=bound).prop_map(move |m| Decimal::new(m, scale))
        })
    };
    let mut runner = TestRunner::new(Config {
        cases: 512,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(amount(), amount(), any::<bool>()),
            |(a, b, a_as_number)| {
                // Money may be written as a JSON number or a string; both must be exact.
                let a_json = if a_as_number {
                    a.to_string()
                } else {
                    format!("\"{a}\"")
                };
                let json = format!(r#"{{"id": "p", "a": {a_json}, "b": "{b}", "k": "{b}"}}"#);
                let v = outputs(&plan, "ops", &json)
                    .map_err(|e| TestCaseError::fail(format!("{e}")))?;
                prop_assert_eq!(as_dec(&v[0]), a + b, "{} + {}", a, b);
                prop_assert_eq!(as_dec(&v[1]), a * b, "{} * {}", a, b);
                prop_assert_eq!(as_dec(&v[6]), a - b, "{} - {}", a, b);
                prop_assert_eq!(
                    as_dec(&v[7]),
                    (a * b).round_dp_with_strategy(
                        2,
                        rust_decimal::RoundingStrategy::MidpointAwayFromZero
                    ),
                    "round({} * {}, 2)",
                    a,
                    b
                );
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}

/// How one field's text decodes in each input format: the decimal's text, or
/// the error message.
struct Decoded {
    json_number: Result<String, String>,
    json_string: Result<String, String>,
    yaml: Result<String, String>,
    csv: Result<String, String>,
}

impl Decoded {
    /// Every format gave `want`: the value's text, or an error containing it.
    fn assert_each(&self, written: &str, want: Result<&str, &str>) {
        for (format, got) in [
            ("JSON number", &self.json_number),
            ("JSON string", &self.json_string),
            ("YAML", &self.yaml),
            ("CSV", &self.csv),
        ] {
            match (want, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, want, "{written} in {format}"),
                (Err(want), Err(got)) => {
                    assert!(got.contains(want), "{written} in {format}: {got}")
                }
                _ => panic!("{written} in {format}: expected {want:?}, got {got:?}"),
            }
        }
    }
}

/// `written` as field `field` of an account, in JSON (unquoted and quoted),
/// an unquoted YAML scalar and a CSV cell (through a mapping).
fn decode_everywhere(dir: &Path, plan: &Plan, field: &str, written: &str) -> Decoded {
    let slot = plan.schema().account().slot(field).unwrap();
    let shown = |decoded: Result<Value, Vec<arrears::data::snapshot::FieldError>>| match decoded {
        Ok(Value::Record(fields)) => Ok(match &fields[slot] {
            Value::Dec(d) => d.to_string(),
            Value::Int(n) => n.to_string(),
            other => panic!("{written}: decoded as {other:?}"),
        }),
        Ok(other) => panic!("not a record: {other:?}"),
        Err(errors) => {
            assert_eq!(errors.len(), 1, "{written}: {errors:?}");
            assert_eq!(errors[0].field, format!("account.{field}"), "{written}");
            Err(errors[0].message.clone())
        }
    };
    let json = |value: String| {
        let text = format!(r#"{{"id": "j", "a": "1", "b": "1", "{field}": {value}}}"#);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        shown(arrears::data::snapshot::decode_account(
            plan.schema(),
            &json,
        ))
    };
    let yaml_path = dir.join("accounts.yaml");
    std::fs::write(
        &yaml_path,
        format!("- {{ id: y, a: \"1\", b: \"1\", {field}: {written} }}\n"),
    )
    .unwrap();
    let records = arrears::data::accounts::read_accounts(&yaml_path).unwrap();
    let yaml = shown(arrears::data::snapshot::decode_account(
        plan.schema(),
        records[0].json.as_ref().unwrap(),
    ));
    let docs = arrears::model::load_dir(dir).unwrap();
    let (_, doc) = &docs.mappings[0];
    let mut mapping = arrears::data::batch::mapping::Mapping::build(plan.schema(), doc).unwrap();
    let header = csv::StringRecord::from(vec!["ID", "A", "B", "FIELD"]);
    mapping.bind(&header).unwrap();
    let row = csv::StringRecord::from(vec!["c", "1", "1", written]);
    let csv = shown(mapping.decode(plan.schema(), &row, &[]));
    Decoded {
        json_number: json(written.to_string()),
        json_string: json(format!("\"{written}\"")),
        yaml,
        csv,
    }
}

fn plan_with_mapping(field: &str) -> (tempfile::TempDir, Plan) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mapping.yaml"),
        format!("mapping: m\ncolumns:\n  ID: id\n  A: a\n  B: b\n  FIELD: {field}\n"),
    )
    .unwrap();
    let plan = build(dir.path(), &[("ops.yaml", OPS)]);
    (dir, plan)
}

/// One exact reader for every format: an amount is the decimal written, or
/// a refusal naming the field; never a float's rounding (`4.9999999999999999999`
/// became 5, `1e-400` became 0, a 29th CSV digit was rounded away).
#[test]
fn amounts_are_exact_or_refused_in_every_format() {
    let (dir, plan) = plan_with_mapping("x");
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("12.50", Ok("12.50")),
        ("-0.10", Ok("-0.10")),
        ("4.9999999999999999999", Ok("4.9999999999999999999")),
        ("1234567890123456789.01", Ok("1234567890123456789.01")),
        (
            "0.1234567890123456789012345678",
            Ok("0.1234567890123456789012345678"),
        ),
        // An exponent is taken when the value is a decimal without rounding.
        ("5e2", Ok("500")),
        ("1.5E-3", Ok("0.0015")),
        ("1e-400", Err("cannot be held exactly")),
        (
            "4.99999999999999999999999999999",
            Err("cannot be held exactly"),
        ),
        (
            "0.00000000000000000000000000001",
            Err("cannot be held exactly"),
        ),
        ("1e40", Err("is out of range")),
        ("123456789012345678901234567890", Err("is out of range")),
    ];
    for (written, want) in cases {
        let got = decode_everywhere(dir.path(), &plan, "x", written);
        got.assert_each(written, *want);
    }
}

/// Whole numbers (integers, days) are written without a point or an
/// exponent, in every format: `7.0` and `1e3` are refused, not converted.
#[test]
fn whole_numbers_take_no_point_or_exponent() {
    let (dir, plan) = plan_with_mapping("n");
    for (written, want) in [
        ("7", Ok("7")),
        ("-3", Ok("-3")),
        ("7.0", Err("without a decimal point or exponent")),
        ("1e3", Err("without a decimal point or exponent")),
        ("99999999999999999999", Err("out of range")),
    ] {
        let got = decode_everywhere(dir.path(), &plan, "n", written);
        got.assert_each(written, want);
    }
}

const DIGITS_YAML: &str = "\
table: digits
hit: first
inputs:
  x: account.x
outputs:
  big: decimal
  exp: decimal
rows:
  - id: exact
    when: { x: 0.10000000000000000001 }
    then: { big: 12345678901234567.89, exp: 1.5e3 }
default: { big: 0, exp: 0 }
";

const DIGITS_TOML: &str = r#"
table = "digits"
hit = "first"

[inputs]
x = "account.x"

[outputs]
big = "decimal"
exp = "decimal"

[[rows]]
id = "exact"
when = { x = 0.10000000000000000001 }
then = { big = 12345678901234567.89, exp = 1.5e3 }

[default]
big = 0
exp = 0
"#;

/// Unquoted decimals in rule cells are read from their text, as quoted ones
/// are, in YAML and TOML: never through an `f64` (17 significant digits).
#[test]
fn unquoted_rule_decimals_keep_every_digit() {
    for (name, table) in [("digits.yaml", DIGITS_YAML), ("digits.toml", DIGITS_TOML)] {
        let (_dir, plan) = plan_for(&[(name, table)]);
        let json = r#"{"id": "d", "a": "1", "b": "1", "x": "0.10000000000000000001"}"#;
        let v = outputs(&plan, "digits", json).unwrap();
        assert_eq!(as_dec(&v[0]).to_string(), "12345678901234567.89", "{name}");
        assert_eq!(as_dec(&v[1]), dec("1500"), "{name}");
        // 0.1 is not 0.10000000000000000001: the condition cell kept its digits.
        let json = r#"{"id": "d", "a": "1", "b": "1", "x": "0.1"}"#;
        let v = outputs(&plan, "digits", json).unwrap();
        assert_eq!(as_dec(&v[0]), Decimal::ZERO, "{name}");
    }
}

/// An unquoted rule decimal that no decimal holds exactly is an error at its
/// line, in YAML and TOML, not a rounded value.
#[test]
fn unquoted_rule_decimals_that_need_rounding_are_errors() {
    for (name, table, line) in [
        ("digits.yaml", DIGITS_YAML.replace("1.5e3", "1e-400"), 11),
        (
            "digits.toml",
            DIGITS_TOML.replace("1.5e3", "0.12345678901234567890123456789"),
            15,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
        std::fs::write(dir.path().join(name), &table).unwrap();
        let checked = arrears::load_rules(dir.path()).unwrap();
        let first = checked.diagnostics.first().expect("an error");
        let rendered = first.render();
        assert!(
            rendered.contains("cannot be held exactly"),
            "{name}: {rendered}"
        );
        assert!(
            rendered.contains(&format!("{name}:{line}:")),
            "{name}: {rendered}"
        );
    }
}

/// An account written inline in an `arrears test` document keeps its digits
/// too: the same exact reading as an accounts file.
#[test]
fn test_document_accounts_keep_every_digit() {
    let (dir, _plan) = plan_for(&[("ops.yaml", OPS)]);
    let doc = dir.path().join("digits.test.yaml");
    std::fs::write(
        &doc,
        "tests: digits\nas_of: 2026-11-22\ncases:\n  - name: nineteen nines\n    account: { id: t, a: 4.9999999999999999999, b: 1 }\n    decisions: { ops: { sum: \"5.9999999999999999999\" } }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
        .arg("test")
        .arg("--rules")
        .arg(dir.path())
        .arg(&doc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CSV amount past 28 significant digits is a reject naming its row and
/// field in the batch, not a rounded amount.
#[test]
fn csv_amount_past_28_digits_is_a_reject_with_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    let arrears = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .output()
            .unwrap()
    };
    let o = arrears(&[
        "generate".as_ref(),
        "--accounts".as_ref(),
        "3".as_ref(),
        "--seed".as_ref(),
        "1".as_ref(),
        input.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The second account's ARREARS_AMT (the sixth column) gets 30 significant digits.
    let text = std::fs::read_to_string(&input).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert_eq!(lines[0].split(',').nth(5), Some("ARREARS_AMT"));
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    cells[5] = "1.00000000000000000000000000001";
    lines[2] = cells.join(",");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let rejects = dir.path().join("rejects.jsonl");
    let o = arrears(&[
        "batch".as_ref(),
        "--as-of".as_ref(),
        "2026-11-22".as_ref(),
        "--out".as_ref(),
        dir.path().join("actions.jsonl").as_os_str(),
        "--rejects".as_ref(),
        rejects.as_os_str(),
        input.as_os_str(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rejects: Vec<serde_json::Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], 3, "{rejects:?}");
    assert_eq!(rejects[0]["field"], "account.arrears", "{rejects:?}");
    let reason = rejects[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("cannot be held exactly"), "{reason}");
}
