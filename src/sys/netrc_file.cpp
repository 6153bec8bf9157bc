#include "sys/netrc_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "tokenctl/error.hpp"

namespace tokenctl::sys {

NetrcTarget resolve_netrc_target(const std::string& path) {
  NetrcTarget t;
  t.path = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return t;
    throw Error(ErrorKind::failure, "cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr)
      throw Error(ErrorKind::failure, path + " is a symbolic link to a file that does not exist; refusing to write through it");
    t.path = resolved;
    t.via_symlink = true;
    if (::lstat(t.path.c_str(), &st) != 0)
      throw Error(ErrorKind::failure, "cannot read " + t.path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::failure, t.path + " is not a regular file; refusing to write it");
  if (st.st_uid != ::geteuid())
    throw Error(ErrorKind::failure, t.path + " is owned by uid " + std::to_string(st.st_uid) + ", not by you; refusing to write it");
  if (st.st_nlink > 1)
    throw Error(ErrorKind::failure, t.path + " has " + std::to_string(st.st_nlink) +
                                        " hard links; replacing it would break them, so tokenctl refuses");
  t.exists = true;
  t.mode = st.st_mode & 07777;
  return t;
}

} // namespace tokenctl::sys
