#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "sys/committed_work.hpp"
#include "tokenctl/error.hpp"

using namespace tokenctl;

TEST_SUITE_BEGIN("sys.committed_work");

TEST_CASE("the child's answer comes back, and the work ran in another process") {
  const pid_t parent = ::getpid();
  const std::string answer = sys::run_to_completion(
      [&] { return std::string(::getpid() == parent ? "same" : "child") + std::string(1, '\0') + "binary-safe"; });
  CHECK(answer == std::string("child") + std::string(1, '\0') + "binary-safe");
  CHECK(sys::run_to_completion([] { return std::string(); }).empty());
}

TEST_CASE("an Error thrown in the child is rethrown with its kind, message and hint") {
  try {
    sys::run_to_completion([]() -> std::string {
      throw Error(ErrorKind::login_required, "the server rejected the refresh token", "run: tokenctl login -p dev");
    });
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::login_required);
    CHECK(std::string(e.what()) == "the server rejected the refresh token");
    CHECK(e.hint() == "run: tokenctl login -p dev");
  }
  try {
    sys::run_to_completion([]() -> std::string { throw std::runtime_error("boom"); });
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()) == "internal error: boom");
  }
}

TEST_CASE("a child that dies without answering is a failure naming the signal") {
  try {
    sys::run_to_completion([]() -> std::string {
      ::kill(::getpid(), SIGKILL);
      return "never";
    });
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::failure);
    CHECK(std::string(e.what()).starts_with("the token exchange was killed by signal 9;"));
  }
}

TEST_CASE("the child ignores the terminal's signals") {
  const std::string answer = sys::run_to_completion([] {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::kill(::getpid(), sig);
    return std::string("still here");
  });
  CHECK(answer == "still here");
}

TEST_CASE("the child's standard input and output are /dev/null") {
  const std::string answer = sys::run_to_completion([] {
    char in[16], out[16];
    const ssize_t a = ::readlink("/proc/self/fd/0", in, sizeof in);
    const ssize_t b = ::readlink("/proc/self/fd/1", out, sizeof out);
    return std::string(in, a > 0 ? static_cast<std::size_t>(a) : 0) + " " +
           std::string(out, b > 0 ? static_cast<std::size_t>(b) : 0);
  });
  CHECK(answer == "/dev/null /dev/null");
}

TEST_CASE("the work completes when the process that started it is killed, or its whole process group") {
  // Synchronised by pipes, not by sleeps: the work says it started, the test kills the command,
  // then lets the work go on and waits (bounded) for it to say it finished.
  for (const bool group : {false, true}) {
    CAPTURE(group);
    int started[2], go[2], finished[2];
    REQUIRE(::pipe(started) == 0);
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(finished) == 0);
    const pid_t command = ::fork();
    REQUIRE(command >= 0);
    if (command == 0) {
      if (group) ::setpgid(0, 0);
      sys::run_to_completion([&] {
        char c = 's';
        (void)!::write(started[1], &c, 1);
        (void)!::read(go[0], &c, 1);
        c = 'f';
        (void)!::write(finished[1], &c, 1);
        return std::string();
      });
      ::_exit(0);
    }
    if (group) ::setpgid(command, command); // set on both sides: no race with the kill below
    char c = 0;
    REQUIRE(::read(started[0], &c, 1) == 1);
    REQUIRE(::kill(group ? -command : command, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(command, &status, 0) == command);
    CHECK(WIFSIGNALED(status));
    REQUIRE(::write(go[1], "g", 1) == 1);
    pollfd p{finished[0], POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    CHECK(::read(finished[0], &c, 1) == 1);
    CHECK(c == 'f');
    for (int fd : {started[0], started[1], go[0], go[1], finished[0], finished[1]}) ::close(fd);
  }
}

TEST_SUITE_END();
