#!/usr/bin/env bash
# The main job, end to end on this machine: install what is needed, build, start a local demo
# authorization server (oidc-provider on 127.0.0.1), log in with tokenctl, then call the demo
# server's protected resource with curl and the token. The demo keeps its config and token cache
# in build/demo/, not in your home folder, and stops the server at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null

demo=build/demo
rm -rf "$demo" && mkdir -p "$demo"
export TOKENCTL_CONFIG="$PWD/$demo/config.toml"
unset TOKENCTL_PROFILE TOKENCTL_TOKEN_CACHE

node tests/e2e/lib/server-main.mjs --no-tls >"$demo/server.out" 2>"$demo/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q '^READY ' "$demo/server.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$demo/server.log" >&2; exit 1; }
  sleep 0.1
done
issuer=$(sed -n 's/^READY .*"issuer":"\([^"]*\)".*/\1/p' "$demo/server.out")
[ -n "$issuer" ] || { echo "demo: the authorization server did not start" >&2; cat "$demo/server.log" >&2; exit 1; }
echo "demo: authorization server running at $issuer"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -z "${BROWSER:-}" ]; then
  echo "demo: your browser will open; sign in with any user name and password."
else
  echo "demo: no display here, so a scripted browser signs in as \"alice\" (tests/e2e/browser.mjs)."
  export BROWSER="$PWD/tests/e2e/browser.mjs"
fi

tokenctl() { "$PWD/build/tokenctl" "$@"; }
# Show each command as typed (never with the token expanded), then run it.
run() { printf '\n$ %s\n' "$1"; eval "$1"; }
run 'tokenctl login -p demo --host "$issuer"'
run 'tokenctl list'
run 'curl -sS --fail-with-body --oauth2-bearer "$(tokenctl token -p demo)" "$issuer/api/whoami"'
echo
echo
echo "demo: done; the server stops now."
