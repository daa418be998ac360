# Shared by tests/vm/offload*.sh (sourced, not run): network, daemon, call and media
# helpers. Results go to stdout as `ok - ...` / `not ok - ...`; `finish` sets the status.
L=$RTPE_ROOT/tests/vm/offload-lib.py
LOG=/tmp/offload-daemon.log
OUT=/tmp/offload-media
mkdir -p "$OUT"; : >"$LOG"
FAILS=0
DAEMON=${RTPE_DAEMON:-rtpengined}

ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; FAILS=$((FAILS + 1)); }
check() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$name"; else nok "$name" "check failed: $*"; fi
}
has_all() { local text=$1; shift; for n in "$@"; do grep -qF -- "$n" <<<"$text" || return 1; done; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
finish() {
    if [ $FAILS -ne 0 ]; then
        echo "# daemon log (last 40 lines):"; tail -40 "$LOG" | sed 's/^/# /'
        exit 1
    fi
    exit 0
}

net_setup() {
    ip netns add A; ip netns add B
    ip link add va type veth peer name va0 netns A
    ip link add vb type veth peer name vb0 netns B
    ip addr add 10.0.1.1/24 dev va; ip addr add 10.0.2.1/24 dev vb
    ip link set va up; ip link set vb up
    for n in A B; do
        local i=1 d=va0; [ $n = B ] && { i=2; d=vb0; }
        ip -n $n link set lo up
        ip -n $n addr add 10.0.$i.2/24 dev $d
        ip -n $n link set $d up
        ip -n $n route add default via 10.0.$i.1
    done
}

iptables_setup() {
    iptables -N rtpengine
    iptables -I INPUT -p udp -j rtpengine
    iptables -I rtpengine -p udp -j RTPENGINE --id 0
}
iptables_teardown() {
    iptables -D INPUT -p udp -j rtpengine
    iptables -F rtpengine; iptables -X rtpengine
}
# Count packets that pass the RTPENGINE target (reach a socket) per media port.
socket_counter_rules() {
    for p in "$@"; do iptables -A INPUT -p udp -d 10.0.1.1 --dport "$p" -j ACCEPT; done
}
socket_count() {
    iptables -L INPUT -v -x -n | awk '/ dpt:/ {n += $1} END {print n + 0}'
}
socket_count_port() {
    iptables -L INPUT -v -x -n | awk -v p="dpt:$1" '$NF == p {print $1}'
}

daemon_start() {
    $DAEMON --config-file=none --interface=10.0.1.1 --listen-ng=127.0.0.1:2223 \
        --foreground --log-stderr --table=0 -m 30000 -M 30100 --delete-delay=0 "$@" >>"$LOG" 2>&1 &
    DPID=$!
    for _ in $(seq 1 50); do
        python3 "$L" ping 2223 >/dev/null 2>&1 && return 0
        sleep 0.2
    done
}
daemon_stop() { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }

# call ID A_PORT B_PORT: offer from A, answer from B; sets PA (where A sends) and
# PB (where B sends), or CALL_ERR.
call() {
    local o a
    o=$(python3 "$L" ng 2223 offer "$1" ta "" "10.0.1.2:$2" 2>&1) || { CALL_ERR=$o; return 1; }
    a=$(python3 "$L" ng 2223 answer "$1" ta tb "10.0.2.2:$3" 2>&1) || { CALL_ERR=$a; return 1; }
    PB=$(sed -n 's/^port=//p' <<<"$o"); PA=$(sed -n 's/^port=//p' <<<"$a")
}

EPIDS=()
# endpoint NS NAME BIND_IP BIND_PORT PEER_PORT SECONDS
endpoint() {
    ip netns exec "$1" python3 "$L" endpoint "$3" "$4" 10.0.1.1 "$5" "$6" \
        >"$OUT/$2.out" 2>"$OUT/$2.progress" &
    EPIDS+=($!)
}
wait_endpoints() { wait "${EPIDS[@]}"; EPIDS=(); }
progress() { tail -1 "$OUT/$1.progress" | sed -n 's/.*received=//p'; }
# check_received NAME SOURCE: >= 90% of what the peer sent came back, from SOURCE.
check_received() {
    local line sent recv
    line=$(cat "$OUT/$1.out")
    sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$line")
    recv=$(sed -n 's/.*received=\([0-9]*\).*/\1/p' <<<"$line")
    if [ -n "$recv" ] && [ "$recv" -ge $((sent * 9 / 10)) ] && grep -q "sources=$2\$" <<<"$line"; then
        ok "media $1: $recv of ~$sent received from $2"
    else
        nok "media $1" "$line (expected >= 90% from $2 only)"
    fi
}

# One call through the kernel: targets listed after learning, sockets idle, query
# flags, media both ways, delete removes the targets. Needs net_setup, the module,
# iptables_setup and a started daemon.
kernel_call() {
    local id=$1
    call "$id" 4000 5000 || { nok "offer/answer" "$CALL_ERR"; return 1; }
    socket_counter_rules "$PA" "$PB"
    endpoint A "$id-a" 10.0.1.2 4000 "$PA" 12
    endpoint B "$id-b" 10.0.2.2 5000 "$PB" 12
    sleep 7
    check "both RTP streams in /proc/rtpengine/0/list after learning" \
        has_all "$(cat /proc/rtpengine/0/list)" "local inet4 10.0.1.1:$PA" "local inet4 10.0.1.1:$PB" \
        "dst inet4 10.0.2.2:5000" "dst inet4 10.0.1.2:4000"
    local c1 c2 q
    c1=$(socket_count); sleep 2; c2=$(socket_count)
    check "daemon sockets see no packets once kernelized ($c1 -> $c2)" [ "$c1" = "$c2" ]
    q=$(python3 "$L" query 2223 "$id")
    check "query flags the RTP streams kernelized" \
        has_all "$(grep kernelized <<<"$q" | awk '{print $1}')" "$PA" "$PB"
    wait_endpoints
    check_received "$id-a" "10.0.1.1:$PA"
    check_received "$id-b" "10.0.1.1:$PB"
    python3 "$L" ng 2223 delete "$id" ta >/dev/null
    sleep 1
    check "delete removes the targets" lacks "$(cat /proc/rtpengine/0/list)" "local "
}
