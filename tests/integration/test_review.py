"""Data review (数据审核, issue #5 §5) and the AQI history over the real binary: HJ 212 hourly data
in, review actions through the API, series and AQI recomputed from the reviewed values; roles,
scopes and the audit trail enforced."""
import calendar
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, read_frames, upload, iso, data_time_at as datatime  # noqa: E402

HOUR = 3600
BASE = [("a21026", "10"), ("a21004", "20"), ("a21005", "0.5"), ("a05024", "60"), ("a34002", "50")]


def beijing_epoch(year, month, day, hour=0):
    """Unix seconds of a Beijing civil time."""
    return calendar.timegm((year, month, day, hour, 0, 0)) - 8 * HOUR


def q(**params):
    return urllib.parse.urlencode(params)


_qn = [0]


def hourly(mn, start, values):
    _qn[0] += 1
    return upload(mn, "123456", "20260101%09d" % _qn[0], datatime(start), values)


def send(srv, frames):
    s = srv.connect()
    s.sendall(b"".join(frames))
    acks = read_frames(s, len(frames), timeout=30)
    s.close()
    assert [a["CN"] for a in acks] == ["9014"] * len(frames), acks


class ReviewTest(unittest.TestCase):
    """One day of hourly PM2.5 at 2526A: 10, 11, … 33 µg/m³ for the hours starting 00:00 … 23:00."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.day = beijing_epoch(2026, 12, 1)
        send(cls.srv, [hourly("GY00000002526A", cls.day + h * HOUR, [("a34004", str(10 + h))])
                       for h in range(24)])

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def series(self, interval="raw", **extra):
        params = dict(site="2526A", factor="a34004", kind="hour", interval=interval,
                      **{"from": iso(self.day), "to": iso(self.day + 24 * HOUR)})
        params.update(extra)
        status, body = self.srv.get("/api/v1/series?" + q(**params))
        self.assertEqual(status, 200, body)
        return body["series"]

    def action(self, action, start_hour, hours=1, key=None, site="2526A", expect=201, **extra):
        body = {"site": site, "factor": "a34004", "kind": "hour",
                "from": iso(self.day + start_hour * HOUR),
                "to": iso(self.day + (start_hour + hours) * HOUR), "action": action}
        body.update(extra)
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", body, key=key)
        self.assertEqual(status, expect, reply)
        return reply

    def test_1_invalidate_correct_restore_and_the_day_mean(self):
        day = self.series("day")
        self.assertEqual(len(day), 1)
        self.assertAlmostEqual(day[0]["value"], sum(range(10, 34)) / 24)
        self.assertTrue(day[0]["valid"])
        # Screened (the screening service has been over them), not yet audited.
        self.assertEqual(day[0]["level"], "screened")
        # A whole second after the values arrived and before the first action: the "as of" mark.
        time.sleep(1.1)
        before = int(time.time())
        time.sleep(1.1)

        # Invalidate the hour 08:00–09:00 (value 18).
        stored = self.action("invalidate", 8, reason="仪器故障")
        self.assertEqual(stored["action"], "invalidate")
        self.assertEqual(stored["reason"], "仪器故障")
        self.assertTrue(stored["actor"].startswith("apikey:"), stored)
        self.assertIn("at", stored)
        self.assertGreater(stored["id"], 0)
        raw = {p["time"]: p for p in self.series()}
        p8 = raw[iso(self.day + 8 * HOUR)]
        self.assertFalse(p8["valid"])
        self.assertEqual(p8["review"], "invalidated")
        self.assertEqual(p8["value"], 18)
        self.assertEqual(p8["level"], "screened")
        self.assertTrue(raw[iso(self.day + 9 * HOUR)]["valid"])
        self.assertIsNone(raw[iso(self.day + 9 * HOUR)]["review"])
        hours = {p["start"]: p for p in self.series("hour")}
        self.assertFalse(hours[iso(self.day + 8 * HOUR)]["valid"])
        day = self.series("day")[0]
        self.assertAlmostEqual(day["value"], (sum(range(10, 34)) - 18) / 23)
        self.assertEqual(day["coverage"]["valid"], 23)
        self.assertTrue(day["valid"])

        # Correct 10:00–11:00 (raw 20) to 44: shown 44, the raw value kept beside it.
        self.action("correct", 10, reason="校准后修正", value=44)
        p10 = {p["time"]: p for p in self.series()}[iso(self.day + 10 * HOUR)]
        self.assertEqual(p10["value"], 44)
        self.assertEqual(p10["raw"], 20)
        self.assertEqual(p10["review"], "corrected")
        self.assertTrue(p10["valid"])
        day = self.series("day")[0]
        self.assertAlmostEqual(day["value"], (sum(range(10, 34)) - 18 - 20 + 44) / 23)

        # As of before the actions: the raw day. A new version of 12:00 sent now is not in it.
        time.sleep(1.1)
        send(self.srv, [hourly("GY00000002526A", self.day + 12 * HOUR, [("a34004", "99")])])
        p12 = {p["time"]: p for p in self.series()}[iso(self.day + 12 * HOUR)]
        self.assertEqual(p12["value"], 99)
        self.assertEqual(p12["version"], 2)
        old = self.series("day", as_of=iso(before))[0]
        self.assertAlmostEqual(old["value"], sum(range(10, 34)) / 24)
        old_raw = {p["time"]: p for p in self.series(as_of=iso(before))}
        self.assertEqual(old_raw[iso(self.day + 12 * HOUR)]["value"], 22)
        self.assertEqual(old_raw[iso(self.day + 12 * HOUR)]["version"], 1)
        self.assertTrue(old_raw[iso(self.day + 8 * HOUR)]["valid"])

        # Restore 08:00–11:00: both the invalidation and the correction are cancelled.
        self.action("restore", 8, hours=3, reason="复核无误")
        raw = {p["time"]: p for p in self.series()}
        self.assertTrue(raw[iso(self.day + 8 * HOUR)]["valid"])
        self.assertEqual(raw[iso(self.day + 10 * HOUR)]["value"], 20)
        self.assertNotIn("raw", raw[iso(self.day + 10 * HOUR)])

        # The version history, newest first, and the audit trail.
        status, body = self.srv.get("/api/v1/audit/actions?" + q(site="2526A", factor="a34004"))
        self.assertEqual(status, 200, body)
        self.assertEqual([a["action"] for a in body["actions"]][:3],
                         ["restore", "correct", "invalidate"])
        status, audit = self.srv.get("/api/v1/audit?limit=100")
        self.assertEqual(status, 200, audit)
        entries = {(e["action"], e["target"]) for e in audit["entries"]}
        self.assertIn(("review.invalidate", "2526A/a34004"), entries)
        self.assertIn(("review.correct", "2526A/a34004"), entries)

    def test_2_bad_requests_are_400_with_a_reason(self):
        for extra in ({"action": "delete", "reason": "x"}, {"action": "invalidate"},
                      {"action": "correct", "reason": "x"}, {"action": "invalidate", "reason": "x",
                                                              "from": iso(self.day + 10 * HOUR)},
                      {"action": "invalidate", "reason": "x", "to": "yesterday"},
                      {"action": "invalidate", "reason": "x", "colour": "red"}):
            reply = self.action(extra.pop("action"), 9, expect=400, **extra)
            self.assertEqual(reply["error"]["code"], "bad_request")
            self.assertTrue(reply["error"]["message"])
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", b"not json")
        self.assertEqual(status, 400, reply)

    def test_3_roles_and_scopes(self):
        viewer = create_key(self.srv.dir, "viewer")
        analyst = create_key(self.srv.dir, "analyst")  # data.review without data.approve
        reviewer = create_key(self.srv.dir, "reviewer")
        elsewhere = create_key(self.srv.dir, "reviewer", "site:2525A")
        self.action("invalidate", 3, key=viewer, reason="x", expect=403)
        self.assertEqual(self.action("approve", 0, hours=24, key=analyst, expect=403)["error"]["code"],
                         "forbidden")
        self.action("invalidate", 3, key=analyst, reason="x")
        self.action("restore", 3, key=analyst, reason="x")
        self.action("invalidate", 3, key=elsewhere, reason="x", expect=403)
        self.assertEqual(self.srv.get("/api/v1/audit/actions?site=2526A", key=elsewhere)[0], 403)
        status, body = self.srv.get("/api/v1/audit/actions", key=elsewhere)
        self.assertEqual((status, body["actions"]), (200, []))
        self.assertEqual(self.srv.get("/api/v1/audit/actions?site=2526A", key=viewer)[0], 200)
        self.action("approve", 0, hours=24, key=reviewer)
        self.assertEqual({p["level"] for p in self.series()}, {"audited"})
        self.assertEqual(self.series("day")[0]["level"], "audited")
        self.action("finalize", 0, hours=24, key=reviewer)
        self.assertEqual({p["level"] for p in self.series()}, {"final"})


class AqiTest(unittest.TestCase):
    """Two urban points of 广元 (2524A, 2525A) with PM2.5 80 and 50 µg/m³ all day on 2026-12-01, the
    other items equal: SO2 10, NO2 20, CO 0.5 mg/m³, O3 60, PM10 50."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        cls.day = beijing_epoch(2026, 12, 1)
        frames = []
        for h in range(24):
            frames.append(hourly("GY00000002524A", cls.day + h * HOUR, BASE + [("a34004", "80")]))
            frames.append(hourly("GY00000002525A", cls.day + h * HOUR, BASE + [("a34004", "50")]))
        # The last three complete hours, for the public history.
        cls.now_hour = int(time.time()) // HOUR * HOUR
        for h in range(3, 0, -1):
            start = cls.now_hour - h * HOUR
            frames.append(hourly("GY00000002524A", start, BASE + [("a34004", "80")]))
            frames.append(hourly("GY00000002525A", start, BASE + [("a34004", "50")]))
        send(cls.srv, frames)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def aqi(self, mode, start, end, **who):
        status, body = self.srv.get("/api/v1/aqi?" + q(mode=mode, **{"from": iso(start), "to": iso(end)},
                                                       **who))
        self.assertEqual(status, 200, body)
        return body["aqi"]

    def invalidate(self, site, start, hours=1):
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", {
            "site": site, "factor": "a34004", "kind": "hour", "from": iso(start),
            "to": iso(start + hours * HOUR), "action": "invalidate", "reason": "仪器故障"})
        self.assertEqual(status, 201, reply)

    def test_1_hourly_and_daily_aqi_by_hj633_2026_and_after_an_invalidation(self):
        h8 = self.day + 8 * HOUR
        # HJ 633-2026 表3, PM2.5 24-h row (IAQI 50/100/150 at 35/60/115 µg/m³; PM 1-h values on
        # the 24-h rows in the hourly report). City = mean of the urban points: 65 →
        # 100 + 50·(65−60)/(115−60) = 104.5 → 105 (rounded up, §4.2.3).
        [hour] = self.aqi("hourly", h8, h8 + HOUR, city="1")
        self.assertEqual(hour["time"], iso(h8 + HOUR))  # labelled by the hour's end
        self.assertEqual(hour["hour_start"], iso(h8))
        self.assertEqual(hour["concentrations"]["PM2.5"], 65)
        self.assertEqual(hour["aqi"], 105)
        self.assertEqual(hour["category"], "轻度污染")
        self.assertEqual(hour["primary_pollutants"], ["PM2.5"])
        self.assertEqual(hour["standard"], "HJ633-2026")
        # The other IAQIs of 表3: SO2 1-h 10 → 50·10/150 = 3.3 → 4; NO2 1-h 20 → 50·20/100 = 10;
        # CO 1-h 0.5 → 50·0.5/5 = 5; O3 1-h 60 → 50·60/160 = 18.75 → 19; PM10 50 → 50.
        self.assertEqual(hour["iaqi"], {"SO2": 4, "NO2": 10, "CO": 5, "O3": 19, "PM10": 50,
                                        "PM2.5": 105})
        # One station: 80 → 100 + 50·20/55 = 118.2 → 119.
        [st] = self.aqi("hourly", h8, h8 + HOUR, site="2524A")
        self.assertEqual(st["aqi"], 119)
        # Daily (HJ 633-2026 表3 24-h rows, HJ 663 daily means of 24 valid hours): city PM2.5 65 →
        # 105; O3 daily max 8-h 60 → 50·60/100 = 30; SO2 24-h 10 → 50·10/50 = 10; NO2 24-h 20 →
        # 50·20/40 = 25; CO 24-h 0.5 → 50·0.5/2 = 12.5 → 13.
        [day] = self.aqi("daily", self.day, self.day + 24 * HOUR, city="1")
        self.assertEqual(day["date"], "2026-12-01")
        self.assertEqual(day["aqi"], 105)
        self.assertEqual(day["iaqi"]["O3_8h"], 30)
        self.assertEqual(day["iaqi"]["SO2"], 10)
        self.assertEqual(day["iaqi"]["NO2"], 25)
        self.assertEqual(day["iaqi"]["CO"], 13)

        # 2524A's PM2.5 of 08:00–09:00 invalid: the city's hour is 2525A's 50 → 50 + 50·15/25 = 80.
        self.invalidate("2524A", h8)
        [hour] = self.aqi("hourly", h8, h8 + HOUR, city="1")
        self.assertEqual(hour["concentrations"]["PM2.5"], 50)
        self.assertEqual(hour["aqi"], 80)
        self.assertEqual(hour["category"], "良")
        [st] = self.aqi("hourly", h8, h8 + HOUR, site="2524A")
        self.assertNotIn("PM2.5", st["concentrations"])
        # The city day: 23 hours of 65 and one of 50 → 64.375, rounded to 64 (§4.2.2) →
        # 100 + 50·4/55 = 103.6 → 104.
        [day] = self.aqi("daily", self.day, self.day + 24 * HOUR, city="1")
        self.assertEqual(day["aqi"], 104)
        # 2524A with 19 valid PM2.5 hours: no daily mean (GB 3095 表4: 20 hours), and without it
        # HJ 633-2026 §5.3.1 gives no AQI (the other items stay below 100).
        self.invalidate("2524A", self.day + 20 * HOUR, hours=4)
        [day] = self.aqi("daily", self.day, self.day + 24 * HOUR, site="2524A")
        self.assertIsNone(day["aqi"])
        self.assertNotIn("PM2.5", day["concentrations"])

    def test_2_the_public_history_and_daily_aqi(self):
        status, body, hdrs = self.srv.request("GET", "/api/public/v1/aqi/history?hours=3", key="")
        self.assertEqual(status, 200, body)
        self.assertIn("public", hdrs.get("Cache-Control", ""))
        [city] = body["cities"]
        self.assertEqual(city["name"], "广元市")
        self.assertEqual([h["time"] for h in city["aqi"]],
                         [iso(self.now_hour - h * HOUR + HOUR) for h in (3, 2, 1)])
        self.assertEqual([h["aqi"] for h in city["aqi"]], [105, 105, 105])
        self.invalidate("2524A", self.now_hour - HOUR)
        status, body, _ = self.srv.request("GET", "/api/public/v1/aqi/history?hours=3", key="")
        self.assertEqual([h["aqi"] for h in body["cities"][0]["aqi"]], [105, 105, 80])
        # The latest public AQI withholds the invalidated value too: 2524A has no PM2.5 for that
        # hour (NA by HJ 633-2026 §5.3.1), the city's is 2525A's 50 → 80.
        status, body, _ = self.srv.request("GET", "/api/public/v1/aqi", key="")
        self.assertEqual(status, 200, body)
        stations = {s["code"]: s for s in body["stations"]}
        self.assertNotIn("PM2.5", stations["2524A"]["concentrations"])
        self.assertIsNone(stations["2524A"]["aqi"])
        self.assertEqual(body["cities"][0]["aqi"], 80)
        # The public latest values of the site withhold it as well (not replaced by an older
        # hour), and release a correction corrected.
        status, body, _ = self.srv.request("GET", "/api/public/v1/sites/2524A", key="")
        self.assertEqual(status, 200, body)
        factors = {v["factor"] for v in body["values"]}
        self.assertNotIn("a34004", factors)
        self.assertIn("a34002", factors)
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", {
            "site": "2525A", "factor": "a34004", "kind": "hour", "from": iso(self.now_hour - HOUR),
            "to": iso(self.now_hour), "action": "correct", "value": 60, "reason": "平行样比对修正"})
        self.assertEqual(status, 201, reply)
        status, body, _ = self.srv.request("GET", "/api/public/v1/sites/2525A", key="")
        self.assertEqual([v["value"] for v in body["values"] if v["factor"] == "a34004"], [60])
        status, body, _ = self.srv.request("GET", "/api/public/v1/aqi/daily?days=2", key="")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["cities"][0]["aqi"]), 2)
        for bad in ("hours=0", "hours=169", "hours=x"):
            self.assertEqual(self.srv.request("GET", "/api/public/v1/aqi/history?" + bad, key="")[0],
                             400, bad)
        self.assertEqual(self.srv.request("GET", "/api/public/v1/aqi/daily?days=91", key="")[0], 400)

    def test_3_bad_aqi_queries(self):
        for query in ("mode=weekly&site=2524A", "mode=hourly", "site=2524A&city=1",
                      "city=999999", "site=2524A&from=2026-01-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00"):
            status, _ = self.srv.get("/api/v1/aqi?" + query)
            self.assertIn(status, (400, 404), query)


if __name__ == "__main__":
    unittest.main(verbosity=2)
