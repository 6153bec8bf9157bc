// Path resolution, kept pure: the CLI reads the environment, this decides what it means.
#include "tokenctl/paths.hpp"

#include "tokenctl/error.hpp"

namespace tokenctl {
namespace {

// Return the value if it is set and non-empty.
const std::string* given(const std::optional<std::string>& value) {
  return value && !value->empty() ? &*value : nullptr;
}

// Join a folder and a relative name without doubling the '/'.
std::string join(std::string folder, const std::string& name) {
  while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  if (folder.empty()) return name;
  return folder.back() == '/' ? folder + name : folder + "/" + name;
}

std::string default_config(const PathInputs& in) {
  if (const auto* xdg = given(in.xdg_config_home); xdg && xdg->front() == '/')
    return join(*xdg, "tokenctl/config.toml");
  if (const auto* home = given(in.home)) return join(*home, ".config/tokenctl/config.toml");
  throw Error(ErrorKind::config, "cannot find the config file: HOME is not set",
              "set HOME, or give the file with --config FILE or TOKENCTL_CONFIG");
}

} // namespace

std::string path_folder(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  std::size_t end = slash;
  while (end > 0 && path[end - 1] == '/') --end;
  return end == 0 ? "/" : path.substr(0, end);
}

ResolvedPaths resolve_paths(const PathInputs& in) {
  ResolvedPaths out;
  if (const auto* cli = given(in.cli_config)) {
    out.config = *cli;
    out.config_explicit = true;
  } else if (const auto* env = given(in.env_config)) {
    out.config = *env;
    out.config_explicit = true;
  } else {
    out.config = default_config(in);
  }
  if (const auto* cli = given(in.cli_cache))
    out.token_cache = *cli;
  else if (const auto* env = given(in.env_cache))
    out.token_cache = *env;
  else
    out.token_cache = join(path_folder(out.config), "token-cache.json");
  return out;
}

} // namespace tokenctl
