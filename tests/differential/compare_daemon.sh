#!/usr/bin/env bash
# Run rtpengined with the recording interfaces and replay the SDP corpus against
# it, comparing with rtpengine 10.5's recorded outputs (see replay_sdp_fixtures.py).
# Usage: tests/differential/compare_daemon.sh [path/to/rtpengined]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../target/debug/rtpengined}
ng_port=${NG_PORT:-22470}
log=$(mktemp)
"$bin" --table=-1 --interface=127.0.0.1 --interface=::1 \
  --interface=internal/127.0.0.2 --interface=external/127.0.0.3 \
  --listen-ng=127.0.0.1:"$ng_port" --foreground --log-stderr \
  --port-min=37000 --port-max=37999 >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do
  python3 -c "
import sys; sys.path.insert(0, '$here')
from ng_client import NgClient
NgClient(port=$ng_port, timeout=0.2).request({'command': 'ping'})" 2>/dev/null && break
  sleep 0.2
done
NG_PORT=$ng_port python3 "$here/replay_sdp_fixtures.py"
