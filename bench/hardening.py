#!/usr/bin/env python3
"""The database half of bench/hardening.sh; run it through that script.

Runs inside pg_virtualenv (libpq's PG* variables name the throwaway
cluster), against the emulator named by BLS_EMULATOR_URL and the silent
listener on 127.0.0.1:BLS_HANG_PORT (test/hang_server.py).  Talks to the
database only through psql processes (no driver needed) and to the
emulator's control API directly over HTTP.  Prints one line per case and
writes the summary lines to --summary.  Exit status 3 if the postmaster
restarted (a fault crashed a backend), else 0.
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

EMU = os.environ["BLS_EMULATOR_URL"].rstrip("/")
HANG_PORT = int(os.environ["BLS_HANG_PORT"])
END = "__bench_end__"


# -- emulator control ------------------------------------------------------

def ctl(method, endpoint, obj=None):
    data = None if obj is None else json.dumps(obj).encode()
    req = urllib.request.Request(EMU + "/_emulator/" + endpoint, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def reset():
    ctl("POST", "reset", {})


def fault(*faults):
    ctl("POST", "faults", list(faults))


def list_requests():
    return len(ctl("GET", "log"))


def connections():
    return ctl("GET", "connections")["connections"]


# -- psql sessions -----------------------------------------------------------

class Session:
    """One psql process fed through a pipe: one backend, kept open."""

    def __init__(self):
        self.p = subprocess.Popen(
            ["stdbuf", "-oL", "-eL", "psql", "-X", "-q", "-A", "-t", "-d", "postgres",
             "-v", "VERBOSITY=terse"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        self.pid = int(self.run("SELECT pg_backend_pid();")[0][0])

    def send(self, sql):
        """Send sql (and an end marker carrying the SQLSTATE); do not wait."""
        self.p.stdin.write(sql + "\n\\echo " + END + " :SQLSTATE\n")
        self.p.stdin.flush()

    def wait(self, timeout=120):
        """Read up to the end marker: (output lines, sqlstate, time it came).
        sqlstate is None if psql ended first (lost connection)."""
        lines = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if line == "":
                return lines, None, time.monotonic()
            line = line.rstrip("\n")
            if line.startswith(END):
                return lines, line.split()[1] if len(line.split()) > 1 else "", time.monotonic()
            lines.append(line)
        raise TimeoutError("psql did not answer within %ds" % timeout)

    def run(self, sql, timeout=120):
        self.send(sql)
        lines, state, _ = self.wait(timeout)
        return lines, state

    def value(self, sql):
        lines, state = self.run(sql)
        if state != "00000" or not lines:
            raise RuntimeError("%s failed: %s %s" % (sql, state, lines))
        return lines[-1]

    def alive(self):
        return self.p.poll() is None

    def close(self):
        if self.alive():
            try:
                self.p.stdin.close()
            except OSError:
                pass
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def psql1(sql):
    """One statement in a fresh session; its last output line."""
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-d", "postgres", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError("psql -c %r: %s" % (sql, out.stderr.strip()))
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


SETUP = """
CREATE EXTENSION IF NOT EXISTS bls_fdw;
DROP SERVER IF EXISTS emu, hang_tls, hang_http, closed CASCADE;
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '{emu}', max_retries '1', request_timeout_ms '1000');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks (uuid text, state text) SERVER emu OPTIONS (page_size '100');
CREATE FOREIGN TABLE records (log_store_name text, "time" timestamptz, fields jsonb)
  SERVER emu OPTIONS (resource 'log_records');
DROP SCHEMA IF EXISTS bls CASCADE;
CREATE SCHEMA bls;
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO bls;
ALTER FOREIGN TABLE bls.download_tasks OPTIONS (ADD page_size '100');
-- generous limits: the cancel measurements must not run into them
CREATE SERVER slow FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '{emu}', max_retries '0', request_timeout_ms '120000');
CREATE USER MAPPING FOR CURRENT_USER SERVER slow
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE slow_tasks (uuid text) SERVER slow OPTIONS (page_size '100');
CREATE FOREIGN TABLE slow_records (log_store_name text, "time" timestamptz)
  SERVER slow OPTIONS (resource 'log_records');
CREATE SERVER hang_tls FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint 'https://127.0.0.1:{hang}', max_retries '0',
           connect_timeout_ms '120000', request_timeout_ms '120000');
CREATE USER MAPPING FOR CURRENT_USER SERVER hang_tls
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE hang_tls_tasks (uuid text) SERVER hang_tls;
CREATE SERVER closed FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint 'http://127.0.0.1:{closed}', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER closed
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE closed_tasks (uuid text) SERVER closed;
"""

# every column converted: a whole-row reference
FULL_SCAN = ("SELECT count(*), md5(string_agg(t::text, '' ORDER BY uuid)) "
             "FROM bls.download_tasks t;")


# fifteen minutes of a log store: four marker pages
SLOW_RECORDS = ("SELECT count(*) FROM slow_records WHERE log_store_name = 'nginx-access' "
                "AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';")


def closed_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# -- 1. fault matrix -----------------------------------------------------------

def fault_matrix(pm_start, out):
    """(name, faults, query, setup sql, teardown sql)"""
    F = FULL_SCAN
    cases = []
    for st in (500, 502, 503, 504, 429):
        cases.append(("http %d once" % st, [{"type": "http", "status": st}], F))
        cases.append(("http %d always" % st, [{"type": "http", "status": st, "count": -1,
                                               "retry_after": "0"}], F))
    for st in (400, 401, 403, 404, 409, 413, 302, 200):
        cases.append(("http %d" % st, [{"type": "http", "status": st}], F))
    cases += [
        ("success_false", [{"type": "success_false"}], F),
        ("drop", [{"type": "drop", "count": -1}], F),
        ("reset_mid_body", [{"type": "reset_mid_body", "count": -1}], F),
        ("reset_mid_body page 2", [{"type": "reset_mid_body", "page": 2, "count": -1}], F),
        ("delay_headers > request_timeout", [{"type": "delay_headers", "ms": 1500}], F),
        ("delay_body > request_timeout", [{"type": "delay_body", "ms": 1500}], F),
        ("truncated", [{"type": "truncated"}], F),
        ("truncated page 2", [{"type": "truncated", "page": 2}], F),
        ("malformed", [{"type": "malformed"}], F),
        ("html 200", [{"type": "html"}], F),
        ("html 502", [{"type": "html", "status": 502, "count": -1}], F),
        ("empty", [{"type": "empty"}], F),
        ("not_object", [{"type": "not_object"}], F),
        ("missing_result", [{"type": "missing_result"}], F),
        ("missing_tasks", [{"type": "missing_tasks"}], F),
        ("tasks_not_array", [{"type": "tasks_not_array"}], F),
        ("task_not_object", [{"type": "task_not_object"}], F),
        ("total 5000", [{"type": "total", "value": 5000, "count": -1}], F),
        ("total null", [{"type": "total", "value": None, "count": -1}], F),
        ("total 0", [{"type": "total", "value": 0}], F),
        ("total -1", [{"type": "total", "value": -1}], F),
        ("total string", [{"type": "total", "value": "many"}], F),
        ("total 2^70", [{"type": "total", "value": 2 ** 70, "count": -1}], F),
        ("insert_head 7 on page 2", [{"type": "insert_head", "n": 7, "page": 2}], F),
        ("insert_head 100 on page 2", [{"type": "insert_head", "n": 100, "page": 2}], F),
        ("oversize 2 MB (cap 1 MB)", [{"type": "oversize", "bytes": 2 << 20}], F,
         "ALTER SERVER emu OPTIONS (ADD max_response_bytes '1048576');",
         "ALTER SERVER emu OPTIONS (DROP max_response_bytes);"),
        ("extra_fields", [{"type": "extra_fields"}], F),
        ("null_fields (all)", [{"type": "null_fields", "fields": [
            "uuid", "name", "createdTime", "writtenRows", "limit"]}], F),
        ("missing_fields (all)", [{"type": "missing_fields", "fields": [
            "uuid", "name", "createdTime", "writtenRows", "limit"]}], F),
        ("invalid_utf8 uuid", [{"type": "invalid_utf8", "field": "uuid"}], F),
        ("invalid_utf8 name", [{"type": "invalid_utf8", "field": "name"}], F),
        ("invalid_utf8 createdTime", [{"type": "invalid_utf8", "field": "createdTime"}], F),
        ("wrong_type name nul byte", [{"type": "wrong_type", "field": "name",
                                       "value": "nul\u0000byte"}], F),
        ("wrong_type uuid object", [{"type": "wrong_type", "field": "uuid",
                                     "value": {"a": [1, {"b": None}]}}], F),
        ("wrong_type uuid 10 kB string", [{"type": "wrong_type", "field": "uuid",
                                           "value": "u" * 10000}], F),
        ("wrong_type writtenRows 1e400", [{"type": "wrong_type", "field": "writtenRows",
                                           "value": 10 ** 400}], F),
        ("wrong_type limit -2^63-1", [{"type": "wrong_type", "field": "limit",
                                       "value": -(2 ** 63) - 1}], F),
        ("wrong_type createdTime deep array", [{"type": "wrong_type", "field": "createdTime",
                                                "value": [[[[[[[[1]]]]]]]]}], F),
        ("wrong_type queryEndTime year 99999", [{"type": "wrong_type", "field": "queryEndTime",
                                                 "value": "99999-01-01T00:00:00Z"}], F),
        ("wrong_type state float", [{"type": "wrong_type", "field": "state",
                                     "value": 1.5e308}], F),
        ("connection refused", [], "SELECT count(*) FROM closed_tasks;"),
    ]

    tried = survived = 0
    restarted = False
    s = Session()
    for c in cases:
        name, faults, query = c[0], c[1], c[2]
        pre = c[3] if len(c) > 3 else None
        post = c[4] if len(c) > 4 else None
        tried += 1
        reset()
        if pre:
            s.run(pre)
        if faults:
            fault(*faults)
        t0 = time.monotonic()
        lines, state = s.run(query, timeout=60)
        ms = (time.monotonic() - t0) * 1000
        reset()
        if post and s.alive():
            s.run(post)
        ok = False
        why = ""
        if state is None or not s.alive():
            why = "backend/session lost: " + " | ".join(lines[-3:])
        else:
            chk, cstate = s.run("SELECT pg_backend_pid(), pg_postmaster_start_time(), "
                                "(SELECT count(*) FROM tasks);")
            if cstate != "00000":
                why = "check failed: %s %s" % (cstate, chk)
            else:
                pid, pm, n = chk[-1].split("|")
                if int(pid) != s.pid:
                    why = "backend changed"
                elif pm != pm_start:
                    why = "postmaster restarted"
                elif int(n) != 200:
                    why = "check scan returned %s rows" % n
                else:
                    ok = True
        if not ok:
            # is the postmaster still the same one?
            try:
                if psql1("SELECT pg_postmaster_start_time();") != pm_start:
                    restarted = True
            except Exception:
                restarted = True
            s.close()
            s = Session()
        survived += ok
        msg = [l for l in lines if l.startswith(("ERROR", "FATAL", "server closed",
                                                   "psql:", "connection"))]
        result = state if state != "00000" else "ok " + (lines[-1] if lines else "")
        print("  %-36s %-8s %6.0f ms  %s%s" % (
            name, "survived" if ok else "DIED", ms, result,
            ("  [" + why + "]") if why else ""), flush=True)
        del msg
    s.close()
    out.append("faults: %d tried, %d survived%s" % (
        tried, survived, "; POSTMASTER RESTARTED" if restarted else ""))
    return restarted


# -- 2. cancels ----------------------------------------------------------------

def wait_in_request(ctl_s, pid, timeout=10):
    """Wait until backend pid is running its query and waiting in bls_fdw."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = ctl_s.value("SELECT coalesce(state, '') || '/' || coalesce(wait_event_type, '') "
                        "FROM pg_stat_activity WHERE pid = %d;" % pid)
        if v == "active/Extension":
            return True
        time.sleep(0.02)
    return False


def cancel_case(label, setup_fault, query, reps, method, ctl_s):
    """Median and worst time from the cancel to the query's error, in ms."""
    times = []
    bad = []
    for i in range(reps):
        reset()
        if setup_fault:
            fault(setup_fault)
        a = Session()
        try:
            # the cases time a scan's requests, not a count BLS computes
            a.run("SET bls_fdw.aggregate_pushdown = off;")
            if method == "timeout":
                a.run("SET statement_timeout = '500ms';")
                t_send = time.monotonic()
                a.send(query)
                lines, state, t_end = a.wait(60)
                lat = (t_end - t_send) * 1000 - 500
            else:
                a.send(query)
                if not wait_in_request(ctl_s, a.pid):
                    bad.append("never waited in the FDW")
                time.sleep(0.2)  # well inside the request
                t0 = time.monotonic()
                ctl_s.send("SELECT pg_cancel_backend(%d);" % a.pid)
                lines, state, t_end = a.wait(60)
                ctl_s.wait()
                lat = (t_end - t0) * 1000
            if state != "57014":
                bad.append("rep %d: SQLSTATE %s %s" % (i + 1, state, lines[-2:]))
            # the session is still usable afterwards
            if a.run("SELECT 1;")[1] != "00000":
                bad.append("rep %d: session unusable after cancel" % (i + 1))
            times.append(lat)
        finally:
            a.close()
    reset()
    med = statistics.median(times) if times else float("nan")
    worst = max(times) if times else float("nan")
    print("  %-34s %-20s n=%-3d median %6.1f ms  worst %6.1f ms%s" % (
        label, "pg_cancel_backend" if method == "cancel" else "statement_timeout",
        len(times), med, worst, ("  [" + "; ".join(bad[:3]) + "]") if bad else ""),
        flush=True)
    return med, worst, bad


def terminate_case(reps, ctl_s, pm_start):
    times = []
    bad = []
    for i in range(reps):
        reset()
        fault({"type": "delay_headers", "ms": 60000})
        a = Session()
        pid = a.pid
        a.send("SELECT count(*) FROM slow_tasks;")
        if not wait_in_request(ctl_s, pid):
            bad.append("never waited in the FDW")
        time.sleep(0.2)
        t0 = time.monotonic()
        ctl_s.send("SELECT pg_terminate_backend(%d);" % pid)
        lines, state, t_end = a.wait(60)
        ctl_s.wait()
        try:
            a.p.wait(10)
        except subprocess.TimeoutExpired:
            bad.append("psql still running")
        times.append((t_end - t0) * 1000)
        gone = ctl_s.value("SELECT count(*) FROM pg_stat_activity WHERE pid = %d;" % pid)
        if gone != "0":
            # give it a moment: the backend may still be exiting
            time.sleep(0.5)
            gone = ctl_s.value("SELECT count(*) FROM pg_stat_activity WHERE pid = %d;" % pid)
        if gone != "0":
            bad.append("rep %d: backend %d still there" % (i + 1, pid))
        if not any("terminating connection due to administrator command" in l for l in lines):
            bad.append("rep %d: no FATAL seen: %s" % (i + 1, lines[-2:]))
        a.close()
    reset()
    same_pm = ctl_s.value("SELECT pg_postmaster_start_time();") == pm_start
    print("  %-34s %-20s n=%-3d median %6.1f ms  worst %6.1f ms  postmaster %s%s" % (
        "slow request (delay_headers)", "pg_terminate_backend", len(times),
        statistics.median(times), max(times), "unchanged" if same_pm else "RESTARTED",
        ("  [" + "; ".join(bad[:3]) + "]") if bad else ""), flush=True)
    return statistics.median(times), max(times), same_pm, bad


# -- 3. leaks ------------------------------------------------------------------

def proc_figures(pid):
    rss = None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss, fds


# the leak checks: a scan of 200 tasks (2 pages), and one of 1,200 log
# records (2 marker pages, the second read ahead), with every column
LEAK_CASES = [
    ("tasks", "SELECT count(*) FROM tasks;", "200"),
    ("log_records", "SELECT count(fields) FROM records WHERE log_store_name = 'nginx-access' "
     "AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:05:00+00';", "1200"),
]


def leaks(scans, out, name, query, expected):
    reset()
    s = Session()
    marks = {}
    batch = 50
    done = 0
    failures = 0
    while done < scans:
        n = min(batch, scans - done)
        lines, state = s.run("\n".join([query] * n), timeout=300)
        counts = [l for l in lines if l.strip().isdigit()]
        failures += n - sum(1 for c in counts if c.strip() == expected)
        done += n
        if done in (100, scans):
            marks[done] = proc_figures(s.pid)
    conns = connections()
    reqs = list_requests()
    s.close()
    (r100, f100), (rend, fend) = marks[100], marks[scans]
    print("  %s: scans %d (%d failed), requests %d, emulator connections %d" % (
        name, scans, failures, reqs, conns))
    print("  RSS at scan 100: %d kB, at scan %d: %d kB, growth %+d kB" % (
        r100, scans, rend, rend - r100))
    print("  open fds at scan 100: %d, at scan %d: %d" % (f100, scans, fend), flush=True)
    out.append("leaks, %s: RSS %d kB at scan 100, %d kB at scan %d (%+d kB); fds %d -> %d; "
               "emulator connections %d over %d requests%s" % (
                   name, r100, rend, scans, rend - r100, f100, fend, conns, reqs,
                   ("; %d scans FAILED" % failures) if failures else ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--scans", type=int, default=1000)
    ap.add_argument("--summary", required=True)
    args = ap.parse_args()
    reps = max(1, min(args.reps, 1000))
    scans = max(100, min(args.scans, 100000))

    summary = []
    psql1("SELECT 1;")
    setup = SETUP.format(emu=EMU, hang=HANG_PORT, closed=closed_port())
    r = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"],
                       input=setup, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    pm_start = psql1("SELECT pg_postmaster_start_time();")

    print("== fault matrix (each followed by a check in the same session)", flush=True)
    restarted = fault_matrix(pm_start, summary)

    print("== cancels (%d each; statement_timeout 500 ms: latency = elapsed - 500 ms)" % reps,
          flush=True)
    ctl_s = Session()
    cases = [
        ("connecting (TLS handshake hangs)", None, "SELECT count(*) FROM hang_tls_tasks;"),
        ("waiting for headers", {"type": "delay_headers", "ms": 60000},
         "SELECT count(*) FROM slow_tasks;"),
        ("mid-body (delay_body)", {"type": "delay_body", "ms": 60000},
         "SELECT count(*) FROM slow_tasks;"),
        ("log_records, waiting for headers",
         {"type": "delay_headers", "ms": 60000, "call": "QueryLogRecord"}, SLOW_RECORDS),
        ("log_records, second page mid-body",
         {"type": "delay_body", "ms": 60000, "skip": 1, "call": "QueryLogRecord"}, SLOW_RECORDS),
    ]
    for label, f, q in cases:
        for method in ("cancel", "timeout"):
            med, worst, bad = cancel_case(label, f, q, reps, method, ctl_s)
            summary.append("cancel %s, %s: median %.1f ms, worst %.1f ms%s" % (
                label, "pg_cancel_backend" if method == "cancel" else "statement_timeout",
                med, worst, ("; %d problems" % len(bad)) if bad else ""))
    med, worst, same_pm, bad = terminate_case(min(reps, 5), ctl_s, pm_start)
    summary.append("terminate during a slow request: median %.1f ms, worst %.1f ms, "
                   "postmaster %s%s" % (med, worst, "unchanged" if same_pm else "RESTARTED",
                                        ("; %d problems" % len(bad)) if bad else ""))
    restarted = restarted or not same_pm
    ctl_s.close()

    print("== leaks (%d scans each in one session: 200 tasks in pages of 100; 1,200 log records in 2 marker pages)" % scans, flush=True)
    for name, query, expected in LEAK_CASES:
        leaks(scans, summary, name, query, expected)

    if psql1("SELECT pg_postmaster_start_time();") != pm_start:
        restarted = True
    summary.append("postmaster: %s" % ("RESTARTED" if restarted else
                                       "same as at the start (no crash)"))
    with open(args.summary, "w") as f:
        f.write("\n".join(summary) + "\n")
    return 3 if restarted else 0


if __name__ == "__main__":
    sys.exit(main())
