// The token cache: the full parser and the one-profile scanner must agree (same set or the same
// error), whatever parses must survive a serialize/parse round trip unchanged, and the plain JSON
// reader must build exactly what nlohmann builds whenever it reads a text at all.
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/plain_json.hpp"
#include "tokenctl/error.hpp"
#include "tokenctl/token_cache.hpp"

namespace {
std::string outcome(const std::function<std::string()>& f) {
  try {
    return "ok:" + f();
  } catch (const tokenctl::Error& e) {
    return std::string("error:") + e.what();
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (const auto plain = tokenctl::parse_plain_json(bytes, tokenctl::k_token_cache_max_depth)) {
    const auto full = nlohmann::json::parse(bytes, nullptr, false);
    if (full.is_discarded() || full != *plain || full.dump() != plain->dump()) __builtin_trap();
  }
  const auto full = outcome([&] {
    const auto cache = tokenctl::parse_token_cache(bytes, "c.json");
    const std::string text = tokenctl::serialize_token_cache(cache);
    if (tokenctl::serialize_token_cache(tokenctl::parse_token_cache(text, "c.json")) != text) __builtin_trap();
    const auto it = cache.tokens.find("dev");
    return it == cache.tokens.end() ? std::string("none") : tokenctl::serialize_token_cache({{{"dev", it->second}}});
  });
  const auto one = outcome([&] {
    const auto set = tokenctl::parse_token_cache_entry(bytes, "dev", "c.json");
    return set ? tokenctl::serialize_token_cache({{{"dev", *set}}}) : std::string("none");
  });
  // The scanner may accept a cache whose *other* profiles are damaged; everything else must agree.
  if (full.rfind("ok:", 0) == 0 && full != one) __builtin_trap();
  if (one.rfind("error:", 0) == 0 && full != one) __builtin_trap();
  return 0;
}
