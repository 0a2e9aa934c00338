#!/usr/bin/env python3
"""The measuring half of bench/slices.sh; run it through that script.

Runs inside pg_virtualenv against the emulator BENCH_EMU_AUTH: a two-day
window of prod-web/nginx-access, with config logrecord_interval_s 86 (8
records every 86 s: about 16,000) and latency_ms 100, read through
log_records with slices '4' and slices '1'.  Prints the figures; an
exception (a setup or a measurement that failed, rows that differ) is exit
status 1.
"""

import argparse
import os
import sys

from perf import Emulator, Session, create_server, median, out

CALL = "QueryLogRecord"
INTERVAL_S = 86
LATENCY_MS = 100
LO, HI = "2024-05-01 00:00:00+00", "2024-05-03 00:00:00+00"
WHERE = ("project = 'prod-web' AND log_store_name = 'nginx-access' "
         "AND time >= '%s' AND time < '%s'" % (LO, HI))
EVERY = ("SELECT count(*), count(log_stream_name), min(time), max(time), sum(seq), "
         "sum(length(message)), count(fields) FROM {t} WHERE " + WHERE + ";")
# every column of every row, in the order of the scan, hashed
ORDERED = ("SELECT count(*), md5(string_agg(r::text, E'\\n')) FROM "
           "(SELECT * FROM {t} WHERE " + WHERE + " ORDER BY time {dir}) r;")


def calls(emu):
    return emu.stats()["calls"].get(CALL, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    emu = Emulator(os.environ["BENCH_EMU_AUTH"])
    s = Session()
    s.ok("SET jit = off;")
    s.ok("CREATE EXTENSION bls_fdw;")
    create_server(s, "emu", emu.url)
    tables = {"sliced": "slices '4'", "serial": "slices '1'"}
    for sch, opt in tables.items():
        s.ok("CREATE SCHEMA %s; IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) "
             "FROM SERVER emu INTO %s;" % (sch, sch))
        s.ok("ALTER FOREIGN TABLE %s.log_records OPTIONS (ADD page_size '1000', ADD %s);"
             % (sch, opt))
    emu.ctl("POST", "config", {"logrecord_interval_s": INTERVAL_S})

    # the same rows in the same order, both ways (no latency: quick)
    same = True
    n = None
    for d in ("ASC", "DESC"):
        got = {sch: s.value(ORDERED.format(t=sch + ".log_records", dir=d), timeout=600)
               for sch in tables}
        same = same and got["sliced"] == got["serial"]
        n = int(got["serial"].split("|")[0])
        out("   ORDER BY time %-4s  sliced %s   serial %s" % (d, got["sliced"], got["serial"]))
    if not same:
        raise RuntimeError("the sliced scan's rows differ from one chain's")

    # memory: the backend's peak RSS over one scan, each in a fresh session
    hwm = {}
    for sch in tables:
        f = Session()
        f.ok("SET jit = off;")
        f.ok("SELECT count(*) FROM %s.log_records WHERE false;" % sch)
        before = f.status_kb("VmHWM")
        f.ok(EVERY.format(t=sch + ".log_records"), timeout=600)
        hwm[sch] = (before, f.status_kb("VmHWM"))
        f.close()

    emu.ctl("POST", "config", {"latency_ms": LATENCY_MS})
    walls = {sch: [] for sch in tables}
    reqs = {sch: 0 for sch in tables}
    in_flight = {sch: 0 for sch in tables}
    for _ in range(max(1, a.reps)):
        for sch in ("serial", "sliced"):
            emu.ctl("POST", "inflight/clear", {})
            c0 = calls(emu)
            lines, wall = s.ok(EVERY.format(t=sch + ".log_records"), timeout=600)
            if int(lines[-1].split("|")[0]) != n:
                raise RuntimeError("%s returned %s rows, not %d" % (sch, lines[-1], n))
            reqs[sch] = calls(emu) - c0
            in_flight[sch] = max(in_flight[sch],
                                 emu.ctl("GET", "inflight")["max_in_flight"].get(CALL, 0))
            walls[sch].append(wall)
    emu.ctl("POST", "config", {"latency_ms": 0})
    s.close()

    sl, se = median(walls["sliced"]), median(walls["serial"])
    out()
    out("== a two-day window [%s, %s) of %d records, pages of 1000, every request %d ms "
        "(emulator), every column, median of %d" % (LO, HI, n, LATENCY_MS, a.reps))
    for sch, label in (("serial", "slices '1' (one marker chain)"),
                       ("sliced", "slices '4' (default)")):
        out("   %-30s %7.3f s   requests %d, at most %d in flight   (runs: %s)" % (
            label, median(walls[sch]), reqs[sch], in_flight[sch],
            ", ".join("%.3f" % w for w in walls[sch])))
    pages = -(-n // 1000)
    out("   sliced / serial: %.3fx (target <= 0.5x: %s); serial / the latency alone "
        "(%d pages x %d ms): %.2fx" % (sl / se, "met" if sl / se <= 0.5 else "NOT MET",
                                       pages, LATENCY_MS, se / (pages * LATENCY_MS / 1000.0)))
    out("   same rows in the same order (ASC and DESC, every column): %s" %
        ("yes" if same else "NO"))
    for sch in ("serial", "sliced"):
        out("   peak RSS of a fresh backend, %s: %.1f MB before the scan, %.1f MB after "
            "(+%.1f MB)" % (sch, hwm[sch][0] / 1024, hwm[sch][1] / 1024,
                            (hwm[sch][1] - hwm[sch][0]) / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
