// The cache lock: flock(2) on a sibling ".lock" file that is never renamed or removed.
//
// flock locks belong to the open file description, so an unrelated close() elsewhere in the
// process cannot drop them (as it would a POSIX fcntl lock), and the kernel releases them when the
// holder dies. Waiting is a LOCK_NB poll rather than a blocking LOCK_EX, so that the wait is bounded
// and ends in a message instead of a hang behind a stuck process.
#include "sys/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "tokenctl/error.hpp"

namespace tokenctl::sys {

namespace {

constexpr std::chrono::milliseconds k_poll_interval{20};

// Say how long we waited: "60s" for whole seconds, else "250ms".
std::string wait_text(std::chrono::milliseconds wait) {
  if (wait.count() % 1000 == 0) return std::to_string(wait.count() / 1000) + "s";
  return std::to_string(wait.count()) + "ms";
}

int open_lock_file(const std::string& lock_path) {
  int fd = -1;
  do {
    fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw Error(ErrorKind::failure, "cannot open the lock file " + lock_path + ": " + std::strerror(errno));
  // The umask may have taken bits from 0600; a lock file of ours gets exactly 0600.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && (st.st_mode & 07777) != 0600) (void)::fchmod(fd, 0600);
  return fd;
}

} // namespace

FileLock FileLock::acquire(const std::string& lock_path, std::chrono::milliseconds max_wait) {
  FileLock lock(Fd(open_lock_file(lock_path)));
  const auto deadline = std::chrono::steady_clock::now() + max_wait;
  while (true) {
    if (::flock(lock.m_fd.get(), LOCK_EX | LOCK_NB) == 0) return lock;
    const int e = errno;
    if (e == EINTR) continue;
    if (e != EWOULDBLOCK) throw Error(ErrorKind::failure, "cannot lock " + lock_path + ": " + std::strerror(e));
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      throw Error(ErrorKind::failure,
                  "another tokenctl holds the lock " + lock_path + "; waited " + wait_text(max_wait),
                  "remove nothing: run the command again once the other tokenctl has finished");
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(k_poll_interval, deadline - now));
  }
}

} // namespace tokenctl::sys
