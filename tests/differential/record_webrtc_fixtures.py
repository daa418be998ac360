#!/usr/bin/env python3
"""Record WebRTC <-> SIP offer/answer exchanges (webrtc_corpus.py) from
Debian's rtpengine 10.5 into rtpengined/tests/fixtures/webrtc/<case>.<step>/:
input.sdp, output.sdp (rtpengine's rewrite, byte for byte), flags.txt (the ng
keys sent), request.bencode (the exact request without call-id; replayed by
rtpengined/tests/webrtc_daemon.rs). Run through record_webrtc.sh, which starts
the reference daemon.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import NgClient, bencode  # noqa: E402
from webrtc_corpus import CASES  # noqa: E402


def main():
    out = sys.argv[1]
    ng = NgClient(port=int(os.environ["NG_PORT"]))
    for case, steps in CASES.items():
        call_id = "webrtc-" + case
        for step, command, body, flags in steps:
            msg = {"command": command, "call-id": call_id, "from-tag": "browser-tag", "sdp": body}
            if command == "answer":
                msg["to-tag"] = "phone-tag"
            msg.update(flags)
            # Tags are part of the request, not of the flags a test derives.
            flags = {k: v for k, v in flags.items() if k not in ("from-tag", "to-tag")}
            reply = ng.request(msg)
            if reply.get("result") != b"ok" or "sdp" not in reply:
                sys.exit("%s.%s: rtpengine refused: %r" % (case, step, reply))
            d = os.path.join(out, "%s.%s" % (case, step))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "request.bencode"), "wb") as f:
                f.write(bencode({k: v for k, v in msg.items() if k != "call-id"}))
            with open(os.path.join(d, "input.sdp"), "w", newline="") as f:
                f.write(body)
            with open(os.path.join(d, "output.sdp"), "wb") as f:
                f.write(reply["sdp"])
            with open(os.path.join(d, "flags.txt"), "w") as f:
                for k in sorted(flags):
                    v = flags[k]
                    f.write("%s=%s\n" % (k, ",".join(v) if isinstance(v, list) else v))
            print("recorded", case, step)
        ng.request({"command": "delete", "call-id": call_id, "from-tag": "browser-tag"})


if __name__ == "__main__":
    main()
