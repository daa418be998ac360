#!/bin/bash
# Issue 6 compatibility: our rtpengined drives Debian's stock rtpengine 10.5 module.
# Run with RTPE_VM_KO=stock (scripts/vm-run installs the stock module instead of ours).
set -u
. "$(dirname "$0")/offload-common.sh"
net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines" \
    || { echo "not ok - stock 10.5 module not installed (run with RTPE_VM_KO=stock)"; exit 1; }
iptables_setup
daemon_start
check "rtpengined set up table 0 on the stock module" grep -q "kernel forwarding enabled" "$LOG"
kernel_call k1
daemon_stop
finish
