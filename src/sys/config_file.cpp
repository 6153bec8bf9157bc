// Reading and saving the config file.
//
// The config holds no secret, so it is read with a plain (symlink-following) read; the only
// limits are a size cap and the contract's error format. Saving goes through the same atomic
// replace as the token cache so that a crash never leaves a torn config. Dotfile managers often
// make the config a symlink, so a link is resolved and its target replaced, never the link.
#include "sys/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "sys/file_lock.hpp"
#include "sys/fd.hpp"
#include "sys/files.hpp"
#include "sys/os.hpp"
#include "tokenctl/text.hpp"
#include "tokenctl/error.hpp"

namespace tokenctl::sys {
namespace {

// Return where a save to `path` must write: the target of a symlink, else `path` itself.
std::string write_target(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
  const std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(path.c_str(), nullptr), &std::free);
  if (!resolved)
    throw Error(ErrorKind::failure, "cannot write " + path + ": it is a symbolic link that cannot be followed (" +
                                        std::strerror(errno) + ")");
  return resolved.get();
}

} // namespace

Config load_config(const ResolvedPaths& paths) {
  const auto text = read_file(paths.config, k_config_max_bytes, ErrorKind::config);
  if (!text) {
    if (paths.config_explicit) throw_config_error(paths.config, 0, "no such config file");
    Config empty;
    empty.path = paths.config;
    return empty;
  }
  return parse_config(*text, paths.config);
}

Config load_config_for(const ResolvedPaths& paths, const std::optional<std::string>& profile) {
  const auto text = read_file(paths.config, k_config_max_bytes, ErrorKind::config);
  if (!text) return load_config(paths);
  std::string name = profile.value_or("");
  if (!profile) {
    // Read default_profile from the top level alone (a profile name never holds a '\n').
    const auto top = slice_top_level(*text);
    if (!top) return parse_config(*text, paths.config);
    name = choose_profile({}, {}, {}, parse_config(*top, paths.config).default_profile).name;
  }
  const auto slice = slice_config(*text, name);
  return parse_config(slice ? *slice : *text, paths.config);
}

ProfileFileSearch find_profile_file(const std::string& cwd, const std::string& home) {
  ProfileFileSearch found;
  for (const std::string& folder : profile_file_folders(cwd, home)) {
    const std::string path = (folder == "/" ? "" : folder) + "/" + std::string(k_profile_file_name);
    Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      found.warnings.push_back("ignored " + path + ": " + std::strerror(errno));
      return found;
    }
    struct stat st {};
    std::string why;
    if (::fstat(fd.get(), &st) != 0)
      why = std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
      why = "not a regular file";
    else if (st.st_uid != ::geteuid())
      why = "owned by uid " + std::to_string(st.st_uid) + ", not by you";
    else if ((st.st_mode & 022) != 0)
      why = "writable by group or others (mode " + octal_mode(st.st_mode) + ")";
    std::string text(1024, '\0');
    if (why.empty()) {
      const ssize_t n = ::read(fd.get(), text.data(), text.size());
      text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
    const auto name = why.empty() ? parse_profile_file(text) : std::nullopt;
    if (why.empty() && !name) why = "it does not hold one profile name";
    if (!why.empty()) {
      found.warnings.push_back("ignored " + path + ": " + why);
      return found;
    }
    found.choice = ProfileChoice{*name, ProfileSource::profile_file, path};
    return found;
  }
  return found;
}

std::string databrickscfg_path() {
  if (const auto file = env("DATABRICKS_CONFIG_FILE")) return *file;
  if (const auto home = env("HOME")) return *home + "/.databrickscfg";
  return "";
}

std::optional<DatabricksConfig> load_databrickscfg(const std::string& path) {
  if (path.empty()) return std::nullopt;
  const auto text = read_file(path, k_databrickscfg_max_bytes, ErrorKind::config);
  if (!text) return std::nullopt;
  return parse_databrickscfg(*text, path);
}

std::string read_config_text(const std::string& path) {
  return read_file(path, k_config_max_bytes, ErrorKind::config).value_or("");
}

void update_config_text(const std::string& path,
                        const std::function<std::optional<std::string>(const std::string& text)>& change) {
  std::string target = write_target(path);
  make_private_dirs(parent_dir(target));
  const FileLock lock = FileLock::acquire(target + ".lock", k_lock_wait);
  // The link may have been pointed elsewhere while this process waited: write where it points now
  // only if that is the file this lock guards.
  if (write_target(path) != target)
    throw Error(ErrorKind::failure, "the config file " + path + " was moved while tokenctl waited to change it",
                "run the command again");
  const std::string text = read_config_text(target);
  const auto changed = change(text);
  if (!changed) return;
  mode_t mode = 0600;
  if (struct stat st{}; ::stat(target.c_str(), &st) == 0) mode = st.st_mode & 07777;
  remove_stale_temporaries(target); // left by a writer killed before its rename; we hold the lock
  write_file_atomic(target, *changed, mode);
}

} // namespace tokenctl::sys
