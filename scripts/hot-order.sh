#!/usr/bin/env bash
# Write src/hot-path.order: the functions that `tokenctl token` runs with a valid cached token
# (1 profile and 1,000, default profile and -p), as their symbol names, for lld's
# --symbol-ordering-file. Linked in that order they sit together at the start of the program's
# code, so a run maps a few pages of it instead of touching most of its 1.7 MB (measured: peak RSS
# 3.2 -> 2.0 MiB, 122 -> 107 page faults with one profile). The file is a layout hint only: a
# name that no longer exists is skipped by the linker, and tests/packaging/hot_order.sh fails when
# too many have gone, which is when to run this again.
#
#   scripts/hot-order.sh [PATH/TO/tokenctl]        (default: build/tokenctl; needs valgrind, node)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/tokenctl}")
for tool in valgrind node python3; do
  command -v "$tool" >/dev/null || { echo "hot-order: $tool is missing (apt-get install valgrind nodejs python3)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source bench/fixture.sh
runs=()
for n in 1 1000; do
  make_fixture "$work/p$n" "$n"
  for args in "token" "token -p p0"; do
    out="$work/callgrind.$n.${#runs[@]}"
    # shellcheck disable=SC2086 # the words of $args are the arguments
    XDG_CONFIG_HOME="$work/p$n" HOME="$work" valgrind --tool=callgrind --demangle=no --callgrind-out-file="$out" \
      "$bin" $args >/dev/null 2>"$work/valgrind.log" || { cat "$work/valgrind.log" >&2; exit 1; }
    runs+=("$out")
  done
done
# The functions of the program's own object, first-seen order, from callgrind's name tables.
python3 - "$bin" "${runs[@]}" >src/hot-path.order <<'PY'
import re, sys
binary, files = sys.argv[1], sys.argv[2:]
seen, names = set(), []
for path in files:
    objects, functions, current = {}, {}, None
    with open(path) as f:
        for line in f:
            m = re.match(r'^(c?ob|c?fn)=\((\d+)\)(?: (.*))?$', line.rstrip('\n'))
            if not m:
                continue
            kind, ident, name = m.groups()
            table = objects if kind.endswith('ob') else functions
            if name:
                table[ident] = name
            if kind == 'ob':
                current = objects[ident]
            elif kind == 'fn' and current == binary:
                symbol = functions[ident]
                if symbol not in seen and not symbol.startswith('0x'):
                    seen.add(symbol)
                    names.append(symbol)
print('\n'.join(names))
PY
echo "hot-order: $(wc -l <src/hot-path.order) functions written to src/hot-path.order"
