// The .netrc file on disk: where it really is (through a symlink), who owns it, its mode.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <functional>
#include <string>
#include <utility>

namespace tokenctl::sys {

// Bigger netrc files are refused rather than read.
inline constexpr std::size_t k_max_netrc_bytes = 1024 * 1024;

struct NetrcTarget {
  std::string path; // the file to replace (a symlink's target)
  bool via_symlink = false;
  bool exists = false;
  mode_t mode = 0600; // permission bits of the existing file
};

// Resolve `path` for an update: follow a symlink to its target (keeping the link), and refuse
// (Error(failure)) a file owned by another user, a hard-linked file (a rename would break the
// link), a dangling link or anything that is not a regular file.
NetrcTarget resolve_netrc_target(const std::string& path);

// The netrc file, updated as TokenStore updates the cache: under a sibling lock of the file that
// is written, re-resolved under that lock, replaced atomically with mode 0600.
class NetrcStore {
public:
  explicit NetrcStore(std::string path) : m_path(std::move(path)) {}

  // Lock the file `path` leads to (a symlink's target), resolve it again under the lock (if the
  // link now leads elsewhere, lock that instead, a few times at most), read it ("" when it does
  // not exist), let `change` make the new text, and replace the file atomically (0600), removing
  // temporaries that killed writers left. Return the target as it was before the write.
  NetrcTarget update(const std::function<std::string(const std::string& text)>& change) const;

private:
  std::string m_path;
};

} // namespace tokenctl::sys
