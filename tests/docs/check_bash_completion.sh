#!/bin/bash
# Check completions/tokenctl.bash: feed it command lines the way bash does (COMP_WORDS split at
# '=' and ':', COMP_CWORD, COMP_LINE, COMP_POINT), call _tokenctl, and compare COMPREPLY.
#
# Runs every case twice: in a bare `bash --norc` (no bash-completion package: the completion's
# own fallback) and, when the package is installed, with its bash_completion sourced first
# (_init_completion and _filedir). Each run gets a clean environment and a temporary HOME.
#
# Usage: check_bash_completion.sh [SOURCE_DIR]     exit 0: all passed, 1: a case failed.

set -u

if [[ ${1-} == --inner ]]; then
    # --inner MODE COMPLETION_FILE: runs inside the clean bash; the cases are below.
    mode=$2
    if [[ $mode == with-bash-completion ]]; then
        source /usr/share/bash-completion/bash_completion || exit 1
    fi
    source "$3" || exit 1
    if [[ $mode == plain ]] && declare -F _init_completion >/dev/null; then
        echo "FAIL: bash-completion is loaded in the plain run" >&2
        exit 1
    fi
else
    src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
    completion=$src/completions/tokenctl.bash
    [[ -r $completion ]] || { echo "FAIL: $completion is missing" >&2; exit 1; }
    bash -n "$completion" || { echo "FAIL: $completion has a syntax error" >&2; exit 1; }

    tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/home" "$tmp/xdg/tokenctl" "$tmp/home/.config/tokenctl" "$tmp/files/sub"
    # The sample config: bare, quoted and spaced headers, a subtable, a comment, other tables.
    cat >"$tmp/xdg/tokenctl/config.toml" <<'EOF'
default_profile = "dev"
# [profiles.commented] is not a profile
[profiles.dev]
host = "https://dbc-a1b2345c-d6e7.cloud.databricks.com"

[profiles.dev.auth_params]
sub = "oauth"

  [ profiles . "ci-runner.2" ]
host = "https://login.example.com/realms/corp"

[profiles.'corp']   # a literal-string name
host = "https://login.example.com/realms/corp"
title = "[profiles.fake] inside a value"
EOF
    printf '[profiles.alt]\nhost = "https://alt.example.com"\n' >"$tmp/other.toml"
    printf '[profiles.homeonly]\nhost = "https://home.example.com"\n' \
        >"$tmp/home/.config/tokenctl/config.toml"
    touch "$tmp/files/a.toml" "$tmp/files/b.json"
    # A command for `exec -- ...` to find on PATH.
    mkdir -p "$tmp/bin"
    printf '#!/bin/sh\n' >"$tmp/bin/tkctl-fake-cmd"
    chmod +x "$tmp/bin/tkctl-fake-cmd"

    status=0
    modes=(plain)
    if [[ -r /usr/share/bash-completion/bash_completion ]]; then
        modes+=(with-bash-completion)
    else
        echo "note: bash-completion is not installed; only the plain run is checked"
    fi
    for mode in "${modes[@]}"; do
        env -i PATH="$tmp/bin:$PATH" HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg" TMPROOT="$tmp" \
            LC_ALL=C bash --norc --noprofile "$0" --inner "$mode" "$completion" || status=1
    done
    exit $status
fi

# ---- inside the clean bash -----------------------------------------------------------------

failures=0
passes=0

# Split LINE as bash does for completion: at blanks, and at '=' and ':' (COMP_WORDBREAKS).
# Sets COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT (cursor at the end of LINE).
set_comp_line()
{
    local line=$1 token part
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMP_WORDS=()
    for token in $line; do
        while IFS= read -r part; do
            COMP_WORDS+=("$part")
        done < <(grep -o -E '[=:]+|[^=:]+' <<<"$token")
    done
    [[ $line == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
}

# expect NAME LINE EXPECTED: complete LINE and compare the sorted COMPREPLY with EXPECTED.
expect()
{
    local name=$1 line=$2 expected=$3 got errors
    set_comp_line "$line"
    COMPREPLY=()
    errors=$( { _tokenctl tokenctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"; } 2>&1 >/dev/null )
    _tokenctl tokenctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
    got=${got% }
    if [[ $got != "$expected" ]]; then
        echo "FAIL [$mode] $name: '$line'"
        echo "    expected: '$expected'"
        echo "    got:      '$got'"
        failures=$((failures + 1))
    elif [[ -n $errors ]]; then
        echo "FAIL [$mode] $name: '$line' wrote to stderr: $errors"
        failures=$((failures + 1))
    else
        passes=$((passes + 1))
    fi
}

all_global_long="--config --help --output --profile --quiet --token-cache --verbose --version"
xdg_profiles="ci-runner.2 corp dev"
all_commands="databricks exec git-credential list login netrc refresh revoke show status token use"

# Print the global long options and $@, sorted, on one line.
with_global() { printf '%s\n' $all_global_long "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }

if ! complete -p tokenctl >/dev/null 2>&1; then
    echo "FAIL [$mode] the completion does not register itself for tokenctl"
    exit 1
fi

# Commands.
expect "commands" "tokenctl " "$all_commands"
expect "commands by prefix" "tokenctl l" "list login"
expect "commands by prefix r" "tokenctl re" "refresh revoke"
expect "commands after a global option's value" "tokenctl -p dev " "$all_commands"
expect "commands after --config FILE" "tokenctl --config /x.toml " "$all_commands"
expect "nothing after a command" "tokenctl list " ""
expect "nothing after netrc" "tokenctl netrc " ""

# Options per command (global options are offered after the command too).
expect "global options" "tokenctl --" "$all_global_long"
expect "short options" "tokenctl -" "$(printf '%s\n' $all_global_long -h -o -p -q -v | sort | tr '\n' ' ' | sed 's/ $//')"
expect "token options" "tokenctl token --" \
    "$(with_global --header --min-ttl --exec-credential --id-token --scope --resource --audience)"
expect "login options" "tokenctl login --" \
    "$(with_global --host --client-id --scopes --account-id --port --no-browser --device --no-qr --timeout)"
expect "revoke options" "tokenctl revoke --" "$(with_global --all --local)"
expect "netrc options" "tokenctl netrc --" \
    "$(with_global --all --write --file --login --scope --resource --audience)"
expect "exec options" "tokenctl exec --" "$(with_global --min-ttl --scope --resource --audience)"
expect "git-credential options" "tokenctl git-credential --" "$(with_global --scope --resource --audience)"
expect "status options" "tokenctl status --" "$(with_global --check)"
expect "use has no options of its own" "tokenctl use --h" "--help"
expect "nothing after status" "tokenctl status " ""
expect "token --exec-credential" "tokenctl token --e" "--exec-credential"
expect "login --device" "tokenctl -p dev login --d" "--device"
expect "refresh --all" "tokenctl refresh --a" "--all"
expect "show --reveal" "tokenctl -p dev show --r" "--reveal"
expect "list has no options of its own" "tokenctl list --h" "--help"
expect "no login options before a command" "tokenctl --h" "--help"

# databricks: the Databricks CLI protocol's nested commands and their flags.
databricks_token_options="--host --account-id --force-refresh --workspace-id --experimental-is-unified-host"
expect "databricks: its commands" "tokenctl databricks " "auth version"
expect "databricks: its commands by prefix" "tokenctl databricks v" "version"
expect "databricks: its commands after -p NAME" "tokenctl databricks -p dev " "auth version"
expect "databricks auth: token" "tokenctl databricks auth " "token"
expect "databricks auth: token after the globals" "tokenctl -p dev databricks auth t" "token"
expect "databricks auth token options" "tokenctl databricks auth token --" \
    "$(with_global $databricks_token_options)"
expect "databricks auth token --force-refresh" "tokenctl databricks auth token --profile dev --f" \
    "--force-refresh"
expect "databricks auth token: profiles" "tokenctl databricks auth token --profile " "$xdg_profiles"
expect "databricks auth token: no values for --host" "tokenctl databricks auth token --host " ""
expect "databricks auth token: no values for --account-id" "tokenctl databricks auth token --account-id " ""
expect "databricks auth token: options after --host URL" \
    "tokenctl databricks auth token --host https://x.cloud.databricks.com --a" "--account-id"
expect "databricks auth token: nothing after it" "tokenctl databricks auth token " ""
expect "databricks version: global options only" "tokenctl databricks version --" "$all_global_long"
expect "databricks version --output" "tokenctl databricks version --output " "json text"
expect "nothing after databricks version" "tokenctl databricks version " ""
expect "databricks has no options of its own" "tokenctl databricks --" "$all_global_long"
expect "databricks auth has no options of its own" "tokenctl databricks auth --" "$all_global_long"

# Option values.
expect "output formats" "tokenctl -o " "json text"
expect "output formats, long" "tokenctl token --output j" "json"
expect "output formats after =" "tokenctl --output=" "json text"
expect "no values for --host" "tokenctl login --host " ""
expect "no values for --min-ttl" "tokenctl token --min-ttl " ""
expect "no values for netrc --login" "tokenctl netrc --login " ""
expect "no values for exec --min-ttl" "tokenctl exec --min-ttl " ""
expect "no values for --scope" "tokenctl token --scope " ""
expect "no values for --resource" "tokenctl netrc --resource " ""
expect "no values for --audience" "tokenctl exec --audience " ""

# git-credential's operation: once, then nothing.
expect "git-credential operations" "tokenctl git-credential " "erase get store"
expect "git-credential operation by prefix" "tokenctl git-credential g" "get"
expect "git-credential operations after -p NAME" "tokenctl git-credential -p dev " "erase get store"
expect "git-credential operations after the globals" "tokenctl -p dev git-credential e" "erase"
expect "nothing after the operation" "tokenctl git-credential get " ""
expect "git-credential operations after --scope VALUE" "tokenctl git-credential --scope api " \
    "erase get store"

# Profiles from $XDG_CONFIG_HOME/tokenctl/config.toml.
expect "profiles" "tokenctl -p " "$xdg_profiles"
expect "profiles by prefix" "tokenctl --profile c" "ci-runner.2 corp"
expect "profiles after =" "tokenctl --profile=d" "dev"
expect "profiles after the command" "tokenctl token -p " "$xdg_profiles"
expect "use: profiles" "tokenctl use " "$xdg_profiles"
expect "use: profiles by prefix" "tokenctl -p dev use c" "ci-runner.2 corp"
expect "use: nothing after the profile" "tokenctl use dev " ""
expect "use: profiles of --config FILE" "tokenctl --config $TMPROOT/other.toml use " "alt"
# --config on the command line wins, before or after -p, with or without '='.
expect "profiles of --config FILE" "tokenctl --config $TMPROOT/other.toml -p " "alt"
expect "profiles of --config=FILE" "tokenctl --config=$TMPROOT/other.toml token -p " "alt"
expect "profiles of --config ~/FILE" "tokenctl --config ~/.config/tokenctl/config.toml -p " "homeonly"
# TOKENCTL_CONFIG wins over XDG_CONFIG_HOME.
TOKENCTL_CONFIG=$TMPROOT/other.toml expect "profiles of TOKENCTL_CONFIG" "tokenctl -p " "alt"
# Without XDG_CONFIG_HOME (or with a relative one): ~/.config/tokenctl/config.toml.
saved_xdg=$XDG_CONFIG_HOME
unset XDG_CONFIG_HOME
expect "profiles of ~/.config" "tokenctl -p " "homeonly"
XDG_CONFIG_HOME=relative/dir expect "relative XDG_CONFIG_HOME is ignored" "tokenctl -p " "homeonly"
# No config at all: nothing offered, nothing printed.
HOME=$TMPROOT/nowhere expect "no config file" "tokenctl -p " ""
export XDG_CONFIG_HOME=$saved_xdg
expect "XDG_CONFIG_HOME again" "tokenctl -p " "$xdg_profiles"

# File names for --config and --token-cache.
cd "$TMPROOT/files" || exit 1
expect "files for --config" "tokenctl --config a" "a.toml"
expect "files for --token-cache" "tokenctl token --token-cache " "a.toml b.json sub"
expect "files for netrc --file" "tokenctl netrc --write --file " "a.toml b.json sub"
expect "files for netrc --file=" "tokenctl netrc --file=b" "b.json"

# exec: nothing but options before "--"; after it, a command, then that command's arguments
# (file names here: tkctl-fake-cmd has no completion of its own).
expect "exec wants -- first" "tokenctl exec " ""
expect "exec: the command after --" "tokenctl exec -- tkctl-fa" "tkctl-fake-cmd"
expect "exec: the command after --min-ttl and --" "tokenctl -p dev exec --min-ttl 5m -- tkctl-f" \
    "tkctl-fake-cmd"
expect "exec: a command given by path" "tokenctl exec -- ./s" "./sub"
expect "exec: the command's arguments are files" "tokenctl exec -- tkctl-fake-cmd a" "a.toml"
expect "no tokenctl options after --" "tokenctl exec -- tkctl-fake-cmd --p" ""
expect "no profiles after --" "tokenctl exec -- tkctl-fake-cmd -p " "a.toml b.json sub"
expect "nothing after -- for other commands" "tokenctl token -- " ""

echo "[$mode] $passes cases passed, $failures failed"
[[ $failures -eq 0 ]]
