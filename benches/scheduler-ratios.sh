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
    python3 - "$target/criterion" "$results/round$r.json" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
rows = {}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    group, func = bench.get("group_id"), bench.get("function_id") or ""
    if group not in ("current_thread", "multi_thread") or "/" not in func:
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
peers = ["tokio", "smol"]
def fmt(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
def ratio(k, peer):
    """Median, min and max of the per-round ratios ours / peer, or None if never both ran."""
    rs = [p[k]["ours"] / p[k][peer] for p in per if "ours" in p.get(k, {}) and peer in p.get(k, {})]
    return (statistics.median(rs), min(rs), max(rs), len(rs)) if rs else None
def median_of(k, side):
    v = [p[k][side] for p in per if side in p.get(k, {})]
    return fmt(statistics.median(v)) if v else "-"
print(f"\n{'flavor':<15} {'shape':<14} {'tokio':>10} {'smol':>10} {'ours':>10}  {'ours/tokio':<26} {'ours/smol':<26}")
print("-" * 118)
for k in sorted(per[0]):
    flavor, shape = k.split("|")
    cells = []
    for peer in peers:
        r = ratio(k, peer)
        cells.append(f"{r[0]:.2f}x ({r[1]:.2f}-{r[2]:.2f}, {r[3]} rds)" if r else "-")
    print(f"{flavor:<15} {shape:<14} {median_of(k, 'tokio'):>10} {median_of(k, 'smol'):>10} {median_of(k, 'ours'):>10}  "
          f"{cells[0]:<26} {cells[1]:<26}")
print("\nratio = our median / the peer's median per round (same run, same shapes), median over rounds (min-max); lower is better.")
PY
