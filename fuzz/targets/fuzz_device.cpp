// Device authorization responses (RFC 8628).
#include <cstdint>
#include <string>

#include "tokenctl/device.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tokenctl::HttpResponse r{200, {}, std::string(reinterpret_cast<const char*>(data), size)};
  try {
    const auto d = tokenctl::parse_device_authorization(r, "https://as.example/device");
    if (d.device_code.empty() || d.interval.count() <= 0) __builtin_trap();
  } catch (const tokenctl::Error&) {}
  return 0;
}
