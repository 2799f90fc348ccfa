//! What the benches share: a rules directory with one large generated table.

use std::path::Path;

/// A rules directory with the shipped schema and one `first` table of `rows` rows:
/// DPD bands of 10 days (the first column, `d`) and a jurisdiction column (`j`),
/// one YAML flow mapping per row, so 100,000 rows (the documented limit) stay
/// under the 8 MiB rule-file limit.
pub fn dpd_bands_dir(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/schema.yaml"),
        dir.path().join("schema.yaml"),
    )
    .expect("copy");
    let mut t = String::from(
        "table: bands\nhit: first\ninputs:\n  d: account.days_past_due\n  j: account.jurisdiction\noutputs:\n  band: integer\nrows:\n",
    );
    for i in 0..rows {
        let lo = i * 10;
        let juris = if i % 2 == 0 { "IL, NY" } else { "-" };
        t.push_str(&format!(
            "- {{id: r{i}, when: {{d: \"[{lo}..{}]\", j: \"{juris}\"}}, then: {{band: \"{i}\"}}}}\n",
            lo + 9
        ));
    }
    t.push_str("default: { band: \"-1\" }\n");
    assert!(t.len() as u64 <= arrears::model::load::MAX_RULE_FILE_BYTES);
    std::fs::write(dir.path().join("bands.yaml"), t).expect("write");
    dir
}

/// A copy of the shipped rules directory without `leave_out` (a folder of
/// it, such as `guardrails`) and without its test documents.
#[allow(dead_code)]
pub fn shipped_rules_without(leave_out: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path, leave_out: &[&str]) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read_dir") {
            let entry = entry.expect("entry");
            let name = entry.file_name();
            if leave_out.iter().any(|l| name == *l) {
                continue;
            }
            let path = entry.path();
            match path.is_dir() {
                true => copy(&path, &to.join(&name), &[]),
                false => {
                    std::fs::copy(&path, to.join(&name)).expect("copy");
                }
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy(&root.join("rules"), dir.path(), &[leave_out, "tests"]);
    dir
}

/// The jurisdictions of the shipped schema, in declaration order.
pub const JURISDICTIONS: [&str; 6] = ["IL", "NY", "CO", "CA", "TX", "GB"];

/// A rules directory with the shipped schema and one `first` table of `rows`
/// rows whose first column is an enum: row `i` tests jurisdiction
/// `i % 6` (the first column, `j`) and the DPD band `[10k..10k + 9]` for
/// `k = i / 6` (`d`), so every account matches one row, anywhere in the table.
#[allow(dead_code)]
pub fn enum_first_dir(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/schema.yaml"),
        dir.path().join("schema.yaml"),
    )
    .expect("copy");
    let mut t = String::from(
        "table: bands\nhit: first\ninputs:\n  j: account.jurisdiction\n  d: account.days_past_due\noutputs:\n  band: integer\nrows:\n",
    );
    for i in 0..rows {
        let lo = (i / JURISDICTIONS.len()) * 10;
        t.push_str(&format!(
            "- {{id: r{i}, when: {{j: \"{}\", d: \"[{lo}..{}]\"}}, then: {{band: \"{i}\"}}}}\n",
            JURISDICTIONS[i % JURISDICTIONS.len()],
            lo + 9
        ));
    }
    t.push_str("default: { band: \"-1\" }\n");
    std::fs::write(dir.path().join("bands.yaml"), t).expect("write");
    dir
}
