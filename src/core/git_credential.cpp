#include "tokenctl/git_credential.hpp"
#include "tokenctl/text.hpp"

#include <algorithm>
#include <cctype>

#include "tokenctl/url.hpp"

namespace tokenctl {
namespace {

int default_port(const std::string& scheme) { return scheme == "http" ? 80 : 443; }

} // namespace

std::optional<std::map<std::string, std::string>> parse_credential_request(std::string_view text) {
  if (text.size() > k_max_credential_request) return std::nullopt;
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

bool credential_matches(const Profile& profile, const std::map<std::string, std::string>& request) {
  const auto url = parse_url(profile.host);
  const auto protocol = request.find("protocol");
  const auto host = request.find("host");
  if (!url || protocol == request.end() || host == request.end()) return false;
  if (ascii_lower(protocol->second) != url->scheme) return false;
  if (url->scheme == "http" && !is_loopback_host(url->host)) return false;
  std::string want_host = ascii_lower(host->second);
  int want_port = default_port(url->scheme);
  const auto colon = want_host.rfind(':');
  if (colon != std::string::npos && want_host.find(']', colon) == std::string::npos) {
    const std::string port = want_host.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return false;
    want_port = std::stoi(port);
    want_host.resize(colon);
  }
  if (want_host.size() > 2 && want_host.front() == '[' && want_host.back() == ']')
    want_host = want_host.substr(1, want_host.size() - 2);
  const int port = url->port > 0 ? url->port : default_port(url->scheme);
  return want_host == url->host && want_port == port;
}

const Profile* match_credential_profile(const std::vector<Profile>& profiles,
                                        const std::map<std::string, std::string>& request) {
  for (const auto& p : profiles)
    if (credential_matches(p, request)) return &p;
  return nullptr;
}

std::string format_credential(const std::string& username, const std::string& password,
                              const std::optional<TimePoint>& expiry) {
  std::string out = "username=" + username + "\npassword=" + password + "\n";
  if (expiry) out += "password_expiry_utc=" + std::to_string(expiry->time_since_epoch().count()) + "\n";
  return out;
}

} // namespace tokenctl
