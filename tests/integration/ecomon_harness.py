"""Helpers for the integration tests: start the real `ecomon serve` on port 0, speak HJ 212 over
real sockets, read the HTTP API. Standard library only."""
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


class Server:
    def __init__(self, *args, registry=None, data=None):
        self.dir = data or tempfile.mkdtemp(prefix="ecomon-it-")
        self.args = list(args)
        self.registry = registry or os.path.join(REPO, "config", "registry")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            [ECOMON, "serve", "--data", self.dir, "--registry", self.registry,
             "--hj212-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"] + self.args,
            stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        self.log = []
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError("ecomon serve exited: %s" % "".join(self.log))
            self.log.append(line)
            m = re.search(r"HJ 212 on [^:]+:(\d+), HTTP on http://[^:]+:(\d+)/", line)
            if m:
                self.hj_port, self.http_port = int(m.group(1)), int(m.group(2))
                drain(self.proc, self.log)
                return
        raise RuntimeError("ecomon serve did not start")

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.hj_port), timeout=10)
        s.settimeout(10)
        return s

    def get(self, path):
        """(status, json or text) of GET path."""
        url = "http://127.0.0.1:%d%s" % (self.http_port, path)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = r.read().decode()
                status = r.status
                ctype = r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            body, status, ctype = e.read().decode(), e.code, e.headers.get("Content-Type", "")
        return status, (json.loads(body) if "json" in ctype else body)

    def send(self, method, path, body):
        """(status, json) of a request with a JSON body."""
        url = "http://127.0.0.1:%d%s" % (self.http_port, path)
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())

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
