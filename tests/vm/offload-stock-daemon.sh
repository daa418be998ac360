#!/bin/bash
# Issue 6 compatibility: Debian's stock rtpengine 10.5 daemon (/usr/bin/rtpengine,
# package rtpengine-daemon) drives OUR xt_RTPENGINE module: one call kernelized.
set -u
. "$(dirname "$0")/offload-common.inc"
[ -x /usr/bin/rtpengine ] || { echo "not ok - /usr/bin/rtpengine missing: apt-get install rtpengine-daemon"; exit 1; }
DAEMON=/usr/bin/rtpengine
net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines" \
    && { echo "not ok - this test is for our module, the stock one is installed"; exit 1; }
iptables_setup
daemon_start
check "stock daemon created table 0 on our module" test -e /proc/rtpengine/0/control
kernel_call s1
daemon_stop
finish
