#!/bin/bash
# Issue 2: /proc/rtpengine tables, errors, status, module parameters, rmmod rules.
exec rtpe-vmtest tables
