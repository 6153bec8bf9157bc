// An exclusive advisory lock on a sibling ".lock" file, held for a scope.
#pragma once

#include <chrono>
#include <string>

#include "sys/fd.hpp"

namespace tokenctl::sys {

// How long tokenctl waits for another tokenctl's lock (the cache's, the config's, a netrc's).
inline constexpr std::chrono::milliseconds k_lock_wait{60000};

class FileLock {
public:
  // Take an exclusive flock(2) on `lock_path` (created 0600 if missing), retrying on EINTR and
  // polling until `max_wait` has passed; then throw Error(failure) naming the lock file.
  static FileLock acquire(const std::string& lock_path, std::chrono::milliseconds max_wait);

  // Moving is allowed; the lock is released when its holder goes.

private:
  explicit FileLock(Fd fd) : m_fd(std::move(fd)) {}
  Fd m_fd;
};

} // namespace tokenctl::sys
