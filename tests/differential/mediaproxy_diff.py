#!/usr/bin/env python3
"""Differential test of the TCP control protocol (--listen-tcp, 10.5's
control_tcp.c, the mediaproxy-era one): Debian's rtpengine 10.5 and
rtpengined get the same command lines in the same order, each on a
connection of its own; their answers (read until the daemon closes) are
compared after naming each media port by the case that first answered it
("new", then "same as cN"), and hiding the version string, call ages and
the clients' port numbers.

  tests/differential/mediaproxy_diff.py [--slot K] [--control-base P]
      [--media-base M] [path/to/rtpengined]

Prints each differing line and ends with "mediaproxy-diff: N passed, M failed"
(one case per command line; a difference listed in KNOWN counts as passed
and is printed with its reason). Not sent, because 10.5.3.5 crashes on it:
an info item without a value (`info=fromtag`), which it copies with
strdup(NULL)."""
import argparse
import os
import re
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemons import command, start as start_daemon, stop  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
# Control (TCP, ng) and media ports; --slot K moves them by 2*K and 1000*K.
REF = {"name": "10.5", "tcp": 23040, "ng": 23041, "ports": (44000, 44099)}
OURS = {"name": "ours", "tcp": 23060, "ng": 23061, "ports": (44100, 44199)}

R = "10.0.0.1 dom.a local dom.b remote agent"  # the words 10.5 ignores

# (line, why) in order: later lines see what earlier ones did.
CASES = [
    ("version", "version"),
    ("build", "build"),
    ("status", "status, no calls"),
    ("controls", "controls"),
    ("quit", "quit"),
    ("exit", "exit"),
    ("bogus", "unknown command"),
    ("Version", "capitalised"),
    ("version ", "trailing space"),
    (" version", "leading space"),
    ("version x", "words after version"),
    ("version\x0b", "vertical tab after"),
    ("version\0junk", "NUL byte: the line ends there"),
    ("\r\n\nversion\r", "blank lines, CRLF"),
    ("\xff\xfe version", "not UTF-8"),
    ("x" * 2000, "line over 1024 bytes"),
    ("request c1 127.0.0.1:30000 %s info=fromtag:f1" % R, "request"),
    ("request c1 127.0.0.1:30000 %s info=fromtag:f1" % R, "request again"),
    ("lookup c1 127.0.0.1:30010 %s info=fromtag:f1,totag:t1" % R, "lookup"),
    ("lookup c1 127.0.0.1:30010 %s info=fromtag:f1,totag:t1" % R, "lookup again"),
    ("status", "status, one call"),
    ("request c2 127.0.0.1:30020:audio,127.0.0.1:30022:video %s "
     "info=fromtag:f2,domain:x,totag:" % R, "request, two streams, empty to-tag"),
    ("lookup c2 127.0.0.1:30030,127.0.0.1:30032 %s info=fromtag:f2,totag:t2" % R,
     "lookup, two streams"),
    ("request\tc3\t127.0.0.1:30040 %s info=fromtag:f3" % R, "tabs between words"),
    ("request c4 0.0.0.0:30050 %s info=fromtag:f4" % R, "address 0.0.0.0"),
    ("request c5 127.0.0.1:0 %s info=fromtag:f5" % R, "port 0"),
    ("request c6 127.0.0.1:70000,127.0.0.1:30060 %s info=fromtag:f6" % R,
     "port above 65535 skipped"),
    ("request c7 1.2.3:30070,127.0.0.1:30072 %s info=fromtag:f7" % R,
     "unreadable address skipped"),
    ("request c8 127.0.0.1:30080,x:1,127.0.0.1:30082 %s info=fromtag:f8" % R,
     "streams up to the first out of form"),
    ("request c9 127.0.0.1:30090 %s info=fromtag:a,fromtag:f9" % R, "last tag counts"),
    ("lookup c9 127.0.0.1:30100 %s info=totag:t9,fromtag:f9" % R, "tags in any order"),
    ("lookup nocall 127.0.0.1:30110 %s info=fromtag:f,totag:t" % R, "lookup of an unknown call"),
    ("lookup c1 127.0.0.1:30010 %s info=fromtag:f1" % R, "lookup without to-tag"),
    ("request c1 127.0.0.1:30000 ip a b c d info=fromtag:f1", "request with a word missing"),
    ("request c1 127.0.0.1:30000 %s x info=fromtag:f1" % R, "request with a word too many"),
    ("request c1 127.0.0.1:30000 %s fromtag:f1" % R, "request without info="),
    ("delete c1", "delete without info="),
    ("delete c1 info=", "delete"),
    ("delete c1 info=", "delete again"),
    ("delete nocall info=fromtag:x", "delete of an unknown call"),
    ("delete c2 info=x extra", "delete with a word too many"),
    ("status", "status after deletes"),
    ("request c10 127.0.0.1:30120 %s info=totag:t10" % R, "request without from-tag"),
    ("status", "status after a request without from-tag"),
]

# Differences known and explained (README.md, "Deliberate differences"):
# counted as passed, printed as known.
KNOWN = {
    "status after a request without from-tag":
        "10.5 creates the call before it reads the tags and keeps it empty; we create none",
}


def start(spec, binary, logdir):
    cmd = command(binary, spec["ng"], spec["ports"], "--delete-delay=0",
                  "--listen-tcp=127.0.0.1:%d" % spec["tcp"])
    return start_daemon(cmd, logdir, spec["name"],
                        lambda: (send(spec, b"version\n") or b"").startswith(b"Version: "))


def send(spec, data):
    """One line on a connection of its own: what comes back until the
    daemon closes (None: no connection; "(still open)" after 5 s)."""
    try:
        s = socket.create_connection(("127.0.0.1", spec["tcp"]), timeout=5)
    except OSError:
        return None
    out = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except socket.timeout:
        out += b"(still open)"
    except ConnectionResetError:
        out += b"(reset)"
    finally:
        s.close()
    return out


class Names:
    """Names each media port of one daemon by the case that first answered it."""

    def __init__(self):
        self.seen = {}

    def norm(self, reply, case):
        if reply is None:
            return "(no connection)"
        text = reply.decode("utf-8", "replace")

        def port(m):
            p = m.group(2)
            if p == "0":
                return m.group(0)
            label = "same as %s" % self.seen[p] if p in self.seen else "new"
            self.seen.setdefault(p, case)
            return m.group(1) + "<" + label + ">"

        # ADDRESS PORT pairs written back to back: the daemons' addresses
        # are known, so a port ends where the next one starts.
        addr = r"(?:127\.0\.0\.1|0\.0\.0\.0)"
        if re.fullmatch(r"(%s \d+)*\n" % addr, text):
            text = re.sub(r"(%s )(\d+)(?=%s |\n)" % (addr, addr), port, text)
        text = re.sub(r"^Version: .*$", "Version: X", text, flags=re.M)
        text = re.sub(r"^(session \S+ - - - - )\d+$", r"\1AGE", text, flags=re.M)
        text = re.sub(r"^127\.0\.0\.1:\d+$", "127.0.0.1:PORT", text, flags=re.M)
        return text


def rtp(seq):
    return bytes([0x80, 0]) + seq.to_bytes(2, "big") + (160 * seq).to_bytes(4, "big") \
        + b"\x12\x34\x56\x78" + bytes([0xff]) * 160


def status_rate(spec):
    """The bytes per second of `status`'s first line (None: unreadable)."""
    m = re.match(rb"proxy \d+ (\d+)/0/0\n", send(spec, b"status\n") or b"")
    return int(m.group(1)) if m else None


def rate_follows_media(spec):
    """`status`'s bytes per second rises while a call of its own carries
    media both ways and falls back to zero after it. Packets are sent until
    a sample shows a rate, so how late the daemon's sample falls does not
    matter; then none until a sample shows zero."""
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        caller.bind(("127.0.0.1", 0))
        callee.bind(("127.0.0.1", 0))
        a, b = caller.getsockname()[1], callee.getsockname()[1]
        offer = send(spec, b"request rate 127.0.0.1:%d %s info=fromtag:fr\n" % (a, R.encode()))
        answer = send(spec, b"lookup rate 127.0.0.1:%d %s info=fromtag:fr,totag:tr\n"
                      % (b, R.encode()))
        ports = [re.fullmatch(rb"127\.0\.0\.1 (\d+)\n", r or b"") for r in (offer, answer)]
        if not all(ports):
            print("=== %s: no ports for the rate call: %r %r" % (spec["name"], offer, answer))
            return False
        to_callee, to_caller = (int(m.group(1)) for m in ports)
        rose = fell = False
        seq = 1
        deadline = time.time() + 20
        while time.time() < deadline and not rose:
            for _ in range(5):
                caller.sendto(rtp(seq), ("127.0.0.1", to_caller))
                callee.sendto(rtp(seq), ("127.0.0.1", to_callee))
                seq += 1
            rose = bool(status_rate(spec))
            time.sleep(0.02)
        while rose and time.time() < deadline and not fell:
            fell = status_rate(spec) == 0
            time.sleep(0.05)
        if not (rose and fell):
            print("=== %s: status bytes per second %s" % (
                spec["name"], "never fell to zero" if rose else "never above zero"))
        send(spec, b"delete rate info=\n")
        return rose and fell
    finally:
        caller.close()
        callee.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--control-base", type=int, default=None,
                    help="control ports from here (4 used) instead of 23040")
    ap.add_argument("--media-base", type=int, default=None,
                    help="media ports from here (200 used) instead of 44000")
    args = ap.parse_args()
    for i, spec in enumerate((REF, OURS)):
        if args.control_base is not None:
            spec["tcp"], spec["ng"] = args.control_base + 2 * i, args.control_base + 2 * i + 1
        if args.media_base is not None:
            spec["ports"] = (args.media_base + 100 * i, args.media_base + 100 * i + 99)
        spec["tcp"] += 2 * args.slot
        spec["ng"] += 2 * args.slot
        spec["ports"] = tuple(p - 1000 * args.slot for p in spec["ports"])
    if not os.path.exists("/usr/bin/rtpengine"):
        print("FAIL: /usr/bin/rtpengine missing (scripts/install-deps)")
        print("mediaproxy-diff: 0 passed, 1 failed")
        return 1
    logdir = tempfile.mkdtemp(prefix="mediaproxy-diff-")
    daemons = []
    passed = failed = known = 0
    try:
        for spec, binary in ((REF, "/usr/bin/rtpengine"), (OURS, args.binary)):
            daemons.append((spec, start(spec, binary, logdir), Names()))
        for n, (line, why) in enumerate(CASES):
            case = "c%d" % n
            data = line.encode("latin-1") + b"\n"
            ref, ours = (names.norm(send(spec, data), case) for spec, _, names in daemons)
            if ref == ours:
                passed += 1
                if why in KNOWN:
                    print("=== %r (%s): now as 10.5, drop it from KNOWN" % (line, why))
                continue
            if why in KNOWN:
                passed += 1
                known += 1
                print("=== %r (%s), known: %s\n  10.5: %r\n  ours: %r"
                      % (line, why, KNOWN[why], ref, ours))
                continue
            failed += 1
            print("=== %s %r (%s)\n  10.5: %r\n  ours: %r" % (case, line[:80], why, ref, ours))
        # Last, as its packets move the rates: a call of its own per daemon.
        for spec, _, _ in daemons:
            if rate_follows_media(spec):
                passed += 1
            else:
                failed += 1
    finally:
        stop([proc for _, proc, _ in daemons])
    print("logs: %s" % logdir)
    print("known differences: %d" % known)
    print("mediaproxy-diff: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
