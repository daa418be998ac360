#!/bin/bash
# Issue 19 on the debug kernel (KASAN, kmemleak, lockdep, panic_on_warn): stream files
# read blocking, non-blocking and through epoll while packets are intercepted and the
# stream is deleted and added again; then `del N` under all of them, rmmod with the
# files and the epoll registration still open, and the files closed after the module
# is gone. Then a kmemleak scan.
# Usage: recording.sh [SECONDS of churn (default 20)]
leaks=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e $leaks ] && echo clear > $leaks
rtpe-vmtest recording-stress "${1:-20}"
rc=$?
if [ -e $leaks ]; then
    sleep 6
    echo scan > $leaks; sleep 1; echo scan > $leaks
    report=$(cat $leaks)
    if [ -z "$report" ]; then echo "ok - recording: kmemleak scan finds no leak"
    else echo "not ok - recording: kmemleak reports leaks"; echo "$report" | head -n 40; rc=1; fi
else
    echo "# no $leaks on this kernel (not the debug variant): leak check skipped"
fi
exit $rc
