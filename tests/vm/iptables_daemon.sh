#!/bin/bash
# Issue 6d: rtpengined installs its own iptables/ip6tables rules with
# --kernel-iptables-chain=NAME (chain NAME, `-p udp -j NAME` at the top of INPUT,
# `-p udp -j RTPENGINE --id N` in NAME) and removes them on SIGTERM, except with
# --kernel-adopt, where the kernel goes on forwarding after the daemon stops.
# Phases: install + a kernelized call through those rules alone, SIGTERM removes them;
# SIGKILL leaves them and a restart adds no copy; duplicates left by hand are reduced;
# a chain shared with another table stays; --kernel-adopt keeps rules and media through
# a stop; no rules without a kernel table; ip6tables missing; a start failing after the
# rules were installed (pidfile, ng port) removes them; the RTPENGINE extension missing
# (error undone, fatal with --no-fallback).
set -u
. "$(dirname "$0")/offload-common.inc"
PASSES=0
ok() { echo "ok - $1"; PASSES=$((PASSES + 1)); }
CH=rtpe-own
PROGS="iptables ip6tables"

# count PROG CHAIN LINE: how often LINE appears in `PROG -S CHAIN`.
count() { "$1" -w -S "$2" 2>/dev/null | grep -cxF -- "$3"; }
jump_first() { [ "$("$1" -w -S INPUT | grep -m1 '^-A ')" = "-A INPUT -p udp -j $CH" ]; }
no_chain() { ! "$1" -w -S "$2" >/dev/null 2>&1; }
# installed LABEL TABLE [PROGS]: exactly one rule, one jump, the jump first in INPUT.
installed() {
    local label=$1 t=$2 p
    for p in ${3:-$PROGS}; do
        check "$label: $p: one '-j RTPENGINE --id $t' in $CH" \
            [ "$(count "$p" "$CH" "-A $CH -p udp -j RTPENGINE --id $t")" = 1 ]
        check "$label: $p: one jump to $CH in INPUT" \
            [ "$(count "$p" INPUT "-A INPUT -p udp -j $CH")" = 1 ]
        check "$label: $p: the jump is the first INPUT rule" jump_first "$p"
    done
}
removed() {
    local label=$1 p
    for p in ${2:-$PROGS}; do
        check "$label: $p: chain $CH gone" no_chain "$p" "$CH"
        check "$label: $p: no jump to $CH left in INPUT" \
            [ "$(count "$p" INPUT "-A INPUT -p udp -j $CH")" = 0 ]
    done
}
other_rules_intact() {
    local p
    for p in $PROGS; do
        check "$1: $p: the unrelated INPUT rule is untouched" \
            [ "$(count "$p" INPUT "-A INPUT -p tcp -m tcp --dport 9 -j ACCEPT")" = 1 ]
    done
}

net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
for p in $PROGS; do "$p" -w -A INPUT -p tcp --dport 9 -j ACCEPT; done
# Neither rtpengine-rs-setup nor iptables_setup: the daemon's rules alone.

# --- install, a call through them, SIGTERM removes them --------------------------------
daemon_start --kernel-iptables-chain=$CH --timeout=4
check "log says the rules are installed" grep -q "iptables rules installed" "$LOG"
installed "start" 0
other_rules_intact "start"
kernel_call c1
daemon_stop
removed "SIGTERM"
other_rules_intact "SIGTERM"
check "log says the rules were removed" grep -q "iptables rules removed" "$LOG"

# --- SIGKILL leaves them; the next start adds no second copy ---------------------------
daemon_start --kernel-iptables-chain=$CH
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
installed "after SIGKILL" 0
daemon_start --kernel-iptables-chain=$CH
installed "restart after SIGKILL" 0
daemon_stop
removed "SIGTERM after the restart"

# --- copies left by hand are reduced to one --------------------------------------------
for p in $PROGS; do
    "$p" -w -N $CH
    for _ in 1 2 3; do
        "$p" -w -I INPUT -p udp -j $CH
        "$p" -w -A $CH -p udp -j RTPENGINE --id 0
    done
done
daemon_start --kernel-iptables-chain=$CH
installed "duplicates" 0
daemon_stop
removed "duplicates, SIGTERM"

# --- a chain shared with another table stays -------------------------------------------
echo "add 1" >/proc/rtpengine/control
for p in $PROGS; do
    "$p" -w -N $CH
    "$p" -w -I INPUT -p udp -j $CH
    "$p" -w -A $CH -p udp -j RTPENGINE --id 1
done
daemon_start --kernel-iptables-chain=$CH
for p in $PROGS; do
    check "shared chain: $p: our rule added next to table 1's" \
        [ "$(count "$p" $CH "-A $CH -p udp -j RTPENGINE --id 0")" = 1 \
        -a "$(count "$p" $CH "-A $CH -p udp -j RTPENGINE --id 1")" = 1 ]
done
daemon_stop
for p in $PROGS; do
    check "shared chain, SIGTERM: $p: only our rule removed, chain and jump stay" \
        [ "$(count "$p" $CH "-A $CH -p udp -j RTPENGINE --id 0")" = 0 \
        -a "$(count "$p" $CH "-A $CH -p udp -j RTPENGINE --id 1")" = 1 \
        -a "$(count "$p" INPUT "-A INPUT -p udp -j $CH")" = 1 ]
    "$p" -w -D INPUT -p udp -j $CH; "$p" -w -F $CH; "$p" -w -X $CH
done
echo "del 1" >/proc/rtpengine/control

# --- --kernel-adopt: rules and media survive a stop ------------------------------------
daemon_start --kernel-adopt --kernel-iptables-chain=$CH --timeout=4
installed "--kernel-adopt start" 0
call c2 4000 5000 || nok "offer/answer (adopt)" "$CALL_ERR"
# Long enough to outlast the stop, the checks (slow under TCG) and the restart.
endpoint A a2 10.0.1.2 4000 "$PA" 30
endpoint B b2 10.0.2.2 5000 "$PB" 30
sleep 6
check "--kernel-adopt: both streams kernelized" \
    has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
daemon_stop
r1=$(progress a2); sleep 3; r2=$(progress a2)
check "kernel forwards through the kept rules while the daemon is down ($r1 -> $r2 received)" \
    [ "$r2" -ge $((r1 + 75)) ]
installed "--kernel-adopt, SIGTERM keeps the rules" 0
check "log says the rules were left in place" grep -q "iptables rules left in place" "$LOG"
daemon_start --kernel-adopt --kernel-iptables-chain=$CH --timeout=4
installed "--kernel-adopt restart" 0
wait_endpoints
check_received a2 "10.0.1.1:$PA"
check_received b2 "10.0.1.1:$PB"
daemon_stop
installed "--kernel-adopt, second SIGTERM" 0
daemon_start --kernel-iptables-chain=$CH
daemon_stop
removed "start and SIGTERM without --kernel-adopt"

# --- no kernel table, no rules ----------------------------------------------------------
daemon_start --kernel-iptables-chain=$CH --table=-1
for p in $PROGS; do check "--table=-1: $p: no chain created" no_chain "$p" $CH; done
daemon_stop

# --- ip6tables missing: a warning, IPv4 rules only --------------------------------------
mkdir -p /tmp/v4only && ln -sf "$(command -v iptables)" /tmp/v4only/iptables
SAVED_DAEMON=$DAEMON
DAEMON="env PATH=/tmp/v4only $SAVED_DAEMON"
daemon_start --kernel-iptables-chain=$CH
check "ip6tables missing: warned" grep -q "ip6tables not found" "$LOG"
installed "ip6tables missing" 0 iptables
check "ip6tables missing: no ip6tables chain" no_chain ip6tables $CH
daemon_stop
removed "ip6tables missing, SIGTERM" iptables
DAEMON=$SAVED_DAEMON

# --- a start that fails after installing the rules leaves none behind --------------------
# failed_start LABEL EXPECTED_LOG ARGS...: the daemon exits != 0 saying why, no rules left.
failed_start() {
    local label=$1 why=$2 out rc; shift 2
    out=$(timeout 20 $DAEMON --config-file=none --interface=10.0.1.1 --foreground --log-stderr \
        --table=0 --kernel-iptables-chain=$CH "$@" 2>&1); rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "iptables rules installed" <<<"$out" &&
        grep -q "$why" <<<"$out"; then
        ok "$label: exit $rc after installing the rules ($why)"
    else
        nok "$label" "rc=$rc: $out"
    fi
    removed "$label: nothing left behind"
}
failed_start "pidfile not writable" "cannot write pidfile" --listen-ng=127.0.0.1:2223 \
    --pidfile=/nonexistent/rtpengined.pid
python3 -c 'import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 2299)); time.sleep(30)' &
BUSY=$!
for _ in $(seq 1 50); do ss -Hun state all 'sport = :2299' | grep -q . && break; sleep 0.2; done
failed_start "ng port in use" "cannot listen for ng" --listen-ng=127.0.0.1:2299
kill $BUSY; wait $BUSY 2>/dev/null

# --- the RTPENGINE extension missing: undone; fatal with --no-fallback -------------------
exts=()
for d in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/xtables; do
    [ -f "$d/libxt_RTPENGINE.so" ] && mv "$d/libxt_RTPENGINE.so" "$d/libxt_RTPENGINE.so.off" && exts+=("$d")
done
out=$($DAEMON --config-file=none --interface=10.0.1.1 --listen-ng=127.0.0.1:2223 --foreground \
    --log-stderr --table=0 --no-fallback --kernel-iptables-chain=$CH 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot install the iptables rules and --no-fallback given" <<<"$out" &&
    grep -q "libxt_RTPENGINE.so" <<<"$out"; then
    ok "extension missing + --no-fallback: exit $rc with the reason"
else
    nok "extension missing + --no-fallback" "rc=$rc: $out"
fi
removed "extension missing + --no-fallback: nothing left behind"
daemon_start --kernel-iptables-chain=$CH
check "extension missing: error logged, daemon runs" grep -q "cannot install the iptables rules" "$LOG"
removed "extension missing: nothing left behind"
daemon_stop
for d in "${exts[@]}"; do mv "$d/libxt_RTPENGINE.so.off" "$d/libxt_RTPENGINE.so"; done

echo "iptables_daemon: $PASSES passed, $FAILS failed"
finish
