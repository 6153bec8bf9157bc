// URLs for endpoints and hosts, and the two percent-encodings OAuth needs.
//
// Why a parser of our own: the URLs we handle come from the config file and from servers'
// metadata, and the only questions we ask of them are narrow (which scheme, which host, is it
// loopback, is there a query or fragment). A strict parser that refuses anything unusual
// (userinfo, bad escapes, spaces, raw non-ASCII bytes, a port out of range) is safer than a
// lenient one that guesses: a URL it refuses is reported to the user, never "repaired".
#include "tokenctl/url.hpp"
#include "tokenctl/text.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace tokenctl {
namespace {

constexpr std::string_view k_hex_digits = "0123456789ABCDEF";

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_unreserved(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Path, query and fragment characters: printable ASCII but space, '"', '<', '>', '\', '^', '`',
// '{', '|', '}', and '%' only as the start of a valid escape.
bool valid_component(std::string_view s, bool allow_query_chars) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || hex_digit_value(s[i + 1]) < 0 || hex_digit_value(s[i + 2]) < 0) return false;
      i += 2;
      continue;
    }
    if (is_unreserved(c)) continue;
    if (std::string_view("!$&'()*+,;=:@/").find(c) != std::string_view::npos) continue;
    if (allow_query_chars && c == '?') continue;
    return false;
  }
  return true;
}

// Return the value of a decimal IPv4 octet ("0" to "255"), or -1.
int parse_octet(std::string_view s) {
  if (s.empty() || s.size() > 3) return -1;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return -1;
    value = value * 10 + (c - '0');
  }
  return value <= 255 ? value : -1;
}

// Parse a dotted quad into its four octets.
std::optional<std::array<int, 4>> parse_ipv4(std::string_view s) {
  std::array<int, 4> octets{};
  for (std::size_t i = 0; i < 4; ++i) {
    const std::size_t dot = s.find('.');
    if ((dot == std::string_view::npos) != (i == 3)) return std::nullopt;
    octets[i] = parse_octet(s.substr(0, dot));
    if (octets[i] < 0) return std::nullopt;
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  }
  return octets;
}

// Append the colon-separated 16-bit groups of `s` to `out`; the last one may be a dotted quad
// (two groups) when `quad_allowed`. Return false on any malformed group.
bool parse_groups(std::string_view s, bool quad_allowed, std::vector<std::uint16_t>& out) {
  while (!s.empty()) {
    const std::size_t colon = s.find(':');
    const std::string_view part = s.substr(0, colon);
    if (colon == std::string_view::npos && quad_allowed && part.find('.') != std::string_view::npos) {
      const auto quad = parse_ipv4(part);
      if (!quad) return false;
      out.push_back(static_cast<std::uint16_t>((*quad)[0] << 8 | (*quad)[1]));
      out.push_back(static_cast<std::uint16_t>((*quad)[2] << 8 | (*quad)[3]));
      return true;
    }
    if (part.empty() || part.size() > 4 || out.size() >= 8) return false;
    unsigned value = 0;
    for (char c : part) {
      if (hex_digit_value(c) < 0) return false;
      value = value * 16 + static_cast<unsigned>(hex_digit_value(c));
    }
    out.push_back(static_cast<std::uint16_t>(value));
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
    if (s.empty()) return false; // a trailing single ':'
  }
  return true;
}

// Parse an IPv6 address (RFC 4291 text forms, with an optional trailing dotted quad) into its
// eight 16-bit groups. Zone identifiers are refused.
std::optional<std::array<std::uint16_t, 8>> parse_ipv6(std::string_view s) {
  std::vector<std::uint16_t> head, tail;
  const std::size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(s, true, head) || head.size() != 8) return std::nullopt;
  } else {
    if (!parse_groups(s.substr(0, gap), false, head) || !parse_groups(s.substr(gap + 2), true, tail) ||
        head.size() + tail.size() > 7)
      return std::nullopt;
  }
  std::array<std::uint16_t, 8> out{};
  for (std::size_t i = 0; i < head.size(); ++i) out[i] = head[i];
  for (std::size_t i = 0; i < tail.size(); ++i) out[8 - tail.size() + i] = tail[i];
  return out;
}

// A registered name or IPv4 address: letters, digits, '-', '.', '_' and '~' only.
bool valid_reg_name(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host)
    if (!is_unreserved(c)) return false;
  return true;
}

// Parse "host", "host:port", "[v6]" or "[v6]:port" into `url`.
bool parse_authority(std::string_view authority, Url& url) {
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    if (!parse_ipv6(host)) return false;
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (!valid_reg_name(host)) return false;
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (!port.empty()) {
    if (port.size() > 5) return false;
    int value = 0;
    for (char c : port) {
      if (!is_digit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value < 1 || value > 65535) return false;
    url.port = value;
  }
  url.host = ascii_lower(host);
  return true;
}

} // namespace

std::optional<Url> parse_url(std::string_view text) {
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  Url url;
  url.scheme = ascii_lower(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(colon + 3);

  const std::size_t authority_end = rest.find_first_of("/?#");
  if (!parse_authority(rest.substr(0, authority_end), url)) return std::nullopt;
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  const std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    url.has_fragment = true;
    url.fragment = std::string(rest.substr(hash + 1));
    rest = rest.substr(0, hash);
  }
  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    url.has_query = true;
    url.query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }
  url.path = std::string(rest);
  if (!valid_component(url.path, false) || !valid_component(url.query, true) || !valid_component(url.fragment, true))
    return std::nullopt;
  return url;
}

std::string format_url(const Url& url) {
  std::string out = url.scheme + "://";
  out += url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port >= 0) out += ":" + std::to_string(url.port);
  out += url.path;
  if (url.has_query) out += "?" + url.query;
  if (url.has_fragment) out += "#" + url.fragment;
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost")) return true;
  if (const auto quad = parse_ipv4(host)) return (*quad)[0] == 127;
  if (const auto groups = parse_ipv6(host)) {
    for (std::size_t i = 0; i < 7; ++i)
      if ((*groups)[i] != 0) return false;
    return (*groups)[7] == 1;
  }
  return false;
}

std::string endpoint_url_problem(std::string_view text) {
  const auto url = parse_url(text);
  if (!url) return "not an absolute https URL";
  if (url->has_fragment) return "an endpoint URL must not have a fragment ('#')";
  if (url->scheme == "https") return "";
  if (is_loopback_host(url->host)) return "";
  return "plain http is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost)";
}

std::string without_trailing_slash(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  return std::string(url);
}

std::string percent_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += k_hex_digits[byte >> 4];
      out += k_hex_digits[byte & 0x0f];
    }
  }
  return out;
}

std::string form_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == ' ') {
      out += percent_encode(s.substr(start, i - start));
      if (i < s.size()) out += '+';
      start = i + 1;
    }
  }
  return out;
}

std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int high = hex_digit_value(s[i + 1]), low = hex_digit_value(s[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string encode_params(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += form_encode(name);
    out += '=';
    out += form_encode(value);
  }
  return out;
}

std::optional<Params> parse_params(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

} // namespace tokenctl
