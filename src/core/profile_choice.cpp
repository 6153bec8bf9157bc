#include "tokenctl/profile_choice.hpp"

#include "tokenctl/config.hpp"
#include "tokenctl/text.hpp"

namespace tokenctl {
namespace {

// Split an absolute path into its components, "." dropped and ".." applied.
std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    const auto end = std::min(path.find('/', i), path.size());
    const std::string_view part = path.substr(i, end - i);
    if (part == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!part.empty() && part != ".") {
      out.emplace_back(part);
    }
    i = end + 1;
  }
  return out;
}

std::string path_of(const std::vector<std::string>& parts, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += "/" + parts[i];
  return out.empty() ? "/" : out;
}

} // namespace

ProfileChoice choose_profile(const std::optional<std::string>& flag, const std::optional<std::string>& environment,
                             const std::optional<ProfileChoice>& from_file,
                             const std::optional<std::string>& default_profile) {
  if (flag && !flag->empty()) return {*flag, ProfileSource::flag, ""};
  if (environment && !environment->empty()) return {*environment, ProfileSource::environment, ""};
  if (from_file) return *from_file;
  if (default_profile && !default_profile->empty()) return {*default_profile, ProfileSource::default_profile, ""};
  return {"default", ProfileSource::fallback, ""};
}

std::string_view profile_source_name(ProfileSource source) {
  switch (source) {
  case ProfileSource::flag: return "flag";
  case ProfileSource::environment: return "environment";
  case ProfileSource::profile_file: return "file";
  case ProfileSource::default_profile: return "config";
  case ProfileSource::fallback: return "default";
  }
  return "default";
}

std::vector<std::string> profile_file_folders(std::string_view cwd, std::string_view home) {
  if (cwd.empty() || cwd.front() != '/') return {};
  const auto here = components(cwd);
  const auto top = !home.empty() && home.front() == '/' ? components(home) : std::vector<std::string>{};
  // Inside the home folder (or the home folder itself): stop there. Elsewhere: up to the root.
  const bool inside = !top.empty() && top.size() <= here.size() && std::equal(top.begin(), top.end(), here.begin());
  const std::size_t stop = inside ? top.size() : 0;
  std::vector<std::string> out;
  for (std::size_t n = here.size() + 1; n-- > stop;) out.push_back(path_of(here, n));
  return out;
}

std::optional<std::string> parse_profile_file(std::string_view text) {
  const std::string_view name = trim(text, " \t\r\n");
  if (name.find_first_of(" \t\r\n") != std::string_view::npos || !valid_profile_name(name)) return std::nullopt;
  return std::string(name);
}

} // namespace tokenctl
