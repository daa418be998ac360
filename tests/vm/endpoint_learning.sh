#!/bin/bash
# Endpoint learning with kernel forwarding. Caller A (netns A, 10.0.1.2), callee B
# (netns B, 10.0.2.2), attacker C (netns C, 10.0.3.2); rtpengined on 10.0.1.1.
# Phases: default mode (delayed) with C spraying A's relay port before A speaks: C
# gets nothing, A's target expects A, B's target sends to A; media handover: A moves
# to another port and the kernel targets are installed again for it; --endpoint-
# learning=off: kernelized at once towards the SDP addresses, a NAT'd B and C get
# nothing.
set -u
. "$(dirname "$0")/offload-common.inc"

net_setup
ip netns add C
ip link add vc type veth peer name vc0 netns C
ip addr add 10.0.3.1/24 dev vc; ip link set vc up
ip -n C link set lo up
ip -n C addr add 10.0.3.2/24 dev vc0; ip -n C link set vc0 up
ip -n C route add default via 10.0.3.1
modprobe xt_RTPENGINE || { echo "not ok - modprobe xt_RTPENGINE"; exit 1; }
iptables_setup

# learning_offer ID [FLAG...]: offer from A (SDP 10.0.1.2:4000, SIP from 10.0.1.2)
# with the FLAGs; sets PB (where B sends) and PA (A's stream, from a query: A may
# send before the answer). learning_answer ID: answer from B (SDP 10.0.2.2:5000, SIP
# from 10.0.2.2). CALL_ERR on failure.
ng_learning() {
    python3 - "$L" "$@" 2>&1 <<'PY'
import importlib.util, os, socket, sys
spec = importlib.util.spec_from_file_location("lib", sys.argv[1])
lib = importlib.util.module_from_spec(spec); spec.loader.exec_module(lib)
what, cid, flags = sys.argv[2], sys.argv[3], sys.argv[4:]
def ng(msg):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b"el%d-%s " % (os.getpid(), msg["command"].encode()) + lib.bencode(msg), ("127.0.0.1", 2223))
    r = lib.bdecode(s.recvfrom(65535)[0].partition(b" ")[2])[0]
    if r.get("result") != b"ok":
        sys.exit("%s: %r" % (msg["command"], r))
    return r
port = lambda r: next(l.split()[1] for l in r["sdp"].decode().splitlines() if l.startswith("m=audio "))
if what == "offer":
    o = ng({"command": "offer", "call-id": cid, "from-tag": "ta", "sdp": lib.sdp("10.0.1.2", 4000),
            "received-from": ["IP4", "10.0.1.2"], "flags": flags})
    q = ng({"command": "query", "call-id": cid})
    print("PA=%d PB=%s" % (q["tags"]["ta"]["medias"][0]["streams"][0]["local port"], port(o)))
else:
    ng({"command": "answer", "call-id": cid, "from-tag": "ta", "to-tag": "tb",
        "sdp": lib.sdp("10.0.2.2", 5000), "received-from": ["IP4", "10.0.2.2"]})
PY
}
learning_offer() { local out; out=$(ng_learning offer "$@") || { CALL_ERR=$out; return 1; }; eval "$out"; }
learning_answer() { CALL_ERR=$(ng_learning answer "$1"); }
learning_call() { learning_offer "$@" && learning_answer "$1"; }

# The kernel's entry for our local port $1.
target_of() {
    awk -v l="local inet4 10.0.1.1:$1" '$0 == l {on = 1; print; next} /^local / {on = 0} on' \
        /proc/rtpengine/0/list
}
# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
    local n=$(($1 * 5)); shift
    for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    return 1
}
both_installed() { has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB"; }
received_some() { [ "$(progress "$1")" -gt 0 ] 2>/dev/null; }
# check_got NAME SOURCE SENT: >= 90% of SENT (what its peer sent) came, from SOURCE only.
check_got() {
    local line recv; line=$(cat "$OUT/$1.out")
    recv=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -n "$recv" ] && [ -n "$3" ] && [ "$recv" -ge $(($3 * 9 / 10)) ] && grep -q "sources=$2\$" <<<"$line"; then
        ok "media $1: $recv of $3 received from $2"
    else
        nok "media $1" "$line (expected >= 90% of $3 from $2 only)"
    fi
}
# check_nothing NAME: the endpoint received no packet at all.
check_nothing() {
    local line; line=$(cat "$OUT/$1.out")
    if grep -q "received=0 " <<<"$line"; then ok "$1 received nothing"; else nok "$1 received nothing" "$line"; fi
}

# --- phase 1: the default (delayed) mode against an attacker --------------------
daemon_start
learning_offer e1 || { echo "not ok - offer: $CALL_ERR"; exit 1; }
# C sprays A's relay port; A speaks only after the daemon has counted C's packets,
# both before the answer (a slow VM must not let learning commit before A spoke).
endpoint C c1 10.0.3.2 6000 "$PA" 16
seen_on() { python3 "$L" query 2223 "$1" | awk -v p="$2" '$1 == p && $2 > 0 {f = 1} END {exit !f}'; }
wait_until 10 seen_on e1 "$PA" || nok "daemon sees the attacker first" "$(python3 "$L" query 2223 e1)"
endpoint A a1 10.0.1.2 4000 "$PA" 16
wait_until 10 test -s "$OUT/a1.progress" || nok "A speaks" "no progress from A"
learning_answer e1 || { echo "not ok - answer: $CALL_ERR"; exit 1; }
endpoint B b1 10.0.2.2 5000 "$PB" 10
wait_until 15 both_installed || nok "both streams kernelized once learning committed" "$(cat /proc/rtpengine/0/list)"
ta=$(target_of "$PA"); tb=$(target_of "$PB")
check "A's target expects A, not the attacker who spoke first" has_all "$ta" "expect inet4 10.0.1.2:4000"
check "A's target forwards other sources (no strict source, matching peer)" lacks "$ta" "src mismatch action"
check "B's target sends to A" has_all "$tb" "dst inet4 10.0.1.2:4000"
check "no target sends to or expects the attacker" lacks "$(cat /proc/rtpengine/0/list)" "10.0.3.2"
q=$(python3 "$L" query 2223 e1)
check "query: both streams confirmed and kernelized" \
    has_all "$(grep confirmed <<<"$q" | grep kernelized | awk '{print $1}')" "$PA" "$PB"
wait_endpoints
check_nothing c1
check_got a1 "10.0.1.1:$PA" "$(sed -n 's/^sent=\([0-9]*\).*/\1/p' "$OUT/b1.out")"
python3 "$L" ng 2223 delete e1 ta >/dev/null

# --- phase 2: media handover re-installs the targets ---------------------------
learning_call e2 media-handover || nok "offer/answer (handover)" "$CALL_ERR"
endpoint B b2 10.0.2.2 5000 "$PB" 16
endpoint A a2 10.0.1.2 4000 "$PA" 7
A2=$!
wait_until 12 both_installed || nok "handover call kernelized" "$(cat /proc/rtpengine/0/list)"
ta=$(target_of "$PA")
check "handover: A's target hands new sources to userspace" \
    has_all "$ta" "expect inet4 10.0.1.2:4000" "src mismatch action: propagate"
wait "$A2"
keep=(); for p in "${EPIDS[@]}"; do [ "$p" = "$A2" ] || keep+=("$p"); done; EPIDS=("${keep[@]}")
endpoint A a3 10.0.1.2 4010 "$PA" 7
moved() { has_all "$(target_of "$PA")" "expect inet4 10.0.1.2:4010" && has_all "$(target_of "$PB")" "dst inet4 10.0.1.2:4010"; }
if wait_until 6 moved; then
    ok "handover: targets installed again for A's new port"
else
    nok "handover: targets installed again for A's new port" "$(cat /proc/rtpengine/0/list)"
fi
check "handover: the old port is gone from the table" lacks "$(cat /proc/rtpengine/0/list)" "10.0.1.2:4000"
wait_endpoints
check_received a3 "10.0.1.1:$PA"
python3 "$L" ng 2223 delete e2 ta >/dev/null
daemon_stop

# --- phase 3: --endpoint-learning=off -------------------------------------------
daemon_start --endpoint-learning=off
learning_call e3 || nok "offer/answer (off)" "$CALL_ERR"
endpoint C c4 10.0.3.2 6000 "$PA" 6
endpoint B b4 10.0.2.2 5010 "$PB" 6
endpoint A a4 10.0.1.2 4000 "$PA" 6
# off confirms at the first packet (10.5): no 3 s wait.
wait_until 5 both_installed || nok "off: both streams kernelized" "$(cat /proc/rtpengine/0/list)"
check "off: A's target sends to B's SDP address, not where B sends from" \
    has_all "$(target_of "$PA")" "dst inet4 10.0.2.2:5000"
check "off: B's target sends to A's SDP address" has_all "$(target_of "$PB")" "dst inet4 10.0.1.2:4000"
check "off: nothing sends to B's real port or the attacker" \
    lacks "$(cat /proc/rtpengine/0/list)" "dst inet4 10.0.2.2:5010"
wait_endpoints
check_nothing c4
check_nothing b4
check_received a4 "10.0.1.1:$PA"
python3 "$L" ng 2223 delete e3 ta >/dev/null
daemon_stop
iptables_teardown
ip netns del C
finish
