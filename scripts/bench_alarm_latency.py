#!/usr/bin/env python3
"""Frame → open alarm latency, end to end (part of `make bench`; issue #6 goal < 1 s).

Starts the release `ecomon serve` on a fresh store, creates a threshold rule through the API, then
ROUNDS times: sends one exceeding HJ 212 real-time frame, and polls GET /api/v1/alarms until the
new alarm is there; then a good frame clears it. Prints two figures per round, as percentiles:
  server: the alarm's latency_ms — from the frame's arrival (receive time), through its ingest
          commit, to the engine's decision (the alarm's own fsynced commit follows);
  client: from sending the frame to seeing the alarm in the API (includes the 9014 round trip,
          the HTTP polling interval of 2 ms and the request itself).
Usage: ECOMON=build/release/ecomon python3 scripts/bench_alarm_latency.py [ROUNDS]"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ecomon_harness import Server, frame, read_frames  # noqa: E402

SITE, MN, PW = "2526A", "GY00000002526A", "123456"


def datatime(seconds_ago):
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600 - seconds_ago))


def rtd(qn, data_time, value):
    return frame("QN=%s;ST=22;CN=2011;PW=%s;MN=%s;Flag=5;CP=&&DataTime=%s;a34004-Rtd=%s,a34004-Flag=N&&"
                 % (qn, PW, MN, data_time, value))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    srv = Server()
    try:
        status, rule = srv.send("POST", "/api/v1/rules", {
            "name": "latency", "kind": "threshold", "site": SITE, "factor": "a34004",
            "data_kind": "rtd", "op": ">", "limit": 75})
        assert status == 201, rule
        sock = srv.connect()
        server_ms, client_ms = [], []
        seen = set()
        base = 2 * rounds + 10
        for i in range(rounds):
            t0 = time.time()
            sock.sendall(rtd("2026%013d" % (2 * i), datatime(base - 2 * i), "99"))
            assert read_frames(sock, 1)[0]["CN"] == "9014"
            while True:
                _, body = srv.get("/api/v1/alarms?active=true&rule=%d" % rule["id"])
                new = [a for a in body["alarms"] if a["id"] not in seen]
                if new:
                    break
                time.sleep(0.002)
            client_ms.append((time.time() - t0) * 1000)
            server_ms.append(new[0]["latency_ms"])
            seen.add(new[0]["id"])
            sock.sendall(rtd("2026%013d" % (2 * i + 1), datatime(base - 2 * i - 1), "10"))
            assert read_frames(sock, 1)[0]["CN"] == "9014"
            while srv.get("/api/v1/alarms?active=true&rule=%d" % rule["id"])[1]["alarms"]:
                time.sleep(0.002)
        sock.close()
        for name, xs in (("server (frame received -> alarm raised)", server_ms),
                         ("client (frame sent -> alarm visible in the API)", client_ms)):
            print("%s, %d rounds: p50 %.1f ms, p90 %.1f ms, max %.1f ms"
                  % (name, len(xs), pct(xs, 50), pct(xs, 90), max(xs)))
    finally:
        srv.close()


if __name__ == "__main__":
    main()
