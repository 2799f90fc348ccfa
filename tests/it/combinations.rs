//! The schema's `valid_combinations` at decode time: `dry-run` and `arrears test` refuse an
//! account whose disposition layers the shipped schema does not allow, naming the account and
//! the disposition (the batch's rejects: `batch::an_invalid_disposition_combination_rejects_its_row`).

use crate::common::{arrears, stderr, stdout};

const ACCOUNTS: &str = "tests/fixtures/combinations/accounts.json";

#[test]
fn dry_run_refuses_an_invalid_disposition_combination() {
    let o = arrears(&[
        "dry-run",
        "--rules",
        "rules",
        "--as-of",
        "2026-11-22",
        ACCOUNTS,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_snapshot!(
        "dry_run_invalid_disposition",
        format!("{}{}", stdout(&o), stderr(&o))
    );
}

/// A line that leaves a field out allows any variant of it; `account` names the account record.
#[test]
fn a_field_a_line_leaves_out_may_be_anything() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("schema.yaml"),
        "schema: s\nenums:\n  kind: [a, b]\n  size: [small, large]\n\
         fields:\n  id: text\n  kind: kind\n  items:\n    - kind: kind\n      size: size\n\
         valid_combinations:\n  account:\n    - { kind: a }\n\
         \x20 account.items:\n    - { kind: a }\n    - { kind: b, size: small }\n",
    )
    .unwrap();
    let accounts = dir.path().join("accounts.yaml");
    std::fs::write(
        &accounts,
        "- { id: ok, kind: a, items: [{kind: a, size: large}, {kind: b, size: small}] }\n\
         - { id: bad-item, kind: a, items: [{kind: b, size: large}] }\n\
         - { id: bad-account, kind: b, items: [] }\n",
    )
    .unwrap();
    let o = arrears(&[
        "dry-run",
        "--rules",
        rules.to_str().unwrap(),
        "--as-of",
        "2026-11-22",
        accounts.to_str().unwrap(),
    ]);
    let text = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{text}{}", stderr(&o));
    assert!(
        text.contains("`account.items[0]`: kind `b`, size `large` is not a valid combination"),
        "{text}"
    );
    assert!(
        text.contains("`account`: kind `b` is not a valid combination"),
        "{text}"
    );
    assert!(text.contains("1 evaluated, 2 failed"), "{text}");
}
