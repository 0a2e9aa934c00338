#!/usr/bin/env python3
"""Self-test of the BLS emulator (stdlib unittest).  Run: python3 test/test_emulator.py"""

import gzip
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
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
        for t in emu.FAULT_TYPES:
            self.assertIn("\n  %s " % t, emu.FAULT_TYPES_DOC, t)


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
        self.error(404, "NotFound", "GET", emu.LOGSTORE_PATH + "/app-log/logrecord")

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


def qs(params):
    """Query string the way a client sends it (RFC 3986: %20, not +)."""
    return urllib.parse.urlencode(params or {}, quote_via=urllib.parse.quote)


if __name__ == "__main__":
    unittest.main(verbosity=2)
