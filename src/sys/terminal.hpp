// The terminal on a descriptor: whether there is one, and its size (login's QR code and countdown).
#pragma once

#include <optional>

namespace tokenctl::sys {

struct TerminalSize {
  int columns = 0; // 0: not known (a pty whose size was never set)
  int rows = 0;    // 0: not known
};

// Return the size of the terminal on `fd` (ioctl TIOCGWINSZ), or nullopt when `fd` is not a
// terminal.
std::optional<TerminalSize> terminal_size(int fd);

// Return whether the terminal's type is known to take no escape codes (TERM unset, empty or "dumb").
bool dumb_terminal();

} // namespace tokenctl::sys
