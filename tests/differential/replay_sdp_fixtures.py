#!/usr/bin/env python3
"""Replay the recorded SDP corpus against any ng daemon (ours) and compare its SDP
with rtpengine 10.5's recorded output, up to the values that differ run to run
(ports, ICE credentials and foundations, loop-protect token), which are renamed
by order of first appearance so that equal structure compares equal.

    NG_PORT=2223 python3 tests/differential/replay_sdp_fixtures.py [FIXTURES]

The daemon must run with the recording interfaces (see compare_daemon.sh).
Exit status 1 if any exchange differs.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import NgClient  # noqa: E402
from record_sdp_fixtures import KAMAILIO, KAMAILIO_SKIP, kamailio_steps  # noqa: E402
from sdp_corpus import CASES  # noqa: E402


def normalize(sdp):
    names = {}

    def name(kind, value):
        key = (kind, value)
        if key not in names:
            names[key] = "%s%d" % (kind, sum(1 for k in names if k[0] == kind) + 1)
        return names[key]

    out = []
    for line in sdp.split("\n"):
        m = re.match(r"^(m=\S+ )(\d+)(.*)$", line)
        if m and m.group(2) != "0":
            line = m.group(1) + name("PORT", m.group(2)) + m.group(3)
        m = re.match(r"^(a=rtcp:)(\d+)(.*)$", line)
        if m:
            line = m.group(1) + name("PORT", m.group(2)) + m.group(3)
        m = re.match(r"^a=candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+)(.*)$", line)
        if m:
            line = "a=candidate:%s %s %s %s %s %s%s" % (
                name("FOUNDATION", m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5),
                name("PORT", m.group(6)), m.group(7))
        for attr, kind in (("a=ice-ufrag:", "UFRAG"), ("a=ice-pwd:", "PWD"), ("a=rtpengine:", "LOOP")):
            if line.startswith(attr):
                value = line[len(attr):].rstrip("\r")
                line = attr + name(kind, value) + ("\r" if line.endswith("\r") else "")
        out.append(line)
    return "\n".join(out)


def first_difference(expected, got):
    e, g = expected.split("\n"), got.split("\n")
    for i in range(max(len(e), len(g))):
        a = e[i] if i < len(e) else None
        b = g[i] if i < len(g) else None
        if a != b:
            return "line %d: expected %r, got %r" % (i + 1, a, b)
    return "same"


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "rtpengined", "tests", "fixtures", "sdp")
    client = NgClient(port=int(os.environ.get("NG_PORT", "2223")))
    cases = [("kamailio-" + s, kamailio_steps(s)) for s in sorted(os.listdir(KAMAILIO))
             if s not in KAMAILIO_SKIP and os.path.isdir(os.path.join(KAMAILIO, s))] + CASES
    same, differ = 0, []
    for case, steps in cases:
        call_id = "replay-%s-%d" % (case, os.getpid())
        for suffix, msg in steps:
            name = "%s.%s" % (case, suffix)
            path = os.path.join(fixtures, name, "output.sdp")
            msg = dict(msg, **{"call-id": call_id})
            try:
                reply = client.request(msg)
            except Exception as exc:  # timeouts: report and carry on
                differ.append("%s: no reply (%s)" % (name, exc))
                continue
            if not os.path.exists(path):
                continue  # rtpengine refused this one when recording
            expected = normalize(open(path, "rb").read().decode())
            if reply.get("result") != b"ok" or "sdp" not in reply:
                differ.append("%s: %r" % (name, reply))
                continue
            got = normalize(reply["sdp"].decode())
            if got == expected:
                same += 1
            else:
                differ.append("%s: %s" % (name, first_difference(expected, got)))
        try:
            client.request({"command": "delete", "call-id": call_id})
        except Exception:
            pass
    for line in differ:
        print("DIFF", line)
    print("%d exchanges match rtpengine 10.5, %d differ" % (same, len(differ)))
    # The summary line scripts/test counts.
    print("sdp-differential: %d passed, %d failed" % (same, len(differ)))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
