#!/bin/bash
# Issue 19: recording through our module (recording-method=proc). First the commands and
# stream files through the binary interface (recording-lib.py abi); then Debian's stock
# rtpengine 10.5 daemon with --recording-method=proc on our module, and Debian's
# rtpengine-recording reading the stream files and writing the call's audio file; last,
# `del N` with recorded calls and open readers, and rmmod.
set -u
. "$(dirname "$0")/offload-common.inc"
R=$RTPE_ROOT/tests/vm/recording-lib.py
[ -x /usr/bin/rtpengine ] || { echo "not ok - /usr/bin/rtpengine missing: apt-get install rtpengine-daemon"; exit 1; }
[ -x /usr/bin/rtpengine-recording ] || { echo "not ok - rtpengine-recording missing: scripts/install-deps"; exit 1; }
DAEMON=/usr/bin/rtpengine

modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines" \
    && { echo "not ok - this test is for our module, the stock one is installed"; exit 1; }

# 1. The commands and the stream files.
echo "add 5" >/proc/rtpengine/control
python3 "$R" abi 5 || FAILS=$((FAILS + 1))
# Table deletion with calls and streams left, and a reader blocked in read().
exec 7</proc/rtpengine/5/calls/call-two/tag-1-media-1-component-1-RTP-id-0
( timeout 10 cat <&7 >/tmp/rec-blocked.out; echo "rc=$?" >>/tmp/rec-blocked.out ) &
BLOCKED=$!
sleep 0.5
check "del of a table with recorded calls returns while a reader is blocked" \
    timeout 5 sh -c 'echo "del 5" >/proc/rtpengine/control'
wait $BLOCKED
check "the blocked reader got end of file (cat exits 0)" grep -qx "rc=0" /tmp/rec-blocked.out
check "the table's directory is gone" test ! -e /proc/rtpengine/5
exec 7<&-

# 2. The stock 10.5 daemon records a call through our module; rtpengine-recording reads it.
SPOOL=/tmp/rec-spool OUTDIR=/tmp/rec-out RLOG=/tmp/rec-recording.log
mkdir -p $SPOOL $OUTDIR
net_setup
iptables_setup
rtpengine-recording --config-file=none --foreground --log-stderr --log-level=7 --table=0 \
    --spool-dir=$SPOOL --output-dir=$OUTDIR --output-format=wav --output-single >$RLOG 2>&1 &
RPID=$!
daemon_start --recording-method=proc --recording-dir=$SPOOL
check "stock daemon created table 0 on our module" test -e /proc/rtpengine/0/calls
id=rec1
if call $id 4000 5000; then
    python3 "$R" start-recording 2223 $id ta | grep -q result=ok; check "start recording" [ $? = 0 ]
    socket_counter_rules "$PA" "$PB"
    endpoint A "$id-a" 10.0.1.2 4000 "$PA" 8
    endpoint B "$id-b" 10.0.2.2 5000 "$PB" 8
    sleep 5
    calldir=$(ls -d /proc/rtpengine/0/calls/*/ 2>/dev/null | head -1)
    check "the daemon's call has a directory under calls/" test -n "$calldir"
    streams=$(ls "$calldir" 2>/dev/null)
    echo "# streams: $(echo $streams)"
    check "the call has RTP stream files" grep -q -- "-RTP-" <<<"$streams"
    check "both RTP streams kernelized (targets listed)" \
        has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
    c1=$(socket_count); sleep 1; c2=$(socket_count)
    check "daemon sockets see no packets: the kernel forwards ($c1 -> $c2)" [ "$c1" = "$c2" ]
    wait_endpoints
    check_received "$id-a" "10.0.1.1:$PA"
    check_received "$id-b" "10.0.1.1:$PB"
    python3 "$L" ng 2223 delete $id ta >/dev/null
    for _ in $(seq 1 50); do [ -z "$(ls /proc/rtpengine/0/calls)" ] && break; sleep 0.2; done
    check "delete removes the call's directory (DEL_CALL)" test -z "$(ls /proc/rtpengine/0/calls)"
    for _ in $(seq 1 50); do grep -q "Closing output" $RLOG && break; sleep 0.2; done
    sleep 1
    ls -l $OUTDIR | sed 's/^/# /'
    wav=$(find $OUTDIR -name '*.wav' -size +1k | head -1)
    check "rtpengine-recording wrote the call's audio file" test -n "$wav"
    if [ -n "$wav" ]; then
        # 8 kHz mono 16 bit: 16000 bytes per second; each side sent ~8 s.
        size=$(stat -c %s "$wav")
        # The daemon's sockets saw a few packets only: the rest reached the file through
        # the kernel's copies of forwarded packets.
        check "the audio file holds several seconds of kernel-forwarded media ($size bytes)" [ "$size" -gt 64000 ]
    fi
else
    nok "offer/answer" "$CALL_ERR"
fi
daemon_stop
kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
if [ $FAILS -ne 0 ]; then
    echo "# rtpengine-recording log (last 30):"; tail -30 $RLOG | sed 's/^/# /'
fi
iptables_teardown
echo "del 0" >/proc/rtpengine/control 2>/dev/null
out=$(rmmod xt_RTPENGINE 2>&1); check "rmmod xt_RTPENGINE" [ $? = 0 ]
finish
