//! The reference `arrears batch` is measured against (issue 17, the shared
//! workload's README): a bare typed read of the workload's CSV on one core —
//! the csv crate and serde into a struct with `Decimal` and `NaiveDate`
//! fields, every field the workload's schema (`collections-rules/schema.yaml`)
//! maps from the file (`mappings/bench_csv.yaml`; the three columns no rule
//! reads are skipped, as the batch skips them), nothing else. Run:
//! `cargo bench --bench bare_read -- FILE.csv` (`bench/run.sh` does, next to
//! the batch on the same file); `RUNS=N` repeats the read. Prints wall and
//! CPU seconds of each run and a digest of the decoded values, so that none
//! of the decoding can be skipped. (No peak RSS: under `cargo bench` Linux
//! reports cargo's, which it keeps across `exec`.)

use std::time::Instant;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Clone, Copy, Deserialize)]
enum CustomerClass {
    #[serde(rename = "RES")]
    Res,
    #[serde(rename = "COM")]
    Com,
}

#[derive(Clone, Copy, Deserialize)]
enum Jurisdiction {
    CA,
    TX,
    NY,
    FL,
    ON,
}

/// One row of the workload's extract, typed as its schema types it.
#[derive(Deserialize)]
struct Account {
    account_id: String,
    customer_class: CustomerClass,
    jurisdiction: Jurisdiction,
    days_past_due: i64,
    arrears: Decimal,
    credit_limit: Decimal,
    over_limit_amount: Decimal,
    risk_score: i64,
    bankruptcy: bool,
    deceased: bool,
    contact_valid: bool,
    force_flag: bool,
    promised_amount: Option<Decimal>,
    paid_amount: Option<Decimal>,
    promise_due_date: Option<NaiveDate>,
    as_of: NaiveDate,
}

/// Folds every decoded field into one number.
fn digest(a: &Account, acc: &mut (u64, Decimal)) {
    use chrono::Datelike;
    let days = |d: NaiveDate| d.num_days_from_ce() as u64;
    let mut h = a.account_id.len() as u64
        + a.customer_class as u64
        + a.jurisdiction as u64 * 3
        + a.days_past_due as u64
        + a.risk_score as u64
        + u64::from(a.bankruptcy)
        + 2 * u64::from(a.deceased)
        + 4 * u64::from(a.contact_valid)
        + 8 * u64::from(a.force_flag)
        + days(a.as_of);
    if let Some(d) = a.promise_due_date {
        h += days(d);
    }
    acc.0 = acc.0.wrapping_mul(31).wrapping_add(h);
    acc.1 += a.arrears + a.credit_limit + a.over_limit_amount;
    acc.1 += a.promised_amount.unwrap_or_default() + a.paid_amount.unwrap_or_default();
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn main() {
    // `cargo bench` passes `--bench`; the file is the first other argument.
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: cargo bench --bench bare_read -- FILE.csv");
        std::process::exit(2);
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    for run in 1..=runs {
        let cpu0 = cpu_seconds();
        let start = Instant::now();
        let mut reader = csv::Reader::from_path(&path).expect("the CSV opens");
        let mut acc = (0u64, Decimal::ZERO);
        let mut rows = 0u64;
        for account in reader.deserialize::<Account>() {
            digest(&account.expect("a well-formed row"), &mut acc);
            rows += 1;
        }
        let wall = start.elapsed().as_secs_f64();
        let cpu1 = cpu_seconds();
        println!(
            "bare typed read, run {run}: {rows} rows, {wall:.3} s wall, {:.3} s CPU (digest {:x} {})",
            cpu1 - cpu0,
            acc.0,
            acc.1
        );
    }
}
