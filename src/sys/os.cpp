#include "sys/os.hpp"

#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace tokenctl::sys {
namespace {

bool is_executable_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

// Start argv without a shell and without waiting for it.
bool spawn(std::vector<std::string> argv, std::string& why_not) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The browser must not write into tokenctl's stdout, which scripts may be reading.
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  if (rc == 0) give_user_core_limit(pid); // the browser gets the user's core limit, not tokenctl's
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    why_not = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return false;
  }
  return true;
}

} // namespace

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::chrono::seconds local_utc_offset(std::chrono::sys_seconds t) {
  const std::time_t when = static_cast<std::time_t>(t.time_since_epoch().count());
  struct tm local {};
  if (::localtime_r(&when, &local) == nullptr) return std::chrono::seconds(0);
  return std::chrono::seconds(local.tm_gmtoff);
}

std::string current_folder() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) != nullptr ? std::string(buf) : std::string();
}

std::chrono::system_clock::time_point SystemClock::now() { return std::chrono::system_clock::now(); }

void SystemClock::sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

bool SystemBrowser::open(const std::string& url, std::string& why_not) {
  // Only web addresses reach a program as its last argument: never an option ("--renderer-...")
  // or another scheme (file:, javascript:), whatever a server sent.
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    why_not = "refusing to open an address that is not http(s)";
    return false;
  }
  if (const auto browser = env("BROWSER")) {
    std::vector<std::string> argv;
    std::istringstream words(*browser);
    for (std::string w; words >> w;) argv.push_back(w);
    if (argv.empty()) {
      why_not = "BROWSER is blank";
      return false;
    }
    argv.push_back(url);
    return spawn(argv, why_not);
  }
  for (const char* opener : {"xdg-open", "open", "wslview"}) {
    if (is_executable_on_path(opener)) return spawn({opener, url}, why_not);
  }
  why_not = "no browser opener found (set BROWSER, or install xdg-utils)";
  return false;
}

namespace {
struct rlimit g_user_core_limit {
  RLIM_INFINITY, RLIM_INFINITY
};
bool g_core_limit_saved = false;
} // namespace

void disable_core_dumps() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit limit {};
  if (getrlimit(RLIMIT_CORE, &limit) != 0) return;
  if (!g_core_limit_saved) {
    g_user_core_limit = limit;
    g_core_limit_saved = true;
  }
  limit.rlim_cur = 0;
  setrlimit(RLIMIT_CORE, &limit);
}

void give_user_core_limit(pid_t child) {
  if (g_core_limit_saved && child > 0) ::prlimit(child, RLIMIT_CORE, &g_user_core_limit, nullptr);
}
} // namespace tokenctl::sys
