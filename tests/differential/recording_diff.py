#!/usr/bin/env python3
"""Differential test of --recording-method=pcap: Debian's rtpengine 10.5 and
rtpengined record the same calls (made over ng, with RTP relayed both ways)
into spool directories of their own; then, per call, the spool layout (file
names with the random part masked), the metadata file (times, ports and
paths masked) and the capture (link type, and per packet the made-up
headers and the payload; ports and times masked) are compared, and the
`recordings` of the replies.

  tests/differential/recording_diff.py [--ng-base N] [--media-base M] [path/to/rtpengined]

Prints each difference and ends with "recording-diff: N passed, M failed"."""
import argparse
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import NgClient  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def start(binary, ng, ports, spool, fmt, logdir, name):
    cmd = [binary, "--foreground", "--config-file=none", "--table=-1", "--interface=127.0.0.1",
           "--log-stderr", "--listen-ng=127.0.0.1:%d" % ng, "--port-min=%d" % ports[0],
           "--port-max=%d" % ports[1], "--recording-method=pcap", "--recording-dir=%s" % spool,
           "--recording-format=%s" % fmt, "--delete-delay=0"]
    log = open(os.path.join(logdir, name + ".log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    client = NgClient(port=ng, timeout=1.0)
    deadline = time.time() + 10
    while True:
        try:
            if client.request({"command": "ping"}).get("result") == b"pong":
                client.sock.settimeout(3.0)
                return proc, client
        except OSError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("%s did not start (see %s)" % (name, logdir))


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % port)


def target(reply):
    if "sdp" not in reply:
        raise RuntimeError("no SDP in reply: %r" % reply)
    body = reply["sdp"].decode()
    return int(re.search(r"m=audio (\d+)", body).group(1))


def rtp(seq, fill):
    return struct.pack("!BBHII", 0x80, 0, seq, 160 * seq, 0x1234) + bytes([fill]) * 160


def phone():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(1.0)
    return s


def call(ng, cid, how):
    """One recorded call; `how` picks how recording starts and ends. Returns
    the replies' `recordings` (as a list of booleans: present or not)."""
    a, b = phone(), phone()
    seen = []
    offer = {"command": "offer", "call-id": cid, "from-tag": "ft", "label": "caller",
             "sdp": sdp(a.getsockname()[1])}
    if how == "flag":
        offer["flags"] = ["record-call"]
    if how == "key":
        offer["record call"] = "yes"
        offer["metadata"] = "k:v|x:y"
    o = ng.request(offer)
    seen.append("recordings" in o)
    ans = ng.request({"command": "answer", "call-id": cid, "from-tag": "ft", "to-tag": "tt",
                      "sdp": sdp(b.getsockname()[1])})
    seen.append("recordings" in ans)
    if how == "start":
        ng.request({"command": "start recording", "call-id": cid, "metadata": "m1"})
    for seq in range(3):
        a.sendto(rtp(seq, 0x11), ("127.0.0.1", target(ans)))
        b.recvfrom(2048)
        b.sendto(rtp(100 + seq, 0x22), ("127.0.0.1", target(o)))
        a.recvfrom(2048)
    ans = ng.request({"command": "answer", "call-id": cid, "from-tag": "ft", "to-tag": "tt",
                      "sdp": sdp(b.getsockname()[1])})
    seen.append("recordings" in ans)
    if how == "flag":
        ng.request({"command": "stop recording", "call-id": cid})
        a.sendto(rtp(9, 0x33), ("127.0.0.1", target(ans)))
        b.recvfrom(2048)
    ng.request({"command": "delete", "call-id": cid, "from-tag": "ft"})
    return seen


def layout(spool):
    out = []
    for root, _, files in os.walk(spool):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), spool)
            out.append(re.sub(r"-[0-9a-f]{16}\.", "-<R>.", rel))
    return sorted(out)


def meta_text(spool, path):
    t = open(path).read()
    t = t.replace(spool, "<DIR>")
    t = re.sub(r"-[0-9a-f]{16}\.pcap", "-<R>.pcap", t)
    t = re.sub(r"(ms(?:\(first monologue\))?: )[1-9]\d*\.\d{3}", r"\1<T>", t)
    t = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", "<DATE>", t)
    t = re.sub(r"(m=audio |a=rtcp:)\d+", r"\1<P>", t)
    return t


def pcap_packets(path):
    data = open(path, "rb").read()
    head = data[:24]
    out = [("header", head.hex())]
    at = 24
    while at < len(data):
        _, _, caplen, length = struct.unpack("<IIII", data[at:at + 16])
        p = bytearray(data[at + 16:at + 16 + caplen])
        eth = 14 if head[20] == 1 else 0
        udp = eth + (40 if (p[eth] >> 4) == 6 else 20)
        p[udp:udp + 4] = b"\0\0\0\0"  # the ports differ between daemons
        out.append((caplen, length, bytes(p).hex()))
        at += 16 + caplen
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--ng-base", type=int, default=25500)
    ap.add_argument("--media-base", type=int, default=45000)
    args = ap.parse_args()
    passed = failed = 0
    logdir = tempfile.mkdtemp(prefix="recording-diff-")

    def case(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("DIFF", what)

    for fi, fmt in enumerate(("raw", "eth")):
        results = {}
        for di, (name, binary) in enumerate((("10.5", "/usr/bin/rtpengine"), ("ours", args.binary))):
            spool = os.path.join(logdir, "%s-%s" % (name, fmt))
            lo = args.media_base + 500 * di + 250 * fi
            proc, ng = start(binary, args.ng_base + 2 * fi + di, (lo, lo + 249), spool, fmt,
                             logdir, "%s-%s" % (name, fmt))
            try:
                seen = {how: call(ng, "rec-%s %s/1" % (how, fmt), how)
                        for how in ("start", "flag", "key")}
                # The metadata file moves once the call is gone.
                deadline = time.time() + 5
                while len(os.listdir(os.path.join(spool, "metadata"))) < 3 and time.time() < deadline:
                    time.sleep(0.05)
            finally:
                proc.terminate()
                proc.wait()
            metas = {}
            for f in os.listdir(os.path.join(spool, "metadata")):
                how = re.match(r"rtpengine-meta-rec-(\w+)", f).group(1)
                path = os.path.join(spool, "metadata", f)
                pcap = open(path).readline().strip()
                metas[how] = (meta_text(spool, path),
                              pcap_packets(pcap) if os.path.exists(pcap) else None)
            results[name] = (layout(spool), seen, metas)
        ref, ours = results["10.5"], results["ours"]
        case(ref[0] == ours[0], "%s layout: %s vs %s" % (fmt, ref[0], ours[0]))
        for how in ("start", "flag", "key"):
            case(ref[1][how] == ours[1][how],
                 "%s %s recordings in replies: %s vs %s" % (fmt, how, ref[1][how], ours[1][how]))
            rm, om = ref[2].get(how), ours[2].get(how)
            case(rm is not None and om is not None and rm[0] == om[0],
                 "%s %s metadata:\n--- 10.5\n%s\n--- ours\n%s" % (
                     fmt, how, rm and rm[0], om and om[0]))
            case(rm is not None and om is not None and rm[1] == om[1],
                 "%s %s pcap:\n--- 10.5\n%s\n--- ours\n%s" % (fmt, how, rm and rm[1], om and om[1]))
    shutil.rmtree(logdir, ignore_errors=True)
    print("recording-diff: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
