//! Arithmetic at the edges: overflow, division by zero, percentages of
//! nothing, dates at the ends of the range, day arithmetic across month ends
//! and leap years. Every case is a defined value or an `EvalErrorKind`, never
//! a panic. Each expression is evaluated as the only input of a one-row table.

use std::str::FromStr;

use arrears::eval::{evaluate, EvalErrorKind, Outcome};
use arrears::types::Value;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const SCHEMA: &str = "\
schema: edges
currency: USD
fields:
  id: text
  d: date
  e: date
  n: days
  i: integer
  a: money
  b: money
  k: decimal
";

/// Evaluates `expr` (of output type `ty`) for one account on `as_of`.
fn eval_on(expr: &str, ty: &str, account: &str, as_of: NaiveDate) -> Result<Value, EvalErrorKind> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
    let table = format!(
        "table: t\nhit: first\ninputs:\n  x: '{expr}'\noutputs:\n  x: {ty}\nrows:\n  - id: only\n    then: {{ x: x }}\n"
    );
    std::fs::write(dir.path().join("t.yaml"), table).unwrap();
    let checked = arrears::load_rules(dir.path()).unwrap();
    let rendered: Vec<String> = checked.diagnostics.iter().map(|d| d.render()).collect();
    assert!(rendered.is_empty(), "{expr}: {}", rendered.join("\n"));
    let plan = arrears::lang::compile::compile(checked.program.unwrap());
    let base = serde_json::json!({
        "id": "x", "d": "2026-01-31", "e": "2026-03-01", "n": 1, "i": 1,
        "a": "10.00", "b": "3", "k": "0.15"
    });
    let mut json = base;
    let patch: serde_json::Value = serde_json::from_str(account).unwrap();
    for (k, v) in patch.as_object().unwrap() {
        json[k] = v.clone();
    }
    let account = arrears::data::snapshot::decode_account(plan.schema(), &json).expect("decodes");
    let evaluation = evaluate(&plan, &account, as_of, false).map_err(|e| e.kind)?;
    match &evaluation.decisions[0].outcome {
        Outcome::Row { .. } => Ok(plan.result(&evaluation.decisions[0])[0].clone()),
        other => panic!("{expr}: {other:?}"),
    }
}

fn eval(expr: &str, ty: &str, account: &str) -> Result<Value, EvalErrorKind> {
    eval_on(expr, ty, account, date("2026-11-22"))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Value {
    Value::Dec(Decimal::from_str(s).unwrap())
}

#[test]
fn day_arithmetic_across_month_ends_and_leap_years() {
    let cases = [
        // (date, days, date + days)
        ("2024-02-29", 365, "2025-02-28"),
        ("2024-02-29", 366, "2025-03-01"),
        ("2024-02-28", 1, "2024-02-29"),
        ("2023-02-28", 1, "2023-03-01"),
        ("2026-01-31", 28, "2026-02-28"),
        ("2026-01-31", 29, "2026-03-01"),
        ("2026-01-31", 31, "2026-03-03"),
        ("2026-03-31", 30, "2026-04-30"),
        ("2026-12-31", 1, "2027-01-01"),
        ("2100-02-28", 1, "2100-03-01"),
        ("2000-02-28", 1, "2000-02-29"),
        ("2026-03-01", -1, "2026-02-28"),
        ("2024-03-01", -1, "2024-02-29"),
    ];
    for (d, n, want) in cases {
        let account = format!(r#"{{"d": "{d}", "n": {n}}}"#);
        assert_eq!(
            eval("account.d + account.n", "date", &account),
            Ok(Value::Date(date(want))),
            "{d} + {n} days"
        );
        assert_eq!(
            eval(
                "account.d - account.n",
                "date",
                &format!(r#"{{"d": "{want}", "n": {n}}}"#)
            ),
            Ok(Value::Date(date(d))),
            "{want} - {n} days"
        );
    }
    assert_eq!(
        eval("account.d + 365 days", "date", r#"{"d": "2024-02-29"}"#),
        Ok(Value::Date(date("2025-02-28")))
    );
}

#[test]
fn days_between_and_date_difference() {
    let v = eval(
        "days_between(account.d, account.e)",
        "integer",
        r#"{"d": "2024-02-01", "e": "2024-03-01"}"#,
    );
    assert_eq!(v, Ok(Value::Int(29)));
    let v = eval(
        "days_between(account.e, account.d)",
        "integer",
        r#"{"d": "2023-02-01", "e": "2023-03-01"}"#,
    );
    assert_eq!(v, Ok(Value::Int(-28)));
    let v = eval(
        "days_between(account.d, account.e)",
        "integer",
        r#"{"d": "0000-01-01", "e": "9999-12-31"}"#,
    );
    assert_eq!(v, Ok(Value::Int(3_652_424)));
}

/// `starts_with(text, prefix)`: a yes or no, with the prefix's case as written.
#[test]
fn starts_with_tests_a_texts_beginning() {
    let on = |expr: &str, id: &str| eval(expr, "bool", &format!(r#"{{"id": "{id}"}}"#));
    assert_eq!(
        on(
            r#"starts_with(account.id, "callback-")"#,
            "callback-2026-11-18"
        ),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        on(r#"starts_with(account.id, "callback-")"#, "callback"),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        on(r#"starts_with(account.id, "Callback-")"#, "callback-1"),
        Ok(Value::Bool(false))
    );
    assert_eq!(
        on(r#"starts_with(account.id, "")"#, "x"),
        Ok(Value::Bool(true))
    );
}

#[test]
fn dates_past_the_four_digit_years_are_out_of_range() {
    let out = |expr: &str, account: &str| eval(expr, "date", account);
    assert_eq!(
        out("account.d + 1 day", r#"{"d": "9999-12-31"}"#),
        Err(EvalErrorKind::DateOutOfRange)
    );
    assert_eq!(
        out("account.d - 1 day", r#"{"d": "0000-01-01"}"#),
        Err(EvalErrorKind::DateOutOfRange)
    );
    assert_eq!(
        out(
            "account.d + account.n",
            &format!(r#"{{"d": "2026-01-01", "n": {}}}"#, i64::MAX)
        ),
        Err(EvalErrorKind::DateOutOfRange)
    );
    assert_eq!(
        out(
            "account.d - account.n",
            &format!(r#"{{"d": "2026-01-01", "n": {}}}"#, i64::MIN)
        ),
        Err(EvalErrorKind::DateOutOfRange)
    );
    assert_eq!(
        out(
            "account.d + account.n",
            &format!(r#"{{"d": "2026-01-01", "n": {}}}"#, i64::MIN)
        ),
        Err(EvalErrorKind::DateOutOfRange)
    );
    assert_eq!(
        out("account.d + account.n", r#"{"d": "9999-12-30", "n": 1}"#),
        Ok(Value::Date(date("9999-12-31")))
    );
    // `as_of` at the end of the range: arithmetic on it fails per account, it does not panic.
    assert_eq!(
        eval_on("as_of + 1 day", "date", "{}", date("9999-12-31")),
        Err(EvalErrorKind::DateOutOfRange)
    );
}

#[test]
fn integer_overflow_is_an_evaluation_error() {
    let big = format!(r#"{{"i": {}}}"#, i64::MAX);
    assert_eq!(
        eval("account.i + 1", "integer", &big),
        Err(EvalErrorKind::Overflow("addition"))
    );
    assert_eq!(
        eval("account.i * 2", "integer", &big),
        Err(EvalErrorKind::Overflow("multiplication"))
    );
    let small = format!(r#"{{"i": {}}}"#, i64::MIN);
    assert_eq!(
        eval("account.i - 1", "integer", &small),
        Err(EvalErrorKind::Overflow("subtraction"))
    );
    assert_eq!(
        eval("abs(account.i)", "integer", &small),
        Err(EvalErrorKind::Overflow("abs"))
    );
    assert!(matches!(
        eval("-account.i", "integer", &small),
        Err(EvalErrorKind::Overflow(_))
    ));
}

#[test]
fn decimal_overflow_is_an_evaluation_error() {
    let max =
        r#"{"a": "79228162514264337593543950335", "b": "79228162514264337593543950335", "k": "2"}"#;
    assert_eq!(
        eval("account.a + account.b", "money", max),
        Err(EvalErrorKind::Overflow("addition"))
    );
    assert_eq!(
        eval("account.a * account.k", "money", max),
        Err(EvalErrorKind::Overflow("multiplication"))
    );
    assert_eq!(
        eval("-account.a - account.b", "money", max),
        Err(EvalErrorKind::Overflow("subtraction"))
    );
    assert_eq!(
        eval("account.a / 0.5", "money", max),
        Err(EvalErrorKind::Overflow("division"))
    );
    // Tiny quotients round to the 28 places a decimal holds instead of failing.
    let cases = [
        // (a, b, a / b at 28 places)
        (
            "0.0000000000000000000000000001",
            "3",
            "0.0000000000000000000000000000",
        ),
        (
            "0.0000000000000000000000000002",
            "3",
            "0.0000000000000000000000000001",
        ),
        ("1", "3", "0.3333333333333333333333333333"),
        ("2", "3", "0.6666666666666666666666666667"),
    ];
    for (a, b, want) in cases {
        let account = format!(r#"{{"a": "{a}", "b": "{b}"}}"#);
        let got = eval("account.a / account.b", "decimal", &account);
        let Ok(Value::Dec(got)) = got else {
            panic!("{a} / {b} gave {got:?}");
        };
        assert_eq!(got, Decimal::from_str(want).unwrap(), "{a} / {b} = {got}");
    }
}

#[test]
fn division_by_zero_and_percentages_of_nothing() {
    assert_eq!(
        eval("account.a / account.b", "decimal", r#"{"b": "0"}"#),
        Err(EvalErrorKind::DivisionByZero)
    );
    assert_eq!(
        eval("account.a / account.b", "decimal", r#"{"b": "0.00"}"#),
        Err(EvalErrorKind::DivisionByZero)
    );
    assert_eq!(
        eval("account.a / account.b", "decimal", r#"{"b": "-0"}"#),
        Err(EvalErrorKind::DivisionByZero)
    );
    assert_eq!(eval("account.a * 0%", "money", "{}"), Ok(dec("0")));
    assert_eq!(
        eval("account.a * 15%", "money", r#"{"a": "0"}"#),
        Ok(dec("0"))
    );
    assert_eq!(
        eval("account.a * 0.0001%", "money", r#"{"a": "0.01"}"#),
        Ok(dec("0.00000001"))
    );
    assert_eq!(
        eval("account.a * 100%", "money", r#"{"a": "12.34"}"#),
        Ok(dec("12.34"))
    );
}

#[test]
fn rounding_edges() {
    assert_eq!(
        eval("round(account.k, 2)", "decimal", r#"{"k": "2.345"}"#),
        Ok(dec("2.35"))
    );
    assert_eq!(
        eval("round(account.k, 2)", "decimal", r#"{"k": "-2.345"}"#),
        Ok(dec("-2.35"))
    );
    assert_eq!(
        eval("round(account.k)", "decimal", r#"{"k": "0.5"}"#),
        Ok(dec("1"))
    );
    // Places must be a constant 0..=28 (lint refuses others), so `round` cannot overflow.
    assert_eq!(
        eval(
            "round(account.k, 0)",
            "decimal",
            r#"{"k": "79228162514264337593543950335"}"#
        ),
        Ok(dec("79228162514264337593543950335"))
    );
}
