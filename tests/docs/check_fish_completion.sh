#!/bin/bash
# Check completions/tokenctl.fish with fish's own `complete -C LINE`, which prints the candidates
# fish would offer for LINE. Each case compares the sorted candidates with what is expected.
#
# Usage: check_fish_completion.sh [SOURCE_DIR]  exit 0: passed, 1: failed, 77: fish not installed.

set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
completion=$src/completions/tokenctl.fish

if ! command -v fish >/dev/null; then
    echo "SKIP: fish is not installed"
    exit 77
fi
[[ -r $completion ]] || { echo "FAIL: $completion is missing"; exit 1; }
fish --no-config -n "$completion" || { echo "FAIL: $completion has a syntax error"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home/.config/tokenctl" "$tmp/xdg/tokenctl" "$tmp/files" "$tmp/bin"
# A command for `exec -- ...` to find on PATH.
printf '#!/bin/sh\n' >"$tmp/bin/tkctl-fake-cmd"
chmod +x "$tmp/bin/tkctl-fake-cmd"
cat >"$tmp/xdg/tokenctl/config.toml" <<'EOF'
default_profile = "dev"
# [profiles.commented] is not a profile
[profiles.dev]
host = "https://dbc-a1b2345c-d6e7.cloud.databricks.com"
[profiles.dev.auth_params]
sub = "oauth"
  [ profiles . "ci-runner.2" ]
host = "https://login.example.com/realms/corp"
[profiles.'corp']
host = "https://login.example.com/realms/corp"
EOF
printf '[profiles.alt]\nhost = "https://alt.example.com"\n' >"$tmp/other.toml"
printf '[profiles.homeonly]\nhost = "https://home.example.com"\n' \
    >"$tmp/home/.config/tokenctl/config.toml"
touch "$tmp/files/a.toml" "$tmp/files/b.json"

failures=0
passes=0

# expect NAME LINE EXPECTED [VAR=VALUE...]: candidates for LINE (names only, sorted).
expect() {
    local name=$1 line=$2 expected=$3 got
    shift 3
    got=$(cd "$tmp/files" && env -i PATH="$tmp/bin:$PATH" HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/xdg" \
        LC_ALL=C "$@" fish --no-config -c 'source $argv[1]; complete -C $argv[2]' \
        "$completion" "$line" 2>&1 | cut -f1 | sort | tr '\n' ' ')
    got=${got% }
    if [[ $got != "$expected" ]]; then
        printf "FAIL %s: '%s'\n    expected: '%s'\n    got:      '%s'\n" "$name" "$line" "$expected" "$got"
        failures=$((failures + 1))
    else
        passes=$((passes + 1))
    fi
}

all_global_long="--config --help --output --profile --quiet --token-cache --verbose --version"
profiles="ci-runner.2 corp dev"
all_commands="databricks exec git-credential list login netrc refresh revoke show status token use"
# Print the global long options and $@, sorted, on one line.
with_global() { printf '%s\n' $all_global_long "$@" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }

expect "commands" "tokenctl " "$all_commands"
expect "commands by prefix" "tokenctl l" "list login"
expect "commands by prefix r" "tokenctl re" "refresh revoke"
expect "commands after a global option's value" "tokenctl -p dev " "$all_commands"
expect "nothing after a command" "tokenctl list " ""
expect "token options" "tokenctl token --" \
    "$(with_global --header --min-ttl --exec-credential --id-token --scope --resource --audience)"
expect "token: --header excludes --exec-credential" "tokenctl token --header --" \
    "$(with_global --header --min-ttl --id-token --scope --resource --audience)"
expect "login options" "tokenctl login --" \
    "$(with_global --host --client-id --scopes --account-id --port --no-browser --device --no-qr --timeout)"
expect "revoke options" "tokenctl revoke --" "$(with_global --all --local)"
expect "netrc options" "tokenctl netrc --" \
    "$(with_global --all --write --file --login --scope --resource --audience)"
expect "exec options" "tokenctl exec --" "$(with_global --min-ttl --scope --resource --audience)"
expect "git-credential options" "tokenctl git-credential --" "$(with_global --scope --resource --audience)"
expect "status options" "tokenctl status --" "$(with_global --check)"
expect "use: profiles" "tokenctl use " "$profiles"
expect "use: profiles by prefix" "tokenctl -p dev use c" "ci-runner.2 corp"
expect "use: nothing after the profile" "tokenctl use dev " ""
expect "use: profiles of --config FILE" "tokenctl --config $tmp/other.toml use " "alt"
expect "refresh --all" "tokenctl refresh --a" "--all"
expect "show --reveal" "tokenctl show --r" "--reveal"
expect "no command options before a command" "tokenctl --" "$all_global_long"
expect "output formats" "tokenctl -o " "json text"
expect "output formats after =" "tokenctl token --output=" "--output=json --output=text"
expect "profiles" "tokenctl -p " "$profiles"
expect "profiles by prefix" "tokenctl token --profile c" "ci-runner.2 corp"
expect "profiles of --config FILE" "tokenctl --config $tmp/other.toml -p " "alt"
expect "profiles of --config=FILE" "tokenctl --config=$tmp/other.toml token -p " "alt"
expect "profiles of TOKENCTL_CONFIG" "tokenctl -p " "alt" TOKENCTL_CONFIG="$tmp/other.toml"
expect "profiles of ~/.config" "tokenctl -p " "homeonly" XDG_CONFIG_HOME=
expect "relative XDG_CONFIG_HOME is ignored" "tokenctl -p " "homeonly" XDG_CONFIG_HOME=rel/dir
expect "no config file" "tokenctl -p " "" XDG_CONFIG_HOME= HOME="$tmp/nowhere"
expect "files for --config" "tokenctl --config a" "a.toml"
expect "no values for --host" "tokenctl login --host " ""
expect "files for netrc --file" "tokenctl netrc --write --file a" "a.toml"
expect "no values for netrc --login" "tokenctl netrc --login " ""
expect "git-credential operations" "tokenctl git-credential " "erase get store"
expect "git-credential operation after -p NAME" "tokenctl git-credential -p dev g" "get"
expect "nothing after the operation" "tokenctl git-credential get " ""
expect "exec wants -- first" "tokenctl exec " ""
expect "exec: the command after --" "tokenctl exec -- tkctl-fa" "tkctl-fake-cmd"
expect "exec: the command after --min-ttl and --" "tokenctl -p dev exec --min-ttl 5m -- tkctl-f" \
    "tkctl-fake-cmd"
expect "exec: the command's arguments are files" "tokenctl exec -- tkctl-fake-cmd a" "a.toml"
expect "no tokenctl options after --" "tokenctl exec -- tkctl-fake-cmd --p" ""
databricks_token_options="--host --account-id --force-refresh --workspace-id --experimental-is-unified-host"
expect "databricks: its commands" "tokenctl databricks " "auth version"
expect "databricks: its commands after -p NAME" "tokenctl databricks -p dev " "auth version"
expect "databricks auth: token" "tokenctl databricks auth " "token"
expect "databricks auth: token after the globals" "tokenctl -p dev databricks auth t" "token"
expect "databricks auth token options" "tokenctl databricks auth token --" \
    "$(with_global $databricks_token_options)"
expect "databricks auth token: not token's options" "tokenctl databricks auth token --m" ""
expect "databricks auth token: profiles" "tokenctl databricks auth token --profile " "$profiles"
expect "databricks auth token: no values for --host" "tokenctl databricks auth token --host " ""
expect "databricks auth token: nothing after it" "tokenctl databricks auth token " ""
expect "databricks version: global options only" "tokenctl databricks version --" "$all_global_long"
expect "databricks version --output" "tokenctl databricks version --output " "json text"
expect "nothing after databricks version" "tokenctl databricks version " ""
expect "token options after -p token" "tokenctl -p dev token --m" "--min-ttl"

echo "fish completion: $passes cases passed, $failures failed"
[[ $failures -eq 0 ]]
