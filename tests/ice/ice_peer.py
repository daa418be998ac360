#!/usr/bin/env python3
"""An aioice ICE agent (an implementation independent of rtpengine-rs) for
our own ICE agent to complete ICE with; driven by
proto/tests/ice_agent_aioice.rs over stdin/stdout, one line per step.

Usage: ice_peer.py controlling|controlled PORT [TIEBREAKER]

It gathers one host candidate, 127.0.0.1:PORT (aioice would otherwise bind
every non-loopback address on an ephemeral port), then:

  prints  "peer UFRAG PWD HOST PORT PRIORITY"     its credentials and candidate
  reads   "ours UFRAG PWD HOST PORT PRIORITY"     the other side's
  prints  "connected HOST PORT"                   once connect() nominated a pair
                                                  (the remote end of that pair)
  echoes the first datagram it receives back on the nominated pair and
  prints  "echoed HEX"
  exits when stdin closes. On failure it prints "error ..." and exits 1.
"""

import asyncio
import logging
import os
import sys

from aioice import Candidate, Connection, ice


async def run(role: str, tiebreaker: int | None) -> int:
    conn = Connection(ice_controlling=(role == "controlling"), use_ipv6=False)
    if tiebreaker is not None:
        conn._tie_breaker = tiebreaker
    await conn.gather_candidates()
    c = conn.local_candidates[0]
    print(f"peer {conn.local_username} {conn.local_password} {c.host} {c.port} {c.priority}",
          flush=True)

    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    kind, ufrag, pwd, host, port, priority = line.split()
    assert kind == "ours", line
    conn.remote_username = ufrag
    conn.remote_password = pwd
    await conn.add_remote_candidate(Candidate(
        foundation="rtpe", component=1, transport="udp", priority=int(priority),
        host=host, port=int(port), type="host"))
    await conn.add_remote_candidate(None)

    try:
        await asyncio.wait_for(conn.connect(), 20)
    except Exception as e:  # noqa: BLE001 - reported to the driver
        print(f"error connect: {e!r}", flush=True)
        return 1
    pair = conn._nominated[1]
    print(f"connected {pair.remote_addr[0]} {pair.remote_addr[1]}", flush=True)

    try:
        data = await asyncio.wait_for(conn.recv(), 20)
    except Exception as e:  # noqa: BLE001
        print(f"error recv: {e!r}", flush=True)
        return 1
    await conn.send(data)
    print(f"echoed {data.hex()}", flush=True)

    await loop.run_in_executor(None, sys.stdin.read)
    await conn.close()
    return 0


def main() -> int:
    role, port = sys.argv[1], int(sys.argv[2])
    if os.environ.get("ICE_PEER_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    tiebreaker = int(sys.argv[3]) if len(sys.argv) > 3 else None
    ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    loop = asyncio.new_event_loop()
    bind = loop.create_datagram_endpoint

    async def bind_port(factory, local_addr=None, **kw):
        if local_addr is not None and local_addr[1] == 0:
            local_addr = (local_addr[0], port)
        return await bind(factory, local_addr=local_addr, **kw)

    loop.create_datagram_endpoint = bind_port
    try:
        return loop.run_until_complete(run(role, tiebreaker))
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
