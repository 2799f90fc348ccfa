//! `arrears lint` table analysis: one fixture per finding, each a tiny schema
//! and table in `tests/fixtures/analysis/<case>/`, with a snapshot of the
//! rendered diagnostics and assertions on codes and counterexamples.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;

use crate::common;

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
    assert_snapshot!(name, out);
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
    case("date_gap", &["table-gap"], &["e.g. `due = 2026-12-01`"], 1);
}

#[test]
fn dynamic_not_analysed() {
    case(
        "dynamic_not_analysed",
        &["not-analysed", "not-analysed", "unknown-cell", "unknown-cell"],
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
        // The fixture's policy has no guard-rail pack either.
        &["unused-table", "no-guardrails"],
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

/// A table with a default and an account-dependent cell is still analysed:
/// the dependent cell is named (info at its file:line:col), the other rows are
/// checked, and no row is reported hidden by the dependent cell.
#[test]
fn unknown_cell_masking() {
    case(
        "unknown_cell_masking",
        &["masked-row", "unknown-cell"],
        &[
            "unknown_cell_masking/table.yaml:14:34: info[unknown-cell]: row `over`: cell `> account.limit` of column `balance` is not analysed exactly",
            "row `consumer` can never fire: earlier row `broad` matches every input it matches",
            "0 error(s), 1 warning(s), 1 info(s)",
        ],
        0,
    );
    assert_eq!(lint(&["unknown_cell_masking", "--deny-warnings"]).1, 1);
}

#[test]
fn every_gap_region() {
    case(
        "every_gap_region",
        &["table-gap", "table-gap"],
        &[
            "table `route` has a gap (1 of 2): no row matches `{ bankrupt: \"false\", dpd: \"[10..19]\" }`, e.g. `bankrupt = false, dpd = 10`",
            "table `route` has a gap (2 of 2): no row matches `{ bankrupt: \"true\" }`",
        ],
        1,
    );
}

#[test]
fn collect_duplicates() {
    case(
        "collect_duplicates",
        &[
            "duplicate-row",
            "duplicate-row",
            "masked-row",
            "duplicate-row",
        ],
        &[
            "row `late-copy` repeats row `late`: the same conditions and the same outputs",
            "under `hit: collect` both fire, so `sum` takes the value twice",
            "row `vulnerable-again` repeats row `vulnerable`",
            "row `never` can never fire: no input matches all of its cells",
            "row `letter-again` repeats row `letter`",
            "under `hit: rule_order` both fire",
        ],
        0,
    );
}

#[test]
fn priority_masked() {
    case(
        "priority_masked",
        &["masked-row"],
        &["row `high-poor-score` can never be chosen: row `critical` matches every input it matches and ranks before it"],
        0,
    );
}

/// Thirteen gap regions: ten are reported, the last saying how many more.
#[test]
fn gap_regions_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.yaml"),
        "schema: t\nfields:\n  id: text\n  n: integer\n  m: integer\n",
    )
    .unwrap();
    let mut t = String::from(
        "table: t\nhit: unique\ninputs: { n: account.n, m: account.m }\noutputs: { r: integer }\nrows:\n",
    );
    for i in 0..12 {
        t.push_str(&format!(
            "  - {{ id: r{i}, when: {{ n: \"{i}\", m: \"{i}\" }}, then: {{ r: {i} }} }}\n"
        ));
    }
    std::fs::write(dir.path().join("t.yaml"), t).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "table-gap")
        .collect();
    assert_eq!(gaps.len(), 10, "{json:#}");
    assert!(gaps[0]["message"].as_str().unwrap().contains("(1 of 13)"));
    assert!(
        gaps[9]["help"]
            .as_str()
            .unwrap()
            .contains("has 3 more gaps, not shown"),
        "{json:#}"
    );
}

/// The issue's reproduction: a broad row inserted into the shipped `entry`
/// table (which has a default and an account-dependent cell) is reported as
/// hiding the row below it.
#[test]
fn shipped_entry_with_a_broad_row_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    common::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &rules);
    let entry = rules.join("entry.yaml");
    let text = std::fs::read_to_string(&entry).unwrap();
    let anchor = "  - id: consumer-in-arrears\n";
    assert!(text.contains(anchor));
    let text = text.replacen(
        anchor,
        &format!("  - id: inserted-late\n    when: {{ product: \"card, loan\", dpd: \">= 1\" }}\n    then: {{ category: arrears, reason: '\"late\"' }}\n\n{anchor}"),
        1,
    );
    std::fs::write(&entry, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--format", "json"])
        .arg(&rules)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = json["diagnostics"].as_array().unwrap();
    let masked: Vec<&str> = diags
        .iter()
        .filter(|d| d["code"] == "masked-row")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        masked,
        ["row `consumer-in-arrears` can never fire: earlier row `inserted-late` matches every input it matches"],
        "{json:#}"
    );
    let unknown = diags
        .iter()
        .find(|d| {
            d["code"] == "unknown-cell" && d["file"].as_str().unwrap().ends_with("entry.yaml")
        })
        .expect("the dependent cell of `entry` is named");
    assert_eq!(unknown["severity"], "info");
    assert!(unknown["message"]
        .as_str()
        .unwrap()
        .contains("row `over-limit-percent`: cell `> account.credit_limit * 10%`"));
}

/// `lint --counterexamples DIR`: the written accounts decode, and dry-run
/// through the tables they reach the finding (the gap: no row matches; the
/// masked row: the earlier row fires).
#[test]
fn counterexample_accounts_reach_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let cx = dir.path().join("cx");
    let (_, exit) = lint(&[
        "every_gap_region",
        "--counterexamples",
        cx.to_str().unwrap(),
    ]);
    assert_eq!(exit, 1);
    let mut files: Vec<String> = std::fs::read_dir(&cx)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "route--gap-1--table-gap.yaml",
            "route--gap-2--table-gap.yaml"
        ]
    );
    let first = std::fs::read_to_string(cx.join(&files[0])).unwrap();
    assert!(first.contains("  bankrupt: false\n  dpd: 10\n"), "{first}");
    assert!(
        first.contains(&format!(
            "# Run it: arrears dry-run --allow-analysis-errors --rules every_gap_region --as-of <date> {}",
            cx.join(&files[0]).display()
        )),
        "{first}"
    );
    for file in &files {
        let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
            .args([
                "dry-run",
                "--allow-analysis-errors",
                "--rules",
                "every_gap_region",
                "--as-of",
                "2026-01-01",
            ])
            .arg(cx.join(file))
            .current_dir(fixtures())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("error: table `route`: no row matches and the table has no default")
                && text.contains("1 account(s) as of 2026-01-01: 0 evaluated, 1 failed"),
            "{file}: {text}"
        );
    }
    let cx = dir.path().join("masked");
    lint(&[
        "unknown_cell_masking",
        "--counterexamples",
        cx.to_str().unwrap(),
    ]);
    let file = cx.join("entry--consumer--masked-row.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args([
            "dry-run",
            "--rules",
            "unknown_cell_masking",
            "--as-of",
            "2026-01-01",
        ])
        .arg(&file)
        .current_dir(fixtures())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("entry  open = true  [broad]"), "{text}");
}

/// A gap in a per-item table (`callback`, per disposition) is shown with the
/// item it is about: the account has one disposition holding the gap's inputs,
/// its enum fields in one of the schema's valid combinations, and dry-run hits
/// the gap on it.
#[test]
fn a_per_item_gap_counterexample_has_its_item() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    let callback = std::fs::read_to_string(rules.join("callback.yaml")).unwrap();
    let without_default: String = callback
        .lines()
        .filter(|l| !l.starts_with("default:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(callback, without_default);
    std::fs::write(rules.join("callback.yaml"), without_default).unwrap();
    let cx = dir.path().join("cx");
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--counterexamples"])
        .arg(&cx)
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let file = cx.join("callback--gap-1--table-gap.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# The table runs once per item of `account.dispositions`: the account has one, `d` (its decision is `callback[0]`), the item the finding is about.\n")
            && text.contains("#   reason = call_back   (d.reason)\n")
            && text.contains("  dispositions: [{\"date\":\"2000-01-01\",\"status\":\"contacted\",\"reason\":\"call_back\",\"resolution\":\"none\",\"callback_date\":null}]\n"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args([
            "dry-run",
            "--allow-analysis-errors",
            "--as-of",
            "2026-11-22",
            "--rules",
        ])
        .arg(&rules)
        .arg(&file)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(
            "error: table `callback` (item [0]): no row matches and the table has no default"
        ),
        "{shown}"
    );
}

/// A computed input is not inverted: the file says so and keeps the defaults.
#[test]
fn counterexample_names_inputs_it_cannot_set() {
    let dir = tempfile::tempdir().unwrap();
    let cx = dir.path().join("cx");
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("schema.yaml"),
        "schema: t\ncurrency: USD\nfields:\n  id: text\n  arrears: money\n  paid: money\n  flag: bool\n  plan:\n    active: bool\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("t.yaml"),
        "table: t\nhit: first\ninputs:\n  owed: account.arrears - account.paid\n  active: account.plan.active\noutputs: { r: integer }\nrows:\n  - { id: a, when: { owed: '> $5', active: 'true' }, then: { r: 1 } }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--counterexamples"])
        .arg(&cx)
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(cx.join("t--gap-1--table-gap.yaml")).unwrap();
    assert!(text.starts_with("# arrears lint counterexample"), "{text}");
    assert!(
        text.contains("# Inputs NOT set: they are computed")
            && text.contains("#   owed = ")
            && text.contains("(account.arrears - account.paid)"),
        "{text}"
    );
    // Every required field is present, nested records included.
    assert!(
        text.contains(
            "  arrears: '0.00'\n  paid: '0.00'\n  flag: false\n  plan:\n    active: false\n"
        ),
        "{text}"
    );
}

/// A file of the same name that lint did not write is never replaced, and nothing is written.
#[test]
fn counterexamples_never_replace_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("route--gap-1--table-gap.yaml");
    std::fs::write(&mine, "- id: my own account\n").unwrap();
    let (out, exit) = lint(&[
        "every_gap_region",
        "--counterexamples",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(exit, 2, "{out}");
    assert!(
        out.contains("was not written by `arrears lint --counterexamples`"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&mine).unwrap(),
        "- id: my own account\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // Files an earlier run wrote are replaced.
    std::fs::remove_file(&mine).unwrap();
    assert_eq!(
        lint(&[
            "every_gap_region",
            "--counterexamples",
            dir.path().to_str().unwrap()
        ])
        .1,
        1
    );
    assert_eq!(
        lint(&[
            "every_gap_region",
            "--counterexamples",
            dir.path().to_str().unwrap()
        ])
        .1,
        1
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

/// `quoted-threshold`: ids and reasons that quote their own row's thresholds (YAML and TOML),
/// at the first number quoted; labels, dates, codes, numbers in another unit or that the row
/// does not test are left alone.
#[test]
fn quoted_threshold() {
    case(
        "quoted_threshold",
        &[
            "quoted-threshold",
            "quoted-threshold",
            "quoted-threshold",
            "quoted-threshold",
            "quoted-threshold",
            "quoted-threshold",
            "unknown-cell",
        ],
        &[
            "quoted_threshold/close.toml:14:19: warning[quoted-threshold]: row id `close-under-5d-5usd` quotes thresholds of its row: `5d` is `dpd: < 5`, `5usd` is `arrears: < $5`",
            "quoted_threshold/table.yaml:17:19: warning[quoted-threshold]: row id `card-loan-5d-5usd` quotes thresholds of its row: `5d` is `dpd: >= 5`, `5usd` is `arrears: >= $5`",
            "quoted_threshold/table.yaml:19:23: warning[quoted-threshold]: `reason` of row `card-loan-5d-5usd` quotes thresholds of its row: `5` is `dpd: >= 5`, `$5` is `arrears: >= $5`",
            "row id `bucket-30-59` quotes thresholds of its row: `30` is `dpd: [30..59]`, `59` is `dpd: [30..59]`",
            "`reason` of row `bucket-30-59` quotes a threshold of its row: `10%` is `over_limit: > account.limit * 10%`",
            "0 error(s), 6 warning(s), 1 info(s)",
        ],
        0,
    );
    let (out, _) = lint(&["quoted_threshold"]);
    for quiet in [
        "tier-2",
        "from-2024-01-15",
        "grace-5d-3-letters",
        "consumer-in-arrears",
    ] {
        assert!(
            !out.contains(&format!("row `{quiet}` quotes")),
            "{quiet}:\n{out}"
        );
        assert!(
            !out.contains(&format!("row id `{quiet}`")),
            "{quiet}:\n{out}"
        );
    }
    assert_eq!(lint(&["quoted_threshold", "--deny-warnings"]).1, 1);
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

/// A `unique` table too large for lint's full analysis (its warnings' searches
/// run out of budget) still gets the error-only checks every evaluating command
/// runs before it evaluates: lint shows the overlap `dry-run` refuses the rules for.
#[test]
fn lint_reports_the_overlap_the_refusal_finds_on_a_large_unique_table() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("schema.yaml"),
        "schema: t\nenums:\n  class: [a, b, c]\nfields:\n  id: text\n  dpd: integer\n  class: class\n",
    )
    .unwrap();
    let mut t = String::from(
        "table: big\nhit: unique\ninputs:\n  dpd: account.dpd\n  class: account.class\noutputs:\n  n: integer\ndefault: { n: -1 }\nrows:\n",
    );
    for i in 0..2000 {
        let (class, low) = (["a", "b", "c"][i % 3], (i / 3) * 10);
        t.push_str(&format!(
            "  - {{ id: r{i}, when: {{ dpd: \"[{low}..{}]\", class: {class} }}, then: {{ n: {i} }} }}\n",
            low + 9
        ));
    }
    t.push_str("  - { id: extra, when: { dpd: \"[15..16]\", class: b }, then: { n: -2 } }\n");
    std::fs::write(rules.join("big.yaml"), t).unwrap();
    let accounts = dir.path().join("accounts.yaml");
    std::fs::write(&accounts, "- { id: x, dpd: 1, class: a }\n").unwrap();

    let linted = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["lint", "--format", "json"])
        .arg(&rules)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&linted.stdout).unwrap();
    let found: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"].as_str().unwrap_or_default().ends_with("big.yaml"))
        .map(|d| {
            format!(
                "{}: {}",
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "table-overlap: rows `r4` and `extra` both match `dpd = 15, class = b`",
            "not-analysed: table `big` was checked for gaps and overlaps only, not for masked, redundant or duplicate rows: the table is too large for that search (more than 200000 cases or 5000000 row pairs)",
        ],
        "{json:#}"
    );
    assert_eq!(linted.status.code(), Some(1));

    let refused = Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["dry-run", "--as-of", "2026-01-01", "--rules"])
        .arg(&rules)
        .arg(&accounts)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("rows `r4` and `extra` both match `dpd = 15, class = b`"),
        "{stderr}"
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
        let diags = arrears::lang::analysis::analyse(program, &arrears::lang::analysis::Context::default());
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

// ---------------------------------------------------------------------------
// Property: with account-dependent cells, every masked, subsumed or gap
// finding holds for every value the dependent operand can take.

/// An integer cell, or `> account.m` (depends on the account).
#[derive(Clone, Debug)]
enum MaybeDynamic {
    Fixed(IntCell),
    AboveM,
}

impl MaybeDynamic {
    fn text(&self) -> String {
        match self {
            MaybeDynamic::Fixed(c) => c.text(),
            MaybeDynamic::AboveM => "> account.m".into(),
        }
    }
    fn matches(&self, x: i64, m: i64) -> bool {
        match self {
            MaybeDynamic::Fixed(c) => c.matches(x),
            MaybeDynamic::AboveM => x > m,
        }
    }
}

fn maybe_dynamic() -> impl Strategy<Value = MaybeDynamic> {
    prop_oneof![
        3 => int_cell().prop_map(MaybeDynamic::Fixed),
        1 => Just(MaybeDynamic::AboveM),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn findings_with_dynamic_cells_hold_for_every_account(
        rows in prop::collection::vec((maybe_dynamic(), enum_cell(), 0i64..2), 1..6),
        hit in prop::sample::select(vec!["first", "unique"]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("schema.yaml"),
            "schema: t\nenums:\n  kind: [x, y, z]\nfields:\n  id: text\n  n: integer\n  m: integer\n  k: kind\n",
        ).unwrap();
        let mut t = format!("table: t\nhit: {hit}\ninputs:\n  n: account.n\n  k: account.k\noutputs:\n  r: integer\nrows:\n");
        for (i, (ic, ec, out)) in rows.iter().enumerate() {
            t.push_str(&format!(
                "  - {{ id: r{i}, when: {{ n: \"{}\", k: \"{}\" }}, then: {{ r: {out} }} }}\n",
                ic.text(), enum_text(ec)
            ));
        }
        std::fs::write(dir.path().join("t.yaml"), &t).unwrap();
        let docs = arrears::model::load_dir(dir.path()).unwrap();
        let loaded = arrears::policy::build(&docs);
        prop_assert!(!loaded.has_errors(), "{t}");
        let program = &loaded.plan.as_ref().unwrap().program;
        let diags = arrears::lang::analysis::analyse(program, &arrears::lang::analysis::Context::default());
        let points = || (-1i64..=22).flat_map(|n| (0..3).flat_map(move |v| (-1i64..=22).map(move |m| (n, v, m))));
        let matches = |r: usize, (n, v, m): (i64, usize, i64)| rows[r].0.matches(n, m) && enum_matches(&rows[r].1, v);
        let row_of = |msg: &str| -> usize {
            msg.split("row `r").nth(1).unwrap().split('`').next().unwrap().parse().unwrap()
        };
        for d in &diags {
            match d.code {
                "masked-row" if hit == "first" => {
                    let j = row_of(&d.message);
                    for p in points() {
                        prop_assert!(!matches(j, p) || (0..j).any(|i| matches(i, p)), "{}\n{t}\n{p:?}", d.message);
                    }
                }
                "table-gap" => {
                    let m = &d.message;
                    let example = m.split("e.g. `").nth(1).unwrap();
                    let n: Option<i64> = example.split("n = ").nth(1).map(|s| s.split([',', '`']).next().unwrap().parse().unwrap());
                    let v = example.split("k = ").nth(1).map(|s| VARIANTS.iter().position(|x| s.starts_with(x)).unwrap());
                    for p in points().filter(|&(pn, pv, _)| n.is_none_or(|n| n == pn) && v.is_none_or(|v| v == pv)) {
                        prop_assert!(!(0..rows.len()).any(|r| matches(r, p)), "{m}\n{t}\n{p:?}");
                    }
                }
                "table-overlap" => {
                    let ids: Vec<usize> = d.message.split("`r").skip(1).map(|s| s.split('`').next().unwrap().parse().unwrap()).collect();
                    let example = d.message.split("both match `").nth(1).unwrap();
                    let n: Option<i64> = example.split("n = ").nth(1).map(|s| s.split([',', '`']).next().unwrap().parse().unwrap());
                    let v = example.split("k = ").nth(1).map(|s| VARIANTS.iter().position(|x| s.starts_with(x)).unwrap());
                    for p in points().filter(|&(pn, pv, _)| n.is_none_or(|n| n == pn) && v.is_none_or(|v| v == pv)) {
                        prop_assert!(matches(ids[0], p) && matches(ids[1], p), "{}\n{t}\n{p:?}", d.message);
                    }
                }
                "subsumed-row" => {
                    let ids: Vec<usize> = d.message.split("`r").skip(1).map(|s| s.split('`').next().unwrap().parse().unwrap()).collect();
                    for p in points() {
                        prop_assert!(!matches(ids[0], p) || matches(ids[1], p), "{}\n{t}\n{p:?}", d.message);
                    }
                }
                _ => {}
            }
        }
    }
}

/// `always-true-cell`: alternatives that together match every value (`>= 5,
/// <= 29`: a comma means OR), on ordered, money and enum columns, at the cell,
/// with the range that was probably meant; the rows they make overlap or hide
/// are not reported besides (the error says how many were left out). A cell
/// that restricts (`>= 30`, `CA, TX`) is not reported.
#[test]
fn always_true_cell() {
    case(
        "always_true_cell",
        &["always-true-cell"; 7],
        &[
            "always_true_cell/entry.yaml:12:18: warning[always-true-cell]: row `early`: cell `>= 5, <= 29` of column `dpd` matches every value",
            "row `scored`: cell `>= 580, < 670` of column `score` matches every value but null",
            "row `scored-or-not`: cell `>= 580, < 670, null` of column `score` matches every value, so",
            "in a cell a comma means OR, not AND: `>= 5` or `<= 29` holds for any `dpd`; to test both",
            "`[5..29]`",
            "`not(5, 6)`",
            "`[$3.00..$10.00)`",
            "row `every-state`: cell `CA, TX, NY` of column `state` matches every value",
            "`not(CA, TX)`",
            "left out until it is fixed",
            "0 error(s), 7 warning(s)",
        ],
        0,
    );
    assert_eq!(lint(&["always_true_cell", "--deny-warnings"]).1, 1);
}

/// Under `unique` the always-true row overlaps its neighbours: those errors
/// stay (the table fails when run, so lint must fail too), each marked as
/// following from the cell.
#[test]
fn always_true_cell_overlaps_are_marked_as_following() {
    case(
        "always_true_cell_unique",
        &["table-overlap", "table-overlap", "always-true-cell"],
        &[
            "help: this follows from row `early`'s cell at always_true_cell_unique/bucket.yaml:9:31, which",
            "write `[5..29]`",
        ],
        1,
    );
}
