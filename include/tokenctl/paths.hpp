// Where the config file and the token cache are: options, then environment, then XDG defaults.
#pragma once

#include <optional>
#include <string>

namespace tokenctl {

// What the user gave; the CLI fills it from its options and the environment. "" counts as unset.
struct PathInputs {
  std::optional<std::string> cli_config;      // --config
  std::optional<std::string> env_config;      // TOKENCTL_CONFIG
  std::optional<std::string> cli_cache;       // --token-cache
  std::optional<std::string> env_cache;       // TOKENCTL_TOKEN_CACHE
  std::optional<std::string> xdg_config_home; // XDG_CONFIG_HOME (ignored unless absolute)
  std::optional<std::string> home;            // HOME
};

struct ResolvedPaths {
  std::string config;
  bool config_explicit = false; // given by --config or TOKENCTL_CONFIG
  std::string token_cache;
};

// Return the config and token cache paths (the man page "Files"); throw Error(config) when no config
// path can be found (no option, no TOKENCTL_CONFIG, no absolute XDG_CONFIG_HOME and no HOME).
ResolvedPaths resolve_paths(const PathInputs& in);

// Return the folder part of `path`: "" when it has none, "/" for a file in the root folder.
std::string path_folder(const std::string& path);

} // namespace tokenctl
