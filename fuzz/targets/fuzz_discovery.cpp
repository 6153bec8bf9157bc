// Authorization server metadata documents.
#include <cstdint>
#include <string>

#include "tokenctl/discovery.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const auto e = tokenctl::parse_metadata(body, "https://as.example", "https://as.example/.well-known/x");
    if (e.issuer != "https://as.example") __builtin_trap();
  } catch (const tokenctl::Error&) {}
  return 0;
}
