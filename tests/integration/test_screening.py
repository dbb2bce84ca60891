"""Quality screening over the real binary (issue #5 §4): hourly values sent as HJ 212 frames,
GET /api/v1/screening finds the stuck SO2 and the negative PM2.5, a clean series gives nothing,
and the stored values are unchanged. NO2/NOx carry the rules that need more than one series:
NOx below NO2 (sum_gt_total), NO2 hours missing without a status (missing_without_reason; one
hour explained by a value flagged M), a device hour far from the mean of its minutes
(hour_mismatch). The `[screening]` section of --config changes what is found, and a wrong one
stops the server with its line.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import math
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import (Server, create_key, data_time_at, ecomon, first_device, frame, iso,  # noqa: E402
                            read_frames, upload)

HOURS = 80  # SO2's `constant` default is 72 consecutive hours (analytics/screening.h)
NEGATIVE_AT = 30  # hours ago
THIS_HOUR = int(time.time()) // 3600  # fixed once, so an hour turning during the test changes nothing


def hour_start(hours_ago):
    return (THIS_HOUR - hours_ago) * 3600


def beijing(hours_ago):
    """HJ 212 DataTime (Beijing time) of the start of the hour `hours_ago` hours before now."""
    return data_time_at(hour_start(hours_ago))


def pm25(i):
    return round(40 + 15 * math.sin(i * 0.26) + 5 * math.sin(i * 0.05) + i % 3)


def no2(i):
    return round(30 + 12 * math.sin(i * 0.3) + i % 4)


NOX_LOW_AT = 10       # NOx below NO2 at this hour
NO2_MISSING = (21, 20)  # no NO2, no status
NO2_MAINTENANCE = 40  # no NO2, but NOx flagged M: the device said why
MINUTES_AT = 3        # the device's hour differs from its minutes by 20


def send_all(server, mn, pw):
    frames = []
    for ago in range(HOURS, 0, -1):
        pm = -5 if ago == NEGATIVE_AT else pm25(ago)
        values = [("a21026", "7"), ("a34004", str(pm)), ("a34002", str(round(pm25(ago) * 1.8 + 10)))]
        qn = "2026010100%07d" % ago
        if ago == NO2_MAINTENANCE:
            cp = "DataTime=%s" % beijing(ago) + "".join(";%s-Avg=%s,%s-Flag=N" % (f, v, f) for f, v in values)
            cp += ";a21002-Avg=0,a21002-Flag=M"
            frames.append(frame("QN=%s;ST=22;CN=2061;PW=%s;MN=%s;Flag=5;CP=&&%s&&" % (qn, pw, mn, cp)))
            continue
        if ago not in NO2_MISSING:
            values.append(("a21004", str(no2(ago))))
            values.append(("a21002", str(no2(ago) // 2 if ago == NOX_LOW_AT else round(no2(ago) * 1.3))))
        frames.append(upload(mn, pw, qn, beijing(ago), values))
    for m in range(60):  # minutes of hour MINUTES_AT: mean no2 + 20
        t = hour_start(MINUTES_AT) + 60 * m
        frames.append(upload(mn, pw, "2026010200%07d" % m,
                             time.strftime("%Y%m%d%H%M%S", time.gmtime(t + 8 * 3600)),
                             [("a21004", str(no2(MINUTES_AT) + 20 + (1 if m % 2 else -1)))], cn="2051"))
    s = server.connect()
    s.sendall(b"".join(frames))
    acks = read_frames(s, len(frames), timeout=30)
    s.close()
    assert len(acks) == len(frames), "only %d acknowledgements" % len(acks)


class ScreeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.mn, cls.pw, cls.site = first_device()
        send_all(cls.server, cls.mn, cls.pw)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def screening(self, factor, key=None):
        q = urllib.parse.urlencode({"site": self.site, "factor": factor, "kind": "hour",
                                    "from": iso(hour_start(HOURS + 2))})
        return self.server.get("/api/v1/screening?" + q, key=key)

    def test_constant_so2_is_found(self):
        status, body = self.screening("a21026")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["site"], body["factor"], body["kind"]), (self.site, "a21026", "hour"))
        rules = [f["rule"] for f in body["findings"]]
        self.assertEqual(rules, ["constant"], body)
        f = body["findings"][0]
        self.assertEqual(f["count"], HOURS)
        self.assertEqual(f["from"], iso(hour_start(HOURS)))
        self.assertEqual(f["to"], iso(hour_start(0)))
        self.assertEqual(f["severity"], "critical")
        self.assertEqual(f["rule_zh"], "恒值")
        self.assertEqual(f["device"], self.mn)
        self.assertIn("the value 7 in 80 consecutive values", f["evidence"])

    def test_negative_pm25_is_found_and_the_stored_value_is_unchanged(self):
        status, body = self.screening("a34004")
        self.assertEqual(status, 200, body)
        self.assertEqual([f["rule"] for f in body["findings"]], ["negative"], body)
        f = body["findings"][0]
        self.assertEqual((f["from"], f["to"], f["count"]),
                         (iso(hour_start(NEGATIVE_AT)), iso(hour_start(NEGATIVE_AT - 1)), 1))
        # Screening reports; the raw value stays as sent.
        status, rec = self.server.get("/api/v1/devices/%s/records?kind=hour&from=%s" % (
            self.mn, urllib.parse.quote(iso(hour_start(NEGATIVE_AT)))))
        self.assertEqual(status, 200, rec)
        mine = [r for r in rec["records"] if r["factor"] == "a34004" and r["time"] == iso(hour_start(NEGATIVE_AT))]
        self.assertEqual([(r["value"], r["version"]) for r in mine], [(-5, 1)])

    def test_a_clean_series_has_no_findings(self):
        status, body = self.screening("a34002")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["findings"], [])

    def test_no2_sum_missing_and_hour_rules(self):
        status, body = self.screening("a21004")
        self.assertEqual(status, 200, body)
        found = {f["rule"]: f for f in body["findings"]}
        self.assertEqual(sorted(found), ["hour_mismatch", "missing_without_reason", "sum_gt_total"], body)
        # Hours 21 and 20 ago: no value, no status. Hour 40 ago: the device flagged NOx M.
        self.assertEqual([(f["from"], f["to"], f["count"]) for f in body["findings"]
                          if f["rule"] == "missing_without_reason"],
                         [(iso(hour_start(21)), iso(hour_start(19)), 2)])
        self.assertEqual(found["missing_without_reason"]["rule_zh"], "无故缺失")
        self.assertEqual((found["sum_gt_total"]["from"], found["sum_gt_total"]["count"]),
                         (iso(hour_start(NOX_LOW_AT)), 1))
        self.assertIn("a21002 %d < %d" % (no2(NOX_LOW_AT) // 2, no2(NOX_LOW_AT)),
                      found["sum_gt_total"]["evidence"])
        h = found["hour_mismatch"]
        self.assertEqual((h["from"], h["to"]), (iso(hour_start(MINUTES_AT)), iso(hour_start(MINUTES_AT - 1))))
        self.assertIn("device %d vs platform %d (60 valid minutes)" % (no2(MINUTES_AT), no2(MINUTES_AT) + 20),
                      h["evidence"])
        # The total's own screening finds the same sum finding (and NOx's own missing hours).
        status, body = self.screening("a21002")
        self.assertEqual(sorted(f["rule"] for f in body["findings"]),
                         ["missing_without_reason", "sum_gt_total"], body)

    def test_credentials_scope_and_parameters(self):
        self.assertEqual(self.screening("a21026", key="")[0], 401)
        other = "2526A" if self.site != "2526A" else "2525A"
        restricted = create_key(self.server.dir, "viewer", "site:" + other)
        self.assertEqual(self.screening("a21026", key=restricted)[0], 403)
        self.assertEqual(self.server.get("/api/v1/screening?site=%s" % self.site)[0], 400)
        status, _ = self.server.get("/api/v1/screening?site=%s&factor=a21026&kind=rtd" % self.site)
        self.assertEqual(status, 400)


class ConfiguredScreeningTest(unittest.TestCase):
    """`ecomon serve --config` with a [screening] section."""

    def test_a_wrong_section_stops_the_server_with_its_line(self):
        d = tempfile.mkdtemp(prefix="ecomon-it-")
        try:
            for text, message in [
                    ("[screening]\njump_k = 10\nconstant = 3\n", "line 3: unknown key screening.constant"),
                    ("[screening]\n\n\ndisabled = [\"stuck\"]\n", "line 4: screening.disabled: unknown rule"),
                    ("[screening.factors.a34004]\nrange_max = \"high\"\n",
                     "line 2: screening.factors.a34004.range_max must be a number")]:
                path = os.path.join(d, "serve.toml")
                with open(path, "w") as f:
                    f.write(text)
                rc, _, err = ecomon("serve", "--config", path, "--data", d, "--hj212-listen", "127.0.0.1:0",
                                    "--http-listen", "127.0.0.1:0")
                self.assertEqual(rc, 2, err)
                self.assertIn(message, err)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_thresholds_from_the_config_file(self):
        d = tempfile.mkdtemp(prefix="ecomon-it-cfg-")
        path = os.path.join(d, "serve.toml")
        with open(path, "w") as f:
            f.write('[screening]\ndisabled = ["missing_without_reason"]\n'
                    '[screening.factors.a21026]\nconstant_min_s = 360000\n'  # 100 h: 80 h of SO2 pass
                    '[screening.factors.a21004]\nhour_tolerance = 25\n')  # the 20 of hour 3 passes
        server = Server("--config", path)
        try:
            mn, pw, site = first_device()
            send_all(server, mn, pw)
            def rules(factor):
                q = urllib.parse.urlencode({"site": site, "factor": factor, "kind": "hour",
                                            "from": iso(hour_start(HOURS + 2))})
                status, body = server.get("/api/v1/screening?" + q)
                self.assertEqual(status, 200, body)
                return [f["rule"] for f in body["findings"]]
            self.assertEqual(rules("a21026"), [])
            self.assertEqual(rules("a21004"), ["sum_gt_total"])
        finally:
            server.close()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
