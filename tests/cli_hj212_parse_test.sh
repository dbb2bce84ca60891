#!/usr/bin/env bash
# `ecomon hj212 parse` as users run it: the real binary, real files, stdin, exit codes.
set -euo pipefail
: "${ECOMON:?path to the ecomon binary}" "${TESTDATA:?path to testdata}"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# One JSON object per input line, for every corpus file (comment lines included).
for f in "$TESTDATA"/hj212/corpus/*.txt; do
  in=$(wc -l <"$f")
  out=$("$ECOMON" hj212 parse "$f" | wc -l)
  [ "$in" -eq "$out" ] || fail "$f: $in lines in, $out objects out"
done

# Every valid frame is ok:true; every frame of the reject files is ok:false.
valid="$TESTDATA/hj212/corpus/valid-2017.txt"
[ "$("$ECOMON" hj212 parse "$valid" | grep -c '"ok":false' || true)" -eq 0 ] || fail "valid-2017 rejected"
n_frames=$(grep -c '^##' "$TESTDATA/hj212/corpus/crc-mismatch.txt")
n_bad=$("$ECOMON" hj212 parse "$TESTDATA/hj212/corpus/crc-mismatch.txt" | grep -c '"ok":false')
# comment lines are rejected too (they are not frames): frames + comments = lines
[ "$n_bad" -eq "$(wc -l <"$TESTDATA/hj212/corpus/crc-mismatch.txt")" ] || fail "crc-mismatch: $n_bad rejections for $n_frames frames"

# The exact shape of a good frame (issue #2 §3), from stdin, CR LF optional.
line='##0285QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-Flag=N;a34048-Avg=3.30600,a34048-Flag=N;a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10.66300,a34049-Flag=N&&C181'
got=$(printf '%s\r\n' "$line" | "$ECOMON" hj212 parse)
want='{"ok":true,"version":2017,"qn":"20190925181031464","st":"22","cn":"2061","pw":"BF470F88957588DE902D1A52","mn":"Z13401000010301","flag":5,"ack_requested":true,"pnum":null,"pno":null,"datatime":"2019-09-24T22:00:00+08:00","items":[{"factor":"a34006","factor_2017":"a34006","field":"Avg","value":2.697,"flag":"N"},{"factor":"a34007","factor_2017":"a34007","field":"Avg","value":7.966,"flag":"N"},{"factor":"a34048","factor_2017":"a34048","field":"Avg","value":3.306,"flag":"N"},{"factor":"a34047","factor_2017":"a34047","field":"Avg","value":7.357,"flag":"N"},{"factor":"a34049","factor_2017":"a34049","field":"Avg","value":10.663,"flag":"N"}],"params":{},"rf":null,"encrypted":false,"warnings":[]}'
[ "$got" = "$want" ] || fail "good frame: got $got"

# A 2005 frame: no QN, no Flag, old codes mapped, a factor without flag.
got=$(printf '%s\n' '##0139ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980' | "$ECOMON" hj212 parse)
case "$got" in
  *'"version":2005,"qn":null,'*'"flag":null,"ack_requested":false,'*'"datatime":"2016-08-24T00:38:17+08:00"'*'{"factor":"B01","factor_2017":"w00000","field":"Rtd","value":36.91,"flag":null}'*'{"factor":"011","factor_2017":"w01018","field":"Rtd","value":231,"flag":"N"}'*) ;;
  *) fail "2005 frame: $got" ;;
esac

# A bad frame names its reason.
got=$(printf '%s\n' '##0136ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817;B01-Rtd=36.91;011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&4980' | "$ECOMON" hj212 parse)
case "$got" in
  '{"ok":false,"reason":"bad_crc","detail":"CRC field 4980 but the hj212 CRC of the data segment is 3C00"}') ;;
  *) fail "bad crc: $got" ;;
esac

# --crc modbus accepts the loggers that use CRC-16/MODBUS.
sed -n 2p "$TESTDATA/hj212/corpus/crc-mismatch.txt" >"$tmp/modbus.txt"
"$ECOMON" hj212 parse "$tmp/modbus.txt" | grep -q '"reason":"bad_crc"' || fail "modbus frame accepted in hj212 mode"
"$ECOMON" hj212 parse --crc modbus "$tmp/modbus.txt" | grep -q '"ok":true' || fail "--crc modbus"

# --sm4-key decrypts the HJ 212-2025 "{0x..}" wire form (appendix A.2, key 16 × '0').
seg='QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&{0xE4,0x3E,0x15,0x9A,0xCF,0xAB,0x24,0x2C,0xB5,0x31,0x55,0xFB,0x8B,0x92,0x81,0xA1}5,a01011-Avg=1.35&&'
frame="##0234${seg}B541"
printf '%s\n' "$frame" | "$ECOMON" hj212 parse --sm4-key 30303030303030303030303030303030 >"$tmp/sm4.json"
grep -q '"ok":false' "$tmp/sm4.json" || fail "a truncated ciphertext frame was accepted"

# Exit status: 0 for bad frames, 2 for an unreadable input; a bad option is refused.
printf 'garbage\n' | "$ECOMON" hj212 parse >/dev/null || fail "exit status on bad frames"
set +e
"$ECOMON" hj212 parse "$tmp/does-not-exist" >/dev/null 2>&1; st=$?
"$ECOMON" hj212 parse --sm4-key 12 </dev/null >/dev/null 2>&1; st2=$?
set -e
[ "$st" -eq 2 ] || fail "missing file: exit $st"
[ "$st2" -ne 0 ] || fail "bad --sm4-key accepted"
echo "cli_hj212_parse: ok"
