#!/bin/bash
# Issue 8: DKMS installs xt_RTPENGINE for the running test kernel (dkms add; the build
# with --kernelsourcedir ran on the host, see below; dkms install), the DKMS-built module
# is the one modprobe loads and it forwards (the forward suite); kernels without Rust or without a matching rustc are
# refused with one sentence; dkms remove takes the module away again.
# Runs as root inside the test VM (scripts/vm-run tests/vm/dkms.sh).
set -u
. "$RTPE_ROOT/scripts/lib.sh"

failures=0
ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    [ $# -gt 0 ] && printf '%s\n' "$@" | sed 's/^/#   /'
    failures=$((failures + 1))
}

kver=$(uname -r)
kdir=$(kernel_dir default)
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$RTPE_ROOT/Cargo.toml")
name=rtpengine-rs
src=/usr/src/$name-$version

if [ -f "$kdir/.config" ] && [ "$(cat "$kdir/include/config/kernel.release")" = "$kver" ]; then
    ok "test kernel build tree for $kver"
else
    not_ok "test kernel build tree for $kver" "looked at $kdir"
    exit 1
fi

# The source tree as the DKMS package installs it, then the build for this kernel: that
# ran on the host (scripts/build-packages --dkms-kernel: dkms build --kernelsourcedir
# against this kernel's tree, ~5 min under TCG), saved as a binaries-only DKMS tarball.
# ldtarball registers the source (dkms add) and loads the build next to it.
tarball=$RTPE_ROOT/target/debian/$name-$version-$kver.dkms.tar.gz
out=$("$RTPE_ROOT/dkms/make-source-tree" "$src" "$version" 2>&1 && dkms ldtarball --archive "$tarball" 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -L "/var/lib/dkms/$name/$version/source" ] &&
    dkms status -m "$name" -v "$version" -k "$kver" | grep -q ': built'; then
    ok "dkms add (ldtarball): source in $src, the host's build for $kver loaded"
else
    not_ok "dkms ldtarball of $tarball (run scripts/build-packages --dkms-kernel \$(scripts/build-test-kernel) first)" \
        "exit $rc" "$out"
fi

# Take away the copy the VM harness installed, so only the DKMS one can load (DKMS would
# also refuse to shadow a module of the same version).
rm -f "/lib/modules/$kver/extra/xt_RTPENGINE.ko"
depmod -a "$kver"
out=$(dkms install -m "$name" -v "$version" -k "$kver" 2>&1)
rc=$?
dkms_ko=$(find "/lib/modules/$kver/updates" -name 'xt_RTPENGINE.ko*' 2>/dev/null | head -n1)
if [ $rc -eq 0 ] && [ -n "$dkms_ko" ] && dkms status -m "$name" -v "$version" -k "$kver" | grep -q ': installed'; then
    ok "dkms install puts the module in ${dkms_ko%/*}"
else
    not_ok "dkms install" "exit $rc" "$out"
fi

buildlog=/var/lib/dkms/$name/$version/$kver/$(uname -m)/log/make.log
if grep -q "^rtpengine-rs-kbuild: make -C .* M=.* RUSTC=/.*/rustc .*LLVM=1" "$buildlog" 2>/dev/null; then
    ok "the DKMS build used the kernel's rustc and LLVM=1 (make.log)"
else
    not_ok "the DKMS build used the kernel's rustc and LLVM=1" "$(head -n 5 "$buildlog" 2>&1)"
fi

resolved=$(modinfo -n xt_RTPENGINE 2>&1)
if [ -n "$dkms_ko" ] && [ "$resolved" = "$dkms_ko" ]; then
    ok "modinfo -n resolves xt_RTPENGINE to the DKMS-built file"
else
    not_ok "modinfo -n resolves xt_RTPENGINE to the DKMS-built file" "modinfo -n: $resolved" "dkms: $dkms_ko"
fi

# The forward suite loads the module itself; its summary line says how it went.
fwd=$(rtpe-vmtest forward 2>&1)
rc=$?
summary=$(grep '^# forward:' <<<"$fwd")
if [ $rc -eq 0 ] && grep -q '^ok - modprobe' <<<"$fwd"; then
    ok "the DKMS-built module loads and forwards (${summary#\# })"
else
    not_ok "the DKMS-built module loads and forwards" "exit $rc" "$(grep -E '^not ok|^#' <<<"$fwd" | head -n 20)"
fi
# The module in the kernel is that file: same GNU build ID.
modprobe xt_RTPENGINE
loaded_id=$(od -An -tx1 /sys/module/xt_RTPENGINE/notes/.note.gnu.build-id 2>/dev/null | tr -d ' \n' | tail -c 40)
file_id=$(readelf -n "$dkms_ko" 2>/dev/null | sed -n 's/.*Build ID: *//p')
if [ -n "$file_id" ] && [ "$loaded_id" = "$file_id" ]; then
    ok "the loaded module has the DKMS-built file's build ID ($file_id)"
else
    not_ok "the loaded module has the DKMS-built file's build ID" "loaded '$loaded_id', file '$file_id'"
fi
rmmod xt_RTPENGINE

# Kernels the module cannot be built for: a copy of the test kernel's config with Rust
# switched off, and one that asks for a rustc that is not installed.
fake=/tmp/fake-kernels
mkdir -p "$fake/norust/include/config" "$fake/oldrust/include/config" "$fake/oldrust/rust"
grep -v '^CONFIG_RUST=' "$kdir/.config" >"$fake/norust/.config"
echo 6.12.0-norust >"$fake/norust/include/config/kernel.release"
sed -e 's/^CONFIG_RUSTC_VERSION=.*/CONFIG_RUSTC_VERSION=107800/' \
    -e 's/^CONFIG_RUSTC_VERSION_TEXT=.*/CONFIG_RUSTC_VERSION_TEXT="rustc 1.78.0 (9b00956e5 2024-04-29)"/' \
    "$kdir/.config" >"$fake/oldrust/.config"
touch "$fake/oldrust/rust/libkernel.rmeta"
echo 6.12.0-oldrust >"$fake/oldrust/include/config/kernel.release"

out=$(dkms build -m "$name" -v "$version" -k 6.12.0-norust --kernelsourcedir "$fake/norust" 2>&1)
rc=$?
if [ $rc -eq 77 ] && grep -q 'BUILD_EXCLUSIVE' <<<"$out"; then
    ok "dkms skips a kernel without CONFIG_RUST (BUILD_EXCLUSIVE_CONFIG, exit 77)"
else
    not_ok "dkms skips a kernel without CONFIG_RUST" "exit $rc" "$out"
fi
out=$(sh "$src/rtpengine-rs-kbuild" check "$fake/norust" "$src" 2>&1)
rc=$?
want="kernel 6.12.0-norust was built without Rust support (CONFIG_RUST is not set)"
if [ $rc -ne 0 ] && grep -qF "$want" <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ]; then
    ok "kbuild check: one sentence for a kernel without Rust"
else
    not_ok "kbuild check: one sentence for a kernel without Rust" "$out"
fi

out=$(dkms build -m "$name" -v "$version" -k 6.12.0-oldrust --kernelsourcedir "$fake/oldrust" 2>&1)
rc=$?
want="kernel 6.12.0-oldrust was built with rustc 1.78.0 (9b00956e5 2024-04-29) and no such rustc was found"
log=/var/lib/dkms/$name/$version/build/make.log
if [ $rc -ne 0 ] && grep -qF "$want" <<<"$out" && grep -qF "$want" "$log"; then
    ok "dkms build for a kernel whose rustc is missing fails with one sentence (terminal and make.log)"
else
    not_ok "dkms build for a kernel whose rustc is missing fails with one sentence" "exit $rc" "$out" \
        "$(tail -n 5 "$log" 2>&1)"
fi

out=$(sh "$src/rtpengine-rs-kbuild" build /nonexistent "$src" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -qF "no kernel configuration at /nonexistent/.config" <<<"$out"; then
    ok "kbuild: clear error for a missing kernel build tree"
else
    not_ok "kbuild: clear error for a missing kernel build tree" "$out"
fi

out=$(dkms remove -m "$name" -v "$version" --all 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$dkms_ko" ] && ! modinfo -n xt_RTPENGINE >/dev/null 2>&1; then
    ok "dkms remove --all removes the module"
else
    not_ok "dkms remove --all removes the module" "exit $rc" "$out" "$(modinfo -n xt_RTPENGINE 2>&1)"
fi

echo "# dkms: $failures failed"
[ $failures -eq 0 ]
