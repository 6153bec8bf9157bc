#!/bin/bash
# "packaging: hot path order": the program linked with lld in the order of src/hot-path.order
# has the cached-token path's functions together at the start of its code. Fails when too many of
# the file's names are gone from the program (run scripts/hot-order.sh), or when they are not laid
# out together (the ordering was not applied).
#
# Usage: test_hot_order.sh SOURCE_DIR PROGRAM
# Exit 0: passed, 1: failed, 77: skipped (the program was not linked by lld: no ordering).
set -u
src=$1 bin=$2
order=$src/src/hot-path.order
readelf -p .comment "$bin" 2>/dev/null | grep -q 'LLD' ||
  { echo "SKIP: $bin was not linked by lld (apt-get install lld to lay out the hot path)"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Defined code symbols: address, size, name.
nm --defined-only -S "$bin" | awk '$3 ~ /^[tTwW]$/ { print $1, $2, $4 }' | sort -k3 >"$scratch/symbols"
sort -u "$order" >"$scratch/wanted"
join -1 3 -2 1 -o 1.1,1.2,1.3 "$scratch/symbols" "$scratch/wanted" >"$scratch/found"
wanted=$(wc -l <"$scratch/wanted")
found=$(cut -d' ' -f3 "$scratch/found" | sort -u | wc -l)
echo "names in src/hot-path.order: $wanted, in the program: $found"
if ((found * 10 < wanted * 9)); then
  echo "FAIL: fewer than 90% of the names in src/hot-path.order are in the program: run scripts/hot-order.sh"
  exit 1
fi
# Laid out together: the span from the first to the last of them is at most their total size plus
# a little (alignment), not spread over the whole text.
min=-1 max=0 total=0
while read -r address size _; do
  ((a = 16#$address, n = 16#$size, total += n))
  ((min < 0 || a < min)) && min=$a
  ((a + n > max)) && max=$((a + n))
done <"$scratch/found"
span=$((max - min))
echo "their span: $span bytes, their total size: $total bytes"
if ((span > total * 3 / 2 + 4096)); then
  echo "FAIL: the hot path's functions are spread over $span bytes for $total bytes of code: the order was not applied"
  exit 1
fi
echo "PASS"
