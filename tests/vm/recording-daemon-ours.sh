#!/bin/bash
# Issue 19: recording-daemon.sh on OUR module: rtpengined --recording-method=proc and
# Debian's rtpengine-recording (10.5) through xt_RTPENGINE's recording commands.
exec env RTPE_REC_MODULE=ours "$(dirname "$0")/recording-daemon.sh"
