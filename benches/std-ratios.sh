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
    python3 - "$target/criterion" "$results/round$r.json" "${benches[@]}" <<'PY'
import json, os, sys
root, out, groups = sys.argv[1], sys.argv[2], set(sys.argv[3:])
rows = {}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    group, func = bench.get("group_id"), bench.get("function_id") or ""
    if group not in groups or "/" not in func:
        continue
    shape, side = func.rsplit("/", 1)
    est = json.load(open(os.path.join(dirpath, "estimates.json")))
    rows.setdefault(f"{group}|{shape}", {})[side] = est["median"]["point_estimate"]
json.dump(rows, open(out, "w"))
PY
done

python3 - "$results" "$rounds" <<'PY'
import json, os, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
per = [json.load(open(os.path.join(d, f"round{r}.json"))) for r in range(1, rounds + 1)]
def fmt(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
def median_of(k, side):
    v = [p[k][side] for p in per if side in p.get(k, {})]
    return fmt(statistics.median(v)) if v else "-"
print(f"\n{'bench':<6} {'shape':<22} {'tokio':>10} {'ours':>10}  {'ours/tokio':<26}")
print("-" * 80)
for k in sorted(per[0]):
    group, shape = k.split("|")
    rs = [p[k]["ours"] / p[k]["tokio"] for p in per if {"ours", "tokio"} <= set(p.get(k, {}))]
    cell = f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f}, {len(rs)} rds)" if rs else "-"
    print(f"{group:<6} {shape:<22} {median_of(k, 'tokio'):>10} {median_of(k, 'ours'):>10}  {cell:<26}")
print("\nratio = our median / tokio's median per round (same run, same shapes), median over rounds (min-max); lower is better; goal <= 1.00x.")
PY
