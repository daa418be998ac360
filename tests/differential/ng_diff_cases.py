"""Request sequences for ng_live_diff.py: the recorded corpora (a) and a corpus
per ng command written from rtpengine 10.5's README (b).

A case is (name, steps). A step is a request dict or a function of the replies
received so far in the case (for requests that need a value a daemon invented,
such as the to-tag of a subscription). The harness adds `call-id` (the same on
both daemons) unless the step sets `call-id` itself; NO_CALL_ID removes it.
"""
import glob
import json
import os

from ng_client import bdecode
import sdp_corpus
import webrtc_corpus

HERE = os.path.dirname(os.path.abspath(__file__))
KAMAILIO = os.path.join(HERE, "..", "..", "rtpengined", "tests", "fixtures", "kamailio-5.6-ng")
NO_CALL_ID = object()


def tail(from_tag, delete=None):
    """What every corpus call ends with."""
    return [{"command": "query"}, {"command": "list"}, {"command": "statistics"}, {"command": "ping"},
            delete or {"command": "delete", "from-tag": from_tag}]


def sdp_corpus_cases():
    for name, steps in sdp_corpus.CASES:
        reqs = [dict(msg) for _, msg in steps]
        yield "sdp/" + name, reqs + tail(reqs[0]["from-tag"])


def webrtc_cases():
    for name, steps in webrtc_corpus.CASES.items():
        reqs = []
        for _, command, body, flags in steps:
            msg = {"command": command, "from-tag": "browser-tag", "sdp": body}
            if command == "answer":
                msg["to-tag"] = "phone-tag"
            msg.update(flags)
            reqs.append(msg)
        yield "webrtc/" + name, reqs + tail("browser-tag")


def kamailio_cases():
    for scenario in sorted(os.listdir(KAMAILIO)):
        folder = os.path.join(KAMAILIO, scenario)
        if not os.path.isdir(folder):
            continue
        reqs, delete = [], None
        for path in sorted(glob.glob(os.path.join(folder, "*.ng"))):
            if "_retrans" in path:
                continue
            _, _, body = open(path, "rb").read().partition(b" ")
            msg, _ = bdecode(body)
            msg.pop("call-id", None)
            cmd = msg.get("command")
            if cmd == b"delete":
                delete = msg
            elif cmd != b"ping":
                reqs.append(msg)
        yield "kamailio/" + scenario, reqs + tail(reqs[0]["from-tag"], delete)


def corpus_cases():
    yield from kamailio_cases()
    yield from sdp_corpus_cases()
    yield from webrtc_cases()


# Minimal cases the shrinker made from differing ones (ng_live_diff.py --shrink
# CASE --keep): each keeps one cause in a few steps, whether it is fixed or not.
# Run after the command corpus, and not part of corpus_cases(): the generator
# draws its SDPs from those, and a new regression must not change its cases.
REGRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regressions.json")


def regression_cases():
    if not os.path.exists(REGRESSIONS):
        return
    with open(REGRESSIONS) as f:
        for case in json.load(f):
            yield case["name"], case["steps"]


# --- (b) one group per ng command, keys as documented for 10.5 ---

OFFER_SDP = sdp_corpus.sdp(*sdp_corpus.SESSION, *sdp_corpus.AUDIO)
ANSWER_SDP = sdp_corpus.BASIC_ANSWER
SENDONLY_SDP = OFFER_SDP.replace("a=sendrecv", "a=sendonly")


def setup(**extra):
    """A established call: caller-tag (label caller) and callee-tag (label callee)."""
    return [dict({"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "label": "caller"}, **extra),
            {"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-tag", "sdp": ANSWER_SDP,
             "label": "callee"}]


def end():
    return [{"command": "query"}, {"command": "delete", "from-tag": "caller-tag"}]


def on_call(*steps, **extra):
    return setup(**extra) + list(steps) + end()


def selections(command, **keys):
    """The participant selections of block/unblock/forwarding/...: call-wide,
    from-tag, address, label, the `all` flag, an unknown tag, an unknown call."""
    base = dict({"command": command}, **keys)
    return [
        ("call", on_call(dict(base))),
        ("from-tag", on_call(dict(base, **{"from-tag": "caller-tag"}))),
        ("to-tag", on_call(dict(base, **{"from-tag": "caller-tag", "to-tag": "callee-tag"}))),
        ("address", on_call(dict(base, address="192.168.1.10"))),
        ("label", on_call(dict(base, label="callee"))),
        ("flag-all", on_call(dict(base, flags=["all"]))),
        ("unknown-tag", on_call(dict(base, **{"from-tag": "nobody"}))),
        ("unknown-address", on_call(dict(base, address="10.99.99.99"))),
        ("unknown-label", on_call(dict(base, label="nobody"))),
        ("unknown-call", [dict(base, **{"call-id": "no-such-call"})]),
        ("no-call-id", [dict(base, **{"call-id": NO_CALL_ID})]),
    ]


def subscribe_answer(replies):
    """Answers the subscription offer of the previous reply with its own SDP turned recvonly."""
    last = replies[-1] if replies else {}
    sdp = last.get("sdp", b"").decode().replace("a=sendonly", "a=recvonly")
    msg = {"command": "subscribe answer", "sdp": sdp or ANSWER_SDP}
    if isinstance(last.get("to-tag"), bytes):
        msg["to-tag"] = last["to-tag"]
    return msg


def unsubscribe(replies):
    to_tag = next((r["to-tag"] for r in replies if isinstance(r.get("to-tag"), bytes)), b"none")
    return {"command": "unsubscribe", "to-tag": to_tag}


def command_cases():
    cases = []

    def add(group, items):
        for name, steps in items:
            cases.append(("cmd/%s/%s" % (group, name), steps))

    # `list` first: a call some later case leaves behind must not show in it.
    add("list", [
        ("empty", [{"command": "list", "call-id": NO_CALL_ID}]),
        ("one-call", setup() + [{"command": "list"}] + end()),
        ("limit-1", setup() + [{"command": "list", "limit": 1}] + end()),
        ("limit-0", setup() + [{"command": "list", "limit": 0}] + end()),
        ("limit-negative", setup() + [{"command": "list", "limit": -1}] + end()),
        ("limit-string", setup() + [{"command": "list", "limit": "5"}] + end()),
    ])
    add("ping", [("plain", [{"command": "ping", "call-id": NO_CALL_ID}]),
                 ("extra-keys", [{"command": "ping", "from-tag": "x"}])])
    add("protocol", [
        ("no-command", [{"call-id": NO_CALL_ID, "from-tag": "x"}]),
        ("unknown-command", [{"command": "frobnicate"}]),
        ("command-uppercase", [{"command": "PING", "call-id": NO_CALL_ID}]),
        ("command-not-string", [{"command": 5, "call-id": NO_CALL_ID}]),
    ])
    add("offer", [
        ("basic", setup() + end()),
        ("missing-sdp", [{"command": "offer", "from-tag": "caller-tag"}]),
        ("missing-call-id", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                              "call-id": NO_CALL_ID}]),
        ("missing-from-tag", [{"command": "offer", "sdp": OFFER_SDP}] + end()),
        ("garbage-sdp", [{"command": "offer", "from-tag": "caller-tag", "sdp": "hello"}]),
        ("empty-sdp", [{"command": "offer", "from-tag": "caller-tag", "sdp": ""}]),
        ("sdp-not-string", [{"command": "offer", "from-tag": "caller-tag", "sdp": 7}]),
        ("flags-with-spaces", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                                "flags": ["trust address", "no rtcp attribute"],
                                "replace": ["session connection"], "transport protocol": "RTP/AVPF",
                                "media address": "198.51.100.1", "address family": "IP4"}] + end()),
        ("unknown-flag", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                           "flags": ["no-such-flag"]}] + end()),
        ("bad-ICE", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "ICE": "sideways"}] + end()),
        ("bad-transport", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                            "transport-protocol": "TCP/MSRP"}] + end()),
        ("bad-direction", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                            "direction": ["nowhere", "external"]}] + end()),
        ("bad-media-address", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                                "media-address": "not-an-ip"}] + end()),
        ("load-limit", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP,
                         "supports": ["load limit"]}] + end()),
        ("label-via-branch", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "label": "a",
                               "via-branch": "z9hG4bK-1"}] + end()),
        ("reoffer-same", setup() + [{"command": "offer", "from-tag": "caller-tag", "to-tag": "callee-tag",
                                     "sdp": OFFER_SDP}] + end()),
        ("second-branch", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "via-branch": "b1"},
                           {"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "via-branch": "b2"},
                           {"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-2",
                            "sdp": ANSWER_SDP, "via-branch": "b2"}] + end()),
    ])
    add("answer", [
        ("unknown-call", [{"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-tag",
                           "sdp": ANSWER_SDP, "call-id": "no-such-call"}]),
        ("missing-to-tag", [setup()[0], {"command": "answer", "from-tag": "caller-tag", "sdp": ANSWER_SDP}]
         + end()),
        ("unknown-from-tag", [setup()[0], {"command": "answer", "from-tag": "stranger", "to-tag": "callee-tag",
                                           "sdp": ANSWER_SDP}] + end()),
        ("missing-sdp", [setup()[0], {"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-tag"}]
         + end()),
        ("empty-sdp", [setup()[0], {"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-tag",
                                    "sdp": ""}] + end()),
        ("twice", setup() + [setup()[1]] + end()),
        ("forked", [setup()[0],
                    {"command": "answer", "from-tag": "caller-tag", "to-tag": "fork-1", "sdp": ANSWER_SDP},
                    {"command": "answer", "from-tag": "caller-tag", "to-tag": "fork-2", "sdp": ANSWER_SDP}]
         + end()),
    ])
    add("delete", [
        ("unknown-call", [{"command": "delete", "from-tag": "x", "call-id": "no-such-call"}]),
        ("unknown-call-fatal", [{"command": "delete", "from-tag": "x", "call-id": "no-such-call",
                                 "flags": ["fatal"]}]),
        ("no-call-id", [{"command": "delete", "from-tag": "x", "call-id": NO_CALL_ID}]),
        ("no-from-tag", setup() + [{"command": "delete"}, {"command": "query"}]),
        ("to-tag", setup() + [{"command": "delete", "from-tag": "caller-tag", "to-tag": "callee-tag"},
                              {"command": "query"}]),
        ("callee-tag", setup() + [{"command": "delete", "from-tag": "callee-tag"}, {"command": "query"}]),
        ("unknown-tag", setup() + [{"command": "delete", "from-tag": "stranger"}] + end()),
        ("unknown-tag-fatal", setup() + [{"command": "delete", "from-tag": "stranger", "flags": ["fatal"]}]
         + end()),
        ("via-branch", [{"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP, "via-branch": "b1"},
                        {"command": "delete", "from-tag": "caller-tag", "via-branch": "b1"},
                        {"command": "query"}] + end()),
        ("delete-delay-0", setup() + [{"command": "delete", "from-tag": "caller-tag", "delete-delay": 0},
                                      {"command": "query"}]),
        ("delete-delay-string", setup() + [{"command": "delete", "from-tag": "caller-tag", "delete delay": "0"},
                                           {"command": "query"}]),
        ("delete-delay-5", setup() + [{"command": "delete", "from-tag": "caller-tag", "delete-delay": 5},
                                      {"command": "query"},
                                      {"command": "delete", "from-tag": "caller-tag", "delete-delay": 0}]),
        ("twice", setup() + [{"command": "delete", "from-tag": "caller-tag"},
                             {"command": "delete", "from-tag": "caller-tag"}]),
    ])
    add("query", [
        ("basic", setup() + end()),
        ("offer-only", [setup()[0]] + end()),
        ("from-tag", setup() + [{"command": "query", "from-tag": "caller-tag"}] + end()),
        ("to-tag", setup() + [{"command": "query", "from-tag": "caller-tag", "to-tag": "callee-tag"}] + end()),
        ("unknown-call", [{"command": "query", "call-id": "no-such-call"}]),
        ("no-call-id", [{"command": "query", "call-id": NO_CALL_ID}]),
    ])
    add("statistics", [("plain", [{"command": "statistics", "call-id": NO_CALL_ID}])])
    for cmd in ("start recording", "stop recording"):
        add(cmd.replace(" ", "-"), [
            ("call", on_call({"command": cmd})),
            ("tags", on_call({"command": cmd, "from-tag": "caller-tag", "to-tag": "callee-tag",
                              "via-branch": "x"})),
            ("output-destination", on_call({"command": cmd, "output-destination": "/nonexistent/rec"})),
            ("unknown-call", [{"command": cmd, "call-id": "no-such-call"}]),
            ("no-call-id", [{"command": cmd, "call-id": NO_CALL_ID}]),
        ])
    add("recording-cycle", [("start-stop", on_call({"command": "start recording"}, {"command": "stop recording"})),
                            ("record-call-key", on_call(**{"record call": "yes", "metadata": "k:v|a:b"}))])
    for cmd in ("start forwarding", "stop forwarding", "block DTMF", "unblock DTMF", "block media",
                "unblock media", "silence media", "unsilence media", "stop media"):
        add(cmd.replace(" ", "-"), selections(cmd))
    add("block-DTMF-modes", [
        (mode, on_call({"command": "block DTMF", "from-tag": "caller-tag", "DTMF-security": mode,
                        "frequency": 600, "volume": 20, "digit": "5"}))
        for mode in ("drop", "silence", "tone", "random", "zero", "DTMF", "off", "bogus")] + [
        ("trigger", on_call({"command": "block DTMF", "from-tag": "caller-tag", "trigger": "*1",
                             "end trigger": "#", "DTMF-security-trigger": "silence",
                             "trigger-end-time": 5000, "trigger-end-digits": 4, "delay-buffer": 100,
                             "DTMF-delay": 50})),
    ])
    add("unblock-all", [("block-then-unblock-all", on_call(
        {"command": "block media", "from-tag": "caller-tag"}, {"command": "block media"},
        {"command": "unblock media", "flags": ["all"]}))])
    add("play-media", [
        ("file-missing", on_call({"command": "play media", "from-tag": "caller-tag",
                                  "file": "/nonexistent/prompt.wav"})),
        ("blob", on_call({"command": "play media", "from-tag": "caller-tag", "blob": "RIFF0000WAVE",
                          "repeat-times": 2})),
        ("db-id", on_call({"command": "play media", "from-tag": "caller-tag", "db-id": 1})),
        ("no-source", on_call({"command": "play media", "from-tag": "caller-tag"})),
        ("all", on_call({"command": "play media", "flags": ["all"], "file": "/nonexistent/prompt.wav"})),
        ("no-selection", on_call({"command": "play media", "file": "/nonexistent/prompt.wav"})),
        ("unknown-call", [{"command": "play media", "from-tag": "x", "file": "/x.wav",
                           "call-id": "no-such-call"}]),
    ])
    add("play-DTMF", [
        ("digit", on_call({"command": "play DTMF", "from-tag": "caller-tag", "digit": "5"})),
        ("code-int", on_call({"command": "play DTMF", "from-tag": "caller-tag", "code": 11, "duration": 300,
                              "volume": 10, "pause": 200})),
        ("code-bad", on_call({"command": "play DTMF", "from-tag": "caller-tag", "code": "X"})),
        ("code-out-of-range", on_call({"command": "play DTMF", "from-tag": "caller-tag", "code": 16})),
        ("no-code", on_call({"command": "play DTMF", "from-tag": "caller-tag"})),
        ("all", on_call({"command": "play DTMF", "flags": ["all"], "code": "1"})),
        ("inject-DTMF", on_call({"command": "play DTMF", "from-tag": "caller-tag", "code": "1"},
                                flags=["inject-DTMF"])),
        ("unknown-call", [{"command": "play DTMF", "from-tag": "x", "code": "1", "call-id": "no-such-call"}]),
    ])
    add("publish", [
        ("sendonly", [{"command": "publish", "from-tag": "pub-tag", "sdp": SENDONLY_SDP}, {"command": "query"},
                      {"command": "delete", "from-tag": "pub-tag"}]),
        ("accept-any", [{"command": "publish", "from-tag": "pub-tag", "sdp": SENDONLY_SDP,
                         "codec": {"accept": ["any"]}}, {"command": "delete", "from-tag": "pub-tag"}]),
        ("missing-sdp", [{"command": "publish", "from-tag": "pub-tag"}]),
    ])
    add("subscribe", [
        ("request-from-tag", on_call({"command": "subscribe request", "from-tag": "caller-tag"})),
        ("request-to-tag", on_call({"command": "subscribe request", "from-tag": "caller-tag",
                                    "to-tag": "sub-tag", "set-label": "sub"})),
        ("request-all", on_call({"command": "subscribe request", "flags": ["all"]})),
        ("request-from-tags", on_call({"command": "subscribe request", "from-tags": ["caller-tag", "callee-tag"]})),
        ("request-rtcp-mirror", on_call({"command": "subscribe request", "from-tag": "caller-tag",
                                         "flags": ["RTCP-mirror"]})),
        ("request-unknown-call", [{"command": "subscribe request", "from-tag": "x", "call-id": "no-such-call"}]),
        ("request-answer-unsubscribe", on_call({"command": "subscribe request", "from-tag": "caller-tag"},
                                               subscribe_answer, {"command": "query"}, unsubscribe)),
        ("answer-allow-transcoding", on_call({"command": "subscribe request", "from-tag": "caller-tag"},
                                             lambda r: dict(subscribe_answer(r), flags=["allow transcoding"]))),
        ("answer-unknown-to-tag", on_call({"command": "subscribe answer", "to-tag": "nobody",
                                           "sdp": ANSWER_SDP})),
        ("answer-no-sdp", on_call({"command": "subscribe answer", "to-tag": "nobody"})),
        ("unsubscribe-unknown", on_call({"command": "unsubscribe", "to-tag": "nobody"})),
        ("request-all-before-answer", [setup()[0], {"command": "subscribe request", "flags": ["all"]},
                                       {"command": "query"}] + end()),
        ("publish-two-subscribers", [{"command": "publish", "from-tag": "pub-tag", "sdp": SENDONLY_SDP},
                                     {"command": "subscribe request", "from-tag": "pub-tag", "to-tag": "sub-1"},
                                     subscribe_answer,
                                     {"command": "subscribe request", "from-tag": "pub-tag", "to-tag": "sub-2",
                                      "flags": ["RTCP-mirror"]},
                                     subscribe_answer, {"command": "query"},
                                     {"command": "unsubscribe", "to-tag": "sub-1"}, {"command": "query"},
                                     {"command": "delete", "from-tag": "pub-tag"}]),
        ("request-sdes-source", [
            {"command": "offer", "from-tag": "caller-tag", "sdp": OFFER_SDP.replace("RTP/AVP", "RTP/SAVP").replace(
                "a=sendrecv", "a=sendrecv\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")},
            setup()[1], {"command": "subscribe request", "from-tag": "caller-tag"}, {"command": "query"},
            subscribe_answer, {"command": "query"}] + end()),
        ("publish-subscribe", [{"command": "publish", "from-tag": "pub-tag", "sdp": SENDONLY_SDP},
                               {"command": "subscribe request", "from-tag": "pub-tag"},
                               subscribe_answer, unsubscribe,
                               {"command": "delete", "from-tag": "pub-tag"}]),
    ])
    return cases
