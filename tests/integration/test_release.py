"""Release only final data per site (issue #5 §5) over the real binary: with the registry setting
`release = final`, the public API withholds a site's values until a reviewer finalizes them —
shown with "value": null and "status": "awaiting_audit" (待审核), never silently missing; its AQI
hour is withheld and left out of the city mean; an approval (audited) is not enough. A site
without the setting releases real-time values labelled "unaudited".

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import REPO, Server, read_frames, upload  # noqa: E402

HOUR = 3600
THIS_HOUR = int(time.time()) // HOUR * HOUR
AT = THIS_HOUR - 2 * HOUR  # the hour both stations report
FACTORS = [("a34004", "35"), ("a34002", "60"), ("a21026", "8"), ("a21004", "30"), ("a05024", "90"),
           ("a21005", "0.6")]
FINAL_SITE, OPEN_SITE = "2524A", "2525A"  # both urban points (城市点)


def beijing(epoch_s):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def iso(epoch_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(epoch_s + 8 * 3600))


class ReleaseFinalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = tempfile.mkdtemp(prefix="ecomon-it-reg-")
        shutil.copytree(os.path.join(REPO, "config", "registry"), cls.registry, dirs_exist_ok=True)
        with open(os.path.join(cls.registry, "settings.csv"), "a", encoding="utf-8") as f:
            f.write("%s,release,final,,,issue #5 §5,public release of final data only\n" % FINAL_SITE)
        cls.srv = Server(registry=cls.registry)
        s = cls.srv.connect()
        frames = [upload("GY0000000%s" % site, "123456", "2026010100000%02d" % i, beijing(AT), FACTORS)
                  for i, site in enumerate([FINAL_SITE, OPEN_SITE])]
        s.sendall(b"".join(frames))
        assert len(read_frames(s, 2, timeout=20)) == 2
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


if __name__ == "__main__":
    unittest.main()
