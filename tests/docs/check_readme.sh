#!/bin/bash
# Check the shape of README.md that people and CI rely on:
#   - a title, one intro paragraph, then the "Quick start" heading;
#   - exactly two ```sh blocks in the whole file, in Quick start: ./scripts/demo.sh, then
#     ./scripts/test.sh, and both scripts exist and are executable;
#   - the exit codes table lists 0 to 5, as the man page does;
#   - Usage has a section per way of signing in and per consumer (curl, .netrc, git, kubectl,
#     long jobs with exec, logging out), each with what its users rely on;
#   - Status lists every command of the program (as the bash completion knows them) under
#     "Works now", and no other Status list names one.
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

# Print the body of the "## $1" section, or of the "### $1" subsection.
section() {
    awk -v h2="## $1" -v h3="### $1" '
        $0 == h2 || $0 == h3 { inside = 1; level = ($0 == h2) ? 2 : 3; next }
        inside && /^## / { inside = 0 }
        inside && level == 3 && /^### / { inside = 0 }
        inside' "$readme"
}
has() { grep -q -F -e "$2" <<<"$1"; }
# expect_phrases HEADING PHRASE...: the (sub)section exists and says every phrase.
expect_phrases() {
    local heading=$1 body phrase
    shift
    body=$(section "$heading")
    [[ -n $body ]] || { fail "no section '$heading'"; return; }
    for phrase in "$@"; do
        has "$body" "$phrase" || fail "section '$heading' does not say '$phrase'"
    done
}

# Usage: its subsections, in order.
expected_usage="Interactive login|curl in scripts|CI with client credentials|\
Logging in without a browser on this machine|.netrc for curl and other tools (HTTP Basic)|git|\
kubectl|Long jobs: \`tokenctl exec\`|Logging out|"
got_usage=$(section Usage | sed -n 's/^### //p' | tr '\n' '|')
[[ $got_usage == "$expected_usage" ]] ||
    fail "the Usage subsections are '$got_usage', expected '$expected_usage'"

expect_phrases "Logging in without a browser on this machine" "tokenctl login -p corp --device" \
    "RFC 8628" device_authorization_endpoint "exit status 1" "tokenctl login -p corp --no-browser" \
    "paste it into the terminal" "standard input is a terminal" '`state`, `iss`'
expect_phrases ".netrc for curl and other tools (HTTP Basic)" "tokenctl netrc -p dev --write --file" \
    "curl --netrc-file" "**HTTP Basic**" "Databricks" 'user name `token`' "--login NAME" \
    netrc_login "cannot be used through \`.netrc\`" '`$NETRC`, else `~/.netrc`' '`0600`' \
    "atomically under a lock" "symlinked netrc is updated at its target" "4,000 bytes" "4,096 bytes"
expect_phrases "git" 'git config --global credential.https://git.example.com.helper "!tokenctl git-credential -p corp"' \
    "(or the profile's \`netrc_login\`)" password_expiry_utc "same protocol, host name and port" \
    '`store` and `erase` change nothing' "HTTP Basic"
expect_phrases "kubectl" "client.authentication.k8s.io/v1" ExecCredential "      apiVersion: client.authentication.k8s.io/v1" \
    "      command: tokenctl" "      args: [token, --exec-credential, -p, corp]" \
    "      interactiveMode: Never" "exit status 3"
expect_phrases "Long jobs: \`tokenctl exec\`" "tokenctl exec -p corp -- " BEARER_TOKEN_FILE \
    "WLCG bearer token discovery" '`$XDG_RUNTIME_DIR/tokenctl`' "then removes the" \
    "Signals" "exit status" "128 plus the signal number" 'Put `--` before the command'
expect_phrases "Logging out" "tokenctl revoke -p corp" "RFC 7009" "exit status is 4" \
    "nothing was revoked at the server" '`--local` only forgets' "JWT"

# Status: every command the program has works now, and no other list there names one.
commands=$(bash --norc --noprofile -c 'source "$1" && echo $_tokenctl_commands' _ \
    "$src/completions/tokenctl.bash")
[[ -n $commands ]] || fail "cannot read the commands of completions/tokenctl.bash"
works=$(section Status | awk '/^Works now:$/ { inside = 1; next } /^[A-Z][a-z ]*:$/ { inside = 0 } inside')
[[ -n $works ]] || fail "Status has no 'Works now:' list"
for feature in $commands --device --no-browser --exec-credential; do
    has "$works" "\`$feature" || has "$works" " $feature" ||
        fail "Status does not list '$feature' under 'Works now'"
done
others=$(section Status | awk '/^Works now:$/ { skip = 1; next } /^[A-Z][a-z ]*:$/ { skip = 0 } !skip')
for feature in $commands --device --exec-credential; do
    ! grep -q -E "\`(tokenctl )?$feature( |\`)" <<<"$others" ||
        fail "Status names '$feature' outside 'Works now'"
done

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "README: all checks passed"
