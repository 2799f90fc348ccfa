//! One `arrears test` document (YAML or TOML) run against the shipped policy:
//! reading the document, its cases' accounts and dates, expected actions,
//! rows and decisions, and row coverage.
//!
//! Input: byte 0 picks the format (bit 0) and `--explain` (bit 1); the rest is
//! the document. Its directory holds `accounts.yaml` (the shipped samples) and
//! `timeline.yaml` (a shipped timeline), so `accounts: accounts.yaml` and
//! `timeline: timeline.yaml` are reachable. A document whose `accounts` or a
//! case's `timeline` is not a plain file name is skipped, so the fuzzer reads
//! no file outside that directory (a device there would only find the limits
//! of reading files).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use arrears::testing::{Coverage, Subject, TestDocument};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    loaded: arrears::policy::Loaded,
    dir: PathBuf,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let loaded = arrears::policy::load(&root.join("rules")).expect("shipped rules load");
    assert!(!loaded.has_errors(), "shipped rules have errors");
    let dir = std::env::temp_dir().join(format!("arrears-fuzz-test-doc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    std::fs::copy(
        root.join("samples/accounts.yaml"),
        dir.join("accounts.yaml"),
    )
    .expect("sample accounts");
    std::fs::copy(
        root.join("samples/timelines/card_promise_broken.yaml"),
        dir.join("timeline.yaml"),
    )
    .expect("a shipped timeline");
    Fixture { loaded, dir }
});

fuzz_target!(|data: &[u8]| {
    let Some((&control, document)) = data.split_first() else {
        return;
    };
    let toml = control & 1 != 0;
    if !reads_only_its_directory(document, toml) {
        return;
    }
    let fx = &*FIXTURE;
    let policy = fx.loaded.policy.as_ref().expect("shipped policy");
    let name = if toml { "case.toml" } else { "case.yaml" };
    let path = fx.dir.join(name);
    std::fs::write(&path, document).expect("write the document");
    let subject = Subject::Policy(policy);
    // As `arrears test` does: read, check against the rules, run only what checks cleanly.
    let Ok(doc) = TestDocument::read(&path) else {
        return;
    };
    if doc.check(&subject, None).is_empty() {
        let results = doc.run(&subject, control & 2 != 0, None);
        let tables = &policy.plan.tables;
        for &(table, row) in results.iter().flat_map(|r| &r.fired) {
            let rows = tables.get(table as usize).map(|t| t.table.rows.len());
            assert!(
                rows.is_some_and(|rows| (row as usize) < rows),
                "{table}:{row}"
            );
        }
        let _ = Coverage::compute(&policy.plan, &results);
    }
});

/// Whether the document parses, and the files it names (`accounts`, each
/// case's `timeline`), if any, are plain file names in the document's directory.
fn reads_only_its_directory(document: &[u8], toml: bool) -> bool {
    let Ok(text) = std::str::from_utf8(document) else {
        return false;
    };
    let doc: serde_json::Value = if toml {
        match toml::from_str::<toml::Table>(text).map(serde_json::to_value) {
            Ok(Ok(doc)) => doc,
            _ => return false,
        }
    } else {
        let options = arrears::model::load::yaml_options(text);
        match serde_saphyr::from_str_with_options::<serde_json::Value>(text, options) {
            Ok(doc) => doc,
            Err(_) => return false,
        }
    };
    let timelines = doc
        .get("cases")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|case| case.get("timeline"));
    doc.get("accounts").into_iter().chain(timelines).all(|name| {
        name.as_str().is_some_and(|name| {
            !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
    })
}
