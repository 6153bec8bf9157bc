#include "sys/module_loader.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>

#include "tokenctl/error.hpp"

#ifndef TOKENCTL_MODULE_RELDIR
#define TOKENCTL_MODULE_RELDIR "../lib/tokenctl"
#endif
#ifndef TOKENCTL_MODULE_ABSDIR
#define TOKENCTL_MODULE_ABSDIR "/usr/local/lib/tokenctl"
#endif

namespace tokenctl::sys {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n <= 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

using Entry = const void* (*)();

// Try one candidate; return the module or nullptr with `why` set.
const void* try_load(const std::string& path, const char* entry_name,
                     const std::function<std::string(const void*)>& check, std::string& why) {
  // RTLD_LOCAL: the module's libraries' symbols stay out of the program's namespace.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    why = err != nullptr ? err : "dlopen failed";
    return nullptr;
  }
  const auto entry = reinterpret_cast<Entry>(::dlsym(handle, entry_name));
  const void* module = entry != nullptr ? entry() : nullptr;
  if (module == nullptr) {
    why = path + " has no " + entry_name;
  } else if (const std::string refused = check(module); !refused.empty()) {
    why = path + " " + refused;
  } else {
    return module; // kept loaded for the life of the process
  }
  ::dlclose(handle);
  return nullptr;
}

} // namespace

std::vector<std::string> module_candidates(const std::string& exe_path, const std::string& reldir,
                                           const std::string& absdir, std::string_view file) {
  if (exe_path.empty() || exe_path.front() != '/') return {absdir + "/" + std::string(file)};
  const std::string dir = exe_path.substr(0, exe_path.rfind('/')); // "" for a program in /
  return {dir + "/" + std::string(file), dir + "/" + reldir + "/" + std::string(file)};
}

std::vector<std::string> module_candidates(std::string_view file) {
  return module_candidates(self_exe(), TOKENCTL_MODULE_RELDIR, TOKENCTL_MODULE_ABSDIR, file);
}

const void* load_module(const std::vector<std::string>& candidates, const char* entry,
                        const std::function<std::string(const void* module)>& check, std::string_view what) {
  std::string first_reason, missing_reason;
  for (const auto& path : candidates) {
    std::string why;
    if (const void* module = try_load(path, entry, check, why)) return module;
    // A file that is there but does not load says more than one that is missing.
    if (::access(path.c_str(), F_OK) == 0 && first_reason.empty()) first_reason = why;
    if (missing_reason.empty()) missing_reason = why;
  }
  std::string searched, file;
  for (const auto& path : candidates) searched += (searched.empty() ? "" : ", ") + path;
  if (!candidates.empty()) file = candidates.front().substr(candidates.front().rfind('/') + 1);
  throw Error(ErrorKind::failure,
              "cannot load the " + std::string(what) + " module " + file + " (searched: " + searched +
                  "): " + (!first_reason.empty() ? first_reason : missing_reason) + "; reinstall tokenctl");
}

} // namespace tokenctl::sys
