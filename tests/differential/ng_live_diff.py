#!/usr/bin/env python3
"""Live differential test of the ng protocol: Debian's rtpengine 10.5 against rtpengined.

    python3 tests/differential/ng_live_diff.py [RTPENGINED] [--corpus] [--commands]
        [--generate N --seed S] [--only REGEX] [--max-diffs N] [--json FILE]

Starts both daemons on loopback (10.5: ng 127.0.0.1:21490, media ports 30000-30999;
ours: ng 127.0.0.1:21491, media ports 31000-31999; both `--table=-1`, interfaces
127.0.0.1, ::1, internal/127.0.0.2, external/127.0.0.3, `--delete-delay=0`,
log level 1), sends each case's requests to both in the same order (each case is
its own call, with the same call-id on both), and compares the whole replies
after renaming what must differ run to run (see ng_diff_normalise.py). Without
--corpus/--commands/--generate it runs the corpus and the command corpus.

Prints every difference with the request that caused it, then
`differential: N identical, M different` (requests). Exit status 0 whatever the
result: this measures, it does not gate, unless --gate names the known
differences (then it fails on any other; see ng_diff_gate.py and ./run).
"""
import argparse
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ng_client import NgClient  # noqa: E402
import ng_diff_cases  # noqa: E402
import ng_diff_generator  # noqa: E402
from ng_diff_normalise import Names, compare, diff_class, normalise  # noqa: E402
from ng_diff_triage import Triage, case_features  # noqa: E402
import ng_diff_gate  # noqa: E402
import ng_diff_shrink  # noqa: E402

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
INTERFACES = ["127.0.0.1", "::1", "internal/127.0.0.2", "external/127.0.0.3"]
# Media ports below Linux's ephemeral range (32768-60999): a socket some
# process binds to port 0 must not take a port the daemons would allocate next,
# or which ports a call gets (and so its replies) would vary from run to run.
REF = {"name": "10.5", "ng": 21490, "ports": (30000, 30999)}
OURS = {"name": "ours", "ng": 21491, "ports": (31000, 31999)}


def use_slot(slot):
    """Moves both daemons' ng and media ports out of the way of another run."""
    for spec in (REF, OURS):
        spec["ng"] += 10 * slot
        lo, hi = spec["ports"]
        spec["ports"] = (lo - 2000 * slot, hi - 2000 * slot)


# What both daemons share beyond the recording options: no delayed deletion, so
# that `list` shows only the call of the case and ports never run out; quiet logs;
# one software id (the s= line of the SDPs both make up: publish, subscriptions).
COMMON = ["--table=-1", "--delete-delay=0", "--log-level=1", "--foreground", "--log-stderr",
          "--software-id=rtpengine-ng-diff"] + [
    "--interface=" + i for i in INTERFACES]


class Daemon:
    def __init__(self, spec, binary, extra, logdir):
        self.spec, self.binary, self.extra = spec, binary, extra
        self.log = os.path.join(logdir, spec["name"] + ".log")
        self.proc = None
        self.client = None

    def start(self):
        lo, hi = self.spec["ports"]
        cmd = [self.binary] + self.extra + COMMON + [
            "--listen-ng=127.0.0.1:%d" % self.spec["ng"], "--port-min=%d" % lo, "--port-max=%d" % hi]
        self.proc = subprocess.Popen(cmd, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        if self.client is None:
            self.client = NgClient(port=self.spec["ng"], timeout=0.2)
        self.client.sock.settimeout(0.2)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit("%s exited at start (%s), log: %s" % (self.spec["name"], self.proc.returncode, self.log))
            try:
                self.client.request({"command": "ping"})
                break
            except (socket.timeout, OSError, RuntimeError):
                time.sleep(0.1)
        else:
            sys.exit("%s does not answer ping on %d" % (self.spec["name"], self.spec["ng"]))
        # One client per daemon for the whole run: its cookie counter must never
        # repeat, or 10.5 answers with the cached reply of a "retransmission".
        self.client.sock.settimeout(3.0)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(self, msg):
        """The reply, or a marker dict when there is none (timeout, crash)."""
        try:
            return self.client.request(msg)
        except socket.timeout:
            return {"<no reply>": "timeout" if self.alive() else "daemon exited"}
        except Exception as exc:  # garbled reply: report it as the reply
            return {"<no reply>": "%s: %s" % (type(exc).__name__, exc)}


def text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def summary(msg):
    """The request as printed with a difference: command and keys, SDP as its m= lines."""
    parts = []
    for k, v in msg.items():
        if k == "sdp":
            s = text(v) if isinstance(v, (bytes, str)) else repr(v)
            media = [ln.strip() for ln in s.split("\n") if ln.startswith("m=")]
            parts.append("sdp=<%d bytes%s>" % (len(s), (": " + " | ".join(media)) if media else ""))
        elif k != "command":
            parts.append("%s=%s" % (k, json.dumps(jsonable(v), separators=(",", ":"))))
    return "%s {%s}" % (text(msg.get("command", "<none>")), ", ".join(parts))


def jsonable(v):
    if isinstance(v, bytes):
        return text(v)
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    return v


def prepare(step, replies, call_id):
    msg = step(replies) if callable(step) else dict(step)
    if "call-id" not in msg:
        msg["call-id"] = call_id
    elif msg["call-id"] is ng_diff_cases.NO_CALL_ID:
        del msg["call-id"]
    return msg


def run_case(index, name, steps, ref, ours, report):
    # From the name only (names are unique; a shrinker's trial adds its
    # number): adding a case must not change the call-ids of the others, on
    # which our round-robin-calls choices depend.
    call_id = ("ngd-%s" % re.sub(r"[^\w.-]", "_", name))[:120]
    if index >= 100000:
        call_id += "-%d" % index
    names = {"ref": Names(REF["ports"]), "ours": Names(OURS["ports"])}
    replies = {"ref": [], "ours": []}
    from_tags = set()
    for n, step in enumerate(steps):
        msgs = {side: prepare(step, replies[side], call_id) for side in ("ref", "ours")}
        for side, d in (("ref", ref), ("ours", ours)):
            names[side].add_request(msgs[side])
            replies[side].append(d.request(msgs[side]))
        ft = msgs["ref"].get("from-tag")
        if isinstance(ft, (str, bytes)):
            from_tags.add(ft)
        a = normalise(replies["ref"][-1], names["ref"])
        b = normalise(replies["ours"][-1], names["ours"])
        report.add(name, n + 1, msgs["ref"], list(compare(a, b)),
                   case_features(msgs["ref"], [prepare(s, [], call_id) for s in steps[:n] if not callable(s)]))
        for side, d in (("ref", ref), ("ours", ours)):
            if not d.alive():
                print("NOTE %s died during %s step %d; restarting it" % (d.spec["name"], name, n + 1))
                d.start()
    # Clean up whatever the case left behind (not compared).
    for d in (ref, ours):
        for tag in from_tags or {"x"}:
            d.request({"command": "delete", "call-id": call_id, "from-tag": tag, "delete-delay": 0})


class Report:
    def __init__(self, max_diffs):
        self.max_diffs = max_diffs
        self.identical = self.different = self.printed = 0
        self.records = []
        self.triage_data = Triage()

    def add(self, case, step, msg, diffs, feats):
        command = text(msg.get("command", "<none>"))
        command = command if isinstance(command, str) else repr(command)
        self.triage_data.request(command, feats)
        if not diffs:
            self.identical += 1
            return
        self.different += 1
        request = summary(msg)
        seen = set()
        result = next(((a, b) for p, a, b in diffs if p == "result"), None)
        for path, a, b in diffs:
            cls = diff_class(command, path, a, b)
            if result is not None:
                # ok against error: the other keys differ as a consequence.
                reason = next((v for p, _, v in diffs if p == "error-reason"), None) or next(
                    (v for p, v, _ in diffs if p == "error-reason"), "")
                cls = "%s result: 10.5 %s, ours %s %s" % (command, result[0], result[1], short(reason, 80))
            rec = {"case": case, "step": step, "request": request, "path": path, "class": cls,
                   "ref": a, "ours": b, "full_request": jsonable(msg)}
            self.records.append(rec)
            if cls not in seen:
                self.triage_data.difference(cls, command, feats, rec)
                seen.add(cls)
        if self.max_diffs is None or self.printed < self.max_diffs:
            print("DIFF %s #%d %s" % (case, step, request))
            for path, a, b in diffs:
                if self.max_diffs is not None and self.printed >= self.max_diffs:
                    print("  ... (--max-diffs reached)")
                    break
                self.printed += 1
                print("  %s: 10.5=%s ours=%s" % (path, short(a), short(b)))

    def triage(self, markdown=None):
        rows = self.triage_data.rows()
        print("\nDifference classes (requests, class, example case, likely keys):")
        for cls, entry in rows:
            ex = entry["example"]
            likely = ", ".join(self.triage_data.likely(entry)) or "-"
            print("  %5d  %s   [%s #%d]  {%s}" % (entry["requests"], cls, ex["case"], ex["step"], likely))
        if markdown:
            with open(markdown, "w") as f:
                f.write("| requests | class | likely keys | example (10.5 / ours) |\n|---:|---|---|---|\n")
                for cls, entry in rows:
                    ex = entry["example"]
                    cell = "`%s` %s: %s / %s" % (ex["case"], ex["path"], short(ex["ref"], 60), short(ex["ours"], 60))
                    f.write("| %d | %s | %s | %s |\n" % (entry["requests"], cls.replace("|", "\\|"), ", ".join(
                        self.triage_data.likely(entry)).replace("|", "\\|") or "-", cell.replace("|", "\\|")))


def short(v, limit=300):
    s = json.dumps(v) if not isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def shrink_case(name, cases, ref, ours, keep):
    """--shrink: runs trials of one case until no part of it can go."""
    steps = dict(cases).get(name)
    if steps is None:
        print("no case %s among the selected cases" % name)
        return 1
    trials = [0]

    def first_difference(trial):
        trials[0] += 1
        report = Report(0)
        run_case(100000 + trials[0], name, trial, ref, ours, report)
        first = [r for r in report.records if not r["class"].endswith(ng_diff_gate.IGNORED)]
        if not first:
            return None
        r = min(first, key=lambda r: r["step"])
        return r["step"], r["class"]

    small = ng_diff_shrink.shrink(steps, first_difference)
    if small is None:
        print("%s matches 10.5: nothing to shrink" % name)
        return 0
    print("minimal case after %d trials (%d steps):" % (trials[0], len(small)))
    text = lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else repr(v)  # noqa: E731
    print(json.dumps([s if not callable(s) else "<computed step>" for s in small], indent=1, default=text))
    if keep:
        if any(callable(s) for s in small):
            print("not kept: a step is computed from earlier replies")
            return 1
        kept = []
        if os.path.exists(ng_diff_cases.REGRESSIONS):
            with open(ng_diff_cases.REGRESSIONS) as f:
                kept = json.load(f)
        kept = [c for c in kept if c["name"] != "reg/" + name]
        kept.append({"name": "reg/" + name, "steps": small})
        with open(ng_diff_cases.REGRESSIONS, "w") as f:
            json.dump(kept, f, indent=1, default=text)
            f.write("\n")
        print("kept as reg/%s in %s" % (name, ng_diff_cases.REGRESSIONS))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rtpengined", nargs="?", default=os.path.join(REPO, "target", "release", "rtpengined"))
    ap.add_argument("--reference", default="/usr/bin/rtpengine")
    ap.add_argument("--corpus", action="store_true", help="the recorded corpora (sdp, webrtc, Kamailio)")
    ap.add_argument("--commands", action="store_true", help="the per-command corpus")
    ap.add_argument("--generate", type=int, metavar="N", help="N generated requests")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", metavar="REGEX", help="cases whose name matches")
    ap.add_argument("--max-diffs", type=int, metavar="N", help="print at most N difference lines")
    ap.add_argument("--json", metavar="FILE", help="write every difference to FILE")
    ap.add_argument("--no-triage", action="store_true")
    ap.add_argument("--keep-logs", action="store_true", help="keep the daemons' logs (printed path)")
    ap.add_argument("--triage-md", metavar="FILE", help="write the class table as markdown")
    ap.add_argument("--gate", metavar="FILE",
                    help="fail on a case that differs and is not listed in FILE (ng_diff_gate.py); "
                         "ends with `ng-diff: N passed, M failed`")
    ap.add_argument("--update-gate", action="store_true", help="rewrite the --gate file from this run")
    ap.add_argument("--shrink", metavar="CASE",
                    help="shrink this differing case (name, with the options that generate it) to a "
                         "minimal one that keeps its first difference, and print it (ng_diff_shrink.py)")
    ap.add_argument("--keep", action="store_true",
                    help="with --shrink: add the minimal case to regressions.json (as reg/CASE)")
    ap.add_argument("--slot", type=int, default=0, choices=range(8),
                    help="port slot, so that several runs can share a machine: ng ports 21490+10*SLOT "
                         "and +1, media ports shifted down by 2000*SLOT")
    args = ap.parse_args()

    cases = []
    if args.corpus or not (args.commands or args.generate):
        cases += list(ng_diff_cases.corpus_cases())
    if args.commands or not (args.corpus or args.generate):
        cases += ng_diff_cases.command_cases()
    if args.corpus or not (args.commands or args.generate):
        cases += list(ng_diff_cases.regression_cases())
    if args.generate:
        cases += ng_diff_generator.generate(args.generate, args.seed)
    if args.only:
        cases = [c for c in cases if re.search(args.only, c[0])]

    use_slot(args.slot)
    logdir = tempfile.mkdtemp(prefix="ng-live-diff-")
    # 10.5 also reads /etc/rtpengine/rtpengine.conf, whose CLI and HTTP ports
    # would clash with another run's: give it ports of its slot.
    ref = Daemon(REF, args.reference, ["--listen-cli=127.0.0.1:%d" % (REF["ng"] + 2),
                                       "--listen-http=127.0.0.1:%d" % (REF["ng"] + 3)], logdir)
    ours = Daemon(OURS, args.rtpengined, ["--config-file=none"], logdir)

    def cleanup(*_):
        ours.stop()
        ref.stop()
        if not args.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)

    def on_signal(signum, _frame):
        cleanup()
        sys.exit(128 + signum)

    atexit.register(cleanup)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    ref.start()
    ours.start()
    print("%d cases%s" % (len(cases), "; logs in " + logdir if args.keep_logs else ""))

    if args.shrink:
        return shrink_case(args.shrink, cases, ref, ours, args.keep)

    report = Report(args.max_diffs)
    for index, (name, steps) in enumerate(cases):
        run_case(index, name, steps, ref, ours, report)
    cleanup()

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.records, f, indent=1)
    if not args.no_triage:
        report.triage(args.triage_md)
    print("differential: %d identical, %d different" % (report.identical, report.different))
    if args.gate:
        names = [name for name, _ in cases]
        if args.update_gate:
            different = ng_diff_gate.counted(report.records)
            ng_diff_gate.write_known(args.gate, different, [
                "Cases that differ from rtpengine 10.5, with their first difference (ng_diff_gate.py).",
                "Written by: tests/differential/run --update-gate"])
            print("wrote %d known differences to %s" % (len(different), args.gate))
        passed, failed = ng_diff_gate.check(names, report.records, ng_diff_gate.read_known(args.gate))
        print("ng-diff: %d passed, %d failed" % (passed, failed))
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
