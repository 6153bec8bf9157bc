// The loopback listener's request parsing: request line, headers, target and query.
#include <cstdint>
#include <string>

#include "tokenctl/authorize.hpp"
#include "tokenctl/http_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const auto head = tokenctl::parse_request_head(bytes);
  (void)head;
  tokenctl::CallbackExpectation expect{"state-123", "https://as.example", true};
  const auto r = tokenctl::check_callback(bytes, expect);
  if (r.kind == tokenctl::CallbackResult::Kind::code && bytes.find("state-123") == std::string::npos) __builtin_trap();
  return 0;
}
