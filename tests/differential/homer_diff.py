#!/usr/bin/env python3
"""Differential test of --homer: Debian's rtpengine 10.5 and rtpengined
each report to a UDP HEP receiver of this script (--homer-id=4242); both
get the same call, and its callee sends the same RTCP packets (sender and
receiver reports, SDES, BYE, malformed compounds) to its RTCP port on each
daemon. The HEPv3 packets are decoded strictly and compared chunk by
chunk: types and order, address family, protocol, protocol type, capture
id, correlation id (the call-id), the JSON payload, and that the source is
the callee and the destination the daemon's port it sent to. Timestamps
are checked to be near now.

  tests/differential/homer_diff.py [--ports BASE] [--media LO] [path/to/rtpengined]

BASE..BASE+3: the ng ports and the receivers' ports; LO..LO+999 the media
ports (the first half for 10.5). Ends with "homer-diff: N passed, M failed"
(one case per RTCP packet)."""
import argparse
import os
import re
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemons import command, start_pinged, stop  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio %d RTP/AVP 0\r\na=sendrecv\r\n")


def u32s(*v):
    return b"".join(struct.pack("!I", x) for x in v)


def sdes(ssrc, items):
    body = u32s(ssrc)
    for t, text in items:
        body += bytes([t, len(text)]) + text
    body += b"\0"
    while len(body) % 4:
        body += b"\0"
    return bytes([0x81, 202]) + struct.pack("!H", len(body) // 4) + body


BLOCK = u32s(9) + bytes([12, 0, 0, 2]) + u32s(1000, 30, 77, 88)
SR = bytes([0x81, 200, 0, 12]) + u32s(0x01020304, 3900000000, 500, 8000, 50, 8600) + BLOCK
RR2 = bytes([0x82, 201, 0, 13]) + u32s(0x0a0b0c0d) + BLOCK + BLOCK.replace(b"\0\0\0\x09", b"\0\0\0\x0a", 1)
CASES = [
    ("SR with a block, SDES", SR + sdes(0x01020304, [(1, b"bob@host"), (2, b"Bob \"B\"\t\x01\xff")])),
    ("RR without blocks", bytes([0x80, 201, 0, 1]) + u32s(5)),
    ("RR with two blocks", RR2),
    ("BYE alone", bytes([0x81, 203, 0, 1]) + u32s(5)),
    ("SR then BYE", SR + bytes([0x81, 203, 0, 1]) + u32s(0x01020304)),
    ("SDES of two chunks", bytes([0x82, 202, 0, 5]) + u32s(1) + bytes([1, 2]) + b"ab" + b"\0\0\0\0"
     + u32s(2) + bytes([1, 1]) + b"c" + b"\0"),
    ("RR then bad version", bytes([0x80, 201, 0, 1]) + u32s(5) + bytes([0x40, 201, 0, 1]) + u32s(6)),
    ("length beyond the packet", bytes([0x80, 201, 0, 9]) + u32s(5)),
    ("APP then RR", bytes([0x80, 204, 0, 2]) + u32s(7) + b"name" + bytes([0x80, 201, 0, 1]) + u32s(8)),
]


def decode(p):
    """The chunks of a HEPv3 packet, strictly; raises ValueError."""
    if p[:4] != b"HEP3":
        raise ValueError("magic %r" % p[:4])
    if struct.unpack("!H", p[4:6])[0] != len(p):
        raise ValueError("length")
    rest, out = p[6:], []
    while rest:
        vendor, kind, ln = struct.unpack("!HHH", rest[:6])
        if vendor != 0 or ln < 6 or ln > len(rest) or any(k == kind for k, _ in out):
            raise ValueError("chunk %d" % kind)
        out.append((kind, rest[6:ln]))
        rest = rest[ln:]
    return out


def start(binary, ng, receiver, ports, logdir, name):
    cmd = command(binary, ng, ports, "--homer=127.0.0.1:%d" % receiver, "--homer-id=4242")
    return start_pinged(cmd, logdir, name, ng)


def call(client, n):
    """A call; returns (bob's socket, the daemon's RTCP port for bob, call-id)."""
    alice = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    alice.bind(("127.0.0.1", 0))
    bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bob.bind(("127.0.0.1", 0))
    cid = "homer-%d" % n
    o = client.request({"command": "offer", "call-id": cid, "from-tag": "a",
                        "sdp": SDP % alice.getsockname()[1]})
    client.request({"command": "answer", "call-id": cid, "from-tag": "a", "to-tag": "b",
                    "sdp": SDP % bob.getsockname()[1]})
    sdp = o["sdp"].decode() if isinstance(o["sdp"], bytes) else o["sdp"]
    port = int(re.search(r"m=audio ([0-9]+) ", sdp).group(1))
    return (alice, bob), port + 1, cid


def capture(rec):
    """The HEP packets `rec` got, each decoded (or the error)."""
    got = []
    rec.settimeout(1.0)
    while True:
        try:
            p = rec.recv(65536)
        except socket.timeout:
            return got
        try:
            got.append(decode(p))
        except ValueError as e:
            got.append("undecodable: %s" % e)
        rec.settimeout(0.3)


def view(chunks, bob, daemon_port, cid):
    """What is compared of a decoded packet: chunk order and values, with
    the addresses, times and call-id checked and replaced by names."""
    if isinstance(chunks, str):
        return chunks
    d = dict(chunks)
    out = [("order", [k for k, _ in chunks])]
    src = (socket.inet_ntoa(d.get(3, b"\0" * 4)), struct.unpack("!H", d.get(7, b"\0\0"))[0])
    dst = (socket.inet_ntoa(d.get(4, b"\0" * 4)), struct.unpack("!H", d.get(8, b"\0\0"))[0])
    out.append(("src", "bob" if src == bob else src))
    out.append(("dst", "daemon's port" if dst == ("127.0.0.1", daemon_port) else dst))
    secs = struct.unpack("!I", d.get(9, b"\0" * 4))[0]
    out.append(("time", "now" if abs(secs - time.time()) < 30 else secs))
    usecs = struct.unpack("!I", d.get(10, b"\0" * 4))[0]
    out.append(("usecs", "ok" if usecs < 1000000 else usecs))
    for k in (1, 2, 11, 12):
        out.append((k, d.get(k)))
    out.append(("correlation", "call-id" if d.get(0x11) == cid.encode() else d.get(0x11)))
    out.append(("payload", d.get(0x0F)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--ports", type=int, default=23310)
    ap.add_argument("--media", type=int, default=47000)
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/rtpengine"):
        print("FAIL: /usr/bin/rtpengine missing (scripts/install-deps)")
        print("homer-diff: 0 passed, 1 failed")
        return 1
    logdir = tempfile.mkdtemp(prefix="homer-diff-")
    b, m = args.ports, args.media
    daemons = []
    passed = failed = 0
    try:
        for name, binary, ng, rp, ports in (
                ("10.5", "/usr/bin/rtpengine", b, b + 2, (m, m + 499)),
                ("ours", args.binary, b + 1, b + 3, (m + 500, m + 999))):
            rec = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rec.bind(("127.0.0.1", rp))
            proc, client = start(binary, ng, rp, ports, logdir, name)
            daemons.append((name, proc, client, rec))
        for n, (what, packet) in enumerate(CASES):
            views = []
            for _, _, client, rec in daemons:
                socks, port, cid = call(client, n)
                socks[1].sendto(packet, ("127.0.0.1", port))
                bob = socks[1].getsockname()
                views.append([view(c, bob, port, cid) for c in capture(rec)])
                for s in socks:
                    s.close()
            if views[0] == views[1]:
                passed += 1
                print("ok  %s: %d packet(s)" % (what, len(views[0])))
            else:
                failed += 1
                print("=== %s\n  10.5: %r\n  ours: %r" % (what, views[0], views[1]))
    finally:
        stop([proc for _, proc, _, _ in daemons])
    print("logs: %s" % logdir)
    print("homer-diff: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
