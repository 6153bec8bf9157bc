// Reading one profile out of a large config (the hot path of `tokenctl token`).
//
// Why: toml++ needs ~5 ms for a config of 1,000 profiles, four times the cost of the whole
// cached-token path. The slice keeps the top-level lines and the lines of the wanted profile's
// tables and blanks every other line (keeping the line breaks, so line numbers in errors stay
// true); toml++ then parses almost nothing. The slice is refused - and the caller parses the whole
// file - whenever the file uses anything that could make a line-based cut wrong: multi-line strings,
// arrays of tables, a [profiles] table, dotted `profiles` keys at the top level, or any header that
// is not [profiles.NAME] or [profiles.NAME.SUB].
#include <optional>
#include <string>
#include <string_view>

#include "tokenctl/config.hpp"

namespace tokenctl {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool bare_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Read one key of a dotted header: a bare key, or a quoted one without escapes.
std::optional<std::string_view> header_key(std::string_view& rest) {
  rest = trim(rest);
  if (rest.empty()) return std::nullopt;
  std::string_view key;
  if (rest.front() == '"' || rest.front() == '\'') {
    const char quote = rest.front();
    const auto end = rest.find(quote, 1);
    if (end == std::string_view::npos) return std::nullopt;
    key = rest.substr(1, end - 1);
    if (key.find('\\') != std::string_view::npos) return std::nullopt;
    rest.remove_prefix(end + 1);
  } else {
    std::size_t n = 0;
    while (n < rest.size() && bare_key_char(rest[n])) ++n;
    if (n == 0) return std::nullopt;
    key = rest.substr(0, n);
    rest.remove_prefix(n);
  }
  rest = trim(rest);
  return key;
}

// For a header line, return the profile it opens, or nullopt when it is not [profiles.NAME(.SUB)].
std::optional<std::string_view> header_profile(std::string_view line) {
  std::string_view rest = line.substr(1);
  const auto first = header_key(rest);
  if (!first || *first != "profiles" || rest.empty() || rest.front() != '.') return std::nullopt;
  rest.remove_prefix(1);
  const auto name = header_key(rest);
  if (!name) return std::nullopt;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    if (!header_key(rest)) return std::nullopt;
  }
  if (rest.empty() || rest.front() != ']') return std::nullopt;
  rest = trim(rest.substr(1));
  if (!rest.empty() && rest.front() != '#') return std::nullopt;
  return name;
}

} // namespace

static bool sliceable(std::string_view text) {
  return text.find("\"\"\"") == std::string_view::npos && text.find("'''") == std::string_view::npos;
}

std::optional<std::string> slice_top_level(std::string_view text) {
  if (!sliceable(text)) return std::nullopt;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto newline = text.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    const std::string_view line = trim(text.substr(start, end - start));
    if (!line.empty() && line.front() == '[') break;
    start = end;
  }
  return slice_config(text.substr(0, start), "\n");
}

std::optional<std::string> slice_config(std::string_view text, std::string_view profile) {
  if (!sliceable(text)) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 8);
  bool top_level = true, keep = true;
  std::size_t start = 0, kept_end = 0;
  while (start < text.size()) {
    const auto newline = text.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
    const std::string_view raw = text.substr(start, end - start);
    const std::string_view line = trim(raw.substr(0, raw.size() - (newline == std::string_view::npos ? 0 : 1)));
    if (!line.empty() && line.front() == '[') {
      if (line.size() > 1 && line[1] == '[') return std::nullopt;
      const auto name = header_profile(line);
      if (!name) return std::nullopt;
      top_level = false;
      keep = *name == profile;
    } else if (top_level && line.rfind("profiles", 0) == 0) {
      return std::nullopt;
    }
    if (keep) {
      out.append(raw);
      kept_end = out.size();
    } else if (newline != std::string_view::npos) {
      out.append(raw.size() >= 2 && raw[raw.size() - 2] == '\r' ? "\r\n" : "\n");
    }
    start = end;
  }
  // The blank lines after the last kept one number nothing: toml++ need not walk them.
  out.resize(kept_end);
  return out;
}

} // namespace tokenctl
