// The fast read of one profile's token set (tokenctl token on a cache of many profiles).
//
// Why a scanner: parsing a 2 MB cache of 1,000 token sets into a DOM costs ~25 ms, twenty times the
// cost of reading the file. The scanner walks the structure, jumping over strings with memchr (tokens
// are long strings), and hands only the wanted set to the real parser. Whenever it meets something
// it does not expect, it gives up and the full parser decides, so damaged caches get the same errors.
#include <array>
#include <cctype>
#include <cstring>

#include "tokenctl/error.hpp"
#include "tokenctl/token_cache.hpp"

namespace tokenctl {
namespace {

// The bytes that matter inside a value being skipped: a string's quote and the brackets.
constexpr std::array<bool, 256> k_structural = [] {
  std::array<bool, 256> table{};
  for (const unsigned char c : std::string_view("\"{}[]")) table[c] = true;
  return table;
}();

class Scanner {
public:
  explicit Scanner(std::string_view text) : m_s(text) {}

  [[nodiscard]] bool at_end() {
    skip_ws();
    return m_i == m_s.size();
  }

  bool eat(char c) {
    skip_ws();
    if (m_i < m_s.size() && m_s[m_i] == c) {
      ++m_i;
      return true;
    }
    return false;
  }

  // Read a string; `escaped` says whether its raw bytes hold a backslash.
  std::optional<std::string_view> string(bool& escaped) {
    const auto s = skip_string();
    if (s) escaped = std::memchr(s->data(), '\\', s->size()) != nullptr;
    return s;
  }

  // Skip one value of at most `max_depth` nesting; return its bytes, or nullopt.
  std::optional<std::string_view> value(int max_depth) {
    skip_ws();
    const std::size_t start = m_i;
    if (m_i >= m_s.size()) return std::nullopt;
    const char c = m_s[m_i];
    if (c == '"') {
      if (!skip_string()) return std::nullopt;
    } else if (c == '{' || c == '[') {
      if (!skip_nested(max_depth)) return std::nullopt;
    } else {
      while (m_i < m_s.size() && (std::isalnum(static_cast<unsigned char>(m_s[m_i])) || m_s[m_i] == '-' ||
                                  m_s[m_i] == '+' || m_s[m_i] == '.'))
        ++m_i;
      if (m_i == start) return std::nullopt;
    }
    return m_s.substr(start, m_i - start);
  }

private:
  // Read a string without looking into it: one memchr per quote (tokens are long strings).
  std::optional<std::string_view> skip_string() {
    skip_ws();
    if (m_i >= m_s.size() || m_s[m_i] != '"') return std::nullopt;
    const std::size_t start = ++m_i;
    for (;;) {
      const void* quote = std::memchr(m_s.data() + m_i, '"', m_s.size() - m_i);
      if (quote == nullptr) return std::nullopt;
      const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(quote) - m_s.data());
      std::size_t backslashes = 0;
      while (end - backslashes > start && m_s[end - backslashes - 1] == '\\') ++backslashes;
      m_i = end + 1;
      if (backslashes % 2 == 0) return m_s.substr(start, end - start);
    }
  }

  void skip_ws() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t')) ++m_i;
  }

  bool skip_nested(int max_depth) {
    int depth = 0;
    while (m_i < m_s.size()) {
      // Straight to the next quote or bracket: one table look-up a byte.
      while (m_i < m_s.size() && !k_structural[static_cast<unsigned char>(m_s[m_i])]) ++m_i;
      if (m_i == m_s.size()) break;
      const char c = m_s[m_i];
      if (c == '"') {
        if (!skip_string()) return false;
        continue;
      }
      if (c == '{' || c == '[') {
        if (++depth > max_depth) return false;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++m_i;
          return true;
        }
      }
      ++m_i;
    }
    return false;
  }

  std::string_view m_s;
  std::size_t m_i = 0;
};

struct Found {
  std::optional<std::string_view> set; // the profile's set, if the cache has one
};

// Walk {"version": 1, "tokens": {NAME: SET, ...}}; nullopt when anything is unexpected.
std::optional<Found> find_set(std::string_view bytes, std::string_view profile) {
  Scanner s(bytes);
  Found found;
  bool version_ok = false, tokens_seen = false, escaped = false;
  if (!s.eat('{')) return std::nullopt;
  do {
    const auto key = s.string(escaped);
    if (!key || escaped || !s.eat(':')) return std::nullopt;
    if (*key == "version") {
      const auto v = s.value(0);
      if (!v || *v != "1") return std::nullopt;
      version_ok = true;
    } else if (*key == "tokens") {
      if (!s.eat('{')) return std::nullopt;
      tokens_seen = true;
      if (s.eat('}')) continue;
      do {
        const auto name = s.string(escaped);
        if (!name || escaped || !s.eat(':')) return std::nullopt;
        const auto set = s.value(k_token_cache_max_depth - 2);
        if (!set) return std::nullopt;
        if (*name == profile) found.set = set;
      } while (s.eat(','));
      if (!s.eat('}')) return std::nullopt;
    } else if (!s.value(k_token_cache_max_depth - 1)) {
      return std::nullopt;
    }
  } while (s.eat(','));
  if (!s.eat('}') || !s.at_end() || !version_ok || !tokens_seen) return std::nullopt;
  return found;
}

} // namespace

std::optional<TokenSet> parse_token_cache_entry(std::string_view bytes, std::string_view profile,
                                                const std::string& path) {
  const auto found = bytes.size() <= k_token_cache_max_bytes ? find_set(bytes, profile) : std::nullopt;
  if (!found) {
    const TokenCache cache = parse_token_cache(bytes, path);
    const auto it = cache.tokens.find(std::string(profile));
    if (it == cache.tokens.end()) return std::nullopt;
    return it->second;
  }
  if (!found->set) return std::nullopt;
  try {
    return parse_token_set_json(*found->set, std::string(profile), path);
  } catch (const Error&) {
    parse_token_cache(bytes, path); // the whole file's error, with its byte offsets, comes from here
    throw;
  }
}

} // namespace tokenctl
