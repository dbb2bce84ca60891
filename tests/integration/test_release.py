"""Release only final data per site (issue #5 §5) and dust-storm day marks (沙尘) over the real
binary. Final only: with the registry setting
`release = final`, the public API withholds a site's values until a reviewer finalizes them —
shown with "value": null and "status": "awaiting_audit" (待审核), never silently missing; its AQI
hour is withheld and left out of the city mean; an approval (audited) is not enough. A site
without the setting releases real-time values labelled "unaudited". Dust storms: a reviewer marks
days of the city (or of a site) dust_storm; GET /api/v1/dust-storm-days and its public twin list
them with "dust_storm": true; a site's own dust_storm_clear takes a day back for that site only.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import REPO, Server, read_frames, upload, iso  # noqa: E402

HOUR = 3600
THIS_HOUR = int(time.time()) // HOUR * HOUR
AT = THIS_HOUR - 2 * HOUR  # the hour both stations report
FACTORS = [("a34004", "35"), ("a34002", "60"), ("a21026", "8"), ("a21004", "30"), ("a05024", "90"),
           ("a21005", "0.6")]
FINAL_SITE, OPEN_SITE = "2524A", "2525A"  # both urban points (城市点)
WATER_SITE = "510800SW01"
WATER = [("w01001", "7.8"), ("w01009", "9.1"), ("w01019", "1.8"), ("w21003", "0.12"), ("w21011", "0.03")]


def beijing(epoch_s):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


class ReleaseFinalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = tempfile.mkdtemp(prefix="ecomon-it-reg-")
        shutil.copytree(os.path.join(REPO, "config", "registry"), cls.registry, dirs_exist_ok=True)
        with open(os.path.join(cls.registry, "settings.csv"), "a", encoding="utf-8") as f:
            f.write("%s,release,final,,,issue #5 §5,public release of final data only\n" % FINAL_SITE)
            f.write("%s,release,final,,,issue #5 §5,public release of final data only\n" % WATER_SITE)
        cls.srv = Server(registry=cls.registry)
        s = cls.srv.connect()
        frames = [upload("GY0000000%s" % site, "123456", "2026010100000%02d" % i, beijing(AT), FACTORS)
                  for i, site in enumerate([FINAL_SITE, OPEN_SITE])]
        frames.append(upload("GY00" + WATER_SITE, "123456", "20260101000009", beijing(AT), WATER, st="21"))
        s.sendall(b"".join(frames))
        assert len(read_frames(s, 3, timeout=20)) == 3
        s.close()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.registry, ignore_errors=True)

    def public_values(self, site):
        status, body = self.srv.get("/api/public/v1/sites/" + site, key="")
        self.assertEqual(status, 200, body)
        return {v["factor"]: v for v in body["values"]}

    def station(self, code):
        status, body = self.srv.get("/api/public/v1/aqi", key="")
        self.assertEqual(status, 200, body)
        stations = {s["code"]: s for s in body["stations"]}
        return stations[code], body["cities"]

    def review(self, action, factor):
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", {
            "site": FINAL_SITE, "factor": factor, "kind": "hour", "from": iso(AT),
            "to": iso(AT + HOUR), "action": action, "reason": "终审通过"})
        self.assertEqual(status, 201, reply)

    def test_final_only_release(self):
        # Before any review: withheld with a status, not missing.
        values = self.public_values(FINAL_SITE)
        self.assertEqual(sorted(values), sorted(f for f, _ in FACTORS))
        for v in values.values():
            self.assertIsNone(v["value"], v)
            self.assertEqual((v["status"], v["status_zh"]), ("awaiting_audit", "待审核"))
        open_values = self.public_values(OPEN_SITE)
        self.assertEqual(open_values["a34004"]["value"], 35)
        self.assertEqual(open_values["a34004"]["status"], "unaudited")
        station, cities = self.station(FINAL_SITE)
        self.assertIsNone(station["aqi"])
        self.assertEqual(station["status"], "awaiting_audit")
        self.assertNotIn("concentrations", station)
        self.assertEqual(self.station(OPEN_SITE)[0]["status"], "unaudited")
        city = [c for c in cities if c["time"] == iso(AT + HOUR)]
        self.assertTrue(city, cities)
        self.assertNotIn(FINAL_SITE, city[0]["stations"])
        self.assertIn(OPEN_SITE, city[0]["stations"])

        # Approved (audited) is not final: still withheld.
        self.review("approve", "a34004")
        self.assertEqual(self.public_values(FINAL_SITE)["a34004"]["status"], "awaiting_audit")

        # Finalized: released, labelled final; the AQI once every item of the hour is final.
        self.review("finalize", "a34004")
        v = self.public_values(FINAL_SITE)["a34004"]
        self.assertEqual((v["value"], v["status"], v["status_zh"]), (35, "final", "终审"))
        self.assertIsNone(self.public_values(FINAL_SITE)["a34002"]["value"])
        self.assertEqual(self.station(FINAL_SITE)[0]["status"], "awaiting_audit")
        for factor, _ in FACTORS[1:]:
            self.review("finalize", factor)
        station, cities = self.station(FINAL_SITE)
        self.assertEqual(station["status"], "final")
        self.assertIsNotNone(station["aqi"])
        self.assertEqual(station["concentrations"]["PM2.5"], 35)
        city = [c for c in cities if c["time"] == iso(AT + HOUR)][0]
        self.assertIn(FINAL_SITE, city["stations"])


    def test_public_history_and_daily_release_final_only(self):
        # An hour only FINAL_SITE reports: the city's public hourly AQI has nothing for it until
        # the value is final, then it has exactly that value.
        at = AT - 2 * HOUR
        s = self.srv.connect()
        s.sendall(upload("GY0000000" + FINAL_SITE, "123456", "20260101000031", beijing(at),
                         [("a34004", "300")]))
        self.assertEqual(len(read_frames(s, 1, timeout=20)), 1)
        s.close()

        def city_hour():
            status, body = self.srv.get("/api/public/v1/aqi/history?hours=24", key="")
            self.assertEqual(status, 200, body)
            entries = [e for e in body["cities"][0]["aqi"] if e["hour_start"] == iso(at)]
            self.assertEqual(len(entries), 1, body)
            return entries[0]

        self.assertIsNone(city_hour()["aqi"])
        # The internal route (not a public release) shows it at once.
        status, body = self.srv.get("/api/v1/aqi?site=%s&mode=hourly" % FINAL_SITE)
        self.assertIsNotNone([e for e in body["aqi"] if e["hour_start"] == iso(at)][0]["aqi"])
        status, reply = self.srv.send("POST", "/api/v1/audit/actions", {
            "site": FINAL_SITE, "factor": "a34004", "kind": "hour", "from": iso(at),
            "to": iso(at + HOUR), "action": "finalize", "reason": "终审通过"})
        self.assertEqual(status, 201, reply)
        entry = city_hour()
        self.assertGreater(entry["aqi"], 200)  # PM2.5 300 µg/m³ alone: IAQI above 200 (HJ 633 表1)

    def test_final_only_water_section(self):
        def section():
            status, body = self.srv.get("/api/public/v1/water", key="")
            self.assertEqual(status, 200, body)
            return {x["code"]: x for x in body["sections"]}[WATER_SITE]

        x = section()
        self.assertEqual((x["class"], x["status"], x["release_status"], x["release_status_zh"]),
                         (None, None, "awaiting_audit", "待审核"))
        self.assertNotIn("concentrations", x)
        for factor, _ in WATER:
            status, reply = self.srv.send("POST", "/api/v1/audit/actions", {
                "site": WATER_SITE, "factor": factor, "kind": "hour", "from": iso(AT),
                "to": iso(AT + HOUR), "action": "finalize"})
            self.assertEqual(status, 201, reply)
        x = section()
        self.assertEqual(x["release_status"], "final")
        self.assertEqual(x["class"], "II")  # DO 9.1, CODMn 1.8, NH3-N 0.12, TP 0.03 (river): II
        self.assertEqual(x["concentrations"]["nh3n"], 0.12)

    def test_dust_storm_days_of_city_and_site(self):
        day = (THIS_HOUR + 8 * HOUR) // 86400 * 86400 - 8 * HOUR - 10 * 86400  # a Beijing midnight

        def mark(action, subject, days, start=day, expect=201, **extra):
            body = {"site": subject, "from": iso(start), "to": iso(start + days * 86400),
                    "action": action, "reason": "沙尘天气（气象部门沙尘公报）"}
            body.update(extra)
            status, reply = self.srv.send("POST", "/api/v1/audit/actions", body)
            self.assertEqual(status, expect, reply)
            return reply

        mark("dust_storm", "510800", 3)                   # the whole city, three days
        mark("dust_storm_clear", FINAL_SITE, 1, day + 86400)  # not at this site on the second day
        q = "from=%s&to=%s" % (urllib.parse.quote(iso(day - 86400)), urllib.parse.quote(iso(day + 5 * 86400)))
        status, body = self.srv.get("/api/v1/dust-storm-days?site=%s&%s" % (FINAL_SITE, q))
        self.assertEqual(status, 200, body)
        self.assertEqual([(d["from"], d["dust_storm"], d["marked_for"]) for d in body["days"]],
                         [(iso(day), True, "510800"), (iso(day + 2 * 86400), True, "510800")])
        self.assertEqual(body["days"][0]["date"], iso(day)[:10])
        status, body = self.srv.get("/api/public/v1/dust-storm-days?city=510800&" + q, key="")
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["days"]), 3)
        status, body = self.srv.get("/api/public/v1/dust-storm-days?site=%s&%s" % (OPEN_SITE, q), key="")
        self.assertEqual(len(body["days"]), 3)
        # Marks are whole days without a factor; the route needs one of site and city.
        mark("dust_storm", "510800", 1, start=day + HOUR, expect=400)
        mark("dust_storm", "510800", 1, expect=400, factor="a34002")
        self.assertEqual(self.srv.get("/api/v1/dust-storm-days?" + q)[0], 400)
        self.assertEqual(self.srv.get("/api/v1/dust-storm-days?city=999999")[0], 404)
        self.assertEqual(self.srv.get("/api/v1/dust-storm-days?city=510800", key="")[0], 401)
        # The daily AQI entries carry the mark (the AQI itself is unchanged by it): the city's
        # three days, and at FINAL_SITE all but the day its own clear took back.
        status, body = self.srv.get("/api/v1/aqi?city=510800&mode=daily&" + q)
        self.assertEqual(status, 200, body)
        self.assertEqual([e["date"] for e in body["aqi"] if e["dust_storm"]],
                         [iso(day + i * 86400)[:10] for i in range(3)])
        self.assertEqual(len(body["aqi"]), 6)
        status, body = self.srv.get("/api/v1/aqi?site=%s&mode=daily&%s" % (FINAL_SITE, q))
        self.assertEqual(status, 200, body)
        self.assertEqual([e["date"] for e in body["aqi"] if e["dust_storm"]],
                         [iso(day)[:10], iso(day + 2 * 86400)[:10]])
        status, body = self.srv.get("/api/public/v1/aqi/daily?days=30", key="")
        self.assertEqual(status, 200, body)
        marked = [e["date"] for e in body["cities"][0]["aqi"] if e["dust_storm"]]
        self.assertEqual(marked, [iso(day + i * 86400)[:10] for i in range(3)])
        # Hourly entries have no such member.
        status, body = self.srv.get("/api/v1/aqi?city=510800&mode=hourly")
        self.assertTrue(all("dust_storm" not in e for e in body["aqi"]))
        # Values are not touched: the site's value is still released as before.
        self.assertEqual(self.public_values(OPEN_SITE)["a34004"]["value"], 35)


if __name__ == "__main__":
    unittest.main()
