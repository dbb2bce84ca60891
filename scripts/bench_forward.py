#!/usr/bin/env python3
"""Forwarding throughput (数据转发): one logger uploads FRAMES hourly records (2 factors each) to
`ecomon serve`, which forwards them to a fake upstream on loopback that answers every frame
with 9014 at once; measured: from the first upload to the status showing every change
delivered (backlog 0), once per max_in_flight. Each frame costs a ledger insert and an ack
transaction (both fsynced), so the figure is bounded by the disk's fsync rate.

Usage: ECOMON=build/release/ecomon python3 scripts/bench_forward.py [FRAMES]"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from ecomon_harness import Server, first_device, read_frames, upload  # noqa: E402
from test_forward import FakeUpstream, config, forward_table  # noqa: E402

FRAMES = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
MN, PW, _ = first_device()


def run(in_flight):
    up = FakeUpstream()
    d, path = config(forward_table("bench", up.port, "max_in_flight = %d\n" % in_flight))
    server = Server("--config", path)
    try:
        start_hour = int(time.time()) // 3600 - FRAMES - 1
        sock = server.connect()
        t0 = time.time()
        for chunk in range(0, FRAMES, 500):
            frames = [upload(MN, PW, "20260101000000%03d" % (i % 1000),
                             time.strftime("%Y%m%d%H%M%S", time.gmtime((start_hour + i) * 3600 + 8 * 3600)),
                             [("a34004", str(i % 97)), ("a21026", "5")])
                      for i in range(chunk, min(chunk + 500, FRAMES))]
            sock.sendall(b"".join(frames))
            assert len(read_frames(sock, len(frames), timeout=60)) == len(frames)
        t_ingested = time.time()
        while True:
            _, body = server.get("/api/v1/forward")
            s = body["upstreams"][0]
            if s["backlog"] == 0 and s["frames_acked"] >= FRAMES:
                break
            time.sleep(0.05)
        t1 = time.time()
        print("max_in_flight=%d: %d frames ingested in %.2f s, all delivered after %.2f s: %.0f frames/s"
              % (in_flight, FRAMES, t_ingested - t0, t1 - t0, FRAMES / (t1 - t0)))
    finally:
        server.close()
        up.stop()


if __name__ == "__main__":
    for n in (1, 8):
        run(n)
