//! `arrears lint` table analysis: one fixture per finding, each a tiny schema
//! and table in `tests/fixtures/analysis/<case>/`, with a snapshot of the
//! rendered diagnostics and assertions on codes and counterexamples.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/analysis"
    ))
}

/// Runs `arrears lint <args>` in the fixtures folder: (stdout, exit code).
fn lint(args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .arg("lint")
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("run arrears");
    (
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// The codes in the JSON output, in order.
fn codes(case: &str) -> Vec<String> {
    let (out, _) = lint(&[case, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn case(name: &str, want_codes: &[&str], want_text: &[&str], want_exit: i32) {
    let (out, exit) = lint(&[name]);
    insta::assert_snapshot!(name, out);
    assert_eq!(codes(name), want_codes, "{name}: codes\n{out}");
    for t in want_text {
        assert!(out.contains(t), "{name}: expected `{t}` in\n{out}");
    }
    assert_eq!(exit, want_exit, "{name}: exit\n{out}");
}

#[test]
fn gap_first() {
    case(
        "gap_first",
        &["table-gap", "table-gap"],
        &[
            "has a gap (1 of 2): no row matches `{ dpd: \"[1..4]\" }`, e.g. `dpd = 1, arrears = $4.99`",
            "has a gap (2 of 2): no row matches `{ dpd: \">= 5\", arrears: \"< $5.00\" }`, e.g. `dpd = 5, arrears = $4.99`",
        ],
        1,
    );
}

#[test]
fn gap_unique_money_boundary() {
    case(
        "gap_unique_money_boundary",
        &["table-gap"],
        &["e.g. `arrears = $5.00`"],
        1,
    );
}

#[test]
fn no_gap_integer_ranges() {
    case("no_gap_integer_ranges", &[], &["no problems"], 0);
}

#[test]
fn overlap_unique() {
    case(
        "overlap_unique",
        &["table-overlap"],
        &["rows `early` and `late` both match `dpd = 30, arrears = $5.00`"],
        1,
    );
}

#[test]
fn overlap_any_different_outputs() {
    case(
        "overlap_any_different_outputs",
        &["table-overlap"],
        &["rows `early` and `small` both match `dpd = 9, arrears = $4.99` but give different outputs"],
        1,
    );
}

#[test]
fn any_same_outputs_ok() {
    case("any_same_outputs_ok", &[], &["no problems"], 0);
}

#[test]
fn masked_row_first() {
    case(
        "masked_row_first",
        &["masked-row"],
        &["row `very-late` can never fire: earlier row `late` matches every input it matches"],
        0,
    );
}

#[test]
fn subsumed_row() {
    case(
        "subsumed_row",
        &["subsumed-row"],
        &["row `mid` is redundant: row `late` matches every input it matches"],
        0,
    );
}

#[test]
fn negated_cells() {
    case(
        "negated_cells",
        &["table-gap"],
        &["e.g. `state = \"CA\", dpd = 0`"],
        1,
    );
}

#[test]
fn enum_gap() {
    case(
        "enum_gap",
        &["table-gap"],
        &["e.g. `class = industrial`"],
        1,
    );
}

#[test]
fn bool_gap() {
    case(
        "bool_gap",
        &["table-gap", "masked-row"],
        &[
            "no row matches `{ bankrupt: \"false\", dpd: \"<= 29\" }`, e.g. `bankrupt = false, dpd = 29`",
            "row `early` can never fire: earlier row `bankrupt` matches",
        ],
        1,
    );
}

#[test]
fn date_gap() {
    case(
        "date_gap",
        &["table-gap"],
        &["e.g. `due = 2026-12-01`"],
        1,
    );
}

#[test]
fn dynamic_not_analysed() {
    case(
        "dynamic_not_analysed",
        &["not-analysed", "unknown-cell", "not-analysed", "unknown-cell"],
        &[
            "table `over` was not fully checked for gaps",
            "row `over`, column `balance` (dynamic_not_analysed/table.yaml:8:34)",
            "rows `over` and `under` were not fully checked for overlap",
            "dynamic_not_analysed/table.yaml:8:34: info[unknown-cell]: row `over`: cell `> account.limit` of column `balance` is not analysed exactly: it compares with a value that depends on the account",
            "dynamic_not_analysed/table.yaml:9:35: info[unknown-cell]: row `under`",
        ],
        0,
    );
}

#[test]
fn unused_field() {
    case(
        "unused_field",
        &["unused-field", "unused-field", "unused-field"],
        &[
            "field `account.risk_score` is never read",
            "field `account.pay_plan.scheduled_due` is never read",
            "field `account.contact` is never read",
        ],
        0,
    );
}

#[test]
fn unused_table() {
    case(
        "unused_table",
        &["unused-table"],
        &["table `old_entry` is not used"],
        0,
    );
}

#[test]
fn null_gap() {
    case(
        "null_gap",
        &["table-gap"],
        &["e.g. `score = null, dpd = -1`"],
        1,
    );
}

#[test]
fn deny_warnings_fails_on_warnings() {
    assert_eq!(lint(&["masked_row_first"]).1, 0);
    assert_eq!(lint(&["masked_row_first", "--deny-warnings"]).1, 1);
    assert_eq!(lint(&["no_gap_integer_ranges", "--deny-warnings"]).1, 0);
}

#[test]
fn explain() {
    let (out, exit) = lint(&["--explain", "table-gap"]);
    assert_eq!(exit, 0);
    assert!(out.starts_with("table-gap (error)"), "{out}");
    assert!(out.contains("Example:"), "{out}");
    let (out, exit) = lint(&["--explain", "type-mismatch"]);
    assert_eq!(exit, 0, "{out}");
    let (out, exit) = lint(&["--explain", "no-such-code"]);
    assert_eq!(exit, 64);
    assert_eq!(out.lines().count(), 1, "{out}");
}

#[test]
fn shipped_rules_have_no_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "rules", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["errors"], 0, "{json:#}");
    assert_eq!(out.status.code(), Some(0));
}

/// 2,000 generated rows: analysed within the budget or reported as `not-analysed`, never a hang.
#[test]
fn large_table_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.yaml"),
        "schema: t\nenums:\n  class: [a, b, c]\nfields:\n  id: text\n  dpd: integer\n  class: class\n  arrears: money\n",
    )
    .unwrap();
    let mut t = String::from(
        "table: big\nhit: first\ninputs:\n  dpd: account.dpd\n  class: account.class\n  arrears: account.arrears\noutputs:\n  n: integer\nrows:\n",
    );
    for i in 0..2000 {
        let class = ["a", "b", "c"][i % 3];
        t.push_str(&format!(
            "  - {{ id: r{i}, when: {{ dpd: \"[{}..{}]\", class: {class}, arrears: \">= ${}\" }}, then: {{ n: {i} }} }}\n",
            (i / 3) * 10,
            (i / 3) * 10 + 9,
            i % 7
        ));
    }
    std::fs::write(dir.path().join("big.yaml"), t).unwrap();
    let start = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        start.elapsed().as_secs() < 120,
        "took {:?}",
        start.elapsed()
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    let gaps = codes.iter().filter(|c| **c == "table-gap").count();
    assert!(
        (codes == ["not-analysed"]) || (gaps == codes.len() && (1..=10).contains(&gaps)),
        "{json:#}"
    );
}

// ---------------------------------------------------------------------------
// Property: the gap verdict agrees with brute force over a bounded domain.

#[derive(Clone, Debug)]
enum IntCell {
    Any,
    Cmp(&'static str, i64),
    Range(bool, i64, i64, bool),
    NotRange(i64, i64),
    List(i64, i64),
}

impl IntCell {
    fn text(&self) -> String {
        match self {
            IntCell::Any => "-".into(),
            IntCell::Cmp(op, a) => format!("{op} {a}"),
            IntCell::Range(li, a, b, hi) => {
                format!(
                    "{}{a}..{b}{}",
                    if *li { '[' } else { '(' },
                    if *hi { ']' } else { ')' }
                )
            }
            IntCell::NotRange(a, b) => format!("not([{a}..{b}])"),
            IntCell::List(a, b) => format!("{a}, {b}"),
        }
    }
    fn matches(&self, x: i64) -> bool {
        match *self {
            IntCell::Any => true,
            IntCell::Cmp(op, a) => match op {
                "<" => x < a,
                "<=" => x <= a,
                ">" => x > a,
                ">=" => x >= a,
                _ => x == a,
            },
            IntCell::Range(li, a, b, hi) => {
                (if li { x >= a } else { x > a }) && (if hi { x <= b } else { x < b })
            }
            IntCell::NotRange(a, b) => !(a <= x && x <= b),
            IntCell::List(a, b) => x == a || x == b,
        }
    }
}

fn int_cell() -> impl Strategy<Value = IntCell> {
    let ops = prop::sample::select(vec!["<", "<=", ">", ">=", "="]);
    prop_oneof![
        Just(IntCell::Any),
        (ops, 0i64..20).prop_map(|(o, a)| IntCell::Cmp(o, a)),
        (any::<bool>(), 0i64..20, 0i64..20, any::<bool>()).prop_map(|(l, a, b, h)| IntCell::Range(
            l,
            a.min(b),
            a.max(b),
            h
        )),
        (0i64..20, 0i64..20).prop_map(|(a, b)| IntCell::NotRange(a.min(b), a.max(b))),
        (0i64..20, 0i64..20).prop_map(|(a, b)| IntCell::List(a, b)),
    ]
}

const VARIANTS: [&str; 3] = ["x", "y", "z"];

/// `None` = any; otherwise (negated, variant bits).
fn enum_cell() -> impl Strategy<Value = Option<(bool, u8)>> {
    prop_oneof![Just(None), (any::<bool>(), 1u8..8).prop_map(Some)]
}

fn enum_text(c: &Option<(bool, u8)>) -> String {
    match c {
        None => "-".into(),
        Some((neg, bits)) => {
            let names: Vec<&str> = (0..3)
                .filter(|i| bits & (1 << i) != 0)
                .map(|i| VARIANTS[i])
                .collect();
            if *neg {
                format!("not({})", names.join(", "))
            } else {
                names.join(", ")
            }
        }
    }
}

fn enum_matches(c: &Option<(bool, u8)>, v: usize) -> bool {
    match c {
        None => true,
        Some((neg, bits)) => (bits & (1 << v) != 0) != *neg,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn gap_verdict_matches_brute_force(rows in prop::collection::vec((int_cell(), enum_cell()), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("schema.yaml"),
            "schema: t\nenums:\n  kind: [x, y, z]\nfields:\n  id: text\n  n: integer\n  k: kind\n",
        ).unwrap();
        let mut t = String::from("table: t\nhit: first\ninputs:\n  n: account.n\n  k: account.k\noutputs:\n  r: integer\nrows:\n");
        for (i, (ic, ec)) in rows.iter().enumerate() {
            t.push_str(&format!(
                "  - {{ id: r{i}, when: {{ n: \"{}\", k: \"{}\" }}, then: {{ r: {i} }} }}\n",
                ic.text(), enum_text(ec)
            ));
        }
        std::fs::write(dir.path().join("t.yaml"), &t).unwrap();
        let docs = arrears::model::load_dir(dir.path()).unwrap();
        let loaded = arrears::policy::build(&docs);
        prop_assert!(!loaded.has_errors(), "{t}");
        let program = &loaded.plan.as_ref().unwrap().program;
        let diags = arrears::analysis::analyse(program, &arrears::analysis::Context::default());
        let reported = diags.iter().any(|d| d.code == "table-gap");
        let brute = (-1i64..=22).any(|n| (0..3).any(|v| {
            !rows.iter().any(|(ic, ec)| ic.matches(n) && enum_matches(ec, v))
        }));
        prop_assert_eq!(reported, brute, "{}\n{:?}", t, diags.iter().map(|d| &d.message).collect::<Vec<_>>());
        // A reported counterexample really is uncovered.
        if let Some(d) = diags.iter().find(|d| d.code == "table-gap") {
            let m = &d.message;
            // A column the message leaves out is one no row tests: every value of it is uncovered.
            let ns: Vec<i64> = match m.split("n = ").nth(1) {
                Some(s) => vec![s.split([',', '`']).next().unwrap().parse().unwrap()],
                None => {
                    prop_assert!(rows.iter().all(|(ic, _)| matches!(ic, IntCell::Any)), "`n` left out of {m}\n{t}");
                    (-1..=22).collect()
                }
            };
            let vs: Vec<usize> = match m.split("k = ").nth(1) {
                Some(s) => vec![VARIANTS.iter().position(|x| s.starts_with(x)).unwrap()],
                None => {
                    prop_assert!(rows.iter().all(|(_, ec)| ec.is_none()), "`k` left out of {m}\n{t}");
                    (0..3).collect()
                }
            };
            for (&n, &v) in ns.iter().flat_map(|n| vs.iter().map(move |v| (n, v))) {
                prop_assert!(!rows.iter().any(|(ic, ec)| ic.matches(n) && enum_matches(ec, v)), "{m}\n{t}");
            }
        }
    }
}
