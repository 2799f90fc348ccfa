//! An accounts file as `arrears dry-run` reads it (YAML list, JSON array or
//! object, JSON Lines): parsing, then every record's id and decoding against
//! the shipped schema, and the shipped policy for each decoded account.
//!
//! Input: byte 0 picks the file type (`.yaml`, `.json`, `.jsonl`); the rest is
//! the file.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

struct Fixture {
    loaded: arrears::policy::Loaded,
    dir: PathBuf,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let loaded = arrears::policy::load(&rules).expect("shipped rules load");
    assert!(!loaded.has_errors(), "shipped rules have errors");
    let dir = std::env::temp_dir().join(format!("arrears-fuzz-accounts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    Fixture { loaded, dir }
});

fuzz_target!(|data: &[u8]| {
    let Some((&control, file)) = data.split_first() else {
        return;
    };
    let fx = &*FIXTURE;
    let policy = fx.loaded.policy.as_ref().expect("shipped policy");
    let schema = policy.plan.schema();
    let extension = ["yaml", "json", "jsonl"][usize::from(control) % 3];
    let path = fx.dir.join(format!("accounts.{extension}"));
    std::fs::write(&path, file).expect("write the accounts file");
    let Ok(records) = arrears::data::accounts::read_accounts(&path) else {
        return;
    };
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    for record in records {
        let Ok(json) = record.json else {
            continue;
        };
        let _ = arrears::data::snapshot::account_id(schema, &json);
        if let Ok(account) = arrears::data::snapshot::decode_account(schema, &json) {
            let _ = arrears::policy::run(policy, &account, as_of, false);
        }
    }
});
