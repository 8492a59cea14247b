#!/usr/bin/env python3
"""Same-run ratios from criterion's results, shared by the benches/*-ratios.sh scripts.

    criterion_ratios.py collect ROOT OUT GROUP_PREFIX...
        After one round: reads ROOT/**/new/{benchmark,estimates}.json of the groups whose id
        starts with one of the prefixes and writes {"group|row": {side: median ns}} to OUT.
        A benchmark id is GROUP/ROW/SIDE (`multi_thread/ping_pong/ours`), GROUP/SIDE (`ctl/mod/
        kernel`: the group is the row) or, parameterised, GROUP/SIDE/VALUE
        (`wait/one_ready_of_N/eventpoll/1000`: the value is the row).

    criterion_ratios.py report DIR ROUNDS NUM:DEN[,NUM:DEN...] SIDE...
        Reads DIR/round1.json .. DIR/roundROUNDS.json and prints, per row, the median over rounds
        of each SIDE and, per NUM:DEN pair, the median (min-max) of the per-round ratios
        NUM / DEN (e.g. `ours:tokio,ours:smol`, or `eventpoll:kernel`).
"""

import json
import os
import statistics
import sys


def collect(root, out, prefixes):
    rows = {}
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
        group, func = bench.get("group_id") or "", bench.get("function_id") or ""
        if not group.startswith(tuple(prefixes)):
            continue
        value = bench.get("value_str")
        if value is not None:
            # Parameterised: the function is the side, the value the row.
            row, side = value, func
        elif "/" in func:
            row, side = func.rsplit("/", 1)
        else:
            # The group is the row (`ctl/mod`, function `eventpoll` or `kernel`).
            row, side = "", func
        est = json.load(open(os.path.join(dirpath, "estimates.json")))
        rows.setdefault(f"{group}|{row}", {})[side] = est["median"]["point_estimate"]
    json.dump(rows, open(out, "w"))


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def report(d, rounds, pairs, sides):
    """`pairs`: (numerator, denominator) sides whose per-round ratio is reported."""
    per = [json.load(open(os.path.join(d, f"round{r}.json"))) for r in range(1, rounds + 1)]

    def key(k):
        g, row = k.split("|")
        return (g, int(row) if row.isdigit() else 0, row)

    def median_of(k, side):
        v = [p[k][side] for p in per if side in p.get(k, {})]
        return fmt(statistics.median(v)) if v else "-"

    def ratio(k, num, den):
        rs = [p[k][num] / p[k][den] for p in per if {num, den} <= set(p.get(k, {}))]
        return f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f}, {len(rs)} rds)" if rs else "-"

    heads = [f"{n}/{d}" for n, d in pairs]
    print(f"\n{'group':<22} {'row':<22} " + " ".join(f"{s:>10}" for s in sides) + "  " + " ".join(f"{h:<26}" for h in heads))
    print("-" * (46 + 11 * len(sides) + 27 * len(heads)))
    keys = sorted({k for p in per for k in p}, key=key)
    for k in keys:
        g, row = k.split("|")
        cells = " ".join(f"{median_of(k, s):>10}" for s in sides)
        ratios = " ".join(f"{ratio(k, n, d):<26}" for n, d in pairs)
        print(f"{g:<22} {row:<22} {cells}  {ratios}")
    print("\nratio = the first side's median / the second's, per round (same run, same shapes), median over rounds (min-max); lower is better.")


def main(argv):
    if len(argv) >= 4 and argv[1] == "collect":
        collect(argv[2], argv[3], argv[4:])
    elif len(argv) >= 6 and argv[1] == "report":
        # report DIR ROUNDS NUM:DEN[,NUM:DEN...] SIDE...
        pairs = [tuple(p.split(":")) for p in argv[4].split(",")]
        report(argv[2], int(argv[3]), pairs, argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
