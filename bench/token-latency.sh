#!/usr/bin/env bash
# Benchmark of the hot path: `tokenctl token` with a valid cached token, against `cat` of the same
# cache file (the floor for "read a file and print it") and, when installed, `gh auth token` with a
# file-stored token, in the same run on the same machine. Reports median wall times, ratios and
# peak RSS, for 1 profile and for 1,000 profiles in the config and the cache.
#
#   bench/token-latency.sh [PATH/TO/tokenctl]        (default: build/tokenctl)
#
# Needs hyperfine and GNU time (apt-get install hyperfine time); gh is optional (apt-get install gh).
# Targets: median <= 1.2x cat with 1 profile, <= 2x with 1,000; peak RSS < 3 MiB with 1 profile;
# >= 25x faster than gh auth token; `tokenctl list` with 1,000 profiles <= 10x cat (it reads and
# parses the whole config and cache); a client-credentials refresh <= 1.3x the same POST made by
# curl (against the e2e test server, when its node modules are installed). Each line says whether
# its target is met.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/tokenctl}")
runs=${BENCH_RUNS:-300}
for tool in hyperfine /usr/bin/time node bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine time nodejs)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# make_fixture DIR N: a config and a cache of N profiles (shared with scripts/hot-order.sh).
source bench/fixture.sh

# gh with a file-stored token (no keyring): hosts.yml in its own config folder.
gh_dir="$work/gh"
mkdir -p "$gh_dir"
printf 'github.com:\n    oauth_token: gho_%s\n    user: bench\n    git_protocol: https\n' \
  "$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$gh_dir/hosts.yml"

peak_rss() { # command... -> max KiB over 20 runs
  local max=0 kib
  for _ in $(seq 20); do
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1
    kib=$(tail -1 "$work/rss")
    [ "$kib" -gt "$max" ] && max=$kib
  done
  echo "$max"
}

median_ms() { # csv-file row -> median in ms
  awk -F, -v row="$2" 'NR == row + 1 { printf "%.3f", $4 * 1000 }' "$1"
}

report() { # N
  local n=$1
  local dir="$work/p$n"
  make_fixture "$dir" "$n"
  export XDG_CONFIG_HOME="$dir" HOME="$work"
  unset TOKENCTL_CONFIG TOKENCTL_TOKEN_CACHE TOKENCTL_PROFILE
  local cache="$dir/tokenctl/token-cache.json"
  "$bin" token >/dev/null # fails loudly if the fixture is wrong
  "$bin" list >/dev/null
  local cmds=("cat $cache" "$bin token" "$bin list")
  local have_gh=0
  if command -v gh >/dev/null && GH_CONFIG_DIR="$gh_dir" gh auth token >/dev/null 2>&1; then
    have_gh=1
    cmds+=("env GH_CONFIG_DIR=$gh_dir gh auth token")
  fi
  hyperfine -N --style none --warmup 20 --runs "$runs" --export-csv "$work/r$n.csv" "${cmds[@]}" >/dev/null 2>&1
  local cat_ms tok_ms list_ms gh_ms ratio target rss
  cat_ms=$(median_ms "$work/r$n.csv" 1)
  tok_ms=$(median_ms "$work/r$n.csv" 2)
  list_ms=$(median_ms "$work/r$n.csv" 3)
  ratio=$(echo "$tok_ms / $cat_ms" | bc -l)
  target=$([ "$n" = 1 ] && echo 1.2 || echo 2)
  printf '%-9s cache %7s bytes | median: cat %s ms, tokenctl token %s ms = %.2fx cat (target %sx: %s)' \
    "$n prof." "$(stat -c %s "$cache")" "$cat_ms" "$tok_ms" "$ratio" "$target" "$(verdict "$ratio <= $target")"
  if [ $have_gh = 1 ]; then
    gh_ms=$(median_ms "$work/r$n.csv" 4)
    ratio=$(echo "$gh_ms / $tok_ms" | bc -l)
    printf ', gh auth token %s ms (tokenctl %.1fx faster' "$gh_ms" "$ratio"
    [ "$n" = 1 ] && printf '; target 25x: %s' "$(verdict "$ratio >= 25")"
    printf ')'
  fi
  ratio=$(echo "$list_ms / $cat_ms" | bc -l)
  printf '\n          tokenctl list %s ms = %.2fx cat' "$list_ms" "$ratio"
  [ "$n" = 1000 ] && printf ' (target 10x: %s)' "$(verdict "$ratio <= 10")"
  rss=$(peak_rss "$bin" token)
  printf '\n          peak RSS: tokenctl token %s KiB, cat %s KiB' "$rss" "$(peak_rss cat "$cache")"
  [ "$n" = 1 ] && printf ' (target < 3072 KiB: %s)' "$(verdict "$rss < 3072")"
  printf '\n'
}

verdict() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo MISSED; }

# A refresh: a client-credentials profile against the e2e test server (oidc-provider) over plain
# http on loopback, against the same POST made by curl. The split of what tokenctl adds comes from
# variants in the same run: both programs against a closed port (start-up, fork, network module and
# libcurl set-up, no server time), `tokenctl token` on the same profile (start-up alone), and the
# fsyncs as strace times them. Needs the e2e test's node modules (`npm ci` in tests/e2e, which
# scripts/test.sh runs).
report_refresh() {
  if [ ! -d tests/e2e/node_modules/oidc-provider ]; then
    echo "refresh: skipped (the test server's modules are missing: run npm ci in tests/e2e)"
    return
  fi
  local dir="$work/refresh" secret
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  mkdir -p "$dir/tokenctl"
  chmod 700 "$dir" "$dir/tokenctl"
  mkfifo "$dir/hold"
  node tests/e2e/lib/server-main.mjs --no-tls --ci-secret "$secret" --stop-on-stdin-eof <"$dir/hold" >"$dir/server.out" 2>/dev/null &
  exec 9>"$dir/hold" # the server stops when this end closes (at exit)
  local ready=""
  for _ in $(seq 100); do
    ready=$(sed -n 's/^READY //p' "$dir/server.out")
    [ -n "$ready" ] && break
    sleep 0.1
  done
  [ -n "$ready" ] || { echo "refresh: the test server did not start" >&2; return; }
  local issuer token_url
  issuer=$(node -e 'console.log(JSON.parse(process.argv[1]).issuer)' "$ready")
  token_url=$(node -e 'console.log(JSON.parse(process.argv[1]).endpoints.token_endpoint)' "$ready")
  printf '[profiles.ci]\nhost = "%s"\ngrant = "client_credentials"\nclient_id = "ci-runner"\nclient_secret_env = "BENCH_SECRET"\n' \
    "$issuer" >"$dir/tokenctl/config.toml"
  printf '[profiles.ci]\nhost = "http://127.0.0.1:9"\ngrant = "client_credentials"\nclient_id = "ci-runner"\nclient_secret_env = "BENCH_SECRET"\n' \
    >"$dir/closed.toml"
  printf 'grant_type=client_credentials' >"$dir/body"
  printf 'user = "ci-runner:%s"\n' "$secret" >"$dir/curlrc"
  export XDG_CONFIG_HOME="$dir" HOME="$work" BENCH_SECRET="$secret"
  unset TOKENCTL_CONFIG TOKENCTL_TOKEN_CACHE TOKENCTL_PROFILE
  "$bin" refresh -p ci -q # fails loudly if the set-up is wrong
  local curl_cmd="curl -sf -K $dir/curlrc -d @$dir/body -o /dev/null"
  local cmds=("env $curl_cmd $token_url" "env $bin refresh -p ci -q"
    "env $curl_cmd http://127.0.0.1:9/token" "env TOKENCTL_CONFIG=$dir/closed.toml $bin refresh -p ci -q"
    "env $bin token -p ci")
  hyperfine -N -i --style none --warmup 10 --runs "$((runs / 3 + 1))" --export-csv "$work/refresh.csv" "${cmds[@]}" >/dev/null 2>&1
  local curl_ms tok_ms curl_closed tok_closed cached ratio
  curl_ms=$(median_ms "$work/refresh.csv" 1)
  tok_ms=$(median_ms "$work/refresh.csv" 2)
  curl_closed=$(median_ms "$work/refresh.csv" 3)
  tok_closed=$(median_ms "$work/refresh.csv" 4)
  cached=$(median_ms "$work/refresh.csv" 5)
  ratio=$(echo "$tok_ms / $curl_ms" | bc -l)
  printf 'refresh   client credentials, http on loopback | median: curl %s ms, tokenctl refresh %s ms = %.2fx curl (target 1.3x: %s)\n' \
    "$curl_ms" "$tok_ms" "$ratio" "$(verdict "$ratio <= 1.3")"
  printf '          split: the server'"'"'s part (curl - curl on a closed port) %.2f ms; up to the first byte sent (a closed port:\n' \
    "$(echo "$curl_ms - $curl_closed" | bc -l)"
  printf '          start-up, lock, fork, network module with libcurl) tokenctl %s ms, curl %s ms; tokenctl token on the\n' \
    "$tok_closed" "$curl_closed"
  printf '          same profile (start-up alone) %s ms' "$cached"
  # The fsyncs (file and folder) as the kernel times them, averaged over 20 refreshes.
  if command -v strace >/dev/null; then
    local total=0 one
    for _ in $(seq 20); do
      strace -f -c -e trace=fsync -o "$work/fsync" "$bin" refresh -p ci -q
      one=$(awk '$NF == "fsync" { print $2 }' "$work/fsync")
      total=$(echo "$total + ${one:-0}" | bc -l)
    done
    printf '; the two fsyncs %.2f ms' "$(echo "$total * 1000 / 20" | bc -l)"
  else
    printf '; fsyncs not measured (apt-get install strace)'
  fi
  printf '\n'
}

echo "tokenctl: $bin ($("$bin" --version)); $(nproc) cores; $runs runs each; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
command -v gh >/dev/null || echo "gh: not installed (apt-get install gh to compare)"
report 1
report 1000
report_refresh
