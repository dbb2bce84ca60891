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

# Access: a read-only API key for the curl examples below (created once, kept in var/demo.key).
# No default password exists; add a person with `ecomon user add` (see README, Security).
mkdir -p var
if [ ! -s var/demo.key ]; then
  (umask 077 && "$bin" apikey create --data var --role viewer --label demo >var/demo.key)
fi
# A person for the web dashboard: user `analyst` with a random password made here, kept in
# var/demo-analyst.password (0600) and printed below.
if [ ! -s var/demo-analyst.password ]; then
  (umask 077 && printf 'Gy-%s-7a\n' "$(openssl rand -hex 8)" >var/demo-analyst.password)
  "$bin" user add --data var --name analyst --role analyst --password-stdin <var/demo-analyst.password
fi

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
  Public portal    http://127.0.0.1:$http_port/            (信息发布, no login)
  Dashboard        http://127.0.0.1:$http_port/console/    (user analyst, password in var/demo-analyst.password:
                   $(cat var/demo-analyst.password))
  HTTP API         http://127.0.0.1:$http_port/api/
Public (no login, 信息发布):
  curl http://127.0.0.1:$http_port/api/public/v1/sites          # published sites, latest values
  curl http://127.0.0.1:$http_port/api/public/v1/aqi            # hourly AQI of stations and city
  curl http://127.0.0.1:$http_port/api/public/v1/water          # water class of each section
With the demo's read-only API key (var/demo.key, role viewer):
  K="Authorization: Bearer \$(cat var/demo.key)"
  curl -H "\$K" http://127.0.0.1:$http_port/api/v1/sites                 # Guangyuan's monitoring points
  curl -H "\$K" http://127.0.0.1:$http_port/api/v1/devices               # data loggers, online, frames
  curl -H "\$K" http://127.0.0.1:$http_port/api/v1/sites/2526A/latest    # latest values of 监测站 (2526A)
  curl -H "\$K" 'http://127.0.0.1:$http_port/api/v1/series?site=2526A&factor=a34004&kind=hour&interval=day'
Administration (users, keys, audit trail):
  $bin user add --data var --name NAME --role admin      # asks for a password
  $bin audit verify --data var
TXT
wait "$server"
