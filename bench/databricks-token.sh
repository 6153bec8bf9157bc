#!/usr/bin/env bash
# Benchmark of what every Databricks SDK runs for each token (auth_type = databricks-cli):
# `databricks auth token --profile NAME`, through tokenctl installed as `databricks` (a symbolic
# link, as LIBDIR/tokenctl/databricks), with a valid cached token. Against, in the same run on the
# same machine: `cat` of the same cache file (the floor for "read a file and print it") and
# `tokenctl token` on the same profile (the reference: the Databricks answer adds only JSON and a
# local-time expiry). Also the forms the SDKs send besides: `--force-refresh` inside the 60-second
# coalescing window (Go and Python send it on every call) and `--host URL` (reads every profile).
# Reports hyperfine medians and the ratios, and peak RSS.
#
#   bench/databricks-token.sh [PATH/TO/tokenctl]        (default: build/tokenctl)
#
# Needs hyperfine and GNU time (apt-get install hyperfine time). BENCH_RUNS (default 300) runs each,
# in BENCH_ROUNDS (default 5) rounds that go through every command in turn, so that a change of
# load on the machine during the run falls on all of them alike; the medians are over all runs.
# Target (issue "Databricks tools share tokenctl's login"): median of `databricks auth token`
# within 1.5x that of `tokenctl token`.
#
# Nothing here talks to a network: the profile's host is a closed loopback port, so a refresh
# that should not happen fails the run instead of reaching a server.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/tokenctl}")
runs=${BENCH_RUNS:-300}
rounds=${BENCH_ROUNDS:-5}
for tool in hyperfine /usr/bin/time node bc; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install hyperfine time nodejs bc)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One Databricks workspace profile and its token set, shaped like a real login's (opaque tokens of
# Databricks' length, the discovered endpoints), issued just now (so that --force-refresh is inside
# the coalescing window for the whole run) and valid until 2100.
node - "$work" <<'JS'
const fs = require('fs'); const path = require('path');
const dir = process.argv[2];
const host = 'https://127.0.0.1:9'; // closed: a refresh attempt fails at once
const rand = (n) => require('crypto').randomBytes(n).toString('base64url').slice(0, n);
const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const toml = `default_profile = "dbx"\n\n[profiles.dbx]\nhost = "${host}"\nprovider = "databricks"\n`;
const tokens = { dbx: { access_token: rand(43), token_type: 'Bearer', expiry: '2100-01-01T00:00:00Z',
  issued_at: now, refresh_token: `dose${rand(60)}`, scopes: ['all-apis', 'offline_access'],
  client_id: 'databricks-cli',
  endpoints: { issuer: `${host}/oidc`, authorization_endpoint: `${host}/oidc/v1/authorize`,
    token_endpoint: `${host}/oidc/v1/token` } } };
fs.mkdirSync(path.join(dir, 'config', 'tokenctl'), { recursive: true, mode: 0o700 });
fs.writeFileSync(path.join(dir, 'config', 'tokenctl', 'config.toml'), toml);
fs.writeFileSync(path.join(dir, 'config', 'tokenctl', 'token-cache.json'), JSON.stringify({ version: 1, tokens }, null, 2), { mode: 0o600 });
JS
mkdir -p "$work/lib/tokenctl"
ln -s "$bin" "$work/lib/tokenctl/databricks"
dbx="$work/lib/tokenctl/databricks"
cache="$work/config/tokenctl/token-cache.json"
export XDG_CONFIG_HOME="$work/config" HOME="$work"
unset TOKENCTL_CONFIG TOKENCTL_TOKEN_CACHE TOKENCTL_PROFILE DATABRICKS_CONFIG_FILE

# Fail loudly if the fixture is wrong (these must print without a request).
"$bin" token -p dbx >/dev/null
"$dbx" auth token --profile dbx >/dev/null
"$dbx" auth token --profile dbx --force-refresh >/dev/null

peak_rss() { # command... -> max KiB over 20 runs
  local max=0 kib
  for _ in $(seq 20); do
    /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1
    kib=$(tail -1 "$work/rss")
    [ "$kib" -gt "$max" ] && max=$kib
  done
  echo "$max"
}

median_ms() { # N -> median in ms of command N (1-based) over every round's runs
  node - "$work" "$1" <<'JS'
const fs = require('fs'); const path = require('path');
const [dir, n] = [process.argv[2], Number(process.argv[3])];
const times = fs.readdirSync(dir).filter((f) => /^round-\d+\.json$/.test(f))
  .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results[n - 1].times).sort((a, b) => a - b);
const mid = times.length / 2;
const median = times.length % 2 ? times[Math.floor(mid)] : (times[mid - 1] + times[mid]) / 2;
process.stdout.write((median * 1000).toFixed(3));
JS
}

echo "tokenctl: $bin ($("$bin" --version)); $(nproc) cores; $runs runs each in $rounds rounds; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
cmds=("cat $cache" "$bin token -p dbx" "$dbx auth token --profile dbx"
  "$dbx auth token --profile dbx --force-refresh" "$dbx auth token --host https://127.0.0.1:9")
for round in $(seq "$rounds"); do
  hyperfine -N --style none --warmup 10 --runs $(( (runs + rounds - 1) / rounds )) \
    --export-json "$work/round-$round.json" "${cmds[@]}" >/dev/null 2>&1
done
cat_ms=$(median_ms 1)
tok_ms=$(median_ms 2)
dbx_ms=$(median_ms 3)
force_ms=$(median_ms 4)
host_ms=$(median_ms 5)
ratio() { echo "$1 / $2" | bc -l; }
printf 'median: cat %s ms, tokenctl token %s ms, databricks auth token --profile %s ms = %.2fx tokenctl token, %.2fx cat\n' \
  "$cat_ms" "$tok_ms" "$dbx_ms" "$(ratio "$dbx_ms" "$tok_ms")" "$(ratio "$dbx_ms" "$cat_ms")"
printf '        --profile --force-refresh (coalesced) %s ms = %.2fx tokenctl token; --host %s ms = %.2fx tokenctl token\n' \
  "$force_ms" "$(ratio "$force_ms" "$tok_ms")" "$host_ms" "$(ratio "$host_ms" "$tok_ms")"
if [ "$(echo "$dbx_ms <= 1.5 * $tok_ms" | bc -l)" = 1 ]; then verdict=met; else verdict=missed; fi
printf 'target: databricks auth token within 1.5x tokenctl token: %s (%.2fx)\n' "$verdict" "$(ratio "$dbx_ms" "$tok_ms")"
printf 'peak RSS: databricks auth token %s KiB, tokenctl token %s KiB, cat %s KiB\n' \
  "$(peak_rss "$dbx" auth token --profile dbx)" "$(peak_rss "$bin" token -p dbx)" "$(peak_rss cat "$cache")"
