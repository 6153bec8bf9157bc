// Requests from git to the credential helper.
#include <cstdint>
#include <string>

#include "tokenctl/git_credential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (const auto request = tokenctl::parse_credential_request(text)) {
    tokenctl::Profile p;
    p.name = "p";
    p.host = "https://git.example:8443/x";
    (void)tokenctl::credential_matches(p, *request);
  }
  return 0;
}
