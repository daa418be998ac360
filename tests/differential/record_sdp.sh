#!/usr/bin/env bash
# Re-record the SDP fixtures from Debian's rtpengine 10.5 (package rtpengine-daemon);
# the interface set is the one rtpengined/tests/sdp_fixtures.rs assumes.
# Usage: tests/differential/record_sdp.sh [OUTDIR]   (default rtpengined/tests/fixtures/sdp)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/record_with_10_5.sh" record_sdp_fixtures.py \
  "${1:-$here/../../rtpengined/tests/fixtures/sdp}" "${NG_PORT:-22460}" 36000 36999
