#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "support/sys_test_dir.hpp"
#include "sys/file_lock.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;
using namespace std::chrono_literals;
using tokenctl::test::mode_of;
using tokenctl::test::TestDir;
using tokenctl::test::UmaskScope;

namespace {

using SteadyClock = std::chrono::steady_clock;

// A child process that takes the lock, reports on a pipe, holds the lock for `hold`, then writes
// 'R' to the pipe and exits (which releases the lock).
struct Holder {
  pid_t pid = -1;
  int read_fd = -1;

  Holder(const std::string& lock_path, std::chrono::milliseconds hold) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      try {
        const auto lock = sys::FileLock::acquire(lock_path, 5000ms);
        (void)!::write(fds[1], "L", 1);
        std::this_thread::sleep_for(hold);
        (void)!::write(fds[1], "R", 1);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    ::close(fds[1]);
    read_fd = fds[0];
    char c = 0;
    REQUIRE(::read(read_fd, &c, 1) == 1); // wait until the child holds the lock
    REQUIRE(c == 'L');
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  // Return what the child has written since it reported the lock taken (after it exited).
  std::string rest() {
    std::string out;
    char c = 0;
    while (::read(read_fd, &c, 1) == 1) out += c;
    return out;
  }
  // Wait for the child; return its exit status.
  int join() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~Holder() { ::close(read_fd); }
};

} // namespace

TEST_SUITE_BEGIN("sys.file_lock");

TEST_CASE("the lock file is created 0600 whatever the umask, and kept after release") {
  TestDir dir;
  UmaskScope mask(0);
  { const auto lock = sys::FileLock::acquire(dir / "c.lock", 1000ms); }
  CHECK(mode_of(dir / "c.lock") == 0600);
  {
    UmaskScope strict(0777);
    const auto lock = sys::FileLock::acquire(dir / "d.lock", 1000ms);
  }
  CHECK(mode_of(dir / "d.lock") == 0600);
}

TEST_CASE("a second lock on the same file waits for the first, even in one process") {
  TestDir dir;
  std::optional<sys::FileLock> first = sys::FileLock::acquire(dir / "c.lock", 1000ms);
  CHECK_THROWS_AS((void)sys::FileLock::acquire(dir / "c.lock", 0ms), Error);
  sys::FileLock moved = std::move(*first);
  first.reset(); // the moved-from lock releases nothing
  CHECK_THROWS_AS((void)sys::FileLock::acquire(dir / "c.lock", 50ms), Error);
  moved = sys::FileLock::acquire(dir / "other.lock", 0ms); // assigning releases the old lock
  CHECK_NOTHROW((void)sys::FileLock::acquire(dir / "c.lock", 0ms));
}

TEST_CASE("a process waits until the holder releases the lock") {
  TestDir dir;
  Holder holder(dir / "c.lock", 300ms);
  const auto start = SteadyClock::now();
  {
    const auto lock = sys::FileLock::acquire(dir / "c.lock", 10000ms);
    const auto waited = SteadyClock::now() - start;
    CHECK(waited >= 200ms);
    CHECK(waited < 5000ms);
    CHECK(holder.join() == 0);
    CHECK(holder.rest() == "R"); // the holder had finished before we got the lock
  }
}

TEST_CASE("waiting past max_wait ends with a message naming the lock file") {
  TestDir dir;
  Holder holder(dir / "c.lock", 1500ms);
  const auto start = SteadyClock::now();
  try {
    (void)sys::FileLock::acquire(dir / "c.lock", 250ms);
    FAIL("no error");
  } catch (const Error& e) {
    const auto waited = SteadyClock::now() - start;
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()) == "another tokenctl holds the lock " + dir / "c.lock" + "; waited 250ms");
    CHECK(e.hint() == "remove nothing: run the command again once the other tokenctl has finished");
    CHECK(waited >= 250ms);
    CHECK(waited < 1200ms);
  }
  CHECK(holder.join() == 0);
}

TEST_CASE("the timeout message says whole seconds as seconds") {
  TestDir dir;
  Holder holder(dir / "c.lock", 1500ms);
  try {
    (void)sys::FileLock::acquire(dir / "c.lock", 1000ms);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "another tokenctl holds the lock " + dir / "c.lock" + "; waited 1s");
  }
  CHECK(holder.join() == 0);
}

TEST_CASE("a lock file that cannot be opened is reported") {
  TestDir dir;
  try {
    (void)sys::FileLock::acquire(dir / "none/c.lock", 0ms);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "cannot open the lock file " + dir / "none/c.lock: No such file or directory");
  }
}

TEST_SUITE_END();
