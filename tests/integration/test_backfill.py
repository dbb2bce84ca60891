"""Automatic backfill requests over the real binary (issue #5 §3): a connected fake logger with
three missing hours is asked for them (HJ 212 CN 2061 with BeginTime/EndTime), answers 9011,
sends the hours and 9012; the gap closes and GET /api/v1/backfill records the request as
fulfilled. A second logger that answers but sends nothing is recorded as not fulfilled and is not
asked again for the same range. With [backfill] off (the default) nothing is asked.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import calendar
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, expect_silence, frame, read_frames, upload, iso  # noqa: E402

THIS_HOUR = int(time.time()) // 3600
MISSING = (6, 5, 4)  # hours ago


def hour_start(ago):
    return (THIS_HOUR - ago) * 3600


def beijing(epoch_s):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def epoch_of(beijing_text):
    return calendar.timegm(time.strptime(beijing_text, "%Y%m%d%H%M%S")) - 8 * 3600


def values(ago):
    return [("a34004", str(30 + ago)), ("a21026", str(5 + ago % 3))]


class Reader:
    """HJ 212 frames from a socket, keeping what it read past the last whole frame."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def next(self, timeout):
        """The next frame's header fields and CP, or None after `timeout` seconds."""
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise OSError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        seg = line[line.find(b"##") + 6:-4].decode()
        head, _, cp = seg.partition("CP=&&")
        fields = dict(kv.split("=", 1) for kv in head.strip(";").split(";") if "=" in kv)
        fields["CP"] = cp[:-2]
        return fields


class FakeLogger(threading.Thread):
    """Sends its hours, keeps the connection open, answers history requests: 9011, then (when
    `answer_with_data`) every requested hour it holds, then 9012."""

    def __init__(self, server, mn, pw, answer_with_data):
        super().__init__(daemon=True)
        self.sock = server.connect()
        self.mn, self.pw, self.answer_with_data = mn, pw, answer_with_data
        self.requests = []
        self.stopping = False
        self.qn = 0
        frames = [upload(mn, pw, self.next_qn(), beijing(hour_start(ago)), values(ago))
                  for ago in range(10, 0, -1) if ago not in MISSING]
        self.sock.sendall(b"".join(frames))
        # A request may already come between the acknowledgements: keep it for run().
        self.reader = Reader(self.sock)
        self.backlog = []
        acks = 0
        deadline = time.time() + 20
        while acks < len(frames) and time.time() < deadline:
            f = self.reader.next(1)
            if f is None:
                continue
            if f.get("CN") == "9014":
                acks += 1
            else:
                self.backlog.append(f)
        assert acks == len(frames), acks

    def next_qn(self):
        self.qn += 1
        return "20260101000000%03d" % self.qn

    def run(self):
        while not self.stopping:
            got, self.backlog = self.backlog, []
            try:
                f = self.reader.next(0.5)
            except OSError:
                return
            if f is not None:
                got.append(f)
            for f in got:
                if f.get("CN") != "2061":
                    continue  # 9014 acknowledgements of our uploads
                cp = dict(kv.split("=", 1) for kv in f["CP"].split(";") if "=" in kv)
                self.requests.append((f["QN"], cp["BeginTime"], cp["EndTime"]))
                qn = f["QN"]
                out = frame("QN=%s;ST=91;CN=9011;PW=%s;MN=%s;Flag=4;CP=&&QnRtn=1&&" % (qn, self.pw, self.mn))
                sent = 0
                if self.answer_with_data:
                    t = epoch_of(cp["BeginTime"])
                    while t <= epoch_of(cp["EndTime"]):
                        ago = THIS_HOUR - t // 3600
                        out += upload(self.mn, self.pw, self.next_qn(), beijing(t), values(ago))
                        sent += 1
                        t += 3600
                out += frame("QN=%s;ST=91;CN=9012;PW=%s;MN=%s;Flag=4;CP=&&ExeRtn=1&&" % (qn, self.pw, self.mn))
                self.sock.sendall(out)

    def close(self):
        self.stopping = True
        self.join(5)
        self.sock.close()


def devices():
    """(mn, password, site) of the first two assigned devices of the shipped registry."""
    import csv
    d = os.path.join(os.path.dirname(__file__), "..", "..", "config", "registry")
    with open(os.path.join(d, "devices.csv"), encoding="utf-8-sig") as f:
        pw = {r["mn"]: r["password"] for r in csv.DictReader(f)}
    with open(os.path.join(d, "assignments.csv"), encoding="utf-8-sig") as f:
        rows = [(r["mn"], pw[r["mn"]], r["site"]) for r in csv.DictReader(f) if r["mn"] in pw]
    return rows[0], rows[1]


def config(text):
    d = tempfile.mkdtemp(prefix="ecomon-it-cfg-")
    path = os.path.join(d, "serve.toml")
    with open(path, "w") as f:
        f.write(text)
    return d, path


class BackfillTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cfg_dir, path = config("[backfill]\nenabled = true\nscan_interval_s = 1\nsettle_s = 1\n"
                                   "repeat_after_s = 3600\ntimeout_s = 10\n")
        cls.server = Server("--config", path)
        (cls.mn, cls.pw, cls.site), (cls.mn2, cls.pw2, cls.site2) = devices()
        cls.good = FakeLogger(cls.server, cls.mn, cls.pw, answer_with_data=True)
        cls.silent = FakeLogger(cls.server, cls.mn2, cls.pw2, answer_with_data=False)
        cls.good.start()
        cls.silent.start()

    @classmethod
    def tearDownClass(cls):
        cls.good.close()
        cls.silent.close()
        cls.server.close()
        shutil.rmtree(cls.cfg_dir, ignore_errors=True)

    def settled(self, mn):
        """The backfill requests of mn once every one has been counted again."""
        deadline = time.time() + 30
        while time.time() < deadline:
            status, body = self.server.get("/api/v1/backfill?mn=" + mn)
            self.assertEqual(status, 200, body)
            if body["requests"] and all(r["fulfilled"] is not None for r in body["requests"]):
                return body
            time.sleep(0.2)
        self.fail("no settled backfill request for %s: %s" % (mn, body))

    def test_the_gap_is_requested_filled_and_recorded(self):
        body = self.settled(self.mn)
        self.assertTrue(body["enabled"])
        self.assertEqual(len(body["requests"]), 1, body)
        r = body["requests"][0]
        self.assertEqual((r["mn"], r["kind"], r["cn"], r["outcome"]), (self.mn, "hour", 2061, "executed"))
        self.assertEqual((r["from"], r["to"]), (iso(hour_start(6)), iso(hour_start(3))))
        self.assertEqual((r["missing_before"], r["missing_after"], r["fulfilled"]), (3, 0, True))
        # What the logger was asked: BeginTime = first missing hour, EndTime = last missing hour.
        self.assertEqual([(b, e) for _, b, e in self.good.requests],
                         [(beijing(hour_start(6)), beijing(hour_start(4)))])
        # The gap has closed.
        q = urllib.parse.urlencode({"site": self.site, "factor": "a34004", "kind": "hour",
                                    "from": iso(hour_start(10)), "to": iso(hour_start(0))})
        status, gaps = self.server.get("/api/v1/gaps?" + q)
        self.assertEqual(status, 200, gaps)
        self.assertEqual(gaps["gaps"], [], gaps)
        self.assertEqual(gaps["received"], 10)
        self.assertGreaterEqual(self.server.metric("ecomon_backfill_fulfilled_total"), 1)
        self.assertGreaterEqual(self.server.metric("ecomon_backfill_periods_recovered_total"), 3)

    def test_an_unanswered_range_is_recorded_and_not_asked_again(self):
        body = self.settled(self.mn2)
        r = body["requests"][0]
        self.assertEqual((r["outcome"], r["missing_before"], r["missing_after"], r["fulfilled"]),
                         ("executed", 3, 3, False))
        # Several scans later: still one request for that range, the rest counted as skipped.
        skipped = self.server.metric("ecomon_backfill_skipped_recent_total")
        time.sleep(2.5)
        self.assertGreater(self.server.metric("ecomon_backfill_skipped_recent_total"), skipped)
        status, body = self.server.get("/api/v1/backfill?mn=" + self.mn2)
        self.assertEqual(len(body["requests"]), 1, body)
        self.assertEqual(len(self.silent.requests), 1)

    def test_scope_and_credentials(self):
        self.assertEqual(self.server.get("/api/v1/backfill", key="")[0], 401)
        restricted = create_key(self.server.dir, "viewer", "site:" + self.site2)
        self.assertEqual(self.server.get("/api/v1/backfill?mn=" + self.mn, key=restricted)[0], 403)
        self.settled(self.mn)
        self.settled(self.mn2)
        status, body = self.server.get("/api/v1/backfill", key=restricted)
        self.assertEqual(status, 200, body)
        self.assertEqual({r["mn"] for r in body["requests"]}, {self.mn2})
        self.assertEqual(self.server.get("/api/v1/backfill?limit=0")[0], 400)


class BackfillOffTest(unittest.TestCase):
    def test_off_by_default_nothing_is_asked(self):
        server = Server()
        try:
            (mn, pw, _), _ = devices()
            s = server.connect()
            frames = [upload(mn, pw, "20260101000000%03d" % ago, beijing(hour_start(ago)), values(ago))
                      for ago in range(10, 0, -1) if ago not in MISSING]
            s.sendall(b"".join(frames))
            self.assertEqual(len(read_frames(s, len(frames), timeout=20)), len(frames))
            self.assertTrue(expect_silence(s, 2.0))  # no request arrives
            s.close()
            status, body = server.get("/api/v1/backfill")
            self.assertEqual((status, body["enabled"], body["requests"]), (200, False, []))
        finally:
            server.close()

    def test_a_wrong_backfill_section_stops_the_server(self):
        d, path = config("[backfill]\nenabled = true\nmax_in_flight = 0\n")
        try:
            from ecomon_harness import ecomon
            rc, _, err = ecomon("serve", "--config", path, "--data", d, "--hj212-listen", "127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0")
            self.assertEqual(rc, 2, err)
            self.assertIn("line 3: backfill.max_in_flight must be >= 1", err)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
