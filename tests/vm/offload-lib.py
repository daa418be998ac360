#!/usr/bin/env python3
"""Helpers for tests/vm/offload*.sh (issue 6): an ng client and an RTP endpoint.

  offload-lib.py ng PORT COMMAND CALLID FROMTAG [TOTAG] [SDPFILE]
      prints the reply as `key=value` lines (sdp port of the first m= as `port=`)
  offload-lib.py ping PORT
  offload-lib.py rtpproxy PORT COMMAND...
      sends one rtpproxy-protocol command (words after a cookie of its own) and
      prints the reply without the cookie
  offload-lib.py query PORT CALLID
      prints one line per stream: `local_port packets flags...`
  offload-lib.py endpoint BIND_IP BIND_PORT PEER_IP PEER_PORT SECONDS [PPS]
      sends RTP (PT 0, 160 bytes of payload) at PPS and prints what came back:
      `sent=N received=N sources=ip:port,...` ; a new line of progress every second
      goes to stderr as `t=S received=N`
"""
import os
import socket
import sys
import time


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(type(v))


def bdecode(d, p=0):
    c = d[p:p + 1]
    if c == b"i":
        e = d.index(b"e", p)
        return int(d[p + 1:e]), e + 1
    if c in (b"l", b"d"):
        p += 1
        items = []
        while d[p:p + 1] != b"e":
            x, p = bdecode(d, p)
            items.append(x)
        if c == b"l":
            return items, p + 1
        return {items[i].decode(): items[i + 1] for i in range(0, len(items), 2)}, p + 1
    colon = d.index(b":", p)
    n = int(d[p:colon])
    return d[colon + 1:colon + 1 + n], colon + 1 + n


def ng(port, msg, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    cookie = b"off%d" % os.getpid()
    s.sendto(cookie + b" " + bencode(msg), ("127.0.0.1", int(port)))
    data, _ = s.recvfrom(65535)
    return bdecode(data.partition(b" ")[2])[0]


def sdp(ip, port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n" % (ip, ip, port))


def cmd_ng(port, command, call_id, from_tag, to_tag="", media=""):
    msg = {"command": command, "call-id": call_id, "from-tag": from_tag}
    if to_tag:
        msg["to-tag"] = to_tag
    if media:
        ip, p = media.rsplit(":", 1)
        msg["sdp"] = sdp(ip, int(p))
    r = ng(port, msg)
    print("result=%s" % r.get("result", b"").decode())
    if "error-reason" in r:
        print("error=%s" % r["error-reason"].decode())
    body = r.get("sdp", b"").decode()
    for line in body.splitlines():
        if line.startswith("m=audio "):
            print("port=%s" % line.split()[1])
            break
    return 0 if r.get("result") == b"ok" else 1


def cmd_ping(port):
    try:
        return 0 if ng(port, {"command": "ping"}, 0.5).get("result") == b"pong" else 1
    except OSError:
        return 1


def cmd_rtpproxy(port, *words):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5.0)
    cookie = b"rp%d" % os.getpid()
    s.sendto(cookie + b" " + " ".join(words).encode(), ("127.0.0.1", int(port)))
    data, _ = s.recvfrom(65535)
    got, _, reply = data.partition(b" ")
    if got != cookie:
        print("error=cookie %r" % got)
        return 1
    print(reply.decode().strip())
    return 0 if not reply.startswith(b"E") else 1


def cmd_query(port, call_id):
    r = ng(port, {"command": "query", "call-id": call_id})
    if r.get("result") != b"ok":
        print("error=%s" % r.get("error-reason", b"?").decode())
        return 1
    for tag in r.get("tags", {}).values():
        for m in tag.get("medias", []):
            for s in m.get("streams", []):
                flags = " ".join(f.decode().replace(" ", "_") for f in s.get("flags", []))
                print("%d %d %s" % (s.get("local port", 0), s.get("stats", {}).get("packets", 0), flags))
    return 0


def cmd_endpoint(bind_ip, bind_port, peer_ip, peer_port, seconds, pps="50"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_ip, int(bind_port)))
    s.setblocking(False)
    peer = (peer_ip, int(peer_port))
    interval = 1.0 / float(pps)
    start = time.monotonic()
    end = start + float(seconds)
    nxt = start
    seq = 0
    received = 0
    sources = set()
    last_report = start
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= nxt:
            hdr = bytes([0x80, 0, (seq >> 8) & 255, seq & 255]) + (seq * 160).to_bytes(4, "big") + b"\x12\x34\x56\x78"
            try:
                s.sendto(hdr + bytes(160), peer)
            except OSError:
                pass
            seq += 1
            nxt += interval
        try:
            while True:
                _, src = s.recvfrom(2048)
                received += 1
                sources.add("%s:%d" % src)
        except BlockingIOError:
            pass
        if now - last_report >= 1.0:
            last_report = now
            print("t=%d received=%d" % (now - start, received), file=sys.stderr, flush=True)
        time.sleep(min(0.005, max(0.0, nxt - time.monotonic())))
    print("sent=%d received=%d sources=%s" % (seq, received, ",".join(sorted(sources))), flush=True)
    return 0


if __name__ == "__main__":
    cmds = {"ping": cmd_ping, "ng": cmd_ng, "query": cmd_query, "endpoint": cmd_endpoint,
            "rtpproxy": cmd_rtpproxy}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))
