#!/bin/bash
# Guest side of stock-sanity.sh: the stock 10.5 module under the fuzzer, single-threaded.
insmod "${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}" || exit 1
echo "# stock 10.5 module loaded; fuzzing seed ${1:-9}"
rtpe-kfuzz --seed "${1:-9}" --ops "${2:-20000}" --no-threads | tail -n 8
