"""The cost of security on the API (part of `make bench`): a login (argon2id at libsodium's
interactive limits, by design tens of milliseconds), and an authenticated request (SHA-256 of the
key + one SQLite lookup + the route) against an unauthenticated one, on one keep-alive
connection to the release `ecomon serve`. Usage: ECOMON=build/release/ecomon python3 scripts/bench_auth.py"""
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

ECOMON = os.environ.get("ECOMON", "build/release/ecomon")
PASSWORD = "Gy-station-2026"


def percentiles(lat):
    lat = sorted(lat)
    return lat[len(lat) // 2], lat[max(0, int(len(lat) * 0.99) - 1)]


def main():
    d = tempfile.mkdtemp(prefix="ecomon-bench-auth-")
    proc = None
    try:
        subprocess.run([ECOMON, "user", "add", "--data", d, "--name", "bench", "--role", "admin",
                        "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)
        key = subprocess.run([ECOMON, "apikey", "create", "--data", d, "--role", "admin"], text=True,
                             check=True, capture_output=True).stdout.strip()
        proc = subprocess.Popen([ECOMON, "serve", "--data", d, "--hj212-listen", "127.0.0.1:0",
                                 "--http-listen", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
        while True:
            line = proc.stderr.readline()
            if not line:
                raise SystemExit("serve did not start")
            m = re.search(r"HTTP on http://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def run(method, path, n, body=None, headers=None):
            lat = []
            for _ in range(n):
                s = time.perf_counter()
                c.request(method, path, body=body, headers=headers or {})
                r = c.getresponse()
                r.read()
                lat.append((time.perf_counter() - s) * 1000)
                assert r.status == 200, (path, r.status)
            return percentiles(lat)

        # 10 logins: within the per-address login budget (30 at once, then 5/s).
        login = run("POST", "/api/auth/login", 10, json.dumps({"name": "bench", "password": PASSWORD}),
                    {"Content-Type": "application/json"})
        print("login (argon2id, libsodium interactive limits): p50 %.1f ms, p99 %.1f ms (10 logins)" % login)
        auth = run("GET", "/api/v1/sites/2526A", 2000, headers={"Authorization": "Bearer " + key})
        print("GET /api/v1/sites/2526A with an API key: p50 %.3f ms, p99 %.3f ms (2,000 requests)" % auth)
        open_ = run("GET", "/healthz", 2000)
        print("GET /healthz without a credential:       p50 %.3f ms, p99 %.3f ms (2,000 requests)" % open_)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
