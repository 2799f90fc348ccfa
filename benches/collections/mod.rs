//! The shared collections bench workload (`../shared/bench/`: generator, the
//! three tables in arrears' format, expected checksums), read where it lies:
//! its README states no licence, so its files are not copied into this
//! repository. `ARREARS_BENCH_WORKLOAD` names another copy. Accounts come from
//! its generator, built and run on first use into `target/bench-data/`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrears::eval::Tables;
use arrears::lang::compile::Plan;
use arrears::types::{Type, Value};

/// The four outputs the workload's checksums read, in digest order.
pub const OUTPUTS: [(&str, &str); 4] = [
    ("entry", "category"),
    ("collection_class", "collection_class"),
    ("collection_class", "template"),
    ("promise", "promise_status"),
];

pub fn workload_dir() -> PathBuf {
    std::env::var_os("ARREARS_BENCH_WORKLOAD")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench"))
}

/// The workload's plan (its policy's tables) and the indices of its three tables.
pub fn load_plan() -> (arrears::policy::Policy, [u32; 3]) {
    let dir = workload_dir().join("collections-rules");
    let loaded = arrears::policy::load(&dir).expect("bench rules load");
    assert!(
        !loaded.has_errors(),
        "bench rules: {:?}",
        loaded.diagnostics
    );
    let policy = loaded.policy.expect("bench policy");
    let index = |name: &str| {
        policy
            .plan
            .tables
            .iter()
            .position(|t| t.table.name == name)
            .expect("bench table") as u32
    };
    let tables = [index("entry"), index("collection_class"), index("promise")];
    (policy, tables)
}

/// The generated accounts (JSON Lines) for `n` and `seed`, generated on first use.
pub fn accounts_file(n: usize, seed: u64) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join(format!("target/bench-data/accounts-{n}-{seed}.jsonl"));
    if out.exists() {
        return out;
    }
    let gen = workload_dir().join("gen");
    let target = root.join("target/bench-gen");
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(gen.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the workload generator");
    std::fs::create_dir_all(out.parent().expect("dir")).expect("bench-data dir");
    let partial = out.with_extension("partial");
    let status = Command::new(target.join("release/gen"))
        .args([
            "--n",
            &n.to_string(),
            "--seed",
            &seed.to_string(),
            "--jsonl",
        ])
        .arg(&partial)
        .status()
        .expect("generator runs");
    assert!(status.success(), "generating accounts");
    std::fs::rename(&partial, &out).expect("rename");
    out
}

/// Decodes accounts `skip..skip + take` of a JSON Lines file.
pub fn read_accounts(plan: &Plan, path: &Path, take: usize) -> Vec<Value> {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("accounts open"));
    file.lines()
        .take(take)
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
            arrears::data::snapshot::decode_account(&plan.program.schema, &json)
                .expect("account decodes")
        })
        .collect()
}

/// The workload's checksums: counts per output value and the FNV-1a digest
/// (see the workload's README), accumulated one account at a time.
#[derive(Default, PartialEq, Debug)]
pub struct Checksums {
    counts: [BTreeMap<String, u64>; 4],
    digest: u64,
}

impl Checksums {
    /// Evaluates the three tables for one account and adds its outputs.
    pub fn add(
        &mut self,
        plan: &Plan,
        tables: [u32; 3],
        account: &Value,
        as_of: chrono::NaiveDate,
    ) {
        let mut t = Tables::new(plan, account, as_of, false);
        for table in tables {
            t.require(table).expect("bench tables evaluate");
        }
        self.add_evaluated(plan, account, &t.evaluation.decisions);
    }

    pub fn add_evaluated(
        &mut self,
        plan: &Plan,
        account: &Value,
        decisions: &[arrears::eval::Decision],
    ) {
        let Value::Record(fields) = account else {
            panic!("an account is a record")
        };
        let Value::Text(id) = &fields[plan
            .program
            .schema
            .account()
            .slot("account_id")
            .expect("id")]
        else {
            panic!("account_id is text")
        };
        let mut text = id.to_string();
        for (k, (table, output)) in OUTPUTS.iter().enumerate() {
            let compiled = plan
                .tables
                .iter()
                .position(|t| t.table.name == *table)
                .expect("table");
            let decision = decisions
                .iter()
                .find(|d| d.table == compiled as u32)
                .expect("decided");
            let column = plan.tables[compiled]
                .results
                .iter()
                .position(|(name, _)| &**name == *output)
                .expect("output");
            let value = match (
                &plan.result(decision)[column],
                &plan.tables[compiled].results[column].1,
            ) {
                (Value::Enum(i), Type::Enum(e)) => {
                    plan.program.schema.enum_def(*e).variants[*i as usize].clone()
                }
                (Value::Text(s), _) => s.to_string(),
                (other, _) => panic!("unexpected output {other:?}"),
            };
            text.push('|');
            text.push_str(&value);
            *self.counts[k].entry(value).or_default() += 1;
        }
        let mut h: u64 = 0xcbf29ce484222325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        self.digest = self.digest.wrapping_add(h);
    }

    /// The checksum lines as the workload's README prints them.
    pub fn lines(&self) -> Vec<String> {
        let names = ["category", "collection_class", "template", "promise_status"];
        let mut lines: Vec<String> = names
            .iter()
            .zip(&self.counts)
            .map(|(name, counts)| {
                let parts: Vec<String> = counts.iter().map(|(v, n)| format!("{v}={n}")).collect();
                format!("count.{name}: {}", parts.join(" "))
            })
            .collect();
        lines.push(format!("digest: {:016x}", self.digest));
        lines
    }
}

/// The expected checksum lines for 1,000,000 accounts of seed 42, from the workload's README.
pub fn expected_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(workload_dir().join("README.md")).expect("README");
    readme
        .lines()
        .filter(|l| l.starts_with("count.") || l.starts_with("digest: "))
        .map(str::to_string)
        .collect()
}

/// Streams every account of `path` through the three tables and returns the checksums.
pub fn checksums_of(
    plan: &Plan,
    tables: [u32; 3],
    path: &Path,
    as_of: chrono::NaiveDate,
) -> Checksums {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("accounts open"));
    let mut sums = Checksums::default();
    for line in file.lines() {
        let json: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
        let account = arrears::data::snapshot::decode_account(&plan.program.schema, &json)
            .expect("account decodes");
        sums.add(plan, tables, &account, as_of);
    }
    sums
}
