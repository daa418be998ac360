#!/bin/bash
# Issue 19: --recording-method=proc as rtpengine 10.5 does it. rtpengined drives the
# kernel's recording interface of Debian's stock 10.5 module (ADD_CALL, ADD_STREAM,
# PACKET, DEL_CALL, targets intercepting) and writes the metadata files; Debian's
# rtpengine-recording (10.5) reads both and writes one WAV per party. The audio in
# the WAVs must be what the parties sent: the first packets (relayed in userspace,
# handed over with PACKET) and the last ones (forwarded and intercepted by the kernel).
set -u
. "$(dirname "$0")/offload-common.inc"
R=$RTPE_ROOT/tests/vm/recording-daemon-lib.py
REC=/usr/bin/rtpengine-recording
[ -x $REC ] || { echo "not ok - $REC missing: scripts/install-deps (rtpengine-recording-daemon)"; exit 1; }

# HOOK (our module): once xt_rtpengine implements 10.5's recording commands, run this
# with RTPE_REC_MODULE=ours to test rtpengined and rtpengine-recording on OUR module.
# By default the stock 10.5 module is installed, as tests/vm/offload-stock-module.sh does.
is_stock() { modinfo -F parm xt_RTPENGINE | grep -q "generate kernel log lines"; }
if [ "${RTPE_REC_MODULE:-stock}" = stock ]; then
    if ! is_stock; then
        stock=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
        [ -f "$stock" ] || { echo "not ok - stock 10.5 module built: $stock missing (scripts/build-stock-module)"; exit 1; }
        cp "$stock" "/lib/modules/$(uname -r)/extra/xt_RTPENGINE.ko" && depmod -a "$(uname -r)"
    fi
    is_stock || { echo "not ok - stock 10.5 module installed"; exit 1; }
fi

SPOOL=/tmp/rec-spool OUTD=/tmp/rec-out
rm -rf $SPOOL $OUTD; mkdir -p $OUTD
net_setup
# A stream keeps 10 packets by default; under the emulated CPU the recording daemon
# can fall further behind than that, so the module (either: the parameter has the
# same name in ours) keeps more.
modprobe xt_RTPENGINE stream_packets_list_limit=1000 || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup
daemon_start --recording-method=proc --recording-dir=$SPOOL
check "rtpengined set up table 0" grep -q "kernel forwarding enabled" "$LOG"
check "the spool directory is made, 0700" [ "$(stat -c %a $SPOOL 2>/dev/null)" = 700 ]
RLOG=/tmp/rec-daemon.log
$REC --config-file=none --foreground --log-stderr --log-level=6 --table=0 \
    --spool-dir=$SPOOL --output-dir=$OUTD --output-format=wav --output-single >$RLOG 2>&1 &
RPID=$!
# A chunk written before it watches the spool (inotify) would go unseen.
watching() { grep -qs "inotify wd:" /proc/$RPID/fdinfo/*; }
for _ in $(seq 1 240); do watching && break; sleep 0.25; done
check "rtpengine-recording watches the spool" watching

out=$(python3 "$R" call 2223 rec1 2>&1)
PA=$(sed -n 's/^pa=//p' <<<"$out"); PB=$(sed -n 's/^pb=//p' <<<"$out")
if [ -z "$PA" ] || [ -z "$PB" ]; then
    nok "offer/answer with record call" "$out"
else
    ok "offer/answer with record call"
    meta=$(ls $SPOOL/*.meta 2>/dev/null | head -1)
    check "a metadata file in the spool" [ -n "$meta" ]
    text=$(cat "$meta" 2>/dev/null)
    for n in "CALL-ID" "rec1" "PARENT" "STREAM 0 interface" "tag-0-media-1-component-1-RTP-id-0" \
        "MEDIA 0 PAYLOAD TYPE 0" "PCMU/8000" "SDP from 0 after offer" "SDP from 1 after answer"; do
        check "the metadata file has '$n'" has_all "$text" "$n"
    done
    [ $FAILS -eq 0 ] || sed 's/^/# meta: /' "$meta" | head -80
    parent=$(basename "$meta" .meta)
    check "the kernel has the call and its streams" \
        test -e "/proc/rtpengine/0/calls/$parent/tag-0-media-1-component-1-RTP-id-0"
    socket_counter_rules "$PA" "$PB"
    ip netns exec A python3 "$R" send 10.0.1.2 4000 "$PA" 9 1 >/tmp/rec-a.out &
    SA=$!
    ip netns exec B python3 "$R" send 10.0.2.2 5000 "$PB" 9 2 >/tmp/rec-b.out &
    SB=$!
    # Learning commits after 3 s; the targets are in the kernel well before the end.
    for _ in $(seq 1 40); do
        l=$(cat /proc/rtpengine/0/list)
        grep -q "local inet4 10.0.1.1:$PA" <<<"$l" && grep -q "local inet4 10.0.1.1:$PB" <<<"$l" && break
        sleep 0.25
    done
    check "both RTP streams kernelized" has_all "$(cat /proc/rtpengine/0/list)" \
        "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"
    c1=$(socket_count)
    wait $SA $SB
    c2=$(socket_count)
    check "the sockets saw no packets once kernelized ($c1 -> $c2)" [ "$c1" = "$c2" ]
    # start recording of a recorded call: its output destination and new metadata go
    # into the metadata file (the WAVs are open already: they stay where they are).
    python3 "$R" start 2223 rec1 /tmp/rec-out/elsewhere "k:v" >/dev/null
    text=$(cat "$meta" 2>/dev/null)
    check "start recording writes OUTPUT_DESTINATION and METADATA" \
        has_all "$text" $'OUTPUT_DESTINATION\n25:\n/tmp/rec-out/elsewhere' $'METADATA\n3:\nk:v'
    python3 "$R" delete 2223 rec1 >/dev/null
    # The metadata file goes with DEL_CALL; the recording daemon then closes the
    # call's WAVs. Stopping it after that makes sure they are written out.
    # On our module a reader that comes back after DEL_CALL removed the stream file
    # reads EIO instead of 10.5's EOF (our deletion never waits for readers: README,
    # "Deliberate differences"); rtpengine-recording closes the stream either way.
    end_re="EOF on stream"
    [ "${RTPE_REC_MODULE:-stock}" = ours ] &&
        end_re="EOF on stream|Read error on stream .*: Input/output error"
    ended() { [ "$(grep -cE "$end_re" $RLOG)" -ge 4 ]; }
    for _ in $(seq 1 80); do ended && break; sleep 0.25; done
    check "the metadata file is removed at the end" [ -z "$(ls $SPOOL/*.meta 2>/dev/null)" ]
    check "the kernel call is gone" [ ! -e "/proc/rtpengine/0/calls/$parent" ]
    check "rtpengine-recording saw the call's four streams end" ended
    kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
    check "rtpengine-recording wrote a WAV per party" [ "$(ls $OUTD/*.wav 2>/dev/null | wc -l)" -ge 2 ]
    for v in 1 2; do
        f=/tmp/rec-a.out; [ $v = 2 ] && f=/tmp/rec-b.out
        sent=$(sed -n 's/^sent=//p' $f)
        res=$(python3 "$R" check $OUTD $v "${sent:-0}")
        found=$(sed -n 's/.*found=\([0-9]*\).*/\1/p' <<<"$res")
        first=$(sed -n 's/.*first=\([-0-9]*\).*/\1/p' <<<"$res")
        last=$(sed -n 's/.*last=\([-0-9]*\).*/\1/p' <<<"$res")
        if [ -n "$found" ] && [ -n "$sent" ] && [ "$found" -ge $((sent * 9 / 10)) ] \
            && [ "$first" -le 10 ] && [ "$last" -ge $((sent - 15)) ]; then
            ok "party $v: $found of $sent packets' audio recorded, $first..$last"
        else
            nok "party $v's audio recorded" "$res of sent=$sent (want >= 90%, first <= 10, last >= sent-15)"
        fi
    done
fi
kill $RPID 2>/dev/null; wait $RPID 2>/dev/null
daemon_stop
if [ $FAILS -ne 0 ]; then
    echo "# metadata/output: $(ls -la $SPOOL $OUTD 2>&1 | tr '\n' ' ')"
    echo "# rtpengine-recording log (last 40):"
    tail -40 $RLOG | sed "s/^/# /"
fi
finish
