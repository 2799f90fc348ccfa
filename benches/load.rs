//! Loading speed of a large rules directory: `load/table_rows/100000` reads,
//! checks, compiles and analyses (as `arrears lint` does) the shipped schema
//! and one generated `first` table of 100,000 rows (the documented limit):
//! DPD bands of 10 days and a jurisdiction column, one YAML flow mapping per
//! row so the file stays under the 8 MiB rule-file limit.
//!
//! Run: `cargo bench --bench load`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

mod common;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: usize = 100_000;

/// What `arrears lint` does with a directory: load, check, compile, analyse.
fn lint(dir: &Path) -> usize {
    let docs = arrears::model::load_dir(dir).expect("load");
    let loaded = arrears::policy::build(&docs);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let plan = loaded.plan.as_ref().expect("plan");
    let ctx = arrears::lang::analysis::Context::default();
    loaded.diagnostics.len() + arrears::lang::analysis::analyse(&plan.program, &ctx).len()
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    let dir = common::dpd_bands_dir(ROWS);
    group.bench_with_input(BenchmarkId::new("table_rows", ROWS), &dir, |b, dir| {
        b.iter(|| black_box(lint(dir.path())))
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
