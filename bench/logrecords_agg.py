#!/usr/bin/env python3
"""The measuring half of bench/logrecords_agg.sh; run it through that script.

Runs inside pg_virtualenv against the emulator BENCH_EMU_AUTH, whose
default/nginx-access writes 4 records a second: a day holds 345,600.  For
each window and latency, count(*) runs with bls_fdw.aggregate_pushdown on
(one analysis request) and off (every record, page by page), the two taking
turns REPS times after a warm-up; it prints the answer, the QueryLogRecord
requests per query (the emulator's counter) and the median wall time, and
writes the summary to --summary.  Different answers are an error (exit 1).
"""

import argparse
import os
import sys

from perf import Emulator, Session, create_server, median, out

CALL = "QueryLogRecord"
STORE = "nginx-access"
WINDOWS = [("a day", "2024-05-01 00:00:00+00", "2024-05-02 00:00:00+00"),
           ("an hour", "2024-05-01 00:00:00+00", "2024-05-01 01:00:00+00")]
LAT_MS = 30


def calls(emu):
    return emu.stats()["calls"].get(CALL, 0)


def measure(s, emu, query, reps):
    """{pushdown: (answer, requests per query, median wall s)}."""
    acc = {}
    for mode in ("on", "off"):
        s.ok("SET bls_fdw.aggregate_pushdown = %s;" % mode)
        acc[mode] = {"answer": s.value(query, timeout=900), "walls": [], "requests": 0}
    for _ in range(reps):
        for mode in ("on", "off"):
            s.ok("SET bls_fdw.aggregate_pushdown = %s;" % mode)
            k0 = calls(emu)
            lines, wall = s.ok(query, timeout=900)
            acc[mode]["requests"] += calls(emu) - k0
            acc[mode]["walls"].append(wall)
            if lines[-1] != acc[mode]["answer"]:
                raise RuntimeError("%s gave %s, then %s" % (query, acc[mode]["answer"], lines[-1]))
    if acc["on"]["answer"] != acc["off"]["answer"]:
        raise RuntimeError("pushed %s, local %s" % (acc["on"]["answer"], acc["off"]["answer"]))
    return {m: (a["answer"], a["requests"] / reps, median(a["walls"])) for m, a in acc.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--summary", required=True)
    a = ap.parse_args()
    reps = max(1, min(a.reps, 20))
    emu = Emulator(os.environ["BENCH_EMU_AUTH"])
    s = Session()
    s.ok("SET jit = off;")
    s.ok("CREATE EXTENSION bls_fdw;")
    create_server(s, "emu", emu.url)
    s.ok("IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO public;")
    out("count(*) of default/%s, page_size 1000 (the default), readahead 4 (the default); "
        "median of %d, pushdown on and off taking turns" % (STORE, reps))
    row = "   %-8s %-11s %-9s %9s %9s %9s"
    out(row % ("window", "latency", "pushdown", "count", "requests", "wall s"))
    summary = []
    try:
        for lat in (0, LAT_MS):
            emu.ctl("POST", "config", {"latency_ms": lat})
            for label, lo, hi in WINDOWS:
                q = ("SELECT count(*) FROM log_records WHERE log_store_name = '%s' "
                     "AND time >= '%s' AND time < '%s';" % (STORE, lo, hi))
                res = measure(s, emu, q, reps)
                for mode in ("on", "off"):
                    ans, req, wall = res[mode]
                    out(row % (label, "%d ms" % lat, mode, ans, "%g" % req, "%.3f" % wall))
                summary.append("count(*) over %-7s latency %2d ms: pushed %g request(s) %.3f s, "
                               "not pushed %g requests %.3f s (%.0fx faster)" % (
                                   label + ",", lat, res["on"][1], res["on"][2], res["off"][1],
                                   res["off"][2], res["off"][2] / max(res["on"][2], 1e-6)))
    finally:
        emu.ctl("POST", "config", {"latency_ms": 0})
    s.close()
    with open(a.summary, "w") as f:
        f.write("\n".join(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
