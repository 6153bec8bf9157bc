// The .netrc file on disk: where it really is (through a symlink), who owns it, its mode.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace tokenctl::sys {

struct NetrcTarget {
  std::string path;                              // the file to replace (a symlink's target)
  bool via_symlink = false;
  bool exists = false;
  mode_t mode = 0600;                            // permission bits of the existing file
};

// Resolve `path` for an update: follow a symlink to its target (keeping the link), and refuse
// (Error(failure)) a file owned by another user, a hard-linked file (a rename would break the
// link), a dangling link or anything that is not a regular file.
NetrcTarget resolve_netrc_target(const std::string& path);

} // namespace tokenctl::sys
