#!/usr/bin/env python3
"""BLS emulator: imitates Baidu AI Cloud Log Service's ListDownloadTask API.

Standard library only (Python 3.11).  Serves on loopback for the bls_fdw tests.

    python3 test/bls_emulator.py [serve] [options]     run the server
    python3 test/bls_emulator.py ctl COMMAND [ARG]      control a running server

Served API:   POST /v2/logstore/download/list   (bce-auth-v1 signed unless --no-auth)
Control API:  /_emulator/{reset,faults,config,log,log/clear,connections,tasks,stats,health}
              (unsigned, never recorded in the request log)

See the argument parser (--help) and the docstring of FAULT_TYPES for details.
"""

import argparse
import array
import calendar
import gzip
import hmac
import hashlib
import http.server
import ipaddress
import json
import os
import random
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


def uri_encode(s, keep_slash=False):
    """RFC 3986 UriEncode of the UTF-8 bytes: only A-Z a-z 0-9 - . _ ~ stay."""
    return urllib.parse.quote(s, safe="/~" if keep_slash else "~")


def canonical_uri(path):
    """The decoded path, UriEncoded with '/' kept; an empty path is '/'."""
    path = urllib.parse.unquote(path or "")
    if not path:
        return "/"
    if not path.startswith("/"):
        path = "/" + path
    return uri_encode(path, keep_slash=True)


def parse_query(query):
    """Raw query string -> list of decoded (key, value) pairs (blank values kept)."""
    pairs = []
    for part in (query or "").split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


def canonical_query(query):
    """query: raw query string, dict, or list of decoded (key, value) pairs."""
    if isinstance(query, str):
        pairs = parse_query(query)
    elif isinstance(query, dict):
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
    "respelled",
}

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


def gateway_html(status):
    reason = REASONS.get(status, ("Error",))[0]
    return ("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
            "<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n" % (status, reason, status, reason)).encode()


def validate_fault(f):
    if not isinstance(f, dict):
        raise ValueError("fault must be a JSON object")
    if f.get("call", "list") != "list" or f.get("type") in CALL_FAULT_ALIASES:
        return validate_call_fault(f)
    t = f.get("type")
    if t not in FAULT_TYPES:
        raise ValueError("unknown fault type: %r" % (t,))
    for k in ("count", "page", "skip"):
        if k in f and f[k] is not None and (not isinstance(f[k], int) or
                                            isinstance(f[k], bool)):
            raise ValueError("fault field %s must be an integer" % k)
    if t == "http" and not isinstance(f.get("status", 503), int):
        raise ValueError("http fault status must be an integer")
    g = dict(f)
    g["count"] = f.get("count", 1) if f.get("count") is not None else 1
    g["skip"] = f.get("skip") or 0
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
        self.initial_config.update(download_config_from_args(args))
        self.config = dict(self.initial_config)
        self.log_file = open(args.log_file, "a", encoding="utf-8") if args.log_file else None
        self.verbose = args.verbose
        self.conn_counter = 0
        self.total_requests = 0
        self.total_list_requests = 0
        self.bytes_sent = 0
        self.started = time.time()
        self.dl = Downloads(self)
        self._reset_locked()
        # warm the default index so the first page is quick
        self.get_index(None, None, "createdTime", "desc")

    def _reset_locked(self):
        self.generation = getattr(self, "generation", 0) + 1
        self.gzip_responses = 0
        self.data.truncate()
        self.cache = {}
        self.faults = []
        self.log = []
        self.log_seq = 0
        self.request_counter = 0
        self.list_conns = set()
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

    def insert_head(self, n, project, store):
        with self.lock:
            self.data.insert_head(n, project, store)
            self.cache = {}

    def add_faults(self, faults):
        with self.lock:
            self.faults.extend(f for f in faults if f.get("call", "list") == "list")
            self.dl.faults.extend(f for f in faults if f.get("call", "list") != "list")

    def take_fault(self, page_no):
        """Return the fault to apply to this list request, or None."""
        with self.lock:
            for i, f in enumerate(self.faults):
                if f.get("page") is not None and f["page"] != page_no:
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    return None
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        del self.faults[i]
                # count < 0: applies forever (until reset)
                return dict(f)
            return None

    def record(self, entry, line, generation=None):
        with self.lock:
            # a request that began before a reset or log-clear (one a test
            # cancelled, say, finishing late) belongs to the earlier log
            if generation is not None and generation != self.generation:
                return
            self.log_seq += 1
            entry["seq"] = self.log_seq
            self.log.append(entry)
            self.list_conns.add(entry["conn_id"])
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
                "list_requests_total": self.total_list_requests,
                "requests_total": self.total_requests,
                "connections": len(self.list_conns),
                "connections_total": self.conn_counter,
                "tasks": len(self.data),
                "pending_faults": len(self.faults),
                "bytes_sent": self.bytes_sent,
                "gzip_responses": self.gzip_responses,
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
    ak, ts, exp, signed, sig = parse_authorization(headers.get("Authorization"))
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
    path, _, query = raw_path.partition("?")
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

    def body(self):
        parts = [b'"%s":%s' % (k.encode(), v) for k, v in self.top]
        if not self.omit_result:
            ritems = [b'"%s":%s' % (k.encode(), v) for k, v in self.items]
            if self.tasks_raw is not None:
                ritems.append(b'"tasks":' + self.tasks_raw)
            elif self.tasks is not None:
                ritems.append(b'"tasks":[' + b",".join(self.tasks) + b"]")
            parts.append(b'"result":{' + b",".join(ritems) + b"}")
        return b"{" + b",".join(parts) + b"}"


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
    elif t == "extra_fields":
        page.items.insert(0, ("_emulatorExtra", b'{"nested":[1,{"a":null}],"s":"x"}'))
        page.items.append(("nextMarker", b"null"))
        page.top.append(("extraTop", b'"ignored"'))
        page.tasks = [b'{"_extraHead":{"k":[1,2,"3"]},' + b[1:-1] +
                      b',"extraString":"ignored","extraNumber":1.5e3,"extraBool":false,'
                      b'"extraNull":null}' for b in page.tasks]
    elif t == "respelled":
        page.tasks = [_respell(b, i) for i, b in enumerate(page.tasks)]
    elif t == "oversize":
        want = int(f.get("bytes", 1 << 20))
        cur = len(page.body()) + len(b'"_padding":"",')
        page.items.insert(0, ("_padding", b'"' + b"x" * max(0, want - cur) + b'"'))
    return 200, ctype, page.body()


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
#   real ones are undocumented; an http fault with call "link" gives any other).
#   The link is https://bls-download.bj.bcebos.com/<fileDir or
#   "bls-emulator-download/"><fileName>?... (UriEncoded, '/' kept).
# - Uuids of created tasks are deterministic: the n-th task created since the
#   last reset gets the same uuid each run (for a given --seed).
# - config latency_ms delays these calls too.
#
# Faults name their call with field "call": "list" (the default: every fault
# without it keeps its old meaning), "create", "describe", "link", "delete".
# Types for these calls: http, success_false, drop, delay_headers, malformed,
# html, empty, not_object, truncated, extra_fields; aliases
# create_accept_then_drop (= drop on create) and create_500 (= http 500 on
# create).  count and skip work as for the list.  Side effects:
# - "created" (create) / "deleted" (delete), true or false: whether the service
#   acted before the fault.  Refusals (http with a 4xx status or 503, and
#   success_false) never act: true is rejected.  Otherwise (http 500/502/504,
#   drop, malformed, html, empty, not_object) the default is true: the worst
#   case for a client that resends.  delay_headers, truncated and extra_fields
#   always act (they alter the real answer).  An invalid request (bad signature
#   or body, unknown uuid) never acts.
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
#                                      (calls: list, create, describe, link, delete,
#                                      other); maxima since reset or
#   POST /_emulator/inflight/clear
#   GET  /_emulator/stats              adds "downloads": calls, tasks_created, ...
# The request log (GET /_emulator/log) also holds these calls, with fields
# "call" and "uuid"; ctl log and ctl count still show the list requests only.

DOWNLOAD_PATH = "/v2/logstore/download"
DOWNLOAD_LINK_PREFIX = DOWNLOAD_PATH + "/link/"
DOWNLOAD_CALLS = ("create", "describe", "link", "delete")
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
}

CALL_FAULT_TYPES = {
    "http", "success_false", "drop", "delay_headers", "malformed", "html", "empty",
    "not_object", "truncated", "extra_fields",
}
CALL_FAULT_ALIASES = {
    "create_accept_then_drop": {"type": "drop"},
    "create_500": {"type": "http", "status": 500},
}


def validate_download_config(k, v):
    """Check one download config value (control API); returns it or ValueError."""
    if k in ("task_waiting_ms", "task_running_ms", "task_rows"):
        if not _is_int(v) or v < 0:
            raise ValueError("%s must be a non-negative integer" % k)
    elif k == "task_expire_ms":
        if v is not None and (not _is_int(v) or v < 0):
            raise ValueError("task_expire_ms must be null or a non-negative integer")
    elif k == "task_fail":
        if not isinstance(v, bool):
            raise ValueError("task_fail must be true or false")
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


def validate_call_fault(f):
    """A fault for a download-task call (field call other than "list")."""
    g = dict(f)
    alias = CALL_FAULT_ALIASES.get(g.get("type"))
    if alias is not None:
        g.update(alias)
        g.setdefault("call", "create")
        if g["call"] != "create":
            raise ValueError("fault %s applies to call create only" % f["type"])
    call, t = g.get("call"), g.get("type")
    if call not in DOWNLOAD_CALLS:
        raise ValueError("fault call must be one of list, create, describe, link, delete")
    if t not in CALL_FAULT_TYPES:
        raise ValueError("fault type %r does not apply to call %s" % (t, call))
    for k in ("count", "skip", "ms"):
        if g.get(k) is not None and not _is_int(g[k]):
            raise ValueError("fault field %s must be an integer" % k)
    if g.get("page") is not None:
        raise ValueError("fault field page applies to the list call only")
    status = g.get("status", 503)
    if t == "http" and (not _is_int(status) or not 100 <= status <= 599):
        raise ValueError("http fault status must be an integer (100..599)")
    key = {"create": "created", "delete": "deleted"}.get(call)
    for other in ("created", "deleted"):
        if other in g and other != key:
            raise ValueError("fault field %s does not apply to call %s" % (other, call))
    refusal = (t == "http" and (status < 500 or status == 503)) or t == "success_false"
    if key is None:
        applied = True
    elif t in ("delay_headers", "truncated", "extra_fields"):
        if key in g:
            raise ValueError("fault field %s does not apply to %s (it acts, then alters "
                             "its answer)" % (key, t))
        applied = True
    elif key in g:
        if not isinstance(g[key], bool):
            raise ValueError("fault field %s must be true or false" % key)
        if g[key] and refusal:
            raise ValueError("a refused request (4xx, 503, success_false) cannot have "
                             "%s true" % key)
        applied = g[key]
    else:
        applied = not refusal
    g["applied"] = applied
    g["count"] = g.get("count", 1) if g.get("count") is not None else 1
    g["skip"] = g.get("skip") or 0
    return g


def download_route(method, path):
    """(call, uuid) for a download-task request (path without query), else (None, None)."""
    if path == DOWNLOAD_PATH:
        return ("create" if method == "POST" else None), None
    if path.startswith(DOWNLOAD_LINK_PREFIX):
        seg = path[len(DOWNLOAD_LINK_PREFIX):]
        if seg and "/" not in seg and method == "GET":
            return "link", urllib.parse.unquote(seg)
        return None, None
    if path.startswith(DOWNLOAD_PATH + "/"):
        seg = path[len(DOWNLOAD_PATH) + 1:]
        if seg and "/" not in seg and path != LIST_PATH:
            if method == "GET":
                return "describe", urllib.parse.unquote(seg)
            if method == "DELETE":
                return "delete", urllib.parse.unquote(seg)
    return None, None


def call_name(method, raw_path):
    """The call a request makes, for the in-flight gauge."""
    path = raw_path.split("?", 1)[0]
    if path == LIST_PATH:
        return "list"
    return download_route(method, path)[0] or "other"


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
        self.faults = []
        self.pending = []        # CreatedTask not yet in a final state
        self.uuid_map = {}       # uuid -> data index, extended lazily
        self.map_len = 0
        self.created_count = 0
        self.clock_offset = 0.0
        self.calls = {c: 0 for c in DOWNLOAD_CALLS}
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
            self.st.cache = {}
        return final

    def refresh_locked(self):
        """Bring created tasks up to date (under State.lock); cheap when none move."""
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

    def create(self, params, cfg):
        with self.st.lock:
            now = self.now()
            rng = random.Random("%s:create:%d" % (self.st.data.seed, self.created_count))
            self.created_count += 1
            uid = uuid4_from_bits(rng.getrandbits(128))
            rec = CreatedTask(uid, params, now, cfg)
            data = self.st.data
            rec.idx = len(data)
            task, ut, final = rec.view(now)
            rec.state = task["state"]
            data._append(encode_task(task), params["project"], params["logStoreName"],
                         params["name"], int(now), ut)
            self.st.cache = {}
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
                self.st.cache = {}
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

    # -- faults -------------------------------------------------------------
    def take_fault(self, call):
        with self.st.lock:
            for i, f in enumerate(self.faults):
                if f["call"] != call:
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    return None
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        del self.faults[i]
                return dict(f)
            return None

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

        def __exit__(self, *exc):
            dl, c = self.dl, self.call
            if c is not None:
                with dl.gauge_lock:
                    dl.in_flight[c] -= 1
                    dl.in_flight_total -= 1
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

    # -- request log and stats ----------------------------------------------
    def record(self, entry, line, generation):
        with self.st.lock:
            self.calls[entry["call"]] += 1
            if generation == self.st.generation:
                self.st.log_seq += 1
                entry["seq"] = self.st.log_seq
                self.st.log.append(entry)
        self.st.write_log_line(line)

    def stats(self):
        with self.st.lock:
            out = {"calls": dict(self.calls), "tasks_created": self.tasks_created,
                   "tasks_deleted": self.tasks_deleted,
                   "pending_faults": len(self.faults),
                   "clock_offset_ms": round(self.clock_offset * 1000)}
        out.update(self.gauge_report())
        return out


# ---------------------------------------------------------------------------
# HTTP handler
# ---------------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
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
        with STATE.dl.gauge(self.command, self.path):
            self._dispatch()

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
        fault = dl.take_fault(call)
        ftype = fault["type"] if fault else None
        applied = fault is None or fault["applied"]
        with STATE.lock:
            cfg = dict(STATE.config)
        if cfg["latency_ms"]:
            time.sleep(cfg["latency_ms"] / 1000.0)

        status, ctype, out, extra = 200, jt, b"", []
        try:
            if cfg["auth"]:
                check_auth(self.command, self.path, headers, STATE.keys)
            if call == "create":
                params = parse_create_body(body)
                new = dl.create(params, cfg) if applied else "(not created)"
                out = ok_envelope(jbytes({"uuid": new}))
            elif call == "describe":
                out = ok_envelope(b'{"task":' + dl.describe(uid) + b"}")
            elif call == "link":
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
        dl.record({
            "seq": 0, "conn_id": self.conn_id, "method": self.command, "path": self.path,
            "call": call, "uuid": uid, "status": sent_status,
            "body": body.decode("utf-8", "replace"), "ak": ak, "signed_headers": signed,
            "elapsed_ms": round(elapsed, 3), "fault": ftype, "request_id": rid,
        }, "conn=%d %s %s call=%s status=%d ak=%s bytes=%d ms=%.1f%s" % (
            self.conn_id, self.command, self.path, call, sent_status, ak or "-", len(out),
            elapsed, (" fault=" + ftype) if ftype else ""), generation)

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
            if cmd == "health" and m in ("GET", "HEAD"):
                ok({"status": "ok", "tasks": len(STATE.data)})
            elif cmd == "reset" and m == "POST":
                STATE.reset()
                ok()
            elif cmd == "faults" and m == "POST":
                obj = json.loads(body.decode("utf-8"))
                lst = obj if isinstance(obj, list) else [obj]
                faults = [validate_fault(f) for f in lst]
                STATE.add_faults(faults)
                ok({"ok": True, "queued": len(faults)})
            elif cmd == "faults" and m == "GET":
                with STATE.lock:
                    ok(list(STATE.faults) + list(STATE.dl.faults))
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
                    elif k in DOWNLOAD_CONFIG:
                        validate_download_config(k, v)
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
                    STATE.generation += 1
                ok()
            elif cmd == "connections" and m == "GET":
                with STATE.lock:
                    ok({"connections": len(STATE.list_conns)})
            elif cmd == "tasks" and m == "GET":
                with STATE.lock:
                    idx = STATE.get_index(None, None, "createdTime", "desc")
                    js = STATE.data.json
                    out = b"".join(js[i] + b"\n" for i in idx)
                self._send(200, "application/x-ndjson;charset=utf-8", out)
            elif cmd == "stats" and m == "GET":
                ok(STATE.stats())
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
            total, tasks = STATE.page(project, store, order_by, order, pno, eff)
            page = Page(order, order_by, pno, eff, total, tasks)
            out = page.body()
        except AuthError as e:
            status, out = e.status, error_body(e.code, e.message, rid)

        mode = "normal"
        if fault:
            if ftype == "http":
                status = fault.get("status", 503)
                code, msg = HTTP_DEFAULT_CODES.get(status, ("InternalError", "error"))
                if status in (502, 504) and "code" not in fault:
                    ctype, out = "text/html", gateway_html(status)
                else:
                    out = error_body(fault.get("code", code),
                                     fault.get("message", msg + " (emulated fault)"), rid)
                    ctype = jt
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
                status, ctype = 200, jt
                out = b'{"success":true,"result":{"tasks":[{"uuid":' + \
                    b'\x00garbage}]]<<not json'
            elif ftype == "html":
                status = fault.get("status", 200)
                ctype, out = "text/html", gateway_html(status if status != 200 else 500)
            elif ftype == "empty":
                status, ctype, out = 200, jt, b""
            elif ftype == "not_object":
                status, ctype, out = 200, jt, b"[1,2,3]"
            elif ftype in ("truncated", "reset_mid_body", "delay_body"):
                mode = ftype
            elif page is not None and ftype not in ("insert_head", "delay_headers"):
                status, ctype, out = apply_result_fault(fault, page)

        if mode == "truncated":
            out = out[:len(out) // 2]
        sent_status = status
        try:
            if mode == "drop":
                sent_status = 0
                self.close_connection = True
            elif mode in ("reset_mid_body", "delay_body"):
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
            else:
                # gzip a successful page when the client accepts it
                if (status == 200 and cfg.get("gzip") and
                        "gzip" in (self.headers.get("Accept-Encoding") or "")):
                    out = gzip.compress(out, 1)
                    extra = list(extra) + [("Content-Encoding", "gzip")]
                    with STATE.lock:
                        STATE.gzip_responses += 1
                self._send(status, ctype, out, rid, extra)
        except OSError:
            self.close_connection = True
        elapsed = (time.monotonic() - t0) * 1000.0
        text = body.decode("utf-8", "replace")
        STATE.record({
            "seq": 0, "conn_id": self.conn_id, "method": self.command, "path": self.path,
            "status": sent_status, "body": text, "ak": ak, "signed_headers": signed,
            "elapsed_ms": round(elapsed, 3), "fault": ftype, "request_id": rid,
        }, "conn=%d %s %s status=%d ak=%s bytes=%d ms=%.1f%s" % (
            self.conn_id, self.command, self.path, sent_status, ak or "-", len(out),
            elapsed, (" fault=" + ftype) if ftype else ""), generation)


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
    global STATE
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


def _ctl_download(base, cmd, arg, out):
    """ctl commands of the download-task calls:
    task-count NAME     number of (undeleted) tasks named NAME
    calls [CALL]        "status call uuid body" per logged create/describe/link/delete
    advance MS          move the lifecycle clock MS milliseconds forward
    release             answer the requests a delay_headers fault holds
    inflight            the in-flight gauge (JSON)
    max-inflight [CALL] most requests in flight at once (of CALL, or of all)"""
    if cmd == "task-count":
        if arg is None:
            raise SystemExit("bls_emulator ctl: task-count needs a NAME")
        doc = json.loads(_ctl_request(base, "GET", "tasks/count?name=" +
                                      urllib.parse.quote(arg, safe="")))
        out.write("%d\n" % doc["count"])
    elif cmd == "calls":
        for e in json.loads(_ctl_request(base, "GET", "log")):
            if e.get("call") is None or (arg is not None and e["call"] != arg):
                continue
            fields = ["%d" % e["status"], e["call"]]
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
    elif cmd == "max-inflight":
        doc = json.loads(_ctl_request(base, "GET", "inflight"))
        out.write("%d\n" % (doc["max_in_flight_total"] if arg is None else
                            doc["max_in_flight"].get(arg, 0)))


def ctl(argv):
    cmds = ("reset", "fault", "faults", "config", "log", "log-clear", "count", "gzipped",
            "connections", "tasks", "stats", "wait-ready") + DOWNLOAD_CTL
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
        elif cmd == "connections":
            out.write("%d\n" % json.loads(_ctl_request(base, "GET", "connections"))[
                "connections"])
        elif cmd == "tasks":
            sys.stdout.buffer.write(_ctl_request(base, "GET", "tasks", timeout=600))
        elif cmd == "stats":
            out.write(json.dumps(json.loads(_ctl_request(base, "GET", "stats")),
                                 sort_keys=True) + "\n")
        elif cmd in DOWNLOAD_CTL:
            _ctl_download(base, cmd, arg, out)
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
                                description="BLS ListDownloadTask emulator (loopback only)")
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
