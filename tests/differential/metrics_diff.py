#!/usr/bin/env python3
"""Differential test of `GET /metrics` (--listen-http): Debian's rtpengine
10.5 and rtpengined get the same calls over ng (the CLI differential's set,
with a few RTP packets relayed), then both expositions are parsed and
compared: each metric family's type and help text, each sample's presence
(name and labels) and value, and the order of the samples. Values that
depend on time (uptime, call durations, request timings) are not compared.

  tests/differential/metrics_diff.py [--slot K] [--media-base M] [path/to/rtpengined]

Prints each difference and ends with "metrics-diff: N passed, M failed"
(one case per family, per sample and one for the order)."""
import argparse
import os
import re
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_diff import CALLS, media_port, send_media  # noqa: E402
from daemons import command, start_pinged, stop  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# ng, HTTP and media ports of both daemons; --slot K moves them by 10*K (ng,
# HTTP) and 1000*K (media) so that runs of several checkouts do not collide.
REF = {"name": "10.5", "ng": 22940, "http": 22950, "ports": (40000, 40499)}
OURS = {"name": "ours", "ng": 22941, "http": 22951, "ports": (40500, 40999)}

# Samples whose values depend on time or on the run.
TIMED = {"uptime_seconds", "call_duration_avg", "call_duration_total",
         "call_duration2_total", "request_seconds_total"}

SAMPLE = re.compile(r'^rtpengine_([a-zA-Z0-9_]+)(\{[^}]*\})? (\S+)$')


def parse(text):
    """Families {name: [type, help]}, samples {(name, labels): value} and
    the samples' order."""
    families, samples, order = {}, {}, []
    for line in text.splitlines():
        if line.startswith("# HELP rtpengine_"):
            name, _, help_text = line[len("# HELP rtpengine_"):].partition(" ")
            families.setdefault(name, [None, None])[1] = help_text
        elif line.startswith("# TYPE rtpengine_"):
            name, _, kind = line[len("# TYPE rtpengine_"):].partition(" ")
            families.setdefault(name, [None, None])[0] = kind
        elif line:
            m = SAMPLE.match(line)
            if not m:
                key = ("<unparsable>", line)
                samples[key] = None
                order.append(key)
                continue
            key = (m.group(1), m.group(2) or "")
            samples[key] = m.group(3)
            order.append(key)
    return families, samples, order


def start(spec, binary, logdir):
    cmd = command(binary, spec["ng"], spec["ports"], "--listen-http=127.0.0.1:%d" % spec["http"])
    return start_pinged(cmd, logdir, spec["name"], spec["ng"],
                        ready=lambda: fetch(spec, "/ping") is not None)


def fetch(spec, path):
    url = "http://127.0.0.1:%d%s" % (spec["http"], path)
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--media-base", type=int, help="media ports M..M+999 instead of the slot's")
    args = ap.parse_args()
    for i, spec in enumerate((REF, OURS)):
        spec["ng"] += 10 * args.slot
        spec["http"] += 10 * args.slot
        spec["ports"] = tuple(p - 1000 * args.slot for p in spec["ports"])
        if args.media_base:
            spec["ports"] = (args.media_base + 500 * i, args.media_base + 500 * i + 499)
    if not os.path.exists("/usr/bin/rtpengine"):
        print("FAIL: /usr/bin/rtpengine missing (scripts/install-deps)")
        print("metrics-diff: 0 passed, 1 failed")
        return 1
    logdir = tempfile.mkdtemp(prefix="metrics-diff-")
    daemons = []
    passed = failed = 0

    def case(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("DIFF %s" % what)

    try:
        for spec, binary in ((REF, "/usr/bin/rtpengine"), (OURS, args.binary)):
            daemons.append((spec,) + start(spec, binary, logdir))
        media = [{}, {}]
        for msg in CALLS:
            replies = [c.request(msg) for _, _, c in daemons]
            if [r.get("result") for r in replies] != [b"ok", b"ok"]:
                print("setup %s: %r" % (msg["command"], replies))
            if msg["call-id"] == "cli-a":
                for i, r in enumerate(replies):
                    media[i][msg["command"]] = media_port(r)
        for i, (spec, _, _) in enumerate(daemons):
            got = send_media(media[i]["offer"], media[i]["answer"])
            if got != 11:
                print("media through %s: %d of 11 packets arrived" % (spec["name"], got))
        (rf, rs, ro), (of, os_, oo) = (parse(fetch(spec, "/metrics")) for spec, _, _ in daemons)
        for name in sorted(set(rf) | set(of)):
            case(rf.get(name) == of.get(name),
                 "family %s: 10.5 %r, ours %r" % (name, rf.get(name), of.get(name)))
        for key in sorted(set(rs) | set(os_)):
            label = "rtpengine_%s%s" % key
            if key not in rs or key not in os_:
                case(False, "sample %s only in %s" % (label, "10.5" if key in rs else "ours"))
                continue
            same = key[0] in TIMED or rs[key] == os_[key]
            case(same, "sample %s: 10.5 %s, ours %s" % (label, rs[key], os_[key]))
        case(ro == oo, "sample order: 10.5 %r, ours %r" % (
            [k for k in ro if k not in oo][:3], [k for k in oo if k not in ro][:3]))
    finally:
        stop([proc for _, proc, _ in daemons])
    print("logs: %s" % logdir)
    print("metrics-diff: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
