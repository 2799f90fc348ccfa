//! `arrears lint`: every fixture under `tests/fixtures/lint/<case>/` is a
//! small rules directory with one deliberate problem. Each case is linted
//! with `--format json` (first diagnostic: code, file, line, column) and in
//! the human format (snapshotted as `lint__<case>.snap`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint")
}

fn lint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arrears"))
        .arg("lint")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run arrears")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// 1-based line and character column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
}

/// Where a diagnostic must point: the first occurrence of `needle` in the
/// file, plus `skip` characters (bytes; the fixtures are ASCII), or a fixed
/// position.
enum At {
    Text(&'static str, usize),
    Fixed(usize, usize),
    Anywhere,
}

struct Case {
    name: &'static str,
    code: &'static str,
    file: &'static str,
    at: At,
    /// Text the message or help must contain.
    mentions: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "cell_syntax",
        code: "syntax",
        file: "entry.yaml",
        at: At::Text(r#"">== 5""#, 3),
        mentions: &["unexpected `=` after `>=`", "write `>=`"],
    },
    Case {
        name: "thousands_separator",
        code: "syntax",
        file: "entry.yaml",
        at: At::Text("1,000", 0),
        mentions: &["`1,000` has a thousands separator", "write `1000`"],
    },
    Case {
        name: "unknown_field",
        code: "unknown-field",
        file: "entry.yaml",
        at: At::Text("arears", 0),
        mentions: &["unknown field `arears`", "did you mean `arrears`?"],
    },
    Case {
        name: "money_vs_date",
        code: "type-mismatch",
        file: "entry.yaml",
        at: At::Text("2026-01-01", 0),
        mentions: &["money", "date"],
    },
    Case {
        name: "money_vs_number",
        code: "type-mismatch",
        file: "entry.yaml",
        at: At::Text(r#"arrears: ">= 5""#, 13),
        mentions: &[
            "cannot compare input `arrears` (money) with integer",
            "`$5`",
        ],
    },
    Case {
        name: "number_vs_money",
        code: "type-mismatch",
        file: "entry.yaml",
        at: At::Text(r#"dpd: "> $20""#, 8),
        mentions: &[
            "cannot compare input `dpd` (integer) with money",
            "without `$` or a currency code",
        ],
    },
    Case {
        name: "text_unquoted",
        code: "syntax",
        file: "entry.yaml",
        at: At::Text("seriously late", 10),
        mentions: &[
            "unexpected `late` after `seriously`",
            r#"text is written in double quotes inside the cell (in YAML: `'"seriously late"'`)"#,
        ],
    },
    Case {
        name: "duplicate_table",
        code: "duplicate-table",
        file: "entry_copy.yaml",
        at: At::Text("table: entry", 7),
        mentions: &[
            "a table named `entry` is already defined at duplicate_table/entry.yaml:1",
            "a copied file keeps its `table:` name",
        ],
    },
    Case {
        name: "unknown_variant",
        code: "unknown-variant",
        file: "entry.yaml",
        at: At::Text("FL", 0),
        mentions: &["`FL` is not a variant of `state`", "`CA`, `TX`, `NY`"],
    },
    Case {
        name: "unknown_table",
        code: "unknown-name",
        file: "entry.yaml",
        at: At::Text("region.state", 0),
        mentions: &[
            "unknown name `region`: no table has that name",
            "was its file deleted, or its `table:` renamed? The tables are `entry`",
        ],
    },
    Case {
        name: "misspelt_account",
        code: "unknown-name",
        file: "entry.yaml",
        at: At::Text("acount", 0),
        mentions: &["unknown name `acount`", "did you mean `account`?"],
    },
    Case {
        name: "pipeline_record_elsewhere",
        code: "unknown-name",
        file: "entry.yaml",
        at: At::Text("retreat", 0),
        mentions: &[
            "unknown name `retreat`",
            "the pipeline gives `retreat` only to the table the policy wires as `retreat`",
        ],
    },
    Case {
        name: "misspelt_table",
        code: "unknown-name",
        file: "entry.yaml",
        at: At::Text("dpd_buckt", 0),
        mentions: &[
            "unknown name `dpd_buckt`: no table has that name",
            "did you mean `dpd_bucket`?",
        ],
    },
    Case {
        name: "table_cycle",
        code: "table-cycle",
        file: "b.yaml",
        at: At::Text("a.out", 0),
        mentions: &["cycle"],
    },
    Case {
        name: "duplicate_row_id",
        code: "duplicate-row-id",
        file: "entry.yaml",
        at: At::Text("late\n    when: { dpd: \">= 1\"", 0),
        mentions: &["row id `late` is already used on line 10"],
    },
    Case {
        name: "unknown_column",
        code: "unknown-column",
        file: "entry.yaml",
        at: At::Text("arears", 0),
        mentions: &[
            "`arears` is not an input of table `entry`",
            "did you mean `arrears`?",
        ],
    },
    Case {
        name: "missing_output",
        code: "missing-output",
        file: "entry.yaml",
        at: At::Text("then: { level: high }", 0),
        mentions: &["no value for output `note`"],
    },
    Case {
        name: "unknown_hit",
        code: "hit-policy",
        file: "entry.yaml",
        at: At::Text("frist", 0),
        mentions: &["unknown hit policy `frist`", "did you mean `first`?"],
    },
    Case {
        name: "yaml_unquoted",
        code: "yaml",
        file: "entry.yaml",
        at: At::Text(">= 5", 0),
        mentions: &["block scalar", "must be quoted: \">= 5\""],
    },
    Case {
        name: "toml_syntax",
        code: "toml",
        file: "entry.toml",
        at: At::Text(">= 5", 0),
        mentions: &["expected `,`", "quoted string"],
    },
    Case {
        name: "unknown_function",
        code: "unknown-function",
        file: "entry.yaml",
        at: At::Text("maximum", 0),
        mentions: &["unknown function `maximum`", "did you mean `max`?"],
    },
    Case {
        name: "wrong_argument_types",
        code: "arguments",
        file: "entry.yaml",
        at: At::Text("days_between", 0),
        mentions: &["`days_between` cannot take (money, date)"],
    },
    Case {
        name: "bad_month_day",
        code: "arguments",
        file: "entry.yaml",
        at: At::Text("1301", 0),
        mentions: &["`1301` is no month and day", "401 for 1 April"],
    },
    Case {
        name: "bad_schema_type",
        code: "schema",
        file: "schema.yaml",
        at: At::Text("mony", 0),
        mentions: &["unknown type `mony`", "did you mean `money`?"],
    },
    Case {
        name: "no_schema",
        code: "no-schema",
        file: "entry.yaml",
        at: At::Fixed(1, 1),
        mentions: &["no schema"],
    },
    Case {
        name: "empty_file",
        code: "empty-file",
        file: "entry.yaml",
        at: At::Fixed(1, 1),
        mentions: &["rule file is empty"],
    },
    Case {
        name: "aggregate_misuse",
        code: "aggregate",
        file: "entry.yaml",
        at: At::Text("sum", 0),
        mentions: &["`aggregate` applies only to `hit: collect`, not `first`"],
    },
    Case {
        name: "currency_mismatch",
        code: "currency",
        file: "entry.yaml",
        at: At::Text("5 EUR", 0),
        mentions: &["`EUR` is not the schema's currency `USD`"],
    },
    Case {
        name: "retreat_fact_misspelt",
        code: "unknown-field",
        file: "retreatment.yaml",
        at: At::Text("promise_pendng", 0),
        mentions: &["promise_pendng", "did you mean `promise_pending`?"],
    },
    Case {
        name: "retreat_fact_type",
        code: "type-mismatch",
        file: "retreatment.yaml",
        at: At::Text(r#"'"yes"'"#, 1),
        mentions: &["bool", "text"],
    },
    Case {
        name: "mapping_misspelt_field",
        code: "mapping",
        file: "extract.yaml",
        at: At::Text("days_past_du", 0),
        mentions: &[
            "column `DPD` is mapped to `days_past_du`, which is not a scalar field",
            "did you mean `days_past_due`?",
        ],
    },
    Case {
        name: "toml_hit_integer",
        code: "hit-policy",
        file: "entry.toml",
        at: At::Text("1\n", 0),
        mentions: &[
            "unknown hit policy `1`",
            "hit policies: first, unique, priority, any, collect, rule_order",
        ],
    },
    Case {
        name: "date_with_slashes",
        code: "type-mismatch",
        file: "entry.yaml",
        at: At::Text("2026/11/22", 0),
        mentions: &[
            "with decimal",
            "write dates year first, with dashes: `2026-11-22`",
        ],
    },
    Case {
        name: "date_month_first",
        code: "type-mismatch",
        file: "entry.yaml",
        at: At::Text("11-22-2026", 0),
        mentions: &[
            "with integer",
            "write dates year first, with dashes: `2026-11-22`",
        ],
    },
    Case {
        name: "list_old_place",
        code: "unknown-field",
        file: "entry.yaml",
        at: At::Text("contacts where", 0),
        mentions: &[
            "unknown field `contacts` in `account.case`",
            "not read here: the list is `account.contacts`; write `account.contacts`",
        ],
    },
    Case {
        name: "alias_bomb",
        code: "yaml",
        file: "entry.yaml",
        at: At::Anywhere,
        mentions: &["budget", "alias bomb"],
    },
];

#[test]
fn every_fixture_has_a_case_and_every_case_a_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.name.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn json_first_diagnostic_is_the_deliberate_problem() {
    for case in CASES {
        let out = lint(&fixtures(), &[case.name, "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: exit code; stderr: {}",
            case.name,
            stderr(&out)
        );
        let json: serde_json::Value = serde_json::from_str(&stdout(&out))
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", case.name, stdout(&out)));
        let diags = json["diagnostics"].as_array().expect("diagnostics array");
        assert!(!diags.is_empty(), "{}: no diagnostics", case.name);
        assert_eq!(
            json["errors"].as_u64(),
            Some(diags.iter().filter(|d| d["severity"] == "error").count() as u64)
        );
        let first = &diags[0];
        assert_eq!(first["severity"], "error", "{}", case.name);
        assert_eq!(first["code"], case.code, "{}: {first:#}", case.name);
        let file = format!("{}/{}", case.name, case.file);
        assert_eq!(first["file"], file.as_str(), "{}", case.name);
        let expected = match case.at {
            At::Text(needle, skip) => {
                let text = std::fs::read_to_string(fixtures().join(&file)).unwrap();
                let offset = text
                    .find(needle)
                    .unwrap_or_else(|| panic!("{}: {needle:?} not in {file}", case.name));
                Some(line_col(&text, offset + skip))
            }
            At::Fixed(line, col) => Some((line, col)),
            At::Anywhere => None,
        };
        if let Some((line, column)) = expected {
            assert_eq!(
                (first["line"].as_u64(), first["column"].as_u64()),
                (Some(line as u64), Some(column as u64)),
                "{}: position of {first:#}",
                case.name
            );
        }
        let (line, col) = (
            first["line"].as_u64().unwrap(),
            first["column"].as_u64().unwrap(),
        );
        let (end_line, end_col) = (
            first["end_line"].as_u64().unwrap(),
            first["end_column"].as_u64().unwrap(),
        );
        assert!(
            (end_line, end_col) >= (line, col),
            "{}: span ends before it starts",
            case.name
        );
        let said = format!(
            "{} {}",
            first["message"].as_str().unwrap(),
            first["help"].as_str().unwrap_or("")
        );
        for m in case.mentions {
            assert!(
                said.contains(m),
                "{}: expected {m:?} in {said:?}",
                case.name
            );
        }
    }
}

#[test]
fn human_output_names_file_line_and_column() {
    for case in CASES {
        let out = lint(&fixtures(), &[case.name]);
        assert_eq!(out.status.code(), Some(1), "{}", case.name);
        assert_eq!(
            stderr(&out),
            "",
            "{}: lint findings go to stdout",
            case.name
        );
        let text = stdout(&out);
        // The grep-friendly header: `<case>/<file>:<line>:<col>: error[<code>]: ...`
        let header = text.lines().next().unwrap_or("");
        let prefix = format!("{}/{}:", case.name, case.file);
        assert!(
            header.starts_with(&prefix),
            "{}: header {header:?}",
            case.name
        );
        assert!(
            header.contains(&format!(": error[{}]: ", case.code)),
            "{}: header {header:?}",
            case.name
        );
        assert!(
            text.trim_end().contains(" error(s), 0 warning(s)")
                && text.trim_end().ends_with("fix the errors and lint again"),
            "{}: summary line",
            case.name
        );
        assert!(text
            .lines()
            .last()
            .unwrap()
            .starts_with(&format!("{}: ", case.name)));
        assert_snapshot!(case.name, text);
    }
}

/// The fixtures whose one mistake is reported alone: no knock-on of it
/// (a required field left without its column by a misspelt path) is said.
#[test]
fn one_mistake_is_one_error() {
    for name in [
        "mapping_misspelt_field",
        "toml_hit_integer",
        "date_with_slashes",
        "misspelt_table",
        "list_old_place",
    ] {
        let out = lint(&fixtures(), &[name, "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json["errors"], 1, "{name}: {json:#}");
    }
}

#[test]
fn yaml_alias_bomb_is_refused() {
    let out = lint(&fixtures(), &["alias_bomb", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("YAML budget exceeded"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn alias_bomb_message_is_readable() {
    let out = lint(&fixtures(), &["alias_bomb", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let message = json["diagnostics"][0]["message"].as_str().unwrap();
    assert_eq!(
        message.matches('(').count(),
        message.matches(')').count(),
        "unbalanced: {message:?}"
    );
    assert!(
        !message.contains("Nodes {"),
        "Debug formatting in {message:?}"
    );
    assert!(
        !message.contains(" at line "),
        "a second, different location in {message:?}"
    );
}

#[test]
fn shipped_rules_lint_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = lint(root, &["rules"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let docs = arrears::model::load_dir(&root.join("rules")).unwrap();
    assert_eq!(
        stdout(&out).lines().last().unwrap_or(""),
        format!(
            "rules: policy `collections`: {} tables, {} templates, {} experiments, no problems, 14 of 14 guard-rail invariants proven, 8 info(s) on what was not analysed",
            docs.tables.len(),
            docs.templates.len(),
            docs.experiments.len()
        )
    );
    let out = lint(root, &["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 0);
    assert_eq!(json["analysed"], true);
    // Every invariant of the shipped guard-rail packs is proven.
    let proven: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "invariants-proven")
        .collect();
    assert_eq!(proven.len(), 1);
    assert_eq!(
        proven[0]["message"],
        "14 of 14 guard-rail invariants proven"
    );
    // The other notes: the eight cells that compare with an account value, each named where it is
    // written (the span starts at the cell's opening quote).
    let notes: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] != "invariants-proven")
        .map(|d| {
            assert_eq!(
                (&d["code"], &d["severity"]),
                (&"unknown-cell".into(), &"info".into())
            );
            format!(
                "{}:{}:{}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"]
            )
        })
        .collect();
    // The cell `text` first written after `after` in the file.
    let cell_after = |file: &str, after: &str, text: &str| {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        let from = source.find(after).unwrap();
        let at = from + source[from..].find(text).unwrap();
        let line = source[..at].lines().count().max(1);
        let column = at - source[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{file}:{line}:{column}")
    };
    let cell = |file: &str, text: &str| cell_after(file, "", text);
    assert_eq!(
        notes,
        [
            cell("rules/entry.yaml", "\"> account.credit_limit * 10%\""),
            // A Breathing Space ends on a date the account gives.
            cell(
                "rules/guardrails/breathing_space.yaml",
                "\"< crisis_over_on\"",
            ),
            cell(
                "rules/guardrails/breathing_space.yaml",
                "\"< space_over_on\"",
            ),
            // The case's state against today's decisions: per account by nature.
            cell("rules/retreatment.yaml", "\"!= case_category\""),
            cell_after(
                "rules/retreatment.yaml",
                "id: promise-pending",
                "\"!= case_class\""
            ),
            cell_after(
                "rules/retreatment.yaml",
                "id: class-changed",
                "\"!= case_class\""
            ),
            cell(
                "rules/risk_segment.yaml",
                "\"> account.credit_limit * 90%\""
            ),
            cell("rules/sa_severance.yaml", "\">= today\""),
        ]
    );
}

#[test]
fn lint_defaults_to_the_rules_directory() {
    let out = lint(Path::new(env!("CARGO_MANIFEST_DIR")), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out)
        .lines()
        .last()
        .unwrap_or("")
        .starts_with("rules: "));
}

/// The acceptance check: break one cell of the shipped `entry.yaml`.
#[test]
fn broken_cell_in_shipped_entry_is_located() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    common::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    let offset = text
        .find(r#"">= 5""#)
        .expect("entry.yaml has a `\">= 5\"` cell");
    let broken = text.replacen(r#"">= 5""#, r#"">== 5""#, 1);
    assert_ne!(broken, text);
    std::fs::write(&entry, &broken).unwrap();
    // The bad character is the second `=`: quote, `>`, `=`, then it.
    let (line, col) = line_col(&broken, offset + 3);
    let (cell_line, _) = line_col(&broken, offset);
    assert_eq!(line, cell_line);

    let out = lint(tmp.path(), &["rules"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let human = stdout(&out);
    let header = format!("rules/entry.yaml:{line}:{col}: error[syntax]: ");
    assert!(
        human.starts_with(&header),
        "expected {header:?} in:\n{human}"
    );
    assert!(
        human.contains(r#"">== 5""#),
        "the source line is shown:\n{human}"
    );
    assert!(
        human
            .trim_end()
            .ends_with("rules: 1 error(s), 0 warning(s); the tables were not analysed (gaps, overlaps, unreachable rows), nor the guard-rail invariants proven or the test documents checked against the rules: fix the errors and lint again"),
        "{human}"
    );

    let out = lint(tmp.path(), &["rules", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["errors"], 1);
    assert_eq!(json["analysed"], false, "the analysis did not run");
    let d = &json["diagnostics"][0];
    assert_eq!(d["file"], "rules/entry.yaml");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(line as u64), Some(col as u64))
    );
    assert_eq!(d["code"], "syntax");
}

#[test]
fn unreadable_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = lint(tmp.path(), &["no-such-dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).starts_with("error: cannot read `no-such-dir`"),
        "{}",
        stderr(&out)
    );
    std::fs::write(tmp.path().join("file.yaml"), "schema: x\n").unwrap();
    let out = lint(tmp.path(), &["file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`file.yaml` is not a directory of rule files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn several_problems_are_all_reported_sorted() {
    // One directory, problems in two files: every one is reported, sorted by file then position.
    let tmp = tempfile::tempdir().unwrap();
    for case in ["unknown_field", "unknown_hit"] {
        let dir = fixtures().join(case);
        std::fs::copy(
            dir.join("entry.yaml"),
            tmp.path().join(format!("{case}.yaml")),
        )
        .unwrap();
        std::fs::copy(dir.join("schema.yaml"), tmp.path().join("schema.yaml")).unwrap();
    }
    let out = lint(tmp.path(), &[".", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"unknown-field") && codes.contains(&"hit-policy"),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"duplicate-table"),
        "both files define `entry`: {codes:?}"
    );
    let keys: Vec<(String, u64, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

/// A misspelt reference is the error to fix: it comes first, and the thing it
/// was meant to name is not also reported `unused` (a follow-on that would
/// vanish with the fix). Errors come before warnings, in text and JSON.
#[test]
fn misspelt_reference_comes_first_without_a_follow_on_unused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/follow_ons");
    for (name, meant) in [
        ("misspelt_template", "template `std`"),
        ("misspelt_experiment", "experiment `a_letters`"),
    ] {
        let out = lint(&dir, &[name]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let text = stdout(&out);
        let first = text.lines().next().unwrap_or("");
        assert!(
            first.contains("error[unknown-reference]"),
            "{name}: first line {first:?}"
        );
        assert!(text.contains("did you mean `"), "{name}: {text}");
        assert!(
            !text.contains(meant),
            "{name}: follow-on about {meant}:\n{text}"
        );
        assert_snapshot!(name, text);
        let json = lint(&dir, &[name, "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
        let diags = json["diagnostics"].as_array().unwrap();
        assert_eq!(diags[0]["code"], "unknown-reference", "{name}: {diags:?}");
        assert!(
            diags
                .iter()
                .all(|d| !d["message"].as_str().unwrap().contains(meant)),
            "{name}: {diags:?}"
        );
    }
}

/// Within one run errors come before warnings and warnings before infos, in
/// every lint and analysis fixture (JSON order is the text order).
#[test]
fn errors_come_before_warnings_before_infos() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let rank = |s: &str| match s {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    };
    let mut checked = 0;
    for group in ["lint", "analysis", "follow_ons"] {
        for entry in std::fs::read_dir(root.join(group)).unwrap() {
            let dir = entry.unwrap().path();
            let out = lint(&dir, &[".", "--format", "json"]);
            let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
            let ranks: Vec<u8> = json["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| rank(d["severity"].as_str().unwrap()))
                .collect();
            assert!(
                ranks.windows(2).all(|w| w[0] <= w[1]),
                "{}: severities out of order: {ranks:?}",
                dir.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} fixtures");
}
