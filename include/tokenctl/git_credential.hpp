// The git credential helper protocol (git-credential(1)): key=value lines in, key=value lines out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenctl/config.hpp"
#include "tokenctl/duration.hpp"

namespace tokenctl {

// Requests larger than this are refused.
inline constexpr std::size_t k_max_credential_request = 64 * 1024;

// Parse a credential description (lines "key=value", ended by a blank line or the end); nullopt if
// a line has no '=' or the input is larger than 64 KiB.
std::optional<std::map<std::string, std::string>> parse_credential_request(std::string_view text);

// Return whether a profile's host serves the request's protocol and host[:port] (case-insensitive
// host, default ports filled in); plain http only matches loopback profiles.
bool credential_matches(const Profile& profile, const std::map<std::string, std::string>& request);

// Return the first profile that matches the request, or nullptr.
const Profile* match_credential_profile(const std::vector<Profile>& profiles,
                                        const std::map<std::string, std::string>& request);

// Format the answer to `get`: username, password and, when known, password_expiry_utc.
std::string format_credential(const std::string& username, const std::string& password,
                              const std::optional<TimePoint>& expiry);

} // namespace tokenctl
