#!/bin/bash
# "packaging: deb": build the Debian package with packaging/build-deb.sh, check its control
# fields and its exact file list, run lintian on it (no errors allowed), install it with apt,
# check the installed program (--version, `man -w`, `list` with a sample config, a request
# that needs the network module), then remove it and check that the machine's package list is
# back to what it was. It changes the machine, so it runs only as root, and skips when the
# package is already installed (it would replace the copy someone installed on purpose).
#
# Usage: test_deb.sh SOURCE_DIR BUILD_DIR VERSION
#   BUILD_DIR: where build-deb.sh builds; reused between runs, so only the first one is slow.
# Exit 0: passed, 1: failed, 77: skipped (not root, or dpkg, apt, lintian or dpkg-dev missing).

set -u
src=$1 build=$2 version=$3
. "$(dirname "$0")/lib.sh"
failures=0

[[ $(id -u) -eq 0 ]] || { echo "SKIP: installing a package needs root"; exit 77; }
for tool in dpkg dpkg-deb dpkg-query apt-get; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "SKIP: $tool is missing (not a Debian system?)"; exit 77; }
done
for tool in dpkg-shlibdeps dpkg-architecture lintian man; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "SKIP: $tool is missing (apt-get install dpkg-dev lintian man-db)"; exit 77; }
done
if dpkg-query -W -f='${db:Status-Abbrev}' tokenctl 2>/dev/null | grep -q '^.i'; then
  echo "SKIP: the tokenctl package is already installed; this test would replace and remove it"
  exit 77
fi

scratch=$(mktemp -d)
chmod 755 "$scratch"   # apt reads the .deb as the _apt user
apt_opts=(-y -q -o DPkg::Lock::Timeout=120)
installed_packages() {
  dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | LC_ALL=C sort
}
# Package names as literal text in an extended regular expression (libstdc++6, libfoo1.2).
ere() { sed 's/[.+]/\\&/g' <<<"$1"; }
# The packages that apt unpacked or set up while installing tokenctl (it may have upgraded some).
touched_packages() {
  [[ -f $scratch/install.log ]] || return 0
  sed -n -E 's/^(Unpacking|Setting up) ([^ :]+).*/\2/p' "$scratch/install.log" | LC_ALL=C sort -u
}
# Of those, the ones that were not installed before the test: apt pulled them in for tokenctl.
pulled_in() {
  local name
  for name in $(touched_packages); do
    [[ $name == tokenctl ]] || grep -q -E "^.i +$(ere "$name")\$" <<<"$before" || echo "$name"
  done
}
remove_tokenctl() {
  DEBIAN_FRONTEND=noninteractive apt-get remove "${apt_opts[@]}" tokenctl $(pulled_in) \
    >"$scratch/remove.log" 2>&1 ||
    { echo "FAIL: apt-get remove failed:"; cat "$scratch/remove.log"; return 1; }
}
# The lines of the installed-package list that name the given packages.
package_lines() { grep -E " ($(ere "$2" | tr ' ' '|'))\$" <<<"$1"; }
before=$(installed_packages)

# Whatever happens below, leave no tokenctl package behind, nor anything it pulled in.
cleanup() {
  if dpkg-query -W -f='${db:Status-Abbrev}' tokenctl 2>/dev/null | grep -q '^.i'; then
    remove_tokenctl
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Build.
start=$SECONDS
deb=$("$src/packaging/build-deb.sh" "$build" 2>"$scratch/build.log") ||
  { echo "FAIL: packaging/build-deb.sh failed:"; tail -n 40 "$scratch/build.log"; exit 1; }
echo "built $deb in $((SECONDS - start)) s"
[[ $(basename "$deb") == "tokenctl_${version}-1_$(dpkg --print-architecture).deb" ]] ||
  fail "the package is named $(basename "$deb"), expected tokenctl_${version}-1_<arch>.deb"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == tokenctl ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$version-1" ]] || fail "Version: $(field Version), expected $version-1"
[[ $(field Section) == utils ]] || fail "Section: $(field Section)"
[[ $(field Priority) == optional ]] || fail "Priority: $(field Priority)"
[[ $(field Maintainer) == "tokenctl developers <tokenctl@example.invalid>" ]] ||
  fail "Maintainer: $(field Maintainer)"
depends=$(field Depends)
for dep in libc6 libcurl4 libssl3 libsecret-1-0; do
  grep -q -E "(^|, )$dep( \(>= [^)]+\))?(,|$)" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
# libstdc++ and libgcc are linked statically: depending on them would be wrong.
grep -q -E 'libstdc\+\+|libgcc' <<<"$depends" && fail "Depends names the C++ runtime: $depends"
[[ $(field Description | sed -n 1p) == "OAuth 2.0 and OpenID Connect client and token manager" ]] ||
  fail "Description's summary: $(field Description | sed -n 1p)"
[[ $(field Description | wc -l) -ge 5 ]] || fail "Description has no extended description"

# Files: exactly these, with these modes.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
expected=$(LC_ALL=C sort <<EOF2
-rwxr-xr-x ./usr/bin/tokenctl
-rw-r--r-- ./usr/lib/$multiarch/tokenctl/tokenctl-net.so
-rw-r--r-- ./usr/lib/$multiarch/tokenctl/tokenctl-keyring.so
lrwxrwxrwx ./usr/lib/$multiarch/tokenctl/databricks
-rw-r--r-- ./usr/share/bash-completion/completions/tokenctl
-rw-r--r-- ./usr/share/doc/tokenctl/changelog.Debian.gz
-rw-r--r-- ./usr/share/doc/tokenctl/copyright
-rw-r--r-- ./usr/share/fish/vendor_completions.d/tokenctl.fish
-rw-r--r-- ./usr/share/man/man1/tokenctl.1.gz
-rw-r--r-- ./usr/share/zsh/vendor-completions/_tokenctl
EOF2
)
actual=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $6 }' | LC_ALL=C sort)
[[ $actual == "$expected" ]] ||
  fail "the package's files differ from the expected list:"$'\n'"$(list_diff "$expected" "$actual")"
# The modules are private (not in ld.so's path): no maintainer script may call ldconfig for them.
scripts=$(dpkg-deb -I "$deb" | grep -oE '\b(preinst|postinst|prerm|postrm|triggers)\b' | sort -u | tr '\n' ' ')
[[ -z $scripts ]] || fail "the package has maintainer scripts or triggers: $scripts"
owners=$(dpkg-deb -c "$deb" | awk '{ print $2 }' | sort -u)
[[ $owners == root/root ]] || fail "files not owned by root/root: $owners"

# The man page and the changelog: gzip -9n (no name, no time stamp), the man page intact.
dpkg-deb -x "$deb" "$scratch/unpacked"
for gz in usr/share/man/man1/tokenctl.1.gz usr/share/doc/tokenctl/changelog.Debian.gz; do
  [[ -f $scratch/unpacked/$gz ]] || continue
  [[ $(od -An -tx1 -j3 -N5 "$scratch/unpacked/$gz" | tr -d ' ') == 0000000000 ]] ||
    fail "$gz stores a file name or a time stamp (not gzip -n)"
  [[ $(od -An -tx1 -j8 -N1 "$scratch/unpacked/$gz" | tr -d ' ') == 02 ]] ||
    fail "$gz is not gzip -9"
done
man_gz=$scratch/unpacked/usr/share/man/man1/tokenctl.1.gz
[[ -f $man_gz ]] && { gzip -dc "$man_gz" | cmp -s - "$src/man/tokenctl.1" ||
  fail "the packaged man page is not man/tokenctl.1"; }
grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/$' \
  "$scratch/unpacked/usr/share/doc/tokenctl/copyright" 2>/dev/null ||
  fail "the copyright file is not in the machine-readable format"
grep -q '^Copyright: 2026 the tokenctl authors$' \
  "$scratch/unpacked/usr/share/doc/tokenctl/copyright" 2>/dev/null ||
  fail "the copyright file does not name 'Copyright: 2026 the tokenctl authors'"
for elf in usr/bin/tokenctl "usr/lib/$multiarch/tokenctl/tokenctl-net.so" "usr/lib/$multiarch/tokenctl/tokenctl-keyring.so"; do
  [[ -f $scratch/unpacked/$elf ]] || continue
  file_info=$(file -b "$scratch/unpacked/$elf" 2>/dev/null || true)
  [[ -z $file_info || $file_info == *", stripped"* ]] || fail "$elf is not stripped: $file_info"
done

# The Databricks SDK for Python takes a CLI smaller than 1 MiB for the legacy Python CLI and
# refuses it: the stripped program reached through usr/lib/.../tokenctl/databricks must be larger.
size=$(stat -L -c %s "$scratch/unpacked/usr/lib/$multiarch/tokenctl/databricks" 2>/dev/null || echo 0)
[[ $size -ge 1048576 ]] || fail "tokenctl as databricks is $size bytes; the Databricks SDK for Python needs 1 MiB or more"

# lintian: no errors. Its whole output is printed for the record.
lintian --fail-on error --display-info "$deb" >"$scratch/lintian.log" 2>&1 && rc=0 || rc=$?
echo "lintian (exit $rc):"
grep -v '^running with root privileges' "$scratch/lintian.log" | sed 's/^/  /'
[[ $rc -eq 0 ]] && ! grep -q '^E: ' "$scratch/lintian.log" || fail "lintian reports errors"

# Install, from the package file, the way the README says.
cp "$deb" "$scratch/"
chmod 644 "$scratch/$(basename "$deb")"
(cd "$scratch" &&
  DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "./$(basename "$deb")") \
  >"$scratch/install.log" 2>&1 ||
  { echo "FAIL: apt-get install failed:"; cat "$scratch/install.log"; exit 1; }

[[ $(command -v tokenctl) == /usr/bin/tokenctl ]] ||
  fail "tokenctl on PATH is '$(command -v tokenctl)', expected /usr/bin/tokenctl"
[[ -f /usr/lib/$multiarch/tokenctl/tokenctl-net.so ]] ||
  fail "/usr/lib/$multiarch/tokenctl/tokenctl-net.so is missing"
if grep -rqs '^path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
  echo "note: dpkg here excludes /usr/share/man (a minimal image): man -w not checked"
else
  man_path=$(man -w tokenctl 2>&1)
  [[ $man_path == /usr/share/man/man1/tokenctl.1.gz ]] ||
    fail "man -w tokenctl: '$man_path', expected /usr/share/man/man1/tokenctl.1.gz"
fi
mkdir -p "$scratch/home"
check_installed_program /usr/bin/tokenctl "$version" "$scratch/home"

# Remove, and check that everything is gone and that the packages apt touched are as they were.
# (Only those: other people may install packages on this machine while the test runs.)
pulled=$(pulled_in | xargs)
touched=$(touched_packages | xargs)
[[ -z $pulled ]] || echo "note: installing the package pulled in: $pulled (removed again below)"
remove_tokenctl || exit 1
for path in /usr/bin/tokenctl "/usr/lib/$multiarch/tokenctl" /usr/share/man/man1/tokenctl.1.gz \
            /usr/share/doc/tokenctl /usr/share/bash-completion/completions/tokenctl \
            /usr/share/zsh/vendor-completions/_tokenctl \
            /usr/share/fish/vendor_completions.d/tokenctl.fish; do
  [[ ! -e $path ]] || fail "$path is still there after apt-get remove"
done
[[ " $touched " == *" tokenctl "* ]] || fail "apt's log does not show tokenctl being set up"
after=$(installed_packages)
was=$(package_lines "$before" "$touched")
now=$(package_lines "$after" "$touched")
[[ $now == "$was" ]] ||
  fail "after removal, the packages apt touched ($touched) are not as before the test:" \
    $'\n'"$(list_diff "$was" "$now")"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "deb: all checks passed ($(basename "$deb"), $((SECONDS - start)) s)"
