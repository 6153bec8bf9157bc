// Which profile a command uses, and why: the one rule every command and `status` share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tokenctl {

// Where the profile in effect was named, in the order they are consulted.
enum class ProfileSource { flag, environment, profile_file, default_profile, fallback };

struct ProfileChoice {
  std::string name;
  ProfileSource source = ProfileSource::fallback;
  std::string file; // the .tokenctl-profile that named it, if any
};

// The name of a project's profile file, looked for from the working folder upwards.
inline constexpr std::string_view k_profile_file_name = ".tokenctl-profile";

// Return the profile in effect: `flag` (-p), else `environment` (TOKENCTL_PROFILE), else
// `from_file` (the nearest usable .tokenctl-profile), else `default_profile` (the config's key),
// else "default".
ProfileChoice choose_profile(const std::optional<std::string>& flag, const std::optional<std::string>& environment,
                             const std::optional<ProfileChoice>& from_file,
                             const std::optional<std::string>& default_profile);

// Return the word `status` uses for a source: "flag", "environment", "file", "config", "default".
std::string_view profile_source_name(ProfileSource source);

// Return the folders to look in for a .tokenctl-profile, nearest first: `cwd` and its parents up
// to `home` when `cwd` is inside it (never past it), else up to the root. Both must be absolute;
// "." and ".." components and repeated slashes are tolerated. Empty when `cwd` is not absolute.
std::vector<std::string> profile_file_folders(std::string_view cwd, std::string_view home);

// Return the profile name a .tokenctl-profile holds (one line: the name, blanks and a final
// newline allowed), or nullopt when it holds anything else.
std::optional<std::string> parse_profile_file(std::string_view text);

} // namespace tokenctl
