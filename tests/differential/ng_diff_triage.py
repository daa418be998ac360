"""Grouping of ng_live_diff.py's differences into classes, and a guess at the
request key or flag behind each class (the work list of issue 16)."""
from collections import Counter

SKIP = {"call-id", "sdp", "from-tag", "to-tag", "command"}


def _t(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def features(msg):
    """The keys and values of a request, as strings such as `ICE=force`, `flags:loop-protect`, `codec.strip`."""
    out = set(sdp_features(msg.get("sdp")))
    for k, v in msg.items():
        if k in SKIP:
            continue
        out.add(k)
        if isinstance(v, list):
            out.update("%s:%s" % (k, _t(x)) for x in v)
        elif isinstance(v, dict):
            out.update("%s.%s" % (k, sub) for sub in v)
        else:
            out.add("%s=%s" % (k, _t(v)))
    return out


def sdp_features(body):
    """What kind of SDP a request carried: transport, ICE, rtcp-mux, crypto, DTLS, families, media types."""
    if not isinstance(body, (bytes, str)):
        return []
    s = _t(body)
    out = []
    for line in s.split("\n"):
        if line.startswith("m="):
            parts = line.split()
            if len(parts) > 2:
                out += ["sdp:m=%s" % parts[0][2:], "sdp:proto=%s" % parts[2]]
    for marker, name in (("a=ice-ufrag", "ice"), ("a=rtcp-mux", "rtcp-mux"), ("a=crypto", "crypto"),
                         ("a=fingerprint", "fingerprint"), ("IN IP6", "ipv6"), ("a=group:BUNDLE", "bundle"),
                         ("0.0.0.0", "zero-address"), ("a=ice-lite", "ice-lite"), ("a=rtpengine", "loop-token")):
        if marker in s:
            out.append("sdp:" + name)
    return out


def case_features(msg, earlier):
    """A request's own features plus those of the offers/answers before it in its
    case (a query's difference usually comes from how the call was set up)."""
    out = set(features(msg))
    for prev in earlier:
        cmd = _t(prev.get("command", ""))
        if cmd in ("offer", "answer", "publish", "subscribe request"):
            out.update("%s.%s" % (cmd, f) for f in features(prev))
    return out


class Triage:
    def __init__(self):
        self.per_command = Counter()
        self.feature_count = {}
        self.classes = {}

    def request(self, command, feats):
        self.per_command[command] += 1
        self.feature_count.setdefault(command, Counter()).update(feats)

    def difference(self, cls, command, feats, record):
        entry = self.classes.setdefault(cls, {"command": command, "requests": 0, "features": Counter(),
                                              "example": record})
        entry["requests"] += 1
        entry["features"].update(feats)

    def likely(self, entry, top=2):
        """Features much more frequent among this class's requests than among all
        requests of the same command."""
        n, cmd = entry["requests"], entry["command"]
        total = self.per_command[cmd] or 1
        scored = []
        for f, c in entry["features"].items():
            share = c / n
            base = self.feature_count.get(cmd, Counter())[f] / total
            if share >= 0.5 and base > 0 and share / base >= 1.5:
                scored.append((share / base, share, f))
        scored.sort(reverse=True)
        return ["%s (%d%%)" % (f, round(share * 100)) for _, share, f in scored[:top]]

    def rows(self):
        return sorted(self.classes.items(), key=lambda kv: (-kv[1]["requests"], kv[0]))
