#!/usr/bin/env python3
"""Differential test of the CLI: Debian's rtpengine 10.5 and rtpengined get the
same calls over ng (one of them relays a few RTP packets each way), then the
same `rtpengine-ctl` commands; their outputs are compared after normalising
only what differs by nature (uptime, wall-clock times, call durations, request
timings, port numbers, process ids).

  tests/differential/cli_diff.py [--slot K] [path/to/rtpengined]

Prints each differing command with a unified diff and ends with
"cli-diff: N passed, M failed" (one case per command)."""
import argparse
import difflib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemons import command as daemons_cmd, start_pinged, stop  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CTL = "/usr/bin/rtpengine-ctl"
# ng, CLI and media ports of both daemons; --slot K moves them by 10*K (ng,
# CLI) and 1000*K (media) so that runs of several checkouts do not collide.
REF = {"name": "10.5", "ng": 22920, "cli": 22900, "ports": (41000, 41499)}
OURS = {"name": "ours", "ng": 22921, "cli": 22901, "ports": (41500, 41999)}

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio %d RTP/AVP 0 8\r\na=sendrecv\r\n")

# The calls both daemons get before the commands run.
CALLS = [
    {"command": "offer", "call-id": "cli-a", "from-tag": "ft1", "sdp": SDP % 30000},
    {"command": "answer", "call-id": "cli-a", "from-tag": "ft1", "to-tag": "tt1", "sdp": SDP % 30010},
    {"command": "offer", "call-id": "cli-b", "from-tag": "fb", "sdp": SDP % 30020},
    {"command": "answer", "call-id": "cli-b", "from-tag": "fb", "to-tag": "tb", "sdp": SDP % 30030},
    {"command": "offer", "call-id": "cli-c", "from-tag": "fc", "sdp": SDP % 30040},
    {"command": "answer", "call-id": "cli-c", "from-tag": "fc", "to-tag": "tc", "sdp": SDP % 30050},
    {"command": "delete", "call-id": "cli-c", "from-tag": "fc"},
    # Offered, not answered.
    {"command": "offer", "call-id": "cli-d", "from-tag": "fd", "sdp": SDP % 30060},
]

# Commands in order; later ones see what earlier ones changed. (10.5 crashes
# on a valid `set controltos` with a single ng listener: not asked.)
COMMANDS = """
help
list help
set help
params help
foo
list
listx
list numsessions
list sessions all
list sessions own
list sessions foreign
list sessions
list sessions nope
list sessions cli-a
list sessions cli-c
list sessions cli-d
get maxsessions
list maxopenfiles
list maxcpu
list maxload
list maxbw
list timeout
list silenttimeout
list offertimeout
list finaltimeout
list loglevels
list loglevel
list loglevel core
list loglevel nosuch
list deletedelay
list controltos
list redisallowederrors
list redisdisabletime
list redisconnecttimeout
list rediscmdtimeout
list interfaces
list counters
list transcoders
list totals
list jsonstats
set
set maxsessions
set maxsessions abc
set maxsessions -5
set maxsessions 2
list maxsessions
set maxcpu 1.25
set maxcpu x
set maxload 2.5
set maxbw 7
list maxbw
set timeout -3
set timeout abc
set timeout 99
set silenttimeout 3599
set offertimeout 3598
set finaltimeout 3597
set loglevel core 5
list loglevel core
set deletedelay -1
set deletedelay 12
list deletedelay
set controltos 300
set redisallowederrors 3
set redisdisabletime -2
set redisdisabletime 5
set redisconnecttimeout 0
set redisconnecttimeout 500
set rediscmdtimeout 0
set rediscmdtimeout 7
set maxopenfiles 10
params diff
params start
params current
params revert
params diff
params current
list timeout
kslist
ksrm x
ksrm 3
call
call nope info
call cli-a info
call cli-a nosuch
call cli-a tag ft1 info
call cli-a tag tt1 info
call cli-a tag nope info
call cli-a tag
call cli-a tag ft1
call cli-a tag ft1 help
call cli-a tag ft1 delay
call cli-a tag ft1 delay -5
call cli-a tag ft1 detect-dtmf
call cli-a tag ft1 detect-dtmf 2
debug
debug nope
debug cli-a maybe
debug cli-a off
terminate
terminate nope
terminate cli-b
list sessions all
terminate a
list sessions all
list numsessions
list totals
list jsonstats
""".strip().splitlines()

NORMALISE = [
    (re.compile(r"\b1[0-9]{9}\b"), "<time>"),
    (re.compile(r"callduration [0-9]+\.[0-9]+"), "callduration <d>"),
    (re.compile(r"(Uptime of rtpengine\s*:)[0-9]+"), r"\1<up>"),
    (re.compile(r'"uptime":[0-9]+'), '"uptime":<up>'),
    (re.compile(r'(duration":)[0-9]+\.[0-9]+'), r"\1<d>"),
    (re.compile(r"(call duration\s*:)[0-9.]+"), r"\1<d>"),
    (re.compile(r"(Total calls duration[a-z ]*:)[0-9.]+"), r"\1<d>"),
    (re.compile(r'("(avg|total)callsduration2?(_stddev)?":)[0-9.]+'), r"\1<d>"),
    (re.compile(r"(\bcalls duration standard deviation\s*:)[0-9.]+"), r"\1<d>"),
    # Media ports of either daemon (their ranges move with --slot).
    (re.compile(r"\b[0-9]{5}\b"),
     lambda m: "<port>" if any(lo <= int(m.group(0)) <= hi for lo, hi in (REF["ports"], OURS["ports"]))
     else m.group(0)),
    (re.compile(r"(127\.0\.0\.1):[0-9]{4,5}\b"), r"\1:<port>"),
    (re.compile(r"/proc/[0-9]+/"), "/proc/<pid>/"),
    # Per-second rates: both daemons sample them on a timer, so a command
    # sees a figure or 0 depending on when a sample fell. `rates_follow_media`
    # checks them instead.
    (re.compile(r"((?:Packets|Bytes|Errors) per second \([a-z]+\)\s*:)[0-9]+"), r"\1<rate>"),
    (re.compile(r'("(?:packet|byte|error)rate(?:_user|_kernel)?":)[0-9]+'), r"\1<rate>"),
    # The last port handed out: 10.5 remembers it, we show the highest in use.
    (re.compile(r'"last":[0-9]+'), '"last":<port>'),
    (re.compile(r"Last port used: +[0-9]+"), "Last port used: <port>"),
]


def normalise(text):
    for pat, rep in NORMALISE:
        text = pat.sub(rep, text)
    # 10.5 lists calls in the order of its hash table: compare them as a set.
    lines = text.splitlines(True)
    calls = sorted(ln for ln in lines if ln.startswith("callid: ") and " | " in ln)
    if calls:
        text = "".join(calls + [ln for ln in lines if ln not in calls])
    return text


def start(spec, binary, logdir):
    cmd = daemons_cmd(binary, spec["ng"], spec["ports"],
                      "--listen-cli=127.0.0.1:%d" % spec["cli"])
    return start_pinged(cmd, logdir, spec["name"], spec["ng"])


def media_port(reply):
    m = re.search(rb"m=audio ([0-9]+) ", reply.get("sdp", b""))
    return int(m.group(1)) if m else None


def rtp(seq, pt):
    return bytes([0x80, pt]) + seq.to_bytes(2, "big") + (1000 + 160 * seq).to_bytes(4, "big") \
        + b"\x12\x34\x56\x78" + bytes([0xff]) * 160


def send_media(offer_port, answer_port):
    """The parties of cli-a (SDP ports 30000 and 30010) send each other five
    PCMU packets through the daemon, the caller one PCMA packet more; returns
    how many arrived."""
    caller, callee = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    got = 0
    try:
        caller.bind(("127.0.0.1", 30000))
        callee.bind(("127.0.0.1", 30010))
        for sock in (caller, callee):
            sock.settimeout(1.0)
        for seq in range(5):
            caller.sendto(rtp(seq, 0), ("127.0.0.1", answer_port))
            callee.sendto(rtp(seq, 0), ("127.0.0.1", offer_port))
            for sock in (callee, caller):
                try:
                    sock.recv(2048)
                    got += 1
                except socket.timeout:
                    pass
        caller.sendto(rtp(5, 8), ("127.0.0.1", answer_port))
        try:
            callee.recv(2048)
            got += 1
        except socket.timeout:
            pass
    finally:
        caller.close()
        callee.close()
    return got


def packet_rate(spec):
    """The total packets per second the daemon's last sample shows."""
    m = re.search(r"Packets per second \(total\)\s*:([0-9]+)", ctl(spec, "list counters"))
    return int(m.group(1)) if m else None


def rates_follow_media(spec, offer_port, answer_port):
    """The per-second rate of a daemon rises while media flows and falls to
    zero after it. The caller of cli-a keeps sending until a sample shows a
    rate (each `rtpengine-ctl` run paces the packets), so how late a sample
    falls does not matter; then no more media until a sample shows zero."""
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        caller.bind(("127.0.0.1", 30000))
        callee.bind(("127.0.0.1", 30010))
        rose = fell = False
        seq = 100
        deadline = time.time() + 20
        while time.time() < deadline and not rose:
            for _ in range(5):
                caller.sendto(rtp(seq, 0), ("127.0.0.1", answer_port))
                callee.sendto(rtp(seq, 0), ("127.0.0.1", offer_port))
                seq += 1
            rose = bool(packet_rate(spec))
        while rose and time.time() < deadline and not fell:
            fell = packet_rate(spec) == 0
            time.sleep(0.05)
        return rose and fell
    finally:
        caller.close()
        callee.close()


def ctl(spec, line):
    out = subprocess.run([CTL, "-ip", "127.0.0.1:%d" % spec["cli"]] + line.split(),
                         capture_output=True, timeout=30)
    return out.stdout.decode("utf-8", "replace") + out.stderr.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(REPO, "target/release/rtpengined"))
    ap.add_argument("--slot", type=int, default=0)
    args = ap.parse_args()
    for spec in (REF, OURS):
        spec["ng"] += 10 * args.slot
        spec["cli"] += 10 * args.slot
        spec["ports"] = tuple(p - 1000 * args.slot for p in spec["ports"])
    for need in ("/usr/bin/rtpengine", CTL):
        if not os.path.exists(need):
            print("FAIL: %s missing (scripts/install-deps)" % need)
            print("cli-diff: 0 passed, 1 failed")
            return 1
    logdir = tempfile.mkdtemp(prefix="cli-diff-")
    daemons = []
    try:
        for spec, binary in ((REF, "/usr/bin/rtpengine"), (OURS, args.binary)):
            daemons.append((spec,) + start(spec, binary, logdir))
        media = [{}, {}]
        for msg in CALLS:
            replies = [c.request(msg) for _, _, c in daemons]
            if [r.get("result") for r in replies] != [b"ok", b"ok"]:
                print("setup %s: %r" % (msg["command"], replies))
            if msg["call-id"] == "cli-a":
                for i, r in enumerate(replies):
                    media[i][msg["command"]] = media_port(r)
        for i, (spec, _, _) in enumerate(daemons):
            got = send_media(media[i]["offer"], media[i]["answer"])
            if got != 11:
                print("media through %s: %d of 11 packets arrived" % (spec["name"], got))
        passed = failed = 0
        for line in COMMANDS:
            ref, ours = (normalise(ctl(spec, line)) for spec, _, _ in daemons)
            if ref == ours:
                passed += 1
                continue
            failed += 1
            print("=== %s" % line)
            sys.stdout.writelines(difflib.unified_diff(
                ref.splitlines(True), ours.splitlines(True), "10.5", "ours", n=1))
            if not ours.endswith("\n") or not ref.endswith("\n"):
                print()
        # Last, as it sends an untold number of packets: a call of its own.
        for spec, _, c in daemons:
            ports = []
            for msg in CALLS[:2]:
                ports.append(media_port(c.request(dict(msg, **{"call-id": "cli-rate"}))))
            if rates_follow_media(spec, *ports):
                passed += 1
            else:
                failed += 1
                print("=== per-second rates of %s: none above zero while media flowed, "
                      "or no drop to zero after it" % spec["name"])
    finally:
        stop([proc for _, proc, _ in daemons])
    print("logs: %s" % logdir)
    print("cli-diff: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
