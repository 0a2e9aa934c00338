#!/usr/bin/env python3
"""The measuring half of bench/perf.sh; run it through that script.

Runs inside pg_virtualenv (libpq's PG* variables name the throwaway cluster)
against four emulators that perf.sh started on loopback:

  BENCH_EMU_AUTH    100,000 tasks, signatures checked  (bls_fdw, requests)
  BENCH_EMU_NOAUTH  100,000 tasks, --no-auth           (the floor, the SQL alternative)
  BENCH_EMU_LAT     5,000 tasks, --latency-ms 30       (latency)
  BENCH_EMU_BIG     1,000,000 tasks                    (memory)

and the floor program at BENCH_FLOOR.  With BENCH_BASELINE_DESTDIR (perf.sh
--baseline), the bls_fdw scans of section 1 are also run by a second build,
installed there and loaded by the sessions of a database of its own (its
extension_destdir), the two builds' scans alternating.  Talks to the database through psql
processes (no driver needed) and to the emulators' control API over HTTP.
Prints the figures section by section and writes the summary block to
--summary.  No timed assertions: a missed target is printed, not failed.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

END = "__bench_end__"
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIST_PATH = "/v2/logstore/download/list"
NEWEST = "2024-11-05 08:00:00+00"   # about the data set's newest createdTime


def out(line=""):
    print(line, flush=True)


# -- emulator control ------------------------------------------------------

class Emulator:
    def __init__(self, url, log_file=None):
        self.url = url.rstrip("/")
        self.log_file = log_file

    def ctl(self, method, endpoint, obj=None, timeout=30):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.url + "/_emulator/" + endpoint, data=data,
                                     method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def stats(self):
        return self.ctl("GET", "stats")

    def cpu(self):
        return self.stats()["cpu_seconds"]

    def log_clear(self):
        self.ctl("POST", "log/clear", {})

    def list_requests(self):
        return [e for e in self.ctl("GET", "log") if e["path"].split("?")[0] == LIST_PATH]

    def log_lines(self):
        """Lines of the emulator's --log-file so far (one per request, with bytes=)."""
        with open(self.log_file, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()


# -- psql sessions and the backend's /proc ---------------------------------

class Session:
    """One psql process fed through a pipe: one backend, kept open."""

    def __init__(self, dbname="postgres"):
        self.p = subprocess.Popen(
            ["psql", "-X", "-q", "-A", "-t", "-d", dbname, "-v", "VERBOSITY=terse"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self.pid = int(self.value("SELECT pg_backend_pid();"))

    def run(self, sql, timeout=300):
        """(output lines, sqlstate, wall seconds of the statement)."""
        t0 = time.monotonic()
        self.p.stdin.write(sql + "\n\\echo " + END + " :SQLSTATE\n")
        self.p.stdin.flush()
        lines = []
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if line == "":
                raise RuntimeError("psql ended: %s" % "\n".join(lines[-5:]))
            line = line.rstrip("\n")
            if line.startswith(END):
                parts = line.split()
                return lines, parts[1] if len(parts) > 1 else "", time.monotonic() - t0
            lines.append(line)
        raise TimeoutError("psql did not answer within %ds: %s" % (timeout, sql[:80]))

    def ok(self, sql, timeout=300):
        lines, state, wall = self.run(sql, timeout)
        if state != "00000":
            raise RuntimeError("%s failed: %s %s" % (sql[:200], state, lines[-5:]))
        return lines, wall

    def value(self, sql, timeout=300):
        lines, _ = self.ok(sql, timeout)
        return lines[-1] if lines else ""

    def cpu(self):
        """utime + stime of the backend, seconds (all its threads)."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK   # fields 14, 15

    def status_kb(self, key):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def create_server(s, name, url):
    """A server on the emulator at url (no retries) and a mapping with its keys."""
    s.ok("""
CREATE SERVER {n} FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '{u}', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER {n}
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');""".format(n=name, u=url))


def setup_server(s, name, url, schema, table_opts):
    """A server on url, a mapping, and download_tasks imported into schema."""
    create_server(s, name, url)
    for sch, opts in [(schema, table_opts)] if isinstance(schema, str) else zip(schema, table_opts):
        s.ok("CREATE SCHEMA %s; IMPORT FOREIGN SCHEMA bls FROM SERVER %s INTO %s;" % (sch, name, sch))
        if opts:
            s.ok("ALTER FOREIGN TABLE %s.download_tasks OPTIONS (%s);" % (
                sch, ", ".join("ADD %s '%s'" % kv for kv in opts.items())))


FULL = "SELECT count(*), sum(length(t::text)) FROM {t} t;"


def fmt_rate(r):
    return "{:,.0f}".format(r)


def median(xs):
    return statistics.median(xs)


# -- 1. bls_fdw throughput -------------------------------------------------

def bench_fdw(s, emu, table, reps, expect, query=FULL):
    """Median rows/s and median backend CPU us/row over reps scans (after one
    warm-up), and the emulator's CPU share over the measured scans."""
    lines, _ = s.ok(query.format(t=table))
    n = int(lines[-1].split("|")[0])
    if n != expect:
        raise RuntimeError("%s returned %d rows, not %d" % (table, n, expect))
    rates, cpus, walls = [], [], []
    e0, t0 = emu.cpu(), time.monotonic()
    for _ in range(reps):
        c0 = s.cpu()
        _, wall = s.ok(query.format(t=table))
        c1 = s.cpu()
        walls.append(wall)
        rates.append(n / wall)
        cpus.append((c1 - c0) * 1e6 / n)
    e1, t1 = emu.cpu(), time.monotonic()
    return {"rate": median(rates), "cpu_us": median(cpus), "wall": median(walls),
            "emu_share": (e1 - e0) / (t1 - t0), "rates": rates}


def bench_fdw_alternating(sessions, emu, table, reps, expect, query=FULL):
    """bench_fdw for several sessions (builds) at once: after a warm-up scan in
    each, their scans alternate, so that a change in the machine's load falls
    on all alike.  The emulator's CPU share is counted scan by scan."""
    n = None
    for s in sessions:
        lines, _ = s.ok(query.format(t=table))
        n = int(lines[-1].split("|")[0])
        if n != expect:
            raise RuntimeError("%s returned %d rows, not %d" % (table, n, expect))
    acc = [{"rates": [], "cpus": [], "walls": [], "emu": 0.0} for _ in sessions]
    for _ in range(reps):
        for s, a in zip(sessions, acc):
            e0 = emu.cpu()
            c0 = s.cpu()
            _, wall = s.ok(query.format(t=table))
            c1 = s.cpu()
            a["emu"] += emu.cpu() - e0
            a["walls"].append(wall)
            a["rates"].append(n / wall)
            a["cpus"].append((c1 - c0) * 1e6 / n)
    return [{"rate": median(a["rates"]), "cpu_us": median(a["cpus"]), "wall": median(a["walls"]),
             "emu_share": a["emu"] / sum(a["walls"]), "rates": a["rates"]} for a in acc]


# -- 2. the floor ------------------------------------------------------------

def bench_floor(floor, emu, page_size, reps):
    e0, t0 = emu.cpu(), time.monotonic()
    p = subprocess.run([floor, emu.url, str(page_size), str(reps + 1)],
                       capture_output=True, text=True, timeout=600)
    e1, t1 = emu.cpu(), time.monotonic()
    if p.returncode != 0:
        raise RuntimeError("floor failed: %s" % p.stderr.strip())
    runs = []
    for line in p.stdout.splitlines():
        f = line.split()
        d = dict(zip(f[0::2], f[1::2]))
        runs.append((int(d["rows"]), float(d["wall_s"]), float(d["cpu_s"])))
    runs = runs[1:]                 # the first run is the warm-up
    return {"rate": median([r / w for r, w, _ in runs]),
            "cpu_us": median([c * 1e6 / r for r, _, c in runs]),
            "rows": runs[0][0], "emu_share": (e1 - e0) / (t1 - t0)}


# -- 3. the SQL alternative ------------------------------------------------

ALT_SQL = r"""
CREATE TEMP TABLE alt_page (doc jsonb);
CREATE FUNCTION alt_download_tasks(base text, page_size int DEFAULT 1000, max_pages int DEFAULT 100000)
RETURNS TABLE (uuid text, name text, project text, log_store_name text, log_stream_name text,
  query text, query_start_time timestamptz, query_end_time timestamptz, format text,
  "limit" bigint, "order" text, state text, failed_code text, failed_message text,
  written_rows bigint, file_dir text, file_name text, exec_start_time timestamptz,
  exec_end_time timestamptz, created_time timestamptz, updated_time timestamptz)
LANGUAGE plpgsql AS $fn$
DECLARE
  page int := 1;
  n bigint;
BEGIN
  LOOP
    TRUNCATE alt_page;
    -- one curl per page; CSV with quote and delimiter bytes that JSON never
    -- contains, so that the body arrives unaltered (text COPY eats backslashes)
    EXECUTE format($c$COPY alt_page FROM PROGRAM %L WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')$c$,
      format('curl -sS --fail -X POST -H %s -d %s %s',
             quote_literal('Content-Type: application/json'),
             quote_literal(format('{"pageNo":%s,"pageSize":%s}', page, page_size)),
             quote_literal(base || '/v2/logstore/download/list')));
    RETURN QUERY
      SELECT r.uuid, r.name, r.project, r."logStoreName", r."logStreamName", r.query,
             nullif(r."queryStartTime", '')::timestamptz, nullif(r."queryEndTime", '')::timestamptz,
             r.format, r."limit", r."order", r.state, r."failedCode", r."failedMessage",
             r."writtenRows", r."fileDir", r."fileName",
             nullif(r."execStartTime", '')::timestamptz, nullif(r."execEndTime", '')::timestamptz,
             nullif(r."createdTime", '')::timestamptz, nullif(r."updatedTime", '')::timestamptz
      FROM alt_page,
           jsonb_to_recordset(alt_page.doc -> 'result' -> 'tasks') AS r(
             uuid text, name text, project text, "logStoreName" text, "logStreamName" text,
             query text, "queryStartTime" text, "queryEndTime" text, format text,
             "limit" bigint, "order" text, state text, "failedCode" text, "failedMessage" text,
             "writtenRows" bigint, "fileDir" text, "fileName" text, "execStartTime" text,
             "execEndTime" text, "createdTime" text, "updatedTime" text);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXIT WHEN n < page_size OR page >= max_pages;
    page := page + 1;
  END LOOP;
END
$fn$;
"""


def bench_alt(s, emu, reps, expect, page_size):
    q = FULL.format(t="alt_download_tasks('%s', %d)" % (emu.url, page_size))
    n = int(s.value(q).split("|")[0])
    if n != expect:
        raise RuntimeError("the SQL alternative returned %d rows, not %d" % (n, expect))
    rates = []
    for _ in range(reps):
        _, wall = s.ok(q)
        rates.append(n / wall)
    return {"rate": median(rates)}


# -- main --------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--summary", required=True)
    a = ap.parse_args()
    reps = max(1, min(a.reps, 50))
    lat_reps = max(1, min(reps, 3))

    emu_auth = Emulator(os.environ["BENCH_EMU_AUTH"], os.environ["BENCH_EMU_AUTH_LOG"])
    emu_noauth = Emulator(os.environ["BENCH_EMU_NOAUTH"])
    emu_lat = Emulator(os.environ["BENCH_EMU_LAT"])
    emu_big = Emulator(os.environ["BENCH_EMU_BIG"]) if os.environ.get("BENCH_EMU_BIG") else None
    floor = os.environ["BENCH_FLOOR"]
    N = 100000

    s = Session()
    s.ok("SET jit = off;")
    s.ok("CREATE EXTENSION bls_fdw;")
    module = next((l.split()[-1] for l in open("/proc/%d/maps" % s.pid) if "bls_fdw" in l), "?")
    out("bls_fdw %s, module %s" % (s.value("SELECT bls_fdw_version();"), module))
    if os.environ.get("BENCH_DESTDIR") and not module.startswith(os.environ["BENCH_DESTDIR"]):
        out("WARNING: the module is not the one built from this tree (%s)" % os.environ["BENCH_DESTDIR"])
    setup_server(s, "emu", emu_auth.url,
                 ["p1000", "p100", "p1000ra0", "dflt"],
                 [{"page_size": "1000"}, {"page_size": "100"},
                  {"page_size": "1000", "readahead": "0"}, {}])
    setup_server(s, "lat", emu_lat.url,
                 ["lat0", "lat2", "lat4", "lat8"],
                 [{"page_size": "100", "readahead": "0"}, {"page_size": "100", "readahead": "2"},
                  {"page_size": "100"}, {"page_size": "100", "readahead": "8"}])
    if emu_big:
        setup_server(s, "big", emu_big.url, ["big", "big100"],
                     [{"page_size": "1000"}, {"page_size": "100"}])
    s.ok(ALT_SQL)
    base = None
    base_destdir = os.environ.get("BENCH_BASELINE_DESTDIR")
    if base_destdir:
        s.ok("CREATE DATABASE perf_base;")
        s.ok("ALTER DATABASE perf_base SET extension_destdir = '%s';" % base_destdir)
        base = Session("perf_base")
        base.ok("SET jit = off;")
        base.ok("CREATE EXTENSION bls_fdw;")
        bmodule = next((l.split()[-1] for l in open("/proc/%d/maps" % base.pid)
                        if "bls_fdw" in l), "?")
        out("baseline %s: bls_fdw %s, module %s" % (
            os.environ.get("BENCH_BASELINE_LABEL", "?"), base.value("SELECT bls_fdw_version();"),
            bmodule))
        if not bmodule.startswith(base_destdir):
            raise RuntimeError("the baseline session did not load the baseline's module")
        setup_server(base, "emu", emu_auth.url, ["p1000", "p100", "p1000ra0"],
                     [{"page_size": "1000"}, {"page_size": "100"},
                      {"page_size": "1000", "readahead": "0"}])

    # 1. bls_fdw
    out()
    out("== 1. bls_fdw: full scan of %s tasks, every column "
        "(SELECT count(*), sum(length(t::text)) FROM download_tasks t), "
        "median of %d scans in one session" % (fmt_rate(N), reps))
    row = "   %-38s %9s %19s %7s %14s %9s"
    out(row % ("table options", "rows/s", "(min-max of runs)", "wall s", "backend us/row",
               "emu CPU"))
    fdw, bfdw = {}, {}

    def fdw_line(label, r):
        out(row % (label, fmt_rate(r["rate"]), "(%s-%s)" % (fmt_rate(min(r["rates"])),
                                                            fmt_rate(max(r["rates"]))),
                   "%.3f" % r["wall"], "%.2f" % r["cpu_us"], "%.0f%%" % (100 * r["emu_share"])))
    for key, table, label, query in [
            ("p1000", "p1000.download_tasks", "page_size 1000, readahead 4 (default)", FULL),
            ("p100", "p100.download_tasks", "page_size 100, readahead 4 (default)", FULL),
            ("p1000ra0", "p1000ra0.download_tasks", "page_size 1000, readahead 0", FULL),
            ("convert_only", "p1000.download_tasks", "page_size 1000, count(t) instead",
             "SELECT count(t) FROM {t} t;")]:
        if base is None:
            fdw[key] = bench_fdw(s, emu_auth, table, reps, N, query=query)
            fdw_line(label, fdw[key])
        else:
            fdw[key], bfdw[key] = bench_fdw_alternating([s, base], emu_auth, table, reps, N,
                                                        query=query)
            fdw_line(label, fdw[key])
            fdw_line("  baseline, the same", bfdw[key])
    if base is not None:
        base.close()
        out("   (baseline: the build of --baseline, its scans alternating with this tree's)")
    out("   (count(t) forms every row, so every column is converted, but calls no output")
    out("    functions: the difference to the first line is PostgreSQL's t::text)")
    out("   (emu CPU = the emulator's CPU seconds / wall seconds over the scans, of one core:")
    out("    well below 100% it is not the bottleneck)")

    # 2. the floor
    out()
    out("== 2. the floor: bench/floor.c (libcurl, one keep-alive connection; json-c, all 21 "
        "fields of every task), median of %d runs" % reps)
    floors = {}
    for ps in (1000, 100):
        r = bench_floor(floor, emu_noauth, ps, reps)
        floors[ps] = r
        out("   page_size %-28d %9s rows/s %28.2f us/row CPU   emu CPU %3.0f%%" % (
            ps, fmt_rate(r["rate"]), r["cpu_us"], 100 * r["emu_share"]))

    # 3. the SQL alternative
    out()
    out("== 3. the SQL alternative: plpgsql loop of COPY alt_page FROM PROGRAM 'curl -X POST ...'"
        " per page + jsonb_to_recordset, median of %d scans" % reps)
    alt = {}
    for ps, key in [(1000, "p1000"), (100, "p100")]:
        alt[ps] = bench_alt(s, emu_noauth, reps, N, ps)
        out("   %-38s %9s rows/s   bls_fdw at the same page_size is %.1fx faster" % (
            "page_size %d" % ps, fmt_rate(alt[ps]["rate"]),
            fdw[key]["rate"] / alt[ps]["rate"]))

    # 4. latency
    out()
    out("== 4. latency: emulator adds 30 ms to every response; 5,000 tasks, page_size 100 "
        "(50 pages), wall time, median of %d scans" % lat_reps)
    lat = {}
    for key, ra in [("lat0", 0), ("lat2", 2), ("lat4", 4), ("lat8", 8)]:
        r = bench_fdw(s, emu_lat, key + ".download_tasks", lat_reps, 5000)
        lat[ra] = r["wall"]
    serial = lat[0]
    for ra in (0, 2, 4, 8):
        ideal = 0.030 * 50 / (ra + 1)
        label = "serial (readahead 0)" if ra == 0 else "readahead %d%s" % (
            ra, " (default)" if ra == 4 else "")
        out("   %-24s %7.3f s  %6.3fx serial    ideal %6.3f s  %6.3fx serial" % (
            label, lat[ra], lat[ra] / serial, ideal, ideal / serial))
    out("   (ideal = 30 ms x 50 pages / (readahead + 1))")

    # 4b. concurrent creates
    out()
    out("== 4b. INSERT: 50 CreateDownloadTask at 30 ms latency, wall time, median of %d" % lat_reps)
    ins = {}
    for bs in (1, 10, 16):
        walls = []
        for rep_i in range(lat_reps):
            s.ok("ALTER FOREIGN TABLE lat0.download_tasks OPTIONS (%s batch_size '%d');" % (
                "SET" if bs != 1 or rep_i else "ADD", bs))
            _, wall = s.ok("INSERT INTO lat0.download_tasks (name, log_store_name, "
                           "query_start_time, query_end_time) "
                           "SELECT 'bench-%d-' || i, 'app-log', '2024-11-01', '2024-11-02' "
                           "FROM generate_series(1, 50) i;" % bs)
            walls.append(wall)
        ins[bs] = median(walls)
    for bs in (1, 10, 16):
        label = "batch_size %d%s" % (bs, " (default)" if bs == 10 else " (serial)" if bs == 1 else "")
        out("   %-24s %7.3f s  %6.3fx serial    ideal %6.3f s" % (
            label, ins[bs], ins[bs] / ins[1], 0.030 * -(-50 // bs)))
    out("   (ideal = 30 ms x ceil(50 / batch_size): a batch's creates run side by side)")

    # 5. memory
    out()
    mem = None
    if emu_big:
        out("== 5. memory: backend peak RSS (VmHWM) in a fresh session, 1,000,000 tasks")
        mem = {}
        for ps, sch in [(1000, "big"), (100, "big100")]:
            m = Session()
            m.ok("SET jit = off;")
            m.ok("SELECT 1;")
            hwm0, rss0 = m.status_kb("VmHWM"), m.status_kb("VmRSS")
            m.ok("SELECT count(*) FROM (SELECT * FROM %s.download_tasks LIMIT 1) x;" % sch)
            hwm1 = m.status_kb("VmHWM")
            c0, e0 = m.cpu(), emu_big.cpu()
            lines, wall = m.ok(FULL.format(t=sch + ".download_tasks"), timeout=900)
            c1, e1 = m.cpu(), emu_big.cpu()
            n = int(lines[-1].split("|")[0])
            hwm2 = m.status_kb("VmHWM")
            m.close()
            mem[ps] = (hwm2 - hwm0) / 1024.0
            out("   page_size %d (readahead 4):" % ps)
            out("   %-46s VmHWM %6.1f MB  (VmRSS %.1f MB)" % (
                "  idle (connected, after SELECT 1)", hwm0 / 1024.0, rss0 / 1024.0))
            out("   %-46s VmHWM %6.1f MB  (+%.1f MB: module, libcurl, OpenSSL, pages)" % (
                "  after a LIMIT 1 scan", hwm1 / 1024.0, (hwm1 - hwm0) / 1024.0))
            out("   %-46s VmHWM %6.1f MB  (+%.1f MB over idle, +%.1f MB over the LIMIT 1 scan)" % (
                "  after the full scan of %s rows" % fmt_rate(n), hwm2 / 1024.0, mem[ps],
                (hwm2 - hwm1) / 1024.0))
            out("     the full scan: %.1f s, %s rows/s, %.2f us/row backend CPU, emu CPU %.0f%%" % (
                wall, fmt_rate(n / wall), (c1 - c0) * 1e6 / n, 100 * (e1 - e0) / wall))
    else:
        out("== 5. memory: skipped (--no-million)")

    # 6. requests
    out()
    out("== 6. requests: %s tasks, table with default options (page_size 100, readahead 4); "
        "EXPLAIN (ANALYZE, VERBOSE) and the emulator's log" % fmt_rate(N))
    out("   %-44s %7s %9s %9s %12s %12s" % ("query", "rows", "requests", "emulator", "bytes",
                                            "emu bytes"))
    for label, where in [
            ("LIMIT 10", "LIMIT 10"),
            ("created_time in the last hour",
             "WHERE created_time >= timestamptz '%s' - interval '1 hour'" % NEWEST),
            ("project = 'default'", "WHERE project = 'default'"),
            ("full scan", "")]:
        emu_auth.log_clear()
        nlines = len(emu_auth.log_lines())
        lines, _ = s.ok("EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF) "
                        "SELECT * FROM dflt.download_tasks %s;" % where)
        plan = "\n".join(lines)
        time.sleep(0.3)     # the emulator logs a request just after answering it
        ereq = len(emu_auth.list_requests())
        ebytes = sum(int(m.group(1)) for m in
                     (re.search(r" bytes=(\d+) ", l) for l in emu_auth.log_lines()[nlines:])
                     if m and LIST_PATH in m.string)

        def grab(pat):
            mm = re.search(pat, plan)
            return mm.group(1) if mm else "?"
        rows = grab(r"Foreign Scan on \S+ [^\n]*rows=(\d+)")
        if where == "LIMIT 10":
            rows = grab(r"Limit [^\n]*rows=(\d+)")
        out("   %-44s %7s %9s %9d %12s %12d" % (label, rows, grab(r"BLS Requests: (\d+)"), ereq,
                                               grab(r"BLS Bytes Received: (\d+)"), ebytes))
    s.close()

    # summary
    ratio_alt = {ps: fdw[key]["rate"] / alt[ps]["rate"] for ps, key in [(1000, "p1000"), (100, "p100")]}
    ratio_cpu = fdw["convert_only"]["cpu_us"] / floors[1000]["cpu_us"]
    ratio_cpu_text = fdw["p1000"]["cpu_us"] / floors[1000]["cpu_us"]
    ratio_lat = lat[4] / serial
    best_ra = min((2, 4, 8), key=lambda ra: lat[ra])

    def verdict(ok):
        return "met" if ok else "NOT MET"
    lines = []
    for ps, key in [(1000, "p1000"), (100, "p100")]:
        lines.append("bls_fdw vs the SQL alternative, page_size %-4d %5.2fx  (%s vs %s rows/s; target >= 5x)  %s" % (
            ps, ratio_alt[ps], fmt_rate(fdw[key]["rate"]), fmt_rate(alt[ps]["rate"]),
            verdict(ratio_alt[ps] >= 5)))
    lines += [
        "backend CPU per row vs the floor:              %6.2fx  (%.2f vs %.2f us/row; target <= 1.5x)  %s" % (
            ratio_cpu, fdw["convert_only"]["cpu_us"], floors[1000]["cpu_us"], verdict(ratio_cpu <= 1.5)),
        "   (every column converted and every row formed: count(t); the floor formats nothing either)",
        "   (adding PostgreSQL's own text output, t::text: %5.2fx  (%.2f us/row))" % (
            ratio_cpu_text, fdw["p1000"]["cpu_us"]),
        "50 pages, 30 ms latency, readahead 4 / serial: %6.3fx  (%.3f s vs %.3f s; "
        "target <= 0.35x)  %s" % (ratio_lat, lat[4], serial, verdict(ratio_lat <= 0.35)),
        "   (best: readahead %d,                         %6.3fx)" % (best_ra, lat[best_ra] / serial),
        "50 creates, 30 ms latency, batch_size 10 / serial: %6.3fx  (%.3f s vs %.3f s; "
        "target <= 0.35x)  %s" % (ins[10] / ins[1], ins[10], ins[1], verdict(ins[10] / ins[1] <= 0.35)),
    ]
    if mem is not None:
        for ps in (100, 1000):
            lines.append("RSS growth for 1,000,000 rows, page_size %-4d %5.1f MB (target < 10 MB)  %s"
                         % (ps, mem[ps], verdict(mem[ps] < 10)))
    else:
        lines.append("RSS growth for 1,000,000 rows:                 not measured (--no-million)")
    lines.append("emulator CPU during the bls_fdw scans:         %.0f%% / %.0f%% / %.0f%% of one core "
                 "(page_size 1000 / 100 / 1000 readahead 0)" % (
                     100 * fdw["p1000"]["emu_share"], 100 * fdw["p100"]["emu_share"],
                     100 * fdw["p1000ra0"]["emu_share"]))
    if bfdw:
        for key, label in [("p1000", "page_size 1000"), ("p100", "page_size 100"),
                           ("p1000ra0", "page_size 1000 readahead 0"),
                           ("convert_only", "page_size 1000 count(t)")]:
            lines.append("this tree / baseline, %-27s %5.2fx rows/s  (%s vs %s), "
                         "backend CPU/row %5.2fx" % (
                             label + ":", fdw[key]["rate"] / bfdw[key]["rate"],
                             fmt_rate(fdw[key]["rate"]), fmt_rate(bfdw[key]["rate"]),
                             fdw[key]["cpu_us"] / bfdw[key]["cpu_us"]))
    with open(a.summary, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
