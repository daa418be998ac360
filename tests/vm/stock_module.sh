#!/bin/bash
# Differential: the forwarding, SRTP and recording suites against Debian's stock rtpengine 10.5
# module, driven through our shared ABI definitions (binary compatibility), with the
# checks where we deliberately differ expecting 10.5's behaviour.
set -u
kver=$(uname -r)
stock=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
[ -f "$stock" ] || { echo "not ok - stock 10.5 module built: $stock missing"; exit 1; }
cp "$stock" /lib/modules/$kver/extra/xt_RTPENGINE.ko && depmod -a "$kver"
modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines" && echo "ok - stock 10.5 module installed" \
    || { echo "not ok - stock 10.5 module installed"; exit 1; }
rc=0
RTPE_STOCK=1 rtpe-vmtest forward || rc=1
ip netns del A; ip netns del B; ip link del va 2>/dev/null; ip link del vb 2>/dev/null
RTPE_STOCK=1 rtpe-vmtest srtp || rc=1
ip netns del A; ip netns del B; ip link del va 2>/dev/null; ip link del vb 2>/dev/null
RTPE_STOCK=1 rtpe-vmtest recording || rc=1
exit $rc
