// The fast read of one profile's token set (tokenctl token on a cache of many profiles).
//
// Why a scanner: parsing a 2 MB cache of 1,000 token sets into a DOM costs ~25 ms, twenty times the
// cost of reading the file. The scanner walks the structure, jumping over strings with memchr (tokens
// are long strings), and hands only the wanted set to the real parser. Whenever it meets something
// it does not expect, it gives up and the full parser decides, so damaged caches get the same errors.
#include <cctype>
#include <cstdint>
#include <cstring>
#include <optional>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tokenctl/error.hpp"
#include "tokenctl/token_cache.hpp"

namespace tokenctl {
namespace {

// Where a skip of nested brackets stands, as a byte-by-byte machine.
struct Nesting {
  enum class Step { more, closed, too_deep };
  int depth = 0;
  bool in_string = false;
  bool escape = false;

  Step step(char c, int max_depth) {
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      return Step::more;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return Step::too_deep;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return Step::closed;
    }
    return Step::more;
  }
};

#if defined(__SSE2__)
// 64 bytes as bit masks (bit k for byte k) of the bytes that matter when skipping a nested value.
// The masks of the brackets are only made when the block has one (a few blocks in a token set).
struct Block {
  std::uint64_t quote = 0, open = 0, close = 0;
  bool backslash = false, bracket = false;
};

std::uint64_t mask64(__m128i a, __m128i b, __m128i c, __m128i d) {
  const auto bits = [](__m128i eq) { return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(eq))); };
  return bits(a) | bits(b) << 16 | bits(c) << 32 | bits(d) << 48;
}

__m128i load16(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

Block classify(const char* p) {
  Block b;
  // '[' and '{' differ in the 0x20 bit only, as do ']' and '}'.
  const __m128i case_bit = _mm_set1_epi8(0x20), open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  const __m128i v0 = load16(p), v1 = load16(p + 16), v2 = load16(p + 32), v3 = load16(p + 48);
  const __m128i f0 = _mm_or_si128(v0, case_bit), f1 = _mm_or_si128(v1, case_bit), f2 = _mm_or_si128(v2, case_bit),
                f3 = _mm_or_si128(v3, case_bit);
  const __m128i o0 = _mm_cmpeq_epi8(f0, open), o1 = _mm_cmpeq_epi8(f1, open), o2 = _mm_cmpeq_epi8(f2, open),
                o3 = _mm_cmpeq_epi8(f3, open);
  const __m128i c0 = _mm_cmpeq_epi8(f0, close), c1 = _mm_cmpeq_epi8(f1, close), c2 = _mm_cmpeq_epi8(f2, close),
                c3 = _mm_cmpeq_epi8(f3, close);
  const __m128i any_backslash =
      _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v0, backslash), _mm_cmpeq_epi8(v1, backslash)),
                   _mm_or_si128(_mm_cmpeq_epi8(v2, backslash), _mm_cmpeq_epi8(v3, backslash)));
  const __m128i any_bracket = _mm_or_si128(_mm_or_si128(_mm_or_si128(o0, o1), _mm_or_si128(o2, o3)),
                                           _mm_or_si128(_mm_or_si128(c0, c1), _mm_or_si128(c2, c3)));
  b.backslash = _mm_movemask_epi8(any_backslash) != 0;
  b.bracket = _mm_movemask_epi8(any_bracket) != 0;
  b.quote = mask64(_mm_cmpeq_epi8(v0, quote), _mm_cmpeq_epi8(v1, quote), _mm_cmpeq_epi8(v2, quote),
                   _mm_cmpeq_epi8(v3, quote));
  if (b.bracket) {
    b.open = mask64(o0, o1, o2, o3);
    b.close = mask64(c0, c1, c2, c3);
  }
  return b;
}

// Bit k of the result is the parity of bits 0..k of x.
std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}
#endif

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
    const std::size_t start = m_i + 1;
    const auto end = closing_quote(start);
    if (!end) return std::nullopt;
    m_i = *end + 1;
    return m_s.substr(start, *end - start);
  }

  void skip_ws() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t')) ++m_i;
  }

  // Skip a nested value from its opening bracket to the matching closing one, at most `max_depth`
  // levels deep. Strings are jumped over with memchr (tokens are long strings); the bytes between
  // them are classified 64 at a time where SSE2 is there, byte by byte otherwise.
  bool skip_nested(int max_depth) {
    Nesting state;
    const char* const p = m_s.data();
    const std::size_t n = m_s.size();
    std::size_t i = m_i;
    while (i < n) {
      if (state.in_string && !state.escape) {
        const auto close = closing_quote(i);
        if (!close) return false;
        state.in_string = false;
        i = *close + 1;
        continue;
      }
#if defined(__SSE2__)
      if (!state.escape && i + 64 <= n) {
        const Block block = classify(p + i);
        if (!block.backslash) {
          if (!block.bracket) {
            state.in_string = state.in_string != (__builtin_parityll(block.quote) != 0);
            i += 64;
            continue;
          }
          // A bit of `inside` is set for the bytes in a string: the parity of the quotes up to it.
          const std::uint64_t inside = prefix_xor(block.quote) ^ (state.in_string ? ~std::uint64_t{0} : 0);
          for (std::uint64_t brackets = (block.open | block.close) & ~inside; brackets != 0; brackets &= brackets - 1) {
            const int bit = __builtin_ctzll(brackets);
            if ((block.open >> bit) & 1) {
              if (++state.depth > max_depth) return false;
            } else if (--state.depth == 0) {
              m_i = i + static_cast<std::size_t>(bit) + 1;
              return true;
            }
          }
          state.in_string = (inside >> 63) != 0;
          i += 64;
          continue;
        }
      }
#endif
      switch (state.step(p[i], max_depth)) {
      case Nesting::Step::closed: m_i = i + 1; return true;
      case Nesting::Step::too_deep: return false;
      case Nesting::Step::more: ++i;
      }
    }
    return false;
  }

  // The position of the quote that ends the string whose bytes go on at `from`, or nullopt.
  std::optional<std::size_t> closing_quote(std::size_t from) const {
    for (std::size_t i = from;;) {
      const void* quote = std::memchr(m_s.data() + i, '"', m_s.size() - i);
      if (quote == nullptr) return std::nullopt;
      const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(quote) - m_s.data());
      std::size_t backslashes = 0;
      while (end - backslashes > from && m_s[end - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return end;
      i = end + 1;
    }
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
