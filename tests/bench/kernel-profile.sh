#!/bin/bash
# Runs inside the VM (see scripts/bench-kernel --profile): the forwarding benchmark once
# per module (ours, then Debian's stock rtpengine 10.5), each case's sending phase under
# `perf record -a` (cpu-clock sampling; TCG has no PMU), then per case and module the
# functions where the samples fell, idle excluded.
set -eu
kver=$(uname -r)
ours_ko=/lib/modules/$kver/extra/xt_RTPENGINE.ko
stock_ko=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
cp "$ours_ko" /tmp/ours.ko
echo "# profile: ${RTPE_BENCH_PACKETS:-50000} packets, cases: ${RTPE_BENCH_CASES:-all}"
for who in ours stock; do
    ko=/tmp/ours.ko; [ $who = stock ] && ko=$stock_ko
    cp "$ko" "$ours_ko" && depmod -a "$kver"
    rtpe-vmtest bench >/dev/null   # warm-up
    RTPE_BENCH_PERF=/tmp/perf.$who rtpe-vmtest bench | sed "s/^/$who /"
done
for f in /tmp/perf.ours.*.data; do
    case_no=${f#/tmp/perf.ours.}; case_no=${case_no%.data}
    for who in ours stock; do
        base=/tmp/perf.$who.$case_no
        echo "# case $case_no, $who: samples by function (idle excluded), top 40"
        perf report -q -i "$base.data" --kallsyms="$base.kallsyms" --stdio --sort dso,sym \
            --percent-limit 0.3 2>/dev/null | grep -v -e '^$' -e default_idle -e do_idle -e 'cpuidle' \
            | head -n 40
        echo "# case $case_no, $who: share by object"
        perf report -i "$base.data" --kallsyms="$base.kallsyms" --stdio --sort dso 2>/dev/null | grep -v "^#\s*$" | grep -e "Samples" -e "%" | grep -v '^$' | head -n 8
    done
done
