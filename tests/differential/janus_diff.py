#!/usr/bin/env python3
"""Differential test of the Janus interface (--listen-http with
--janus-secret): Debian's rtpengine 10.5 and rtpengined get the same JSON
requests in the same order, once over `POST /admin` and once over a
WebSocket of subprotocol `janus-protocol` (where acks and events come
before a reply). Each request's messages are compared after the ids both
daemons invent (sessions, handles, rooms, feeds) are named by their first
appearance, and in SDPs the ports, ICE credentials, fingerprints, origin
lines, SSRCs and the software name (`s=`) replaced by names too. Bad input is part of the sequence
(garbage JSON, unknown methods, a wrong secret, unknown sessions).

  tests/differential/janus_diff.py [--slot K] [--ng-base N --http-base H --media-base M]
                                   [path/to/rtpengined]

Prints each difference and ends with "janus-diff: N passed, M failed" (one
case per request and transport)."""
import argparse
import base64
import json
import os
import re
import socket
import struct
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemons import command, start_pinged, stop  # noqa: E402
from webrtc_corpus import CHROME_OFFER  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SECRET = "janus-diff-secret"
REF = {"name": "10.5", "ng": 22960, "http": 22970, "ports": (41000, 41499)}
OURS = {"name": "ours", "ng": 22961, "http": 22971, "ports": (41500, 41999)}
# Members whose integer values are ids one daemon or the other made up.
ID_KEYS = {"id", "session_id", "sender", "room", "unpublished", "leaving"}


def start(spec, binary, logdir):
    cmd = command(binary, spec["ng"], spec["ports"],
                  "--listen-http=127.0.0.1:%d" % spec["http"], "--janus-secret=" + SECRET)
    ping = "http://127.0.0.1:%d/ping" % spec["http"]
    proc, _ = start_pinged(cmd, logdir, spec["name"], spec["ng"],
                           ready=lambda: urllib.request.urlopen(ping, timeout=1).read())
    return proc


class Http:
    """POST /admin: one reply per request."""

    def __init__(self, port):
        self.port = port

    def send(self, body, _early):
        req = urllib.request.Request("http://127.0.0.1:%d/admin" % self.port, data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return [r.read().decode()]

    def close(self):
        pass


class WebSocket:
    """A minimal client of RFC 6455 (text frames, masked)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: janus-protocol\r\n"
                           "\r\n" % (port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise IOError("WebSocket handshake: connection closed")
            head += chunk
        status = head.split(b"\r\n")[0]
        if b" 101 " not in status:
            raise IOError("WebSocket handshake refused: %r" % status)
        self.buf = b""

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise IOError("WebSocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        data = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            op = b0 & 0x0f
            if op in (0x9, 0xa):  # ping, pong
                continue
            if op == 0x8:
                raise IOError("WebSocket closed by the server")
            data += payload
            if b0 & 0x80:
                return data.decode()

    def send(self, body, early):
        """The messages up to the reply: `early` acks are expected first."""
        n = len(body)
        head = bytes([0x81])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(head + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(body)))
        out = []
        while True:
            text = self.recv()
            out.append(text)
            try:
                msg = json.loads(text)
            except ValueError:
                return out
            kind = msg.get("janus")
            if kind == "ack" and early:
                early = False
                continue
            if kind == "event" and "transaction" not in msg:
                continue
            return out

    def close(self):
        self.sock.close()


class Namer:
    """Names for made-up values, by first appearance."""

    def __init__(self):
        self.names = {}

    def name(self, kind, value):
        key = (kind, value)
        if key not in self.names:
            self.names[key] = "%s%d" % (kind, sum(1 for k in self.names if k[0] == kind) + 1)
        return self.names[key]


SDP_RULES = [
    (re.compile(r"^(m=\S+ )(\d+)"), "port"),
    (re.compile(r"^(a=rtcp:)(\d+)"), "port"),
    (re.compile(r"^(a=ice-ufrag:)(\S+)"), "ufrag"),
    (re.compile(r"^(a=ice-pwd:)(\S+)"), "pwd"),
    (re.compile(r"^(a=fingerprint:\S+ )(\S+)"), "fp"),
    (re.compile(r"^(o=\S+ )(\d+ \d+)"), "origin"),
    (re.compile(r"^(a=ssrc:)(\d+)"), "ssrc"),
    (re.compile(r"^(a=tls-id:)(\S+)"), "tlsid"),
    # The software's name and version (a deliberate difference).
    (re.compile(r"^(s=)(rtpengine-\S+)"), "software"),
]
CANDIDATE = re.compile(r"^a=candidate:(\S+) (\d) (\S+) (\d+) (\S+) (\d+) (.*)$")


def norm_sdp(sdp, namer):
    out = []
    for line in sdp.split("\r\n"):
        m = CANDIDATE.match(line)
        if m:
            line = "a=candidate:%s %s %s %s %s %s %s" % (
                namer.name("found", m.group(1)), m.group(2), m.group(3),
                namer.name("prio", m.group(4)), m.group(5), namer.name("port", m.group(6)),
                m.group(7))
        for rule, kind in SDP_RULES:
            m = rule.match(line)
            if m:
                line = m.group(1) + namer.name(kind, m.group(2)) + line[m.end():]
        out.append(line)
    return out


def norm(value, namer, key=None):
    if isinstance(value, dict):
        return {k: norm(v, namer, k) for k, v in value.items()}
    if isinstance(value, list):
        out = [norm(v, namer) for v in value]
        # 10.5 lists publishers in its hash table's order.
        if all(isinstance(v, dict) and list(v) == ["id"] for v in out):
            out.sort(key=lambda v: str(v["id"]))
        return out
    if key in ID_KEYS and isinstance(value, int):
        return namer.name("id", value)
    if key == "sdp" and isinstance(value, str):
        return norm_sdp(value, namer)
    if key == "version_string":
        return "<version>"
    return value


def answer_for(offer):
    """A subscriber's answer to one of our offers: every section accepted,
    DTLS active, ICE credentials of its own."""
    out = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    for sec in offer.split("\r\nm=")[1:]:
        lines = ("m=" + sec).split("\r\n")
        m = lines[0].split()
        out.append("m=%s 9 %s %s" % (m[0][2:], m[2], " ".join(m[3:])))
        out.append("c=IN IP4 127.0.0.1")
        for line in lines[1:]:
            if line.startswith(("a=rtpmap:", "a=fmtp:", "a=mid:", "a=rtcp-fb:")):
                out.append(line)
        out += ["a=rtcp-mux", "a=ice-ufrag:subX", "a=ice-pwd:subscriberpasswordsubscriber",
                "a=fingerprint:sha-256 " + ":".join(["AB"] * 32), "a=setup:active",
                "a=recvonly"]
    return "\r\n".join(out) + "\r\n"


def requests(tag, state):
    """The sequence of (name, request or callable, early ack expected)."""
    sid = 4242 if tag == "http" else 4343
    T = {"transaction": "t-" + tag}

    def j(**kw):
        d = dict(T)
        d.update(kw)
        return d

    def msg(handle, body, jsep=None, session=None):
        d = j(janus="message", session_id=session or sid,
              handle_id=state[handle] if isinstance(handle, str) else handle, body=body)
        if jsep:
            d["jsep"] = jsep
        return d

    def room(**kw):
        d = {"room": state.get("room", 0)}
        d.update(kw)
        return d

    seq = [
        ("garbage", b"{not json", False),
        ("empty body", b"", False),
        ("white space", b" \n", False),
        ("array", b"[1,2]", False),
        ("string", b'"x"', False),
        ("no janus", j(), False),
        ("janus not a string", j(janus=5), False),
        ("no transaction", {"janus": "ping"}, False),
        ("transaction not a string", {"janus": "ping", "transaction": 7}, False),
        ("unknown method", j(janus="frobnicate"), False),
        ("ping", j(janus="ping"), False),
        ("ping with ids", j(janus="ping", session_id="17", handle_id=18), False),
        ("info", j(janus="info"), False),
        ("add_token no secret", j(janus="add_token", token="tok"), False),
        ("add_token wrong secret", j(janus="add_token", token="tok", admin_secret="nope"), False),
        ("add_token no token", j(janus="add_token", admin_secret=SECRET), False),
        ("add_token", j(janus="add_token", token="tok", admin_secret=SECRET), False),
        ("keepalive no session", j(janus="keepalive"), False),
        ("keepalive unknown session", j(janus="keepalive", session_id=999), False),
        ("attach unknown session", j(janus="attach", session_id=999,
                                     plugin="janus.plugin.videoroom"), False),
        ("create", j(janus="create", id=sid), False),
        ("create taken id", j(janus="create", id=sid), False),
        ("create random", j(janus="create"), False),
        ("keepalive", j(janus="keepalive", session_id=sid), False),
        ("keepalive string id", j(janus="keepalive", session_id=str(sid)), False),
        ("attach no plugin", j(janus="attach", session_id=sid), False),
        ("attach wrong plugin", j(janus="attach", session_id=sid, plugin="janus.plugin.echotest"),
         False),
        ("attach controller", j(janus="attach", session_id=sid, plugin="janus.plugin.videoroom"),
         False, "ctl"),
        ("attach publisher", j(janus="attach", session_id=sid, plugin="janus.plugin.videoroom"),
         False, "pub"),
        ("attach publisher 2", j(janus="attach", session_id=sid, plugin="janus.plugin.videoroom"),
         False, "pub2"),
        ("attach subscriber", j(janus="attach", session_id=sid, plugin="janus.plugin.videoroom"),
         False, "sub"),
        ("attach spare", j(janus="attach", session_id=sid, plugin="janus.plugin.videoroom"),
         False, "spare"),
        ("message no session", lambda: j(janus="message", handle_id=1, body={}), False),
        ("message no handle", lambda: j(janus="message", session_id=sid, body={}), False),
        ("message unknown handle", lambda: msg(12345, {"request": "create"}), False),
        ("message no body", lambda: j(janus="message", session_id=sid, handle_id=state["ctl"]),
         False),
        ("message no request", lambda: msg("ctl", {}), False),
        ("message body not an object", lambda: msg("ctl", [1]), False),
        ("unknown videoroom request", lambda: msg("ctl", {"request": "kick"}), False),
        ("room create", lambda: msg("ctl", {"request": "create", "publishers": 5}), False),
        ("room exists", lambda: msg("ctl", room(request="exists")), False),
        ("room exists unknown", lambda: msg("ctl", {"request": "exists", "room": 77}), False),
        ("room exists string id", lambda: msg("ctl", {"request": "exists",
                                                      "room": str(state["room"])}), False),
        ("destroy unknown room", lambda: msg("ctl", {"request": "destroy", "room": 77}), False),
        ("join no ptype", lambda: msg("pub", room(request="join")), True),
        ("join bad ptype", lambda: msg("pub", room(request="join", ptype="host")), True),
        ("join unknown room", lambda: msg("pub", {"request": "join", "ptype": "publisher",
                                                  "room": 77}), True),
        ("join as controller", lambda: msg("ctl", room(request="join", ptype="publisher")), True),
        ("join publisher", lambda: msg("pub", room(request="join", ptype="publisher")), True),
        ("join publisher again", lambda: msg("pub", room(request="join", ptype="publisher")),
         True),
        ("room create by publisher", lambda: msg("pub", {"request": "create"}), False),
        ("join subscriber no feed", lambda: msg("sub", room(request="join", ptype="subscriber")),
         True),
        ("join subscriber unknown feed", lambda: msg("sub", room(request="join",
                                                                 ptype="subscriber", feed=99)),
         True),
        ("configure no feed", lambda: msg("pub", room(request="configure")), True),
        ("configure not a publisher", lambda: msg("spare", room(request="configure",
                                                                feed=state["feed"])), True),
        ("configure no SDP", lambda: msg("pub", room(request="configure", feed=state["feed"])),
         True),
        ("configure answer", lambda: msg("pub", room(request="configure", feed=state["feed"]),
                                         {"type": "answer", "sdp": CHROME_OFFER}), True),
        ("configure", lambda: msg("pub", room(request="configure", feed=state["feed"]),
                                  {"type": "offer", "sdp": CHROME_OFFER}), True),
        ("join publisher 2", lambda: msg("pub2", room(request="join", ptype="publisher")), True),
        ("configure 2", lambda: msg("pub2", room(request="configure", feed=state["feed2"]),
                                    {"type": "offer", "sdp": CHROME_OFFER}), True),
        ("join subscriber", lambda: msg("sub", room(request="join", ptype="subscriber",
                                                    feed=state["feed"])), True),
        ("join subscriber again", lambda: msg("sub", room(request="join", ptype="subscriber",
                                                          feed=state["feed"])), True),
        ("start no feed", lambda: msg("sub", room(request="start")), True),
        ("start not a subscriber", lambda: msg("pub", room(request="start", feed=state["feed"]),
                                               {"type": "answer", "sdp": "v=0\r\n"}), True),
        ("start no SDP", lambda: msg("sub", room(request="start", feed=state["feed"])), True),
        ("start offer", lambda: msg("sub", room(request="start", feed=state["feed"]),
                                    {"type": "offer", "sdp": "v=0\r\n"}), True),
        ("start", lambda: msg("sub", room(request="start", feed=state["feed"]),
                              {"type": "answer", "sdp": answer_for(state["offer"])}), True),
        ("trickle no session", lambda: j(janus="trickle", handle_id=state["sub"]), False),
        ("trickle no handle", lambda: j(janus="trickle", session_id=sid), False),
        ("trickle no candidate", lambda: j(janus="trickle", session_id=sid,
                                           handle_id=state["sub"]), False),
        ("trickle completed", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                        candidate={"completed": True}), False),
        ("trickle no mid", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                     candidate={"candidate": "candidate:1 1 udp 5 127.0.0.1 "
                                                "4000 typ host"}), False),
        ("trickle by mid", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                     candidate={"candidate": "candidate:1 1 udp 5 127.0.0.1 "
                                                "4000 typ host", "sdpMid": "0"}), False),
        ("trickle by index", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                       candidate={"candidate": "candidate:2 1 udp 5 127.0.0.1 "
                                                  "4002 typ host", "sdpMLineIndex": 1}), False),
        ("trickle unknown mid", lambda: j(janus="trickle", session_id=sid,
                                          handle_id=state["sub"],
                                          candidate={"candidate": "candidate:1 1 udp 5 127.0.0.1 "
                                                     "4000 typ host", "sdpMid": "9"}), False),
        ("trickle garbage", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                      candidate={"candidate": "candidate:xyz", "sdpMid": "0"}),
         False),
        ("trickle end", lambda: j(janus="trickle", session_id=sid, handle_id=state["sub"],
                                  candidate={"candidate": "", "sdpMid": "0"}), False),
        ("trickle publisher", lambda: j(janus="trickle", session_id=sid, handle_id=state["pub"],
                                        candidate={"candidate": "candidate:3 1 udp 5 127.0.0.1 "
                                                   "4004 typ host", "sdpMid": "1"}), False),
        ("trickle not in a room", lambda: j(janus="trickle", session_id=sid,
                                            handle_id=state["spare"],
                                            candidate={"candidate": "", "sdpMid": "0"}), False),
        ("detach no handle", lambda: j(janus="detach", session_id=sid), False),
        ("detach unknown handle", lambda: j(janus="detach", session_id=sid, handle_id=5), False),
        ("detach subscriber", lambda: j(janus="detach", session_id=sid, handle_id=state["sub"]),
         False),
        ("detach publisher 2", lambda: j(janus="detach", session_id=sid,
                                         handle_id=state["pub2"]), False),
        ("detach publisher 2 again", lambda: j(janus="detach", session_id=sid,
                                               handle_id=state["pub2"]), False),
        ("subscribe to a gone feed", lambda: msg("spare", room(request="join", ptype="subscriber",
                                                               feed=state["feed2"])), True),
        ("room destroy", lambda: msg("ctl", room(request="destroy")), False),
        ("room destroy again", lambda: msg("ctl", room(request="destroy")), False),
        ("room exists destroyed", lambda: msg("ctl", room(request="exists")), False),
        ("configure destroyed room", lambda: msg("pub", room(request="configure",
                                                             feed=state["feed"]),
                                                 {"type": "offer", "sdp": CHROME_OFFER}), True),
    ]
    return seq


def learn(name, msgs, state, save):
    """Keeps the ids the sequence needs later."""
    try:
        r = json.loads(msgs[-1])
    except ValueError:
        return
    if save:
        state[save] = r.get("data", {}).get("id")
    data = r.get("plugindata", {}).get("data", {})
    if name == "room create":
        state["room"] = data.get("room")
    if name == "join publisher":
        state["feed"] = data.get("id")
    if name == "join publisher 2":
        state["feed2"] = data.get("id")
    if name == "join subscriber":
        state["offer"] = r.get("jsep", {}).get("sdp", "")


def run(spec, transport):
    conn = Http(spec["http"]) if transport == "http" else WebSocket(spec["http"])
    state, namer, results = {}, Namer(), []
    try:
        for item in requests(transport, state):
            name, req, early = item[:3]
            save = item[3] if len(item) > 3 else None
            if callable(req):
                req = req()
            body = req if isinstance(req, bytes) else json.dumps(req).encode()
            try:
                msgs = conn.send(body, early)
            except Exception as e:  # noqa: BLE001
                msgs = ["<%s>" % e]
            learn(name, msgs, state, save)
            shown = []
            for m in msgs:
                try:
                    shown.append(norm(json.loads(m), namer))
                except ValueError:
                    shown.append(m)
            results.append((name, shown))
    finally:
        conn.close()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--reference", default="/usr/bin/rtpengine")
    ap.add_argument("--slot", type=int, default=0)
    ap.add_argument("--ng-base", type=int, help="ng ports N (10.5) and N+1 (ours)")
    ap.add_argument("--http-base", type=int, help="HTTP ports H (10.5) and H+1 (ours)")
    ap.add_argument("--media-base", type=int, help="media ports M..M+999 instead of the slot's")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    for i, spec in enumerate((REF, OURS)):
        spec["ng"] += 10 * args.slot
        spec["http"] += 10 * args.slot
        spec["ports"] = tuple(p - 1000 * args.slot for p in spec["ports"])
        if args.ng_base:
            spec["ng"] = args.ng_base + i
        if args.http_base:
            spec["http"] = args.http_base + i
        if args.media_base:
            spec["ports"] = (args.media_base + 500 * i, args.media_base + 500 * i + 499)
    logdir = tempfile.mkdtemp(prefix="janus-diff-")
    procs = [start(REF, args.reference, logdir), start(OURS, args.binary, logdir)]
    passed = failed = 0
    try:
        for transport in ("http", "websocket"):
            ref, ours = run(REF, transport), run(OURS, transport)
            for (name, a), (_, b) in zip(ref, ours):
                if a == b:
                    passed += 1
                    if args.verbose:
                        print("ok   %s %s" % (transport, name))
                    continue
                failed += 1
                print("DIFF %s %s" % (transport, name))
                print("  10.5: %s" % json.dumps(a, sort_keys=True))
                print("  ours: %s" % json.dumps(b, sort_keys=True))
    finally:
        stop(procs)
    print("logs in %s" % logdir)
    print("janus-diff: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
