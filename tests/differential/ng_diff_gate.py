"""The regression gate over a live differential run (tests/differential/run).

Every case of the run is a test: it passes when its replies match 10.5's, or when
it is listed in the known-differences file (a difference we have not closed yet, or
a deliberate one); it fails when it differs and is not listed. Differences in which
ports were numbered alike only ("port numbering only") do not count: which ports a
call gets depends on which sockets the previous case's tasks had closed yet, and
10.5 reuses freed ports where we walk the range (README, "Deliberate differences").

The file holds one case per line, `case<TAB>first difference class`, sorted; `#`
starts a comment. `--update-gate` rewrites it from the run.
"""

IGNORED = "port numbering only"


def counted(records):
    """case -> the class of its first counted difference (by step)."""
    first = {}
    for r in sorted(records, key=lambda r: r["step"]):
        if r["class"].endswith(IGNORED):
            continue
        first.setdefault(r["case"], r["class"])
    return first


def read_known(path):
    known = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            case, _, cls = line.partition("\t")
            known[case] = cls
    return known


def write_known(path, different, header):
    with open(path, "w") as f:
        for h in header:
            f.write("# %s\n" % h)
        for case in sorted(different):
            f.write("%s\t%s\n" % (case, different[case].replace("\n", " ")))


def check(case_names, records, known):
    """Prints failures and fixed cases; returns (passed, failed)."""
    different = counted(records)
    passed = failed = 0
    for case in case_names:
        if case in different and case not in known:
            failed += 1
            print("FAIL %s: differs from 10.5 and is not a known difference: %s"
                  % (case, different[case]))
        else:
            passed += 1
            if case in known and case not in different:
                print("now identical: %s (remove it from the known differences: --update-gate)" % case)
    return passed, failed
