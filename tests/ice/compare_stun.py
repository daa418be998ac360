#!/usr/bin/env python3
"""Compare how rtpengined and Debian's rtpengine 10.5 answer ICE connectivity
checks on a media port (docs/stun.md, "Measured against Debian's 10.5").

Usage: tests/ice/compare_stun.py [RTPENGINED] [RTPENGINE]
  defaults: target/release/rtpengined and /usr/bin/rtpengine

Both daemons run on loopback with --table=-1. Each gets the same calls
(an offer with ICE=force from a plain SDP, then an answer whose SDP has ICE
credentials) and the same checks, built by aioice (stun_client.py). The
answers are printed side by side with the SOFTWARE string, the lengths and
the sender's port normalised; the exit status is 1 if they differ.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "differential"))
from ng_client import NgClient  # noqa: E402

PLAIN = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
CALLEE_PWD = "calleepasswordcallee12345"


def start(binary, ng_port, port_min):
    args = [
        binary, "--table=-1", "--interface=127.0.0.1",
        f"--listen-ng=127.0.0.1:{ng_port}", "--foreground", "--log-stderr",
        f"--port-min={port_min}", f"--port-max={port_min + 99}",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = NgClient(port=ng_port, timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.request({"command": "ping"})
            # The same client from here on: the daemons cache replies by cookie,
            # and a second client would repeat this one's cookies.
            client.sock.settimeout(2)
            return proc, client
        except (socket.timeout, ConnectionRefusedError, OSError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{binary} did not answer ping")


def check(port, username, password, *extra):
    out = subprocess.run(
        [sys.executable, os.path.join(HERE, "stun_client.py"), "127.0.0.1", str(port),
         username, password, *extra],
        capture_output=True, text=True,
    )
    report = json.loads(out.stdout or "{}")
    # What legitimately differs between the two daemons.
    for key in ("software", "length"):
        report.pop(key, None)
    if "mapped" in report:
        report["mapped"] = "sender" if report["mapped"] == report["local"] else report["mapped"]
    report.pop("local", None)
    return report


def scenario(ng):
    sdp = lambda r: r["sdp"].decode()
    results = {}
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee.bind(("127.0.0.1", 0))
    callee_port = callee.getsockname()[1]
    offer = sdp(ng.request({"command": "offer", "call-id": "stun-cmp", "from-tag": "caller",
                            "sdp": PLAIN.format(port=6000), "ICE": "force"}))
    ufrag = re.search(r"a=ice-ufrag:(\S+)", offer).group(1)
    pwd = re.search(r"a=ice-pwd:(\S+)", offer).group(1)
    port = int(re.search(r"m=audio (\d+)", offer).group(1))
    user = f"{ufrag}:callee"
    results["valid request"] = check(port, user, pwd)
    results["wrong password"] = check(port, user, "wrong-password", f"--key={pwd}")
    results["wrong ufrag"] = check(port, "nobody:callee", pwd)
    results["unknown required attribute 0x0042"] = check(port, user, pwd, "--unknown=0x0042")
    results["unknown optional attribute 0xc0de"] = check(port, user, pwd, "--unknown=0xc0de")
    results["bad fingerprint"] = check(port, user, pwd, "--bad-fingerprint")
    results["controlling, low tie-breaker"] = check(port, user, pwd, "controlling", "--tiebreaker=1")
    results["controlling, top tie-breaker"] = check(
        port, user, pwd, "controlling", f"--tiebreaker={2**64 - 1}")
    results["then controlled, top tie-breaker"] = check(
        port, user, pwd, "controlled", f"--tiebreaker={2**64 - 1}")
    answer_sdp = PLAIN.format(port=callee_port) + (
        f"a=ice-ufrag:callee\r\na=ice-pwd:{CALLEE_PWD}\r\n")
    ng.request({"command": "answer", "call-id": "stun-cmp", "from-tag": "caller",
                "to-tag": "callee", "sdp": answer_sdp})
    results["wrong password after the answer"] = check(
        port, user, "wrong-password", f"--key={CALLEE_PWD}")
    ng.request({"command": "delete", "call-id": "stun-cmp", "from-tag": "caller"})
    return results


def main():
    ours = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/rtpengined")
    stock = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/rtpengine"
    got = {}
    for name, binary, ng_port, port_min in (
        ("rtpengined", ours, 22631, 37800), ("10.5", stock, 22632, 37900)
    ):
        proc, ng = start(binary, ng_port, port_min)
        try:
            got[name] = scenario(ng)
        finally:
            proc.terminate()
            proc.wait()
    differ = False
    for case in got["10.5"]:
        a, b = got["rtpengined"][case], got["10.5"][case]
        same = a == b
        differ |= not same
        print(f"{'same' if same else 'DIFF'}  {case}: {json.dumps(b)}")
        if not same:
            print(f"      rtpengined: {json.dumps(a)}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
