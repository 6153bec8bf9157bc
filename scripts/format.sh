#!/usr/bin/env bash
# Format the C++ sources with clang-format and the top-level .clang-format.
#   scripts/format.sh           rewrite every file that differs
#   scripts/format.sh --check   change nothing; list the files that differ and exit 1 if any
# The files: every tracked .cpp, .hpp and .h under src, include, tests, fuzz and bench (git
# ls-files, so generated and third-party files are never touched). Also run by the CMake targets
# `format` and `check-format`, and by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-$(command -v clang-format || command -v clang-format-14 || true)}
[[ -n $clang_format ]] || { echo "format: clang-format is missing (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files -- 'src/*.cpp' 'src/*.hpp' 'src/*.h' 'include/*.hpp' \
  'tests/*.cpp' 'tests/*.hpp' 'fuzz/*.cpp' 'bench/*.cpp')
if [[ ${1:-} == --check ]]; then
  differ=()
  for f in "${files[@]}"; do
    "$clang_format" --style=file "$f" | cmp -s - "$f" || differ+=("$f")
  done
  if [[ ${#differ[@]} -gt 0 ]]; then
    echo "format: ${#differ[@]} file(s) differ from .clang-format (run scripts/format.sh):" >&2
    printf '  %s\n' "${differ[@]}" >&2
    exit 1
  fi
  echo "format: ${#files[@]} files match .clang-format"
else
  "$clang_format" --style=file -i "${files[@]}"
fi
