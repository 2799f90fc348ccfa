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

/// The `run:` script of the example workflow's step named `name`, dedented.
fn workflow_step(name: &str) -> String {
    let workflow = std::fs::read_to_string(root().join("docs/examples/arrears-ci.yml")).unwrap();
    let step = &workflow[workflow
        .find(&format!("- name: {name}\n"))
        .unwrap_or_else(|| panic!("no step `{name}`"))..];
    let run = &step[step.find("run: |\n").expect("a run block") + "run: |\n".len()..];
    let indent = run.len() - run.trim_start().len();
    run.lines()
        .take_while(|l| l.is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The example workflow's diff step, run as GitHub runs it (`bash -e`) in a
/// clone of a repository whose `main` holds the shipped rules, with `arrears`
/// the binary under test and a `gh` that records the comment it is asked to
/// post. The only change: a 3,000-account book instead of 100,000.
#[test]
fn example_workflow_posts_the_impact_of_a_pull_request() {
    use crate::diff::git;
    let script = workflow_step("Impact on the book");
    assert!(script.contains("--accounts 100000"), "{script}");
    let script = script.replace("--accounts 100000", "--accounts 3000");
    let dir = tempfile::tempdir().unwrap();
    let upstream = dir.path().join("upstream");
    crate::common::copy_dir(&root().join("rules"), &upstream.join("rules"));
    git(&upstream, &["init", "-q", "-b", "main"]);
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "-qm", "shipped"]);
    let work = dir.path().join("work");
    let url = format!("file://{}", upstream.display());
    git(dir.path(), &["clone", "-q", &url, "work"]);
    // Tools: the arrears under test, and a gh that keeps what it was given.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_arrears"), bin.join("arrears")).unwrap();
    let posted = dir.path().join("posted");
    std::fs::write(
        bin.join("gh"),
        format!(
            "#!/bin/sh\necho \"$@\" > '{0}.args'\nwhile [ \"$1\" != --body-file ]; do shift; done\ncp \"$2\" '{0}.body'\n",
            posted.display()
        ),
    )
    .unwrap();
    let mut mode = std::fs::metadata(bin.join("gh")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(bin.join("gh"), mode).unwrap();
    let summary = dir.path().join("summary.md");
    let run = || {
        let _ = std::fs::remove_file(&summary);
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(&work)
            .env("PATH", path)
            .env("BASE", "main")
            .env("PR", "7")
            .env("GH_TOKEN", "unused")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap()
    };
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let body = posted.with_extension("body");

    // The pull request moves the card entry to 8 days past due.
    let entry = work.join("rules/entry.yaml");
    let text = read(&entry);
    std::fs::write(&entry, text.replacen("dpd: \">= 5\"", "dpd: \">= 8\"", 1)).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", crate::common::stderr(&o));
    assert!(
        stdout(&o).contains("::warning title=arrears diff::this change moves accounts"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        read(&posted.with_extension("args")).trim(),
        "pr comment 7 --edit-last --create-if-none --body-file comment.md"
    );
    let comment = read(&body);
    assert!(
        comment.starts_with("#### `arrears diff` against `main`\n~~~\narrears diff as of "),
        "{comment}"
    );
    assert!(comment.contains("against base origin/main ("), "{comment}");
    assert!(comment.contains("entry category (old -> new)"), "{comment}");
    assert!(comment.trim_end().ends_with("~~~"), "{comment}");
    assert_eq!(read(&summary), comment);

    // Without a change: no warning, and the comment says so.
    std::fs::write(&entry, &text).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(0));
    assert!(!stdout(&o).contains("::warning"), "{}", stdout(&o));
    assert!(read(&body).contains("no account's actions changed"));

    // Rules with errors fail the step with diff's exit code, posting nothing.
    std::fs::remove_file(&body).unwrap();
    std::fs::write(&entry, text.replacen("dpd: \">= 5\"", "dpd: \">= \"", 1)).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(3), "{}", crate::common::stderr(&o));
    assert!(!body.exists() && !summary.exists());
}
