// JWT decoding for display and id-token checks.
#include <cstdint>
#include <string>

#include "tokenctl/error.hpp"
#include "tokenctl/jwt.hpp"
#include "tokenctl/token_endpoint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  if (const auto claims = tokenctl::jwt_claims(token)) {
    (void)claims->dump();
    (void)tokenctl::describe_subject(*claims);
  }
  try {
    tokenctl::check_id_token(
        token, {"https://as.example", "tokenctl", "n", tokenctl::TimePoint(tokenctl::Seconds(1'800'000'000))});
  } catch (const tokenctl::Error&) {}
  return 0;
}
