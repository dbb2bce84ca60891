#!/usr/bin/env bash
# The layer check accepts src/ and rejects an include that points up, one that points sideways,
# and a socket header in a pure folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python3 "$root/scripts/check_layers.py" "$root/src" >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/core" "$tmp/src/protocol/hj212" "$tmp/src/ingest" "$tmp/src/derive"
echo '#include "protocol/hj212/frame.h"' >"$tmp/src/core/up.h"
echo '#include "derive/x.h"' >"$tmp/src/ingest/sideways.cpp"
echo '#include <boost/asio.hpp>' >"$tmp/src/protocol/hj212/impure.cpp"
echo '#include "core/result.h"' >"$tmp/src/derive/fine.h"
if out=$(python3 "$root/scripts/check_layers.py" "$tmp/src" 2>&1); then
  echo "FAIL: violations accepted"; exit 1
fi
for want in "core/up.h:1" "ingest/sideways.cpp:1" "protocol/hj212/impure.cpp:1"; do
  grep -q "$want" <<<"$out" || { echo "FAIL: $want not reported"; echo "$out"; exit 1; }
done
! grep -q "derive/fine.h" <<<"$out" || { echo "FAIL: a legal include was reported"; exit 1; }
echo "layers: ok"
