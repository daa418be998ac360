#!/usr/bin/env python3
"""A WebRTC <-> SIP call through an rtpengine ng daemon, with aiortc (an
implementation nobody here wrote) as the browser and a plain RTP/AVP endpoint
as the SIP phone. Prints a JSON report; exit status 0 when audio went both
ways.

Usage: aiortc_call.py NG_PORT [--direction=webrtc-offers|sip-offers]
                              [--seconds=N] [--call-id=ID]

webrtc-offers: aiortc's offer (ICE, DTLS-SRTP, rtcp-mux, UDP/TLS/RTP/SAVPF)
goes through ng `offer` with the flags Kamailio sends towards a SIP phone
(RTP/AVP, ICE removed, rtcp-mux demuxed); the phone's answer comes back to
aiortc through ng `answer`.
sip-offers: the phone's RTP/AVP offer goes to aiortc as UDP/TLS/RTP/SAVPF
with ICE forced (we are the controlling ICE agent then); aiortc answers.

The phone sends PCMU carrying a 400 Hz tone and checks that what arrives is
RTP with PCMU; aiortc sends a 1 kHz tone and checks the frames it decodes are
not silence. Everything stays on 127.0.0.1: aioice is told to gather only
that address.
"""

import asyncio
import json
import math
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "differential"))
from ng_client import NgClient  # noqa: E402

import aioice.ice  # noqa: E402
from aiortc import (  # noqa: E402
    MediaStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
)
import av  # noqa: E402
import fractions  # noqa: E402

# Only loopback may carry test traffic.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

RATE = 8000
SAMPLES = 160  # 20 ms


def ulaw(sample):
    """G.711 mu-law of a 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


class Tone(MediaStreamTrack):
    """A 1 kHz tone in 20 ms frames, paced in real time."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.n * SAMPLES / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        samples = [
            int(8000 * math.sin(2 * math.pi * 1000 * (self.n * SAMPLES + i) / RATE))
            for i in range(SAMPLES)
        ]
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES)
        frame.planes[0].update(struct.pack("<%dh" % SAMPLES, *samples))
        frame.sample_rate = RATE
        frame.pts = self.n * SAMPLES
        frame.time_base = fractions.Fraction(1, RATE)
        self.n += 1
        return frame


class Phone(asyncio.DatagramProtocol):
    """The SIP side: sends PCMU RTP to the daemon, counts what comes back."""

    def __init__(self):
        self.received = []
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.received.append((data, addr))


def media_of(sdp):
    """(address, port) of the first m=audio section."""
    address = None
    port = None
    for line in sdp.splitlines():
        if line.startswith("c=IN IP4 "):
            address = address or line.split()[2]
        if line.startswith("m=audio "):
            port = int(line.split()[1])
    return address, port


def phone_sdp(port, session_version=1):
    return (
        "v=0\r\no=phone %d %d IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
        % (session_version, session_version, port)
    )


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def ng(client, msg):
    reply = client.request(msg)
    if text(reply.get("result")) != "ok":
        raise RuntimeError("ng %s: %r" % (msg["command"], reply))
    return text(reply["sdp"])


async def run(ng_port, direction, seconds, call_id):
    client = NgClient(port=ng_port, timeout=5.0)
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(
        Phone, local_addr=("127.0.0.1", 0)
    )
    phone_port = transport.get_extra_info("sockname")[1]

    pc = RTCPeerConnection()
    pc.addTrack(Tone())
    frames = []
    states = []

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    frames.append(await track.recv())
                except Exception:
                    return

        asyncio.ensure_future(consume())

    @pc.on("connectionstatechange")
    def on_state():
        states.append(pc.connectionState)

    webrtc = {
        "call-id": call_id,
        "transport-protocol": "RTP/AVP",
        "ICE": "remove",
        "rtcp-mux": ["demux"],
    }
    if direction == "webrtc-offers":
        await pc.setLocalDescription(await pc.createOffer())
        to_phone = ng(client, dict(webrtc, command="offer", **{
            "from-tag": "browser", "sdp": pc.localDescription.sdp}))
        to_browser = ng(client, {
            "command": "answer", "call-id": call_id, "from-tag": "browser",
            "to-tag": "phone", "sdp": phone_sdp(phone_port)})
        await pc.setRemoteDescription(RTCSessionDescription(to_browser, "answer"))
    else:
        to_browser = ng(client, {
            "command": "offer", "call-id": call_id, "from-tag": "phone",
            "sdp": phone_sdp(phone_port), "transport-protocol": "UDP/TLS/RTP/SAVPF",
            "ICE": "force", "rtcp-mux": ["offer"]})
        await pc.setRemoteDescription(RTCSessionDescription(to_browser, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        to_phone = ng(client, {
            "command": "answer", "call-id": call_id, "from-tag": "phone",
            "to-tag": "browser", "sdp": pc.localDescription.sdp,
            "transport-protocol": "RTP/AVP", "ICE": "remove",
            "rtcp-mux": ["demux"]})

    daemon = media_of(to_phone)
    tone = bytes(
        ulaw(int(8000 * math.sin(2 * math.pi * 400 * i / RATE))) for i in range(SAMPLES)
    )
    end = time.monotonic() + seconds
    seq = 0
    while time.monotonic() < end:
        header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * SAMPLES, 0x50484F4E)
        transport.sendto(header + tone, daemon)
        seq += 1
        await asyncio.sleep(SAMPLES / RATE)
        if len(frames) >= 50 and len(phone.received) >= 50:
            break

    def loud(frame):
        pcm = bytes(frame.planes[0])[: frame.samples * 2]
        values = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
        return max(abs(v) for v in values) > 1000

    rtp = [d for d, _ in phone.received if len(d) >= 12 and d[0] >> 6 == 2]
    report = {
        "direction": direction,
        "browser_sdp": to_browser,
        "phone_sdp": to_phone,
        "states": states,
        "browser_frames": len(frames),
        "browser_loud_frames": sum(1 for f in frames if loud(f)),
        "phone_packets": len(phone.received),
        "phone_pcmu_packets": sum(1 for d in rtp if d[1] & 0x7F == 0),
        "phone_sources": sorted({"%s:%d" % a for _, a in phone.received}),
        "phone_sent": seq,
    }
    try:
        client.request({"command": "delete", "call-id": call_id,
                        "from-tag": "browser" if direction == "webrtc-offers" else "phone"})
    except Exception:
        pass
    await pc.close()
    transport.close()
    return report


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[1:] if a.startswith("--"))
    report = asyncio.run(run(
        int(args[0]),
        opts.get("direction", "webrtc-offers"),
        float(opts.get("seconds", "20")),
        opts.get("call-id", "aiortc-%d" % os.getpid()),
    ))
    print(json.dumps(report))
    ok = report["browser_loud_frames"] >= 25 and report["phone_pcmu_packets"] >= 25
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
