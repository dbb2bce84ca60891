"""Stored hourly means, indices and their revisions over the real binary (issue #5 §1, §2, §5):
44 minute values (CN 2051) of one hour sent as HJ 212 frames make a stored, invalid hour; the 45th
minute sent late makes it valid, and GET /api/v1/revisions lists the change with reason
late_value. A late minute also revises the station's and the city's stored AQI, and `as_of` gives
the numbers as they were before it; a review action (invalidate, restore) revises the stored
hour, day and AQI with reason `review`; a month of daily means needs 27 valid days.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import calendar
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, first_device, read_frames, upload, iso  # noqa: E402

FACTOR = "a34004"
THIS_HOUR = int(time.time()) // 3600  # fixed once, so an hour turning during the test changes nothing
LATE_HOUR = (THIS_HOUR - 5) * 3600  # the hour that receives its 45th minute late (epoch seconds)
NEWER_HOUR = (THIS_HOUR - 1) * 3600
DEADLINE_S = 30  # polls, never a timing assertion: the service polls every 200 ms anyway


def beijing(epoch_s):
    """HJ 212 DataTime (Beijing time) of an instant."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


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


HOUR = 3600
BASE = [("a21026", "10"), ("a21004", "20"), ("a21005", "0.5"), ("a05024", "60"), ("a34002", "50")]


def beijing_epoch(year, month, day, hour=0):
    return calendar.timegm((year, month, day, hour, 0, 0)) - 8 * HOUR


class StoredIndicesTest(unittest.TestCase):
    """Two urban points of 广元 on 2026-11-20: 2525A with PM2.5 50 all day (CN 2061), 2524A with 80
    except 08:00–09:00, whose PM2.5 comes as 44 minute values of 80 (CN 2051, an invalid hour);
    the other items low (SO2 10, NO2 20, CO 0.5, O3 60, PM10 50: every IAQI ≤ 50)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.day = beijing_epoch(2026, 11, 20)
        cls.h8 = cls.day + 8 * HOUR
        cls.qn = 0
        frames = []
        for h in range(24):
            start = cls.day + h * HOUR
            pm = [] if h == 8 else [("a34004", "80")]
            frames.append(cls.frame("GY00000002524A", start, BASE + pm))
            frames.append(cls.frame("GY00000002525A", start, BASE + [("a34004", "50")]))
        frames += [cls.frame("GY00000002524A", cls.h8 + 60 * m, [("a34004", "80")], cn="2051")
                   for m in range(44)]
        cls.send(frames)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    @classmethod
    def frame(cls, mn, start, values, cn="2061"):
        cls.qn += 1
        return upload(mn, "123456", "20261120%09d" % cls.qn, beijing(start), values, cn=cn)

    @classmethod
    def send(cls, frames):
        s = cls.srv.connect()
        s.sendall(b"".join(frames))
        acks = read_frames(s, len(frames), timeout=60)
        s.close()
        assert [a["CN"] for a in acks] == ["9014"] * len(frames), acks

    def aqi(self, mode, start, end, **who):
        params = dict(mode=mode, **{"from": iso(start), "to": iso(end)}, **who)
        status, body = self.srv.get("/api/v1/aqi?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        return body["aqi"]

    def hour_row(self, site, start, **extra):
        params = dict(site=site, factor="a34004", interval="hour", **{"from": iso(start),
                                                                      "to": iso(start + HOUR)})
        params.update(extra)
        status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        return body["aggregates"][0] if body["aggregates"] else None

    def revisions(self, site, factor):
        who = {"city": site[len("city:"):]} if site.startswith("city:") else {"site": site}
        status, body = self.srv.get("/api/v1/revisions?" + urllib.parse.urlencode(
            dict(factor=factor, **who)))
        self.assertEqual(status, 200, body)
        self.assertEqual({r["site"] for r in body["revisions"]} - {site}, set(), body)
        if site.startswith("city:"):
            # The subject as the rows name it is accepted back: site=city:CODE, same answer.
            status, again = self.srv.get("/api/v1/revisions?" + urllib.parse.urlencode(
                dict(factor=factor, site=site)))
            self.assertEqual((status, again), (200, body))
        return body["revisions"]

    def review(self, action, site, start, **extra):
        body = {"site": site, "factor": "a34004", "from": iso(start), "to": iso(start + HOUR),
                "action": action, "reason": "仪器故障"}
        body.update(extra)
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", body)
        self.assertEqual(status, 201, reply)
        return reply["id"]

    def test_1_a_late_minute_revises_hour_day_and_aqi_and_as_of_gives_the_old_numbers(self):
        h8, day = self.h8, self.day
        # The route answers after the service caught up with every acknowledged value: no polling.
        # 08:00–09:00: 2524A has no valid PM2.5 (44 minutes); HJ 633-2026 §5.3.1: without PM2.5
        # and every other IAQI ≤ 100, no AQI. The city's hour is 2525A's 50 → 50 + 50·15/25 = 80.
        [st] = self.aqi("hourly", h8, h8 + HOUR, site="2524A")
        self.assertIsNone(st["aqi"])
        self.assertNotIn("PM2.5", st["concentrations"])
        [city] = self.aqi("hourly", h8, h8 + HOUR, city="1")
        self.assertEqual((city["aqi"], city["concentrations"]["PM2.5"]), (80, 50))
        # The city day: 23 hours of 65 and one of 50 → 64.375 → 64 → 100 + 50·4/55 = 103.6 → 104.
        [cday] = self.aqi("daily", day, day + 24 * HOUR, city="1")
        self.assertEqual(cday["aqi"], 104)
        # 2524A's day: 23 valid hours of 80 → 100 + 50·20/55 = 118.2 → 119.
        [sday] = self.aqi("daily", day, day + 24 * HOUR, site="2524A")
        self.assertEqual(sday["aqi"], 119)
        self.assertFalse(self.hour_row("2524A", h8)["valid"])
        time.sleep(1.1)
        before = int(time.time())
        time.sleep(1.1)

        # The 45th minute, 2000 µg/m³, arrives late: the hour is (44·80 + 2000)/45 = 122.67.
        self.send([self.frame("GY00000002524A", h8 + 44 * 60, [("a34004", "2000")], cn="2051")])
        row = self.hour_row("2524A", h8)
        self.assertTrue(row["valid"], row)
        self.assertAlmostEqual(row["value"], (44 * 80 + 2000) / 45)
        # Station: 122.67 → 123 → 150 + 50·8/35 = 161.4 → 162. City: (122.67 + 50)/2 = 86.33 → 86
        # → 100 + 50·26/55 = 123.6 → 124. City day: (23·65 + 86.33)/24 = 65.89 → 66 → 105.5 →
        # 106. Station day: (23·80 + 122.67)/24 = 81.78 → 82 → 120.
        [st] = self.aqi("hourly", h8, h8 + HOUR, site="2524A")
        self.assertEqual(st["aqi"], 162)
        [city] = self.aqi("hourly", h8, h8 + HOUR, city="1")
        self.assertEqual(city["aqi"], 124)
        [cday] = self.aqi("daily", day, day + 24 * HOUR, city="1")
        self.assertEqual(cday["aqi"], 106)
        [sday] = self.aqi("daily", day, day + 24 * HOUR, site="2524A")
        self.assertEqual(sday["aqi"], 120)

        # A revision for each: the hour, the day, the station's and the city's AQI.
        for site, factor, start in (("2524A", "a34004", h8), ("2524A", "aqi_hour", h8),
                                    ("2524A", "aqi_day", day), ("city:510800", "aqi_hour", h8),
                                    ("city:510800", "aqi_day", day), ("city:510800", "a34004", h8)):
            revs = [r for r in self.revisions(site, factor) if r["start"] == iso(start)]
            self.assertEqual(len(revs), 1, (site, factor, revs))
            self.assertEqual(revs[0]["reason"], "late_value", (site, factor))
        [r] = [r for r in self.revisions("2524A", "aqi_hour") if r["start"] == iso(h8)]
        self.assertEqual((r["old_value"], r["new_value"], r["old_valid"], r["new_valid"]),
                         (None, 162, False, True))
        # The 24-h sliding PM2.5 means whose window holds 08:00 and that were valid before (≥ 20
        # valid hours: the windows ending with the hours 20:00 … 02:00 next day) were revised; the
        # ones ending 19:00 and 03:00 became valid (first computed, no revision).
        revs = self.revisions("2524A", "pm25_24h")
        self.assertEqual(sorted(r["start"] for r in revs),
                         [iso(day + k * HOUR) for k in range(20, 27)])
        self.assertEqual({r["reason"] for r in revs}, {"late_value"})

        # As of before the late minute: the old numbers.
        old = dict(as_of=iso(before))
        [st] = self.aqi("hourly", h8, h8 + HOUR, site="2524A", **old)
        self.assertIsNone(st["aqi"])
        [city] = self.aqi("hourly", h8, h8 + HOUR, city="1", **old)
        self.assertEqual((city["aqi"], city["concentrations"]["PM2.5"]), (80, 50))
        [cday] = self.aqi("daily", day, day + 24 * HOUR, city="1", **old)
        self.assertEqual(cday["aqi"], 104)
        row = self.hour_row("2524A", h8, **old)
        self.assertFalse(row["valid"], row)
        self.assertEqual(row["value"], 80)
        self.assertEqual(row["coverage"], {"expected": 60, "received": 44, "valid": 44})
        # The city's stored hour and its O3 8-h daily max (60 all day) through /api/v1/aggregates.
        status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(dict(
            city="510800", factor="a34004", interval="hour",
            **{"from": iso(h8), "to": iso(h8 + HOUR)})))
        self.assertEqual(status, 200, body)
        [c] = body["aggregates"]
        self.assertEqual((body["site"], c["source"], c["coverage"]["valid"]), ("city:510800", "city", 2))
        self.assertAlmostEqual(c["value"], ((44 * 80 + 2000) / 45 + 50) / 2)
        status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(dict(
            city="510800", factor="o3_8h_max", interval="day",
            **{"from": iso(day), "to": iso(day + 86400)})))
        self.assertEqual(status, 200, body)
        self.assertEqual([(a["start"], a["value"], a["valid"]) for a in body["aggregates"]],
                         [(iso(day), 60, True)])
        for bad in ("city=510800&factor=o3_8h_max&interval=hour", "city=999999&factor=a34004",
                    "site=2524A&city=510800&factor=a34004",
                    "site=2524A&factor=a34004&as_of=yesterday"):
            status, body = self.srv.get("/api/v1/aggregates?" + bad)
            self.assertIn(status, (400, 404), (bad, body))
            self.assertTrue(body["error"]["message"], bad)
        self.assertEqual(self.srv.get("/api/v1/aqi?site=2524A&mode=daily&as_of=yesterday")[0], 400)
        # Before anything was stored, nothing was known.
        status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(dict(
            site="2524A", factor="a34004", interval="hour", **{"from": iso(day), "to": iso(day + 86400)},
            as_of=iso(day))))
        self.assertEqual((status, body["aggregates"]), (200, []))

    def test_2_an_invalidation_revises_the_stored_means_and_aqi_and_a_restore_brings_them_back(self):
        h9, day = self.h8 + HOUR, self.day
        [city] = self.aqi("hourly", h9, h9 + HOUR, city="1")
        self.assertEqual(city["aqi"], 105)  # (80 + 50)/2 = 65 → 104.5 → 105
        [before_day] = self.aqi("daily", day, day + 24 * HOUR, site="2525A")
        action = self.review("invalidate", "2525A", h9)
        # Answered after the stored rows were revised: 2525A's hour is invalid, its raw mean kept.
        row = self.hour_row("2525A", h9)
        self.assertFalse(row["valid"], row)
        self.assertIsNone(row["value"])
        self.assertEqual((row["raw_value"], row["raw_valid"]), (50, True))
        [city] = self.aqi("hourly", h9, h9 + HOUR, city="1")
        self.assertEqual((city["aqi"], city["concentrations"]["PM2.5"]), (119, 80))
        revs = [r for r in self.revisions("2525A", "a34004") if r["start"] == iso(h9)]
        self.assertEqual(len(revs), 1, revs)
        self.assertEqual((revs[0]["reason"], revs[0]["review_action"]), ("review", action))
        self.assertEqual((revs[0]["old_value"], revs[0]["new_value"]), (50, None))
        # 2525A's day (23 hours of 50) keeps its value: no revision. The city's hour and day move.
        for site, factor, start in (("city:510800", "a34004", day), ("city:510800", "aqi_hour", h9),
                                    ("city:510800", "a34004", h9)):
            revs = [r for r in self.revisions(site, factor) if r["start"] == iso(start)
                    and r["reason"] == "review"]
            self.assertEqual(len(revs), 1, (site, factor, revs))
            self.assertEqual(revs[0]["review_action"], action)

        restore = self.review("restore", "2525A", h9, reason="复核无误")
        row = self.hour_row("2525A", h9)
        self.assertEqual((row["valid"], row["value"]), (True, 50))
        [city] = self.aqi("hourly", h9, h9 + HOUR, city="1")
        self.assertEqual(city["aqi"], 105)
        [after_day] = self.aqi("daily", day, day + 24 * HOUR, site="2525A")
        self.assertEqual(after_day, before_day)
        revs = [r for r in self.revisions("city:510800", "aqi_hour")
                if r["start"] == iso(h9) and r["reason"] == "review"]
        self.assertEqual([r["review_action"] for r in revs], [restore, action])
        self.assertEqual((revs[0]["old_value"], revs[0]["new_value"]), (119, 105))

    def test_3_a_month_needs_27_valid_days(self):
        first = beijing_epoch(2026, 9, 1)
        frames = [self.frame("GY00000002526A", first + d * 86400 + h * HOUR, [("a21026", str(d + 1))])
                  for d in range(26) for h in range(20)]
        self.send(frames)
        params = dict(site="2526A", factor="a21026", interval="month",
                      **{"from": iso(first), "to": iso(beijing_epoch(2026, 10, 1))})

        def month():
            status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(params))
            self.assertEqual(status, 200, body)
            return body["aggregates"]

        [m] = month()
        self.assertEqual(m["start"], iso(first))
        self.assertEqual(m["source"], "days")
        self.assertEqual(m["coverage"], {"expected": 30, "received": 26, "valid": 26})
        self.assertFalse(m["valid"])  # GB 3095-2012 表4: ≥ 27 daily values per month
        self.assertAlmostEqual(m["value"], 13.5)
        self.send([self.frame("GY00000002526A", first + 26 * 86400 + h * HOUR, [("a21026", "27")])
                   for h in range(20)])
        [m] = month()
        self.assertEqual(m["coverage"], {"expected": 30, "received": 27, "valid": 27})
        self.assertTrue(m["valid"])
        self.assertAlmostEqual(m["value"], 14)
        params["interval"] = "year"
        [y] = month()
        self.assertEqual(y["start"], iso(beijing_epoch(2026, 1, 1)))
        self.assertFalse(y["valid"])  # 27 of the 324 days a year needs
        self.assertEqual(y["coverage"]["valid"], 27)

    def test_4_a_device_hour_keeps_the_platforms_minute_mean_beside_it(self):
        # 2525A sends its own PM2.5 hour (50, CN 2061); 45 minutes of 60 (CN 2051) for 10:00 make
        # the platform's hour 60: |50 − 60| = 10 > max(2 µg/m3, 10 % × 60) — a mismatch
        # (analytics/screening.h hour_mismatch). The official hour stays the device's.
        h10 = self.day + 10 * HOUR
        row = self.hour_row("2525A", h10)
        self.assertEqual((row["source"], row["value"]), ("hour", 50), row)
        self.assertEqual(row["platform"], {"value": None, "valid": False, "received": 0,
                                           "valid_count": 0})
        self.assertIsNone(row["difference"])
        self.assertFalse(row["mismatch"])
        self.send([self.frame("GY00000002525A", h10 + 60 * m, [("a34004", "60")], cn="2051")
                   for m in range(45)])
        row = self.hour_row("2525A", h10)
        self.assertEqual(row["platform"], {"value": 60, "valid": True, "received": 45,
                                           "valid_count": 45}, row)
        self.assertEqual((row["value"], row["difference"], row["mismatch"]), (50, -10, True))
        self.assertEqual([r for r in self.revisions("2525A", "a34004") if r["start"] == iso(h10)],
                         [])  # the official hour did not move
        # A minute-sourced hour has no platform beside it.
        self.assertNotIn("platform", self.hour_row("2524A", self.h8))

    def test_5_a_county_is_the_mean_of_its_points_other_than_control_points(self):
        # 利州区 (510802): 2524A and 2525A sent 09:00 (80, 50); the control point 2523A did not.
        h9 = self.day + 9 * HOUR
        params = dict(county="510802", factor="a34004", interval="hour",
                      **{"from": iso(h9), "to": iso(h9 + HOUR)})
        status, body = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        [row] = body["aggregates"]
        self.assertEqual((body["site"], row["source"], row["value"]), ("county:510802", "county", 65))
        self.assertEqual(row["coverage"], {"expected": 4, "received": 2, "valid": 2})
        [county] = self.aqi("hourly", h9, h9 + HOUR, county="510802")
        [city] = self.aqi("hourly", h9, h9 + HOUR, city="510800")
        self.assertEqual(county["concentrations"]["PM2.5"], 65)
        self.assertEqual(county["aqi"], city["aqi"])  # the same points sent
        self.assertEqual(self.srv.get("/api/v1/aqi?county=999999&mode=hourly")[0], 404)
        self.assertEqual(self.srv.get("/api/v1/aqi?county=510802&city=510800")[0], 400)
        status, alias = self.srv.get("/api/v1/aggregates?" + urllib.parse.urlencode(
            dict(params, county="", site="county:510802")))
        self.assertEqual((status, alias["site"]), (200, "county:510802"), alias)
        self.assertEqual(self.srv.get("/api/v1/aggregates?site=county:999999&factor=a34004")[0], 404)


class WaterClassTest(unittest.TestCase):
    """沙溪 (510800SW01) of the national automatic water release, 2026-02-04 11:00 (the real values
    of data/water_cn_auto_snapshot_2026-02-04), sent by its logger as an hourly frame (CN 2061)."""

    ITEMS = [("w01001", "8.05"), ("w01009", "7.44"), ("w01019", "1.71"), ("w21003", "0.016"),
             ("w21011", "0.012"), ("w21001", "1.39")]

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.t = beijing_epoch(2026, 2, 4, 11)
        cls.qn = 0

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def send(self, start, values):
        WaterClassTest.qn += 1
        frame = upload("GY00510800SW01", "123456", "20260204%09d" % self.qn, beijing(start), values,
                       cn="2061")
        s = self.srv.connect()
        s.sendall(frame)
        acks = read_frames(s, 1, timeout=30)
        s.close()
        self.assertEqual([a["CN"] for a in acks], ["9014"], acks)

    def samples(self, **extra):
        params = {"site": "510800SW01", "from": iso(self.t - 12 * HOUR),
                  "to": iso(self.t + 12 * HOUR)}
        params.update(extra)
        status, body = self.srv.get("/api/v1/water-class?" + urllib.parse.urlencode(params))
        self.assertEqual(status, 200, body)
        return body["samples"]

    def test_a_late_value_revises_the_class_and_as_of_gives_the_old_one(self):
        # Without TP first, then the next 4-hourly sample: the series moves on.
        self.send(self.t, [i for i in self.ITEMS if i[0] != "w21011"])
        self.send(self.t + 4 * HOUR, self.ITEMS)
        [first, later] = self.samples()
        # GB 3838-2002 表1 第3项: DO 7.44 < 7.5 (I), ≥ 6 → II; every other item class I.
        self.assertEqual((first["time"], first["value"], first["class"], first["status"]),
                         (iso(self.t), 2, "II", "优"), first)
        self.assertEqual(first["standard"], "GB 3838-2002 表1")
        self.assertEqual(first["water_body"], "river")
        self.assertEqual(first["deciding"], [{"factor": "w01009", "item": "do", "name": "溶解氧"}])
        tn = [i for i in first["items"] if i["factor"] == "w21001"][0]
        self.assertIsNone(tn["class"])  # TN of a river: no class
        self.assertEqual(later["class"], "II")
        time.sleep(1.1)
        before = int(time.time())
        time.sleep(1.1)
        # TP of 11:00 arrives late, crafted 0.25 mg/L: 表1 第8项 (河流) III ≤ 0.2 < 0.25 ≤ 0.3 → IV.
        self.send(self.t, [("w21011", "0.25")])
        [first, later] = self.samples()
        self.assertEqual((first["value"], first["class"], first["status"]), (4, "IV", "轻度污染"))
        self.assertEqual([d["factor"] for d in first["deciding"]], ["w21011"])
        self.assertEqual(later["class"], "II")
        status, body = self.srv.get("/api/v1/revisions?" + urllib.parse.urlencode(
            {"site": "510800SW01", "factor": "water_class"}))
        self.assertEqual(status, 200, body)
        [r] = body["revisions"]
        self.assertEqual((r["start"], r["old_value"], r["new_value"], r["reason"]),
                         (iso(self.t), 2, 4, "late_value"))
        [old, _] = self.samples(as_of=iso(before))
        self.assertEqual((old["class"], [d["factor"] for d in old["deciding"]]), ("II", ["w01009"]))

    def test_scopes_and_parameters(self):
        q = "/api/v1/water-class?site=510800SW01"
        self.assertEqual(self.srv.get(q, key="")[0], 401)
        restricted = create_key(self.srv.dir, "viewer", "site:2526A")
        self.assertEqual(self.srv.get(q, key=restricted)[0], 403)
        status, body = self.srv.get("/api/v1/water-class?site=2526A")
        self.assertEqual(status, 400, body)
        self.assertEqual(self.srv.get("/api/v1/water-class")[0], 400)
        self.assertEqual(self.srv.get("/api/v1/water-class?site=NOPE")[0], 404)


if __name__ == "__main__":
    unittest.main()
