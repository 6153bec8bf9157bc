#!/usr/bin/env bash
# Install what tokenctl needs to build, test and run its demo, from Debian's packages and the
# npm registry. Safe to run again. Works as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=(g++ cmake ninja-build pkg-config libcli11-dev libcurl4-openssl-dev libssl-dev
          nlohmann-json3-dev libtomlplusplus-dev doctest-dev openssl curl ca-certificates git
          groff-base man-db bash-completion zsh fish clang libclang-rt-dev dpkg-dev lintian
          python3 file clang-format
          # lld links tokenctl with the cached-token path's functions together (src/hot-path.order);
          # without it the build uses GNU ld and "packaging: hot path order" is skipped.
          lld
          # The keyring module (src/keyring, libsecret) and its tests: a private session bus
          # (dbus-daemon), GNOME Keyring as the Secret Service, secret-tool and gdbus to check and
          # lock it (tests/e2e/lib/keyring.mjs). dbus-x11 is not needed: nothing uses dbus-launch.
          libsecret-1-dev dbus gnome-keyring libsecret-tools libglib2.0-bin
          # login --device's QR code: libqrencode (dlopen'd, libqrencode-dev brings libqrencode4 and
          # the header that tests/unit/test_sys_qr_encode.cpp checks tokenctl's declarations against),
          # and zbarimg to decode what tokenctl drew (tests/e2e/qr.test.mjs).
          libqrencode-dev zbar-tools)
# node and npm: Debian's, unless a node is already installed (it may bring its own npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# The second e2e authorization server (tests/e2e/lib/glewlwyd.mjs): Debian's glewlwyd, sqlite3 to
# create its database, and dbconfig-sqlite3 to satisfy its dbconfig dependency without pulling in
# a MySQL client (dbconfig-no-thanks makes glewlwyd's postinst fail).
packages+=(glewlwyd dbconfig-sqlite3 sqlite3)
# The real browser of tests/e2e/browser-real.test.mjs (driven by playwright-core from npm, below).
packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# glewlwyd's package enables a system service (port 4593, /etc/glewlwyd) and starts it where
# services may start; the tests start their own glewlwyd, so a system one just installed here is
# stopped and disabled (for systemd and for sysvinit alike; harmless where neither runs).
if [[ " ${missing[*]-} " == *" glewlwyd "* ]]; then
  as_root invoke-rc.d glewlwyd stop >/dev/null 2>&1 || true
  as_root update-rc.d glewlwyd disable >/dev/null 2>&1 || true
  as_root deb-systemd-helper disable glewlwyd.service >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now glewlwyd.service >/dev/null 2>&1 || true; fi
fi

# The local authorization server (oidc-provider) and playwright-core (drives chromium in
# tests/e2e/chromium-browser.mjs), versions pinned by the lock file.
if [ ! -d tests/e2e/node_modules/oidc-provider ] || [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "install-deps: npm ci in tests/e2e" >&2
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Databricks SDK for JavaScript (tests/e2e/databricks.test.mjs), in a package folder of its
# own so that tests/e2e's packages stay as they are. It declares node >= 22 but runs on 18.20 and
# 20 (tests/e2e/clients/README.md): npm's engine warnings are expected, --loglevel=error hides them.
if [ ! -d tests/e2e/databricks-sdk/node_modules/@databricks/sdk-experimental ]; then
  echo "install-deps: npm ci in tests/e2e/databricks-sdk" >&2
  (cd tests/e2e/databricks-sdk && npm ci --no-audit --no-fund --loglevel=error)
fi
