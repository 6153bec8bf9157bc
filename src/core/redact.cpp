// Redaction for logs. The rule is "when in doubt, hide": keys are compared case-insensitively and
// after decoding (a server may write "access\u005ftoken" in JSON, or "access%5Ftoken" in a form),
// and a truncated body still has its secrets hidden up to the end.
#include "tokenctl/redact.hpp"
#include "tokenctl/text.hpp"

#include <nlohmann/json.hpp>

#include "core/json_guard.hpp"
#include "tokenctl/url.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace tokenctl {
namespace {

constexpr std::string_view k_redacted = "[redacted]";
constexpr std::size_t k_min_partial = 12;
constexpr std::array<std::string_view, 14> k_secret_keys = {
    "access_token", "refresh_token", "id_token",         "code",      "code_verifier", "client_secret", "token",
    "device_code",  "password",      "client_assertion", "assertion", "subject_token", "actor_token",   "oidcToken"};

bool is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Hide every compact JWS in `text`, whatever key it came under (a CI token service answers
// {"value": JWT}): "eyJ" (a base64url JSON header), then three dot-separated base64url parts.
std::string redact_jwts(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto at = text.find("eyJ", i);
    if (at == std::string_view::npos) break;
    std::size_t end = at, dots = 0;
    while (end < text.size() && (is_b64url(text[end]) || (text[end] == '.' && dots < 2))) {
      if (text[end] == '.') ++dots;
      ++end;
    }
    out.append(text.substr(i, at - i));
    if (dots == 2 && (at == 0 || !is_b64url(text[at - 1])))
      out += "[redacted]";
    else
      out.append(text.substr(at, end - at));
    i = end;
  }
  out.append(text.substr(std::min(i, text.size())));
  return out;
}

// Decode a form key ('+' and %XX); a malformed escape is kept as it is.
std::string decode_form_key(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_digit_value(s[i + 1]) >= 0 && hex_digit_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit_value(s[i + 1]) * 16 + hex_digit_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Redact the values of secret keys in "k=v&k=v" text; `separators` ends a pair. A secret value
// runs to the next separator, as tokenctl's own form parser reads it ("access_token=A;B" hides
// "A;B"); the pairs of a value that is not secret are searched again with `inner` (";"), as
// parsers that also split on ';' would read them.
std::string redact_pairs(std::string_view text, std::string_view separators, std::string_view inner = ";") {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(separators, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(start, end - start);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret_param(decode_form_key(pair.substr(0, eq)))) {
      out.append(pair.substr(0, eq + 1));
      out.append(k_redacted);
    } else if (!inner.empty()) {
      out.append(redact_pairs(pair, inner, {}));
    } else {
      out.append(pair);
    }
    if (end == text.size()) break;
    out += text[end];
    start = end + 1;
  }
  return out;
}

// Find the end of the JSON string whose opening quote is at `open`: the index after the closing
// quote, or npos when the text ends first.
std::size_t json_string_end(std::string_view text, std::size_t open) {
  for (std::size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

// Decode the content of a JSON string (without quotes) enough to compare it with ASCII keys;
// nullopt when it holds something no secret key can equal.
std::optional<std::string> json_key_text(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') {
      out += raw[i];
      continue;
    }
    if (++i >= raw.size()) return std::nullopt;
    char c = raw[i];
    if (c == 'u') {
      int v = 0;
      for (std::size_t k = 1; k <= 4; ++k) {
        if (i + k >= raw.size() || hex_digit_value(raw[i + k]) < 0) return std::nullopt;
        v = v * 16 + hex_digit_value(raw[i + k]);
      }
      if (v >= 0x80) return std::nullopt;
      out += static_cast<char>(v);
      i += 4;
    } else {
      out += c; // \" \\ \/ and friends: none of them can occur in a secret key
    }
  }
  return out;
}

std::size_t skip_space(std::string_view text, std::size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) ++i;
  return i;
}

// Return the end of the scalar value starting at `i` (a number, true, false, null, garbage).
std::size_t scalar_end(std::string_view text, std::size_t i) {
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' && text[i] != ' ' && text[i] != '\t' &&
         text[i] != '\r' && text[i] != '\n')
    ++i;
  return i;
}

} // namespace

bool is_secret_param(std::string_view name) {
  for (auto key : k_secret_keys)
    if (iequals(name, key)) return true;
  return false;
}

std::string redact(std::string_view secret) {
  if (secret.size() < k_min_partial) return std::string(k_redacted);
  std::string out(secret.substr(0, 4));
  out += "...";
  out += secret.substr(secret.size() - 4);
  return out;
}

std::string redact_form(std::string_view body) { return redact_pairs(body, "&"); }

std::string redact_json(std::string_view body) {
  std::string out;
  std::size_t i = 0;
  while (i < body.size()) {
    if (body[i] != '"') {
      out += body[i++];
      continue;
    }
    std::size_t end = json_string_end(body, i);
    if (end == std::string_view::npos) {
      out.append(body.substr(i));
      break;
    }
    out.append(body.substr(i, end - i));
    std::size_t colon = skip_space(body, end);
    if (colon >= body.size() || body[colon] != ':') {
      i = end;
      continue;
    }
    auto key = json_key_text(body.substr(i + 1, end - i - 2));
    std::size_t value = skip_space(body, colon + 1);
    out.append(body.substr(end, value - end));
    i = value;
    if (!key || !is_secret_param(*key) || value >= body.size()) continue;
    if (body[value] == '"') {
      std::size_t value_end = json_string_end(body, value);
      out += "\"[redacted]\"";
      i = value_end == std::string_view::npos ? body.size() : value_end;
    } else if (body[value] != '{' && body[value] != '[') {
      out += "null";
      i = scalar_end(body, value);
    }
  }
  return out;
}

std::string redact_header(std::string_view name, std::string_view value) {
  if (iequals(name, "Authorization") || iequals(name, "Proxy-Authorization")) {
    std::size_t space = value.find(' ');
    if (space == std::string_view::npos) return std::string(k_redacted);
    return std::string(value.substr(0, space + 1)) + std::string(k_redacted);
  }
  if (iequals(name, "Cookie") || iequals(name, "Set-Cookie") || iequals(name, "DPoP")) return std::string(k_redacted);
  return std::string(value);
}

std::string redact_url(std::string_view url) {
  std::string out;
  std::size_t scheme_end = url.find("://");
  std::size_t rest = 0;
  if (scheme_end != std::string_view::npos) {
    std::size_t authority = scheme_end + 3;
    std::size_t authority_end = url.find_first_of("/?#", authority);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    std::string_view auth = url.substr(authority, authority_end - authority);
    std::size_t at = auth.rfind('@');
    out.append(url.substr(0, authority));
    if (at != std::string_view::npos) {
      std::size_t colon = auth.find(':');
      if (colon != std::string_view::npos && colon < at)
        out.append(auth.substr(0, colon + 1)).append(k_redacted).append(auth.substr(at));
      else
        out.append(auth);
    } else {
      out.append(auth);
    }
    rest = authority_end;
  }
  std::size_t query = url.find_first_of("?#", rest);
  if (query == std::string_view::npos) return out.append(url.substr(rest));
  out.append(url.substr(rest, query - rest));
  out += url[query];
  // Query then fragment: '#' separates them and is kept like '&'.
  return out.append(redact_pairs(url.substr(query + 1), "&#"));
}

namespace {

constexpr int k_max_scrub_depth = 64;
constexpr std::size_t k_min_scrubbed = 8;

// The values of secret parameters as a parser reads them out of `body`: the pairs of a form body,
// the members of a top-level JSON object.
std::vector<std::string> secret_values(std::string_view body) {
  std::vector<std::string> out;
  if (const auto params = parse_params(body))
    for (const auto& [key, value] : *params)
      if (is_secret_param(key)) out.push_back(value);
  if (json_nesting_depth(body, k_max_scrub_depth) <= k_max_scrub_depth) {
    const auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_object())
      for (const auto& [key, value] : doc.items())
        if (value.is_string() && is_secret_param(key)) out.push_back(value.get<std::string>());
  }
  return out;
}

// Hide every other place `text` holds one of `values` (a server that echoes a token under another
// name, or a body a parser reads differently than the redactor).
std::string scrub(std::string text, const std::vector<std::string>& values) {
  for (const std::string& value : values) {
    if (value.size() < k_min_scrubbed) continue;
    for (auto at = text.find(value); at != std::string::npos; at = text.find(value, at + k_redacted.size()))
      text.replace(at, value.size(), k_redacted);
  }
  return text;
}

} // namespace

std::string redact_body(std::string_view, std::string_view body) {
  // Both ways, whatever the Content-Type says: a parser may read a body other than its type
  // claims (a JSON body with a BOM sent as text/html, a form body labelled JSON), and what one
  // reading misses the other hides. Then every copy of a secret value that a parser would read is
  // hidden wherever it stands. Hiding too much in a log costs nothing.
  return scrub(redact_jwts(redact_form(redact_json(body))), secret_values(body));
}

} // namespace tokenctl
