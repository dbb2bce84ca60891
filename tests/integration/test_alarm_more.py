"""The rest of early warning and enforcement over the real binary (issue #6 §2–§5): alarm rules
from the config file (created once, updated when the file changes, refused with the line when
bad, audited), evidence files on alarms (upload, list, download, limits, hostile names, scopes,
the handle transition referring to them), the incident report, and HTTPS webhooks delivered after
the receiver was down.

No wall-clock limits are asserted: every wait polls with a generous deadline."""
import hashlib
import hmac
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import ECOMON, REPO, create_key, frame, free_port, read_frames, Server, wait_for, data_time_ago as datatime  # noqa: E402

SITE, MN, PW = "2526A", "GY00000002526A", "123456"


def rtd(qn, data_time, value, factor="a34004"):
    return frame("QN=%s;ST=22;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s-Rtd=%s,%s-Flag=N&&"
                 % (qn, PW, MN, data_time, factor, value, factor))


def write_config(path, rules_toml, extra=""):
    with open(path, "w", encoding="utf-8") as f:
        f.write(extra + rules_toml)


RULES_V1 = """
[[rules]]
name = "PM2.5 超标 (config)"
kind = "threshold"
site = "2526A"
factor = "a34004"
data_kind = "rtd"
op = ">"
limit = 75
severity = "major"

[[rules]]
name = "水源地补充项目"
kind = "drinking_water"
"""


class ConfigRulesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ecomon-cfg-")
        self.config = os.path.join(self.tmp, "ecomon.toml")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()

    def config_rules(self):
        status, body = self.server.get("/api/v1/rules")
        self.assertEqual(status, 200, body)
        return {r["name"]: r for r in body["rules"] if r["source"] == "config"}

    def test_loaded_at_start_idempotent_updated_disabled_and_audited(self):
        write_config(self.config, RULES_V1)
        self.server = Server("--config", self.config)
        rules = self.config_rules()
        self.assertEqual(sorted(rules), sorted(["PM2.5 超标 (config)", "水源地补充项目"]))
        pm = rules["PM2.5 超标 (config)"]
        self.assertEqual((pm["limit"], pm["field"], pm["enabled"], pm["created_by"]), (75, "Rtd", True, "config"))

        # The rule works like an API rule: an exceeding frame opens one alarm.
        s = self.server.connect()
        s.sendall(rtd("20260101000000001", datatime(600), "90"))
        self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
        s.close()
        wait_for("the config rule's alarm",
                 lambda: self.server.get("/api/v1/alarms?rule=%d" % pm["id"])[1]["alarms"])

        # A restart with the same file: the same rules, nothing created twice.
        self.server.stop()
        self.server.start()
        again = self.config_rules()
        self.assertEqual({n: r["id"] for n, r in again.items()}, {n: r["id"] for n, r in rules.items()})
        self.assertEqual(again["PM2.5 超标 (config)"]["updated_at"], pm["updated_at"])

        # The file changes the limit and drops the second rule: updated in place, the other disabled.
        write_config(self.config, RULES_V1.replace("limit = 75", "limit = 100").split("[[rules]]\nname = \"水源地")[0])
        self.server.stop()
        self.server.start()
        status, body = self.server.get("/api/v1/rules")
        by_name = {r["name"]: r for r in body["rules"]}
        self.assertEqual(by_name["PM2.5 超标 (config)"]["id"], pm["id"])
        self.assertEqual(by_name["PM2.5 超标 (config)"]["limit"], 100)
        self.assertFalse(by_name["水源地补充项目"]["enabled"])
        # The old condition's open episode ended with the change.
        alarms = self.server.get("/api/v1/alarms?rule=%d" % pm["id"])[1]["alarms"]
        self.assertEqual(len(alarms), 1)
        self.assertFalse(alarms[0]["active"])

        status, audit = self.server.get("/api/v1/audit?limit=100")
        self.assertEqual(status, 200, audit)
        entries = [(e["actor"], e["action"], e["target"]) for e in audit["entries"] if e["actor"] == "config"]
        self.assertIn(("config", "rule.create", str(pm["id"])), entries)
        self.assertIn(("config", "rule.update", str(pm["id"])), entries)
        self.assertIn(("config", "rule.disable", str(rules["水源地补充项目"]["id"])), entries)
        self.assertEqual(len([e for e in entries if e[1] == "rule.create"]), 2)  # once each

    def test_bad_entries_refused_at_start_with_the_line_and_reason(self):
        data = tempfile.mkdtemp(prefix="ecomon-cfg-data-")
        registry = os.path.join(REPO, "config", "registry")
        cases = [
            ("[[rules]]\nname = \"x\"\nkind = \"threshold\"\nsite = \"2526A\"\nfactor = \"a34004\"\n", 1,
             "limit is required"),
            ("\n\n[[rules]]\nname = \"y\"\nkind = \"nonsense\"\nlimit = 1\n", 3, "kind:"),
            ("[[rules]]\nname = \"z\"\nfactor = \"a34004\"\nlimit = 1\nsite = \"NOPE\"\n", 1, "no site 'NOPE'"),
            ("[[rules]]\nname = \"w\"\nfactor = \"a34004\"\nlimit = 1\ncolour = \"red\"\n", 1,
             "unknown member 'colour'"),
            ("[[rules]]\nname = \"d\"\nfactor = \"a34004\"\nlimit = 1\n[[rules]]\nname = \"d\"\nfactor = \"a34004\"\nlimit = 2\n",
             5, "a second rule named 'd'"),
            ("rules = 3\n", 1, "[[rules]] tables"),
        ]
        for text, line, reason in cases:
            write_config(self.config, text)
            p = subprocess.run([ECOMON, "serve", "--config", self.config, "--data", data, "--registry", registry,
                                "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("line %d" % line, p.stderr, text)
            self.assertIn(reason, p.stderr, text)
        # Nothing of the refused files was stored.
        write_config(self.config, "")
        self.server = Server("--config", self.config, data=data)
        self.assertEqual(self.config_rules(), {})


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + os.urandom(3000)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class EvidenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        srv = cls.server
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM2.5 evidence", "site": SITE, "factor": "a34004", "data_kind": "rtd", "limit": 75})
        assert status == 201, rule
        s = srv.connect()
        s.sendall(rtd("20260101000000101", datatime(900), "120"))
        read_frames(s, 1)
        s.close()
        cls.alarm = wait_for("an alarm", lambda: srv.get("/api/v1/alarms?rule=%d" % rule["id"])[1]["alarms"])[0]
        cls.base = "/api/v1/alarms/%d/evidence" % cls.alarm["id"]

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def upload(self, body, ctype, name=None, key=None):
        path = self.base + ("?name=" + urllib.parse.quote(name) if name is not None else "")
        status, out, _ = self.server.request("POST", path, body=body, key=key, headers={"Content-Type": ctype})
        return status, out

    def download(self, eid, key=None):
        url = "http://127.0.0.1:%d%s/%d" % (self.server.http_port, self.base, eid)
        req = urllib.request.Request(url, headers=self.server.auth_headers(key))
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def test_upload_list_download_and_the_handle_transition(self):
        status, png = self.upload(PNG, "image/png", "现场照片 1.png")
        self.assertEqual(status, 201, png)
        self.assertEqual((png["name"], png["content_type"], png["size"]), ("现场照片 1.png", "image/png", len(PNG)))
        self.assertEqual(png["sha256"], hashlib.sha256(PNG).hexdigest())
        self.assertEqual(png["alarm_id"], self.alarm["id"])
        status, pdf = self.upload(PDF, "application/pdf; charset=binary", "lab-sheet.pdf")
        self.assertEqual(status, 201, pdf)
        status, jpg = self.upload(JPEG, "image/jpeg")  # no name
        self.assertEqual((status, jpg["name"]), (201, "evidence"), jpg)

        status, listed = self.server.get(self.base)
        self.assertEqual(status, 200, listed)
        mine = [e["id"] for e in listed["evidence"]]
        self.assertTrue({png["id"], pdf["id"], jpg["id"]} <= set(mine))

        status, data, headers = self.download(png["id"])
        self.assertEqual((status, data), (200, PNG))
        self.assertEqual(headers["Content-Type"], "image/png")
        disposition = headers["Content-Disposition"]
        self.assertTrue(disposition.startswith("attachment;"), disposition)
        self.assertIn("filename*=UTF-8''" + urllib.parse.quote("现场照片 1.png", safe=""), disposition)
        self.assertIn("sandbox", headers["Content-Security-Policy"])
        # Stored once by its hash under the data directory.
        sha = png["sha256"]
        with open(os.path.join(self.server.dir, "evidence", sha[:2], sha), "rb") as f:
            self.assertEqual(f.read(), PNG)
        status, _, _ = self.download(999999)
        self.assertEqual(status, 404)

        # The disposal refers to the files; a file of another alarm is refused.
        path = "/api/v1/alarms/%d/" % self.alarm["id"]
        status, body = self.server.send("POST", path + "ack", {})
        self.assertEqual(status, 200, body)
        status, body = self.server.send("POST", path + "handle", {"note": "photos taken", "evidence": [424242]})
        self.assertEqual(status, 400, body)
        status, body = self.server.send("POST", path + "handle", {"note": "photos taken",
                                                                  "evidence": [png["id"], pdf["id"]]})
        self.assertEqual((status, body["state"]), (200, "handled"), body)
        status, detail = self.server.get("/api/v1/alarms/%d" % self.alarm["id"])
        handle = [e for e in detail["events"] if e["action"] == "handle"][0]
        self.assertIn("[evidence %d,%d]" % (png["id"], pdf["id"]), handle["note"])

        status, audit = self.server.get("/api/v1/audit?limit=200")
        uploads = [e for e in audit["entries"] if e["action"] == "alarm.evidence"]
        self.assertGreaterEqual(len(uploads), 3)
        self.assertIn(sha, " ".join(e["detail"] for e in uploads))

    def test_backup_carries_the_files(self):
        status, png = self.upload(PNG + b"backup", "image/png", "backup.png")
        self.assertEqual(status, 201, png)
        out = tempfile.mkdtemp(prefix="ecomon-evbak-")
        try:
            backup = os.path.join(out, "b.db")
            p = subprocess.run([ECOMON, "backup", "--data", self.server.dir, "--to", backup],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            restored = os.path.join(out, "restored")
            p = subprocess.run([ECOMON, "restore", "--from", backup, "--data", restored],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            sha = png["sha256"]
            with open(os.path.join(restored, "evidence", sha[:2], sha), "rb") as f:
                self.assertEqual(f.read(), PNG + b"backup")
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def test_hostile_names_are_sanitised(self):
        cases = [("../../etc/passwd", "passwd"), ("..\\..\\win.ini", "win.ini"),
                 ("a\r\nSet-Cookie: x=1.png", "aSet-Cookie x=1.png"), ('"quoted";.png', "quoted.png"),
                 ("...hidden", "hidden"), ("\x00\x01", "evidence"), ("长" * 100 + ".png", "长" * 40)]
        for raw, expected in cases:
            status, out = self.upload(PNG, "image/png", raw)
            self.assertEqual(status, 201, out)
            self.assertEqual(out["name"], expected, raw)
            status, data, headers = self.download(out["id"])
            self.assertEqual((status, data), (200, PNG))
            self.assertNotIn("\n", headers["Content-Disposition"])
        # Nothing was written outside the evidence directory.
        self.assertFalse(os.path.exists(os.path.join(self.server.dir, "passwd")))

    def test_limits_types_and_counters(self):
        status, out = self.upload(b"MZ\x90\x00" + b"\x00" * 100, "application/x-msdownload", "tool.exe")
        self.assertEqual((status, out["error"]["code"]), (415, "bad_type"), out)
        status, out = self.upload(b"MZ\x90\x00" + b"\x00" * 100, "image/png", "photo.png")
        self.assertEqual((status, out["error"]["code"]), (415, "type_mismatch"), out)
        status, out = self.upload(b"a,b\n\xff\xfe\n", "text/csv", "lab.csv")
        self.assertEqual((status, out["error"]["code"]), (415, "type_mismatch"), out)
        status, out = self.upload(b"site,value\n2526A,1.5\n", "text/csv", "lab.csv")
        self.assertEqual(status, 201, out)
        status, out = self.upload(b"", "image/png", "empty.png")
        self.assertEqual((status, out["error"]["code"]), (400, "empty"), out)
        big = PNG + b"\x00" * (10 * 1024 * 1024 + 1 - len(PNG))  # one byte over 10 MiB
        status, out = self.upload(big, "image/png", "big.png")
        self.assertEqual((status, out["error"]["code"]), (413, "too_large"), out)
        bigger = big + b"\x00" * (1024 * 1024)  # beyond what the server reads at all
        try:
            status, out = self.upload(bigger, "image/png", "bigger.png")
            self.assertEqual(status, 413, out)
        except (ConnectionError, urllib.error.URLError):
            pass  # the server may close before the client finished sending: also refused
        self.assertGreaterEqual(self.server.metric('ecomon_evidence_refused_total{reason="bad_type"}'), 1)
        self.assertGreaterEqual(self.server.metric('ecomon_evidence_refused_total{reason="type_mismatch"}'), 2)
        self.assertGreaterEqual(self.server.metric('ecomon_evidence_refused_total{reason="too_large"}'), 1)
        # Without a credential a large body is not read at all: 401 or 413, never stored.
        try:
            status, out = self.upload(big, "image/png", "anon.png", key="")
            self.assertIn(status, (401, 413), out)
        except (ConnectionError, urllib.error.URLError):
            pass  # closed before the body was read: refused too

    def test_concurrent_uploads_are_bounded(self):
        path = self.base + "?name=slow.png"
        held = []

        def start_upload():
            sock = socket.create_connection(("127.0.0.1", self.server.http_port), timeout=10)
            head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: image/png\r\nContent-Length: %d\r\n\r\n" % (path, self.server.key, 1 << 20))
            sock.sendall(head.encode() + PNG)  # the rest of the body never comes (yet)
            return sock

        try:
            for _ in range(4):  # HttpOptions::max_concurrent_uploads
                held.append(start_upload())
            time.sleep(0.5)  # let the server read their headers
            fifth = start_upload()
            answer = fifth.recv(4096).decode(errors="replace")
            fifth.close()
            self.assertTrue(answer.startswith("HTTP/1.1 503"), answer)
            self.assertIn('"busy"', answer)
            self.assertIn("Retry-After", answer)
        finally:
            for sock in held:
                sock.close()
        # The slots are free again once those connections ended.
        status, out = wait_for("an upload slot", lambda: (lambda r: r[0] == 201 and r)(
            self.upload(PNG, "image/png", "after.png")))
        self.assertEqual(status, 201, out)

    def test_roles_and_scopes(self):
        other = create_key(self.server.dir, "enforcer", "site:2525A")
        status, out = self.upload(PNG, "image/png", "x.png", key=other)
        self.assertEqual(status, 403, out)
        status, out = self.server.get(self.base, key=other)
        self.assertEqual(status, 403, out)
        viewer = create_key(self.server.dir, "viewer")
        status, out = self.upload(PNG, "image/png", "x.png", key=viewer)
        self.assertEqual(status, 403, out)


class IncidentReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_report_html_and_json(self):
        srv = self.server
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM2.5 report", "site": SITE, "factor": "a34004", "data_kind": "rtd", "limit": 75})
        self.assertEqual(status, 201, rule)
        status, inc = srv.send("POST", "/api/v1/incidents", {
            "title": "<script>alert(1)</script> 化工厂泄漏", "location": "利州区 嘉陵江 上游 2 km",
            "pollutant": "a34004", "sites": [SITE], "note": "启动应急监测", "rtd_interval_s": 60})
        self.assertEqual(status, 201, inc)
        iid = inc["id"]
        time.sleep(4)  # the values below are measured after the incident opened (DataTime: seconds)
        s = srv.connect()
        s.sendall(b"".join(rtd("2026010100000020%d" % k, datatime(3 - k), v)
                           for k, v in enumerate(["50", "150", "100"])))
        self.assertEqual([a["CN"] for a in read_frames(s, 3)], ["9014"] * 3)
        s.close()
        wait_for("the alarm", lambda: srv.get("/api/v1/alarms?rule=%d" % rule["id"])[1]["alarms"])
        status, _ = srv.send("POST", "/api/v1/incidents/%d/actions" % iid, {"text": "布设围堰，下游取样"})
        self.assertEqual(status, 200)
        status, _ = srv.send("POST", "/api/v1/incidents/%d/close" % iid, {"note": "警报解除"})
        self.assertEqual(status, 200)

        status, html, headers = srv.request("GET", "/api/v1/incidents/%d/report" % iid)
        self.assertEqual(status, 200, html)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertEqual(headers["Content-Disposition"], 'attachment; filename="incident-%d-report.html"' % iid)
        for text in ("应急监测报告", "一、事件基本情况", "利州区 嘉陵江 上游 2 km", "a34004", "三、加密监测设备",
                     "四、处置过程", "布设围堰，下游取样", "五、监测数据", "小时均值", "六、超标及预警情况",
                     "PM2.5 report", MN):
            self.assertIn(text, html)
        self.assertNotIn("<script>", html)
        self.assertIn("&lt;script&gt;", html)

        status, rep = srv.get("/api/v1/incidents/%d/report?format=json" % iid)
        self.assertEqual(status, 200, rep)
        self.assertEqual((rep["incident"]["location"], rep["incident"]["state"]), ("利州区 嘉陵江 上游 2 km", "closed"))
        self.assertEqual([x["code"] for x in rep["sites"]], [SITE])
        self.assertTrue(rep["sites"][0]["registered"])
        self.assertEqual([(d["mn"], d["outcome"]) for d in rep["devices"]], [(MN, "offline")])
        kinds = [e["kind"] for e in rep["timeline"]]
        self.assertEqual((kinds[0], kinds[-1]), ("opened", "closed"))
        self.assertIn("alarm", kinds)
        self.assertIn("action", kinds)
        pm = [m for m in rep["measurements"] if m["site"] == SITE and m["factor"] == "a34004"]
        self.assertEqual(len(pm), 1, rep["measurements"])
        pm = pm[0]
        self.assertEqual((pm["count"], pm["mean"], pm["min"], pm["max"], pm["data_kind"]), (3, 100, 50, 150, "rtd"))
        self.assertEqual(sum(h["count"] for h in pm["hourly"]), 3)
        self.assertEqual([(a["rule_name"], a["max_value"]) for a in rep["exceedances"]], [("PM2.5 report", 150)])

        status, body = srv.get("/api/v1/incidents/%d/report?format=xml" % iid)
        self.assertEqual(status, 400, body)
        other = create_key(srv.dir, "enforcer", "site:2525A")
        status, body = srv.get("/api/v1/incidents/%d/report" % iid, key=other)
        self.assertEqual(status, 403, body)


SECRET = "tls-webhook-secret"


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=60)


class TlsReceiver:
    """An HTTPS webhook receiver (http.server + ssl) recording every POST and its signature check."""

    def __init__(self, port, cert, key):
        self.received = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                outer.received.append({"body": json.loads(body),
                                       "signed": hmac.compare_digest(self.headers.get("X-Ecomon-Signature", ""),
                                                                     expected)})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class HttpsWebhookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="ecomon-hook-tls-")
        c = lambda name: os.path.join(cls.certs, name)  # noqa: E731
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost", "-keyout", c("key.pem"), "-out", c("cert.pem"))
        # Trusted too, but issued for another name: the host name check must refuse it.
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other.example",
                "-addext", "subjectAltName=DNS:other.example", "-keyout", c("other_key.pem"),
                "-out", c("other_cert.pem"))
        with open(c("ca.pem"), "w") as out:
            for name in ("cert.pem", "other_cert.pem"):
                with open(c(name)) as f:
                    out.write(f.read())
        cls.c = staticmethod(c)
        cls.server = Server("--webhook-secret", SECRET, "--webhook-ca-file", c("ca.pem"))

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def test_delivered_after_the_receiver_was_down_with_verification(self):
        srv = self.server
        port, wrong_port = free_port(), free_port()
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM2.5 https", "site": SITE, "factor": "a34004", "data_kind": "rtd", "limit": 75,
            "recipients": ["https://localhost:%d/hook" % port, "https://127.0.0.1:%d/hook" % wrong_port]})
        self.assertEqual(status, 201, rule)
        wrong = TlsReceiver(wrong_port, self.c("other_cert.pem"), self.c("other_key.pem"))
        try:
            failures_before = srv.metric("ecomon_alarm_notification_failures_total")
            s = srv.connect()
            s.sendall(rtd("20260101000000301", datatime(1200), "99") + rtd("20260101000000302", datatime(1190), "20"))
            read_frames(s, 2)
            s.close()
            # Nobody listens on `port` yet, and the other receiver's certificate names another host.
            wait_for("failed deliveries",
                     lambda: srv.metric("ecomon_alarm_notification_failures_total") >= failures_before + 2)
            receiver = TlsReceiver(port, self.c("cert.pem"), self.c("key.pem"))
            try:
                got = wait_for("both notifications over https", lambda: len(receiver.received) >= 2 and receiver.received)
                self.assertEqual([r["body"]["event"] for r in got], ["opened", "cleared"])
                self.assertTrue(all(r["signed"] for r in got))
                self.assertEqual(got[0]["body"]["alarm"]["rule_name"], "PM2.5 https")
            finally:
                receiver.close()
            # The receiver whose certificate does not name 127.0.0.1 never got a request.
            self.assertEqual(wrong.received, [])
            self.assertGreaterEqual(srv.metric("ecomon_alarm_notifications_pending"), 2)
        finally:
            wrong.close()

    def test_unreadable_ca_file_refused_at_start(self):
        data = tempfile.mkdtemp(prefix="ecomon-hook-data-")
        p = subprocess.run([ECOMON, "serve", "--data", data, "--registry", os.path.join(REPO, "config", "registry"),
                            "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                            "--webhook-ca-file", os.path.join(data, "missing.pem")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("webhook CA file", p.stderr)
        shutil.rmtree(data, ignore_errors=True)


def hourly_air(qn, hour_start, pm25):
    """An hourly (CN 2061) upload of the six AQI items of the hour starting at `hour_start` (epoch
    s): PM2.5 as given, SO2 10, NO2 40, CO 0.5 mg/m3, O3 100, PM10 40 µg/m3."""
    dt = time.strftime("%Y%m%d%H%M%S", time.gmtime(hour_start + 8 * 3600))
    items = [("a21026", 10), ("a21004", 40), ("a21005", 0.5), ("a05024", 100), ("a34002", 40), ("a34004", pm25)]
    cp = ";".join("%s-Avg=%s,%s-Flag=N" % (code, value, code) for code, value in items)
    return frame("QN=%s;ST=22;CN=2061;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s&&" % (qn, PW, MN, dt, cp))


def iso_utc8(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(epoch_s + 8 * 3600))


class ReviewedAqiTest(unittest.TestCase):
    """The app wires data review actions into aqi_level rules: an invalidated hourly PM2.5 is left
    out of the AQI, a corrected one counts corrected."""

    def test_invalidated_and_corrected_hours(self):
        srv = Server()
        try:
            status, rule = srv.send("POST", "/api/v1/rules", {
                "name": "AQI reviewed", "kind": "aqi_level", "site": SITE, "op": ">", "limit": 100})
            self.assertEqual(status, 201, rule)
            first = (int(time.time()) // 3600 - 30) * 3600
            for start, action, extra in ((first, "invalidate", {}), (first + 3600, "correct", {"value": 30})):
                body = {"site": SITE, "factor": "a34004", "kind": "hour", "from": iso_utc8(start),
                        "to": iso_utc8(start + 3600), "action": action, "reason": "运维核查"}
                body.update(extra)
                status, reply = srv.send("POST", "/api/v1/audit/actions", body)
                self.assertEqual(status, 201, reply)
            dev = srv.connect()
            # Stored PM2.5 300 (invalidated → NA, HJ 633-2026 §5.3.1), 200 (corrected to 30 → AQI 43),
            # then an unreviewed 80 (AQI 119) that must open the alarm.
            dev.sendall(hourly_air("20260101000000401", first, 300) +
                        hourly_air("20260101000000402", first + 3600, 200) +
                        hourly_air("20260101000000403", first + 7200, 80))
            self.assertEqual([f["CN"] for f in read_frames(dev, 3, timeout=60)], ["9014"] * 3)
            dev.close()
            alarms = wait_for("the AQI alarm", lambda: srv.get("/api/v1/alarms?rule=%d" % rule["id"])[1]["alarms"])
            self.assertEqual(len(alarms), 1)
            self.assertEqual((alarms[0]["value"], alarms[0]["opened_at"]), (119, iso_utc8(first + 7200)))
            self.assertEqual(alarms[0]["max_value"], 119)
        finally:
            srv.close()


class SourceAndRadiationRulesTest(unittest.TestCase):
    """drinking_water and radiation_dose over real HJ 212, with the registry facts the app hands the
    engine: the site's kind (a drinking-water source) and the radiation baseline settings."""

    @classmethod
    def setUpClass(cls):
        cls.registry = tempfile.mkdtemp(prefix="ecomon-reg-")
        src = os.path.join(REPO, "config", "registry")
        for name in os.listdir(src):
            if name.endswith(".csv"):
                shutil.copy(os.path.join(src, name), cls.registry)

        def append(name, line):
            with open(os.path.join(cls.registry, name), "a", encoding="utf-8") as f:
                f.write(line + "\n")

        append("sites.csv", "RAD001,测试辐射站,radiation,city,,,,四川省,510000,广元市,510800,,,,,"
                            "广元市生态环境局,test,test station")
        append("devices.csv", "GYRAD00000000001,22,123456,2017,hj212,3600,,,test radiation logger")
        append("devices.csv", "GYDW010000000001,21,123456,2017,hj212,3600,,,test source logger")
        append("assignments.csv", "GYRAD00000000001,RAD001,2020-01-01,,test")
        append("assignments.csv", "GYDW010000000001,510800DW01,2020-01-01,,test")
        append("settings.csv", "RAD001,radiation_mean_ngy_h,100,,,test,baseline of the test station")
        append("settings.csv", "RAD001,radiation_sd_ngy_h,5,,,test,baseline of the test station")
        cls.server = Server(registry=cls.registry)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.registry, ignore_errors=True)

    def send(self, mn, st, qn, seconds_ago, items):
        cp = ";".join("%s-Rtd=%s,%s-Flag=N" % (code, value, code) for code, value in items)
        s = self.server.connect()
        s.sendall(frame("QN=%s;ST=%s;CN=2011;PW=123456;MN=%s;Flag=5;CP=&&DataTime=%s;%s&&"
                        % (qn, st, mn, datatime(seconds_ago), cp)))
        self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
        s.close()

    def alarms(self, rule):
        return self.server.get("/api/v1/alarms?rule=%d" % rule["id"])[1]["alarms"]

    def test_drinking_water_items_at_a_source(self):
        status, rule = self.server.send("POST", "/api/v1/rules", {
            "name": "水源地补充项目", "kind": "drinking_water", "data_kind": "rtd"})
        self.assertEqual(status, 201, rule)
        # GB 3838-2002 表2: iron ≤ 0.3, sulfate ≤ 250 mg/L.
        self.send("GYDW010000000001", "21", "20260101000000501", 600, [("w20125", "0.45"), ("w21038", "120")])
        got = wait_for("the iron alarm", lambda: self.alarms(rule))
        self.assertEqual([(a["subject"], a["factor"], a["value"], a["limit"]) for a in got],
                         [("site:510800DW01/w20125", "w20125", 0.45, 0.3)])

    def test_radiation_dose_above_the_registered_baseline(self):
        status, rule = self.server.send("POST", "/api/v1/rules", {
            "name": "γ剂量率异常", "kind": "radiation_dose", "site": "RAD001", "factor": "rad001",
            "data_kind": "rtd"})
        self.assertEqual(status, 201, rule)
        self.assertEqual(rule["limit"], 3)
        # Baseline 100 ± 5 nGy/h: the investigation level is 115.
        self.send("GYRAD00000000001", "22", "20260101000000601", 600, [("rad001", "112")])
        self.send("GYRAD00000000001", "22", "20260101000000602", 590, [("rad001", "131")])
        got = wait_for("the dose-rate alarm", lambda: self.alarms(rule))
        self.assertEqual([(a["value"], a["limit"]) for a in got], [(131, 115)])
        status, detail = self.server.get("/api/v1/alarms/%d" % got[0]["id"])
        self.assertTrue(detail["events"][0]["note"].startswith("abnormal"), detail["events"][0])


if __name__ == "__main__":
    unittest.main()
