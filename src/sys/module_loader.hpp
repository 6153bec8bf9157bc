// Finding and loading tokenctl's own modules (tokenctl-net.so, tokenctl-keyring.so): shared
// libraries that the program dlopen()s only when a command needs them, from paths it chose: beside
// the real executable (a build tree), then the installed library folder relative to it
// (bin/../lib/tokenctl), and, when /proc/self/exe cannot be read, only the absolute installed
// folder: never through LD_LIBRARY_PATH or the working folder, so nobody can slip another in.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenctl::sys {

// Return where to look for the module `file`, in order: the folder of `exe_path`, then that
// folder + "/" + `reldir`; when `exe_path` is not absolute, only `absdir`.
std::vector<std::string> module_candidates(const std::string& exe_path, const std::string& reldir,
                                           const std::string& absdir, std::string_view file);
// Return the candidates of `file` for this program (TOKENCTL_MODULE_RELDIR, TOKENCTL_MODULE_ABSDIR).
std::vector<std::string> module_candidates(std::string_view file);

// dlopen (RTLD_NOW | RTLD_LOCAL) the first candidate that loads, exports `entry`, and whose entry's
// result `check` accepts ("" or why not: an interface version, say); return that result, kept
// loaded for the life of the process. Throws Error(failure) "cannot load the WHAT module FILE
// (searched: A, B): REASON; reinstall tokenctl", with the first reason of a file that is there.
const void* load_module(const std::vector<std::string>& candidates, const char* entry,
                        const std::function<std::string(const void* module)>& check, std::string_view what);

} // namespace tokenctl::sys
