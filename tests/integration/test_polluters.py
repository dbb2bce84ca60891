"""Key polluter supervision (issue #6 §1) over the real binary and HJ 212:

- the demo registry's fictional enterprise GYDEMO01 (config/registry: outlets.csv, permits.csv):
  its outlets and permits through the API, scoped; a `permit` rule on the flue-gas outlet's SO2
  opens one alarm when the converted value (ZsRtd) exceeds the permitted 100 mg/m³, keeps one alarm
  over 1,000 more exceeding frames, and clears on a good value; a measured value with its O2 is
  converted by the platform; a flagged exceeding value opens a `screening` flag_cover finding and no
  exceedance; `GET /api/v1/alarms?enterprise=` and the enterprise on each alarm;
- real HJ/T 212-2005 hourly frames of one flue-gas logger from the 2016 capture
  (data/hj212_capture_2016-08-24): the emissions route's SO2 total equals the hand sum of the sent
  `02-Cou` values, and an `emission_total` rule opens when the year's total reaches its share of the
  annual permitted total.

No wall-clock limits are asserted: every wait polls with a generous deadline."""
import gzip
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import REPO, crc_hj212, create_key, frame, read_frames, Server, wait_for, data_time_ago as datatime  # noqa: E402

OUTLET, MN, PW = "GYDEMO01DA001", "GYDEMO01DA01", "123456"
CAPTURE = os.path.join(REPO, "data", "hj212_capture_2016-08-24", "hj212-2005-capture-2016-08-24.txt.gz")
CAPTURE_MN = "LD130131000091"


def flue(qn, data_time, items, flag="N"):
    """A real-time (CN 2011) flue-gas upload with the ack bit; items: [(factor, field, value)]."""
    cp = ";".join("%s-%s=%s,%s-Flag=%s" % (f, fld, v, f, flag) for f, fld, v in items)
    return frame("QN=%s;ST=31;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s&&" % (qn, PW, MN, data_time, cp))


class PermitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.qn = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def next_qn(self):
        PermitTest.qn += 1
        return "20260101%09d" % PermitTest.qn

    def alarms(self, query):
        status, body = self.server.get("/api/v1/alarms?" + query)
        self.assertEqual(status, 200, body)
        return body["alarms"]

    def rule(self, body):
        status, rule = self.server.send("POST", "/api/v1/rules", body)
        self.assertEqual(status, 201, rule)
        return rule

    def test_enterprise_outlets_permits_and_scope(self):
        srv = self.server
        status, body = srv.get("/api/v1/enterprises")
        self.assertEqual(status, 200, body)
        codes = [e["code"] for e in body["enterprises"]]
        self.assertEqual(codes, ["GYDEMO01"])
        self.assertIn("虚构", body["enterprises"][0]["name"])
        status, e = srv.get("/api/v1/enterprises/GYDEMO01")
        self.assertEqual(status, 200, e)
        outlets = {o["site"]: o for o in e["outlets"]}
        self.assertEqual(set(outlets), {"GYDEMO01DA001", "GYDEMO01DW001"})
        gas = outlets["GYDEMO01DA001"]
        self.assertEqual((gas["permit_code"], gas["kind"], gas["devices"]),
                         ("DA001", "polluter_waste_gas", ["GYDEMO01DA01"]))
        so2 = [p for p in gas["permits"] if p["factor"] == "a21026"][0]
        self.assertEqual((so2["limit"], so2["unit"], so2["standard"], so2["converted"],
                          so2["reference_o2_pct"], so2["annual_total_t"], so2["until"]),
                         (100, "mg/m³", "GB 13223-2011 表1", True, 6, 600, None))
        self.assertEqual(so2["from"], "2020-01-01T00:00:00+08:00")
        status, body = srv.get("/api/v1/enterprises/NOSUCH")
        self.assertEqual(status, 404, body)
        # The enterprise's own manager sees it; a county outside it sees nothing and gets 403.
        own = create_key(srv.dir, "enterprise", "enterprise:GYDEMO01")
        status, body = srv.get("/api/v1/enterprises/GYDEMO01", key=own)
        self.assertEqual(status, 200, body)
        other = create_key(srv.dir, "viewer", "county:510824")
        status, body = srv.get("/api/v1/enterprises", key=other)
        self.assertEqual((status, body["enterprises"]), (200, []))
        for path in ("/api/v1/enterprises/GYDEMO01", "/api/v1/enterprises/GYDEMO01/emissions",
                     "/api/v1/enterprises/NOSUCH"):
            status, body = srv.get(path, key=other)
            self.assertEqual(status, 403, (path, body))
        status, body = srv.get("/api/v1/enterprises", key="")
        self.assertEqual(status, 401, body)

    def test_permit_episode_conversion_cover_and_enterprise_filter(self):
        srv = self.server
        permit = self.rule({"name": "SO2 排污许可", "kind": "permit", "site": OUTLET, "factor": "a21026",
                            "data_kind": "rtd", "severity": "major"})
        self.assertEqual((permit["kind"], permit["limit"], permit["op"]), ("permit", 1, ">"))
        cover = self.rule({"name": "SO2 标记掩盖", "kind": "screening", "site": OUTLET, "factor": "a21026",
                           "field": "ZsRtd", "data_kind": "rtd", "severity": "critical"})
        other = self.rule({"name": "PM2.5 high", "kind": "threshold", "site": "2526A", "factor": "a34004",
                           "data_kind": "rtd", "op": ">", "limit": 75})
        qp, qc = "rule=%d" % permit["id"], "rule=%d" % cover["id"]
        base = 6 * 3600

        # Measured 80 mg/m³ is within the permit; converted to 6 % O2 it is 120: one alarm.
        self.server.send_acked([flue(self.next_qn(), datatime(base),
                        [("a21026", "Rtd", "80"), ("a21026", "ZsRtd", "120"), ("a19001", "Rtd", "11")])])
        alarms = wait_for("the permit alarm", lambda: self.alarms(qp))
        self.assertEqual(len(alarms), 1)
        a = alarms[0]
        # At an outlet, flue-gas SO2 is shown in the permit's unit (HJ 212-2017 table B.2:
        # mg/m³), not the ambient µg/m³.
        status, latest = srv.get("/api/v1/sites/%s/latest" % OUTLET)
        self.assertEqual(status, 200, latest)
        units = {v["unit"] for v in latest["values"] if v["factor"] == "a21026"}
        self.assertEqual(units, {"mg/m³"}, latest)
        self.assertEqual((a["kind"], a["site"], a["factor"], a["field"], a["value"], a["limit"], a["op"]),
                         ("permit", OUTLET, "a21026", "ZsRtd", 120, 100, ">"))
        self.assertEqual((a["enterprise"], a["enterprise_name"]), ("GYDEMO01", "示例热电有限公司（演示，虚构）"))
        status, detail = srv.get("/api/v1/alarms/%d" % a["id"])
        self.assertIn("GB 13223-2011 表1", detail["events"][0]["note"])
        self.assertEqual(detail["enterprise"], "GYDEMO01")

        # 1,000 further exceeding frames: still one alarm, counting 1,001.
        frames = [flue(self.next_qn(), datatime(base - 1 - i),
                       [("a21026", "Rtd", "85"), ("a21026", "ZsRtd", str(101 + i % 50)), ("a19001", "Rtd", "11")])
                  for i in range(1000)]
        self.server.send_acked(frames)
        wait_for("count 1001", lambda: self.alarms(qp)[0]["count"] == 1001)
        alarms = self.alarms(qp)
        self.assertEqual(len(alarms), 1)
        self.assertEqual(alarms[0]["max_value"], 150)

        # A good converted value clears the episode.
        self.server.send_acked([flue(self.next_qn(), datatime(base - 1001),
                        [("a21026", "Rtd", "50"), ("a21026", "ZsRtd", "70"), ("a19001", "Rtd", "11")])])
        wait_for("clearing", lambda: self.alarms(qp)[0]["cleared_at"])
        self.assertEqual(len(self.alarms(qp)), 1)

        # No ZsRtd: the platform converts the measured 90 with the O2 of 11 %: 90 × 15 / 10 = 135.
        self.server.send_acked([flue(self.next_qn(), datatime(base - 1002), [("a21026", "Rtd", "90"), ("a19001", "Rtd", "11")])])
        second = wait_for("the converted episode", lambda: [x for x in self.alarms(qp) if x["active"]])
        self.assertEqual((second[0]["value"], second[0]["field"]), (135, "ZsRtd"))
        self.server.send_acked([flue(self.next_qn(), datatime(base - 1003), [("a21026", "Rtd", "60"), ("a19001", "Rtd", "9")])])
        wait_for("the second clearing", lambda: not [x for x in self.alarms(qp) if x["active"]])

        # A value marked maintenance (M) while 180 mg/m³ converted: no exceedance, a cover finding.
        self.server.send_acked([flue(self.next_qn(), datatime(base - 1004),
                        [("a21026", "Rtd", "150"), ("a21026", "ZsRtd", "180"), ("a19001", "Rtd", "11")], flag="M")])
        found = wait_for("the flag_cover finding", lambda: self.alarms(qc))
        self.assertEqual(len(found), 1)
        self.assertEqual((found[0]["kind"], found[0]["value"], found[0]["enterprise"]), ("screening", 180, "GYDEMO01"))
        status, detail = srv.get("/api/v1/alarms/%d" % found[0]["id"])
        self.assertIn("flag_cover: flag M on a21026 ZsRtd", detail["events"][0]["note"])
        self.assertFalse([x for x in self.alarms(qp) if x["active"]])  # the mark is no exceedance
        self.assertEqual(len(self.alarms(qp)), 2)

        # The enterprise filter: its alarms only; the air station's alarm is not among them.
        self.send_air_alarm()
        wait_for("the air alarm", lambda: self.alarms("rule=%d" % other["id"]))
        mine = self.alarms("enterprise=GYDEMO01")
        self.assertEqual(sorted({x["rule_id"] for x in mine}), sorted([permit["id"], cover["id"]]))
        self.assertTrue(all(x["enterprise"] == "GYDEMO01" for x in mine))
        air = self.alarms("rule=%d" % other["id"])[0]
        self.assertIsNone(air["enterprise"])
        status, body = srv.get("/api/v1/alarms?enterprise=NOSUCH")
        self.assertEqual(status, 404, body)

    def test_registry_edits_of_permits_are_scoped_audited_and_used(self):
        srv = self.server
        base = "/api/v1/enterprises/GYDEMO01"
        # Close the demo NOx permit at the end of 2025 and add a stricter one from 2026 on.
        status, body = srv.send("POST", "/api/v1/permits", {
            "outlet": OUTLET, "factor": "a21002", "limit": 100, "unit": "mg/m³", "standard": "GB 13223-2011 表1",
            "converted": True, "reference_o2_pct": 6, "annual_total_t": 800,
            "from": "2020-01-01", "until": "2026-01-01T00:00:00+08:00"})
        self.assertEqual(status, 200, body)
        status, body = srv.send("POST", "/api/v1/permits", {
            "outlet": OUTLET, "factor": "a21002", "limit": 50, "unit": "mg/m³", "standard": "GB 13223-2011 表2 特别排放限值",
            "converted": True, "reference_o2_pct": 6, "from": "2026-01-01T00:00:00+08:00"})
        self.assertEqual(status, 200, body)
        status, body = srv.send("POST", "/api/v1/permits", {
            "outlet": OUTLET, "factor": "a21002", "limit": 80, "unit": "mg/m³", "converted": True,
            "reference_o2_pct": 6, "from": "2025-06-01T00:00:00+08:00"})
        self.assertEqual((status, body["error"]["code"]), (400, "overlapping_permit"), body)
        status, body = srv.send("POST", "/api/v1/permits", {
            "outlet": OUTLET, "factor": "a21002", "limit": 80, "unit": "mg/m³", "converted": True,
            "from": "2027-01-01T00:00:00+08:00"})
        self.assertEqual((status, body["error"]["code"]), (400, "bad_permit"), body)  # no reference O2
        status, body = srv.send("POST", "/api/v1/outlets", {"site": "2526A", "enterprise": "GYDEMO01"})
        self.assertEqual((status, body["error"]["code"]), (400, "bad_outlet"), body)  # an air station
        county = create_key(srv.dir, "admin", "county:510824")
        status, body = srv.send("POST", "/api/v1/permits", {"outlet": OUTLET, "factor": "a21002", "limit": 1,
                                                           "unit": "mg/m³"}, key=county)
        self.assertEqual(status, 403, body)
        status, e = srv.get(base)
        nox = [p for o in e["outlets"] if o["site"] == OUTLET for p in o["permits"] if p["factor"] == "a21002"]
        self.assertEqual([(p["limit"], p["from"], p["until"]) for p in nox],
                         [(100, "2020-01-01T00:00:00+08:00", "2026-01-01T00:00:00+08:00"),
                          (50, "2026-01-01T00:00:00+08:00", None)])
        status, audit = srv.get("/api/v1/audit?action=permit.edit")
        self.assertEqual(status, 200, audit)
        self.assertEqual([x["target"] for x in audit["entries"]], [OUTLET, OUTLET])
        status, body = srv.send("PUT", "/api/v1/enterprises/GYDEMO01", {"county": "利州区"})
        self.assertEqual((status, body["code"]), (200, "GYDEMO01"), body)
        # Saved with the registry edits, so a restart keeps them.
        with open(os.path.join(srv.dir, "registry", "permits.csv"), encoding="utf-8") as f:
            self.assertIn("表2 特别排放限值", f.read())
        # The engine judges 2026 data by the new permit: 70 mg/m³ converted is above 50.
        rule = self.rule({"name": "NOx 排污许可", "kind": "permit", "site": OUTLET, "factor": "a21002",
                          "data_kind": "rtd"})
        self.server.send_acked([flue(self.next_qn(), datatime(7 * 3600), [("a21002", "ZsRtd", "70"), ("a21002", "Rtd", "60")])])
        a = wait_for("the NOx alarm", lambda: self.alarms("rule=%d" % rule["id"]))[0]
        self.assertEqual((a["value"], a["limit"]), (70, 50))

    def send_air_alarm(self):
        seg = ("QN=%s;ST=22;CN=2011;PW=123456;MN=GY00000002526A;Flag=5;CP=&&DataTime=%s;"
               "a34004-Rtd=300,a34004-Flag=N&&" % (self.next_qn(), datatime(3600)))
        s = self.server.connect()
        s.sendall(frame(seg))
        self.assertEqual(read_frames(s, 1, timeout=60)[0]["CN"], "9014")
        s.close()


def capture_hours():
    """The valid hourly (CN 2061) frames of CAPTURE_MN in the 2016 capture, one per DataTime (the
    first seen), as (data_time_hour, raw frame bytes, 02-Cou value)."""
    out, seen = [], set()
    with gzip.open(CAPTURE, "rb") as f:
        for line in f:
            line = line.rstrip(b"\r\n")
            if b"MN=" + CAPTURE_MN.encode() not in line or b"CN=2061" not in line:
                continue
            m = re.match(rb"##(\d{4})(.*)([0-9A-F]{4})$", line)
            if not m or int(m.group(1)) != len(m.group(2)) or crc_hj212(m.group(2)) != int(m.group(3), 16):
                continue  # garbled in transit: the server rejects it too
            seg = m.group(2).decode()
            dt = re.search(r"DataTime=(\d{10})", seg).group(1)
            cou = re.search(r"(?:^|;|&&)02-Cou=([-0-9.]+)", seg)
            if dt in seen or not cou:
                continue
            seen.add(dt)
            out.append((dt, line + b"\r\n", float(cou.group(1))))
    return out


class EmissionsTest(unittest.TestCase):
    """Real 2005 hourly frames into an outlet of a registry written for the test."""

    @classmethod
    def setUpClass(cls):
        cls.hours = capture_hours()
        assert len(cls.hours) >= 20, "expected a day of hourly frames, got %d" % len(cls.hours)
        cls.first, cls.rest = cls.hours[:10], cls.hours[10:]
        first_t = sum(c for _, _, c in cls.first) / 1000
        all_t = sum(c for _, _, c in cls.hours) / 1000
        # An annual total whose 80 % lies between the first ten hours and the whole day.
        cls.annual_t = (first_t + all_t) / 2 / 0.8
        cls.reg = tempfile.mkdtemp(prefix="ecomon-polluters-reg-")
        files = {
            "sites.csv": "code,name,kind\nOUT91,某热电 1号排气筒,polluter_waste_gas\n",
            "enterprises.csv": "code,name,county\nE91,某热电有限公司,\n",
            "devices.csv": "mn,st,password,version,interval_s,enterprise,outlet\n"
                           "%s,31,123456,2005,3600,E91,OUT91\n" % CAPTURE_MN,
            "assignments.csv": "mn,site,from\n%s,OUT91,2016-01-01\n" % CAPTURE_MN,
            "outlets.csv": "site,enterprise,permit_code\nOUT91,E91,DA001\n",
            "permits.csv": "outlet,factor,limit,unit,standard,converted,reference_o2_pct,annual_total_t,from\n"
                           "OUT91,a21026,200,mg/m³,GB 13223-2011 表1,true,6,%r,2016-01-01\n" % cls.annual_t,
        }
        for name, text in files.items():
            with open(os.path.join(cls.reg, name), "w", encoding="utf-8") as f:
                f.write(text)
        cls.server = Server(registry=cls.reg)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.reg, ignore_errors=True)

    def replay(self, hours):
        # 2005 loggers ask for no answer: the test waits on the API instead.
        s = socket.create_connection(("127.0.0.1", self.server.hj_port), timeout=10)
        s.sendall(b"".join(raw for _, raw, _ in hours))
        s.close()

    def emissions(self):
        status, body = self.server.get("/api/v1/enterprises/E91/emissions?year=2016")
        self.assertEqual(status, 200, body)
        return body

    def so2(self, body):
        return [f for f in body["outlets"][0]["factors"] if f["factor"] == "a21026"][0]

    def test_total_equals_hand_sum_and_annual_total_rule_opens_at_threshold(self):
        srv = self.server
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "SO2 年许可排放量 80%", "kind": "emission_total", "site": "OUT91", "factor": "a21026",
            "data_kind": "hour", "limit": 0.8, "severity": "minor"})
        self.assertEqual(status, 201, rule)
        q = "/api/v1/alarms?rule=%d" % rule["id"]
        # A witness: every hourly frame carries O2 (S01 → a19001); when this rule has counted all
        # of them, the engine has evaluated everything the frames brought.
        status, witness = srv.send("POST", "/api/v1/rules", {
            "name": "O2 witness", "kind": "threshold", "site": "OUT91", "factor": "a19001",
            "data_kind": "hour", "op": ">", "limit": 0, "severity": "info"})
        self.assertEqual(status, 201, witness)

        def witnessed(n):
            alarms = srv.get("/api/v1/alarms?rule=%d" % witness["id"])[1]["alarms"]
            return alarms and alarms[0]["count"] == n

        self.replay(self.first)
        wait_for("the first ten hours", lambda: self.so2(self.emissions())["periods_sent"] == len(self.first))
        hand = sum(c for _, _, c in self.first)
        self.assertAlmostEqual(self.so2(self.emissions())["total_kg"], hand, places=6)
        wait_for("the engine to evaluate the first ten hours", lambda: witnessed(len(self.first)))
        status, body = srv.get(q)
        self.assertEqual(body["alarms"], [], "below 80 %% of %r t" % self.annual_t)

        self.replay(self.rest)
        wait_for("the whole day", lambda: self.so2(self.emissions())["periods_sent"] == len(self.hours))
        body = self.emissions()
        f = self.so2(body)
        hand = sum(c for _, _, c in self.hours)
        self.assertAlmostEqual(f["total_kg"], hand, places=6)
        self.assertAlmostEqual(f["total_t"], hand / 1000, places=9)
        self.assertAlmostEqual(f["annual_total_t"], self.annual_t, places=9)
        self.assertAlmostEqual(f["share"], hand / 1000 / self.annual_t, places=9)
        self.assertEqual((f["periods_computed"], f["periods_expected"]), (0, 366 * 24))
        self.assertAlmostEqual(f["coverage"], len(self.hours) / (366 * 24), places=12)
        self.assertEqual((body["year"], body["kind"], body["from"]), (2016, "hour", "2016-01-01T00:00:00+08:00"))

        alarms = wait_for("the annual total alarm", lambda: srv.get(q)[1]["alarms"])
        self.assertEqual(len(alarms), 1)
        a = alarms[0]
        self.assertEqual((a["kind"], a["site"], a["op"], a["enterprise"]), ("emission_total", "OUT91", ">=", "E91"))
        self.assertAlmostEqual(a["limit"], 0.8 * self.annual_t, places=9)
        self.assertGreaterEqual(a["value"], a["limit"])
        self.assertLessEqual(a["value"], hand / 1000 + 1e-9)


if __name__ == "__main__":
    unittest.main()
