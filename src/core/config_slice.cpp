// Reading one profile out of a large config (the hot path of `tokenctl token`).
//
// Why: toml++ needs ~5 ms for a config of 1,000 profiles, four times the cost of the whole
// cached-token path. The slice keeps the top-level lines and the lines of the wanted profile's
// tables and blanks every other line (keeping the line breaks, so line numbers in errors stay
// true); toml++ then parses almost nothing. The slice is refused - and the caller parses the whole
// file - whenever the file uses anything that could make a line-based cut wrong: multi-line strings,
// arrays of tables, a [profiles] table, dotted `profiles` keys at the top level, or any header that
// is not [profiles.NAME] or [profiles.NAME.SUB].
#include <array>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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

// TOML's bare-key bytes: A-Z a-z 0-9 _ - (a table: a header is read for every profile in the file).
constexpr std::array<bool, 256> k_bare_key = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c)
    table[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  return table;
}();

bool bare_key_char(char c) { return k_bare_key[static_cast<unsigned char>(c)]; }

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

// Where the line that starts at `start` ends: after its '\n', or at the end of the text.
std::size_t line_end(std::string_view text, std::size_t start) {
  const auto newline = text.find('\n', start);
  return newline == std::string_view::npos ? text.size() : newline + 1;
}

// The line at [start, end) without its line break and the blanks around it.
std::string_view line_at(std::string_view text, std::size_t start, std::size_t end) {
  std::string_view raw = text.substr(start, end - start);
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  return trim(raw);
}

// The start of the next line, from the line start `from` on, whose first non-blank byte is '['
// (a table header), or the end of the text. One memchr per '[' in the text: the lines of a table
// are not walked one by one.
std::size_t next_header(std::string_view text, std::size_t from) {
  std::size_t pos = from;
  while (pos < text.size()) {
    const void* found = std::memchr(text.data() + pos, '[', text.size() - pos);
    if (found == nullptr) break;
    const std::size_t bracket = static_cast<std::size_t>(static_cast<const char*>(found) - text.data());
    std::size_t line_start = bracket;
    while (line_start > from && (text[line_start - 1] == ' ' || text[line_start - 1] == '\t')) --line_start;
    if (line_start == from || text[line_start - 1] == '\n') return line_start;
    pos = bracket + 1;
  }
  return text.size();
}

// Append the line breaks of `lines` (each as it is written, "\n" or "\r\n"), and nothing else.
void append_line_breaks(std::string& out, std::string_view lines) {
  std::size_t pos = 0;
  while (pos < lines.size()) {
    const void* found = std::memchr(lines.data() + pos, '\n', lines.size() - pos);
    if (found == nullptr) break;
    const std::size_t newline = static_cast<std::size_t>(static_cast<const char*>(found) - lines.data());
    out.append(newline > 0 && lines[newline - 1] == '\r' ? "\r\n" : "\n");
    pos = newline + 1;
  }
}

// Whether the text holds no ''' or """ (multi-line strings, which a line-based cut could get wrong).
// Every byte of the config is looked at here, so sixteen at a time where SSE2 is there.
bool sliceable(std::string_view text) {
  const char* p = text.data();
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\'');
  for (; i + 18 <= text.size(); i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 2));
    const __m128i dq3 =
        _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(a, dq), _mm_cmpeq_epi8(b, dq)), _mm_cmpeq_epi8(c, dq));
    const __m128i sq3 =
        _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(a, sq), _mm_cmpeq_epi8(b, sq)), _mm_cmpeq_epi8(c, sq));
    if (_mm_movemask_epi8(_mm_or_si128(dq3, sq3)) != 0) return false;
  }
#endif
  for (; i + 3 <= text.size(); ++i)
    if ((p[i] == '"' || p[i] == '\'') && p[i + 1] == p[i] && p[i + 2] == p[i]) return false;
  return true;
}

// The end of the top-level lines (the start of the first header line); nullopt when a top-level
// line could hide a profile from a line-based cut (a dotted `profiles` key).
std::optional<std::size_t> top_level_end(std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = line_end(text, start);
    const std::string_view line = line_at(text, start, end);
    if (!line.empty() && line.front() == '[') break;
    if (line.starts_with("profiles")) return std::nullopt;
    start = end;
  }
  return start;
}

} // namespace

std::optional<std::string> slice_top_level(std::string_view text) {
  // A multi-line string that starts at the top level has its opening quotes before the first line
  // that looks like a header, so the top-level lines alone need to be free of them.
  const auto end = top_level_end(text);
  if (!end || !sliceable(text.substr(0, *end))) return std::nullopt;
  return std::string(text.substr(0, *end));
}

std::optional<std::string> slice_config(std::string_view text, std::string_view profile) {
  if (!sliceable(text)) return std::nullopt;
  const auto top_end = top_level_end(text);
  if (!top_end) return std::nullopt;
  std::string out(text.substr(0, *top_end));
  // From here on, `start` is always a header line. The lines between the last kept one and the next
  // kept one become their line breaks; those after the last kept one are left out (toml++ need not
  // walk them).
  std::size_t start = *top_end, written = *top_end;
  while (start < text.size()) {
    const std::size_t end = line_end(text, start);
    const std::string_view line = line_at(text, start, end);
    if (line.size() > 1 && line[1] == '[') return std::nullopt;
    const auto name = header_profile(line);
    if (!name) return std::nullopt;
    const std::size_t next = next_header(text, end);
    if (*name == profile) {
      append_line_breaks(out, text.substr(written, start - written));
      out.append(text.substr(start, next - start));
      written = next;
    }
    start = next;
  }
  return out;
}

} // namespace tokenctl
