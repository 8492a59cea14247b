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
    python3 benches/criterion_ratios.py collect "$target/criterion" "$results/round$r.json" ctl/ wait/ pingpong/
done

python3 benches/criterion_ratios.py report "$results" "$rounds" eventpoll:kernel,eventpoll_harvest:kernel kernel eventpoll eventpoll_harvest
