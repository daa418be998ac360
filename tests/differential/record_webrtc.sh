#!/usr/bin/env bash
# Re-record the WebRTC <-> SIP fixtures from Debian's rtpengine 10.5 (package rtpengine-daemon).
# Starts a private daemon on loopback (no kernel table), records, stops it.
# Usage: tests/differential/record_webrtc.sh [OUTDIR]   (default rtpengined/tests/fixtures/webrtc)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../rtpengined/tests/fixtures/webrtc}
ng_port=${NG_PORT:-22470}
command -v rtpengine >/dev/null || { echo "install rtpengine-daemon first" >&2; exit 1; }

log=$(mktemp)
# The interface set the fixture test assumes (see rtpengined/tests/webrtc_daemon.rs).
rtpengine --table=-1 --interface=127.0.0.1 --interface=::1 \
  --interface=internal/127.0.0.2 --interface=external/127.0.0.3 \
  --listen-ng=127.0.0.1:"$ng_port" --foreground --log-stderr \
  --port-min=37000 --port-max=37999 --log-level=5 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do
  python3 -c "
import sys; sys.path.insert(0, '$here')
from ng_client import NgClient
NgClient(port=$ng_port, timeout=0.2).request({'command': 'ping'})" 2>/dev/null && break
  sleep 0.2
done
rm -rf "$out.new"
NG_PORT=$ng_port python3 "$here/record_webrtc_fixtures.py" "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "fixtures in $out"
