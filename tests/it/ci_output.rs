//! Machine output for CI: `lint --format sarif` validated against the official
//! SARIF 2.1.0 schema (vendored in `tests/fixtures/sarif/`), `lint --format
//! github` and `test --format github` workflow commands snapshotted, and every
//! format exiting as the human output does. The fixture `tests/fixtures/ci/`
//! has an error (a test document naming a row that does not exist), a warning
//! (a masked row), an info (a cell read from the account) and a file name with
//! a comma and a space (escaped in annotations and URIs).

use crate::common::{arrears, root, stdout};
use serde_json::Value as Json;

const RULES: &str = "tests/fixtures/ci/rules";

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json"))
        .expect("the vendored SARIF schema");
    let schema: Json = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    jsonschema::draft4::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn errors(validator: &jsonschema::Validator, log: &Json) -> Vec<String> {
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn sarif_of(rules: &str) -> Json {
    let o = arrears(&["lint", rules, "--format", "sarif"]);
    serde_json::from_str(&stdout(&o)).expect("SARIF output is JSON")
}

#[test]
fn lint_sarif_validates_against_the_sarif_2_1_0_schema() {
    let validator = sarif_validator();
    for rules in [RULES, "rules", "tests/fixtures/lint/cell_syntax"] {
        let log = sarif_of(rules);
        assert_eq!(errors(&validator, &log), Vec::<String>::new(), "{rules}");
    }
    // The validator is not a yes-machine: a result without its message is refused.
    let mut broken = sarif_of(RULES);
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    broken["runs"][0]["results"][1]["level"] = Json::from("fatal");
    assert_eq!(errors(&validator, &broken).len(), 2, "{broken:#}");
}

#[test]
fn lint_sarif_rules_are_the_lint_code_registry_and_results_point_into_it() {
    let log = sarif_of(RULES);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let listed = stdout(&arrears(&["lint", "--list-codes"]));
    let codes: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, codes);
    let masked = rules.iter().find(|r| r["id"] == "masked-row").unwrap();
    assert!(masked["help"]["text"]
        .as_str()
        .unwrap()
        .contains("A row that never fires is dead policy"));
    assert_eq!(masked["defaultConfiguration"]["level"], "warning");
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    assert_snapshot!(
        "lint_sarif_results",
        serde_json::to_string_pretty(&run["results"]).unwrap()
    );
}

#[test]
fn lint_github_annotations() {
    let o = arrears(&["lint", RULES, "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    assert_snapshot!("lint_github", stdout(&o));
}

#[test]
fn test_github_annotations_at_failed_cases() {
    let o = arrears(&["test", "tests/fixtures/ci/cases.yaml", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    assert_snapshot!("test_github", stdout(&o));
}

#[test]
fn coverage_below_the_minimum_is_an_annotation_too() {
    let o = arrears(&[
        "test",
        "tests/fixtures/test_command/passing.yaml",
        "--format",
        "github",
        "--min-coverage",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let annotation = out.lines().find(|l| l.starts_with("::error")).unwrap();
    assert!(
        annotation.starts_with("::error title=row coverage::row coverage ")
            && annotation.ends_with("is below --min-coverage 100%25"),
        "{annotation}"
    );
}

#[test]
fn every_format_exits_as_the_human_output_does() {
    let cases: &[(&[&str], i32)] = &[
        (&["lint", "rules"], 0),
        (&["lint", RULES], 1),
        (&["lint", "tests/fixtures/analysis/masked_row_first"], 0),
        (
            &[
                "lint",
                "tests/fixtures/analysis/masked_row_first",
                "--deny-warnings",
            ],
            1,
        ),
        (&["lint", "tests/fixtures/no-such-dir"], 2),
    ];
    for (args, code) in cases {
        for format in ["human", "json", "sarif", "github"] {
            let mut all = args.to_vec();
            all.extend(["--format", format]);
            assert_eq!(arrears(&all).status.code(), Some(*code), "{all:?}");
        }
    }
    for format in ["human", "json", "junit", "github"] {
        for (doc, code) in [
            ("tests/fixtures/ci/cases.yaml", 1),
            ("tests/fixtures/test_command/passing.yaml", 0),
        ] {
            let o = arrears(&["test", doc, "--format", format]);
            assert_eq!(o.status.code(), Some(code), "{doc} {format}");
        }
    }
}
