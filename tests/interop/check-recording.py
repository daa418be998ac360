#!/usr/bin/env python3
"""Checks the pcap recording (--recording-method=pcap, raw or eth) of one
call of the interop test against what its endpoints sent.

  check-recording.py SPOOL CALL_ID COUNTS (--sent-pcap FILE | --srtp-peer)

SPOOL: the --recording-dir. COUNTS: the RTP packets rtpengined received
from each party (its "final stats" lines), comma-separated. Checks that
the call's metadata file is in SPOOL/metadata and names its pcap; that the
pcap holds one flow per party with exactly that many RTP packets (every
packet relayed is recorded); and that the payloads are what was sent:
--sent-pcap: the caller played FILE (sipp's play_pcap_audio) and the callee
echoed it, so each flow's payloads are FILE's first ones, in order;
--srtp-peer: both ends are rtpe-srtp-peer (SRTP one way), so each packet is
plain RTP whose payload is the peer's pattern for its sequence number:
decrypted before it was recorded. Prints one line; exit status 0 if it holds."""
import os
import struct
import sys
import time
import urllib.parse


def read_pcap(path):
    """(linktype, [record bytes]) of a little-endian microsecond pcap."""
    data = open(path, "rb").read()
    if len(data) < 24 or data[:4] != b"\xd4\xc3\xb2\xa1":
        raise ValueError("%s: not a little-endian pcap" % path)
    linktype = struct.unpack("<I", data[20:24])[0]
    out, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        out.append(data[pos + 16:pos + 16 + caplen])
        pos += 16 + caplen
    if pos != len(data):
        raise ValueError("%s: truncated record at byte %d" % (path, pos))
    return linktype, out


def udp(record, linktype):
    """(source, destination, UDP payload) of an IPv4 or IPv6 record."""
    if linktype == 1:
        record = record[14:]
    elif linktype != 101:
        raise ValueError("link type %d" % linktype)
    if record[0] >> 4 == 4:
        ihl = (record[0] & 15) * 4
        src, dst = record[12:16], record[16:20]
        seg = record[ihl:]
    else:
        src, dst = record[8:24], record[24:40]
        seg = record[40:]
    sport, dport, length = struct.unpack(">HHH", seg[:6])
    return (src, sport), (dst, dport), seg[8:length]


def rtp_payloads_of_pcap(path):
    """The RTP payloads of a capture's UDP packets, in order."""
    linktype, records = read_pcap(path)
    return [udp(r, linktype)[2][12:] for r in records]


def peer_payload(seq):
    return bytes((i ^ seq ^ (seq >> 8)) & 0xff for i in range(160))


def main():
    spool, call_id, counts = sys.argv[1], sys.argv[2], sys.argv[3]
    mode = sys.argv[4:]
    want = sorted(int(c) for c in counts.split(",") if c)
    prefix = lambda name: urllib.parse.unquote(name.rsplit("-", 1)[0])  # noqa: E731
    # The metadata file is moved there once the call's recording ended,
    # shortly after the call's delete: wait for it.
    deadline = time.time() + 10
    while True:
        metas = [m for m in os.listdir(os.path.join(spool, "metadata"))
                 if prefix(m[len("rtpengine-meta-"):-len(".txt")]) == call_id]
        if metas or time.time() > deadline:
            break
        time.sleep(0.05)
    if len(metas) != 1:
        print("FAIL %s: %d metadata files" % (call_id, len(metas)))
        return 1
    meta = open(os.path.join(spool, "metadata", metas[0]), encoding="utf-8").read()
    pcap = meta.split("\n", 1)[0]
    if not (pcap.startswith(os.path.join(spool, "pcaps")) and os.path.exists(pcap)):
        print("FAIL %s: metadata names %r, not a capture in the spool" % (call_id, pcap))
        return 1
    linktype, records = read_pcap(pcap)
    flows = {}
    for r in records:
        src, dst, payload = udp(r, linktype)
        if len(payload) >= 12 and payload[0] >> 6 == 2 and not 72 <= payload[1] & 0x7f <= 76:
            flows.setdefault((src, dst), []).append(payload)
    got = sorted(len(f) for f in flows.values())
    if got != want:
        print("FAIL %s: RTP packets per flow recorded %s, relayed %s" % (call_id, got, want))
        return 1
    if mode[0] == "--sent-pcap":
        sent = rtp_payloads_of_pcap(mode[1])
        for key, pkts in flows.items():
            if [p[12:] for p in pkts] != sent[:len(pkts)]:
                print("FAIL %s: a flow's payloads are not the first %d the caller played"
                      % (call_id, len(pkts)))
                return 1
    elif mode[0] == "--srtp-peer":
        for key, pkts in flows.items():
            for p in pkts:
                seq = struct.unpack(">H", p[2:4])[0]
                if len(p) != 172 or p[12:] != peer_payload(seq):
                    print("FAIL %s: packet seq %d of a flow is not the plain payload sent"
                          % (call_id, seq))
                    return 1
    else:
        print("usage: check-recording.py SPOOL CALL_ID COUNTS (--sent-pcap F | --srtp-peer)")
        return 2
    print("ok %s: %d flows, %s RTP packets, payloads as sent" % (call_id, len(flows), got))
    return 0


if __name__ == "__main__":
    sys.exit(main())
