#!/usr/bin/env python3
"""Differential test of --graphite: Debian's rtpengine 10.5 and rtpengined
each report to a TCP receiver of this script (--graphite-interval=1, the
same --graphite-prefix) while they get the same call over ng; the metric
names of their reports are compared as sets, and the values of a few that
do not depend on timing.

  tests/differential/graphite_diff.py [--ports BASE] [--media LO] [path/to/rtpengined]

BASE..BASE+3 are the ng ports and the receivers' ports, LO..LO+999 the
media ports (the first half for 10.5). 10.5 puts the ng command names with
their spaces into the paths (`start recording_count 0 TS`, four fields a
carbon receiver drops); rtpengined sends `_` there (README, "Deliberate
differences"): the receiver reads 10.5's lines by joining all fields but
the last two with `_`. Every other line of either daemon must be strict
`PATH VALUE TIMESTAMP`.

Ends with "graphite-diff: N passed, M failed"."""
import argparse
import os
import re
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemons import command, start_pinged, stop  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PREFIX = "gdiff."
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio %d RTP/AVP 0\r\na=sendrecv\r\n")
PATH = re.compile(r"^[A-Za-z0-9_:.-]+$")


class Receiver:
    """Accepts one connection and collects its reports: a report ends with
    the last `ports_used_` line (one interface here)."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.reports = []
        self.bad = []
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        conn, _ = self.sock.accept()
        cur = {}
        for raw in conn.makefile("rb"):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            fields = line.split(" ")
            if len(fields) > 3:
                fields = ["_".join(fields[:-2])] + fields[-2:]
            if len(fields) != 3 or not PATH.match(fields[0]):
                self.bad.append(line)
                continue
            try:
                value = float(fields[1])
                int(fields[2])
            except ValueError:
                self.bad.append(line)
                continue
            cur[fields[0]] = value
            if fields[0].startswith(PREFIX + "ports_used_"):
                with self.cond:
                    self.reports.append(cur)
                    self.cond.notify_all()
                cur = {}

    def wait(self, pred, timeout=10):
        """The first report (from the start) that satisfies `pred`."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for r in self.reports:
                    if pred(r):
                        return r
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)


def start(binary, ng, receiver, ports, logdir, name):
    cmd = command(binary, ng, ports, "--graphite=127.0.0.1:%d" % receiver,
                  "--graphite-interval=1", "--graphite-prefix=" + PREFIX)
    return start_pinged(cmd, logdir, name, ng)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--ports", type=int, default=23300)
    ap.add_argument("--media", type=int, default=46000)
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/rtpengine"):
        print("FAIL: /usr/bin/rtpengine missing (scripts/install-deps)")
        print("graphite-diff: 0 passed, 1 failed")
        return 1
    logdir = tempfile.mkdtemp(prefix="graphite-diff-")
    b, m = args.ports, args.media
    daemons = []
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("=== " + what)

    try:
        for name, binary, ng, rp, ports in (
                ("10.5", "/usr/bin/rtpengine", b, b + 2, (m, m + 499)),
                ("ours", args.binary, b + 1, b + 3, (m + 500, m + 999))):
            rec = Receiver(rp)
            proc, client = start(binary, ng, rp, ports, logdir, name)
            daemons.append((name, proc, client, rec))
        for _, _, client, _ in daemons:
            client.request({"command": "offer", "call-id": "g1", "from-tag": "f", "sdp": SDP % 30000})
            client.request({"command": "answer", "call-id": "g1", "from-tag": "f", "to-tag": "t",
                            "sdp": SDP % 30002})
        got = {}
        for name, _, _, rec in daemons:
            got[name] = rec.wait(lambda r: r.get(PREFIX + "offer_count") == 1
                                 and r.get(PREFIX + "current_sessions_total") == 1)
            check(got[name] is not None, "%s: no report with the call within 10 s" % name)
            check(not rec.bad, "%s: lines not PATH VALUE TIMESTAMP: %r" % (name, rec.bad[:5]))
        if got["10.5"] and got["ours"]:
            # Interface lines name the port ranges' address only: same here.
            ref, ours = set(got["10.5"]), set(got["ours"])
            check(ref == ours, "metric names differ: only 10.5 %s, only ours %s"
                  % (sorted(ref - ours), sorted(ours - ref)))
            for key in ("offer_count", "answer_count", "current_sessions_total",
                        "current_sessions_own", "current_sessions_ipv4", "current_sessions_ipv6",
                        "current_sessions_mixed", "ports_used_default_127.0.0.1",
                        "ports_free_default_127.0.0.1", "reject_sess"):
                a, o = got["10.5"].get(PREFIX + key), got["ours"].get(PREFIX + key)
                check(a == o, "%s: 10.5 %r, ours %r" % (key, a, o))
            print("names compared: %d" % len(ref))
    finally:
        stop([proc for _, proc, _, _ in daemons])
    print("logs: %s" % logdir)
    print("graphite-diff: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
