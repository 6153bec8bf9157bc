// Small OS services: the environment, the wall clock, the browser opener.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "tokenctl/ports.hpp"

namespace tokenctl::sys {

// Return the environment variable's value, or nullopt when it is unset or empty.
std::optional<std::string> env(const char* name);
// Return the offset of local time from UTC at `t` (the TZ variable, else /etc/localtime), 0 when
// it cannot be known.
std::chrono::seconds local_utc_offset(std::chrono::sys_seconds t);
// Return the working folder's absolute path, or "" when it cannot be read.
std::string current_folder();

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

// Disable core dumps for the rest of the process (secrets are about to be held in memory): the
// process is made non-dumpable (PR_SET_DUMPABLE 0, which also keeps other processes of the user
// from attaching to it) and the soft RLIMIT_CORE is set to 0. The hard limit is kept, so that the
// programs tokenctl starts can be given the user's own limit back (give_user_core_limit).
void disable_core_dumps();

// Give the program tokenctl just started as `child` (exec's command, the browser) the core limit
// the user had before disable_core_dumps; tokenctl's own limit stays 0 all along.
void give_user_core_limit(pid_t child);

} // namespace tokenctl::sys
