// Small OS services: the environment, the wall clock, the browser opener.
#pragma once

#include <optional>
#include <string>

#include "tokenctl/ports.hpp"

namespace tokenctl::sys {

// Return the environment variable's value, or nullopt when it is unset or empty.
std::optional<std::string> env(const char* name);

class SystemClock : public WallClock {
public:
  std::chrono::system_clock::time_point now() override;
  void sleep_for(std::chrono::milliseconds d) override;
};

// Opens URLs with $BROWSER (split on whitespace, no shell) or xdg-open / open / wslview.
class SystemBrowser : public Browser {
public:
  bool open(const std::string& url, std::string& why_not) override;
};

// Disable core dumps for the rest of the process (secrets are about to be held in memory).
void disable_core_dumps();

} // namespace tokenctl::sys
