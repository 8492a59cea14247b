#!/usr/bin/env bash
# Runs the eventpoll benchmark (EventPoll vs kernel epoll) and prints, for every group, each
# EventPoll variant's median time and its ratio to the kernel's median in the same group.
#
#   benches/eventpoll-ratios.sh            # run the bench, then print the table
#   benches/eventpoll-ratios.sh --no-run   # only print the table from the last run's results
#   benches/eventpoll-ratios.sh -- FILTER  # pass arguments to the bench (e.g. a name filter)
#
# Reads target/criterion/**/new/{benchmark,estimates}.json (criterion's median point estimates).
set -euo pipefail
cd "$(dirname "$0")/.."

run=1
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --no-run) run=0 ;;
        --) shift; args=("$@"); break ;;
        *) args+=("$1") ;;
    esac
    shift
done

if [ "$run" = 1 ]; then
    cargo bench --bench eventpoll -- "${args[@]+"${args[@]}"}" 2>&1 | tee /tmp/bench_eventpoll.txt
fi

target="${CARGO_TARGET_DIR:-target}"
python3 - "$target/criterion" <<'EOF'
import json, os, sys

root = sys.argv[1]
rows = {}  # (group, value) -> {function: median_ns}
order = []
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        bench = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        est = json.load(f)
    group, func = bench.get("group_id"), bench.get("function_id")
    if not (group.startswith(("ctl/", "wait/", "pingpong/"))):
        continue
    key = (group, bench.get("value_str") or "")
    if key not in rows:
        rows[key] = {}
        order.append(key)
    rows[key][func] = est["median"]["point_estimate"]

def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.1f} ns"

def sort_key(k):
    g, v = k
    return (g, int(v) if v.isdigit() else 0, v)

if not rows:
    sys.exit(f"no criterion results under {root}: run the bench first")
print()
print(f"{'group':<28} {'N':>7}  {'kernel':>11}  {'variant':<18} {'median':>11}  {'ratio':>6}")
print("-" * 90)
for key in sorted(order, key=sort_key):
    group, value = key
    funcs = rows[key]
    kern = funcs.get("kernel")
    for func in sorted(f for f in funcs if f != "kernel"):
        ratio = f"{funcs[func] / kern:.2f}x" if kern else "n/a"
        print(f"{group:<28} {value:>7}  {fmt(kern) if kern else 'n/a':>11}  {func:<18} {fmt(funcs[func]):>11}  {ratio:>6}")
print()
print("ratio = EventPoll median / kernel epoll median (same shape, same run); lower is better.")
EOF
