#!/usr/bin/env python3
"""Records SDES (RFC 4568) offer/answer exchanges from Debian's rtpengine 10.5
into rtpengined/tests/fixtures/sdes/<case>.<step>/ (input.sdp, output.sdp,
flags.txt). Start the daemon first:
  rtpengine --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:22400 \
    --foreground --log-stderr --port-min=31000 --port-max=31099
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from ng_client import NgClient, bdecode, bencode  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "../../rtpengined/tests/fixtures/sdes")

SUITES = ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32",
          "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32",
          "AES_256_CM_HMAC_SHA1_80", "AES_256_CM_HMAC_SHA1_32",
          "F8_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_32",
          "NULL_HMAC_SHA1_80", "NULL_HMAC_SHA1_32",
          "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"]
KEY_LEN = {"AES_CM_128": 30, "AES_192": 38, "AES_256": 46, "F8_128": 30,
           "NULL": 30, "AEAD_AES_128": 28, "AEAD_AES_256": 44}


def sdp(port, proto, crypto=()):
    lines = ["v=0", "o=- 1545997027 1 IN IP4 198.51.100.1", "s=tester",
             "c=IN IP4 198.51.100.1", "t=0 0",
             "m=audio %d %s 0 8" % (port, proto)]
    lines += ["a=crypto:%s" % c for c in crypto]
    lines.append("a=sendrecv")
    return "\r\n".join(lines) + "\r\n"


def key_for(suite, seed):
    import base64
    n = next(v for k, v in KEY_LEN.items() if suite.startswith(k))
    return base64.b64encode(bytes((seed * 7 + i) & 0xff for i in range(n))).decode()


def crypto(tag, suite, seed, extra=""):
    return "%d %s inline:%s%s" % (tag, suite, key_for(suite, seed), extra)


ALL_OFFER = [crypto(i + 1, s, i) for i, s in enumerate(SUITES)]

# case name -> list of (command, sdp, flags)
CASES = {
    # plain RTP offered, bridged to SAVP: rtpengine offers every suite
    "avp_to_savp": [("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP"}),
                    ("answer", sdp(7000, "RTP/SAVP", [crypto(1, "AES_CM_128_HMAC_SHA1_80", 9)]),
                     {"transport-protocol": "RTP/AVP"})],
    "avp_to_savpf": [("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVPF"})],
    "savp_to_avp": [("offer", sdp(6000, "RTP/SAVP", ALL_OFFER[:3]), {"transport-protocol": "RTP/AVP"}),
                    ("answer", sdp(7000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP"})],
    "savp_passthrough": [("offer", sdp(6000, "RTP/SAVP", ALL_OFFER), {}),
                         ("answer", sdp(7000, "RTP/SAVP", [crypto(5, "AES_256_CM_HMAC_SHA1_80", 3)]), {})],
    "savp_no_suite": [("offer", sdp(6000, "RTP/SAVP", ALL_OFFER[:2]),
                       {"SDES": ["no-AES_CM_128_HMAC_SHA1_32"]})],
    "avp_to_savp_only": [("offer", sdp(6000, "RTP/AVP"),
                          {"transport-protocol": "RTP/SAVP", "SDES": ["only-AES_256_CM_HMAC_SHA1_32", "only-AEAD_AES_128_GCM"]})],
    "avp_to_savp_no": [("offer", sdp(6000, "RTP/AVP"),
                        {"transport-protocol": "RTP/SAVP", "SDES": ["no-F8_128_HMAC_SHA1_80", "no-NULL_HMAC_SHA1_32"]})],
    "avp_to_savp_session_params": [("offer", sdp(6000, "RTP/AVP"),
                                    {"transport-protocol": "RTP/SAVP", "SDES": ["unencrypted_srtp", "unencrypted_srtcp", "unauthenticated_srtp", "only-AES_CM_128_HMAC_SHA1_80"]})],
    "savp_lifetime_mki": [("offer", sdp(6000, "RTP/SAVP", [crypto(1, "AES_CM_128_HMAC_SHA1_80", 1, "|2^31|1:4"),
                                                           crypto(2, "AES_CM_128_HMAC_SHA1_32", 2, "|2^20"),
                                                           crypto(3, "AES_256_CM_HMAC_SHA1_80", 3, " UNENCRYPTED_SRTCP")]),
                           {"transport-protocol": "RTP/AVP"}),
                          ("answer", sdp(7000, "RTP/AVP"), {})],
    "sdes_off": [("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP", "SDES": ["off"]})],
    "savp_reinvite": [("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP"}),
                      ("answer", sdp(7000, "RTP/SAVP", [crypto(2, "AES_CM_128_HMAC_SHA1_32", 4)]), {"transport-protocol": "RTP/AVP"}),
                      ("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP"}),
                      ("answer", sdp(7000, "RTP/SAVP", [crypto(2, "AES_CM_128_HMAC_SHA1_32", 4)]), {"transport-protocol": "RTP/AVP"})],
    "avp_to_savp_dtls_off": [("offer", sdp(6000, "RTP/AVP"), {"transport-protocol": "RTP/SAVP", "DTLS": "off"})],
    "avp_to_savp_only_flags": [("offer", sdp(6000, "RTP/AVP"),
                                {"transport-protocol": "RTP/SAVP", "DTLS": "off", "flags": ["SDES-only-AES_256_CM_HMAC_SHA1_32", "SDES-only-AEAD_AES_128_GCM"]})],
    "avp_to_savp_mux_ptime": [("offer", sdp(6000, "RTP/AVP").replace("a=sendrecv", "a=ptime:20\r\na=rtcp-mux\r\na=sendrecv"),
                               {"transport-protocol": "RTP/SAVP", "DTLS": "off", "SDES": ["only-AES_CM_128_HMAC_SHA1_80"]})],
    "bad_crypto": [("offer", sdp(6000, "RTP/SAVP", ["1 AES_CM_128_HMAC_SHA1_80 inline:short"]), {"transport-protocol": "RTP/AVP"})],
    "unknown_suite": [("offer", sdp(6000, "RTP/SAVP", ["1 FOO_BAR inline:" + key_for("AES_CM_128", 1)]), {"transport-protocol": "RTP/AVP"})],
}


# Recorded by tests/interop/record-ng-fixtures.
KAMAILIO_SRTP = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "..", "rtpengined", "tests", "fixtures", "kamailio-5.6-ng", "srtp")


def kamailio_steps():
    """The Kamailio 5.6 SRTP capture's offer and answer, with its own flags."""
    steps = []
    for name in ("02_offer.ng", "03_answer.ng"):
        data = open(os.path.join(KAMAILIO_SRTP, name), "rb").read()
        msg, _ = bdecode(data, data.index(b" ") + 1)
        command = msg["command"].decode()
        body = msg["sdp"].decode()
        flags = {k: ([x.decode() for x in v] if isinstance(v, list) else v.decode())
                 for k, v in msg.items()
                 if k not in ("command", "call-id", "from-tag", "to-tag", "sdp", "supports",
                              "received-from")}
        steps.append((command, body, flags))
    return steps


CASES["kamailio_srtp"] = kamailio_steps()


def main():
    ng = NgClient(port=22400)
    for case, steps in CASES.items():
        call_id = "sdes-" + case
        for step, (command, body, flags) in enumerate(steps):
            msg = {"command": command, "call-id": call_id, "from-tag": "ft-" + case, "sdp": body}
            if command == "answer":
                msg["to-tag"] = "tt-" + case
            msg.update(flags)
            reply = ng.request(msg)
            d = os.path.join(OUT, "%s.%d" % (case, step))
            os.makedirs(d, exist_ok=True)
            # The exact request (rtpengined/tests/sdes_daemon.rs replays it).
            with open(os.path.join(d, "request.bencode"), "wb") as f:
                f.write(bencode({k: v for k, v in msg.items() if k != "call-id"}))
            with open(os.path.join(d, "input.sdp"), "w", newline="") as f:
                f.write(body)
            with open(os.path.join(d, "flags.txt"), "w") as f:
                f.write("command=%s\n" % command)
                for k in sorted(flags):
                    v = flags[k]
                    f.write("%s=%s\n" % (k, ",".join(v) if isinstance(v, list) else v))
            result = reply.get("result", b"").decode()
            with open(os.path.join(d, "result.txt"), "w") as f:
                f.write(result + "\n")
                if "error-reason" in reply:
                    f.write(reply["error-reason"].decode() + "\n")
            if "sdp" in reply:
                with open(os.path.join(d, "output.sdp"), "wb") as f:
                    f.write(reply["sdp"])
        ng.request({"command": "delete", "call-id": call_id, "from-tag": "ft-" + case})


if __name__ == "__main__":
    main()
