// The TOML config: parse, the one-profile slice (must agree with the full parse when that
// succeeds), and the profile writer (its output must parse and keep the profile).
#include <cstdint>
#include <string>

#include "tokenctl/config.hpp"
#include "tokenctl/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const tokenctl::Config c = tokenctl::parse_config(text, "config.toml");
    for (const auto& p : c.profiles) {
      if (const auto slice = tokenctl::slice_config(text, p.name)) {
        const tokenctl::Config one = tokenctl::parse_config(*slice, "config.toml");
        if (one.profiles.size() != 1 || one.profiles[0].host != p.host || one.profiles[0].line != p.line)
          __builtin_trap();
      }
    }
    tokenctl::Profile added;
    added.name = "fuzz-new";
    added.host = "https://as.example/x";
    added.scopes = std::vector<std::string>{"openid", "api"};
    const std::string written = tokenctl::upsert_profile(text, added, "config.toml");
    const tokenctl::Config after = tokenctl::parse_config(written, "config.toml");
    if (after.find("fuzz-new") == nullptr || after.profiles.size() < c.profiles.size()) __builtin_trap();
  } catch (const tokenctl::Error&) {}
  return 0;
}
