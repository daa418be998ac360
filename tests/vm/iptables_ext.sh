#!/bin/bash
# libxt_RTPENGINE.so against our xt_RTPENGINE module, for iptables and ip6tables, legacy
# and nft front ends: insert, list, refused options, save/restore round trip, and a UDP
# datagram still reaching its socket through the rule (the target returns XT_CONTINUE).
# Runs as root inside the test VM (scripts/vm-run tests/vm/iptables_ext.sh), with our
# module installed and our extension installed as the system's libxt_RTPENGINE.so.
set -u

failures=0
ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
    failures=$((failures + 1))
}
# check NAME COMMAND...: ok when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# The ids the module accepts and the messages our extension prints.
MISSING_ID='You must specify --id'
ID_64_REFUSED='RTPENGINE: invalid --id "64": table number must be from 0 to 63'
PROBE='rtpengine-rs iptables probe'

# Sends one datagram over loopback and checks it arrives: udp_reaches_socket 4|6.
udp_reaches_socket() {
    python3 - "$1" "$PROBE" <<'PY'
import socket, sys
six = sys.argv[1] == "6"
family, addr = (socket.AF_INET6, "::1") if six else (socket.AF_INET, "127.0.0.1")
payload = sys.argv[2].encode()
rx = socket.socket(family, socket.SOCK_DGRAM)
rx.bind((addr, 0))
rx.settimeout(3)
tx = socket.socket(family, socket.SOCK_DGRAM)
tx.sendto(payload, (addr, rx.getsockname()[1]))
try:
    data = rx.recv(1500)
except socket.timeout:
    sys.exit("no datagram within 3 s")
sys.exit(0 if data == payload else "wrong payload %r" % data)
PY
}

# Packet counter of the INPUT rule whose target prints " RTPENGINE id:ID".
rule_packets() {
    local prog=$1 id=$2
    "$prog" -L INPUT -v -x -n 2>/dev/null | awk -v want="RTPENGINE id:$id" \
        'index($0, want) && substr($0, length($0) - length(want) + 1) == want { print $1; exit }'
}

# Rules of the filter table as iptables-save prints them, minus comments and counters.
saved_rules() {
    "$1-save" -t filter 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]/[0:0]/'
}

if modprobe xt_RTPENGINE && [ -d /proc/rtpengine ]; then
    ok "modprobe xt_RTPENGINE"
else
    not_ok "modprobe xt_RTPENGINE"
fi
ext=/usr/lib/x86_64-linux-gnu/xtables/libxt_RTPENGINE.so
check "our extension is installed" test -f "$ext"

for prog in iptables-legacy iptables-nft ip6tables-legacy ip6tables-nft; do
    case $prog in ip6*) fam=6 ;; *) fam=4 ;; esac
    "$prog" -F INPUT 2>/dev/null

    help=$("$prog" -j RTPENGINE --help 2>&1)
    if grep -qF -- 'rtpengine kernel table number' <<<"$help"; then
        ok "$prog: --help comes from our extension"
    else
        not_ok "$prog: --help comes from our extension" "$(tail -n 5 <<<"$help")"
    fi

    # Insert: accepted by the kernel (no "revision not supported" warning either).
    out=$("$prog" -I INPUT -p udp -j RTPENGINE --id 0 2>&1)
    rc=$?
    if [ $rc -eq 0 ] && ! grep -q 'not supported' <<<"$out"; then
        ok "$prog: -I INPUT -p udp -j RTPENGINE --id 0"
    else
        not_ok "$prog: -I INPUT -p udp -j RTPENGINE --id 0" "exit $rc: $out"
    fi

    rules=$("$prog" -S INPUT 2>&1)
    if grep -qxF -- '-A INPUT -p udp -j RTPENGINE --id 0' <<<"$rules"; then
        ok "$prog: -S shows --id 0"
    else
        not_ok "$prog: -S shows --id 0" "$rules"
    fi

    listing=$("$prog" -L INPUT -n 2>&1)
    if grep -qE 'RTPENGINE id:0 *$' <<<"$listing"; then
        ok "$prog: -L shows RTPENGINE id:0"
    else
        not_ok "$prog: -L shows RTPENGINE id:0" "$listing"
    fi

    # -C matches on the id (the 8 data bytes libxtables compares), not just the name.
    # ip6tables-legacy 1.8.9's -C ignores target data for every target (LOG and CONNMARK
    # behave the same on a stock kernel), so there only the positive half is checked.
    if ! "$prog" -C INPUT -p udp -j RTPENGINE --id 0 2>/dev/null; then
        not_ok "$prog: -C finds the --id 0 rule"
    elif [ "$prog" != ip6tables-legacy ] && "$prog" -C INPUT -p udp -j RTPENGINE --id 1 2>/dev/null; then
        not_ok "$prog: -C tells --id 0 from --id 1"
    else
        ok "$prog: -C finds the --id 0 rule and no --id 1 rule"
    fi

    # Refused options: PARAMETER_PROBLEM (exit 2) with our message, nothing inserted.
    out=$("$prog" -I INPUT -p udp -j RTPENGINE 2>&1)
    rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$MISSING_ID" <<<"$out"; then
        ok "$prog: missing --id refused"
    else
        not_ok "$prog: missing --id refused" "exit $rc: $out"
    fi
    out=$("$prog" -I INPUT -p udp -j RTPENGINE --id 64 2>&1)
    rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$ID_64_REFUSED" <<<"$out"; then
        ok "$prog: --id 64 refused"
    else
        not_ok "$prog: --id 64 refused" "exit $rc: $out"
    fi
    count=$("$prog" -S INPUT 2>/dev/null | grep -c -- '-j RTPENGINE')
    check "$prog: refused rules were not inserted" [ "$count" = 1 ]

    # Save, flush, restore: the same rules come back, ids intact.
    added=$("$prog" -A INPUT -p udp --dport 9 -j RTPENGINE --id 63 2>&1)
    before=$(saved_rules "$prog")
    "$prog-save" -t filter >/tmp/iptables_ext.saved 2>/dev/null
    "$prog" -F INPUT
    flushed=$("$prog" -S INPUT 2>/dev/null | grep -c -- '-j RTPENGINE')
    out=$("$prog-restore" </tmp/iptables_ext.saved 2>&1)
    rc=$?
    after=$(saved_rules "$prog")
    if [ $rc -eq 0 ] && [ "$flushed" = 0 ] && [ "$before" = "$after" ] &&
        grep -qxF -- '-A INPUT -p udp -j RTPENGINE --id 0' <<<"$after" &&
        grep -qxF -- '-A INPUT -p udp -m udp --dport 9 -j RTPENGINE --id 63' <<<"$after"; then
        ok "$prog: save | restore round trip"
    else
        not_ok "$prog: save | restore round trip" "adding --id 63: $added" \
            "flushed rules left: $flushed" "restore exit $rc: $out" \
            "before:" "$before" "after:" "$after"
    fi

    # A datagram passes through the rule (its counter moves) and still reaches the socket.
    pkts_before=$(rule_packets "$prog" 0)
    if out=$(udp_reaches_socket "$fam" 2>&1); then
        ok "$prog: UDP over loopback reaches the socket through the rule"
    else
        not_ok "$prog: UDP over loopback reaches the socket through the rule" "$out"
    fi
    pkts_after=$(rule_packets "$prog" 0)
    if [ -n "$pkts_before" ] && [ -n "$pkts_after" ] && [ "$pkts_after" -gt "$pkts_before" ]; then
        ok "$prog: the RTPENGINE rule saw the datagram"
    else
        not_ok "$prog: the RTPENGINE rule saw the datagram" \
            "packets before '$pkts_before', after '$pkts_after'"
    fi

    # Delete by specification, which also compares the id.
    out=$( { "$prog" -D INPUT -p udp -j RTPENGINE --id 0 &&
        "$prog" -D INPUT -p udp --dport 9 -j RTPENGINE --id 63; } 2>&1)
    rc=$?
    count=$("$prog" -S INPUT 2>/dev/null | grep -c -- '-j RTPENGINE')
    if [ $rc -eq 0 ] && [ "$count" = 0 ]; then
        ok "$prog: -D by rule specification"
    else
        not_ok "$prog: -D by rule specification" "exit $rc: $out" "rules left: $count"
    fi
    "$prog" -F INPUT 2>/dev/null

    # The layout the 10.5 package sets up: a user chain jumped to from INPUT.
    out=$( { "$prog" -N rtpengine && "$prog" -I INPUT -p udp -j rtpengine &&
        "$prog" -I rtpengine -p udp -j RTPENGINE --id 42; } 2>&1)
    rc=$?
    chain=$("$prog" -S rtpengine 2>&1)
    if [ $rc -eq 0 ] && grep -qxF -- '-A rtpengine -p udp -j RTPENGINE --id 42' <<<"$chain" &&
        udp_reaches_socket "$fam"; then
        ok "$prog: rule in a user chain as the 10.5 package sets it up"
    else
        not_ok "$prog: rule in a user chain as the 10.5 package sets it up" "exit $rc: $out" "$chain"
    fi
    "$prog" -F INPUT 2>/dev/null
    "$prog" -F rtpengine 2>/dev/null
    "$prog" -X rtpengine 2>/dev/null
done
rm -f /tmp/iptables_ext.saved

echo "# $failures failed"
[ $failures -eq 0 ] || exit 1
exit 0
