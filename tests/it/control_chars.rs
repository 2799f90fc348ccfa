//! Control characters read from input (account ids, field values, file names,
//! rule cells) are shown escaped in human output, never sent to the terminal
//! as they are: no ESC sequence, bell or carriage return from a file reaches
//! it, and no value starts a line of its own.

use std::path::Path;

use serde_json::Value as Json;

use crate::common;

use common::{arrears_in, root, stderr, stdout};

/// Whether `text` holds a control character other than a line break.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        raw_controls(text).is_empty(),
        "{what} holds raw control characters {:?}:\n{text}",
        raw_controls(text)
    );
}

/// The first sample account with hostile text in its id and its first
/// service agreement's id, and a second one whose product is not a variant.
fn hostile_accounts(dir: &Path) -> &'static str {
    let text = std::fs::read_to_string(root().join("samples/accounts.jsonl")).unwrap();
    let mut account: Json = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    account["id"] = "card\u{1b}[31m-red\u{7}".into();
    account["service_agreements"][0]["id"] = "sa\u{1b}]0;title\u{7}\r\nfake line".into();
    let mut bad = account.clone();
    bad["id"] = "bad\u{9b}2J".into();
    bad["product"] = "card\u{1b}[2J\u{7f}".into();
    let name = "acc\u{1b}ounts.jsonl";
    std::fs::write(dir.join(name), format!("{account}\n{bad}\n")).unwrap();
    name
}

#[test]
fn dry_run_shows_control_characters_from_accounts_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let accounts = hostile_accounts(dir.path());
    let rules = root().join("rules");
    let rules = rules.to_str().unwrap();
    let o = arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            rules,
            "--as-of",
            "2026-11-22",
            accounts,
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert_no_raw_controls("dry-run", &text);
    assert!(text.contains(r"account card\u{1b}[31m-red\u{7}"), "{text}");
    assert_snapshot!("dry_run_control_chars", text);

    // Every decision, input value and row of the trace too.
    let o = arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            rules,
            "--as-of",
            "2026-11-22",
            "--explain",
            accounts,
        ],
    );
    let text = stdout(&o);
    assert_no_raw_controls("dry-run --explain", &text);
    assert!(
        text.contains(r"[sa\u{1b}]0;title\u{7}\r\nfake line]"),
        "{text}"
    );
}

/// A rules directory of the shipped schema and `dpd_bucket` table, with
/// `cell` in place of its first cell.
fn rules_with_cell(dir: &Path, cell: &str) {
    let rules = dir.join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(root().join("rules/schema.yaml"), rules.join("schema.yaml")).unwrap();
    let text = std::fs::read_to_string(root().join("rules/dpd_bucket.yaml")).unwrap();
    assert!(text.contains(r#""<= 0""#));
    std::fs::write(
        rules.join("dpd_bucket.yaml"),
        text.replacen(r#""<= 0""#, cell, 1),
    )
    .unwrap();
}

#[test]
fn lint_shows_a_raw_control_character_in_a_cell_escaped() {
    let dir = tempfile::tempdir().unwrap();
    rules_with_cell(dir.path(), "\"<= 0\u{1b}[2J\u{7}\"");
    let o = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert_no_raw_controls("lint", &text);
    assert!(
        text.contains(r#"when: { dpd: "<= 0\u{1b}[2J\u{7}" }"#),
        "{text}"
    );
    assert_snapshot!("lint_raw_control_char_in_cell", text);
}

#[test]
fn lint_shows_a_control_character_written_as_an_escape_escaped() {
    // YAML's `\e` and `\a` put ESC and BEL into the cell's text, which the
    // message quotes.
    let dir = tempfile::tempdir().unwrap();
    rules_with_cell(dir.path(), r#""<= 0 \e[2J\a""#);
    let o = arrears_in(dir.path(), &["lint", "rules"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    assert_no_raw_controls("lint", &text);
    assert_snapshot!("lint_escaped_control_char_in_cell", text);
}

#[test]
fn errors_on_stderr_show_a_file_name_with_control_characters_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let o = arrears_in(
        dir.path(),
        &[
            "dry-run",
            "--rules",
            root().join("rules").to_str().unwrap(),
            "--as-of",
            "2026-11-22",
            "missing\u{1b}[2J\u{7}.yaml",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let text = stderr(&o);
    assert_no_raw_controls("stderr", &text);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(r"missing\u{1b}[2J\u{7}.yaml"), "{text}");
}

#[test]
fn test_command_shows_control_characters_in_suite_and_case_names_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("rules/tests/dpd_bucket.yaml")).unwrap();
    let edited = text
        .replacen("tests: dpd_bucket", r#"tests: "dpd\a_bucket""#, 1)
        .replacen(
            "- name: dpd-0-current",
            r#"- name: "dpd-0\e[2J-current""#,
            1,
        );
    assert_ne!(edited, text);
    std::fs::write(dir.path().join("doc.yaml"), edited).unwrap();
    let rules = root().join("rules");
    let o = arrears_in(
        dir.path(),
        &["test", "--rules", rules.to_str().unwrap(), "doc.yaml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert_no_raw_controls("test", &text);
    assert!(
        text.contains(r"pass  dpd\u{7}_bucket › dpd-0\u{1b}[2J-current"),
        "{text}"
    );
}

#[test]
fn the_batch_summary_shows_control_characters_in_its_keys_escaped() {
    let mut summary = arrears::data::batch::Summary::default();
    summary
        .collection_class
        .insert("class\u{1b}[2J\u{7}\nfake".into(), 3);
    let text = summary.human();
    assert_no_raw_controls("batch summary", &text);
    assert!(
        text.contains(r"collection class  class\u{1b}[2J\u{7}\nfake 3"),
        "{text}"
    );
}
