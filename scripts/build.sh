#!/usr/bin/env bash
# Configure and build tokenctl and its tests in ./build (warnings are errors here).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENCTL_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)"
