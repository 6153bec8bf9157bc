#!/usr/bin/env bash
# Set up, build and run every test:
#   0. the format check (.clang-format; scripts/format.sh rewrites);
#   1. the release build: unit tests (doctest), end-to-end tests of the built binary against a real
#      authorization server on loopback, doc tests, install and Debian package tests (CTest);
#   2. every fuzz target for FUZZ_SECONDS (default 30) on its seed corpus (libFuzzer, ASan, UBSan);
#   3. the unit and end-to-end tests again, built with AddressSanitizer and UBSan (CTest).
# TOKENCTL_QUICK=1 runs only step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/format.sh --check
scripts/build.sh
ctest --test-dir build --output-on-failure --timeout 1200 -j 2
[ "${TOKENCTL_QUICK:-0}" = 1 ] && exit 0

echo "== fuzzing: ${FUZZ_SECONDS:-30}s per target"
scripts/fuzz.sh

echo "== unit and e2e tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTOKENCTL_WERROR=ON -DTOKENCTL_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$(nproc)"
# Not the crash loop (e2e: crash): hundreds of SIGKILLs that test timing, not memory, and take
# minutes; the keyring crash loop still runs here.
# ASan lowers the soft core limit to 0 in every process it starts in, which would hide whether
# tokenctl gives exec's command the user's limit back (e2e: coredump); tokenctl sets its own to 0.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}disable_coredump=0 \
  ctest --test-dir build-asan --output-on-failure --timeout 1200 -j 2 -LE 'docs|packaging' -E '^e2e: crash$'
