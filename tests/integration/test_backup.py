"""`ecomon backup` while `ecomon serve` ingests, then `ecomon restore`: every value acknowledged
(9014) before the backup started is in the restored store; restore refuses files that are not
backups and a data directory a server is using.

The restored store is read with Python's sqlite3 module (read-only), not through /api/v1, so the
test does not depend on the API's authentication. Run by ctest (tests/CMakeLists.txt) with ECOMON
set to the binary."""
import calendar
import collections
import csv
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from ecomon_harness import ECOMON, REPO, Server, upload

REGISTRY = os.path.join(REPO, "config", "registry")
FACTORS = ("a34004", "a34002", "a21026", "a21004", "a21005")
HOUR_KIND = 2  # storage::DataKind::kHour, CN 2061


def ecomon(*args, timeout=300):
    return subprocess.run([ECOMON] + list(args), capture_output=True, text=True, timeout=timeout)


def registered_devices(n):
    """(mn, password) of the first n devices that have a site."""
    with open(os.path.join(REGISTRY, "devices.csv"), encoding="utf-8-sig") as f:
        devices = {r["mn"]: r["password"] for r in csv.DictReader(f)}
    with open(os.path.join(REGISTRY, "assignments.csv"), encoding="utf-8-sig") as f:
        assigned = [r["mn"] for r in csv.DictReader(f) if r["mn"] in devices]
    return [(mn, devices[mn]) for mn in assigned[:n]]


def beijing(hour):
    """HJ 212 DataTime (Beijing time) of the start of Unix hour `hour`."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(hour * 3600 + 8 * 3600))


def open_readonly(path):
    return sqlite3.connect("file:%s?mode=ro" % urllib.request.pathname2url(path), uri=True)


Sent = collections.namedtuple("Sent", "mn qn hour values")


class Logger(threading.Thread):
    """One data logger on its own connection: keeps `window` upload frames in flight, new hourly
    values in each, and notes when each frame's 9014 arrives (time.monotonic())."""

    def __init__(self, server, index, mn, pw, window=8):
        super().__init__(daemon=True)
        self.server, self.index, self.mn, self.pw, self.window = server, index, mn, pw, window
        self.stop = threading.Event()
        self.acked = []  # (ack time, Sent), in order
        self.error = None
        # Hours far enough back that no value is clock-suspect, one hour per frame.
        self.first_hour = int(time.time()) // 3600 - 2

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the test
            self.error = "%s: %r" % (self.mn, e)

    def _run(self):
        sock = self.server.connect()
        sock.settimeout(20)
        pending = collections.deque()
        buf = b""
        i = 0
        while not self.stop.is_set() or pending:
            while not self.stop.is_set() and len(pending) < self.window:
                hour = self.first_hour - i
                values = [(f, "%d.%d" % (i, k)) for k, f in enumerate(FACTORS)]
                qn = "2026%02d%011d" % (self.index, i)
                sock.sendall(upload(self.mn, self.pw, qn, beijing(hour), values))
                pending.append(Sent(self.mn, qn, hour, values))
                i += 1
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed with %d frames in flight" % len(pending))
            buf += chunk
            now = time.monotonic()
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                start = line.find(b"##")
                if start < 0:
                    continue
                fields = dict(kv.split("=", 1) for kv in line[start + 6:-4].decode().split(";") if "=" in kv)
                sent = pending.popleft()
                if fields.get("CN") != "9014" or fields.get("QN") != sent.qn:
                    raise RuntimeError("expected the 9014 of %s, got %r" % (sent.qn, fields))
                self.acked.append((now, sent))
        sock.close()


class OnlineBackupTest(unittest.TestCase):
    def test_every_value_acknowledged_before_the_backup_is_restored(self):
        base = tempfile.mkdtemp(prefix="ecomon-backup-it-")
        data = os.path.join(base, "data")
        restored = os.path.join(base, "restored")
        backup = os.path.join(base, "backups", "ecomon-backup.db")
        os.makedirs(os.path.dirname(backup))
        # Registry edits (as the API saves them): the server runs on them, the backup carries them.
        shutil.copytree(REGISTRY, os.path.join(data, "registry"))
        srv = Server("--unknown-devices", "quarantine", data=data)
        loggers = []
        try:
            # A store of some size first, so the backup takes a while: 100,000 values.
            sim = ecomon("simulate", "--to", "127.0.0.1:%d" % srv.hj_port, "--devices", "20",
                         "--frames", "500", "--values", "10", "--rate", "0", "--window", "8",
                         "--mn-prefix", "PRELOAD")
            self.assertEqual(sim.returncode, 0, sim.stdout + sim.stderr)

            loggers = [Logger(srv, i, mn, pw) for i, (mn, pw) in enumerate(registered_devices(4))]
            self.assertEqual(len(loggers), 4)
            for lg in loggers:
                lg.start()
            deadline = time.monotonic() + 60
            while sum(len(lg.acked) for lg in loggers) < 2000 and time.monotonic() < deadline:
                time.sleep(0.05)
                self.assertFalse([lg.error for lg in loggers if lg.error])

            started = time.monotonic()
            result = ecomon("backup", "--data", data, "--to", backup)
            finished = time.monotonic()
            for lg in loggers:
                lg.stop.set()
            for lg in loggers:
                lg.join(60)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse([lg.error for lg in loggers if lg.error])
            self.assertEqual(os.stat(backup).st_mode & 0o077, 0)  # password and key hashes inside
            acked = [a for lg in loggers for a in lg.acked]
            before = [sent for t, sent in acked if t < started]
            during = [sent for t, sent in acked if started <= t <= finished]
            print("\nbackup: %.3f s; frames acknowledged before it %d, during it %d, in all %d; %s"
                  % (finished - started, len(before), len(during), len(acked), result.stdout.strip()),
                  file=sys.stderr)
            self.assertGreater(len(before), 1000)
            # The server kept acknowledging while the backup ran: the backup did not stop ingest.
            self.assertGreater(len(during), 0)

            # Restore into a new directory and read the store as a file, the way an auditor would.
            result = ecomon("restore", "--from", backup, "--data", restored)
            self.assertEqual(result.returncode, 0, result.stderr)
            source = open_readonly(os.path.join(data, "ecomon.db"))
            try:
                source_tables = {r[0] for r in source.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
            finally:
                source.close()
            db = open_readonly(os.path.join(restored, "ecomon.db"))
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                tables = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
                self.assertIn("value_versions", tables)
                self.assertFalse({t for t in tables if t.startswith("ecomon_backup")}, tables)
                # Every table of the store came along, whoever added it (users, API keys, audit).
                self.assertEqual(tables, source_tables)
                stored = set(db.execute(
                    "SELECT d.mn, v.measured_ms, v.factor, v.field, v.text FROM value_versions v "
                    "JOIN devices d ON d.id = v.device WHERE v.kind = ?", (HOUR_KIND,)))
                preload = db.execute("SELECT count(*) FROM devices WHERE mn LIKE 'PRELOAD%'").fetchone()[0]
            finally:
                db.close()
            self.assertEqual(preload, 20)
            missing = [(s.mn, s.qn, f) for s in before for f, text in s.values
                       if (s.mn, s.hour * 3_600_000, f, "Avg", text) not in stored]
            self.assertEqual(missing[:10], [], "%d acknowledged values missing" % len(missing))
            for name in sorted(os.listdir(os.path.join(data, "registry"))):
                with open(os.path.join(data, "registry", name), "rb") as a, \
                        open(os.path.join(restored, "registry", name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)

            # A server using the directory keeps restore out, and a second server too.
            result = ecomon("restore", "--from", backup, "--data", data, "--force")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("in use", result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertEqual(result.stdout, "")
            # ... and a backup inside it.
            result = ecomon("backup", "--data", data, "--to", os.path.join(data, "inside.db"))
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("running ecomon serve", result.stderr)
            self.assertFalse(os.path.exists(os.path.join(data, "inside.db")))
            second = ecomon("serve", "--data", data, "--registry", REGISTRY, "--hj212-listen",
                            "127.0.0.1:0", "--http-listen", "127.0.0.1:0", timeout=30)
            self.assertEqual(second.returncode, 2, second.stderr)
            self.assertIn("in use", second.stderr)

            # The restored directory serves (the product opens it), and is then itself protected.
            srv2 = Server("--unknown-devices", "quarantine", data=restored)
            try:
                result = ecomon("restore", "--from", backup, "--data", restored, "--force")
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("in use", result.stderr)
            finally:
                srv2.stop()
            self.assertEqual(srv2.proc.returncode, 0)
        finally:
            for lg in loggers:
                lg.stop.set()
            srv.stop()
            shutil.rmtree(base, ignore_errors=True)


class RefusalTest(unittest.TestCase):
    """Every refusal: exit status 2, one line on stderr naming the reason, nothing written."""

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="ecomon-backup-cli-")
        cls.data = os.path.join(cls.base, "data")
        srv = Server(data=cls.data)
        try:
            mn, pw = registered_devices(1)[0]
            s = srv.connect()
            hour = int(time.time()) // 3600 - 5
            s.sendall(upload(mn, pw, "20260101000000001", beijing(hour), [("a34004", "35.2")]))
            s.settimeout(10)
            s.recv(1000)  # the 9014
            s.close()
        finally:
            srv.stop()
        cls.backup = os.path.join(cls.base, "good.db")
        result = ecomon("backup", "--data", cls.data, "--to", cls.backup)
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base, ignore_errors=True)

    def refused(self, args, says, status=2):
        result = ecomon(*args)
        self.assertEqual(result.returncode, status, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(says, lines[0])
        return lines[0]

    def bad_file(self, name, content):
        path = os.path.join(self.base, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    def restore_into_new_dir(self, path, says):
        target = os.path.join(self.base, "target-" + os.path.basename(path))
        self.refused(["restore", "--from", path, "--data", target], says)
        self.assertFalse(os.path.exists(target), "a refused restore left %s" % target)

    def test_garbage_is_not_a_backup(self):
        self.restore_into_new_dir(self.bad_file("garbage.db", os.urandom(100_000)),
                                  "not an ecomon backup (not an SQLite database)")

    def test_a_plain_sqlite_file_is_not_a_backup(self):
        path = os.path.join(self.base, "plain.db")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE t(x)")
        db.execute("INSERT INTO t VALUES (1)")
        db.commit()
        db.close()
        self.restore_into_new_dir(path, "another application")

    def test_a_store_is_not_a_backup(self):
        self.restore_into_new_dir(os.path.join(self.data, "ecomon.db"), "ecomon store")

    def test_a_truncated_backup_is_damaged(self):
        with open(self.backup, "rb") as f:
            content = f.read()
        self.restore_into_new_dir(self.bad_file("truncated.db", content[:len(content) // 2]),
                                  "damaged or truncated")

    def test_a_missing_file(self):
        self.restore_into_new_dir(os.path.join(self.base, "nope.db"), "no such backup file")

    def test_an_existing_store_needs_force(self):
        self.refused(["restore", "--from", self.backup, "--data", self.data], "--force")
        target = os.path.join(self.base, "forced")
        self.assertEqual(ecomon("restore", "--from", self.backup, "--data", target).returncode, 0)
        result = ecomon("restore", "--from", self.backup, "--data", target, "--force")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("1 value versions", result.stdout)

    def test_an_existing_backup_file_needs_force(self):
        path = self.bad_file("taken.db", b"precious")
        self.refused(["backup", "--data", self.data, "--to", path], "exists (--force replaces it)")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), b"precious")
        self.assertFalse(os.path.exists(path + ".tmp"))
        self.assertEqual(ecomon("backup", "--data", self.data, "--to", path, "--force").returncode, 0)

    def test_a_missing_store_or_argument(self):
        self.refused(["backup", "--data", os.path.join(self.base, "none"), "--to",
                      os.path.join(self.base, "x.db")], "no store here")
        self.refused(["backup", "--data", self.data], "--to FILE")
        self.refused(["restore", "--from", self.backup], "--data DIR")

    def test_an_unwritable_target_is_an_io_failure(self):
        self.refused(["backup", "--data", self.data, "--to",
                      os.path.join(self.base, "no-such-dir", "x.db")], "x.db", status=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
