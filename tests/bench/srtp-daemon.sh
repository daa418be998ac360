#!/usr/bin/env bash
# Benchmark (not a test): daemon CPU time per relayed packet of one SDES-SRTP call,
# rtpengined against Debian's rtpengine 10.5 (package rtpengine-daemon), both in
# userspace (--table=-1) on loopback.
#
# Call: A offers RTP/SAVP with a=crypto AES_CM_128_HMAC_SHA1_80 (transport-protocol
# RTP/AVP towards B), B answers plain RTP/AVP (transport-protocol RTP/SAVP towards A):
# the daemon decrypts A->B and encrypts B->A with its own key. The same bencode goes to
# both daemons. rtpe-srtp-peer (tests/kctl) sends PACKETS packets of 172 bytes (12-byte
# RTP header + 160 bytes) each way at PPS per direction, evenly spaced (--pace: rtpengine
# 10.5 stops reading a socket that held more than 50 packets at 5 reads, so bursts would
# measure its flood guard), and checks every packet it gets byte for byte (A after SRTP
# verification with the daemon's key). A round counts only when every received packet
# verified and at least half arrived each way. Cost per packet = the daemon's
# utime+stime (/proc/PID/stat) over the blast / packets it relayed (its query counters).
# Rounds alternate ours / 10.5; medians are printed, then the ratio ours/10.5.
#
# Unless --no-micro: the userspace SRTP microbenchmark (rtpengined/tests/sdes_bench.rs,
# protect+unprotect per 172-byte packet) for AES_CM_128_HMAC_SHA1_80 vs its RustCrypto
# baseline.
#
# Usage: tests/bench/srtp-daemon.sh [--packets N] [--pps R] [--rounds K] [--no-micro]
#   defaults: 200000 packets each way, 10000 pps each way, 3 rounds (2.5-4 min).
# Env: RTPENGINED (default target/release/rtpengined), RTPENGINE_10_5 (default
#   /usr/bin/rtpengine, else the binary of an extracted rtpengine-daemon .deb, see
#   below), SRTP_PEER (default target/release/rtpe-srtp-peer), NO_BUILD=1.
# Last line: `srtp-daemon: ours X ns/pkt, rtpengine 10.5 Y ns/pkt, ratio X/Y`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
packets=200000 pps=10000 rounds=3 micro=1
while [ $# -gt 0 ]; do
    case $1 in
        --packets) packets=$2; shift 2 ;;
        --pps) pps=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --no-micro) micro=0; shift ;;
        *) echo "usage: $0 [--packets N] [--pps R] [--rounds K] [--no-micro]" >&2; exit 2 ;;
    esac
done

if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$root" && cargo build --release --quiet -p rtpengined -p rtpe-kctl)
fi
ours_bin=${RTPENGINED:-$root/target/release/rtpengined}
peer=${SRTP_PEER:-$root/target/release/rtpe-srtp-peer}

# Debian's daemon: installed (as tests/differential uses it), else extracted from the
# package (as scripts/build-stock-module gets the module) without installing it. The
# extracted binary still needs the package's shared libraries on the machine.
theirs_bin=${RTPENGINE_10_5:-}
if [ -z "$theirs_bin" ]; then
    if [ -x /usr/bin/rtpengine ]; then
        theirs_bin=/usr/bin/rtpengine
    else
        cache=${RTPE_CACHE:-/var/cache/rtpengine-rs}/rtpengine-daemon-deb
        if [ ! -x "$cache/usr/bin/rtpengine" ]; then
            mkdir -p "$cache"
            (cd "$cache" && apt-get download rtpengine-daemon >/dev/null &&
                dpkg-deb -x rtpengine-daemon_*.deb .) || true
        fi
        theirs_bin=$cache/usr/bin/rtpengine
    fi
fi
[ -x "$theirs_bin" ] || { echo "srtp-daemon: no rtpengine 10.5 binary (apt-get install rtpengine-daemon)" >&2; exit 1; }
if ldd "$theirs_bin" | grep -q "not found"; then
    echo "srtp-daemon: $theirs_bin misses libraries:" >&2
    ldd "$theirs_bin" | grep "not found" >&2
    exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Private copies: a rebuild by someone else during the run must not tear the binaries.
cp "$ours_bin" "$work/rtpengined" && cp "$peer" "$work/rtpe-srtp-peer"
ours_bin=$work/rtpengined peer=$work/rtpe-srtp-peer

# Same options for both; ng ports and media ranges are private to this benchmark.
ng_ours=22511 ng_theirs=22510
common=(--config-file=none --interface=127.0.0.1 --foreground --log-stderr --log-level=5
        --delete-delay=0 --table=-1 --endpoint-learning=immediate --timeout=60)
"$ours_bin" "${common[@]}" --listen-ng=127.0.0.1:$ng_ours --port-min=29200 --port-max=29399 \
    >"$work/ours.log" 2>&1 &
pid_ours=$!; pids+=("$pid_ours")
"$theirs_bin" "${common[@]}" --listen-ng=127.0.0.1:$ng_theirs --port-min=29000 --port-max=29199 \
    >"$work/theirs.log" 2>&1 &
pid_theirs=$!; pids+=("$pid_theirs")

# ng helper: `ng PORT ping` or `ng PORT call CALLID A_PORT B_PORT` (prints
# "PA=... PB=... AKEY=... DKEY=..." after offer+answer), `ng PORT query CALLID` (prints
# "in_a=N in_b=N": RTP packets the daemon took in from A and from B) or
# `ng PORT delete CALLID`.
ng() {
    python3 - "$root/tests/differential" "$@" <<'PY'
import base64, os, sys
sys.path.insert(0, sys.argv[1])
from ng_client import NgClient
port, what = int(sys.argv[2]), sys.argv[3]
c = NgClient(port=port, timeout=1.0)
if what == "ping":
    sys.exit(0 if c.request({"command": "ping"}).get("result") == b"pong" else 1)
cid = sys.argv[4]
if what == "delete":
    c.request({"command": "delete", "call-id": cid, "from-tag": "ta"})
    sys.exit(0)
if what == "query":
    q = c.request({"command": "query", "call-id": cid})
    n = lambda tag: q["tags"][tag]["medias"][0]["streams"][0]["stats"]["packets"]
    print("in_a=%d in_b=%d" % (n("ta"), n("tb")))
    sys.exit(0)
a_port, b_port = sys.argv[5], sys.argv[6]
akey = os.urandom(30)
def sdp(port, proto, extra=""):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %s %s 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n%s" % (port, proto, extra))
o = c.request({"command": "offer", "call-id": cid, "from-tag": "ta",
               "sdp": sdp(a_port, "RTP/SAVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\n"
                          % base64.b64encode(akey).decode()),
               "transport-protocol": "RTP/AVP"})
if o.get("result") != b"ok":
    sys.exit("offer: %r" % o)
a = c.request({"command": "answer", "call-id": cid, "from-tag": "ta", "to-tag": "tb",
               "sdp": sdp(b_port, "RTP/AVP"), "transport-protocol": "RTP/SAVP"})
if a.get("result") != b"ok":
    sys.exit("answer: %r" % a)
to_b, to_a = o["sdp"].decode(), a["sdp"].decode()
port = lambda body: next(l.split()[1] for l in body.splitlines() if l.startswith("m=audio "))
if "RTP/AVP" not in to_b or "a=crypto" in to_b or "RTP/SAVP" not in to_a:
    sys.exit("not bridged:\n%s\n%s" % (to_b, to_a))
line = next(l for l in to_a.splitlines() if l.startswith("a=crypto:") and "AES_CM_128_HMAC_SHA1_80" in l)
dkey = base64.b64decode(line.split("inline:")[1].split("|")[0].split()[0])
print("PA=%s PB=%s AKEY=%s DKEY=%s" % (port(to_a), port(to_b), akey.hex(), dkey.hex()))
PY
}

for p in $ng_ours $ng_theirs; do
    for _ in $(seq 50); do ng "$p" ping 2>/dev/null && break; sleep 0.2; done
    ng "$p" ping || { echo "srtp-daemon: daemon on ng port $p did not start" >&2;
                      cat "$work/ours.log" "$work/theirs.log" >&2; exit 1; }
done

hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" "$2"; }

# round WHO NGPORT PID N: one call, PACKETS each way; appends "ns" to $work/WHO.ns.
round() {
    local who=$1 ngp=$2 pid=$3 n=$4 ap bp vars c0 c1 secs
    ap=$(free_port); bp=$(free_port)
    vars=$(ng "$ngp" call "bench-$who-$n" "$ap" "$bp") || { echo "srtp-daemon: $who: $vars" >&2; return 1; }
    local PA PB AKEY DKEY
    eval "$vars"
    # An upper bound: a peer exits 1 s after its last packet in or out.
    secs=$(awk -v n="$packets" -v r="$pps" 'BEGIN { printf "%.0f", 3 * n / r + 10 }')
    c0=$(cpu_ticks "$pid")
    "$peer" 127.0.0.1:"$ap" 127.0.0.1:"$PA" "$secs" --pps "$pps" --count "$packets" --pace \
        --ssrc a0a0a0a1 --peer-ssrc b0b0b0b2 --send-key "$AKEY" --recv-key "$DKEY" \
        >"$work/a.out" 2>/dev/null &
    local ea=$!
    "$peer" 127.0.0.1:"$bp" 127.0.0.1:"$PB" "$secs" --pps "$pps" --count "$packets" --pace \
        --ssrc b0b0b0b2 --peer-ssrc a0a0a0a1 >"$work/b.out" 2>/dev/null &
    local eb=$!
    wait "$ea" "$eb" || true
    c1=$(cpu_ticks "$pid")
    local q
    q=$(ng "$ngp" query "bench-$who-$n" 2>/dev/null) || q="in_a=? in_b=?"
    local qa=${q%% *} qb=${q##*in_b=}
    qa=${qa#in_a=}
    ng "$ngp" delete "bench-$who-$n" || true
    local sa ra va ba sb rb vb bb
    sa=$(field sent "$work/a.out"); ra=$(field received "$work/a.out")
    va=$(field verified "$work/a.out"); ba=$(field bad "$work/a.out")
    sb=$(field sent "$work/b.out"); rb=$(field received "$work/b.out")
    vb=$(field verified "$work/b.out"); bb=$(field bad "$work/b.out")
    # Packets forwarded: what the daemon took in and relayed (its query counters), which
    # includes packets a busy peer's socket then dropped; else what the peers got.
    local fwd=$((ra + rb)) ns
    case "$qa$qb" in *[!0-9]*) ;; *) fwd=$((qa + qb)) ;; esac
    ns=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v p="$fwd" 'BEGIN { printf "%.0f", p ? t * 1e9 / hz / p : 0 }')
    printf '%-15s round %d: A sent %s, daemon took %s, B got %s (%s verified, %s bad); B sent %s, daemon took %s, A got %s (%s verified, %s bad); cpu %.2f s, %s ns/pkt\n' \
        "$who" "$n" "$sa" "$qa" "$rb" "$vb" "$bb" "$sb" "$qb" "$ra" "$va" "$ba" \
        "$(awk -v t=$((c1 - c0)) -v hz="$hz" 'BEGIN { print t / hz }')" "$ns"
    if [ "$ba" != 0 ] || [ "$bb" != 0 ] || [ "$va" != "$ra" ] || [ "$vb" != "$rb" ] ||
       [ $((ra * 2)) -lt "$packets" ] || [ $((rb * 2)) -lt "$packets" ]; then
        echo "srtp-daemon: $who round $n not counted (unverified packets or more than half lost)" >&2
        return 1
    fi
    if [ $((ra * 100)) -lt $((packets * 99)) ] || [ $((rb * 100)) -lt $((packets * 99)) ]; then
        lossy=1
    fi
    echo "$ns" >>"$work/$who.ns"
}

median() {
    [ -s "$1" ] && sort -n "$1" |
        awk '{ v[NR] = $1 } END { printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# srtp-daemon: SDES-SRTP <-> RTP call, $packets packets each way at $pps pps each way, $rounds rounds"
echo "# ours: ${RTPENGINED:-$root/target/release/rtpengined} ($(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')); rtpengine 10.5: $theirs_bin ($(dpkg-query -W -f '${Version}' rtpengine-daemon 2>/dev/null || echo extracted))"
failed=0 lossy=0
for n in $(seq 1 "$rounds"); do
    round ours $ng_ours "$pid_ours" "$n" || failed=$((failed + 1))
    round "rtpengine-10.5" $ng_theirs "$pid_theirs" "$n" || failed=$((failed + 1))
done

if [ "$micro" = 1 ]; then
    echo "# userspace SRTP microbenchmark (rtpengined/tests/sdes_bench.rs, protect+unprotect, 172 bytes)"
    (cd "$root" && cargo test --release --quiet -p rtpengined --test sdes_bench -- --ignored --nocapture 2>/dev/null) \
        >"$work/micro" || true
    base=$(awk '$1 == "baseline" { print $2 }' "$work/micro")
    cm80=$(awk '$1 == "AES_CM_128_HMAC_SHA1_80" { print $2 }' "$work/micro")
    if [ -n "$base" ] && [ -n "$cm80" ]; then
        echo "srtp-micro: AES_CM_128_HMAC_SHA1_80 $cm80 ns/pkt, RustCrypto baseline $base ns/pkt, ratio $(awk -v a="$cm80" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
    else
        echo "srtp-micro: sdes_bench did not run"
    fi
fi

o=$(median "$work/ours.ns" || true) t=$(median "$work/rtpengine-10.5.ns" || true)
[ "$failed" = 0 ] || echo "# $failed round(s) not counted"
[ "$lossy" = 0 ] || echo "# over 1 % lost in a counted round (the round lines show where); the cost is per packet the daemon relayed"
if [ -z "$o" ] || [ -z "$t" ]; then
    echo "srtp-daemon: ours ${o:-n/a} ns/pkt, rtpengine 10.5 ${t:-n/a} ns/pkt, ratio n/a"
    exit 1
fi
echo "srtp-daemon: ours $o ns/pkt, rtpengine 10.5 $t ns/pkt, ratio $(awk -v a="$o" -v b="$t" 'BEGIN { printf "%.2f", a / b }')"
