#include "sys/netrc_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "sys/file_lock.hpp"
#include "sys/files.hpp"
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
      throw Error(ErrorKind::failure,
                  path + " is a symbolic link to a file that does not exist; refusing to write through it");
    t.path = resolved;
    t.via_symlink = true;
    if (::lstat(t.path.c_str(), &st) != 0)
      throw Error(ErrorKind::failure, "cannot read " + t.path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw Error(ErrorKind::failure, t.path + " is not a regular file; refusing to write it");
  if (st.st_uid != ::geteuid())
    throw Error(ErrorKind::failure,
                t.path + " is owned by uid " + std::to_string(st.st_uid) + ", not by you; refusing to write it");
  if (st.st_nlink > 1)
    throw Error(ErrorKind::failure, t.path + " has " + std::to_string(st.st_nlink) +
                                        " hard links; replacing it would break them, so tokenctl refuses");
  t.exists = true;
  t.mode = st.st_mode & 07777;
  return t;
}

NetrcTarget NetrcStore::update(const std::function<std::string(const std::string& text)>& change) const {
  constexpr int k_attempts = 3;
  for (int attempt = 1;; ++attempt) {
    const NetrcTarget first = resolve_netrc_target(m_path);
    const FileLock lock = FileLock::acquire(first.path + ".lock", k_lock_wait);
    const NetrcTarget target = resolve_netrc_target(m_path); // again, under the lock
    if (target.path != first.path) {
      // The link was pointed elsewhere while this process waited: this lock guards another file.
      if (attempt < k_attempts) continue;
      throw Error(ErrorKind::failure, m_path + " keeps changing where it points; not writing it",
                  "run the command again");
    }
    const std::string text =
        target.exists ? read_file(target.path, k_max_netrc_bytes, ErrorKind::failure).value_or("") : "";
    const std::string changed = change(text);
    remove_stale_temporaries(target.path); // left by a write killed before its rename
    write_file_atomic(target.path, changed, 0600);
    return target;
  }
}

} // namespace tokenctl::sys
