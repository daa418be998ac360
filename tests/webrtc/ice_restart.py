#!/usr/bin/env python3
"""An ICE restart on re-INVITE through an rtpengine ng daemon. The browser's
side is an aioice agent (an ICE implementation nobody here wrote), the SIP
phone a plain RTP/AVP socket. Prints a JSON report; exit status 0 when media
followed ICE both times.

Usage: ice_restart.py NG_PORT [--call-id=ID] [--seconds=N]

1. The browser offers RTP/AVP with ICE and `c=IN IP4 0.0.0.0`, port 9 (as a
   trickling browser does): only ICE can tell the daemon where it is. The
   phone answers; aioice (controlling) completes ICE with the daemon's agent
   (controlled); RTP goes both ways over the pair.
2. The browser re-offers with a new agent: new ice-ufrag/ice-pwd, new port.
   The report has the daemon's credentials from both answers. aioice
   completes ICE again and RTP goes both ways; packets the old agent still
   receives once the new one has media are counted.

Everything stays on 127.0.0.1 (aioice gathers only that address).
"""

import asyncio
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "differential"))
from ng_client import NgClient  # noqa: E402

import aioice.ice  # noqa: E402
from aioice import Candidate, Connection  # noqa: E402

# Only loopback may carry test traffic.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def ng(client, msg):
    reply = client.request(msg)
    if text(reply.get("result")) != "ok":
        raise RuntimeError("ng %s: %r" % (msg["command"], reply))
    return text(reply["sdp"])


def browser_sdp(conn, version):
    c = conn.local_candidates[0]
    return (
        "v=0\r\no=- 1 %d IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 0.0.0.0\r\n"
        "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=candidate:%s\r\n"
        "a=rtcp-mux\r\na=sendrecv\r\n"
        % (version, conn.local_username, conn.local_password, c.to_sdp())
    )


def phone_sdp(port):
    return (
        "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n" % port
    )


def attr(sdp, name):
    return [line[len(name) + 3:] for line in sdp.splitlines() if line.startswith("a=%s:" % name)]


def port_of(sdp):
    for line in sdp.splitlines():
        if line.startswith("m=audio "):
            return int(line.split()[1])
    raise RuntimeError("no m=audio in %r" % sdp)


def rtp(seq, tag):
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x1CE) + bytes([tag]) * 160


class Phone(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = []

    def datagram_received(self, data, addr):
        self.received.append(data)


class Inbox:
    """What an aioice connection receives, read by a background task."""

    def __init__(self, conn):
        self.packets = []
        self.task = asyncio.ensure_future(self.run(conn))

    async def run(self, conn):
        while True:
            try:
                self.packets.append(await conn.recv())
            except Exception:
                return


async def connect(client, call_id, conn, version, phone_port):
    """One offer/answer round from the browser, then ICE with the daemon's
    answer; (SDP sent to the phone, SDP sent to the browser)."""
    to_phone = ng(client, {
        "command": "offer", "call-id": call_id, "from-tag": "browser",
        "sdp": browser_sdp(conn, version), "ICE": "remove",
        "rtcp-mux": ["demux"]})
    answer = ng(client, {
        "command": "answer", "call-id": call_id, "from-tag": "browser",
        "to-tag": "phone", "sdp": phone_sdp(phone_port)})
    conn.remote_username = attr(answer, "ice-ufrag")[0]
    conn.remote_password = attr(answer, "ice-pwd")[0]
    for c in attr(answer, "candidate"):
        await conn.add_remote_candidate(Candidate.from_sdp(c))
    await conn.add_remote_candidate(None)
    await asyncio.wait_for(conn.connect(), 20)
    return to_phone, answer


async def media(conn, inbox, transport, phone, daemon, tag, deadline, want=10):
    """RTP both ways until each side has `want` with `tag` (or the deadline)."""
    seq = tag << 8
    while time.monotonic() < deadline:
        transport.sendto(rtp(seq, tag), daemon)
        await conn.send(rtp(seq, tag ^ 0xFF))
        seq += 1
        await asyncio.sleep(0.02)
        down = sum(1 for p in inbox.packets if p[12:13] == bytes([tag]))
        up = sum(1 for p in phone.received if p[12:13] == bytes([tag ^ 0xFF]))
        if down >= want and up >= want:
            break
    down = sum(1 for p in inbox.packets if p[12:13] == bytes([tag]))
    up = sum(1 for p in phone.received if p[12:13] == bytes([tag ^ 0xFF]))
    return down, up


async def run(ng_port, call_id, seconds):
    client = NgClient(port=ng_port, timeout=5.0)
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(
        Phone, local_addr=("127.0.0.1", 0))
    phone_port = transport.get_extra_info("sockname")[1]
    report = {}
    deadline = time.monotonic() + seconds

    first = Connection(ice_controlling=True, use_ipv6=False)
    await first.gather_candidates()
    to_phone, answer1 = await connect(client, call_id, first, 1, phone_port)
    daemon = ("127.0.0.1", port_of(to_phone))
    inbox1 = Inbox(first)
    report["first_pair"] = list(first._nominated[1].remote_addr)
    report["first_down"], report["first_up"] = await media(
        first, inbox1, transport, phone, daemon, 0x11, deadline)

    second = Connection(ice_controlling=True, use_ipv6=False)
    await second.gather_candidates()
    _, answer2 = await connect(client, call_id, second, 2, phone_port)
    inbox2 = Inbox(second)
    report["second_pair"] = list(second._nominated[1].remote_addr)
    report["second_down"], report["second_up"] = await media(
        second, inbox2, transport, phone, daemon, 0x22, deadline)
    # Once the new agent has media, the old one gets none of it.
    report["old_agent_after_restart"] = sum(
        1 for p in inbox1.packets if p[12:13] == bytes([0x22]))

    for n, a in ((1, answer1), (2, answer2)):
        report["ours_ufrag_%d" % n] = attr(a, "ice-ufrag")[0]
        report["ours_pwd_%d" % n] = attr(a, "ice-pwd")[0]
        report["ours_candidates_%d" % n] = attr(a, "candidate")
    report["browser_ports"] = [first.local_candidates[0].port, second.local_candidates[0].port]
    try:
        client.request({"command": "delete", "call-id": call_id, "from-tag": "browser"})
    except (OSError, RuntimeError):
        pass
    for t in (inbox1.task, inbox2.task):
        t.cancel()
    await first.close()
    await second.close()
    transport.close()
    return report


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[1:] if a.startswith("--"))
    try:
        report = asyncio.run(run(
            int(args[0]),
            opts.get("call-id", "ice-restart-%d" % os.getpid()),
            float(opts.get("seconds", "30")),
        ))
    except Exception as e:  # noqa: BLE001 - reported to the test
        print(json.dumps({"error": repr(e)}))
        return 1
    print(json.dumps(report))
    ok = min(report["first_down"], report["first_up"],
             report["second_down"], report["second_up"]) >= 10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
