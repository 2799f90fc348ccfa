#!/usr/bin/env bash
# Regenerates every performance figure of `arrears batch` from scratch:
#   1. builds the release binary;
#   2. generates 1M- and 5M-account CSV extracts (with companion files);
#   3. times `arrears batch` on each with /usr/bin/time -v (wall time, peak RSS);
#   4. the shared collections workload (../shared/bench, or ARREARS_BENCH_WORKLOAD), when present: its
#      1M-account CSV (seed 42) through `arrears batch` (actions, checksums asserted against the workload's
#      README) and `arrears batch --decisions`, each on 1 and 2 threads, next to the bare typed read of the
#      same CSV they are measured against (benches/bare_read.rs: csv + serde into a typed struct, one core);
#   5. runs the criterion benches (policy per account, large tables with an integer and an enum first
#      column, the workload's three tables on one core and on two threads, checksums asserted).
# Usage: bench/run.sh [WORKDIR]   (default: a fresh temporary directory; ~1.5 GB of disk)
# Env: SIZES="1000000 5000000" to choose the extract sizes (SIZES="" skips them); RUNS=3 batch runs per size (wall
# time on a shared VM varies from run to run: quote the range, and the best as the least disturbed); BENCH=0 to skip
# criterion; WORKLOAD=0 to skip the shared workload.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
sizes="${SIZES-1000000 5000000}"
cargo build --release --quiet
bin=target/release/arrears
if [ -n "${CARGO_TARGET_DIR:-}" ]; then bin="$CARGO_TARGET_DIR/release/arrears"; fi
echo "cores: $(nproc)  workdir: $work"
for n in $sizes; do
  in="$work/extract-$n.csv"
  if [ ! -f "$in" ]; then
    /usr/bin/time -f "generate $n: %e s" "$bin" generate --accounts "$n" --seed 1 "$in"
  fi
  echo "== batch $n rows ($(du -h "$in" | cut -f1) + companions)"
  for run in $(seq "${RUNS:-3}"); do
    # Each run writes a new file: replacing the last run's output would time the filesystem freeing it (see README).
    rm -f "$work/actions-$n.jsonl" "$work/rejects-$n.jsonl"; sync
    /usr/bin/time -v "$bin" batch --rules rules --as-of 2026-11-22 \
        --out "$work/actions-$n.jsonl" --rejects "$work/rejects-$n.jsonl" \
        --summary "$work/summary-$n.json" "$in" 2> "$work/time-$n.txt" || true
    echo "run $run:"
    grep -E "rows read|User time|Elapsed \(wall|Maximum resident|Percent of CPU" "$work/time-$n.txt"
  done
  echo "actions: $(wc -l < "$work/actions-$n.jsonl")"
done
wl="${ARREARS_BENCH_WORKLOAD:-../shared/bench}"
if [ "${WORKLOAD:-1}" != 0 ] && [ -d "$wl/collections-rules" ]; then
  cargo build --release --quiet --manifest-path "$wl/gen/Cargo.toml" --target-dir target/bench-gen
  csv="$work/collections-1000000-42.csv"
  [ -f "$csv" ] || target/bench-gen/release/gen --n 1000000 --seed 42 --csv "$csv"
  # The reference of issue 17's batch target: a bare typed read of the same CSV (csv + serde, one core).
  RUNS="${RUNS:-3}" cargo bench --quiet --bench bare_read -- "$csv" 2>&1 | grep -E "^bare typed read"
  for mode in actions decisions; do
    flag=""; [ "$mode" = decisions ] && flag="--decisions"
    for threads in 1 2; do
      for run in $(seq "${RUNS:-3}"); do
        rm -f "$work/collections-$mode.jsonl"; sync
        /usr/bin/time -f "collections batch $mode, $threads thread(s), run $run: %e s wall, %U s user, %S s sys, %M KB peak" \
          "$bin" batch --rules "$wl/collections-rules" --as-of 2026-11-22 --threads "$threads" $flag \
          --out "$work/collections-$mode.jsonl" "$csv" 2>&1 | grep -E "^collections"
      done
    done
  done
  python3 "$wl/actions_checksum.py" "$work/collections-actions.jsonl" | grep -E "^(count\.|digest: )" > "$work/collections-sums.txt"
  if grep -E "^(count\.|digest: )" "$wl/README.md" | diff - "$work/collections-sums.txt"; then
    echo "collections checksums: identical to the workload's README"
  else
    echo "collections checksums: DIFFER from the workload's README" >&2; exit 1
  fi
fi
if [ "${BENCH:-1}" != 0 ]; then
  cargo bench --bench policy -- --noplot 2>&1 | grep -E "^[a-z_/0-9]+ |time:|thrpt:"
  cargo bench --bench load -- --noplot 2>&1 | grep -E "^[a-z_/0-9]+ |time:"
  if [ "${WORKLOAD:-1}" != 0 ] && [ -d "$wl/collections-rules" ]; then
    ARREARS_BENCH_WORKLOAD="$wl" cargo bench --bench workload -- --noplot 2>&1 | grep -E "^[a-z_/0-9]+|checksums|time:|thrpt:"
  fi
fi
