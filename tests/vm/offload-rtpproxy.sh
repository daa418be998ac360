#!/bin/bash
# Issue 17: a call set up over the rtpproxy protocol (--listen-udp, the commands
# Kamailio's rtpproxy module sends: U, L, D) is offloaded to xt_RTPENGINE like an ng
# call. Endpoints in netns A (10.0.1.2) and B (10.0.2.2), rtpengined in the root
# namespace on 10.0.1.1, control over loopback.
set -u
. "$(dirname "$0")/offload-common.inc"

net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup
RP=22222
daemon_start --listen-udp=127.0.0.1:$RP --timeout=20

# wait_for SECONDS CMD...: until CMD succeeds (polled every 0.2 s).
wait_for() {
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do [ $SECONDS -ge $end ] && return 1; sleep 0.2; done
}

# U: the caller A's address; the reply's port is where B sends. L: the callee B's
# address; its port is where A sends.
u=$(python3 "$L" rtpproxy $RP U rp1 10.0.1.2 4000 "fa;1" 2>&1) || nok "U" "$u"
l=$(python3 "$L" rtpproxy $RP L rp1 10.0.2.2 5000 "fa;1" "tb;1" 2>&1) || nok "L" "$l"
PB=$(awk '{print $1}' <<<"$u"); PA=$(awk '{print $1}' <<<"$l")
check "U and L answer ports ($u / $l)" [ -n "$PA" ] && [ -n "$PB" ] && [ "$PA" != "$PB" ]
socket_counter_rules "$PA" "$PB"
endpoint A a 10.0.1.2 4000 "$PA" 15
endpoint B b 10.0.2.2 5000 "$PB" 15
targets() {
    has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB" \
        "dst inet4 10.0.2.2:5000" "dst inet4 10.0.1.2:4000"
}
if wait_for 12 targets; then ok "both RTP streams of the rtpproxy call in /proc/rtpengine/0/list"
else nok "rtpproxy call kernelized" "$(cat /proc/rtpengine/0/list | head -20 | tr '\n' ' ')"; fi
c1=$(socket_count); sleep 1; c2=$(socket_count)
check "daemon sockets see no packets once kernelized ($c1 -> $c2)" [ "$c1" = "$c2" ]
q=$(python3 "$L" query 2223 rp1)
check "ng query flags the rtpproxy call's RTP streams kernelized" \
    has_all "$(grep kernelized <<<"$q" | awk '{print $1}')" "$PA" "$PB"
wait_endpoints
check_received a "10.0.1.1:$PA"
check_received b "10.0.1.1:$PB"
d=$(python3 "$L" rtpproxy $RP D rp1 fa 2>&1)
check "D answers 0 ($d)" [ "$d" = 0 ]
no_targets() { lacks "$(cat /proc/rtpengine/0/list)" "local "; }
check "D removes the targets" wait_for 10 no_targets
daemon_stop
iptables_teardown
finish
