#!/usr/bin/env bash
# Our scheduler against tokio's and smol's: runs the `scheduler` criterion bench
# (`cargo bench -p runtime-benches --bench scheduler`) ROUNDS times, alternating the order of the
# runtimes (tokio, smol, ours in odd rounds; ours, smol, tokio in even ones), and prints for each
# shape the medians of the per-round ratios ours / tokio and ours / smol with their min-max spread.
#
#   benches/scheduler-ratios.sh               # 3 rounds
#   benches/scheduler-ratios.sh --rounds 5
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

target="${CARGO_TARGET_DIR:-target}"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
cargo bench -p runtime-benches --bench scheduler --no-run >/dev/null 2>&1

for ((r = 1; r <= rounds; r++)); do
    if (( r % 2 == 0 )); then export SCHEDULER_BENCH_REVERSE=1; order="ours, smol, tokio"; else unset SCHEDULER_BENCH_REVERSE; order="tokio, smol, ours"; fi
    echo "== round $r of $rounds ($order)" >&2
    cargo bench -p runtime-benches --bench scheduler >"$results/round$r.log" 2>&1 || { cat "$results/round$r.log" >&2; exit 1; }
    python3 benches/criterion_ratios.py collect "$target/criterion" "$results/round$r.json" current_thread multi_thread
done

python3 benches/criterion_ratios.py report "$results" "$rounds" ours:tokio,ours:smol tokio smol ours
