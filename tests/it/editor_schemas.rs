//! The editor schemas in `schemas/` (`arrears schema --out schemas`): the
//! committed files are what the binary generates (`UPDATE_SCHEMAS=1 cargo test
//! editor_schemas` rewrites them), every shipped rule, test, mapping and
//! timeline file names its schema in a modeline and validates against it, and
//! the bad-input fixtures whose problem is the document's shape (an unknown
//! key, a wrong type, an unknown hit policy) are rejected by the schema too.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::common::{arrears, root, stderr, stdout};

const KINDS: [&str; 10] = [
    "schema",
    "table",
    "guardrails",
    "policy",
    "template",
    "experiment",
    "calendar",
    "mapping",
    "test",
    "timeline",
];

#[test]
fn committed_schemas_are_current() {
    let dir = root().join("schemas");
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        let o = arrears(&["schema", "--out", "schemas"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for kind in KINDS {
        let o = arrears(&["schema", kind]);
        assert!(o.status.success(), "{}", stderr(&o));
        let committed = std::fs::read_to_string(dir.join(format!("{kind}.schema.json")));
        assert!(
            committed.as_deref().ok() == Some(stdout(&o).as_str()),
            "schemas/{kind}.schema.json is stale: run `UPDATE_SCHEMAS=1 cargo test editor_schemas`"
        );
    }
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = KINDS.iter().map(|k| format!("{k}.schema.json")).collect();
    expected.sort();
    assert_eq!(files, expected, "schemas/ holds exactly one file per kind");
}

#[test]
fn schema_out_writes_only_its_files_and_schema_without_kind_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = dir.path().join("new");
    let o = arrears(&["schema", "table", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("wrote "));
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["table.schema.json"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "mine"
    );
    let o = arrears(&["schema"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("give a document kind"),
        "{}",
        stderr(&o)
    );
    let o = arrears(&["schema", "tabel"]);
    assert_eq!(o.status.code(), Some(64));
}

fn validator(schema: &Path) -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(schema).unwrap_or_else(|e| panic!("{}: {e}", schema.display()));
    let schema: Json = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// A YAML or TOML document as a JSON value, as an editor's language server sees it.
fn as_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else {
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

/// The schema a file's first line names: `# yaml-language-server: $schema=PATH`
/// (YAML) or `#:schema PATH` (TOML, taplo), relative to the file.
fn modeline_schema(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.lines().next()?;
    let relative = first
        .strip_prefix("# yaml-language-server: $schema=")
        .or_else(|| first.strip_prefix("#:schema "))?;
    Some(path.parent().unwrap().join(relative.trim()))
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // Deliberately bad data.
            if !path.ends_with("invalid") {
                rule_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "toml") {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_document_names_its_schema_and_validates() {
    let mut files = Vec::new();
    rule_files(&root().join("rules"), &mut files);
    rule_files(&root().join("samples"), &mut files);
    files.sort();
    let mut checked = 0;
    for file in &files {
        let shown = file.strip_prefix(root()).unwrap().display().to_string();
        let Some(schema) = modeline_schema(file) else {
            // Accounts files are data, not documents.
            assert!(
                shown.ends_with("accounts.yaml"),
                "{shown} has no schema modeline"
            );
            continue;
        };
        assert!(
            schema.exists(),
            "{shown}: no schema at {}",
            schema.display()
        );
        let errors: Vec<String> = validator(&schema)
            .iter_errors(&as_json(file))
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{shown}: {errors:#?}");
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} shipped documents found");
}

#[test]
fn bad_input_fixtures_with_a_wrong_shape_are_refused_by_the_schema() {
    let table = validator(&root().join("schemas/table.schema.json"));
    for (fixture, file) in [
        ("unknown_field", "entry.yaml"),
        ("cell_is_list", "entry.yaml"),
        ("cell_is_mapping", "entry.yaml"),
        ("hit_wrong_type", "entry.yaml"),
        ("hit_unknown", "entry.yaml"),
        ("row_id_list", "entry.yaml"),
        ("rows_wrong_type", "entry.yaml"),
        ("toml_outputs_wrong_type", "entry.toml"),
        ("toml_rows_wrong_type", "entry.toml"),
        ("top_level_list", "entry.yaml"),
        ("top_level_scalar", "entry.yaml"),
    ] {
        let path = root()
            .join("tests/fixtures/bad_input")
            .join(fixture)
            .join("rules")
            .join(file);
        assert!(
            !table.is_valid(&as_json(&path)),
            "{fixture} passes the table schema"
        );
        // The loader refuses it too: the schema says nothing the loader does not.
        let o = arrears(&["lint", path.parent().unwrap().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{fixture}");
    }
    // The fixtures' shared schema is a valid `schema` document.
    let schema = validator(&root().join("schemas/schema.schema.json"));
    let shared = root().join("tests/fixtures/bad_input/_rules/schema.yaml");
    assert!(schema.is_valid(&as_json(&shared)));
}

#[test]
fn an_unknown_key_is_refused_in_every_kind() {
    for kind in KINDS {
        let path = root().join(format!("schemas/{kind}.schema.json"));
        let schema = validator(&path);
        let key = if kind == "test" { "tests" } else { kind };
        let doc = serde_json::json!({ key: "x", "descripton": "a typo" });
        let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(
            errors.iter().any(|e| e.contains("descripton")),
            "{kind}: {errors:?}"
        );
    }
}
