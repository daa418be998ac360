#!/usr/bin/env python3
"""Record the ICE checks Debian's rtpengine 10.5 sends as the controlling agent
(docs/ice.md, "Measured on 10.5").

Usage: tests/ice/measure_checks.py [RTPENGINE]     default: /usr/bin/rtpengine

The daemon runs on loopback with --table=-1 (ng on 127.0.0.1:33400, media ports
33300-33399). A caller's plain offer gets ICE=force, so 10.5 offers ICE to the
callee and controls towards it; the callee answers with a=ice-ufrag/pwd and one
host candidate, a UDP socket here (127.0.0.1:33450). Two calls:

  silent   the callee never answers: every check is printed with its time
           (ms after the first), until 10.5 has sent nothing for 30 s.
  answer   the callee answers each check with success (signed with its
           password): the checks, the nominating one (USE-CANDIDATE) and
           whatever follows for 40 s are printed.

Each line: time in ms, transaction id, the attributes in order.
"""

import os
import socket
import subprocess
import sys
import time

from aioice import stun

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "differential"))
from ng_client import NgClient  # noqa: E402

PLAIN = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
CALLEE_UFRAG = "callee"
CALLEE_PWD = "calleepasswordcallee12345"
CALLEE_PORT = 33450


def start(binary):
    args = [
        binary, "--table=-1", "--interface=127.0.0.1", "--listen-ng=127.0.0.1:33400",
        "--foreground", "--log-stderr", "--port-min=33300", "--port-max=33399",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = NgClient(port=33400, timeout=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.request({"command": "ping"})
            client.sock.settimeout(2)
            return proc, client
        except (socket.timeout, ConnectionRefusedError, OSError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{binary} did not answer ping")


def call(ng, callid, answer, quiet_end):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", CALLEE_PORT))
    ng.request({"command": "offer", "call-id": callid, "from-tag": "caller",
                "sdp": PLAIN.format(port=6000), "ICE": "force"})
    answer_sdp = PLAIN.format(port=CALLEE_PORT) + (
        f"a=ice-ufrag:{CALLEE_UFRAG}\r\na=ice-pwd:{CALLEE_PWD}\r\n"
        f"a=candidate:1 1 UDP 2130706431 127.0.0.1 {CALLEE_PORT} typ host\r\n")
    ng.request({"command": "answer", "call-id": callid, "from-tag": "caller",
                "to-tag": "callee", "sdp": answer_sdp})
    first = None
    last = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - last < quiet_end:
        try:
            data, src = sock.recvfrom(2048)
        except socket.timeout:
            continue
        now = time.monotonic()
        last = now
        first = first if first is not None else now
        msg = stun.parse_message(data)
        attrs = ",".join(msg.attributes)
        print(f"  {1000 * (now - first):9.1f} ms  {msg.transaction_id.hex()}  {attrs}"
              f"  prio={msg.attributes.get('PRIORITY')}", flush=True)
        if answer and msg.message_class == stun.Class.REQUEST:
            resp = stun.Message(message_method=stun.Method.BINDING,
                                message_class=stun.Class.RESPONSE,
                                transaction_id=msg.transaction_id)
            resp.attributes["XOR-MAPPED-ADDRESS"] = src
            resp.add_message_integrity(CALLEE_PWD.encode())
            sock.sendto(bytes(resp), src)
    ng.request({"command": "delete", "call-id": callid, "from-tag": "caller"})
    sock.close()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/rtpengine"
    proc, ng = start(binary)
    try:
        print("silent callee:")
        call(ng, "measure-silent", False, 30)
        print("answering callee:")
        call(ng, "measure-answer", True, 40)
    finally:
        proc.terminate()
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
