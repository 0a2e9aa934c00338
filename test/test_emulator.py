#!/usr/bin/env python3
"""Self-test of the BLS emulator (stdlib unittest).  Run: python3 test/test_emulator.py"""

import gzip
import hashlib
import hmac
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import unittest.mock
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bls_emulator as emu  # noqa: E402

EMULATOR = os.path.join(HERE, "bls_emulator.py")
AK, SK = "emulator-ak", "emulator-sk"


class EmulatorTest(unittest.TestCase):
    proc = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.port_file = os.path.join(cls.tmp.name, "port")
        cls.log_file = os.path.join(cls.tmp.name, "requests.log")
        cls.proc = subprocess.Popen(
            [sys.executable, EMULATOR, "serve", "--tasks", "1000", "--seed", "42",
             "--port-file", cls.port_file, "--log-file", cls.log_file, "--quiet",
             "--key", "extra-ak:extra-sk"])
        deadline = time.monotonic() + 10
        while not os.path.exists(cls.port_file):
            if time.monotonic() > deadline or cls.proc.poll() is not None:
                raise RuntimeError("emulator did not start")
            time.sleep(0.05)
        with open(cls.port_file) as f:
            cls.port = int(f.read())
        cls.env = dict(os.environ, BLS_EMULATOR_URL="http://127.0.0.1:%d" % cls.port)
        cls.env.pop("BLS_EMULATOR_PORT_FILE", None)

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None:
            cls.proc.terminate()
            cls.proc.wait(10)
        cls.tmp.cleanup()

    def setUp(self):
        self.ctl("reset")

    # -- helpers ------------------------------------------------------------
    def ctl(self, *args, check=True):
        r = subprocess.run([sys.executable, EMULATOR, "ctl", *args], env=self.env,
                           capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            self.fail("ctl %s failed: %s" % (args, r.stderr))
        return r

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def post(self, body, conn=None, ak=AK, sk=SK, token=None, timestamp=None,
             raw=None, extra=None):
        data = raw if raw is not None else json.dumps(body).encode()
        headers = {"Host": "127.0.0.1:%d" % self.port,
                   "Content-Type": "application/json;charset=utf-8",
                   "Content-Length": str(len(data))}
        headers = emu.sign_request(ak, sk, "POST", emu.LIST_PATH, headers, token=token,
                                   timestamp=timestamp)
        if extra:
            headers.update(extra)
        c = conn or self.conn()
        c.request("POST", emu.LIST_PATH, data, headers)
        r = c.getresponse()
        payload = r.read()
        if conn is None:
            c.close()
        return r.status, r, payload

    def page(self, body, **kw):
        status, _, payload = self.post(body, **kw)
        self.assertEqual(status, 200, payload[:300])
        doc = json.loads(payload)
        self.assertTrue(doc["success"])
        return doc["result"]

    # -- signing ------------------------------------------------------------
    def test_vectors(self):
        v = emu.compute_test_vectors()
        for name in ("signing_key", "A", "A2", "B"):
            self.assertEqual(v[name], emu.TEST_VECTORS[name], name)
        self.assertEqual(v["A_canonical"], "\n".join([
            "PUT", "/v1/test/myfolder/readme.txt",
            "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851",
            "content-length:8", "content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D",
            "content-type:text%2Fplain", "host:bj.bcebos.com",
            "x-bce-date:2015-04-27T08%3A23%3A49Z"]))
        self.assertEqual(emu.uri_encode("a b*~/é"), "a%20b%2A~%2F%C3%A9")
        self.assertEqual(emu.canonical_query("b=2&a=&authorization=x"), "a=&b=2")

    # -- paging -------------------------------------------------------------
    def test_paging(self):
        seen = []
        total = None
        for p in range(1, 12):
            r = self.page({"pageNo": p, "pageSize": 100})
            self.assertEqual((r["pageNo"], r["pageSize"], r["order"], r["orderBy"]),
                             (p, 100, "desc", "createdTime"))
            total = r["total"]
            seen.extend(r["tasks"])
        self.assertEqual(total, 1000)
        self.assertEqual(len(seen), 1000)  # page 11 is empty
        self.assertEqual(len({t["uuid"] for t in seen}), 1000)
        self.assertEqual(list(seen[0]), list(emu.TASK_FIELDS))
        created = [t["createdTime"] for t in seen]
        self.assertEqual(created, sorted(created, reverse=True))
        # ctl tasks prints the same default order
        lines = self.ctl("tasks").stdout.splitlines()
        self.assertEqual([json.loads(x)["uuid"] for x in lines], [t["uuid"] for t in seen])
        # default page size and other orders; asc is the exact reverse of desc
        self.assertEqual(len(self.page({})["tasks"]), 10)
        for ob in ("createdTime", "updatedTime", "name"):
            desc = self.page({"orderBy": ob, "order": "desc", "pageSize": 1000})["tasks"]
            asc = self.page({"orderBy": ob, "order": "asc", "pageSize": 1000})["tasks"]
            self.assertEqual([t["uuid"] for t in desc], [t["uuid"] for t in reversed(asc)])
            keys = [t[ob] for t in asc]
            self.assertEqual(keys, sorted(keys))
        # filters
        r = self.page({"project": "数据平台", "logStoreName": "审计", "pageSize": 1000})
        self.assertTrue(r["total"] > 0)
        self.assertTrue(all(t["project"] == "数据平台" and "审计" in t["logStoreName"]
                            for t in r["tasks"]))
        r = self.page({"logStoreName": "NGINX", "pageSize": 1000})
        self.assertTrue(all("nginx" in t["logStoreName"].lower() for t in r["tasks"]))
        self.assertEqual(r["total"], len(r["tasks"]))
        # max page size
        self.ctl("config", '{"max_page_size":50}')
        r = self.page({"pageSize": 500})
        self.assertEqual((r["pageSize"], len(r["tasks"])), (50, 50))
        # request log
        self.ctl("log-clear")
        self.page({"pageSize": 5, "project": "default"})
        self.assertEqual(self.ctl("log").stdout,
                         '200 {"pageSize":5,"project":"default"}\n')
        self.assertEqual(self.ctl("count").stdout, "1\n")

    # -- auth and validation ---------------------------------------------------
    def test_auth_errors(self):
        status, r, payload = self.post({"pageNo": 1}, sk="wrong")
        self.assertEqual(status, 401)
        doc = json.loads(payload)
        self.assertEqual(doc["code"], "Unauthorized")
        self.assertEqual(doc["requestId"], r.getheader("x-bce-request-id"))
        self.assertNotIn("wrong", payload.decode())
        status, _, payload = self.post({"pageNo": 1}, timestamp="2020-01-01T00:00:00Z")
        self.assertEqual((status, json.loads(payload)["code"]), (400, "RequestExpired"))
        status, _, payload = self.post({"pageNo": 1}, ak="nobody")
        self.assertEqual(status, 401)
        # STS needs the token
        self.assertEqual(self.post({}, ak="emulator-sts-ak", sk="emulator-sts-sk")[0], 401)
        self.assertEqual(self.post({}, ak="emulator-sts-ak", sk="emulator-sts-sk",
                                   token="emulator-sts-token")[0], 200)
        self.assertEqual(self.post({}, ak="extra-ak", sk="extra-sk")[0], 200)
        # validation
        for body, code in (({"pageNo": 0}, "InvalidParameter"),
                           ({"pageSize": "10"}, "InvalidParameter"),
                           ({"orderBy": "size"}, "InvalidParameter"),
                           ({"order": "up"}, "InvalidParameter"),
                           ({"project": 5}, "InvalidParameter"),
                           ([1, 2], "MalformedJSON")):
            status, _, payload = self.post(body)
            self.assertEqual((status, json.loads(payload)["code"]), (400, code), body)
        status, _, payload = self.post(None, raw=b"{nope")
        self.assertEqual((status, json.loads(payload)["code"]), (400, "MalformedJSON"))
        c = self.conn()
        c.request("GET", "/nope")
        r = c.getresponse()
        self.assertEqual((r.status, json.loads(r.read())["code"]), (404, "NotFound"))
        c.close()
        with open(self.log_file) as f:
            text = f.read()
        self.assertNotIn("Authorization", text)
        self.assertNotIn("emulator-sk", text)

    # -- faults ---------------------------------------------------------------
    def test_faults(self):
        self.ctl("fault", '{"type":"http","status":503,"retry_after":"2"}')
        status, r, payload = self.post({})
        self.assertEqual(status, 503)
        self.assertEqual(r.getheader("Retry-After"), "2")
        self.assertEqual(json.loads(payload)["code"], "ServiceUnavailable")
        self.assertEqual(self.post({})[0], 200)  # consumed

        first = self.page({"pageSize": 3})["tasks"]
        self.ctl("fault", '{"type":"insert_head","n":2}')
        r = self.page({"pageSize": 5})
        self.assertEqual(r["total"], 1002)
        self.assertEqual([t["uuid"] for t in r["tasks"][2:]], [t["uuid"] for t in first])
        self.assertTrue(r["tasks"][1]["createdTime"] >= first[0]["createdTime"])

        self.ctl("fault", '{"type":"wrong_type","field":"writtenRows","value":"many"}')
        r = self.page({"pageSize": 3})
        self.assertEqual([t["writtenRows"] for t in r["tasks"]], ["many"] * 3)

        # respelled: other JSON text, the same tasks
        plain = self.page({"pageSize": 8})["tasks"]
        self.ctl("fault", '{"type":"respelled"}')
        status, _, payload = self.post({"pageSize": 8})
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(payload)["result"]["tasks"], plain)
        for marker in (b'"\\u0075\\u0075', b'"decoy"', b'\n\t'):
            self.assertIn(marker, payload)

        self.ctl("fault", '{"type":"invalid_utf8","field":"name","index":0}')
        status, _, payload = self.post({"pageSize": 2})
        self.assertEqual(status, 200)
        self.assertRaises(UnicodeDecodeError, payload.decode, "utf-8")
        json.loads(payload.decode("utf-8", "replace"))

        self.ctl("fault", '{"type":"truncated","page":2}')
        self.assertEqual(self.post({"pageNo": 1, "pageSize": 4})[0], 200)
        status, r, payload = self.post({"pageNo": 2, "pageSize": 4})
        self.assertEqual(status, 200)
        self.assertEqual(int(r.getheader("Content-Length")), len(payload))
        self.assertRaises(ValueError, json.loads, payload)

        self.ctl("fault", '{"type":"drop"}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError), self.post, {})
        log = self.ctl("log").stdout.splitlines()
        self.assertTrue(log[-1].startswith("0 "))
        r = self.ctl("fault", '{"type":"no-such-fault"}', check=False)
        self.assertNotEqual(r.returncode, 0)

        # reset restores the data set
        self.ctl("reset")
        self.assertEqual(self.page({})["total"], 1000)

    def test_keepalive(self):
        c = self.conn()
        self.page({"pageNo": 1}, conn=c)
        self.page({"pageNo": 2}, conn=c)
        c.close()
        self.assertEqual(self.ctl("connections").stdout, "1\n")
        self.page({"pageNo": 3})
        self.assertEqual(self.ctl("connections").stdout, "2\n")
        self.assertEqual(self.ctl("count").stdout, "3\n")
        # accepted: connections opened since the reset; one kept from before
        # it is not counted (nor are the ctl's own)
        self.assertEqual(self.ctl("accepted").stdout, "2\n")
        c = self.conn()
        self.page({"pageNo": 1}, conn=c)
        self.ctl("reset")
        self.page({"pageNo": 1}, conn=c)
        self.assertEqual(self.ctl("accepted").stdout, "0\n")
        self.page({"pageNo": 2})
        self.assertEqual(self.ctl("accepted").stdout, "1\n")
        c.close()
        stats = json.loads(self.ctl("stats").stdout)
        self.assertIn("cpu_seconds", stats)


    # -- page cache -------------------------------------------------------------
    def stats(self):
        return json.loads(self.ctl("stats").stdout)

    def test_page_cache(self):
        body = {"pageNo": 2, "pageSize": 7, "orderBy": "updatedTime"}
        s0 = self.stats()
        status, _, first = self.post(body)
        status2, _, second = self.post(body)
        s1 = self.stats()
        self.assertEqual((status, status2), (200, 200))
        self.assertEqual(first, second)
        self.assertEqual(s1["page_cache_misses"] - s0["page_cache_misses"], 1)
        self.assertEqual(s1["page_cache_hits"] - s0["page_cache_hits"], 1)
        # the same page through the uncached path (a page fault that changes
        # nothing): the same bytes
        self.ctl("fault", '{"type":"total","value":1000}')
        self.assertEqual(self.post(body)[2], first)
        self.assertEqual(self.stats()["page_cache_hits"], s1["page_cache_hits"])
        # signatures are still checked on a cached page
        self.assertEqual(self.post(body, sk="wrong")[0], 401)
        # every request is logged, cached or not
        self.assertEqual(self.ctl("count").stdout, "4\n")
        # gzip of a cached page
        self.ctl("config", '{"gzip":true}')
        status, r, payload = self.post(body, extra={"Accept-Encoding": "gzip"})
        self.assertEqual((status, r.getheader("Content-Encoding")), (200, "gzip"))
        self.assertEqual(gzip.decompress(payload), first)
        self.assertEqual(self.ctl("gzipped").stdout, "1\n")
        self.ctl("config", '{"gzip":false}')
        # max_page_size is part of the key
        self.ctl("config", '{"max_page_size":5}')
        r = self.page(body)
        self.assertEqual((r["pageSize"], len(r["tasks"])), (5, 5))
        self.ctl("config", '{"max_page_size":1000}')
        # a page after insert_head shows the new tasks; after a reset, the old ones
        p1 = {"pageNo": 1, "pageSize": 4}
        before = self.page(p1)
        self.ctl("fault", '{"type":"insert_head","n":3}')
        self.page({"pageNo": 9, "pageSize": 1})
        after = self.page(p1)
        self.assertEqual(after["total"], 1003)
        self.assertEqual([t["name"][:9] for t in after["tasks"][:3]], ["new-task-"] * 3)
        self.assertEqual(after["tasks"][3], before["tasks"][0])
        self.ctl("reset")
        self.assertEqual(self.page(p1), before)

    def test_ignore_page_no(self):
        body = {"pageSize": 6, "orderBy": "name", "order": "asc"}
        first = self.page(dict(body, pageNo=1))
        third = self.page(dict(body, pageNo=3))
        self.assertNotEqual(first["tasks"], third["tasks"])
        self.ctl("fault", '{"type":"ignore_page_no","count":2}')
        for pno in (3, 40):
            r = self.page(dict(body, pageNo=pno))
            self.assertEqual(r["tasks"], first["tasks"])
            self.assertNotIn("total", r)
            self.assertNotIn("pageNo", r)
            self.assertEqual((r["pageSize"], r["order"], r["orderBy"]), (6, "asc", "name"))
        self.assertEqual(self.page(dict(body, pageNo=3)), third)  # count used up
        # until a reset, for every request (here only for pageNo 2)
        self.ctl("fault", '{"type":"ignore_page_no","count":-1,"page":2}')
        for _ in range(3):
            r = self.page(dict(body, pageNo=2))
            self.assertEqual((r["tasks"], "total" in r), (first["tasks"], False))
            self.assertEqual(self.page(dict(body, pageNo=3)), third)
        # filters still apply
        r = self.page({"project": "staging", "pageNo": 5, "pageSize": 3})
        self.assertTrue(all(t["project"] == "staging" for t in r["tasks"]))
        log = [json.loads(line.split(" ", 1)[1]) for line in self.ctl("log").stdout.splitlines()]
        self.assertEqual(log[-1]["pageNo"], 5)
        self.assertIn('"ignore_page_no"', self.ctl("faults").stdout)
        self.ctl("reset")
        self.assertEqual(self.page(dict(body, pageNo=2))["pageNo"], 2)
        self.assertEqual(self.ctl("faults").stdout.strip(), "[]")


def reference_body(order, order_by, page_no, page_size, total, tasks):
    """A page's body as Page.body() wrote it before its one-join rendering."""
    j = emu.jbytes
    top = [b'"success":true', b'"code":"OK"', b'"message":""']
    ritems = [b'"order":' + j(order), b'"orderBy":' + j(order_by), b'"pageNo":' + j(page_no),
              b'"pageSize":' + j(page_size), b'"total":' + j(total),
              b'"tasks":[' + b",".join(tasks) + b"]"]
    return b"{" + b",".join(top + [b'"result":{' + b",".join(ritems) + b"}"]) + b"}"


class PageCacheTest(unittest.TestCase):
    """The page cache in process: cached pages are the pages rendered afresh."""

    def setUp(self):
        args = emu.build_parser().parse_args(["--tasks", "300", "--seed", "7", "--quiet"])
        self.st = emu.State(args)

    def fresh(self, project, store, order_by, order, page_no, size):
        total, tasks = self.st.page(project, store, order_by, order, page_no, size)
        body = emu.Page(order, order_by, page_no, size, total, tasks).body()
        self.assertEqual(body, reference_body(order, order_by, page_no, size, total, tasks))
        return body

    KEYS = [(None, None, "createdTime", "desc", 1, 100),
            (None, None, "createdTime", "desc", 3, 100),
            (None, None, "createdTime", "desc", 4, 100),   # past the end: no tasks
            (None, None, "createdTime", "desc", 1, 1000),
            ("default", None, "name", "asc", 2, 50),
            (None, "NGINX", "updatedTime", "asc", 2, 7),
            ("数据平台", "审计", "createdTime", "asc", 1, 3)]

    def test_cached_is_fresh(self):
        for key in self.KEYS:
            h0, m0 = self.st.page_cache_hits, self.st.page_cache_misses
            miss = self.st.page_body(*key)
            hit = self.st.page_body(*key)
            self.assertEqual((self.st.page_cache_hits - h0, self.st.page_cache_misses - m0),
                             (1, 1), key)
            self.assertEqual(miss, self.fresh(*key), key)
            self.assertEqual(hit, miss, key)
            doc = json.loads(miss)
            self.assertEqual(doc["result"]["pageNo"], key[4])
        self.assertEqual(json.loads(self.st.page_body(*self.KEYS[2]))["result"]["tasks"], [])
        # the store keyword matches in any case: one page
        a = self.st.page_body(None, "nginx", "updatedTime", "asc", 2, 7)
        self.assertEqual(a, self.st.page_body(None, "NGINX", "updatedTime", "asc", 2, 7))
        self.assertEqual(self.st.page_cache_bytes,
                         sum(len(b) for b in self.st.page_cache.values()))

    def test_data_changes(self):
        key = (None, None, "createdTime", "desc", 1, 5)
        key3 = (None, None, "createdTime", "desc", 3, 5)
        old, old3 = self.st.page_body(*key), self.st.page_body(*key3)
        self.st.insert_head(2, "default", None)
        new = self.st.page_body(*key)
        self.assertEqual(new, self.fresh(*key))
        doc = json.loads(new)["result"]
        self.assertEqual(doc["total"], 302)
        self.assertEqual([t["name"][:9] for t in doc["tasks"][:2]], ["new-task-"] * 2)
        self.assertEqual(doc["tasks"][2:], json.loads(old)["result"]["tasks"][:3])
        self.assertNotEqual(self.st.page_body(*key3), old3)
        self.assertEqual(self.st.page_body(*key3), self.fresh(*key3))
        self.st.reset()
        self.assertEqual((self.st.page_body(*key), self.st.page_body(*key3)), (old, old3))

    def test_budget(self):
        size = len(self.st.page_body(None, None, "createdTime", "desc", 1, 20))
        self.st.page_cache_budget = 2 * size + size // 2
        for pno in range(1, 16):
            key = (None, None, "createdTime", "desc", pno, 20)
            self.assertEqual(self.st.page_body(*key), self.fresh(*key))
            self.assertLessEqual(self.st.page_cache_bytes, self.st.page_cache_budget)
        self.assertIn(len(self.st.page_cache), (1, 2, 3))     # the newest pages
        self.assertIn((None, None, "createdTime", "desc", 15, 20, self.st.data_gen),
                      self.st.page_cache)
        self.st.page_cache_budget = 0
        self.st.reset()
        h0 = self.st.page_cache_hits
        for _ in range(2):
            self.assertEqual(self.st.page_body(*self.KEYS[0]), self.fresh(*self.KEYS[0]))
        self.assertEqual((self.st.page_cache_hits, len(self.st.page_cache)), (h0, 0))

    def test_fault_docs(self):
        self.assertLessEqual(emu.RESULT_FAULTS, emu.FAULT_TYPES)
        for t in list(emu.FAULT_TYPES) + list(emu.FAULT_ALIASES):
            self.assertIn("\n  %s " % t, emu.FAULT_TYPES_DOC, t)
        for c in list(emu.CALL_FAULT_TYPES) + list(emu.CALL_ALIASES):
            self.assertIn(c, emu.FAULT_TYPES_DOC, c)
        for types in emu.CALL_FAULT_TYPES.values():
            self.assertLessEqual(types or set(), emu.FAULT_TYPES)


class LogRecordCacheTest(unittest.TestCase):
    """--logrecord-cache-mb: an answer is rendered once per key, within budget."""

    def test_cache(self):
        renders = []

        def render(n):
            def f():
                renders.append(n)
                return b"x" * n
            return f

        c = emu.LogRecordCache(0)       # off: every answer rendered
        self.assertEqual(c.body("a", render(3)), b"xxx")
        self.assertEqual(c.body("a", render(3)), b"xxx")
        self.assertEqual((renders, c.bodies), ([3, 3], {}))
        c = emu.LogRecordCache(1)       # 1 MiB
        renders.clear()
        self.assertEqual(c.body("a", render(600 << 10)), b"x" * (600 << 10))
        self.assertIs(c.body("a", render(1)), c.body("a", render(2)))
        self.assertEqual(renders, [600 << 10])
        c.body("b", render(600 << 10))  # evicts "a", the oldest
        self.assertEqual((list(c.bodies), c.bytes), (["b"], 600 << 10))
        c.body("big", render(2 << 20))  # beyond the budget: not kept
        self.assertEqual(list(c.bodies), ["b"])
        self.assertEqual(emu.build_parser().parse_args([]).logrecord_cache_mb, 0)


class HeaderParseTest(unittest.TestCase):
    """parse_headers_fast gives the message http.client.parse_headers gives."""

    SAMPLES = [
        b"Host: 127.0.0.1:5\r\nContent-Type: application/json\r\nContent-Length: 30\r\n"
        b"x-bce-date: 2024-01-01T00:00:00Z\r\n"
        b"Authorization: bce-auth-v1/a/2024-01-01T00:00:00Z/1800/host;x-bce-date/ab\r\n\r\n",
        b"X:\r\nX: \t two  \r\nx: dup\r\nWeird!#$%&'*+-.^_`|~: v\r\n\r\nBODY",
        b"A: caf\xe9 \xff\r\n\n",
        b"A: b\n\n",
        b"\r\n",
        b"",
        b"A: b\r\n",                          # no blank line
        b"A: b\r\n  folded\r\n\r\n",
        b"NoColon\r\nB: c\r\n\r\n",
        b": empty name\r\n\r\n",
        b"A: b\rc\r\n\r\n",
        b"A: b\r\r\n\r\n",
        b"From x@y\r\nA: b\r\n\r\n",
        b"A b: c\r\n\r\n",
        b"Content-Type: multipart/form-data; boundary=x\r\n\r\n",
        b"Content-Type:  Message/rfc822\r\n\r\n",
    ]

    @staticmethod
    def view(msg):
        payload = msg.get_payload()
        if isinstance(payload, list):
            payload = [HeaderParseTest.view(m) for m in payload]
        return (type(msg), msg.items(), payload, msg.get_unixfrom(), msg.preamble,
                msg.epilogue, [(type(d), str(d)) for d in msg.defects])

    def test_same_message(self):
        import io
        parse = http.client.parse_headers
        if emu.parse_headers_fast is parse:
            self.skipTest("http.client.parse_headers replaced in this process")
        for raw in self.SAMPLES:
            self.assertEqual(self.view(emu.parse_headers_fast(io.BytesIO(raw))),
                             self.view(parse(io.BytesIO(raw))), raw)
        msg = emu.parse_headers_fast(io.BytesIO(self.SAMPLES[1]))
        self.assertEqual(msg.get_all("x"), ["", "two  ", "dup"])


class CatalogTest(unittest.TestCase):
    """ListProject, ListLogStore, DescribeLogStore; a server of its own, set up
    like EmulatorTest's."""
    setUpClass = classmethod(EmulatorTest.setUpClass.__func__)
    tearDownClass = classmethod(EmulatorTest.tearDownClass.__func__)
    setUp = EmulatorTest.setUp
    ctl = EmulatorTest.ctl
    conn = EmulatorTest.conn
    post = EmulatorTest.post
    page = EmulatorTest.page

    NAMES_BY_BYTES = ["Archive_2023", "analytics", "default", "iot-设备", "prod-web",
                      "sandbox", "staging", "数据平台"]

    # -- helpers ------------------------------------------------------------
    def api(self, method, path, query="", body=None, sign_query=None, sk=SK, raw=None,
            conn=None):
        """One signed request; query is the raw query string sent (and signed
        unless sign_query says otherwise).  -> (status, response, payload)."""
        data = raw if raw is not None else (None if body is None else
                                            json.dumps(body).encode())
        headers = {"Host": "127.0.0.1:%d" % self.port}
        if data is not None:
            headers["Content-Type"] = "application/json;charset=utf-8"
            headers["Content-Length"] = str(len(data))
        headers = emu.sign_request(AK, sk, method, path, headers,
                                   query=query if sign_query is None else sign_query)
        c = conn or self.conn()
        c.request(method, path + ("?" + query if query else ""), data, headers)
        r = c.getresponse()
        payload = r.read()
        if conn is None:
            c.close()
        return r.status, r, payload

    def projects(self, body=None, **kw):
        status, _, payload = self.api("POST", emu.PROJECT_LIST_PATH,
                                      body={} if body is None else body, **kw)
        self.assertEqual(status, 200, payload[:300])
        doc = json.loads(payload)
        self.assertEqual(list(doc), ["success", "code", "message", "result"])
        self.assertEqual((doc["success"], doc["code"]), (True, "OK"))
        return doc["result"]

    def stores(self, params=None, **kw):
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH, query=qs(params), **kw)
        self.assertEqual(status, 200, payload[:300])
        return json.loads(payload)

    def error(self, status, code, *args, **kw):
        got, r, payload = self.api(*args, **kw)
        doc = json.loads(payload)
        self.assertEqual((got, doc["code"]), (status, code), payload[:300])
        self.assertEqual(doc["requestId"], r.getheader("x-bce-request-id"))
        return doc

    # -- ListProject ----------------------------------------------------------
    def test_list_project(self):
        r = self.projects()
        self.assertEqual(list(r), ["order", "orderBy", "pageNo", "pageSize", "total",
                                   "default", "projects"])
        self.assertEqual((r["order"], r["orderBy"], r["pageNo"], r["pageSize"], r["total"]),
                         ("desc", "createdAt", 1, 10, 8))
        self.assertEqual(list(r["default"]), list(emu.PROJECT_FIELDS))
        self.assertEqual(r["default"]["name"], "default")
        # the default project is listed in `projects` too (oldest: last in createdAt desc)
        self.assertEqual(r["projects"][-1], r["default"])
        self.assertEqual(len(r["projects"]), 8)
        self.assertEqual(len({p["uuid"] for p in r["projects"]}), 8)
        for p in r["projects"]:
            self.assertEqual(list(p), list(emu.PROJECT_FIELDS))
            self.assertIsInstance(p["top"], bool)
            self.assertIsInstance(p["logStoreCount"], int)
            self.assertEqual(p["createdTime"], emu.format_timestamp(
                emu.parse_timestamp(p["createdTime"])))
            self.assertLessEqual(p["createdTime"], p["updatedTime"])
        counts = {p["name"]: p["logStoreCount"] for p in r["projects"]}
        self.assertEqual(counts, {"default": 6, "prod-web": 5, "analytics": 5, "数据平台": 5,
                                  "staging": 3, "Archive_2023": 1, "sandbox": 0, "iot-设备": 2})
        self.assertEqual(sorted(p["name"] for p in r["projects"] if p["top"]),
                         ["prod-web", "数据平台"])
        # paging: pages of 3 make up the whole list
        full = r["projects"]
        got = []
        for pno in (1, 2, 3, 4):
            p = self.projects({"pageNo": pno, "pageSize": 3})
            self.assertEqual((p["pageNo"], p["pageSize"], p["total"]), (pno, 3, 8))
            self.assertEqual(p["default"]["name"], "default")
            got.extend(p["projects"])
        self.assertEqual(got, full)  # page 4 is empty
        # sorting: name by bytes; asc is the exact reverse of desc, ties by name
        self.assertEqual([p["name"] for p in self.projects(
            {"orderBy": "name", "order": "asc"})["projects"]], self.NAMES_BY_BYTES)
        for ob, field in (("createdAt", "createdTime"), ("updatedAt", "updatedTime"),
                          ("name", "name")):
            asc = self.projects({"orderBy": ob, "order": "asc"})["projects"]
            desc = self.projects({"orderBy": ob})["projects"]
            self.assertEqual(asc, desc[::-1], ob)
            keys = [(p[field], p["name"].encode()) for p in asc]
            self.assertEqual(keys, sorted(keys), ob)
        asc = [p["name"] for p in self.projects({"orderBy": "createdAt",
                                                 "order": "asc"})["projects"]]
        self.assertLess(asc.index("Archive_2023"), asc.index("sandbox"))  # same createdTime
        asc = [p["name"] for p in self.projects({"orderBy": "updatedAt",
                                                 "order": "asc"})["projects"]]
        self.assertEqual(asc.index("analytics") + 1, asc.index("staging"))  # same updatedTime
        # filters: case-insensitive substrings; `default` stays
        r = self.projects({"name": "PROD"})
        self.assertEqual(([p["name"] for p in r["projects"]], r["total"]), (["prod-web"], 1))
        self.assertEqual(r["default"]["name"], "default")
        r = self.projects({"description": "production", "orderBy": "name", "order": "asc"})
        self.assertEqual([p["name"] for p in r["projects"]],
                         ["iot-设备", "prod-web", "staging"])  # "Pre-production"
        r = self.projects({"name": "设备", "description": "TELEMETRY"})
        self.assertEqual([p["name"] for p in r["projects"]], ["iot-设备"])
        r = self.projects({"name": "a", "description": "", "orderBy": "name",
                           "order": "asc"})  # an empty keyword is no filter
        self.assertEqual([p["name"] for p in r["projects"]],
                         ["Archive_2023", "analytics", "default", "sandbox", "staging"])
        r = self.projects({"name": "no such project"})
        self.assertEqual((r["total"], r["projects"], r["default"]["name"]), (0, [], "default"))
        # page size cap, read back
        self.ctl("config", '{"max_page_size":2}')
        r = self.projects({"pageSize": 500, "pageNo": 4})
        self.assertEqual((r["pageSize"], [p["name"] for p in r["projects"]]),
                         (2, [p["name"] for p in full[6:8]]))
        # an empty body is {}
        status, _, payload = self.api("POST", emu.PROJECT_LIST_PATH, raw=b"")
        self.assertEqual((status, json.loads(payload)["result"]["total"]), (200, 8))

    def test_project_total_spelling(self):
        self.assertIn("total", self.projects())
        self.ctl("config", '{"project_total_key":"totalCount"}')
        r = self.projects({"name": "a"})
        self.assertEqual(list(r), ["order", "orderBy", "pageNo", "pageSize", "totalCount",
                                   "default", "projects"])
        self.assertEqual(r["totalCount"], 5)
        # the list call keeps `total`
        self.assertEqual(self.page({})["total"], 1000)
        self.assertNotEqual(self.ctl("config", '{"project_total_key":"count"}',
                                     check=False).returncode, 0)
        self.ctl("reset")
        self.assertIn("total", self.projects())

    def test_list_project_errors(self):
        for body, code in (({"pageNo": 0}, "InvalidParameter"),
                           ({"pageSize": -1}, "InvalidParameter"),
                           ({"pageSize": "10"}, "InvalidParameter"),
                           ({"pageNo": True}, "InvalidParameter"),
                           ({"orderBy": "createdTime"}, "InvalidParameter"),
                           ({"orderBy": "updatedTime"}, "InvalidParameter"),
                           ({"order": "up"}, "InvalidParameter"),
                           ({"name": 5}, "InvalidParameter"),
                           ({"description": ["x"]}, "InvalidParameter"),
                           ([1], "MalformedJSON")):
            self.error(400, code, "POST", emu.PROJECT_LIST_PATH, body=body)
        self.error(400, "MalformedJSON", "POST", emu.PROJECT_LIST_PATH, raw=b"{nope")
        self.error(401, "Unauthorized", "POST", emu.PROJECT_LIST_PATH, body={}, sk="wrong")
        self.error(404, "NotFound", "GET", emu.PROJECT_LIST_PATH)
        # the body is signed only through content-length: a changed length fails
        c = self.conn()
        data = b'{"pageSize":3}'
        h = emu.sign_request(AK, SK, "POST", emu.PROJECT_LIST_PATH, {
            "Host": "127.0.0.1:%d" % self.port, "Content-Length": str(len(data))})
        c.request("POST", emu.PROJECT_LIST_PATH, data + b" ", dict(h, **{
            "Content-Length": str(len(data) + 1)}))
        self.assertEqual(c.getresponse().status, 401)
        c.close()

    # -- ListLogStore ---------------------------------------------------------
    def test_list_log_store(self):
        r = self.stores()
        self.assertEqual(list(r), ["order", "orderBy", "pageNo", "pageSize", "totalCount",
                                   "result"])
        self.assertEqual((r["order"], r["orderBy"], r["pageNo"], r["pageSize"],
                          r["totalCount"], len(r["result"])),
                         ("desc", "creationDateTime", 1, 10, 27, 10))
        full = self.stores({"pageSize": 100})["result"]
        self.assertEqual(len(full), 27)
        self.assertEqual(full[:10], r["result"])
        self.assertEqual(len({(s["project"], s["logStoreName"]) for s in full}), 27)
        for s in full:
            self.assertEqual([k for k in s if k not in ("tags", "index")],
                             list(emu.LOGSTORE_FIELDS[:8]))
            for k in ("retention", "shardCount", "hotRetention"):
                self.assertTrue(emu._is_int(s[k]), (s, k))
            self.assertEqual(s["enableHotRetention"], s["hotRetention"] > 0)
            self.assertLessEqual(s["creationDateTime"], s["lastModifiedTime"])
            for t in s.get("tags", []):
                self.assertEqual(list(t), ["tagKey", "tagValue"])
        self.assertTrue(any("tags" not in s for s in full))
        self.assertTrue(any("index" not in s for s in full))
        self.assertTrue(any(s.get("tags") == [] for s in full))
        self.assertIsInstance(next(s for s in full if "index" in s)["index"], dict)
        # paging by 7: four pages make up the list, the fifth is empty
        got = []
        for pno in range(1, 6):
            p = self.stores({"pageNo": pno, "pageSize": 7})
            self.assertEqual((p["pageNo"], p["pageSize"], p["totalCount"]), (pno, 7, 27))
            got.extend(p["result"])
        self.assertEqual(got, full)
        # sorting: by bytes, ties by name then project; asc the exact reverse of desc
        for ob in ("creationDateTime", "lastModifiedTime", "name"):
            asc = self.stores({"orderBy": ob, "order": "asc", "pageSize": 100})["result"]
            desc = self.stores({"orderBy": ob, "order": "desc", "pageSize": 100})["result"]
            self.assertEqual(asc, desc[::-1], ob)
            keys = [(s["logStoreName"].encode(), s["project"].encode()) for s in asc]
            if ob != "name":
                keys = [(s[ob],) + k for s, k in zip(asc, keys)]
            self.assertEqual(keys, sorted(keys), ob)
        asc = self.stores({"orderBy": "name", "order": "asc", "pageSize": 100})["result"]
        self.assertEqual(asc[0]["logStoreName"], "CDN-Edge")
        self.assertEqual([s["project"] for s in asc if s["logStoreName"] == "app-log"],
                         ["analytics", "default", "staging", "数据平台"])
        asc = self.stores({"order": "asc", "pageSize": 100})["result"]
        pairs = [(s["project"], s["logStoreName"]) for s in asc]
        self.assertEqual(pairs.index(("analytics", "app-log")) + 1,
                         pairs.index(("default", "app-log")))  # same creationDateTime
        # filters
        r = self.stores({"project": "staging", "orderBy": "name", "order": "asc"})
        self.assertEqual([s["logStoreName"] for s in r["result"]],
                         ["app-log", "nginx-access", "test_store"])
        self.assertEqual(self.stores({"project": "sandbox"})["totalCount"], 0)
        self.assertEqual(self.stores({"project": "no-such"})["result"], [])
        self.assertEqual(self.stores({"project": "Staging"})["totalCount"], 0)  # exact
        r = self.stores({"namePattern": "NGINX", "pageSize": 100})
        self.assertEqual(r["totalCount"], 6)
        self.assertTrue(all("nginx" in s["logStoreName"] for s in r["result"]))
        r = self.stores({"namePattern": "审计", "project": "数据平台"})
        self.assertEqual([(s["project"], s["logStoreName"]) for s in r["result"]],
                         [("数据平台", "审计日志")])
        self.assertEqual(self.stores({"namePattern": "ÉVÉN"})["totalCount"], 1)
        self.assertEqual(self.stores({"namePattern": "", "project": ""})["totalCount"], 27)
        # the query string's parameter order does not matter
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH,
                                      query="pageSize=2&project=staging&order=asc")
        self.assertEqual((status, len(json.loads(payload)["result"])), (200, 2))
        # page size cap; the project used when none is given
        self.ctl("config", '{"max_page_size":4,"logstore_default_project":"default"}')
        r = self.stores({"pageSize": 100})
        self.assertEqual((r["pageSize"], r["totalCount"]), (4, 6))
        self.assertEqual(self.stores({"project": "staging"})["totalCount"], 3)

    def test_list_log_store_errors(self):
        for params in ({"pageNo": "0"}, {"pageSize": "abc"}, {"pageSize": "1.5"},
                       {"pageSize": "+5"}, {"pageSize": ""}, {"pageNo": "٣"},
                       {"orderBy": "createdTime"}, {"orderBy": "creationdatetime"},
                       {"order": "up"}, {"order": ""}):
            self.error(400, "InvalidParameter", "GET", emu.LOGSTORE_PATH, query=qs(params))
        self.error(400, "InvalidParameter", "GET", emu.LOGSTORE_PATH,
                   query="project=staging&project=default")
        self.error(404, "NotFound", "POST", emu.LOGSTORE_PATH, body={})
        # (/v1/logstore/{name}/logrecord is QueryLogRecord: LogRecordTest)
        self.error(404, "NotFound", "GET", emu.LOGSTORE_PATH + "/app-log/logrecords")

    def test_query_signature(self):
        """The query string is signed: a changed one is rejected."""
        q = qs({"project": "staging", "namePattern": "app"})
        self.assertEqual(self.api("GET", emu.LOGSTORE_PATH, query=q)[0], 200)
        for sent, signed in (
                (qs({"project": "default", "namePattern": "app"}), q),   # tampered value
                (q + "&pageSize=100", q),                                 # added parameter
                (qs({"project": "staging"}), q),                          # dropped parameter
                (q, "")):                                                 # query not signed
            doc = self.error(401, "Unauthorized", "GET", emu.LOGSTORE_PATH, query=sent,
                             sign_query=signed)
            self.assertEqual(doc["message"], "signature does not match")
        # ... also for DescribeLogStore, whose project is in the query
        path = emu.LOGSTORE_PATH + "/app-log"
        self.assertEqual(self.api("GET", path, query="project=staging")[0], 200)
        self.error(401, "Unauthorized", "GET", path, query="project=analytics",
                   sign_query="project=staging")
        # what is signed is the decoded query, whatever the client's percent-encoding
        self.assertEqual(self.api("GET", emu.LOGSTORE_PATH, query="namePattern=app%2A",
                                  sign_query="namePattern=app*")[0], 200)
        q = "namePattern=%E5%AE%A1%E8%AE%A1&project=%E6%95%B0%E6%8D%AE%E5%B9%B3%E5%8F%B0"
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH, query=q)
        self.assertEqual((status, json.loads(payload)["totalCount"]), (200, 1))
        # unsigned
        c = self.conn()
        c.request("GET", emu.LOGSTORE_PATH, headers={"Host": "127.0.0.1:%d" % self.port})
        r = c.getresponse()
        self.assertEqual((r.status, json.loads(r.read())["code"]), (401, "Unauthorized"))
        c.close()

    # -- DescribeLogStore -----------------------------------------------------
    def test_describe_log_store(self):
        full = self.stores({"pageSize": 100})["result"]
        for s in (full[0], full[-1], next(x for x in full if x["project"] == "数据平台"
                                           and x["logStoreName"] == "etl-任务日志")):
            path = emu.LOGSTORE_PATH + "/" + urllib.parse.quote(s["logStoreName"], safe="")
            status, r, payload = self.api("GET", path, query=qs({"project": s["project"]}))
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(payload), s)
        # without project: the default project
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH + "/k8s-events")
        self.assertEqual((status, json.loads(payload)["project"]), (200, "default"))
        for name, query in (("k8s-events", "project=staging"), ("nope", ""),
                            ("Nginx-Access-Legacy", "project=default"),
                            ("nginx-access", "project=nope"),
                            ("a%2Fb", "")):
            doc = self.error(404, "LogStoreNotFound", "GET",
                             emu.LOGSTORE_PATH + "/" + name, query=query)
            self.assertIn(urllib.parse.unquote(name), doc["message"])
        self.error(404, "NotFound", "DELETE", emu.LOGSTORE_PATH + "/k8s-events")
        self.error(401, "Unauthorized", "GET", emu.LOGSTORE_PATH + "/k8s-events", sk="bad")

    # -- data consistency ----------------------------------------------------
    def test_catalog_matches_tasks(self):
        text = self.ctl("tasks").stdout
        # the task data of --tasks 1000 --seed 42 is what it always was
        self.assertEqual(hashlib.sha256(text.encode()).hexdigest(),
                         "5e0884145e59356a4ec962ed7f7bb6fa478c8968e99f8456375c5de8acac9061")
        tasks = [json.loads(x) for x in text.splitlines()]
        projects = [json.loads(x) for x in self.ctl("projects").stdout.splitlines()]
        stores = [json.loads(x) for x in self.ctl("logstores").stdout.splitlines()]
        self.assertEqual((len(projects), len(stores)), (8, 27))
        catalog = {(s["project"], s["logStoreName"]) for s in stores}
        referenced = {(t["project"], t["logStoreName"]) for t in tasks}
        self.assertTrue({t["project"] for t in tasks} <= {p["name"] for p in projects})
        self.assertEqual(referenced - catalog, set(emu.MISSING_LOG_STORES))
        self.assertEqual(referenced - catalog, {("default", "Nginx-Access-Legacy")})
        legacy = [t for t in tasks if t["logStoreName"] == "Nginx-Access-Legacy"]
        self.assertEqual(len(legacy), 49)
        self.assertEqual(sum(t["failedCode"] == "LogStoreNotFound" for t in legacy), 3)
        for p in projects:
            self.assertEqual(p["logStoreCount"],
                             sum(s["project"] == p["name"] for s in stores))
        # the served lists agree with the control API
        self.assertEqual(sorted(map(json.dumps, projects)),
                         sorted(map(json.dumps, self.projects()["projects"])))
        self.assertEqual(sorted(map(json.dumps, stores)), sorted(map(json.dumps, self.stores(
            {"pageSize": 100})["result"])))

    # -- configs: the other readings of the API -----------------------------
    def test_project_default_beside_only(self):
        self.ctl("config", json.dumps({"project_default_listed": False}))
        r = self.projects()
        self.assertEqual(r["default"]["name"], "default")
        self.assertEqual(r["total"], 7)
        self.assertNotIn("default", [p["name"] for p in r["projects"]])
        self.assertEqual(len(r["projects"]), 7)
        self.ctl("config", json.dumps({"project_default_listed": "no"}), check=False)

    def test_logstore_project_substring(self):
        self.ctl("config", json.dumps({"logstore_project_match": "substring"}))
        r = self.stores({"project": "prod"})
        self.assertEqual({s["project"] for s in r["result"]}, {"prod-web"})
        self.assertEqual(r["totalCount"], 5)
        r = self.stores({"project": "a", "pageSize": "100"})
        self.assertEqual({s["project"] for s in r["result"]},
                         {"default", "analytics", "staging"})
        self.ctl("config", json.dumps({"logstore_project_match": "exact"}))
        self.assertEqual(self.stores({"project": "prod"})["totalCount"], 0)

    def test_page_size_fault(self):
        self.ctl("fault", json.dumps({"type": "page_size", "value": 10, "call": "ListLogStore"}))
        r = self.stores({"pageSize": "3"})
        self.assertEqual((r["pageSize"], len(r["result"])), (10, 3))
        self.ctl("fault", json.dumps({"type": "page_size", "call": "ListProject"}))
        r = self.projects({"pageSize": 2})
        self.assertEqual((r["pageSize"], len(r["projects"])), (1000, 2))
        self.assertEqual(self.projects({"pageSize": 2})["pageSize"], 2)

    # -- faults ---------------------------------------------------------------
    def test_catalog_faults(self):
        # a fault naming a call waits for that call
        self.ctl("fault", '{"type":"http","status":503,"call":"ListProject"}')
        self.assertEqual(self.post({})[0], 200)
        self.assertEqual(self.api("GET", emu.LOGSTORE_PATH)[0], 200)
        status, r, payload = self.api("POST", emu.PROJECT_LIST_PATH, body={})
        self.assertEqual((status, json.loads(payload)["code"]), (503, "ServiceUnavailable"))
        self.assertEqual(self.api("POST", emu.PROJECT_LIST_PATH, body={})[0], 200)
        # a fault naming no call is taken by the next call of any kind
        self.ctl("fault", '{"type":"http","status":429,"retry_after":"1"}')
        status, r, _ = self.api("GET", emu.LOGSTORE_PATH)
        self.assertEqual((status, r.getheader("Retry-After")), (429, "1"))
        self.assertEqual(self.post({})[0], 200)
        # ... but not one the call cannot take: insert_head waits for the list call
        self.ctl("fault", '{"type":"insert_head","n":1}')
        self.projects()
        self.stores()
        self.assertEqual(self.page({})["total"], 1001)
        self.ctl("reset")
        # a list of calls; faults keyed by page
        self.ctl("fault", '{"type":"truncated","page":2,'
                          '"call":["ListLogStore","ListProject"]}')
        self.assertEqual(self.post({"pageNo": 2})[0], 200)
        self.stores({"pageNo": 1})
        status, r, payload = self.api("GET", emu.LOGSTORE_PATH, query="pageNo=2")
        self.assertEqual((status, int(r.getheader("Content-Length"))), (200, len(payload)))
        self.assertRaises(ValueError, json.loads, payload)
        self.assertEqual(json.loads(self.ctl("faults").stdout), [])
        # faults that change a successful answer
        self.ctl("fault", '{"type":"wrong_type","call":"ListLogStore"}')
        self.assertEqual({s["retention"] for s in self.stores()["result"]}, {"many"})
        self.ctl("fault", '{"type":"missing_fields","fields":"logStoreCount","index":0,'
                          '"call":"ListProject"}')
        r = self.projects()
        self.assertEqual(["logStoreCount" in p for p in r["projects"]], [False] + [True] * 7)
        self.ctl("fault", '{"type":"missing_result","call":"ListLogStore"}')
        self.assertNotIn("result", self.stores())
        self.ctl("fault", '{"type":"missing_result","call":"ListProject"}')
        status, _, payload = self.api("POST", emu.PROJECT_LIST_PATH, body={})
        self.assertNotIn("result", json.loads(payload))
        plain = self.projects()
        self.ctl("fault", '{"type":"respelled","call":"ListProject"}')
        status, _, payload = self.api("POST", emu.PROJECT_LIST_PATH, body={})
        self.assertEqual(json.loads(payload)["result"], plain)
        self.assertIn(b'"decoy"', payload)
        self.ctl("config", '{"project_total_key":"totalCount"}')
        self.ctl("fault", '{"type":"total","value":99}')
        # DescribeLogStore cannot take "total": it waits for ListProject
        self.assertEqual(self.api("GET", emu.LOGSTORE_PATH + "/k8s-events")[0], 200)
        self.assertEqual(self.projects()["totalCount"], 99)
        self.ctl("fault", '{"type":"invalid_utf8","call":"DescribeLogStore"}')
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH + "/k8s-events")
        self.assertRaises(UnicodeDecodeError, payload.decode, "utf-8")
        self.ctl("fault", '{"type":"oversize","bytes":5000,"call":"DescribeLogStore"}')
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH + "/k8s-events")
        self.assertEqual((len(payload), json.loads(payload)["logStoreName"]),
                         (5000, "k8s-events"))
        # transport faults
        self.ctl("fault", '{"type":"malformed","call":"DescribeLogStore"}')
        status, _, payload = self.api("GET", emu.LOGSTORE_PATH + "/k8s-events")
        self.assertEqual(status, 200)
        self.assertRaises(ValueError, json.loads, payload.decode("utf-8", "replace"))
        self.ctl("fault", '{"type":"success_false","call":"ListProject"}')
        status, _, payload = self.api("POST", emu.PROJECT_LIST_PATH, body={})
        self.assertEqual((status, json.loads(payload)["success"]), (200, False))
        self.ctl("fault", '{"type":"http","status":502,"call":"ListLogStore"}')
        status, r, payload = self.api("GET", emu.LOGSTORE_PATH)
        self.assertEqual((status, r.getheader("Content-Type")), (502, "text/html"))
        self.ctl("fault", '{"type":"delay_body","ms":50,"call":"ListLogStore"}')
        self.assertEqual(self.stores()["totalCount"], 27)
        self.ctl("fault", '{"type":"drop","call":"DescribeLogStore"}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError), self.api,
                          "GET", emu.LOGSTORE_PATH + "/k8s-events")
        # faults naming calls are checked when queued
        for bad in ('{"type":"insert_head","call":"ListProject"}',
                    '{"type":"total","call":"DescribeLogStore"}',
                    '{"type":"http","call":"ListTasks"}', '{"type":"http","call":[]}'):
            self.assertNotEqual(self.ctl("fault", bad, check=False).returncode, 0, bad)
        # the request log: every call, list counters for the list call only
        self.ctl("log-clear")
        self.stores({"project": "staging"})
        self.projects({"pageSize": 2})
        self.page({"pageSize": 1})
        self.assertEqual(self.ctl("requests").stdout.splitlines(), [
            "200 GET /v1/logstore?project=staging",
            '200 POST /v1/project/list {"pageSize":2}',
            '200 POST /v2/logstore/download/list {"pageSize":1}'])
        self.assertEqual(self.ctl("count").stdout, "1\n")


class DownloadTaskTest(unittest.TestCase):
    """CreateDownloadTask, DescribeDownloadTask, GetDownloadTaskLink, DeleteDownloadTask."""

    setUpClass = classmethod(EmulatorTest.setUpClass.__func__)
    tearDownClass = classmethod(EmulatorTest.tearDownClass.__func__)
    proc = None
    ctl = EmulatorTest.ctl
    conn = EmulatorTest.conn
    post = EmulatorTest.post
    page = EmulatorTest.page

    SPAN = {"queryStartTime": "2024-11-05T07:00:00Z", "queryEndTime": "2024-11-05T08:00:00Z"}

    # -- helpers ------------------------------------------------------------
    def setUp(self):
        self.control("POST", "reset", b"")

    def control(self, method, endpoint, data=None):
        """The control API without a ctl process (they cost 0.1 s each)."""
        return emu._ctl_request("http://127.0.0.1:%d" % self.port, method, endpoint, data)

    def fault(self, js, ok=True):
        try:
            self.control("POST", "faults", js.encode())
        except urllib.error.HTTPError as e:
            self.assertFalse(ok, "fault %s: HTTP %d" % (js, e.code))
            return
        self.assertTrue(ok, "fault %s accepted" % js)

    def config(self, js, ok=True):
        try:
            self.control("POST", "config", js.encode())
        except urllib.error.HTTPError as e:
            self.assertFalse(ok, "config %s: HTTP %d" % (js, e.code))
            return
        self.assertTrue(ok, "config %s accepted" % js)

    def advance(self, ms):
        self.control("POST", "advance", json.dumps({"ms": ms}).encode())

    def req(self, method, path, body=None, sk=SK, sign_path=None, conn=None, timeout=10):
        headers = {"Host": "127.0.0.1:%d" % self.port}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json;charset=utf-8"
            headers["Content-Length"] = str(len(data))
        raw, _, query = path.partition("?")
        headers = emu.sign_request(AK, sk, method, sign_path or raw, headers, query=query)
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        c.request(method, path, data, headers)
        r = c.getresponse()
        payload = r.read()
        if conn is None:
            c.close()
        return r.status, r, payload

    def create(self, name="dl", **fields):
        body = dict(self.SPAN, name=name, logStoreName="app-log")
        body.update(fields)
        status, _, payload = self.req("POST", emu.DOWNLOAD_PATH, body)
        self.assertEqual(status, 200, payload)
        doc = json.loads(payload)
        self.assertEqual(sorted(doc), ["code", "message", "result", "success"])
        self.assertEqual((doc["success"], doc["code"], doc["message"]), (True, "OK", ""))
        self.assertEqual(list(doc["result"]), ["uuid"])
        return doc["result"]["uuid"]

    def path(self, uid, link=False):
        return (emu.DOWNLOAD_LINK_PREFIX if link else emu.DOWNLOAD_PATH + "/") + \
            urllib.parse.quote(uid, safe="")

    def describe(self, uid):
        status, _, payload = self.req("GET", self.path(uid))
        self.assertEqual(status, 200, payload)
        doc = json.loads(payload)
        self.assertEqual((doc["success"], doc["code"], list(doc["result"])),
                         (True, "OK", ["task"]))
        self.assertEqual(list(doc["result"]["task"]), list(emu.TASK_FIELDS))
        return doc["result"]["task"]

    def error(self, method, path, body=None, **kw):
        """-> (status, code) of an error answer, checking the error body."""
        status, r, payload = self.req(method, path, body, **kw)
        doc = json.loads(payload)
        self.assertEqual(sorted(doc), ["code", "message", "requestId"], payload)
        self.assertEqual(doc["requestId"], r.getheader("x-bce-request-id"))
        return status, doc["code"]

    def count(self, name):
        return json.loads(self.control("GET", "tasks/count?name=" +
                                       urllib.parse.quote(name, safe="")))["count"]

    def slow_lifecycle(self):
        self.config('{"task_waiting_ms":60000,"task_running_ms":60000}')

    # -- create, describe, list ---------------------------------------------
    def test_create_describe(self):
        self.slow_lifecycle()
        before = emu.fmt_time(int(time.time()))
        body = {"name": "dl-full", "project": "prod-web", "logStoreName": "nginx-access",
                "logStreamName": "host-01", "query": "status:500", "format": "csv",
                "limit": 500, "order": "asc", "fileDir": "bucket/日志/",
                "unknownField": [1]}
        body.update(self.SPAN)
        uid = self.create(**body)
        after = emu.fmt_time(int(time.time()) + 1)
        t = self.describe(uid)
        for k in ("name", "project", "logStoreName", "logStreamName", "query", "format",
                  "limit", "order", "fileDir", "queryStartTime", "queryEndTime"):
            self.assertEqual(t[k], body[k], k)
        self.assertEqual((t["uuid"], t["state"], t["writtenRows"], t["fileName"],
                          t["execStartTime"], t["execEndTime"], t["failedCode"],
                          t["failedMessage"]), (uid, "WAITING", 0, "", "", "", "", ""))
        self.assertTrue(before <= t["createdTime"] <= after, t["createdTime"])
        self.assertEqual(t["updatedTime"], t["createdTime"])
        # at the head of the list, the same task as described
        r = self.page({"pageSize": 3})
        self.assertEqual((r["total"], r["tasks"][0]), (1001, t))
        r = self.page({"project": "prod-web", "logStoreName": "NGINX", "pageSize": 1})
        self.assertEqual(r["tasks"][0]["uuid"], uid)
        # defaults
        uid2 = self.create(name=None, logStoreName="app-log", project="", query="")
        t2 = self.describe(uid2)
        self.assertEqual({k: t2[k] for k in ("name", "project", "logStreamName", "query",
                                             "format", "limit", "order", "fileDir")},
                         {"name": "", "project": "default", "logStreamName": "",
                          "query": "match *", "format": "json", "limit": 1000000,
                          "order": "desc", "fileDir": ""})
        self.assertEqual([t["uuid"] for t in self.page({"pageSize": 2})["tasks"]],
                         [uid2, uid])
        lines = self.control("GET", "tasks").splitlines()
        self.assertEqual((len(lines), json.loads(lines[0])["uuid"]), (1002, uid2))
        # the n-th task created after a reset always gets the same uuid
        self.setUp()
        self.assertEqual(self.create(name="again"), uid)
        self.assertEqual(self.page({})["total"], 1001)
        # unknown uuid; a generated task describes as listed
        self.assertEqual(self.error("GET", self.path("no-such-task")),
                         (404, "DownloadTaskNotFound"))
        gen = self.page({"pageNo": 7, "pageSize": 10})["tasks"][3]
        self.assertEqual(self.describe(gen["uuid"]), gen)

    def test_uuid_by_name(self):
        # the uuid follows the name (and its repeats), not the order of arrival
        self.slow_lifecycle()
        self.config('{"uuid_by_name": true}')
        a1, b1, a2 = self.create(name="a"), self.create(name="b"), self.create(name="a")
        self.assertEqual(len({a1, b1, a2}), 3)
        self.setUp()
        self.config('{"uuid_by_name": true}')
        self.assertEqual((self.create(name="b"), self.create(name="a"), self.create(name="a")),
                         (b1, a1, a2))
        self.assertEqual(self.describe(b1)["name"], "b")
        # off by default: by order again
        self.setUp()
        self.assertNotEqual(self.create(name="a"), a1)
        self.config('{"uuid_by_name": 1}', ok=False)

    def test_create_validation(self):
        ok = dict(self.SPAN, logStoreName="app-log")
        bad = [
            {k: v for k, v in ok.items() if k != "logStoreName"},
            dict(ok, logStoreName=""), dict(ok, logStoreName=5),
            {k: v for k, v in ok.items() if k != "queryStartTime"},
            {k: v for k, v in ok.items() if k != "queryEndTime"},
            dict(ok, queryStartTime="2024-11-05 07:00:00"),
            dict(ok, queryStartTime="2024-13-05T07:00:00Z"),
            dict(ok, queryEndTime="2024-11-05T08:00:00+08:00"),
            dict(ok, queryEndTime="2024-11-05T08:00:00.5Z"),
            dict(ok, queryStartTime=1730790000),
            dict(ok, queryStartTime="2024-11-05T08:00:01Z"),  # after the end
            dict(ok, format="xml"), dict(ok, format="JSON"),
            dict(ok, limit=0), dict(ok, limit=1000001), dict(ok, limit="10"),
            dict(ok, limit=True), dict(ok, limit=10.5),
            dict(ok, order="up"), dict(ok, name=5), dict(ok, project=[]),
            dict(ok, query=1), dict(ok, fileDir={}), dict(ok, logStreamName=False),
        ]
        for body in bad:
            self.assertEqual(self.error("POST", emu.DOWNLOAD_PATH, body),
                             (400, "InvalidParameter"), body)
        for raw in (b"{nope", b"[1]", b"", b'"s"', b"\xff{}"):
            self.assertEqual(self.error("POST", emu.DOWNLOAD_PATH, raw),
                             (400, "MalformedJSON"), raw)
        self.assertEqual(self.page({})["total"], 1000)
        stats = json.loads(self.control("GET", "stats"))
        self.assertEqual((stats["downloads"]["tasks_created"],
                          stats["calls"]["CreateDownloadTask"]), (0, len(bad) + 5))
        # the edges are accepted
        for body in (dict(ok, queryEndTime=ok["queryStartTime"]), dict(ok, limit=1),
                     dict(ok, limit=1000000), dict(ok, format="csv", order="asc")):
            status, _, payload = self.req("POST", emu.DOWNLOAD_PATH, body)
            self.assertEqual(status, 200, payload)
        # other methods and paths are not these calls
        for method, path in (("GET", emu.DOWNLOAD_PATH), ("PUT", emu.DOWNLOAD_PATH + "/x"),
                             ("DELETE", emu.DOWNLOAD_LINK_PREFIX + "x"),
                             ("GET", emu.DOWNLOAD_PATH + "/x/y"),
                             ("GET", emu.DOWNLOAD_PATH + "/")):
            self.assertEqual(self.error(method, path), (404, "NotFound"), (method, path))

    # -- delete -------------------------------------------------------------
    def test_delete(self):
        uid = self.create(name="to-delete")
        c = self.conn()
        status, r, payload = self.req("DELETE", self.path(uid), conn=c)
        self.assertEqual((status, payload), (204, b""))
        self.assertTrue(r.getheader("x-bce-request-id"))
        # the connection stays usable after the 204
        status, _, payload = self.req("GET", self.path(uid), conn=c)
        self.assertEqual((status, json.loads(payload)["code"]), (404, "DownloadTaskNotFound"))
        c.close()
        self.assertEqual(self.error("DELETE", self.path(uid)), (404, "DownloadTaskNotFound"))
        self.assertEqual(self.error("GET", self.path(uid, link=True)),
                         (404, "DownloadTaskNotFound"))
        self.assertEqual(self.count("to-delete"), 0)
        r = self.page({"pageSize": 1000})
        self.assertEqual(r["total"], 1000)
        self.assertNotIn(uid, [t["uuid"] for t in r["tasks"]])
        # a generated task, too; reset brings it back
        first = r["tasks"][0]
        self.assertEqual(self.req("DELETE", self.path(first["uuid"]))[0], 204)
        r = self.page({"pageSize": 1000})
        self.assertEqual((r["total"], r["tasks"][0]["uuid"] != first["uuid"]), (999, True))
        self.assertEqual(len(self.control("GET", "tasks").splitlines()), 999)
        for ob in ("updatedTime", "name"):
            self.assertNotIn(first["uuid"], [t["uuid"] for t in self.page(
                {"orderBy": ob, "pageSize": 1000})["tasks"]])
        self.setUp()
        self.assertEqual(self.describe(first["uuid"]), first)
        # delete_status 200: a body
        self.config('{"delete_status":200}')
        uid = self.create()
        status, _, payload = self.req("DELETE", self.path(uid))
        self.assertEqual((status, json.loads(payload)),
                         (200, {"success": True, "code": "OK", "message": ""}))

    def test_conn_calls(self):
        # which requests shared a keep-alive connection
        uid = self.create(name="conns")
        c = self.conn()
        self.req("DELETE", self.path(uid), conn=c)
        self.req("GET", self.path(uid), conn=c)
        c.close()
        self.req("DELETE", self.path(uid))
        self.assertEqual(self.ctl("conn-calls").stdout.splitlines(), [
            "c1 200 POST CreateDownloadTask", "c2 204 DELETE DeleteDownloadTask",
            "c2 404 GET DescribeDownloadTask", "c3 404 DELETE DeleteDownloadTask"])

    # -- lifecycle ----------------------------------------------------------
    def test_lifecycle(self):
        cfg = json.loads(self.control("GET", "stats"))["config"]
        self.assertEqual((cfg["task_waiting_ms"], cfg["task_running_ms"],
                          cfg["task_expire_ms"], cfg["task_fail"], cfg["delete_status"]),
                         (300, 300, None, False, 204))
        self.config('{"task_waiting_ms":60000,"task_running_ms":60000,'
                 '"task_rows":300}')
        uid = self.create(name=" life ", limit=500)
        t = self.describe(uid)
        ct = emu.parse_timestamp(t["createdTime"])
        self.assertEqual(t["state"], "WAITING")
        self.assertEqual(self.ctl("task-count", " life ").stdout, "1\n")
        self.assertEqual(self.error("GET", self.path(uid, link=True)),
                         (400, "DownloadTaskNotReady"))
        self.assertEqual(self.ctl("advance", "60000").stdout, "")
        t = self.describe(uid)
        self.assertEqual((t["state"], t["execStartTime"], t["updatedTime"], t["execEndTime"],
                          t["writtenRows"], t["fileName"]),
                         ("RUNNING", emu.fmt_time(ct + 60), emu.fmt_time(ct + 60), "", 0, ""))
        self.assertEqual(self.page({"orderBy": "updatedTime", "pageSize": 1})["tasks"], [t])
        self.assertEqual(self.error("GET", self.path(uid, link=True)),
                         (400, "DownloadTaskNotReady"))
        self.advance(60000)
        t = self.describe(uid)
        self.assertEqual((t["state"], t["execStartTime"], t["execEndTime"], t["updatedTime"],
                          t["writtenRows"], t["fileName"], t["failedCode"]),
                         ("SUCCESS", emu.fmt_time(ct + 60), emu.fmt_time(ct + 120),
                          emu.fmt_time(ct + 120), 300, "life_json_%s.json" % uid, ""))
        self.assertEqual(self.page({"pageSize": 1})["tasks"], [t])
        status, _, payload = self.req("GET", self.path(uid, link=True))
        self.assertEqual(status, 200, payload)
        doc = json.loads(payload)
        self.assertEqual((doc["success"], doc["code"], list(doc["result"])),
                         (True, "OK", ["fileDir", "fileName", "link"]))
        res = doc["result"]
        self.assertEqual((res["fileDir"], res["fileName"]), ("", t["fileName"]))
        self.assertTrue(res["link"].startswith("https://"), res["link"])
        self.assertIn(t["fileName"], res["link"])
        # a fileDir shows in the link; limit caps writtenRows
        self.config('{"task_waiting_ms":0,"task_running_ms":0}')
        uid = self.create(name="dir", fileDir="my-bucket/dl/", limit=7, format="csv")
        t = self.describe(uid)
        self.assertEqual((t["state"], t["writtenRows"]), ("SUCCESS", 7))
        res = json.loads(self.req("GET", self.path(uid, link=True))[2])["result"]
        self.assertEqual(res["fileDir"], "my-bucket/dl/")
        self.assertIn("/my-bucket/dl/dir_csv_", res["link"])
        # FAILED: the query marker, or task_fail
        for name, query, fail in (("m", "match * __fail__", False), ("c", "match *", True)):
            self.config('{"task_fail":%s}' % json.dumps(fail))
            uid = self.create(name=name, query=query)
            t = self.describe(uid)
            self.assertEqual((t["state"], t["failedCode"], t["writtenRows"], t["fileName"]),
                             ("FAILED", "QueryTimeout", 0, ""))
            self.assertTrue(t["failedMessage"] and t["execEndTime"])
            self.assertEqual(self.error("GET", self.path(uid, link=True)),
                             (400, "DownloadTaskFailed"))
        # EXPIRED
        self.config('{"task_fail":false,"task_expire_ms":60000}')
        uid = self.create(name="exp")
        self.assertEqual(self.describe(uid)["state"], "SUCCESS")
        self.advance(60000)
        t = self.describe(uid)
        self.assertEqual((t["state"], t["updatedTime"] > t["execEndTime"]), ("EXPIRED", True))
        self.assertEqual(self.error("GET", self.path(uid, link=True)),
                         (400, "DownloadTaskExpired"))
        # generated tasks: the link follows their state
        tasks = [json.loads(x) for x in self.control("GET", "tasks").splitlines()]
        for state, want in (("SUCCESS", 200), ("EXPIRED", 400), ("RUNNING", 400),
                            ("WAITING", 400), ("FAILED", 400)):
            g = next(t for t in tasks if t["state"] == state and
                     not t["name"].startswith(("m", "c", "exp", "dir", " life")))
            status, _, payload = self.req("GET", self.path(g["uuid"], link=True))
            self.assertEqual(status, want, (state, payload))
            if want == 200:
                self.assertEqual(json.loads(payload)["result"]["fileName"], g["fileName"])
        # config values are checked
        for bad in ('{"task_waiting_ms":-1}', '{"task_rows":"5"}', '{"task_fail":1}',
                    '{"task_expire_ms":1.5}', '{"delete_status":201}'):
            self.config(bad, ok=False)

    def test_lifecycle_real_time(self):
        # the default 300 + 300 ms, on the real clock: no timed assertion, only
        # the order of the states seen
        uid = self.create(name="rt")
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            st = self.describe(uid)["state"]
            if not seen or seen[-1] != st:
                seen.append(st)
            if st == "SUCCESS":
                break
            time.sleep(0.05)
        self.assertEqual(seen[-1], "SUCCESS")
        order = ["WAITING", "RUNNING", "SUCCESS"]
        self.assertEqual(seen, [s for s in order if s in seen])

    # -- signing --------------------------------------------------------------
    def test_download_auth(self):
        uid = self.create(name="auth")
        for method, path, body in (("POST", emu.DOWNLOAD_PATH, dict(self.SPAN,
                                                                    logStoreName="x")),
                                   ("GET", self.path(uid), None),
                                   ("GET", self.path(uid, link=True), None),
                                   ("DELETE", self.path(uid), None)):
            self.assertEqual(self.error(method, path, body, sk="wrong"),
                             (401, "Unauthorized"), method)
        self.assertEqual(self.count("auth"), 1)  # neither created nor deleted
        self.assertEqual(self.page({})["total"], 1001)
        # signed for another task's path
        self.assertEqual(self.error("GET", self.path(uid), sign_path=self.path("other")),
                         (401, "Unauthorized"))
        # a uuid percent-encoded other ways decodes to the same task
        odd = "".join("%%%02x" % ord(ch) for ch in uid)
        self.assertEqual(self.req("GET", emu.DOWNLOAD_PATH + "/" + odd)[0], 200)
        # a uuid with reserved and non-ASCII characters: signed over the decoded path
        # UriEncoded with '/' kept, it passes (then is not found)
        weird = "a b/é%+*"
        path = self.path(weird)
        self.assertEqual(emu.canonical_uri(path),
                         emu.DOWNLOAD_PATH + "/a%20b/%C3%A9%25%2B%2A")
        self.assertEqual(self.error("GET", path), (404, "DownloadTaskNotFound"))
        self.assertEqual(self.error("DELETE", path), (404, "DownloadTaskNotFound"))
        self.assertEqual(self.error("GET", self.path(weird, link=True)),
                         (404, "DownloadTaskNotFound"))
        log = [e for e in json.loads(self.control("GET", "log")) if e.get("call")]
        self.assertEqual(log[-1]["uuid"], weird)
        # signing the encoded path as it is (not decoded first) fails
        self.assertEqual(self.error("GET", path, sign_path=emu.uri_encode(path, True)),
                         (401, "Unauthorized"))
        # '/' kept or escaped in the request line is the same path ...
        self.assertEqual(self.error("DELETE", path, sign_path=path.replace("%2F", "/")),
                         (404, "DownloadTaskNotFound"))
        # ... but the canonical URI keeps it: UriEncoding it as %2F fails
        with unittest.mock.patch.object(emu, "canonical_uri", lambda p: emu.uri_encode(
                urllib.parse.unquote(p))):
            self.assertEqual(self.error("DELETE", path), (401, "Unauthorized"))
        # the query string is signed too
        self.assertEqual(self.req("GET", self.path(uid) + "?x=1&a=%20")[0], 200)

    # -- faults -------------------------------------------------------------
    def test_create_faults(self):
        # a fault without "call" is for the list only, as before
        self.fault('{"type":"http","status":500}')
        self.create(name="nofault")
        self.assertEqual(self.post({})[0], 500)
        cases = [
            # fault, status, tasks created
            ('{"type":"http","call":"create","status":429,"retry_after":"3"}', 429, 0),
            ('{"type":"http","call":"create","status":503}', 503, 0),
            ('{"type":"http","call":"create","status":400,"code":"InvalidParameter"}',
             400, 0),
            ('{"type":"http","call":"create","status":500}', 500, 1),
            ('{"type":"http","call":"create","status":500,"created":false}', 500, 0),
            ('{"type":"create_500","created":false}', 500, 0),
            ('{"type":"create_500"}', 500, 1),
            ('{"type":"http","call":"create","status":502}', 502, 1),
            ('{"type":"http","call":"create","status":504,"created":false}', 504, 0),
            ('{"type":"success_false","call":"create"}', 200, 0),
            ('{"type":"create_accept_then_drop"}', 0, 1),
            ('{"type":"drop","call":"create","created":false}', 0, 0),
            ('{"type":"malformed","call":"create"}', 200, 1),
            ('{"type":"empty","call":"create","created":false}', 200, 0),
            ('{"type":"delay_headers","call":"create","ms":50}', 200, 1),
            ('{"type":"truncated","call":"create"}', 200, 1),
            ('{"type":"extra_fields","call":"create"}', 200, 1),
        ]
        for i, (fault, want, created) in enumerate(cases):
            name = "f%d" % i
            self.fault(fault)
            body = dict(self.SPAN, name=name, logStoreName="app-log")
            if want == 0:
                self.assertRaises((http.client.RemoteDisconnected, ConnectionError),
                                  self.req, "POST", emu.DOWNLOAD_PATH, body)
            else:
                status, r, payload = self.req("POST", emu.DOWNLOAD_PATH, body)
                self.assertEqual(status, want, (fault, payload))
                if "retry_after" in fault:
                    self.assertEqual(r.getheader("Retry-After"), "3")
                if want in (502, 504):
                    self.assertTrue(payload.startswith(b"<html>"))
                elif want >= 400:
                    self.assertEqual(json.loads(payload)["code"], {
                        429: "RequestLimited", 503: "ServiceUnavailable",
                        400: "InvalidParameter", 500: "InternalError"}[want])
                elif "success_false" in fault:
                    self.assertFalse(json.loads(payload)["success"])
                elif "malformed" in fault or "truncated" in fault:
                    self.assertRaises(ValueError, json.loads, payload)
                elif "empty" in fault:
                    self.assertEqual(payload, b"")
                elif "extra_fields" in fault:
                    doc = json.loads(payload)
                    self.assertEqual(doc["extraTop"], "ignored")
                    self.assertEqual(self.describe(doc["result"]["uuid"])["name"], name)
            self.assertEqual(self.count(name), created, fault)
            self.assertEqual(self.req("POST", emu.DOWNLOAD_PATH, dict(body, name="x"))[0],
                             200, "fault %s consumed" % fault)
        # an invalid create is not created even by an accepting fault
        self.fault('{"type":"http","call":"create","status":500,"created":true}')
        self.assertEqual(self.req("POST", emu.DOWNLOAD_PATH, {"name": "inv"})[0], 500)
        self.assertEqual(self.count("inv"), 0)
        # count and skip
        self.fault('{"type":"http","call":"create","status":503,"skip":1,"count":2}')
        got = [self.req("POST", emu.DOWNLOAD_PATH, dict(self.SPAN, name="cs",
                                                      logStoreName="a"))[0]
               for _ in range(4)]
        self.assertEqual((got, self.count("cs")), ([200, 503, 503, 200], 2))
        # the request log has the calls
        self.control("POST", "log/clear", b"")
        self.fault('{"type":"http","call":"create","status":503}')
        self.req("POST", emu.DOWNLOAD_PATH, dict(self.SPAN, name="lg", logStoreName="a"))
        uid = self.create(name="lg")
        self.req("GET", self.path(uid))
        self.req("DELETE", self.path(uid))
        lines = self.ctl("calls").stdout.splitlines()
        self.assertEqual([x.split(" ", 2)[:2] for x in lines],
                         [["503", "CreateDownloadTask"], ["200", "CreateDownloadTask"],
                          ["200", "DescribeDownloadTask"], ["204", "DeleteDownloadTask"]])
        self.assertEqual(lines[2], "200 DescribeDownloadTask " + uid)
        self.assertIn('"name":"lg"', lines[0])
        self.assertEqual(self.ctl("calls", "create").stdout.count("\n"), 2)  # an alias
        self.assertEqual(self.ctl("calls", "CreateDownloadTask").stdout.count("\n"), 2)
        self.assertEqual(self.ctl("count").stdout, "0\n")  # list requests only

    def test_fault_validation(self):
        for bad in ('{"type":"http","call":"create","status":429,"created":true}',
                    '{"type":"http","call":"create","status":503,"created":true}',
                    '{"type":"success_false","call":"create","created":true}',
                    '{"type":"http","call":"delete","status":404,"deleted":true}',
                    '{"type":"http","call":"describe","created":false}',
                    '{"type":"http","call":"create","deleted":false}',
                    '{"type":"delay_headers","call":"create","created":false}',
                    '{"type":"drop","call":"create","created":"yes"}',
                    '{"type":"wrong_type","call":"describe"}',
                    '{"type":"http","call":"nothing"}',
                    '{"type":"http","call":"link","page":2}',
                    '{"type":"create_500","call":"delete"}',
                    '{"type":"http","call":"create","status":"500"}',
                    # the unified checks
                    '{"type":"drop","created":false}',          # no call: not create
                    '{"type":"http","call":"CreateDownloadTask","status":600}',
                    '{"type":"delay_headers","call":"describe","ms":1.5}',
                    '{"type":"ignore_page_no","call":"link"}',
                    '{"type":"create_accept_then_drop","call":["create","delete"]}',
                    '{"type":"http","call":["describe","DescribeLogStore"],"page":1}',
                    '{"type":"http","call":["create","Create"]}'):
            self.fault(bad, ok=False)
        self.fault('{"type":"http","call":"link","status":409}')
        self.fault('{"type":"http","status":500,"call":"list"}')
        self.fault('{"type":"create_500"}')
        self.fault('{"type":"truncated","call":["delete","ListProject","delete"]}')
        self.fault('{"type":"http","status":502}')
        # stored by API name, in the order queued
        faults = json.loads(self.control("GET", "faults"))
        self.assertEqual([(f["type"], f.get("call")) for f in faults], [
            ("http", ["GetDownloadTaskLink"]), ("http", ["ListDownloadTask"]),
            ("http", ["CreateDownloadTask"]),
            ("truncated", ["DeleteDownloadTask", "ListProject"]), ("http", None)])
        self.assertEqual(faults[2]["status"], 500)
        stats = json.loads(self.control("GET", "stats"))
        self.assertEqual((stats["pending_faults"], stats["downloads"]["pending_faults"]),
                         (5, 3))

    def test_other_call_faults(self):
        uid = self.create(name="o")
        p, lp = self.path(uid), self.path(uid, link=True)
        self.fault('{"type":"http","call":"describe","status":500}')
        self.assertEqual(self.error("GET", p), (500, "InternalError"))
        self.assertEqual(self.describe(uid)["uuid"], uid)
        self.fault('{"type":"success_false","call":"describe","code":"X"}')
        self.assertEqual(json.loads(self.req("GET", p)[2])["code"], "X")
        self.fault('{"type":"extra_fields","call":"describe"}')
        t = json.loads(self.req("GET", p)[2])["result"]["task"]
        self.assertEqual((t["uuid"], t["extraString"]), (uid, "ignored"))
        self.fault('{"type":"drop","call":"describe"}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError),
                          self.req, "GET", p)
        self.fault('{"type":"not_object","call":"describe"}')
        self.assertEqual(self.req("GET", p)[2], b"[1,2,3]")
        self.fault('{"type":"html","call":"describe"}')
        self.assertTrue(self.req("GET", p)[2].startswith(b"<html>"))
        # link: any status the service might use for "not ready"
        self.fault('{"type":"http","call":"link","status":409,"code":"TaskNotDone"}')
        self.assertEqual(self.error("GET", lp), (409, "TaskNotDone"))
        # delete: refused, or failed before/after acting
        self.fault('{"type":"http","call":"delete","status":503}')
        self.assertEqual(self.error("DELETE", p), (503, "ServiceUnavailable"))
        self.assertEqual(self.count("o"), 1)
        self.fault('{"type":"http","call":"delete","status":500,"deleted":false}')
        self.assertEqual(self.error("DELETE", p), (500, "InternalError"))
        self.assertEqual(self.count("o"), 1)
        self.fault('{"type":"drop","call":"delete"}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError),
                          self.req, "DELETE", p)
        self.assertEqual(self.count("o"), 0)
        self.assertEqual(self.error("DELETE", p), (404, "DownloadTaskNotFound"))
        # list faults and list requests are untouched by call faults
        self.fault('{"type":"http","call":"describe","status":500,"count":-1}')
        self.assertEqual(self.page({})["total"], 1000)

    def test_faults_without_call(self):
        # a fault naming no call waits for a call that is not one of the four
        # download-task calls, by whatever name they are called
        self.slow_lifecycle()
        uid = self.create(name="nc")
        self.fault('{"type":"http","status":503,"count":2}')
        self.create(name="nc2")
        self.assertEqual(self.describe(uid)["name"], "nc")
        self.assertEqual(self.error("GET", self.path(uid, link=True)),
                         (400, "DownloadTaskNotReady"))
        self.assertEqual(self.req("DELETE", self.path(uid))[0], 204)
        self.assertEqual(self.post({})[0], 503)
        self.assertEqual(self.req("GET", emu.LOGSTORE_PATH)[0], 503)  # ListLogStore
        self.assertEqual(self.post({})[0], 200)
        # named by API name, by alias, or in a list with other calls
        uid = self.create(name="nc3")
        self.fault('{"type":"http","call":"DescribeDownloadTask","status":500}')
        self.assertEqual(self.post({})[0], 200)
        self.assertEqual(self.error("GET", self.path(uid)), (500, "InternalError"))
        self.fault('{"type":"http","call":["describe","ListDownloadTask"],"status":502,'
                   '"count":2}')
        self.assertEqual(self.post({})[0], 502)
        self.assertEqual(self.req("GET", self.path(uid))[0], 502)
        self.assertEqual(self.describe(uid)["uuid"], uid)
        self.assertEqual(json.loads(self.control("GET", "faults")), [])
        # page: only the list takes it
        self.fault('{"type":"http","status":500,"page":2,"call":["list","create"]}')
        self.create(name="nc4")
        self.assertEqual(self.post({"pageNo": 1})[0], 200)
        self.assertEqual(self.post({"pageNo": 2})[0], 500)
        # the aliases of types default to CreateDownloadTask and act
        self.fault('{"type":"create_500"}')
        self.assertEqual(self.post({})[0], 200)
        self.assertEqual(self.describe(uid)["uuid"], uid)
        self.assertEqual(self.error("POST", emu.DOWNLOAD_PATH,
                                    dict(self.SPAN, name="c5", logStoreName="a")),
                         (500, "InternalError"))
        self.assertEqual(self.count("c5"), 1)
        self.fault('{"type":"create_accept_then_drop","call":"CreateDownloadTask",'
                   '"created":false}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError), self.req,
                          "POST", emu.DOWNLOAD_PATH, dict(self.SPAN, name="c6",
                                                          logStoreName="a"))
        self.assertEqual(self.count("c6"), 0)

    def test_log_and_counters(self):
        # every call in the request log and its counters once; list counters
        # for the list call only
        s0 = json.loads(self.control("GET", "stats"))
        self.page({"pageSize": 1})
        uid = self.create(name="lc")
        self.describe(uid)
        self.assertEqual(self.req("GET", self.path(uid, link=True))[0], 400)
        self.assertEqual(self.req("GET", emu.LOGSTORE_PATH + "?project=staging")[0], 200)
        self.assertEqual(self.req("DELETE", self.path(uid))[0], 204)
        self.page({"pageSize": 2})
        # the emulator records a request just after answering it
        deadline = time.monotonic() + 10
        while True:
            s1 = json.loads(self.control("GET", "stats"))
            if s1["requests"] >= 7 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        names = ["ListDownloadTask", "CreateDownloadTask", "DescribeDownloadTask",
                 "GetDownloadTaskLink", "ListLogStore", "DeleteDownloadTask",
                 "ListDownloadTask"]
        self.assertEqual((s1["requests"],
                          s1["list_requests_total"] - s0["list_requests_total"],
                          s1["requests_total"] - s0["requests_total"], s1["connections"]),
                         (7, 2, 7, 7))
        self.assertEqual({k: v for k, v in s1["calls"].items() if v},
                         {n: names.count(n) for n in names})
        self.assertEqual(set(s1["calls"]), set(emu.CALL_FAULT_TYPES))
        self.assertEqual((s1["downloads"]["tasks_created"], s1["downloads"]["tasks_deleted"]),
                         (1, 1))
        log = json.loads(self.control("GET", "log"))
        self.assertEqual([e["call"] for e in log], names)
        self.assertEqual([e["seq"] for e in log], list(range(1, 8)))
        self.assertEqual(self.ctl("count").stdout, "2\n")
        self.assertEqual(self.ctl("log").stdout.splitlines(),
                         ['200 {"pageSize":1}', '200 {"pageSize":2}'])
        self.assertEqual(len(self.ctl("requests").stdout.splitlines()), 7)
        lines = self.ctl("calls").stdout.splitlines()
        self.assertEqual([x.split(" ")[1] for x in lines], names)
        self.assertEqual(lines[3], "400 GetDownloadTaskLink " + uid)
        self.assertEqual(self.ctl("calls", "list").stdout.splitlines(),
                         ['200 ListDownloadTask {"pageSize":1}',
                          '200 ListDownloadTask {"pageSize":2}'])
        # log-clear: a new log, the same totals (calls: since the reset)
        self.control("POST", "log/clear", b"")
        self.page({})
        # the emulator records a request just after answering it
        deadline = time.monotonic() + 10
        while True:
            s2 = json.loads(self.control("GET", "stats"))
            if s2["requests"] >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual((s2["requests"], s2["list_requests_total"] - s0["list_requests_total"],
                          s2["calls"]["ListDownloadTask"]), (1, 3, 3))

    def test_list_page_cache(self):
        # pages are cached; creating, the lifecycle and deleting each show in
        # the next page
        self.config('{"task_waiting_ms":60000,"task_running_ms":60000,'
                    '"task_expire_ms":60000}')
        body = {"pageSize": 3}

        def hits():
            return json.loads(self.control("GET", "stats"))["page_cache_hits"]

        def head():
            """The list's page, checked against a fresh look at the tasks."""
            r = self.page(body)
            fresh = [json.loads(x) for x in self.control("GET", "tasks").splitlines()]
            self.assertEqual((r["total"], r["tasks"]), (len(fresh), fresh[:3]))
            return r

        def cached(r):
            h = hits()
            self.assertEqual(self.page(body), r)
            self.assertEqual(hits(), h + 1)

        first = head()
        cached(first)
        uid = self.create(name="pc")
        r = head()
        self.assertEqual((r["total"], r["tasks"][0]["uuid"], r["tasks"][0]["state"]),
                         (1001, uid, "WAITING"))
        self.assertEqual(r["tasks"][1:], first["tasks"][:2])
        cached(r)
        for state in ("RUNNING", "SUCCESS", "EXPIRED"):
            self.advance(60000)
            r = head()
            self.assertEqual(r["tasks"][0], self.describe(uid))
            self.assertEqual(r["tasks"][0]["state"], state)
            cached(r)
        by_update = self.page({"orderBy": "updatedTime", "pageSize": 1})["tasks"][0]
        self.assertEqual(by_update, r["tasks"][0])
        self.advance(60000)  # EXPIRED is final: the same page
        cached(r)
        self.assertEqual(self.req("DELETE", self.path(uid))[0], 204)
        self.assertEqual(head(), first)
        cached(first)
        self.assertNotIn(uid, [t["uuid"] for t in self.page({"orderBy": "updatedTime",
                                                             "pageSize": 5})["tasks"]])

    # -- control API --------------------------------------------------------
    def test_task_count_and_inflight(self):
        self.assertEqual(self.count("test"), len([
            1 for x in self.control("GET", "tasks").splitlines()
            if json.loads(x)["name"] == "test"]))
        self.assertTrue(self.count("test") > 0)
        a = self.create(name="twice 日志")
        b = self.create(name="twice 日志")
        self.create(name="")
        self.assertEqual(self.count("twice 日志"), 2)
        doc = json.loads(self.control("GET", "tasks/count?name=" +
                                      urllib.parse.quote("twice 日志")))
        self.assertEqual((doc["count"], doc["uuids"]), (2, [b, a]))
        self.assertEqual(self.count(""), 1)
        out = self.control("GET", "tasks?name=" + urllib.parse.quote("twice 日志") +
                           "&project=default").decode()
        self.assertEqual([json.loads(x)["uuid"] for x in out.splitlines()], [b, a])
        self.assertEqual(self.control("GET", "tasks?name=twice&state=WAITING"), b"")
        # the gauge: three describes held at once, then released
        self.config('{"task_waiting_ms":60000}')
        self.fault('{"type":"delay_headers","call":"describe","ms":60000,"count":3}')
        results = []

        def one():
            results.append(self.req("GET", self.path(a), timeout=90)[0])
        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while json.loads(self.control("GET", "inflight"))["holding"] < 3:
            self.assertLess(time.monotonic(), deadline, "requests not held")
            time.sleep(0.02)
        g = json.loads(self.ctl("inflight").stdout)  # the ctl command prints the JSON
        self.assertEqual((g["in_flight"]["DescribeDownloadTask"], g["in_flight_total"]),
                         (3, 3))
        self.ctl("release")
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200, 200, 200])
        self.assertEqual(self.ctl("max-inflight", "describe").stdout, "3\n")  # an alias
        self.assertEqual(self.ctl("max-inflight", "DescribeDownloadTask").stdout, "3\n")
        g = json.loads(self.control("GET", "inflight"))
        # (a request leaves the gauge as its answer starts to go out, so the
        # creates sent one after another never overlap)
        self.assertEqual((g["max_in_flight"]["CreateDownloadTask"],
                          g["max_in_flight_total"]), (1, 3))
        self.control("POST", "inflight/clear", b"")
        self.describe(a)
        self.page({"pageSize": 1})
        g = json.loads(self.control("GET", "inflight"))
        self.assertEqual((g["max_in_flight"]["DescribeDownloadTask"],
                          g["max_in_flight"]["CreateDownloadTask"],
                          g["max_in_flight"]["ListDownloadTask"]), (1, 0, 1))

    def test_inflight_per_access_key(self):
        """The in-flight maximum per access key, which the request budget is checked by."""
        self.fault('{"type":"delay_headers","call":"describe","ms":60000,"count":4}')
        uid = self.create(name="ak gauge")
        results = []

        def one(ak, sk):
            headers = emu.sign_request(ak, sk, "GET", self.path(uid),
                                       {"Host": "127.0.0.1:%d" % self.port})
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=90)
            c.request("GET", self.path(uid), None, headers)
            results.append(c.getresponse().status)
            c.close()
        threads = [threading.Thread(target=one, args=k) for k in
                   ((AK, SK), (AK, SK), (AK, SK), ("extra-ak", "extra-sk"))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while json.loads(self.control("GET", "inflight"))["holding"] < 4:
            self.assertLess(time.monotonic(), deadline, "requests not held")
            time.sleep(0.02)
        g = json.loads(self.control("GET", "accounts/inflight"))
        self.assertEqual(g["in_flight"], {AK: 3, "extra-ak": 1})
        # an unsigned request is refused and counts under no key
        c = self.conn()
        c.request("GET", self.path(uid))
        self.assertEqual(c.getresponse().status, 401)
        c.close()
        self.ctl("release")
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200] * 4)
        g = json.loads(self.control("GET", "accounts/inflight"))
        self.assertEqual((g["in_flight"], g["max_in_flight"]), ({}, {AK: 3, "extra-ak": 1}))
        self.assertEqual(self.ctl("max-inflight-ak", AK).stdout, "3\n")
        self.assertEqual(self.ctl("max-inflight-ak", "nobody").stdout, "0\n")
        # a clear (and a reset) start the maxima again from what is in flight
        self.ctl("inflight-ak-clear")
        self.describe(uid)
        self.assertEqual(json.loads(self.control("GET", "accounts/inflight"))["max_in_flight"],
                         {AK: 1})
        self.control("POST", "reset", b"")
        self.assertEqual(json.loads(self.control("GET", "accounts/inflight"))["max_in_flight"],
                         {})


class LogRecordTest(unittest.TestCase):
    """QueryLogRecord; a server of its own, set up like EmulatorTest's."""
    setUpClass = classmethod(EmulatorTest.setUpClass.__func__)
    tearDownClass = classmethod(EmulatorTest.tearDownClass.__func__)
    setUp = EmulatorTest.setUp
    ctl = EmulatorTest.ctl
    conn = EmulatorTest.conn
    api = CatalogTest.api
    error = CatalogTest.error

    START, END = "2024-11-05T08:00:00Z", "2024-11-05T08:01:00Z"
    T0 = 1730793600  # START in epoch seconds

    def path(self, name):
        return emu.LOGSTORE_PATH + "/" + urllib.parse.quote(name, safe="") + "/logrecord"

    def query(self, name="nginx-access", **params):
        params.setdefault("startDateTime", self.START)
        params.setdefault("endDateTime", self.END)
        params.setdefault("query", "match *")
        status, _, payload = self.api("GET", self.path(name), query=qs(params))
        self.assertEqual(status, 200, payload[:300])
        return json.loads(payload)

    def all_rows(self, name="nginx-access", **params):
        rows, marker, pages = [], None, 0
        while True:
            p = dict(params)
            if marker:
                p["marker"] = marker
            doc = self.query(name, **p)
            rows.extend(doc["resultSet"]["rows"])
            pages += 1
            marker = doc.get("nextMarker")
            if marker is None:
                return rows, pages

    def test_repeat_marker_fault(self):
        # a page asked for with a marker names that marker again; the first
        # page (no marker) is left alone
        self.ctl("fault", json.dumps({"type": "repeat_marker", "count": -1,
                                      "call": "QueryLogRecord"}))
        first = self.query(limit="5")
        self.assertIn("nextMarker", first)
        second = self.query(limit="5", marker=first["nextMarker"])
        self.assertEqual(second["nextMarker"], first["nextMarker"])
        self.assertEqual(len(second["resultSet"]["rows"]), 5)

    def test_marker_cycle_fault(self):
        # A (page 1's next) -> B -> A -> B ...: a cycle of two pages
        self.ctl("fault", json.dumps({"type": "marker_cycle", "count": -1,
                                      "call": "QueryLogRecord"}))
        first = self.query(limit="5")
        a = first["nextMarker"]
        b = self.query(limit="5", marker=a)["nextMarker"]
        self.assertNotEqual(a, b)
        self.assertEqual(self.query(limit="5", marker=b)["nextMarker"], a)
        self.assertEqual(self.query(limit="5", marker=a)["nextMarker"], b)

    def test_empty_marked_fault(self):
        self.ctl("fault", json.dumps({"type": "empty_marked", "skip": 1,
                                      "call": "QueryLogRecord"}))
        first = self.query(limit="5")
        self.assertEqual(len(first["resultSet"]["rows"]), 5)
        second = self.query(limit="5", marker=first["nextMarker"])
        self.assertEqual(second["resultSet"]["rows"], [])
        self.assertNotEqual(second["nextMarker"], first["nextMarker"])
        third = self.query(limit="5", marker=second["nextMarker"])
        self.assertEqual(len(third["resultSet"]["rows"]), 5)

    def test_swap_columns_fault(self):
        q = "select host, count(*) group by host"
        want = self.query(query=q)["resultSet"]
        self.ctl("fault", json.dumps({"type": "swap_columns", "call": "QueryLogRecord"}))
        got = self.query(query=q)["resultSet"]
        self.assertEqual(got["columns"], ["count(*)", "host"])
        self.assertEqual(got["columnTypes"], ["bigint", "varchar"])
        self.assertEqual(got["rows"], [[n, h] for h, n in want["rows"]])
        self.assertEqual(self.query(query=q)["resultSet"], want)   # once
    def test_rename_columns_fault(self):
        want = self.query(limit="3")["resultSet"]
        self.ctl("fault", json.dumps({"type": "rename_columns", "names": ["审计", "审计"],
                                      "call": "QueryLogRecord"}))
        got = self.query(limit="3")["resultSet"]
        self.assertEqual(got["columns"], ["审计", "审计"] + want["columns"][2:])
        self.assertEqual(got["rows"], want["rows"])
        self.assertEqual(self.query(limit="3")["resultSet"], want)   # once

    def test_interval_config(self):
        # config logrecord_interval_s: shardCount records every N seconds;
        # a window holds the records of the multiples of N in it, each once
        shards = len(self.query(limit="1000", endDateTime="2024-11-05T08:00:01Z")
                     ["resultSet"]["rows"])
        self.ctl("config", '{"logrecord_interval_s":7}')
        rows, _ = self.all_rows(limit="1000", sort="asc")
        secs = sorted({r[0] // 1000 for r in rows})
        created = secs[0] - (secs[0] - self.T0) % 7 if secs[0] >= self.T0 else secs[0]
        self.assertTrue(all((s - created) % 7 == 0 for s in secs), secs[:5])
        self.assertTrue(all(self.T0 <= s < self.T0 + 60 for s in secs))
        self.assertEqual(len(rows), shards * len(secs))
        self.assertIn(len(secs), (8, 9))
        # two windows that meet hold what one holds, and nothing twice
        a, _ = self.all_rows(limit="1000", endDateTime="2024-11-05T08:00:23Z")
        b, _ = self.all_rows(limit="1000", startDateTime="2024-11-05T08:00:23Z")
        self.assertEqual(sorted(r[1] for r in a + b), sorted(r[1] for r in rows))
        for bad in ('{"logrecord_interval_s":0}', '{"logrecord_interval_s":"7"}'):
            self.assertNotEqual(self.ctl("config", bad, check=False).returncode, 0, bad)
        self.ctl("reset")
        self.assertEqual(len(self.all_rows(limit="1000")[0]), shards * 60)

    def test_fault_params(self):
        # a fault with params hits only the requests whose query string has them
        self.ctl("fault", json.dumps({"type": "http", "status": 500, "count": -1,
                                      "call": "QueryLogRecord",
                                      "params": {"startDateTime": "2024-11-05T08:00:30Z",
                                                 "marker": None}}))
        self.query(limit="5")
        first = self.query(limit="5", startDateTime="2024-11-05T08:00:31Z")
        status, _, payload = self.api("GET", self.path("nginx-access"), query=qs(
            {"query": "match *", "startDateTime": "2024-11-05T08:00:30Z",
             "endDateTime": self.END, "limit": "5"}))
        self.assertEqual((status, json.loads(payload)["code"]), (500, "InternalError"))
        self.ctl("reset")
        # null: absent; a marker's value: the page it names
        first = self.query(limit="5")
        self.ctl("fault", json.dumps({"type": "http", "status": 500, "count": -1,
                                      "call": "QueryLogRecord",
                                      "params": {"marker": first["nextMarker"]}}))
        self.query(limit="5")
        status, _, payload = self.api("GET", self.path("nginx-access"), query=qs(
            {"query": "match *", "startDateTime": self.START, "endDateTime": self.END,
             "limit": "5", "marker": first["nextMarker"]}))
        self.assertEqual(status, 500)
        self.ctl("reset")
        self.ctl("fault", json.dumps({"type": "http", "status": 500,
                                      "call": "QueryLogRecord", "params": {"marker": None}}))
        self.assertIn("nextMarker", self.query(limit="5", marker=first["nextMarker"]))
        self.assertEqual(len(json.loads(self.ctl("faults").stdout)), 1)
        self.ctl("reset")
        self.ctl("fault", json.dumps({"type": "malformed", "call": "QueryLogRecord",
                                      "params": {"sort": "asc"}}))
        self.query(limit="5")               # sort absent: not hit
        status, _, payload = self.api("GET", self.path("nginx-access"), query=qs(
            {"query": "match *", "startDateTime": self.START, "endDateTime": self.END,
             "sort": "asc"}))
        self.assertRaises(ValueError, json.loads, payload)
        for bad in ('{"type":"http","call":"QueryLogRecord","params":[]}',
                    '{"type":"http","call":"QueryLogRecord","params":{"a":1}}',
                    '{"type":"http","call":"QueryLogRecord","params":{}}'):
            self.assertNotEqual(self.ctl("fault", bad, check=False).returncode, 0, bad)

    def test_search_paging(self):
        doc = self.query(limit="5")
        self.assertEqual(list(doc), ["resultSet", "datasetScanInfo", "nextMarker"])
        rs = doc["resultSet"]
        self.assertEqual(rs["queryType"], "match")
        self.assertEqual(rs["columns"][:4], ["@timestamp", "@seq", "@stream", "@raw"])
        self.assertEqual(rs["columns"][4:], ["status", "method", "host", "path", "order_id",
                                             "request_time"])
        self.assertEqual(rs["columnTypes"][:4], ["bigint", "bigint", "varchar", "varchar"])
        self.assertEqual((rs["isTruncated"], rs["truncatedReason"]), (False, ""))
        self.assertEqual(set(doc["datasetScanInfo"]["statistics"]),
                         {"executionTimeInMs", "scanCount"})
        for row in rs["rows"]:
            self.assertEqual(len(row), len(rs["columns"]))
            raw = json.loads(row[3])
            self.assertEqual(raw, dict(zip(rs["columns"][4:], row[4:])))
        # default project "default": nginx-access has 4 shards, 4 records a second
        want = 4 * 60
        desc, pages = self.all_rows(limit="70")
        self.assertEqual((len(desc), pages), (want, 4))
        asc, _ = self.all_rows(limit="1000", sort="asc")
        self.assertEqual(len(asc), want)
        self.assertEqual(asc, list(reversed(desc)))          # no gap, no duplicate
        ts = [r[0] for r in asc]
        self.assertEqual(ts, sorted(set(ts)))
        self.assertEqual(len({r[1] for r in asc}), want)
        # startDateTime inclusive, endDateTime exclusive
        self.assertEqual(ts[0], self.T0 * 1000)
        self.assertEqual(ts[-1], (self.T0 + 59) * 1000 + 750)
        # a window holds shardCount records per second: prod-web's has 8
        rows, _ = self.all_rows(project="prod-web", limit="1000",
                                endDateTime="2024-11-05T08:00:10Z")
        self.assertEqual(len(rows), 80)
        self.assertEqual({r[2] for r in rows}, {"nginx-01", "nginx-02"})
        rows, _ = self.all_rows(project="prod-web", limit="1000", logStreamName="nginx-02",
                                endDateTime="2024-11-05T08:00:10Z")
        self.assertEqual((len(rows), {r[2] for r in rows}), (40, {"nginx-02"}))
        # before the store was created: nothing
        doc = self.query(startDateTime="2020-01-01T00:00:00Z",
                         endDateTime="2020-01-02T00:00:00Z")
        self.assertEqual(doc["resultSet"]["rows"], [])
        self.assertNotIn("nextMarker", doc)
        # limit 0: no rows, a marker to the first record
        doc = self.query(limit="0", sort="asc")
        self.assertEqual(doc["resultSet"]["rows"], [])
        self.assertEqual(self.query(limit="1", sort="asc", marker=doc["nextMarker"])[
            "resultSet"]["rows"][0][0], self.T0 * 1000)
        # the same data each time; plain text stores have the system columns only
        self.assertEqual(self.query(limit="1000")["resultSet"],
                         self.query(limit="1000")["resultSet"])
        rs = self.query("nginx-error", limit="3")["resultSet"]
        self.assertEqual(rs["columns"], ["@timestamp", "@seq", "@stream", "@raw"])
        self.assertRegex(rs["rows"][0][3], r"^2024-11-05T08:00:59\.500Z [A-Z]+ \[worker-\d\] ")

    def test_search_filters(self):
        every, _ = self.all_rows(project="prod-web", limit="1000")
        self.assertEqual(len(every), 480)
        cols = self.query(project="prod-web", limit="1")["resultSet"]["columns"]
        status = cols.index("status")
        for q, keep in (("match status:500", lambda r: r[status] == 500),
                        ("match status:200 AND method:POST",
                         lambda r: r[status] == 200 and r[cols.index("method")] == "POST"),
                        ('match path:"/api/v1/orders"',
                         lambda r: r[cols.index("path")] == "/api/v1/orders"),
                        ("match cart", lambda r: "cart" in r[3].lower()),
                        ("match SHOP", lambda r: "shop" in r[3].lower()),
                        ("match @stream:nginx-01", lambda r: r[2] == "nginx-01")):
            want = [r for r in every if keep(r)]
            self.assertTrue(0 < len(want) < len(every), q)
            got, _ = self.all_rows(project="prod-web", query=q, limit="7")
            self.assertEqual(got, want, q)
            cnt = self.query(project="prod-web", query=q + " | select count(*)")
            self.assertEqual(cnt["resultSet"]["rows"], [[len(want)]], q)
        got, pages = self.all_rows(project="prod-web", query="match nosuchword")
        self.assertEqual((got, pages), ([], 1))
        # JSON records with non-ASCII keys and values
        rs = self.query("app-log", limit="50")["resultSet"]
        self.assertIn("用户", rs["columns"])
        users = {r[rs["columns"].index("用户")] for r in rs["rows"]}
        self.assertTrue(users & {"张三", "李四"})

    def test_analysis(self):
        doc = self.query(project="prod-web", query="select count(*)")
        rs = doc["resultSet"]
        self.assertEqual((rs["queryType"], rs["columns"], rs["columnTypes"], rs["rows"]),
                         ("sql", ["count(*)"], ["bigint"], [[480]]))
        self.assertNotIn("nextMarker", doc)
        doc = self.query(project="prod-web",
                         query="match * | select status, count(*) group by status")
        rs = doc["resultSet"]
        self.assertEqual((rs["columns"], rs["columnTypes"]), (["status", "count(*)"],
                                                              ["bigint", "bigint"]))
        every, _ = self.all_rows(project="prod-web", limit="1000")
        want = {}
        for r in every:
            want[r[4]] = want.get(r[4], 0) + 1
        self.assertEqual(rs["rows"], sorted([k, v] for k, v in want.items()))
        rs = self.query(query="select host, count(*) group by host")["resultSet"]
        self.assertEqual(rs["columnTypes"], ["varchar", "bigint"])
        self.assertEqual(sum(r[1] for r in rs["rows"]), 240)
        # a day's count(*) is computed, not scanned
        rs = self.query(query="select count(*)", endDateTime="2024-11-06T08:00:00Z")[
            "resultSet"]
        self.assertEqual(rs["rows"], [[4 * 86400]])
        # more groups than the cap: isTruncated
        self.ctl("config", '{"logrecord_max_analysis_rows":100}')
        doc = self.query(query="select order_id, count(*) group by order_id")
        rs = doc["resultSet"]
        self.assertEqual((len(rs["rows"]), rs["isTruncated"], rs["truncatedReason"]),
                         (100, True, "TooManyRows"))
        self.assertTrue(doc["datasetScanInfo"]["isTruncated"])
        # config logrecord_truncated marks search results
        self.ctl("config", '{"logrecord_truncated":"ScanLimitExceeded"}')
        doc = self.query(limit="1")
        self.assertEqual((doc["resultSet"]["isTruncated"],
                          doc["datasetScanInfo"]["truncatedReason"]),
                         (True, "ScanLimitExceeded"))
        self.ctl("reset")
        self.assertFalse(self.query(limit="1")["resultSet"]["isTruncated"])

    def test_big_record(self):
        self.ctl("config", '{"logrecord_big_bytes":524288}')
        for store in ("nginx-access", "nginx-error"):
            rows = self.query(store, sort="asc", limit="2")["resultSet"]["rows"]
            self.assertEqual(len(rows[0][3].encode("utf-8")), 524288)
            self.assertLess(len(rows[1][3]), 1000)
        json.loads(self.query(sort="asc", limit="1")["resultSet"]["rows"][0][3])
        self.assertNotEqual(self.ctl("config", '{"logrecord_big_bytes":524289}',
                                     check=False).returncode, 0)

    def test_errors_and_signature(self):
        p = self.path("nginx-access")
        base = {"query": "match *", "startDateTime": self.START, "endDateTime": self.END}
        for bad in ({"query": None}, {"query": ""}, {"query": "match"},
                    {"query": "status:"}, {"query": "error timeout"},
                    {"query": "match * | select max(status)"},
                    {"query": "select host, count(*) group by path"},
                    {"query": "select nope, count(*) group by nope"},
                    # only the confirmed forms: no alias, no other aggregate
                    {"query": "select count(*) as n"},
                    {"query": "match * | select status, count(*) as n group by status"},
                    {"query": "select min(@timestamp)"},
                    {"query": "select count(status)"},
                    {"query": "select count(*), count(*)"},
                    {"query": "select count(*) where status = 500"},
                    {"startDateTime": None}, {"startDateTime": "2024-11-05 08:00:00"},
                    {"endDateTime": "2024-11-05T08:00:00.5Z"},
                    {"endDateTime": self.START},
                    {"endDateTime": "2024-11-05T07:00:00Z"},
                    {"limit": "1001"}, {"limit": "-1"}, {"limit": "x"}, {"sort": "up"},
                    {"logStreamName": "a b"}, {"logStreamName": "x" * 193},
                    {"marker": "v1.1.0000000000000000"}, {"marker": "garbage"}):
            params = {k: v for k, v in dict(base, **bad).items() if v is not None}
            self.error(400, "InvalidParameter", "GET", p, query=qs(params))
        self.error(400, "InvalidParameter", "GET", p, query=qs(base) + "&limit=1&limit=2")
        # a marker belongs to its query
        m = self.query(limit="1")["nextMarker"]
        self.assertEqual(self.query(limit="1", marker=m)["resultSet"]["rows"][0][1] + 1,
                         self.query(limit="1")["resultSet"]["rows"][0][1])
        for other in ({"sort": "asc"}, {"query": "match status:200"},
                      {"project": "staging"}, {"endDateTime": "2024-11-05T08:02:00Z"},
                      {"query": "select count(*)"}):
            self.error(400, "InvalidParameter", "GET", p,
                       query=qs(dict(base, limit="1", marker=m, **other)))
        for name, project in (("nope", "default"), ("nginx-access", "nope"),
                              ("Nginx-Access-Legacy", "default")):
            doc = self.error(404, "LogStoreNotFound", "GET", self.path(name),
                             query=qs(dict(base, project=project)))
            self.assertIn(name, doc["message"])
        self.error(404, "NotFound", "POST", p, query=qs(base), body={})
        # the query string is signed: a tampered one is refused
        q = qs(dict(base, query="match status:500"))
        self.assertEqual(self.api("GET", p, query=q)[0], 200)
        for sent in (qs(dict(base, query="match status:200")), q + "&limit=1000",
                     qs(dict(base, query="match status:500", project="prod-web"))):
            doc = self.error(401, "Unauthorized", "GET", p, query=sent, sign_query=q)
            self.assertEqual(doc["message"], "signature does not match")
        self.error(401, "Unauthorized", "GET", p, query=q, sign_query="")
        self.error(401, "Unauthorized", "GET", p, query=q, sk="bad")

    def test_bare_search(self):
        """A search without "match" is the same search."""
        every, _ = self.all_rows(project="prod-web", limit="1000")
        for q in ("status:500", "status:200 AND method:POST", 'path:"/api/v1/orders"',
                  "cart", "@stream:nginx-01", "*"):
            want, _ = self.all_rows(project="prod-web", query="match " + q, limit="1000")
            self.assertTrue(0 < len(want) <= len(every), q)
            got, _ = self.all_rows(project="prod-web", query=q, limit="1000")
            self.assertEqual(got, want, q)
            cnt = self.query(project="prod-web", query=q + " | select count(*)")
            self.assertEqual(cnt["resultSet"]["rows"], [[len(want)]], q)
        self.assertEqual(len(self.all_rows(project="prod-web", query="*", limit="1000")[0]),
                         len(every))

    def raw_get(self, target, authorization, ts):
        """GET whose request line carries the octets of target as they are
        -> (status, decoded JSON answer)."""
        head = b"GET " + target + b" HTTP/1.1\r\n" + "".join(
            "%s: %s\r\n" % kv for kv in (("Host", "127.0.0.1:%d" % self.port),
                                         ("x-bce-date", ts),
                                         ("Authorization", authorization),
                                         ("Connection", "close"))).encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as c:
            c.sendall(head + b"\r\n")
            r = http.client.HTTPResponse(c)
            r.begin()
            return r.status, json.loads(r.read())

    def test_query_encoding_and_signature(self):
        """The query string is decoded and signed as bls-api.md section 4 says,
        checked with spec_authorization (written apart from the emulator)."""
        ts = emu.format_timestamp(time.time())
        host = "127.0.0.1:%d" % self.port
        path = self.path("app-log").encode()
        window = b"&startDateTime=2024-11-05T08%3A00%3A00Z&endDateTime=2024-11-05T08:01:00Z"

        def get(query, signed=None):
            target = path + b"?" + query + window
            auth = spec_authorization("GET", path + b"?" + (query if signed is None
                                                            else signed) + window,
                                      host, ts)
            return self.raw_get(target, auth, ts)

        want, _ = self.all_rows("app-log", query='match 用户:"Zoë"', limit="1000")
        self.assertTrue(want)
        # one statement with a space, ':', '"', '|', '*', '(' and non-ASCII, in
        # bce_uri_encode's spelling, with lowercase escapes, and with raw
        # octets (UTF-8 too): the same request, the same signature
        stmt = '用户:"Zoë" | select count(*)'
        for q in (b"query=" + spec_encode(stmt.encode()).encode(),
                  b"query=%e7%94%a8%e6%88%b7%3a%22Zo%c3%ab%22%20%7c%20select%20count%28%2a%29",
                  b"query=" + '用户:"Zoë"%20|%20select%20count(*)'.encode()):
            status, doc = get(q)
            self.assertEqual((status, doc.get("resultSet", doc).get("rows")),
                             (200, [[len(want)]]), q)
        # a parameter without '=' signs as "marker="; authorization, in any
        # case, is not signed
        q = b"query=*&limit=1&marker&Authorization=x&authorization"
        self.assertEqual(get(q)[0], 200)
        # '+' is a plus, to the signature and to the search alike: signed as
        # a plus it passes and finds no record holding "match+*" ...
        status, doc = get(b"query=match+*")
        self.assertEqual((status, doc["resultSet"]["rows"]), (200, []))
        # ... and signed as a space it is refused
        status, doc = get(b"query=match+*", signed=b"query=match%20*")
        self.assertEqual((status, doc["message"]), (401, "signature does not match"))
        # an octet that is not UTF-8 signs as itself, not as U+FFFD
        self.assertEqual(get(b"query=%FF")[0], 200)
        status, doc = get(b"query=%FF", signed=b"query=%EF%BF%BD")
        self.assertEqual((status, doc["message"]), (401, "signature does not match"))
        # any other difference between what is signed and what is received
        for sent, signed in ((b"query=a%2Ab", b"query=a%2Bb"),
                             (b"query=*&limit=1", b"query=*&limit=1&marker"),
                             (b"query=*&limit=1&limit=1", b"query=*&limit=1"),
                             (b"query=Zo%C3%AB", b"query=Zo%C3%AB%20"),
                             (b"Query=*", b"query=*")):
            status, doc = get(sent, signed=signed)
            self.assertEqual((status, doc["message"]), (401, "signature does not match"),
                             sent)

    def test_faults(self):
        # a fault without call never hits QueryLogRecord
        self.ctl("fault", '{"type":"http","status":503}')
        self.query(limit="1")
        self.assertEqual(len(json.loads(self.ctl("faults").stdout)), 1)
        self.ctl("reset")
        self.ctl("fault", '{"type":"http","status":429,"retry_after":"2",'
                          '"call":"QueryLogRecord"}')
        status, r, payload = self.api("GET", self.path("nginx-access"),
                                      query=qs({"query": "match *", "startDateTime": self.START,
                                                "endDateTime": self.END}))
        self.assertEqual((status, json.loads(payload)["code"], r.getheader("Retry-After")),
                         (429, "RequestLimited", "2"))
        base = qs({"query": "match *", "startDateTime": self.START, "endDateTime": self.END,
                   "limit": "3"})
        self.ctl("fault", '{"type":"truncated","call":"QueryLogRecord"}')
        status, r, payload = self.api("GET", self.path("nginx-access"), query=base)
        self.assertEqual((status, int(r.getheader("Content-Length"))), (200, len(payload)))
        self.assertRaises(ValueError, json.loads, payload)
        self.ctl("fault", '{"type":"wrong_type","call":"QueryLogRecord","index":1}')
        rows = self.query(limit="3")["resultSet"]["rows"]
        self.assertEqual([isinstance(r[0], str) for r in rows], [False, True, False])
        self.ctl("fault", '{"type":"extra_fields","call":"QueryLogRecord"}')
        doc = self.query(limit="3")
        self.assertEqual(doc["resultSet"]["columns"][:2], ["_emulatorExtra", "@timestamp"])
        self.assertEqual(len(doc["resultSet"]["rows"][0]), len(doc["resultSet"]["columns"]))
        self.ctl("fault", '{"type":"missing_fields","fields":["@raw","nextMarker"],'
                          '"call":"QueryLogRecord"}')
        doc = self.query(limit="3")
        self.assertNotIn("@raw", doc["resultSet"]["columns"])
        self.assertNotIn("nextMarker", doc)
        self.ctl("fault", '{"type":"invalid_utf8","call":"QueryLogRecord"}')
        status, _, payload = self.api("GET", self.path("nginx-access"), query=base)
        self.assertRaises(UnicodeDecodeError, payload.decode, "utf-8")
        self.ctl("fault", '{"type":"drop","call":"QueryLogRecord"}')
        self.assertRaises((http.client.RemoteDisconnected, ConnectionError), self.api,
                          "GET", self.path("nginx-access"), base)
        for bad in ('{"type":"total","call":"QueryLogRecord"}',
                    '{"type":"insert_head","call":"QueryLogRecord"}',
                    '{"type":"http","call":"QueryLogRecord","page":2}'):
            self.assertNotEqual(self.ctl("fault", bad, check=False).returncode, 0, bad)
        # the request log names the call
        self.ctl("log-clear")
        self.query(limit="1")
        lines = self.ctl("calls", "QueryLogRecord").stdout.splitlines()
        self.assertEqual(lines, ["200 QueryLogRecord"])

    def test_million_record_window(self):
        """A 1,000,000-record window pages: nothing is generated ahead."""
        # prod-web/nginx-access: 8 records a second; 125,000 s hold 1,000,000
        end = emu.fmt_time(self.T0 + 125000)
        rs = self.query(project="prod-web", query="select count(*)", endDateTime=end)
        self.assertEqual(rs["resultSet"]["rows"], [[1000000]])
        # (no timed assertion: the machine is shared; the pages below would
        # not come back at all if the window were generated ahead)
        doc = self.query(project="prod-web", limit="1000", endDateTime=end, sort="asc")
        seqs = [r[1] for r in doc["resultSet"]["rows"]]
        for _ in range(3):
            doc = self.query(project="prod-web", limit="1000", endDateTime=end, sort="asc",
                             marker=doc["nextMarker"])
            seqs += [r[1] for r in doc["resultSet"]["rows"]]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + 4000)))
        # the last page, straight from the other end
        doc = self.query(project="prod-web", limit="1000", endDateTime=end)
        self.assertEqual(doc["resultSet"]["rows"][0][1], seqs[0] + 999999)


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def spec_encode(octets, keep_slash=False):
    """UriEncode of bls-api.md section 4, written apart from the emulator's."""
    return "".join(chr(c) if c in _UNRESERVED or (keep_slash and c == 0x2F) else "%%%02X" % c
                   for c in octets)


def spec_decode(octets):
    """%XY escapes decoded to octets; anything else (a '+', a stray '%') as it is."""
    out, i = bytearray(), 0
    while i < len(octets):
        h = octets[i + 1:i + 3]
        if octets[i] == 0x25 and len(h) == 2 and all(c in b"0123456789abcdefABCDEF" for c in h):
            out.append(int(h, 16))
            i += 3
        else:
            out.append(octets[i])
            i += 1
    return bytes(out)


def spec_authorization(method, target, host, ts, ak=AK, sk=SK):
    """bce-auth-v1 signing host and x-bce-date for target (the request line's
    path?query octets), apart from the emulator's signer."""
    path, _, query = target.partition(b"?")
    items = sorted(spec_encode(spec_decode(k)) + "=" + spec_encode(spec_decode(v))
                   for k, _, v in (p.partition(b"=") for p in query.split(b"&") if p)
                   if spec_decode(k).lower() != b"authorization")
    canon = "\n".join((method, spec_encode(spec_decode(path), True) or "/", "&".join(items),
                       "host:" + spec_encode(host.encode()),
                       "x-bce-date:" + spec_encode(ts.encode())))
    prefix = "bce-auth-v1/%s/%s/1800" % (ak, ts)
    key = hmac.new(sk.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    return "%s/host;x-bce-date/%s" % (
        prefix, hmac.new(key.encode(), canon.encode(), hashlib.sha256).hexdigest())


class QueryRulesTest(unittest.TestCase):
    """The QueryLogRecord statement grammar and CanonicalQuery, without a server."""

    def test_bare_search(self):
        parse = emu.parse_logrecord_query
        for bare in ("status:500", "status:500 AND method:POST", "status:500 and method:POST",
                     'path:"/api/v1/orders"', "error", '"connection reset"', "*",
                     "用户:Zoë AND o'brien"):
            self.assertEqual(parse(bare), parse("match " + bare), bare)
            self.assertEqual(parse(bare + " | select count(*)"),
                             parse("match " + bare + " | select count(*)"), bare)
        self.assertEqual(parse("status:500 AND method:POST"),
                         ([("status", "500"), ("method", "POST")], None))
        self.assertEqual(parse("error"), ([(None, "error")], None))
        self.assertEqual(parse("  *  "), ([], None))
        self.assertEqual(parse("Match\t*"), ([], None))
        # "match" and "select" are keywords only as whole words
        self.assertEqual(parse("match:1"), ([("match", "1")], None))
        self.assertEqual(parse("selected"), ([(None, "selected")], None))
        # match ..., select ... and ... | select ... as they were
        self.assertEqual(parse("select count(*)"), ([], (None, "count(*)")))
        self.assertEqual(parse("SELECT host, count(*) GROUP BY host"),
                         ([], ("host", "count(*)")))
        self.assertEqual(parse("match status:500 | select count(*)"),
                         ([("status", "500")], (None, "count(*)")))
        self.assertEqual(parse("| select count(*)"), ([], (None, "count(*)")))
        for bad in ("match", "MATCH  ", "status:", ":500", "error timeout", "select",
                    "status:500 |", "status:500 | select max(status)", "a AND b c",
                    "SELECT host, count(*) AS n GROUP BY host"):
            with self.assertRaises(emu.AuthError, msg=bad) as cm:
                parse(bad)
            self.assertEqual((cm.exception.status, cm.exception.code),
                             (400, "InvalidParameter"), bad)

    def test_canonical_query(self):
        for raw, want in (
                ("a=1&a0=1&a-=1", "a-=1&a0=1&a=1"),           # key=value strings compared
                ("%7E=1&%C3%AB=1", "%C3%AB=1&~=1"),           # ... encoded
                ("k=b&k=a&k=", "k=&k=a&k=b"),
                ("flag&e=&=v", "=v&e=&flag="),
                ("a=b=c&%3D=%26", "%3D=%26&a=b%3Dc"),
                ("Authorization=x&%61uthorization&authorizationx=1", "authorizationx=1"),
                ("q=%2a*&r=%7e&s=a+b&t=a b", "q=%2A%2A&r=~&s=a%2Bb&t=a%20b"),
                ("q=:|\"'/", "q=%3A%7C%22%27%2F"),
                ("q=用户&r=Zo%c3%ab", "q=%E7%94%A8%E6%88%B7&r=Zo%C3%AB"),
                ("q=%FF%00&r=%zz%4%", "q=%FF%00&r=%25zz%254%25"),
                ("&&", "")):
            self.assertEqual(emu.canonical_query(raw), want, raw)
            self.assertEqual(emu.canonical_query(raw.encode()), want, raw)
            items = sorted(spec_encode(spec_decode(k)) + "=" + spec_encode(spec_decode(v))
                           for k, _, v in (p.partition(b"=")
                                           for p in raw.encode().split(b"&") if p)
                           if spec_decode(k).lower() != b"authorization")
            self.assertEqual("&".join(items), want, raw)
        # octets of the request line, as http.server hands them (Latin-1)
        self.assertEqual(emu.parse_query("q=Zo\xc3\xab&r=%FF+"), [("q", "Zoë"),
                                                                  ("r", "\ufffd+")])

    def test_query_log_record_vector(self):
        """test/unit/test_bce_auth.c's vector LR, computed apart from both."""
        ak, sk, ts = "a" * 32, "b" * 32, "2015-04-27T08:23:49Z"
        sig = "c49a87922b5d817d85a0811f41765e4997c1c3009a6a6c4eaeb61740dcc94f54"
        path = "/v1/logstore/nginx-access/logrecord"
        stmt = "match path:\"/api/v1/orders\" AND 用户:\"Zoë\" AND o'brien* | select count(*)"
        query = ("project=default&logStreamName=&query=" + spec_encode(stmt.encode()) +
                 "&startDateTime=2024-11-05T08%3A00%3A00Z"
                 "&endDateTime=2024-11-05T08%3A01%3A00Z&limit=100&marker=&sort=desc")
        headers = {"host": "bls-log.bj.baidubce.com", "x-bce-date": ts}
        self.assertEqual(emu.compute_signature(sk, ak, ts, 1800, "GET", path, query, headers,
                                               ["host", "x-bce-date"]), sig)
        self.assertEqual(spec_authorization("GET", (path + "?" + query).encode(),
                                            headers["host"], ts, ak, sk).split("/")[-1], sig)
        messy = ("sort=desc&marker&logStreamName=&query=match path:%22/api/v1/orders%22 "
                 "AND 用户:\"Zo%c3%ab\" AND o'brien%2a %7c select count(*)"
                 "&&startDateTime=2024-11-05T08:00:00Z&endDateTime=2024-11-05T08%3a01%3a00Z"
                 "&%6cimit=100&project=default&authorization=x")
        self.assertEqual(emu.compute_signature(sk, ak, ts, 1800, "GET", path, messy, headers,
                                               ["host", "x-bce-date"]), sig)
        self.assertEqual(emu.compute_signature(sk, ak, ts, 1800, "GET", path.encode(),
                                               messy.encode(), headers,
                                               ["host", "x-bce-date"]), sig)


def qs(params):
    """Query string the way a client sends it (RFC 3986: %20, not +)."""
    return urllib.parse.urlencode(params or {}, quote_via=urllib.parse.quote)


if __name__ == "__main__":
    unittest.main(verbosity=2)
