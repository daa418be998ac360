#!/usr/bin/env bash
# Shared by the fixture recorders: start a private Debian rtpengine 10.5 (package
# rtpengine-daemon) on loopback without a kernel table, with the interface set the
# fixture tests assume, run RECORDER against it, and replace OUTDIR with what it
# wrote. Usage: record_with_10_5.sh RECORDER OUTDIR NG_PORT PORT_MIN PORT_MAX
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
recorder=$1 out=$2 ng_port=$3 port_min=$4 port_max=$5
command -v rtpengine >/dev/null || { echo "install rtpengine-daemon first" >&2; exit 1; }

log=$(mktemp)
rtpengine --table=-1 --interface=127.0.0.1 --interface=::1 \
  --interface=internal/127.0.0.2 --interface=external/127.0.0.3 \
  --listen-ng=127.0.0.1:"$ng_port" --foreground --log-stderr \
  --port-min="$port_min" --port-max="$port_max" --log-level=5 >"$log" 2>&1 &
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
NG_PORT=$ng_port python3 "$here/$recorder" "$out.new"
rm -rf "$out"
mv "$out.new" "$out"
echo "fixtures in $out"
