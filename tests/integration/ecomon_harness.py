"""Helpers for the integration tests: start the real `ecomon serve` on port 0, speak HJ 212 over
real sockets, read the HTTP API. Standard library only."""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

ECOMON = os.environ["ECOMON"]
REPO = os.environ.get("REPO", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def crc_hj212(data: bytes) -> int:
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ b
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def frame(segment: str) -> bytes:
    seg = segment.encode()
    return b"##%04d" % len(seg) + seg + b"%04X\r\n" % crc_hj212(seg)


def upload(mn, pw, qn, data_time, values, cn="2061", flag=5, st="22", extra=""):
    cp = "DataTime=%s" % data_time + "".join(";%s-Avg=%s,%s-Flag=N" % (f, v, f) for f, v in values)
    return frame("QN=%s;ST=%s;CN=%s;PW=%s;MN=%s;Flag=%d;%sCP=&&%s&&" % (qn, st, cn, pw, mn, flag, extra, cp))


_processes = []


def track(proc):
    """Kills the process when the test program ends, whatever happened: a server left running
    after a failed assertion would hold the test runner's output open until its timeout."""
    _processes.append(proc)
    return proc


@atexit.register
def _kill_leftovers():
    for p in _processes:
        if p.poll() is None:
            p.kill()
            p.wait()


def ecomon(*args, stdin=None):
    """(exit status, stdout, stderr) of the real binary."""
    p = subprocess.run([ECOMON] + list(args), input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def create_key(data_dir, role="admin", *scopes):
    """An API key made the way an administrator makes one: `ecomon apikey create`."""
    args = ["apikey", "create", "--data", data_dir, "--role", role]
    for s in scopes:
        args += ["--scope", s]
    rc, out, err = ecomon(*args)
    if rc != 0:
        raise RuntimeError("apikey create failed: %s" % err)
    return out.strip()


class Server:
    def __init__(self, *args, registry=None, data=None):
        self.dir = data or tempfile.mkdtemp(prefix="ecomon-it-")
        self.args = list(args)
        self.registry = registry or os.path.join(REPO, "config", "registry")
        self.proc = None
        # The tests read the API as an administrator's machine would: with an admin API key.
        self.key = create_key(self.dir, "admin")
        self.start()

    def start(self):
        self.proc = track(subprocess.Popen(
            [ECOMON, "serve", "--data", self.dir, "--registry", self.registry,
             "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"] + self.args,
            stderr=subprocess.PIPE, text=True))
        deadline = time.time() + 30
        self.log = []
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("ecomon serve exited: %s" % "".join(self.log))
            self.log.append(line)
            m = re.search(r"HJ 212 on [^:]+:(\d+), HTTP on https?://[^:]+:(\d+)/", line)
            if m:
                self.hj_port, self.http_port = int(m.group(1)), int(m.group(2))
                drain(self.proc, self.log)
                return
        raise RuntimeError("ecomon serve did not start")

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.hj_port), timeout=10)
        s.settimeout(10)
        return s

    def send_acked(self, frames, chunk=50):
        """Sends frames over one connection, `chunk` at a time; returns once each got its 9014
        (raises AssertionError naming what came instead)."""
        s = self.connect()
        try:
            for i in range(0, len(frames), chunk):
                part = frames[i:i + chunk]
                s.sendall(b"".join(part))
                acks = read_frames(s, len(part), timeout=60)
                cns = [a["CN"] for a in acks]
                if cns != ["9014"] * len(part):
                    raise AssertionError("expected %d acknowledgements (9014), got %r" % (len(part), cns))
        finally:
            s.close()

    def auth_headers(self, key):
        key = self.key if key is None else key
        return {"Authorization": "Bearer " + key} if key else {}

    def request(self, method, path, body=None, key=None, headers=None):
        """(status, json or text, response headers). key: None = the admin key, "" = none."""
        url = "http://127.0.0.1:%d%s" % (self.http_port, path)
        h = self.auth_headers(key)
        h.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text, status, hdrs = r.read().decode(), r.status, r.headers
        except urllib.error.HTTPError as e:
            text, status, hdrs = e.read().decode(), e.code, e.headers
        ctype = hdrs.get("Content-Type", "")
        return status, (json.loads(text) if "json" in ctype and text else text), hdrs

    def get(self, path, key=None):
        """(status, json or text) of GET path."""
        status, body, _ = self.request("GET", path, key=key)
        return status, body

    def send(self, method, path, body, key=None):
        """(status, json) of a request with a JSON body."""
        status, out, _ = self.request(method, path, body=body, key=key)
        return status, out

    def metric(self, name):
        _, text = self.get("/metrics")
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
        return 0.0

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def drain(proc, log):
    """Keeps reading the server's stderr so its logging never blocks on a full pipe."""
    def run():
        for line in proc.stderr:
            log.append(line)
        proc.stderr.close()
    threading.Thread(target=run, daemon=True).start()


def read_frames(sock, n, timeout=10.0):
    """Reads n HJ 212 frames (as decoded dicts of header fields) from sock."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    deadline = time.time() + timeout
    while len(out) < n and time.time() < deadline:
        while b"\r\n" in buf and len(out) < n:
            line, buf = buf.split(b"\r\n", 1)
            i = line.find(b"##")
            if i < 0:
                continue
            seg = line[i + 6:-4].decode()
            assert int(line[i + 2:i + 6]) == len(seg), line
            assert int(line[-4:], 16) == crc_hj212(seg.encode()), line
            head, _, cp = seg.partition("CP=&&")
            fields = dict(kv.split("=", 1) for kv in head.strip(";").split(";") if "=" in kv)
            fields["CP"] = cp[:-2]
            out.append(fields)
        if len(out) >= n:
            break
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return out


def expect_silence(sock, seconds=0.7):
    sock.settimeout(seconds)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        return True
    return data == b""


def first_device(registry_dir=None):
    """(mn, password, site) of the first device with an assignment in the registry."""
    import csv
    d = registry_dir or os.path.join(REPO, "config", "registry")
    with open(os.path.join(d, "devices.csv"), encoding="utf-8-sig") as f:
        devices = {r["mn"]: r for r in csv.DictReader(f)}
    with open(os.path.join(d, "assignments.csv"), encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            if r["mn"] in devices:
                return r["mn"], devices[r["mn"]]["password"], r["site"]
    raise RuntimeError("no assigned device in the registry")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(what, fn, timeout=120, interval=0.1):
    """Polls fn() until it returns something truthy; fails naming `what` after `timeout` s."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def iso(epoch_s):
    """ISO 8601 with the Beijing offset, as the API writes and reads times."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(epoch_s + 8 * 3600))


def data_time_at(epoch_s):
    """HJ 212 DataTime (Beijing civil time, YYYYMMDDhhmmss) of a Unix time."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def data_time_ago(seconds_ago):
    """HJ 212 DataTime `seconds_ago` seconds before now."""
    return data_time_at(time.time() - seconds_ago)
