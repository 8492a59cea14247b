#!/usr/bin/env bash
# runtime::sync and runtime::fs against tokio's: runs the `sync` and `fs` criterion benches
# (`cargo bench -p runtime-benches --bench sync|fs`) ROUNDS times, alternating the order of the
# runtimes (tokio first in odd rounds, ours first in even ones: STD_BENCH_REVERSE), and prints
# for each shape the medians and the median of the per-round ratios ours / tokio with their
# min-max spread. The goal is a ratio of at most 1.0.
#
#   benches/std-ratios.sh                     # both benches, 3 rounds
#   benches/std-ratios.sh --rounds 5 --bench sync
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
benches=(sync fs)
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift ;;
        --bench) benches=("$2"); shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

target="${CARGO_TARGET_DIR:-target}"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
for b in "${benches[@]}"; do
    cargo bench -p runtime-benches --bench "$b" --no-run >/dev/null 2>&1
done

for ((r = 1; r <= rounds; r++)); do
    if (( r % 2 == 0 )); then export STD_BENCH_REVERSE=1; order="ours, tokio"; else unset STD_BENCH_REVERSE; order="tokio, ours"; fi
    for b in "${benches[@]}"; do
        echo "== $b: round $r of $rounds ($order)" >&2
        cargo bench -p runtime-benches --bench "$b" >"$results/$b-round$r.log" 2>&1 || { cat "$results/$b-round$r.log" >&2; exit 1; }
    done
    python3 benches/criterion_ratios.py collect "$target/criterion" "$results/round$r.json" "${benches[@]}"
done

python3 benches/criterion_ratios.py report "$results" "$rounds" ours:tokio tokio ours
echo "goal: ours/tokio <= 1.00x"
