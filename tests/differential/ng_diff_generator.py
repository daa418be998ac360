"""Seeded property-style generator for ng_live_diff.py (`--generate N --seed S`).

Each generated case is one call: an offer drawn from the corpus SDPs (sdp_corpus,
webrtc_corpus, the Kamailio recordings) with a random combination of the keys and
flags rtpengine 10.5's README documents for `offer`, usually the corpus answer
with random answer keys, sometimes a re-offer, a query, and a delete with random
delete keys. Key spellings alternate between the hyphen and space forms the README
allows. The same seed gives the same requests.
"""
import random

import ng_diff_cases

CODECS = ["PCMU", "PCMA", "G722", "opus", "telephone-event", "H264", "VP8", "G729", "speex", "AMR",
          "opus/48000/2", "PCMU/8000", "iLBC/8000/1///mode=30"]
OFFER_FLAGS = [
    "SIP-source-address", "trust-address", "symmetric", "asymmetric", "unidirectional", "strict-source",
    "media-handover", "reset", "port-latching", "no-port-latching", "record-call", "no-rtcp-attribute",
    "full-rtcp-attribute", "loop-protect", "always-transcode", "single-codec", "reuse-codecs",
    "no-codec-renegotiation", "allow-transcoding", "pad-crypto", "generate-mid", "strip-extmap",
    "original-sendrecv", "inject-DTMF", "detect-DTMF", "generate-RTCP", "RTCP-mirror", "debug",
    "pierce-NAT", "NAT-wait", "trickle-ICE", "reject-ICE", "passthrough", "no-passthrough",
    "SDES-off", "SDES-pad", "SDES-no-AES_CM_128_HMAC_SHA1_32", "codec-strip-PCMA", "codec-offer-PCMU",
    "codec-mask-telephone-event", "codec-except-PCMU", "endpoint-learning-immediate",
]
REPLACE = ["origin", "session-connection", "session connection", "SDP-version", "SDP version", "username",
           "session-name", "zero-address"]
INTERFACES = ["internal", "external", "default", "nowhere", "round-robin-calls"]
SDES = ["off", "no", "unencrypted_srtp", "UNENCRYPTED_SRTCP", "unauthenticated_srtp", "encrypted_srtp",
        "encrypted_srtcp", "authenticated_srtp", "no-AES_CM_128_HMAC_SHA1_32", "no-NULL_HMAC_SHA1_32",
        "no-AEAD_AES_256_GCM", "pad", "lifetime", "static"]
TRANSPORTS = ["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF"]
T38 = ["decode", "force", "stop", "no-ECM", "no-V.17", "no-V.27ter", "no-V.29", "no-V.34", "no-IAF", "FEC"]


def _sdp_pairs():
    """(offer sdp, answer sdp or None) drawn from every corpus."""
    pairs = []
    for name, steps in ng_diff_cases.corpus_cases():
        offers = [s for s in steps if isinstance(s, dict) and s.get("command") in ("offer", b"offer")]
        answers = [s for s in steps if isinstance(s, dict) and s.get("command") in ("answer", b"answer")]
        if offers:
            pairs.append((offers[0]["sdp"], answers[0]["sdp"] if answers else None))
    return pairs


def _key(rng, hyphen, space):
    return rng.choice([hyphen, space])


def _sample(rng, items, most):
    return rng.sample(items, rng.randint(1, min(most, len(items))))


def _codec(rng):
    ops = ["strip", "offer", "mask", "except", "consume", "accept", "set", "transcode"]
    out = {}
    for op in _sample(rng, ops, 3):
        names = _sample(rng, CODECS + ["all", "full"], 2)
        out[op] = names
    return out


def random_keys(rng, command):
    """A random subset of the documented offer/answer keys."""
    keys = {}
    choices = [
        ("flags", lambda: _sample(rng, OFFER_FLAGS, 4)),
        ("replace", lambda: _sample(rng, REPLACE, 3)),
        ("direction", lambda: [rng.choice(INTERFACES), rng.choice(INTERFACES)]),
        ("ICE", lambda: rng.choice(["remove", "force", "default", "force-relay", "optional"])),
        ("ICE-lite", lambda: rng.choice(["forward", "backward", "both", "off"])),
        ("DTLS", lambda: rng.choice(["off", "no", "disable", "passive", "active"])),
        ("DTLS-reverse", lambda: rng.choice(["passive", "active"])),
        ("DTLS-fingerprint", lambda: rng.choice(["SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"])),
        ("SDES", lambda: _sample(rng, SDES, 3)),
        ("OSRTP", lambda: rng.choice(["offer", "accept"])),
        ("rtcp-mux", lambda: _sample(rng, ["offer", "require", "demux", "accept", "reject"], 2)),
        (_key(rng, "transport-protocol", "transport protocol"),
         lambda: rng.choice(TRANSPORTS + (["accept"] if command == "answer" else []))),
        (_key(rng, "media-address", "media address"), lambda: rng.choice(["198.51.100.7", "2001:db8::7"])),
        (_key(rng, "address-family", "address family"), lambda: rng.choice(["IP4", "IP6"])),
        (_key(rng, "received-from", "received from"),
         lambda: rng.choice([["IP4", "10.9.9.9"], ["IP6", "2001:db8::9"]])),
        ("codec", lambda: _codec(rng)),
        ("ptime", lambda: rng.choice([10, 20, 30, 40, 60])),
        ("ptime-reverse", lambda: rng.choice([20, 30])),
        ("T.38", lambda: _sample(rng, T38, 2)),
        (_key(rng, "label", "from-label"), lambda: rng.choice(["a", "caller", "leg-1"])),
        (_key(rng, "set-label", "to-label"), lambda: "other"),
        ("via-branch", lambda: rng.choice(["z9hG4bK-a", "z9hG4bK-b"])),
        (_key(rng, "delete-delay", "delete delay"), lambda: rng.choice([0, "0", 5])),
        ("TOS", lambda: rng.choice([0, 184, -1, 300])),
        (_key(rng, "record call", "record-call"), lambda: rng.choice(["yes", "no", "on", "off"])),
        ("metadata", lambda: "key:value|other:x"),
        (_key(rng, "generate RTCP", "generate-RTCP"), lambda: rng.choice(["on", "off"])),
        ("endpoint-learning", lambda: rng.choice(["off", "immediate", "delayed", "heuristic"])),
        (_key(rng, "media echo", "media-echo"), lambda: rng.choice(["blackhole", "forward", "backwards", "both"])),
        ("drop-traffic", lambda: rng.choice(["start", "stop"])),
        ("xmlrpc-callback", lambda: "127.0.0.1"),
        ("supports", lambda: ["load limit"]),
        ("frequency", lambda: 600),
        ("DTMF-security", lambda: rng.choice(["drop", "silence", "tone"])),
        ("loop-protect", lambda: "true"),
    ]
    for key, make in rng.sample(choices, rng.randint(0, 5)):
        keys[key] = make()
    return keys


def generate(count, seed):
    """Cases with `count` compared requests in all (the last case may end early)."""
    rng = random.Random(seed)
    pairs = _sdp_pairs()
    cases, total, n = [], 0, 0
    while total < count:
        n += 1
        offer_sdp, answer_sdp = rng.choice(pairs)
        steps = [dict({"command": "offer", "from-tag": "gen-caller", "sdp": offer_sdp}, **random_keys(rng, "offer"))]
        if answer_sdp is not None and rng.random() < 0.8:
            steps.append(dict({"command": "answer", "from-tag": "gen-caller", "to-tag": "gen-callee",
                               "sdp": answer_sdp}, **random_keys(rng, "answer")))
            if rng.random() < 0.2:
                steps.append(dict({"command": "offer", "from-tag": "gen-caller", "to-tag": "gen-callee",
                                   "sdp": offer_sdp}, **random_keys(rng, "offer")))
        if rng.random() < 0.3:
            steps.append({"command": "query"})
        delete = {"command": "delete", "from-tag": "gen-caller"}
        if rng.random() < 0.3:
            delete["to-tag"] = "gen-callee"
        if rng.random() < 0.2:
            delete["flags"] = ["fatal"]
        steps.append(delete)
        steps = steps[:count - total]
        total += len(steps)
        cases.append(("gen/%d" % n, steps))
    return cases
