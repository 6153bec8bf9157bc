#include "sys/committed_work.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "sys/files.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl::sys {
namespace {

// An answer larger than this is not one the child wrote.
constexpr std::size_t k_max_answer = 16u * 1024u * 1024u;

constexpr int k_held_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};

sigset_t held_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : k_held_signals) sigaddset(&set, sig);
  return set;
}

// The answer frame: 'R' + result, or 'E' + kind digit + message + '\0' + hint. Message and hint
// go through sanitize() (as they would when printed), so that a NUL from a server cannot shift
// the frame.
std::string error_frame(ErrorKind kind, const std::string& message, const std::string& hint) {
  std::string frame = "E";
  frame += static_cast<char>('0' + static_cast<int>(kind));
  frame += sanitize(message);
  frame += '\0';
  frame += sanitize(hint);
  return frame;
}

[[noreturn]] void run_child(int answer_fd, const std::function<std::string()>& work, const sigset_t& old_mask) {
  // A session of its own: a kill aimed at the command's process group (kill -9 -PGID, what
  // timeout(1), shells and CI runners do to a job) does not reach the child; only a kill aimed at
  // this process can stop it.
  ::setsid();
  for (int sig : k_held_signals) ::signal(sig, SIG_IGN);
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  // Standard input and output belong to the command: a `$(tokenctl token)` whose command was
  // interrupted must not wait for this child to end, and nothing here reads the terminal.
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    if (null_fd > STDERR_FILENO) ::close(null_fd);
  }
  std::string frame;
  try {
    frame = "R" + work();
  } catch (const Error& e) {
    frame = error_frame(e.kind(), e.what(), e.hint());
  } catch (const std::exception& e) {
    frame = error_frame(ErrorKind::failure, std::string("internal error: ") + e.what(), "");
  } catch (...) {
    frame = error_frame(ErrorKind::failure, "internal error", "");
  }
  write_all(answer_fd, frame); // the parent may be gone: SIGPIPE is ignored, EPIPE is fine
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::_exit(0); // no atexit handlers or static destructors: they belong to the parent
}

std::string read_answer(int fd) {
  std::string answer;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
    if (answer.size() > k_max_answer) break;
  }
  return answer;
}

int wait_child(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

} // namespace

std::string run_to_completion(const std::function<std::string()>& work) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error(ErrorKind::failure, std::string("cannot start the token exchange: ") + std::strerror(errno));
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  // Held until the child has ignored them, so that no handler of this process runs in the child.
  const sigset_t held = held_set();
  sigset_t old_mask;
  ::sigprocmask(SIG_BLOCK, &held, &old_mask);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], work, old_mask);
  }
  const int fork_errno = errno;
  ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    throw Error(ErrorKind::failure, std::string("cannot start the token exchange: ") + std::strerror(fork_errno));
  }
  const std::string answer = read_answer(fds[0]);
  ::close(fds[0]);
  const int status = wait_child(pid);
  if (!answer.empty() && answer[0] == 'R') return answer.substr(1);
  if (answer.size() >= 2 && answer[0] == 'E' && answer[1] >= '1' && answer[1] <= '5') {
    const std::size_t nul = answer.find('\0', 2);
    const auto kind = static_cast<ErrorKind>(answer[1] - '0');
    if (nul == std::string::npos) throw Error(kind, answer.substr(2));
    throw Error(kind, answer.substr(2, nul - 2), answer.substr(nul + 1));
  }
  std::string how = "ended without an answer";
  if (status >= 0 && WIFSIGNALED(status)) how = std::string("was killed by signal ") + std::to_string(WTERMSIG(status));
  throw Error(ErrorKind::failure, "the token exchange " + how + "; the token cache was left as it was or fully updated",
              "run the command again");
}

} // namespace tokenctl::sys
