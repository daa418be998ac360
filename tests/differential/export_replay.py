#!/usr/bin/env python3
"""Export the replay corpus (the ng requests replay_sdp_fixtures.py sends, in order)
as one bencode file, so that the Rust test rtpengined/tests/sdp_daemon_differential.rs
can replay it without python:

    python3 tests/differential/export_replay.py   # writes replay_requests.bencode

Layout: a list of cases, each `{case: <name>, steps: [{name: <case.step>, request: {...}}]}`;
requests lack `call-id` (the replayer gives each case its own). Re-run after
changing sdp_corpus.py or re-recording.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import bencode  # noqa: E402
from record_sdp_fixtures import KAMAILIO, KAMAILIO_SKIP, kamailio_steps  # noqa: E402
from sdp_corpus import CASES  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases = [("kamailio-" + s, kamailio_steps(s)) for s in sorted(os.listdir(KAMAILIO))
             if s not in KAMAILIO_SKIP and os.path.isdir(os.path.join(KAMAILIO, s))] + CASES
    out = []
    for case, steps in cases:
        out.append({"case": case, "steps": [
            {"name": "%s.%s" % (case, suffix), "request": {k: v for k, v in msg.items() if k != "call-id"}}
            for suffix, msg in steps]})
    path = os.path.join(here, "replay_requests.bencode")
    with open(path, "wb") as f:
        f.write(bencode(out))
    print("%s: %d cases, %d steps" % (path, len(out), sum(len(c["steps"]) for c in out)))


if __name__ == "__main__":
    main()
