// The config file on disk: read it for a command, and save the text that `login` adds to it.
#pragma once

#include <cstddef>
#include <string>
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

// Replace the config file at `path` with `text` atomically, creating its folder (0700) if needed,
// keeping the file's mode (0600 for a new file) and writing through a symlink to its target.
// Throws Error(failure) when the file cannot be written.
void save_config_text(const std::string& path, std::string_view text);

} // namespace tokenctl::sys
