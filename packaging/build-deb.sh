#!/usr/bin/env bash
# Build the Debian package of tokenctl: a Release build in build-pkg/ (or the folder given as
# the first argument), installed under /usr, without the tests, packaged by CPack's DEB
# generator. Prints the path of the .deb on standard output; everything else goes to stderr.
#
# Usage: packaging/build-deb.sh [BUILD_DIR]
# Needs: the build dependencies of the README, plus dpkg-dev (dpkg-shlibdeps computes the
# package's dependencies, dpkg-buildflags gives Debian's hardening flags).
# The build folder is reused: a second run rebuilds only what changed.
# CMAKE_BUILD_PARALLEL_LEVEL limits the number of compile jobs, as for any cmake --build.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-pkg}
mkdir -p "$build"
build=$(cd "$build" && pwd)

for tool in cmake cpack dpkg-shlibdeps dpkg-buildflags gzip; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "build-deb: $tool is missing (apt-get install cmake dpkg-dev gzip)" >&2; exit 1; }
done

# Debian's compiler and linker flags: fortified functions, stack protector, full RELRO, PIE,
# and file paths in debug data made relative to the source folder (dpkg-buildflags takes the
# working folder as the source folder).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cxxflags=$(cd "$src" && echo "$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)")
ldflags=$(cd "$src" && dpkg-buildflags --get LDFLAGS)

generator=()
[[ -f $build/CMakeCache.txt ]] || { command -v ninja >/dev/null 2>&1 && generator=(-G Ninja); }

cmake -S "$src" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr \
  -DTOKENCTL_TESTS=OFF \
  -DTOKENCTL_WERROR=OFF \
  "-DCMAKE_CXX_FLAGS=$cxxflags" \
  "-DCMAKE_EXE_LINKER_FLAGS=$ldflags" \
  "-DCMAKE_MODULE_LINKER_FLAGS=$ldflags" >&2
cmake --build "$build" >&2

rm -f "$build"/tokenctl_*.deb
(cd "$build" && cpack -G DEB -B "$build" >&2)
rm -rf "$build/_CPack_Packages"

debs=("$build"/tokenctl_*.deb)
if [[ ${#debs[@]} -ne 1 || ! -f ${debs[0]} ]]; then
  echo "build-deb: expected one tokenctl_*.deb in $build, found: ${debs[*]}" >&2
  exit 1
fi
echo "${debs[0]}"
