"""Screening marks over the real binary (issue #5 §4/§5): a stuck PM2.5 series uploaded as HJ 212
hourly frames becomes a stored mark (GET /api/v1/screening/marks), more of the same value extends
the SAME mark, the screened values show level `screened`; a reviewer confirms the mark with
`invalidate` and the stored hour means become invalid, the review is in the hash-chained audit
trail; bad input is 400, a viewer 403, an unknown mark 404; `[screening] stored = false` keeps
no marks.

Run by ctest (tests/CMakeLists.txt) with ECOMON set to the binary."""
import calendar
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import Server, create_key, ecomon, read_frames, upload, iso, data_time_at as datatime  # noqa: E402

HOUR = 3600
MN, PW, SITE, PM25 = "GY00000002526A", "123456", "2526A", "a34004"
DAY = calendar.timegm((2026, 11, 1, 0, 0, 0)) - 8 * HOUR  # 2026-11-01 00:00 Beijing time


def q(**params):
    return urllib.parse.urlencode(params)


_qn = [0]


def send_hours(srv, first, n, value):
    """Hours [first, first + n) of DAY, PM2.5 = value, as HJ 212 2061 frames; all acknowledged."""
    frames = []
    for h in range(first, first + n):
        _qn[0] += 1
        frames.append(upload(MN, PW, "20261101%09d" % _qn[0], datatime(DAY + h * HOUR),
                             [(PM25, str(value))]))
    s = srv.connect()
    s.sendall(b"".join(frames))
    acks = read_frames(s, len(frames), timeout=30)
    s.close()
    assert [a["CN"] for a in acks] == ["9014"] * len(frames), acks


class ScreeningMarksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server()
        send_hours(cls.srv, 0, 30, 35)  # 30 h of one value: PM2.5's constant rule fires at 24 h

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def marks(self, key=None, **params):
        status, body = self.srv.get("/api/v1/screening/marks?" + q(**params), key=key)
        self.assertEqual(status, 200, body)
        return body

    def constant_mark(self):
        body = self.marks(site=SITE, factor=PM25, rule="constant")
        self.assertFalse(body["truncated"])
        self.assertEqual(len(body["marks"]), 1, body)
        return body["marks"][0]

    def review(self, mark_id, body, key=None):
        return self.srv.send("POST", "/api/v1/screening/marks/%s/review" % mark_id, body, key=key)

    def test_1_a_stuck_series_is_one_mark_that_grows(self):
        m = self.constant_mark()
        self.assertEqual((m["site"], m["mn"], m["factor"], m["kind"], m["field"]),
                         (SITE, MN, PM25, "hour", "Avg"))
        self.assertEqual((m["rule"], m["rule_zh"], m["severity"]), ("constant", "恒值", "critical"))
        self.assertEqual((m["from"], m["to"], m["count"]), (iso(DAY), iso(DAY + 30 * HOUR), 30))
        self.assertEqual(m["status"], "open")
        self.assertEqual(m["evidence"]["rule_zh"], "恒值")
        self.assertIn("35", m["evidence"]["text"])
        self.assertEqual(m["first_found_at"], m["updated_at"])
        for k in ("reviewed_by", "reviewed_at", "review_note", "review_action"):
            self.assertIsNone(m[k], k)
        status, one = self.srv.get("/api/v1/screening/marks/%d" % m["id"])
        self.assertEqual((status, one), (200, m))
        # The values were screened; screening changed none of them.
        status, body = self.srv.get("/api/v1/series?" + q(site=SITE, factor=PM25, kind="hour", **{
            "from": iso(DAY), "to": iso(DAY + 30 * HOUR)}))
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["series"]), 30)
        self.assertEqual({p["level"] for p in body["series"]}, {"screened"})
        self.assertEqual({p["value"] for p in body["series"]}, {35})
        self.assertTrue(all(p["valid"] for p in body["series"]))

        # Ten more hours of the same value: the SAME mark, longer.
        time.sleep(1.1)
        send_hours(self.srv, 30, 10, 35)
        grown = self.constant_mark()
        self.assertEqual(grown["id"], m["id"])
        self.assertEqual((grown["from"], grown["to"], grown["count"]),
                         (iso(DAY), iso(DAY + 40 * HOUR), 40))
        self.assertEqual(grown["first_found_at"], m["first_found_at"])
        self.assertNotEqual(grown["updated_at"], m["updated_at"])
        self.assertGreaterEqual(self.srv.metric("ecomon_screening_marks_found_total"), 1)
        self.assertGreaterEqual(self.srv.metric("ecomon_screening_marks_updated_total"), 1)
        self.assertGreaterEqual(self.srv.metric("ecomon_screening_batches_total"), 2)

    def test_2_bad_reviews_are_refused_with_a_reason(self):
        m = self.constant_mark()
        for body in ({"status": "dismissed"}, {"status": "dismissed", "note": "  "},
                     {"status": "open", "note": "x"}, {"note": "x"},
                     {"status": "confirmed", "invalidate": "yes"},
                     {"status": "dismissed", "note": "x", "invalidate": True},
                     {"status": "confirmed", "colour": 1}):
            status, reply = self.review(m["id"], body)
            self.assertEqual(status, 400, (body, reply))
            self.assertEqual(reply["error"]["code"], "bad_request")
            self.assertTrue(reply["error"]["message"], reply)
        status, reply = self.review(m["id"], {"status": "dismissed"})
        self.assertIn("note", reply["error"]["message"])
        status, reply = self.srv.send("POST", "/api/v1/screening/marks/%d/review" % m["id"], b"not json")
        self.assertEqual(status, 400, reply)
        # Unknown and malformed ids; bad listing parameters.
        self.assertEqual(self.review(999999, {"status": "confirmed"})[0], 404)
        self.assertEqual(self.srv.get("/api/v1/screening/marks/999999")[0], 404)
        self.assertEqual(self.srv.get("/api/v1/screening/marks/abc")[0], 400)
        for params in ({"status": "closed"}, {"rule": "stuck"}, {"limit": "0"}, {"limit": "5000"},
                       {"from": "yesterday"}):
            status, reply = self.srv.get("/api/v1/screening/marks?" + q(**params))
            self.assertEqual(status, 400, (params, reply))
        self.assertEqual(self.constant_mark()["status"], "open")  # nothing changed

    def test_3_a_viewer_reads_but_may_not_review(self):
        viewer = create_key(self.srv.dir, "viewer")
        m = self.constant_mark()
        self.assertEqual(self.marks(key=viewer, site=SITE)["marks"][0]["site"], SITE)
        status, reply = self.review(m["id"], {"status": "confirmed"}, key=viewer)
        self.assertEqual(status, 403, reply)
        # A reviewer scoped to another site does not see the mark.
        elsewhere = create_key(self.srv.dir, "reviewer", "site:2525A")
        self.assertEqual(self.srv.get("/api/v1/screening/marks/%d" % m["id"], key=elsewhere)[0], 403)
        self.assertEqual(self.marks(key=elsewhere)["marks"], [])
        self.assertEqual(self.constant_mark()["status"], "open")

    def test_4_confirm_with_invalidate_makes_the_hours_invalid_and_is_audited(self):
        m = self.constant_mark()
        reviewer = create_key(self.srv.dir, "reviewer")
        hours = "/api/v1/aggregates?" + q(site=SITE, factor=PM25, interval="hour", **{
            "from": iso(DAY), "to": iso(DAY + 24 * HOUR)})
        status, before = self.srv.get(hours)
        self.assertEqual(status, 200, before)
        self.assertTrue(all(a["valid"] for a in before["aggregates"]), before)
        status, done = self.review(m["id"], {"status": "confirmed", "note": "仪器卡死，数据恒定",
                                             "invalidate": True}, key=reviewer)
        self.assertEqual(status, 200, done)
        self.assertEqual(done["status"], "confirmed")
        self.assertTrue(done["reviewed_by"].startswith("apikey:"), done)
        self.assertEqual(done["review_note"], "仪器卡死，数据恒定")
        self.assertIsNotNone(done["reviewed_at"])
        self.assertIsInstance(done["review_action"], int)
        # The invalidate action over the mark's range, and the stored hour means follow it.
        status, actions = self.srv.get("/api/v1/audit/actions?" + q(site=SITE, factor=PM25))
        self.assertEqual(status, 200, actions)
        action = [a for a in actions["actions"] if a["id"] == done["review_action"]][0]
        self.assertEqual((action["action"], action["from"], action["to"], action["kind"]),
                         ("invalidate", m["from"], m["to"], "hour"))
        status, after = self.srv.get(hours)
        self.assertEqual(status, 200, after)
        self.assertEqual(len(after["aggregates"]), 24)
        self.assertFalse(any(a["valid"] for a in after["aggregates"]), after)
        status, series = self.srv.get("/api/v1/series?" + q(site=SITE, factor=PM25, kind="hour", **{
            "from": iso(DAY), "to": iso(DAY + 2 * HOUR)}))
        self.assertEqual([p["review"] for p in series["series"]], ["invalidated", "invalidated"])
        self.assertEqual([p["value"] for p in series["series"]], [35, 35])  # raw stays raw
        # The hash-chained audit trail holds the review and the action.
        status, audit = self.srv.get("/api/v1/audit?limit=100")
        self.assertEqual(status, 200, audit)
        entries = {(e["action"], e["target"]) for e in audit["entries"]}
        self.assertIn(("screening.confirm", "screening_mark/%d" % m["id"]), entries)
        self.assertIn(("review.invalidate", "%s/%s" % (SITE, PM25)), entries)
        rc, out, err = ecomon("audit", "verify", "--data", self.srv.dir)
        self.assertEqual(rc, 0, out + err)
        # Listing by status.
        confirmed = self.marks(status="confirmed")["marks"]
        self.assertEqual([x["id"] for x in confirmed], [m["id"]])

    def test_5_dismiss_with_a_note(self):
        others = [x for x in self.marks(site=SITE, status="open")["marks"] if x["rule"] != "constant"]
        self.assertTrue(others, "a flat series also has low_variation marks")
        status, done = self.review(others[0]["id"], {"status": "dismissed", "note": "误报：停运检修"})
        self.assertEqual(status, 200, done)
        self.assertEqual((done["status"], done["review_note"]), ("dismissed", "误报：停运检修"))
        self.assertIsNone(done["review_action"])
        status, audit = self.srv.get("/api/v1/audit?limit=100")
        self.assertIn(("screening.dismiss", "screening_mark/%d" % done["id"]),
                      {(e["action"], e["target"]) for e in audit["entries"]})


class NotStoredTest(unittest.TestCase):
    def test_stored_false_keeps_no_marks(self):
        d = tempfile.mkdtemp(prefix="ecomon-it-cfg-")
        path = os.path.join(d, "serve.toml")
        with open(path, "w") as f:
            f.write("[screening]\nstored = false\n")
        srv = Server("--config", path)
        try:
            send_hours(srv, 0, 30, 35)
            status, reply = srv.get("/api/v1/screening/marks")
            self.assertEqual(status, 503, reply)
            status, body = srv.get("/api/v1/series?" + q(site=SITE, factor=PM25, kind="hour", **{
                "from": iso(DAY), "to": iso(DAY + 30 * HOUR)}))
            self.assertEqual({p["level"] for p in body["series"]}, {"raw"})
            # The per-request screening still finds the run.
            status, body = srv.get("/api/v1/screening?" + q(site=SITE, factor=PM25, kind="hour", **{
                "from": iso(DAY), "to": iso(DAY + 30 * HOUR)}))
            self.assertIn("constant", [f["rule"] for f in body["findings"]])
        finally:
            srv.close()
            shutil.rmtree(d, ignore_errors=True)

    def test_a_wrong_value_stops_the_server_with_its_line(self):
        d = tempfile.mkdtemp(prefix="ecomon-it-cfg-")
        try:
            path = os.path.join(d, "serve.toml")
            with open(path, "w") as f:
                f.write("[screening]\n\nstored = \"yes\"\n")
            rc, _, err = ecomon("serve", "--config", path, "--data", d, "--hj212-listen", "127.0.0.1:0",
                                "--http-listen", "127.0.0.1:0")
            self.assertEqual(rc, 2, err)
            self.assertIn("line 3: screening.stored must be true or false", err)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
