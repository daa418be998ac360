#!/usr/bin/env bash
# Re-record the WebRTC <-> SIP fixtures from Debian's rtpengine 10.5 (package
# rtpengine-daemon); replayed by rtpengined/tests/webrtc_daemon.rs.
# Usage: tests/differential/record_webrtc.sh [OUTDIR]   (default rtpengined/tests/fixtures/webrtc)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/record_with_10_5.sh" record_webrtc_fixtures.py \
  "${1:-$here/../../rtpengined/tests/fixtures/webrtc}" "${NG_PORT:-22470}" 37000 37999
