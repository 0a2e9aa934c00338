#!/usr/bin/env python3
"""The measuring half of bench/logrecords.sh; run it through that script.

Runs inside pg_virtualenv (libpq's PG* variables name the throwaway cluster)
against two emulators that logrecords.sh started on loopback:

  BENCH_EMU_AUTH    signatures checked (bls_fdw's log_records)
  BENCH_EMU_NOAUTH  --no-auth          (the SQL alternative, curl unsigned)

Both serve the same computed records: project prod-web, log store
nginx-access writes 8 records a second from 2023-06-01T09:41:07Z, so a window
of N / 8 seconds from then holds exactly N records.  The psql sessions, the
backend's /proc figures and the emulator control come from bench/perf.py.
Prints the figures section by section and writes the summary block to
--summary.  No pass/fail thresholds: an exception (a setup or a measurement
that failed, a wrong row count) is exit status 1.
"""

import argparse
import datetime
import os
import sys
import time

from perf import Emulator, Session, create_server, fmt_rate, median, out

PROJECT = "prod-web"
STORE = "nginx-access"
FIRST = datetime.datetime(2023, 6, 1, 9, 41, 7, tzinfo=datetime.timezone.utc)
PER_SECOND = 8
CALL = "QueryLogRecord"
N = 100000
MILLION = 1000000
LAT_PAGES = 20
LAT_MS = 30


def window(n):
    """(start, end) of the first n records, as timestamptz literals."""
    end = FIRST + datetime.timedelta(seconds=n // PER_SECOND)
    fmt = "%Y-%m-%d %H:%M:%S+00"
    return FIRST.strftime(fmt), end.strftime(fmt)


def where(n):
    lo, hi = window(n)
    return ("project = '%s' AND log_store_name = '%s' AND time >= '%s' AND time < '%s'"
            % (PROJECT, STORE, lo, hi))


# {t}: a table with its WHERE clause, or the SQL alternative's function call
# (the placeholder of perf.py's queries); the row count comes first
COUNT = "SELECT count(*) FROM {t};"
EVERY = ("SELECT count(*), count(project), count(log_store_name), count(log_stream_name), "
         "count(query), min(time), max(time), sum(seq), sum(length(message)), "
         "count(fields) FROM {t};")


def fdw_src(table, n):
    return table + " WHERE " + where(n)


def alt_src(url, n):
    lo, hi = window(n)
    return "alt_log_records('%s', '%s', '%s', '%s', '%s') t" % (url, PROJECT, STORE, lo, hi)


# -- the SQL alternative -----------------------------------------------------

ALT_SQL = r"""
CREATE TEMP TABLE alt_page (doc jsonb);
CREATE FUNCTION alt_log_records(base text, p_project text, p_store text,
                                t0 timestamptz, t1 timestamptz, page_size int DEFAULT 1000)
RETURNS TABLE (project text, log_store_name text, log_stream_name text, query text,
               "time" timestamptz, seq bigint, message text, fields jsonb)
LANGUAGE plpgsql AS $fn$
DECLARE
  marker text;
  url text;
  cols text[];
BEGIN
  LOOP
    url := format('%s/v1/logstore/%s/logrecord?project=%s&query=match%%20%%2A'
                  '&startDateTime=%s&endDateTime=%s&limit=%s',
                  base, p_store, p_project,
                  to_char(t0 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  to_char(t1 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                  page_size) || coalesce('&marker=' || marker, '');
    TRUNCATE alt_page;
    -- one curl per page; CSV with quote and delimiter bytes that JSON never
    -- contains, so that the body arrives unaltered (text COPY eats backslashes)
    EXECUTE format($c$COPY alt_page FROM PROGRAM %L WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')$c$,
                   'curl -sS --fail ' || quote_literal(url));
    SELECT array(SELECT jsonb_array_elements_text(doc -> 'resultSet' -> 'columns')),
           doc ->> 'nextMarker'
      INTO cols, marker FROM alt_page;
    -- columns are found by name; fields is every column of the row, as the
    -- foreign table's is
    RETURN QUERY
      SELECT p_project, p_store, r ->> (array_position(cols, '@stream') - 1),
             'match *'::text,
             timestamptz 'epoch' + (r ->> (array_position(cols, '@timestamp') - 1))::bigint
               * interval '1 millisecond',
             (r ->> (array_position(cols, '@seq') - 1))::bigint,
             r ->> (array_position(cols, '@raw') - 1),
             (SELECT jsonb_object_agg(c.name, r -> (c.i::int - 1))
                FROM unnest(cols) WITH ORDINALITY c(name, i))
      FROM alt_page, jsonb_array_elements(alt_page.doc -> 'resultSet' -> 'rows') r;
    EXIT WHEN marker IS NULL;
  END LOOP;
END
$fn$;
"""


def bench_alt(s, emu, reps, n):
    """Median rows/s of reps runs (after one warm-up) and the emulator's CPU share."""
    q = EVERY.format(t=alt_src(emu.url, n))
    lines, _ = s.ok(q)
    got = int(lines[-1].split("|")[0])
    if got != n:
        raise RuntimeError("the SQL alternative returned %d rows, not %d" % (got, n))
    rates, walls, cpus = [], [], []
    e0, t0 = emu.cpu(), time.monotonic()
    for _ in range(reps):
        c0 = s.cpu()
        _, wall = s.ok(q)
        cpus.append((s.cpu() - c0) * 1e6 / n)
        walls.append(wall)
        rates.append(n / wall)
    e1, t1 = emu.cpu(), time.monotonic()
    return {"rate": median(rates), "rates": rates, "wall": median(walls),
            "cpu_us": median(cpus), "emu_share": (e1 - e0) / (t1 - t0), "row": lines[-1]}


def compare(s, table, url, n):
    """Column by column, how many of the first n records differ between the
    foreign table and the SQL alternative (joined on seq)."""
    cols = ["project", "log_store_name", "log_stream_name", "query", "time", "message",
            "fields"]
    q = ("SELECT count(*) FILTER (WHERE f.seq IS NULL), count(*) FILTER (WHERE a.seq IS NULL), "
         + ", ".join("count(*) FILTER (WHERE f.%s IS DISTINCT FROM a.%s)" % (c, c)
                     for c in cols)
         + " FROM (SELECT * FROM %s) f FULL JOIN (SELECT * FROM %s) a USING (seq);"
         % (fdw_src(table, n), alt_src(url, n)))
    v = [int(x) for x in s.value(q).split("|")]
    return dict(zip(["only in the SQL alternative", "only in bls_fdw"] + cols, v))


# -- emulator figures --------------------------------------------------------

def emu_counts(emu):
    """(QueryLogRecord calls, bytes sent, connections accepted, CPU seconds)
    so far, from one control request (whose own connection is counted)."""
    st = emu.stats()
    return st["calls"].get(CALL, 0), st["bytes_sent"], st["connections_total"], st["cpu_seconds"]


def max_in_flight(emu):
    return emu.ctl("GET", "inflight")["max_in_flight"].get(CALL, 0)


def fdw_scans(s, emu, schemas, n, reps, query):
    """Scans of the first n records of schema.log_records for each of
    schemas: one warm-up each, then reps rounds in which the schemas take
    turns, so that a change in the machine's load falls on all alike.  For
    each, {schema: result}: the median rows/s, wall time and backend CPU per
    row, the emulator's CPU share over its scans, its requests, bytes and
    connections per scan, and the most requests in flight at once."""
    acc = {}
    for sch in schemas:
        lines, _ = s.ok(query.format(t=fdw_src(sch + ".log_records", n)))
        got = int(lines[-1].split("|")[0])
        if got != n:
            raise RuntimeError("%s.log_records returned %d rows, not %d" % (sch, got, n))
        acc[sch] = {"rates": [], "walls": [], "cpus": [], "emu": 0.0, "in_flight": 0,
                    "counts": [0, 0, 0]}
    for _ in range(reps):
        for sch in schemas:
            a = acc[sch]
            emu.ctl("POST", "inflight/clear", {})
            k0, c0 = emu_counts(emu), s.cpu()
            _, wall = s.ok(query.format(t=fdw_src(sch + ".log_records", n)), timeout=900)
            c1, k1 = s.cpu(), emu_counts(emu)
            a["in_flight"] = max(a["in_flight"], max_in_flight(emu))
            a["emu"] += k1[3] - k0[3]
            a["walls"].append(wall)
            a["rates"].append(n / wall)
            a["cpus"].append((c1 - c0) * 1e6 / n)
            # (less the connection of the second emu_counts())
            a["counts"] = [x + y1 - y0 for x, y0, y1 in zip(a["counts"], k0, k1[:2] + (k1[2] - 1,))]
    res = {}
    for sch, a in acc.items():
        res[sch] = {"rate": median(a["rates"]), "rates": a["rates"], "wall": median(a["walls"]),
                    "cpu_us": median(a["cpus"]), "emu_share": a["emu"] / sum(a["walls"]),
                    "requests": a["counts"][0] / reps, "bytes": a["counts"][1] / reps,
                    "conns": a["counts"][2] / reps, "in_flight": a["in_flight"]}
    return res


# -- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--summary", required=True)
    ap.add_argument("--no-million", action="store_true")
    ap.add_argument("--sql-only", action="store_true",
                    help="only the SQL alternative (no log_records needed)")
    a = ap.parse_args()
    reps = max(1, min(a.reps, 50))
    lat_reps = max(1, min(reps, 3))
    emu = Emulator(os.environ["BENCH_EMU_AUTH"])
    emu_alt = Emulator(os.environ["BENCH_EMU_NOAUTH"])
    summary = []

    s = Session()
    s.ok("SET jit = off;")
    # these figures are of scans: count(*) must read the records, not ask
    # BLS to count them (bench/logrecords_agg.sh measures that)
    s.ok("SET bls_fdw.aggregate_pushdown = off;")
    s.ok(ALT_SQL)
    lo, hi = window(N)
    out("data: %s/%s, %d records a second; %s records = [%s, %s)" % (
        PROJECT, STORE, PER_SECOND, fmt_rate(N), lo, hi))
    fdw = {}
    if not a.sql_only:
        s.ok("CREATE EXTENSION bls_fdw;")
        module = next((l.split()[-1] for l in open("/proc/%d/maps" % s.pid) if "bls_fdw" in l),
                      "?")
        out("bls_fdw %s, module %s" % (s.value("SELECT bls_fdw_version();"), module))
        if os.environ.get("BENCH_DESTDIR") and not module.startswith(os.environ["BENCH_DESTDIR"]):
            out("WARNING: the module is not the one built from this tree (%s)"
                % os.environ["BENCH_DESTDIR"])
        create_server(s, "emu", emu.url)
        for sch, opts in [("dflt", ""), ("ra0", "ADD readahead '0'")]:
            s.ok("CREATE SCHEMA %s; IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) "
                 "FROM SERVER emu INTO %s;" % (sch, sch))
            if opts:
                s.ok("ALTER FOREIGN TABLE %s.log_records OPTIONS (%s);" % (sch, opts))

        # 1. throughput
        out()
        out("== 1. bls_fdw: scan of %s records through log_records, median of %d scans "
            "in one session (after a warm-up; the two readahead settings take turns)" % (fmt_rate(N), reps))
        row = "   %-14s %-9s %9s %19s %7s %14s %8s %9s %6s %6s"
        out(row % ("columns", "readahead", "rows/s", "(min-max of runs)", "wall s",
                   "backend us/row", "emu CPU", "requests", "conns", "in fl."))
        for key, label, query in [("count", "count(*)", COUNT), ("every", "every column", EVERY)]:
            res = fdw_scans(s, emu, ["dflt", "ra0"], N, reps, query)
            for sch, ra in [("dflt", "default"), ("ra0", "0")]:
                r = fdw[key, ra] = res[sch]
                out(row % (label, ra, fmt_rate(r["rate"]),
                           "(%s-%s)" % (fmt_rate(min(r["rates"])), fmt_rate(max(r["rates"]))),
                           "%.3f" % r["wall"], "%.2f" % r["cpu_us"],
                           "%.0f%%" % (100 * r["emu_share"]), "%g" % r["requests"],
                           "%g" % r["conns"], r["in_flight"]))
        out("   (every column: %s)" % EVERY.format(t="log_records WHERE ..."))
        out("   (requests, conns: QueryLogRecord calls and connections accepted per scan, from "
            "the emulator's counters;")
        out("    in fl.: the most requests in flight at once;")
        out("    emu CPU = the emulator's CPU seconds / wall seconds, of one core: near 100% "
            "it is the bottleneck)")
        out("   (%.0f bytes per scan from the emulator, %.0f per record)" % (
            fdw["every", "default"]["bytes"], fdw["every", "default"]["bytes"] / N))

    # 2. the SQL alternative
    out()
    out("== 2. the SQL alternative: plpgsql loop of COPY alt_page FROM PROGRAM 'curl ...' per "
        "page of 1000 (nextMarker), jsonb_array_elements over resultSet.rows, every column; "
        "median of %d" % reps)
    c0 = emu_counts(emu_alt)[0]
    alt = bench_alt(s, emu_alt, reps, N)
    c1 = emu_counts(emu_alt)[0]
    out("   %-28s %9s rows/s  (%s-%s)  wall %.3f s  backend %.2f us/row (+ curl's)  emu CPU %.0f%%"
        "  requests %g" % (
            "SQL alternative", fmt_rate(alt["rate"]), fmt_rate(min(alt["rates"])),
            fmt_rate(max(alt["rates"])), alt["wall"], alt["cpu_us"], 100 * alt["emu_share"],
            (c1 - c0) / (reps + 1)))
    if fdw:
        for ra in ("default", "0"):
            r = fdw["every", ra]
            out("   %-28s %9s rows/s  bls_fdw / SQL alternative %.2fx" % (
                "bls_fdw, readahead " + ra, fmt_rate(r["rate"]), r["rate"] / alt["rate"]))
        same = s.value(EVERY.format(t=fdw_src("dflt.log_records", N))) == alt["row"]
        out("   the aggregates over every column agree: %s" % ("yes" if same else "NO"))
        if not same:
            out("     bls_fdw:         " + s.value(EVERY.format(t=fdw_src("dflt.log_records", N))))
            out("     SQL alternative: " + alt["row"])
        diff = compare(s, "dflt.log_records", emu_alt.url, 2000)
        out("   record by record, first 2,000 (joined on seq): "
            + ", ".join("%s %d" % kv for kv in diff.items() if kv[1])
            if any(diff.values()) else
            "   record by record, first 2,000 (joined on seq): every column equal")
        if diff.get("fields"):
            f1 = s.value("SELECT fields FROM dflt.log_records WHERE %s ORDER BY seq LIMIT 1;"
                         % where(2000))
            f2 = s.value("SELECT fields FROM %s ORDER BY seq LIMIT 1;" % alt_src(emu_alt.url, 2000))
            out("     fields, bls_fdw:         " + f1)
            out("     fields, SQL alternative: " + f2)
        summary.append("bls_fdw / SQL alternative, every column:     %5.2fx  (%s vs %s rows/s; "
                       "readahead 0: %.2fx)" % (
                           fdw["every", "default"]["rate"] / alt["rate"],
                           fmt_rate(fdw["every", "default"]["rate"]), fmt_rate(alt["rate"]),
                           fdw["every", "0"]["rate"] / alt["rate"]))
        summary.append("bls_fdw rows/s, count(*) / every column:     %s / %s  (readahead 0: "
                       "%s / %s)" % tuple(fmt_rate(fdw[k, ra]["rate"]) for ra in ("default", "0")
                                          for k in ("count", "every")))
    else:
        summary.append("SQL alternative, every column:                %s rows/s" % fmt_rate(alt["rate"]))

    if a.sql_only:
        s.close()
        write_summary(a.summary, summary)
        return 0

    # 3. memory
    out()
    sizes = [N] if a.no_million else [N, MILLION]
    out("== 3. memory: backend peak RSS (VmHWM), every column, readahead default, a fresh "
        "session per scan")
    mem = {}
    for n in sizes:
        m = Session()
        m.ok("SET jit = off;")
        m.ok("SELECT 1;")
        hwm0 = m.status_kb("VmHWM")
        m.ok("SELECT count(*) FROM (SELECT * FROM dflt.log_records WHERE %s LIMIT 1) x;"
             % where(n))
        hwm1 = m.status_kb("VmHWM")
        c0, e0 = m.cpu(), emu.cpu()
        lines, wall = m.ok(EVERY.format(t=fdw_src("dflt.log_records", n)), timeout=900)
        c1, e1 = m.cpu(), emu.cpu()
        got = int(lines[-1].split("|")[0])
        if got != n:
            raise RuntimeError("the %d-record scan returned %d rows" % (n, got))
        hwm2, rss2 = m.status_kb("VmHWM"), m.status_kb("VmRSS")
        m.close()
        mem[n] = (hwm0, hwm1, hwm2)
        out("   %9s records: VmHWM idle %6.1f MB, after a LIMIT 1 scan %6.1f MB, after the scan "
            "%6.1f MB (+%.1f MB; VmRSS %.1f MB)" % (
                fmt_rate(n), hwm0 / 1024, hwm1 / 1024, hwm2 / 1024, (hwm2 - hwm1) / 1024,
                rss2 / 1024))
        out("   %9s  the scan: %.1f s, %s rows/s, %.2f us/row backend CPU, emu CPU %.0f%%" % (
            "", wall, fmt_rate(n / wall), (c1 - c0) * 1e6 / n, 100 * (e1 - e0) / wall))
    if MILLION in mem:
        d = (mem[MILLION][2] - mem[N][2]) / 1024
        out("   1,000,000 vs 100,000 records: %+.1f MB of peak RSS (growth over the LIMIT 1 scan: "
            "%+.1f MB vs %+.1f MB)" % (d, (mem[MILLION][2] - mem[MILLION][1]) / 1024,
                                       (mem[N][2] - mem[N][1]) / 1024))
        summary.append("peak RSS, 100,000 / 1,000,000 records:        %.1f / %.1f MB  "
                       "(difference %+.1f MB)" % (mem[N][2] / 1024, mem[MILLION][2] / 1024, d))
    else:
        out("   (1,000,000 records: skipped, --no-million)")
        summary.append("peak RSS, 100,000 records:                    %.1f MB  "
                       "(1,000,000: skipped)" % (mem[N][2] / 1024))

    # 4. latency
    out()
    n = LAT_PAGES * 1000
    out("== 4. latency: emulator latency_ms %d, a %d-page scan (%s records), every column, "
        "wall time, median of %d" % (LAT_MS, LAT_PAGES, fmt_rate(n), lat_reps))
    emu.ctl("POST", "config", {"latency_ms": LAT_MS})
    try:
        res = fdw_scans(s, emu, ["ra0", "dflt"], n, lat_reps, EVERY)
        lat = {"0": res["ra0"], "default": res["dflt"]}
    finally:
        emu.ctl("POST", "config", {"latency_ms": 0})
    for ra in ("0", "default"):
        r = lat[ra]
        out("   readahead %-8s %7.3f s  %6.3fx serial   requests %g, at most %d in flight" % (
            ra, r["wall"], r["wall"] / lat["0"]["wall"], r["requests"], r["in_flight"]))
    conv = lat["0"]["cpu_us"] * 1000 / 1e6 * LAT_PAGES   # the backend's CPU for 20 pages
    out("   (the latency alone: %d pages x %d ms = %.3f s when serial; one page read ahead can "
        "hide at most" % (LAT_PAGES, LAT_MS, LAT_PAGES * LAT_MS / 1000))
    out("    the backend's own time, %.3f s of CPU here: the best readahead can do is about "
        "%.3f s, %.3fx)" % (conv, lat["0"]["wall"] - conv, (lat["0"]["wall"] - conv) / lat["0"]["wall"]))
    summary.append("%d pages at %d ms, readahead default / 0:     %.3fx  (%.3f s vs %.3f s)" % (
        LAT_PAGES, LAT_MS, lat["default"]["wall"] / lat["0"]["wall"], lat["default"]["wall"],
        lat["0"]["wall"]))
    s.close()
    write_summary(a.summary, summary)
    return 0


def write_summary(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
