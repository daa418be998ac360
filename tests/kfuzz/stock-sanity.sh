#!/usr/bin/env bash
# Sanity check of the fuzzer itself (issue 9): run rtpe-kfuzz against Debian's stock
# rtpengine 10.5 module in the VM. The stock module oopses on a read()-executed
# GET_STATS whose address has an invalid family; the fuzzer must find that, so this
# passes when the VM reports a kernel crash. Usage: tests/kfuzz/stock-sanity.sh [SEED] [OPS]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/scripts/build-stock-module" >/dev/null || { echo "not ok - stock module build"; exit 1; }
(cd "$root" && cargo build --release -p rtpe-kfuzz --quiet) || exit 1
out=$(RTPE_VM_NO_BUILD=1 RTPE_VM_TIMEOUT=600 "$root/scripts/vm-run" "$root/tests/kfuzz/stock-guest.sh" "${1:-9}" "${2:-20000}" 2>&1)
rc=$?
echo "$out" | grep -E "^(kfuzz|BUG|RIP|#)" | head -n 12
if [ $rc = 99 ] && echo "$out" | grep -q "find_dest_addr"; then
    echo "ok - kfuzz crashes the stock 10.5 module (find_dest_addr, the GET_STATS family bug)"
else
    echo "not ok - kfuzz did not crash the stock 10.5 module (vm-run exit $rc)"
    exit 1
fi
