"""Stored hourly means and their revisions over the real binary (issue #5 §2): 44 minute values
(CN 2051) of one hour sent as HJ 212 frames make a stored, invalid hour; the 45th minute sent late
makes it valid, and GET /api/v1/revisions lists the change with reason late_value.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, first_device, read_frames, upload  # noqa: E402

FACTOR = "a34004"
THIS_HOUR = int(time.time()) // 3600  # fixed once, so an hour turning during the test changes nothing
LATE_HOUR = (THIS_HOUR - 5) * 3600  # the hour that receives its 45th minute late (epoch seconds)
NEWER_HOUR = (THIS_HOUR - 1) * 3600
DEADLINE_S = 30  # polls, never a timing assertion: the service polls every 200 ms anyway


def beijing(epoch_s):
    """HJ 212 DataTime (Beijing time) of an instant."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def iso(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(epoch_s + 8 * 3600))


class DerivedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.mn, cls.pw, cls.site = first_device()
        cls.qn = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def send_minutes(self, starts, value):
        frames = []
        for t in starts:
            DerivedTest.qn += 1
            frames.append(upload(self.mn, self.pw, "2026010100%07d" % self.qn, beijing(t),
                                 [(FACTOR, str(value))], cn="2051"))
        s = self.server.connect()
        s.sendall(b"".join(frames))
        acks = read_frames(s, len(frames), timeout=30)
        s.close()
        self.assertEqual(len(acks), len(frames))

    def hour(self, start, key=None):
        q = urllib.parse.urlencode({"site": self.site, "factor": FACTOR, "interval": "hour",
                                    "from": iso(start), "to": iso(start + 3600)})
        status, body = self.server.get("/api/v1/aggregates?" + q, key=key)
        self.assertEqual(status, 200, body)
        return body["aggregates"][0] if body["aggregates"] else None

    def wait_for(self, what, predicate):
        deadline = time.monotonic() + DEADLINE_S
        while True:
            got = what()
            if predicate(got):
                return got
            if time.monotonic() > deadline:
                self.fail("not within %d s; last: %r" % (DEADLINE_S, got))
            time.sleep(0.1)

    def test_a_late_minute_makes_the_hour_valid_and_leaves_a_revision(self):
        self.send_minutes([LATE_HOUR + 60 * m for m in range(44)], 10)
        h = self.wait_for(lambda: self.hour(LATE_HOUR), lambda h: h and h["coverage"]["received"] == 44)
        self.assertFalse(h["valid"], h)
        self.assertEqual(h["value"], 10)
        self.assertEqual(h["source"], "minute")
        self.assertEqual(h["coverage"], {"expected": 60, "received": 44, "valid": 44})
        self.assertEqual(h["start"], iso(LATE_HOUR))
        # The series moves on, then the 45th minute of the old hour arrives.
        self.send_minutes([NEWER_HOUR], 30)
        self.wait_for(lambda: self.hour(NEWER_HOUR), lambda h: h is not None)
        status, body = self.server.get("/api/v1/revisions?site=" + self.site)
        self.assertEqual((status, body["revisions"]), (200, []))
        self.send_minutes([LATE_HOUR + 44 * 60], 55)
        h = self.wait_for(lambda: self.hour(LATE_HOUR), lambda h: h["valid"])
        self.assertEqual(h["value"], 11)  # (44 × 10 + 55) / 45
        self.assertEqual(h["coverage"], {"expected": 60, "received": 45, "valid": 45})

        q = urllib.parse.urlencode({"site": self.site, "factor": FACTOR})
        status, body = self.server.get("/api/v1/revisions?" + q)
        self.assertEqual(status, 200, body)
        hours = [r for r in body["revisions"] if r["period"] == "hour"]
        self.assertEqual(len(hours), 1, body)
        r = hours[0]
        self.assertEqual((r["site"], r["factor"], r["start"], r["reason"]),
                         (self.site, FACTOR, iso(LATE_HOUR), "late_value"))
        self.assertEqual((r["old_value"], r["new_value"], r["old_valid"], r["new_valid"]),
                         (10, 11, False, True))
        self.assertIn("at", r)
        ids = [x["id"] for x in body["revisions"]]
        self.assertEqual(ids, sorted(ids, reverse=True))  # newest first
        # The day of that hour follows it.
        q = urllib.parse.urlencode({"site": self.site, "factor": FACTOR, "interval": "day",
                                    "from": iso(LATE_HOUR - 86400), "to": iso(LATE_HOUR + 86400)})
        status, days = self.server.get("/api/v1/aggregates?" + q)
        self.assertEqual(status, 200, days)
        self.assertTrue(days["aggregates"], days)
        self.assertEqual(days["aggregates"][0]["source"], "hours")

    def test_credentials_scope_and_parameters(self):
        q = "site=%s&factor=%s" % (self.site, FACTOR)
        self.assertEqual(self.server.get("/api/v1/aggregates?" + q, key="")[0], 401)
        self.assertEqual(self.server.get("/api/v1/revisions?" + q, key="")[0], 401)
        other = "2526A" if self.site != "2526A" else "2525A"
        restricted = create_key(self.server.dir, "viewer", "site:" + other)
        self.assertEqual(self.server.get("/api/v1/aggregates?" + q, key=restricted)[0], 403)
        self.assertEqual(self.server.get("/api/v1/revisions?" + q, key=restricted)[0], 403)
        status, body = self.server.get("/api/v1/revisions", key=restricted)
        self.assertEqual(status, 200, body)
        self.assertTrue(all(r["site"] == other for r in body["revisions"]), body)
        self.assertEqual(self.server.get("/api/v1/aggregates?site=" + self.site)[0], 400)
        self.assertEqual(self.server.get("/api/v1/aggregates?%s&interval=week" % q)[0], 400)
        self.assertEqual(self.server.get("/api/v1/revisions?limit=0")[0], 400)


if __name__ == "__main__":
    unittest.main()
