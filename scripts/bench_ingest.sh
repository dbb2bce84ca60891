#!/usr/bin/env bash
# Ingest load benchmark (part of `make bench`): the release `ecomon serve` on a fresh SQLite store,
# the simulator as a separate process on the same machine: DEVICES connections, each keeping up to
# WINDOW frames in flight, VALUES values per frame, every frame acknowledged only once durable.
# Prints frames/s, values/s, ack latency, the server's CPU time and peak RSS, bytes on disk per
# value, idle-connection memory, and the latency of two API queries.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/ecomon
DEVICES=${DEVICES:-500}
WINDOW=${WINDOW:-8}
VALUES=${VALUES:-10}
FRAMES=${FRAMES:-200}
IDLE=${IDLE:-2000}
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
# The API is read with an administrator's machine key, as a monitoring system would.
key=$("$bin" apikey create --data "$dir" --role admin --label bench 2>/dev/null)

"$bin" serve --data "$dir" --registry config/registry --unknown-devices quarantine \
  --hj212-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --max-connections 20000 2>"$dir/log" &
server=$!
for _ in $(seq 1 100); do grep -q "HJ 212 on" "$dir/log" && break; sleep 0.1; done
hj=$(sed -n 's/.*HJ 212 on [^:]*:\([0-9]*\),.*/\1/p' "$dir/log")
http=$(sed -n 's/.*HTTP on http:\/\/[^:]*:\([0-9]*\)\/.*/\1/p' "$dir/log")

cpu0=$(awk '{print $14+$15}' /proc/$server/stat)
echo "== load: $DEVICES devices x $FRAMES frames x $VALUES values, window $WINDOW"
"$bin" simulate --to "127.0.0.1:$hj" --devices "$DEVICES" --frames "$FRAMES" --values "$VALUES" \
  --window "$WINDOW" --rate 0 --mn-prefix LOAD --ack-timeout 30000
cpu1=$(awk '{print $14+$15}' /proc/$server/stat)
hz=$(getconf CLK_TCK)
echo "server CPU: $(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" 'BEGIN{printf "%.2f", (b-a)/hz}') s; peak RSS: $(awk '/VmHWM/{print $2, $3}' /proc/$server/status)"
values=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$http/metrics" | awk '/^ecomon_values /{print $2}')
bytes=$(du -sb "$dir" | awk '{print $1}')
echo "stored values: $values; data directory: $bytes bytes; $(awk -v b="$bytes" -v v="$values" 'BEGIN{printf "%.1f", b/v}') bytes per value (incl. the raw-frame archive)"

echo "== the Guangyuan sites' real week through HJ 212 (for the site queries below)"
"$bin" simulate --to "127.0.0.1:$hj" --registry config/registry --rate 0 --window 4 \
  --replay data/air_cn_sichuan_hourly_2020/guangyuan_station_hourly_2020-03-26_2020-04-08.csv \
  --snapshot data/water_cn_auto_snapshot_2026-02-04/guangyuan_sections_snapshot_2026-02-04.csv
echo "== API latency (one keep-alive connection, 200 requests each)"
python3 - "$http" "$key" <<'PY'
import http.client, sys, time
auth = {"Authorization": "Bearer " + sys.argv[2]}
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
def t(path, label):
    lat = []
    for _ in range(200):
        s = time.perf_counter()
        c.request("GET", path, headers=auth)
        r = c.getresponse()
        r.read()
        lat.append((time.perf_counter() - s) * 1000)
        assert r.status == 200, (path, r.status)
    lat.sort()
    print("%s: p50 %.2f ms, p99 %.2f ms" % (label, lat[100], lat[197]))
t("/api/v1/sites/2526A/latest", "latest values of one site")
t("/api/v1/devices", "devices (%s)" % "all")
t("/api/v1/sites", "sites")
# Hourly means of one factor for all five air sites over 30 days (5 requests per round).
c2 = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
now = time.time()
frm = time.strftime("%Y-%m-%dT%H:00:00%%2B08:00", time.gmtime(now + 8 * 3600 - 30 * 86400))
lat = []
for _ in range(40):
    s = time.perf_counter()
    for site in ["2523A", "2524A", "2525A", "2526A", "3617A"]:
        c2.request("GET", "/api/v1/series?site=%s&factor=a34004&kind=hour&interval=hour&from=%s" % (site, frm), headers=auth)
        r = c2.getresponse()
        r.read()
        assert r.status == 200
    lat.append((time.perf_counter() - s) * 1000)
lat.sort()
print("hourly PM2.5 of all 5 air sites over 30 days: p50 %.2f ms, p99 %.2f ms" % (lat[20], lat[39]))
PY
echo "== idle connections: $IDLE"
rss0=$(awk '/VmRSS/{print $2}' /proc/$server/status)
rm -f "$dir/idle_ready"
python3 - "$hj" "$IDLE" "$dir/idle_ready" <<'PY' &
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
time.sleep(1.0)
open(ready, "w").write("1")
time.sleep(3.0)
PY
holder=$!
for _ in $(seq 1 100); do [ -f "$dir/idle_ready" ] && break; sleep 0.1; done
rss1=$(awk '/VmRSS/{print $2}' /proc/$server/status)
open=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$http/metrics" | awk '/^ecomon_connections_open /{print $2}')
echo "RSS $rss0 kB before, $rss1 kB with $open connections open: $(( (rss1 - rss0) * 1024 / IDLE )) bytes per idle connection"
wait $holder
