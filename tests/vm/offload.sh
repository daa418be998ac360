#!/bin/bash
# Issue 6: rtpengined drives xt_RTPENGINE. Endpoints in netns A (10.0.1.2) and B
# (10.0.2.2), rtpengined in the root namespace on 10.0.1.1, ng over loopback.
# Phases: kernelized call (targets, sockets idle, query counts, re-INVITE, delete);
# SIGKILL mid-call with --kernel-adopt (media keeps flowing; with --state-dir the call
# is restored and managed again, without it idle adopted targets expire); without the module (userspace fallback, --no-fallback fails clearly).
set -u
. "$(dirname "$0")/offload-common.inc"

net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup

# --- phase 1: a kernelized call -------------------------------------------------
# --timeout=6: only the kernel's counters keep the call alive once it is offloaded.
daemon_start --timeout=6
check "daemon enabled kernel forwarding" grep -q "kernel forwarding enabled" "$LOG"
call c1 4000 5000 || { echo "not ok - offer/answer: $CALL_ERR"; exit 1; }
# Packets that reach a socket pass these (kernel-forwarded ones are consumed before).
socket_counter_rules "$PA" "$PB"
endpoint A a1 10.0.1.2 4000 "$PA" 12
endpoint B b1 10.0.2.2 5000 "$PB" 12
sleep 6
list=$(cat /proc/rtpengine/0/list)
check "both RTP streams in /proc/rtpengine/0/list after learning" \
    has_all "$list" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB" \
    "expect inet4 10.0.1.2:4000" "dst inet4 10.0.2.2:5000" "dst inet4 10.0.1.2:4000"
c1=$(socket_count); sleep 2; c2=$(socket_count)
check "daemon sockets see no packets once kernelized ($c1 -> $c2)" [ "$c1" = "$c2" ]
q=$(python3 "$L" query 2223 c1)
check "kernel-forwarded call outlives --timeout=6 (blist refreshes last packet)" grep -q kernelized <<<"$q"
qa=$(awk -v p="$PA" '$1==p' <<<"$q"); qb=$(awk -v p="$PB" '$1==p' <<<"$q")
check "query flags both RTP streams kernelized" has_all "$q" "$PA " "$PB "
check "query: stream $PA flagged kernelized ($qa)" grep -q kernelized <<<"$qa"
check "query: stream $PB flagged kernelized ($qb)" grep -q kernelized <<<"$qb"
ua=$(socket_count_port "$PA")
check "query counts kernel-forwarded packets (query $(awk '{print $2}' <<<"$qa") > socket $ua + 100)" \
    [ "$(awk '{print $2}' <<<"$qa")" -gt $((ua + 100)) ]
wait_endpoints
check_received a1 "10.0.1.1:$PA"
check_received b1 "10.0.1.1:$PB"

# Re-INVITE: A moves to port 4002; the kernel must follow.
call c1 4002 5000 || nok "re-INVITE offer/answer" "$CALL_ERR"
endpoint A a2 10.0.1.2 4002 "$PA" 10
endpoint B b2 10.0.2.2 5000 "$PB" 10
sleep 6
list=$(cat /proc/rtpengine/0/list)
check "re-INVITE: target now expects and sends to the moved endpoint" \
    has_all "$list" "expect inet4 10.0.1.2:4002" "dst inet4 10.0.1.2:4002"
check "re-INVITE: old endpoint gone from the table" lacks "$list" "10.0.1.2:4000"
wait_endpoints
check_received a2 "10.0.1.1:$PA"
python3 "$L" ng 2223 delete c1 ta >/dev/null
sleep 0.5
check "delete removes the targets" lacks "$(cat /proc/rtpengine/0/list)" "local "

# NAT: B stays silent while A's stream is kernelized towards B's SDP port 5000, then
# sends from 5010; the kernel must follow the learned address.
call c5 4000 5000 || nok "offer/answer (NAT)" "$CALL_ERR"
endpoint A a6 10.0.1.2 4000 "$PA" 16
sleep 5
check "one-way stream kernelized towards the SDP address" \
    has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "dst inet4 10.0.2.2:5000"
endpoint B b6 10.0.2.2 5010 "$PB" 6
sleep 4
list=$(cat /proc/rtpengine/0/list)
check "learned peer replaces the SDP address in the kernel target" \
    has_all "$list" "dst inet4 10.0.2.2:5010" "expect inet4 10.0.2.2:5010"
check "no target sends to the unused SDP address any more" lacks "$list" "dst inet4 10.0.2.2:5000"
wait_endpoints
check_received b6 "10.0.1.1:$PB"
python3 "$L" ng 2223 delete c5 ta >/dev/null

# --- phase 2: SIGKILL mid-call, restart with --kernel-adopt and --state-dir ------
daemon_stop
STATE=/tmp/rtpe-state
daemon_start --kernel-adopt --state-dir=$STATE --timeout=6
call c2 4000 5000 || nok "offer/answer (adopt phase)" "$CALL_ERR"
endpoint A a3 10.0.1.2 4000 "$PA" 30
endpoint B b3 10.0.2.2 5000 "$PB" 30
sleep 6
check "targets installed before the kill" has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA"
check "call state saved in --state-dir" sh -c "ls $STATE/*.call"
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
r1=$(progress a3); sleep 3; r2=$(progress a3)
check "kernel keeps forwarding while the daemon is dead ($r1 -> $r2 received)" [ "$r2" -ge $((r1 + 75)) ]
daemon_start --kernel-adopt --state-dir=$STATE --timeout=6
check "restarted daemon restores the call" grep -q "calls of the previous run restored calls=1" "$LOG"
check "restored streams take their targets back" grep -q "restored stream took its kernel target back" "$LOG"
check "targets still in place after restart" has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
c1=$(socket_count); sleep 2; c2=$(socket_count)
check "restarted daemon's sockets see no packets ($c1 -> $c2)" [ "$c1" = "$c2" ]
q=$(python3 "$L" query 2223 c2)
check "query after restart flags both streams kernelized" \
    has_all "$(grep kernelized <<<"$q" | awk '{print $1}')" "$PA" "$PB"
qa=$(awk -v p="$PA" '$1==p' <<<"$q")
check "query after restart counts the kernel's packets ($qa)" [ "$(awk '{print $2}' <<<"$qa")" -gt 300 ]
# Delete while the media still flows: the restored call's targets go at once, as
# for a call that was never restored, and the endpoints get nothing more.
r1=$(progress a3)
python3 "$L" ng 2223 delete c2 ta >/dev/null
check "delete after restart removes the targets" lacks "$(cat /proc/rtpengine/0/list)" "local "
check "deleted call forgotten in --state-dir" sh -c "! ls $STATE/*.call"
gone=yes
for _ in 1 2 3 4; do
    sleep 1
    grep -q "local " /proc/rtpengine/0/list && gone=no
done
check "deleted restored call stays out of the kernel" [ $gone = yes ]
r2=$(progress a3); sleep 2; r3=$(progress a3)
check "no media for a deleted restored call ($r1 at delete, $r2 -> $r3 after)" [ "$r3" = "$r2" ]
check "restored call's media flowed up to the delete ($r1 received)" [ "${r1:-0}" -gt 300 ]
wait_endpoints
# A restored call that times out loses its targets like any call.
call c7 4000 5000 || nok "offer/answer (restored timeout phase)" "$CALL_ERR"
endpoint A a8 10.0.1.2 4000 "$PA" 12
endpoint B b8 10.0.2.2 5000 "$PB" 12
sleep 6
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
daemon_start --kernel-adopt --state-dir=$STATE --timeout=6
check "restored call's streams take their targets back" \
    has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
wait_endpoints
gone=no
for _ in $(seq 1 30); do
    grep -q "local " /proc/rtpengine/0/list || { gone=yes; break; }
    sleep 1
done
check "restored call timed out (--timeout) and its targets went with it" [ $gone = yes ]
check "timed-out restored call forgotten in --state-dir" sh -c "! ls $STATE/*.call"
daemon_stop
daemon_start --kernel-adopt --timeout=6
# Without --state-dir the targets are orphans: they forward until idle.
call c6 4000 5000 || nok "offer/answer (orphan phase)" "$CALL_ERR"
endpoint A a7 10.0.1.2 4000 "$PA" 10
endpoint B b7 10.0.2.2 5000 "$PB" 10
sleep 6
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
daemon_start --kernel-adopt --timeout=6
check "restarted daemon adopts the table's targets" grep -q "adopted kernel targets" "$LOG"
wait_endpoints
check_received a7 "10.0.1.1:$PA"
gone=no
for _ in $(seq 1 20); do
    grep -q "local " /proc/rtpengine/0/list || { gone=yes; break; }
    sleep 1
done
check "adopted targets removed once idle (--timeout)" [ $gone = yes ]
# Graceful restart (SIGTERM) with --kernel-adopt keeps a call in the kernel; a start
# without it recreates the table as 10.5 does.
call c4 4000 5000 || nok "offer/answer (graceful restart)" "$CALL_ERR"
endpoint A a5 10.0.1.2 4000 "$PA" 9
endpoint B b5 10.0.2.2 5000 "$PB" 9
sleep 6
daemon_stop
check "SIGTERM with --kernel-adopt leaves the targets in place" \
    has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
wait_endpoints
check_received a5 "10.0.1.1:$PA"
daemon_start
check "start without --kernel-adopt recreates the table (no targets)" lacks "$(cat /proc/rtpengine/0/list)" "local "
daemon_stop

# --- phase 3: without the module --------------------------------------------------
iptables_teardown
check "del 0 after the daemon is gone" sh -c 'echo "del 0" > /proc/rtpengine/control'
check "rmmod xt_RTPENGINE" rmmod xt_RTPENGINE
daemon_start
check "without the module: clear log, userspace fallback" grep -q "module not loaded.*relaying in userspace" "$LOG"
call c3 4000 5000 || nok "offer/answer (userspace)" "$CALL_ERR"
endpoint A a4 10.0.1.2 4000 "$PA" 4
endpoint B b4 10.0.2.2 5000 "$PB" 4
wait_endpoints
check_received a4 "10.0.1.1:$PA"
check_received b4 "10.0.1.1:$PB"
check "query shows no kernelized stream" lacks "$(python3 "$L" query 2223 c3)" kernelized
daemon_stop
out=$(timeout 10 "$DAEMON" --config-file=none --interface=10.0.1.1 --listen-ng=127.0.0.1:2224 \
    --foreground --log-stderr --table=0 --no-fallback 2>&1); rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "no-fallback.*not loaded" <<<"$out"; then
    ok "--no-fallback without the module exits $rc with the reason"
else
    nok "--no-fallback without the module" "rc=$rc: $out"
fi
finish
