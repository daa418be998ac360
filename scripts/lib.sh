# Shared settings for the rtpengine-rs scripts. Source it; do not run it.
# Everything built outside the repo lives under $RTPE_CACHE, keyed by input hashes.

RTPE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RTPE_CACHE=${RTPE_CACHE:-/var/cache/rtpengine-rs}
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-6.12.tar.xz}

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The kernel must be built by Debian's rustc-web, never by a rustup toolchain on PATH.
kernel_rustc_setup() {
    KRUSTC=/usr/bin/rustc
    KRUSTDOC=/usr/bin/rustdoc
    [ -x "$KRUSTC" ] || die "$KRUSTC missing: run scripts/install-deps"
    local ver
    ver=$("$KRUSTC" --version | awk '{print $2}')
    KRUST_LIB_SRC=/usr/src/rustc-$ver/library
    [ -d "$KRUST_LIB_SRC" ] || die "$KRUST_LIB_SRC missing: install rust-web-src matching rustc $ver"
    KBINDGEN=$(command -v bindgen || true)
    [ -n "$KBINDGEN" ] || KBINDGEN=$HOME/.cargo/bin/bindgen
    [ -x "$KBINDGEN" ] || die "bindgen missing: run scripts/install-deps"
    KMAKE_FLAGS=(LLVM=1 "RUSTC=$KRUSTC" "RUSTDOC=$KRUSTDOC" "BINDGEN=$KBINDGEN"
                 "RUST_LIB_SRC=$KRUST_LIB_SRC")
}

# Hash of everything that determines the test kernel for a variant.
kernel_key() {
    local variant=$1
    kernel_rustc_setup
    {
        echo "variant=$variant"
        stat -c '%s %Y' "$KERNEL_TARBALL"
        "$KRUSTC" --version
        "$KBINDGEN" --version
        clang --version | head -n1
        cat "$RTPE_ROOT/scripts/kernel/test.config"
        [ "$variant" = debug ] && cat "$RTPE_ROOT/scripts/kernel/debug.config"
        cat "$RTPE_ROOT/scripts/build-test-kernel"
    } | sha256sum | cut -c1-16
}

kernel_dir() { echo "$RTPE_CACHE/kernel-$1-$(kernel_key "$1")"; }
