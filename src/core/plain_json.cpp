// Why: nlohmann's lexer reads a string a byte at a time through an iterator and appends each byte
// to a buffer; for a token set (a few kilobytes of long token strings) that is most of what
// `tokenctl token` spends between reading the cache and printing. Tokens, URLs and names are
// printable ASCII, so nearly every cache is read here with one copy per string; whatever else
// appears falls back to nlohmann (fuzz/targets/fuzz_token_cache.cpp checks that both agree).
#include "core/plain_json.hpp"

#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tokenctl {
namespace {

using Json = nlohmann::json;

class PlainReader {
public:
  PlainReader(std::string_view text, int max_depth) : m_s(text), m_max_depth(max_depth) {}

  std::optional<Json> document() {
    Json root;
    if (!value(root, 0)) return std::nullopt;
    skip_ws();
    if (m_i != m_s.size()) return std::nullopt;
    return root;
  }

private:
  bool value(Json& out, int depth) {
    skip_ws();
    if (m_i >= m_s.size()) return false;
    switch (m_s[m_i]) {
    case '{': return object(out, depth + 1);
    case '[': return array(out, depth + 1);
    case '"': {
      std::string_view s;
      if (!string(s)) return false;
      out = std::string(s);
      return true;
    }
    case 't': return literal("true", out, Json(true));
    case 'f': return literal("false", out, Json(false));
    case 'n': return literal("null", out, Json(nullptr));
    default: return number(out);
    }
  }

  bool object(Json& out, int depth) {
    if (depth > m_max_depth) return false;
    ++m_i;
    out = Json::object();
    skip_ws();
    if (eat('}')) return true;
    do {
      skip_ws();
      std::string_view key;
      if (!string(key)) return false;
      skip_ws();
      if (!eat(':')) return false;
      // As nlohmann's parser does: a repeated key takes the later value.
      Json& slot = out[std::string(key)];
      slot = Json();
      if (!value(slot, depth)) return false;
      skip_ws();
    } while (eat(','));
    return eat('}');
  }

  bool array(Json& out, int depth) {
    if (depth > m_max_depth) return false;
    ++m_i;
    out = Json::array();
    skip_ws();
    if (eat(']')) return true;
    do {
      Json item;
      if (!value(item, depth)) return false;
      out.push_back(std::move(item));
      skip_ws();
    } while (eat(','));
    return eat(']');
  }

  // A string of printable ASCII without escapes; anything else is left to nlohmann. Tokens are long
  // strings: sixteen bytes are checked at a time where SSE2 is there.
  bool string(std::string_view& out) {
    if (!eat('"')) return false;
    const std::size_t start = m_i;
    const char* const p = m_s.data();
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), quote = _mm_set1_epi8('"'),
                  backslash = _mm_set1_epi8('\\');
    while (m_i + 16 <= m_s.size()) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + m_i));
      // Signed: the bytes from 0x80 on are below 0x20 too.
      const __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                        _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
      const int mask = _mm_movemask_epi8(stop);
      if (mask != 0) {
        m_i += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        break;
      }
      m_i += 16;
    }
#endif
    for (; m_i < m_s.size(); ++m_i) {
      const auto c = static_cast<unsigned char>(p[m_i]);
      if (c == '"') {
        out = m_s.substr(start, m_i - start);
        ++m_i;
        return true;
      }
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
    }
    return false;
  }

  // -?(0|[1-9][0-9]*) of at most 18 digits, not followed by a fraction or an exponent. nlohmann
  // keeps a non-negative integer as unsigned and a negative one as signed; so does this.
  bool number(Json& out) {
    const bool negative = eat('-');
    const std::size_t start = m_i;
    std::uint64_t magnitude = 0;
    while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
      magnitude = magnitude * 10 + static_cast<std::uint64_t>(m_s[m_i] - '0');
      ++m_i;
    }
    const std::size_t digits = m_i - start;
    if (digits == 0 || digits > 18 || (digits > 1 && m_s[start] == '0')) return false;
    if (m_i < m_s.size() && (m_s[m_i] == '.' || m_s[m_i] == 'e' || m_s[m_i] == 'E')) return false;
    if (negative)
      out = -static_cast<std::int64_t>(magnitude);
    else
      out = magnitude;
    return true;
  }

  bool literal(std::string_view word, Json& out, Json value) {
    if (m_s.substr(m_i, word.size()) != word) return false;
    m_i += word.size();
    out = std::move(value);
    return true;
  }

  bool eat(char c) {
    if (m_i < m_s.size() && m_s[m_i] == c) {
      ++m_i;
      return true;
    }
    return false;
  }

  void skip_ws() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\n' || m_s[m_i] == '\r' || m_s[m_i] == '\t')) ++m_i;
  }

  std::string_view m_s;
  std::size_t m_i = 0;
  int m_max_depth;
};

} // namespace

std::optional<nlohmann::json> parse_plain_json(std::string_view text, int max_depth) {
  return PlainReader(text, max_depth).document();
}

} // namespace tokenctl
