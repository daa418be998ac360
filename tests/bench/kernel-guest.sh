#!/bin/bash
# Runs inside the VM (see scripts/bench-kernel): the forwarding benchmark alternately for
# our module and Debian's stock rtpengine 10.5 module in the same boot (ROUNDS rounds,
# the first one a warm-up that is not counted), then the mean rates and their ratios.
set -eu
kver=$(uname -r)
ours_ko=/lib/modules/$kver/extra/xt_RTPENGINE.ko
stock_ko=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
cp "$ours_ko" /tmp/ours.ko
rounds=${ROUNDS:-3}
echo "# ${RTPE_BENCH_PACKETS:-50000 (default)} packets per case, $rounds rounds"
: >/tmp/results
for r in $(seq 1 "$rounds"); do
    for who in ours stock; do
        ko=/tmp/ours.ko; [ $who = stock ] && ko=$stock_ko
        cp "$ko" "$ours_ko" && depmod -a "$kver"
        echo "# round $r: $who"
        rtpe-vmtest bench | tee /tmp/run
        [ "$r" -gt 1 ] && sed -n "s/^bench: \(.*\) \([0-9]*\) pps.*/$who|\1|\2/p" /tmp/run >>/tmp/results
    done
done
echo "# in-kernel forwarding, rtpengine-rs vs rtpengine 10.5 (same VM boot, TCG; mean of $((rounds - 1)) rounds; higher is better)"
awk -F'|' '
    { sum[$1 "|" $2] += $3; n[$1 "|" $2]++; if (!($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
    END {
        for (i = 1; i <= k; i++) {
            c = order[i]; o = sum["ours|" c] / n["ours|" c]; s = sum["stock|" c] / n["stock|" c]
            if (i == 1) base = o
            printf "ratio: %-60s ours %7.0f pps, 10.5 %7.0f pps, ours/10.5 %.2f, ours vs plain %.2f\n", c, o, s, (s ? o / s : 0), o / base
        }
    }' /tmp/results
