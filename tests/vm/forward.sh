#!/bin/bash
# Issue 3: in-kernel forwarding between namespaces, counters, list/blist, errnos, 5000 targets.
exec rtpe-vmtest forward
