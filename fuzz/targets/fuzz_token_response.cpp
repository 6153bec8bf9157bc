// Token endpoint responses: any status, content type and body must give a TokenResponse or a
// tokenctl::Error, never a crash, and no error message may quote the body.
#include <cstdint>
#include <string>

#include "tokenctl/token_endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static const long statuses[] = {200, 201, 400, 401, 429, 500, 503, 302};
  static const char* types[] = {"application/json", "application/x-www-form-urlencoded", "text/plain", "text/html"};
  tokenctl::HttpResponse r;
  r.status = statuses[data[0] % 8];
  r.headers = {{"Content-Type", types[data[1] % 4]}};
  r.body.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  try {
    const auto t = tokenctl::parse_token_response(r, "https://as.example/token");
    if (t.access_token.empty()) __builtin_trap();
  } catch (const tokenctl::Error&) {}
  return 0;
}
