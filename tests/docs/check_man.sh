#!/bin/bash
# Check man/tokenctl.1:
#   - groff -man -ww -z prints nothing (no warning of any kind) and succeeds;
#   - the sections are there, in order, with one subsection per command;
#   - the commands and options are exactly those that completions/tokenctl.bash completes, and
#     those that the program registers with CLI11 (src/cli/app.cpp and src/cli/cmd_*.cpp);
#   - every option, profile key, variable, exit status and choice is described, and each
#     command says what users of revoke, netrc, exec, git-credential, login --device, the
#     paste-back and token --exec-credential rely on.
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

# The commands: those the program registers, those the completion offers, one subsection each.
# Top-level commands are registered on the parent (`parent.add_subcommand`); the nested ones of
# databricks (`app->add_subcommand`, `auth->add_subcommand`) are checked below with their command.
all_commands="databricks exec git-credential list login netrc refresh revoke show status token use"
registered=$(grep -h -o -E 'parent\.add_subcommand\("[a-z-]+"' "$src"/src/cli/*.cpp | cut -d'"' -f2 |
    sort | tr '\n' ' ')
[[ $registered == "$all_commands " ]] ||
    fail "the program registers the commands '$registered', the docs know '$all_commands'"
offered=$(bash --norc --noprofile -c 'source "$1" && printf "%s\n" $_tokenctl_commands' _ \
    "$completion" | sort | tr '\n' ' ')
[[ $offered == "$all_commands " ]] || fail "the bash completion offers the commands '$offered'"
commands=$(section COMMANDS)
for command in $all_commands; do
    grep -q -E "^   tokenctl $command( |$)" <<<"$commands" || fail "no subsection for '$command'"
    grep -q -E "^ +tokenctl \[global-options\] $command( |$)" <<<"$(section SYNOPSIS)" ||
        fail "SYNOPSIS has no line for '$command'"
done

# 3. Options: the synopsis and GLOBAL OPTIONS together name exactly what the completion offers,
# and, command by command, the completion offers exactly what the program registers.
documented=$( { section SYNOPSIS; section "GLOBAL OPTIONS"; } |
    grep -o -E '(^|[ [|,])--?[a-z][a-z-]*' | sed -E 's/^[ [|,]//' | sort -u | tr '\n' ' ')
# The completion's options of a command: of the command itself and of each nested command path
# that _tokenctl_subcommands leads to ("databricks", "databricks auth", "databricks auth token").
walk_completion='
    source "$1" || exit 1
    walk() {
        _tokenctl_command_options "$1"
        local sub
        for sub in $(_tokenctl_subcommands "$1"); do walk "$1 $sub"; done
    }'
completed_of() {
    bash --norc --noprofile -c "$walk_completion"'; walk "$2"' _ \
        "$completion" "$1" | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' '
}
completed=$(bash --norc --noprofile -c "$walk_completion"'
    printf "%s\n" $_tokenctl_global_options
    for c in $2; do printf "%s\n" $(walk "$c"); done' _ "$completion" "$all_commands" | sed '/^$/d' |
    sort -u | tr '\n' ' ')
[[ -n $completed ]] || fail "cannot read the options of $completion"
[[ $documented == "$completed" ]] ||
    fail "options in the man page: '$documented'; in the bash completion: '$completed'"
# Options in CLI11 calls: add_option("-p,--profile", ...), add_flag("--all", ...); positionals
# (no dash) are not options. A command that calls add_shape_options(...) also registers the
# options of src/cli/shape_options.cpp (--scope, --resource, --audience).
registered_of() {
    local files=("$@") f
    for f in "$@"; do
        grep -q 'add_shape_options(' "$f" && files+=("$src/src/cli/shape_options.cpp")
    done
    grep -h -o -E '(add_option|add_flag|set_version_flag)\("-[^"]*"' "${files[@]}" | cut -d'"' -f2 |
        tr ',' '\n' | sort -u | tr '\n' ' '
}
global_completed=$(bash --norc --noprofile -c 'source "$1" && printf "%s\n" $_tokenctl_global_options' \
    _ "$completion" | sort | tr '\n' ' ')
global_registered=$( { registered_of "$src/src/cli/app.cpp" | tr ' ' '\n'; printf '%s\n' -h --help; } |
    sed '/^$/d' | sort | tr '\n' ' ')
[[ $global_completed == "$global_registered" ]] ||
    fail "global options: the program registers '$global_registered', the completion offers '$global_completed'"
for command in $all_commands; do
    source_file=$src/src/cli/cmd_${command//-/_}.cpp
    [[ -r $source_file ]] || { fail "$source_file is missing"; continue; }
    [[ $(completed_of "$command") == "$(registered_of "$source_file")" ]] ||
        fail "$command: the program registers '$(registered_of "$source_file")', the completion offers '$(completed_of "$command")'"
    # Nested commands: those the source registers below the command, those the completion offers.
    nested_registered=$(grep -h -o -E -- '->add_subcommand\("[a-z-]+"' "$source_file" | cut -d'"' -f2 |
        sort -u | tr '\n' ' ')
    nested_completed=$(bash --norc --noprofile -c '
        source "$1" || exit 1
        walk() { local sub; for sub in $(_tokenctl_subcommands "$1"); do echo "$sub"; walk "$1 $sub"; done; }
        walk "$2"' _ "$completion" "$command" | sort -u | tr '\n' ' ')
    [[ $nested_registered == "$nested_completed" ]] ||
        fail "$command: the program registers the subcommands '$nested_registered', the completion offers '$nested_completed'"
done
for option in --host --client-id --scopes --account-id --port --no-browser --device --timeout \
    --min-ttl --header --exec-credential --id-token --scope --resource --audience --all --local \
    --reveal --write --file --login --check --force-refresh --workspace-id \
    --experimental-is-unified-host; do
    grep -q -E "^ +$option( |$)" <<<"$commands" || fail "option $option has no entry in COMMANDS"
done
for operation in get store erase; do
    grep -q -E "^ +$operation( |$)" <<<"$commands" || fail "git-credential $operation has no entry"
done
global=$(section "GLOBAL OPTIONS")
for option in "-p, --profile NAME" "--config FILE" "--token-cache FILE" "-o, --output text|json" \
    "-v, --verbose" "-q, --quiet" "--version" "-h, --help"; do
    has "$global" "$option" || fail "GLOBAL OPTIONS does not describe '$option'"
done

# 4. Every profile key of the contract, and the rules.
config=$(section CONFIGURATION)
for key in default_profile host client_id scopes redirect_port grant client_secret_env account_id \
    provider authorization_endpoint token_endpoint revocation_endpoint ca_file refresh_margin \
    auth_params netrc_login; do
    grep -q -E "(^|[^a-z_])${key}([^a-z_]|$)" <<<"$config" || fail "CONFIGURATION does not name '$key'"
done
for phrase in "databricks-cli" '"all-apis", "offline_access"' "http://localhost:8020" \
    ".cloud.databricks.com" ".azuredatabricks.net" ".gcp.databricks.com" \
    "host/oidc/.well-known/oauth-authorization-server" "host/oidc/v1/authorize" \
    "host/oidc/accounts/account_id/v1/token" "/.well-known/openid-configuration" \
    "RFC 8414 section 3.3" "127.0.0.0/8" "FILE:LINE: message" \
    "Profiles of .databrickscfg" "only when tokenctl's configuration has no profile of that name" \
    "tokenctl never writes the file" "oauth-m2m" "The secret stays in that file" "[DEFAULT]" \
    "auth_type = databricks-cli" "FILE:LINE:"; do
    has "$config" "$phrase" || fail "CONFIGURATION does not say '$phrase'"
done

# 5. Token cache, environment, files, exit status.
cache=$(section "TOKEN CACHE")
for phrase in 0600 0700 atomically token-cache.json.lock "60 seconds" "readable by group or others"; do
    has "$cache" "$phrase" || fail "TOKEN CACHE does not say '$phrase'"
done
environment=$(section ENVIRONMENT)
for variable in TOKENCTL_CONFIG TOKENCTL_TOKEN_CACHE TOKENCTL_PROFILE XDG_CONFIG_HOME HOME BROWSER \
    client_secret_env NETRC XDG_RUNTIME_DIR BEARER_TOKEN_FILE DATABRICKS_CONFIG_FILE; do
    grep -q -E "^       $variable( |$)|^       The variable named by $variable" <<<"$environment" ||
        fail "ENVIRONMENT has no entry for $variable"
done
files=$(section FILES)
for file in '$XDG_CONFIG_HOME/tokenctl/config.toml' '~/.config/tokenctl/config.toml' \
    token-cache.json token-cache.json.lock '~/.netrc' '$XDG_RUNTIME_DIR/tokenctl/' /tmp/tokenctl- \
    '~/.databrickscfg' /usr/local/lib/tokenctl/databricks /usr/lib/tokenctl/databricks; do
    has "$files" "$file" || fail "FILES does not name $file"
done
for code in 0 1 2 3 4 5; do
    grep -q -E "^ +$code +[A-Z]" <<<"$(section "EXIT STATUS")" || fail "EXIT STATUS lacks $code"
done
has "$(section "EXIT STATUS")" "exec exits with the status of the command" ||
    fail "EXIT STATUS does not say what exec exits with"

# 6. Security notes and the choices where the contract is silent.
security=$(section SECURITY)
for phrase in S256 state nonce "RFC 9207" argv redacted "JWT access token" "until it expires" \
    "dedicated file" "default entry" "(-L)" "token file of exec is 0600"; do
    has "$security" "$phrase" || fail "SECURITY does not mention '$phrase'"
done
choices=$(section CHOICES)
for phrase in "http://127.0.0.1:PORT/callback" "http://localhost:PORT" "prompt=consent" \
    "unless auth_params sets prompt" "(iss, aud, nonce, exp)" "signature is not verified" \
    "3.1.3.7" "expiry unknown" "--min-ttl cannot apply" "refresh forces a refresh" \
    "without a shell" "split on whitespace" "is a warning" "GET /callback" "Host header" \
    "login timeout is 5 minutes" "60 seconds" \
    "token, show, refresh (one profile), revoke (one profile), netrc (one profile) and exec" \
    "line-based slice" "mistake in another profile does not stop them" \
    "only the selected profile's token set is parsed" \
    "3xx answer from the token endpoint is not followed" "it is exit status 1" \
    "408, 429 or 503" "at most 3 attempts" "Retry-After of up to 30 seconds" \
    'host that is not a Databricks one is "tokenctl"' \
    "writes its host and the options given on its command line" "defaults are not written" \
    "that does not exist is created by login --host" "is tightened to 0700"; do
    has "$choices" "$phrase" || fail "CHOICES does not say '$phrase'"
done
examples=$(section EXAMPLES)
for phrase in 'curl --oauth2-bearer "$(tokenctl token' 'curl -H @<(tokenctl' client_credentials \
    "tokenctl login" "tokenctl login -p corp --device" "tokenctl login -p corp --no-browser" \
    "tokenctl netrc -p dev --write --file" "curl --netrc-file" \
    "git config --global credential.https://" '"!tokenctl git-credential -p corp"' \
    "apiVersion: client.authentication.k8s.io/v1" "command: tokenctl" \
    "args: [token, --exec-credential, -p, corp]" "interactiveMode: Never" \
    "tokenctl exec -p corp -- " '$BEARER_TOKEN_FILE' "tokenctl revoke -p corp"; do
    has "$examples" "$phrase" || fail "EXAMPLES lacks '$phrase'"
done

# 7. What each newer command's users rely on, in its subsection.
subsection() {
    awk -v name="   tokenctl $1" 'index($0, name) == 1 { inside = 1; next } /^   tokenctl / { inside = 0 } inside' \
        <<<"$commands"
}
expect_phrases() {
    local command=$1 body phrase
    shift
    body=$(subsection "$command")
    [[ -n $body ]] || { fail "no text under 'tokenctl $command'"; return; }
    for phrase in "$@"; do
        has "$body" "$phrase" || fail "'tokenctl $command' does not say '$phrase'"
    done
}
expect_phrases "login" "standard input a terminal" "paste it and press Enter" \
    "checked exactly as the listener checks a redirect" "(state, iss," "RFC 8628" \
    device_authorization_endpoint "user code" interval slow_down expired_token access_denied \
    "exit status 1"
expect_phrases "token" "client.authentication.k8s.io/v1" ExecCredential expirationTimestamp \
    "users[].user.exec" "id token" kubelogin "status.token" "RFC 6749 section 6" "RFC 8707" \
    "RFC 8693" "token exchange grant" variant "refreshed on its own schedule" \
    "replaces the profile's own refresh token" "revoke removes the variants" \
    "never print a variant's token"
expect_phrases "revoke" "RFC 7009" "token_type_hint=refresh_token" "token_type_hint=access_token" \
    "refresh token is revoked first" "exits with status 4 and keeps the token set in the cache" \
    "nothing was revoked at the server" "self-contained JWT" "until it expires" \
    "Only forget the tokens here"
expect_phrases "netrc" "machine HOSTNAME login token password ACCESS_TOKEN" "lowercased" \
    "HTTP Basic" "Databricks documents this" "cannot ask for a Bearer header" \
    "cannot be reached through a .netrc file" netrc_login '$NETRC' "~/.netrc" "mode 0600" \
    "tightened to 0600, and standard error says so" "replaced atomically" "exclusive lock" \
    "symbolic link" "the link is kept" "byte for byte" "before a default entry" \
    "4,000 bytes" "4,096 bytes" "RFC 6750"
expect_phrases "exec" BEARER_TOKEN_FILE "WLCG Bearer Token Discovery" "without a shell" \
    '$XDG_RUNTIME_DIR/tokenctl' "/tmp/tokenctl-XXXXXX" "mode 0600" "replaces the file atomically" \
    "is removed" "passed on to COMMAND" "The exit status is that of COMMAND" \
    "128 plus the signal number" "COMMAND is not run" "Write -- before COMMAND"
expect_phrases "databricks" "auth_type = databricks-cli" databricks_cli_path DATABRICKS_CLI_PATH \
    '{"access_token": "...", "token_type": "Bearer", "expiry": "..."}' "local time" \
    "fractional seconds" "numeric offset" "2026-09-01T16:24:11.000000+02:00" "+00:00" \
    "databricks OAuth is not configured for this host" "unknown flag: --NAME" \
    "unless any process refreshed that profile in the last 60 seconds" "one refresh" \
    "Databricks CLI v0.296.0" "Major" "0.207.1" "0.296.0" "1 MiB" "resolving symbolic links" \
    "argv[0]" "tokenctl login -p NAME --host" "trailing slash" "default port"
expect_phrases "git-credential" 'credential.https://HOST.helper "!tokenctl git-credential"' \
    "same protocol, host name (case-insensitive) and port" "password_expiry_utc" \
    "With -p NAME, only that profile is considered" "netrc_login, else token" \
    "nothing is printed and the exit status is 0" "change nothing" "HTTP Basic"

if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "man page: all checks passed"
