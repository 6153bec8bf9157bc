// The config file on disk: read it for a command, and save the text that `login` adds to it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "tokenctl/config.hpp"
#include "tokenctl/databrickscfg.hpp"
#include "tokenctl/paths.hpp"
#include "tokenctl/profile_choice.hpp"

namespace tokenctl::sys {

// Bigger config files are refused rather than parsed.
inline constexpr std::size_t k_config_max_bytes = 4u * 1024u * 1024u;

// Read and parse the config at `paths.config`. A missing file is an empty Config (exists = false)
// unless the path was given explicitly; then, and for an unreadable, too big or invalid file,
// throw Error(config) naming the file.
Config load_config(const ResolvedPaths& paths);
// Read the config like load_config, but check and return only the top level and the profile
// `profile` (nullopt: the one choose_profile picks from the top level's default_profile) when the
// file's shape allows (slice_config); other profiles are neither parsed nor checked. For the
// cached-token hot path.
Config load_config_for(const ResolvedPaths& paths, const std::optional<std::string>& profile);

// What the search for a .tokenctl-profile found.
struct ProfileFileSearch {
  std::optional<ProfileChoice> choice; // the nearest usable file's profile
  std::vector<std::string> warnings;   // files ignored, and why
};

// Look for a .tokenctl-profile in the folders profile_file_folders(cwd, home) names, nearest
// first, and stop at the first one there: it is used when it is a regular file owned by the
// effective user, not writable by group or others, holding one profile name; else it is ignored
// with a warning (another user's file must not choose where tokens go).
ProfileFileSearch find_profile_file(const std::string& cwd, const std::string& home);

// Return the path of the Databricks tools' config file: DATABRICKS_CONFIG_FILE, else
// ~/.databrickscfg; "" when neither can be named.
std::string databrickscfg_path();
// Read and parse the .databrickscfg at `path` (read only: tokenctl never writes it); nullopt when it
// does not exist. Throws Error(config) for an unreadable, too big or invalid file.
std::optional<DatabricksConfig> load_databrickscfg(const std::string& path);

// Return the text of the config file at `path`, or "" when there is none; throw Error(config)
// when it cannot be read or is too big.
std::string read_config_text(const std::string& path);

// Rewrite the config file at `path` under its lock (a sibling FILE.lock of the file written): read
// its current text ("" when there is none), let `change` return the new text (nullopt: leave the
// file as it is), and replace the file atomically, creating its folder (0700) if needed, keeping
// the file's mode (0600 for a new file) and writing through a symlink to its target. Concurrent
// rewrites (ten `login --host` at once) each see the others' changes. Throws Error(failure) when
// the file cannot be written, and what `change` throws.
void update_config_text(const std::string& path,
                        const std::function<std::optional<std::string>(const std::string& text)>& change);

} // namespace tokenctl::sys
