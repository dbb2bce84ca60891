#!/usr/bin/env bash
# `ecomon assess aqi` over the real hourly release of 107 Sichuan national stations (2020-03-26 ..
# 04-08, data/air_cn_sichuan_hourly_2020): every row evaluated, no NA where all six items are
# present, the category consistent with the index, the primary pollutants' IAQI equal to the AQI.
set -euo pipefail
: "${ECOMON:?}" "${DATA:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
src="$DATA/air_cn_sichuan_hourly_2020/sichuan_station_hourly_2020-03-26_2020-04-08.csv"
# The file's columns, renamed to the assess columns (only the header line changes).
{ head -1 "$src" | sed -e 's/^timestamp,/time,/' -e 's/pm25_ugm3/pm25/' -e 's/pm10_ugm3/pm10/' \
    -e 's/co_mgm3/co/' -e 's/no2_ugm3/no2/' -e 's/o3_1h_ugm3/o3/' -e 's/o3_8h_ugm3/o3_8h/' \
    -e 's/so2_ugm3/so2/'; tail -n +2 "$src"; } >"$tmp/in.csv"
"$ECOMON" assess aqi --mode hourly <"$tmp/in.csv" >"$tmp/out.csv" 2>"$tmp/err.txt" || fail "exit status $?"
rows_in=$(($(wc -l <"$tmp/in.csv") - 1))
rows_out=$(($(wc -l <"$tmp/out.csv") - 1))
[ "$rows_in" -eq 17287 ] || fail "input has $rows_in rows"
[ "$rows_in" -eq "$rows_out" ] || fail "$rows_in rows in, $rows_out out"
[ ! -s "$tmp/err.txt" ] || fail "messages: $(head -3 "$tmp/err.txt")"
python3 - "$tmp/out.csv" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
cats = [(50, "I", "优"), (100, "II", "良"), (150, "III", "轻度污染"), (200, "IV", "中度污染"),
        (300, "V", "重度污染"), (10**9, "VI", "严重污染")]
items = ["so2", "no2", "co", "o3", "pm10", "pm25"]
names = {"so2": "SO2", "no2": "NO2", "co": "CO", "o3": "O3", "pm10": "PM10", "pm25": "PM2.5"}
complete = na_complete = with_aqi = 0
for i, r in enumerate(rows, 2):
    assert r["standard"] == "HJ633-2012", (i, r["standard"])
    assert r["error"] == "", (i, r["error"])
    present = [k for k in items if r[k].strip()]
    if len(present) == len(items):
        complete += 1
        if r["aqi"] == "NA":
            na_complete += 1
    if r["aqi"] == "NA":
        assert not present, (i, "NA with items present under HJ 633-2012", r)
        continue
    with_aqi += 1
    aqi = int(r["aqi"])
    lvl = next(c for c in cats if aqi <= c[0])
    assert (r["level"], r["category"]) == (lvl[1], lvl[2]), (i, r)
    subs = {k: int(r["iaqi_" + k]) for k in present}
    assert aqi == max(subs.values()), (i, "AQI is not the max IAQI", r)
    primary = set(r["primary_pollutants"].split(";")) - {""}
    want = {names[k] for k, v in subs.items() if v == aqi} if aqi > 50 else set()
    assert primary == want, (i, primary, want)
    exceeding = set(r["exceeding_pollutants"].split(";")) - {""}
    assert exceeding == {names[k] for k, v in subs.items() if v > 100}, (i, r)
assert na_complete == 0, f"{na_complete} complete rows got NA"
assert complete > 13000, complete
print(f"cli_assess_aqi: {len(rows)} rows, {complete} complete, {with_aqi} with an AQI: ok")
PY
# A hand-checked row: 广元 黑石坡 (2523A) 2020-03-26 18:00 — PM2.5 90 → 118.75 → 119, PM10 180 → 115.
grep '^2020-03-26T18:00:00+08:00,广元,2523A,' "$tmp/out.csv" | grep -q ',119,III,轻度污染,PM2.5,PM10;PM2.5,' \
  || fail "2523A 2020-03-26 18:00: $(grep '^2020-03-26T18:00:00+08:00,广元,2523A,' "$tmp/out.csv")"

# Errors name the row and the column; the other rows continue.
printf 'time,pm25\n2026-06-01T12:00:00+08:00,abc\n2026-06-01T13:00:00+08:00,40\n' |
  "$ECOMON" assess aqi --mode hourly >"$tmp/o2.csv" 2>"$tmp/e2.txt"
grep -q 'line 2' "$tmp/e2.txt" && grep -q 'column pm25' "$tmp/e2.txt" || fail "error message: $(cat "$tmp/e2.txt")"
[ "$(sed -n 3p "$tmp/o2.csv" | cut -d, -f3)" = "NA" ] || fail "row after a bad row: $(sed -n 3p "$tmp/o2.csv")"
"$ECOMON" assess aqi </dev/null >/dev/null 2>&1 && fail "--mode is required"
"$ECOMON" assess aqi --mode daily --standard HJ633-2099 </dev/null >/dev/null 2>&1 && fail "unknown standard accepted"
echo ok
