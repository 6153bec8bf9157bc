#!/bin/bash
# Check the shape of README.md that people and CI rely on:
#   - a title, one intro paragraph, then the "Quick start" heading;
#   - exactly two ```sh blocks in the whole file, in Quick start: ./scripts/demo.sh, then
#     ./scripts/test.sh, and both scripts exist and are executable;
#   - the exit codes table lists 0 to 5, as the man page does;
#   - nothing of later landings is described as available (they appear only under "Planned").
#
# Usage: check_readme.sh [SOURCE_DIR]     exit 0: passed, 1: failed.

set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
readme=$src/README.md
[[ -r $readme ]] || { echo "FAIL: $readme is missing"; exit 1; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Title, one paragraph, Quick start.
opening=$(awk 'NF { print } /^## / { exit }' "$readme")
[[ $(sed -n 1p <<<"$opening") == "# tokenctl" ]] || fail "the first line is not '# tokenctl'"
[[ $(tail -n 1 <<<"$opening") == "## Quick start" ]] || fail "the first section is not '## Quick start'"
paragraphs=$(awk '/^## /{ exit } NR > 1 && NF && !inside { n++; inside = 1 } !NF { inside = 0 } END { print n + 0 }' "$readme")
[[ $paragraphs -eq 1 ]] || fail "expected one intro paragraph before Quick start, found $paragraphs"

# The two sh blocks: their bodies, in order, and where they are.
blocks=$(awk '/^```sh$/ { inside = 1; next } /^```/ { if (inside) print "--"; inside = 0; next } inside' \
    "$readme" | tr '\n' ' ')
[[ $blocks == "./scripts/demo.sh -- ./scripts/test.sh -- " ]] ||
    fail "the sh blocks are '$blocks', expected ./scripts/demo.sh then ./scripts/test.sh"
quick_start=$(awk '/^## Quick start$/ { inside = 1; next } /^## / { inside = 0 } inside' "$readme")
[[ $(grep -c '^```sh$' <<<"$quick_start") -eq 2 ]] || fail "the sh blocks are not both in Quick start"
for script in scripts/demo.sh scripts/test.sh; do
    [[ -x $src/$script ]] || fail "$script does not exist or is not executable"
done

# Exit codes 0..5.
for code in 0 1 2 3 4 5; do
    grep -q -E "^\| $code \| " "$readme" || fail "the exit codes table lacks $code"
done

# Later landings only under Planned.
available=$(awk '/^Planned:/ { skip = 1 } /^## / { skip = 0 } !skip' "$readme" |
    grep -n -E '`(revoke|netrc|exec|git-credential)|--device|--exec-credential' )
[[ -z $available ]] || fail "features of later landings outside 'Planned':"$'\n'"$available"

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "README: all checks passed"
