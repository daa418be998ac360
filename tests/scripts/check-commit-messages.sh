#!/usr/bin/env bash
# Tests scripts/check-commit-messages on a throwaway git repository with good and bad
# commits. Ends with `scripts: N passed, M failed`; exit 1 when a check failed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
check=$root/scripts/check-commit-messages

repo=$(mktemp -d) outside=$(mktemp -d)
trap 'rm -rf "$repo" "$outside"' EXIT
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
# No global git configuration may change the commits (identity, signing, hooks).
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org
export GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
cd "$repo" && git init -q -b main . || exit 1

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $1"; }

# commit MESSAGE: an empty commit with exactly this message; prints its hash.
commit() {
    git commit -q --allow-empty --allow-empty-message --cleanup=verbatim -m "$1" &&
        git rev-parse HEAD
}

# verdict NAME MESSAGE WANT: commits MESSAGE alone and checks it passes (WANT=pass) or
# fails with a line containing WANT.
verdict() {
    local name=$1 msg=$2 want=$3 c out rc
    c=$(commit "$msg") || { not_ok "$name (commit)"; return; }
    out=$("$check" "$c~1..$c" 2>&1); rc=$?
    if [ "$want" = pass ]; then
        [ $rc = 0 ] && grep -q '^commits: 1 passed, 0 failed$' <<<"$out" &&
            ok "$name" || not_ok "$name: expected a pass, got: $out"
    else
        [ $rc = 1 ] && grep -q '^commits: 0 passed, 1 failed$' <<<"$out" &&
            grep -q "^FAIL ${c:0:7} .*$want" <<<"$out" &&
            ok "$name" || not_ok "$name: expected '$want', got: $out"
    fi
}

root_commit=$(commit "Start the repository") || exit 1
s72=$(printf 'Add %068d' 0)          # 72 characters
s73=$(printf 'Add %069d' 0)
u72="Add µ→ $(printf '%065d' 0)"    # 72 characters, 76 bytes

verdict "imperative subject with body" $'Add the relay engine\n\nSignalling and media shared state.' pass
verdict "subject alone" "Fix the port range check" pass
verdict "72 characters" "$s72" pass
verdict "72 characters of multibyte text" "$u72" pass
verdict "area prefix" $'relay: drop stale kernel decisions\n\nWhy.' pass
verdict "deny word inside the subject" "Fix what was added by the fixed-size pool" pass
verdict "73 characters" "$s73" "73 characters"
verdict "trailing period" "Add the relay engine." "ends with a period"
verdict "past tense" "Added the relay engine" "opens with 'added'"
verdict "lowercase past tense" "fixed the port range" "opens with 'fixed'"
verdict "gerund" "Updating the README" "opens with 'updating'"
verdict "past tense after an area prefix" "relay: removed the generation counter" "opens with 'removed'"
verdict "second line not blank" $'Add the relay\nengine and its tests\n\nWhy.' "second line is not blank"
verdict "empty message" "" "empty subject"

# A range: the 14 commits above (6 good, 8 bad) after the root commit.
out=$("$check" "$root_commit..HEAD" 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^commits: 6 passed, 8 failed$' <<<"$out" &&
    ok "range counts" || not_ok "range counts: $out"

# Default range starts after the base: a no-op success when the base is HEAD.
out=$(CHECK_COMMITS_BASE=$(git rev-parse HEAD) "$check" 2>&1); rc=$?
[ $rc = 0 ] && [ "$out" = "commits: 0 passed, 0 failed" ] &&
    ok "base is HEAD" || not_ok "base is HEAD: rc $rc, $out"

out=$(CHECK_COMMITS_BASE=HEAD~2 "$check" 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^commits: 0 passed, 2 failed$' <<<"$out" &&
    ok "default range after the base" || not_ok "default range after the base: $out"

out=$(CHECK_COMMITS_BASE=0123456789abcdef0123456789abcdef01234567 "$check" 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'not in this repository' <<<"$out" &&
    ok "missing base is an error" || not_ok "missing base is an error: rc $rc, $out"

# A shallow clone of the last two commits (both bad) without the base checks both.
git clone -q --depth 2 "file://$repo" "$outside/shallow" || exit 1
out=$(cd "$outside/shallow" && CHECK_COMMITS_BASE=$root_commit "$check" 2>&1); rc=$?
[ $rc = 1 ] && grep -q '^commits: 0 passed, 2 failed$' <<<"$out" && grep -q 'shallow clone' <<<"$out" &&
    ok "shallow clone without the base" || not_ok "shallow clone without the base: rc $rc, $out"

out=$("$check" "nosuch..HEAD" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "bad revision range" <<<"$out" &&
    ok "bad range is an error" || not_ok "bad range is an error: rc $rc, $out"

out=$(cd "$outside" && "$check" 2>&1); rc=$?
[ $rc = 2 ] && grep -q "not inside a git work tree" <<<"$out" &&
    ok "outside a repository is an error" || not_ok "outside a repository: rc $rc, $out"

echo "scripts: $passed passed, $failed failed"
[ "$failed" = 0 ]
