"""Shrinking a differing case to a minimal one (ng_live_diff.py --shrink).

A case differs from 10.5 with some first counted difference (ng_diff_gate.py).
The shrinker drops what does not matter to that difference, greedily, and
keeps each drop that leaves the same first difference: steps after the one that
differs, then whole earlier steps, then keys of the steps (never `command`,
`call-id`, `from-tag`, `to-tag`; an SDP body is kept whole, its lines are not
cut). Steps computed from earlier replies (callables) are kept as they are.
The result is printed as JSON, ready to become a case of ng_diff_cases.py.
"""

KEEP = {"command", "call-id", "from-tag", "to-tag", "sdp"}


def shrink(steps, first_difference, log=print):
    """`first_difference(steps)` -> (step number, class) of the first counted
    difference, or None when the steps match 10.5. Returns the smallest steps
    found that keep the class of the original's first difference."""
    found = first_difference(steps)
    if found is None:
        return None
    target = found[1]

    def same(trial):
        got = first_difference(trial)
        return got is not None and got[1] == target

    steps = list(steps[:found[0]])
    log("shrinking to keep: %s" % target)
    changed = True
    while changed:
        changed = False
        for i in range(len(steps) - 1):
            trial = steps[:i] + steps[i + 1:]
            if same(trial):
                log("  dropped step %d" % (i + 1))
                steps, changed = trial, True
                break
        for i, step in enumerate(steps):
            if callable(step):
                continue
            for key in [k for k in step if k not in KEEP]:
                smaller = {k: v for k, v in step.items() if k != key}
                trial = steps[:i] + [smaller] + steps[i + 1:]
                if same(trial):
                    log("  dropped %r of step %d" % (key, i + 1))
                    steps[i], step, changed = smaller, smaller, True
    return steps
