# Shared by test_install.sh and test_deb.sh: check an installed tokenctl from the outside, in a
# clean environment (its own HOME and XDG folders, no TOKENCTL_* variables, / as the working
# folder), so that nothing of the build tree can help it find its files.
#
# check_installed_program BIN VERSION HOME
#   BIN      the installed program
#   VERSION  the version it must report
#   HOME     an empty folder: the program's HOME, and where the checks keep their files
# Each failed check calls fail(); the caller counts the failures.

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A diff of two lists given as strings: expected, then actual.
list_diff() { diff <(echo "$1") <(echo "$2"); }

# Run the program with HOME set to $2 and nothing else of ours in its environment; its output
# goes to $2/out and $2/err.
run_tokenctl() {
  local bin=$1 home=$2
  shift 2
  (cd / && env -i PATH=/usr/bin:/bin HOME="$home" XDG_CONFIG_HOME="$home/.config" LANG=C.UTF-8 \
      "$bin" "$@" >"$home/out" 2>"$home/err")
}

check_installed_program() {
  local bin=$1 version=$2 home=$3
  local rc

  run_tokenctl "$bin" "$home" --version && rc=0 || rc=$?
  [[ $rc -eq 0 && $(cat "$home/out") == "tokenctl $version" ]] ||
    fail "$bin --version: exit $rc, printed '$(cat "$home/out" "$home/err")'," \
      "expected 'tokenctl $version'"

  # A login-free command, with a sample config.
  mkdir -p "$home/.config/tokenctl"
  cat >"$home/.config/tokenctl/config.toml" <<'TOML'
default_profile = "corp"

[profiles.corp]
host = "https://login.example.com/realms/corp"
client_id = "tokenctl"

[profiles.dev]
host = "https://dbc-a1b2345c-d6e7.cloud.databricks.com"
TOML
  run_tokenctl "$bin" "$home" list && rc=0 || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "tokenctl list: exit $rc: $(cat "$home/err")"
  else
    grep -q -E '^corp +https://login\.example\.com/realms/corp ' "$home/out" &&
      grep -q -E '^dev +https://dbc-a1b2345c-d6e7\.cloud\.databricks\.com ' "$home/out" ||
      fail "tokenctl list does not show both sample profiles:"$'\n'"$(cat "$home/out")"
  fi

  # Something that needs the network module: nothing listens on 127.0.0.1:9, so the request
  # must fail as a network error (exit 4), which proves the module was found and loaded.
  run_tokenctl "$bin" "$home" login --host https://127.0.0.1:9/x -p t --timeout 1s \
    --no-browser && rc=0 || rc=$?
  if grep -q 'cannot load the network module' "$home/err"; then
    fail "the installed program does not find its network module: $(cat "$home/err")"
  elif [[ $rc -ne 4 ]]; then
    fail "login against a closed loopback port: exit $rc, expected 4: $(cat "$home/err")"
  fi
}
