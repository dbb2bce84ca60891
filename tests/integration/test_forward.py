"""Forwarding to upstream platforms (数据转发) over the real binary: a simulated logger uploads
HJ 212 hours to `ecomon serve`, which forwards them over TCP to a fake provincial platform (a
Python server that answers 9014, or does not). Checked: the values arrive unchanged; a late hour
and a new version arrive as re-sends (RF=1 on HJ 212-2025); an outage (refused connections, then
a platform that drops the connection without answering) loses nothing and the ledger shows the
attempts; a restart of ecomon resumes from its cursor; a platform that never answers leaves a
growing backlog and an error in the status, and gets everything once it answers; garbage from the
platform is counted, the connection reset, and ecomon keeps running.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
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
from ecomon_harness import Server, first_device, frame, read_frames, upload  # noqa: E402

THIS_HOUR = int(time.time()) // 3600
MN, PW, SITE = first_device()


def beijing(epoch_s):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def hour(ago):
    return beijing((THIS_HOUR - ago) * 3600)


def parse(seg):
    head, _, cp = seg.partition("CP=&&")
    fields = dict(kv.split("=", 1) for kv in head.strip(";").split(";") if "=" in kv)
    fields["CP"] = cp[:-2]
    return fields


def ack_of(f):
    return frame("QN=%s;ST=91;CN=9014;PW=%s;MN=%s;Flag=%d;CP=&&&&"
                 % (f["QN"], f["PW"], f["MN"], int(f["Flag"]) & ~3))


class FakeUpstream:
    """A provincial platform: listens on a fixed port, records every upload it receives and, by
    mode, answers 9014 ("ack"), nothing ("silent"), closes the connection without an answer
    ("drop"), or answers garbage ("garbage")."""

    def __init__(self):
        self.mode = "ack"
        self.frames = []  # every upload received, in order (re-sends included)
        self.lock = threading.Lock()
        self.listener = None
        self.port = 0
        self.conns = []
        self.start()

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        self.port = s.getsockname()[1]
        s.listen(8)
        self.listener = s
        threading.Thread(target=self.accept, args=(s,), daemon=True).start()

    def stop(self):
        """Down: the port refuses connections, open ones are closed. (shutdown() first: a close()
        alone leaves the socket listening while the accept thread is blocked in it.)"""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def accept(self, listener):
        while True:
            try:
                c, _ = listener.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        while True:
            try:
                chunk = c.recv(65536)
            except OSError:
                return
            if not chunk:
                c.close()
                return
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                seg = line[line.find(b"##") + 6:-4].decode()
                f = parse(seg)
                with self.lock:
                    self.frames.append(f)
                    mode = self.mode
                try:
                    if mode == "ack":
                        c.sendall(ack_of(f))
                    elif mode == "drop":
                        c.close()
                        return
                    elif mode == "garbage":
                        c.sendall(b"\x00\xff not hj212 at all\r\n")
                except OSError:
                    return

    def values(self):
        """{(MN, CN, DataTime, factor-field): value} of everything received (latest wins)."""
        out = {}
        with self.lock:
            frames = list(self.frames)
        for f in frames:
            items = f["CP"].split(";")
            dt = items[0].split("=", 1)[1]
            for entry in items[1:]:
                for kv in entry.split(","):
                    k, v = kv.split("=", 1)
                    if not k.endswith("-Flag"):
                        out[(f["MN"], f["CN"], dt, k)] = v
        return out

    def received(self):
        with self.lock:
            return list(self.frames)


def config(text):
    d = tempfile.mkdtemp(prefix="ecomon-fwd-cfg-")
    path = os.path.join(d, "ecomon.toml")
    with open(path, "w") as f:
        f.write(text)
    return d, path


def forward_table(name, port, extra=""):
    return ("[[forward]]\nname = \"%s\"\nhost = \"127.0.0.1\"\nport = %d\npw = \"upw\"\n"
            "ack_timeout_s = 1\nretry_min_s = 0.2\nretry_max_s = 0.5\n%s\n" % (name, port, extra))


class Logger:
    """A data logger: uploads hours (Flag=5) and waits for ecomon's 9014."""

    def __init__(self, server):
        self.server, self.qn = server, 0

    def send(self, hours):
        """hours: [(DataTime, [(factor, value)])]; returns what it sent as the expected dict."""
        sock = self.server.connect()
        frames = []
        for dt, vals in hours:
            self.qn += 1
            frames.append(upload(MN, PW, "20260101000000%03d" % self.qn, dt, vals))
        sock.sendall(b"".join(frames))
        acks = read_frames(sock, len(frames))
        sock.close()
        assert len(acks) == len(frames) and all(a["CN"] == "9014" for a in acks), acks
        return {(MN, "2061", dt, f + "-Avg"): v for dt, vals in hours for f, v in vals}


def wait_for(cond, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def hours(agos, base=30):
    return [(hour(a), [("a34004", str(base + a)), ("a21026", "%d.5" % (a % 7))]) for a in agos]


class ForwardTest(unittest.TestCase):
    def status(self, server, name):
        st, body = server.get("/api/v1/forward")
        self.assertEqual(st, 200, body)
        return next(u for u in body["upstreams"] if u["name"] == name)

    def ledger(self, server, name, query=""):
        st, body = server.get("/api/v1/forward/%s/ledger?limit=1000%s" % (name, query))
        self.assertEqual(st, 200, body)
        return body["frames"]

    def delivered(self, up, expected):
        got = up.values()
        return all(got.get(k) == v for k, v in expected.items())

    def test_values_late_hours_and_new_versions_reach_the_upstream(self):
        up = FakeUpstream()
        d, path = config(forward_table("province", up.port, "version = 2025\n"))
        server = Server("--config", path)
        try:
            logger = Logger(server)
            expected = logger.send(hours([6, 5, 4]))
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)), up.values())
            live = up.received()
            self.assertTrue(all(f["Flag"] == "9" and "RF" not in f for f in live), live)
            self.assertTrue(all(f["PW"] == "upw" and f["ST"] == "22" for f in live), live)

            # 补传: hour 8 after hour 4; a new version of hour 5.
            expected.update(logger.send(hours([8])))
            expected.update(logger.send([(hour(5), [("a34004", "99.9")])]))
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)), up.values())
            later = up.received()[len(live):]
            self.assertEqual(len(later), 2, later)
            self.assertTrue(all(f.get("RF") == "1" for f in later), later)
            self.assertIn("a34004-Avg=99.9", later[1]["CP"])

            self.assertTrue(wait_for(lambda: self.status(server, "province")["frames_pending"] == 0))
            s = self.status(server, "province")
            self.assertTrue(s["connected"])
            self.assertEqual(s["frames_acked"], 5)
            self.assertEqual(s["backlog"], 0)
            self.assertEqual(s["cursor"], s["feed_end"])
            self.assertIsNone(s["last_error"])
            rows = self.ledger(server, "province", "&mn=" + MN)
            self.assertEqual(len(rows), 5)
            self.assertTrue(all(r["acked_at"] and r["attempts"] == 1 for r in rows), rows)
            reasons = sorted(r["reason"] for r in rows)
            self.assertEqual(reasons, ["late", "live", "live", "live", "new_version"])
            # "Did the province get hour 5 of this station, and when?"
            t5 = (THIS_HOUR - 5) * 3600
            q = "&from=%s&to=%s" % (urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t5))),
                                    urllib.parse.quote(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t5 + 3600))))
            h5 = self.ledger(server, "province", q)
            self.assertEqual(len(h5), 2)  # the first version and the new one
            self.assertEqual(self.ledger(server, "province", "&mn=nobody"), [])
            st, _ = server.get("/api/v1/forward/nowhere/ledger")
            self.assertEqual(st, 404)
            self.assertEqual(server.metric('ecomon_forward_frames_acked_total{upstream="province"}'), 5)
        finally:
            server.close()
            up.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_outage_and_restart_lose_nothing(self):
        up = FakeUpstream()
        d, path = config(forward_table("province", up.port))
        server = Server("--config", path)
        try:
            logger = Logger(server)
            expected = logger.send(hours([20, 19]))
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)))

            # Down: connections refused, values keep arriving at ecomon.
            up.stop()
            expected.update(logger.send(hours([18, 17])))
            time.sleep(1.0)
            # Back, but dropping the connection after each frame without an answer.
            up.mode = "drop"
            up.start()
            expected.update(logger.send(hours([16])))
            self.assertTrue(wait_for(lambda: len(up.received()) >= 5))
            self.assertFalse(self.delivered(up, expected) and self.status(server, "province")["backlog"] == 0)
            up.mode = "ack"
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)), up.values())
            self.assertTrue(wait_for(lambda: self.status(server, "province")["backlog"] == 0))
            s = self.status(server, "province")
            self.assertGreater(s["frames_retried"], 0)
            self.assertGreater(s["connect_failures"], 0)
            rows = self.ledger(server, "province")
            self.assertTrue(all(r["acked_at"] for r in rows), rows)
            self.assertTrue(any(r["attempts"] >= 2 for r in rows), rows)

            # A restart while frames wait for their 9014 resumes from the cursor: the upstream
            # received hours 15 and 14 but never answered, so they are sent again.
            up.mode = "silent"
            before = len(up.received())
            logger.send(hours([15, 14]))
            self.assertTrue(wait_for(lambda: len(up.received()) >= before + 1))
            server.stop()
            up.mode = "ack"
            before = len(up.received())
            server.start()
            resent = lambda: sorted(set(parse_dt(f) for f in up.received()[before:]))  # noqa: E731
            self.assertTrue(wait_for(lambda: resent() == sorted([hour(15), hour(14)])), resent())
            self.assertTrue(wait_for(lambda: self.status(server, "province")["backlog"] == 0))
            # Only what was not acknowledged before the restart is sent again.
            self.assertEqual(resent(), sorted([hour(15), hour(14)]))
        finally:
            server.close()
            up.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_an_upstream_that_never_answers_keeps_the_backlog(self):
        up = FakeUpstream()
        up.mode = "silent"
        d, path = config(forward_table("nation", up.port))
        server = Server("--config", path)
        try:
            logger = Logger(server)
            expected = logger.send(hours([12, 11, 10]))
            self.assertTrue(wait_for(lambda: self.status(server, "nation")["ack_timeouts"] >= 2))
            s = self.status(server, "nation")
            self.assertIn("ack_timeout", s["last_error"])
            self.assertEqual(s["frames_acked"], 0)
            self.assertGreater(s["backlog"], 0)
            self.assertGreaterEqual(s["frames_pending"], 1)
            rows = self.ledger(server, "nation")
            self.assertTrue(rows and all(r["acked_at"] is None for r in rows), rows)
            self.assertTrue(any(r["attempts"] >= 2 for r in rows), rows)
            # More values: the backlog grows.
            logger.send(hours([9]))
            self.assertGreater(self.status(server, "nation")["backlog"], s["backlog"])
            up.mode = "ack"
            expected.update(hours_expected([9]))
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)), up.values())
            self.assertTrue(wait_for(lambda: self.status(server, "nation")["backlog"] == 0))
        finally:
            server.close()
            up.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_garbage_from_the_upstream_is_counted_and_the_connection_reset(self):
        up = FakeUpstream()
        up.mode = "garbage"
        d, path = config(forward_table("province", up.port))
        server = Server("--config", path)
        try:
            logger = Logger(server)
            expected = logger.send(hours([3, 2]))
            self.assertTrue(wait_for(lambda: self.status(server, "province")["bad_replies"] >= 2))
            s = self.status(server, "province")
            self.assertGreaterEqual(s["connects"], 2)  # reset and connected again
            self.assertIn("upstream", s["last_error"])
            self.assertEqual(server.get("/healthz")[0], 200)
            up.mode = "ack"
            self.assertTrue(wait_for(lambda: self.delivered(up, expected)), up.values())
            self.assertGreater(server.metric('ecomon_forward_bad_replies_total{upstream="province"}'), 0)
        finally:
            server.close()
            up.stop()
            shutil.rmtree(d, ignore_errors=True)

    def test_from_now_skips_what_was_stored_before_and_beginning_sends_it(self):
        server = Server()  # no forwarding yet
        now_up, all_up = FakeUpstream(), FakeUpstream()
        d = None
        try:
            logger = Logger(server)
            old = logger.send(hours([30, 29]))
            server.stop()
            d, path = config(forward_table("now", now_up.port) +
                             forward_table("all", all_up.port, "from = \"beginning\"\n"))
            server.args += ["--config", path]
            server.start()
            new = logger.send(hours([28]))
            self.assertTrue(wait_for(lambda: self.delivered(all_up, {**old, **new})), all_up.values())
            self.assertTrue(wait_for(lambda: self.delivered(now_up, new)), now_up.values())
            self.assertEqual(sorted(parse_dt(f) for f in now_up.received()), [hour(28)])
        finally:
            server.close()
            now_up.stop()
            all_up.stop()
            if d:
                shutil.rmtree(d, ignore_errors=True)

    def test_config_is_checked_and_forwarding_is_off_without_it(self):
        d, path = config("[[forward]]\nname = \"p\"\nhost = \"127.0.0.1\"\nport = 1\nkinds = [\"week\"]\n")
        try:
            from ecomon_harness import ecomon
            rc, _, err = ecomon("serve", "--config", path, "--data", d, "--hj212-listen", "127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0")
            self.assertNotEqual(rc, 0)
            self.assertIn("line 5", err)
            self.assertIn("week", err)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        server = Server()
        try:
            self.assertEqual(server.get("/api/v1/forward"), (200, {"upstreams": []}))
            viewer = __import__("ecomon_harness").create_key(server.dir, "viewer")
            self.assertEqual(server.get("/api/v1/forward", key=viewer)[0], 403)
        finally:
            server.close()


def parse_dt(f):
    return f["CP"].split(";")[0].split("=", 1)[1]


def hours_expected(agos, base=30):
    return {(MN, "2061", dt, f + "-Avg"): v for dt, vals in hours(agos, base) for f, v in vals}


if __name__ == "__main__":
    unittest.main(verbosity=2)
