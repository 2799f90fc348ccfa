//! JSON bytes → `serde_json::Value` → `decode_account` against the shipped
//! schema; decoded accounts are evaluated by the shipped rules. (Whole
//! accounts files: `accounts_file`; CSV extracts: `batch_csv`.)
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static LOADED: LazyLock<arrears::policy::Loaded> = LazyLock::new(|| {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let loaded = arrears::policy::load(&rules).expect("shipped rules load");
    assert!(!loaded.has_errors(), "shipped rules have errors");
    loaded
});

fuzz_target!(|data: &[u8]| {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let policy = LOADED.policy.as_ref().expect("shipped policy");
    let schema = policy.plan.schema();
    let _ = arrears::data::snapshot::account_id(schema, &json);
    if let Ok(account) = arrears::data::snapshot::decode_account(schema, &json) {
        for as_of in [(2026, 11, 22), (2024, 2, 29), (9999, 12, 31), (1, 1, 1)] {
            let as_of = chrono::NaiveDate::from_ymd_opt(as_of.0, as_of.1, as_of.2).unwrap();
            let _ = arrears::policy::run(policy, &account, as_of, true);
        }
    }
});
