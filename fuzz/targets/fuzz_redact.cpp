// Redaction of logged bodies: a secret value planted in a JSON or form body must not survive.
#include <cstdint>
#include <string>

#include "tokenctl/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string noise(reinterpret_cast<const char*>(data), size);
  (void)tokenctl::redact_json(noise);
  (void)tokenctl::redact_form(noise);
  (void)tokenctl::redact_url(noise);
  const std::string secret = "Zq9SECRETzq9";
  if (noise.find(secret) != std::string::npos) return 0;  // the fuzzer may learn the marker itself
  const std::string json = "{\"refresh_token\":\"" + secret + "\"," + noise;
  if (tokenctl::redact_json(json).find(secret) != std::string::npos) __builtin_trap();
  const std::string form = "refresh_token=" + secret + "&" + noise;
  if (tokenctl::redact_form(form).find(secret) != std::string::npos) __builtin_trap();
  return 0;
}
