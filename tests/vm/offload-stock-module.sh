#!/bin/bash
# Issue 6 compatibility: our rtpengined drives Debian's stock rtpengine 10.5 module.
# Installs the stock module built by scripts/build-stock-module (as stock_module.sh),
# unless the VM already runs it (RTPE_VM_KO=stock).
set -u
. "$(dirname "$0")/offload-common.inc"
is_stock() { modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines"; }
if ! is_stock; then
    stock=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
    [ -f "$stock" ] || { echo "not ok - stock 10.5 module built: $stock missing (scripts/build-stock-module)"; exit 1; }
    cp "$stock" "/lib/modules/$(uname -r)/extra/xt_RTPENGINE.ko" && depmod -a "$(uname -r)"
fi
is_stock || { echo "not ok - stock 10.5 module installed"; exit 1; }
net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup
daemon_start
check "rtpengined set up table 0 on the stock module" grep -q "kernel forwarding enabled" "$LOG"
kernel_call k1
daemon_stop
finish
