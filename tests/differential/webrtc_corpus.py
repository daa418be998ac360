"""WebRTC <-> SIP offer/answer cases recorded against rtpengine 10.5
(see record_webrtc_fixtures.py).

The browser offer follows what Chrome writes (JSEP, RFC 8829; unified plan):
audio and video BUNDLEd on one transport, rtcp-mux, trickle ICE with a host and
a server-reflexive candidate per m-line, a sha-256 fingerprint, setup:actpass,
header extensions, msid and ssrc lines. The SIP side answers with plain
RTP/AVP, one port per m-line, as a phone does.
"""


def sdp(*lines):
    return "".join(line + "\r\n" for line in lines)


FINGERPRINT = ("a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:"
               "DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08")

CHROME_OFFER = sdp(
    "v=0",
    "o=- 4215775240449105457 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS 3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.10 46243 typ host generation 0 network-id 1",
    "a=candidate:435653019 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.1.10 rport 46243 "
    "generation 0 network-id 1",
    "a=ice-ufrag:Oyef",
    "a=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3",
    "a=ice-options:trickle",
    FINGERPRINT,
    "a=setup:actpass",
    "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    "a=msid:3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5 0b2bf9ab-0b70-4b5e-a0c4-b3c1f6e2f1a0",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "a=rtcp-fb:111 transport-cc",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2",
    "a=fmtp:63 111/111",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:13 CN/8000",
    "a=rtpmap:110 telephone-event/48000",
    "a=rtpmap:126 telephone-event/8000",
    "a=ssrc:3021835906 cname:zn4Hh4yNYmkDnrWZ",
    "a=ssrc:3021835906 msid:3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5 0b2bf9ab-0b70-4b5e-a0c4-b3c1f6e2f1a0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.10 46243 typ host generation 0 network-id 1",
    "a=candidate:435653019 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.1.10 rport 46243 "
    "generation 0 network-id 1",
    "a=ice-ufrag:Oyef",
    "a=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3",
    "a=ice-options:trickle",
    FINGERPRINT,
    "a=setup:actpass",
    "a=mid:1",
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset",
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:13 urn:3gpp:video-orientation",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv",
    "a=msid:3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5 6a2c9f7e-5d1b-4c7f-9a3e-2b8d4e6f1c22",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 transport-cc",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:102 H264/90000",
    "a=rtcp-fb:102 goog-remb",
    "a=rtcp-fb:102 transport-cc",
    "a=rtcp-fb:102 ccm fir",
    "a=rtcp-fb:102 nack",
    "a=rtcp-fb:102 nack pli",
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    "a=rtpmap:103 rtx/90000",
    "a=fmtp:103 apt=102",
    "a=ssrc-group:FID 1862479474 2919553426",
    "a=ssrc:1862479474 cname:zn4Hh4yNYmkDnrWZ",
    "a=ssrc:1862479474 msid:3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5 6a2c9f7e-5d1b-4c7f-9a3e-2b8d4e6f1c22",
    "a=ssrc:2919553426 cname:zn4Hh4yNYmkDnrWZ",
    "a=ssrc:2919553426 msid:3mmBYcmIXo2RVIcaPBmRIf2X8uoOE6Jq5bD5 6a2c9f7e-5d1b-4c7f-9a3e-2b8d4e6f1c22",
)

FIREFOX_FINGERPRINT = ("a=fingerprint:sha-256 2E:5A:6C:8E:1B:9F:40:73:D2:61:0C:3E:A4:B7:58:19:"
                       "6F:E2:8D:33:71:0A:C5:94:BB:2F:6E:01:D8:47:93:AC")

# Firefox's layout (as its SDP after ICE gathering is sent by a SIP-over-
# WebSocket client): session-level a=sendrecv, fingerprint and
# ice-options:trickle, attributes sorted by name, a=end-of-candidates.
FIREFOX_OFFER = sdp(
    "v=0",
    "o=mozilla...THIS_IS_SDPARTA-115.0 6414416553396440262 0 IN IP4 0.0.0.0",
    "s=-",
    "t=0 0",
    "a=sendrecv",
    FIREFOX_FINGERPRINT,
    "a=group:BUNDLE 0 1",
    "a=ice-options:trickle",
    "a=msid-semantic:WMS *",
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101",
    "c=IN IP4 0.0.0.0",
    "a=candidate:0 1 UDP 2122252543 192.168.1.11 50718 typ host",
    "a=candidate:1 1 UDP 1686052863 203.0.113.8 50718 typ srflx raddr 192.168.1.11 rport 50718",
    "a=sendrecv",
    "a=end-of-candidates",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1",
    "a=fmtp:101 0-15",
    "a=ice-pwd:8c5b1e2e5a8e9f6d0c3b7a4d2e1f0a9b",
    "a=ice-ufrag:5f2a8c1d",
    "a=mid:0",
    "a=msid:{4d3c2b1a-0f9e-8d7c-6b5a-493827161504} {a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d}",
    "a=rtcp-mux",
    "a=rtpmap:109 opus/48000/2",
    "a=rtpmap:9 G722/8000/1",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000/1",
    "a=setup:actpass",
    "a=ssrc:2655508255 cname:{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
    "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125",
    "c=IN IP4 0.0.0.0",
    "a=sendrecv",
    "a=end-of-candidates",
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset",
    "a=fmtp:120 max-fs=12288;max-fr=60",
    "a=fmtp:124 apt=120",
    "a=fmtp:121 max-fs=12288;max-fr=60",
    "a=fmtp:125 apt=121",
    "a=ice-pwd:8c5b1e2e5a8e9f6d0c3b7a4d2e1f0a9b",
    "a=ice-ufrag:5f2a8c1d",
    "a=mid:1",
    "a=msid:{4d3c2b1a-0f9e-8d7c-6b5a-493827161504} {b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e}",
    "a=rtcp-fb:120 nack",
    "a=rtcp-fb:120 nack pli",
    "a=rtcp-fb:120 ccm fir",
    "a=rtcp-fb:120 goog-remb",
    "a=rtcp-fb:120 transport-cc",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=rtpmap:120 VP8/90000",
    "a=rtpmap:124 rtx/90000",
    "a=rtpmap:121 VP9/90000",
    "a=rtpmap:125 rtx/90000",
    "a=setup:actpass",
    "a=ssrc:1787528417 cname:{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
    "a=ssrc-group:FID 1787528417 3358914016",
    "a=ssrc:3358914016 cname:{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}",
)

# Firefox's video answered by a phone that knows VP8.
PHONE_ANSWER_VP8 = sdp(
    "v=0",
    "o=bob 77 78 IN IP4 192.168.1.20",
    "s=-",
    "c=IN IP4 192.168.1.20",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=sendrecv",
    "m=video 6002 RTP/AVP 120",
    "a=rtpmap:120 VP8/90000",
    "a=sendrecv",
)

# The SIP phone's answer: plain RTP/AVP, its own port per m-line, RTCP on port+1.
PHONE_ANSWER = sdp(
    "v=0",
    "o=bob 77 78 IN IP4 192.168.1.20",
    "s=-",
    "c=IN IP4 192.168.1.20",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0 126",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:126 telephone-event/8000",
    "a=sendrecv",
    "m=video 6002 RTP/AVP 102",
    "a=rtpmap:102 H264/90000",
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
    "a=sendrecv",
)

# The same phone answering rtcp-mux (when we offered it).
PHONE_ANSWER_MUX = PHONE_ANSWER.replace("a=sendrecv\r\n", "a=rtcp-mux\r\na=sendrecv\r\n")

# What Kamailio's rtpengine_offer sends for a SIP callee, and rtpengine_answer
# for the browser (transport back to the browser's own, ICE forced).
TO_SIP = {"transport-protocol": "RTP/AVP", "ICE": "remove", "rtcp-mux": ["demux"],
          "replace": ["origin", "session-connection"]}
TO_BROWSER = {"transport-protocol": "UDP/TLS/RTP/SAVPF", "ICE": "force", "rtcp-mux": ["require"],
              "replace": ["origin", "session-connection"]}


def variant(base, **changes):
    flags = dict(base)
    for key, value in changes.items():
        key = key.replace("_", "-")
        if value is None:
            flags.pop(key, None)
        else:
            flags[key] = value
    return flags


def call(offer_flags, answer_flags, answer_body=PHONE_ANSWER, offer_body=CHROME_OFFER):
    return [("offer", "offer", offer_body, offer_flags),
            ("answer", "answer", answer_body, answer_flags)]


# case name -> list of (step name, command, sdp, flags)
CASES = {
    # Kamailio's usual WebRTC -> SIP bridge.
    "chrome-to-sip": call(TO_SIP, TO_BROWSER),
    # ICE left at its default: 10.5 keeps ICE toward the SIP side.
    "chrome-to-sip-ice-default": call(variant(TO_SIP, ICE=None), TO_BROWSER),
    # rtcp-mux accepted instead of demuxed toward the SIP side.
    "chrome-to-sip-mux-accept": call(variant(TO_SIP, rtcp_mux=["accept"]), TO_BROWSER, PHONE_ANSWER_MUX),
    # rtcp-mux offered to the SIP side (the phone accepts it).
    "chrome-to-sip-mux-offer": call(variant(TO_SIP, rtcp_mux=["offer"]), TO_BROWSER, PHONE_ANSWER_MUX),
    # rtcp-mux rejected.
    "chrome-to-sip-mux-reject": call(variant(TO_SIP, rtcp_mux=["reject"]), TO_BROWSER),
    # No rtcp-mux flag at all.
    "chrome-to-sip-mux-none": call(variant(TO_SIP, rtcp_mux=None), TO_BROWSER),
    # SDES-SRTP toward the SIP side instead of plain RTP.
    "chrome-to-sip-savp": call(variant(TO_SIP, transport_protocol="RTP/SAVP"), TO_BROWSER),
    # The answer toward the browser with no flags (Kamailio without options).
    "chrome-to-sip-answer-bare": call(TO_SIP, {}),
    # ICE kept toward the SIP side with the ng flag trickle-ICE.
    "chrome-to-sip-trickle-flag": call(variant(TO_SIP, ICE="force", flags=["trickle-ICE"]), TO_BROWSER),
    # Chrome's offer without a=ice-options:trickle: 0.0.0.0 is a hold for 10.5.
    "chrome-no-trickle-to-sip": call(TO_SIP, TO_BROWSER, PHONE_ANSWER,
                                     CHROME_OFFER.replace("a=ice-options:trickle\r\n", "")),
    # Firefox: trickle only at session level, which 10.5 does not look at.
    "firefox-to-sip": call(TO_SIP, TO_BROWSER, PHONE_ANSWER_VP8, FIREFOX_OFFER),
}

# --- DTLS-SRTP signalling (a=setup, a=fingerprint, ng DTLS flags) -----------

SHA384_FINGERPRINT = ("a=fingerprint:sha-384 11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
                      "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:"
                      "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00")
OTHER_FINGERPRINT = ("a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
                     "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF")

# A SIP phone calling a browser: plain RTP/AVP, audio only.
PHONE_OFFER = sdp(
    "v=0",
    "o=alice 11 12 IN IP4 192.168.1.30",
    "s=-",
    "c=IN IP4 192.168.1.30",
    "t=0 0",
    "m=audio 7000 RTP/AVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=sendrecv",
)

# Chrome's answer to it: one audio m-line, rtcp-mux, ICE, DTLS client.
BROWSER_ANSWER = sdp(
    "v=0",
    "o=- 6543210987654321 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=msid-semantic: WMS",
    "m=audio 46300 UDP/TLS/RTP/SAVPF 0 101",
    "c=IN IP4 192.168.1.10",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:1467250027 1 udp 2122260223 192.168.1.10 46300 typ host generation 0 network-id 1",
    "a=ice-ufrag:Kq9z",
    "a=ice-pwd:u3Dq1Zs9NfYv0LpQe6Wc2Rbx",
    "a=ice-options:trickle",
    FINGERPRINT,
    "a=setup:active",
    "a=mid:0",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=ssrc:1122334455 cname:Yq1nB0xXcJ2mRk5T",
)

# An SRTP phone offering both SDES and DTLS on RTP/SAVP.
SAVP_BOTH_OFFER = sdp(
    "v=0",
    "o=carol 21 22 IN IP4 192.168.1.40",
    "s=-",
    "c=IN IP4 192.168.1.40",
    "t=0 0",
    "m=audio 8000 RTP/SAVP 0 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
    "a=setup:actpass",
    FINGERPRINT,
    "a=sendrecv",
)

# A plain phone answering the SRTP offer with SRTP (SDES) itself.
PHONE_ANSWER_SAVP = sdp(
    "v=0",
    "o=dave 31 32 IN IP4 192.168.1.50",
    "s=-",
    "c=IN IP4 192.168.1.50",
    "t=0 0",
    "m=audio 9000 RTP/SAVP 0 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31",
    "a=sendrecv",
)

TO_BROWSER_OFFER = {"transport-protocol": "UDP/TLS/RTP/SAVPF", "ICE": "force",
                    "rtcp-mux": ["offer"], "replace": ["origin", "session-connection"]}
TO_PHONE_ANSWER = {"transport-protocol": "RTP/AVP", "ICE": "remove", "rtcp-mux": ["demux"],
                   "replace": ["origin", "session-connection"]}


def bump(body, old, new):
    """The same SDP with a new o= version (a re-INVITE)."""
    return body.replace(old, new, 1)


CHROME_REOFFER = bump(CHROME_OFFER, "4215775240449105457 2 ", "4215775240449105457 3 ")
BROWSER_REOFFER = bump(BROWSER_ANSWER, "6543210987654321 2 ", "6543210987654321 3 ").replace(
    "a=setup:active", "a=setup:actpass")
PHONE_REANSWER = bump(PHONE_OFFER, "alice 11 12 ", "alice 11 13 ")


def reinvite_by_callee(offer_body, offer_flags, answer_body, answer_flags):
    """The callee (phone-tag) re-offers; the caller (browser-tag) answers."""
    return [("offer2", "offer", offer_body, dict(offer_flags, **{"from-tag": "phone-tag",
                                                                 "to-tag": "browser-tag"})),
            ("answer2", "answer", answer_body, dict(answer_flags, **{"from-tag": "phone-tag",
                                                                     "to-tag": "browser-tag"}))]


def reinvite(offer_body, offer_flags, answer_body, answer_flags):
    return [("offer2", "offer", offer_body, offer_flags),
            ("answer2", "answer", answer_body, answer_flags)]


CASES.update({
    # The answer toward the browser with DTLS=passive: we wait for its ClientHello.
    "dtls-chrome-to-sip-passive": call(TO_SIP, variant(TO_BROWSER, DTLS="passive")),
    # DTLS=off in the answer: the browser offered no SDES, so 10.5 keeps DTLS.
    "dtls-chrome-to-sip-off": call(TO_SIP, variant(TO_BROWSER, DTLS="off")),
    # DTLS-reverse=passive with the browser's offer: our role toward it is passive.
    "dtls-chrome-to-sip-reverse": call(variant(TO_SIP, **{"DTLS-reverse": "passive"}), TO_BROWSER),
    # A sha-384 fingerprint from the browser: the answer uses sha-384 too.
    "dtls-chrome-sha384-to-sip": call(TO_SIP, TO_BROWSER, PHONE_ANSWER,
                                      CHROME_OFFER.replace(FINGERPRINT, SHA384_FINGERPRINT)),
    # Several fingerprints: the first valid one counts.
    "dtls-chrome-two-fingerprints": call(TO_SIP, TO_BROWSER, PHONE_ANSWER, CHROME_OFFER.replace(
        FINGERPRINT, "a=fingerprint:md5 00:11\r\n" + SHA384_FINGERPRINT + "\r\n" + FINGERPRINT)),
    # The browser offers setup:active: we answer passive.
    "dtls-chrome-active-to-sip": call(TO_SIP, TO_BROWSER, PHONE_ANSWER,
                                      CHROME_OFFER.replace("a=setup:actpass", "a=setup:active")),
    # Re-INVITE from the browser: the role stays.
    "dtls-chrome-reinvite": call(TO_SIP, TO_BROWSER)
    + reinvite(CHROME_REOFFER, TO_SIP, PHONE_ANSWER, TO_BROWSER),
    # Re-INVITE with a new certificate.
    "dtls-chrome-new-fingerprint": call(TO_SIP, TO_BROWSER)
    + reinvite(CHROME_REOFFER.replace(FINGERPRINT, OTHER_FINGERPRINT), TO_SIP, PHONE_ANSWER, TO_BROWSER),
    # A phone calls a browser: we offer actpass (and SDES), the browser answers active.
    "dtls-sip-to-browser": call(TO_BROWSER_OFFER, TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER),
    # The browser answers passive: we are the DTLS client.
    "dtls-sip-to-browser-passive": call(TO_BROWSER_OFFER, TO_PHONE_ANSWER,
                                        BROWSER_ANSWER.replace("a=setup:active", "a=setup:passive"),
                                        PHONE_OFFER),
    # DTLS=off in the offer toward the browser: SDES only.
    "dtls-sip-to-browser-off": call(variant(TO_BROWSER_OFFER, DTLS="off"), TO_PHONE_ANSWER,
                                    BROWSER_ANSWER, PHONE_OFFER),
    # SDES-off in the offer toward the browser: DTLS only.
    "dtls-sip-to-browser-sdes-off": call(variant(TO_BROWSER_OFFER, flags=["SDES-off"]), TO_PHONE_ANSWER,
                                         BROWSER_ANSWER, PHONE_OFFER),
    # DTLS-fingerprint=sha-1 / sha-384 in the offer.
    "dtls-sip-to-browser-sha1": call(variant(TO_BROWSER_OFFER, **{"DTLS-fingerprint": "sha-1"}),
                                     TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER),
    "dtls-sip-to-browser-sha384": call(variant(TO_BROWSER_OFFER, **{"DTLS-fingerprint": "sha-384"}),
                                       TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER),
    # The browser (callee, which was active) re-offers actpass: we stay passive.
    "dtls-sip-to-browser-reinvite": call(TO_BROWSER_OFFER, TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER)
    + reinvite_by_callee(BROWSER_REOFFER, TO_PHONE_ANSWER, PHONE_REANSWER, TO_BROWSER_OFFER),
    # RTP/SAVP with SDES and DTLS, SRTP on both sides: the answer back is DTLS only.
    "dtls-savp-both": call({"replace": ["origin"]}, {}, PHONE_ANSWER_SAVP, SAVP_BOTH_OFFER),
    # The same with DTLS=off in the answer: SDES wins.
    "dtls-savp-both-off": call({"replace": ["origin"]}, {"DTLS": "off"}, PHONE_ANSWER_SAVP,
                               SAVP_BOTH_OFFER),
    # DTLS=off in the offer of RTP/SAVP: no a=setup toward the phone.
    "dtls-savp-offer-off": call({"DTLS": "off"}, {}, PHONE_ANSWER_SAVP, SAVP_BOTH_OFFER),
})

PHONE_REOFFER = bump(PHONE_OFFER, "alice 11 12 ", "alice 11 13 ")
BROWSER_REANSWER_PASSIVE = bump(BROWSER_ANSWER, "6543210987654321 2 ", "6543210987654321 3 ").replace(
    "a=setup:active", "a=setup:passive")

CASES.update({
    # a=setup:holdconn: no role offered, so no DTLS toward the browser.
    "dtls-chrome-holdconn": call(TO_SIP, TO_BROWSER, PHONE_ANSWER,
                                 CHROME_OFFER.replace("a=setup:actpass", "a=setup:holdconn")),
    # A fingerprint without a=setup: no DTLS either.
    "dtls-chrome-no-setup": call(TO_SIP, TO_BROWSER, PHONE_ANSWER,
                                 CHROME_OFFER.replace("a=setup:actpass\r\n", "")),
    # a=tls-id (RFC 8842), unknown to 10.5.
    "dtls-chrome-tls-id": call(TO_SIP, TO_BROWSER, PHONE_ANSWER, CHROME_OFFER.replace(
        "a=setup:actpass\r\n", "a=setup:actpass\r\na=tls-id:89J2LRATQ3ULA24G9AHWVR31VJWSLB68\r\n")),
    # The phone re-offers; the browser, active before, now answers passive.
    "dtls-sip-to-browser-role-switch": call(TO_BROWSER_OFFER, TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER)
    + reinvite(PHONE_REOFFER, TO_BROWSER_OFFER, BROWSER_REANSWER_PASSIVE, TO_PHONE_ANSWER),
})


CASES.update({
    # ICE-lite=forward in the offer toward the browser: we are lite towards it.
    "ice-lite-sip-to-browser-forward": call(variant(TO_BROWSER_OFFER, ICE_lite="forward"),
                                            TO_PHONE_ANSWER, BROWSER_ANSWER, PHONE_OFFER),
    # ICE-lite=backward in the browser's offer: the answer to it says we are lite.
    "ice-lite-chrome-to-sip-backward": call(variant(TO_SIP, ICE_lite="backward"), TO_BROWSER),
    # ICE-lite=both with ICE kept toward the SIP side.
    "ice-lite-chrome-to-sip-both": call(variant(TO_SIP, ICE="force", ICE_lite="both"), TO_BROWSER),
    # ICE-lite=forward in the browser's offer, ICE forced toward the SIP side.
    "ice-lite-chrome-to-sip-forward": call(variant(TO_SIP, ICE="force", ICE_lite="forward"), TO_BROWSER),
    # Lite set in the offer, then the re-offer turns it off.
    "ice-lite-backward-then-off": call(variant(TO_SIP, ICE_lite="backward"), TO_BROWSER)
    + reinvite(CHROME_REOFFER, variant(TO_SIP, ICE_lite="off"), PHONE_ANSWER, TO_BROWSER),
    # Lite set in the offer; a re-offer without the key leaves it.
    "ice-lite-backward-kept": call(variant(TO_SIP, ICE_lite="backward"), TO_BROWSER)
    + reinvite(CHROME_REOFFER, TO_SIP, PHONE_ANSWER, TO_BROWSER),
    # The browser itself is lite (a=ice-lite at session level).
    "ice-lite-peer-chrome-to-sip": call(variant(TO_SIP, ICE="force"), TO_BROWSER, PHONE_ANSWER,
                                        CHROME_OFFER.replace("t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n", 1)),
})

CASES.update({
    # ICE=optional toward a SIP side that has no ICE: we generate ours.
    "ice-optional-chrome-to-sip": call(variant(TO_SIP, ICE="optional"), TO_BROWSER),
    # Browser to browser with ICE=optional: ICE on both sides, 10.5 passes
    # candidates through and adds itself as a low-priority one.
    "ice-optional-chrome-to-chrome": call({"ICE": "optional"}, {"ICE": "optional"},
                                          BROWSER_ANSWER, CHROME_OFFER),
    # The same with ICE=force-relay: 10.5 as a relay candidate, c=/m= kept.
    "ice-force-relay-chrome-to-chrome": call({"ICE": "force-relay"}, {"ICE": "force-relay"},
                                             BROWSER_ANSWER, CHROME_OFFER),
    # ICE=force-relay toward a SIP side without ICE.
    "ice-force-relay-chrome-to-sip": call(variant(TO_SIP, ICE="force-relay"), TO_BROWSER),
})

CASES.update({
    # A SIP phone (no ICE) offered with ICE=optional: 10.5 generates its own
    # ICE toward the browser; the browser's ICE answer then meets ours.
    "ice-optional-sip-to-chrome": call(variant(TO_BROWSER_OFFER, ICE="optional"),
                                       variant(TO_PHONE_ANSWER, ICE="optional"),
                                       BROWSER_ANSWER, PHONE_OFFER),
    # The browser's offer in passthrough, answered by a phone without ICE
    # with ICE=optional too.
    "ice-optional-chrome-to-sip-optional-answer": call(variant(TO_SIP, ICE="optional"),
                                                       variant(TO_BROWSER, ICE="optional")),
    # ICE=force-relay from a SIP phone: 10.5 as a relay candidate of its own.
    "ice-force-relay-sip-to-chrome": call(variant(TO_BROWSER_OFFER, ICE="force-relay"),
                                          variant(TO_PHONE_ANSWER, ICE="force-relay"),
                                          BROWSER_ANSWER, PHONE_OFFER),
})

CASES.update({
    # The ng flag passthrough toward a SIP side without ICE: PASSTHRU on
    # both sides whatever ICE does.
    "passthrough-chrome-to-sip": call(variant(TO_SIP, flags=["passthrough"]), TO_BROWSER),
    # ICE=optional between browsers, but no-passthrough: 10.5 terminates ICE
    # and DTLS as with ICE=force.
    "no-passthrough-chrome-to-chrome": call({"ICE": "optional", "flags": ["no-passthrough"]},
                                            {"ICE": "optional", "flags": ["no-passthrough"]},
                                            BROWSER_ANSWER, CHROME_OFFER),
    # Passthrough set by ICE=optional stays for a re-offer with default ICE
    # (audio only, so that offer and answer have the same m= lines).
    "ice-optional-browser-reoffer": call({"ICE": "optional"}, {"ICE": "optional"},
                                         BROWSER_ANSWER, BROWSER_REOFFER)
    + reinvite(bump(BROWSER_REOFFER, "6543210987654321 3 ", "6543210987654321 4 "), {},
               bump(BROWSER_ANSWER, "6543210987654321 2 ", "6543210987654321 3 "), {}),
})
