"""Minimal ng protocol client (bencode over UDP) used to record SDP fixtures
from a running Debian rtpengine 10.5 daemon."""
import os
import socket


def bencode(value):
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        out = b"d"
        for k in sorted(value):
            out += bencode(k) + bencode(value[k])
        return out + b"e"
    raise TypeError(type(value))


def bdecode(data, pos=0):
    """Returns (value, next_pos). Strings come back as bytes."""
    c = data[pos:pos + 1]
    if c == b"i":
        end = data.index(b"e", pos)
        return int(data[pos + 1:end]), end + 1
    if c == b"l":
        pos += 1
        items = []
        while data[pos:pos + 1] != b"e":
            v, pos = bdecode(data, pos)
            items.append(v)
        return items, pos + 1
    if c == b"d":
        pos += 1
        d = {}
        while data[pos:pos + 1] != b"e":
            k, pos = bdecode(data, pos)
            v, pos = bdecode(data, pos)
            d[k.decode()] = v
        return d, pos + 1
    colon = data.index(b":", pos)
    n = int(data[pos:colon])
    return data[colon + 1:colon + 1 + n], colon + 1 + n


class NgClient:
    def __init__(self, host="127.0.0.1", port=22460, timeout=3.0):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(timeout)
        self.counter = 0

    def request(self, msg):
        self.counter += 1
        cookie = b"sdpdiff_%d_%d" % (os.getpid(), self.counter)
        self.sock.sendto(cookie + b" " + bencode(msg), self.addr)
        data, _ = self.sock.recvfrom(65535)
        got_cookie, _, body = data.partition(b" ")
        if got_cookie != cookie:
            raise RuntimeError("cookie mismatch")
        reply, _ = bdecode(body)
        return reply
