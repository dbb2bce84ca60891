"""Quality screening over the real binary (issue #5 §4): hourly values sent as HJ 212 frames,
GET /api/v1/screening finds the stuck SO2 and the negative PM2.5, a clean series gives nothing,
and the stored values are unchanged.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import math
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, first_device, read_frames, upload  # noqa: E402

HOURS = 80  # SO2's `constant` default is 72 consecutive hours (analytics/screening.h)
NEGATIVE_AT = 30  # hours ago
THIS_HOUR = int(time.time()) // 3600  # fixed once, so an hour turning during the test changes nothing


def hour_start(hours_ago):
    return (THIS_HOUR - hours_ago) * 3600


def beijing(hours_ago):
    """HJ 212 DataTime (Beijing time) of the start of the hour `hours_ago` hours before now."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(hour_start(hours_ago) + 8 * 3600))


def iso(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(epoch_s + 8 * 3600))


def pm25(i):
    return round(40 + 15 * math.sin(i * 0.26) + 5 * math.sin(i * 0.05) + i % 3)


class ScreeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.mn, cls.pw, cls.site = first_device()
        frames = []
        for ago in range(HOURS, 0, -1):
            pm = -5 if ago == NEGATIVE_AT else pm25(ago)
            values = [("a21026", "7"), ("a34004", str(pm)), ("a34002", str(round(pm25(ago) * 1.8 + 10)))]
            frames.append(upload(cls.mn, cls.pw, "2026010100%07d" % ago, beijing(ago), values))
        s = cls.server.connect()
        s.sendall(b"".join(frames))
        acks = read_frames(s, HOURS, timeout=30)
        s.close()
        assert len(acks) == HOURS, "only %d acknowledgements" % len(acks)

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

    def test_credentials_scope_and_parameters(self):
        self.assertEqual(self.screening("a21026", key="")[0], 401)
        other = "2526A" if self.site != "2526A" else "2525A"
        restricted = create_key(self.server.dir, "viewer", "site:" + other)
        self.assertEqual(self.screening("a21026", key=restricted)[0], 403)
        self.assertEqual(self.server.get("/api/v1/screening?site=%s" % self.site)[0], 400)
        status, _ = self.server.get("/api/v1/screening?site=%s&factor=a21026&kind=rtd" % self.site)
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()
