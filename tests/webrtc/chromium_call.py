#!/usr/bin/env python3
"""A WebRTC -> SIP call through an rtpengine ng daemon with headless Chromium
(fake microphone) as the browser and a plain RTP/AVP phone. Run it inside the
network namespace tests/webrtc/chromium-call makes (Chromium gathers no
loopback candidates, so the namespace has an address of its own). Prints a
JSON report; exit status 0 when audio went both ways.

Usage: chromium_call.py NG_PORT ADDRESS [--seconds=N]

ADDRESS is the namespace's address: the phone binds it; Chromium's host
candidate is on it. The page (chromium_page.html) is served on 127.0.0.1,
which Chromium takes for a secure origin (getUserMedia needs one).
"""

import http.server
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "differential"))
from ng_client import NgClient  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 160


def ulaw(sample):
    """G.711 mu-law of a 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), 32635) + 0x84
    exponent, mask = 7, 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    return ~(sign | (exponent << 4) | ((sample >> (exponent + 3)) & 0x0F)) & 0xFF


def text(v):
    return v.decode() if isinstance(v, bytes) else v


class Call:
    """The call's state, shared by the HTTP handler and the phone."""

    def __init__(self, ng_port, address):
        self.ng = NgClient(port=ng_port, timeout=5.0)
        self.phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.phone.bind((address, 0))
        self.address = address
        self.daemon = None  # the daemon's SIP-side address, after the answer
        self.reports = []
        self.errors = []
        self.phone_received = 0
        self.done = threading.Event()

    def offer(self, browser_sdp):
        cid = "chromium-%d" % os.getpid()
        reply = self.ng.request({
            "command": "offer", "call-id": cid, "from-tag": "browser", "sdp": browser_sdp,
            "transport-protocol": "RTP/AVP", "ICE": "remove", "rtcp-mux": ["demux"]})
        if text(reply.get("result")) != "ok":
            raise RuntimeError("offer: %r" % reply)
        to_phone = text(reply["sdp"])
        port = self.phone.getsockname()[1]
        phone_sdp = (
            "v=0\r\no=phone 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
            % (self.address, self.address, port))
        reply = self.ng.request({
            "command": "answer", "call-id": cid, "from-tag": "browser", "to-tag": "phone",
            "sdp": phone_sdp})
        if text(reply.get("result")) != "ok":
            raise RuntimeError("answer: %r" % reply)
        ip = next(ln.split()[2] for ln in to_phone.splitlines() if ln.startswith("c=IN IP4"))
        m = next(ln for ln in to_phone.splitlines() if ln.startswith("m=audio "))
        self.daemon = (ip, int(m.split()[1]))
        return text(reply["sdp"])

    def run_phone(self, seconds):
        tone = bytes(ulaw(int(8000 * math.sin(2 * math.pi * 400 * i / 8000)))
                     for i in range(SAMPLES))
        start = time.monotonic()
        end = start + seconds
        seq = 0
        while time.monotonic() < end and not self.done.is_set():
            # One packet every 20 ms, whatever arrives meanwhile.
            if self.daemon and time.monotonic() >= start + seq * SAMPLES / 8000:
                hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * SAMPLES, 0x50484F4E)
                self.phone.sendto(hdr + tone, self.daemon)
                seq += 1
            elif not self.daemon:
                start = time.monotonic()
            wait = max(0.001, start + seq * SAMPLES / 8000 - time.monotonic())
            self.phone.settimeout(wait)
            try:
                data, _ = self.phone.recvfrom(2048)
                if len(data) >= 12 and data[1] & 0x7F == 0:
                    self.phone_received += 1
            except socket.timeout:
                pass
            last = self.reports[-1] if self.reports else {}
            if self.phone_received >= 50 and last.get("received", 0) >= 50 \
                    and last.get("energy", 0) > 0:
                self.done.set()


def handler_for(call):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            with open(os.path.join(HERE, "chromium_page.html"), "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            data = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = b""
            try:
                if self.path == "/offer":
                    body = call.offer(data).encode()
                else:
                    report = json.loads(data)
                    call.reports.append(report)
                    if "error" in report:
                        call.errors.append(report["error"])
                        call.done.set()
            except Exception as e:  # the report says what went wrong
                call.errors.append(str(e))
                call.done.set()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    opts = dict(a[2:].partition("=")[::2] for a in sys.argv[1:] if a.startswith("--"))
    seconds = float(opts.get("seconds", "60"))
    call = Call(int(args[0]), args[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(call))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="rtpe-chromium-")
    browser = shutil.which("chromium") or "chromium"
    chrome = subprocess.Popen(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
         "--autoplay-policy=no-user-gesture-required",
         "--user-data-dir=" + profile, "http://127.0.0.1:%d/" % server.server_port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        call.run_phone(seconds)
    finally:
        chrome.terminate()
        try:
            chrome.wait(10)
        except subprocess.TimeoutExpired:
            chrome.kill()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    last = call.reports[-1] if call.reports else {}
    report = {"browser": last, "phone_pcmu_packets": call.phone_received,
              "errors": call.errors}
    print(json.dumps(report))
    ok = call.done.is_set() and not call.errors and last.get("received", 0) >= 50 \
        and call.phone_received >= 50 and last.get("energy", 0) > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
