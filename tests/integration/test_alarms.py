"""Alarms over the real binary and real HJ 212 (issue #6): a rule made through the API, one alarm
per episode however many frames exceed, clearing, offline detection, a factor missing from an
online device, the lifecycle through the API into the audit trail, a webhook receiver that is down
at first and later receives every notification, each signed with HMAC-SHA256, and the live event
stream (Server-sent events) with its resumption and scopes.

No wall-clock limits are asserted: every wait polls with a generous deadline."""
import hashlib
import hmac
import http.server
import json
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import create_key, frame, free_port, read_frames, Server, wait_for, data_time_ago as datatime  # noqa: E402

SECRET = "webhook-secret-for-tests"
SITE, MN, PW = "2526A", "GY00000002526A", "123456"
OFFLINE_MN, OFFLINE_SITE = "GY00000002525A", "2525A"


def rtd(mn, qn, data_time, value, flag="N"):
    """A real-time (CN 2011) upload of PM2.5 with the ack bit."""
    return frame("QN=%s;ST=22;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;a34004-Rtd=%s,a34004-Flag=%s&&"
                 % (qn, PW, mn, data_time, value, flag))


def rtd_factor(mn, qn, data_time, factor, value):
    """A real-time (CN 2011) upload of one factor with the ack bit."""
    return frame("QN=%s;ST=22;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s-Rtd=%s,%s-Flag=N&&"
                 % (qn, PW, mn, data_time, factor, value, factor))


class EventStream:
    """GET /api/v1/events over a raw socket: the status line, then one block per event or comment.
    The socket timeout (60 s, beyond the 15 s heartbeat) is the generous deadline of each read."""

    def __init__(self, port, key, query="", headers=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        lines = ["GET /api/v1/events%s HTTP/1.1" % query, "Host: 127.0.0.1", "Accept: text/event-stream"]
        if key:
            lines.append("Authorization: Bearer " + key)
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n").decode()
        self.status = int(head.split(" ")[1])
        self.head = head.lower()

    def _until(self, sep):
        while sep not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("stream closed")
            self.buf += chunk
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def block(self):
        """The next block as {"id","event","data","comment"} (absent fields are None)."""
        out = {"id": None, "event": None, "data": None, "comment": None}
        for line in self._until(b"\n\n").decode().split("\n"):
            if line.startswith(":"):
                out["comment"] = line[1:].strip()
            else:
                name, _, value = line.partition(":")
                out[name] = value[1:] if value.startswith(" ") else value
        return out

    def alarm_event(self, pred, limit=1000):
        """The first alarm event whose parsed data satisfies pred."""
        for _ in range(limit):
            b = self.block()
            if b["event"] == "alarm":
                data = json.loads(b["data"])
                if pred(data):
                    return int(b["id"]), data
        raise AssertionError("no matching alarm event")

    def close(self):
        self.sock.close()


class Receiver:
    """A webhook receiver (http.server) that records every POST with its signature check."""

    def __init__(self, port):
        self.received = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                outer.received.append({
                    "body": json.loads(body),
                    "signed": hmac.compare_digest(self.headers.get("X-Ecomon-Signature", ""), expected),
                })
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class AlarmTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hook_port = free_port()  # nothing listens here until the receiver starts
        cls.server = Server("--webhook-secret", SECRET)
        cls.qn = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def next_qn(self):
        AlarmTest.qn += 1
        return "20260101%09d" % AlarmTest.qn

    def alarms(self, query):
        status, body = self.server.get("/api/v1/alarms?" + query)
        self.assertEqual(status, 200, body)
        return body["alarms"]

    def test_rule_episode_lifecycle_audit_and_webhook(self):
        srv = self.server
        hook = "http://127.0.0.1:%d/hook" % self.hook_port
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM2.5 high", "kind": "threshold", "site": SITE, "factor": "a34004",
            "data_kind": "rtd", "op": ">", "limit": 75, "severity": "major", "recipients": [hook]})
        self.assertEqual(status, 201, rule)
        self.assertIsInstance(rule["id"], int)
        self.assertEqual(rule["field"], "Rtd")
        self.assertTrue(rule["enabled"])
        status, listed = srv.get("/api/v1/rules")
        self.assertIn(rule["id"], [r["id"] for r in listed["rules"]])
        q = "rule=%d" % rule["id"]

        # One exceeding frame: one open alarm.
        base = 3 * 3600  # seconds ago of the first value
        self.server.send_acked([rtd(MN, self.next_qn(), datatime(base), "80")])
        alarms = wait_for("the alarm", lambda: self.alarms(q))
        self.assertEqual(len(alarms), 1)
        a = alarms[0]
        for key in ("id", "rule_id", "rule_name", "state", "site", "factor", "severity", "opened_at",
                    "updated_at", "cleared_at", "value", "max_value", "count", "retroactive"):
            self.assertIn(key, a)
        self.assertEqual((a["state"], a["site"], a["factor"], a["severity"], a["rule_name"]),
                         ("open", SITE, "a34004", "major", "PM2.5 high"))
        self.assertEqual((a["count"], a["value"], a["retroactive"], a["cleared_at"]), (1, 80, False, None))
        self.assertEqual(a["rule_id"], rule["id"])

        # 1,000 further exceeding frames: still one alarm, counting 1,001 values.
        frames = [rtd(MN, self.next_qn(), datatime(base - 1 - i), str(76 + i % 40)) for i in range(1000)]
        self.server.send_acked(frames)
        wait_for("count 1001", lambda: self.alarms(q)[0]["count"] == 1001)
        alarms = self.alarms(q)
        self.assertEqual(len(alarms), 1)
        self.assertEqual(alarms[0]["max_value"], 115)
        self.assertIsNone(alarms[0]["cleared_at"])

        # Values flagged maintenance or calibration neither clear nor count.
        self.server.send_acked([rtd(MN, self.next_qn(), datatime(base - 1001), "10", "M"),
                   rtd(MN, self.next_qn(), datatime(base - 1002), "500", "C")])
        # A normal frame clears the episode.
        self.server.send_acked([rtd(MN, self.next_qn(), datatime(base - 1003), "40")])
        cleared = wait_for("clearing", lambda: [x for x in self.alarms(q) if x["cleared_at"]])
        self.assertEqual(len(self.alarms(q)), 1)
        self.assertEqual(cleared[0]["count"], 1001)
        self.assertFalse(cleared[0]["active"])
        status, active = srv.get("/api/v1/alarms?active=true&" + q)
        self.assertEqual(active["alarms"], [])

        # The lifecycle through the API; an illegal step is refused with 409.
        aid = a["id"]
        path = "/api/v1/alarms/%d/" % aid
        status, body = srv.send("POST", path + "close", {"note": "too early"})
        self.assertEqual(status, 409, body)
        self.assertEqual(body["error"]["code"], "illegal")
        status, body = srv.send("POST", path + "ack", {"note": "seen by the duty officer"})
        self.assertEqual((status, body["state"]), (200, "acknowledged"), body)
        status, body = srv.send("POST", path + "ack", {})
        self.assertEqual(status, 409, body)
        status, body = srv.send("POST", path + "dispatch", {})
        self.assertEqual(status, 400, body)  # no department
        status, body = srv.send("POST", path + "dispatch", {
            "department": "利州区生态环境执法大队", "assignee": "王队长", "due": "2099-01-01T12:00:00+08:00",
            "note": "check the station"})
        self.assertEqual((status, body["state"]), (200, "dispatched"), body)
        self.assertEqual(body["due_at"], "2099-01-01T12:00:00+08:00")
        status, tasks = srv.get("/api/v1/tasks")
        self.assertIn(aid, [t["id"] for t in tasks["tasks"]])
        status, body = srv.send("POST", path + "handle", {"note": "dust from road works; sprinkling ordered"})
        self.assertEqual((status, body["state"]), (200, "handled"), body)
        status, body = srv.send("POST", path + "close", {"note": "done"})
        self.assertEqual((status, body["state"]), (200, "closed"), body)
        self.assertIsNotNone(body["closed_at"])
        status, detail = srv.get("/api/v1/alarms/%d" % aid)
        self.assertEqual(status, 200, detail)
        self.assertEqual([(e["action"], e["to"]) for e in detail["events"]],
                         [("opened", "open"), ("cleared", "open"), ("ack", "acknowledged"),
                          ("dispatch", "dispatched"), ("handle", "handled"), ("close", "closed")])
        status, audit = srv.get("/api/v1/audit?action=alarm.&limit=100")
        self.assertEqual(status, 200, audit)
        actions = [e["action"] for e in audit["entries"] if e["target"] == str(aid)]
        self.assertEqual(sorted(actions), ["alarm.ack", "alarm.close", "alarm.dispatch", "alarm.handle"])
        status, audit = srv.get("/api/v1/audit?action=rule.create")
        self.assertIn(str(rule["id"]), [e["target"] for e in audit["entries"]])

        # A reviewer invalidates the data the alarm was raised on: the (closed) alarm's timeline
        # says so — who, why, which action — and nothing else about it changes.
        status, reply = srv.send("POST", "/api/v1/audit/actions", {
            "site": SITE, "factor": "a34004", "kind": "rtd", "from": detail["opened_at"],
            "to": detail["cleared_at"], "action": "invalidate", "reason": "仪器漂移"})
        self.assertEqual(status, 201, reply)
        revised = wait_for("data_revised", lambda: [e for e in srv.get("/api/v1/alarms/%d" % aid)[1]["events"]
                                                     if e["action"] == "data_revised"])
        self.assertEqual(len(revised), 1)
        self.assertIn("review action #%d: invalidate a34004" % reply["id"], revised[0]["note"])
        self.assertIn("仪器漂移", revised[0]["note"])
        self.assertEqual((revised[0]["from"], revised[0]["to"]), ("closed", "closed"))
        status, after = srv.get("/api/v1/alarms/%d" % aid)
        self.assertEqual((after["state"], after["count"]), ("closed", 1001))

        # The receiver was down all along: the notifications waited in the outbox.
        self.assertGreaterEqual(srv.metric("ecomon_alarm_notifications_pending"), 2)
        self.assertGreaterEqual(srv.metric("ecomon_alarm_notification_failures_total"), 1)
        receiver = Receiver(self.hook_port)
        try:
            got = wait_for("both notifications",
                           lambda: len([r for r in receiver.received if r["body"]["alarm"]["id"] == aid]) >= 2,
                           timeout=400)
            mine = [r for r in receiver.received if r["body"]["alarm"]["id"] == aid]
            self.assertTrue(got)
            self.assertEqual([r["body"]["event"] for r in mine], ["opened", "cleared"])
            self.assertTrue(all(r["signed"] for r in receiver.received))
            self.assertEqual(mine[0]["body"]["alarm"]["rule_name"], "PM2.5 high")
            wait_for("nothing pending", lambda: srv.metric("ecomon_alarm_notifications_pending") == 0)
            self.assertGreaterEqual(srv.metric("ecomon_alarm_notifications_delivered_total"), 2)
        finally:
            receiver.close()

        # Disabling the rule: no new alarm from further exceeding frames.
        status, body = srv.request("DELETE", "/api/v1/rules/%d" % rule["id"])[:2]
        self.assertEqual((status, body["enabled"]), (200, False), body)
        before = srv.metric("ecomon_alarm_values_evaluated_total")
        self.server.send_acked([rtd(MN, self.next_qn(), datatime(base - 1004), "300")])
        wait_for("evaluation", lambda: srv.metric("ecomon_alarm_values_evaluated_total") > before)
        self.assertEqual(len(self.alarms(q)), 1)

    def test_offline_device_fires_and_clears(self):
        srv = self.server
        status, body = srv.send("PUT", "/api/v1/devices/%s" % OFFLINE_MN, {"interval_s": 2})
        self.assertEqual(status, 200, body)
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "station silent", "kind": "offline", "device": OFFLINE_MN, "tolerance": 2,
            "severity": "critical"})
        self.assertEqual(status, 201, rule)
        self.assertEqual(rule["tolerance"], 2)
        q = "rule=%d" % rule["id"]
        alarms = wait_for("offline alarm", lambda: [a for a in self.alarms(q) if a["active"]])
        self.assertEqual(len(alarms), 1)
        a = alarms[0]
        self.assertEqual((a["mn"], a["site"], a["severity"], a["kind"]),
                         (OFFLINE_MN, OFFLINE_SITE, "critical", "offline"))
        self.assertGreaterEqual(a["value"], 4)  # seconds silent: at least 2 s x 2
        # Heard again: cleared (it may go silent again afterwards: that is a new episode).
        s = srv.connect()
        s.sendall(rtd(OFFLINE_MN, self.next_qn(), datatime(5), "12"))
        self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
        wait_for("clearing", lambda: [x for x in self.alarms(q) if x["id"] == a["id"] and x["cleared_at"]])
        s.close()
        self.assertEqual(srv.request("DELETE", "/api/v1/rules/%d" % rule["id"])[0], 200)

    def test_events_stream_live_resume_and_scope(self):
        srv = self.server
        # Authentication before routing: no key, no stream.
        self.assertEqual(srv.get("/api/v1/events", key="")[0], 401)
        nokey = EventStream(srv.http_port, "")
        self.assertEqual(nokey.status, 401)
        nokey.close()
        self.assertEqual(srv.get("/api/v1/events?after=x")[0], 400)

        live = EventStream(srv.http_port, srv.key)
        self.assertEqual(live.status, 200, live.head)
        self.assertIn("content-type: text/event-stream", live.head)
        self.assertEqual(live.block()["comment"], "connected")  # the stream's position is set
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM10 live", "site": SITE, "factor": "a34002", "data_kind": "rtd", "limit": 150})
        self.assertEqual(status, 201, rule)
        self.server.send_acked([rtd_factor(MN, self.next_qn(), datatime(7200), "a34002", "300")])
        event_id, a = live.alarm_event(lambda d: d["rule_id"] == rule["id"])
        live.close()
        listed = self.alarms("rule=%d" % rule["id"])
        self.assertEqual(len(listed), 1)
        self.assertEqual(a, listed[0])  # the flat alarm, as /api/v1/alarms shows it
        self.assertEqual((a["state"], a["site"], a["factor"], a["value"], a["kind"], a["active"]),
                         ("open", SITE, "a34002", 300, "threshold", True))

        # Resumption from the alarm_events sequence: ?after= and Last-Event-ID.
        resumed = EventStream(srv.http_port, srv.key, "?after=%d" % (event_id - 1))
        self.assertEqual(resumed.alarm_event(lambda d: True)[0], event_id)
        resumed.close()
        resumed = EventStream(srv.http_port, srv.key, headers={"Last-Event-ID": str(event_id - 1)})
        self.assertEqual(resumed.alarm_event(lambda d: True)[0], event_id)
        resumed.close()

        # A caller scoped to another site never sees it; the position still moves (a comment).
        other = create_key(srv.dir, "viewer", "site:2523A")
        scoped = EventStream(srv.http_port, other, "?after=%d" % (event_id - 1))
        self.assertEqual(scoped.status, 200)
        while True:
            b = scoped.block()
            self.assertNotEqual(b["id"], str(event_id), b)
            if b["id"] and int(b["id"]) > event_id:
                break  # a later event of its own scope: ours was passed over
            if b["comment"] and b["comment"].startswith("at ") and int(b["comment"][3:]) >= event_id:
                break
        scoped.close()
        self.assertEqual(srv.request("DELETE", "/api/v1/rules/%d" % rule["id"])[0], 200)

    def test_factor_missing_fires_while_online_and_clears(self):
        srv = self.server
        mn, site = "GY00000002524A", "2524A"
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "PM2.5 not reported", "kind": "factor_missing", "device": mn, "factor": "a34004",
            "data_kind": "rtd", "interval_s": 1, "count": 2})
        self.assertEqual(status, 201, rule)
        self.assertEqual((rule["kind"], rule["count"], rule["interval_s"]), ("factor_missing", 2, 1))
        q = "rule=%d" % rule["id"]
        s = srv.connect()

        def frames_without_the_factor():
            s.sendall(rtd_factor(mn, self.next_qn(), datatime(60), "a21026", "8"))
            self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
            return [a for a in self.alarms(q) if a["active"]]

        alarms = wait_for("factor_missing alarm", frames_without_the_factor, interval=0.5)
        self.assertEqual(len(alarms), 1)
        a = alarms[0]
        self.assertEqual((a["kind"], a["mn"], a["site"], a["factor"], a["data_kind"], a["limit"]),
                         ("factor_missing", mn, site, "a34004", "rtd", 2))
        # The factor comes back: cleared.
        s.sendall(rtd_factor(mn, self.next_qn(), datatime(30), "a34004", "20"))
        self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
        wait_for("clearing", lambda: [x for x in self.alarms(q) if x["id"] == a["id"] and x["cleared_at"]])
        s.close()
        self.assertEqual(srv.request("DELETE", "/api/v1/rules/%d" % rule["id"])[0], 200)

    def test_bad_rules_roles_and_scopes(self):
        srv = self.server
        good = {"name": "x", "kind": "threshold", "site": SITE, "factor": "a34002", "data_kind": "hour",
                "op": ">", "limit": 150}
        for change, reason in [({"kind": "sometimes"}, "kind"), ({"op": "!="}, "op"),
                               ({"limit": "high"}, "limit"), ({"severity": "urgent"}, "severity"),
                               ({"data_kind": "week"}, "data_kind"), ({"colour": "red"}, "colour"),
                               ({"recipients": ["ftp://x"]}, "recipients"), ({"site": "NOSUCH"}, "NOSUCH")]:
            body = dict(good, **change)
            status, answer = srv.send("POST", "/api/v1/rules", body)
            self.assertEqual(status, 400, (change, answer))
            self.assertIn(reason, answer["error"]["message"])
        no_limit = dict(good)
        del no_limit["limit"]
        self.assertEqual(srv.send("POST", "/api/v1/rules", no_limit)[0], 400)
        self.assertEqual(srv.request("POST", "/api/v1/rules", body=b"not json")[0], 400)
        self.assertEqual(srv.send("POST", "/api/v1/alarms/999999/ack", {})[0], 404)
        self.assertEqual(srv.get("/api/v1/alarms?state=sleeping")[0], 400)
        self.assertEqual(srv.get("/api/v1/alarms/abc")[0], 400)
        self.assertEqual(srv.request("DELETE", "/api/v1/rules/999999")[0], 404)

        # A viewer reads alarms but may not write rules or handle alarms.
        viewer = create_key(srv.dir, "viewer")
        self.assertEqual(srv.get("/api/v1/alarms", key=viewer)[0], 200)
        self.assertEqual(srv.send("POST", "/api/v1/rules", good, key=viewer)[0], 403)
        # A caller scoped to another site sees none of this site's alarms or rules.
        status, rule = srv.send("POST", "/api/v1/rules", dict(good, name="scoped"))
        self.assertEqual(status, 201, rule)
        other = create_key(srv.dir, "analyst", "site:2523A")
        status, body = srv.get("/api/v1/alarms", key=other)
        self.assertEqual(status, 200)
        self.assertTrue(all(a["site"] == "2523A" for a in body["alarms"]))
        status, body = srv.get("/api/v1/rules", key=other)
        self.assertNotIn(rule["id"], [r["id"] for r in body["rules"]])
        self.assertEqual(srv.get("/api/v1/alarms?site=%s" % SITE, key=other)[0], 403)
        status, body = srv.send("POST", "/api/v1/rules", dict(good, site=""), key=other)
        self.assertEqual(status, 403, body)  # any-site rules need an unrestricted scope
        self.assertEqual(srv.send("POST", "/api/v1/rules", dict(good, site="2523A"), key=other)[0], 201)


class EventStreamLimitsTest(unittest.TestCase):
    """At most 256 event streams at once (then 503), heartbeats on an idle stream, and a stopping
    server closes them all."""

    def test_limit_and_close_on_stop(self):
        srv = Server()
        streams = []
        try:
            for _ in range(256):
                streams.append(EventStream(srv.http_port, srv.key))
                self.assertEqual(streams[-1].status, 200)
            extra = EventStream(srv.http_port, srv.key)
            self.assertEqual(extra.status, 503, extra.head)
            extra.close()
            self.assertEqual(srv.metric("ecomon_event_streams_open"), 256)
            self.assertEqual(srv.metric("ecomon_event_streams_refused_total"), 1)
            # An idle stream gets a heartbeat comment (every 15 s).
            self.assertEqual(streams[0].block()["comment"], "connected")
            self.assertEqual(streams[0].block()["comment"], "heartbeat")
            # A stream that ends frees its slot.
            streams.pop().close()
            wait_for("a free slot", lambda: self._opens(srv))
            self.assertEqual(srv.stop(), 0, "".join(srv.log)[-4000:])
            for st in streams[:3]:
                with self.assertRaises(EOFError):
                    while True:
                        st.block()
        finally:
            for st in streams:
                st.close()
            srv.close()

    @staticmethod
    def _opens(srv):
        st = EventStream(srv.http_port, srv.key)
        st.close()
        return st.status == 200


def hourly_air(mn, qn, hour_start, pm25):
    """An hourly (CN 2061) upload of the six AQI items of the hour starting at `hour_start` (epoch
    s, whole hour): PM2.5 as given, SO2 10, NO2 40, CO 0.5 mg/m3, O3 100, PM10 40 µg/m3."""
    dt = time.strftime("%Y%m%d%H%M%S", time.gmtime(hour_start + 8 * 3600))
    items = [("a21026", 10), ("a21004", 40), ("a21005", 0.5), ("a05024", 100), ("a34002", 40),
             ("a34004", pm25)]
    cp = ";".join("%s-Avg=%s,%s-Flag=N" % (code, value, code) for code, value in items)
    return frame("QN=%s;ST=22;CN=2061;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s&&" % (qn, PW, mn, dt, cp))


class AqiLevelAlarmTest(unittest.TestCase):
    """An aqi_level rule made through the API, fed by hourly means over HJ 212: the station's
    hourly AQI over the limit opens exactly one alarm whose value is the AQI; 50 more exceeding
    hours leave it one alarm."""

    def test_aqi_level_one_alarm_with_the_aqi_as_value(self):
        srv = Server()
        try:
            status, rule = srv.send("POST", "/api/v1/rules", {
                "name": "AQI 轻度污染及以上", "kind": "aqi_level", "site": SITE, "op": ">", "limit": 100})
            self.assertEqual(status, 201, rule)
            self.assertEqual((rule["kind"], rule["op"], rule["limit"]), ("aqi_level", ">", 100))
            self.assertNotIn("factor", rule)
            status, listed = srv.get("/api/v1/rules")
            self.assertIn("aqi_level", [r["kind"] for r in listed["rules"]])
            # A factor makes no sense for it; a water_class rule may leave its limit out.
            self.assertEqual(srv.send("POST", "/api/v1/rules", {
                "name": "x", "kind": "aqi_level", "factor": "a34004", "limit": 100})[0], 400)
            status, water = srv.send("POST", "/api/v1/rules", {"name": "断面超标", "kind": "water_class"})
            self.assertEqual((status, water["limit"]), (201, None), water)

            # HJ 633-2026 (data of 2026-03-01 on): PM2.5 80 → IAQI 119 (60..115 → 100..150, rounded
            # up), the others lower: AQI 119.
            first = (int(time.time()) // 3600 - 60) * 3600
            q = "rule=%d" % rule["id"]
            dev = srv.connect()
            dev.sendall(hourly_air(MN, "20260101000000001", first, 80))
            self.assertEqual(read_frames(dev, 1, timeout=60)[0]["CN"], "9014")
            alarms = wait_for("the AQI alarm", lambda: srv.get("/api/v1/alarms?" + q)[1]["alarms"])
            self.assertEqual(len(alarms), 1)
            a = alarms[0]
            self.assertEqual((a["kind"], a["site"], a["value"], a["limit"], a["op"], a["active"]),
                             ("aqi_level", SITE, 119, 100, ">", True))

            # 50 more exceeding hours: still one alarm, counting 51 hours.
            frames = [hourly_air(MN, "2026010100000%04d" % (i + 2), first + (i + 1) * 3600, 80 + i)
                      for i in range(50)]
            dev.sendall(b"".join(frames))
            self.assertEqual([f["CN"] for f in read_frames(dev, 50, timeout=60)], ["9014"] * 50)
            dev.close()
            wait_for("51 hours", lambda: srv.get("/api/v1/alarms?" + q)[1]["alarms"][0]["count"] == 51)
            alarms = srv.get("/api/v1/alarms?" + q)[1]["alarms"]
            self.assertEqual(len(alarms), 1)
            self.assertTrue(alarms[0]["active"])
        finally:
            srv.close()


class IncidentTest(unittest.TestCase):
    """Emergency monitoring: an incident switches its sites' devices to a higher real-time
    frequency (CN 1062, answered 9011 + 9012; a device without a connection is recorded offline),
    collects actions and the sites' alarms in its timeline, and closes once."""

    def test_incident_commands_timeline_and_close(self):
        srv = Server()
        try:
            mn, site, quiet_site = "GY00000002523A", "2523A", "2524A"
            status, rule = srv.send("POST", "/api/v1/rules", {
                "name": "PM2.5 spike", "site": site, "factor": "a34004", "data_kind": "rtd", "limit": 75})
            self.assertEqual(status, 201, rule)
            dev = srv.connect()
            dev.sendall(rtd(mn, "20260101000000001", datatime(600), "20"))
            self.assertEqual(read_frames(dev, 1)[0]["CN"], "9014")

            result = {}
            body = {"title": "化工厂火灾", "location": "利州区 工业园", "pollutant": "a34004",
                    "sites": [site, quiet_site], "note": "smoke reported", "rtd_interval_s": 30}
            th = threading.Thread(target=lambda: result.update(
                reply=srv.request("POST", "/api/v1/incidents", body=body)))
            th.start()
            # The device: the 1062 arrives; it accepts and executes.
            cmd = read_frames(dev, 1, timeout=30)
            self.assertEqual(len(cmd), 1)
            self.assertEqual((cmd[0]["CN"], cmd[0]["MN"], cmd[0]["CP"]), ("1062", mn, "RtdInterval=30"))
            qn = cmd[0]["QN"]
            dev.sendall(frame("QN=%s;ST=91;CN=9011;PW=%s;MN=%s;Flag=8;CP=&&QnRtn=1&&" % (qn, PW, mn)) +
                        frame("QN=%s;ST=91;CN=9012;PW=%s;MN=%s;Flag=8;CP=&&ExeRtn=1&&" % (qn, PW, mn)))
            th.join(60)
            status, inc, _ = result["reply"]
            self.assertEqual(status, 201, inc)
            self.assertEqual((inc["state"], inc["sites"], inc["rtd_interval_s"], inc["title"]),
                             ("open", [site, quiet_site], 30, "化工厂火灾"))
            commands = {e["mn"]: e["outcome"] for e in inc["timeline"] if e["kind"] == "command"}
            self.assertEqual(commands, {mn: "executed", "GY00000002524A": "offline"})
            self.assertEqual(inc["timeline"][0]["kind"], "opened")
            self.assertEqual(inc["timeline"][0]["text"], "smoke reported")
            path = "/api/v1/incidents/%d" % inc["id"]

            # An alarm at an affected site joins the timeline.
            dev.sendall(rtd(mn, "20260101000000002", datatime(300), "180"))
            self.assertEqual(read_frames(dev, 1)[0]["CN"], "9014")
            dev.close()
            shown = wait_for("the alarm in the timeline", lambda: [
                e for e in srv.get(path)[1]["timeline"] if e["kind"] == "alarm"])
            self.assertEqual(shown[0]["text"], "PM2.5 spike at 2523A")

            status, body = srv.send("POST", path + "/actions", {"text": "sampling team on site"})
            self.assertEqual(status, 200, body)
            self.assertIn(("action", "sampling team on site"),
                          [(e["kind"], e["text"]) for e in body["timeline"]])
            status, body = srv.send("POST", path + "/close", {"note": "fire out"})
            self.assertEqual((status, body["state"]), (200, "closed"), body)
            self.assertIsNotNone(body["closed_at"])
            self.assertEqual(srv.send("POST", path + "/close", {})[0], 409)
            self.assertEqual(srv.send("POST", path + "/actions", {"text": "late"})[0], 409)
            status, listed = srv.get("/api/v1/incidents?state=closed")
            self.assertEqual([i["id"] for i in listed["incidents"]], [inc["id"]])
            status, audit = srv.get("/api/v1/audit?action=incident.")
            self.assertEqual(sorted(e["action"] for e in audit["entries"]),
                             ["incident.action", "incident.close", "incident.create"])

            # Checks, roles and scopes.
            self.assertEqual(srv.get("/api/v1/incidents", key="")[0], 401)
            self.assertEqual(srv.send("POST", "/api/v1/incidents", {"location": "x", "pollutant": "y"})[0], 400)
            self.assertEqual(srv.send("POST", "/api/v1/incidents", dict(body_min(), sites=["NOSUCH"]))[0], 400)
            self.assertEqual(srv.send("POST", "/api/v1/incidents", dict(body_min(), colour="red"))[0], 400)
            self.assertEqual(srv.send("POST", "/api/v1/incidents", dict(body_min(), rtd_interval_s=0))[0], 400)
            viewer = create_key(srv.dir, "viewer")
            self.assertEqual(srv.get(path, key=viewer)[0], 200)
            self.assertEqual(srv.send("POST", "/api/v1/incidents", body_min(), key=viewer)[0], 403)
            other = create_key(srv.dir, "analyst", "site:2525A")
            self.assertEqual(srv.get(path, key=other)[0], 403)
            self.assertEqual(srv.get("/api/v1/incidents", key=other)[1]["incidents"], [])
            self.assertEqual(srv.send("POST", "/api/v1/incidents", body_min(), key=other)[0], 403)
            status, mine = srv.send("POST", "/api/v1/incidents", dict(body_min(), sites=["2525A"]), key=other)
            self.assertEqual(status, 201, mine)
            self.assertEqual([e["kind"] for e in mine["timeline"]], ["opened"])  # no command asked
        finally:
            srv.close()


def body_min():
    return {"location": "昭化区", "pollutant": "w01018", "sites": ["2523A"]}


if __name__ == "__main__":
    unittest.main(verbosity=2)
