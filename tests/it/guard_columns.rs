//! The nightly CSV batch reads the fields the guard rails read (time zone,
//! Breathing Space, disputes, forecasts, space heating), so each rail bites
//! there as it does in `dry-run`; and an extract cut before those columns
//! existed stops (exit 2) unless `--no-column` says to run without them, which
//! the summary then warns about. The accounts are
//! `tests/fixtures/guard_columns/`, one per rail with a control beside it.

use std::path::Path;

use serde_json::{json, Value as Json};

use crate::batch::{json_lines, p, summary};
use crate::common::{self, stderr};

const AS_OF: &str = "2027-01-15";

fn fixture() -> std::path::PathBuf {
    common::root().join("tests/fixtures/guard_columns")
}

/// The shipped rules' batch on `AS_OF` over `input`, its outputs in `dir`.
fn batch(input: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args(["batch", "--rules", "rules", "--as-of", AS_OF])
        .args(["--out", p(&dir.join("actions.jsonl"))])
        .args(["--summary", p(&dir.join("summary.json"))])
        .args(extra)
        .arg(input)
        .current_dir(common::root())
        .output()
        .unwrap()
}

fn of<'a>(actions: &'a [Json], account: &str) -> Vec<&'a Json> {
    actions.iter().filter(|a| a["account"] == account).collect()
}

/// Every rule an account's actions name.
fn rules_of(actions: &[&Json]) -> Vec<String> {
    let mut rules: Vec<String> = actions
        .iter()
        .flat_map(|a| a["rules"].as_array().unwrap())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

const CONTACTS: [&str; 4] = ["send_letter", "sms", "call", "email"];

#[test]
fn each_guard_rail_bites_in_the_csv_batch() {
    let dir = tempfile::tempdir().unwrap();
    let o = batch(&fixture().join("extract.csv"), dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let actions = json_lines(&dir.path().join("actions.jsonl"));

    // UK Breathing Space: the control account gets its letter today; the one in a
    // standard space (started 5 Jan) gets no contact before day 61 (Sat 6 Mar, so Mon 8 Mar).
    let control = of(&actions, "GB-NO-SPACE");
    assert!(control
        .iter()
        .any(|a| a["event_type"] == "send_letter" && a["date"] == AS_OF));
    let space = of(&actions, "GB-SPACE");
    let contacts: Vec<&&Json> = space
        .iter()
        .filter(|a| {
            a["type"] == "schedule_event" && CONTACTS.contains(&a["event_type"].as_str().unwrap())
        })
        .collect();
    assert_eq!(contacts.len(), 5, "{space:?}");
    for c in contacts {
        assert_eq!(c["date"], "2027-03-08", "{c}");
        assert!(c["rules"]
            .as_array()
            .unwrap()
            .contains(&json!("guard:breathing_space/moratorium")));
    }
    // A crisis space whose treatment goes on: nothing is scheduled, every proposal is withheld.
    let crisis = of(&actions, "GB-CRISIS");
    assert!(
        !crisis.iter().any(|a| a["type"] == "schedule_event"),
        "{crisis:?}"
    );
    assert_eq!(
        crisis.iter().filter(|a| a["type"] == "withhold").count(),
        6,
        "{crisis:?}"
    );

    // Reg F disputes: no collection call before verification is mailed; once it is, the call stands.
    let disputed = of(&actions, "US-DISPUTED");
    assert!(disputed.iter().any(|a| a["type"] == "withhold"
        && a["action"] == "call"
        && a["event"] == "first-call"
        && a["rules"] == json!(["guard:disputes/awaiting_verification"])));
    assert!(!disputed.iter().any(|a| a["type"] == "offer_payment_plan"));
    let verified = of(&actions, "US-VERIFIED");
    assert!(!rules_of(&verified)
        .iter()
        .any(|r| r.starts_with("guard:disputes")));
    assert!(verified.iter().any(|a| a["type"] == "offer_payment_plan"));

    // Reg F's window: a call set at 21:30 moves to 08:00 the next business day, in the
    // consumer's own time zone, which the event carries for the dialler.
    let late = of(&actions, "US-LATE-CALL");
    assert!(late.iter().any(|a| *a
        == &json!({"account": "US-LATE-CALL", "row": 7, "type": "postpone", "event": "agent-call",
                   "from": AS_OF, "to": "2027-01-19", "time": "08:00",
                   "reason": "outside the 08:00-21:00 local-time window",
                   "rules": ["guard:reg_f/inconvenient_times"]})));
    let call = late.iter().find(|a| a["type"] == "schedule_event").unwrap();
    assert_eq!(
        call["window"],
        json!({"start": "08:00", "end": "21:00", "time_zone": "America/Los_Angeles"})
    );

    // Illinois: a space-heating service is not severed in winter (mild forecast: the
    // moratorium alone); Colorado: none on a day forecast at 12.5 F.
    let heating = of(&actions, "IL-HEATING");
    assert!(heating.iter().any(|a| a["type"] == "postpone"
        && a["event"] == "start-severance"
        && a["to"] == "2027-04-01"
        && a["rules"] == json!(["guard:utility_disconnection/illinois_winter_space_heating"])));
    let freezing = of(&actions, "CO-FREEZING");
    assert!(freezing.iter().any(|a| a["type"] == "postpone"
        && a["event"] == "start-severance"
        && a["rules"] == json!(["guard:utility_disconnection/cold_forecast"])));
    assert!(!freezing.iter().any(|a| a["type"] == "nominate_severance"));

    let rails = &summary(dir.path())["guard_rails"];
    for (rule, what, n) in [
        ("guard:breathing_space/moratorium", "postponed", 6),
        (
            "guard:breathing_space/mental_health_crisis_ongoing",
            "withheld",
            6,
        ),
        ("guard:disputes/awaiting_verification", "withheld", 2),
        ("guard:reg_f/inconvenient_times", "postponed", 1),
        (
            "guard:utility_disconnection/illinois_winter_space_heating",
            "postponed",
            1,
        ),
        ("guard:utility_disconnection/cold_forecast", "postponed", 1),
    ] {
        assert_eq!(rails[rule][what], n, "{rule}: {rails}");
    }
    let lines: Vec<String> = actions.iter().map(Json::to_string).collect();
    assert_snapshot!("actions", lines.join("\n"));
}

/// The fixture as an extract cut before the rails' columns existed: the main
/// file's first 23 columns, the SAs' first 9.
fn older_extract(dir: &Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(fixture()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let keep = match name.as_str() {
            "extract.csv" => 23,
            "extract.sas.csv" => 9,
            _ => usize::MAX,
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let cut: String = text
            .lines()
            .map(|line| line.split(',').take(keep).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        std::fs::write(dir.join(name), cut).unwrap();
    }
    dir.join("extract.csv")
}

const ALL_COLUMNS: [&str; 20] = [
    "--no-column",
    "TIME_ZONE",
    "--no-column",
    "BS_START",
    "--no-column",
    "BS_CRISIS",
    "--no-column",
    "BS_CRISIS_END",
    "--no-column",
    "VALIDATION_DATE",
    "--no-column",
    "DISPUTE_DATE",
    "--no-column",
    "DISPUTE_VERIFIED",
    "--no-column",
    "FORECAST_LOW_F",
    "--no-column",
    "FORECAST_HIGH_F",
    "--no-column",
    "service_agreements.SPACE_HEATING",
];

#[test]
fn an_extract_without_the_rails_columns_stops_unless_told_and_then_warns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = older_extract(d);

    // Forgotten: the run stops before reading a row, naming the columns, the file and the way out.
    let o = batch(&input, d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "the input `{}` has no column `TIME_ZONE`, `BS_START`",
            input.display()
        )) && err.contains("runs with --no-column TIME_ZONE --no-column BS_START"),
        "{err}"
    );
    // Every file's header is checked before the run stops: the SAs' missing column is
    // named in the same run, with its own way out, and the flags for all of them together.
    assert!(
        err.contains("; and companion `")
            && err.contains("extract.sas.csv` has no column `SPACE_HEATING`")
            && err.contains("an extract without it runs with --no-column service_agreements.SPACE_HEATING")
            && err.contains("; together, an extract without them all runs with --no-column TIME_ZONE --no-column BS_START")
            && err.trim_end().ends_with("--no-column FORECAST_HIGH_F --no-column service_agreements.SPACE_HEATING"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!d.join("actions.jsonl").exists());
    // The main file's columns given up, the SAs' missing column is named the same way.
    let o = batch(&input, d, &ALL_COLUMNS[..18]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("extract.sas.csv` has no column `SPACE_HEATING`")
            && stderr(&o).contains("runs with --no-column service_agreements.SPACE_HEATING"),
        "{}",
        stderr(&o)
    );

    // Told: the run goes on with the fields null, says so, and the rails are off.
    let o = batch(&input, d, &ALL_COLUMNS);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: `BS_CRISIS`, `BS_CRISIS_END`, `BS_START`, `DISPUTE_DATE`, `DISPUTE_VERIFIED`, `FORECAST_HIGH_F`, `FORECAST_LOW_F`, `TIME_ZONE`, `VALIDATION_DATE`, `service_agreements.SPACE_HEATING` not read (--no-column)"
        ),
        "{}",
        stderr(&o)
    );
    let s = summary(d);
    assert_eq!(s["columns_not_read"].as_array().unwrap().len(), 10, "{s}");
    let actions = json_lines(&d.join("actions.jsonl"));
    // What that costs: the Breathing Space customer is written to today, the disputed
    // account is called, the Colorado severance goes ahead in the freeze, the dialler gets no
    // time zone. The Illinois moratorium fails safe: a heating not known counts as heating.
    let space = of(&actions, "GB-SPACE");
    assert!(space
        .iter()
        .any(|a| a["event_type"] == "send_letter" && a["date"] == AS_OF));
    let rules = rules_of(&actions.iter().collect::<Vec<_>>());
    for rail in ["guard:breathing_space", "guard:disputes"] {
        assert!(!rules.iter().any(|r| r.starts_with(rail)), "{rail}");
    }
    assert!(
        rules
            .iter()
            .filter(|r| r.starts_with("guard:utility_disconnection"))
            .all(|r| r == "guard:utility_disconnection/illinois_winter_heating_not_known"),
        "{rules:?}"
    );
    assert!(
        of(&actions, "IL-HEATING")
            .iter()
            .any(|a| a["type"] == "postpone"
                && a["reason"] == "Illinois winter moratorium (space heating not known)"),
        "the Illinois severance waits, its heating not known"
    );
    let late = of(&actions, "US-LATE-CALL");
    let call = late.iter().find(|a| a["type"] == "schedule_event").unwrap();
    assert_eq!(
        call["window"],
        json!({"start": "08:00", "end": "21:00", "time_zone": null})
    );

    // A flag for a column the file has, for a required field's column, or for no column
    // of the mapping, is refused.
    let o = batch(
        &fixture().join("extract.csv"),
        d,
        &["--no-column", "TIME_ZONE"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "has the column `TIME_ZONE` (column 24), but --no-column TIME_ZONE says it lacks it"
        ),
        "{}",
        stderr(&o)
    );
    for (flags, needle) in [
        (&["--no-column", "ARREARS_AMT"][..], "maps a required field"),
        (
            &["--no-column", "service_agreements.SA_ID"],
            "maps a required field",
        ),
        (&["--no-column", "TIMEZONE"], "maps no such column"),
        (
            &["--no-column", "TIME_ZONE", "--input-format", "jsonl"],
            "a JSON Lines account names its fields",
        ),
    ] {
        let o = batch(&input, d, flags);
        assert_eq!(o.status.code(), Some(64), "{flags:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{flags:?}: {}", stderr(&o));
    }
}

/// `diff` against a base whose mapping predates the rails' columns: on an older
/// extract, `--no-column` applies to the mapping that maps the column and is no
/// error for the base that does not, and nothing differs; on a current extract the
/// six accounts a rail stops differ.
#[test]
fn diff_against_a_base_without_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = d.join("base");
    common::copy_dir(&common::root().join("rules"), &base);
    let mapping = base.join("mappings/extract.yaml");
    let text = std::fs::read_to_string(&mapping).unwrap();
    let (head, rest) = text.split_once("  # --- read by the guard rails").unwrap();
    let (_, lists) = rest.split_once("\nlists:").unwrap();
    let older: String = format!("{head}lists:{lists}")
        .lines()
        .filter(|l| !l.contains("SPACE_HEATING"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&mapping, older).unwrap();
    let input = older_extract(d);
    let diff = |input: &Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
            .args([
                "diff",
                "--base",
                p(&base),
                "--rules",
                "rules",
                "--as-of",
                AS_OF,
            ])
            .args(extra)
            .arg(input)
            .current_dir(common::root())
            .output()
            .unwrap()
    };
    let o = diff(&input, &ALL_COLUMNS);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("8 compared, 0 changed, 0 rejected"), "{out}");
    // The report says what was not read, as the batch's summary does, in every form.
    let columns_warning = "warning: `BS_CRISIS`, `BS_CRISIS_END`, `BS_START`, `DISPUTE_DATE`, `DISPUTE_VERIFIED`, `FORECAST_HIGH_F`, `FORECAST_LOW_F`, `TIME_ZONE`, `VALIDATION_DATE`, `service_agreements.SPACE_HEATING` not read (--no-column): their fields are null for every account";
    assert!(out.contains(columns_warning), "{out}");
    let no_contacts = [&ALL_COLUMNS[..], &["--no-companion", "contacts"]].concat();
    let o = diff(&input, &no_contacts);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("warning: `contacts` not read (--no-companion): empty for every account, so the contact limits count only the contacts this run proposes")
            && out.contains(columns_warning),
        "{out}"
    );
    let o = diff(&input, &[&no_contacts[..], &["--format", "json"]].concat());
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["lists_not_read"], json!(["contacts"]));
    assert_eq!(
        report["columns_not_read"].as_array().unwrap().len(),
        10,
        "{report}"
    );
    let o = diff(&input, &[&no_contacts[..], &["--format", "html"]].concat());
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(
        page.contains("<p class=\"warning\">Warning: `contacts` not read (--no-companion)")
            && page.contains("<p class=\"warning\">Warning: `BS_CRISIS`, "),
        "{page}"
    );
    let o = diff(&fixture().join("extract.csv"), &[]);
    // Exit 1: some account's actions changed.
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("8 compared, 6 changed, 0 rejected"), "{out}");
    assert!(!out.contains("warning:"), "{out}");
    let o = diff(&fixture().join("extract.csv"), &["--format", "json"]);
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert!(report.get("lists_not_read").is_none() && report.get("columns_not_read").is_none());
}

/// A mapping an analyst wrote without the rails' columns is a lint warning per
/// field, naming the rails that would never see it (the batch would run with
/// the field null), and `--deny-warnings` fails on it.
#[test]
fn lint_warns_of_a_mapping_that_fills_a_rails_field_from_no_column() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    common::copy_dir(&common::root().join("rules"), &rules);
    let path = rules.join("mappings/extract.yaml");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("TIME_ZONE:")
                && !l.trim_start().starts_with("SPACE_HEATING:")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, text).unwrap();
    let out = common::arrears(&["lint", rules.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    let messages: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unmapped-guard-field")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "mapping `extract-v1` fills `time_zone` from no column: a batch read with it gives every account a null `time_zone`, so the guard rail `reg_f` never sees it",
            "mapping `extract-v1` fills `service_agreements[].space_heating` from no column: a batch read with it gives every account a null `service_agreements[].space_heating`, so the guard rail `utility_disconnection` never sees it",
        ]
    );
    let denied = common::arrears(&["lint", rules.to_str().unwrap(), "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1));
    // A guard column mapped `field?` may be missing from an extract without a word.
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "  BS_START: breathing_space_start ",
        "  BS_START: breathing_space_start? ",
    );
    std::fs::write(&path, text).unwrap();
    let out = common::arrears(&["lint", rules.to_str().unwrap(), "--format", "json"]);
    let json: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        json["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "unmapped-guard-field"
            && d["message"] == "mapping `extract-v1` maps `breathing_space_start` from `BS_START` with `?`: an extract without the column gives every account a null `breathing_space_start` and no warning, so the guard rail `breathing_space` never sees it"),
        "{json}"
    );
    // The shipped mapping fills every field the shipped rails read.
    let shipped = common::arrears(&[
        "lint",
        common::root().join("rules").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(!String::from_utf8_lossy(&shipped.stdout).contains("unmapped-guard-field"));
}

/// `--no-column` names a column as the extract's header does, a companion's
/// with its list: a field's name, a companion column without its list or a
/// misspelling gets the column meant (exit 64), not the list of every column.
#[test]
fn a_no_column_mistake_names_the_column_meant() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture().join("extract.csv");
    for (given, meant) in [
        ("SPACE_HEATING", "service_agreements.SPACE_HEATING"),
        ("time_zone", "TIME_ZONE"),
        ("BS_STRAT", "BS_START"),
    ] {
        let o = batch(&input, dir.path(), &["--no-column", given]);
        assert_eq!(o.status.code(), Some(64), "{given}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("--no-column `{given}`: the mapping `extract-v1` maps no such column; did you mean `{meant}`?")),
            "{}",
            stderr(&o)
        );
    }
}

/// A JSON Lines extract whose records lack a field the CSV extract must have a
/// column for (`time_zone`: no key, not even `null`) runs with the field null,
/// and the summary says so in both forms, as `diff`'s report does; an extract
/// that writes it (null or not) is not warned of.
#[test]
fn a_jsonl_extract_without_a_rails_field_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let jsonl = d.join("ex.jsonl");
    let o = common::arrears_in(
        common::root(),
        &[
            "generate",
            "--accounts",
            "40",
            "--seed",
            "5",
            "--format",
            "jsonl",
            p(&jsonl),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = batch(&jsonl, d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
    assert!(summary(d).get("fields_not_seen").is_none());

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let without = d.join("without.jsonl");
    let lines: String = text
        .lines()
        .map(|l| {
            let mut account: Json = serde_json::from_str(l).unwrap();
            account.as_object_mut().unwrap().remove("time_zone");
            format!("{account}\n")
        })
        .collect();
    std::fs::write(&without, lines).unwrap();
    assert!(!std::fs::read_to_string(&without)
        .unwrap()
        .contains("time_zone"));
    let o = batch(&without, d, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: `time_zone` is in none of the first 40 records, not even as null (a CSV extract must have its column, `TIME_ZONE`, or the run stops): if the extract does not carry it, it is null for every account and the rules that read it saw nothing there: a guard rail did not apply, or failed safe"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        summary(d)["fields_not_seen"],
        json!({"records": 40, "fields": [{"field": "time_zone", "column": "TIME_ZONE"}]})
    );
    // The windows carry no time zone: the rail's 8 a.m.-9 p.m. is nobody's.
    let actions = json_lines(&d.join("actions.jsonl"));
    assert!(actions
        .iter()
        .filter(|a| a.get("window").is_some())
        .all(|a| a["window"]["time_zone"].is_null()));

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_arrears"))
        .args([
            "diff", "--base", "rules", "--as-of", AS_OF, "--format", "json",
        ])
        .arg(&without)
        .current_dir(common::root())
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["fields_not_seen"]["fields"][0]["field"], "time_zone",
        "{report}"
    );
}

/// `policy::load` keeps each column mapping it built to check it (`None` for
/// one that does not build, whose errors are its diagnostics), so lint's
/// `unmapped-guard-field` reads those instead of building every mapping again.
#[test]
fn the_loaded_rules_keep_the_mappings_they_built() {
    let loaded = arrears::policy::load(&common::root().join("rules")).unwrap();
    assert_eq!(loaded.mappings.len(), 1);
    assert!(loaded.mappings[0].is_some());
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(&common::root().join("rules"), dir.path());
    let extract = dir.path().join("mappings/extract.yaml");
    let text = std::fs::read_to_string(&extract).unwrap();
    let broken = text.replacen("  DPD: days_past_due", "  DPD: days_past_dew", 1);
    assert_ne!(broken, text);
    std::fs::write(&extract, broken).unwrap();
    let loaded = arrears::policy::load(dir.path()).unwrap();
    assert_eq!(loaded.mappings.len(), 1);
    assert!(loaded.mappings[0].is_none());
    assert!(loaded.diagnostics.iter().any(|d| d.code == "mapping"));
}

/// A missing companion file and missing columns are named in the one run, on
/// one exit-2 line, each with its way out (`--no-companion`, `--no-column`),
/// and the flags for all of them together; given them all, the run goes on.
#[test]
fn a_missing_companion_and_missing_columns_are_named_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = older_extract(d);
    std::fs::remove_file(d.join("extract.contacts.csv")).unwrap();
    let o = batch(&input, d, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    for part in [
        "has no column `TIME_ZONE`, `BS_START`",
        "extract.sas.csv` has no column `SPACE_HEATING`",
        "extract.contacts.csv`) does not exist; give --companion contacts=PATH naming a file or a FIFO; an extract without it runs with --no-companion contacts",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(
        err.trim_end().ends_with(
            "; together, an extract without them all runs with --no-column TIME_ZONE --no-column BS_START --no-column BS_CRISIS --no-column BS_CRISIS_END --no-column VALIDATION_DATE --no-column DISPUTE_DATE --no-column DISPUTE_VERIFIED --no-column FORECAST_LOW_F --no-column FORECAST_HIGH_F --no-column service_agreements.SPACE_HEATING --no-companion contacts"
        ),
        "{err}"
    );
    assert!(!d.join("actions.jsonl").exists());
    let mut all = ALL_COLUMNS.to_vec();
    all.extend(["--no-companion", "contacts"]);
    let o = batch(&input, d, &all);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
