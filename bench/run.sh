#!/usr/bin/env bash
# Regenerates every performance figure of `arrears batch` from scratch:
#   1. builds the release binary;
#   2. generates 1M- and 5M-account CSV extracts (with companion files);
#   3. times `arrears batch` on each with /usr/bin/time -v (wall time, peak RSS);
#   4. runs the criterion benches (policy per account, large table).
# Usage: bench/run.sh [WORKDIR]   (default: a fresh temporary directory; ~1.5 GB of disk)
# Env: SIZES="1000000 5000000" to choose the extract sizes; RUNS=3 batch runs per size (wall time on a
# shared VM varies from run to run: quote the range, and the best as the least disturbed); BENCH=0 to skip criterion.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
sizes="${SIZES:-1000000 5000000}"
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
    /usr/bin/time -v "$bin" batch --rules rules --as-of 2026-11-22 \
        --out "$work/actions-$n.jsonl" --rejects "$work/rejects-$n.jsonl" \
        --summary "$work/summary-$n.json" "$in" 2> "$work/time-$n.txt" || true
    echo "run $run:"
    grep -E "rows read|User time|Elapsed \(wall|Maximum resident|Percent of CPU" "$work/time-$n.txt"
  done
  echo "actions: $(wc -l < "$work/actions-$n.jsonl")"
done
if [ "${BENCH:-1}" != 0 ]; then
  cargo bench --bench policy -- --noplot 2>&1 | grep -E "^[a-z_/0-9]+ |time:|thrpt:"
  cargo bench --bench load -- --noplot 2>&1 | grep -E "^[a-z_/0-9]+ |time:"
fi
