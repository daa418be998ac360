#!/bin/bash
# A WebRTC <-> SIP call forwarded by the kernel: aiortc (tests/webrtc/aiortc_call.py) is
# the browser in netns A (10.0.1.2: ICE, DTLS-SRTP, rtcp-mux), the plain RTP phone binds
# in netns B (10.0.2.2), rtpengined with --table=0 in the root namespace on 10.0.1.1.
# Both directions (the browser offers; the phone offers, we are the controlling ICE
# agent). Once media flows both ways the driver holds the call open (--hold-cmd) while
# this script checks: both targets in /proc/rtpengine/0/list, the browser's with the
# negotiated SRTP suite (decryption on its target, encryption on the phone's output
# towards it) and STUN/DTLS left to userspace; the kernel's counters grow while no
# media-sized packet reaches the daemon's sockets; audio still arrives at both ends.
set -u
. "$(dirname "$0")/offload-common.inc"
DRIVER=$RTPE_ROOT/tests/webrtc/aiortc_call.py
# The host's test python3 (scripts/vm-run passes it): it has aiortc.
PY=${RTPE_PYTHON:-python3}
"$PY" -c 'import aiortc' 2>/dev/null || { echo "not ok - $PY cannot import aiortc"; exit 1; }

# wait_for SECONDS CMD...: polls CMD until it succeeds; the time is an upper bound only.
wait_for() {
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $end ] && return 1
        sleep 0.2
    done
}
# target PORT: the block of /proc/rtpengine/0/list for local port PORT.
target() {
    awk -v l="local inet4 10.0.1.1:$1" '/^local / {on = ($0 == l)} on' /proc/rtpengine/0/list
}
# kernel_packets PORT: the packets the kernel forwarded for that target.
kernel_packets() {
    target "$1" | awk '$1 == "stats:" {print $4; exit}'
}
# RTP with payload type 0 (the call's PCMU, not STUN, DTLS, RTCP or ng) that reaches a
# socket of the root namespace: this chain runs after iptables' (priority 0), so it never
# sees what the RTPENGINE target forwarded.
rtp_counter_setup() {
    nft add table ip rtpe_count &&
        nft add chain ip rtpe_count sockets '{ type filter hook input priority 10; }' &&
        nft add rule ip rtpe_count sockets ip daddr 10.0.1.1 udp dport 30000-30100 \
            @th,64,2 == 2 @th,73,7 == 0 counter
}
rtp_at_sockets() {
    nft list chain ip rtpe_count sockets | sed -n 's/.* counter packets \([0-9]*\) .*/\1/p'
}
grown() { [ "$(kernel_packets "$1")" -ge "$2" ] 2>/dev/null; }
both_targets() {
    [ -n "$(target "$1")" ] && [ -n "$(target "$2")" ] &&
        target "$1" | grep -q "SRTP decryption" && target "$2" | grep -q "SRTP encryption"
}

# webrtc_call DIRECTION ID [DRIVER_OPTION...]: one call, checked while the driver holds
# it open.
webrtc_call() {
    local dir=$1 id=$2 held release bp pp phone suite cipher bt pt s0 s1 s2 s_prev k1b k1p q j
    s_prev=$(rtp_at_sockets)
    shift 2
    local tag="$dir${*:+ $*}"
    held=$OUT/$id.held; release=$OUT/$id.release
    rm -f "$held" "$release"; mkfifo "$held" "$release"
    # Both ends open read-write here: neither side blocks opening, nor hangs if the
    # other is gone.
    exec 3<>"$held" 4<>"$release"
    ip netns exec A "$PY" "$DRIVER" 10.0.1.1:2223 --direction="$dir" --call-id="$id" \
        --ice-host=10.0.1.2 --phone-bind=10.0.2.2 --phone-netns=B --seconds=180 --hold-timeout=400 "$@" \
        --hold-cmd="echo \$HOLD_BROWSER_SIDE_PORT \$HOLD_PHONE_SIDE_PORT \$HOLD_PHONE >$held && head -n1 $release" \
        >"$OUT/$id.json" 2>"$OUT/$id.err" &
    local drv=$! waited=0 got=no line= part
    # Until the driver holds the call, or exits without getting there. read takes the
    # fifo a byte at a time: a timeout can fall inside the line (a loaded emulated CPU),
    # and the part read by then is in `part`, not lost, so it is kept for the next read.
    while [ $waited -lt 240 ]; do
        if IFS= read -r -t 1 -u 3 part; then line+=$part; got=yes; break; fi
        line+=$part
        kill -0 $drv 2>/dev/null || break
        waited=$((waited + 1))
    done
    read -r bp pp phone <<<"$line"
    if [ $got = no ]; then
        nok "$tag: media flowing both ways (50 packets at each end)" \
            "driver did not get there: $(tail -c 600 "$OUT/$id.err") $(cat "$OUT/$id.json")"
        echo go >&4; wait $drv; exec 3>&- 4>&-; return 1
    fi
    s0=$(($(rtp_at_sockets) - ${s_prev:-0}))
    ok "$tag: ICE, DTLS-SRTP and audio both ways in userspace first (browser side $bp, phone side $pp)"
    if wait_for 120 both_targets "$bp" "$pp"; then
        ok "$tag: both streams' targets in /proc/rtpengine/0/list"
    else
        nok "$tag: both streams' targets in /proc/rtpengine/0/list" "$(cat /proc/rtpengine/0/list)"
    fi
    bt=$(target "$bp"); pt=$(target "$pp")
    suite=$(grep "DTLS-SRTP handshake done" "$LOG" | tail -1 | sed -n 's/.*suite="\{0,1\}\([A-Z0-9_]*\).*/\1/p')
    case $suite in
        AES_CM_128_HMAC_SHA1_80) cipher=("cipher: AES-CM-128" "HMAC: HMAC-SHA1" "auth tag length: 10") ;;
        AEAD_AES_128_GCM) cipher=("cipher: AEAD-AES-GCM-128") ;;
        AEAD_AES_256_GCM) cipher=("cipher: AEAD-AES-GCM-256") ;;
        *) cipher=("unknown suite '$suite'") ;;
    esac
    check "$tag: browser side target decrypts $suite from the browser, STUN and DTLS to userspace" \
        has_all "$bt" "SRTP decryption parameters" "${cipher[@]}" "option: stun" "option: dtls" \
        "option: rtcp-mux" "dst inet4 $phone"
    check "$tag: phone side target encrypts $suite towards the browser" \
        has_all "$pt" "expect inet4 $phone" "SRTP encryption parameters" "${cipher[@]}" "dst inet4 10.0.1.2:"
    check "$tag: the phone's plain RTP is not decrypted" lacks "$pt" "SRTP decryption"
    check "$tag: nothing encrypted towards the phone" lacks "$bt" "SRTP encryption"
    # From here on the kernel forwards: 100 more packets each way, none at the sockets.
    s1=$(rtp_at_sockets)
    k1b=$(kernel_packets "$bp"); k1p=$(kernel_packets "$pp")
    if wait_for 120 grown "$bp" $((k1b + 100)) && wait_for 120 grown "$pp" $((k1p + 100)); then
        ok "$tag: the kernel forwards both ways (browser side $k1b -> $(kernel_packets "$bp"), phone side $k1p -> $(kernel_packets "$pp") packets)"
    else
        nok "$tag: the kernel forwards both ways" \
            "browser side $k1b -> $(kernel_packets "$bp"), phone side $k1p -> $(kernel_packets "$pp")"
    fi
    s2=$(rtp_at_sockets)
    check "$tag: the daemon's sockets got RTP in userspace before ($s0 packets by then)" [ "${s0:-0}" -ge 2 ]
    check "$tag: the daemon's sockets got no RTP meanwhile ($s1 -> $s2)" [ "${s1:-x}" = "${s2:-y}" ]
    q=$(python3 "$L" query 2223 "$id")
    check "$tag: query flags both streams kernelized" \
        has_all "$(grep kernelized <<<"$q" | awk '{print $1}')" "$bp" "$pp"
    local qb
    qb=$(awk -v p="$bp" '$1 == p {print $2}' <<<"$q")
    check "$tag: query counts the kernel's packets (browser side ${qb:-none} >= $k1b + 100)" \
        [ "${qb:-0}" -ge $((k1b + 100)) ]
    echo go >&4
    wait $drv
    exec 3>&- 4>&-
    j=$(cat "$OUT/$id.json")
    local n
    num() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" <<<"$j"; }
    check "$tag: driver done, hold command exit 0" grep -q '"hold_status": 0' <<<"$j"
    n=$(num hold_browser_loud_frames)
    check "$tag: the browser decoded loud audio while the kernel forwarded (${n:-0} frames)" [ "${n:-0}" -ge 50 ]
    n=$(num hold_phone_pcmu_packets)
    check "$tag: the phone got PCMU while the kernel forwarded (${n:-0} packets)" [ "${n:-0}" -ge 50 ]
    check "$tag: the phone heard only the daemon's port" grep -q "\"phone_sources\": \[\"10.0.1.1:$pp\"\]" <<<"$j"
    if [ $FAILS -ne 0 ]; then
        echo "# $id report: $j" | cut -c1-1500
        echo "# $id driver stderr:"; tail -5 "$OUT/$id.err" | sed 's/^/# /'
        echo "# targets:"; sed 's/^/# /' /proc/rtpengine/0/list
    fi
    if wait_for 30 sh -c '! grep -q "^local " /proc/rtpengine/0/list'; then
        ok "$tag: delete removes the targets"
    else
        nok "$tag: delete removes the targets" "$(cat /proc/rtpengine/0/list)"
    fi
}

net_setup
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup
rtp_counter_setup || { echo "not ok - nft counter for RTP at the daemon's sockets"; exit 1; }
# ng also on 10.0.1.1: the driver runs in netns A.
daemon_start --timeout=60 --listen-ng=10.0.1.1:2223
check "daemon enabled kernel forwarding" grep -q "kernel forwarding enabled" "$LOG"
webrtc_call webrtc-offers w1
webrtc_call sip-offers w2
# aiortc prefers AEAD-AES-GCM; AES-CM with HMAC-SHA1 is the other suite the kernel does.
webrtc_call webrtc-offers w3 --srtp-profiles=SRTP_AES128_CM_SHA1_80
check "DTLS-SRTP handshakes done in userspace (3)" [ "$(grep -c "DTLS-SRTP handshake done" "$LOG")" -ge 3 ]
check "no SRTP parameters refused by the kernel" lacks "$(cat "$LOG")" "SRTP parameters refused"
daemon_stop
finish
