//! Evaluation speed of the pieces `arrears batch` runs per account:
//! - `policy/one_account`: one decoded account (a generated mix of cards,
//!   loans and utilities, new and open cases) through the whole shipped policy,
//!   as `arrears batch` runs it (only the tables the pipeline reads);
//! - `policy/one_account_two_threads`: the same accounts split between two
//!   threads (the speed-up a second core gives; shared reference counts or
//!   allocator contention show here), each thread running all of a sample's
//!   passes;
//! - `policy/one_account_without_guard_rails`: the same, the policy loaded
//!   without its guard-rail pack (`rules/guardrails/`): what the pack costs;
//! - `policy/one_account_all_tables`: the same, evaluating every table first
//!   (as `dry-run` and `test` do, and `batch --all-tables`);
//! - `policy/evaluate_tables`: the same accounts through the tables only;
//! - `large_table/rows/N`: one table of N rows whose first column is an integer
//!   range (the shape of score or DPD bands), generated into a temporary rules
//!   directory, against a 2-row table of the same shape;
//! - `large_table_enum/rows/N`: a `first` table of N rows whose first column
//!   is an enum (jurisdiction) and second a DPD band, 2,000 rows against 20
//!   (the target: within 5×).
//!
//! Run: `cargo bench --bench policy`.

use std::hint::black_box;
use std::path::Path;

use arrears::data::generate::{json_line, Generator};
use arrears::data::snapshot::decode_account;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

mod common;

// The allocator `arrears batch` runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ACCOUNTS: usize = 2000;

fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")
}

fn generated(schema: &arrears::data::schema::Schema, n: usize) -> Vec<arrears::types::Value> {
    let mut g = Generator::new(7, as_of());
    (0..n)
        .map(|_| {
            let json: serde_json::Value =
                serde_json::from_str(&json_line(&g.account(), None)).expect("json");
            decode_account(schema, &json).expect("decodes")
        })
        .collect()
}

/// One pass of `policy/one_account`; not inlined, so that callgrind can count
/// its instructions alone (`--toggle-collect='*policy::run_accounts*'`).
#[inline(never)]
fn run_accounts(
    policy: &arrears::policy::Policy,
    accounts: &[arrears::types::Value],
    as_of: chrono::NaiveDate,
) {
    // One actions buffer handed back for every account, as `arrears batch`
    // does (`data::batch::part`): a fresh `Vec` per account would count its
    // growth, which the batch never pays.
    let mut actions = Vec::new();
    for account in accounts {
        let buffer = std::mem::take(&mut actions);
        if let Ok(run) = black_box(arrears::policy::run_needed_into(
            policy, account, as_of, buffer,
        )) {
            actions = run.actions;
        }
    }
}

fn policy(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = arrears::policy::load(&root.join("rules")).expect("rules load");
    let policy = loaded.policy.as_ref().expect("shipped policy");
    let accounts = generated(policy.plan.schema(), ACCOUNTS);
    let as_of = as_of();
    let mut group = c.benchmark_group("policy");
    group.throughput(Throughput::Elements(accounts.len() as u64));
    group.bench_function("one_account", |b| {
        b.iter(|| run_accounts(policy, &accounts, as_of))
    });
    // The same accounts split between two threads, which live through all
    // of a sample's passes as the batch's workers do: spawning per pass
    // (1,000 accounts each) would count two thread starts and their fresh
    // allocator pages against every 2,000 accounts.
    group.bench_function("one_account_two_threads", |b| {
        b.iter_custom(|passes| {
            let start = std::time::Instant::now();
            std::thread::scope(|s| {
                for half in accounts.chunks(accounts.len().div_ceil(2)) {
                    s.spawn(move || {
                        for _ in 0..passes {
                            run_accounts(policy, half, as_of);
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    // What the guard-rail pack costs: the same accounts through the same
    // policy without `rules/guardrails/` (the pipeline issue 17's 2 M/s
    // target was set on, before the pack was shipped).
    let without = common::shipped_rules_without("guardrails");
    let loaded_without = arrears::policy::load(without.path()).expect("rules load");
    assert!(
        !loaded_without.has_errors(),
        "{:?}",
        loaded_without.diagnostics
    );
    let policy_without = loaded_without.policy.as_ref().expect("policy");
    assert!(policy_without.roles.guards.is_empty());
    group.bench_function("one_account_without_guard_rails", |b| {
        b.iter(|| run_accounts(policy_without, &accounts, as_of))
    });
    group.bench_function("one_account_all_tables", |b| {
        b.iter(|| {
            for account in &accounts {
                black_box(arrears::policy::run(policy, account, as_of, false).ok());
            }
        })
    });
    group.bench_function("evaluate_tables", |b| {
        b.iter(|| {
            for account in &accounts {
                black_box(arrears::eval::evaluate(&policy.plan, account, as_of, false).ok());
            }
        })
    });
    group.finish();
}

fn large_table(c: &mut Criterion) {
    let mut group = c.benchmark_group("large_table");
    for rows in [2usize, 2000] {
        let dir = common::dpd_bands_dir(rows);
        let loaded = arrears::policy::load(dir.path()).expect("load");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let plan = loaded.plan.expect("plan");
        // Accounts spread over the whole DPD range of the table.
        let mut accounts = generated(plan.schema(), 1000);
        let dpd_slot = plan.schema().account().slot("days_past_due").expect("dpd");
        for (i, a) in accounts.iter_mut().enumerate() {
            if let arrears::types::Value::Record(fields) = a {
                let mut f = fields.to_vec();
                f[dpd_slot] = arrears::types::Value::Int(((i * 7919) % (rows * 10)) as i64);
                *a = arrears::types::Value::Record(f.into());
            }
        }
        group.throughput(Throughput::Elements(accounts.len() as u64));
        group.bench_with_input(BenchmarkId::new("rows", rows), &accounts, |b, accounts| {
            b.iter(|| {
                for account in accounts {
                    black_box(arrears::eval::evaluate(&plan, account, as_of(), false).ok());
                }
            })
        });
    }
    group.finish();
}

fn large_table_enum(c: &mut Criterion) {
    let mut group = c.benchmark_group("large_table_enum");
    for rows in [20usize, 2000] {
        let dir = common::enum_first_dir(rows);
        let loaded = arrears::policy::load(dir.path()).expect("load");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        let plan = loaded.plan.expect("plan");
        // Accounts spread over every row of the table: each jurisdiction, and
        // DPD over the whole range of bands.
        let mut accounts = generated(plan.schema(), 1000);
        let schema = plan.schema().account();
        let (dpd, juris) = (
            schema.slot("days_past_due").expect("dpd"),
            schema.slot("jurisdiction").expect("jurisdiction"),
        );
        let bands = rows.div_ceil(common::JURISDICTIONS.len());
        for (i, a) in accounts.iter_mut().enumerate() {
            if let arrears::types::Value::Record(fields) = a {
                let mut f = fields.to_vec();
                f[dpd] = arrears::types::Value::Int(((i * 7919) % (bands * 10)) as i64);
                f[juris] = arrears::types::Value::Enum((i % common::JURISDICTIONS.len()) as u32);
                *a = arrears::types::Value::Record(f.into());
            }
        }
        group.throughput(Throughput::Elements(accounts.len() as u64));
        group.bench_with_input(BenchmarkId::new("rows", rows), &accounts, |b, accounts| {
            b.iter(|| {
                for account in accounts {
                    black_box(arrears::eval::evaluate(&plan, account, as_of(), false).ok());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, policy, large_table, large_table_enum);
criterion_main!(benches);
