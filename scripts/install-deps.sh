#!/usr/bin/env bash
# Install what tokenctl needs to build, test and run its demo, from Debian's packages and the
# npm registry. Safe to run again. Works as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(g++ cmake ninja-build pkg-config libcli11-dev libcurl4-openssl-dev libssl-dev
          nlohmann-json3-dev libtomlplusplus-dev doctest-dev openssl curl ca-certificates git
          groff-base man-db bash-completion zsh fish clang libclang-rt-dev dpkg-dev lintian
          python3 file)
# node and npm: Debian's, unless a node is already installed (it may bring its own npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The local authorization server (oidc-provider, version pinned by the lock file).
if [ ! -d tests/e2e/node_modules/oidc-provider ]; then
  echo "install-deps: npm ci in tests/e2e" >&2
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
