#!/usr/bin/env python3
"""Late data at scale (part of `make bench`; issue #5 §2): LOGGERS simulated data loggers, each on
its own site, first send their current minute, then a 24-hour backfill of minute values (CN 2051,
PM2.5 and PM10, one frame per minute, acknowledged after the fsynced ingest commit). Measures the
time from the last frame's acknowledgement to the derived service having recomputed every affected
hour and day (its change-feed cursor reaching the store's last value, read from /metrics), and
checks that each site then has its 24 stored hours. Then, as a catch-up figure, the derived tables
are dropped with the server stopped and the time the restarted server takes to recompute them all
from the change feed. Prints the figures with the machine; asserts no time.

Usage: ECOMON=build/release/ecomon python3 scripts/bench_backfill.py [LOGGERS] [HOURS]"""
import csv
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ecomon_harness import REPO, Server, read_frames, upload  # noqa: E402

WINDOW = 200  # frames in flight per logger


def registry_with(loggers):
    """A copy of config/registry with one bench site and device per logger."""
    d = tempfile.mkdtemp(prefix="ecomon-bench-registry-")
    for name in os.listdir(os.path.join(REPO, "config", "registry")):
        shutil.copy(os.path.join(REPO, "config", "registry", name), d)
    with open(os.path.join(d, "sites.csv"), encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
    out = []
    with open(os.path.join(d, "sites.csv"), "a", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        for i in range(loggers):
            row = {k: "" for k in header}
            row.update(code="BF%03d" % i, name="backfill %d" % i, kind="ambient_air", level="city",
                       province="四川省", province_code="510000", city="广元市", city_code="510800",
                       county="利州区", county_code="510802", note="bench_backfill.py")
            w.writerow([row[k] for k in header])
            out.append(("BENCH%09d" % i, "123456", "BF%03d" % i))
    with open(os.path.join(d, "devices.csv"), "a", encoding="utf-8", newline="") as f:
        for mn, pw, _ in out:
            f.write("%s,22,%s,2017,hj212,60,bench_backfill.py\n" % (mn, pw))
    with open(os.path.join(d, "assignments.csv"), "a", encoding="utf-8", newline="") as f:
        for mn, _, site in out:
            f.write("%s,%s,2020-01-01,,bench_backfill.py\n" % (mn, site))
    return d, out


def beijing(epoch_s):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(epoch_s + 8 * 3600))


def send(srv, mn, pw, starts, qn0, errors):
    try:
        s = srv.connect()
        frames = [upload(mn, pw, "2026%013d" % (qn0 + i), beijing(t),
                         [("a34004", str(30 + i % 17)), ("a34002", str(60 + i % 23))], cn="2051")
                  for i, t in enumerate(starts)]
        for i in range(0, len(frames), WINDOW):
            chunk = frames[i:i + WINDOW]
            s.sendall(b"".join(chunk))
            if len(read_frames(s, len(chunk), timeout=120)) != len(chunk):
                raise RuntimeError("%s: acknowledgements missing" % mn)
        s.close()
    except Exception as e:  # reported by the main thread
        errors.append(e)


def run_all(srv, loggers, starts_of, qn_base):
    errors = []
    threads = [threading.Thread(target=send, args=(srv, mn, pw, starts_of(i), qn_base + i * 10000, errors))
               for i, (mn, pw, _) in enumerate(loggers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    hours = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    registry, loggers = registry_with(n)
    srv = Server(registry=registry)
    try:
        now_minute = int(time.time()) // 60 * 60
        # The present first: the series' newest hour is now, so the backfill is late data.
        run_all(srv, loggers, lambda i: [now_minute], 0)
        first = now_minute - hours * 3600
        t0 = time.monotonic()
        run_all(srv, loggers, lambda i: [first + 60 * m for m in range(hours * 60)], 1)
        acked = time.monotonic()
        frames = n * hours * 60
        target = srv.metric("ecomon_values")
        while srv.metric("ecomon_derived_cursor") < target:
            time.sleep(0.05)
        done = time.monotonic()
        # Every site has its backfilled hours stored (the first may be partial: it starts mid-hour).
        missing = 0
        for _, _, site in loggers:
            q = urllib.parse.urlencode({"site": site, "factor": "a34004", "interval": "hour",
                                        "from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first)),
                                        "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_minute))})
            status, body = srv.get("/api/v1/aggregates?" + q)
            assert status == 200, body
            missing += max(0, hours - len(body["aggregates"]))
        print("machine: %s, %d cores, %s" % (platform.processor() or platform.machine(), os.cpu_count(),
                                             platform.platform()))
        print("backfill: %d loggers x %d h of minute data = %d frames, %d values, sent in %.1f s (%.0f frames/s)"
              % (n, hours, frames, 2 * frames, acked - t0, frames / (acked - t0)))
        print("last ack -> every affected hour and day recomputed: %.0f ms" % ((done - acked) * 1000))
        print("derived rows written %d, revisions %d, hours missing %d"
              % (srv.metric("ecomon_derived_rows_written_total"),
                 srv.metric("ecomon_derived_revisions_total"), missing))
        # Catch-up: the whole feed recomputed by a fresh service (as after an upgrade).
        srv.stop()
        db = sqlite3.connect(os.path.join(srv.dir, "ecomon.db"))
        for table in ("derived_hours", "derived_days", "derived_indices", "derived_revisions",
                      "derived_cursor"):
            db.execute("DROP TABLE " + table)
        db.commit()
        db.close()
        t1 = time.monotonic()
        srv.start()
        while srv.metric("ecomon_derived_cursor") < target:
            time.sleep(0.05)
        done = time.monotonic()
        print("catch-up from an empty derived state: %d values -> %d rows in %.1f s (incl. the server's start)"
              % (target, srv.metric("ecomon_derived_rows_written_total"), done - t1))
    finally:
        srv.close()
        shutil.rmtree(registry, ignore_errors=True)


if __name__ == "__main__":
    main()
