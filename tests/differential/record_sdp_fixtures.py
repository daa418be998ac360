#!/usr/bin/env python3
"""Record byte-exact SDP rewrite expectations from Debian's rtpengine 10.5.

Start the reference daemon first (see README.md in this folder), then run
    python3 tests/differential/record_sdp_fixtures.py [OUTDIR]
Each recorded exchange becomes OUTDIR/<case>/{input.sdp,output.sdp,flags.txt,recorded.txt}:
  flags.txt    the ng request keys (minus sdp/call-id/tags), one `key=value` a line,
               list values joined with ','
  recorded.txt what rtpengine chose that our plan must be fed: per media the RTP/RTCP
               ports it allocated and the ICE credentials/candidates it advertised,
               and the loop-protect token.
"""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import NgClient, bdecode  # noqa: E402
from sdp_corpus import CASES  # noqa: E402

# Kamailio 5.6's own ng requests, recorded by tests/interop/record-ng-fixtures.
KAMAILIO = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "rtpengined", "tests", "fixtures", "kamailio-5.6-ng")
# Scenarios whose SDP needs features outside the SDP issue (SRTP; record_sdes_fixtures.py
# has it), or that repeat another's SDP (retrans is basic with a retransmission).
# flags_many is recorded without its `codec` dictionary (transcoding is out of scope).
KAMAILIO_SKIP = {"srtp", "retrans"}
SKIP_KEYS = {"sdp", "call-id", "from-tag", "to-tag", "via-branch", "supports"}


def flags_text(msg):
    lines = []
    for key in sorted(msg):
        if key in SKIP_KEYS:
            continue
        value = msg[key]
        if isinstance(value, list):
            value = ",".join(v.decode() if isinstance(v, bytes) else str(v) for v in value)
        elif isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, dict):
            # codec: {strip: [...], mask: [...], except: [...]} -> codec-strip=..., ...
            for sub in sorted(value):
                items = value[sub] if isinstance(value[sub], list) else [value[sub]]
                lines.append("%s-%s=%s\n" % (key, sub, ",".join(
                    v.decode() if isinstance(v, bytes) else str(v) for v in items)))
            continue
        lines.append("%s=%s\n" % (key, value))
    return "".join(lines)


def recorded_text(out_sdp):
    """Extract the per-media choices rtpengine made from its own output."""
    lines = []
    media = -1
    for raw in re.split(r"\r?\n", out_sdp):
        if media < 0 and raw.startswith("a=rtpengine:"):
            lines.append("session.loop-protect=%s\n" % raw[12:])
        elif raw.startswith("m="):
            media += 1
            port = raw.split()[1].split("/")[0]
            lines.append("media.%d.port=%s\n" % (media, port))
        elif media >= 0 and raw.startswith("a=rtcp:"):
            lines.append("media.%d.rtcp-port=%s\n" % (media, raw[7:].split()[0]))
        elif media >= 0 and raw.startswith("a=ice-ufrag:"):
            lines.append("media.%d.ice-ufrag=%s\n" % (media, raw[12:]))
        elif media >= 0 and raw.startswith("a=ice-pwd:"):
            lines.append("media.%d.ice-pwd=%s\n" % (media, raw[10:]))
        elif media >= 0 and raw.startswith("a=candidate:"):
            lines.append("media.%d.candidate=%s\n" % (media, raw[12:]))
    return "".join(lines)


def write_fixture(outdir, name, msg, reply):
    if reply.get("result") != b"ok" or "sdp" not in reply:
        print("SKIP %s: %r" % (name, reply), file=sys.stderr)
        return
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    sdp_in = msg["sdp"] if isinstance(msg["sdp"], bytes) else msg["sdp"].encode()
    with open(os.path.join(d, "input.sdp"), "wb") as f:
        f.write(sdp_in)
    with open(os.path.join(d, "output.sdp"), "wb") as f:
        f.write(reply["sdp"])
    with open(os.path.join(d, "flags.txt"), "w") as f:
        f.write(flags_text(msg))
    with open(os.path.join(d, "recorded.txt"), "w") as f:
        f.write(recorded_text(reply["sdp"].decode()))
    print("recorded", name)


def run_exchange(client, outdir, case_name, steps):
    """steps: list of (suffix, message dict). All steps share one call."""
    call_id = "sdpfix-%s-%d" % (case_name, os.getpid())
    for suffix, msg in steps:
        msg = dict(msg)
        msg["call-id"] = call_id
        reply = client.request(msg)
        write_fixture(outdir, "%s.%s" % (case_name, suffix), msg, reply)
    client.request({"command": "delete", "call-id": call_id})


def kamailio_steps(scenario):
    steps = []
    for path in sorted(glob.glob(os.path.join(KAMAILIO, scenario, "*.ng"))):
        base = os.path.basename(path)
        if "_retrans" in base:
            continue
        data = open(path, "rb").read()
        _, _, body = data.partition(b" ")
        msg, _ = bdecode(body)
        cmd = msg.get("command", b"").decode()
        if cmd not in ("offer", "answer"):
            continue
        msg = {k: v for k, v in msg.items() if k != "codec"}
        steps.append((base[:-3], msg))
    return steps


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "rtpengined", "tests", "fixtures", "sdp")
    client = NgClient(port=int(os.environ.get("NG_PORT", "22460")))
    for scenario in sorted(os.listdir(KAMAILIO)):
        if scenario in KAMAILIO_SKIP or not os.path.isdir(os.path.join(KAMAILIO, scenario)):
            continue
        run_exchange(client, outdir, "kamailio-" + scenario, kamailio_steps(scenario))
    for name, steps in CASES:
        run_exchange(client, outdir, name, steps)


if __name__ == "__main__":
    main()
