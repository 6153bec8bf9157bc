#include "sys/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace tokenctl::sys {

std::optional<TerminalSize> terminal_size(int fd) {
  if (::isatty(fd) != 1) return std::nullopt;
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return TerminalSize{};
  return TerminalSize{ws.ws_col, ws.ws_row};
}

bool dumb_terminal() {
  const char* term = std::getenv("TERM");
  return term == nullptr || *term == '\0' || std::strcmp(term, "dumb") == 0;
}

} // namespace tokenctl::sys
