"""The rest of early warning and enforcement over the real binary (issue #6 §2–§5): alarm rules
from the config file (created once, updated when the file changes, refused with the line when
bad, audited), evidence files on alarms (upload, list, download, limits, hostile names, scopes,
the handle transition referring to them), the incident report, and HTTPS webhooks delivered after
the receiver was down.

No wall-clock limits are asserted: every wait polls with a generous deadline."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import ECOMON, REPO, Server, create_key, frame, read_frames  # noqa: E402

SITE, MN, PW = "2526A", "GY00000002526A", "123456"


def datatime(seconds_ago):
    """HJ 212 DataTime (Beijing time) `seconds_ago` seconds before now."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 - seconds_ago))


def rtd(qn, data_time, value, factor="a34004"):
    return frame("QN=%s;ST=22;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;%s-Rtd=%s,%s-Flag=N&&"
                 % (qn, PW, MN, data_time, factor, value, factor))


def wait_for(what, fn, timeout=120, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def write_config(path, rules_toml, extra=""):
    with open(path, "w", encoding="utf-8") as f:
        f.write(extra + rules_toml)


RULES_V1 = """
[[rules]]
name = "PM2.5 超标 (config)"
kind = "threshold"
site = "2526A"
factor = "a34004"
data_kind = "rtd"
op = ">"
limit = 75
severity = "major"

[[rules]]
name = "水源地补充项目"
kind = "drinking_water"
"""


class ConfigRulesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ecomon-cfg-")
        self.config = os.path.join(self.tmp, "ecomon.toml")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()

    def config_rules(self):
        status, body = self.server.get("/api/v1/rules")
        self.assertEqual(status, 200, body)
        return {r["name"]: r for r in body["rules"] if r["source"] == "config"}

    def test_loaded_at_start_idempotent_updated_disabled_and_audited(self):
        write_config(self.config, RULES_V1)
        self.server = Server("--config", self.config)
        rules = self.config_rules()
        self.assertEqual(sorted(rules), sorted(["PM2.5 超标 (config)", "水源地补充项目"]))
        pm = rules["PM2.5 超标 (config)"]
        self.assertEqual((pm["limit"], pm["field"], pm["enabled"], pm["created_by"]), (75, "Rtd", True, "config"))

        # The rule works like an API rule: an exceeding frame opens one alarm.
        s = self.server.connect()
        s.sendall(rtd("20260101000000001", datatime(600), "90"))
        self.assertEqual(read_frames(s, 1)[0]["CN"], "9014")
        s.close()
        wait_for("the config rule's alarm",
                 lambda: self.server.get("/api/v1/alarms?rule=%d" % pm["id"])[1]["alarms"])

        # A restart with the same file: the same rules, nothing created twice.
        self.server.stop()
        self.server.start()
        again = self.config_rules()
        self.assertEqual({n: r["id"] for n, r in again.items()}, {n: r["id"] for n, r in rules.items()})
        self.assertEqual(again["PM2.5 超标 (config)"]["updated_at"], pm["updated_at"])

        # The file changes the limit and drops the second rule: updated in place, the other disabled.
        write_config(self.config, RULES_V1.replace("limit = 75", "limit = 100").split("[[rules]]\nname = \"水源地")[0])
        self.server.stop()
        self.server.start()
        status, body = self.server.get("/api/v1/rules")
        by_name = {r["name"]: r for r in body["rules"]}
        self.assertEqual(by_name["PM2.5 超标 (config)"]["id"], pm["id"])
        self.assertEqual(by_name["PM2.5 超标 (config)"]["limit"], 100)
        self.assertFalse(by_name["水源地补充项目"]["enabled"])
        # The old condition's open episode ended with the change.
        alarms = self.server.get("/api/v1/alarms?rule=%d" % pm["id"])[1]["alarms"]
        self.assertEqual(len(alarms), 1)
        self.assertFalse(alarms[0]["active"])

        status, audit = self.server.get("/api/v1/audit?limit=100")
        self.assertEqual(status, 200, audit)
        entries = [(e["actor"], e["action"], e["target"]) for e in audit["entries"] if e["actor"] == "config"]
        self.assertIn(("config", "rule.create", str(pm["id"])), entries)
        self.assertIn(("config", "rule.update", str(pm["id"])), entries)
        self.assertIn(("config", "rule.disable", str(rules["水源地补充项目"]["id"])), entries)
        self.assertEqual(len([e for e in entries if e[1] == "rule.create"]), 2)  # once each

    def test_bad_entries_refused_at_start_with_the_line_and_reason(self):
        data = tempfile.mkdtemp(prefix="ecomon-cfg-data-")
        registry = os.path.join(REPO, "config", "registry")
        cases = [
            ("[[rules]]\nname = \"x\"\nkind = \"threshold\"\nsite = \"2526A\"\nfactor = \"a34004\"\n", 1,
             "limit is required"),
            ("\n\n[[rules]]\nname = \"y\"\nkind = \"nonsense\"\nlimit = 1\n", 3, "kind:"),
            ("[[rules]]\nname = \"z\"\nfactor = \"a34004\"\nlimit = 1\nsite = \"NOPE\"\n", 1, "no site 'NOPE'"),
            ("[[rules]]\nname = \"w\"\nfactor = \"a34004\"\nlimit = 1\ncolour = \"red\"\n", 1,
             "unknown member 'colour'"),
            ("[[rules]]\nname = \"d\"\nfactor = \"a34004\"\nlimit = 1\n[[rules]]\nname = \"d\"\nfactor = \"a34004\"\nlimit = 2\n",
             5, "a second rule named 'd'"),
            ("rules = 3\n", 1, "[[rules]] tables"),
        ]
        for text, line, reason in cases:
            write_config(self.config, text)
            p = subprocess.run([ECOMON, "serve", "--config", self.config, "--data", data, "--registry", registry,
                                "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("line %d" % line, p.stderr, text)
            self.assertIn(reason, p.stderr, text)
        # Nothing of the refused files was stored.
        write_config(self.config, "")
        self.server = Server("--config", self.config, data=data)
        self.assertEqual(self.config_rules(), {})


if __name__ == "__main__":
    unittest.main()
