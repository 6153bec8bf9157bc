// Child processes for `tokenctl exec`: start one, wait with a timeout, pass signals on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sys/fd.hpp"

namespace tokenctl::sys {

class ChildProcess {
public:
  // Start `argv` (searched on PATH, no shell) with `extra_env` added to this environment and the
  // standard streams inherited; throw Error(failure) naming the command if it cannot start.
  static ChildProcess spawn(const std::vector<std::string>& argv,
                            const std::vector<std::pair<std::string, std::string>>& extra_env);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Stop a child that is still running (SIGTERM) and reap it.
  ~ChildProcess();

  // Return the child's process id.
  [[nodiscard]] pid_t pid() const noexcept { return m_pid; }
  // Wait until the child ends or `timeout` passes; return its status as a shell reports it
  // (the exit code, or 128 + the signal number), or nullopt on timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

private:
  ChildProcess(pid_t pid, int pidfd) : m_pid(pid), m_pidfd(pidfd) {}
  pid_t m_pid = -1;
  Fd m_pidfd;
  bool m_reaped = false;
};

// Pass SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on to `pid` from now on.
void forward_signals_to(pid_t pid);
// Block (true) or unblock (false) those signals, so that none is lost or kills tokenctl between
// writing the token file and starting the command; unblocking delivers what arrived meanwhile.
void hold_forwarded_signals(bool hold);

} // namespace tokenctl::sys
