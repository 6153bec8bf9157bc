#include "sys/process.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "sys/os.hpp"
#include "tokenctl/error.hpp"

extern char** environ;

namespace tokenctl::sys {
namespace {

volatile sig_atomic_t g_forward_pid = 0;

void forward(int sig) {
  if (g_forward_pid > 0) ::kill(static_cast<pid_t>(g_forward_pid), sig);
}

int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

} // namespace

ChildProcess ChildProcess::spawn(const std::vector<std::string>& argv,
                                 const std::vector<std::pair<std::string, std::string>>& extra_env) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool replaced = false;
    for (const auto& [key, value] : extra_env) replaced = replaced || entry.rfind(key + "=", 0) == 0;
    if (!replaced) env_strings.emplace_back(entry);
  }
  for (const auto& [key, value] : extra_env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  // The child starts with no blocked signal and default handlers, whatever tokenctl had set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), envp.data());
  if (rc == 0) give_user_core_limit(pid); // the command gets the user's core limit, not tokenctl's
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(ErrorKind::failure, "cannot run " + argv[0] + ": " + std::strerror(rc));
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return ChildProcess(pid, pidfd);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)), m_pidfd(std::move(other.m_pidfd)),
      m_reaped(std::exchange(other.m_reaped, true)) {}

ChildProcess::~ChildProcess() {
  m_pidfd.reset();
  if (m_pid > 0 && !m_reaped) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {}
  }
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_reaped = true;
      return shell_status(status);
    }
    if (r < 0 && errno != EINTR)
      throw Error(ErrorKind::failure, std::string("cannot wait for the command: ") + std::strerror(errno));
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (m_pidfd) {
      pollfd p{m_pidfd.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    } else {
      ::poll(nullptr, 0, static_cast<int>(std::min<long long>(left.count(), 100)));
    }
  }
}

namespace {
constexpr int k_forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
}

void hold_forwarded_signals(bool hold) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : k_forwarded) sigaddset(&set, sig);
  ::sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
}

void forward_signals_to(pid_t pid) {
  g_forward_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : k_forwarded) ::sigaction(sig, &sa, nullptr);
}

} // namespace tokenctl::sys
