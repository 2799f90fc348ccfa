//! The shared collections bench workload (`../shared/bench/`), evaluation only,
//! one core: the three tables `entry`, `collection_class` and `promise` per
//! pre-decoded account. Before timing, all 1,000,000 accounts of seed 42 are
//! run through the same path and their checksums asserted against the
//! workload's README; `three_tables_two_threads` splits the same accounts
//! between two threads. Run: `cargo bench --bench workload`
//! (`WORKLOAD_CHECK=0` skips the 1M-account check).

mod collections;

use std::hint::black_box;

use arrears::eval::Tables;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Accounts held decoded for the timed loop (the first of the 1M).
const TIMED: usize = 100_000;

fn bench(c: &mut Criterion) {
    let (policy, tables) = collections::load_plan();
    let plan = &policy.plan;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let path = collections::accounts_file(1_000_000, 42);
    if std::env::var("WORKLOAD_CHECK").as_deref() != Ok("0") {
        let sums = collections::checksums_of(plan, tables, &path, as_of);
        assert_eq!(
            sums.lines(),
            collections::expected_lines(),
            "bench checksums"
        );
        eprintln!("workload checksums: identical to the workload's README (1,000,000 accounts)");
    }
    let accounts = collections::read_accounts(plan, &path, TIMED);
    let mut group = c.benchmark_group("workload");
    group.throughput(Throughput::Elements(accounts.len() as u64));
    group.sample_size(10);
    let evaluate = |accounts: &[arrears::types::Value]| evaluate(plan, &tables, accounts, as_of);
    group.bench_function("three_tables_one_core", |b| b.iter(|| evaluate(&accounts)));
    // The same accounts split between two threads: the speed-up a second core gives.
    group.bench_function("three_tables_two_threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for half in accounts.chunks(accounts.len().div_ceil(2)) {
                    s.spawn(|| evaluate(half));
                }
            })
        })
    });
    group.finish();
}

/// One pass over `accounts`; not inlined, so that callgrind can count its
/// instructions alone (`--toggle-collect='*workload::evaluate*'`).
#[inline(never)]
fn evaluate(
    plan: &arrears::lang::compile::Plan,
    tables: &[u32],
    accounts: &[arrears::types::Value],
    as_of: chrono::NaiveDate,
) {
    for account in accounts {
        let mut t = Tables::new(plan, account, as_of, false);
        for &table in tables {
            black_box(t.require(table).ok());
        }
        black_box(&t.evaluation);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
