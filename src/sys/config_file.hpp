// The config file on disk: read it for a command, and save the text that `login` adds to it.
#pragma once

#include <cstddef>
#include <string>
#include <optional>
#include <string_view>

#include "tokenctl/config.hpp"
#include "tokenctl/paths.hpp"

namespace tokenctl::sys {

// Bigger config files are refused rather than parsed.
inline constexpr std::size_t k_config_max_bytes = 4u * 1024u * 1024u;

// Read and parse the config at `paths.config`. A missing file is an empty Config (exists = false)
// unless the path was given explicitly; then, and for an unreadable, too big or invalid file,
// throw Error(config) naming the file.
Config load_config(const ResolvedPaths& paths);
// Read the config like load_config, but check and return only the top level and the profile
// `profile` (nullopt: the one default_profile names, else "default") when the file's shape allows
// (slice_config); other profiles are neither parsed nor checked. For the cached-token hot path.
Config load_config_for(const ResolvedPaths& paths, const std::optional<std::string>& profile);

// Replace the config file at `path` with `text` atomically, creating its folder (0700) if needed,
// keeping the file's mode (0600 for a new file) and writing through a symlink to its target.
// Throws Error(failure) when the file cannot be written.
void save_config_text(const std::string& path, std::string_view text);

} // namespace tokenctl::sys
