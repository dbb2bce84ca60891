#!/usr/bin/env bash
# `ecomon assess water` over the real CNEMC automatic-station snapshot of 2026-02-04
# (data/water_cn_auto_snapshot_2026-02-04, 1,156 stations): every row evaluated without error,
# a class wherever a class item is present, the status consistent with the class, and Guangyuan
# sections checked by hand against GB 3838-2002 表1.
set -euo pipefail
: "${ECOMON:?path to the ecomon binary}" "${DATA:?path to data/}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dir="$DATA/water_cn_auto_snapshot_2026-02-04"

# The snapshot's columns renamed to the assess columns; only the header line changes.
rename() {
  { head -1 "$1" | sed -e 's/\bdo_mgl\b/do/' -e 's/\bcodmn_mgl\b/codmn/' -e 's/\bnh3n_mgl\b/nh3n/' \
      -e 's/\btp_mgl\b/tp/' -e 's/\btn_mgl\b/tn/' -e 's/\bwater_temp_c\b/water_temp/'
    tail -n +2 "$1"; } >"$2"
}
rename "$dir/surface_water_auto_snapshot_2026-02-04.csv" "$tmp/in.csv"
head -1 "$tmp/in.csv" | grep -q ',ph,do,' || fail "header not mapped: $(head -1 "$tmp/in.csv")"

status=0
"$ECOMON" assess water --waterbody river <"$tmp/in.csv" >"$tmp/out.csv" 2>"$tmp/err.txt" || status=$?
[ "$status" -eq 0 ] || fail "exit status $status: $(head -3 "$tmp/err.txt")"
rows_in=$(($(wc -l <"$tmp/in.csv") - 1))
rows_out=$(($(wc -l <"$tmp/out.csv") - 1))
[ "$rows_in" -eq 1156 ] || fail "input has $rows_in rows"
[ "$rows_in" -eq "$rows_out" ] || fail "$rows_in rows in, $rows_out out"
[ ! -s "$tmp/err.txt" ] || fail "messages: $(head -3 "$tmp/err.txt")"

# Per row (the data has no quoted fields, so splitting on commas is exact): no error; a class
# when one of the class items the stations measure is present, none otherwise; the 2011
# method's status of that class.
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    if ($col["error"] != "") { print "line " NR ": error " $col["error"]; bad++ }
    present = $col["ph"] != "" || $col["do"] != "" || $col["codmn"] != "" || $col["nh3n"] != "" || $col["tp"] != ""
    c = $col["class"]; s = $col["status"]
    if (present && c == "") { print "line " NR ": no class"; bad++ }
    if (!present && c != "") { print "line " NR ": class " c " without a class item"; bad++ }
    want = c == "I" || c == "II" ? "优" : c == "III" ? "良好" : c == "IV" ? "轻度污染" : c == "V" ? "中度污染" : c == "劣V" ? "重度污染" : ""
    if (s != want) { print "line " NR ": class " c " with status " s; bad++ }
    if ($col["class_tn"] != "") { print "line " NR ": a river TN got a class"; bad++ }
    if ($col["class_water_temp"] != "") { print "line " NR ": water temperature got a class"; bad++ }
    if (c == "I" || c == "II" || c == "III") { if ($col["main_pollutants"] != "") { print "line " NR ": main pollutant of a class " c " section"; bad++ } }
    else if (c != "" && $col["main_pollutants"] == "") { print "line " NR ": class " c " without main pollutant"; bad++ }
    n++; if (c != "") classed++
  }
  END {
    if (bad) exit 1
    if (n != 1156 || classed != 1145) { print n " rows, " classed " classed (expected 1156, 1145)"; exit 1 }
  }' "$tmp/out.csv" || fail "row checks"

# Hand-checked against GB 3838-2002 表1 (rivers):
# 上石盘 pH 8.12 (6–9: I), DO 12.22 (≥ 7.5: I), CODMn 1.09 (≤ 2: I), NH3-N 0.017 (≤ 0.15: I),
#   TP 0.013 (≤ 0.02: I) → I, 优.
# 沙溪 DO 7.44 (6 ≤ 7.44 < 7.5: II), all else I (pH 8.05, CODMn 1.71, NH3-N 0.016, TP 0.012)
#   → II, 优.
# 姚渡 TP 0.227 (0.2 < 0.227 ≤ 0.3: IV), all else I → IV, 轻度污染; TP (0.227 − 0.2)/0.2 = 0.135.
# Fields after the input: class,status,main_pollutants,exceedance_multiples,class_<item>...
check() {  # section, expected "class,status,main_pollutants,exceedance_multiples"
  local got
  got=$(awk -F, -v name="$1" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    $col["section_name"] == name && $col["province"] == "四川省" {
      print $col["class"] "," $col["status"] "," $col["main_pollutants"] "," $col["exceedance_multiples"] }' "$2")
  [ "$got" = "$3" ] || fail "$1: got '$got', want '$3'"
}
check 上石盘 "$tmp/out.csv" "I,优,,"
check 沙溪 "$tmp/out.csv" "II,优,,"
check 姚渡 "$tmp/out.csv" "IV,轻度污染,tp,tp:0.135"

# 升钟水库铁炉寺 is a reservoir: as a lake (the waterbody option) DO 7.50 is exactly the class I
# limit (I), CODMn 2.64 (2 < 2.64 ≤ 4: II), TP 0.016 (lake row 0.01 < 0.016 ≤ 0.025: II) → II;
# TN 2.14 (lake row > 2.0) is 劣V, reported separately and not in the class.
rename "$dir/guangyuan_sections_snapshot_2026-02-04.csv" "$tmp/gy.csv"
"$ECOMON" assess water --waterbody lake <"$tmp/gy.csv" >"$tmp/gy_out.csv" 2>"$tmp/gy_err.txt" ||
  fail "guangyuan: exit status $?"
[ ! -s "$tmp/gy_err.txt" ] || fail "guangyuan messages: $(head -3 "$tmp/gy_err.txt")"
got=$(awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  $col["section_name"] == "升钟水库铁炉寺" {
    print $col["class"] "," $col["status"] "," $col["class_do"] "," $col["class_tp"] "," $col["class_tn"] }' "$tmp/gy_out.csv")
[ "$got" = "II,优,I,II,劣V" ] || fail "升钟水库铁炉寺 as a lake: got '$got'"

echo "cli_assess_water: ok ($rows_out rows)"
