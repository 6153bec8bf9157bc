#!/bin/bash
# Check man/tokenctl.1:
#   - groff -man -ww -z prints nothing (no warning of any kind) and succeeds;
#   - the sections are there, in order, with one subsection per command;
#   - every option, profile key, variable, exit status and choice of this landing is described,
#     and the options are exactly those that completions/tokenctl.bash completes;
#   - nothing of later landings (revoke, netrc, exec, git-credential, --device,
#     --exec-credential) is documented yet.
#
# Usage: check_man.sh [SOURCE_DIR]     exit 0: passed, 1: failed, 77: groff is not installed.

set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
page=$src/man/tokenctl.1
completion=$src/completions/tokenctl.bash

if ! command -v groff >/dev/null; then
    echo "SKIP: groff is not installed (apt-get install groff-base)"
    exit 77
fi
[[ -r $page ]] || { echo "FAIL: $page is missing"; exit 1; }

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# 1. No warnings.
warnings=$(LC_ALL=C groff -man -ww -z "$page" 2>&1)
rc=$?
[[ $rc -eq 0 ]] || fail "groff -man -ww -z exited with $rc"
[[ -z $warnings ]] || fail "groff -man -ww -z printed:"$'\n'"$warnings"

# The page as plain text, with very long lines so that no phrase is broken by filling.
text=$(LC_ALL=C groff -man -Tascii -rLL=2000n -P-c -P-b -P-u -P-o "$page" 2>/dev/null)
[[ -n $text ]] || { fail "groff rendered nothing"; exit 1; }

# Print the body of section $1 (a line equal to the heading, up to the next heading).
section() {
    awk -v name="$1" '/^[A-Z][A-Z ]*$/ { inside = ($0 == name); next } inside' <<<"$text"
}
has() { grep -q -F -e "$2" <<<"$1"; }

# 2. Sections, in order.
expected_sections="NAME SYNOPSIS DESCRIPTION COMMANDS GLOBAL_OPTIONS CONFIGURATION TOKEN_CACHE
ENVIRONMENT FILES EXIT_STATUS SECURITY CHOICES EXAMPLES SEE_ALSO"
got_sections=$(grep -E '^[A-Z][A-Z ]*$' <<<"$text" | tr ' ' '_' | tr '\n' ' ')
[[ $(echo $got_sections) == $(echo $expected_sections) ]] ||
    fail "sections are '$got_sections', expected '$(echo $expected_sections)'"

commands=$(section COMMANDS)
for command in login token refresh list show; do
    grep -q -E "^   tokenctl $command( |$)" <<<"$commands" || fail "no subsection for '$command'"
done

# 3. Options: the synopsis and GLOBAL OPTIONS together name exactly what the completion offers.
documented=$( { section SYNOPSIS; section "GLOBAL OPTIONS"; } |
    grep -o -E '(^|[ [|,])--?[a-z][a-z-]*' | sed -E 's/^[ [|,]//' | sort -u | tr '\n' ' ')
completed=$(bash --norc --noprofile -c '
    source "$1" || exit 1
    for c in "" login token refresh list show; do
        printf "%s\n" $_tokenctl_global_options $(_tokenctl_command_options "$c")
    done' _ "$completion" | sort -u | tr '\n' ' ')
[[ -n $completed ]] || fail "cannot read the options of $completion"
[[ $documented == "$completed" ]] ||
    fail "options in the man page: '$documented'; in the bash completion: '$completed'"
for option in --host --client-id --scopes --account-id --port --no-browser --timeout --min-ttl \
    --header --all --reveal; do
    grep -q -E "^ +$option( |$)" <<<"$commands" || fail "option $option has no entry in COMMANDS"
done
global=$(section "GLOBAL OPTIONS")
for option in "-p, --profile NAME" "--config FILE" "--token-cache FILE" "-o, --output text|json" \
    "-v, --verbose" "-q, --quiet" "--version" "-h, --help"; do
    has "$global" "$option" || fail "GLOBAL OPTIONS does not describe '$option'"
done

# 4. Every profile key of the contract (but netrc_login, which comes with netrc), and the rules.
config=$(section CONFIGURATION)
for key in default_profile host client_id scopes redirect_port grant client_secret_env account_id \
    provider authorization_endpoint token_endpoint revocation_endpoint ca_file refresh_margin \
    auth_params; do
    grep -q -E "(^|[^a-z_])${key}([^a-z_]|$)" <<<"$config" || fail "CONFIGURATION does not name '$key'"
done
for phrase in "databricks-cli" '"all-apis", "offline_access"' "http://localhost:8020" \
    ".cloud.databricks.com" ".azuredatabricks.net" ".gcp.databricks.com" \
    "host/oidc/.well-known/oauth-authorization-server" "host/oidc/v1/authorize" \
    "host/oidc/accounts/account_id/v1/token" "/.well-known/openid-configuration" \
    "RFC 8414 section 3.3" "127.0.0.0/8" "FILE:LINE: message"; do
    has "$config" "$phrase" || fail "CONFIGURATION does not say '$phrase'"
done

# 5. Token cache, environment, files, exit status.
cache=$(section "TOKEN CACHE")
for phrase in 0600 0700 atomically token-cache.json.lock "60 seconds" "readable by group or others"; do
    has "$cache" "$phrase" || fail "TOKEN CACHE does not say '$phrase'"
done
environment=$(section ENVIRONMENT)
for variable in TOKENCTL_CONFIG TOKENCTL_TOKEN_CACHE TOKENCTL_PROFILE XDG_CONFIG_HOME HOME BROWSER \
    client_secret_env; do
    has "$environment" "$variable" || fail "ENVIRONMENT does not name $variable"
done
files=$(section FILES)
for file in '$XDG_CONFIG_HOME/tokenctl/config.toml' '~/.config/tokenctl/config.toml' \
    token-cache.json token-cache.json.lock; do
    has "$files" "$file" || fail "FILES does not name $file"
done
for code in 0 1 2 3 4 5; do
    grep -q -E "^ +$code +[A-Z]" <<<"$(section "EXIT STATUS")" || fail "EXIT STATUS lacks $code"
done

# 6. Security notes and the choices where the contract is silent.
security=$(section SECURITY)
for phrase in S256 state nonce "RFC 9207" argv redacted; do
    has "$security" "$phrase" || fail "SECURITY does not mention '$phrase'"
done
choices=$(section CHOICES)
for phrase in "http://127.0.0.1:PORT/callback" "http://localhost:PORT" "prompt=consent" \
    "unless auth_params sets prompt" "(iss, aud, nonce, exp)" "signature is not verified" \
    "3.1.3.7" "expiry unknown" "--min-ttl cannot apply" "refresh forces a refresh" \
    "without a shell" "split on whitespace" "is a warning" "GET /callback" "Host header" \
    "login timeout is 5 minutes" "60 seconds"; do
    has "$choices" "$phrase" || fail "CHOICES does not say '$phrase'"
done
examples=$(section EXAMPLES)
for phrase in 'curl --oauth2-bearer "$(tokenctl token' 'curl -H @<(tokenctl' client_credentials \
    "tokenctl login"; do
    has "$examples" "$phrase" || fail "EXAMPLES lacks '$phrase'"
done

# 7. Nothing of later landings.
later=$(grep -n -i -E 'revoke|netrc|git-credential|--device|exec-credential|tokenctl exec|NETRC' \
    <<<"$text")
[[ -z $later ]] || fail "documents features of a later landing:"$'\n'"$later"

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "man page: all checks passed"
