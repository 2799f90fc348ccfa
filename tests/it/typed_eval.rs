//! The typed row sets (`lang::compile::RowBits`) decide exactly what matching
//! every row cell by cell decides (`eval::Tables::reference`, the reference
//! interpreter): the same decisions and the same errors, on the shipped rules
//! over sample and generated accounts, on random tables of every column kind
//! (enum, bool, integer, money, date, text, a nested field, per-account operands, null,
//! negation, every hit policy, `for_each` items) over random accounts, and on the shared bench
//! workload's rules when that workload is present.

use std::path::Path;

use arrears::data::generate::{json_line, Generator};
use arrears::eval::{EvalError, Evaluation, Tables};
use arrears::lang::compile::Plan;
use arrears::types::Value;
use chrono::NaiveDate;
use proptest::prelude::*;

use crate::common::root;

fn typed(plan: &Plan, account: &Value, as_of: NaiveDate) -> Result<Evaluation, EvalError> {
    let mut t = Tables::new(plan, account, as_of, false);
    t.require_all()?;
    Ok(t.evaluation)
}

fn reference(plan: &Plan, account: &Value, as_of: NaiveDate) -> Result<Evaluation, EvalError> {
    let mut t = Tables::reference(plan, account, as_of);
    t.require_all()?;
    Ok(t.evaluation)
}

#[test]
fn shipped_rules_agree_with_the_reference_on_every_account() {
    let loaded = arrears::policy::load(&root().join("rules")).expect("rules load");
    let plan = &loaded.policy.as_ref().expect("shipped policy").plan;
    let with_sets = plan.tables.iter().filter(|t| t.bits.is_some()).count();
    assert!(
        with_sets >= plan.tables.len() / 2,
        "{with_sets} tables with row sets"
    );
    let mut accounts: Vec<serde_json::Value> =
        ["samples/accounts.yaml", "samples/scenarios/accounts.yaml"]
            .iter()
            .flat_map(|f| arrears::data::accounts::read_accounts(&root().join(f)).unwrap())
            .filter_map(|r| r.json.ok())
            .collect();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let mut generator = Generator::new(17, as_of);
    accounts.extend(
        (0..20_000)
            .map(|_| serde_json::from_str(&json_line(&generator.account(), None)).expect("json")),
    );
    let (mut decided, mut failed) = (0, 0);
    for date in ["2026-01-15", "2026-11-22"] {
        let as_of: NaiveDate = date.parse().unwrap();
        for (i, json) in accounts.iter().enumerate() {
            let account = arrears::data::snapshot::decode_account(plan.schema(), json).unwrap();
            let got = typed(plan, &account, as_of);
            assert_eq!(
                got,
                reference(plan, &account, as_of),
                "account #{i} as of {date}"
            );
            match got {
                Ok(e) => decided += e.decisions.len(),
                Err(_) => failed += 1,
            }
        }
    }
    assert!(
        decided > 100_000 && failed < accounts.len(),
        "{decided} {failed}"
    );
}

const SCHEMA: &str = "schema: typed
currency: USD
id: id
enums:
  colour: [red, green, blue, grey]
fields:
  id: text
  colour: colour
  shade: colour?
  flag: bool?
  n: integer?
  m: integer
  amount: money?
  limit: money
  due: date?
  name: text?
  sub?:
    tone: colour?
  items?:
    - id: text
      amount: money?
      flag: bool
      kind: colour?
      due: date?
";

/// The random tables' columns: name and input expression. The last three
/// are computed: a ratio that divides by zero when `account.m` is 0, a sum
/// that overflows when two items hold huge amounts (both can fail, so they
/// are computed only where a row reaches them), and a count that cannot fail
/// (left in the row sets, computed when they need it).
/// The last three read the item of a `for_each` table (`i in account.items`),
/// and are left out of the others: its amount, its flag and a ratio computed
/// from it that divides by zero when `account.m` is 0.
const COLUMNS: [(&str, &str); 14] = [
    ("colour", "account.colour"),
    ("flag", "account.flag"),
    ("n", "account.n"),
    ("amount", "account.amount"),
    ("due", "account.due"),
    ("name", "account.name"),
    ("shade", "account.shade"),
    // A field of a record of the account (read through its path).
    ("tone", "account.sub.tone"),
    ("ratio", "100 / account.m"),
    ("total", "sum(i in account.items : i.amount)"),
    ("flagged", "count(i in account.items where i.flag)"),
    ("iamount", "i.amount"),
    ("iflag", "i.flag"),
    ("iratio", "i.amount / account.m"),
];

/// The columns that read a `for_each` table's item.
const ITEM_COLUMNS: usize = 3;

/// Cells per column kind, from which the random tables draw (`-` most often).
const CELLS: [&[&str]; 14] = [
    // colour (enum)
    &[
        "-",
        "-",
        "red",
        "red, blue",
        "not(green)",
        "null",
        "not(red, null)",
    ],
    // flag (bool)
    &["-", "-", "true", "false", "null", "not(true)"],
    // n (integer): constants and a per-account operand
    &[
        "-",
        "-",
        "< 3",
        ">= 10",
        "[3..10]",
        "(3..10)",
        "!= 5",
        "5",
        "null",
        "> account.m",
        "not([0..4])",
        "> 10 / (account.m - 2)",
        // Another input, computed.
        "< flagged",
    ],
    // amount (money)
    &[
        "-",
        "-",
        "< $25",
        ">= $1000",
        "[$25..$100.50]",
        "$0.01",
        "> account.limit",
        "not(< $5)",
        "null",
        // Another input, computed (it can fail).
        "<= total",
    ],
    // due (date)
    &[
        "-",
        "-",
        "< 2026-11-01",
        ">= 2026-11-22",
        "[2026-11-01..2026-11-30]",
        "null",
        "> as_of",
    ],
    // name (text): always row by row
    &["-", "-", "\"ann\"", "\"ann\", \"bob\"", "null"],
    // shade (enum) compared with an account value
    &["-", "-", "grey", "account.colour", "not(account.colour)"],
    // tone (enum, a nested field, missing when `sub` is)
    &["-", "-", "blue", "red, grey", "not(green)", "null"],
    // ratio (decimal, computed, can fail)
    &["-", "-", "> 20", "<= 50", "[20..34]", "null", "> account.n"],
    // total (money, computed, can fail)
    &["-", "-", "< $25", ">= $1000", "null", "$0"],
    // flagged (integer, computed, cannot fail)
    &["-", "-", "0", ">= 1", "[1..2]", "< account.m"],
    // iamount (money, the item's)
    &[
        "-",
        "-",
        "< $25",
        ">= $1000",
        "null",
        "> account.limit",
        "[$5..i.amount]",
    ],
    // iflag (bool, the item's)
    &["-", "-", "true", "false"],
    // iratio (money, computed from the item, can fail)
    &["-", "-", "> $20", "<= $50", "null", "< account.limit"],
];

/// A random table: its hit policy (`collect+sum`: `collect` with an
/// aggregate), per row one cell index per column and how its outputs are
/// written ([`write_table`]), the columns' order, whether it is a `for_each`
/// table, and whether its cells are only those the row sets decide alone.
type RandomTable = (String, Vec<(Vec<usize>, u8)>, Vec<usize>, bool, bool);

/// Whether the row sets decide a cell alone: a constant test of a column
/// they index (not text, not a per-account operand).
fn decided_by_sets(column: usize, cell: &str) -> bool {
    COLUMNS[column].0 != "name"
        && !["account", "as_of", "i.", "flagged", "total"]
            .iter()
            .any(|s| cell.contains(s))
}

fn table_strategy() -> impl Strategy<Value = RandomTable> {
    let hit = prop_oneof![
        Just("first"),
        Just("unique"),
        Just("any"),
        Just("collect"),
        Just("rule_order"),
        Just("priority"),
        Just("collect+sum"),
        Just("collect+count"),
        Just("collect+min"),
        Just("collect+max"),
    ];
    let cells = CELLS.iter().map(|c| 0..c.len()).collect::<Vec<_>>();
    // A quarter of the rows test two columns at most, so that under `first`
    // a row often matches before later rows that test a computed input.
    let row = (
        cells,
        // The second of them an item's column (left out but for `for_each`).
        prop::option::weighted(
            0.25,
            (
                0..COLUMNS.len(),
                COLUMNS.len() - ITEM_COLUMNS..COLUMNS.len(),
            ),
        ),
    )
        .prop_map(|(cells, sparse)| match sparse {
            None => cells,
            Some((a, b)) => cells
                .iter()
                .enumerate()
                .map(|(c, &k)| if c == a || c == b { k } else { 0 })
                .collect(),
        });
    (
        hit.prop_map(str::to_string),
        prop::collection::vec((row, 0..16u8), 1..150),
        // The columns' order in the table, so that the computed ones come
        // anywhere.
        Just((0..COLUMNS.len()).collect::<Vec<_>>()).prop_shuffle(),
        prop::bool::weighted(0.5),
        // Tables the sets decide alone (their cells at other tests become
        // `-`): decided without collecting the inputs.
        prop::bool::weighted(0.5),
    )
}

fn write_table(
    dir: &Path,
    hit: &str,
    rows: &[(Vec<usize>, u8)],
    order: &[usize],
    for_each: bool,
    sets_only: bool,
) {
    // A `for_each` table tests its item first, so that the row sets often
    // decide on it.
    let first = COLUMNS.len() - ITEM_COLUMNS;
    let items = (first..COLUMNS.len()).filter(|_| for_each);
    let order: Vec<usize> = items
        .chain(order.iter().copied().filter(|&c| c < first))
        .collect();
    let inputs: String = order
        .iter()
        .map(|&c| format!("  {}: '{}'\n", COLUMNS[c].0, COLUMNS[c].1))
        .collect();
    let each = if for_each {
        "for_each: i in account.items\n"
    } else {
        ""
    };
    let (hit, aggregate) = match hit.split_once('+') {
        Some((hit, aggregate)) => (hit, format!("aggregate: {aggregate}\n")),
        None => (hit, String::new()),
    };
    let single = !aggregate.is_empty();
    let outputs = match single {
        true => "  out: integer\n",
        false => "  out: integer\n  rank: colour\n",
    };
    let mut t = format!(
        "table: t\nhit: {hit}\n{aggregate}{each}inputs:\n{inputs}outputs:\n{outputs}rows:\n"
    );
    for (r, (cells, outputs)) in rows.iter().enumerate() {
        let when: Vec<String> = order
            .iter()
            .map(|&c| {
                let cell = CELLS[c][cells[c]];
                match sets_only && !decided_by_sets(c, cell) {
                    true => format!("{}: '-'", COLUMNS[c].0),
                    false => format!("{}: '{cell}'", COLUMNS[c].0),
                }
            })
            .collect();
        // Most outputs constants; some computed per account, a null, and a
        // number that overflows a sum.
        let out = match outputs {
            0 => "account.m * 100".to_string(),
            1 => "9223372036854775807".to_string(),
            2 => "null".to_string(),
            _ => r.to_string(),
        };
        let rank = match outputs {
            3 => "account.colour",
            _ => ["red", "green", "blue", "grey"][r % 4],
        };
        let then = match single {
            true => format!("out: \"{out}\""),
            false => format!("out: \"{out}\", rank: {rank}"),
        };
        t.push_str(&format!(
            "  - id: r{r}\n    when: {{ {} }}\n    then: {{ {then} }}\n",
            when.join(", ")
        ));
    }
    if !rows.len().is_multiple_of(3) && !matches!(hit, "collect" | "rule_order") {
        match rows.len() % 5 {
            // A default computed per account.
            0 => t.push_str("default: { out: \"account.m\", rank: grey }\n"),
            _ => t.push_str("default: { out: \"-1\", rank: grey }\n"),
        }
    }
    std::fs::write(dir.join("t.yaml"), t).unwrap();
}

fn account_strategy() -> impl Strategy<Value = serde_json::Value> {
    let colour = prop_oneof![Just("red"), Just("green"), Just("blue"), Just("grey")];
    let money = prop_oneof![
        Just("0.00"),
        Just("0.01"),
        Just("4.99"),
        Just("5.00"),
        Just("24.99"),
        Just("25.00"),
        Just("100.50"),
        Just("100.51"),
        Just("999.99"),
        Just("1000.00"),
        Just("3000.00"),
        // Scales other than cents, and a negative zero: a result's scale shows in outputs.
        Just("5"),
        Just("4.995"),
        Just("-0.00"),
        Just("-12.5")
    ];
    (
        (colour.clone(), prop::option::of(colour.clone()), prop::option::of(any::<bool>())),
        (prop::option::of(-2i64..14), 0i64..6),
        (prop::option::of(money.clone()), money.clone()),
        prop::option::of(0i64..60),
        (
            prop::option::of(prop_oneof![Just("ann"), Just("bob"), Just("cy")]),
            prop::option::of(prop::option::of(colour.clone())),
        ),
        // Sometimes no list at all (null).
        prop::option::weighted(
            0.9,
            prop::collection::vec(
                (
                    prop::option::of(prop_oneof![
                        8 => money.clone(),
                        1 => Just("79228162514264337593543950.33")
                    ]),
                    any::<bool>(),
                    prop::option::of(colour.clone()),
                    prop::option::of(0i64..60),
                ),
                0..4,
            ),
        ),
    )
        .prop_map(|((colour, shade, flag), (n, m), (amount, limit), due, (name, sub), items)| {
            let items: Option<Vec<serde_json::Value>> = items.map(|items| items
                .iter()
                .enumerate()
                .map(|(k, (amount, flag, kind, due))| {
                    serde_json::json!({
                        "id": format!("I{k}"),
                        "amount": amount.map(|a| serde_json::Number::from_string_unchecked(a.to_string())),
                        "flag": flag,
                        "kind": kind,
                        "due": due.map(|d| (NaiveDate::from_ymd_opt(2026, 10, 20).unwrap() + chrono::Days::new(d as u64)).to_string()),
                    })
                })
                .collect());
            let due = due.map(|d| {
                (NaiveDate::from_ymd_opt(2026, 10, 20).unwrap() + chrono::Days::new(d as u64))
                    .to_string()
            });
            serde_json::json!({
                "id": "A1", "colour": colour, "shade": shade, "flag": flag, "n": n, "m": m,
                "amount": amount.map(|a| serde_json::Number::from_string_unchecked(a.to_string())),
                "limit": serde_json::Number::from_string_unchecked(limit.to_string()),
                "due": due, "name": name, "items": items,
                "sub": sub.map(|tone| serde_json::json!({ "tone": tone })),
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Random tables of every column kind and hit policy, random accounts:
    /// the row sets and the reference give the same decisions and errors.
    #[test]
    fn random_tables_agree_with_the_reference(
        (hit, rows, order, for_each, sets_only) in table_strategy(),
        accounts in prop::collection::vec(account_strategy(), 64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
        write_table(dir.path(), &hit, &rows, &order, for_each, sets_only);
        let checked = arrears::load_rules(dir.path()).unwrap();
        let messages: Vec<&str> = checked.diagnostics.iter().map(|d| d.message.as_str()).collect();
        let program = checked.program.unwrap_or_else(|| panic!("{messages:?}"));
        let plan = arrears::lang::compile::compile(program);
        // A table of only text and `-` cells has no row sets: not this test's case.
        prop_assume!(plan.tables[0].bits.is_some());
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for json in &accounts {
            let account = arrears::data::snapshot::decode_account(plan.schema(), json).unwrap();
            prop_assert_eq!(typed(&plan, &account, as_of), reference(&plan, &account, as_of));
        }
    }
}

/// The shared bench workload (`../shared/bench`, or `ARREARS_BENCH_WORKLOAD`)
/// is not part of this repository (its README states no licence); where it
/// and its generated accounts (`cargo bench --bench workload` makes them) are
/// present, its rules agree with the reference on the first 200,000 accounts.
#[test]
fn bench_workload_rules_agree_with_the_reference() {
    let workload = std::env::var_os("ARREARS_BENCH_WORKLOAD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/bench"));
    let accounts = root().join("target/bench-data/accounts-1000000-42.jsonl");
    if !workload.join("collections-rules").is_dir() || !accounts.is_file() {
        eprintln!("bench workload not present: skipped");
        return;
    }
    let loaded = arrears::policy::load(&workload.join("collections-rules")).unwrap();
    let plan = &loaded.policy.as_ref().expect("bench policy").plan;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let text = std::fs::read_to_string(&accounts).unwrap();
    for (i, line) in text.lines().take(200_000).enumerate() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let account = arrears::data::snapshot::decode_account(plan.schema(), &json).unwrap();
        assert_eq!(
            typed(plan, &account, as_of),
            reference(plan, &account, as_of),
            "account #{i}"
        );
    }
}

/// A table whose sets would take long to build (3,000 rows, 6,000 distinct
/// bounds in its first column) keeps its row index instead, and still decides
/// as the reference does.
#[test]
fn a_table_too_costly_for_row_sets_keeps_its_row_index() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
    let mut t = String::from(
        "table: bands\nhit: first\ninputs:\n  n: account.n\n  colour: account.colour\noutputs:\n  band: integer\nrows:\n",
    );
    for i in 0..3000 {
        t.push_str(&format!(
            "- {{id: r{i}, when: {{n: \"[{}..{}]\", colour: red}}, then: {{band: \"{i}\"}}}}\n",
            i * 10,
            i * 10 + 9
        ));
    }
    t.push_str("default: { band: \"-1\" }\n");
    std::fs::write(dir.path().join("bands.yaml"), t).unwrap();
    let plan =
        arrears::lang::compile::compile(arrears::load_rules(dir.path()).unwrap().program.unwrap());
    assert!(plan.tables[0].bits.is_none() && plan.tables[0].index.is_some());
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for n in [0, 9, 10, 15_000, 29_999, 30_000] {
        let json = serde_json::json!({"id": "A", "colour": "red", "m": 1, "limit": "0", "n": n});
        let account = arrears::data::snapshot::decode_account(plan.schema(), &json).unwrap();
        let got = typed(&plan, &account, as_of).unwrap();
        assert_eq!(Ok(got.clone()), reference(&plan, &account, as_of));
        let band = plan.result(&got.decisions[0])[0].clone();
        assert_eq!(band, Value::Int(if n < 30_000 { n / 10 } else { -1 }));
    }
}

/// Random expressions of every kind the compiler specialises (arithmetic,
/// comparisons, `and` / `or` / `not`, `min` / `max` / `abs` / `round` /
/// `days_between`, account fields, `as_of`, constants, nulls): typed
/// generators, so that every expression checks.
fn money_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("account.amount".to_string()),
        Just("account.limit".to_string()),
        Just("$5".to_string()),
        Just("$0.01".to_string()),
        Just("$79228162514264337593543950.33".to_string()),
        Just("(account.amount + $0.005)".to_string()),
        Just("(account.limit * (account.n * 1.5))".to_string()),
        Just("sum(i in account.items : i.amount)".to_string()),
        Just("max(i in account.items where i.flag : i.amount * 2)".to_string()),
        // Comprehensions and projections compiled to read the items in place.
        Just("sum(account.items.amount)".to_string()),
        Just("min(account.items.amount)".to_string()),
        Just("sum(i in account.items where i.flag and i.amount > $25 : i.amount)".to_string()),
        Just("max(i in account.items where not(i.flag) : i.amount - account.limit)".to_string()),
        Just("sum(i in account.items where i.id = \"I1\" : i.amount * account.m)".to_string()),
        Just("min(i in account.items : max(i.amount, account.amount))".to_string()),
        // Filters tested in place: a variant, an amount, `and` / `or`, a null.
        Just("sum(i in account.items where i.kind = red : i.amount)".to_string()),
        Just(
            "max(sum(i in account.items where i.kind = red : i.amount), sum(i in account.items where i.kind = blue : i.amount), $0)"
                .to_string()
        ),
        // Comprehensions over one list: a fallible operand between them, a
        // sum that overflows, projections.
        Just(
            "max(sum(i in account.items where i.kind = red : i.amount), (account.amount / account.m), sum(i in account.items : i.amount), min(account.items.amount))"
                .to_string()
        ),
        Just("(sum(i in account.items where i.flag : i.amount) - sum(account.items.amount))".to_string()),
        Just("min(max(i in account.items where i.kind != blue : i.amount), sum(i in account.items where i.amount > $5 : i.amount))".to_string()),
        Just("sum(i in account.items where i.kind != green and i.amount > $4.99 : i.amount)".to_string()),
        Just("max(i in account.items where i.kind = null or i.flag : i.amount)".to_string()),
        Just("min(i in account.items where i.amount <= account.limit : i.amount)".to_string()),
        Just("sum(i in account.items where i.flag : i.amount * 79228162514264337593543950.0)".to_string()),
        // Not read in place (the inner comprehension reads the outer item).
        Just(
            "sum(i in account.items where count(j in account.items where j.amount = i.amount) > 1 : i.amount)"
                .to_string()
        ),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            inner.clone().prop_map(|a| format!("({a} * 5%)")),
            (inner.clone(), int_leaf()).prop_map(|(a, n)| format!("({a} * {n})")),
            (inner.clone(), int_leaf()).prop_map(|(a, n)| format!("({a} / {n})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("min({a}, {b}, {c})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            inner.clone().prop_map(|a| format!("round({a}, 1)")),
            inner.prop_map(|a| format!("-{a}")),
        ]
    })
}

fn int_leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("account.n".to_string()),
        Just("account.m".to_string()),
        Just("3".to_string()),
        Just("(account.m - 2)".to_string()),
        Just("days_between(account.due, as_of)".to_string()),
        Just("(count(i in account.items where i.flag) + count(account.items.amount))".to_string()),
    ]
}

fn bool_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("account.flag".to_string()),
        (money_expr(), money_expr(), 0..6usize).prop_map(|(a, b, op)| {
            format!("{a} {} {b}", ["<", "<=", ">", ">=", "=", "!="][op])
        }),
        (int_leaf(), int_leaf()).prop_map(|(a, b)| format!("{a} < {b}")),
        Just("account.due + 3 days >= as_of".to_string()),
        Just("account.colour = account.shade".to_string()),
        Just("any(i in account.items : i.amount > account.limit)".to_string()),
        Just("count(i in account.items where not(i.flag)) >= 2".to_string()),
        Just("all(i in account.items : i.flag or i.amount = null)".to_string()),
        Just("any(account.items.flag)".to_string()),
        Just("all(account.items.flag)".to_string()),
        Just("count(account.items.amount) > account.m".to_string()),
        Just(
            "any(i in account.items : days_between(account.due, as_of) > account.m and i.flag)"
                .to_string()
        ),
        Just("count(i in account.items where i.amount >= $100 or i.amount = null) = 1".to_string()),
        Just("any(i in account.items : i.amount > $5)".to_string()),
        Just("any(i in account.items : i.kind = red) != all(account.items.flag)".to_string()),
        Just("any(i in account.items where i.flag : days_between(i.due, as_of) > 3)".to_string()),
        Just("any(i in account.items : i.due >= as_of)".to_string()),
        Just("count(i in account.items where i.kind = red and days_between(i.due, as_of) <= 30) > 0".to_string()),
        Just("max(i in account.items : i.due) > account.due".to_string()),
        Just("all(i in account.items where i.kind = red : i.flag)".to_string()),
        Just("all(i in account.items : i.amount != $0)".to_string()),
        Just("count(i in account.items where i.kind != blue) >= 1".to_string()),
        Just("count(i in account.items : i.flag and i.kind = grey) = 0".to_string()),
        Just("any(i in account.items : i.kind = red or i.amount <= $0.01)".to_string()),
        Just("any(i in account.items : not(i.flag))".to_string()),
        Just("any(i in account.items where days_between(account.due, as_of) > 3 : i.flag)".to_string()),
        Just("all(i in account.items : days_between(account.due, as_of) < account.n)".to_string()),
        // A later item's error is raised even when an earlier one decided.
        Just(
            "any(i in account.items : i.flag or i.amount * 79228162514264337593543950.0 > $1)"
                .to_string()
        ),
        Just(
            "all(i in account.items : not(i.flag) and i.amount * 79228162514264337593543950.0 > $1)"
                .to_string()
        ),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A table's computed inputs run as compiled code (`lang::compile::Code`):
    /// over random accounts each gives exactly the value, or the error, that
    /// walking its expression's tree gives (`semantics::eval_standalone`).
    #[test]
    fn compiled_expressions_agree_with_the_tree_walk(
        money in money_expr(),
        condition in bool_expr(),
        accounts in prop::collection::vec(account_strategy(), 32),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
        let table = format!(
            // The outputs read every input, in order, so all are computed.
            "table: t\nhit: first\ninputs:\n  x: '{money}'\n  c: '{condition}'\n  d: days_between(account.due, as_of) * account.m\noutputs:\n  xo: money\n  co: bool\n  do: integer\nrows:\n  - id: r\n    when: {{}}\n    then: {{ xo: x, co: c, do: d }}\n"
        );
        std::fs::write(dir.path().join("t.yaml"), &table).unwrap();
        let checked = arrears::load_rules(dir.path()).unwrap();
        let messages: Vec<&str> = checked.diagnostics.iter().map(|d| d.message.as_str()).collect();
        let program = checked.program.unwrap_or_else(|| panic!("{table}\n{messages:?}"));
        let plan = arrears::lang::compile::compile(program);
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for json in &accounts {
            let account = arrears::data::snapshot::decode_account(plan.schema(), json).unwrap();
            let walked: Result<Vec<Value>, _> = plan.tables[0]
                .table
                .inputs
                .iter()
                .map(|i| arrears::lang::semantics::eval_standalone(&i.expr, &account, as_of, &[]))
                .collect();
            let mut tables = Tables::new(&plan, &account, as_of, true);
            match (tables.require(0), walked) {
                (Ok(()), Ok(walked)) => {
                    let walked: Vec<Option<Value>> = walked.into_iter().map(Some).collect();
                    prop_assert_eq!(&tables.evaluation.trace[0].inputs, &walked, "{}", table);
                    // `Value`'s equality says 1.0 = 1.00; outputs show the scale (and a zero's sign).
                    prop_assert_eq!(
                        format!("{:?}", tables.evaluation.trace[0].inputs),
                        format!("{walked:?}"),
                        "{}",
                        table
                    );
                }
                (Err(e), Err(kind)) => prop_assert_eq!(e.kind, kind, "{}", table),
                (got, walked) => prop_assert!(false, "{table}: {got:?} vs {walked:?}"),
            }
        }
    }
}

/// A table's computed inputs that are comprehensions over one list, and
/// operations of several of them: each what the reference computes, sums
/// that overflow (a huge amount, often) raising the same error when read
/// and not before, projections and a null list included. Rows test one
/// input each, in random order, so that any of them is computed first.
const LIST_INPUTS: [(&str, &str, &[&str]); 8] = [
    ("s", "sum(i in account.items : i.amount)", &["> $5", "<= $0", "null"]),
    ("r", "sum(i in account.items where i.kind = red : i.amount)", &["> $5", "$0"]),
    ("c", "count(i in account.items where i.flag)", &[">= 1", "0"]),
    ("a", "any(i in account.items : i.due >= as_of)", &["true", "false", "null"]),
    ("p", "sum(account.items.amount)", &["> $5", "null"]),
    (
        "m",
        "max(sum(i in account.items where i.kind = red : i.amount), sum(i in account.items where i.kind != red : i.amount), $0)",
        &["> $5", "$0"],
    ),
    (
        "d",
        "min(sum(i in account.items where i.flag : i.amount), sum(i in account.items : i.amount))",
        &["< $5", "null"],
    ),
    (
        "k",
        "(count(i in account.items where i.flag) + count(account.items.amount))",
        &["> 2", "0"],
    ),
];

fn list_account() -> impl Strategy<Value = serde_json::Value> {
    let amount = prop_oneof![
        Just(Some("1.00")),
        Just(Some("5")),
        Just(Some("-0.00")),
        Just(Some("79228162514264337593543950335")),
        Just(None),
    ];
    let colour = prop_oneof![Just(Some("red")), Just(Some("blue")), Just(None)];
    let item = (amount, any::<bool>(), colour, prop::option::of(0u64..60));
    prop::option::weighted(0.9, prop::collection::vec(item, 0..4)).prop_map(|items| {
        let items = items.map(|items| {
            items
                .into_iter()
                .enumerate()
                .map(|(k, (amount, flag, kind, due))| {
                    serde_json::json!({
                        "id": format!("I{k}"),
                        "amount": amount.map(|a| serde_json::Number::from_string_unchecked(a.to_string())),
                        "flag": flag,
                        "kind": kind,
                        "due": due.map(|d| (NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Days::new(d)).to_string()),
                    })
                })
                .collect::<Vec<_>>()
        });
        serde_json::json!({
            "id": "A1", "colour": "red", "m": 1,
            "limit": serde_json::Number::from_string_unchecked("10.00".to_string()),
            "items": items,
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn comprehensions_over_one_list_agree_with_the_reference(
        rows in prop::collection::vec((0..LIST_INPUTS.len(), 0..3usize, 0..LIST_INPUTS.len()), 1..10),
        hit in prop_oneof![Just("first"), Just("rule_order")],
        accounts in prop::collection::vec(list_account(), 24),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schema.yaml"), SCHEMA).unwrap();
        let inputs: String = LIST_INPUTS
            .iter()
            .map(|(name, e, _)| format!("  {name}: '{e}'\n"))
            .collect();
        let mut table = format!(
            "table: t\nhit: {hit}\ninputs:\n{inputs}outputs:\n  out: integer\n  v: money\nrows:\n"
        );
        for (r, &(input, cell, shown)) in rows.iter().enumerate() {
            let (name, _, cells) = LIST_INPUTS[input];
            // The output shows a money input (an error if it overflows).
            let shown = ["s", "r", "p", "m", "d"][shown % 5];
            table.push_str(&format!(
                "  - id: r{r}\n    when: {{ {name}: '{}' }}\n    then: {{ out: \"{r}\", v: {shown} }}\n",
                cells[cell % cells.len()]
            ));
        }
        if hit == "first" {
            table.push_str("default: { out: \"-1\", v: $0 }\n");
        }
        std::fs::write(dir.path().join("t.yaml"), &table).unwrap();
        let checked = arrears::load_rules(dir.path()).unwrap();
        let messages: Vec<&str> = checked.diagnostics.iter().map(|d| d.message.as_str()).collect();
        let program = checked.program.unwrap_or_else(|| panic!("{table}\n{messages:?}"));
        let plan = arrears::lang::compile::compile(program);
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        for json in &accounts {
            let account = arrears::data::snapshot::decode_account(plan.schema(), json).unwrap();
            // Debug output shows a decimal's scale and a zero's sign.
            prop_assert_eq!(
                format!("{:?}", typed(&plan, &account, as_of)),
                format!("{:?}", reference(&plan, &account, as_of)),
                "{}\n{}", table, json
            );
        }
    }
}
