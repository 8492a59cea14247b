#!/usr/bin/env bash
# Our scheduler against tokio's: runs the `scheduler` criterion bench ROUNDS times, alternating
# which runtime goes first (tokio first in odd rounds, ours first in even ones), and prints for
# each shape the median of the per-round ratios ours / tokio with their min-max spread.
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
cargo bench --bench scheduler --no-run >/dev/null 2>&1

for ((r = 1; r <= rounds; r++)); do
    if (( r % 2 == 0 )); then export SCHEDULER_BENCH_REVERSE=1; order="ours first"; else unset SCHEDULER_BENCH_REVERSE; order="tokio first"; fi
    echo "== round $r of $rounds ($order)" >&2
    cargo bench --bench scheduler >"$results/round$r.log" 2>&1 || { cat "$results/round$r.log" >&2; exit 1; }
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
def fmt(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
print(f"\n{'flavor':<15} {'shape':<14} {'tokio':>10} {'ours':>10}  ratio ours/tokio (median of rounds)")
print("-" * 86)
for k in sorted(per[0]):
    flavor, shape = k.split("|")
    rs, ts, os_ = [], [], []
    for p in per:
        row = p.get(k, {})
        if "tokio" in row and "ours" in row:
            rs.append(row["ours"] / row["tokio"]); ts.append(row["tokio"]); os_.append(row["ours"])
    if rs:
        print(f"{flavor:<15} {shape:<14} {fmt(statistics.median(ts)):>10} {fmt(statistics.median(os_)):>10}  "
              f"{statistics.median(rs):.2f}x  ({min(rs):.2f}-{max(rs):.2f}, {len(rs)} rounds)")
print("\nratio = our median / tokio's median per round (same run, same shapes); lower is better.")
PY
