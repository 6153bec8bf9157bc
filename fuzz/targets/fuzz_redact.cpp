// Redaction of logged bodies: a secret value planted in a JSON or form body must not survive; and
// whatever token the token parser reads out of a body (under any Content-Type) must not survive
// redact_body of that body: the redactor and the parser may not disagree about what a body is.
#include <cstdint>
#include <string>

#include "tokenctl/redact.hpp"
#include "tokenctl/token_endpoint.hpp"

namespace {

constexpr const char* k_types[] = {"application/json", "text/html", "application/x-www-form-urlencoded", "text/plain",
                                   ""};

void check_against_parser(const std::string& type, const std::string& body) {
  tokenctl::TokenResponse r;
  try {
    r = tokenctl::parse_token_response(tokenctl::HttpResponse{200, {{"Content-Type", type}}, body},
                                       "https://as.example/t");
  } catch (...) {
    return; // refused: nothing is stored, and -v prints it redacted all the same
  }
  const std::string shown = tokenctl::redact_body(type, body);
  // A token that is itself part of the marker ("[redacted]") is found in any redacted text.
  const std::string_view marker = "[redacted]";
  for (const std::string* token : {&r.access_token, &r.refresh_token, &r.id_token})
    if (token->size() >= 8 && marker.find(*token) == std::string_view::npos && shown.find(*token) != std::string::npos)
      __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string noise(reinterpret_cast<const char*>(data), size);
  (void)tokenctl::redact_json(noise);
  (void)tokenctl::redact_form(noise);
  (void)tokenctl::redact_url(noise);
  if (size > 0) check_against_parser(k_types[data[0] % 5], noise.substr(1));
  const std::string secret = "Zq9SECRETzq9";
  if (noise.find(secret) != std::string::npos) return 0; // the fuzzer may learn the marker itself
  const std::string json = "{\"refresh_token\":\"" + secret + "\"," + noise;
  if (tokenctl::redact_json(json).find(secret) != std::string::npos) __builtin_trap();
  const std::string form = "refresh_token=" + secret + "&" + noise;
  if (tokenctl::redact_form(form).find(secret) != std::string::npos) __builtin_trap();
  return 0;
}
