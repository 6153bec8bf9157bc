// Errors that reach the user: each carries the exit status of the contract and a hint.
#pragma once

#include <stdexcept>
#include <string>

namespace tokenctl {

// Exit statuses of the user contract (the man page, "Exit status").
enum class ErrorKind { failure = 1, usage = 2, login_required = 3, network = 4, config = 5 };

class Error : public std::runtime_error {
public:
  Error(ErrorKind kind, const std::string& message, std::string hint = {})
      : std::runtime_error(message), m_kind(kind), m_hint(std::move(hint)) {}

  // Return the exit status class of this error.
  [[nodiscard]] ErrorKind kind() const noexcept { return m_kind; }
  // Return what the user should do next ("run: tokenctl login -p dev"), or "".
  [[nodiscard]] const std::string& hint() const noexcept { return m_hint; }
  // Return the process exit code for this error.
  [[nodiscard]] int exit_code() const noexcept { return static_cast<int>(m_kind); }

private:
  ErrorKind m_kind;
  std::string m_hint;
};

// Throw a configuration error of the form "FILE:LINE: message" (exit 5).
[[noreturn]] inline void throw_config_error(const std::string& file, long line, const std::string& message) {
  throw Error(ErrorKind::config, line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message);
}

} // namespace tokenctl
