// An exclusive advisory lock on a sibling ".lock" file, held for a scope.
#pragma once

#include <chrono>
#include <string>

namespace tokenctl::sys {

class FileLock {
public:
  // Take an exclusive flock(2) on `lock_path` (created 0600 if missing), retrying on EINTR and
  // polling until `max_wait` has passed; then throw Error(failure) naming the lock file.
  static FileLock acquire(const std::string& lock_path, std::chrono::milliseconds max_wait);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

} // namespace tokenctl::sys
