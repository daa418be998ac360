#!/bin/bash
# Issue 9: lifecycle faults on the debug kernel (SIGKILLed controller ×100, rmmod with a
# rule, unload while packets flow, many threads on one control fd), then a kmemleak scan.
leaks=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e $leaks ] && echo clear > $leaks
start=$(date +%s)
# A private copy: the suite re-executes itself 100 times, and a host rebuild of
# target/release mid-run would tear the binary under it.
cp "$(command -v rtpe-vmtest)" /tmp/rtpe-vmtest-lifecycle || exit 1
/tmp/rtpe-vmtest-lifecycle lifecycle
rc=$?
echo "# lifecycle suite: $(( $(date +%s) - start )) s"
if [ -e $leaks ]; then
    sleep 6
    echo scan > $leaks; sleep 1; echo scan > $leaks
    report=$(cat $leaks)
    if [ -z "$report" ]; then echo "ok - lifecycle: kmemleak scan finds no leak"
    else echo "not ok - lifecycle: kmemleak reports leaks"; echo "$report" | head -n 40; fi
else
    echo "# no $leaks on this kernel (not the debug variant): leak check skipped"
fi
exit $rc
