#!/bin/bash
# Check completions/_tokenctl: drive a real interactive zsh (zsh/zpty) with compinit, type a
# command line and TAB, and record the matches that the completion adds (compadd is wrapped to
# print them). Each case compares the sorted matches with what is expected.
#
# Usage: check_zsh_completion.sh [SOURCE_DIR]   exit 0: passed, 1: failed, 77: zsh not installed.

set -u
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
completion=$src/completions/_tokenctl

if ! command -v zsh >/dev/null; then
    echo "SKIP: zsh is not installed"
    exit 77
fi
[[ -r $completion ]] || { echo "FAIL: $completion is missing"; exit 1; }
zsh -n "$completion" || { echo "FAIL: $completion has a syntax error"; exit 1; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/xdg/tokenctl" "$tmp/fpath" "$tmp/files/sub" "$tmp/bin"
touch "$tmp/files/a.toml" "$tmp/files/b.json"
# A command for `exec -- ...` to find on PATH.
printf '#!/bin/sh\n' >"$tmp/bin/tkctl-fake-cmd"
chmod +x "$tmp/bin/tkctl-fake-cmd"
cp "$completion" "$tmp/fpath/_tokenctl"
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

# The shell under test: no rc files, compinit from our fpath, compadd wrapped to print matches
# between markers (compprefuncs/comppostfuncs run around every completion and must re-add
# themselves).
cat >"$tmp/home/.zshrc" <<EOF
PS1='' PROMPT='' RPROMPT=''
unsetopt zle_bracketed_paste 2>/dev/null
fpath=("$tmp/fpath" \$fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' insert-tab false
zstyle ':completion:*' list-grouped false
_check_begin() { print -r -- '<<BEGIN>>'; comppostfuncs=(_check_end) }
_check_end() { print -r -- '<<END>>' }
_check_arm() { compprefuncs=(_check_begin) }
compadd() {
  if (( \${@[(I)-[OAD]]} )); then builtin compadd "\$@"; return; fi
  local -a _check_found
  builtin compadd -A _check_found "\$@"
  local m
  for m in \$_check_found; do print -r -- "<<M>>\$m"; done
  builtin compadd "\$@"
}
_check_complete() { _check_arm; zle complete-word }
zle -N _check_complete
bindkey '^I' _check_complete
bindkey -e
cd "$tmp/files"
EOF

cat >"$tmp/driver.zsh" <<'EOF'
zmodload zsh/zpty || exit 1
failures=0 passes=0
zpty -b shell "env -i PATH=\"$TMPROOT/bin:$PATH\" HOME=\"$TMPROOT/home\" XDG_CONFIG_HOME=\"$TMPROOT/xdg\" TERM=dumb LC_ALL=C zsh -i"
zpty -w shell 'print -r -- READY-$((6*7))'
zpty -r shell out '*READY-42*' || { print "FAIL: the shell did not start"; exit 1 }

# expect NAME LINE EXPECTED
expect() {
  local name=$1 line=$2 expected=$3 out got
  zpty -n -w shell "$line"$'\t'
  if ! zpty -r shell out '*<<END>>*'; then
    print "FAIL $name: no completion ran"; (( failures++ )); return
  fi
  got=${(j: :)${(ou)${(M)${(f)out//$'\r'/}:#<<M>>*}#<<M>>}}
  zpty -n -w shell $'\C-u'
  if [[ $got != $expected ]]; then
    print -r -- "FAIL $name: '$line'"$'\n'"    expected: '$expected'"$'\n'"    got:      '$got'"
    (( failures++ ))
  else
    (( passes++ ))
  fi
}

all_commands="databricks exec git-credential list login netrc refresh revoke show status token use"
expect "commands" "tokenctl " "$all_commands"
expect "commands by prefix" "tokenctl l" "list login"
expect "commands by prefix r" "tokenctl re" "refresh revoke"
expect "commands after a global option's value" "tokenctl -p dev " "$all_commands"
expect "profiles" "tokenctl -p " "ci-runner.2 corp dev"
expect "profiles by prefix" "tokenctl --profile c" "ci-runner.2 corp"
expect "profiles after the command" "tokenctl token -p " "ci-runner.2 corp dev"
expect "profiles of --config FILE" "tokenctl --config $TMPROOT/other.toml -p " "alt"
expect "profiles of --config, after the command" "tokenctl --config $TMPROOT/other.toml token -p " "alt"
expect "output formats" "tokenctl -o " "json text"
expect "output formats after the command" "tokenctl show --output " "json text"
expect "token options" "tokenctl token --" \
  "--audience --config --exec-credential --header --help --id-token --min-ttl --output --profile --quiet --resource --scope --token-cache --verbose --version"
expect "token: --header excludes --exec-credential" "tokenctl token --header --" \
  "--audience --config --help --id-token --min-ttl --output --profile --quiet --resource --scope --token-cache --verbose --version"
expect "login options" "tokenctl login --" \
  "--account-id --client-id --config --device --help --host --no-browser --no-qr --output --port --profile --quiet --scopes --timeout --token-cache --verbose --version"
expect "revoke options" "tokenctl revoke --" \
  "--all --config --help --local --output --profile --quiet --token-cache --verbose --version"
expect "netrc options" "tokenctl netrc --" \
  "--all --audience --config --file --help --login --output --profile --quiet --resource --scope --token-cache --verbose --version --write"
expect "files for netrc --file" "tokenctl netrc --file " "a.toml b.json sub"
expect "exec options" "tokenctl exec --" \
  "--audience --config --help --min-ttl --output --profile --quiet --resource --scope --token-cache --verbose --version"
expect "git-credential options" "tokenctl git-credential --" \
  "--audience --config --help --output --profile --quiet --resource --scope --token-cache --verbose --version"
expect "git-credential operations" "tokenctl git-credential " "erase get store"
expect "status options" "tokenctl status --" \
  "--check --config --help --output --profile --quiet --token-cache --verbose --version"
expect "use: profiles" "tokenctl use " "ci-runner.2 corp dev"
expect "use: profiles of --config FILE" "tokenctl --config $TMPROOT/other.toml use " "alt"
expect "git-credential operation by prefix" "tokenctl -p dev git-credential s" "store"
expect "exec: the command after --" "tokenctl exec -- tkctl-fa" "tkctl-fake-cmd"
expect "exec: the command after --min-ttl and --" "tokenctl exec --min-ttl 5m -- tkctl-f" "tkctl-fake-cmd"
expect "exec: the command's arguments are files" "tokenctl exec -- tkctl-fake-cmd a" "a.toml"
expect "refresh --all" "tokenctl refresh --a" "--all"
expect "show --reveal" "tokenctl show --r" "--reveal"
expect "list has no options of its own" "tokenctl list --" \
  "--config --help --output --profile --quiet --token-cache --verbose --version"
expect "databricks: its commands" "tokenctl databricks " "auth version"
expect "databricks auth: token" "tokenctl databricks auth " "token"
expect "databricks auth token options" "tokenctl databricks auth token --" \
  "--account-id --config --experimental-is-unified-host --force-refresh --help --host --output --profile --quiet --token-cache --verbose --version --workspace-id"
expect "databricks auth token: profiles" "tokenctl databricks auth token --profile " "ci-runner.2 corp dev"
expect "databricks version: global options only" "tokenctl databricks version --" \
  "--config --help --output --profile --quiet --token-cache --verbose --version"
expect "databricks version --output" "tokenctl databricks version --output " "json text"

zpty -d shell
print "zsh completion: $passes cases passed, $failures failed"
(( failures == 0 ))
EOF

TMPROOT=$tmp timeout 120 zsh -f "$tmp/driver.zsh"
