#!/bin/bash
# "packaging: install": `cmake --install` of the build tree puts exactly the expected files in
# a prefix, with the expected modes and contents, and the installed program runs from there:
# --version, `list` with a sample config, and a request that needs the network module (a
# network error, exit 4, not "cannot load the network module"). Done twice: with --prefix,
# and with DESTDIR under a prefix of /usr (the way a package is staged). A last check moves
# the module away and expects the program to say that it cannot load it, so the module check
# is known to be able to fail.
#
# Usage: test_install.sh SOURCE_DIR BUILD_DIR LIBDIR VERSION
#   LIBDIR is the build's CMAKE_INSTALL_LIBDIR (lib, or lib/<multiarch> for a /usr prefix).
# Exit 0: passed, 1: failed, 77: skipped (the build has no tokenctl to install).

set -u
src=$1 build=$2 libdir=$3 version=$4
. "$(dirname "$0")/lib.sh"
failures=0

[[ -x $build/tokenctl && -f $build/tokenctl-net.so ]] ||
  { echo "SKIP: $build has no built tokenctl and tokenctl-net.so"; exit 77; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The files (and symbolic links) under $1, relative to it, sorted.
installed_files() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort); }

# Install with the given extra arguments and environment; check the result under $root.
check_install() {
  local label=$1 root=$2
  shift 2
  local log=$scratch/install-$label.log
  if ! "$@" >"$log" 2>&1; then
    fail "$label: cmake --install failed:"$'\n'"$(cat "$log")"
    return
  fi

  local expected actual keyring_module=
  # The keyring module is built only where libsecret-1-dev was found.
  [[ -f $build/tokenctl-keyring.so ]] && keyring_module=$libdir/tokenctl/tokenctl-keyring.so
  expected=$(LC_ALL=C sort <<EOF2 | sed '/^$/d'
bin/tokenctl
$libdir/tokenctl/tokenctl-net.so
$libdir/tokenctl/databricks
$keyring_module
share/man/man1/tokenctl.1
share/bash-completion/completions/tokenctl
share/zsh/vendor-completions/_tokenctl
share/fish/vendor_completions.d/tokenctl.fish
EOF2
)
  actual=$(installed_files "$root")
  [[ $actual == "$expected" ]] ||
    fail "$label: the installed files differ from the expected list:" \
      $'\n'"$(list_diff "$expected" "$actual")"

  local want mode
  # The program is executable; the module is a shared object, 644 as Debian installs them.
  for want in "bin/tokenctl 755" "$libdir/tokenctl/tokenctl-net.so 644" "$libdir/tokenctl/tokenctl-keyring.so 644"; do
    set -- $want
    [[ -f $root/$1 ]] || continue
    mode=$(stat -c %a "$root/$1")
    [[ $mode == "$2" ]] || fail "$label: $1 has mode $mode, expected $2"
  done
  for want in "man/tokenctl.1 share/man/man1/tokenctl.1" \
              "completions/tokenctl.bash share/bash-completion/completions/tokenctl" \
              "completions/_tokenctl share/zsh/vendor-completions/_tokenctl" \
              "completions/tokenctl.fish share/fish/vendor_completions.d/tokenctl.fish"; do
    set -- $want
    [[ -f $root/$2 ]] || continue
    cmp -s "$src/$1" "$root/$2" || fail "$label: $2 is not a copy of $1"
    mode=$(stat -c %a "$root/$2")
    [[ $mode == 644 ]] || fail "$label: $2 has mode $mode, expected 644"
  done

  # `databricks` beside the modules is a relative link to the program (it still works when the
  # tree is moved, as DESTDIR staging does), and answers `version` as a Databricks CLI recent
  # enough for the SDKs.
  local link=$root/$libdir/tokenctl/databricks
  if [[ -L $link ]]; then
    [[ $(readlink "$link") != /* ]] || fail "$label: databricks links to an absolute path: $(readlink "$link")"
    [[ $(readlink -f "$link") == $(readlink -f "$root/bin/tokenctl") ]] ||
      fail "$label: databricks links to $(readlink -f "$link"), not bin/tokenctl"
    local out
    out=$(HOME=$scratch "$link" version 2>&1) || fail "$label: databricks version failed: $out"
    [[ $out == "Databricks CLI v"* ]] || fail "$label: databricks version printed '$out'"
  fi

  # The program itself needs libc alone (the C++ runtime is static, libm is not linked, libcurl,
  # OpenSSL and libsecret are in the modules): ld.so maps nothing else for a cached token.
  if command -v readelf >/dev/null; then
    local needed
    needed=$(readelf -d "$root/bin/tokenctl" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v '^ld-linux' | tr '\n' ' ')
    [[ $needed == "libc.so.6 " ]] || fail "$label: bin/tokenctl needs $needed(expected libc.so.6 alone)"
  fi

  mkdir -p "$scratch/home-$label"
  check_installed_program "$root/bin/tokenctl" "$version" "$scratch/home-$label"
}

check_install prefix "$scratch/prefix" cmake --install "$build" --prefix "$scratch/prefix"
check_install destdir "$scratch/destdir/usr" \
  env DESTDIR="$scratch/destdir" cmake --install "$build" --prefix /usr
[[ -z $(find "$scratch/destdir" -mindepth 1 -maxdepth 1 ! -name usr) ]] ||
  fail "destdir: files installed outside DESTDIR/usr: $(ls "$scratch/destdir")"

# The module check must be able to fail: without the module, the program must say so.
module=$scratch/prefix/$libdir/tokenctl/tokenctl-net.so
if [[ -f $module ]]; then
  mv "$module" "$module.away"
  mkdir -p "$scratch/home-nomodule"
  run_tokenctl "$scratch/prefix/bin/tokenctl" "$scratch/home-nomodule" \
    login --host https://127.0.0.1:9/x -p t --timeout 1s --no-browser && rc=0 || rc=$?
  [[ $rc -eq 1 ]] && grep -q 'cannot load the network module' "$scratch/home-nomodule/err" ||
    fail "without its module, expected exit 1 and 'cannot load the network module';" \
      "got exit $rc: $(cat "$scratch/home-nomodule/err")"
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "install: all checks passed ($libdir)"
