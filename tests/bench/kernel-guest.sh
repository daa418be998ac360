#!/bin/bash
# Runs inside the VM (see scripts/bench-kernel): the forwarding benchmark alternately for
# our module and Debian's stock rtpengine 10.5 module in the same boot (ROUNDS rounds,
# the first one a warm-up that is not counted), then per case the mean rates and the
# median, minimum and maximum of the per-round ratios (ours and 10.5 measured back to
# back in one round; the order rotates from round to round). With RTPE_BENCH_BEFORE_KO (another build of ours, such as the
# commit before a change) that module runs in every round too.
set -eu
kver=$(uname -r)
ours_ko=/lib/modules/$kver/extra/xt_RTPENGINE.ko
stock_ko=${RTPE_STOCK_KO:-/var/cache/rtpengine-rs/stock-10.5/src/xt_RTPENGINE.ko}
before_ko=${RTPE_BENCH_BEFORE_KO:-}
cp "$ours_ko" /tmp/ours.ko
rounds=${ROUNDS:-3}
who_all="ours stock"
[ -n "$before_ko" ] && who_all="before ours stock"
echo "# ${RTPE_BENCH_PACKETS:-50000 (default)} packets per case, $rounds rounds, cases: ${RTPE_BENCH_CASES:-all}, modules: $who_all"
: >/tmp/results
for r in $(seq 1 "$rounds"); do
    # Each round starts with another module, so that no module always runs right
    # after the same other one.
    mods=($who_all)
    for i in "${!mods[@]}"; do
        who=${mods[$(( (i + r - 1) % ${#mods[@]} ))]}
        case $who in
            ours) ko=/tmp/ours.ko ;;
            stock) ko=$stock_ko ;;
            before) ko=$before_ko ;;
        esac
        cp "$ko" "$ours_ko" && depmod -a "$kver"
        echo "# round $r: $who"
        rtpe-vmtest bench | tee /tmp/run
        [ "$r" -gt 1 ] && sed -n "s/^bench: \(.*\) \([0-9]*\) pps.*/$r|$who|\1|\2/p" /tmp/run >>/tmp/results
    done
done
echo "# in-kernel forwarding, rtpengine-rs vs rtpengine 10.5 (same VM boot, TCG; $((rounds - 1)) counted rounds; higher is better)"
awk -F'|' '
    function sort(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    }
    function median(a, n) { return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    {
        pps[$1 "|" $2 "|" $3] = $4; sum[$2 "|" $3] += $4; cnt[$2 "|" $3]++
        if (!($3 in seen)) { seen[$3] = 1; order[++k] = $3 }
        if (!($1 in rs)) { rs[$1] = 1; rounds[++nr] = $1 }
        if ($2 == "before") have_before = 1
    }
    function report(c, who, label,   i, n, r, a, o, s) {
        n = 0
        for (i = 1; i <= nr; i++) {
            r = rounds[i]; o = pps[r "|" who "|" c]; s = pps[r "|stock|" c]
            if (o != "" && s > 0) a[++n] = o / s
        }
        sort(a, n)
        o = sum[who "|" c] / cnt[who "|" c]; s = sum["stock|" c] / cnt["stock|" c]
        printf "ratio: %-52s %-6s %7.0f pps, 10.5 %7.0f pps, %s/10.5 median %.2f (min %.2f, max %.2f, %d rounds)\n", c, label, o, s, label, median(a, n), a[1], a[n], n
    }
    END {
        for (i = 1; i <= k; i++) {
            if (have_before) report(order[i], "before", "before")
            report(order[i], "ours", "ours")
        }
    }' /tmp/results
