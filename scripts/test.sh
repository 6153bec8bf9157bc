#!/usr/bin/env bash
# Set up, build and run every test: unit tests (doctest) and end-to-end tests of the built
# binary against a real authorization server on loopback, all through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 300 -j 2
