#!/bin/bash
# Issue 8: the Debian packages (scripts/build-packages, run on the host before the VM
# tests) install with dpkg -i on the VM's Debian 12 root: files, modes, conffiles, the
# unprivileged user, the systemd unit; DKMS installs the module; rtpengine-rs-setup
# brings up table and rules for that user (start twice = one copy of each rule, with
# iptables-legacy and iptables-nft; stop twice = none) and the user kernelizes a stream
# through /proc/rtpengine/N/control that is then forwarded in the kernel; the packaged
# daemon runs as that user with the unit's command line and kernelizes a call between two
# namespaces; missing pieces give clear messages; dpkg -r cleans up.
# Runs as root inside the test VM (scripts/vm-run tests/vm/packages.sh).
set -u

failures=0
ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
    failures=$((failures + 1))
}
check() {  # NAME COMMAND...: ok when COMMAND succeeds
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

kver=$(uname -r)
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$RTPE_ROOT/Cargo.toml")
debs=$RTPE_ROOT/target/debian
xtdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/xtables
user=rtpengine-rs
packages="rtpengine-rs rtpengine-rs-daemon rtpengine-rs-iptables rtpengine-rs-kernel-dkms"
PY=/usr/bin/python3

# A clean system: none of the copies the VM harness put in place.
rm -f "/lib/modules/$kver/extra/xt_RTPENGINE.ko" "$xtdir/libxt_RTPENGINE.so"
depmod -a "$kver"

# ---- install ----
shopt -s nullglob
files=("$debs"/*_"$version"-*.deb)
if [ ${#files[@]} -ne 4 ]; then
    not_ok "four packages in $debs (run scripts/build-packages first)" "found: ${files[*]}"
    exit 1
fi
# The VM's root is an overlay whose lower layer is 9p: renaming a new directory there
# fails with EXDEV, and dpkg creates a missing directory as NAME.dpkg-new then renames
# it. Existing directories are kept as they are, so create the packages' beforehand.
for f in "${files[@]}"; do
    dpkg-deb -c "$f" | awk '$1 ~ /^d/ { print $NF }' | (cd / && xargs -r mkdir -p)
done
out=$(dpkg -i "${files[@]}" 2>&1)
rc=$?
if [ $rc -eq 0 ]; then ok "dpkg -i of the four packages"; else not_ok "dpkg -i of the four packages" "exit $rc" "$out"; fi
for p in $packages; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>&1)
    check "$p is installed ($st)" [ "$st" = "install ok installed" ]
done

# Files, owners and modes.
while read -r mode path; do
    got=$(stat -c '%a %U:%G' "$path" 2>&1)
    check "$path: $mode root:root" [ "$got" = "$mode root:root" ]
done <<EOF
755 /usr/bin/rtpengined
755 /usr/sbin/rtpengine-rs-setup
644 /lib/systemd/system/rtpengined.service
644 /etc/rtpengine-rs/rtpengined.conf
644 /etc/default/rtpengine-rs
644 $xtdir/libxt_RTPENGINE.so
644 /usr/src/rtpengine-rs-$version/dkms.conf
755 /usr/src/rtpengine-rs-$version/rtpengine-rs-kbuild
644 /usr/src/rtpengine-rs-$version/core/src/abi.rs
EOF
conffiles=$(dpkg-query -W -f='${Conffiles}' rtpengine-rs-daemon)
if grep -q '/etc/rtpengine-rs/rtpengined.conf' <<<"$conffiles" && grep -q '/etc/default/rtpengine-rs' <<<"$conffiles"; then
    ok "config files are conffiles"
else
    not_ok "config files are conffiles" "$conffiles"
fi
if /usr/bin/rtpengined --version >/dev/null 2>&1; then ok "packaged rtpengined runs"; else not_ok "packaged rtpengined runs"; fi
# Manual pages (lintian's no-manual-page), checked in the package itself.
daemon_deb=$(printf '%s\n' "${files[@]}" | grep '/rtpengine-rs-daemon_')
for page in rtpengined rtpengine-rs-setup; do
    check "man page $page(8) in rtpengine-rs-daemon" \
        bash -c "dpkg-deb -c '$daemon_deb' | grep ' \./usr/share/man/man8/$page\.8\.gz\$' >/dev/null"
done

# The unprivileged system user.
IFS=: read -r _ _ uid gid _ _ shell <<<"$(getent passwd "$user")"
if [ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$uid" -ne 0 ] && [ "$shell" = /usr/sbin/nologin ] &&
    [ "$(getent group "$gid" | cut -d: -f1)" = "$user" ]; then
    ok "system user $user (uid $uid, group $user, no login)"
else
    not_ok "system user $user" "$(getent passwd "$user")"
fi

# The systemd unit (no systemd in the VM: checked statically).
unit=/lib/systemd/system/rtpengined.service
out=$(systemd-analyze verify "$unit" 2>&1)
rc=$?
# It loads every unit on the system and also warns about other packages'
# units (graphite-carbon's carbon-cache.service does): only ours count.
out=$(grep -vE '^/[^:]*/systemd/system/[^/:]+:[0-9]+: ' <<<"$out" | grep -v '^$'
    grep -E '^/[^:]*/systemd/system/rtpengined\.service:' <<<"$out")
if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify rtpengined.service"; else not_ok "systemd-analyze verify rtpengined.service" "$out"; fi
for line in "User=$user" "CapabilityBoundingSet=" "AmbientCapabilities=" "NoNewPrivileges=yes" \
    "ExecStartPre=+/usr/sbin/rtpengine-rs-setup start" "ExecStopPost=+/usr/sbin/rtpengine-rs-setup stop-post" "StateDirectory=rtpengine-rs"; do
    check "unit: $line" grep -qxF -- "$line" "$unit"
done
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
check "unit: ExecStart runs the packaged daemon with the packaged config" \
    grep -qF -- "/usr/bin/rtpengined --foreground" <<<"$exec_start"

# ---- DKMS ----
# No kernel build tree at /lib/modules/$kver/build, so the package's postinst only
# registered the source; the build for this kernel ran on the host (build-packages
# --dkms-kernel). Replace the registration by the tarball holding source and build.
st=$(dkms status -m rtpengine-rs -v "$version")
check "postinst registered the module with DKMS ($st)" grep -q ': added' <<<"$st"
out=$( { dkms remove -m rtpengine-rs -v "$version" --all &&
    dkms ldtarball --archive "$debs/rtpengine-rs-$version-$kver.dkms.tar.gz" &&
    dkms install -m rtpengine-rs -v "$version" -k "$kver"; } 2>&1)
rc=$?
ko=$(modinfo -n xt_RTPENGINE 2>&1)
if [ $rc -eq 0 ] && [[ $ko == /lib/modules/$kver/updates/* ]]; then
    ok "dkms install of the packaged source: modprobe finds $ko"
else
    not_ok "dkms install of the packaged source" "exit $rc" "$out" "modinfo -n: $ko"
fi

# ---- setup helper ----
# rule_count PROG CHAIN SPEC: copies of a rule as -S prints it.
rule_count() { "$1" -w -S "$2" 2>/dev/null | grep -cxF -- "-A $2 $3"; }

# Forwards one datagram through a kernel target that the daemon's user adds through
# /proc/rtpengine/TABLE/control (rtpengine 10.5 binary messages): A → P1 → B, in the
# kernel (the socket on P1 sees nothing; B sees it coming from P1).
user_forward() {  # TABLE
    setpriv --reuid="$user" --regid="$user" --init-groups "$PY" - "$1" <<'PY'
import socket, struct, sys
table = int(sys.argv[1])
MSG = 1232
def addr(port):  # struct rtpengine_address: family, 16 address bytes, port (host order)
    return struct.pack("<i16sH2x", socket.AF_INET, socket.inet_aton("127.0.0.1"), port)
def msg(cmd, payload):
    m = bytearray(MSG)
    struct.pack_into("<I", m, 0, cmd)
    m[8:8 + len(payload)] = payload
    return bytes(m)
def udp(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.settimeout(2)
    return s
p1, b, a = udp(), udp(), udp()
P1, B = p1.getsockname()[1], b.getsockname()[1]
target = bytearray(1224)
target[0:24] = addr(P1)
struct.pack_into("<I", target, 52, 1)        # num_destinations
struct.pack_into("<II", target, 64, 1, 1)    # decrypt: NULL cipher, NULL hmac
dest = bytearray(472)
dest[0:24] = addr(P1)                        # target
struct.pack_into("<I", dest, 24, 0)          # output 0
dest[32:56] = addr(P1)                       # output source
dest[56:80] = addr(B)                        # output destination
struct.pack_into("<II", dest, 80, 1, 1)      # encrypt: NULL cipher, NULL hmac
with open(f"/proc/rtpengine/{table}/control", "r+b", buffering=0) as c:
    c.write(msg(2, bytes(target)))           # ADD_TARGET
    c.write(msg(4, bytes(dest)))             # ADD_DESTINATION
    payload = b"\x80\x00\x00\x01" + b"\x00" * 8 + b"kernelized by an unprivileged user"
    a.sendto(payload, ("127.0.0.1", P1))
    data, src = b.recvfrom(2048)
    assert data == payload, data
    assert src == ("127.0.0.1", P1), src
    p1.settimeout(0.3)
    try:
        p1.recv(2048)
        sys.exit("P1's socket received the datagram: not forwarded in the kernel")
    except socket.timeout:
        pass
    c.write(msg(3, addr(P1) + bytes(1224 - 24)))  # DEL_TARGET
PY
}

setup() { IPTABLES_BACKEND=$backend /usr/sbin/rtpengine-rs-setup "$@" 2>&1; }

# Loaded by hand without owner parameters: start must reload it for the user.
modprobe xt_RTPENGINE
for backend in legacy nft; do
    table=0
    if [ $backend = nft ]; then
        # The table comes from the daemon's config file.
        table=7
        sed -i 's/^table = .*/table = 7/' /etc/rtpengine-rs/rtpengined.conf
    fi
    out1=$(setup start)
    rc1=$?
    out2=$(setup start)
    rc2=$?
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then
        ok "$backend: rtpengine-rs-setup start, twice"
    else
        not_ok "$backend: rtpengine-rs-setup start, twice" "$rc1: $out1" "$rc2: $out2"
    fi
    for prog in iptables-$backend ip6tables-$backend; do
        j=$(rule_count "$prog" INPUT "-p udp -j rtpengine")
        r=$(rule_count "$prog" rtpengine "-p udp -j RTPENGINE --id $table")
        n=$("$prog" -w -S rtpengine 2>/dev/null | grep -c '^-A ')
        if [ "$j/$r/$n" = 1/1/1 ]; then
            ok "$backend: $prog has exactly one INPUT jump and one RTPENGINE --id $table rule"
        else
            not_ok "$backend: $prog has exactly one INPUT jump and one RTPENGINE --id $table rule" \
                "jumps/rules/chain rules: $j/$r/$n" "$("$prog" -w -S 2>&1)"
        fi
    done
    params=$(cat /sys/module/xt_RTPENGINE/parameters/proc_uid /sys/module/xt_RTPENGINE/parameters/proc_gid 2>&1 | tr '\n' /)
    check "$backend: module loaded with proc_uid=$uid proc_gid=$gid ($params)" [ "$params" = "${uid:-none}/$gid/" ]
    owner=$(stat -c %U:%G "/proc/rtpengine/$table/control" 2>&1)
    check "$backend: /proc/rtpengine/$table/control belongs to $user ($owner)" [ "$owner" = "$user:$user" ]
    if out=$(user_forward "$table" 2>&1); then
        ok "$backend: $user kernelizes a stream in table $table and the kernel forwards it"
    else
        not_ok "$backend: $user kernelizes a stream in table $table and the kernel forwards it" "$out"
    fi
    if [ $backend = legacy ]; then
        out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" -c \
            "open('/proc/rtpengine/$table/control', 'r+b')" 2>&1)
        if grep -q PermissionError <<<"$out"; then
            ok "other users cannot open the control file"
        else
            not_ok "other users cannot open the control file" "$out"
        fi
        status=$(setup status)
        if grep -q "iptables-legacy: 1 INPUT jump(s), 1 RTPENGINE --id 0 rule(s)" <<<"$status"; then
            ok "status reports the rules"
        else
            not_ok "status reports the rules" "$status"
        fi
    fi
    out1=$(setup stop)
    rc1=$?
    out2=$(setup stop)
    rc2=$?
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then
        ok "$backend: rtpengine-rs-setup stop, twice"
    else
        not_ok "$backend: rtpengine-rs-setup stop, twice" "$rc1: $out1" "$rc2: $out2"
    fi
    for prog in iptables-$backend ip6tables-$backend; do
        j=$(rule_count "$prog" INPUT "-p udp -j rtpengine")
        if [ "$j" = 0 ] && ! "$prog" -w -S rtpengine >/dev/null 2>&1; then
            ok "$backend: $prog: no INPUT jump and no rtpengine chain left"
        else
            not_ok "$backend: $prog: no INPUT jump and no rtpengine chain left" "$("$prog" -w -S 2>&1)"
        fi
    done
    if [ ! -d "/proc/rtpengine/$table" ] && [ ! -d /sys/module/xt_RTPENGINE ]; then
        ok "$backend: table $table deleted and module unloaded"
    else
        not_ok "$backend: table $table deleted and module unloaded" "$(ls /proc/rtpengine 2>&1)"
    fi
done
sed -i 's/^table = .*/table = 0/' /etc/rtpengine-rs/rtpengined.conf

# A kernelized call through the packaged service as systemd would run it: setup helper
# as root, then the unit's ExecStart (with /etc/default's RTPENGINED_OPTS) as the
# unprivileged user, media between two namespaces (helpers of tests/vm/offload*.sh).
# shellcheck disable=SC2120 # set -- below replaces the (absent) arguments
packaged_call() {
    local unit_cmd
    # shellcheck source=offload-common.inc
    . "$RTPE_ROOT/tests/vm/offload-common.inc"
    net_setup
    sed -i 's/^interface = .*/interface = 10.0.1.1/' /etc/rtpengine-rs/rtpengined.conf
    sed -i 's/^RTPENGINED_OPTS=.*/RTPENGINED_OPTS="--delete-delay=0"/' /etc/default/rtpengine-rs
    out=$(/usr/sbin/rtpengine-rs-setup start 2>&1) || nok "setup helper start for the call" "$out"
    # shellcheck disable=SC1091
    . /etc/default/rtpengine-rs
    unit_cmd=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/rtpengined.service)
    eval "set -- $unit_cmd"
    setpriv --reuid="$user" --regid="$user" --init-groups "$@" >>"$LOG" 2>&1 &
    DPID=$!
    for _ in $(seq 1 50); do
        python3 "$L" ping 2223 >/dev/null 2>&1 && break
        sleep 0.2
    done
    check "packaged daemon as $user: kernel forwarding enabled" grep -q "kernel forwarding enabled" "$LOG"
    check "daemon runs as $user" [ "$(stat -c %U "/proc/$DPID")" = "$user" ]
    kernel_call pc1
    check "packaged daemon saves calls in /var/lib/rtpengine-rs/calls" [ -d /var/lib/rtpengine-rs/calls ]
    daemon_stop
    # ExecStopPost: a crash keeps the table (calls flow on), so does `keep`; a clean
    # stop removes it.
    out=$(SERVICE_RESULT=signal /usr/sbin/rtpengine-rs-setup stop-post 2>&1)
    check "stop-post after a crash keeps the table ($out)" [ -d /proc/rtpengine/0 ]
    /usr/sbin/rtpengine-rs-setup keep >/dev/null
    out=$(SERVICE_RESULT=success /usr/sbin/rtpengine-rs-setup stop-post 2>&1)
    check "stop-post after keep keeps the table ($out)" [ -d /proc/rtpengine/0 ]
    out=$(SERVICE_RESULT=success /usr/sbin/rtpengine-rs-setup stop-post 2>&1) || nok "setup helper stop-post after the call" "$out"
    check "clean stop-post removes table and module" [ ! -d /proc/rtpengine ]
    [ $FAILS -eq 0 ] || { echo "# daemon log:"; tail -n 20 "$LOG" | sed 's/^/#   /'; }
    exit "$FAILS"
}
(packaged_call) || failures=$((failures + 1))
sed -i 's/^interface = .*/interface = 127.0.0.1/' /etc/rtpengine-rs/rtpengined.conf

# Missing iptables extension: one sentence naming the package to install.
mv "$xtdir/libxt_RTPENGINE.so" /tmp/libxt_RTPENGINE.so.away
backend=legacy
out=$(setup start)
rc=$?
if [ $rc -ne 0 ] && grep -qF "install rtpengine-rs-iptables" <<<"$out"; then
    ok "missing libxt_RTPENGINE.so: start fails naming rtpengine-rs-iptables"
else
    not_ok "missing libxt_RTPENGINE.so: start fails naming rtpengine-rs-iptables" "exit $rc: $out"
fi
mv /tmp/libxt_RTPENGINE.so.away "$xtdir/libxt_RTPENGINE.so"
setup stop >/dev/null

# ---- removal ----
out=$(dpkg -r $packages 2>&1)
rc=$?
left=$(ls /usr/bin/rtpengined /usr/sbin/rtpengine-rs-setup "$xtdir/libxt_RTPENGINE.so" "/usr/src/rtpengine-rs-$version" \
    "/lib/modules/$kver/updates/dkms/xt_RTPENGINE.ko" 2>/dev/null)
if [ $rc -eq 0 ] && [ -z "$left" ] && [ -z "$(dkms status -m rtpengine-rs)" ]; then
    ok "dpkg -r removes binaries, DKMS source and the installed module"
else
    not_ok "dpkg -r removes binaries, DKMS source and the installed module" "exit $rc" "$out" "left: $left" "$(dkms status)"
fi
out=$(IPTABLES_BACKEND=legacy "$RTPE_ROOT/scripts/rtpengine-rs-setup" start 2>&1)
if [ $? -ne 0 ] && grep -qF "cannot load xt_RTPENGINE for kernel $kver" <<<"$out" && grep -qF "rtpengine-rs-kernel-dkms" <<<"$out"; then
    ok "no module installed: start says which package and to check dkms status"
else
    not_ok "no module installed: start says which package" "$out"
fi

echo "# packages: $failures failed"
[ $failures -eq 0 ]
