# The Debian package, built by CPack's DEB generator (packaging/build-deb.sh runs it).
#
# Included at the end of the top-level CMakeLists.txt, after the install() rules, so that the
# package holds exactly what `cmake --install` installs, plus what Debian asks of every
# package: stripped binaries, /usr/share/doc/tokenctl/copyright, changelog.Debian.gz, and a
# man page compressed with `gzip -9n`. Those are done by deb_layout.cmake, an install script
# that acts only when CPack sets TOKENCTL_DEB_LAYOUT (CPACK_CUSTOM_INSTALL_VARIABLES), so a
# plain `cmake --install` installs unstripped binaries, a plain man page and no Debian files.
#
# Runtime dependencies come from dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS): it reads the
# ELF files (the program and the network module) and maps each shared library they need to
# the Debian package that provides it, with the minimum version that the symbols require.
# A library loaded with dlopen() by name is not among them (libqrencode4: see RECOMMENDS below).
# The keyring module (storage = "keyring") links libsecret, so the package depends on
# libsecret-1-0 (and through it GLib); the program itself loads neither until a keyring profile
# needs its refresh token.

set(TOKENCTL_DEB_RELEASE 1)
set(TOKENCTL_DEB_VERSION "${PROJECT_VERSION}-${TOKENCTL_DEB_RELEASE}")
set(TOKENCTL_DEB_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}")
set(TOKENCTL_DEB_MANDIR "${CMAKE_INSTALL_MANDIR}")
set(TOKENCTL_DEB_DOCDIR "${CMAKE_INSTALL_DATADIR}/doc/tokenctl")
configure_file("${CMAKE_CURRENT_LIST_DIR}/deb_layout.cmake.in"
  "${CMAKE_CURRENT_BINARY_DIR}/packaging/deb_layout.cmake" @ONLY)
install(SCRIPT "${CMAKE_CURRENT_BINARY_DIR}/packaging/deb_layout.cmake")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tokenctl)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "the tokenctl authors")
set(CPACK_PACKAGE_CONTACT "tokenctl developers <tokenctl@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "OAuth 2.0 and OpenID Connect client and token manager")
set(CPACK_PACKAGE_DESCRIPTION_FILE "${CMAKE_CURRENT_LIST_DIR}/description.txt")
set(CPACK_CUSTOM_INSTALL_VARIABLES "TOKENCTL_DEB_LAYOUT=ON")

set(CPACK_DEBIAN_PACKAGE_NAME tokenctl)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${TOKENCTL_DEB_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "tokenctl developers <tokenctl@example.invalid>")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libqrencode draws login --device's QR code. The program dlopen()s it when it draws one (linked,
# it would load at every start), so dpkg-shlibdeps cannot see it: named here. Recommends, not
# Depends: without it, login --device says so in one line and prints the addresses alone.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libqrencode4")
# The program opens the login page with xdg-open when $BROWSER is not set.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xdg-utils")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

include(CPack)
