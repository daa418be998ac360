#!/usr/bin/env python3
"""A WebRTC <-> SIP call through an rtpengine ng daemon, with aiortc (an
implementation nobody here wrote) as the browser and a plain RTP/AVP endpoint
as the SIP phone. Prints a JSON report; exit status 0 when audio went both
ways.

Usage: aiortc_call.py [NG_HOST:]NG_PORT [--direction=webrtc-offers|sip-offers]
           [--seconds=N] [--call-id=ID] [--ice-host=IP] [--phone-bind=IP]
           [--phone-netns=NAME] [--hold-cmd=SHELL_COMMAND] [--hold-timeout=S]
           [--srtp-profiles=NAME,...]

webrtc-offers: aiortc's offer (ICE, DTLS-SRTP, rtcp-mux, UDP/TLS/RTP/SAVPF)
goes through ng `offer` with the flags Kamailio sends towards a SIP phone
(RTP/AVP, ICE removed, rtcp-mux demuxed); the phone's answer comes back to
aiortc through ng `answer`.
sip-offers: the phone's RTP/AVP offer goes to aiortc as UDP/TLS/RTP/SAVPF
with ICE forced (we are the controlling ICE agent then); aiortc answers.

The phone sends PCMU carrying a 400 Hz tone and checks that what arrives is
RTP with PCMU; aiortc sends a 1 kHz tone and checks the frames it decodes are
not silence. By default everything stays on 127.0.0.1: aioice is told to
gather only --ice-host (no STUN server), the phone binds --phone-bind, in the
network namespace --phone-netns (/run/netns/NAME) when given.

--srtp-profiles limits the DTLS-SRTP profiles aiortc offers and accepts to
those OpenSSL names (SRTP_AES128_CM_SHA1_80, SRTP_AEAD_AES_128_GCM,
SRTP_AEAD_AES_256_GCM; by default aiortc's, AEAD first).

--seconds bounds the wait for 50 packets at both ends. With --hold-cmd the
command then runs (through sh) while media keeps flowing both ways until it
exits (killed after --hold-timeout, default 300 s); its environment has
HOLD_CALL_ID, HOLD_BROWSER_SIDE_PORT (the daemon's port the browser sends to),
HOLD_PHONE_SIDE_PORT (the one the phone sends to) and HOLD_PHONE (the phone's
ip:port). Its status and output, and what arrived at both ends while it ran,
are in the report (hold_*).
"""

import asyncio
import ctypes
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
import aiortc.rtcdtlstransport  # noqa: E402
from aiortc import (  # noqa: E402
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
import av  # noqa: E402
import fractions  # noqa: E402


def srtp_profiles(names):
    """Restricts aiortc's DTLS-SRTP profiles (each transport copies the list
    when it is made)."""
    known = {p.openssl_profile.decode(): p for p in aiortc.rtcdtlstransport.SRTP_PROFILES}
    missing = [n for n in names if n not in known]
    if missing:
        raise SystemExit("unknown or unavailable SRTP profiles %s (have %s)"
                         % (missing, sorted(known)))
    aiortc.rtcdtlstransport.SRTP_PROFILES = [known[n] for n in names]


def gather_only(address):
    """Test traffic stays on the address we are given (loopback by default)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [address]

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


def phone_sdp(address, port, session_version=1):
    return (
        "v=0\r\no=phone %d %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\n"
        "t=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
        % (session_version, session_version, address, address, port)
    )


def phone_socket(address, netns):
    """The phone's UDP socket, made inside network namespace `netns` if given
    (a socket stays in the namespace it was created in). Runs before asyncio
    starts any thread: setns() switches only the calling thread."""
    if not netns:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((address, 0))
        return sock
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet = 0x40000000
    with open("/proc/self/ns/net") as home, open("/run/netns/" + netns) as there:
        if libc.setns(there.fileno(), clone_newnet) != 0:
            raise OSError(ctypes.get_errno(), "setns " + netns)
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((address, 0))
        finally:
            if libc.setns(home.fileno(), clone_newnet) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    return sock


def text(v):
    return v.decode() if isinstance(v, bytes) else v


def ng(client, msg):
    reply = client.request(msg)
    if text(reply.get("result")) != "ok":
        raise RuntimeError("ng %s: %r" % (msg["command"], reply))
    return text(reply["sdp"])


async def hold(cmd, timeout, env):
    """Runs the hold command; (status, output)."""
    proc = await asyncio.create_subprocess_shell(
        cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, **env))
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        return "timeout", out.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace")


def loud(frame):
    pcm = bytes(frame.planes[0])[: frame.samples * 2]
    values = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
    return max(abs(v) for v in values) > 1000


def pcmu(packets):
    return sum(1 for d, _ in packets if len(d) >= 12 and d[0] >> 6 == 2 and d[1] & 0x7F == 0)


async def run(opts):
    ng_host, ng_port = opts["ng"]
    call_id = opts["call_id"]
    direction = opts["direction"]
    client = NgClient(host=ng_host, port=ng_port, timeout=5.0)
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(Phone, sock=opts["phone_sock"])
    phone_addr, phone_port = transport.get_extra_info("sockname")[:2]

    # No STUN server: host candidates only, on --ice-host.
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
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
            "to-tag": "phone", "sdp": phone_sdp(phone_addr, phone_port)})
        await pc.setRemoteDescription(RTCSessionDescription(to_browser, "answer"))
    else:
        to_browser = ng(client, {
            "command": "offer", "call-id": call_id, "from-tag": "phone",
            "sdp": phone_sdp(phone_addr, phone_port),
            "transport-protocol": "UDP/TLS/RTP/SAVPF",
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
    seq = 0

    async def send_until(done):
        nonlocal seq
        while not done():
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * SAMPLES, 0x50484F4E)
            transport.sendto(header + tone, daemon)
            seq += 1
            await asyncio.sleep(SAMPLES / RATE)

    end = time.monotonic() + opts["seconds"]
    await send_until(lambda: time.monotonic() >= end
                     or (len(frames) >= 50 and len(phone.received) >= 50))
    held = None
    if opts["hold_cmd"] and len(frames) >= 50 and len(phone.received) >= 50:
        env = {
            "HOLD_CALL_ID": call_id,
            "HOLD_BROWSER_SIDE_PORT": str(media_of(to_browser)[1]),
            "HOLD_PHONE_SIDE_PORT": str(daemon[1]),
            "HOLD_PHONE": "%s:%d" % (phone_addr, phone_port),
        }
        at = (len(frames), len(phone.received))
        task = asyncio.ensure_future(hold(opts["hold_cmd"], opts["hold_timeout"], env))
        await send_until(task.done)
        status, output = task.result()
        held = {
            "hold_status": status,
            "hold_output": output,
            "hold_browser_loud_frames": sum(1 for f in frames[at[0]:] if loud(f)),
            "hold_phone_pcmu_packets": pcmu(phone.received[at[1]:]),
        }

    report = {
        "direction": direction,
        "browser_sdp": to_browser,
        "phone_sdp": to_phone,
        "states": states,
        "browser_frames": len(frames),
        "browser_loud_frames": sum(1 for f in frames if loud(f)),
        "phone_packets": len(phone.received),
        "phone_pcmu_packets": pcmu(phone.received),
        "phone_sources": sorted({"%s:%d" % a for _, a in phone.received}),
        "phone_sent": seq,
    }
    if held:
        report.update(held)
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
    ng_host, _, ng_port = args[0].rpartition(":")
    gather_only(opts.get("ice-host", "127.0.0.1"))
    if opts.get("srtp-profiles"):
        srtp_profiles(opts["srtp-profiles"].split(","))
    report = asyncio.run(run({
        "ng": (ng_host or "127.0.0.1", int(ng_port)),
        "direction": opts.get("direction", "webrtc-offers"),
        "seconds": float(opts.get("seconds", "20")),
        "call_id": opts.get("call-id", "aiortc-%d" % os.getpid()),
        "phone_sock": phone_socket(opts.get("phone-bind", "127.0.0.1"), opts.get("phone-netns")),
        "hold_cmd": opts.get("hold-cmd"),
        "hold_timeout": float(opts.get("hold-timeout", "300")),
    }))
    print(json.dumps(report))
    ok = report["browser_loud_frames"] >= 25 and report["phone_pcmu_packets"] >= 25
    if opts.get("hold-cmd"):
        ok = ok and report.get("hold_status") == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
