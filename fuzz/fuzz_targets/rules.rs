//! Shared by `rules_yaml` and `rules_toml`: the input is one rule file next
//! to the shipped schema, loaded into in-memory `RuleDocs`, checked, built
//! into a policy and, when that succeeds, evaluated against the sample accounts.

use std::sync::LazyLock;

use arrears::model::load::load_text;
use arrears::model::RuleDocs;
use arrears::source::SourceFile;

const SCHEMA: &str = include_str!("../../rules/schema.yaml");
const ACCOUNTS: &str = include_str!("../../samples/accounts.jsonl");

static SAMPLES: LazyLock<Vec<serde_json::Value>> = LazyLock::new(|| {
    ACCOUNTS
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(8)
        .collect()
});

pub fn run(data: &[u8], name: &str) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut docs = RuleDocs::default();
    load_text(&mut docs, SourceFile::new("schema.yaml", SCHEMA));
    load_text(&mut docs, SourceFile::new(name, text));
    let loaded = arrears::policy::build(&docs);
    for d in &loaded.diagnostics {
        // Rendering slices the file with the span: it must not panic.
        let _ = d.render();
    }
    let Some(plan) = loaded.plan.as_ref() else {
        return;
    };
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for json in SAMPLES.iter() {
        if let Ok(account) = arrears::data::snapshot::decode_account(plan.schema(), json) {
            let _ = arrears::eval::evaluate(plan, &account, as_of, true);
            if let Some(policy) = &loaded.policy {
                let _ = arrears::policy::run(policy, &account, as_of, false);
            }
        }
    }
}
