#!/usr/bin/env bash
# `make demo`: the platform on its embedded default (SQLite in ./var) with the Guangyuan registry,
# fed through HJ 212 by the simulator: the real 2020 hourly data of the four national air stations
# that have it (looped, shifted to now), generated values for the fifth, and the water sections
# around their real 2026-02-04 snapshot. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/ecomon
hj212_port=${HJ212_PORT:-9212}
http_port=${HTTP_PORT:-8080}

"$bin" serve --data var --registry config/registry \
  --hj212-listen "127.0.0.1:$hj212_port" --http-listen "127.0.0.1:$http_port" &
server=$!
sim=""
cleanup() {
  [ -n "$sim" ] && kill -TERM "$sim" 2>/dev/null || true
  kill -TERM "$server" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

"$bin" simulate --to "127.0.0.1:$hj212_port" --registry config/registry --rate 0 --window 4 --loop \
  --replay data/air_cn_sichuan_hourly_2020/guangyuan_station_hourly_2020-03-26_2020-04-08.csv \
  --snapshot data/water_cn_auto_snapshot_2026-02-04/guangyuan_sections_snapshot_2026-02-04.csv &
sim=$!

sleep 3
cat <<TXT

ecomon is running (数据平台运行中) — Ctrl-C stops it.
  HJ 212 gateway   127.0.0.1:$hj212_port   (the simulator is a set of data loggers sending hourly data)
  HTTP API         http://127.0.0.1:$http_port/
Look at:
  curl http://127.0.0.1:$http_port/api/v1/sites                 # Guangyuan's monitoring points
  curl http://127.0.0.1:$http_port/api/v1/devices               # data loggers, online, frames
  curl http://127.0.0.1:$http_port/api/v1/sites/2526A/latest    # latest values of 监测站 (2526A)
  curl 'http://127.0.0.1:$http_port/api/v1/series?site=2526A&factor=a34004&kind=hour&interval=day'
  curl http://127.0.0.1:$http_port/metrics                      # frames, values, commit latency
TXT
wait "$server"
