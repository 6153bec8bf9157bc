// URLs, percent-encoding and form encoding (RFC 3986, application/x-www-form-urlencoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenctl {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Url {
  std::string scheme;   // lowercased
  std::string host;     // lowercased; IPv6 without brackets
  int port = -1;        // -1: none given
  std::string path;     // as written, "" or starting with '/'
  std::string query;    // without '?'
  std::string fragment; // without '#'
  bool has_query = false;
  bool has_fragment = false;
};

// Parse an absolute http(s) URL; nullopt if it is not one (no userinfo accepted).
std::optional<Url> parse_url(std::string_view text);
// Return the URL as text: scheme://host[:port]path[?query][#fragment], IPv6 hosts in brackets.
std::string format_url(const Url& url);
// Return whether `host` is a loopback host: 127.0.0.0/8, ::1 or localhost.
bool is_loopback_host(std::string_view host);
// Return "" if `url` may be used for an endpoint (https; http only for loopback hosts), else why not.
std::string endpoint_url_problem(std::string_view url);
// Return `url` without trailing '/' characters.
std::string without_trailing_slash(std::string_view url);
// Percent-encode everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view s);
// Encode for application/x-www-form-urlencoded (space as '+').
std::string form_encode(std::string_view s);
// Decode a form/query component ('+' as space); nullopt on a malformed '%' escape.
std::optional<std::string> form_decode(std::string_view s);
// Join parameters as a form body or query string, in order.
std::string encode_params(const Params& params);
// Split a query string or form body into decoded pairs, in order; nullopt if malformed.
std::optional<Params> parse_params(std::string_view query);

} // namespace tokenctl
