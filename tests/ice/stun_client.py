#!/usr/bin/env python3
"""Send one ICE connectivity check (a STUN binding request built by aioice, an
implementation independent of rtpengine-rs) to a media port and print what
came back as JSON.

Usage: stun_client.py HOST PORT USERNAME PASSWORD [controlling|controlled]
                      [--tiebreaker=N] [--key=PASSWORD-TO-VERIFY-WITH]
                      [--unknown=TYPE] [--bad-fingerprint]

USERNAME is "<the ufrag of the SDP we got>:<our own ufrag>" and PASSWORD the
ice-pwd of that SDP: the request is signed with it, and the answer is checked
with it (or with --key). --unknown adds an empty attribute of that type (e.g.
0x0042, comprehension-required) before MESSAGE-INTEGRITY; --bad-fingerprint
flips a bit of the FINGERPRINT. Exit status 2: no answer within 3 s.
"""

import json
import socket
import struct
import sys

from aioice import stun


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = {}
    for a in sys.argv[1:]:
        if a.startswith("--"):
            name, _, value = a[2:].partition("=")
            opts[name] = value
    host, port, username, password = args[0], int(args[1]), args[2], args[3]
    role = args[4] if len(args) > 4 else "controlled"
    tiebreaker = int(opts.get("tiebreaker", "1"))
    key = opts.get("key", password).encode()

    request = stun.Message(
        message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST
    )
    request.attributes["USERNAME"] = username
    request.attributes["PRIORITY"] = 1853824767
    if role == "controlling":
        request.attributes["ICE-CONTROLLING"] = tiebreaker
        request.attributes["USE-CANDIDATE"] = None
    else:
        request.attributes["ICE-CONTROLLED"] = tiebreaker
    if "unknown" in opts:
        # aioice writes only attributes it knows: add the raw one by hand.
        # (aioice's helpers set the header's length for what they cover.)
        body = bytes(request) + struct.pack("!HH", int(opts["unknown"], 0), 0)
        body += struct.pack("!HH", 0x0008, 20) + stun.message_integrity(body, password.encode())
        data = body + struct.pack("!HHI", 0x8028, 4, stun.message_fingerprint(body))
        data = stun.set_body_length(data, len(data) - 20)
    else:
        request.add_message_integrity(password.encode())
        data = bytes(request)
    if "bad-fingerprint" in opts:
        data = data[:-1] + bytes([data[-1] ^ 1])

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    sock.settimeout(0.3)
    for _ in range(10):
        sock.sendto(data, (host, port))
        try:
            reply, _ = sock.recvfrom(2048)
        except socket.timeout:
            continue
        break
    else:
        print(json.dumps({"answer": None}))
        return 2

    local = sock.getsockname()
    out = {"local": [local[0], local[1]], "length": len(reply)}
    try:
        # Verifies FINGERPRINT (and the length) while parsing.
        message = stun.parse_message(reply)
    except ValueError as e:
        out["parse_error"] = str(e)
        print(json.dumps(out))
        return 0
    out.update(
        {
            "class": message.message_class.name,
            "same_transaction": message.transaction_id == request.transaction_id,
            "attributes": [k for k in message.attributes],
            "integrity": message.check_message_integrity(key),
            "software": message.attributes.get("SOFTWARE"),
            "error": message.error_code,
        }
    )
    mapped = message.attributes.get("XOR-MAPPED-ADDRESS")
    if mapped is not None:
        out["mapped"] = [mapped[0], mapped[1]]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
