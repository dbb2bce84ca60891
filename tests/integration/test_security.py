"""Security over the real binary and real HTTP (issue #7): every protected route refuses a
request without a credential, roles and scopes are enforced on every listing, login locks out
with back-off, the audit trail detects tampering, the public API serves only published values."""
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import (REPO, Server, create_key, ecomon, frame, read_frames,  # noqa: E402
                            upload)

PASSWORD = "Gy-station-2026"


def beijing(offset_s=0):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 + offset_s))


def registry_with_enterprises():
    """The shipped Guangyuan registry plus two enterprises, each with a waste-gas outlet in a
    different county."""
    d = tempfile.mkdtemp(prefix="ecomon-reg-")
    src = os.path.join(REPO, "config", "registry")
    for name in os.listdir(src):
        shutil.copy(os.path.join(src, name), d)
    with open(os.path.join(d, "enterprises.csv"), "a", encoding="utf-8") as f:
        f.write("E1,广元某水泥有限公司,朝天区,test\nE2,广元某化工有限公司,利州区,test\n")
    with open(os.path.join(d, "sites.csv"), encoding="utf-8") as f:
        header = next(csv.reader(f))
    def site(code, name, county, county_code):
        row = dict.fromkeys(header, "")
        row.update(code=code, name=name, kind="polluter_waste_gas", level="city", province="四川省",
                   province_code="510000", city="广元市", city_code="510800", county=county,
                   county_code=county_code, department="广元市生态环境局")
        return [row[h] for h in header]
    with open(os.path.join(d, "sites.csv"), "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(site("OUT-E1", "水泥厂1号排口", "朝天区", "510812"))
        w.writerow(site("OUT-E2", "化工厂1号排口", "利州区", "510802"))
    with open(os.path.join(d, "devices.csv"), encoding="utf-8") as f:
        dheader = next(csv.reader(f))
    def device(mn, ent):
        row = dict.fromkeys(dheader, "")
        row.update(mn=mn, st="31", password="123456", version="2017", crc="hj212", interval_s="3600")
        if "enterprise" in row:
            row["enterprise"] = ent
        return [row[h] for h in dheader]
    if "enterprise" not in dheader:
        # The shipped file has no enterprise column: rewrite it with one.
        with open(os.path.join(d, "devices.csv"), encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        dheader = dheader + ["enterprise"]
        with open(os.path.join(d, "devices.csv"), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(dheader)
            for r in rows:
                w.writerow([r.get(h, "") for h in dheader])
    with open(os.path.join(d, "devices.csv"), "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(device("ENTE1000000001", "E1"))
        w.writerow(device("ENTE2000000001", "E2"))
    with open(os.path.join(d, "assignments.csv"), "a", encoding="utf-8") as f:
        f.write("ENTE1000000001,OUT-E1,2020-01-01,,test\nENTE2000000001,OUT-E2,2020-01-01,,test\n")
    return d


def send_frames(srv, frames):
    s = srv.connect()
    s.sendall(b"".join(frames))
    acks = read_frames(s, len(frames))
    s.close()
    return acks


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = registry_with_enterprises()
        cls.server = Server(registry=cls.registry)
        cls.sites = {}
        with open(os.path.join(cls.registry, "sites.csv"), encoding="utf-8") as f:
            for row in csv.DictReader(f):
                cls.sites[row["code"]] = row

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.registry, ignore_errors=True)

    def add_user(self, name, role, *scopes, password=PASSWORD):
        args = ["user", "add", "--data", self.server.dir, "--name", name, "--role", role,
                "--password-stdin"]
        for s in scopes:
            args += ["--scope", s]
        rc, _, err = ecomon(*args, stdin=password + "\n")
        self.assertEqual(rc, 0, err)

    def login(self, name, password=PASSWORD):
        return self.server.request("POST", "/api/auth/login", {"name": name, "password": password}, key="")

    def token(self, name):
        status, body, _ = self.login(name)
        self.assertEqual(status, 200, body)
        return body["token"]

    # --- authentication before routing ---

    def test_every_protected_route_answers_401_without_a_valid_credential(self):
        rc, out, _ = ecomon("routes")
        self.assertEqual(rc, 0)
        routes = [line.split() for line in out.splitlines()]
        protected = [(m, p) for m, p, access in routes if access != "public"]
        self.assertGreaterEqual(len(protected), 15)
        revoked = create_key(self.server.dir, "admin")
        key_id = revoked.split("_")[1]
        self.assertEqual(self.server.request("DELETE", "/api/v1/apikeys/" + key_id)[0], 200)
        for method, pattern in protected:
            path = pattern.replace("{code}", "2523A").replace("{mn}", "GY00000002523A") \
                .replace("{name}", "nobody").replace("{id}", "0")
            body = {} if method in ("POST", "PUT") else None
            for key in ("", "garbage-token-value", "es_" + "A" * 43, revoked):
                status, reply, hdrs = self.server.request(method, path, body=body, key=key)
                self.assertEqual(status, 401, "%s %s with %r: %s" % (method, path, key[:12], reply))
                self.assertEqual(reply["error"]["code"], "unauthorized")
                self.assertIn("Bearer", hdrs.get("WWW-Authenticate", ""))
        # Unknown paths and methods too: no credential, no information about what exists.
        for method, path in (("GET", "/api/v1/nothing"), ("DELETE", "/api/v1/sites"),
                             ("PATCH", "/api/v1/sites/2523A"), ("GET", "/api/v2/sites")):
            self.assertEqual(self.server.request(method, path, key="")[0], 401, path)
        self.assertEqual(self.server.request("GET", "/api/v1/nothing")[0], 404)
        self.assertEqual(self.server.request("DELETE", "/api/v1/sites")[0], 405)
        # The public part needs none.
        self.assertEqual(self.server.request("GET", "/healthz", key="")[0], 200)
        self.assertEqual(self.server.request("GET", "/api/public/v1/sites", key="")[0], 200)

    def test_a_role_without_the_action_gets_403(self):
        viewer = create_key(self.server.dir, "viewer")
        for method, path, body in (("PUT", "/api/v1/sites/2523A", {"name": "x"}),
                                   ("GET", "/api/v1/users", None), ("GET", "/api/v1/audit", None),
                                   ("POST", "/api/v1/apikeys", {"role": "admin"}),
                                   ("GET", "/metrics", None)):
            status, reply, _ = self.server.request(method, path, body=body, key=viewer)
            self.assertEqual(status, 403, path)
            self.assertEqual(reply["error"]["code"], "forbidden")
        dept = create_key(self.server.dir, "department", "city")
        self.assertEqual(self.server.request("GET", "/api/v1/devices", key=dept)[0], 403)
        self.assertEqual(self.server.request("GET", "/api/v1/sites", key=dept)[0], 200)

    # --- scopes ---

    def test_an_enterprise_user_sees_only_its_own_outlets(self):
        self.add_user("cement", "enterprise", "enterprise:E1")
        tok = self.token("cement")
        status, body, _ = self.server.request("GET", "/api/v1/sites", key=tok)
        self.assertEqual(status, 200)
        self.assertEqual([s["code"] for s in body["sites"]], ["OUT-E1"])
        self.assertEqual(self.server.request("GET", "/api/v1/sites/OUT-E1/latest", key=tok)[0], 200)
        for path in ("/api/v1/sites/OUT-E2", "/api/v1/sites/OUT-E2/latest",
                     "/api/v1/series?site=OUT-E2&factor=a21026", "/api/v1/sites/2523A/latest",
                     "/api/v1/sites/NO-SUCH-SITE"):
            status, reply, _ = self.server.request("GET", path, key=tok)
            self.assertEqual(status, 403, path)
            self.assertEqual(reply["error"]["code"], "forbidden")
        # An enterprise user may not read the device list at all (role), nor another's records.
        self.assertEqual(self.server.request("GET", "/api/v1/devices", key=tok)[0], 403)

    def test_a_county_scope_limits_every_listing(self):
        key = create_key(self.server.dir, "viewer", "county:510802")
        inside = {c for c, s in self.sites.items() if s["county_code"] == "510802"}
        self.assertIn("OUT-E2", inside)
        status, body, _ = self.server.request("GET", "/api/v1/sites", key=key)
        self.assertEqual(status, 200)
        self.assertEqual({s["code"] for s in body["sites"]}, inside)
        status, body, _ = self.server.request("GET", "/api/v1/devices", key=key)
        self.assertEqual(status, 200)
        self.assertTrue(body["devices"])
        self.assertTrue(all(d["site"] in inside for d in body["devices"]), body["devices"])
        outside = next(c for c, s in self.sites.items() if s["county_code"] != "510802")
        for path in ("/api/v1/sites/%s" % outside, "/api/v1/sites/%s/latest" % outside,
                     "/api/v1/series?site=%s&factor=w01018" % outside,
                     "/api/v1/devices/ENTE1000000001/records"):
            self.assertEqual(self.server.request("GET", path, key=key)[0], 403, path)
        self.assertEqual(self.server.request("GET", "/api/v1/devices/ENTE2000000001/records", key=key)[0], 200)
        # An operator with a county scope may not edit a site outside it.
        op = create_key(self.server.dir, "operator", "county:510802")
        self.assertEqual(self.server.send("PUT", "/api/v1/sites/OUT-E1", {"name": "x"}, key=op)[0], 403)

    # --- login, sessions, lockout ---

    def test_login_sets_a_strict_cookie_and_logout_ends_the_session(self):
        self.add_user("analyst1", "analyst")
        status, body, hdrs = self.login("analyst1")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["role"], "analyst")
        cookie = hdrs["Set-Cookie"]
        for attr in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            self.assertIn(attr, cookie)
        session = cookie.split(";")[0]
        status, me, _ = self.server.request("GET", "/api/v1/me", key="", headers={"Cookie": session})
        self.assertEqual((status, me["user"]), (200, "analyst1"))
        self.assertIn("data.review", me["actions"])
        # A cookie-authenticated change from another site's page is refused (CSRF).
        status, reply, _ = self.server.request(
            "POST", "/api/v1/assignments", {"mn": "x", "site": "y"}, key="",
            headers={"Cookie": session, "Origin": "http://evil.example"})
        self.assertEqual((status, reply["error"]["code"]), (403, "cross_origin"))
        self.assertEqual(self.server.request("POST", "/api/auth/logout", {}, key=body["token"])[0], 200)
        self.assertEqual(self.server.request("GET", "/api/v1/me", key=body["token"])[0], 401)
        self.assertEqual(self.server.request("GET", "/api/v1/me", key="", headers={"Cookie": session})[0], 401)

    def test_a_user_changes_their_own_password_and_logs_in_again(self):
        self.add_user("zhao", "viewer")
        tok = self.token("zhao")
        path = "/api/v1/me/password"
        status, body, _ = self.server.request("POST", path, {"current": "Wrong-pass-1", "new": "Another-pass-2026"}, key=tok)
        self.assertEqual((status, body["error"]["code"]), (403, "bad_credentials"))
        status, body, _ = self.server.request("POST", path, {"current": PASSWORD, "new": "short"}, key=tok)
        self.assertEqual((status, body["error"]["code"]), (400, "weak_password"))
        status, body, _ = self.server.request("POST", path, {"current": PASSWORD, "new": "Another-pass-2026"}, key=tok)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.server.request("GET", "/api/v1/me", key=tok)[0], 401)  # sessions ended
        self.assertEqual(self.login("zhao")[0], 401)  # the old password
        self.assertEqual(self.login("zhao", "Another-pass-2026")[0], 200)
        # An API key has no password to change.
        self.assertEqual(self.server.request("POST", path, {"current": "x", "new": "y"})[0], 400)

    def test_six_wrong_passwords_lock_the_account_with_a_retry_after(self):
        self.add_user("guess", "viewer")
        for i in range(5):
            status, body, _ = self.login("guess", "Wrong-password-%d" % i)
            self.assertEqual((status, body["error"]["code"]), (401, "bad_credentials"))
        status, body, hdrs = self.login("guess")  # the right password, too late
        self.assertEqual((status, body["error"]["code"]), (429, "locked"))
        self.assertGreaterEqual(int(hdrs["Retry-After"]), 1)
        status, users = self.server.get("/api/v1/users")
        self.assertEqual(status, 200)
        entry = next(u for u in users["users"] if u["name"] == "guess")
        self.assertEqual(entry["failed_logins"], 5)
        self.assertIsNotNone(entry["locked_until"])
        # An unknown user gets the same answer as a wrong password.
        status, body, _ = self.login("nobody-at-all", "Wrong-password-1")
        self.assertEqual((status, body["error"]["code"]), (401, "bad_credentials"))

    def test_the_cli_refuses_a_weak_password_and_an_unknown_role(self):
        rc, _, err = ecomon("user", "add", "--data", self.server.dir, "--name", "weak", "--role",
                            "viewer", "--password-stdin", stdin="123456\n")
        self.assertEqual(rc, 2)
        self.assertIn("at least 10 characters", err)
        rc, _, err = ecomon("user", "add", "--data", self.server.dir, "--name", "x", "--role",
                            "king", "--password-stdin", stdin=PASSWORD + "\n")
        self.assertNotEqual(rc, 0)

    # --- audit trail ---

    def test_changes_are_audited_and_a_tampered_row_is_named(self):
        status, body = self.server.send("PUT", "/api/v1/sites/2525A", {"name": "东坝"})
        self.assertEqual(status, 200, body)
        status, body = self.server.send("PUT", "/api/v1/devices/GY00000002525A",
                                        {"st": "22", "password": "s3cret-pw"})
        self.assertEqual(status, 200, body)
        status, audit = self.server.get("/api/v1/audit?limit=50")
        self.assertEqual(status, 200)
        actions = {(e["action"], e["target"]) for e in audit["entries"]}
        self.assertIn(("site.edit", "2525A"), actions)
        self.assertIn(("device.edit", "GY00000002525A"), actions)
        self.assertFalse(any("s3cret-pw" in e["detail"] for e in audit["entries"]))
        rc, out, _ = ecomon("audit", "verify", "--data", self.server.dir)
        self.assertEqual(rc, 0, out)
        db = sqlite3.connect(os.path.join(self.server.dir, "ecomon.db"))
        seq = db.execute("SELECT seq FROM audit_log WHERE action='site.edit' ORDER BY seq LIMIT 1").fetchone()[0]
        before = db.execute("SELECT target FROM audit_log WHERE seq=?", (seq,)).fetchone()[0]
        db.execute("UPDATE audit_log SET target='2526A' WHERE seq=?", (seq,))
        db.commit()
        try:
            rc, out, _ = ecomon("audit", "verify", "--data", self.server.dir)
            self.assertEqual(rc, 1)
            self.assertIn("entry %d" % seq, out)
        finally:
            db.execute("UPDATE audit_log SET target=? WHERE seq=?", (before, seq))
            db.commit()
            db.close()
        rc, out, _ = ecomon("audit", "verify", "--data", self.server.dir)
        self.assertEqual(rc, 0, out)


class LoginLimitTest(unittest.TestCase):
    def test_logins_are_limited_per_address(self):
        # A small budget (1/s, bursts of 5) from the config file: with the default 5/s a slow
        # (sanitizer, loaded) machine hashes passwords no faster than the bucket refills, and the
        # limit would never be reached whatever the code does.
        conf = os.path.join(tempfile.mkdtemp(prefix="ecomon-it-conf-"), "serve.toml")
        with open(conf, "w") as f:
            f.write("login_rate_per_s = 1\nlogin_burst = 5\n")
        srv = Server("--config", conf)
        try:
            codes = []
            start = time.time()
            for i in range(60):
                status, body, hdrs = srv.request("POST", "/api/auth/login",
                                                 {"name": "nobody%d" % i, "password": "Wrong-pass-1"}, key="")
                codes.append(body["error"]["code"])
                if status == 429:
                    self.assertGreaterEqual(int(hdrs["Retry-After"]), 1)
            self.assertEqual(codes[0], "bad_credentials")
            self.assertIn("rate_limited", codes)
            # The bucket let through its burst plus what refilled meanwhile, not more.
            self.assertLessEqual(codes.count("bad_credentials"), 5 + int(time.time() - start) + 1)
        finally:
            srv.close()


class RestoreTest(unittest.TestCase):
    def test_a_restore_ends_the_sessions_of_the_backup_and_keeps_the_audit_chain(self):
        srv = Server()
        base = tempfile.mkdtemp(prefix="ecomon-restore-")
        try:
            rc, _, err = ecomon("user", "add", "--data", srv.dir, "--name", "li", "--role", "viewer",
                                "--password-stdin", stdin=PASSWORD + "\n")
            self.assertEqual(rc, 0, err)
            status, body, _ = srv.request("POST", "/api/auth/login", {"name": "li", "password": PASSWORD}, key="")
            self.assertEqual(status, 200, body)
            token = body["token"]
            backup = os.path.join(base, "b.db")
            rc, _, err = ecomon("backup", "--data", srv.dir, "--to", backup)
            self.assertEqual(rc, 0, err)
            srv.stop()
            restored = os.path.join(base, "restored")
            rc, _, err = ecomon("restore", "--from", backup, "--data", restored)
            self.assertEqual(rc, 0, err)
            shutil.copy(os.path.join(srv.dir, "secret.key"), restored)
            rc, out, _ = ecomon("audit", "verify", "--data", restored)
            self.assertEqual(rc, 0, out)
            again = Server(data=restored)
            try:
                self.assertEqual(again.request("GET", "/api/v1/me", key=token)[0], 401)
                self.assertEqual(again.request("GET", "/api/v1/me", key=srv.key)[0], 200)
                status, audit = again.get("/api/v1/audit?action=session.end_all")
                self.assertEqual(len(audit["entries"]), 1)
            finally:
                again.stop()
        finally:
            srv.close()
            shutil.rmtree(base, ignore_errors=True)


class PublicApiTest(unittest.TestCase):
    """Only published data: no quarantined, pending, clock-suspect or flagged-invalid value."""

    def test_only_published_values_reach_the_public(self):
        srv = Server("--unknown-devices", "accept")
        try:
            t = beijing(-7200)
            published = upload("GY00000002523A", "123456", "20260101000000001", t, [("a34004", "31")])
            # The same device's PM10 value flagged M (maintenance): not published.
            seg = ("QN=20260101000000002;ST=22;CN=2061;PW=123456;MN=GY00000002523A;Flag=5;"
                   "CP=&&DataTime=%s;a34002-Avg=77,a34002-Flag=M&&" % t)
            maintenance = frame(seg)
            future = upload("GY00000002523A", "123456", "20260101000000003", beijing(86400), [("a21026", "9")])
            pending = upload("NEWDEVICE00000001", "123456", "20260101000000004", t, [("a34004", "55")])
            acks = send_frames(srv, [published, maintenance, future, pending])
            self.assertEqual([a["CN"] for a in acks], ["9014"] * 4)
            status, latest = srv.get("/api/v1/sites/2523A/latest")
            self.assertEqual(status, 200)
            self.assertEqual({v["factor"] for v in latest["values"]} >= {"a34004", "a34002"}, True)

            status, body, hdrs = srv.request("GET", "/api/public/v1/sites", key="")
            self.assertEqual(status, 200)
            self.assertIn("public", hdrs.get("Cache-Control", ""))
            codes = {s["code"] for s in body["sites"]}
            self.assertIn("2523A", codes)
            self.assertNotIn("NEWDEVICE00000001", codes)  # provisional site of a pending device
            site = next(s for s in body["sites"] if s["code"] == "2523A")
            values = {v["factor"]: v for v in site["values"]}
            self.assertEqual(values["a34004"]["value"], 31)
            self.assertEqual(values["a34004"]["status"], "unaudited")
            self.assertNotIn("a34002", values)  # flagged maintenance
            self.assertNotIn("a21026", values)  # a day in the future: clock-suspect
            for s in body["sites"]:
                self.assertFalse(any(k in s for k in ("mn", "device", "password")))
            self.assertEqual(srv.request("GET", "/api/public/v1/sites/NEWDEVICE00000001", key="")[0], 404)
            self.assertEqual(srv.request("GET", "/api/public/v1/sites/2523A", key="")[0], 200)
        finally:
            srv.close()

    def test_the_public_hourly_aqi_of_stations_and_of_the_city(self):
        """Station AQI from its latest published hour; the city's from the mean over its urban
        points only (2523A is a control point: its heavy PM2.5 must not count)."""
        srv = Server()
        try:
            start = (int(time.time()) // 3600 - 2) * 3600
            t = time.strftime("%Y%m%d%H%M%S", time.gmtime(start + 8 * 3600))
            base = [("a21026", "10"), ("a21004", "20"), ("a21005", "0.5"), ("a05024", "60"),
                    ("a34002", "50")]
            frames = [
                upload("GY00000002524A", "123456", "20260101000000011", t, base + [("a34004", "80")]),
                upload("GY00000002525A", "123456", "20260101000000012", t, base + [("a34004", "40")]),
                upload("GY00000002523A", "123456", "20260101000000013", t, base + [("a34004", "200")]),
            ]
            self.assertEqual([a["CN"] for a in send_frames(srv, frames)], ["9014"] * 3)
            status, body, _ = srv.request("GET", "/api/public/v1/aqi", key="")
            self.assertEqual(status, 200, body)
            st = {x["code"]: x for x in body["stations"]}
            # HJ 633-2026 表3 (PM2.5 24-h row, IAQI 100 at 60 since 2026): 80 in 60..115 → 100..150:
            # 100 + 50 * 20 / 55 = 118.2 → 119 (rounded up).
            self.assertEqual(st["2524A"]["aqi"], 119, st["2524A"])
            self.assertEqual(st["2524A"]["category"], "轻度污染")
            self.assertEqual(st["2524A"]["primary_pollutants"], ["PM2.5"])
            self.assertEqual(st["2524A"]["standard"], "HJ633-2026")
            hour_end = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start + 3600 + 8 * 3600))
            self.assertTrue(st["2524A"]["time"].startswith(hour_end), st["2524A"]["time"])
            self.assertEqual(st["2523A"]["aqi"], 250)  # 200 in 150..250 → 200..300: 250
            city = body["cities"][0]
            self.assertEqual(city["name"], "广元市")
            self.assertEqual(sorted(city["stations"]), ["2524A", "2525A"])
            self.assertEqual(city["concentrations"]["PM2.5"], 60)
            self.assertEqual(city["aqi"], 100)  # 60 is the IAQI-100 breakpoint of HJ 633-2026 表3
            self.assertEqual(city["category"], "良")
            self.assertEqual(city["primary_pollutants"], ["PM2.5"])
            self.assertEqual(body["status"], "unaudited")
        finally:
            srv.close()

    def test_the_public_water_class_of_a_section_against_its_designated_class(self):
        reg = tempfile.mkdtemp(prefix="ecomon-reg-")
        src = os.path.join(REPO, "config", "registry")
        for name in os.listdir(src):
            shutil.copy(os.path.join(src, name), reg)
        with open(os.path.join(reg, "settings.csv"), "a", encoding="utf-8") as f:
            f.write("510800SW04,water_class,II,2020-01-01,,test,test\n")
        srv = Server(registry=reg)
        try:
            t = beijing(-4 * 3600)
            sample = [("w01001", "7.5"), ("w01009", "6.2"), ("w01019", "3.5"), ("w21003", "0.6"),
                      ("w21011", "0.15"), ("w21001", "2.0")]
            acks = send_frames(srv, [upload("GY00510800SW04", "123456", "20260101000000021", t, sample, st="21")])
            self.assertEqual([a["CN"] for a in acks], ["9014"])
            status, body, hdrs = srv.request("GET", "/api/public/v1/water", key="")
            self.assertEqual(status, 200, body)
            sec = {x["code"]: x for x in body["sections"]}["510800SW04"]
            # GB 3838-2002 表1: NH3-N 0.6 (II ≤ 0.5, III ≤ 1.0) and TP 0.15 (river: II ≤ 0.1,
            # III ≤ 0.2) are class III; DO 6.2 ≥ 6 and CODMn 3.5 ≤ 4 are II; TN is not a river item.
            self.assertEqual(sec["class"], "III", sec)
            self.assertEqual(sec["status"], "良好")
            self.assertEqual(sec["designated_class"], "II")
            self.assertFalse(sec["meets_designated"])
            self.assertEqual(sec["main_pollutants"], [])  # main pollutants are the items worse than III
            self.assertEqual(sec["concentrations"]["nh3n"], 0.6)
            self.assertIn("public", hdrs.get("Cache-Control", ""))
        finally:
            srv.close()
            shutil.rmtree(reg, ignore_errors=True)

    def test_the_public_api_is_rate_limited_per_client(self):
        srv = Server()
        try:
            statuses = [srv.request("GET", "/api/public/v1/sites/2523A", key="")[0] for _ in range(200)]
            self.assertIn(429, statuses)
            self.assertEqual(statuses[0], 200)
            # Authenticated API users are not limited by the public budget.
            self.assertEqual(srv.get("/api/v1/sites/2523A")[0], 200)
        finally:
            srv.close()


def sm4_encrypt_blocks(key_hex, data: bytes) -> bytes:
    """SM4-ECB over the whole 16-byte blocks of data (the `openssl` command); the tail stays."""
    whole = len(data) // 16 * 16
    if whole == 0:
        return data
    out = subprocess.run(["openssl", "enc", "-sm4-ecb", "-K", key_hex, "-nopad"],
                         input=data[:whole], capture_output=True, check=True).stdout
    return out + data[whole:]


def encrypted_frame(seg_text, key_hex):
    """A 2025 frame whose CP content is SM4-encrypted (CRC and length over the plaintext)."""
    seg = seg_text.encode()
    plain = frame(seg_text)
    open_at = seg.index(b"CP=&&") + 5
    body = seg[:open_at] + sm4_encrypt_blocks(key_hex, seg[open_at:-2]) + b"&&"
    return plain[:6] + body + plain[-6:]


def encrypted_upload(mn, key_hex, qn, data_time, values):
    """A 2025 upload (Flag=9) whose CP is SM4-encrypted as HJ 212-2025 appendix A.2 does: CRC and
    length over the plaintext, the CP content encrypted in raw bytes."""
    cp = "DataTime=%s" % data_time + "".join(";%s-Avg=%s,%s-Flag=N" % (f, v, f) for f, v in values)
    seg = ("QN=%s;ST=22;CN=2061;PW=123456;MN=%s;Flag=9;CP=&&%s&&" % (qn, mn, cp)).encode()
    plain = frame(seg.decode())
    open_at = seg.index(b"CP=&&") + 5
    body = seg[:open_at] + sm4_encrypt_blocks(key_hex, seg[open_at:-2]) + b"&&"
    return plain[:6] + body + plain[-6:]


class KeyRotationTest(unittest.TestCase):
    """HJ 212-2025 SM4 keys: sealed at rest, rotated with CN 1014 (9011 + 9012), used at once."""
    OLD = "0123456789ABCDEF0123456789ABCDEF"
    MN = "GY2025KEY000001"

    def test_a_key_is_rotated_through_1014_and_the_new_key_is_used_at_once(self):
        srv = Server()
        try:
            status, body = srv.send("PUT", "/api/v1/devices/" + self.MN, {
                "st": "22", "password": "123456", "version": 2025, "sm4_key_hex": self.OLD})
            self.assertEqual(status, 200, body)
            with open(os.path.join(srv.dir, "registry", "devices.csv"), encoding="utf-8") as f:
                text = f.read()
            self.assertNotIn(self.OLD, text)
            self.assertIn("enc:v1:", text)

            dev = srv.connect()
            t = beijing(-3600)
            dev.sendall(encrypted_upload(self.MN, self.OLD, "20260101000000101", t, [("a34004", "41")]))
            self.assertEqual([a["CN"] for a in read_frames(dev, 1)], ["9014"])

            result = {}
            def rotate():
                result["reply"] = srv.request("POST", "/api/v1/devices/%s/rotate-key" % self.MN, {})
            th = threading.Thread(target=rotate)
            th.start()
            # The device: read the 1014, decrypt it with its current key, answer 9011 then 9012.
            dev.settimeout(20)
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = dev.recv(4096)
                self.assertTrue(chunk, "the platform closed the connection")
                buf += chunk
            p = subprocess.run([os.environ["ECOMON"], "hj212", "parse", "--sm4-key", self.OLD],
                               input=buf, capture_output=True, timeout=30)
            cmd = json.loads(p.stdout.decode().splitlines()[0])
            self.assertTrue(cmd["ok"], cmd)
            self.assertEqual((cmd["cn"], cmd["flag"], cmd["encrypted"]), ("1014", 9, True))
            new = cmd["params"]["NewSK"]
            self.assertRegex(new, r"^[0-9A-F]{32}$")
            self.assertNotEqual(new, self.OLD)
            self.assertEqual(cmd["params"]["SKCreateTime"], cmd["qn"])
            qn = cmd["qn"]
            dev.sendall(frame("QN=%s;ST=91;CN=9011;PW=123456;MN=%s;Flag=8;CP=&&QnRtn=1&&" % (qn, self.MN)) +
                        frame("QN=%s;ST=91;CN=9012;PW=123456;MN=%s;Flag=8;CP=&&ExeRtn=1&&" % (qn, self.MN)) +
                        # The device's next upload already uses the new key.
                        encrypted_upload(self.MN, new, "20260101000000102", beijing(-7200), [("a34004", "42")]))
            acks = read_frames(dev, 1)
            self.assertEqual([(a["CN"], a["QN"]) for a in acks], [("9014", "20260101000000102")])
            th.join(40)
            status, reply, _ = result["reply"]
            self.assertEqual(status, 200, reply)
            self.assertEqual(reply["sk_create_time"], qn)

            # The old key no longer opens: no acknowledgement, the frame is rejected.
            dev.sendall(encrypted_upload(self.MN, self.OLD, "20260101000000103", beijing(-10800), [("a34004", "43")]))
            self.assertEqual(read_frames(dev, 1, timeout=1.5), [])
            dev.close()
            status, recs = srv.get("/api/v1/devices/%s/records?kind=hour" % self.MN)
            self.assertEqual(sorted(r["value"] for r in recs["records"]), [41, 42])

            with open(os.path.join(srv.dir, "registry", "devices.csv"), encoding="utf-8") as f:
                text = f.read()
            self.assertNotIn(new, text)
            self.assertNotIn(self.OLD, text)
            status, audit = srv.get("/api/v1/audit?action=device.key_rotate")
            self.assertEqual(len(audit["entries"]), 1)
            self.assertNotIn(new, json.dumps(audit))
            # After a restart the sealed new key still opens the device's frames.
            srv.stop()
            srv.start()
            dev = srv.connect()
            dev.sendall(encrypted_upload(self.MN, new, "20260101000000104", beijing(-14400), [("a34004", "44")]))
            self.assertEqual([a["CN"] for a in read_frames(dev, 1)], ["9014"])
            dev.close()
        finally:
            srv.close()

    def test_a_device_asking_for_a_new_key_gets_one(self):
        """HJ 212-2025 §6.4.3: the device's own 1014 (SKCreateTime, no NewSK) gets its 9013, then
        the platform's 1014 with a fresh key; after 9011 + 9012 the new key is in use."""
        srv = Server()
        try:
            status, body = srv.send("PUT", "/api/v1/devices/" + self.MN, {
                "st": "22", "password": "123456", "version": 2025, "sm4_key_hex": self.OLD})
            self.assertEqual(status, 200, body)
            dev = srv.connect()
            dev.settimeout(20)
            request = "QN=20260101000000201;ST=22;CN=1014;PW=123456;MN=%s;Flag=9;CP=&&SKCreateTime=20260101000000201&&" % self.MN
            dev.sendall(encrypted_frame(request, self.OLD))
            buf = b""
            while buf.count(b"\r\n") < 2:
                chunk = dev.recv(4096)
                self.assertTrue(chunk, "the platform closed the connection")
                buf += chunk
            first, second = buf.split(b"\r\n")[:2]
            self.assertIn(b"CN=9013", first)
            self.assertIn(b"QN=20260101000000201", first)
            p = subprocess.run([os.environ["ECOMON"], "hj212", "parse", "--sm4-key", self.OLD],
                               input=second + b"\r\n", capture_output=True, timeout=30)
            cmd = json.loads(p.stdout.decode().splitlines()[0])
            self.assertEqual((cmd["ok"], cmd["cn"], cmd["encrypted"]), (True, "1014", True), cmd)
            new, qn = cmd["params"]["NewSK"], cmd["qn"]
            dev.sendall(frame("QN=%s;ST=91;CN=9011;PW=123456;MN=%s;Flag=8;CP=&&QnRtn=1&&" % (qn, self.MN)) +
                        frame("QN=%s;ST=91;CN=9012;PW=123456;MN=%s;Flag=8;CP=&&ExeRtn=1&&" % (qn, self.MN)) +
                        encrypted_upload(self.MN, new, "20260101000000202", beijing(-3600), [("a34004", "51")]))
            acks = read_frames(dev, 1)
            self.assertEqual([(a["CN"], a["QN"]) for a in acks], [("9014", "20260101000000202")])
            dev.close()
            deadline = time.time() + 10
            while time.time() < deadline:
                status, audit = srv.get("/api/v1/audit?action=device.key_rotate")
                if audit["entries"]:
                    break
                time.sleep(0.1)
            self.assertEqual(audit["entries"][0]["actor"], "device:" + self.MN)
            self.assertIn("SKCreateTime=" + qn, audit["entries"][0]["detail"])
        finally:
            srv.close()

    def test_rotation_needs_a_connected_2025_device(self):
        srv = Server()
        try:
            srv.send("PUT", "/api/v1/devices/" + self.MN, {
                "st": "22", "password": "123456", "version": 2025, "sm4_key_hex": self.OLD})
            status, body, _ = srv.request("POST", "/api/v1/devices/%s/rotate-key" % self.MN, {})
            self.assertEqual((status, body["error"]["code"]), (409, "offline"))
            status, body, _ = srv.request("POST", "/api/v1/devices/GY00000002523A/rotate-key", {})
            self.assertEqual((status, body["error"]["code"]), (400, "not_encrypted"))
            viewer = create_key(srv.dir, "viewer")
            self.assertEqual(srv.request("POST", "/api/v1/devices/%s/rotate-key" % self.MN, {}, key=viewer)[0], 403)
        finally:
            srv.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
