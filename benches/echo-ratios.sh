#!/usr/bin/env bash
# The echo benchmark against tokio and smol (benches/echo/): installs wrk with apt-get if it is
# missing, then runs `cargo bench -p runtime-benches --bench echo` with the given options, e.g.
#
#   benches/echo-ratios.sh                       # 3 rounds, every workload, memory, wrk (http-hello and hyper; ~27 min on 2 cores)
#   benches/echo-ratios.sh --rounds 5 --duration 3
#   benches/echo-ratios.sh --workloads 1000x64,10000x64 --no-http
#
# The bench starts every server as its own child process, kills each by PID when its run ends
# (and the servers die with it if it is interrupted: PR_SET_PDEATHSIG), and writes
# docs/bench/echo-results.md and, per flavor, docs/bench/echo-msgs-per-sec-{mt,ct}.svg and
# docs/bench/echo-cpu-per-msg-{mt,ct}.svg.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk; } >/dev/null 2>&1 \
        || echo "wrk could not be installed; the HTTP rows are skipped" >&2
fi

# Ctrl-C reaches cargo, the bench and its servers (one process group); a server whose bench dies
# any other way is killed by the kernel (PR_SET_PDEATHSIG), so nothing is left behind.
exec cargo bench -p runtime-benches --bench echo -- "$@"
