#!/bin/sh
# A stand-in for the Databricks CLI, for testing the SDK mimic clients in this folder (not for
# testing tokenctl). POSIX sh and GNU date. It answers the calls the SDKs make:
#   databricks version                  -> "Databricks CLI v<version>"
#   databricks version --output json    -> the CLI's build.Info JSON (Major, Minor, Patch, ...)
#   databricks auth token [--profile P | --host URL [--account-id ID]] [--force-refresh]
#                                       -> {"access_token", "token_type", "expiry"}, indented as the
#                                          CLI's json.MarshalIndent prints it
# Chosen with environment variables:
#   FAKE_DATABRICKS_VERSION        the version it claims (default 0.296.0; empty: `version` fails)
#   FAKE_DATABRICKS_EXPIRY_US      the expiry instant, microseconds since the epoch
#                                  (default: now + 3600 s with a .123456 fraction)
#   FAKE_DATABRICKS_EXPIRY_FORMAT  how `expiry` is written (default local-frac):
#       local-frac    local wall time, 6 fraction digits, numeric offset (+00:00 in UTC):
#                     2026-09-01T16:24:11.123456+02:00 (the format tokenctl will print)
#       go            what the real CLI prints: Go's time.RFC3339Nano of a local time (trailing
#                     fraction zeros dropped, no fraction when zero, "Z" for a zero offset)
#       local-nofrac  2026-09-01T16:24:11+02:00
#       utc-z         2026-09-01T14:24:11.123456Z
#       utc-z-nofrac  2026-09-01T14:24:11Z
#       literal       FAKE_DATABRICKS_EXPIRY as is
#   FAKE_DATABRICKS_MODE           ok (default) | not-configured (the CLI's "databricks OAuth is not
#                                  configured for this host" failure) | old-profile (refuses
#                                  --profile with "unknown flag: --profile") | fail (exit 1)
#   FAKE_DATABRICKS_LOG            append one JSON line per call: {"argv": [...], "tz": "..."}
# The access token it prints is FAKE_ACCESS_TOKEN below. The file is under 1 MiB, which the SDKs
# refuse as the legacy CLI; databricks-clients.test.mjs makes padded copies (a trailing comment
# after the final exit, which the shell never reads).

FAKE_ACCESS_TOKEN=fake-databricks-access-token-0123456789abcdef

json_escape() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

if [ -n "${FAKE_DATABRICKS_LOG:-}" ]; then
  list=
  for a in "$@"; do
    list="$list${list:+,}\"$(json_escape "$a")\""
  done
  printf '{"argv":[%s],"tz":"%s"}\n' "$list" "$(json_escape "${TZ:-}")" >>"$FAKE_DATABRICKS_LOG"
fi

version=${FAKE_DATABRICKS_VERSION-0.296.0}

if [ "${1:-}" = version ]; then
  if [ -z "$version" ]; then
    echo 'Error: unknown command "version" for "databricks"' >&2
    exit 1
  fi
  json=no
  prev=
  for a in "$@"; do
    case "$prev/$a" in --output/json | -o/json | */--output=json) json=yes ;; esac
    prev=$a
  done
  if [ "$json" = no ]; then
    printf 'Databricks CLI v%s\n' "$version"
    exit 0
  fi
  core=${version%%[-+]*}
  major=${core%%.*}
  rest=${core#*.}
  minor=${rest%%.*}
  patch=${rest#*.}
  pre=
  case "$version" in *-*) pre=${version#*-}; pre=${pre%%+*} ;; esac
  cat <<EOF
{
  "ProjectName": "cli",
  "Version": "$version",
  "Branch": "HEAD",
  "Tag": "v$version",
  "ShortCommit": "0123456",
  "FullCommit": "0123456789abcdef0123456789abcdef01234567",
  "CommitTime": "2026-01-01T00:00:00Z",
  "Summary": "v$version",
  "Major": $major,
  "Minor": $minor,
  "Patch": $patch,
  "Prerelease": "$pre",
  "IsSnapshot": false,
  "BuildTime": "2026-01-01T00:00:00Z"
}
EOF
  exit 0
fi

if [ "${1:-}" = auth ] && [ "${2:-}" = token ]; then
  mode=${FAKE_DATABRICKS_MODE:-ok}
  if [ "$mode" = old-profile ]; then
    for a in "$@"; do
      case "$a" in --profile | --profile=*)
        echo 'Error: unknown flag: --profile' >&2
        exit 1 ;;
      esac
    done
  fi
  case "$mode" in
    not-configured)
      # shellcheck disable=SC2016 # the backquotes are text, as in the CLI's message
      echo 'Error: cache: databricks OAuth is not configured for this host. Try logging in again with `databricks auth login --host https://example` before retrying.' >&2
      exit 1 ;;
    fail)
      echo 'Error: a refresh token is invalid' >&2
      exit 1 ;;
  esac
  us=${FAKE_DATABRICKS_EXPIRY_US:-$(( ($(date +%s) + 3600) * 1000000 + 123456 ))}
  sec=$((us / 1000000))
  frac=$(printf '%06d' $((us % 1000000)))
  local_time=$(date -d "@$sec" '+%Y-%m-%dT%H:%M:%S')
  offset=$(date -d "@$sec" '+%:z')
  utc_time=$(date -u -d "@$sec" '+%Y-%m-%dT%H:%M:%S')
  case "${FAKE_DATABRICKS_EXPIRY_FORMAT:-local-frac}" in
    local-frac) expiry="$local_time.$frac$offset" ;;
    go)
      gofrac=$(printf '%s' "$frac" | sed 's/0*$//')
      [ "$offset" = +00:00 ] && offset=Z
      expiry="$local_time${gofrac:+.$gofrac}$offset" ;;
    local-nofrac) expiry="$local_time$offset" ;;
    utc-z) expiry="$utc_time.${frac}Z" ;;
    utc-z-nofrac) expiry="${utc_time}Z" ;;
    literal) expiry=${FAKE_DATABRICKS_EXPIRY:-} ;;
    *)
      echo "fake-databricks: unknown FAKE_DATABRICKS_EXPIRY_FORMAT" >&2
      exit 2 ;;
  esac
  printf '{\n  "access_token": "%s",\n  "token_type": "Bearer",\n  "expiry": "%s"\n}' \
    "$FAKE_ACCESS_TOKEN" "$(json_escape "$expiry")"
  exit 0
fi

echo "Error: unknown command \"${1:-}\" for \"databricks\"" >&2
exit 1
