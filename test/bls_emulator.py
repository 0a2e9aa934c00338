#!/usr/bin/env python3
"""BLS emulator: imitates Baidu AI Cloud Log Service's ListDownloadTask API.

Standard library only (Python 3.11).  Serves on loopback for the bls_fdw tests.

    python3 test/bls_emulator.py [serve] [options]     run the server
    python3 test/bls_emulator.py ctl COMMAND [ARG]      control a running server

Served API:   POST /v2/logstore/download/list   (bce-auth-v1 signed unless --no-auth)
              POST /v1/project/list, GET /v1/logstore, GET /v1/logstore/{name}
              (ListProject, ListLogStore, DescribeLogStore: see "Catalog" below)
              POST /v2/logstore/download, GET|DELETE /v2/logstore/download/{uuid},
              GET /v2/logstore/download/link/{uuid} (CreateDownloadTask,
              DescribeDownloadTask, DeleteDownloadTask, GetDownloadTaskLink: see
              "Download-task calls" below)
Control API:  /_emulator/{reset,faults,config,log,log/clear,connections,tasks,stats,health}
              /_emulator/{accounts/inflight,accounts/inflight/clear}
              /_emulator/{projects,logstores}
              /_emulator/{tasks/count,advance,release,inflight,inflight/clear}
              (unsigned, never recorded in the request log)

See the argument parser (--help) and FAULT_TYPES_DOC (the faults) for details.
"""

import argparse
import array
import calendar
import email.parser
import functools
import gzip
import hmac
import hashlib
import http.client
import http.server
import ipaddress
import json
import os
import random
import re
import resource
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from json.encoder import encode_basestring as _json_str  # ensure_ascii=False flavour

LIST_PATH = "/v2/logstore/download/list"
CONTROL_PREFIX = "/_emulator/"
BASE_TIME = calendar.timegm((2024, 11, 5, 8, 0, 0, 0, 0, 0))  # 2024-11-05T08:00:00Z
MAX_FUTURE_SKEW = 1800  # seconds

BUILTIN_KEYS = {
    # ak: (sk, security token or None)
    "emulator-ak": ("emulator-sk", None),
    "emulator-sts-ak": ("emulator-sts-sk", "emulator-sts-token"),
    # the request budget's suite: its in-flight maxima and 429 back-off are
    # its own, whatever requests other suites abandoned are still running
    "emulator-budget-ak": ("emulator-budget-sk", None),
    # test/budget_cluster.sh's, for the same reason: the whole suite runs it
    # after other tests whose abandoned requests may still be in flight
    "emulator-cluster-ak": ("emulator-cluster-sk", None),
    # the cancel and errors suites' long Retry-Afters: a 429 holds back every
    # backend of its account (the request budget), so they throttle a key of
    # their own, not the one the other suites use
    "emulator-throttle-ak": ("emulator-throttle-sk", None),
    "emulator-throttle2-ak": ("emulator-throttle2-sk", None),
}

TASK_FIELDS = (
    "uuid", "name", "project", "logStoreName", "logStreamName", "query",
    "queryStartTime", "queryEndTime", "format", "limit", "order", "state",
    "failedCode", "failedMessage", "writtenRows", "fileDir", "fileName",
    "execStartTime", "execEndTime", "createdTime", "updatedTime",
)

ORDER_BY_VALUES = ("createdTime", "updatedTime", "name")
ORDER_VALUES = ("asc", "desc")

# ---------------------------------------------------------------------------
# bce-auth-v1 signing (bls-api.md section 4)
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def uri_encode(s, keep_slash=False):
    """RFC 3986 UriEncode of the UTF-8 bytes: only A-Z a-z 0-9 - . _ ~ stay.

    Cached: a client signs the same few names and values (host, the length
    and type of its bodies, this second's x-bce-date) request after request."""
    return urllib.parse.quote(s, safe="/~" if keep_slash else "~")


def _octets(s):
    """Raw bytes of a path or query string: bytes as they are (the request
    line's octets); a str is text, taken as its UTF-8."""
    return s if isinstance(s, bytes) else s.encode("utf-8")


def canonical_uri(path):
    """The decoded path, UriEncoded with '/' kept; an empty path is '/'.
    Decoded to bytes, not text, so that any octet signs as itself."""
    path = urllib.parse.unquote_to_bytes(_octets(path or ""))
    if not path:
        return "/"
    if not path.startswith(b"/"):
        path = b"/" + path
    return urllib.parse.quote(path, safe="/~")


def _wire_octets(s):
    """The octets of a request-line string: http.server decodes the line as
    Latin-1, so encoding it back gives the bytes received (a str that is not
    Latin-1 came from elsewhere and is taken as UTF-8)."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode("utf-8")


def parse_query(query):
    """Raw query string of a request line -> list of decoded (key, value)
    pairs (blank values kept), decoded as canonical_query decodes them: to
    octets ('+' a plus), then as UTF-8 (an invalid octet: U+FFFD)."""
    pairs = []
    for part in _wire_octets(query or "").split(b"&"):
        if not part:
            continue
        k, _, v = part.partition(b"=")
        pairs.append((urllib.parse.unquote_to_bytes(k).decode("utf-8", "replace"),
                      urllib.parse.unquote_to_bytes(v).decode("utf-8", "replace")))
    return pairs


def canonical_query(query):
    """query: raw query string (str or the request line's bytes), dict, or list
    of decoded (key, value) pairs.

    A raw string is split on '&', each part on its first '='; key and value
    are percent-decoded to bytes ('+' is a plus, a '%' without two hex digits
    itself) and UriEncoded again, so an invalid UTF-8 octet signs as itself,
    as bls-api.md section 4 has it.  "authorization" (any case) is left out;
    the "key=value" strings are sorted by byte order."""
    if isinstance(query, (str, bytes)):
        items = []
        for part in _octets(query).split(b"&"):
            if not part:
                continue
            k, _, v = part.partition(b"=")
            k, v = urllib.parse.unquote_to_bytes(k), urllib.parse.unquote_to_bytes(v)
            if k.lower() != b"authorization":
                items.append(urllib.parse.quote(k, safe="~") + "=" +
                             urllib.parse.quote(v, safe="~"))
        return "&".join(sorted(items))
    if isinstance(query, dict):
        pairs = list(query.items())
    else:
        pairs = list(query or ())
    items = sorted(
        uri_encode(str(k)) + "=" + uri_encode("" if v is None else str(v))
        for k, v in pairs
        if str(k).lower() != "authorization"
    )
    return "&".join(items)


def _header_map(headers):
    out = {}
    for k, v in headers.items():
        key = k.strip().lower()
        if key not in out:
            out[key] = str(v)
    return out


def canonical_headers(headers, signed_headers):
    """headers: mapping name -> value; signed_headers: iterable of names."""
    hm = _header_map(headers)
    lines = []
    for name in signed_headers:
        name = name.strip().lower()
        value = hm.get(name)
        if value is None:
            continue
        value = value.strip()
        if not value:
            continue
        lines.append(uri_encode(name) + ":" + uri_encode(value))
    lines.sort()
    return "\n".join(lines)


def canonical_request(method, path, query, headers, signed_headers):
    return "\n".join((
        method.upper(),
        canonical_uri(path),
        canonical_query(query),
        canonical_headers(headers, signed_headers),
    ))


def auth_string_prefix(ak, timestamp, expiration):
    return "bce-auth-v1/%s/%s/%s" % (ak, timestamp, expiration)


def signing_key(sk, ak, timestamp, expiration):
    return hmac.new(sk.encode(), auth_string_prefix(ak, timestamp, expiration).encode(),
                    hashlib.sha256).hexdigest()


def compute_signature(sk, ak, timestamp, expiration, method, path, query, headers,
                      signed_headers):
    key = signing_key(sk, ak, timestamp, expiration)
    creq = canonical_request(method, path, query, headers, signed_headers)
    return hmac.new(key.encode(), creq.encode("utf-8"), hashlib.sha256).hexdigest()


def format_timestamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@functools.lru_cache(maxsize=1024)   # time.strptime is slow; requests share seconds
def parse_timestamp(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def make_authorization(ak, sk, method, path, query, headers, signed_headers,
                       timestamp, expiration=1800):
    signed = sorted(h.strip().lower() for h in signed_headers)
    sig = compute_signature(sk, ak, timestamp, expiration, method, path, query, headers,
                            signed)
    return "%s/%s/%s" % (auth_string_prefix(ak, timestamp, expiration), ";".join(signed), sig)


def sign_request(ak, sk, method, path, headers, query="", timestamp=None, expiration=1800,
                 token=None, signed_headers=None):
    """Return a copy of headers (must include Host) with x-bce-date, the security
    token (when given) and Authorization added, signing host, content-length,
    content-type, content-md5 and every x-bce-* header present (or signed_headers)."""
    if timestamp is None:
        timestamp = format_timestamp(time.time())
    out = dict(headers)
    out["x-bce-date"] = timestamp
    if token is not None:
        out["x-bce-security-token"] = token
    if signed_headers is None:
        signed_headers = [k.lower() for k in out
                          if k.lower() in ("host", "content-length", "content-type",
                                           "content-md5")
                          or k.lower().startswith("x-bce-")]
    out["Authorization"] = make_authorization(ak, sk, method, path, query, out,
                                              signed_headers, timestamp, expiration)
    return out


TEST_VECTORS = {
    "signing_key": "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479",
    "A": "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e",
    "A2": "1b8de5a23a56eef657c69f94c621e7acd227d049a4ba577f537d5e5cebf0cf32",
    "B": "fcbf6e52452c8eeec965e6440461c29ac508c53e6f3398e8393bc0f6ec2df3b2",
}


def compute_test_vectors():
    """Recompute bls-api.md's vectors A, A2 and B; returns {name: value}."""
    ak, sk, ts, exp = "a" * 32, "b" * 32, "2015-04-27T08:23:49Z", 1800
    out = {"signing_key": signing_key(sk, ak, ts, exp)}
    hdr_a = {
        "Host": "bj.bcebos.com",
        "Date": "Mon, 27 Apr 2015 16:23:49 +0800",
        "Content-Type": "text/plain",
        "Content-Length": "8",
        "Content-Md5": "NFzcPqhviddjRNnSOGo4rw==",
        "x-bce-date": ts,
    }
    path_a = "/v1/test/myfolder/readme.txt"
    q_a = "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851"
    out["A"] = compute_signature(sk, ak, ts, exp, "PUT", path_a, q_a, hdr_a,
                                 ["content-length", "content-md5", "content-type", "host",
                                  "x-bce-date"])
    out["A_canonical"] = canonical_request("PUT", path_a, q_a, hdr_a,
                                           ["content-length", "content-md5", "content-type",
                                            "host", "x-bce-date"])
    out["A2"] = compute_signature(sk, ak, ts, exp, "PUT", path_a, q_a, hdr_a,
                                  ["host", "x-bce-date"])
    hdr_b = {
        "Host": "bls-log.bj.baidubce.com",
        "Content-Type": "application/json;charset=utf-8",
        "Content-Length": "26",
        "x-bce-date": ts,
    }
    signed_b = ["content-length", "content-type", "host", "x-bce-date"]
    out["B"] = compute_signature(sk, ak, ts, exp, "POST", LIST_PATH, "", hdr_b, signed_b)
    out["B_canonical"] = canonical_request("POST", LIST_PATH, "", hdr_b, signed_b)
    return out


# ---------------------------------------------------------------------------
# Data set
# ---------------------------------------------------------------------------

_DAY_CACHE = {}
_TOD = None


def fmt_time(t):
    """Epoch seconds -> 'YYYY-MM-DDThh:mm:ssZ' (fast, cached per day)."""
    global _TOD
    if _TOD is None:
        _TOD = ["T%02d:%02d:%02dZ" % (s // 3600, s // 60 % 60, s % 60) for s in range(86400)]
    d, s = divmod(int(t), 86400)
    prefix = _DAY_CACHE.get(d)
    if prefix is None:
        prefix = time.strftime("%Y-%m-%d", time.gmtime(d * 86400))
        _DAY_CACHE[d] = prefix
    return prefix + _TOD[s]


def uuid4_from_bits(bits):
    """Same string as str(uuid.UUID(int=bits, version=4)), faster."""
    bits &= ~(0xc000 << 48)
    bits |= 0x8000 << 48
    bits &= ~(0xf000 << 64)
    bits |= 4 << 76
    h = "%032x" % bits
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


PROJECTS = ("default", "prod-web", "analytics", "数据平台", "staging")
STORES = {
    "default": ("nginx-access", "nginx-error", "app-log", "payment-svc", "审计日志",
                "Nginx-Access-Legacy"),
    "prod-web": ("nginx-access", "nginx-error", "web-frontend", "payment-svc", "CDN-Edge"),
    "analytics": ("app-log", "clickstream", "审计日志", "événements"),
    "数据平台": ("审计日志", "etl-任务日志", "app-log", "kafka-connect"),
    "staging": ("app-log", "nginx-access", "test_store"),
}
STREAMS = ("", "", "", "host-01", "host-02", "host-03", "web-7f9c", "pod-a1b2c3",
           "instance-东区-1", "stream with space")
STATES = ("SUCCESS",) * 50 + ("EXPIRED",) * 18 + ("FAILED",) * 12 + ("RUNNING",) * 10 + \
    ("WAITING",) * 10
QUERIES = ("match *", "match *", "match *", "status:500", "status:>=400 AND method:POST",
           'message:"timeout"', "level:ERROR | select count(*) as n",
           "用户:张三 AND 操作:删除", "path:/api/v1/* AND NOT status:200",
           "match * | select host, count(*) group by host")
QUERY_SPANS = (300, 900, 3600, 3600, 6 * 3600, 86400, 7 * 86400)
LIMITS = (100, 1000, 1000, 10000, 10000, 100000, 1000000)
FAILURES = (
    ("QueryTimeout", "query execution timed out after 300s"),
    ("InternalError", "internal error, please retry later"),
    ("LogStoreNotFound", "logstore does not exist"),
    ("QuotaExceeded", "下载配额已用完，请明天再试"),
    ("InvalidQuery", 'syntax error near "AND" at position 12'),
)
FILE_DIRS = ("bls-download/", "bls-test/wang/download/", "exports/日志/", "bos-bucket/bls/")


def _make_name(rng, store, seq):
    r = rng.random()
    if r < 0.45:
        return "%s-export-%d" % (store, seq)
    if r < 0.52:
        return "%s 下载任务 %d" % (store, seq)
    if r < 0.58:
        return "Café résumé naïve #%d" % seq
    if r < 0.63:
        return 'quote "%s" %d' % (store, seq)
    if r < 0.67:
        return "it's %s %d" % (store, seq)
    if r < 0.71:
        return "rocket 🚀 launch %d" % seq
    if r < 0.74:
        return "  spaces around %d  " % seq
    if r < 0.78:
        return "日志下载%d" % seq
    if r < 0.80:
        return "back\\slash %d" % seq
    if r < 0.83:
        return "Ünïcödé Δοκιμή %d" % seq
    if r < 0.88:
        return "test"
    if r < 0.92:
        return "daily-%s" % store
    return "%s_%d" % (store.upper(), seq)


def encode_task(t):
    """Task dict (field order of TASK_FIELDS) -> compact UTF-8 JSON bytes."""
    return json.dumps(t, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _encode_fast(uid, name, project, store, stream, query, qs, qe, fmt, limit, order,
                 state, fcode, fmsg, rows, fdir, fname, es, ee, ct, ut):
    s = _json_str
    return ('{"uuid":"%s","name":%s,"project":%s,"logStoreName":%s,"logStreamName":%s,'
            '"query":%s,"queryStartTime":"%s","queryEndTime":"%s","format":"%s",'
            '"limit":%d,"order":"%s","state":"%s","failedCode":%s,"failedMessage":%s,'
            '"writtenRows":%d,"fileDir":%s,"fileName":%s,"execStartTime":"%s",'
            '"execEndTime":"%s","createdTime":"%s","updatedTime":"%s"}' % (
                uid, s(name), s(project), s(store), s(stream), s(query), qs, qe, fmt,
                limit, order, state, s(fcode), s(fmsg), rows, s(fdir), s(fname), es, ee,
                ct, ut)).encode("utf-8")


class DataSet:
    """Column store of tasks; index i is the task's internal sequence number."""

    def __init__(self, size, seed):
        self.seed = seed
        self.base_size = size
        self.json = []
        self.project = []
        self.store_lower = []
        self.name = []
        self.created = array.array("q")
        self.updated = array.array("q")
        self.max_time = BASE_TIME
        self.deleted = set()  # indices removed by DeleteDownloadTask
        self._generate(size, seed)

    def __len__(self):
        return len(self.json)

    def _append(self, blob, project, store, name, ct, ut):
        self.json.append(blob)
        self.project.append(project)
        self.store_lower.append(store.lower())
        self.name.append(name)
        self.created.append(ct)
        self.updated.append(ut)
        if ut > self.max_time:
            self.max_time = ut
        if ct > self.max_time:
            self.max_time = ct

    def _generate(self, size, seed):
        rng = random.Random(seed)
        rnd = rng.random
        getrandbits = rng.getrandbits
        ft = fmt_time
        enc = _encode_fast
        n_streams, n_states, n_queries = len(STREAMS), len(STATES), len(QUERIES)
        n_spans, n_limits, n_fail, n_dirs = (len(QUERY_SPANS), len(LIMITS), len(FAILURES),
                                             len(FILE_DIRS))
        store_lower = {s: s.lower() for v in STORES.values() for s in v}
        j_app, p_app, s_app, n_app = (self.json.append, self.project.append,
                                      self.store_lower.append, self.name.append)
        c_app, u_app = self.created.append, self.updated.append
        max_time = self.max_time
        t = BASE_TIME - int(rnd() * 600)
        for seq in range(size):
            # irregular steps back in time (seconds to hours); ~5 % duplicates
            r = rnd()
            if seq == 0 or r < 0.05:
                pass
            elif r < 0.67:
                t -= 1 + int(rnd() * 60)
            elif r < 0.97:
                t -= 61 + int(rnd() * 1140)
            else:
                t -= 1201 + int(rnd() * 3 * 3600)
            ct = t
            x = rnd() * 100
            if x < 55:
                project = "default"
            elif x < 73:
                project = "prod-web"
            elif x < 85:
                project = "analytics"
            elif x < 94:
                project = "数据平台"
            else:
                project = "staging"
            stores = STORES[project]
            store = stores[int(len(stores) * rnd() ** 1.6)]  # first stores more common
            stream = STREAMS[int(rnd() * n_streams)]
            name = _make_name(rng, store, seq + 1)
            uid = uuid4_from_bits(getrandbits(128))
            query = QUERIES[int(rnd() * n_queries)]
            qe = ct - int(rnd() * 1440) * 60
            qs = qe - QUERY_SPANS[int(rnd() * n_spans)]
            fmt = "json" if rnd() < 0.6 else "csv"
            limit = LIMITS[int(rnd() * n_limits)]
            order = "desc" if rnd() < 0.7 else "asc"
            state = STATES[int(rnd() * n_states)]
            fcode = fmsg = fdir = fname = es_s = ee_s = ""
            if state == "WAITING":
                rows = 0
                ut = ct
            else:
                es = ct + int(rnd() * 31)
                es_s = ft(es)
                if state == "RUNNING":
                    rows = int(rnd() * limit)
                    ut = es + int(rnd() * 61)
                else:
                    ee = es + 1 + int(rnd() * 900)
                    ee_s = ft(ee)
                    ut = ee
                    if state == "FAILED":
                        rows = int(rnd() * limit) if rnd() < 0.3 else 0
                        fcode, fmsg = FAILURES[int(rnd() * n_fail)]
                    else:
                        rows = int(rnd() * (limit + 1))
                        fdir = FILE_DIRS[int(rnd() * n_dirs)]
                        fname = "%s_%s_%s.%s" % (name.strip(), fmt, uid, fmt)
                        if state == "EXPIRED":
                            ut = ee + 3 * 86400
            j_app(enc(uid, name, project, store, stream, query, ft(qs), ft(qe), fmt, limit,
                      order, state, fcode, fmsg, rows, fdir, fname, es_s, ee_s, ft(ct),
                      ft(ut)))
            p_app(project)
            s_app(store_lower[store])
            n_app(name)
            c_app(ct)
            u_app(ut)
            if ut > max_time:
                max_time = ut
        self.max_time = max_time

    def insert_head(self, n, project="default", store=None):
        """Add n WAITING tasks newer than every existing task."""
        rng = random.Random("%s:insert:%d" % (self.seed, len(self.json)))
        t = self.max_time
        stores = STORES.get(project, ("app-log",))
        for _ in range(n):
            t += rng.randint(1, 30)
            seq = len(self.json) + 1
            st = store if store is not None else rng.choice(stores)
            name = "new-task-%d" % seq
            uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            limit = rng.choice(LIMITS)
            task = {
                "uuid": uid, "name": name, "project": project, "logStoreName": st,
                "logStreamName": "", "query": "match *",
                "queryStartTime": fmt_time(t - 3600), "queryEndTime": fmt_time(t),
                "format": "json", "limit": limit, "order": "desc", "state": "WAITING",
                "failedCode": "", "failedMessage": "", "writtenRows": 0, "fileDir": "",
                "fileName": "", "execStartTime": "", "execEndTime": "",
                "createdTime": fmt_time(t), "updatedTime": fmt_time(t),
            }
            self._append(encode_task(task), project, st, name, t, t)

    def truncate(self):
        """Drop inserted tasks (back to the generated data set)."""
        self.deleted.clear()
        n = self.base_size
        if len(self.json) == n:
            return
        del self.json[n:]
        del self.project[n:]
        del self.store_lower[n:]
        del self.name[n:]
        del self.created[n:]
        del self.updated[n:]
        self.max_time = max(BASE_TIME, max(self.updated, default=BASE_TIME),
                            max(self.created, default=BASE_TIME))

    def sorted_index(self, project, store_kw, order_by, order):
        n = len(self.json)
        if project is None and store_kw is None:
            cand = range(n)
        else:
            pj, sl = self.project, self.store_lower
            kw = store_kw.lower() if store_kw is not None else None
            if project is not None and kw is not None:
                cand = [i for i in range(n) if pj[i] == project and kw in sl[i]]
            elif project is not None:
                cand = [i for i in range(n) if pj[i] == project]
            else:
                cand = [i for i in range(n) if kw in sl[i]]
        if self.deleted:
            cand = [i for i in cand if i not in self.deleted]
        if order_by == "createdTime":
            key = self.created.__getitem__
        elif order_by == "updatedTime":
            key = self.updated.__getitem__
        else:
            key = self.name.__getitem__
        idx = sorted(cand, key=key)  # stable: ties by ascending sequence number
        if order == "desc":
            idx.reverse()  # reverse the whole (key, seq) order
        return array.array("l", idx)


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

FAULT_TYPES = {
    "http", "success_false", "delay_headers", "delay_body", "drop", "reset_mid_body",
    "truncated", "malformed", "html", "empty", "not_object", "missing_result",
    "missing_tasks", "tasks_not_array", "task_not_object", "wrong_type", "invalid_utf8",
    "total", "insert_head", "oversize", "extra_fields", "null_fields", "missing_fields",
    "respelled", "ignore_page_no", "repeat_marker", "page_size", "marker_cycle",
    "empty_marked", "swap_columns",
}
FAULT_TYPES_DOC = """Faults: POST /_emulator/faults with one JSON object or a list of them,
or `bls_emulator.py ctl fault JSON`.  Queued in order; each POST to the list
path takes the first queued fault that matches it.  Fields of every fault:

  type    one of the names below
  call    the call(s) it is for: an API name or a list of them (ListDownloadTask,
          CreateDownloadTask, DescribeDownloadTask, GetDownloadTaskLink,
          DeleteDownloadTask, ListProject, ListLogStore, DescribeLogStore,
          QueryLogRecord);
          list, create, describe, link and delete stand for the download-task
          calls.  Without call: the next request of any call that can take
          the type, except the four calls CreateDownloadTask,
          DescribeDownloadTask, GetDownloadTaskLink and DeleteDownloadTask,
          and QueryLogRecord, which take only faults that name them (so a fault without call
          still means the list call to a client that also creates tasks)
  count   requests it applies to (default 1); -1: every matching request
          until a reset (POST /_emulator/reset, `ctl reset`)
  page    apply only to requests whose pageNo is this (default: any); only
          for the calls with a pageNo (ListDownloadTask, ListProject,
          ListLogStore)
  skip    let this many matching requests through unaltered first (default 0)
  params  apply only to requests whose query string has these parameters
          with these values: {"startDateTime": "2024-05-01T00:00:00Z"}; a
          null value: the parameter is absent ({"marker": null}: a first
          page).  A call whose parameters are in a body has none.  (A fault
          on one time slice of a QueryLogRecord scan, whatever order the
          slices' requests arrive in.)

Which types a call takes: ListDownloadTask every type; ListProject and
ListLogStore every response and page fault but ignore_page_no;
DescribeLogStore the same but missing_result, missing_tasks, tasks_not_array,
task_not_object and total; the four download-task calls http, success_false,
drop, delay_headers, malformed, html, empty, not_object, truncated and
extra_fields (see "Download-task calls" in the source for what these do
there); QueryLogRecord every response fault and missing_result,
missing_tasks, tasks_not_array, task_not_object, wrong_type, null_fields,
missing_fields, invalid_utf8, extra_fields and oversize (see "Log records"
in the source for what these do there).  A fault naming only calls that
cannot take its type is refused.

Response faults (the normal answer is replaced):
  http             status (503), code, message, retry_after (a Retry-After
                   header): a JSON error; 502 and 504 without code: nginx HTML
  success_false    200 with {"success":false,...}; code, message
  drop             close the connection without answering
  malformed        200, broken JSON
  html             status (200), an nginx HTML error page (the 500 page when
                   status is 200)
  empty            200, empty body
  not_object       200, body [1,2,3]
  truncated        the first half of the body, Content-Length to match
  reset_mid_body   half the body, then a TCP reset
  delay_body       half the body, a pause of ms (1000), the rest
  delay_headers    a pause of ms (1000) before the normal answer

Page faults (a successful page, altered):
  missing_result   no "result"
  missing_tasks    no "result.tasks"
  tasks_not_array  "tasks":"not an array"
  task_not_object  a 42 inserted as the second task
  wrong_type       field (writtenRows) set to value ("many")
  null_fields      fields (a name or a list) set to null
  missing_fields   fields (a name or a list) removed
  invalid_utf8     invalid UTF-8 bytes put into field (name)
                   (these four: in every task, or only task index when given;
                   a negative index counts from the end)
  total            "total" set to value (0; null allowed)
  extra_fields     unknown keys at every level
  respelled        the same tasks in other JSON spellings (escaped keys,
                   duplicate keys, ASCII-only, white space)
  oversize         a "_padding" field that makes the body bytes (1 MiB) long
  ignore_page_no   a service that ignores pageNo: page 1's tasks (same
                   filters, order and pageSize) whatever pageNo was asked
                   for, and "result" without "pageNo" and "total".  Use
                   count -1 (or a large count) for a misbehaving service:
                   {"type":"ignore_page_no","count":-1}
  repeat_marker    (QueryLogRecord) a page asked for with a marker names
                   that same marker as its nextMarker: a service that loops
  page_size        "pageSize" set to value (1000), whatever was asked for: a
                   service that echoes a larger page size than it serves
  marker_cycle     (QueryLogRecord; use count -1) the first marker asked for
                   is named again as nextMarker by every page asked for with
                   another marker: a cycle of two pages, A -> B -> A ...
  empty_marked     (QueryLogRecord) a page with no rows that still names its
                   nextMarker (a fresh one)
  swap_columns     (QueryLogRecord) the answer's first two columns change
                   places (names, types and every row's values): an
                   analysis answering "select k, count(*)" as count, k

Data faults:
  insert_head      n (1) new tasks of project ("default") and logStoreName
                   (any of its stores), newer than every task, are added
                   before this request is answered; a reset removes them

CreateDownloadTask and DeleteDownloadTask (field created / deleted):
  created, deleted true or false: whether the service acted (created or
                   deleted the task) before the fault.  Refusals (http 4xx
                   or 503, success_false) never act; delay_headers, truncated
                   and extra_fields always act; the other faults act unless
                   this is false
  create_accept_then_drop   drop on CreateDownloadTask (call defaults to it)
  create_500       http 500 on CreateDownloadTask (call defaults to it)
"""

# the page faults: they need a page of their own to alter (apply_result_fault)
RESULT_FAULTS = frozenset((
    "missing_result", "missing_tasks", "tasks_not_array", "task_not_object",
    "wrong_type", "null_fields", "missing_fields", "invalid_utf8", "total",
    "extra_fields", "respelled", "oversize", "ignore_page_no", "page_size",
))

HTTP_DEFAULT_CODES = {
    400: ("InvalidParameter", "invalid parameter"),
    401: ("Unauthorized", "unauthorized"),
    403: ("AccessDenied", "access denied"),
    404: ("NotFound", "resource not found"),
    409: ("Conflict", "conflict"),
    413: ("RequestOverload", "request overload"),
    429: ("RequestLimited", "request limited, please slow down"),
    500: ("InternalError", "internal error"),
    503: ("ServiceUnavailable", "service unavailable, please retry later"),
}

REASONS = http.server.BaseHTTPRequestHandler.responses


def response_fault(fault, rid, malformed):
    """The answer a fault that replaces or breaks the response makes, as
    (status, content type, body, send mode, extra headers); status is None
    when the answer stays and only the send mode changes ("drop",
    "truncated", "reset_mid_body", "delay_body").  None for a fault that
    alters the call's own answer instead (the caller applies it)."""
    ftype, jt = fault["type"], JSON_TYPE
    if ftype == "http":
        status = fault.get("status", 503)
        code, msg = HTTP_DEFAULT_CODES.get(status, ("InternalError", "error"))
        extra = []
        if fault.get("retry_after") is not None:
            extra.append(("Retry-After", str(fault["retry_after"])))
        if status in (502, 504) and "code" not in fault:
            return status, "text/html", gateway_html(status), "normal", extra
        return status, jt, error_body(fault.get("code", code),
                                      fault.get("message", msg + " (emulated fault)"),
                                      rid), "normal", extra
    if ftype == "success_false":
        return 200, jt, jbytes({"success": False,
                                "code": fault.get("code", "InternalError"),
                                "message": fault.get("message", "internal error (emulated)"),
                                "requestId": rid}), "normal", []
    if ftype == "malformed":
        return 200, jt, malformed, "normal", []
    if ftype == "html":
        status = fault.get("status", 200)
        return status, "text/html", gateway_html(status if status != 200 else 500), "normal", []
    if ftype == "empty":
        return 200, jt, b"", "normal", []
    if ftype == "not_object":
        return 200, jt, b"[1,2,3]", "normal", []
    if ftype in ("drop", "truncated", "reset_mid_body", "delay_body"):
        return None, None, None, ftype, []
    return None


def gateway_html(status):
    reason = REASONS.get(status, ("Error",))[0]
    return ("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
            "<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n" % (status, reason, status, reason)).encode()


# ---------------------------------------------------------------------------
# Which calls a fault is for
#
# A fault's optional "call" names the call(s) it is for by API name (bls-api.md),
# one name or a list; the short names list, create, describe, link and delete
# are accepted for the download-task calls and stored as their API names.  A
# request takes the first queued fault that names its call (or names no call,
# see below) and whose type that call can take (CALL_FAULT_TYPES).
#
# A fault without "call" is for the next request of any call that can take
# its type, EXCEPT CreateDownloadTask, DescribeDownloadTask,
# GetDownloadTaskLink and DeleteDownloadTask: they take only faults that name
# them.  The regression suites queue faults without "call" and expect them on
# the list call; a client creating or deleting a task between its list
# requests must not consume them.
# ---------------------------------------------------------------------------

LIST_CALL = "ListDownloadTask"
DOWNLOAD_TASK_CALLS = ("CreateDownloadTask", "DescribeDownloadTask", "GetDownloadTaskLink",
                       "DeleteDownloadTask")
CALL_ALIASES = {"list": LIST_CALL, "create": "CreateDownloadTask",
                "describe": "DescribeDownloadTask", "link": "GetDownloadTaskLink",
                "delete": "DeleteDownloadTask"}
# calls that take only the faults naming them
NAMED_ONLY_CALLS = frozenset(DOWNLOAD_TASK_CALLS + ("QueryLogRecord",))
# calls with a pageNo, which a fault's "page" is compared with
PAGED_CALLS = frozenset((LIST_CALL, "ListProject", "ListLogStore"))

# fault types by call (None: every type); insert_head only makes sense for tasks
_TRANSPORT_FAULTS = frozenset((
    "http", "success_false", "delay_headers", "delay_body", "drop", "reset_mid_body",
    "truncated", "malformed", "html", "empty", "not_object"))
_ITEM_FAULTS = frozenset((
    "wrong_type", "invalid_utf8", "extra_fields", "null_fields", "missing_fields",
    "respelled", "oversize"))
_LIST_FAULTS = frozenset((
    "missing_result", "missing_tasks", "tasks_not_array", "task_not_object", "total",
    "page_size"))
_DOWNLOAD_TASK_FAULTS = frozenset((
    "http", "success_false", "drop", "delay_headers", "malformed", "html", "empty",
    "not_object", "truncated", "extra_fields"))
# QueryLogRecord: see "Log records"
_LOGRECORD_FAULTS = _TRANSPORT_FAULTS | _ITEM_FAULTS.difference(("respelled",)) | \
    _LIST_FAULTS.difference(("total", "page_size")) | {"repeat_marker", "marker_cycle",
                                                       "empty_marked", "swap_columns"}
CALL_FAULT_TYPES = {
    LIST_CALL: None,
    "CreateDownloadTask": _DOWNLOAD_TASK_FAULTS,
    "DescribeDownloadTask": _DOWNLOAD_TASK_FAULTS,
    "GetDownloadTaskLink": _DOWNLOAD_TASK_FAULTS,
    "DeleteDownloadTask": _DOWNLOAD_TASK_FAULTS,
    "ListProject": _TRANSPORT_FAULTS | _ITEM_FAULTS | _LIST_FAULTS,
    "ListLogStore": _TRANSPORT_FAULTS | _ITEM_FAULTS | _LIST_FAULTS,
    "DescribeLogStore": _TRANSPORT_FAULTS | _ITEM_FAULTS,
    "QueryLogRecord": _LOGRECORD_FAULTS,
}
# fault types that stand for another fault of CreateDownloadTask
FAULT_ALIASES = {
    "create_accept_then_drop": {"type": "drop"},
    "create_500": {"type": "http", "status": 500},
}
# the field saying whether the service acted before the fault, by call
ACTED_FIELDS = {"CreateDownloadTask": "created", "DeleteDownloadTask": "deleted"}
# faults that alter the real answer: the service has always acted
ALTERING_FAULTS = frozenset(("delay_headers", "truncated", "extra_fields"))


def canonical_call(name):
    """A call's name or alias -> its API name (unknown names unchanged)."""
    return CALL_ALIASES.get(name, name) if isinstance(name, str) else name


def fault_calls(value):
    """A fault's "call" (a call name or a list of them) -> list of API names, or ValueError."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ValueError("fault field call must be a call name or a list of them")
    out = []
    for n in names:
        c = canonical_call(n)
        if c not in CALL_FAULT_TYPES:
            raise ValueError("unknown call %r in fault (known: %s; or %s)" % (
                n, ", ".join(CALL_FAULT_TYPES), ", ".join(CALL_ALIASES)))
        if c not in out:
            out.append(c)
    return out


def check_fault_call(g):
    """Validate and normalize g["call"]; a fault that no named call can take is an error."""
    if g.get("call") is None:
        g.pop("call", None)
        return
    g["call"] = fault_calls(g["call"])
    if not any(CALL_FAULT_TYPES[c] is None or g["type"] in CALL_FAULT_TYPES[c]
               for c in g["call"]):
        raise ValueError("fault type %s does not apply to %s" % (g["type"],
                                                                 ", ".join(g["call"])))
    if g.get("page") is not None and not PAGED_CALLS.intersection(g["call"]):
        raise ValueError("fault field page applies to calls with a pageNo (%s) only" %
                         ", ".join(sorted(PAGED_CALLS)))


def fault_refuses(f):
    """Is f a refusal, a request the service turns down before acting on it?"""
    return (f["type"] == "http" and (f.get("status", 503) < 500 or
                                     f.get("status", 503) == 503)) or \
        f["type"] == "success_false"


def check_acted(g):
    """Validate "created" / "deleted": whether the service acted before the fault."""
    for call, key in ACTED_FIELDS.items():
        if key not in g:
            continue
        if call not in g.get("call", ()):
            raise ValueError("fault field %s applies to faults with call %s only" % (
                key, call))
        if g["type"] in ALTERING_FAULTS:
            raise ValueError("fault field %s does not apply to %s (it acts, then alters "
                             "its answer)" % (key, g["type"]))
        if not isinstance(g[key], bool):
            raise ValueError("fault field %s must be true or false" % key)
        if g[key] and fault_refuses(g):
            raise ValueError("a refused request (4xx, 503, success_false) cannot have "
                             "%s true" % key)


def fault_acts(f, call):
    """Does the service act (create, delete) on a request of call that fault f hits?

    Refusals never act; other faults that replace the answer (http 500/502/504,
    drop, malformed, html, empty, not_object) act unless "created" / "deleted"
    is false: the worst case for a client that resends."""
    key = ACTED_FIELDS.get(call)
    if f is None or key is None or f["type"] in ALTERING_FAULTS:
        return True
    if key in f:
        return f[key]
    return not fault_refuses(f)


def fault_applies(f, call, types):
    """May the queued fault f be taken by a request of this call (types: its fault types)?"""
    calls = f.get("call")
    if calls is None:
        if call in NAMED_ONLY_CALLS:
            return False
    elif call not in calls:
        return False
    return types is None or f["type"] in types


def check_fault_params(g):
    """Validate a fault's "params": {name: value or null}."""
    p = g.get("params")
    if p is None:
        g.pop("params", None)
        return
    if not isinstance(p, dict) or not p or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in p.items()):
        raise ValueError("fault field params must be an object of parameter names "
                         "and string values (or null)")


def fault_params_match(want, query):
    """Does the raw query string have the parameters want names, with their
    values (None: absent)?  A query string that cannot be read matches none."""
    try:
        have = query_params(query or "")
    except AuthError:
        return False
    return all(have.get(k) == v for k, v in want.items())


def validate_fault(f):
    if not isinstance(f, dict):
        raise ValueError("fault must be a JSON object")
    g = dict(f)
    alias = FAULT_ALIASES.get(g.get("type"))
    if alias is not None:
        if g.get("call") is None:
            g["call"] = "CreateDownloadTask"
        if fault_calls(g["call"]) != ["CreateDownloadTask"]:
            raise ValueError("fault %s applies to call CreateDownloadTask only" % f["type"])
        g.update(alias)
    t = g.get("type")
    if t not in FAULT_TYPES:
        raise ValueError("unknown fault type: %r" % (t,))
    for k in ("count", "page", "skip", "ms"):
        if k in g and g[k] is not None and not _is_int(g[k]):
            raise ValueError("fault field %s must be an integer" % k)
    status = g.get("status", 503)
    if t == "http" and (not _is_int(status) or not 100 <= status <= 599):
        raise ValueError("http fault status must be an integer (100..599)")
    g["count"] = g.get("count", 1) if g.get("count") is not None else 1
    g["skip"] = g.get("skip") or 0
    check_fault_call(g)  # optional "call": the call(s) it applies to
    check_fault_params(g)
    check_acted(g)
    return g


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.log_lock = threading.Lock()
        t0 = time.monotonic()
        self.data = DataSet(args.tasks, args.seed)
        self.catalog = Catalog()
        self.logrecords = LogRecords(self.catalog, args.seed)
        self.gen_seconds = time.monotonic() - t0
        self.keys = dict(BUILTIN_KEYS)
        for spec in args.key or ():
            parts = spec.split(":")
            if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
                raise SystemExit("--key must be AK:SK or AK:SK:TOKEN")
            self.keys[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else None)
        self.initial_config = {
            "latency_ms": args.latency_ms,
            "max_page_size": args.max_page_size,
            "auth": not args.no_auth,
            "gzip": args.gzip,
        }
        self.initial_config.update(CATALOG_CONFIG_DEFAULTS)
        self.initial_config.update(download_config_from_args(args))
        self.initial_config.update(LOGRECORD_CONFIG)
        self.config = dict(self.initial_config)
        self.log_file = open(args.log_file, "a", encoding="utf-8") if args.log_file else None
        self.verbose = args.verbose
        self.conn_counter = 0
        self.total_requests = 0
        self.total_list_requests = 0
        self.bytes_sent = 0
        self.started = time.time()
        # rendered plain pages (no fault): see page_body()
        self.page_cache_budget = max(0, args.page_cache_mb) << 20
        self.page_cache = {}
        self.page_cache_bytes = 0
        self.page_cache_hits = 0
        self.page_cache_misses = 0
        self.data_gen = 0
        self.dl = Downloads(self)
        self._reset_locked()
        # warm the default index so the first page is quick
        self.get_index(None, None, "createdTime", "desc")

    def _reset_locked(self):
        self.generation = getattr(self, "generation", 0) + 1
        self.gzip_responses = 0
        self.data.truncate()
        self._data_changed_locked()
        self.faults = []
        self.log = []
        self.log_tickets = {}   # id(entry) -> its answer_ticket()
        self.tickets = getattr(self, "tickets", 0)
        self.log_seq = 0
        self.request_counter = 0
        self.list_conns = set()
        # TCP connections accepted since the reset that carried API requests
        self.conn_base = getattr(self, "conn_counter", 0)
        self.new_conns = set()
        self.calls = dict.fromkeys(CALL_FAULT_TYPES, 0)  # logged requests per call
        self.config = dict(self.initial_config)
        self.dl.reset_locked()

    def reset(self):
        with self.lock:
            self._reset_locked()

    def next_conn_id(self):
        with self.lock:
            self.conn_counter += 1
            return self.conn_counter

    def next_request_id(self):
        with self.lock:
            self.request_counter += 1
            self.total_requests += 1
            n = self.request_counter
        return "e0b1a5e5-0000-4000-8000-%012d" % n

    def _data_changed_locked(self):
        """The task list changed: drop every sorted index and rendered page."""
        self.data_gen += 1
        self.cache = {}
        self.page_cache = {}
        self.page_cache_bytes = 0

    def get_index(self, project, store_kw, order_by, order):
        key = (project, store_kw.lower() if store_kw is not None else None, order_by, order)
        with self.lock:
            self.dl.refresh_locked()
            idx = self.cache.get(key)
            if idx is None:
                idx = self.data.sorted_index(project, store_kw, order_by, order)
                if len(self.cache) >= 64:
                    self.cache.pop(next(iter(self.cache)))
                self.cache[key] = idx
            return idx

    def page(self, project, store_kw, order_by, order, page_no, size):
        with self.lock:
            idx = self.get_index(project, store_kw, order_by, order)
            total = len(idx)
            off = (page_no - 1) * size
            if off >= total:
                return total, []
            js = self.data.json
            return total, [js[i] for i in idx[off:off + size]]

    def page_body(self, project, store_kw, order_by, order, page_no, size):
        """The body of a successful page with no fault, from the page cache.

        The same bytes as Page(...).body() of page(): a scan asks for every
        page once per pass, and rendering (~600 kB at pageSize 1000) cost the
        emulator more CPU than the client under test spent reading it.
        Pages are keyed by the request's parameters and the data generation,
        which every change to the task list bumps (insert_head, reset, a task
        created or deleted, a created task's state moved by the lifecycle
        clock), and evicted oldest first beyond --page-cache-mb."""
        key = (project, store_kw.lower() if store_kw is not None else None, order_by,
               order, page_no, size)
        with self.lock:
            # the lifecycle's states follow the clock: bring them (and the
            # data generation) up to date before looking for a page
            self.dl.refresh_locked()
            key += (self.data_gen,)
            body = self.page_cache.get(key)
            if body is not None:
                self.page_cache_hits += 1
                return body
            self.page_cache_misses += 1
            total, tasks = self.page(project, store_kw, order_by, order, page_no, size)
            body = Page(order, order_by, page_no, size, total, tasks).body()
            if len(body) <= self.page_cache_budget:
                while self.page_cache_bytes + len(body) > self.page_cache_budget:
                    old = self.page_cache.pop(next(iter(self.page_cache)))
                    self.page_cache_bytes -= len(old)
                self.page_cache[key] = body
                self.page_cache_bytes += len(body)
            return body

    def insert_head(self, n, project, store):
        with self.lock:
            self.data.insert_head(n, project, store)
            self._data_changed_locked()

    def add_faults(self, faults):
        with self.lock:
            self.faults.extend(faults)

    def take_fault(self, page_no, call=LIST_CALL, types=None, query=""):
        """Return the fault to apply to this request of call (types: the fault
        types it can take, None for all; query: its raw query string), or
        None."""
        with self.lock:
            for i, f in enumerate(self.faults):
                if not fault_applies(f, call, types):
                    continue
                if f.get("page") is not None and f["page"] != page_no:
                    continue
                if f.get("params") is not None and not fault_params_match(f["params"], query):
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    return None
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        del self.faults[i]
                # count < 0: applies forever (until reset); marker_cycle
                # keeps what it saw in the queued fault itself
                return f if f["type"] == "marker_cycle" else dict(f)
            return None

    def answer_ticket(self):
        """A number taken just before an answer goes out: the log is kept in
        this order.  A client that sends its next request once it has the
        answer must find the two in that order, but the next request may be
        recorded first: a request is recorded after its answer is sent."""
        with self.lock:
            self.tickets += 1
            return self.tickets

    def record(self, entry, line, generation=None, ticket=None):
        with self.lock:
            # a request that began before a reset or log-clear (one a test
            # cancelled, say, finishing late) belongs to the earlier log
            if generation is not None and generation != self.generation:
                return
            self.log_seq += 1
            pos = len(self.log)
            if ticket is not None:
                self.log_tickets[id(entry)] = ticket
                while pos > 0 and self.log_tickets.get(id(self.log[pos - 1]), 0) > ticket:
                    pos -= 1
            self.log.insert(pos, entry)
            # sequence numbers follow the log's order
            first = self.log_seq - (len(self.log) - 1 - pos)
            for j in range(pos, len(self.log)):
                self.log[j]["seq"] = first + (j - pos)
            self.list_conns.add(entry["conn_id"])
            if entry["conn_id"] > self.conn_base:
                self.new_conns.add(entry["conn_id"])
            call = entry.setdefault("call", LIST_CALL)
            self.calls[call] = self.calls.get(call, 0) + 1
            if call == LIST_CALL:
                self.total_list_requests += 1
        self.write_log_line(line)

    def write_log_line(self, line):
        if self.log_file is None and not self.verbose:
            return
        line = "%s %s" % (format_timestamp(time.time()), line)
        with self.log_lock:
            if self.log_file is not None:
                self.log_file.write(line + "\n")
                self.log_file.flush()
            if self.verbose:
                sys.stderr.write(line + "\n")

    def stats(self):
        ru = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            return {
                "requests": len(self.log),
                "calls": dict(self.calls),
                "list_requests_total": self.total_list_requests,
                "requests_total": self.total_requests,
                "connections": len(self.list_conns),
                "connections_total": self.conn_counter,
                "tasks": len(self.data),
                "pending_faults": len(self.faults),
                "bytes_sent": self.bytes_sent,
                "gzip_responses": self.gzip_responses,
                "page_cache_hits": self.page_cache_hits,
                "page_cache_misses": self.page_cache_misses,
                "page_cache_pages": len(self.page_cache),
                "page_cache_bytes": self.page_cache_bytes,
                "cpu_seconds": round(time.process_time(), 3),
                "cpu_user_seconds": round(ru.ru_utime, 3),
                "cpu_system_seconds": round(ru.ru_stime, 3),
                "max_rss_kb": ru.ru_maxrss,
                "generate_seconds": round(self.gen_seconds, 3),
                "uptime_seconds": round(time.time() - self.started, 3),
                "config": dict(self.config),
                "downloads": self.dl.stats(),
            }


STATE = None  # set by serve()


class AuthError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parse_authorization(value):
    """-> (ak, timestamp, expiration:int, signed_headers:list, signature) or AuthError."""
    if not value:
        raise AuthError(401, "Unauthorized", "missing Authorization header")
    parts = value.strip().split("/")
    if len(parts) != 6 or parts[0] != "bce-auth-v1":
        raise AuthError(401, "Unauthorized", "malformed Authorization header "
                        "(expected bce-auth-v1/ak/timestamp/expiration/signedHeaders/signature)")
    _, ak, ts, exp, sh, sig = parts
    if not ak or not sig or not sh:
        raise AuthError(401, "Unauthorized", "malformed Authorization header")
    try:
        exp_i = int(exp)
        if exp_i < 0:
            raise ValueError
    except ValueError:
        raise AuthError(401, "Unauthorized", "malformed Authorization header (expiration)")
    try:
        parse_timestamp(ts)
    except ValueError:
        raise AuthError(401, "Unauthorized", "malformed Authorization header (timestamp)")
    return ak, ts, exp_i, [h for h in sh.split(";") if h], sig


def check_auth(method, raw_path, headers, keys, now=None):
    """Verify a request's bce-auth-v1 signature; returns the AK or raises AuthError."""
    # once into a dict: each get() of an http.client message is a scan of
    # every header, and the signature needs them all again
    headers = _header_map(headers)
    ak, ts, exp, signed, sig = parse_authorization(headers.get("authorization"))
    if ak not in keys:
        raise AuthError(401, "Unauthorized", "unknown access key id")
    sk, token = keys[ak]
    lower_signed = [h.strip().lower() for h in signed]
    if "host" not in lower_signed or "x-bce-date" not in lower_signed:
        raise AuthError(401, "Unauthorized", "signedHeaders must include host and x-bce-date")
    now = time.time() if now is None else now
    t = parse_timestamp(ts)
    if now > t + exp:
        raise AuthError(400, "RequestExpired", "request has expired (timestamp + expiration "
                        "is in the past)")
    if t > now + MAX_FUTURE_SKEW:
        raise AuthError(400, "RequestExpired", "request timestamp is more than 30 minutes "
                        "in the future")
    xdate = (headers.get("x-bce-date") or "").strip()
    if xdate != ts:
        raise AuthError(400, "RequestExpired", "x-bce-date header does not match the "
                        "Authorization timestamp")
    if token is not None:
        got = headers.get("x-bce-security-token")
        if got is None:
            raise AuthError(401, "Unauthorized", "missing x-bce-security-token for "
                            "temporary credentials")
        if got.strip() != token:
            raise AuthError(401, "Unauthorized", "invalid x-bce-security-token")
        if "x-bce-security-token" not in lower_signed:
            raise AuthError(401, "Unauthorized", "x-bce-security-token must be signed")
    # the octets received are what the signature covers
    path, _, query = _wire_octets(raw_path).partition(b"?")
    expect = compute_signature(sk, ak, ts, exp, method, path, query, headers, signed)
    if not hmac.compare_digest(expect, sig.lower()):
        raise AuthError(401, "Unauthorized", "signature does not match")
    return ak


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def validate_body(obj):
    """-> (project, store_kw, order_by, order, page_no, page_size) or AuthError(400)."""
    def bad(msg):
        return AuthError(400, "InvalidParameter", msg)

    def opt_str(name):
        v = obj.get(name)
        if v is None:
            return None
        if not isinstance(v, str):
            raise bad("%s must be a string" % name)
        return v if v != "" else None

    project = opt_str("project")
    store = opt_str("logStoreName")
    order_by = obj.get("orderBy")
    if order_by is None:
        order_by = "createdTime"
    elif order_by not in ORDER_BY_VALUES:
        raise bad("orderBy must be one of createdTime, updatedTime, name")
    order = obj.get("order")
    if order is None:
        order = "desc"
    elif order not in ORDER_VALUES:
        raise bad("order must be asc or desc")
    page_no = obj.get("pageNo")
    if page_no is None:
        page_no = 1
    elif not _is_int(page_no) or page_no < 1:
        raise bad("pageNo must be an integer >= 1")
    page_size = obj.get("pageSize")
    if page_size is None:
        page_size = 10
    elif not _is_int(page_size) or page_size < 1:
        raise bad("pageSize must be an integer >= 1")
    return project, store, order_by, order, page_no, page_size


def jbytes(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_body(code, message, request_id):
    return jbytes({"code": code, "message": message, "requestId": request_id})


class Page:
    """A successful ListDownloadTask result under construction."""

    def __init__(self, order, order_by, page_no, page_size, total, tasks):
        self.items = [("order", jbytes(order)), ("orderBy", jbytes(order_by)),
                      ("pageNo", jbytes(page_no)), ("pageSize", jbytes(page_size)),
                      ("total", jbytes(total))]
        self.tasks = tasks  # list of bytes, or None (omitted), or raw bytes value
        self.tasks_raw = None
        self.top = [("success", b"true"), ("code", b'"OK"'), ("message", b'""')]
        self.omit_result = False

    def set_item(self, key, raw):
        for i, (k, _) in enumerate(self.items):
            if k == key:
                self.items[i] = (key, raw)
                return
        self.items.append((key, raw))

    def drop_item(self, key):
        self.items = [(k, v) for k, v in self.items if k != key]

    def body(self):
        # one join of small pieces and the tasks themselves: a page of 1000
        # tasks is ~600 kB, and every intermediate copy of it (fresh memory,
        # page faults) used to cost more than the rest of the request
        out = []

        def obj(pairs, tail=None):
            sep = b"{"
            for k, v in pairs:
                out.extend((sep, b'"', k.encode(), b'":', v))
                sep = b","
            if tail is not None:
                out.append(sep)
                tail()
            elif sep == b"{":
                out.append(sep)
            out.append(b"}")

        def tasks():
            if self.tasks_raw is not None:
                out.extend((b'"tasks":', self.tasks_raw))
            else:
                out.append(b'"tasks":[')
                if self.tasks:
                    pieces = [b","] * (2 * len(self.tasks) - 1)
                    pieces[0::2] = self.tasks
                    out.extend(pieces)
                out.append(b"]")

        def result():
            out.append(b'"result":')
            obj(self.items, tasks if self.tasks_raw is not None or
                self.tasks is not None else None)

        obj(self.top, None if self.omit_result else result)
        return b"".join(out)


def _task_indices(tasks, index):
    if index is None:
        return range(len(tasks))
    if _is_int(index) and -len(tasks) <= index < len(tasks):
        return [index % len(tasks)]
    return []


def _modify_tasks(tasks, index, fn):
    out = list(tasks)
    for i in _task_indices(out, index):
        d = json.loads(out[i])
        fn(d)
        out[i] = encode_task(d)
    return out


def _respell(raw, i):
    """The same task in other JSON: four spellings, in turn by task index."""
    d = json.loads(raw)
    way = i % 4
    if way == 0:    # every key escaped
        return ("{" + ",".join('"%s":%s' % ("".join("\\u%04x" % ord(c) for c in k),
                                            json.dumps(v, ensure_ascii=False))
                               for k, v in d.items()) + "}").encode("utf-8")
    if way == 1:    # each key first given a decoy value, which the last one replaces
        return ("{" + ",".join('"%s":"decoy",%s:%s' % (k, json.dumps(k), json.dumps(v, ensure_ascii=False))
                               for k, v in d.items()) + "}").encode("utf-8")
    if way == 2:    # ASCII only: other characters as \u escapes
        return json.dumps(d, ensure_ascii=True).encode("utf-8")
    return json.dumps(d, ensure_ascii=False, indent="\t").encode("utf-8")  # white space


def apply_result_fault(f, page):
    """Faults that alter a successful page; returns (status, content_type, body)."""
    t = f["type"]
    ctype = "application/json;charset=utf-8"
    if t == "missing_result":
        page.omit_result = True
    elif t == "missing_tasks":
        page.tasks = None
    elif t == "tasks_not_array":
        page.tasks_raw = b'"not an array"'
    elif t == "task_not_object":
        ts = list(page.tasks)
        ts.insert(min(1, len(ts)), b"42")
        page.tasks = ts
    elif t == "wrong_type":
        field = f.get("field", "writtenRows")
        value = f.get("value", "many")
        page.tasks = _modify_tasks(page.tasks, f.get("index"),
                                   lambda d: d.__setitem__(field, value))
    elif t == "null_fields" or t == "missing_fields":
        fields = f.get("fields") or []
        if isinstance(fields, str):
            fields = [fields]

        def fn(d):
            for fld in fields:
                if t == "null_fields":
                    d[fld] = None
                else:
                    d.pop(fld, None)
        page.tasks = _modify_tasks(page.tasks, f.get("index"), fn)
    elif t == "invalid_utf8":
        field = f.get("field", "name")
        marker = "\u0001@@INVALID_UTF8@@\u0001"
        ts = _modify_tasks(page.tasks, f.get("index"),
                           lambda d: d.__setitem__(field, marker + str(d.get(field, ""))))
        enc = _json_str(marker)[1:-1].encode()
        page.tasks = [b.replace(enc, b"bad\xc3\x28bytes\xff") for b in ts]
    elif t == "total":
        page.set_item("total", jbytes(f.get("value", 0)))
    elif t == "page_size":
        page.set_item("pageSize", jbytes(f.get("value", 1000)))
    elif t == "extra_fields":
        page.items.insert(0, ("_emulatorExtra", b'{"nested":[1,{"a":null}],"s":"x"}'))
        page.items.append(("nextMarker", b"null"))
        page.top.append(("extraTop", b'"ignored"'))
        page.tasks = [b'{"_extraHead":{"k":[1,2,"3"]},' + b[1:-1] +
                      b',"extraString":"ignored","extraNumber":1.5e3,"extraBool":false,'
                      b'"extraNull":null}' for b in page.tasks]
    elif t == "respelled":
        page.tasks = [_respell(b, i) for i, b in enumerate(page.tasks)]
    elif t == "ignore_page_no":
        page.drop_item("pageNo")   # the tasks are page 1's already (see _list)
        page.drop_item("total")
    elif t == "oversize":
        want = int(f.get("bytes", 1 << 20))
        cur = len(page.body()) + len(b'"_padding":"",')
        page.items.insert(0, ("_padding", b'"' + b"x" * max(0, want - cur) + b'"'))
    return 200, ctype, page.body()


# ---------------------------------------------------------------------------
# Catalog: ListProject, ListLogStore, DescribeLogStore (bls-api.md section 6)
#
# The catalog is fixed: the same projects and log stores whatever --tasks and
# --seed are.  It holds every project and every (project, log store) pair that
# the generated tasks can name, except MISSING_LOG_STORES, which tasks name
# on purpose although the catalog lacks them (a deleted log store).
#
# Decisions where bls-api.md is silent:
# - ListProject lists the default project in `projects` too, where the
#   filters, order and page put it; `result.default` is always the default
#   project, filtered or not.  `top` does not change the order.  Config
#   project_default_listed false gives it only beside the list (`default`),
#   the other reading of the API.
# - Config logstore_project_match "substring" makes ListLogStore's `project`
#   a case-sensitive substring of the project name, as a fuzzy filter.
# - name / description / namePattern match as case-insensitive substrings
#   (str.lower); ListLogStore's `project` is an exact name.  Without
#   `project`, ListLogStore lists the log stores of every project (config
#   logstore_default_project names one project instead); DescribeLogStore
#   without `project` looks in "default".
# - Order: names by UTF-8 bytes; times with ties broken by name (then, for
#   log stores, project) in byte order; desc is the exact reverse of asc.
# - pageSize is capped by config max_page_size, as for ListDownloadTask.
# - Query strings: an empty project / namePattern is no filter, a parameter
#   given twice, or a pageNo / pageSize that is not a plain decimal integer
#   >= 1, is 400 InvalidParameter; unknown parameters are ignored.
# - An empty ListProject body is {}.
# - The total of ListProject is spelled `total`, or `totalCount` as the older
#   SDK reads it when config project_total_key is "totalCount".
# ---------------------------------------------------------------------------

PROJECT_LIST_PATH = "/v1/project/list"
LOGSTORE_PATH = "/v1/logstore"

CATALOG_CALLS = {"ListProject": "POST", "ListLogStore": "GET", "DescribeLogStore": "GET"}

PROJECT_FIELDS = ("uuid", "name", "description", "top", "logStoreCount", "createdTime",
                  "updatedTime")
LOGSTORE_FIELDS = ("project", "logStoreName", "retention", "creationDateTime",
                   "lastModifiedTime", "shardCount", "enableHotRetention", "hotRetention",
                   "tags", "index")
# sort value -> field it sorts by
PROJECT_ORDER_BY = {"createdAt": "createdTime", "updatedAt": "updatedTime", "name": "name"}
LOGSTORE_ORDER_BY = {"creationDateTime": "creationDateTime",
                     "lastModifiedTime": "lastModifiedTime", "name": "logStoreName"}

CATALOG_CONFIG_DEFAULTS = {"project_total_key": "total", "logstore_default_project": None,
                           "project_default_listed": True, "logstore_project_match": "exact"}

# name, description, top, createdTime, updatedTime
CATALOG_PROJECTS = (
    ("default", "", False, "2023-03-14T02:00:00Z", "2023-03-14T02:00:00Z"),
    ("prod-web", "Production web tier: nginx, frontend, payments", True,
     "2023-06-01T09:30:00Z", "2024-09-12T11:04:27Z"),
    ("analytics", "Clickstream and audit analysis", False,
     "2023-08-21T06:15:42Z", "2024-10-02T03:00:00Z"),
    ("数据平台", "数据平台组的 ETL 与审计日志", True,
     "2023-11-02T01:02:03Z", "2024-06-30T16:00:00Z"),
    ("staging", "Pre-production, short retention", False,
     "2024-01-15T08:00:00Z", "2024-10-02T03:00:00Z"),
    ("Archive_2023", "Closed 2023 logs, read only", False,
     "2024-05-20T12:00:00Z", "2024-05-20T12:00:00Z"),
    ("sandbox", "", False, "2024-05-20T12:00:00Z", "2024-08-01T00:00:00Z"),
    ("iot-设备", "IoT telemetry of the production devices", False,
     "2024-07-08T10:20:30Z", "2024-10-28T17:45:00Z"),
)

_IDX_NGINX = {"fulltext": True, "caseSensitive": False, "separators": " ,;\"'()[]{}?@&<>/:\\",
              "includeChinese": False,
              "fields": {"status": {"type": "long"}, "method": {"type": "text"},
                         "path": {"type": "text", "caseSensitive": True},
                         "request_time": {"type": "float"}}}
_IDX_TEXT = {"fulltext": True, "caseSensitive": False, "separators": " ,;",
             "includeChinese": True, "fields": {}}
_IDX_JSON = {"fulltext": False, "caseSensitive": False, "separators": "",
             "includeChinese": False,
             "fields": {"level": {"type": "text"}, "traceId": {"type": "text"},
                        "用户": {"type": "text", "includeChinese": True},
                        "latency_ms": {"type": "long"}}}
_T_PROD = (("env", "prod"),)
_T_WEB = (("env", "prod"), ("team", "web"))
_T_DATA = (("团队", "数据平台"), ("cost-center", "CC-042"))

# project, logStoreName, retention (days), shardCount, hotRetention (0: off),
# creationDateTime, lastModifiedTime, tags (None: absent), index (None: absent)
CATALOG_LOGSTORES = (
    ("default", "nginx-access", 30, 4, 7, "2023-03-14T02:10:00Z", "2024-09-01T08:00:00Z",
     _T_PROD, _IDX_NGINX),
    ("default", "nginx-error", 30, 2, 0, "2023-03-14T02:10:05Z", "2023-03-14T02:10:05Z",
     _T_PROD, _IDX_TEXT),
    ("default", "app-log", 90, 2, 0, "2023-08-21T06:20:00Z", "2024-10-02T03:00:00Z",
     None, _IDX_JSON),
    ("default", "payment-svc", 365, 3, 30, "2023-09-30T23:59:59Z", "2024-02-29T12:00:00Z",
     (("env", "prod"), ("pci", "true")), _IDX_JSON),
    ("default", "审计日志", 180, 1, 0, "2023-12-01T00:00:00Z", "2023-12-01T00:00:00Z",
     (("类别", "审计"),), None),
    ("default", "k8s-events", 7, 1, 0, "2024-10-30T09:15:00Z", "2024-10-30T09:15:00Z",
     (), None),
    ("prod-web", "nginx-access", 30, 8, 7, "2023-06-01T09:41:07Z", "2024-09-12T11:04:27Z",
     _T_WEB, _IDX_NGINX),
    ("prod-web", "nginx-error", 30, 2, 0, "2023-06-01T09:41:07Z", "2023-06-01T09:41:07Z",
     _T_WEB, _IDX_TEXT),
    ("prod-web", "web-frontend", 14, 2, 0, "2023-07-04T15:00:00Z", "2024-05-05T05:05:05Z",
     _T_WEB, _IDX_JSON),
    ("prod-web", "payment-svc", 365, 3, 30, "2023-07-04T15:30:00Z", "2024-02-29T12:00:00Z",
     (("env", "prod"), ("pci", "true")), _IDX_JSON),
    ("prod-web", "CDN-Edge", 7, 4, 1, "2024-02-10T03:00:00Z", "2024-08-18T22:30:00Z",
     None, None),
    ("analytics", "app-log", 60, 2, 0, "2023-08-21T06:20:00Z", "2023-08-21T06:20:00Z",
     None, _IDX_JSON),
    ("analytics", "clickstream", 180, 6, 14, "2023-08-22T10:00:00Z", "2024-10-02T03:00:00Z",
     (("env", "prod"), ("pii", "masked")), _IDX_JSON),
    ("analytics", "审计日志", 180, 1, 0, "2023-12-01T00:00:00Z", "2024-01-02T03:04:05Z",
     (("类别", "审计"),), _IDX_TEXT),
    ("analytics", "événements", 30, 1, 0, "2024-03-08T08:08:08Z", "2024-03-08T08:08:08Z",
     (("langue", "français"),), _IDX_TEXT),
    ("analytics", "clickstream-raw", 3, 6, 0, "2024-09-01T00:00:00Z", "2024-09-01T00:00:00Z",
     None, None),
    ("数据平台", "审计日志", 365, 1, 0, "2023-11-02T01:10:00Z", "2024-06-30T16:00:00Z",
     _T_DATA, _IDX_TEXT),
    ("数据平台", "etl-任务日志", 90, 2, 7, "2023-11-02T01:20:00Z", "2024-04-01T00:00:00Z",
     _T_DATA, _IDX_JSON),
    ("数据平台", "app-log", 30, 1, 0, "2024-01-10T10:10:10Z", "2024-01-10T10:10:10Z",
     _T_DATA, None),
    ("数据平台", "kafka-connect", 14, 3, 0, "2024-04-20T20:20:20Z", "2024-06-30T16:00:00Z",
     None, _IDX_TEXT),
    ("数据平台", "spark-history", 30, 1, 0, "2024-08-15T07:00:00Z", "2024-08-15T07:00:00Z",
     _T_DATA, None),
    ("staging", "app-log", 7, 1, 0, "2024-01-15T08:05:00Z", "2024-01-15T08:05:00Z",
     (("env", "staging"),), _IDX_JSON),
    ("staging", "nginx-access", 7, 1, 0, "2024-01-15T08:05:00Z", "2024-03-03T03:03:03Z",
     (("env", "staging"),), _IDX_NGINX),
    ("staging", "test_store", 1, 1, 0, "2024-06-06T06:06:06Z", "2024-06-06T06:06:06Z",
     None, None),
    ("Archive_2023", "nginx-access-2023", 3650, 1, 0, "2024-05-20T12:30:00Z",
     "2024-05-20T12:30:00Z", (("env", "prod"), ("archived", "2023")), _IDX_NGINX),
    ("iot-设备", "device-telemetry", 30, 8, 3, "2024-07-08T10:30:00Z", "2024-10-28T17:45:00Z",
     (("env", "prod"),), _IDX_JSON),
    ("iot-设备", "firmware-升级", 90, 1, 0, "2024-07-09T09:00:00Z", "2024-07-09T09:00:00Z",
     None, _IDX_TEXT),
)

# (project, logStoreName) that tasks name but the catalog lacks, on purpose
MISSING_LOG_STORES = (("default", "Nginx-Access-Legacy"),)

def check_catalog_config(key, value):
    if key == "project_total_key":
        if value not in ("total", "totalCount"):
            raise ValueError("project_total_key must be total or totalCount")
    elif key == "logstore_default_project":
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError("logstore_default_project must be a project name or null")
    elif key == "project_default_listed":
        if not isinstance(value, bool):
            raise ValueError("project_default_listed must be true or false")
    elif key == "logstore_project_match":
        if value not in ("exact", "substring"):
            raise ValueError("logstore_project_match must be exact or substring")


def catalog_call(path):
    """Request path (raw, without the query) -> the catalog call it names, or None."""
    if path == PROJECT_LIST_PATH:
        return "ListProject"
    if path == LOGSTORE_PATH:
        return "ListLogStore"
    if path.startswith(LOGSTORE_PATH + "/"):
        rest = path[len(LOGSTORE_PATH) + 1:]
        if rest and "/" not in rest:
            return "DescribeLogStore"
    return None


def _project_uuid(name):
    h = hashlib.sha256(("bls-emulator project " + name).encode("utf-8")).digest()
    return uuid4_from_bits(int.from_bytes(h[:16], "big"))


def _bytes_key(s):
    return s.encode("utf-8")


class Catalog:
    """The projects and log stores served by the catalog calls (plain dicts)."""

    def __init__(self):
        counts = {}
        self.stores = []
        self.by_key = {}
        for (project, name, retention, shards, hot, ct, mt, tags,
             index) in CATALOG_LOGSTORES:
            s = {"project": project, "logStoreName": name, "retention": retention,
                 "creationDateTime": ct, "lastModifiedTime": mt, "shardCount": shards,
                 "enableHotRetention": hot > 0, "hotRetention": hot}
            if tags is not None:
                s["tags"] = [{"tagKey": k, "tagValue": v} for k, v in tags]
            if index is not None:
                s["index"] = json.loads(json.dumps(index))  # a copy of its own
            self.stores.append(s)
            self.by_key[(project, name)] = s
            counts[project] = counts.get(project, 0) + 1
        self.projects = [
            {"uuid": _project_uuid(name), "name": name, "description": desc, "top": top,
             "logStoreCount": counts.get(name, 0), "createdTime": ct, "updatedTime": ut}
            for name, desc, top, ct, ut in CATALOG_PROJECTS]
        self.default = next(p for p in self.projects if p["name"] == "default")

    def list_projects(self, name_kw, desc_kw, order_by, order, with_default=True):
        """Every matching project in the asked order."""
        rows = self.projects if with_default else [p for p in self.projects
                                                   if p is not self.default]
        if name_kw is not None:
            kw = name_kw.lower()
            rows = [p for p in rows if kw in p["name"].lower()]
        if desc_kw is not None:
            kw = desc_kw.lower()
            rows = [p for p in rows if kw in p["description"].lower()]
        field = PROJECT_ORDER_BY[order_by]
        if field == "name":
            rows = sorted(rows, key=lambda p: _bytes_key(p["name"]))
        else:
            rows = sorted(rows, key=lambda p: (p[field], _bytes_key(p["name"])))
        if order == "desc":
            rows.reverse()
        return rows

    def list_stores(self, project, name_kw, order_by, order, substring=False):
        """Every matching log store in the asked order."""
        rows = self.stores
        if project is not None:
            rows = [s for s in rows
                    if (project in s["project"] if substring else s["project"] == project)]
        if name_kw is not None:
            kw = name_kw.lower()
            rows = [s for s in rows if kw in s["logStoreName"].lower()]
        field = LOGSTORE_ORDER_BY[order_by]

        def key(s):
            k = (_bytes_key(s["logStoreName"]), _bytes_key(s["project"]))
            return k if field == "logStoreName" else (s[field],) + k
        rows = sorted(rows, key=key)
        if order == "desc":
            rows.reverse()
        return rows


def _bad_parameter(msg):
    return AuthError(400, "InvalidParameter", msg)


def _choice(value, allowed, default, name):
    if value is None:
        return default
    if value not in allowed:
        raise _bad_parameter("%s must be one of %s" % (name, ", ".join(allowed)))
    return value


def validate_project_body(obj):
    """ListProject body -> (name, description, order_by, order, page_no, page_size)."""
    def opt_str(key):
        v = obj.get(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise _bad_parameter("%s must be a string" % key)
        return v if v != "" else None

    def opt_int(key, default):
        v = obj.get(key)
        if v is None:
            return default
        if not _is_int(v) or v < 1:
            raise _bad_parameter("%s must be an integer >= 1" % key)
        return v
    name = opt_str("name")
    desc = opt_str("description")
    order_by = _choice(obj.get("orderBy"), tuple(PROJECT_ORDER_BY), "createdAt", "orderBy")
    order = _choice(obj.get("order"), ("desc", "asc"), "desc", "order")
    return name, desc, order_by, order, opt_int("pageNo", 1), opt_int("pageSize", 10)


def query_params(query):
    """Raw query string -> {name: decoded value}; a parameter given twice is an error."""
    params = {}
    for k, v in parse_query(query):
        if k in params:
            raise _bad_parameter("parameter %s given more than once" % k)
        params[k] = v
    return params


def validate_logstore_query(params):
    """ListLogStore parameters ->
    (project, namePattern, order_by, order, page_no, page_size)."""
    def opt_int(key, default):
        v = params.get(key)
        if v is None:
            return default
        if not (v.isascii() and v.isdigit()) or int(v) < 1:
            raise _bad_parameter("%s must be an integer >= 1" % key)
        return int(v)
    project = params.get("project") or None
    pattern = params.get("namePattern") or None
    order_by = _choice(params.get("orderBy"), tuple(LOGSTORE_ORDER_BY), "creationDateTime",
                       "orderBy")
    order = _choice(params.get("order"), ("desc", "asc"), "desc", "order")
    return project, pattern, order_by, order, opt_int("pageNo", 1), opt_int("pageSize", 10)


class CatalogAnswer:
    """A successful catalog answer under construction, wrapped in {success, code,
    message, result} or bare; list_key None means the answer is the one object items[0]."""

    def __init__(self, call, wrapped, head, list_key, items, total_key=None):
        self.call = call
        self.wrapped = wrapped
        self.head = head            # [(key, raw JSON)] before the list
        self.list_key = list_key
        self.items = items          # raw JSON of each object
        self.total_key = total_key
        self.list_raw = None        # raw JSON that replaces the list
        self.omit_list = False
        self.omit_result = False
        self.top = [("success", b"true"), ("code", b'"OK"'), ("message", b'""')]

    def set_head(self, key, raw):
        for i, (k, _) in enumerate(self.head):
            if k == key:
                self.head[i] = (key, raw)
                return
        self.head.append((key, raw))

    def body(self):
        if self.list_key is None:
            return self.items[0]
        parts = [b'"%s":%s' % (k.encode("utf-8"), v) for k, v in self.head]
        if self.list_raw is not None:
            parts.append(b'"%s":%s' % (self.list_key.encode(), self.list_raw))
        elif not self.omit_list:
            parts.append(b'"%s":[%s]' % (self.list_key.encode(), b",".join(self.items)))
        inner = b"{" + b",".join(parts) + b"}"
        if not self.wrapped:
            return inner
        top = [b'"%s":%s' % (k.encode(), v) for k, v in self.top]
        if not self.omit_result:
            top.append(b'"result":' + inner)
        return b"{" + b",".join(top) + b"}"


def catalog_answer(call, catalog, path, query, body, cfg):
    """Serve one catalog call: -> CatalogAnswer, or AuthError (400 or 404)."""
    if call == "ListProject":
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise AuthError(400, "MalformedJSON", "request body is not valid JSON")
        if not isinstance(obj, dict):
            raise AuthError(400, "MalformedJSON", "request body must be a JSON object")
        name, desc, order_by, order, pno, psize = validate_project_body(obj)
        eff = min(psize, cfg["max_page_size"])
        rows = catalog.list_projects(name, desc, order_by, order,
                                     cfg.get("project_default_listed", True))
        off = (pno - 1) * eff
        total_key = cfg.get("project_total_key", "total")
        head = [("order", jbytes(order)), ("orderBy", jbytes(order_by)),
                ("pageNo", jbytes(pno)), ("pageSize", jbytes(eff)),
                (total_key, jbytes(len(rows))), ("default", jbytes(catalog.default))]
        return CatalogAnswer(call, True, head, "projects",
                             [jbytes(p) for p in rows[off:off + eff]], total_key)
    params = query_params(query)
    if call == "ListLogStore":
        project, pattern, order_by, order, pno, psize = validate_logstore_query(params)
        if project is None:
            project = cfg.get("logstore_default_project")
        eff = min(psize, cfg["max_page_size"])
        rows = catalog.list_stores(project, pattern, order_by, order,
                                   cfg.get("logstore_project_match") == "substring")
        off = (pno - 1) * eff
        head = [("order", jbytes(order)), ("orderBy", jbytes(order_by)),
                ("pageNo", jbytes(pno)), ("pageSize", jbytes(eff)),
                ("totalCount", jbytes(len(rows)))]
        return CatalogAnswer(call, False, head, "result",
                             [jbytes(s) for s in rows[off:off + eff]], "totalCount")
    # DescribeLogStore
    name = urllib.parse.unquote(path[len(LOGSTORE_PATH) + 1:])
    project = params.get("project") or "default"
    s = catalog.by_key.get((project, name))
    if s is None:
        raise AuthError(404, "LogStoreNotFound", "log store %s does not exist in project %s"
                        % (name, project))
    return CatalogAnswer(call, False, [], None, [jbytes(s)])


def catalog_fault_page_no(call, query, body):
    """The pageNo a fault's "page" is compared with (None when the call has none)."""
    if call == "ListProject":
        try:
            obj = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(obj, dict):
            return None
        p = obj.get("pageNo", 1)
        return 1 if p is None else p
    if call == "ListLogStore":
        v = dict(parse_query(query)).get("pageNo")
        if v is None:
            return 1
        return int(v) if v.isascii() and v.isdigit() else v
    return None


CATALOG_MALFORMED = {
    "ListProject": b'{"success":true,"result":{"projects":[{"uuid":\x00garbage}]]<<not json',
    "ListLogStore": b'{"order":"desc","result":[{"project":\x00garbage}]]<<not json',
    "DescribeLogStore": b'{"project":"default","logStoreName":\x00garbage}]]<<not json',
}


def apply_catalog_fault(f, ans):
    """Faults that alter a successful catalog answer -> its body."""
    t = f["type"]
    single = ans.list_key is None
    index = None if single else f.get("index")
    if t == "missing_result":
        if ans.wrapped:
            ans.omit_result = True
        else:
            ans.omit_list = True  # a bare answer's list is its "result"
    elif t == "missing_tasks":
        ans.omit_list = True
    elif t == "tasks_not_array":
        ans.list_raw = b'"not an array"'
    elif t == "task_not_object":
        items = list(ans.items)
        items.insert(min(1, len(items)), b"42")
        ans.items = items
    elif t == "total":
        ans.set_head(ans.total_key, jbytes(f.get("value", 0)))
    elif t == "page_size":
        ans.set_head("pageSize", jbytes(f.get("value", 1000)))
    elif t == "wrong_type":
        field = f.get("field", "logStoreCount" if ans.call == "ListProject" else "retention")
        value = f.get("value", "many")
        ans.items = _modify_tasks(ans.items, index, lambda d: d.__setitem__(field, value))
    elif t in ("null_fields", "missing_fields"):
        fields = f.get("fields") or []
        if isinstance(fields, str):
            fields = [fields]

        def fn(d):
            for fld in fields:
                if t == "null_fields":
                    d[fld] = None
                else:
                    d.pop(fld, None)
        ans.items = _modify_tasks(ans.items, index, fn)
    elif t == "invalid_utf8":
        field = f.get("field", "name" if ans.call == "ListProject" else "logStoreName")
        marker = "\u0001@@INVALID_UTF8@@\u0001"
        items = _modify_tasks(ans.items, index,
                              lambda d: d.__setitem__(field, marker + str(d.get(field, ""))))
        enc = _json_str(marker)[1:-1].encode()
        ans.items = [b.replace(enc, b"bad\xc3\x28bytes\xff") for b in items]
    elif t == "extra_fields":
        if not single:
            ans.head.insert(0, ("_emulatorExtra", b'{"nested":[1,{"a":null}],"s":"x"}'))
            ans.head.append(("nextMarker", b"null"))
            ans.top.append(("extraTop", b'"ignored"'))
        ans.items = [b'{"_extraHead":{"k":[1,2,"3"]},' + b[1:-1] +
                     b',"extraString":"ignored","extraNumber":1.5e3,"extraBool":false,'
                     b'"extraNull":null}' for b in ans.items]
    elif t == "respelled":
        ans.items = [_respell(b, i) for i, b in enumerate(ans.items)]
    elif t == "oversize":
        want = int(f.get("bytes", 1 << 20))
        cur = len(ans.body()) + len(b'"_padding":"",')
        pad = b'"' + b"x" * max(0, want - cur) + b'"'
        if single:
            ans.items = [b'{"_padding":' + pad + b"," + ans.items[0][1:]]
        else:
            ans.head.insert(0, ("_padding", pad))
    return ans.body()


class CatalogHandler:
    """Handler methods of the catalog calls (mixed into Handler)."""

    def _catalog(self, call, body):
        def answer(path, query, cfg):
            ans = catalog_answer(call, STATE.catalog, path, query, body, cfg)
            return ans.body(), lambda f: apply_catalog_fault(f, ans)
        self._serve_call(call, body, self.command == CATALOG_CALLS[call],
                         lambda query: catalog_fault_page_no(call, query, body),
                         answer, CATALOG_MALFORMED[call])

    def _serve_call(self, call, body, method_ok, fault_page_no, answer, malformed):
        """Serve one call of the catalog or the log records: pick its fault,
        check the method and the signature, answer(path, query, cfg) -> (the
        body, a function applying a page fault to it) or AuthError, and hand
        over to _answer_call()."""
        t0 = time.monotonic()
        with STATE.lock:
            generation = STATE.generation
            cfg = dict(STATE.config)
        rid = STATE.next_request_id()
        path, _, query = self.path.partition("?")
        ak, signed = None, ""
        try:
            a = parse_authorization(self.headers.get("Authorization"))
            ak, signed = a[0], ";".join(a[3])
        except AuthError:
            pass
        fault = None
        if method_ok:
            fault = STATE.take_fault(fault_page_no(query), call, CALL_FAULT_TYPES[call],
                                     query)
        ftype = fault["type"] if fault else None
        if ftype == "delay_headers":
            time.sleep(max(0, fault.get("ms", 1000)) / 1000.0)
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)

        status, ctype, out, alter, extra = 200, JSON_TYPE, b"", None, []
        try:
            if not method_ok:
                raise AuthError(404, "NotFound", "no such resource: %s %s" % (
                    self.command, path))
            if cfg["auth"]:
                check_auth(self.command, self.path, self.headers, STATE.keys)
            out, alter = answer(path, query, cfg)
        except AuthError as e:
            status, out = e.status, error_body(e.code, e.message, rid)
        self._answer_call(call, fault, status, ctype, out, rid, extra, cfg,
                          malformed, alter, (t0, body, ak, signed, generation))

    def _answer_call(self, call, fault, status, ctype, out, rid, extra, cfg,
                     malformed, alter, logged):
        """Apply a fault to an answer (one that replaces or breaks the
        response, or one that alter applies to the call's own answer), send
        it, and record the request.  logged: (t0, body, ak, signed headers,
        generation)."""
        t0, body, ak, signed, generation = logged
        ftype = fault["type"] if fault else None
        mode = "normal"
        if fault:
            made = response_fault(fault, rid, malformed)
            if made is not None:
                new_status, new_ctype, new_out, mode, more = made
                if new_status is not None:
                    status, ctype, out = new_status, new_ctype, new_out
                extra += more
            elif alter is not None and ftype != "delay_headers":
                status, ctype, out = 200, JSON_TYPE, alter(fault)
        ticket = STATE.answer_ticket()
        sent_status = self._send_answer(mode, fault, status, ctype, out, rid, extra, cfg)
        elapsed = (time.monotonic() - t0) * 1000.0
        STATE.record({
            "seq": 0, "conn_id": self.conn_id, "method": self.command, "path": self.path,
            "status": sent_status, "body": body.decode("utf-8", "replace"), "ak": ak,
            "signed_headers": signed, "elapsed_ms": round(elapsed, 3), "fault": ftype,
            "request_id": rid, "call": call,
        }, "conn=%d %s %s status=%d ak=%s bytes=%d ms=%.1f call=%s%s" % (
            self.conn_id, self.command, self.path, sent_status, ak or "-", len(out),
            elapsed, call, (" fault=" + ftype) if ftype else ""), generation, ticket)

    def _send_answer(self, mode, fault, status, ctype, out, rid, extra, cfg):
        """Send the answer as the transport fault mode says; -> the status sent (0: none)."""
        if mode == "truncated":
            out = out[:len(out) // 2]
        try:
            if mode == "drop":
                self.close_connection = True
                return 0
            if mode in ("reset_mid_body", "delay_body"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.send_header("x-bce-request-id", rid)
                self.end_headers()
                half = len(out) // 2
                self.wfile.write(out[:half])
                if mode == "delay_body":
                    self.wfile.flush()
                    time.sleep(max(0, fault.get("ms", 1000)) / 1000.0)
                    self.wfile.write(out[half:])
                else:
                    self.close_connection = True
                    try:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                    self.connection.close()
                return status
            if (status == 200 and cfg.get("gzip") and
                    "gzip" in (self.headers.get("Accept-Encoding") or "")):
                out = gzip.compress(out, 1)
                extra = list(extra) + [("Content-Encoding", "gzip")]
                with STATE.lock:
                    STATE.gzip_responses += 1
            self._send(status, ctype, out, rid, extra)
        except OSError:
            self.close_connection = True
        return status


# ---------------------------------------------------------------------------
# Download-task calls: CreateDownloadTask, DescribeDownloadTask,
# GetDownloadTaskLink, DeleteDownloadTask (bls-api.md section 5)
# ---------------------------------------------------------------------------
#
# POST   /v2/logstore/download             create   -> 200 {success,code,message,result:{uuid}}
# GET    /v2/logstore/download/{uuid}      describe -> 200 {...,result:{task:{21 fields}}}
# GET    /v2/logstore/download/link/{uuid} link     -> 200 {...,result:{fileDir,fileName,link}}
# DELETE /v2/logstore/download/{uuid}      delete   -> 204, no body (config delete_status 200:
#                                                      200 {success,code,message})
#
# The path's {uuid} is one percent-encoded segment, decoded before the lookup; the
# signature is checked over the decoded path UriEncoded with '/' kept (check_auth).
# An unknown (or deleted) uuid is 404 DownloadTaskNotFound.  Choices where the
# public record is silent:
# - Create: unknown body fields are ignored; null counts as absent; an empty
#   project or query counts as absent (default `default`, `match *`); name,
#   logStreamName and fileDir default to ""; the log store is not checked
#   against any catalog.  Bad values: 400 InvalidParameter; a body that is not
#   JSON or not an object: 400 MalformedJSON.
# - A created task is added with createdTime = now (the lifecycle clock, below)
#   and goes WAITING -> RUNNING after config task_waiting_ms, then RUNNING ->
#   SUCCESS (or FAILED) task_running_ms later, and SUCCESS -> EXPIRED
#   task_expire_ms later when that is not null (default: never).  The values
#   in force when the task is created apply to it.  The state is computed from
#   these instants whenever a task is read (list, describe, link, ctl tasks).
#   RUNNING: execStartTime set, writtenRows 0.  SUCCESS: execEndTime,
#   writtenRows = min(limit, task_rows), fileName "<name>_<format>_<uuid>.<format>"
#   (as in the generated data).  updatedTime follows each step.  A task ends
#   FAILED (failedCode QueryTimeout, writtenRows 0, no fileName) when its query
#   contains FAIL_MARKER or config task_fail is true.
# - POST /_emulator/advance {"ms":N} moves the lifecycle clock N ms forward
#   (tests step through the states without sleeping); reset sets it back.
# - Link of a WAITING or RUNNING task: 400 DownloadTaskNotReady; FAILED: 400
#   DownloadTaskFailed; EXPIRED: 400 DownloadTaskExpired (codes invented: the
#   real ones are undocumented; an http fault with call GetDownloadTaskLink
#   gives any other).
#   The link is https://bls-download.bj.bcebos.com/<fileDir or
#   "bls-emulator-download/"><fileName>?... (UriEncoded, '/' kept).
# - Uuids of created tasks are deterministic: the n-th task created since the
#   last reset gets the same uuid each run (for a given --seed).  With config
#   uuid_by_name true, a task's uuid depends instead on its name and on how
#   many tasks of that name were created before it since the reset, not on
#   the order in which creates sent side by side arrive.
# - config latency_ms delays these calls too.
#
# Faults for these calls name them in "call" (by API name or as create,
# describe, link, delete): a fault without "call" never hits them (see
# "Which calls a fault is for" and FAULT_TYPES_DOC).  Types for these calls:
# http, success_false, drop, delay_headers, malformed, html, empty,
# not_object, truncated, extra_fields; aliases create_accept_then_drop (= drop
# on CreateDownloadTask) and create_500 (= http 500 on CreateDownloadTask).
# count and skip work as for the list; page does not apply.  Side effects:
# - "created" (create) / "deleted" (delete), true or false: whether the service
#   acted before the fault.  Refusals (http with a 4xx status or 503, and
#   success_false) never act: true is rejected.  Otherwise (http 500/502/504,
#   drop, malformed, html, empty, not_object) the default is true: the worst
#   case for a client that resends.  delay_headers, truncated and extra_fields
#   always act (they alter the real answer).  An invalid request (bad signature
#   or body, unknown uuid) never acts.  (validate_fault, fault_acts)
# - delay_headers acts, then holds the answer for "ms" (default 1000) or until
#   POST /_emulator/release (or reset).
# - DeleteDownloadTask's page shows 204 with a body, but a 204 cannot carry one
#   (RFC 9110; a gateway such as nginx strips it, and a client that read it
#   would lose the connection's framing): 204 comes without a body, and config
#   delete_status 200 gives the page's body with a 200.
#
# Control API (unsigned, not in the served-request gauge):
#   GET  /_emulator/tasks?name=N&...   the ndjson of /_emulator/tasks, only tasks
#                                      whose fields equal every parameter given
#   GET  /_emulator/tasks/count?name=N {"count","uuids","states"} (same filters)
#   POST /_emulator/advance {"ms":N}   lifecycle clock forward
#   POST /_emulator/release            answer held delay_headers requests now
#   GET  /_emulator/inflight           {"in_flight":{call:n},"max_in_flight":{call:n},
#                                       "in_flight_total","max_in_flight_total","holding"}
#                                      (calls by API name, and "other"); maxima
#                                      since reset or
#   POST /_emulator/inflight/clear
#   GET  /_emulator/stats              adds "downloads": tasks_created, ...
#                                      ("calls": requests logged per call)
# The request log (GET /_emulator/log) also holds these calls, with fields
# "call" (every entry has it) and "uuid"; ctl log and ctl count still show the
# list requests only, ctl calls every call.


# --------------------------------------------------------------------------
# Requests in flight per access key (the account-wide budget)
#
# Every served request signed with an access key counts as in flight from the
# moment its handler starts until its answer starts to go out (as the
# per-call gauge of Downloads), under that key.  bls_fdw's
# max_concurrent_requests promises that the cluster never has more than so
# many in flight for one endpoint and key; tests read the maximum here.
#   GET  /_emulator/accounts/inflight        {"in_flight":{ak:n},"max_in_flight":{ak:n}}
#                                            maxima since reset or clear
#   POST /_emulator/accounts/inflight/clear  maxima := what is in flight now
#   ctl max-inflight-ak AK                   the maximum for AK (0: none seen)

def authorization_ak(value):
    """The access key id of an Authorization header, or None (unsigned, malformed)."""
    if not value:
        return None
    parts = value.strip().split("/")
    if len(parts) != 6 or parts[0] != "bce-auth-v1" or not parts[1]:
        return None
    return parts[1]


class AccountGauge:
    """In-flight requests per access key, and their maxima."""

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = {}
        self.max_in_flight = {}

    def enter(self, ak):
        with self.lock:
            n = self.in_flight.get(ak, 0) + 1
            self.in_flight[ak] = n
            if n > self.max_in_flight.get(ak, 0):
                self.max_in_flight[ak] = n

    def leave(self, ak):
        with self.lock:
            self.in_flight[ak] -= 1

    def report(self):
        with self.lock:
            return {"in_flight": {k: v for k, v in self.in_flight.items() if v},
                    "max_in_flight": dict(self.max_in_flight)}

    def clear(self):
        with self.lock:
            self.max_in_flight = {k: v for k, v in self.in_flight.items() if v}


ACCOUNTS = AccountGauge()

DOWNLOAD_PATH = "/v2/logstore/download"
DOWNLOAD_LINK_PREFIX = DOWNLOAD_PATH + "/link/"
FAIL_MARKER = "__fail__"
CREATED_FAILURE = ("QueryTimeout", "query execution timed out after 300s")
LINK_HOST = "https://bls-download.bj.bcebos.com/"
LINK_DEFAULT_DIR = "bls-emulator-download/"
LINK_ERRORS = {
    "WAITING": ("DownloadTaskNotReady", "download task %s has not finished (state WAITING)"),
    "RUNNING": ("DownloadTaskNotReady", "download task %s has not finished (state RUNNING)"),
    "FAILED": ("DownloadTaskFailed", "download task %s failed: it has no file"),
    "EXPIRED": ("DownloadTaskExpired", "download task %s has expired: its file is gone"),
}
TIME_RE_LEN = len("2024-11-05T07:37:12Z")
JSON_TYPE = "application/json;charset=utf-8"

DOWNLOAD_CONFIG = {
    # key: default (validate_download_config checks values)
    "task_waiting_ms": 300,
    "task_running_ms": 300,
    "task_expire_ms": None,
    "task_fail": False,
    "task_rows": 1000,
    "delete_status": 204,
    "uuid_by_name": False,
}

def validate_download_config(k, v):
    """Check one download config value (control API); returns it or ValueError."""
    if k in ("task_waiting_ms", "task_running_ms", "task_rows"):
        if not _is_int(v) or v < 0:
            raise ValueError("%s must be a non-negative integer" % k)
    elif k == "task_expire_ms":
        if v is not None and (not _is_int(v) or v < 0):
            raise ValueError("task_expire_ms must be null or a non-negative integer")
    elif k in ("task_fail", "uuid_by_name"):
        if not isinstance(v, bool):
            raise ValueError("%s must be true or false" % k)
    elif k == "delete_status":
        if v not in (200, 204):
            raise ValueError("delete_status must be 200 or 204")
    return v


def add_download_args(p):
    p.add_argument("--task-waiting-ms", type=int, default=300,
                   help="a created task is WAITING this long (default 300)")
    p.add_argument("--task-running-ms", type=int, default=300,
                   help="then RUNNING this long (default 300)")
    p.add_argument("--task-expire-ms", type=int, default=None,
                   help="then SUCCESS this long before EXPIRED (default: never)")
    p.add_argument("--task-fail", action="store_true",
                   help="created tasks end FAILED (else only when the query contains %s)"
                   % FAIL_MARKER)
    p.add_argument("--task-rows", type=int, default=1000,
                   help="writtenRows of a created task that succeeds, at most its limit")
    p.add_argument("--delete-status", type=int, default=204, choices=(200, 204),
                   help="DeleteDownloadTask status: 204 without a body, or 200 with one")


def download_config_from_args(args):
    out = {}
    for k in DOWNLOAD_CONFIG:
        v = getattr(args, k, DOWNLOAD_CONFIG[k])
        try:
            out[k] = validate_download_config(k, v)
        except ValueError as e:
            raise SystemExit("bls_emulator: --%s: %s" % (k.replace("_", "-"), e))
    return out


def download_route(method, path):
    """(call, uuid) for a download-task request (path without query), else (None, None)."""
    if path == DOWNLOAD_PATH:
        return ("CreateDownloadTask" if method == "POST" else None), None
    if path.startswith(DOWNLOAD_LINK_PREFIX):
        seg = path[len(DOWNLOAD_LINK_PREFIX):]
        if seg and "/" not in seg and method == "GET":
            return "GetDownloadTaskLink", urllib.parse.unquote(seg)
        return None, None
    if path.startswith(DOWNLOAD_PATH + "/"):
        seg = path[len(DOWNLOAD_PATH) + 1:]
        if seg and "/" not in seg and path != LIST_PATH:
            if method == "GET":
                return "DescribeDownloadTask", urllib.parse.unquote(seg)
            if method == "DELETE":
                return "DeleteDownloadTask", urllib.parse.unquote(seg)
    return None, None


def call_name(method, raw_path):
    """The call a request makes (as the request log names it), for the in-flight
    gauge; "other" for none."""
    path = raw_path.split("?", 1)[0]
    if path == LIST_PATH:
        return LIST_CALL
    if logrecord_route(path) is not None:
        return LOGRECORD_CALL
    return catalog_call(path) or download_route(method, path)[0] or "other"


def _valid_time(s):
    if not isinstance(s, str) or len(s) != TIME_RE_LEN:
        return None
    if not (s[:4].isdigit() and s[4] == "-" and s[7] == "-" and s[10] == "T" and
            s[13] == ":" and s[16] == ":" and s[19] == "Z"):
        return None
    try:
        return parse_timestamp(s)
    except ValueError:
        return None


def parse_create_body(body):
    """CreateDownloadTask body -> dict of the 11 request fields, or AuthError(400)."""
    try:
        obj = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise AuthError(400, "MalformedJSON", "request body is not valid JSON")
    if not isinstance(obj, dict):
        raise AuthError(400, "MalformedJSON", "request body must be a JSON object")

    def bad(msg):
        return AuthError(400, "InvalidParameter", msg)

    def opt_str(name, default=""):
        v = obj.get(name)
        if v is None:
            return default
        if not isinstance(v, str):
            raise bad("%s must be a string" % name)
        return v

    out = {"name": opt_str("name"), "project": opt_str("project") or "default"}
    store = obj.get("logStoreName")
    if not isinstance(store, str) or not store:
        raise bad("logStoreName is required (a non-empty string)")
    out["logStoreName"] = store
    out["logStreamName"] = opt_str("logStreamName")
    out["query"] = opt_str("query") or "match *"
    times = []
    for k in ("queryStartTime", "queryEndTime"):
        v = obj.get(k)
        if v is None:
            raise bad("%s is required" % k)
        t = _valid_time(v)
        if t is None:
            raise bad("%s must be a UTC time such as 2024-11-05T07:37:12Z" % k)
        out[k] = v
        times.append(t)
    if times[0] > times[1]:
        raise bad("queryStartTime must not be after queryEndTime")
    fmt = obj.get("format")
    if fmt is None:
        fmt = "json"
    elif fmt not in ("json", "csv"):
        raise bad("format must be json or csv")
    out["format"] = fmt
    limit = obj.get("limit")
    if limit is None:
        limit = 1000000
    elif not _is_int(limit) or not 1 <= limit <= 1000000:
        raise bad("limit must be an integer from 1 to 1000000")
    out["limit"] = limit
    order = obj.get("order")
    if order is None:
        order = "desc"
    elif order not in ORDER_VALUES:
        raise bad("order must be asc or desc")
    out["order"] = order
    out["fileDir"] = opt_str("fileDir")
    return out


def ok_envelope(result=None):
    """The {success, code, message[, result]} answer; result is raw JSON bytes."""
    head = b'{"success":true,"code":"OK","message":""'
    if result is None:
        return head + b"}"
    return head + b',"result":' + result + b"}"


class CreatedTask:
    """A task made by CreateDownloadTask; its state follows the lifecycle clock."""

    def __init__(self, uid, params, t0, cfg):
        self.uuid = uid
        self.params = params
        self.t0 = t0
        self.t_run = t0 + cfg["task_waiting_ms"] / 1000.0
        self.t_end = self.t_run + cfg["task_running_ms"] / 1000.0
        exp = cfg["task_expire_ms"]
        self.t_expire = None if exp is None else self.t_end + exp / 1000.0
        self.failed = cfg["task_fail"] or FAIL_MARKER in params["query"]
        self.rows = min(params["limit"], cfg["task_rows"])
        self.idx = None
        self.state = None

    def view(self, now):
        """-> (task dict in TASK_FIELDS order, updatedTime epoch, final?)"""
        p = self.params
        state, fcode, fmsg, rows, fname, es, ee = "WAITING", "", "", 0, "", "", ""
        ut, final = int(self.t0), False
        if now >= self.t_run:
            state, es, ut = "RUNNING", fmt_time(self.t_run), int(self.t_run)
        if now >= self.t_end:
            ee, ut = fmt_time(self.t_end), int(self.t_end)
            if self.failed:
                state, (fcode, fmsg), final = "FAILED", CREATED_FAILURE, True
            else:
                state, rows = "SUCCESS", self.rows
                fname = "%s_%s_%s.%s" % (p["name"].strip(), p["format"], self.uuid,
                                         p["format"])
                final = self.t_expire is None
                if self.t_expire is not None and now >= self.t_expire:
                    state, ut, final = "EXPIRED", int(self.t_expire), True
        task = {
            "uuid": self.uuid, "name": p["name"], "project": p["project"],
            "logStoreName": p["logStoreName"], "logStreamName": p["logStreamName"],
            "query": p["query"], "queryStartTime": p["queryStartTime"],
            "queryEndTime": p["queryEndTime"], "format": p["format"], "limit": p["limit"],
            "order": p["order"], "state": state, "failedCode": fcode,
            "failedMessage": fmsg, "writtenRows": rows, "fileDir": p["fileDir"],
            "fileName": fname, "execStartTime": es, "execEndTime": ee,
            "createdTime": fmt_time(self.t0), "updatedTime": fmt_time(ut),
        }
        return task, ut, final


class Downloads:
    """State of the download-task calls; data changes happen under State.lock."""

    def __init__(self, state):
        self.st = state
        self.gauge_lock = threading.Lock()
        self.in_flight = {}
        self.max_in_flight = {}
        self.in_flight_total = 0
        self.max_in_flight_total = 0
        self.hold_cond = threading.Condition()
        self.hold_gen = 0
        self.holding = 0
        self.reset_locked()

    def reset_locked(self):
        self.pending = []        # CreatedTask not yet in a final state
        self.uuid_map = {}       # uuid -> data index, extended lazily
        self.map_len = 0
        self.created_count = 0
        self.created_by_name = {}  # name -> tasks of that name created
        self.clock_offset = 0.0
        self.tasks_created = 0
        self.tasks_deleted = 0
        with self.gauge_lock:
            self.max_in_flight = dict(self.in_flight)
            self.max_in_flight_total = self.in_flight_total
        self.release()

    # -- lifecycle clock and lazy state -------------------------------------
    def now(self):
        return time.time() + self.clock_offset

    def advance(self, ms):
        with self.st.lock:
            self.clock_offset += ms / 1000.0
            return round(self.clock_offset * 1000)

    def _render_locked(self, rec, now):
        task, ut, final = rec.view(now)
        if task["state"] != rec.state:
            data = self.st.data
            data.json[rec.idx] = encode_task(task)
            data.updated[rec.idx] = ut
            if ut > data.max_time:
                data.max_time = ut
            rec.state = task["state"]
            # a new state (and updatedTime): no cached index or page shows it
            self.st._data_changed_locked()
        return final

    def refresh_locked(self):
        """Bring created tasks up to date (under State.lock); cheap when none move.

        Every read of the task list calls this first (State.get_index and
        State.page_body), so a task whose state the clock has moved is
        rendered anew, and the data generation bumped, before a cached page
        or index could show its old state."""
        if not self.pending:
            return
        now = self.now()
        deleted = self.st.data.deleted
        self.pending = [r for r in self.pending
                        if r.idx not in deleted and not self._render_locked(r, now)]

    # -- the calls ----------------------------------------------------------
    def lookup_locked(self, uid):
        data = self.st.data
        js = data.json
        for i in range(self.map_len, len(js)):
            b = js[i]
            if b.startswith(b'{"uuid":"') and b[45:47] == b'",':
                u = b[9:45].decode("ascii", "replace")
            else:
                u = json.loads(b).get("uuid")
            self.uuid_map.setdefault(u, i)
        self.map_len = len(js)
        idx = self.uuid_map.get(uid)
        if idx is None or idx in data.deleted:
            raise AuthError(404, "DownloadTaskNotFound",
                            "download task %s does not exist" % uid)
        return idx

    def create_seed_locked(self, name, cfg):
        """The seed of a new task's uuid: by creation order, or by name (uuid_by_name)."""
        if not cfg.get("uuid_by_name"):
            return "%s:create:%d" % (self.st.data.seed, self.created_count)
        n = self.created_by_name.get(name, 0)
        self.created_by_name[name] = n + 1
        return "%s:create-named:%s:%d" % (self.st.data.seed, name, n)

    def create(self, params, cfg):
        with self.st.lock:
            now = self.now()
            rng = random.Random(self.create_seed_locked(params["name"], cfg))
            self.created_count += 1
            uid = uuid4_from_bits(rng.getrandbits(128))
            rec = CreatedTask(uid, params, now, cfg)
            data = self.st.data
            rec.idx = len(data)
            task, ut, final = rec.view(now)
            rec.state = task["state"]
            data._append(encode_task(task), params["project"], params["logStoreName"],
                         params["name"], int(now), ut)
            self.st._data_changed_locked()
            if not final:
                self.pending.append(rec)
            self.tasks_created += 1
            return uid

    def describe(self, uid):
        with self.st.lock:
            self.refresh_locked()
            return self.st.data.json[self.lookup_locked(uid)]

    def link(self, uid):
        task = json.loads(self.describe(uid))
        state = task.get("state")
        if state != "SUCCESS":
            code, msg = LINK_ERRORS.get(state, ("DownloadTaskNotReady",
                                                "download task %s has no file"))
            raise AuthError(400, code, msg % uid)
        path = (task["fileDir"] or LINK_DEFAULT_DIR) + task["fileName"]
        return {"fileDir": task["fileDir"], "fileName": task["fileName"],
                "link": "%s%s?x-emulator-task=%s" % (LINK_HOST, uri_encode(path, True),
                                                     uri_encode(uid))}

    def delete(self, uid, applied):
        with self.st.lock:
            idx = self.lookup_locked(uid)
            if applied:
                self.st.data.deleted.add(idx)
                self.st._data_changed_locked()
                self.tasks_deleted += 1

    def find(self, filters):
        """Live tasks (default order) whose fields equal filters' strings."""
        with self.st.lock:
            idx = self.st.get_index(None, None, "createdTime", "desc")
            data = self.st.data
            out = []
            name, project = filters.get("name"), filters.get("project")
            rest = [(k, v) for k, v in filters.items() if k not in ("name", "project")]
            for i in idx:
                if name is not None and data.name[i] != name:
                    continue
                if project is not None and data.project[i] != project:
                    continue
                if rest:
                    d = json.loads(data.json[i])
                    if any(str(d.get(k)) != v for k, v in rest):
                        continue
                out.append(data.json[i])
            return out

    # -- delay_headers ------------------------------------------------------
    def hold(self, ms):
        """Wait ms milliseconds, or until release()."""
        with self.hold_cond:
            gen = self.hold_gen
            self.holding += 1
            try:
                self.hold_cond.wait_for(lambda: self.hold_gen != gen, max(0, ms) / 1000.0)
            finally:
                self.holding -= 1

    def release(self):
        with self.hold_cond:
            n = self.holding
            self.hold_gen += 1
            self.hold_cond.notify_all()
            return n

    # -- in-flight gauge ----------------------------------------------------
    class _Gauge:
        def __init__(self, dl, call):
            self.dl, self.call = dl, call

        def __enter__(self):
            dl, c = self.dl, self.call
            if c is None:
                return self
            with dl.gauge_lock:
                n = dl.in_flight.get(c, 0) + 1
                dl.in_flight[c] = n
                if n > dl.max_in_flight.get(c, 0):
                    dl.max_in_flight[c] = n
                dl.in_flight_total += 1
                if dl.in_flight_total > dl.max_in_flight_total:
                    dl.max_in_flight_total = dl.in_flight_total
            return self

        def leave(self):
            """The request is answered: no longer in flight.  Called as the
            answer starts to go out, so that a client that sends its next
            request on receiving it never finds this one still counted."""
            dl, c = self.dl, self.call
            if c is not None:
                with dl.gauge_lock:
                    dl.in_flight[c] -= 1
                    dl.in_flight_total -= 1
                self.call = None

        def __exit__(self, *exc):
            self.leave()
            return False

    def gauge(self, method, raw_path):
        """Context manager counting a served (non-control) request in flight."""
        if raw_path.startswith(CONTROL_PREFIX):
            return self._Gauge(self, None)
        return self._Gauge(self, call_name(method, raw_path))

    def gauge_report(self):
        with self.gauge_lock:
            return {"in_flight": dict(self.in_flight), "holding": self.holding,
                    "max_in_flight": dict(self.max_in_flight),
                    "in_flight_total": self.in_flight_total,
                    "max_in_flight_total": self.max_in_flight_total}

    def gauge_clear(self):
        with self.gauge_lock:
            self.max_in_flight = dict(self.in_flight)
            self.max_in_flight_total = self.in_flight_total

    # -- stats --------------------------------------------------------------
    def stats(self):
        with self.st.lock:
            out = {"tasks_created": self.tasks_created,
                   "tasks_deleted": self.tasks_deleted,
                   # queued faults that name a download-task call
                   "pending_faults": sum(1 for f in self.st.faults
                                         if NAMED_ONLY_CALLS.intersection(
                                             f.get("call", ()))),
                   "clock_offset_ms": round(self.clock_offset * 1000)}
        out.update(self.gauge_report())
        return out


# ---------------------------------------------------------------------------
# Log records: QueryLogRecord (bls-api.md section 6)
#
# GET /v1/logstore/{logStoreName}/logrecord?project=&logStreamName=&query=
#     &startDateTime=&endDateTime=&limit=&marker=&sort=
# -> 200, a bare object:
#   {"resultSet": {"queryType": "match"|"sql", "columns": [...],
#                  "columnTypes": [...], "rows": [[...], ...],
#                  "isTruncated": bool, "truncatedReason": str},
#    "datasetScanInfo": {"isTruncated": bool, "truncatedReason": str,
#                        "statistics": {"executionTimeInMs": int, "scanCount": int}},
#    "nextMarker": str}          (search statements only, when more records match)
#
# Data model (nothing is stored: a record is computed from its ordinal).
# - Every (project, log store) of the catalog has records; others are 404
#   LogStoreNotFound.  A store writes shardCount records in every second from
#   its creationDateTime on (no end): record n (n = 0, 1, ... its ordinal)
#   is written at second created + n // shardCount, millisecond
#   (n % shardCount) * 1000 // shardCount of that second.  So a window
#   [startDateTime, endDateTime) (whole seconds) holds exactly
#   shardCount * (end - max(start, created)) records (0 when negative), and
#   every record of a store has its own @timestamp.
# - config logrecord_interval_s N (default 1): a store writes its shardCount
#   records every N seconds instead: record n at second
#   created + (n // shardCount) * N, so a window [start, end) holds
#   shardCount * (the multiples of N after created in it) records; a sparse
#   store for long windows (two days of 16,000 records) without a search
#   that the emulator would evaluate over every record.
# - @seq is the ordinal n; @stream is STREAMS_BY_KIND[kind][(n % shardCount) % 2]
#   (a one-shard store writes to the first stream only).
# - The store's kind follows its catalog index: "nginx" (index _IDX_NGINX:
#   nginx-access, nginx-access-2023) and "app" (_IDX_JSON) write JSON records;
#   the others ("text") plain text lines.  Field values come from a 64-bit mix
#   of (seed, project, store, n): see LogStoreRecords.record.
#     nginx: {"status","method","host","path","order_id","request_time"}
#            status 200 80%, 201 3%, 301 2%, 304 5%, 404 5%, 500 3%, 502 1%, 503 1%
#     app:   {"level","traceId","用户","latency_ms","msg"}
#     text:  "<ISO time with ms>Z <LEVEL> [worker-<k>] <message>"
# - Search columns: @timestamp (epoch ms, bigint), @seq (bigint), @stream
#   (varchar), @raw (varchar, the record as written), then for JSON stores the
#   kind's fields in the order above with their values as parsed (types in
#   LOGRECORD_FIELDS).
# - config logrecord_big_bytes N (null: off; at most 524288, the 512 KB cap):
#   the first record of every minute (second % 60 == 0, n % shardCount == 0)
#   is padded to exactly N bytes of @raw (JSON: a "padding" field, which is
#   not a column; text: trailing x's).
#
# Queries (anything else: 400 InvalidParameter); the search may also be
# written without "match" (status:500, error, *, a AND b), as BLS accepts:
#   match *                      every record
#   match <key>:<value>          a JSON field (or @stream) whose value, as text,
#                                equals value ("..." quotes are removed)
#   match <word>                 the word in @raw, case-insensitive substring
#   terms joined by " AND " (case-insensitive)
#   [match ... |] select count(*)
#   [match ... |] select <key>, count(*) group by <key>
# and no other analysis (an alias, another aggregate: 400 InvalidParameter,
# as strict as the forms bls-api.md confirms).
# Analysis ("sql"): columns [<key>,] count(*), types from
# LOGRECORD_FIELDS and "bigint"; groups in ascending key order; no marker
# (a marker is 400); limit and sort are checked but do not apply; at most
# config logrecord_max_analysis_rows (100000) rows, beyond which isTruncated
# is true with truncatedReason "TooManyRows".  config logrecord_truncated
# (null or a reason string) marks every search result isTruncated with that
# reason.
#
# Parameters: project (default "default"), logStreamName (<= 192 of
# [A-Za-z0-9_\-./], empty: every stream), startDateTime / endDateTime
# (required, YYYY-MM-DDThh:mm:ssZ, start < end), limit (0..1000, default 100),
# sort (desc default, asc, by @timestamp), marker: only a nextMarker this
# emulator issued (same --seed) for the same project, store, stream, query,
# window and sort; "v1.<ordinal>.<mac>".  A parameter given twice is 400.
#
# Faults name the call "QueryLogRecord" (a fault without "call" never hits
# it: a client mixing log records with the list call must not take the list
# call's faults).  Types: every response fault (http, success_false, drop,
# malformed, html, empty, not_object, truncated, reset_mid_body, delay_body,
# delay_headers) and these page faults:
#   missing_result   no "resultSet"          missing_tasks   no resultSet.rows
#   tasks_not_array  rows is a string        task_not_object a 42 as second row
#   wrong_type       field (a column, default @timestamp, in every row or row
#                    index; else a key of the answer, resultSet or
#                    datasetScanInfo) set to value ("many")
#   null_fields, missing_fields   fields (a column: the column goes from
#                    columns, columnTypes and every row; or such a key)
#   invalid_utf8     invalid bytes in field (@raw) of every row (or index)
#   extra_fields     unknown keys at every level and a first column
#                    "_emulatorExtra" (varchar, "ignored")
#   oversize         a "_padding" key making the body bytes (1 MiB) long
# Requests are logged with call "QueryLogRecord".
# ---------------------------------------------------------------------------

LOGRECORD_CALL = "QueryLogRecord"
LOGRECORD_SUFFIX = "/logrecord"
LOGRECORD_MAX_BYTES = 512 * 1024
LOGRECORD_MAX_LIMIT = 1000
LOGRECORD_CONFIG = {
    "logrecord_big_bytes": None,
    "logrecord_truncated": None,
    "logrecord_max_analysis_rows": 100000,
    "logrecord_interval_s": 1,
}
SYSTEM_COLUMNS = ("@timestamp", "@seq", "@stream", "@raw")
SYSTEM_TYPES = ("bigint", "bigint", "varchar", "varchar")
LOGRECORD_FIELDS = {
    "nginx": (("status", "bigint"), ("method", "varchar"), ("host", "varchar"),
              ("path", "varchar"), ("order_id", "varchar"), ("request_time", "double")),
    "app": (("level", "varchar"), ("traceId", "varchar"), ("用户", "varchar"),
            ("latency_ms", "bigint"), ("msg", "varchar")),
    "text": (),
}
STREAMS_BY_KIND = {"nginx": ("nginx-01", "nginx-02"), "app": ("pod-a1b2c3", "pod-d4e5f6"),
                   "text": ("host-01", "host-02")}
_LR_STATUS = (200,) * 80 + (201,) * 3 + (301,) * 2 + (304,) * 5 + (404,) * 5 + \
    (500,) * 3 + (502,) + (503,)
_LR_METHODS = ("GET",) * 6 + ("POST", "POST", "PUT", "DELETE")
_LR_HOSTS = ("www.example.com", "api.example.com", "shop.example.com", "static.example.com")
_LR_PATHS = ("/", "/index.html", "/api/v1/orders", "/api/v1/cart", "/login",
             "/static/app.js", "/images/logo.png", "/search?q=bls", "/health")
_LR_LEVELS = ("INFO",) * 7 + ("WARN", "WARN", "ERROR")
_LR_USERS = ("alice", "bob", "张三", "李四", "Zoë", "o'brien")
_LR_MSGS = ("request served", "cache miss", "order created", "payment declined",
            "retrying upstream", "connection reset by peer", "slow query detected",
            "user logged in")
_M64 = (1 << 64) - 1
_STREAM_RE = re.compile(r"[A-Za-z0-9_\-./]{1,192}\Z")
# Only the forms bls-api.md section 6 confirms: no alias, no other aggregate.
_SELECT_RE = re.compile(
    r"select\s+(?:(?P<key>[^\s,()]+)\s*,\s*)?count\(\s*\*\s*\)"
    r"(?:\s+group\s+by\s+(?P<gkey>[^\s,()]+))?\s*\Z", re.I | re.S)


def validate_logrecord_config(k, v):
    """Check one log-record config value (control API); returns it or ValueError."""
    if k == "logrecord_big_bytes":
        if v is not None and (not _is_int(v) or not 1 <= v <= LOGRECORD_MAX_BYTES):
            raise ValueError("logrecord_big_bytes must be null or 1..%d" % LOGRECORD_MAX_BYTES)
    elif k == "logrecord_truncated":
        if v is not None and (not isinstance(v, str) or not v):
            raise ValueError("logrecord_truncated must be null or a reason string")
    elif k == "logrecord_max_analysis_rows":
        if not _is_int(v) or v < 1:
            raise ValueError("logrecord_max_analysis_rows must be an integer >= 1")
    elif k == "logrecord_interval_s":
        if not _is_int(v) or not 1 <= v <= 86400:
            raise ValueError("logrecord_interval_s must be an integer 1..86400")
    return v


def logrecord_route(path):
    """Request path (raw, no query) -> the percent-decoded log store name of a
    QueryLogRecord path, or None."""
    prefix = LOGSTORE_PATH + "/"
    if path.startswith(prefix) and path.endswith(LOGRECORD_SUFFIX):
        seg = path[len(prefix):-len(LOGRECORD_SUFFIX)]
        if seg and "/" not in seg:
            return urllib.parse.unquote(seg)
    return None


def _mix64(x):
    """splitmix64's finalizer: a fast, well spread 64-bit hash of an integer."""
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & _M64
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & _M64
    return x ^ (x >> 31)


def _store_kind(store):
    idx = store.get("index")
    if idx == _IDX_NGINX:
        return "nginx"
    if idx == _IDX_JSON:
        return "app"
    return "text"


class LogStoreRecords:
    """The records of one log store, computed from their ordinals."""

    def __init__(self, store, seed):
        self.project = store["project"]
        self.name = store["logStoreName"]
        self.created = calendar.timegm(time.strptime(store["creationDateTime"],
                                                     "%Y-%m-%dT%H:%M:%SZ"))
        self.shards = store["shardCount"]
        self.kind = _store_kind(store)
        self.streams = STREAMS_BY_KIND[self.kind]
        fields = LOGRECORD_FIELDS[self.kind]
        self.columns = SYSTEM_COLUMNS + tuple(f for f, _ in fields)
        self.types = SYSTEM_TYPES + tuple(t for _, t in fields)
        h = hashlib.sha256(("bls-emulator logrecords %d %s %s" % (
            seed, self.project, self.name)).encode("utf-8")).digest()
        self.salt = int.from_bytes(h[:8], "big")

    def ordinals(self, start, end, interval=1):
        """Ordinals [lo, hi) of the records in the window [start, end) (epoch
        s), a store writing every interval seconds."""
        lo = max(0, -(-(start - self.created) // interval) * self.shards)
        hi = max(0, -(-(end - self.created) // interval) * self.shards)
        return lo, max(lo, hi)

    def record(self, n, big=None, interval=1):
        """Record n -> (timestamp ms, seq, stream, raw, {field: value})."""
        sec, j = divmod(n, self.shards)
        sec = self.created + sec * interval
        ms = j * 1000 // self.shards
        stream = self.streams[j % 2]
        h = _mix64((self.salt + n * 0x9e3779b97f4a7c15) & _M64)
        pad = big is not None and j == 0 and sec % 60 == 0
        if self.kind == "nginx":
            f = {"status": _LR_STATUS[h % 100],
                 "method": _LR_METHODS[(h >> 8) % 10],
                 "host": _LR_HOSTS[(h >> 12) % 4],
                 "path": _LR_PATHS[(h >> 16) % 9],
                 "order_id": "ORD-%08d" % ((h >> 24) % 100000000),
                 "request_time": ((h >> 52) % 5000) / 1000.0}
            raw = ('{"status":%d,"method":"%s","host":"%s","path":"%s","order_id":"%s",'
                   '"request_time":%r' % (f["status"], f["method"], f["host"], f["path"],
                                          f["order_id"], f["request_time"]))
        elif self.kind == "app":
            f = {"level": _LR_LEVELS[h % 10],
                 "traceId": "%016x" % _mix64(h),
                 "用户": _LR_USERS[(h >> 8) % 6],
                 "latency_ms": (h >> 16) % 3000,
                 "msg": _LR_MSGS[(h >> 32) % 8]}
            raw = ('{"level":"%s","traceId":"%s","用户":%s,"latency_ms":%d,"msg":"%s"' % (
                f["level"], f["traceId"], _json_str(f["用户"]), f["latency_ms"], f["msg"]))
        else:
            f = {}
            raw = "%s.%03dZ %s [worker-%d] %s" % (
                fmt_time(sec)[:-1], ms, _LR_LEVELS[h % 10], (h >> 8) % 8,
                _LR_MSGS[(h >> 32) % 8])
        if f:
            if pad:
                head = raw + ',"padding":"'
                raw = head + "x" * max(0, big - len(head.encode("utf-8")) - 2) + '"}'
            else:
                raw += "}"
        elif pad:
            raw += " " + "x" * max(0, big - len(raw.encode("utf-8")) - 1)
        return sec * 1000 + ms, n, stream, raw, f


class LogRecords:
    """Every catalog log store's records (LogStoreRecords made on first use)."""

    def __init__(self, catalog, seed):
        self.catalog = catalog
        self.seed = seed
        self.secret = hashlib.sha256(b"bls-emulator marker %d" % seed).digest()
        self.stores = {}
        self.lock = threading.Lock()

    def store(self, project, name):
        with self.lock:
            r = self.stores.get((project, name))
            if r is None:
                s = self.catalog.by_key.get((project, name))
                if s is None:
                    return None
                r = self.stores[(project, name)] = LogStoreRecords(s, self.seed)
            return r

    def _mac(self, binding, pos):
        return hmac.new(self.secret, ("%s\0%d" % (binding, pos)).encode("utf-8"),
                        hashlib.sha256).hexdigest()[:16]

    def marker(self, binding, pos):
        return "v1.%d.%s" % (pos, self._mac(binding, pos))

    def marker_pos(self, binding, marker):
        """A marker this emulator issued for binding -> its ordinal, or AuthError(400)."""
        parts = marker.split(".")
        if (len(parts) == 3 and parts[0] == "v1" and parts[1].isascii() and
                parts[1].isdigit() and
                hmac.compare_digest(parts[2], self._mac(binding, int(parts[1])))):
            return int(parts[1])
        raise _bad_parameter("marker is not a nextMarker of this query")


def _unquote_term(v):
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v


_MATCH_RE = re.compile(r"match(?:\s+|\Z)", re.I)
_SQL_RE = re.compile(r"select(?:\s|\Z)", re.I)


def parse_logrecord_query(q):
    """query -> (terms, analysis): terms a list of (key or None, value), analysis
    None or (key or None, count column name); AuthError(400) when not understood.

    The search is "match <body>" or the bare <body> (status:500, error, *),
    the same body either way; a statement starting with the word select is
    an analysis with no search."""
    q = q.strip()
    search, bar, sql = q.partition("|")
    if not bar and _SQL_RE.match(q):
        search, sql = "", q
    search, sql = search.strip(), sql.strip()
    terms = []
    if search:
        m = _MATCH_RE.match(search)
        body = search[m.end():].strip() if m else search
        if m and not body:
            raise _bad_parameter("match needs * or a condition")
        if body != "*":
            for t in re.split(r"\s+AND\s+", body, flags=re.I):
                t = t.strip()
                if not t or t == "*":
                    continue
                key, colon, value = t.partition(":")
                if colon:
                    if not key or not value:
                        raise _bad_parameter("bad condition in query: %s" % t)
                    terms.append((_unquote_term(key), _unquote_term(value)))
                else:
                    if " " in t and not (t[0] == t[-1] == '"'):
                        raise _bad_parameter("bad condition in query: %s" % t)
                    terms.append((None, _unquote_term(t).lower()))
    analysis = None
    if bar or sql:
        m = _SELECT_RE.match(sql)
        if not m or (m.group("key") or None) != (m.group("gkey") or None):
            raise _bad_parameter("unsupported analysis statement: %s" % sql)
        analysis = (m.group("key"), "count(*)")
    return terms, analysis


def _logrecord_pred(terms, stream):
    """-> a predicate over records, or None when every record matches."""
    if not terms and stream is None:
        return None

    def pred(r):
        if stream is not None and r[2] != stream:
            return False
        for key, value in terms:
            if key is None:
                if value not in r[3].lower():
                    return False
            elif key == "@stream":
                if r[2] != value:
                    return False
            else:
                v = r[4].get(key)
                if v is None or (v if isinstance(v, str) else repr(v)) != value:
                    return False
        return True
    return pred


def _lr_time(params, name):
    v = params.get(name)
    if v is None:
        raise _bad_parameter("%s is required" % name)
    t = _valid_time(v)
    if t is None:
        raise _bad_parameter("%s must be YYYY-MM-DDThh:mm:ssZ" % name)
    return int(t)


def logrecord_answer(records, name, query, cfg):
    """Serve one QueryLogRecord: -> the answer as a dict, or AuthError (400, 404)."""
    t0 = time.monotonic()
    params = query_params(query)
    project = params.get("project") or "default"
    stream = params.get("logStreamName") or None
    if stream is not None and not _STREAM_RE.match(stream):
        raise _bad_parameter("logStreamName must be at most 192 of [A-Za-z0-9_-./]")
    q = params.get("query")
    if q is None or not q.strip():
        raise _bad_parameter("query is required")
    start, end = _lr_time(params, "startDateTime"), _lr_time(params, "endDateTime")
    if start >= end:
        raise _bad_parameter("startDateTime must be before endDateTime")
    limit = params.get("limit")
    if limit is None:
        limit = 100
    elif not (limit.isascii() and limit.isdigit()) or int(limit) > LOGRECORD_MAX_LIMIT:
        raise _bad_parameter("limit must be an integer 0..%d" % LOGRECORD_MAX_LIMIT)
    limit = int(limit)
    sort = _choice(params.get("sort"), ("desc", "asc"), "desc", "sort")
    terms, analysis = parse_logrecord_query(q)
    rec = records.store(project, name)
    if rec is None:
        raise AuthError(404, "LogStoreNotFound", "log store %s does not exist in project %s"
                        % (name, project))
    interval = cfg.get("logrecord_interval_s", 1)
    lo, hi = rec.ordinals(start, end, interval)
    pred = _logrecord_pred(terms, stream)
    big = cfg.get("logrecord_big_bytes")
    truncated, reason = False, ""
    next_marker = None
    if analysis is None:
        binding = "\0".join((project, name, stream or "", q, str(start), str(end), sort))
        marker = params.get("marker")
        pos = records.marker_pos(binding, marker) if marker else (lo if sort == "asc" else hi - 1)
        step, stop = (1, hi) if sort == "asc" else (-1, lo - 1)
        if marker and not (lo <= pos < hi):
            raise _bad_parameter("marker is not a nextMarker of this query")
        rows, scanned = [], 0
        n = pos
        while n != stop and len(rows) < limit:
            r = rec.record(n, big, interval)
            scanned += 1
            if pred is None or pred(r):
                rows.append(r)
            n += step
        if pred is None:
            nxt = n if n != stop else None
        else:
            nxt = None
            while n != stop:    # is there one more?  the marker points at it
                scanned += 1
                if pred(rec.record(n, big, interval)):
                    nxt = n
                    break
                n += step
        if nxt is not None:
            next_marker = records.marker(binding, nxt)
        columns, types = list(rec.columns), list(rec.types)
        fields = rec.columns[4:]
        out_rows = [[r[0], r[1], r[2], r[3]] + [r[4][f] for f in fields] for r in rows]
        if cfg.get("logrecord_truncated"):
            truncated, reason = True, cfg["logrecord_truncated"]
        qtype = "match"
    else:
        if params.get("marker"):
            raise _bad_parameter("marker applies to search statements only")
        key, count_name = analysis
        ftypes = dict(zip(rec.columns[4:], rec.types[4:]))
        ftypes["@stream"] = "varchar"
        if key is not None and key not in ftypes:
            raise _bad_parameter("unknown column %s in query" % key)
        cap = cfg.get("logrecord_max_analysis_rows", 100000)
        if key is None:
            if pred is None:
                total, scanned = hi - lo, hi - lo
            else:
                total = sum(1 for n in range(lo, hi) if pred(rec.record(n, big, interval)))
                scanned = hi - lo
            columns, types, out_rows = [count_name], ["bigint"], [[total]]
        else:
            groups = {}
            for n in range(lo, hi):
                r = rec.record(n, big, interval)
                if pred is None or pred(r):
                    v = r[2] if key == "@stream" else r[4][key]
                    groups[v] = groups.get(v, 0) + 1
            scanned = hi - lo
            keys = sorted(groups, key=(lambda v: v.encode("utf-8"))
                          if ftypes[key] == "varchar" else None)
            if len(keys) > cap:
                keys = keys[:cap]
                truncated = True
                reason = "TooManyRows"
            columns, types = [key, count_name], [ftypes[key], "bigint"]
            out_rows = [[k, groups[k]] for k in keys]
        qtype = "sql"
    doc = {"resultSet": {"queryType": qtype, "columns": columns, "columnTypes": types,
                         "rows": out_rows, "isTruncated": truncated,
                         "truncatedReason": reason},
           "datasetScanInfo": {"isTruncated": truncated, "truncatedReason": reason,
                               "statistics": {
                                   "executionTimeInMs": int((time.monotonic() - t0) * 1000),
                                   "scanCount": scanned}}}
    if next_marker is not None:
        doc["nextMarker"] = next_marker
    return doc


_LR_INVALID = "\u0001@@INVALID_UTF8@@\u0001"


def apply_logrecord_fault(f, doc, marker=None):
    """Page faults that alter a successful QueryLogRecord answer (to a request
    that carried marker, or None) -> its body."""
    t = f["type"]
    rs = doc.get("resultSet", {})
    rows = rs.get("rows", [])
    index = f.get("index")
    which = _task_indices(rows, index)

    def set_field(fld, value, remove=False):
        cols = rs.get("columns", [])
        if fld in cols:
            i = cols.index(fld)
            if remove:
                del cols[i]
                del rs["columnTypes"][i]
                for row in rows:
                    del row[i]
            else:
                for k in which:
                    rows[k][i] = value
            return
        for d in (doc, rs, doc.get("datasetScanInfo", {})):
            if fld in d:
                if remove:
                    del d[fld]
                else:
                    d[fld] = value
    if t == "missing_result":
        doc.pop("resultSet", None)
    elif t == "missing_tasks":
        rs.pop("rows", None)
    elif t == "tasks_not_array":
        rs["rows"] = "not an array"
    elif t == "task_not_object":
        rows.insert(min(1, len(rows)), 42)
    elif t == "wrong_type":
        set_field(f.get("field", "@timestamp"), f.get("value", "many"))
    elif t in ("null_fields", "missing_fields"):
        fields = f.get("fields") or []
        for fld in [fields] if isinstance(fields, str) else fields:
            set_field(fld, None, remove=(t == "missing_fields"))
    elif t == "invalid_utf8":
        fld = f.get("field", "@raw")
        cols = rs.get("columns", [])
        if fld in cols:
            i = cols.index(fld)
            for k in which:
                rows[k][i] = _LR_INVALID + str(rows[k][i])
        enc = _json_str(_LR_INVALID)[1:-1].encode()
        return jbytes(doc).replace(enc, b"bad\xc3\x28bytes\xff")
    elif t == "extra_fields":
        doc["_emulatorExtra"] = {"nested": [1, {"a": None}], "s": "x"}
        rs["extraString"] = "ignored"
        doc.get("datasetScanInfo", {})["extraNumber"] = 1.5e3
        rs["columns"] = ["_emulatorExtra"] + rs.get("columns", [])
        rs["columnTypes"] = ["varchar"] + rs.get("columnTypes", [])
        rs["rows"] = [["ignored"] + r for r in rows]
    elif t == "repeat_marker":
        if marker:
            doc["nextMarker"] = marker
    elif t == "marker_cycle":
        # the fault is one dict for all the requests it hits: it remembers
        if marker:
            first = f.setdefault("_first_marker", marker)
            if marker != first:
                doc["nextMarker"] = first
    elif t == "empty_marked":
        rs["rows"] = []
    elif t == "swap_columns":
        for lst in [rs.get("columns", []), rs.get("columnTypes", [])] + rows:
            if isinstance(lst, list) and len(lst) >= 2:
                lst[0], lst[1] = lst[1], lst[0]
    elif t == "oversize":
        want = int(f.get("bytes", 1 << 20))
        cur = len(jbytes(doc)) + len(b'"_padding":"",')
        return b'{"_padding":"' + b"x" * max(0, want - cur) + b'",' + jbytes(doc)[1:]
    return jbytes(doc)


class LogRecordCache:
    """Rendered QueryLogRecord answers, for benchmarks (--logrecord-cache-mb,
    default 0: off).  Records are computed from (seed, project, store, n), so
    an answer depends only on the request's query string and the
    configuration: it is keyed by both, and a fault is still applied to a
    fresh answer.  Evicted oldest first beyond the budget."""

    def __init__(self, mb):
        self.budget = max(0, mb) << 20
        self.bodies = {}
        self.bytes = 0
        self.lock = threading.Lock()

    def body(self, key, render):
        if self.budget == 0:
            return render()
        with self.lock:
            out = self.bodies.get(key)
        if out is not None:
            return out
        out = render()
        with self.lock:
            if len(out) <= self.budget and key not in self.bodies:
                while self.bytes + len(out) > self.budget:
                    self.bytes -= len(self.bodies.pop(next(iter(self.bodies))))
                self.bodies[key] = out
                self.bytes += len(out)
        return out


LOGRECORD_CACHE = LogRecordCache(0)


class LogRecordHandler:
    """Handler method of QueryLogRecord (mixed into Handler)."""

    def _logrecord(self, name, body):
        def answer(path, query, cfg):
            marker = query_params(query).get("marker")
            key = (name, query, repr(sorted(cfg.items())))
            out = LOGRECORD_CACHE.body(key, lambda: jbytes(
                logrecord_answer(STATE.logrecords, name, query, cfg)))
            return out, lambda f: apply_logrecord_fault(
                f, logrecord_answer(STATE.logrecords, name, query, cfg), marker)
        self._serve_call(
            LOGRECORD_CALL, body, self.command == "GET", lambda query: None, answer,
            b'{"resultSet":{"queryType":"match","rows":[[\x00garbage]]<<not json')


# ---------------------------------------------------------------------------
# HTTP handler
# ---------------------------------------------------------------------------


_HEADER_LINE = re.compile(r"([\041-\071\073-\176]+):[ \t]*([^\r\n]*)\r?\n\Z")
_PLAIN_PAYLOAD = re.compile(r"(?i)[ \t]*(multipart|message)/")


def parse_headers_fast(fp, _class=http.client.HTTPMessage):
    """http.client.parse_headers, without the email package for plain headers.

    The same message (headers in order, values as the email parser's compat32
    policy leaves them, empty payload) when every line is "Name: value" with
    a name of the characters the email parser allows; anything else (folded
    lines, a line without a name, a bare CR, no blank line at the end, a
    multipart or message/* Content-Type) goes to the email parser as before.
    That parser took a third of the emulator's CPU for each request."""
    lines = http.client._read_headers(fp)
    if lines and lines[-1] in (b"\r\n", b"\n"):
        msg = _class()
        for line in lines[:-1]:
            m = _HEADER_LINE.match(line.decode("iso-8859-1"))
            if m is None:
                break
            msg.set_raw(m.group(1), m.group(2))
        else:
            ctype = msg.get("content-type")
            if ctype is None or not _PLAIN_PAYLOAD.match(ctype):
                msg.set_payload("")
                return msg
    hstring = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=_class).parsestr(hstring)


class Handler(CatalogHandler, LogRecordHandler, http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BLS-Emulator/1.0"
    sys_version = ""

    def version_string(self):
        return self.server_version
    timeout = 300  # idle keep-alive connections

    def setup(self):
        # headers and body go out in separate writes: without TCP_NODELAY,
        # Nagle and the client's delayed ACK add ~40 ms to every response
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
        super().setup()
        self.conn_id = STATE.next_conn_id()

    def log_message(self, format, *args):  # silence default stderr logging
        pass

    def log_error(self, format, *args):
        STATE.write_log_line("conn=%s error %s" % (getattr(self, "conn_id", "?"),
                                                   format % args))

    # every method goes through _dispatch
    def do_GET(self):
        with STATE.dl.gauge(self.command, self.path) as g:
            self._gauge = g
            self._ak_enter()
            try:
                self._dispatch()
            finally:
                self._ak_leave()

    def _ak_enter(self):
        """Count this request in flight under its access key (see AccountGauge)."""
        self._ak = None
        if not self.path.startswith(CONTROL_PREFIX):
            self._ak = authorization_ak(self.headers.get("Authorization"))
            if self._ak is not None:
                ACCOUNTS.enter(self._ak)

    def _ak_leave(self):
        ak, self._ak = getattr(self, "_ak", None), None
        if ak is not None:
            ACCOUNTS.leave(ak)

    def send_response(self, code, message=None):
        g = getattr(self, "_gauge", None)
        if g is not None:
            g.leave()
        self._ak_leave()
        super().send_response(code, message)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        line = self.rfile.readline(65537)
                        if line in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0:
            raise ValueError("negative Content-Length")
        data = self.rfile.read(n) if n else b""
        if len(data) != n:
            raise ConnectionError("short body")
        return data

    def _dispatch(self):
        try:
            body = self._read_body()
        except (ValueError, ConnectionError, OSError):
            self.close_connection = True
            return
        path = self.path.split("?", 1)[0]
        if path.startswith(CONTROL_PREFIX):
            self._control(path[len(CONTROL_PREFIX):], body)
        elif path == LIST_PATH:
            self._list(body)
        elif catalog_call(path) is not None:
            self._catalog(catalog_call(path), body)
        elif logrecord_route(path) is not None:
            self._logrecord(logrecord_route(path), body)
        elif path == DOWNLOAD_PATH or path.startswith(DOWNLOAD_PATH + "/"):
            self._download(path, body)
        else:
            rid = STATE.next_request_id()
            self._send(404, "application/json;charset=utf-8",
                       error_body("NotFound", "no such resource: %s %s" % (
                           self.command, path), rid), rid)
            STATE.write_log_line("conn=%d %s %s status=404" % (self.conn_id, self.command,
                                                               path))

    # -- plain response ---------------------------------------------------
    def _send(self, status, ctype, body, rid=None, extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if rid is not None:
            self.send_header("x-bce-request-id", rid)
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        with STATE.lock:
            STATE.bytes_sent += len(body)

    # -- download-task calls ------------------------------------------------
    def _download(self, path, body):
        t0 = time.monotonic()
        dl = STATE.dl
        with STATE.lock:
            generation = STATE.generation
        rid = STATE.next_request_id()
        jt = JSON_TYPE
        call, uid = download_route(self.command, path)
        if call is None:
            self._send(404, jt, error_body("NotFound", "no such resource: %s %s" % (
                self.command, path), rid), rid)
            STATE.write_log_line("conn=%d %s %s status=404" % (self.conn_id, self.command,
                                                               path))
            return
        headers = self.headers
        ak, signed = None, ""
        try:
            a = parse_authorization(headers.get("Authorization"))
            ak, signed = a[0], ";".join(a[3])
        except AuthError:
            pass
        fault = STATE.take_fault(None, call, CALL_FAULT_TYPES[call])
        ftype = fault["type"] if fault else None
        applied = fault_acts(fault, call)
        with STATE.lock:
            cfg = dict(STATE.config)
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)

        status, ctype, out, extra = 200, jt, b"", []
        try:
            if cfg["auth"]:
                check_auth(self.command, self.path, headers, STATE.keys)
            if call == "CreateDownloadTask":
                params = parse_create_body(body)
                new = dl.create(params, cfg) if applied else "(not created)"
                out = ok_envelope(jbytes({"uuid": new}))
            elif call == "DescribeDownloadTask":
                out = ok_envelope(b'{"task":' + dl.describe(uid) + b"}")
            elif call == "GetDownloadTaskLink":
                out = ok_envelope(jbytes(dl.link(uid)))
            else:
                dl.delete(uid, applied)
                status = cfg["delete_status"]
                out = ok_envelope() if status != 204 else b""
        except AuthError as e:
            status, ctype, out = e.status, jt, error_body(e.code, e.message, rid)

        mode = "normal"
        if ftype == "delay_headers":
            dl.hold(fault.get("ms", 1000))
        elif ftype == "http":
            status = fault.get("status", 503)
            code, msg = HTTP_DEFAULT_CODES.get(status, ("InternalError", "error"))
            if status in (502, 504) and "code" not in fault:
                ctype, out = "text/html", gateway_html(status)
            else:
                ctype = jt
                out = error_body(fault.get("code", code),
                                 fault.get("message", msg + " (emulated fault)"), rid)
            if fault.get("retry_after") is not None:
                extra.append(("Retry-After", str(fault["retry_after"])))
        elif ftype == "success_false":
            status, ctype = 200, jt
            out = jbytes({"success": False, "code": fault.get("code", "InternalError"),
                          "message": fault.get("message", "internal error (emulated)"),
                          "requestId": rid})
        elif ftype == "drop":
            mode = "drop"
        elif ftype == "malformed":
            status, ctype, out = 200, jt, b'{"success":true,"result":{"uuid":\x00garbage<<'
        elif ftype == "html":
            status = fault.get("status", 200)
            ctype, out = "text/html", gateway_html(status if status != 200 else 500)
        elif ftype == "empty":
            status, ctype, out = 200, jt, b""
        elif ftype == "not_object":
            status, ctype, out = 200, jt, b"[1,2,3]"
        elif ftype == "truncated":
            out = out[:len(out) // 2]
        elif ftype == "extra_fields" and status == 200 and out:
            doc = json.loads(out)
            doc["extraTop"] = "ignored"
            res = doc.get("result")
            if isinstance(res, dict):
                res["_emulatorExtra"] = {"nested": [1, {"a": None}], "s": "x"}
                if isinstance(res.get("task"), dict):
                    res["task"].update({"extraString": "ignored", "extraNumber": 1.5e3,
                                        "extraNull": None})
            out = jbytes(doc)

        sent_status = status
        ticket = STATE.answer_ticket()
        try:
            if mode == "drop":
                sent_status = 0
                self.close_connection = True
            elif status == 204:
                self.send_response(204)
                self.send_header("x-bce-request-id", rid)
                self.end_headers()
            else:
                self._send(status, ctype, out, rid, extra)
        except OSError:
            self.close_connection = True
        elapsed = (time.monotonic() - t0) * 1000.0
        STATE.record({
            "seq": 0, "conn_id": self.conn_id, "method": self.command, "path": self.path,
            "call": call, "uuid": uid, "status": sent_status,
            "body": body.decode("utf-8", "replace"), "ak": ak, "signed_headers": signed,
            "elapsed_ms": round(elapsed, 3), "fault": ftype, "request_id": rid,
        }, "conn=%d %s %s call=%s status=%d ak=%s bytes=%d ms=%.1f%s" % (
            self.conn_id, self.command, self.path, call, sent_status, ak or "-", len(out),
            elapsed, (" fault=" + ftype) if ftype else ""), generation, ticket)

    def _download_control(self, cmd, m, body):
        """Control endpoints of the download-task calls; False when not one of them."""
        query = urllib.parse.parse_qs(self.path.partition("?")[2], keep_blank_values=True)
        filters = {k: v[-1] for k, v in query.items()}
        dl = STATE.dl

        def ok(obj):
            self._send(200, JSON_TYPE, jbytes(obj))

        if cmd == "tasks" and m == "GET" and filters:
            # the ndjson of GET /_emulator/tasks, only the tasks matching the filters
            out = b"".join(b + b"\n" for b in dl.find(filters))
            self._send(200, "application/x-ndjson;charset=utf-8", out)
        elif cmd == "tasks/count" and m == "GET":
            found = [json.loads(b) for b in dl.find(filters)]
            ok({"count": len(found), "uuids": [t["uuid"] for t in found],
                "states": [t["state"] for t in found]})
        elif cmd == "advance" and m == "POST":
            obj = json.loads(body.decode("utf-8") or "{}")
            ms = obj.get("ms") if isinstance(obj, dict) else None
            if not _is_int(ms) or ms < 0:
                raise ValueError("advance needs {\"ms\": N} with N >= 0")
            ok({"ok": True, "clock_offset_ms": dl.advance(ms)})
        elif cmd == "release" and m == "POST":
            ok({"ok": True, "released": dl.release()})
        elif cmd == "inflight" and m == "GET":
            ok(dl.gauge_report())
        elif cmd == "inflight/clear" and m == "POST":
            dl.gauge_clear()
            ok({"ok": True})
        else:
            return False
        return True

    # -- control API ------------------------------------------------------
    def _control(self, cmd, body):
        jt = "application/json;charset=utf-8"
        m = self.command

        def ok(obj=None):
            self._send(200, jt, jbytes({"ok": True} if obj is None else obj))

        def fail(status, msg):
            self._send(status, jt, jbytes({"code": "EmulatorControlError", "message": msg}))

        try:
            if self._download_control(cmd, m, body):
                return
            if cmd == "accounts/inflight" and m == "GET":
                ok(ACCOUNTS.report())
                return
            if cmd == "accounts/inflight/clear" and m == "POST":
                ACCOUNTS.clear()
                ok()
                return
            if cmd == "health" and m in ("GET", "HEAD"):
                ok({"status": "ok", "tasks": len(STATE.data)})
            elif cmd == "reset" and m == "POST":
                STATE.reset()
                ACCOUNTS.clear()
                ok()
            elif cmd == "faults" and m == "POST":
                obj = json.loads(body.decode("utf-8"))
                lst = obj if isinstance(obj, list) else [obj]
                faults = [validate_fault(f) for f in lst]
                STATE.add_faults(faults)
                ok({"ok": True, "queued": len(faults)})
            elif cmd == "faults" and m == "GET":
                with STATE.lock:
                    ok(list(STATE.faults))
            elif cmd == "config" and m == "POST":
                obj = json.loads(body.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise ValueError("config must be a JSON object")
                new = {}
                for k, v in obj.items():
                    if k in ("latency_ms", "max_page_size"):
                        if not _is_int(v) or v < (1 if k == "max_page_size" else 0):
                            raise ValueError("%s must be a non-negative integer" % k)
                    elif k in ("auth", "gzip"):
                        if not isinstance(v, bool):
                            raise ValueError("%s must be true or false" % k)
                    elif k in CATALOG_CONFIG_DEFAULTS:
                        check_catalog_config(k, v)
                    elif k in DOWNLOAD_CONFIG:
                        validate_download_config(k, v)
                    elif k in LOGRECORD_CONFIG:
                        validate_logrecord_config(k, v)
                    else:
                        raise ValueError("unknown config key: %s" % k)
                    new[k] = v
                with STATE.lock:
                    STATE.config.update(new)
                    ok(dict(STATE.config))
            elif cmd == "config" and m == "GET":
                with STATE.lock:
                    ok(dict(STATE.config))
            elif cmd == "log" and m == "GET":
                with STATE.lock:
                    ok(list(STATE.log))
            elif cmd == "log/clear" and m == "POST":
                with STATE.lock:
                    STATE.log = []
                    STATE.log_tickets = {}
                    STATE.generation += 1
                ok()
            elif cmd == "connections" and m == "GET":
                with STATE.lock:
                    ok({"connections": len(STATE.list_conns),
                        "accepted": len(STATE.new_conns)})
            elif cmd == "tasks" and m == "GET":
                with STATE.lock:
                    idx = STATE.get_index(None, None, "createdTime", "desc")
                    js = STATE.data.json
                    out = b"".join(js[i] + b"\n" for i in idx)
                self._send(200, "application/x-ndjson;charset=utf-8", out)
            elif cmd == "stats" and m == "GET":
                ok(STATE.stats())
            elif cmd == "projects" and m == "GET":
                ok(STATE.catalog.projects)
            elif cmd == "logstores" and m == "GET":
                ok(STATE.catalog.stores)
            else:
                fail(404, "unknown control endpoint: %s /_emulator/%s" % (m, cmd))
        except (ValueError, UnicodeDecodeError) as e:
            fail(400, str(e))

    # -- ListDownloadTask -------------------------------------------------
    def _list(self, body):
        t0 = time.monotonic()
        with STATE.lock:
            generation = STATE.generation
        rid = STATE.next_request_id()
        jt = "application/json;charset=utf-8"
        headers = self.headers
        # parse body first (faults may be keyed by pageNo)
        obj = None
        body_err = None
        try:
            obj = json.loads(body.decode("utf-8"))
            if not isinstance(obj, dict):
                body_err = "request body must be a JSON object"
        except (ValueError, UnicodeDecodeError):
            body_err = "request body is not valid JSON"
        page_no = None
        if obj is not None and body_err is None:
            p = obj.get("pageNo", 1)
            page_no = 1 if p is None else p
        ak = None
        signed = ""
        try:
            a = parse_authorization(headers.get("Authorization"))
            ak, signed = a[0], ";".join(a[3])
        except AuthError:
            pass

        fault = STATE.take_fault(page_no) if self.command == "POST" else None
        ftype = fault["type"] if fault else None
        with STATE.lock:
            cfg = dict(STATE.config)

        if ftype == "insert_head":
            n = fault.get("n", 1)
            STATE.insert_head(int(n), fault.get("project", "default"),
                              fault.get("logStoreName"))
        if ftype == "delay_headers":
            time.sleep(max(0, fault.get("ms", 1000)) / 1000.0)
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)

        # normal processing
        status, ctype, out, page = 200, jt, b"", None
        extra = []
        try:
            if self.command != "POST":
                raise AuthError(404, "NotFound", "no such resource: %s %s" % (
                    self.command, LIST_PATH))
            if cfg["auth"]:
                check_auth(self.command, self.path, headers, STATE.keys)
            if body_err is not None:
                raise AuthError(400, "MalformedJSON", body_err)
            project, store, order_by, order, pno, psize = validate_body(obj)
            eff = min(psize, cfg["max_page_size"])
            if ftype in RESULT_FAULTS:
                # a page of its own for apply_result_fault to alter
                served = 1 if ftype == "ignore_page_no" else pno
                total, tasks = STATE.page(project, store, order_by, order, served, eff)
                page = Page(order, order_by, pno, eff, total, tasks)
            else:
                out = STATE.page_body(project, store, order_by, order, pno, eff)
        except AuthError as e:
            status, out = e.status, error_body(e.code, e.message, rid)

        mode = "normal"
        if fault:
            made = response_fault(fault, rid, b'{"success":true,"result":{"tasks":[{"uuid":'
                                  b'\x00garbage}]]<<not json')
            if made is not None:
                new_status, new_ctype, new_out, mode, more = made
                if new_status is not None:
                    status, ctype, out = new_status, new_ctype, new_out
                extra += more
            elif page is not None:
                status, ctype, out = apply_result_fault(fault, page)
        ticket = STATE.answer_ticket()
        sent_status = self._send_answer(mode, fault, status, ctype, out, rid, extra, cfg)
        elapsed = (time.monotonic() - t0) * 1000.0
        text = body.decode("utf-8", "replace")
        STATE.record({
            "seq": 0, "conn_id": self.conn_id, "method": self.command, "path": self.path,
            "status": sent_status, "body": text, "ak": ak, "signed_headers": signed,
            "elapsed_ms": round(elapsed, 3), "fault": ftype, "request_id": rid,
            "call": LIST_CALL,
        }, "conn=%d %s %s status=%d ak=%s bytes=%d ms=%.1f%s" % (
            self.conn_id, self.command, self.path, sent_status, ak or "-", len(out),
            elapsed, (" fault=" + ftype) if ftype else ""), generation, ticket)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        STATE.write_log_line("connection error from %s: %s" % (
            client_address, sys.exc_info()[1]))


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def serve(args):
    global STATE, LOGRECORD_CACHE
    if not _is_loopback(args.host):
        sys.stderr.write("bls_emulator: refusing to listen on non-loopback address %s\n"
                         % args.host)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.stderr.write("bls_emulator: --tls-cert and --tls-key go together\n")
        return 2
    if args.max_page_size < 1:
        sys.stderr.write("bls_emulator: --max-page-size must be >= 1\n")
        return 2
    STATE = State(args)
    LOGRECORD_CACHE = LogRecordCache(args.logrecord_cache_mb)
    # http.server parses each request's headers through http.client's
    # module-level function: this process is a server only
    if hasattr(http.client, "_read_headers"):
        http.client.parse_headers = parse_headers_fast
    if ":" in args.host:
        Server.address_family = socket.AF_INET6
    httpd = Server((args.host, args.port), Handler)
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True,
                                       do_handshake_on_connect=False)
        scheme = "https"
    port = httpd.server_address[1]
    if args.pid_file:
        _write_atomic(args.pid_file, "%d\n" % os.getpid())
    if args.port_file:
        _write_atomic(args.port_file, "%d\n" % port)
    if not args.quiet:
        sys.stderr.write("bls_emulator: listening on %s://%s:%d (%d tasks, seed %d, "
                         "generated in %.1fs, auth %s)\n" % (
                             scheme, args.host if ":" not in args.host else
                             "[%s]" % args.host, port, len(STATE.data), args.seed,
                             STATE.gen_seconds, "on" if STATE.config["auth"] else "off"))
        sys.stderr.flush()
    import signal

    def _term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _term)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        for p in (args.port_file, args.pid_file):
            if p:
                try:
                    os.unlink(p)
                except OSError:
                    pass
    return 0


# ---------------------------------------------------------------------------
# ctl client
# ---------------------------------------------------------------------------


def _ctl_base_url():
    url = os.environ.get("BLS_EMULATOR_URL")
    if url:
        return url.rstrip("/")
    pf = os.environ.get("BLS_EMULATOR_PORT_FILE")
    if pf:
        try:
            with open(pf) as f:
                port = int(f.read().strip())
        except (OSError, ValueError) as e:
            raise SystemExit("bls_emulator ctl: cannot read port file %s: %s" % (pf, e))
        scheme = os.environ.get("BLS_EMULATOR_SCHEME", "http")
        return "%s://127.0.0.1:%d" % (scheme, port)
    raise SystemExit("bls_emulator ctl: set BLS_EMULATOR_URL or BLS_EMULATOR_PORT_FILE")


def _ctl_request(base, method, endpoint, data=None, timeout=30):
    req = urllib.request.Request(base + CONTROL_PREFIX + endpoint, method=method,
                                 data=data)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    ctx = None
    if base.startswith("https:"):
        ctx = ssl._create_unverified_context()  # our own self-signed test certificate
    with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
        return r.read()


def canonical_body(text):
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
    except ValueError:
        return text


DOWNLOAD_CTL = ("task-count", "calls", "advance", "release", "inflight", "max-inflight")
# conn-calls: which requests shared a keep-alive connection (see _ctl_conn_calls)
DOWNLOAD_CTL += ("conn-calls",)


def _ctl_conn_calls(base, out):
    """ctl conn-calls: "cN status method call" per logged request, N numbering
    its TCP connection in the order the log first names it: requests with
    the same N went over one keep-alive connection, a new N is a new one."""
    numbers = {}
    for e in json.loads(_ctl_request(base, "GET", "log")):
        n = numbers.setdefault(e["conn_id"], len(numbers) + 1)
        out.write("c%d %d %s %s\n" % (n, e["status"], e["method"], e.get("call", LIST_CALL)))


def _ctl_download(base, cmd, arg, out):
    """ctl commands of the download-task calls:
    task-count NAME     number of (undeleted) tasks named NAME
    calls [CALL]        "status call [uuid] [body]" per logged request (of CALL
                        only when given), the call by its API name
    advance MS          move the lifecycle clock MS milliseconds forward
    release             answer the requests a delay_headers fault holds
    inflight            the in-flight gauge (JSON)
    max-inflight [CALL] most requests in flight at once (of CALL, or of all)
    CALL: an API name (CreateDownloadTask, ...) or list, create, describe,
    link, delete."""
    arg_call = canonical_call(arg)
    if cmd == "task-count":
        if arg is None:
            raise SystemExit("bls_emulator ctl: task-count needs a NAME")
        doc = json.loads(_ctl_request(base, "GET", "tasks/count?name=" +
                                      urllib.parse.quote(arg, safe="")))
        out.write("%d\n" % doc["count"])
    elif cmd == "calls":
        for e in json.loads(_ctl_request(base, "GET", "log")):
            if arg is not None and e.get("call", LIST_CALL) != arg_call:
                continue
            fields = ["%d" % e["status"], e.get("call", LIST_CALL)]
            if e.get("uuid") is not None:
                fields.append(e["uuid"])
            if e.get("body"):
                fields.append(canonical_body(e["body"]))
            out.write(" ".join(fields) + "\n")
    elif cmd == "advance":
        if arg is None or not arg.isdigit():
            raise SystemExit("bls_emulator ctl: advance needs a number of milliseconds")
        _ctl_request(base, "POST", "advance", jbytes({"ms": int(arg)}))
    elif cmd == "release":
        _ctl_request(base, "POST", "release", b"")
    elif cmd == "inflight":
        out.write(json.dumps(json.loads(_ctl_request(base, "GET", "inflight")),
                             sort_keys=True) + "\n")
    elif cmd == "conn-calls":
        _ctl_conn_calls(base, out)
    elif cmd == "max-inflight":
        doc = json.loads(_ctl_request(base, "GET", "inflight"))
        out.write("%d\n" % (doc["max_in_flight_total"] if arg is None else
                            doc["max_in_flight"].get(arg_call, 0)))


def ctl(argv):
    cmds = ("reset", "fault", "faults", "config", "log", "log-clear", "count", "gzipped",
            "connections", "accepted", "tasks", "stats", "wait-ready", "requests",
            "projects", "logstores", "max-inflight-ak", "inflight-ak-clear") + DOWNLOAD_CTL
    if not argv or argv[0] not in cmds:
        sys.stderr.write("usage: bls_emulator.py ctl {%s} [ARG]\n" % "|".join(cmds))
        return 2
    cmd, arg = argv[0], (argv[1] if len(argv) > 1 else None)
    if cmd == "wait-ready":
        # the port file may not exist yet: keep resolving the URL until the deadline
        deadline = time.monotonic() + 10
        base = "(unknown)"
        while True:
            try:
                base = _ctl_base_url()
                _ctl_request(base, "GET", "health", timeout=2)
                return 0
            except (SystemExit, OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    sys.stderr.write("bls_emulator ctl: emulator at %s not ready\n" % base)
                    return 1
                time.sleep(0.1)
    base = _ctl_base_url()
    out = sys.stdout
    try:
        if cmd in ("fault", "config"):
            if arg is None:
                sys.stderr.write("bls_emulator ctl: %s needs a JSON argument\n" % cmd)
                return 2
            try:
                json.loads(arg)
            except ValueError as e:
                sys.stderr.write("bls_emulator ctl: invalid JSON: %s\n" % e)
                return 2
            _ctl_request(base, "POST", "faults" if cmd == "fault" else "config",
                         arg.encode("utf-8"))
        elif cmd == "reset":
            _ctl_request(base, "POST", "reset", b"")
        elif cmd == "log-clear":
            _ctl_request(base, "POST", "log/clear", b"")
        elif cmd == "faults":
            out.write(_ctl_request(base, "GET", "faults").decode("utf-8") + "\n")
        elif cmd in ("log", "count"):
            entries = json.loads(_ctl_request(base, "GET", "log"))
            entries = [e for e in entries if e.get("path", "").split("?")[0] == LIST_PATH]
            if cmd == "count":
                out.write("%d\n" % len(entries))
            else:
                for e in entries:
                    out.write("%d %s\n" % (e["status"], canonical_body(e["body"])))
        elif cmd in ("connections", "accepted"):
            # connections: that served API requests since the last reset;
            # accepted: those of them opened since then
            out.write("%d\n" % json.loads(_ctl_request(base, "GET", "connections"))[cmd])
        elif cmd == "tasks":
            sys.stdout.buffer.write(_ctl_request(base, "GET", "tasks", timeout=600))
        elif cmd == "requests":
            # every API request: status, method, path with its query, body
            for e in json.loads(_ctl_request(base, "GET", "log")):
                out.write("%d %s %s%s\n" % (e["status"], e["method"], e["path"],
                                            " " + canonical_body(e["body"]) if e["body"]
                                            else ""))
        elif cmd in ("projects", "logstores"):
            for obj in json.loads(_ctl_request(base, "GET", cmd)):
                out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        elif cmd == "stats":
            out.write(json.dumps(json.loads(_ctl_request(base, "GET", "stats")),
                                 sort_keys=True) + "\n")
        elif cmd in DOWNLOAD_CTL:
            _ctl_download(base, cmd, arg, out)
        elif cmd == "max-inflight-ak":
            if arg is None:
                raise SystemExit("bls_emulator ctl: max-inflight-ak needs an access key id")
            doc = json.loads(_ctl_request(base, "GET", "accounts/inflight"))
            out.write("%d\n" % doc["max_in_flight"].get(arg, 0))
        elif cmd == "inflight-ak-clear":
            _ctl_request(base, "POST", "accounts/inflight/clear", b"")
        elif cmd == "gzipped":
            out.write("%d\n" % json.loads(_ctl_request(base, "GET", "stats"))[
                "gzip_responses"])
        out.flush()
        return 0
    except urllib.error.HTTPError as e:
        try:
            msg = json.loads(e.read()).get("message", "")
        except ValueError:
            msg = ""
        sys.stderr.write("bls_emulator ctl %s: HTTP %d %s\n" % (cmd, e.code, msg))
        return 1
    except (OSError, urllib.error.URLError) as e:
        sys.stderr.write("bls_emulator ctl %s: cannot reach %s: %s\n" % (cmd, base, e))
        return 1


def build_parser():
    p = argparse.ArgumentParser(prog="bls_emulator.py",
                                description="BLS ListDownloadTask emulator (loopback only)",
                                epilog=FAULT_TYPES_DOC,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--pid-file")
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-auth", action="store_true")
    p.add_argument("--key", action="append", metavar="AK:SK[:TOKEN]")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--gzip", action="store_true",
                   help="gzip successful pages for clients that accept it")
    p.add_argument("--max-page-size", type=int, default=1000)
    p.add_argument("--page-cache-mb", type=int, default=256,
                   help="memory for rendered plain pages (0: render every page)")
    p.add_argument("--logrecord-cache-mb", type=int, default=0,
                   help="memory for rendered QueryLogRecord answers, for benchmarks "
                        "(0, the default: render every answer)")
    add_download_args(p)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--log-file")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--verbose", action="store_true",
                   help="also print one line per request to stderr")
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "ctl":
        return ctl(argv[1:])
    if argv and argv[0] == "serve":
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
