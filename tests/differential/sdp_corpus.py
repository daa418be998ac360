"""SDP inputs and ng flag sets recorded against rtpengine 10.5 (see record_sdp_fixtures.py).

Each case is one call: a list of (fixture suffix, ng message) sent in order.
"""


def sdp(*lines, eol="\r\n"):
    return "".join(line + eol for line in lines)


SESSION = ["v=0", "o=alice 2890844526 2890844527 IN IP4 192.168.1.10", "s=call", "c=IN IP4 192.168.1.10", "t=0 0"]
SESSION_NO_C = ["v=0", "o=alice 2890844526 2890844527 IN IP4 192.168.1.10", "s=call", "t=0 0"]
SESSION6 = ["v=0", "o=bob 1 1 IN IP6 2001:db8::10", "s=-", "c=IN IP6 2001:db8::10", "t=0 0"]
ANSWER_SESSION = ["v=0", "o=bob 77 78 IN IP4 192.168.1.20", "s=-", "c=IN IP4 192.168.1.20", "t=0 0"]

AUDIO = ["m=audio 5000 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
         "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv"]
ANSWER_AUDIO = ["m=audio 6000 RTP/AVP 0 101", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
                "a=fmtp:101 0-16", "a=sendrecv"]
ICE_AUDIO = ["m=audio 5000 RTP/AVP 0 8", "a=rtpmap:0 PCMU/8000", "a=ice-ufrag:F7gI", "a=ice-pwd:x9cml/YzichV2+XlhiMu8g",
             "a=candidate:1 1 UDP 2130706431 192.168.1.10 5000 typ host",
             "a=candidate:1 2 UDP 2130706430 192.168.1.10 5001 typ host",
             "a=candidate:2 1 UDP 1694498815 203.0.113.7 45664 typ srflx raddr 192.168.1.10 rport 5000",
             "a=rtcp:5001", "a=sendrecv"]

REPLACE = ["origin", "session-connection"]


def offer(body, **flags):
    msg = {"command": "offer", "from-tag": "caller-tag", "sdp": body}
    msg.update(flags)
    return msg


def answer(body, **flags):
    msg = {"command": "answer", "from-tag": "caller-tag", "to-tag": "callee-tag", "sdp": body}
    msg.update(flags)
    return msg


def pair(offer_body, answer_body, offer_flags=None, answer_flags=None):
    return [("offer", offer(offer_body, **(offer_flags or {}))),
            ("answer", answer(answer_body, **(answer_flags or {})))]


BASIC_ANSWER = sdp(*ANSWER_SESSION, *ANSWER_AUDIO)

CASES = [
    ("plain", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER)),
    ("plain-lf", pair(sdp(*SESSION, *AUDIO, eol="\n"), sdp(*ANSWER_SESSION, *ANSWER_AUDIO, eol="\n"))),
    ("replace-both", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                          {"replace": REPLACE, "ICE": "remove"}, {"replace": REPLACE, "ICE": "remove"})),
    ("replace-origin", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER, {"replace": ["origin"]}, {"replace": ["origin"]})),
    ("session-c-only-media-c", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 0", "c=IN IP4 192.168.1.11", "a=rtpmap:0 PCMU/8000"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "c=IN IP4 192.168.1.21"))),
    ("session-c-replace-media-c", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 0", "c=IN IP4 192.168.1.11", "a=rtpmap:0 PCMU/8000"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "c=IN IP4 192.168.1.21"),
        {"replace": ["session-connection"]}, {"replace": ["session-connection"]})),
    ("media-c-only", pair(
        sdp(*SESSION_NO_C, "m=audio 5000 RTP/AVP 0 8", "c=IN IP4 192.168.1.11", "b=AS:64", "a=rtpmap:8 PCMA/8000"),
        sdp(*SESSION_NO_C, "m=audio 6000 RTP/AVP 8", "c=IN IP4 192.168.1.21"))),
    ("multi-media", pair(
        sdp(*SESSION, "b=AS:256", *AUDIO,
            "m=video 5002 RTP/AVP 96 34", "b=TIAS:128000", "a=rtpmap:96 H264/90000",
            "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1", "a=rtcp-fb:96 nack", "a=rtcp-fb:* ccm fir",
            "a=framerate:30", "a=recvonly"),
        sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "m=video 6002 RTP/AVP 96", "a=rtpmap:96 H264/90000",
            "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1", "a=sendonly"),
        {"ICE": "remove"}, {"ICE": "remove"})),
    ("rejected-media", pair(
        sdp(*SESSION, *AUDIO, "m=video 0 RTP/AVP 31", "a=rtpmap:31 H261/90000", "a=x-keep:1"),
        sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "m=video 0 RTP/AVP 31"))),
    ("unknown-attrs", pair(
        sdp(*SESSION, "a=tool:softphone 1.0", "a=x-session:yes",
            "m=audio 5000 RTP/AVP 0 8", "i=audio stream", "a=x-first", "a=rtpmap:8 PCMA/8000",
            "a=x-between:1 2 3", "a=rtpmap:0 PCMU/8000", "a=maxptime:60", "a=ssrc:12345 cname:abc@host",
            "a=mid:audio1", "a=ptime:30", "a=rtcp-rsize", "a=x-last"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 8", "a=x-answer-attr", "a=rtpmap:8 PCMA/8000", "a=mid:audio1"))),
    ("ipv6-in", pair(sdp(*SESSION6, *AUDIO), sdp(*SESSION6, *ANSWER_AUDIO).replace("5000", "6000"),
                     {"replace": REPLACE, "ICE": "remove"}, {"replace": REPLACE, "ICE": "remove"})),
    ("bridge-4to6", pair(sdp(*SESSION, *AUDIO), sdp(*SESSION6, *ANSWER_AUDIO),
                         {"replace": REPLACE, "address-family": "IP6", "ICE": "remove"},
                         {"replace": REPLACE, "address-family": "IP4", "ICE": "remove"})),
    ("bridge-6to4", pair(sdp(*SESSION6, *AUDIO), BASIC_ANSWER,
                         {"replace": REPLACE, "address-family": "IP4"}, {"replace": REPLACE, "address-family": "IP6"})),
    ("direction-int-ext", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                               {"direction": ["internal", "external"], "replace": REPLACE},
                               {"replace": REPLACE})),
    ("direction-ext-int", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                               {"direction": ["external", "internal"]}, {})),
    ("media-address", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                           {"media-address": "198.51.100.7", "replace": REPLACE},
                           {"media-address": "198.51.100.8"})),
    ("trust-address", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                           {"flags": ["trust-address"], "received-from": ["IP4", "10.9.9.9"]},
                           {"flags": ["trust-address"], "received-from": ["IP4", "10.9.9.8"]})),
    ("sip-source", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                        {"flags": ["SIP-source-address"], "received-from": ["IP4", "10.9.9.9"]},
                        {"flags": ["SIP-source-address"], "received-from": ["IP4", "10.9.9.8"]})),
    ("avpf", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                  {"transport-protocol": "RTP/AVPF"}, {"transport-protocol": "RTP/AVP"})),
    ("avpf-in-avp-out", pair(sdp(*SESSION, *AUDIO).replace("RTP/AVP ", "RTP/AVPF "),
                             BASIC_ANSWER.replace("RTP/AVP ", "RTP/AVPF "),
                             {"transport-protocol": "RTP/AVP"}, {})),
    ("no-rtcp-attr", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                          {"flags": ["no-rtcp-attribute"]}, {"flags": ["no-rtcp-attribute"]})),
    ("rtcp-attr-in", pair(sdp(*SESSION, *AUDIO, "a=rtcp:5001 IN IP4 192.168.1.10"),
                          sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp:6001"))),
    ("rtcp-mux-offer", pair(sdp(*SESSION, *AUDIO), sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp-mux"),
                            {"rtcp-mux": ["offer"]}, {})),
    ("rtcp-mux-offer-noaccept", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER, {"rtcp-mux": ["offer"]}, {})),
    ("rtcp-mux-passthrough", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"),
                                  sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp-mux"))),
    ("rtcp-mux-passthrough-declined", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"), BASIC_ANSWER)),
    ("rtcp-mux-demux", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"), BASIC_ANSWER, {"rtcp-mux": ["demux"]}, {})),
    ("rtcp-mux-accept", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"), BASIC_ANSWER, {"rtcp-mux": ["accept"]}, {})),
    ("rtcp-mux-reject", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"), BASIC_ANSWER, {"rtcp-mux": ["reject"]}, {})),
    ("rtcp-mux-answer-accept", pair(sdp(*SESSION, *AUDIO, "a=rtcp-mux"),
                                    sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp-mux"), {}, {"rtcp-mux": ["accept"]})),
    ("ice-remove", pair(sdp(*SESSION, *ICE_AUDIO), BASIC_ANSWER, {"ICE": "remove"}, {"ICE": "remove"})),
    ("ice-default", pair(sdp(*SESSION, *ICE_AUDIO), BASIC_ANSWER)),
    ("ice-force", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER, {"ICE": "force"}, {"ICE": "force"})),
    ("ice-force-mux", pair(sdp(*SESSION, *AUDIO), sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp-mux"),
                           {"ICE": "force", "rtcp-mux": ["offer"]}, {"ICE": "force"})),
    ("ice-session-level", pair(
        sdp(*SESSION, "a=ice-lite", "a=ice-ufrag:sess", "a=ice-pwd:sesspasswordsesspassword",
            "m=audio 5000 RTP/AVP 0", "a=candidate:1 1 UDP 2130706431 192.168.1.10 5000 typ host",
            "a=end-of-candidates"),
        BASIC_ANSWER)),
    ("direction-sendonly", pair(sdp(*SESSION, *AUDIO).replace("a=sendrecv", "a=sendonly"),
                                BASIC_ANSWER.replace("a=sendrecv", "a=recvonly"))),
    ("direction-inactive", pair(sdp(*SESSION, *AUDIO).replace("a=sendrecv", "a=inactive"),
                                BASIC_ANSWER.replace("a=sendrecv", "a=inactive"))),
    ("direction-none", pair(sdp(*SESSION, *AUDIO).replace("a=sendrecv\r\n", ""), BASIC_ANSWER)),
    ("direction-session-level", pair(
        sdp(*SESSION, "a=recvonly", "m=audio 5000 RTP/AVP 0", "m=audio 5002 RTP/AVP 8", "a=inactive"),
        sdp(*ANSWER_SESSION, "a=sendonly", "m=audio 6000 RTP/AVP 0", "m=audio 6002 RTP/AVP 8"))),
    ("static-pt-no-rtpmap", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 0 3 9 18 96 97", "a=rtpmap:97 pcmu/8000/1", "a=fmtp:18 annexb=no",
            "a=rtpmap:99 unused/8000", "a=fmtp:99 x=1"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 18", "a=fmtp:18 annexb=no"))),
    ("t38-image", pair(
        sdp(*SESSION, "m=image 5000 udptl t38", "a=T38FaxVersion:0", "a=T38MaxBitRate:14400",
            "a=T38FaxRateManagement:transferredTCF", "a=T38FaxUdpEC:t38UDPRedundancy"),
        sdp(*ANSWER_SESSION, "m=image 6000 udptl t38", "a=T38FaxVersion:0", "a=T38MaxBitRate:14400"))),
    ("port-count", pair(sdp(*SESSION, "m=audio 5000/2 RTP/AVP 0"), sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0"))),
    ("no-final-eol", pair(sdp(*SESSION, *AUDIO)[:-2], BASIC_ANSWER[:-2])),
    ("mixed-eol", pair("v=0\r\no=- 1 1 IN IP4 10.1.1.1\ns=-\r\nc=IN IP4 10.1.1.1\nt=0 0\r\nm=audio 5000 RTP/AVP 0\na=x\r\n",
                       BASIC_ANSWER)),
    ("reinvite-hold", [
        ("offer1", offer(sdp(*SESSION, *AUDIO), replace=REPLACE)),
        ("answer1", answer(BASIC_ANSWER, replace=REPLACE)),
        ("offer2", offer(sdp(*SESSION, *AUDIO).replace("a=sendrecv", "a=sendonly").replace("2890844527", "2890844528"),
                         replace=REPLACE)),
        ("answer2", answer(BASIC_ANSWER.replace("a=sendrecv", "a=recvonly").replace(" 78 ", " 79 "), replace=REPLACE)),
    ]),
    ("webrtc-like", pair(
        sdp("v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
            "a=msid-semantic: WMS stream", "a=ice-options:trickle",
            "m=audio 9 RTP/AVPF 111 0", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
            "a=candidate:842163049 1 udp 1677729535 198.51.100.3 54321 typ srflx raddr 0.0.0.0 rport 0",
            "a=ice-ufrag:EsAw", "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y", "a=mid:0", "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=sendrecv",
            "a=msid:stream track", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc",
            "a=fmtp:111 minptime=10;useinbandfec=1", "a=ssrc:1001 cname:x"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVPF 111", "a=rtpmap:111 opus/48000/2", "a=rtcp-mux"),
        {"ICE": "force", "transport-protocol": "RTP/AVPF"}, {"ICE": "force"})),
    ("loop-protect", pair(sdp(*SESSION, "a=x-last-session", *AUDIO), BASIC_ANSWER,
                          {"flags": ["loop-protect"]}, {"flags": ["loop-protect"]})),
    ("ice-answer-has-ice", pair(sdp(*SESSION, *AUDIO), sdp(*ANSWER_SESSION, *ANSWER_AUDIO,
        "a=ice-ufrag:Ans1", "a=ice-pwd:answerpasswordanswerpass",
        "a=candidate:1 1 UDP 2130706431 192.168.1.20 6000 typ host"))),
    ("ice-mux-accepted", pair(sdp(*SESSION, *ICE_AUDIO, "a=rtcp-mux"),
        sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=rtcp-mux"), {}, {})),
    ("ice-ipv6", pair(sdp(*SESSION6, *ICE_AUDIO).replace("192.168.1.10", "2001:db8::10"),
        sdp(*SESSION6, *ANSWER_AUDIO))),
    ("end-of-candidates-remove", pair(sdp(*SESSION, *ICE_AUDIO, "a=ptime:30", "a=end-of-candidates"), BASIC_ANSWER,
        {"ICE": "remove"}, {})),
    ("ptime-both", pair(sdp(*SESSION, *AUDIO), sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "a=ptime:30"))),
    ("codec-attr-oddities", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 96 0 8", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 stereo=1",
            "a=fmtp:96 maxplaybackrate=16000", "a=fmtp:8 x=y", "a=rtcp-fb:96 nack", "a=rtcp-fb:97 nack",
            "a=rtcp-fb:96 ccm fir", "a=rtpmap:8 PCMA/8000/1"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 8 96", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 stereo=1"))),
    ("rejected-with-attrs", pair(
        sdp(*SESSION, *AUDIO, "m=video 0 RTP/AVP 96", "c=IN IP4 192.168.1.10", "b=AS:500", "a=rtpmap:96 H264/90000",
            "a=sendonly", "a=mid:v", "a=rtcp:7", "a=ptime:20", "a=x-other"),
        sdp(*ANSWER_SESSION, *ANSWER_AUDIO, "m=video 0 RTP/AVP 96"))),
    ("session-attrs-kept", pair(
        sdp(*SESSION, "a=sendrecv", "a=rtcp:9", "a=ptime:40", "a=setup:active", "a=tool:x",
            "a=fingerprint:sha-1 AA:BB", "a=group:LS 1 2", "a=mid:top", "m=audio 5000 RTP/AVP 0 8",
            "a=setup:passive", "a=fingerprint:sha-1 CC:DD", "a=tls-id:1", "a=rtcp-rsize", "a=maxptime:40"),
        BASIC_ANSWER)),
    ("trailing-blank-line", pair(sdp(*SESSION, *AUDIO) + "\r\n", BASIC_ANSWER)),
    ("reoffer-new-port", [
        ("offer1", offer(sdp(*SESSION, *AUDIO))),
        ("answer1", answer(BASIC_ANSWER)),
        ("offer2", offer(sdp(*SESSION, *AUDIO).replace("5000", "5010").replace("a=sendrecv", "a=inactive"),
                         **{"ICE": "force", "rtcp-mux": ["offer"]})),
        ("answer2", answer(BASIC_ANSWER.replace("a=sendrecv", "a=inactive"), ICE="remove")),
    ]),
    ("three-media-mixed", pair(
        sdp(*SESSION_NO_C, "m=audio 5000 RTP/AVP 8", "c=IN IP4 192.168.1.11", "m=image 5002 udptl t38",
            "c=IN IP4 192.168.1.12", "a=T38FaxVersion:0", "m=video 5004 RTP/AVP 34", "c=IN IP6 2001:db8::5"),
        sdp(*SESSION_NO_C, "m=audio 6000 RTP/AVP 8", "c=IN IP4 192.168.1.21", "m=image 6002 udptl t38",
            "c=IN IP4 192.168.1.22", "m=video 0 RTP/AVP 34", "c=IN IP4 192.168.1.23"),
        {"replace": REPLACE}, {"replace": REPLACE})),
    ("lf-ice-force", pair(sdp(*SESSION, *AUDIO, eol="\n"), sdp(*ANSWER_SESSION, *ANSWER_AUDIO, eol="\n"),
                          {"ICE": "force", "replace": REPLACE, "rtcp-mux": ["offer"]}, {"ICE": "force"})),
    ("hold-session-zero", pair(
        sdp("v=0", "o=- 1 2 IN IP4 0.0.0.0", "s=x", "c=IN IP4 0.0.0.0", "t=0 0", "m=audio 5000 RTP/AVP 0",
            "m=audio 5002 RTP/AVP 8", "c=IN IP4 192.168.1.10"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "m=audio 6002 RTP/AVP 8"),
        {"replace": REPLACE, "ICE": "remove"}, {"replace": REPLACE, "ICE": "remove"})),
    ("hold-first-media-zero", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 0", "c=IN IP4 0.0.0.0", "a=recvonly", "m=audio 5002 RTP/AVP 8"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "a=sendonly", "m=audio 6002 RTP/AVP 8"))),
    ("hold-ice-force", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 0", "c=IN IP4 0.0.0.0"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "c=IN IP4 0.0.0.0"), {"ICE": "force"}, {"ICE": "force"})),
    ("hold-ipv6", pair(
        sdp("v=0", "o=- 1 2 IN IP6 ::1", "s=x", "c=IN IP6 ::", "t=0 0", "m=audio 5000 RTP/AVP 0", "a=sendonly"),
        sdp(*SESSION6, "m=audio 6000 RTP/AVP 0", "a=recvonly"))),
    ("full-rtcp-attribute", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                                 {"flags": ["full-rtcp-attribute"], "address-family": "IP6", "rtcp-mux": ["offer"]},
                                 {"flags": ["full-rtcp-attribute"]})),
    ("original-sendrecv", pair(sdp(*SESSION, *AUDIO).replace("a=sendrecv", "a=sendonly"),
                               BASIC_ANSWER.replace("a=sendrecv", "a=recvonly"),
                               {"flags": ["original-sendrecv"]}, {"flags": ["original-sendrecv"]})),
    ("extmap-mid-icelite", pair(
        sdp(*SESSION, "a=extmap:2 urn:y", "a=x-s", "m=audio 5000 RTP/AVP 0", "a=extmap:1 urn:x", "a=x-m",
            "m=audio 5002 RTP/AVP 8", "a=mid:second"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "m=audio 6002 RTP/AVP 8"),
        {"flags": ["strip-extmap", "generate-mid", "loop-protect"], "ICE-lite": "forward", "ICE": "force"},
        {"flags": ["strip-extmap"], "ICE": "remove"})),
    ("lenient-attributes", pair(
        sdp(*SESSION, "m=audio 5000 RTP/AVP 96 0 97", "a=rtcp:abc", "a=ptime:x", "a=rtpmap:96 foo",
            "a=rtpmap:0", "a=rtpmap:97 bar/fast", "a=fmtp:97 a=b", "a=x"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0", "a=ptime:", "a=rtcp:"))),
    ("no-formats", pair(sdp(*SESSION, "m=audio 5000 RTP/AVP"), sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP"))),
    ("origin-hostname-bracket-c", pair(
        sdp("v=0", "o=- 1 2 IN IP4 pbx.example.com", "s=-", "c=IN IP6 [2001:db8::9]", "t=0 0", *AUDIO),
        sdp("v=0", "o=- 3 4 IN IP6 [2001:db8::20]", "s=-", "c=IN IP6 [2001:db8::20]", "t=0 0", *ANSWER_AUDIO),
        {"replace": ["origin"]}, {"replace": ["origin"]})),
    ("reinvite-from-callee", [
        ("offer1", offer(sdp(*SESSION, *AUDIO), replace=REPLACE, direction=["internal", "external"])),
        ("answer1", answer(BASIC_ANSWER, replace=REPLACE)),
        ("offer2", {"command": "offer", "from-tag": "callee-tag", "to-tag": "caller-tag",
                    "sdp": BASIC_ANSWER.replace("a=sendrecv", "a=sendonly").replace(" 78 ", " 79 "),
                    "replace": REPLACE, "direction": ["external", "internal"]}),
        ("answer2", {"command": "answer", "from-tag": "callee-tag", "to-tag": "caller-tag",
                     "sdp": sdp(*SESSION, *AUDIO).replace("a=sendrecv", "a=recvonly"), "replace": REPLACE}),
    ]),
    ("codec-strip", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER, {"codec": {"strip": ["PCMA"]}}, {})),
    ("codec-strip-all-except", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER,
                                    {"codec": {"strip": ["all"], "except": ["pcmu"]}}, {})),
    ("codec-mask", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER, {"codec": {"mask": ["telephone-event"]}}, {})),
    # (answering with a stripped codec makes 10.5 print an m= line without formats)
    ("codec-strip-flag", pair(sdp(*SESSION, *AUDIO), BASIC_ANSWER.replace("RTP/AVP 0 101", "RTP/AVP 8 101")
                              .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000"),
                              {"flags": ["codec-strip-PCMU"]}, {})),
    ("whitespace-oddities", pair(
        sdp("v=0", "o=- 1 2 IN IP4 10.0.0.1", "s=x", "c=IN IP4 10.0.0.1 ", "t=0 0", "m=audio 5000 RTP/AVP 0 8 ",
            "a=", "a=sendonly ", "a=rtcp:5001  IN IP4 1.2.3.4", "a=fmtp:0  x=y", "a=rtpmap:0 PCMU/8000 ",
            "a=rtpmap:8  PCMA/8000", "a=ptime: 20"),
        sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP 0 ", "a=rtpmap:0 PCMU/8000/", "a=rtcp:abc"),
        {"replace": ["origin"]}, {})),
    ("no-formats-trailing-space", pair(sdp(*SESSION, "m=audio 5000 RTP/AVP "), sdp(*ANSWER_SESSION, "m=audio 6000 RTP/AVP"))),
]
