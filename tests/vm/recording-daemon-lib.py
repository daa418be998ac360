#!/usr/bin/env python3
"""Helpers of tests/vm/recording-daemon.sh (run inside the test VM).

  call NG_PORT CALL_ID        offer from 10.0.1.2:4000 and answer from 10.0.2.2:5000,
                              with `record call: yes`; prints `pa=` / `pb=` (our ports
                              the two parties send to)
  start NG_PORT CALL_ID DEST METADATA
                              `start recording` with output-destination and metadata
  delete NG_PORT CALL_ID
  send BIND_IP BIND_PORT PEER_PORT SECONDS VOICE
                              PCMU RTP at 50 packets/s to 10.0.1.1:PEER_PORT whose
                              payloads (`frame`) say which voice and packet they are;
                              prints `sent=N`
  check WAV_DIR VOICE SENT    finds each packet's audio in the recording daemon's WAV
                              files; prints `found=N first=SEQ last=SEQ`
"""
import glob
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module  # noqa: E402

off = import_module("offload-lib")


SEQ = [0]


def ng(port, msg):
    """One ng request; a cookie of its own (a repeated one is a retransmission)."""
    SEQ[0] += 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    s.sendto(b"rec%d-%d " % (os.getpid(), SEQ[0]) + off.bencode(msg), ("127.0.0.1", int(port)))
    data, _ = s.recvfrom(65535)
    return off.bdecode(data.partition(b" ")[2])[0]


def cmd_call(port, call_id):
    pa = pb = None
    for command, to_tag, media in (("offer", "", "10.0.1.2:4000"), ("answer", "tb", "10.0.2.2:5000")):
        ip, p = media.split(":")
        msg = {"command": command, "call-id": call_id, "from-tag": "ta",
               "sdp": off.sdp(ip, int(p)), "record call": "yes"}
        if to_tag:
            msg["to-tag"] = to_tag
        r = ng(port, msg)
        if r.get("result") != b"ok":
            print("error=%s" % r.get("error-reason", b"?").decode())
            return 1
        for line in r["sdp"].decode().splitlines():
            if line.startswith("m=audio "):
                if command == "offer":
                    pb = line.split()[1]
                else:
                    pa = line.split()[1]
    print("pa=%s\npb=%s" % (pa, pb))
    return 0


def cmd_start(port, call_id, dest, metadata):
    r = ng(port, {"command": "start recording", "call-id": call_id,
                  "output-destination": dest, "metadata": metadata})
    return 0 if r.get("result") == b"ok" else 1


def cmd_delete(port, call_id):
    r = ng(port, {"command": "delete", "call-id": call_id, "from-tag": "ta"})
    return 0 if r.get("result") == b"ok" else 1


def frame(voice, seq):
    """160 PCMU bytes naming voice and seq; never 0x7f or 0xff (both decode to 0)."""
    head = [0x10 + ((seq >> s) & 15) for s in (12, 8, 4, 0)] + [0x30 + voice]
    return bytes(head + [(j * 7 + seq * 3 + voice * 29) % 0x70 for j in range(155)])


def ulaw(u):
    """G.711 mu-law to a 16-bit sample, as ffmpeg (and every decoder) does."""
    u = ~u & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def cmd_send(bind_ip, bind_port, peer_port, seconds, voice):
    voice = int(voice)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind_ip, int(bind_port)))
    peer = ("10.0.1.1", int(peer_port))
    start = time.monotonic()
    seq = 0
    while time.monotonic() < start + float(seconds):
        hdr = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x1000 + voice)
        s.sendto(hdr + frame(voice, seq), peer)
        seq += 1
        time.sleep(max(0.0, start + seq * 0.02 - time.monotonic()))
    print("sent=%d" % seq)
    return 0


def wav_samples(path):
    """The 16-bit PCM samples of a WAV file, as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return b""
    p = 12
    while p + 8 <= len(data):
        cid, size = data[p:p + 4], struct.unpack("<I", data[p + 4:p + 8])[0]
        if cid == b"data":
            return data[p + 8:p + 8 + size] if size else data[p + 8:]
        p += 8 + size + (size & 1)
    return b""


def cmd_check(wav_dir, voice, sent):
    voice, sent = int(voice), int(sent)
    audio = [wav_samples(w) for w in glob.glob(os.path.join(wav_dir, "*.wav"))]
    found = []
    for seq in range(sent):
        pcm = struct.pack("<160h", *(ulaw(b) for b in frame(voice, seq)))
        if any(pcm in a for a in audio):
            found.append(seq)
    print("found=%d first=%s last=%s wavs=%d" % (
        len(found), found[0] if found else -1, found[-1] if found else -1, len(audio)))
    return 0


if __name__ == "__main__":
    cmds = {"call": cmd_call, "start": cmd_start, "delete": cmd_delete, "send": cmd_send, "check": cmd_check}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](*sys.argv[2:]))
