#!/usr/bin/env bash
# EventPoll against kernel epoll: runs the `eventpoll` criterion bench ROUNDS times, alternating
# which side each group measures first (A B, then B A, ...), and prints for every row the median
# of the per-round ratios EventPoll / kernel with their min-max spread.
#
#   benches/eventpoll-ratios.sh                 # 3 rounds (about 8 minutes on 2 cores)
#   benches/eventpoll-ratios.sh --rounds 5
#   benches/eventpoll-ratios.sh -- pingpong     # pass a criterion filter to every round
#
# Per-round medians come from target/criterion/**/new/{benchmark,estimates}.json.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift ;;
        --) shift; args=("$@"); break ;;
        *) args+=("$1") ;;
    esac
    shift
done

target="${CARGO_TARGET_DIR:-target}"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
cargo bench -p runtime-benches --bench eventpoll --no-run >/dev/null 2>&1

for ((r = 1; r <= rounds; r++)); do
    if (( r % 2 == 0 )); then export EVENTPOLL_BENCH_REVERSE=1; order="eventpoll first"; else unset EVENTPOLL_BENCH_REVERSE; order="kernel first"; fi
    echo "== round $r of $rounds ($order)" >&2
    cargo bench -p runtime-benches --bench eventpoll -- "${args[@]+"${args[@]}"}" >"$results/round$r.log" 2>&1 || { cat "$results/round$r.log" >&2; exit 1; }
    python3 - "$target/criterion" "$results/round$r.json" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
rows = {}
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    est = json.load(open(os.path.join(dirpath, "estimates.json")))
    group, func = bench.get("group_id"), bench.get("function_id")
    if not group.startswith(("ctl/", "wait/", "pingpong/")):
        continue
    rows.setdefault(f"{group}|{bench.get('value_str') or ''}", {})[func] = est["median"]["point_estimate"]
json.dump(rows, open(out, "w"))
PY
done

python3 - "$results" "$rounds" <<'PY'
import json, os, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
per = [json.load(open(os.path.join(d, f"round{r}.json"))) for r in range(1, rounds + 1)]
def fmt(ns):
    return f"{ns / 1e3:.2f} us" if ns >= 1e3 else f"{ns:.0f} ns"
def key(k):
    g, v = k.split("|")
    return (g, int(v) if v.isdigit() else 0)
print(f"\n{'group':<22} {'N':>6}  {'variant':<18} {'kernel':>9} {'ours':>9}  {'ratio (median of rounds)':<26}")
print("-" * 96)
for k in sorted(per[0], key=key):
    g, v = k.split("|")
    for func in sorted(f for f in per[0][k] if f != "kernel"):
        rs, ks, os_ = [], [], []
        for p in per:
            row = p.get(k, {})
            if "kernel" in row and func in row:
                rs.append(row[func] / row["kernel"]); ks.append(row["kernel"]); os_.append(row[func])
        if not rs:
            continue
        print(f"{g:<22} {v:>6}  {func:<18} {fmt(statistics.median(ks)):>9} {fmt(statistics.median(os_)):>9}  "
              f"{statistics.median(rs):.2f}x  ({min(rs):.2f}-{max(rs):.2f}, {len(rs)} rounds)")
print("\nratio = EventPoll median / kernel epoll median, per round (same run, same shapes); lower is better.")
PY
