"""`ecomon serve` driven over real sockets: the gateway, the store and the HTTP API together.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import gzip
import os
import re
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import (ECOMON, REPO, Server, create_key, drain, track, expect_silence, first_device, frame,
                            read_frames, upload)


def beijing(hours_ago):
    """HJ 212 DataTime (Beijing time) of the start of the hour `hours_ago` hours before now."""
    t = (int(time.time()) // 3600 - hours_ago) * 3600 + 8 * 3600
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(t))


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.mn, cls.pw, cls.site = first_device()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def records(self, kind="hour", extra=""):
        status, body = self.server.get("/api/v1/devices/%s/records?kind=%s%s" % (self.mn, kind, extra))
        self.assertEqual(status, 200, body)
        return body["records"]

    def test_split_across_reads_gets_its_ack_with_the_same_qn(self):
        f = upload(self.mn, self.pw, "20260101000000001", beijing(50), [("a34004", "35.2")])
        s = self.server.connect()
        for b in f:  # one byte per write
            s.send(bytes([b]))
        acks = read_frames(s, 1)
        s.close()
        self.assertEqual(len(acks), 1)
        self.assertEqual(acks[0]["CN"], "9014")
        self.assertEqual(acks[0]["QN"], "20260101000000001")
        self.assertEqual(acks[0]["ST"], "91")
        self.assertEqual(acks[0]["Flag"], "4")

    def test_pipelined_frames_with_garbage_get_replies_in_order(self):
        qns = ["2026010100000010%d" % i for i in range(5)]
        data = b"\x00garbage\r\n" + b"".join(
            upload(self.mn, self.pw, qn, beijing(60 + i), [("a34002", str(40 + i))]) for i, qn in enumerate(qns))
        s = self.server.connect()
        s.sendall(data)
        acks = read_frames(s, 5)
        s.close()
        self.assertEqual([a["QN"] for a in acks], qns)

    def test_bad_crc_unknown_device_and_wrong_password_are_not_acknowledged(self):
        before_crc = self.server.metric('ecomon_frames_total{outcome="bad_crc"}')
        before_unknown = self.server.metric('ecomon_frames_total{outcome="unknown_device"}')
        before_pw = self.server.metric('ecomon_frames_total{outcome="bad_password"}')
        good = upload(self.mn, self.pw, "20260101000000201", beijing(70), [("a34004", "1")])
        bad_crc = good[:-6] + b"0000\r\n"
        unknown = upload("NOSUCHDEVICE0001", "123456", "20260101000000202", beijing(70), [("a34004", "1")])
        wrong_pw = upload(self.mn, "999999", "20260101000000203", beijing(70), [("a34004", "1")])
        s = self.server.connect()
        s.sendall(bad_crc + unknown + wrong_pw)
        self.assertTrue(expect_silence(s))
        # The connection still works after bad frames.
        s.sendall(good)
        self.assertEqual(read_frames(s, 1)[0]["QN"], "20260101000000201")
        s.close()
        self.assertEqual(self.server.metric('ecomon_frames_total{outcome="bad_crc"}'), before_crc + 1)
        self.assertEqual(self.server.metric('ecomon_frames_total{outcome="unknown_device"}'), before_unknown + 1)
        self.assertEqual(self.server.metric('ecomon_frames_total{outcome="bad_password"}'), before_pw + 1)

    def test_duplicates_are_stored_once_and_a_changed_value_is_a_new_version(self):
        dt = beijing(80)
        first = upload(self.mn, self.pw, "20260101000000301", dt, [("a21026", "12")])
        again = upload(self.mn, self.pw, "20260101000000302", dt, [("a21026", "12")])
        changed = upload(self.mn, self.pw, "20260101000000303", dt, [("a21026", "13")])
        s = self.server.connect()
        s.sendall(first + again + changed)
        self.assertEqual(len(read_frames(s, 3)), 3)
        s.close()
        mine = [r for r in self.records() if r["factor"] == "a21026" and r["value"] in (12, 13)]
        self.assertEqual(sorted((r["value"], r["version"]) for r in mine), [(12, 1), (13, 2)])

    def test_latest_is_by_measurement_time_not_arrival(self):
        s = self.server.connect()
        s.sendall(upload(self.mn, self.pw, "20260101000000401", beijing(1), [("a01001", "21.5")]))
        s.sendall(upload(self.mn, self.pw, "20260101000000402", beijing(30), [("a01001", "5.0")]))  # late
        self.assertEqual(len(read_frames(s, 2)), 2)
        s.close()
        status, body = self.server.get("/api/v1/sites/%s/latest" % self.site)
        self.assertEqual(status, 200, body)
        temp = [v for v in body["values"] if v["factor"] == "a01001" and v["field"] == "Avg"]
        self.assertEqual(len(temp), 1)
        self.assertEqual(temp[0]["value"], 21.5)

    def test_subpackets_are_each_acknowledged_and_stored(self):
        dt = beijing(90)
        p1 = upload(self.mn, self.pw, "20260101000000501", dt, [("a34004", "11")], flag=7, extra="PNUM=2;PNO=1;")
        p2 = upload(self.mn, self.pw, "20260101000000502", dt, [("a34002", "22")], flag=7, extra="PNUM=2;PNO=2;")
        s = self.server.connect()
        s.sendall(p1 + p2)
        self.assertEqual([a["QN"] for a in read_frames(s, 2)], ["20260101000000501", "20260101000000502"])
        s.close()
        got = {(r["factor"], r["value"]) for r in self.records()}
        self.assertIn(("a34004", 11), got)
        self.assertIn(("a34002", 22), got)

    def test_heartbeat_gets_9013_and_an_answer_gets_nothing(self):
        hb = frame("QN=20260101000000601;ST=91;CN=9015;PW=%s;MN=%s;Flag=9;CP=&&&&" % (self.pw, self.mn))
        ans = frame("QN=20260101000000602;ST=91;CN=9014;PW=%s;MN=%s;Flag=4;CP=&&&&" % (self.pw, self.mn))
        s = self.server.connect()
        s.sendall(ans + hb)
        replies = read_frames(s, 1)
        self.assertEqual(replies[0]["CN"], "9013")
        self.assertEqual(replies[0]["Flag"], "8")  # mirrors the 2025 version bits
        self.assertTrue(expect_silence(s))
        s.close()

    def test_a_device_that_half_closes_still_gets_its_ack(self):
        s = self.server.connect()
        f = upload(self.mn, self.pw, "20260101000000901", beijing(95), [("a34004", "7")])
        s.sendall(f[:-2])  # and no CR LF: the end of its stream ends the frame
        s.shutdown(socket.SHUT_WR)
        acks = read_frames(s, 1)
        s.close()
        self.assertEqual([a["QN"] for a in acks], ["20260101000000901"])

    def test_an_ambiguous_mn_never_borrows_another_devices_password(self):
        # A device whose profile accepts a wrong length; the frame names two MNs: the profile is
        # found by one, the decoder reads the other.
        status, body = self.server.send("PUT", "/api/v1/devices/LENIENT0001", {
            "st": "22", "password": "lenpw1", "accept_length_mismatch": True})
        self.assertEqual(status, 200, body)
        before = self.server.metric('ecomon_frames_total{outcome="bad_header"}')
        seg = "QN=20260101000000902;ST=22;CN=2061;PW=lenpw1;MN =OTHER01;MN=LENIENT0001;Flag=5;CP=&&DataTime=%s;a34004-Avg=1&&" % (
            beijing(96))
        body = seg.encode()
        from ecomon_harness import crc_hj212
        # A wrong length, so that the first decode fails and the device profile is looked up.
        wire = b"##%04d" % (len(body) + 3) + body + b"%04X\r\n" % crc_hj212(body)
        s = self.server.connect()
        s.sendall(wire)
        self.assertTrue(expect_silence(s))
        s.close()
        self.assertEqual(self.server.metric('ecomon_frames_total{outcome="bad_header"}'), before + 1)

    def test_hostile_requests_get_an_answer_not_a_crash(self):
        status, body = self.server.send("PUT", "/api/v1/devices/%s" % self.mn,
                                        {"interval_s": 18446744073709551615})
        self.assertEqual((status, body["error"]["code"]), (400, "bad_request"))
        status, body = self.server.get("/api/v1/series?site=%s&factor=a34004&interval=hour" % self.site)
        self.assertEqual((status, body["error"]["code"]), (400, "bad_request"))  # kind required
        self.assertEqual(self.server.get("/healthz")[0], 200)

    def test_each_value_names_the_raw_frame_it_came_in(self):
        f = upload(self.mn, self.pw, "20260101000000901", beijing(90), [("a21004", "31")])
        s = self.server.connect()
        s.sendall(f)
        self.assertEqual(len(read_frames(s, 1)), 1)
        s.close()
        mine = [r for r in self.records() if r["factor"] == "a21004" and r["value"] == 31]
        self.assertEqual(len(mine), 1)
        status, frame = self.server.get("/api/v1/devices/%s/frames/%d" % (self.mn, mine[0]["frame"]))
        self.assertEqual(status, 200, frame)
        self.assertEqual(frame["bytes"].encode(), f)  # exactly as it arrived
        self.assertEqual((frame["mn"], frame["cn"], frame["outcome"]), (self.mn, "2061", "stored"))
        # Another device's frame number, garbage and unknown ids: refused, never another's bytes.
        other = [d for d in self.server.get("/api/v1/devices")[1]["devices"] if d["mn"] != self.mn][0]["mn"]
        status, body = self.server.get("/api/v1/devices/%s/frames/%d" % (other, mine[0]["frame"]))
        self.assertEqual((status, body["error"]["code"]), (404, "not_found"))
        for bad in ("abc", "0", "-1", "1e3", "99999999999999999999999"):
            status, body = self.server.get("/api/v1/devices/%s/frames/%s" % (self.mn, bad))
            self.assertEqual((status, body["error"]["code"]), (400, "bad_request"), bad)
        status, body = self.server.get("/api/v1/devices/%s/frames/987654321" % self.mn)
        self.assertEqual(status, 404)

    def test_web_pages_are_public_read_only_and_stay_inside_their_directory(self):
        status, text, headers = self.server.request("GET", "/", key="")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        self.assertIn("<html", text)
        status, text, _ = self.server.request("GET", "/console/sites/2526A", key="")
        self.assertEqual(status, 200)
        self.assertIn("<html", text)
        # With the built front-end's gzip copies (make web), a browser that takes gzip gets them.
        if os.path.exists(os.path.join(REPO, "web", "dist", "index.html.gz")):
            req = urllib.request.Request("http://127.0.0.1:%d/" % self.server.http_port,
                                         headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.headers["Content-Encoding"], "gzip")
                self.assertIn(b"<html", gzip.decompress(r.read()))
        status, body, _ = self.server.request("POST", "/", body={}, key="")
        self.assertEqual((status, body["error"]["code"]), (405, "method_not_allowed"))
        for hostile in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2fCMakeLists.txt",
                        "/.git/config"):
            status, body, _ = self.server.request("GET", hostile, key="")
            self.assertEqual(status, 404, hostile)
        # The data behind the pages still needs a credential.
        self.assertEqual(self.server.request("GET", "/api/v1/sites", key="")[0], 401)

    def test_http_api(self):
        status, body = self.server.get("/healthz")
        self.assertEqual((status, body["status"]), (200, "ok"))
        status, body = self.server.get("/api/v1/sites")
        self.assertEqual(status, 200)
        codes = {x["code"] for x in body["sites"]}
        self.assertIn("2526A", codes)
        status, body = self.server.get("/api/v1/sites/2526A")
        self.assertEqual((status, body["code"]), (200, "2526A"))
        status, body = self.server.get("/api/v1/sites/NOPE")
        self.assertEqual((status, body["error"]["code"]), (404, "not_found"))
        status, body = self.server.get("/api/v1/devices")
        self.assertEqual(status, 200)
        self.assertIn(self.mn, {d["mn"] for d in body["devices"]})
        status, body = self.server.get("/api/v1/devices/%s/records?from=yesterday" % self.mn)
        self.assertEqual((status, body["error"]["code"]), (400, "bad_request"))
        status, body = self.server.get(
            "/api/v1/devices/%s/records?from=2000-01-01T00:00:00%%2B08:00&to=2020-01-01T00:00:00%%2B08:00" % self.mn)
        self.assertEqual((status, body["error"]["code"]), (400, "range_too_large"))
        status, body = self.server.get("/api/v1/devices/%s/records?limit=999999999" % self.mn)
        self.assertEqual((status, body["limit"]), (200, 100000))  # clamped, never refused
        status, body = self.server.get("/api/v1/series?site=%s&factor=a34004&kind=hour&interval=day" % self.site)
        self.assertEqual(status, 200, body)
        status, body = self.server.get("/api/v1/series?site=%s" % self.site)
        self.assertEqual((status, body["error"]["code"]), (400, "bad_request"))
        status, text = self.server.get("/metrics")
        self.assertIn("ecomon_commit_latency_ms_bucket", text)


class RegistryEditTest(unittest.TestCase):
    def test_a_new_site_and_device_through_the_api_survive_a_restart(self):
        srv = Server()
        data_dir = srv.dir
        try:
            status, body = srv.send("PUT", "/api/v1/sites/GY-NOISE-01", {
                "name": "利州区功能区噪声点", "kind": "noise", "level": "city",
                "lon": 105.84, "lat": 32.44, "place": {"county": "利州区", "county_code": "510802"}})
            self.assertEqual(status, 200, body)
            status, body = srv.send("PUT", "/api/v1/devices/NOISE0000000001", {
                "st": "23", "password": "654321", "version": 2017, "interval_s": 60})
            self.assertEqual(status, 200, body)
            status, body = srv.send("POST", "/api/v1/assignments", {
                "mn": "NOISE0000000001", "site": "GY-NOISE-01", "from": "2026-01-01"})
            self.assertEqual(status, 200, body)
            # Refused edits say why.
            status, body = srv.send("POST", "/api/v1/assignments", {"mn": "NOISE0000000001", "site": "NOPE"})
            self.assertEqual((status, body["error"]["code"]), (400, "unknown_site"))
            status, body = srv.send("PUT", "/api/v1/sites/X", {"kind": 7})
            self.assertEqual((status, body["error"]["code"]), (400, "bad_request"))
            status, body = srv.send("DELETE", "/api/v1/sites/X", {})
            self.assertEqual(status, 405)
            # The new device is accepted at once.
            s = srv.connect()
            s.sendall(upload("NOISE0000000001", "654321", "20260101000000801", beijing(2),
                             [("LA", "55.2")], st="23"))
            self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
            s.close()
            srv.stop()
            srv2 = ServerAtPort(data_dir, 0)
            try:
                status, body = srv2.get("/api/v1/sites/GY-NOISE-01")
                self.assertEqual((status, body["name"]), (200, "利州区功能区噪声点"))
                status, body = srv2.get("/api/v1/sites/GY-NOISE-01/latest")
                self.assertEqual([v["value"] for v in body["values"] if v["factor"] == "LA"], [55.2])
            finally:
                srv2.close()
        finally:
            srv.close()


class LimitsTest(unittest.TestCase):
    def test_idle_timeout_closes_the_connection(self):
        srv = Server("--idle-timeout", "1")
        try:
            s = srv.connect()
            s.settimeout(5)
            t0 = time.time()
            self.assertEqual(s.recv(100), b"")  # closed by the server
            self.assertLess(time.time() - t0, 4.5)
            s.close()
            self.assertEqual(srv.metric("ecomon_idle_timeouts_total"), 1)
        finally:
            srv.close()

    def test_max_connections_refuses_the_extra_one(self):
        srv = Server("--max-connections", "2")
        try:
            a, b = srv.connect(), srv.connect()
            time.sleep(0.2)
            c = srv.connect()
            c.settimeout(5)
            self.assertEqual(c.recv(100), b"")
            self.assertEqual(srv.metric("ecomon_connections_refused_total"), 1)
            a.close()
            b.close()
            c.close()
        finally:
            srv.close()

    def test_max_buffered_bytes_closes_a_connection_that_never_ends_a_frame(self):
        srv = Server("--max-buffered-bytes", "2000")
        try:
            s = srv.connect()
            try:
                s.sendall(b"##9999QN=1;" + b"x" * 9000)
                s.settimeout(5)
                self.assertEqual(s.recv(100), b"")
            except (ConnectionResetError, BrokenPipeError):
                pass
            s.close()
            self.assertEqual(srv.metric("ecomon_buffer_overflows_total"), 1)
        finally:
            srv.close()

    def test_quarantine_policy_acknowledges_and_keeps_apart(self):
        srv = Server("--unknown-devices", "quarantine")
        try:
            s = srv.connect()
            s.sendall(upload("QUARANTINE0001", "123456", "20260101000000701", beijing(5), [("a34004", "9")]))
            self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
            s.close()
            self.assertEqual(srv.metric('ecomon_frames_total{outcome="quarantined"}'), 1)
            # Kept (nothing acknowledged is lost) but apart: no site, not registered.
            status, body = srv.get("/api/v1/devices/QUARANTINE0001/records")
            self.assertEqual([r["value"] for r in body["records"]], [9])
            status, body = srv.get("/api/v1/devices")
            dev = [d for d in body["devices"] if d["mn"] == "QUARANTINE0001"][0]
            self.assertEqual((dev["site"], dev["registered"]), (None, False))
        finally:
            srv.close()

    def test_accept_policy_commissions_an_unknown_device_as_pending(self):
        srv = Server("--unknown-devices", "accept")
        try:
            s = srv.connect()
            s.sendall(upload("NEWDEV0001", "777777", "20260101000001001", beijing(3), [("a34004", "12")]))
            self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
            # The next frame authenticates with the PW it registered with; another PW is refused.
            s.sendall(upload("NEWDEV0001", "000000", "20260101000001002", beijing(2), [("a34004", "13")]))
            self.assertTrue(expect_silence(s))
            s.sendall(upload("NEWDEV0001", "777777", "20260101000001003", beijing(1), [("a34004", "14")]))
            self.assertEqual(read_frames(s, 1)[0]["QN"], "20260101000001003")
            s.close()
            status, body = srv.get("/api/v1/devices")
            dev = [d for d in body["devices"] if d["mn"] == "NEWDEV0001"][0]
            self.assertTrue(dev["pending"])
            self.assertEqual(dev["site"], "NEWDEV0001")  # provisional site named after the MN
            status, body = srv.get("/api/v1/sites/NEWDEV0001")
            self.assertTrue(body["provisional"])
            # Stored, but never published: not in the site's latest values.
            status, body = srv.get("/api/v1/sites/NEWDEV0001/latest")
            self.assertEqual(body["values"], [])
            status, body = srv.get("/api/v1/devices/NEWDEV0001/records")
            self.assertEqual(sorted(r["value"] for r in body["records"]), [12, 14])
        finally:
            srv.close()

    def test_limits_out_of_range_are_refused_at_start(self):
        for args in (["--idle-timeout", "0"], ["--max-connections", "0"],
                     ["--max-buffered-bytes", "10"]):
            r = subprocess.run([ECOMON, "serve", "--hj212-listen", "127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0"] + args,
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertTrue(r.stderr.strip(), args)  # says why

    def test_a_misspelt_or_mistyped_config_key_stops_the_start_with_its_line(self):
        # A key the server does not know would otherwise be ignored silently and leave the
        # deployment on a default (here: the HTTP port it believes it set).
        import tempfile
        d = tempfile.mkdtemp(prefix="ecomon-it-cfg-")
        try:
            cases = (('http_listen = "127.0.0.1:0"\nhttp_listn = "0.0.0.0:80"\n',
                      "line 2: unknown key http_listn"),
                     ('max_connections = "10"\n', "line 1: max_connections must be an integer"),
                     ('allow_plain_http = 1\n', "line 1: allow_plain_http must be true or false"),
                     ('screening = 3\n', "line 1: screening must be a table"))
            for text, says in cases:
                path = os.path.join(d, "serve.toml")
                with open(path, "w") as f:
                    f.write(text)
                r = subprocess.run([ECOMON, "serve", "--config", path, "--data", os.path.join(d, "data"),
                                    "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 2, text)
                self.assertIn(says, r.stderr, text)
                self.assertFalse(os.path.exists(os.path.join(d, "data", "ecomon.db")), text)
        finally:
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_sigterm_stops_cleanly(self):
        srv = Server()
        self.assertEqual(srv.stop(), 0)
        srv.close()


class CrashTest(unittest.TestCase):
    def test_kill_9_loses_no_acknowledged_value(self):
        """kill -9 while the simulator streams with acks; after the restart every value the
        simulator got acknowledged is present exactly once (the simulator re-sends the rest)."""
        srv = Server("--unknown-devices", "quarantine")
        data_dir = srv.dir
        # 200 frames/s per device: the 1,200 frames take ~1.5 s, so the kill (after 2,000 of the
        # 12,000 values) lands mid-stream however fast the machine; as fast as acked it did not.
        sim = track(subprocess.Popen([ECOMON, "simulate", "--to", "127.0.0.1:%d" % srv.hj_port,
                                "--devices", "4", "--frames", "300", "--values", "10", "--rate", "200",
                                "--window", "4", "--mn-prefix", "CRASH", "--ack-timeout", "1000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        try:
            # Kill while the stream is under way: after the first commits, well before the end.
            deadline = time.time() + 30
            while srv.metric("ecomon_values_stored_total") < 2000 and time.time() < deadline:
                time.sleep(0.02)
            self.assertIsNone(sim.poll(), "the simulator finished before the kill")
            stored_before = srv.metric("ecomon_values_stored_total")
            self.assertLess(stored_before, 12000)
        except BaseException:
            # Never leave a server or simulator behind: it would hold the test runner's output.
            sim.kill()
            srv.close()
            raise
        srv.stop(sig=9)
        # Restart on the same HJ 212 port so the simulator reconnects (the listener reuses the address).
        srv2 = ServerAtPort(data_dir, srv.hj_port)
        try:
            out, err = sim.communicate(timeout=120)
            self.assertEqual(sim.returncode, 0, out + err)
            self.assertIn("1200 acknowledged", out)
            self.assertRegex(out, r"[1-9]\d* reconnects")  # it really lost the server
            since = time.strftime("%Y-%m-%dT%H:00:00%%2B08:00", time.gmtime(time.time() + 8 * 3600 - 400 * 3600))
            for d in range(1, 5):
                mn = "CRASH%06d" % d
                status, body = srv2.get("/api/v1/devices/%s/records?kind=hour&from=%s&limit=100000" % (mn, since))
                self.assertEqual(status, 200, body)
                keys = [(r["factor"], r["time"]) for r in body["records"]]
                self.assertEqual(len(keys), 3000, mn)          # 300 frames x 10 values
                self.assertEqual(len(set(keys)), len(keys))    # exactly once
                self.assertTrue(all(r["version"] == 1 for r in body["records"]))
        finally:
            if sim.poll() is None:
                sim.kill()
            srv2.close()


class SeriesValidityTest(unittest.TestCase):
    """/api/v1/series hourly and daily means carry validity and coverage (GB 3095-2012 表4)."""

    def test_an_hour_with_44_valid_minutes_is_invalid_and_45_valid(self):
        srv = Server()
        try:
            mn, pw, site = "GY00000002524A", "123456", "2524A"
            now = int(time.time())
            h1 = (now // 3600 - 5) * 3600  # hour starts (UTC instants), well in the past
            h2 = h1 + 3600
            frames = []
            def minute_frame(t, value, flag="N", qn=[0]):
                qn[0] += 1
                dt = time.strftime("%Y%m%d%H%M%S", time.gmtime(t + 8 * 3600))
                return frame("QN=2026010100%07d;ST=22;CN=2051;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;"
                             "a34004-Avg=%s,a34004-Flag=%s&&" % (qn[0], pw, mn, dt, value, flag))
            for i in range(45):  # hour 1: 45 minutes, one of them flagged M → 44 valid
                frames.append(minute_frame(h1 + 60 * i, 10, "M" if i == 7 else "N"))
            for i in range(45):  # hour 2: 45 valid minutes
                frames.append(minute_frame(h2 + 60 * i, 20))
            s = srv.connect()
            s.sendall(b"".join(frames))
            self.assertEqual(len(read_frames(s, len(frames), timeout=30)), len(frames))
            s.close()
            frm = time.strftime("%Y-%m-%dT%H:%M:%S%%2B08:00", time.gmtime(h1 + 8 * 3600))
            status, body = srv.get("/api/v1/series?site=%s&factor=a34004&kind=minute&interval=hour&from=%s"
                                   % (site, frm))
            self.assertEqual(status, 200, body)
            points = body["series"]
            self.assertEqual(len(points), 2, points)
            first, second = points
            self.assertEqual(first["coverage"], {"expected": 60, "received": 45, "valid": 44})
            self.assertFalse(first["valid"])
            self.assertEqual(first["value"], 10)  # the flagged minute is not in the mean
            self.assertEqual(second["coverage"], {"expected": 60, "received": 45, "valid": 45})
            self.assertTrue(second["valid"])
            # Labelled by the hour's end, as the national releases label hours.
            end = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(h2 + 3600 + 8 * 3600))
            self.assertTrue(second["time"].startswith(end), second)
            # A day of two valid-or-not hours is far from the 20 valid hours it needs.
            status, body = srv.get("/api/v1/series?site=%s&factor=a34004&kind=minute&interval=day&from=%s"
                                   % (site, frm))
            self.assertEqual(status, 200, body)
            self.assertTrue(all(not p["valid"] for p in body["series"]))
            self.assertEqual(sum(p["coverage"]["valid"] for p in body["series"]), 1)
        finally:
            srv.close()


class GapsTest(unittest.TestCase):
    def test_gaps_say_whether_the_device_was_silent_or_the_factor_absent(self):
        srv = Server()
        try:
            mn, pw, site = "GY00000002524A", "123456", "2524A"
            h = int(time.time()) // 3600 * 3600  # the current hour's start
            def dt(t):
                return time.strftime("%Y%m%d%H%M%S", time.gmtime(t + 8 * 3600))
            frames = []
            for k in range(10, 0, -1):
                t = h - k * 3600
                if k in (5, 4):
                    continue  # the device sent nothing
                factor = "a34002" if k == 7 else "a34004"  # PM10 only: PM2.5 missing
                frames.append(upload(mn, pw, "20260101000%06d" % k, dt(t), [(factor, "30")]))
            s = srv.connect()
            s.sendall(b"".join(frames))
            self.assertEqual(len(read_frames(s, len(frames))), len(frames))
            s.close()
            iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S%%2B08:00", time.gmtime(t + 8 * 3600))
            status, body = srv.get("/api/v1/gaps?site=%s&factor=a34004&kind=hour&from=%s&to=%s"
                                   % (site, iso(h - 10 * 3600), iso(h)))
            self.assertEqual(status, 200, body)
            self.assertEqual((body["expected"], body["received"]), (10, 7))
            gaps = [(g["missing"], g["reason"], g["device"]) for g in body["gaps"]]
            self.assertEqual(gaps, [(1, "factor_missing", mn), (2, "no_data", mn)])
            self.assertTrue(body["gaps"][1]["from"].startswith(
                time.strftime("%Y-%m-%dT%H:00", time.gmtime(h - 5 * 3600 + 8 * 3600))))
            status, body = srv.get("/api/v1/gaps?site=%s&factor=a34004&kind=rtd" % site)
            self.assertEqual(status, 400)
        finally:
            srv.close()


def ServerAtPort(data_dir, port):
    srv = Server.__new__(Server)
    srv.dir = data_dir
    srv.registry = os.path.join(REPO, "config", "registry")
    srv.args = ["--unknown-devices", "quarantine"]
    srv.key = create_key(data_dir, "admin")
    srv.proc = track(subprocess.Popen(
        [ECOMON, "serve", "--data", data_dir, "--registry", srv.registry,
         "--hj212-listen", "127.0.0.1:%d" % port, "--http-listen", "127.0.0.1:0"] + srv.args,
        stderr=subprocess.PIPE, text=True))
    srv.log = []
    while True:
        line = srv.proc.stderr.readline()
        if not line:
            raise RuntimeError("restart failed: %s" % "".join(srv.log))
        srv.log.append(line)
        m = re.search(r"HJ 212 on [^:]+:(\d+), HTTP on http://[^:]+:(\d+)/", line)
        if m:
            srv.hj_port, srv.http_port = int(m.group(1)), int(m.group(2))
            drain(srv.proc, srv.log)
            return srv


if __name__ == "__main__":
    unittest.main(verbosity=2)
