//! Evaluation speed on the shipped rules: one decoded account through every
//! table (`evaluate`), and through the whole policy pipeline (`policy::run`).
//! Run: `cargo bench --bench evaluate`.

use std::hint::black_box;
use std::path::Path;

use arrears::data::snapshot::decode_account;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = arrears::policy::load(&root.join("rules")).expect("rules load");
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let records = arrears::data::accounts::read_accounts(&root.join("samples/accounts.yaml"))
        .expect("samples read");
    let plan = loaded
        .policy
        .as_ref()
        .map(|p| &p.plan)
        .or(loaded.plan.as_ref())
        .expect("rules compile");
    let accounts: Vec<_> = records
        .iter()
        .filter_map(|r| decode_account(&plan.program.schema, r.json.as_ref().ok()?).ok())
        .collect();
    let mut group = c.benchmark_group("shipped_rules");
    group.throughput(Throughput::Elements(accounts.len() as u64));
    group.bench_function("evaluate_all_tables", |b| {
        b.iter(|| {
            for account in &accounts {
                black_box(arrears::eval::evaluate(plan, account, as_of, false).ok());
            }
        })
    });
    if let Some(policy) = &loaded.policy {
        group.bench_function("policy_run", |b| {
            b.iter(|| {
                for account in &accounts {
                    black_box(arrears::policy::run(policy, account, as_of, false).ok());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
