#!/usr/bin/env python3
"""UDP proxy between an ng client (Kamailio) and an ng server (rtpengined) that keeps
every datagram the client sends, byte for byte, as OUTDIR/NN_<command>.ng.

NN counts datagrams from 01 in arrival order; <command> is the request's `command`
value (spaces become `-`). A datagram whose cookie was already seen is a client
retransmission and gets the suffix `_retrans`. Replies go back unchanged to the
address that sent the request with their cookie.

    capture-proxy.py --listen 127.0.0.1:47223 --server 127.0.0.1:47224 --out DIR
                     [--hold-first-reply offer]

--hold-first-reply CMD drops the server's reply to the first CMD request, so the
client has to retransmit it (the reply to the retransmission is passed on).
Each datagram is logged to stdout: seconds since start, then `client NN_<command>.ng
COOKIE COMMAND`, `server COOKIE` (a reply passed on) or `held COOKIE`.
Python 3 standard library only; stops on SIGTERM/SIGINT.
"""
import argparse
import os
import selectors
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "differential"))
from ng_client import bdecode  # noqa: E402


def address(text):
    """`127.0.0.1:22222` or `[::1]:22222` -> (family, (host, port))."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host, int(port))


def command_of(body):
    """The request's `command`, or `unknown` when the bencode does not say."""
    try:
        msg, _ = bdecode(body)
        return msg["command"].decode().replace(" ", "-")
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        return "unknown"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", required=True, help="address the client sends to")
    p.add_argument("--server", required=True, help="the ng server's address")
    p.add_argument("--out", required=True, help="folder for the NN_<command>.ng files")
    p.add_argument("--hold-first-reply", metavar="CMD", help="drop the reply to the first CMD request")
    args = p.parse_args()

    os.makedirs(args.out, exist_ok=True)
    fam, listen_addr = address(args.listen)
    front = socket.socket(fam, socket.SOCK_DGRAM)
    front.bind(listen_addr)
    fam, server_addr = address(args.server)
    back = socket.socket(fam, socket.SOCK_DGRAM)
    back.connect(server_addr)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    sel = selectors.DefaultSelector()
    sel.register(front, selectors.EVENT_READ)
    sel.register(back, selectors.EVENT_READ)
    clients = {}  # cookie -> client address
    count = 0
    hold_cookie = None  # the request whose first reply is held back
    held = False
    start = time.monotonic()

    def log(text):
        print("%.3f %s" % (time.monotonic() - start, text), flush=True)

    log("listening on %s, server %s" % (args.listen, args.server))
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is front:
                data, peer = front.recvfrom(65535)
                cookie, sep, body = data.partition(b" ")
                command = command_of(body) if sep else "unknown"
                retrans = cookie in clients
                count += 1
                name = "%02d_%s%s.ng" % (count, command, "_retrans" if retrans else "")
                # Written before forwarding: by the time the client has its reply,
                # the file is complete.
                with open(os.path.join(args.out, name), "wb") as f:
                    f.write(data)
                clients[cookie] = peer
                if args.hold_first_reply == command and hold_cookie is None:
                    hold_cookie = cookie
                log("client %s %s %s" % (name, cookie.decode(errors="replace"), command))
                back.send(data)
            else:
                data = back.recv(65535)
                cookie = data.partition(b" ")[0]
                peer = clients.get(cookie)
                if peer is None:
                    log("server reply with unknown cookie %r dropped" % cookie[:40])
                elif cookie == hold_cookie and not held:
                    held = True
                    log("held %s" % cookie.decode(errors="replace"))
                else:
                    log("server %s" % cookie.decode(errors="replace"))
                    front.sendto(data, peer)


if __name__ == "__main__":
    main()
