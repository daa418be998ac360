#!/usr/bin/env python3
"""Record the Redis documents Debian's rtpengine 10.5 writes for a few calls.

Starts redis-server and /usr/bin/rtpengine --redis on loopback, makes each
scenario's call over ng (tests/differential/ng_client.py), sends media where the
scenario says so (so that the SSRC table with its SRTP indices is filled), and
writes, per scenario, into OUT:

  NAME.json     the value of the call's key, byte for byte as 10.5 stored it
  NAME.ng.json  the ng requests and replies that made the call, and the key's TTL

Usage: tests/redis/record-10.5.py [OUT]   (default proto/src/call/redis_fixtures)
Ports: redis 25000, ng 25001, media 40000-40099 (REDIS_RECORD_PORT_BASE and
REDIS_RECORD_MEDIA_BASE move them). Needs redis-server, redis-cli, rtpengine.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "differential"))
from ng_client import NgClient  # noqa: E402

BASE = int(os.environ.get("REDIS_RECORD_PORT_BASE", "25000"))
MEDIA = int(os.environ.get("REDIS_RECORD_MEDIA_BASE", "40000"))
REDIS_PORT, NG_PORT = BASE, BASE + 1
DB = 3
EXPIRES = 3600
# Where the fake phones listen (never answered; only their addresses matter).
PHONE_A, PHONE_B = 40500, 40520


def sdp(port, proto="RTP/AVP", pts="0 8 101", extra=""):
    return ("v=0\r\no=- 1545997027 1 IN IP4 127.0.0.1\r\ns=tester\r\nt=0 0\r\n"
            "m=audio %d %s %s\r\nc=IN IP4 127.0.0.1\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
            "a=ptime:20\r\n%sa=sendrecv\r\n" % (port, proto, pts, extra))


CRYPTO = ("a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
          "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
          "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
          "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n")
FINGERPRINT = ("a=setup:actpass\r\na=fingerprint:sha-256 "
               "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3C:2A:"
               "5D:2B:5F:E0:1F:C3:B5:E8:66:4C\r\n")

# name: (offer flags, offer SDP, answer flags, answer SDP, media from B to A)
SCENARIOS = {
    "plain": ({}, sdp(PHONE_A), {}, sdp(PHONE_B), True),
    "sdes": ({"transport-protocol": "RTP/AVP"}, sdp(PHONE_A, "RTP/SAVP", extra=CRYPTO),
             {}, sdp(PHONE_B), True),
    "sdes-out": ({"transport-protocol": "RTP/SAVP"}, sdp(PHONE_A),
                 {"transport-protocol": "RTP/AVP"}, sdp(PHONE_B, "RTP/SAVP", extra=CRYPTO), False),
    "dtls": ({"transport-protocol": "RTP/AVP", "ICE": "remove"},
             sdp(PHONE_A, "UDP/TLS/RTP/SAVP", extra=FINGERPRINT), {}, sdp(PHONE_B), False),
}


def text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, list):
        return [text(x) for x in v]
    if isinstance(v, dict):
        return {k: text(x) for k, x in v.items()}
    return v


def wait_for(what, probe, proc, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("%s exited at start (%s)" % (what, proc.returncode))
        if probe():
            return
        time.sleep(0.05)
    sys.exit("%s did not come up" % what)


def redis_cli(*args):
    return subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "-n", str(DB), *args],
                          capture_output=True, check=True).stdout


def media_port(reply):
    body = reply["sdp"].decode()
    for line in body.split("\r\n"):
        if line.startswith("m="):
            return int(line.split()[1])
    raise RuntimeError("no m= line")


def rtp(seq):
    return bytes([0x80, 0, seq >> 8, seq & 0xff]) + (seq * 160).to_bytes(4, "big") + \
        b"\x12\x34\x56\x78" + b"\xff" * 160


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "proto", "src", "call",
                                                             "redis_fixtures")
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="record-redis-")
    procs = []
    try:
        rs = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", work],
                              stdout=open(os.path.join(work, "redis.log"), "wb"),
                              stderr=subprocess.STDOUT)
        procs.append(rs)
        wait_for("redis-server", lambda: subprocess.run(
            ["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).stdout == b"PONG\n",
            rs)
        log = os.path.join(work, "rtpengine.log")
        rtpe = subprocess.Popen(
            ["/usr/bin/rtpengine", "--foreground", "--config-file=none", "--table=-1",
             "--log-stderr", "--log-level=7", "--interface=127.0.0.1", "--delete-delay=0",
             "--listen-ng=127.0.0.1:%d" % NG_PORT, "--port-min=%d" % MEDIA,
             "--port-max=%d" % (MEDIA + 99), "--redis=127.0.0.1:%d/%d" % (REDIS_PORT, DB),
             "--redis-expires=%d" % EXPIRES],
            stdout=subprocess.DEVNULL, stderr=open(log, "wb"), stdin=subprocess.DEVNULL)
        procs.append(rtpe)
        ng = NgClient(port=NG_PORT, timeout=0.2)

        def pong():
            try:
                return ng.request({"command": "ping"}).get("result") == b"pong"
            except (socket.timeout, OSError, RuntimeError):
                return False
        wait_for("rtpengine", pong, rtpe)
        ng.sock.settimeout(3.0)

        for name, (oflags, osdp, aflags, asdp, send) in SCENARIOS.items():
            call_id = "redis-fixture-" + name
            exchange = []
            req = dict(oflags, command="offer", **{"call-id": call_id, "from-tag": "tag-a",
                                                   "sdp": osdp})
            rep = ng.request(req)
            exchange.append({"request": req, "reply": text(rep)})
            req = dict(aflags, command="answer", **{"call-id": call_id, "from-tag": "tag-a",
                                                    "to-tag": "tag-b", "sdp": asdp})
            rep2 = ng.request(req)
            exchange.append({"request": req, "reply": text(rep2)})
            if send:
                # B's RTP to the port the offer's reply named (B's view) goes out
                # to A, which fills the SSRC table (with SRTP indices where A's
                # side is SRTP).
                port = media_port(rep)
                b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                b.bind(("127.0.0.1", PHONE_B))
                a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                a.bind(("127.0.0.1", PHONE_A))
                a.settimeout(2.0)
                for seq in range(1, 4):
                    b.sendto(rtp(seq), ("127.0.0.1", port))
                    a.recvfrom(2048)
                b.close()
                a.close()
                # The document is rewritten on signalling only: a query does not
                # write it, an (unchanged) re-answer does.
                rep3 = ng.request(req)
                exchange.append({"request": req, "reply": text(rep3)})
            value = redis_cli("--no-raw", "GET", call_id)
            raw = redis_cli("GET", call_id)
            if raw.endswith(b"\n"):
                raw = raw[:-1]
            if not raw:
                sys.exit("no key %s; rtpengine log: %s (%r)" % (call_id, log, value))
            ttl = int(redis_cli("TTL", call_id))
            with open(os.path.join(out, name + ".json"), "wb") as f:
                f.write(raw)
            with open(os.path.join(out, name + ".ng.json"), "w") as f:
                json.dump({"call-id": call_id, "db": DB, "redis-expires": EXPIRES, "ttl": ttl,
                           "exchange": exchange}, f, indent=1, sort_keys=True)
                f.write("\n")
            rep = ng.request({"command": "delete", "call-id": call_id, "from-tag": "tag-a"})
            if redis_cli("EXISTS", call_id).strip() != b"0":
                sys.exit("key %s stayed after delete" % call_id)
            print("recorded %s (ttl %d)" % (name, ttl))
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
