"""Normalisation and comparison of ng replies for ng_live_diff.py.

Two daemons started side by side must differ in a few values on every run; those,
and only those, are renamed before the replies are compared:

- media ports a daemon allocated (in its own port range, and not written in a
  request of the case): m= ports, a=rtcp ports, a=candidate ports and rports,
  and integers under keys ending in `port` -> PORT1, PORT2... by first
  appearance within the case of the port *on its address* (the c= address of
  the media, the address of the a=rtcp or a=candidate line, with the
  foundation when interfaces advertise the same address, the sibling
  `address`/`local address` key); an odd port right after an even port
  already named X on the same address is named X+1 (an RTP/RTCP pair). 10.5
  keeps a port pool per address and starts each search 6 to 19 ports on at
  random, so the numbers themselves, and whether two addresses happen to use
  the same number in one call, vary from run to run; which streams share a
  port, pairs, and ports kept across a re-offer are still compared;
- ICE credentials and candidate foundations the daemon invented (a=ice-ufrag,
  a=ice-pwd, the foundation of a=candidate) -> UFRAG1, PWD1, FOUNDATION1...;
  candidate priorities are compared as they are (they are computed, not drawn);
- DTLS: the a=fingerprint digest and a=tls-id value -> FINGERPRINT1, TLSID1
  (the hash name stays);
- SDES: the inline key of a=crypto -> KEY1(len=N) (suite, lifetime and MKI stay);
- SSRCs the daemon invented: a=ssrc / a=ssrc-group numbers and the keys of a
  query's `SSRC` dictionary -> SSRC1...;
- the o= session id and version when not copied from a request -> SESSID1, VERSION1;
- the loop-protect token (a=rtpengine:) -> LOOP1;
- tags the daemon invented (values of `tag`, `to-tag`, `from-tag`, `from-tags`,
  `in dialogue with`, keys of `tags`, not found in a request of the case) -> TAG1...;
- timestamps: `created`, `created_us`, `last signal`, `last packet`,
  `last redis update`, `uptime` -> <time>;
- in `statistics`: durations, delays and rates (values under keys containing
  `duration`, `delay`, `rate`, and `avgcallduration`), and the port range
  bounds and last allocated port of `interfaces` -> <measured> / <range>;
  the `transcoders` list is not compared at all (see NOT_COMPARED).

A value copied from a request (ICE credentials, keys, SSRCs, tags, ports of the
offerer) is never renamed, so a daemon that invents where the other copies shows
up as a difference. Everything else is compared byte for byte.
"""
import difflib
import re

# The `transcoders` list of `statistics` counts the transcoders of every call
# since the start, earlier cases' included; we run none (README, "Deliberate
# differences"), so after the first case 10.5 transcoded it would differ in
# every later `statistics` whatever that case did.
NOT_COMPARED = "<not compared>"
TIME_KEYS = {"created", "created_us", "last signal", "last packet", "last redis update", "uptime"}
TAG_KEYS = {"tag", "to-tag", "from-tag", "in dialogue with"}


class Names:
    """Per case and per daemon: invented value -> stable name by first appearance."""

    def __init__(self, port_range):
        self.port_range = port_range
        self.known = {}
        self.request_text = ""
        self.request_values = set()

    def add_request(self, msg):
        def walk(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    self.request_values.add(k)
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)
            elif isinstance(v, (bytes, str)):
                s = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
                self.request_values.add(s)
                self.request_text += "\n" + s
            elif isinstance(v, int):
                self.request_values.add(str(v))
        walk(msg)

    def name(self, kind, value):
        key = (kind, value)
        if key not in self.known:
            n = sum(1 for k in self.known if k[0] == kind) + 1
            self.known[key] = "%s%d" % (kind, n)
        return self.known[key]

    def in_request(self, token):
        return re.search(r"(?<![\w+/=])%s(?![\w+/=])" % re.escape(token), self.request_text) is not None

    def port(self, value, addr=None):
        """The name of an allocated port on address `addr` (None: unknown)."""
        try:
            p = int(value)
        except (TypeError, ValueError):
            return value
        lo, hi = self.port_range
        key = ("PORT", (addr, p))
        if key in self.known:
            return self.known[key]
        if addr is not None and ("PORT", (None, p)) in self.known:
            # First seen without its address (a key with no sibling address).
            return self.known[("PORT", (None, p))]
        if lo <= p <= hi and not self.in_request(str(p)):
            below = self.known.get(("PORT", (addr, p - 1)))
            if p & 1 and below is not None and "+" not in below:
                self.known[key] = below + "+1"
            else:
                n = sum(1 for k, v in self.known.items() if k[0] == "PORT" and "+" not in v) + 1
                self.known[key] = "PORT%d" % n
            return self.known[key]
        return value

    def invented(self, kind, value):
        # Named when a reply showed it first: a later request echoing it (the
        # to-tag of a subscription) does not make it the client's.
        if (kind, value) in self.known:
            return self.known[(kind, value)]
        if value in self.request_values or self.in_request(value):
            return value
        return self.name(kind, value)


def section_addresses(lines):
    """The connection address in force on each line: the media's c= (it
    follows the m= line), else the session's."""
    session, sections = None, []
    for line in lines:
        line = line.rstrip("\r")
        if line.startswith("m="):
            sections.append(None)
        m = re.match(r"^c=IN IP[46] ([^/\s]+)", line)
        if m:
            if sections:
                sections[-1] = m.group(1)
            else:
                session = m.group(1)
    out, i = [], -1
    for line in lines:
        if line.startswith("m="):
            i += 1
        out.append(sections[i] if i >= 0 and sections[i] else session)
    return out


def shared_candidate_addresses(lines):
    """Candidate addresses used with more than one foundation: interfaces that
    advertise the same address (`media-address`); their ports are told apart
    by foundation."""
    seen = {}
    for line in lines:
        m = re.match(r"^a=candidate:(\S+) \S+ \S+ \S+ (\S+) ", line)
        if m:
            seen.setdefault(m.group(2), set()).add(m.group(1))
    return {a for a, f in seen.items() if len(f) > 1}


def normalise_sdp(text, names):
    out = []
    lines = text.split("\n")
    shared = shared_candidate_addresses(lines)
    for line, addr in zip(lines, section_addresses(lines)):
        cr = "\r" if line.endswith("\r") else ""
        line = line[:-1] if cr else line
        out.append(normalise_sdp_line(line, names, addr, shared) + cr)
    return "\n".join(out)


def normalise_sdp_line(line, names, addr=None, shared=()):
    m = re.match(r"^(m=\S+ )(\d+)(.*)$", line)
    if m:
        return m.group(1) + str(names.port(m.group(2), addr)) + m.group(3)
    m = re.match(r"^a=rtcp:(\d+)(.*)$", line)
    if m:
        a = re.match(r"^ IN IP[46] (\S+)", m.group(2))
        return "a=rtcp:%s%s" % (names.port(m.group(1), a.group(1) if a else addr), m.group(2))
    m = re.match(r"^a=candidate:(\S+) (\S+) (\S+) (\S+) (\S+) (\d+)(.*)$", line)
    if m:
        raddr = re.search(r"raddr (\S+)", m.group(7))
        rest = re.sub(r"(rport )(\d+)", lambda r: r.group(1) + str(
            names.port(r.group(2), raddr.group(1) if raddr else None)), m.group(7))
        return "a=candidate:%s %s %s %s %s %s%s" % (
            names.invented("FOUNDATION", m.group(1)), m.group(2), m.group(3), m.group(4), m.group(5),
            names.port(m.group(6), m.group(5) + ("#" + m.group(1) if m.group(5) in shared else "")),
            rest)
    for attr, kind in (("a=ice-ufrag:", "UFRAG"), ("a=ice-pwd:", "PWD"), ("a=rtpengine:", "LOOP"),
                       ("a=tls-id:", "TLSID")):
        if line.startswith(attr):
            return attr + names.invented(kind, line[len(attr):])
    m = re.match(r"^a=fingerprint:(\S+) (\S+)(.*)$", line)
    if m:
        return "a=fingerprint:%s %s%s" % (m.group(1), names.invented("FINGERPRINT", m.group(2)), m.group(3))
    m = re.match(r"^(a=crypto:\S+ \S+ inline:)([^|\s]+)(.*)$", line)
    if m:
        key = m.group(2)
        if not names.in_request(key):
            key = "%s(len=%d)" % (names.name("KEY", key), len(key))
        return m.group(1) + key + m.group(3)
    m = re.match(r"^a=ssrc:(\d+)(.*)$", line)
    if m:
        return "a=ssrc:%s%s" % (names.invented("SSRC", m.group(1)), m.group(2))
    m = re.match(r"^a=ssrc-group:(\S+)((?: \d+)+)$", line)
    if m:
        return "a=ssrc-group:%s %s" % (m.group(1), " ".join(
            names.invented("SSRC", s) for s in m.group(2).split()))
    m = re.match(r"^o=(\S+) (\S+) (\S+)( .*)$", line)
    if m:
        return "o=%s %s %s%s" % (m.group(1), names.invented("SESSID", m.group(2)),
                                 names.invented("VERSION", m.group(3)), m.group(4))
    return line


def _text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def normalise(value, names, key=None, parent=None, addr=None):
    """Returns a JSON-able copy of a reply with the invented values renamed."""
    if isinstance(value, dict):
        here = value.get("local address", value.get("address"))
        here = _text(here) if isinstance(here, (bytes, str)) else None
        out = {}
        for k in sorted(value):
            nk = k
            if key == "statistics" and k == "transcoders":
                out[k] = NOT_COMPARED
                continue
            if key == "tags" and not k.startswith("<untagged"):
                nk = names.invented("TAG", k)
            elif key == "SSRC":
                nk = names.invented("SSRC", k)
            out[nk] = normalise(value[k], names, k, key, here)
        return out
    if isinstance(value, list):
        if key == "from-tags":
            return [names.invented("TAG", _text(v)) if isinstance(v, bytes) else v for v in value]
        return [normalise(v, names, key, parent) for v in value]
    if isinstance(value, bytes):
        s = _text(value)
        if key == "sdp":
            return normalise_sdp(s, names)
        if key in TAG_KEYS:
            return names.invented("TAG", s)
        if key in TIME_KEYS or _measured(key):
            return "<time>" if key in TIME_KEYS else "<measured>"
        return s
    if isinstance(value, int):
        if key in TIME_KEYS:
            return "<time>"
        if _measured(key):
            return "<measured>"
        if parent == "ports" and key in ("min", "max", "last"):
            return "<range>"
        if key is not None and key.endswith("port"):
            return names.port(value, addr)
        return value
    return value


def _measured(key):
    return key is not None and (key == "avgcallduration" or "duration" in key or "delay" in key
                                or "rate" in key or key == "used_pct")


def compare(ref, ours, path=""):
    """Yields (path, ref value, our value) for every difference of two normalised replies."""
    if isinstance(ref, dict) and isinstance(ours, dict):
        for k in sorted(set(ref) | set(ours)):
            p = "%s.%s" % (path, k) if path else k
            if k not in ours:
                yield p, ref[k], "<missing>"
            elif k not in ref:
                yield p, "<missing>", ours[k]
            elif k == "sdp" and isinstance(ref[k], str) and isinstance(ours[k], str):
                yield from compare_sdp(ref[k], ours[k], p)
            else:
                yield from compare(ref[k], ours[k], p)
    elif isinstance(ref, list) and isinstance(ours, list):
        if all(not isinstance(x, (dict, list)) for x in ref + ours):
            if ref != ours:
                yield path, ref, ours
            return
        for i in range(min(len(ref), len(ours))):
            yield from compare(ref[i], ours[i], "%s[%d]" % (path, i))
        if len(ref) != len(ours):
            yield "%s.length" % path, len(ref), len(ours)
    elif ref != ours:
        yield path, ref, ours


def compare_sdp(ref, ours, path):
    a, b = ref.split("\n"), ours.split("\n")
    # Lines are aligned with port names masked: a port numbered differently
    # must not shift the alignment (and be reported as other lines missing).
    masked = [[re.sub(r"PORT\d+(\+1)?", "PORT", line) for line in side] for side in (a, b)]
    sm = difflib.SequenceMatcher(a=masked[0], b=masked[1], autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                if a[i1 + k] != b[j1 + k]:
                    yield "%s[line %d]" % (path, i1 + k + 1), a[i1 + k].rstrip("\r"), b[j1 + k].rstrip("\r")
            continue
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            x = left[k].rstrip("\r") if k < len(left) else "<missing>"
            y = right[k].rstrip("\r") if k < len(right) else "<missing>"
            yield "%s[line %d]" % (path, i1 + k + 1), x, y


def diff_class(command, path, ref, ours):
    """A coarse name for grouping differences: command, generalised path, SDP line kind."""
    if isinstance(ref, str) and isinstance(ours, str) and ref != ours and \
            re.sub(r"PORT\d+", "PORT", ref) == re.sub(r"PORT\d+", "PORT", ours):
        # Only the names of allocated ports differ: a port one daemon allocated and
        # the other did not, earlier in the case, shifted the numbering.
        return "%s %s: port numbering only" % (command, "sdp" if "[line " in path else "local port")
    general = re.sub(r"\[\d+\]", "[]", path)
    general = re.sub(r"^tags\.[^.]+", "tags.*", general)
    general = re.sub(r"\.SSRC\.[^.]+", ".SSRC.*", general)
    if "[line " in path:
        def kind(v):
            if not isinstance(v, str) or v == "<missing>":
                return None
            m = re.match(r"^(a=[\w.-]+|[a-z]=)(?:\S*)", v)
            return m.group(1) if m else v[:12]
        kr, ko = kind(ref), kind(ours)
        if kr and ko and kr == ko:
            what = "changed %s" % kr
        elif kr and ko:
            what = "%s instead of %s" % (ko, kr)
        elif kr:
            what = "missing %s" % kr
        else:
            what = "extra %s" % ko
        return "%s sdp: %s" % (command, what)
    if ref == "<missing>":
        return "%s %s: extra key" % (command, general)
    if ours == "<missing>":
        return "%s %s: missing key" % (command, general)
    return "%s %s: value" % (command, general)
