#!/usr/bin/env python3
"""Self-test of the BLS emulator (stdlib unittest).  Run: python3 test/test_emulator.py"""

import http.client
import json
import os
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
        stats = json.loads(self.ctl("stats").stdout)
        self.assertIn("cpu_seconds", stats)


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
        stats = json.loads(self.control("GET", "stats"))["downloads"]
        self.assertEqual((stats["tasks_created"], stats["calls"]["create"]),
                         (0, len(bad) + 5))
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
                         [["503", "create"], ["200", "create"], ["200", "describe"],
                          ["204", "delete"]])
        self.assertEqual(lines[2], "200 describe " + uid)
        self.assertIn('"name":"lg"', lines[0])
        self.assertEqual(self.ctl("calls", "create").stdout.count("\n"), 2)
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
                    '{"type":"http","call":"create","status":"500"}'):
            self.fault(bad, ok=False)
        self.fault('{"type":"http","call":"link","status":409}')
        self.fault('{"type":"http","status":500,"call":"list"}')
        faults = json.loads(self.control("GET", "faults"))
        self.assertEqual([f.get("call") for f in faults], ["list", "link"])
        stats = json.loads(self.control("GET", "stats"))
        self.assertEqual(stats["downloads"]["pending_faults"], 1)

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
        self.assertEqual((g["in_flight"]["describe"], g["in_flight_total"]), (3, 3))
        self.ctl("release")
        for t in threads:
            t.join(60)
        self.assertEqual(results, [200, 200, 200])
        self.assertEqual(self.ctl("max-inflight", "describe").stdout, "3\n")
        g = json.loads(self.control("GET", "inflight"))
        self.assertEqual((g["max_in_flight"]["create"], g["max_in_flight_total"]), (1, 3))
        self.control("POST", "inflight/clear", b"")
        self.describe(a)
        g = json.loads(self.control("GET", "inflight"))
        self.assertEqual((g["max_in_flight"]["describe"], g["max_in_flight"]["create"]),
                         (1, 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
